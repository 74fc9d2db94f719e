// examples/worker under workerd, its KV namespace served by a fake KV on 127.0.0.1 (workerd's
// kvNamespace binding over an external service: GET /<key>, 404 when absent) that counts the
// reads and can stall a key. The base is published with examples/worker/publish.mjs in chunks of
// a lowered size. Checks (issue 24): chunks within the limit and the manifest written last; a cold
// burst loads once; an absent or damaged base answers the peers' 503 (not sample data) with no
// read storm; a warm isolate keeps its last good state; a stalled read times out; re-bases with
// two sizes alternating keep wasm memory within 2× and do not grow it; authentication by default
// (a key set on 127.0.0.1: a signed token 200, none 401; nothing configured 500).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { generate } from "../../bench/generate.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const dir = join(root, "target/worker-test");
const kvDir = join(dir, "kv");
const bin = (name) => join(root, "node_modules/.bin", name);
const nodeApi = createRequire(import.meta.url)(join(root, "pkg/node/index.cjs"));
const CHUNK = 300_000; // lowered from 25 MiB so that the small snapshots here span several chunks
const MiB = (n) => `${(n / 1048576).toFixed(2)} MiB`;
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// --- The fake KV: files in kvDir, reads counted per key; `stall` keys never answer.
const reads = new Map();
const stall = new Set();
const kv = createServer((req, res) => {
  const key = decodeURIComponent(new URL(req.url, "http://kv").pathname.slice(1));
  reads.set(key, (reads.get(key) ?? 0) + 1);
  if (stall.has(key)) return; // never answers
  const file = join(kvDir, key);
  if (!existsSync(file)) return res.writeHead(404).end();
  res.writeHead(200, { "content-type": "application/octet-stream" }).end(readFileSync(file));
});
const count = (prefix) => [...reads].filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);

// --- A key set on 127.0.0.1 for the authentication check.
const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] };
const keys = createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks)));

let publish; // examples/worker/publish.mjs, as copied
const inputs = {};

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  for (const f of ["worker.js", "snapshot.json", "publish.mjs"]) cpSync(join(root, "examples/worker", f), join(dir, f));
  symlinkSync(join(root, "pkg"), join(dir, "node_modules/identity-links"));
  const built = spawnSync(bin("esbuild"), ["worker.js", "--bundle", "--format=esm", "--platform=neutral", "--conditions=workerd,worker", "--loader:.wasm=copy", "--asset-names=[name]", "--outdir=dist", "--log-level=warning"], { cwd: dir, encoding: "utf8" });
  assert.equal(built.status, 0, built.stderr);
  publish = await import(join(dir, "publish.mjs"));
  for (const scale of ["XS", "S"]) {
    const s = nodeApi.Snapshot.fromObject(generate(scale));
    inputs[scale] = { file: join(dir, `${scale}.idl`), bytes: s.toBytes() };
    writeFileSync(inputs[scale].file, inputs[scale].bytes);
    s.free();
  }
  await new Promise((ok) => kv.listen(0, "127.0.0.1", ok));
  await new Promise((ok) => keys.listen(0, "127.0.0.1", ok));
});
after(() => {
  kv.close();
  keys.close();
});

/** Publishes `scale` with publish.mjs's own functions into kvDir: the manifest. */
async function publishBase(scale, { damage = false } = {}) {
  const { binary, sequence, timestamp } = publish.readSnapshot(inputs[scale].file);
  const parts = publish.split(binary, { chunkBytes: CHUNK, sequence, timestamp, version: damage ? `damaged-${scale}` : undefined });
  const order = [];
  mkdirSync(kvDir, { recursive: true });
  await publish.publish(parts, async (key, bytes) => {
    order.push(key);
    let out = bytes;
    if (damage && key.endsWith(".1")) (out = Buffer.from(bytes))[100] ^= 0x40;
    writeFileSync(join(kvDir, key), out);
  });
  return { manifest: parts.manifest, order };
}

