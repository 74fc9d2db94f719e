// examples/worker under workerd, its KV namespace served by a fake KV on 127.0.0.1 (workerd's
// kvNamespace binding over an external service: GET /<key>, 404 when absent) that counts the
// reads and can stall a key. The base is published with examples/worker/publish.mjs in chunks of
// a lowered size. Checks (issue 24): chunks within the limit and the manifest written last; a cold
// burst loads once; an absent or damaged base answers the peers' 503 (not sample data) with no
// read storm; a warm isolate keeps its last good state; a stalled read times out; re-bases with
// two sizes alternating keep wasm memory within 2× and do not grow it; authentication by default
// (a key set on 127.0.0.1: a signed token 200, none 401; nothing configured 500). Deltas
// (decision 0010): published after the base they reach the isolate and are applied in place (the
// answers and the version header, and the latency from publication to answer, reported); a
// damaged one keeps the last good state, is reported, backs off, and a new base recovers; a gap
// (the sink's base for a delta that does not continue the chain) re-bases; the sink's re-base
// applies the delta to the store's published state when that takes fewer deltas than the follow
// directory's chain (its own chain too), falling back to the directory when the store misses a
// key; wasm memory is flat over 20 applies. The manifest's head in a Durable Object (decision 0012): publish.mjs --head
// writes it through the worker's publishing route (its token, If-Match), the worker reads it
// there and never KV's, deltas follow, a second publisher is refused, and it survives a restart.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import { generate } from "../../bench/generate.mjs";
import { prepareWorker, startWorker } from "./worker-example.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const dir = join(root, "target/worker-test");
const kvDir = join(dir, "kv");
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
  prepareWorker(dir);
  publish = await import(join(dir, "publish.mjs"));
  // S2: S with one IdP link renamed (another version of the same size).
  const data = { XS: generate("XS"), S: generate("S"), S2: generate("S") };
  data.S2.idpLinks[0].providedUserName += " (S2)";
  for (const scale of ["XS", "S", "S2"]) {
    const s = nodeApi.Snapshot.fromObject(data[scale]);
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
/**
 * Runs workerd over the bundled worker with `vars` as text bindings (and the manifest's head
 * stored in the folder `head`, if given); `fn(base)`, then stops it.
 */
async function withWorker(vars, fn, { head = null } = {}) {
  const worker = await startWorker(dir, { port: port++, kv: { address: `127.0.0.1:${kv.address().port}` }, vars, head });
  reads.clear();
  try {
    return await fn(worker.base, worker.log);
  } finally {
    await worker.stop();
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

/** A JSON body `{}` sent in two parts: `{` at once, `}` when `finish()` is called (once or more). */
function twoPartBody() {
  let finish;
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode("{"));
      finish = () => {
        controller.enqueue(new TextEncoder().encode("}"));
        controller.close();
        finish = () => {};
      };
    },
  });
  return { body, finish: () => finish() };
}

/** Publishes `scales` in turn as new bases, each awaited in the worker at `base`: its wasm memory after each. */
async function rebases(base, scales) {
  const figures = [];
  for (const scale of scales) {
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
  return figures;
}

test("re-bases in workerd, two sizes alternating: wasm memory within 2× the snapshot and not growing", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  await withWorker({ ...TRUSTED, DELTA_POLL_MS: 0 }, async (base) => {
    const figures = await rebases(base, ["S", "XS", "S", "XS", "S", "XS", "S", "XS", "S", "XS", "S"]);
    const text = figures.map(MiB).join(" → ");
    console.log(`# workerd wasm memory over re-bases (S ${MiB(inputs.S.bytes.length)}, XS ${MiB(inputs.XS.bytes.length)}): ${text}`);
    // After the first re-bases, memory stays put: a re-base that kept a snapshot (the bug this
    // guards: each re-base grew memory by the snapshot it replaced) grows it by 1.14–2.70 MiB at
    // once. The allocator's free lists are not compacted, and requests run while the isolate
    // re-bases, so a step of one page run (seen: 0.5 MiB once in 9 re-bases, with Talc) is
    // allowed — less than the smaller snapshot, over all nine re-bases together.
    const drift = figures.at(-1) - figures[2];
    assert.ok(drift < inputs.XS.bytes.length, `memory grew by ${MiB(drift)} after the second re-base (a snapshot kept?): ${text}`);
    assert.ok(figures.at(-1) - figures[0] <= inputs.S.bytes.length + (1 << 20), `a re-base took more than a second snapshot: ${text}`);
  });
});

test("a re-base over MEMORY_BUDGET_BYTES lets the old snapshot go first: wasm memory within one snapshot, not two", async () => {
  const scales = ["S", "S2", "S", "S2", "S", "S2", "S"];
  const size = inputs.S.bytes.length;
  const runs = {};
  for (const [name, budget] of [["kept", undefined], ["let go", "1"]]) {
    rmSync(kvDir, { recursive: true, force: true });
    await withWorker({ ...TRUSTED, DELTA_POLL_MS: 0, ...(budget ? { MEMORY_BUDGET_BYTES: budget } : {}) }, async (base) => {
      const figures = await rebases(base, scales);
      runs[name] = { figures, letGo: (await health(base)).letGo };
    });
  }
  const growth = (r) => Math.max(...r.figures) - r.figures[0];
  const text = (r) => r.figures.map(MiB).join(" → ");
  console.log(`# re-bases of S (${MiB(size)}) in workerd: the old one kept, ${text(runs.kept)} (+${MiB(growth(runs.kept))}); let go first, ${text(runs["let go"])} (+${MiB(growth(runs["let go"]))})`);
  assert.equal(runs.kept.letGo, 0, "under the default budget the last good state is kept");
  assert.ok(growth(runs.kept) > size / 2, `keeping the old snapshot takes a second one: +${MiB(growth(runs.kept))}`);
  assert.equal(runs["let go"].letGo, scales.length - 1, "every re-base of a warm isolate let go first");
  assert.ok(growth(runs["let go"]) < size / 4, `letting go first stays within one snapshot: +${MiB(growth(runs["let go"]))} (${text(runs["let go"])})`);
});