let port = 21000 + Math.floor(Math.random() * 8000);
/** Runs workerd over the bundled worker with `vars` as text bindings; `fn(base)`, then stops it. */
async function withWorker(vars, fn) {
  const p = port++;
  const bindings = [
    '(name = "SNAPSHOTS", kvNamespace = "kv")',
    ...Object.entries(vars).map(([k, v]) => `(name = ${JSON.stringify(k)}, text = ${JSON.stringify(String(v))})`),
  ];
  writeFileSync(join(dir, "config.capnp"), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .w),
    (name = "kv", external = (address = "127.0.0.1:${kv.address().port}", http = ())),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${p}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "identity_links_bg.wasm", wasm = embed "dist/identity_links_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",
  bindings = [ ${bindings.join(", ")} ],
);
`);
  const proc = spawn(bin("workerd"), ["serve", "config.capnp"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  // Wait for the socket (a TCP connect, not a request: requests would start a load).
  const { connect } = await import("node:net");
  for (let i = 0; ; i++) {
    const up = await new Promise((ok) => connect(p, "127.0.0.1").on("connect", function () { this.destroy(); ok(true); }).on("error", () => ok(false)));
    if (up) break;
    assert.ok(i < 100 && proc.exitCode === null, `workerd did not start:\n${log}`);
    await sleep(100);
  }
  reads.clear();
  try {
    return await fn(`http://127.0.0.1:${p}`, () => log);
  } finally {
    proc.kill();
    await new Promise((ok) => (proc.exitCode !== null ? ok() : proc.on("exit", ok)));
  }
}

const TRUSTED = { AUTH: "trusted", RETRY_MIN_MS: 2000 };
const taskPath = (id) => `/engine-rest/task/${encodeURIComponent(id)}/identity-links`;
const firstTask = (scale) => generate(scale).tasks[0].id;
const health = async (base) => (await fetch(`${base}/.identity-links/health`, { signal: AbortSignal.timeout(15_000) })).json();

test("publish.mjs: chunks within the limit, the manifest last; the worker answers from them with its version and age", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { manifest, order } = await publishBase("S");
  assert.ok(manifest.chunks.length >= 2, `${manifest.chunks.length} chunk(s)`);
  assert.equal(order.at(-1), "manifest", "the manifest is written last");
  for (const f of readdirSync(kvDir)) assert.ok(statSync(join(kvDir, f)).size <= CHUNK, `${f}: ${statSync(join(kvDir, f)).size} bytes`);
  assert.throws(() => publish.split(inputs.S.bytes, { chunkBytes: 25 * 1024 * 1024 + 1 }), /KV value's limit/);
  const expected = nodeApi.Snapshot.fromBytes(inputs.S.bytes);
  const id = firstTask("S");
  await withWorker(TRUSTED, async (base) => {
    const r = await fetch(`${base}${taskPath(id)}`);
    assert.equal(r.status, 200);
    assert.equal(await r.text(), expected.getIdentityLinksJson({ taskId: id }));
    assert.equal(r.headers.get("identity-links-version"), manifest.version);
    assert.match(r.headers.get("identity-links-age") ?? "", /^\d+$/);
    const h = await health(base);
    assert.equal(h.version, manifest.version);
    assert.equal(h.status, "ok");
    assert.ok(h.wasmBytes > inputs.S.bytes.length, JSON.stringify(h));
  });
  expected.free();
});

test("a cold burst of 8 requests loads once (KV reads counted)", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { manifest } = await publishBase("S");
  await withWorker(TRUSTED, async (base) => {
    const answers = await Promise.all(Array.from({ length: 8 }, () => fetch(`${base}${taskPath(firstTask("S"))}`)));
    assert.deepEqual(answers.map((r) => r.status), Array(8).fill(200));
    assert.equal(reads.get("manifest"), 1, `manifest read ${reads.get("manifest")} times`);
    assert.equal(count("base."), manifest.chunks.length, `chunk reads: ${JSON.stringify([...reads])}`);
    assert.equal((await health(base)).loads, 1);
  });
});

test("an absent base on a cold isolate: each peer's 503, not the sample, and no read storm", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  mkdirSync(kvDir, { recursive: true });
  await withWorker(TRUSTED, async (base) => {
    const camunda = await fetch(`${base}${taskPath("demo-task")}`);
    assert.equal(camunda.status, 503);
    assert.deepEqual(await camunda.json(), { type: "RestException", message: "identity-links: no identity snapshot is loaded yet; try again shortly", code: null });
    assert.ok(Number(camunda.headers.get("retry-after")) >= 1);
    const zitadel = await fetch(`${base}/v2/users/mary/links/_search`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
    assert.equal(zitadel.status, 503);
    assert.equal((await zitadel.json()).code, 14);
    for (let i = 0; i < 20; i++) assert.equal((await fetch(`${base}${taskPath("demo-task")}`)).status, 503);
    assert.ok(reads.get("manifest") <= 2, `the manifest was read ${reads.get("manifest")} times for 22 requests within the backoff`);
    assert.equal((await health(base)).status, "unavailable");
  });
});