test("letting go first: a request reading its body answers from the old snapshot, later ones wait for the new one (idle or not); a damaged base then leaves 503 until a good one", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const first = await publishBase("S");
  // STALE_AFTER_MS 0: every request comes after an "idle spell", waits STALE_WAIT_MS for the
  // refresh it starts, and then (the old snapshot let go) for the new state.
  const vars = { ...TRUSTED, DELTA_POLL_MS: 0, STALE_AFTER_MS: 0, STALE_WAIT_MS: 50, RETRY_MIN_MS: 0, RETRY_MAX_MS: 200, MEMORY_BUDGET_BYTES: "1" };
  await withWorker(vars, async (base, log) => {
    const loaded = await health(base);
    assert.equal(loaded.version, first.manifest.version);
    // The user of the IdP link that S2 renames: its answer differs between the two states.
    const userId = generate("S").idpLinks[0].userId;
    const linksOf = (bytes) => {
      const s = nodeApi.Snapshot.fromBytes(bytes);
      try {
        return s.listIdpLinksJson({ userId });
      } finally {
        s.free();
      }
    };
    const [oldLinks, newLinks] = [linksOf(inputs.S.bytes), linksOf(inputs.S2.bytes)];
    assert.notEqual(oldLinks, newLinks);
    const { body, finish } = twoPartBody();
    const search = (signal) => ({ method: "POST", headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(15_000), ...signal });
    const slow = fetch(`${base}/v2/users/${encodeURIComponent(userId)}/links/_search`, search({ body, duplex: "half" }));
    try {
      await sleep(300);
      const next = await publishBase("S2");
      // Starts the refresh, waits 50 ms for it, then for the new state: the old one is let go.
      const trigger = fetch(`${base}/v2/users/${encodeURIComponent(userId)}/links/_search`, search({ body: "{}" }));
      for (let i = 0; i < 100 && !/let go first/.test(log()); i++) await sleep(20);
      assert.match(log(), /identity-links: re-base to [0-9a-f]{16}: the old snapshot let go first/);
      const waiting = fetch(`${base}${taskPath(firstTask("S"))}`, { signal: AbortSignal.timeout(15_000) });
      let settled = false;
      for (const p of [trigger, waiting]) p.finally(() => (settled = true)).catch(() => {});
      await sleep(200);
      assert.equal(settled, false, "the requests wait while the request on the old snapshot is under way");
      finish();
      const response = await slow;
      assert.equal(await response.text(), oldLinks, "answered from the old snapshot");
      assert.equal(response.headers.get("identity-links-version"), first.manifest.version, "and says so");
      for (const r of [await trigger, await waiting]) {
        assert.equal(r.status, 200, "a request during the re-base waited for the new state");
        assert.equal(r.headers.get("identity-links-version"), next.manifest.version);
      }
      assert.equal(await (await trigger).text(), newLinks);
      const h = await health(base);
      assert.deepEqual([h.letGo, h.loads, h.version], [1, 2, next.manifest.version]);
      // The load waited for the request holding the old snapshot: it took the old one's memory.
      const growth = h.wasmBytes - loaded.wasmBytes;
      assert.ok(growth < inputs.S.bytes.length / 4, `the re-base grew wasm memory by ${MiB(growth)} (${MiB(loaded.wasmBytes)} → ${MiB(h.wasmBytes)})`);
    } finally {
      finish();
    }

    await publishBase("XS", { damage: true });
    for (let i = 0; i < 50 && (await health(base)).lastError === null; i++) await sleep(100);
    assert.equal((await fetch(`${base}${taskPath(firstTask("S"))}`)).status, 503, "the state was let go before the damaged base was found");
    const good = await publishBase("XS");
    let h;
    for (let i = 0; i < 50; i++) {
      if ((h = await health(base)).version === good.manifest.version) break;
      await sleep(100);
    }
    assert.equal(h.version, good.manifest.version, `a good base recovers: ${JSON.stringify(h)}`);
  });
});

test("LET_GO_WAIT_MS: how long a re-base that lets the old snapshot go waits for a request still answering from it", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const first = await publishBase("S");
  const vars = { ...TRUSTED, DELTA_POLL_MS: 0, STALE_AFTER_MS: 0, STALE_WAIT_MS: 50, MEMORY_BUDGET_BYTES: "1", LET_GO_WAIT_MS: "60000" };
  await withWorker(vars, async (base, log) => {
    assert.equal((await health(base)).version, first.manifest.version);
    const userId = generate("S").idpLinks[0].userId;
    const path = `${base}/v2/users/${encodeURIComponent(userId)}/links/_search`;
    const search = (init) => ({ method: "POST", headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(30_000), ...init });
    const { body, finish } = twoPartBody();
    const slow = fetch(path, search({ body, duplex: "half" }));
    try {
      await sleep(300);
      const next = await publishBase("S2");
      const trigger = fetch(path, search({ body: "{}" }));
      for (let i = 0; i < 100 && !/let go first/.test(log()); i++) await sleep(20);
      assert.match(log(), /the old snapshot let go first/);
      let settled = false;
      trigger.finally(() => (settled = true)).catch(() => {});
      // Past the default's 2 s, the re-base still waits for the request on the old snapshot.
      await sleep(3_000);
      assert.equal(settled, false, "waiting for the request on the old snapshot, as LET_GO_WAIT_MS says");
      finish();
      assert.equal((await slow).headers.get("identity-links-version"), first.manifest.version);
      const r = await trigger;
      assert.equal(r.status, 200);
      assert.equal(r.headers.get("identity-links-version"), next.manifest.version);
    } finally {
      finish();
    }
  });
  await withWorker({ ...TRUSTED, LET_GO_WAIT_MS: "2s" }, async (base) => {
    const r = await fetch(`${base}${taskPath("x")}`);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /LET_GO_WAIT_MS must be a number of milliseconds, found \\"2s\\"/);
  });
});