test("a damaged base: cold, 503 and no read storm; warm, the last good state kept", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  await publishBase("S", { damage: true });
  await withWorker(TRUSTED, async (base) => {
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${base}${taskPath(firstTask("S"))}`)).status, 503);
    assert.ok(reads.get("manifest") <= 2, `manifest read ${reads.get("manifest")} times`);
    assert.match((await health(base)).lastError, /checksum|SnapshotError|bytes/);
  });
  rmSync(kvDir, { recursive: true, force: true });
  const good = await publishBase("XS");
  await withWorker({ ...TRUSTED, DELTA_POLL_MS: 0, RETRY_MIN_MS: 0 }, async (base) => {
    assert.equal((await fetch(`${base}${taskPath(firstTask("XS"))}`)).status, 200);
    await publishBase("S", { damage: true }); // a new manifest whose second chunk is damaged
    for (let i = 0; i < 10 && (await health(base)).lastError === null; i++) await sleep(200);
    const r = await fetch(`${base}${taskPath(firstTask("XS"))}`);
    assert.equal(r.status, 200);
    assert.equal(r.headers.get("identity-links-version"), good.manifest.version, "still the last good version");
    const h = await health(base);
    assert.equal(h.status, "stale");
    assert.equal(h.version, good.manifest.version);
  });
});

test("a stalled read times out: a cold isolate answers 503 instead of hanging", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { manifest } = await publishBase("S");
  stall.add(manifest.chunks[1].key);
  try {
    await withWorker({ ...TRUSTED, READ_TIMEOUT_MS: 1000 }, async (base) => {
      const started = Date.now();
      const r = await fetch(`${base}${taskPath(firstTask("S"))}`, { signal: AbortSignal.timeout(15_000) });
      assert.equal(r.status, 503);
      assert.ok(Date.now() - started < 10_000, `answered after ${Date.now() - started} ms`);
      assert.match((await health(base)).lastError, /took longer than \d+ ms/);
    });
  } finally {
    stall.clear();
  }
});

test("re-bases in workerd, two sizes alternating: wasm memory within 2× the snapshot and not growing", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  await withWorker({ ...TRUSTED, DELTA_POLL_MS: 0 }, async (base) => {
    const figures = [];
    for (const scale of ["S", "XS", "S", "XS", "S", "XS", "S", "XS", "S", "XS", "S"]) {
      const { manifest } = await publishBase(scale);
      let h;
      for (let i = 0; i < 100; i++) {
        await fetch(`${base}${taskPath("x")}`); // a request: the refresh starts in the background
        h = await health(base);
        if (h.version === manifest.version) break;
        await sleep(50);
      }
      assert.equal(h.version, manifest.version, `not re-based to ${scale}: ${JSON.stringify(h)}`);
      figures.push(h.wasmBytes);
    }
    const text = figures.map(MiB).join(" → ");
    console.log(`# workerd wasm memory over re-bases (S ${MiB(inputs.S.bytes.length)}, XS ${MiB(inputs.XS.bytes.length)}): ${text}`);
    for (let i = 2; i < figures.length; i++) assert.equal(figures[i], figures[2], `memory grew at re-base ${i}: ${text}`);
    assert.ok(figures.at(-1) - figures[0] <= inputs.S.bytes.length + (1 << 20), `a re-base took more than a second snapshot: ${text}`);
  });
});

test("authentication by default: nothing configured is a 500; a verified token 200, none 401", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  await publishBase("XS");
  const id = firstTask("XS");
  await withWorker({}, async (base) => {
    const r = await fetch(`${base}${taskPath(id)}`);
    assert.equal(r.status, 500);
    assert.match((await r.json()).message, /no authentication configured/);
  });
  const issuer = `http://127.0.0.1:${keys.address().port}`;
  const user = generate("XS").users[0].id;
  const token = await new SignJWT({}).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(issuer).setAudience("project").setSubject(user).setIssuedAt().setExpirationTime("5m").sign(privateKey);
  await withWorker({ ZITADEL_ISSUER: issuer, ZITADEL_AUDIENCE: "project", ZITADEL_JWKS_URI: `${issuer}/keys` }, async (base) => {
    const search = (headers) => fetch(`${base}/v2/users/${encodeURIComponent(user)}/links/_search`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: "{}" });
    const none = await search({});
    assert.equal(none.status, 401, await none.text());
    const signed = await search({ authorization: `Bearer ${token}` });
    assert.equal(signed.status, 200, await signed.clone().text());
    assert.ok((await signed.json()).details, "Zitadel's answer");
  });
});