test("MEMORY_BUDGET_BYTES must be a whole number of bytes", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  await publishBase("XS");
  await withWorker({ ...TRUSTED, MEMORY_BUDGET_BYTES: "100 MiB" }, async (base) => {
    const r = await fetch(`${base}${taskPath("x")}`);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /MEMORY_BUDGET_BYTES must be a whole number of bytes, found \\"100 MiB\\"/);
  });
});

test("a re-base while a request reads its body: the request still answers (the old snapshot is freed after it)", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const before = await publishBase("XS");
  await withWorker({ ...TRUSTED, DELTA_POLL_MS: 0 }, async (base) => {
    assert.equal((await health(base)).version, before.manifest.version);
    const userId = generate("XS").users[0].id;
    // A Zitadel search whose body arrives in two parts: the worker has routed it on the XS
    // snapshot and waits for the rest of the body while S replaces XS.
    const { body, finish } = twoPartBody();
    const slow = fetch(`${base}/v2/users/${encodeURIComponent(userId)}/links/_search`, { method: "POST", body, duplex: "half", headers: { "content-type": "application/json" }, signal: AbortSignal.timeout(15_000) });
    await sleep(300);
    const after = await publishBase("S");
    let h;
    for (let i = 0; i < 100; i++) {
      await fetch(`${base}${taskPath("x")}`); // starts the re-base in the background
      h = await health(base);
      if (h.version === after.manifest.version) break;
      await sleep(50);
    }
    assert.equal(h.version, after.manifest.version, "re-based while the slow request waited");
    finish();
    const response = await slow;
    const text = await response.text();
    const expected = [inputs.XS, inputs.S].map(({ bytes }) => {
      const s = nodeApi.Snapshot.fromBytes(bytes);
      try {
        return s.listIdpLinksJson({ userId });
      } finally {
        s.free();
      }
    });
    assert.equal(response.status, 200, `the request that spanned the re-base: ${response.status} ${text}`);
    assert.ok(expected.includes(text), `answered from one of the two states: ${text}`);
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
  // Camunda's claim without Zitadel's settings to verify a token with: the same configuration
  // error (not the runtime's bare 500 from an error thrown in the handler).
  await withWorker({ CAMUNDA_ZITADEL_CLAIM: "groups" }, async (base) => {
    const r = await fetch(`${base}${taskPath(id)}`);
    assert.equal(r.status, 500);
    assert.match((await r.json()).message, /CAMUNDA_ZITADEL_CLAIM needs ZITADEL_ISSUER/);
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

// --- Deltas (issue 24, decision 0010) ---------------------------------------------------------

/** XS with task 0 assigned to user `i`: state `i` of a chain (i = 0: as generated). */
function stateOf(i) {
  const data = generate("XS");
  if (i > 0) {
    data.tasks[0].assignee = data.users[i].id;
    data.sequence = (data.sequence ?? 0) + i;
    data.timestamp = new Date(Date.now() - 1000).toISOString();
  }
  return nodeApi.Snapshot.fromObject(data);
}
/** States 0..n with the deltas between them: `{ states, deltas }` (deltas[i] turns i into i + 1). */
function chainOf(n) {
  const states = Array.from({ length: n + 1 }, (_, i) => stateOf(i));
  return { states, deltas: states.slice(1).map((s, i) => states[i].deltaTo(s)) };
}
const kvStore = () => publish.dirStore(kvDir);
const TASK0 = () => firstTask("XS");
/** The worker's answer for task 0: `{ body, version }`. */
async function answer(base) {
  const r = await fetch(`${base}${taskPath(TASK0())}`, { signal: AbortSignal.timeout(15_000) });
  assert.equal(r.status, 200);
  return { body: await r.text(), version: r.headers.get("identity-links-version"), age: r.headers.get("identity-links-age") };
}
/** Asks until the answer comes from `version` (or `limit` ms pass): the answer and the ms it took. */
async function until(base, version, limit = 10_000) {
  const started = performance.now();
  let a;
  while (performance.now() - started < limit) {
    a = await answer(base);
    if (a.version === version) break;
    await sleep(20);
  }
  return { ...a, ms: performance.now() - started };
}
const POLL = { ...TRUSTED, DELTA_POLL_MS: 200, RETRY_MIN_MS: 300, RETRY_MAX_MS: 1000, MANIFEST_CACHE_TTL: 30 };

test("deltas published after the base reach the isolate: newer answers and version, applied in place (no re-base)", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(3);
  await publish.publishBase(kvStore(), states[0].toBytes(), { chunkBytes: CHUNK });
  await withWorker(POLL, async (base) => {
    const first = await answer(base);
    assert.equal(first.version, states[0].version);
    assert.equal(first.body, states[0].getIdentityLinksJson({ taskId: TASK0() }));
    const latencies = [];
    for (let i = 1; i <= 3; i++) {
      const m = await publish.publishDelta(kvStore(), deltas[i - 1]);
      assert.equal(m.deltas.length, i);
      assert.equal(m.deltas.at(-1).key, `delta.${states[i - 1].version}.${states[i].version}`);
      const a = await until(base, states[i].version);
      assert.equal(a.version, states[i].version, `not at state ${i}`);
      assert.equal(a.body, states[i].getIdentityLinksJson({ taskId: TASK0() }), `the answer of state ${i}`);
      assert.notEqual(a.body, states[i - 1].getIdentityLinksJson({ taskId: TASK0() }), "the change shows in the answer");
      assert.match(a.age ?? "", /^\d+$/);
      latencies.push(Math.round(a.ms));
    }
    const h = await health(base);
    assert.equal(h.loads, 1, `one base load, the rest applied: ${JSON.stringify(h)}`);
    assert.equal(h.applied, 3);
    assert.equal(h.version, states[3].version);
    assert.equal(h.timestamp, states[3].timestamp, "the newest applied change's timestamp");
    assert.equal(h.status, "ok");
    console.log(`# from a delta's publication to the first answer reflecting it (DELTA_POLL_MS 200, workerd, fake KV): ${latencies.join(", ")} ms`);
  });
  for (const s of states) s.free();
});

test("after an idle spell the first request waits for the refresh (STALE_AFTER_MS): it answers the newest state, not the old one", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(2);
  await publish.publishBase(kvStore(), states[0].toBytes(), { chunkBytes: CHUNK });
  // The same idle spell with the wait (STALE_AFTER_MS 1000) and without it (a day).
  const firstAfterIdle = (staleAfter, i) =>
    withWorker({ ...POLL, STALE_AFTER_MS: staleAfter }, async (base) => {
      assert.equal((await answer(base)).version, states[i - 1].version);
      await publish.publishDelta(kvStore(), deltas[i - 1]);
      await sleep(1500); // no request: nothing read
      return answer(base);
    });
  const waited = await firstAfterIdle(1000, 1);
  assert.equal(waited.version, states[1].version, "the first request after the idle spell answers the newest state");
  assert.equal(waited.body, states[1].getIdentityLinksJson({ taskId: TASK0() }));
  const unwaited = await firstAfterIdle(86_400_000, 2);
  assert.equal(unwaited.version, states[1].version, "without the wait, the old state (the refresh runs behind the answer)");
  for (const s of states) s.free();
});

test("a damaged delta: the last good state kept and reported, no read storm, then a new base recovers", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(2);
  await publish.publishBase(kvStore(), states[0].toBytes(), { chunkBytes: CHUNK });
  await withWorker({ ...POLL, RETRY_MIN_MS: 500, RETRY_MAX_MS: 2000 }, async (base) => {
    assert.equal((await answer(base)).version, states[0].version);
    const m = await publish.publishDelta(kvStore(), deltas[0]);
    const damaged = Buffer.from(deltas[0]);
    damaged[60] ^= 0x10; // an edit word flipped: the checksum no longer matches
    writeFileSync(join(kvDir, m.deltas[0].key), damaged);
    let h;
    for (let i = 0; i < 100 && (h = await health(base)).refused === null; i++) await sleep(50);
    assert.equal(h.refused?.key, m.deltas[0].key, JSON.stringify(h));
    assert.match(h.refused.message, /DeltaError|damaged|checksum/i);
    assert.equal(h.status, "stale");
    assert.match(h.lastError, /refused/);
    const kept = await answer(base);
    assert.equal(kept.version, states[0].version, "the last good version");
    assert.equal(kept.body, states[0].getIdentityLinksJson({ taskId: TASK0() }));
    // Keep asking for 3 s: the re-bases back off (500 ms doubling to 2 s), they do not storm
    // (without the backoff: a re-base after every one, 12 in 3 s here).
    const before = count("manifest");
    for (const end = Date.now() + 3000; Date.now() < end; ) {
      assert.equal((await answer(base)).version, states[0].version);
      await sleep(20);
    }
    assert.ok(count("manifest") - before <= 5, `the manifest was read ${count("manifest") - before} times in 3 s`);
    // The publisher publishes a new base (state 2): the isolate re-bases to it.
    await publish.publishBase(kvStore(), states[2].toBytes(), { chunkBytes: CHUNK });
    const a = await until(base, states[2].version);
    assert.equal(a.version, states[2].version);
    assert.equal(a.body, states[2].getIdentityLinksJson({ taskId: TASK0() }));
    h = await health(base);
    assert.equal(h.status, "ok");
    assert.equal(h.base, states[2].version);
  });
  for (const s of states) s.free();
});

/**
 * The exporter's follow directory `name` for `states` and the deltas between them (1 the base,
 * then one delta each), with its manifest; `file(n, ext)`, the path of file `n`.
 */
function followDirectory(name, states, deltas) {
  const follow = join(dir, name);
  rmSync(follow, { recursive: true, force: true });
  mkdirSync(follow, { recursive: true });
  const file = (n, ext) => join(follow, `${String(n).padStart(8, "0")}.${ext}`);
  writeFileSync(file(1, "idl"), states[0].toBytes());
  deltas.forEach((d, i) => writeFileSync(file(i + 2, "delta"), d));
  const latest = deltas.length + 1;
  writeFileSync(join(follow, "manifest.json"), JSON.stringify({ base: "00000001.idl", latest, file: `${String(latest).padStart(8, "0")}.delta`, kind: "delta", version: states.at(-1).version }));
  return file;
}

/** publish.mjs run with `args` (after --dir kvDir and the chunk size) and `env` added. */
const runPublish = (args, env = {}) => spawnSync(process.execPath, [join(dir, "publish.mjs"), "--dir", kvDir, "--chunk-bytes", String(CHUNK), ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, ...env } });

/**
 * publish.mjs as the exporter's sink for file `n` of a follow directory (`file`, from
 * followDirectory: 1 the base, then deltas), with `args` before the file; it must succeed.
 */
function sinkRun(file, n, args = []) {
  const r = runPublish(["--sink", ...args, file(n, n === 1 ? "idl" : "delta")], { IL_KIND: n === 1 ? "snapshot" : "delta", IL_SEQUENCE: String(n) });
  assert.equal(r.status, 0, r.stderr);
  return r;
}

/** The manifest in kvDir. */
const kvManifest = () => JSON.parse(readFileSync(join(kvDir, "manifest"), "utf8"));

test("a gap: a new base the chain cannot reach re-bases; the sink publishes a base for a delta that does not continue the chain", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(4);
  // The exporter's follow directory: 1 the base, 2..4 deltas.
  const file = followDirectory("follow", states, deltas);
  sinkRun(file, 1);
  await withWorker(POLL, async (base) => {
    assert.equal((await answer(base)).version, states[0].version);
    sinkRun(file, 2);
    assert.equal((await until(base, states[1].version)).version, states[1].version);
    // Delta 3 is lost (its sink failed); delta 4 does not continue the chain: a base instead.
    const r = sinkRun(file, 4);
    assert.match(r.stdout, /re-base: the delta did not continue the chain/);
    const m = kvManifest();
    assert.equal(m.checksum, states[3].version);
    assert.deepEqual(m.deltas, []);
    const a = await until(base, states[3].version);
    assert.equal(a.version, states[3].version);
    assert.equal(a.body, states[3].getIdentityLinksJson({ taskId: TASK0() }));
    const h = await health(base);
    assert.equal(h.loads, 2, "re-based once");
    assert.equal(h.base, states[3].version);
  });
  for (const s of states) s.free();
});

test("a new base with a bridge (decision 0017): a warm isolate applies the deltas to it instead of loading it, from the exporter's IL_BRIDGE or the sink's own re-base", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(4);
  const file = followDirectory("bridged", states, deltas);
  sinkRun(file, 1);
  await withWorker(POLL, async (base) => {
    sinkRun(file, 2);
    assert.equal((await until(base, states[1].version)).version, states[1].version);
    // The exporter publishes state 3 as a base (its --rebase-after), with the delta from state
    // 1 to it as IL_BRIDGE.
    const bridgeFile = join(dir, "bridged", "00000004.bridge");
    writeFileSync(bridgeFile, states[1].deltaTo(states[3]));
    writeFileSync(join(dir, "bridged", "00000004.idl"), states[3].toBytes());
    const r = runPublish(["--sink", join(dir, "bridged", "00000004.idl")], { IL_KIND: "snapshot", IL_SEQUENCE: "4", IL_BRIDGE: bridgeFile });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bridged from 2 delta\(s\)/);
    const m = kvManifest();
    assert.equal(m.checksum, states[3].version);
    assert.deepEqual(m.bridge.map((d) => [d.from, d.to]), [[states[0].version, states[1].version], [states[1].version, states[3].version]]);
    assert.ok(m.bridge.every((d) => existsSync(join(kvDir, d.key))), "the bridge's deltas are in the store");
    assert.ok(!m.retired.some((r) => m.bridge.some((d) => d.key === r.key)), "the old chain stays listed: not retired");
    const a = await until(base, states[3].version);
    assert.equal(a.body, states[3].getIdentityLinksJson({ taskId: TASK0() }));
    let h = await health(base);
    assert.deepEqual([h.loads, h.applied], [1, 2], `the bridge applied, no load: ${JSON.stringify(h)}`);

    // No bridge where it would not join the states or where a base is over --apply-max-bytes.
    const over = publish.bridgeTo(m, states[4].toBytes(), deltas[3], m.size - 1);
    const elsewhere = publish.bridgeTo(m, states[4].toBytes(), deltas[0]);
    const joined = publish.bridgeTo(m, states[4].toBytes(), deltas[3]);
    assert.deepEqual([over.bridge, elsewhere.bridge, joined.bridge.length], [[], [], 1], "bridged only where it joins, under the limit");
    // (The old base under the limit, the new one over it.)
    const newOver = publish.bridgeTo({ ...m, size: 1 }, states[4].toBytes(), deltas[3], states[4].toBytes().length - 1);
    assert.deepEqual(newOver.bridge, [], "nor into a base over the limit");

    // The sink's own re-base (--rebase-after 0: every delta re-bases) bridges with the delta it
    // was given: state 3 → 4 as a delta, then re-based.
    const delta = join(dir, "bridged", "00000005.delta");
    writeFileSync(delta, deltas[3]);
    writeFileSync(join(dir, "bridged", "manifest.json"), JSON.stringify({ base: "00000004.idl", latest: 5, file: "00000005.delta", kind: "delta", version: states[4].version }));
    const again = runPublish(["--sink", "--rebase-after", "0", delta], { IL_KIND: "delta", IL_SEQUENCE: "5" });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /re-base: the chain had 0 deltas; bridged from 1 delta\(s\)/);
    assert.equal((await until(base, states[4].version)).version, states[4].version);
    h = await health(base);
    assert.deepEqual([h.loads, h.applied], [1, 3], `the sink's bridge applied, no load: ${JSON.stringify(h)}`);
    // The first bridge's deltas, no longer listed, are retired (deleted after the grace).
    const retired = kvManifest().retired.map((r) => r.key);
    assert.ok(m.bridge.every((d) => retired.includes(d.key)), `the old bridge retired: ${retired}`);
  });
  // A cold isolate loads the base and leaves the bridge alone.
  await withWorker(POLL, async (base) => {
    assert.equal((await answer(base)).version, states[4].version);
    const h = await health(base);
    assert.deepEqual([h.loads, h.applied], [1, 0]);
  });
  for (const s of states) s.free();
});

test("a base over --apply-max-bytes gets no deltas: the sink publishes each change as a base, a delta by hand is refused", () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(2);
  const file = followDirectory("follow-large", states, deltas);
  const size = states[0].toBytes().length;
  const max = (bytes) => ["--apply-max-bytes", String(bytes)];
  sinkRun(file, 1, max(size - 1));
  // The base is one byte over the limit: delta 2 is published as a base.
  const r = sinkRun(file, 2, max(size - 1));
  assert.match(r.stdout, new RegExp(`re-base: the base is ${size} bytes, over --apply-max-bytes ${size - 1}`));
  const m = kvManifest();
  assert.equal(m.checksum, states[1].version);
  assert.deepEqual(m.deltas, []);
  // By hand, the same: refused, naming the sizes; the manifest unchanged.
  const large = m.size;
  const hand = runPublish(["--apply-max-bytes", String(large - 1), file(3, "delta")]);
  assert.equal(hand.status, 1);
  assert.match(hand.stderr, new RegExp(`the base is ${large} bytes, over --apply-max-bytes ${large - 1}`));
  assert.deepEqual(kvManifest(), m);
  // At the limit, a delta is appended.
  const fits = sinkRun(file, 3, max(large));
  assert.match(fits.stdout, /^published delta /);
  assert.equal(kvManifest().deltas.at(-1).to, states[2].version);
  for (const s of states) s.free();
});

test("a re-base applies the delta to the state the store publishes, not the follow directory's whole chain; a store missing a key falls back to the directory", () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(4);
  const file = followDirectory("follow-store", states, deltas);
  const size = states[0].toBytes().length;
  const sink = (n) => sinkRun(file, n, ["--apply-max-bytes", String(size - 1)]);
  sink(1);
  assert.match(sink(2).stdout, /re-base: the base is/);
  assert.equal(kvManifest().checksum, states[1].version);
  // The directory's base gone, it cannot be materialized: the store's state and delta 3 are enough.
  const directoryBase = readFileSync(file(1, "idl"));
  rmSync(file(1, "idl"));
  const r = sink(3);
  assert.match(r.stdout, /re-base: the base is/);
  assert.doesNotMatch(r.stderr, /follow directory/);
  assert.equal(kvManifest().checksum, states[2].version);
  assert.deepEqual(kvManifest().deltas, []);
  // A chunk of the store's base missing: the directory (its base back) materializes the state.
  writeFileSync(file(1, "idl"), directoryBase);
  rmSync(join(kvDir, kvManifest().chunks[0].key));
  const fallback = sink(4);
  assert.match(fallback.stderr, /is missing from the store: materializing the follow directory instead/);
  assert.equal(kvManifest().checksum, states[3].version);
  const published = Buffer.concat(kvManifest().chunks.map(({ key }) => readFileSync(join(kvDir, key))));
  assert.deepEqual(new Uint8Array(published), states[3].toBytes());
  for (const s of states) s.free();
});

test("a re-base from the store applies the store's chain and the delta when that is shorter than the directory's chain", () => {
  rmSync(kvDir, { recursive: true, force: true });
  const { states, deltas } = chainOf(6);
  const file = followDirectory("follow-store-chain", states, deltas);
  const sink = (n) => sinkRun(file, n, ["--rebase-after", "2"]);
  sink(1);
  // File 2 lost: file 3 does not continue the store's chain, a base from the directory (2 deltas).
  assert.match(sink(3).stdout, /re-base: the delta did not continue the chain/);
  assert.equal(kvManifest().checksum, states[2].version);
  sink(4);
  sink(5);
  assert.equal(kvManifest().deltas.length, 2);
  // File 6 passes --rebase-after 2: the store's base, its 2 deltas and file 6 (3 applies) against
  // the directory's 5; the directory's base removed, so only the store can make it.
  rmSync(file(1, "idl"));
  const r = sink(6);
  assert.match(r.stdout, /re-base: the chain had 2 deltas/);
  assert.equal(r.stderr, "");
  assert.equal(kvManifest().checksum, states[5].version);
  assert.deepEqual(kvManifest().deltas, []);
  const published = Buffer.concat(kvManifest().chunks.map(({ key }) => readFileSync(join(kvDir, key))));
  assert.deepEqual(new Uint8Array(published), states[5].toBytes());
  for (const s of states) s.free();
});

test("memory settles over 30 applied deltas, at the new tables beside the old (workerd, memoryUsage through the health route)", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const APPLIES = 30;
  const { states, deltas } = chainOf(APPLIES);
  const baseBytes = states[0].toBytes().length;
  await publish.publishBase(kvStore(), states[0].toBytes(), { chunkBytes: CHUNK });
  await withWorker({ ...POLL, DELTA_POLL_MS: 0 }, async (base) => {
    assert.equal((await answer(base)).version, states[0].version);
    const figures = [(await health(base)).wasmBytes];
    for (let i = 1; i <= APPLIES; i++) {
      await publish.publishDelta(kvStore(), deltas[i - 1], { graceSeconds: 0 });
      assert.equal((await until(base, states[i].version)).version, states[i].version);
      figures.push((await health(base)).wasmBytes);
    }
    const h = await health(base);
    assert.equal(h.applied, APPLIES);
    assert.equal(h.loads, 1);
    const text = figures.map(MiB).join(" → ");
    console.log(`# workerd wasm memory over ${APPLIES} applied deltas (XS ${MiB(baseBytes)}): ${text}`);
    // An apply builds the new tables beside the old ones and lets the old go: the allocator
    // reuses what the last applies gave back, settling within a few applies (a leak would grow
    // with each). Flat over the second half, and never over the loaded state plus 1.5 times the
    // base (the new tables and the apply's own working memory; the rebuild before 2026-12-07
    // took 3.0 times).
    for (let i = APPLIES / 2; i < figures.length; i++) assert.equal(figures[i], figures[APPLIES / 2], `memory grew at delta ${i}: ${text}`);
    const over = (Math.max(...figures) - figures[0]) / baseBytes;
    assert.ok(over <= 1.5, `memory grew by ${over.toFixed(2)}× the base: ${text}`);
  });
  for (const s of states) s.free();
});

// --- The manifest's head in a Durable Object (decision 0012) ----------------------------------

test("a Durable Object head: publish.mjs --head writes the manifest through the worker's route, the worker follows it and not KV's", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const headDir = join(dir, "head");
  rmSync(headDir, { recursive: true, force: true });
  const TOKEN = randomBytes(24).toString("hex");
  const { states, deltas } = chainOf(3);
  const files = states.map((st, i) => join(dir, `head-${i}.idl`));
  states.forEach((st, i) => writeFileSync(files[i], st.toBytes()));
  const deltaFiles = deltas.map((d, i) => join(dir, `head-${i + 1}.delta`));
  deltas.forEach((d, i) => writeFileSync(deltaFiles[i], d));
  // A manifest in KV, of another base (S): with a head bound the worker never reads it.
  await publish.publishBase(kvStore(), inputs.S.bytes, { chunkBytes: CHUNK });
  const kvBefore = readFileSync(join(kvDir, "manifest"));
  const vars = { ...POLL, PUBLISH_TOKEN: TOKEN };
  await withWorker(vars, async (base) => {
    const route = `${base}/.identity-links/manifest`;
    /** The publishing route with the token: `method`, `body`, more `headers`. */
    const call = (method = "GET", body = undefined, headers = {}) => fetch(route, { method, body, headers: { authorization: `Bearer ${TOKEN}`, ...headers } });
    // Nothing published in the head yet: a cold isolate's 503, not KV's manifest.
    assert.equal((await fetch(`${base}${taskPath(firstTask("S"))}`)).status, 503);
    let h = await health(base);
    assert.equal(h.head, "durable-object");
    assert.match(h.lastError, /the manifest head holds no manifest yet: publish with publish.mjs --head/);
    // The route: the token only, GET and PUT only.
    assert.equal((await fetch(route)).status, 401);
    assert.equal((await fetch(route, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
    assert.equal((await call("POST")).status, 405);
    const refused = runPublish(["--head", base, files[0]], { IL_PUBLISH_TOKEN: "short" });
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /IL_PUBLISH_TOKEN \(at least 32 characters\)/);
    assert.doesNotMatch(refused.stderr, /short/, "the token is not printed");
    for (const [url, why] of [["http://example.com", /must be https:\/\//], ["https://user:pw@example.com", /no user or password/], ["example.com", /needs the worker's URL/]]) {
      const r = runPublish(["--head", url, files[0]], { IL_PUBLISH_TOKEN: TOKEN });
      assert.equal(r.status, 1, url);
      assert.match(r.stderr, why);
    }
    // The base through the head: its chunks in KV, the manifest in the head, then copied to KV.
    const r = runPublish(["--head", base, files[0]], { IL_PUBLISH_TOKEN: TOKEN });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /the manifest in the head at http:\/\/127\.0\.0\.1/);
    assert.notDeepEqual(readFileSync(join(kvDir, "manifest")), kvBefore);
    assert.equal(readFileSync(join(kvDir, "manifest"), "utf8"), await (await call()).text(), "KV's copy is the head's manifest");
    const first = await until(base, states[0].version);
    assert.equal(first.version, states[0].version);
    assert.equal(first.body, states[0].getIdentityLinksJson({ taskId: TASK0() }));
    // Deltas appended through the head reach the isolate, applied in place.
    const latencies = [];
    for (let i = 1; i <= 2; i++) {
      const d = runPublish(["--head", base, deltaFiles[i - 1]], { IL_PUBLISH_TOKEN: TOKEN });
      assert.equal(d.status, 0, d.stderr);
      const started = performance.now();
      const a = await until(base, states[i].version);
      latencies.push(Math.round(performance.now() - started));
      assert.equal(a.version, states[i].version, `not at state ${i}`);
      assert.equal(a.body, states[i].getIdentityLinksJson({ taskId: TASK0() }));
    }
    h = await health(base);
    assert.equal(h.loads, 1, JSON.stringify(h));
    assert.equal(h.applied, 2);
    assert.equal(reads.get("manifest"), undefined, "KV's manifest was never read");
    console.log(`# from a delta's publication through the Durable Object head to the first answer reflecting it (DELTA_POLL_MS 200, workerd): ${latencies.join(", ")} ms`);
    // Two publishers: the one that read before the other wrote is refused, nothing replaced.
    const late = publish.headStore(kvStore(), base, TOKEN);
    const other = publish.headStore(kvStore(), base, TOKEN);
    const read = await publish.readManifest(late);
    await publish.publishDelta(other, deltas[2]);
    await assert.rejects(late.put("manifest", Buffer.from(JSON.stringify(read))), publish.HeadConflictError);
    const held = await (await call()).json();
    assert.equal(held.deltas.at(-1).to, states[3].version, "the second publisher's chain stands");
    // A PUT that names no manifest, and one that is not a manifest: refused, nothing replaced.
    const put = (body, headers) => call("PUT", body, headers);
    assert.equal((await put(JSON.stringify(held), {})).status, 428);
    const etag = (await call()).headers.get("etag");
    const bad = await put(JSON.stringify({ ...held, chunks: [] }), { "if-match": etag });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error, /lists no chunks/);
    assert.equal((await put("{", { "if-match": etag })).status, 400);
    assert.equal((await put(" ".repeat(200_000), { "if-match": etag })).status, 413);
    // 70,000 characters of two bytes each: over the limit in bytes, under it in characters.
    assert.equal((await put("é".repeat(70_000), { "if-match": etag })).status, 413);
    assert.equal((await until(base, states[3].version)).version, states[3].version);
  }, { head: headDir });
  // workerd restarted: the head kept the manifest (its storage on disk); a cold isolate loads it.
  await withWorker(vars, async (base) => {
    const a = await answer(base);
    assert.equal(a.version, states[3].version);
    assert.equal(a.body, states[3].getIdentityLinksJson({ taskId: TASK0() }));
  }, { head: headDir });
  // The head fails (the object's database damaged; workerd's own metadata kept): a cold isolate
  // loads from KV's copy of the manifest and says so; the head's failure is on the health route.
  const objects = readdirSync(headDir, { recursive: true }).filter((f) => f.endsWith(".sqlite") && !f.endsWith("metadata.sqlite"));
  assert.equal(objects.length, 1, `the head's object: ${objects}`);
  writeFileSync(join(headDir, objects[0]), "not a database");
  await withWorker(vars, async (base) => {
    const a = await answer(base);
    assert.equal(a.version, states[3].version, "answered from KV's copy");
    const h = await health(base);
    assert.equal(h.manifestFrom, "kv");
    assert.ok(h.headError?.message, JSON.stringify(h));
    assert.equal(h.status, "ok");
  }, { head: headDir });
  // Without the head bound, the route is not there, and KV's manifest is read again.
  await withWorker(vars, async (base) => {
    assert.equal((await fetch(`${base}/.identity-links/manifest`, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 404);
    assert.equal((await health(base)).head, "kv");
  });
  for (const st of states) st.free();
});

test("a watch of the head (decision 0013): held until a PUT replaces the manifest, and a warm isolate follows a publication before its next poll", async () => {
  rmSync(kvDir, { recursive: true, force: true });
  const headDir = join(dir, "head-watch");
  rmSync(headDir, { recursive: true, force: true });
  const TOKEN = randomBytes(24).toString("hex");
  const { states, deltas } = chainOf(4);
  // Polls a minute apart: what brings the isolate a publication within seconds is the watch.
  const vars = { ...TRUSTED, DELTA_POLL_MS: 60_000, STALE_AFTER_MS: 120_000, PUBLISH_TOKEN: TOKEN };
  const store = (base) => publish.headStore(kvStore(), base, TOKEN);
  await withWorker(vars, async (base) => {
    const route = `${base}/.identity-links/manifest`;
    const auth = { authorization: `Bearer ${TOKEN}` };
    await publish.publishBase(store(base), states[0].toBytes(), { chunkBytes: CHUNK });
    assert.equal((await answer(base)).version, states[0].version);
    // The head: a watch of its manifest is held for its wait, then 304; a PUT ends one with 200.
    const etag = (await fetch(route, { headers: auth })).headers.get("etag");
    let started = performance.now();
    const unchanged = await fetch(route, { headers: { ...auth, "if-none-match": etag, prefer: "wait=1" } });
    assert.equal(unchanged.status, 304);
    assert.equal(unchanged.headers.get("etag"), etag);
    assert.ok(performance.now() - started >= 900, `held for its wait: ${Math.round(performance.now() - started)} ms`);
    const watch = fetch(route, { headers: { ...auth, "if-none-match": etag, prefer: "wait=20" } });
    await sleep(300);
    started = performance.now();
    await publish.publishDelta(store(base), deltas[0]);
    const woken = await watch;
    const wokenMs = performance.now() - started;
    assert.equal(woken.status, 200);
    assert.notEqual(woken.headers.get("etag"), etag);
    assert.equal((await woken.json()).deltas.at(-1).to, states[1].version, "the new manifest");
    assert.ok(wokenMs < 5_000, `woken by the PUT, not its 20 s wait: ${Math.round(wokenMs)} ms`);
    // The isolate, whose next poll is a minute away, follows each publication through its watch.
    const latencies = [];
    for (let i = 1; i <= 2; i++) {
      if (i > 1) await publish.publishDelta(store(base), deltas[i - 1]);
      const a = await until(base, states[i].version, 5_000);
      assert.equal(a.version, states[i].version, `not at state ${i}: ${JSON.stringify(await health(base))}`);
      assert.equal(a.body, states[i].getIdentityLinksJson({ taskId: TASK0() }));
      latencies.push(Math.round(a.ms));
    }
    await answer(base);
    const h = await health(base);
    assert.equal(h.watching, true, `a watch held between publications: ${JSON.stringify(h)}`);
    assert.ok(h.watches >= 2, JSON.stringify(h));
    assert.equal(h.loads, 1, JSON.stringify(h));
    assert.equal(h.applied, 2);
    assert.ok(h.polls <= 3, `one manifest read per publication, no more (the load and two deltas): ${h.polls}`);
    console.log(`# from a delta's publication through the head to the first answer reflecting it, watched (DELTA_POLL_MS 60000, workerd): ${latencies.join(", ")} ms`);
  }, { head: headDir });
  // Without the watch (HEAD_WATCH_MS 0) the isolate waits for its poll: 3 s later, still behind.
  await withWorker({ ...vars, HEAD_WATCH_MS: "0" }, async (base) => {
    assert.equal((await answer(base)).version, states[2].version);
    await publish.publishDelta(store(base), deltas[2]);
    const a = await until(base, states[3].version, 3_000);
    assert.equal(a.version, states[2].version, "no watch: the poll is a minute away");
    assert.equal((await health(base)).watches, 0);
  }, { head: headDir });
  // Watched, the isolate does not poll (DELTA_POLL_MS 200 here); and a manifest published while
  // no watch is held (sparse requests: the last watch ended) is refreshed by the watch the next
  // request starts, at once, not by the request after it.
  await withWorker({ ...vars, DELTA_POLL_MS: 200, HEAD_WATCH_MS: 1000 }, async (base) => {
    assert.equal((await answer(base)).version, states[3].version);
    for (const end = performance.now() + 2000; performance.now() < end; await sleep(20)) await answer(base);
    let h = await health(base);
    assert.ok(h.polls <= 2, `no polls while watched (requests for 2 s at DELTA_POLL_MS 200): ${h.polls} manifest reads`);
    await sleep(1500); // the last watch ends (304): none is held (any request would start one)
    await publish.publishDelta(store(base), deltas[3]);
    assert.equal((await answer(base)).version, states[3].version, "this request answers before the refresh");
    await sleep(500);
    const applied = h.applied;
    h = await health(base);
    assert.equal(h.version, states[4].version, `refreshed by the watch this request started: ${JSON.stringify(h)}`);
    assert.equal(h.applied, applied + 1);
  }, { head: headDir });
  // A watch longer than a request may be kept is refused at the first request.
  await withWorker({ ...vars, HEAD_WATCH_MS: "60000" }, async (base) => {
    const r = await fetch(`${base}${taskPath(TASK0())}`);
    assert.equal(r.status, 500);
    assert.match(await r.text(), /HEAD_WATCH_MS must be at most 20000/);
  }, { head: headDir });
  for (const st of states) st.free();
});
