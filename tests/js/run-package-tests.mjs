// Packaging tests: `npm pack` the built package, install the tarball into a scratch project, and
// run every conformance case through the public API in Node ESM, Node CJS, Deno, Bun (package
// entry and the web build with init()), a bundled browser build in headless Chromium and Firefox, and
// workerd answering a real HTTP request on 127.0.0.1; then `tsc --strict` over the typings and
// a consumer. Prints one line per runtime and a closing "N passed, M failed".
//
// Usage: node tests/js/run-package-tests.mjs [runtime ...]   (default: all)
import { check } from "./check.mjs";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { checkRoutes } from "./routes.mjs";
import { launch, waitFor } from "./browsers.mjs";
import { workerdConfig } from "../../scripts/workerd-config.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const bin = (name) => join(root, "node_modules/.bin", name);
// TypeScript 5 by its own path: node_modules/.bin/tsc may be TypeScript 6's or 7's (installed
// beside it as typescript-6 and typescript-7 for tests/toolchains).
const tsc = join(root, "node_modules/typescript/bin/tsc");
const scratch = join(root, "target/package-test");
const conformanceDir = process.env.IDENTITY_LINKS_CONFORMANCE ?? resolve(root, "../shared/conformance");
const only = process.argv.slice(2);
// The package as Node loads it, for the in-process answers the examples are compared with.
const nodeApi = createRequire(import.meta.url)(join(root, "pkg/node/index.cjs"));
const wanted = (name) => only.length === 0 || only.includes(name);

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: scratch, encoding: "utf8", timeout: 180_000, ...options });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}` };
}

function must(cmd, args, options) {
  const r = run(cmd, args, options);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed:\n${r.out}`);
  return r.out;
}

/** The RESULT line a runtime printed, or a failure carrying its output. */
function parseResult(runtime, r) {
  const line = r.out.split("\n").find((l) => l.startsWith("RESULT "));
  if (!line) return { runtime, passed: 0, failed: 1, failures: [`no result (exit ${r.code}):\n${r.out.slice(-3000)}`] };
  return JSON.parse(line.slice("RESULT ".length));
}

function prepare() {
  const pkg = join(root, "pkg");
  if (!existsSync(join(pkg, "package.json"))) throw new Error("pkg/ is missing: run `make build` first");
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const tarball = must("npm", ["pack", pkg, "--pack-destination", scratch, "--silent"]).trim().split("\n").pop();
  writeFileSync(
    join(scratch, "package.json"),
    JSON.stringify({ name: "package-test", private: true, type: "module", dependencies: { "identity-links": `file:./${tarball}` } }, null, 2),
  );
  // --prefer-offline, not --offline: the package's dependency (jose) is resolved from its registry
  // metadata, which the root's lockfile install never caches; on a new machine it is fetched once.
  must("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--silent"]);
  for (const f of readdirSync(here)) {
    if (/\.(mjs|cjs|ts|json)$/.test(f) && !["run-package-tests.mjs", "routes.mjs", "demo-test.mjs", "clients-test.mjs"].includes(f)) cpSync(join(here, f), join(scratch, f));
  }
  const files = readdirSync(conformanceDir)
    .filter((f) => f.endsWith(".json"))
    .sort()
    .map((file) => ({ file, cases: JSON.parse(readFileSync(join(conformanceDir, file), "utf8")).cases }));
  const count = files.reduce((n, f) => n + f.cases.length, 0);
  if (count === 0) throw new Error(`no conformance cases in ${conformanceDir}`);
  writeFileSync(join(scratch, "cases.json"), JSON.stringify(files));
  return count;
}

function serve(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm" };
  const server = createServer((req, res) => {
    const path = join(dir, decodeURIComponent(new URL(req.url, "http://x").pathname).replace(/^\/+/, "") || "index.html");
    if (!path.startsWith(dir) || !existsSync(path)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[path.slice(path.lastIndexOf("."))] ?? "application/octet-stream" });
    res.end(readFileSync(path));
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok(server)));
}

/** The browser build, bundled with esbuild, running every conformance case in `name`. */
async function browser(name) {
  const www = join(scratch, "www");
  mkdirSync(www, { recursive: true });
  must(bin("esbuild"), ["browser-entry.mjs", "--bundle", "--format=esm", "--platform=browser", `--outfile=${join(www, "app.js")}`, "--log-level=warning"]);
  cpSync(join(scratch, "node_modules/identity-links/identity_links_bg.wasm"), join(www, "identity_links_bg.wasm"));
  writeFileSync(join(www, "index.html"), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="app.js"></script>');
  const server = await serve(www);
  const browser = await launch(name);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/index.html`);
    if (!(await waitFor(page, () => window.__result !== undefined, 60_000))) errors.push("no result within 60 s");
    const result = (await page.evaluate(() => window.__result)) ?? { runtime: `browser-${name}`, passed: 0, failed: 0, failures: [] };
    result.runtime = `browser-${name}`;
    result.failures.push(...errors);
    result.failed += errors.length;
    return result;
  } finally {
    await browser.close();
    server.close();
  }
}

/** Starts a server process and waits until `url` answers; returns { proc, log, ok }. */
async function startServer(cmd, args, options, url) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...options });
  const state = { proc, log: "", ok: false };
  proc.stdout.on("data", (d) => (state.log += d));
  proc.stderr.on("data", (d) => (state.log += d));
  for (let attempt = 0; attempt < 150 && proc.exitCode === null; attempt++) {
    try {
      await fetch(url);
      state.ok = true;
      break;
    } catch {
      await new Promise((ok) => setTimeout(ok, 200));
    }
  }
  return state;
}

const freePort = () => 20000 + Math.floor(Math.random() * 20000);

async function workerd() {
  const out = join(scratch, "workerd");
  mkdirSync(out, { recursive: true });
  must(bin("esbuild"), [
    "worker.mjs", "--bundle", "--format=esm", "--platform=neutral", "--conditions=workerd,worker",
    "--loader:.wasm=copy", "--asset-names=[name]", `--outfile=${join(out, "worker.js")}`, "--log-level=warning",
  ]);
  const port = freePort();
  writeFileSync(
    join(out, "config.capnp"),
    workerdConfig(port, [
      '(name = "worker.js", esModule = embed "worker.js")',
      '(name = "identity_links_bg.wasm", wasm = embed "identity_links_bg.wasm")',
    ]),
  );
  const server = await startServer(bin("workerd"), ["serve", join(out, "config.capnp")], { cwd: out }, `http://127.0.0.1:${port}/`);
  try {
    if (!server.ok) return { runtime: "workerd", passed: 0, failed: 1, failures: [`workerd did not answer:\n${server.log.slice(-3000)}`] };
    const res = await fetch(`http://127.0.0.1:${port}/`);
    if (res.headers.get("content-type") !== "application/json") throw new Error(`content-type ${res.headers.get("content-type")}`);
    return await res.json();
  } finally {
    server.proc.kill();
  }
}

/**
 * examples/worker under workerd on 127.0.0.1, every route over HTTP, from the bundled sample
 * (DEMO = "sample", uncommented in its config.capnp). KV, chunking, failures, memory and
 * authentication: tests/js/worker-test.mjs.
 */
async function exampleWorker() {
  const dir = join(scratch, "example-worker");
  mkdirSync(join(dir, "kv"), { recursive: true });
  for (const f of ["worker.js", "snapshot.json"]) cpSync(join(root, "examples/worker", f), join(dir, f));
  const config = readFileSync(join(root, "examples/worker/config.capnp"), "utf8");
  const demo = config.replace('# (name = "DEMO", text = "sample"),', '(name = "DEMO", text = "sample"),');
  if (demo === config) throw new Error("examples/worker/config.capnp has no DEMO line to uncomment");
  writeFileSync(join(dir, "config.capnp"), demo);
  must(bin("esbuild"), ["worker.js", "--bundle", "--format=esm", "--platform=neutral", "--conditions=workerd,worker", "--loader:.wasm=copy", "--asset-names=[name]", "--outdir=dist", "--log-level=warning"], { cwd: dir });
  const port = freePort();
  const server = await startServer(bin("workerd"), ["serve", "config.capnp", "--socket-addr", `http=127.0.0.1:${port}`], { cwd: dir }, `http://127.0.0.1:${port}/`);
  try {
    if (!server.ok) return { runtime: "example-worker", passed: 0, failed: 1, failures: [`workerd did not answer:\n${server.log.slice(-3000)}`] };
    const result = await checkRoutes("example-worker", `http://127.0.0.1:${port}`, nodeApi, join(root, "www/sample-snapshot.json"));
    const health = await (await fetch(`http://127.0.0.1:${port}/.identity-links/health`)).json();
    if (health.version === "demo-sample" && health.wasmBytes > 0) result.passed++;
    else result.failed++, result.failures.push(`health route: ${JSON.stringify(health)}`);
    return result;
  } finally {
    server.proc.kill();
  }
}

// Deno runs with --no-code-cache: a package installed from a tarball gives every file the same
// fixed mtime, and Deno's V8 code cache then serves the code of an earlier build of the package.

/**
 * examples/deno with Deno.serve on 127.0.0.1: with AUTH=trusted every route over HTTP; by
 * default it refuses to start until the environment says who may call; with ZITADEL_ISSUER (a
 * key set served here) it refuses a request without a token and answers a valid one.
 */
async function exampleDeno() {
  const dir = join(scratch, "example-deno");
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, "examples/deno/server.js"), join(dir, "server.js"));
  const deno = (extra) => {
    const port = freePort();
    const env = { ...process.env, PORT: String(port), SNAPSHOT: join(root, "www/sample-snapshot.json"), DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", ...extra };
    for (const name of ["AUTH", "ZITADEL_ISSUER", "ZITADEL_AUDIENCE", "CAMUNDA_USER_CLAIM"]) if (!(name in extra)) delete env[name];
    return { port, args: ["run", "--quiet", "--no-code-cache", "--allow-net=127.0.0.1", "--allow-read", "--allow-env", "server.js"], options: { cwd: dir, env } };
  };
  const result = { runtime: "example-deno", passed: 0, failed: 0, failures: [] };
  const check = (name, ok, detail = "") => (ok ? result.passed++ : (result.failed++, result.failures.push(`${name} ${detail}`)));
  // No configuration: it does not start, and says why.
  const bare = deno({});
  const refused = run(bin("deno"), bare.args, { ...bare.options, timeout: 60_000 });
  check("without ZITADEL_ISSUER or AUTH=trusted it refuses to start, naming both", refused.code === 1 && refused.out.includes("ZITADEL_ISSUER") && refused.out.includes("AUTH=trusted"), refused.out);
  // AUTH=trusted: every route, full rights.
  const trusted = deno({ AUTH: "trusted" });
  let server = await startServer(bin("deno"), trusted.args, trusted.options, `http://127.0.0.1:${trusted.port}/`);
  try {
    if (!server.ok) return { runtime: "example-deno", passed: 0, failed: 1, failures: [`Deno.serve did not answer:\n${server.log.slice(-3000)}`] };
    const routes = await checkRoutes("example-deno", `http://127.0.0.1:${trusted.port}`, nodeApi, join(root, "www/sample-snapshot.json"));
    result.passed += routes.passed;
    result.failed += routes.failed;
    result.failures.push(...routes.failures);
  } finally {
    server.proc.kill();
  }
  // ZITADEL_ISSUER: a key set on 127.0.0.1, a token signed here.
  const { SignJWT, exportJWK, generateKeyPair } = await import("jose");
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] });
  const keys = createServer((req, res) => res.writeHead(200, { "content-type": "application/json" }).end(jwks));
  await new Promise((done) => keys.listen(0, "127.0.0.1", done));
  const issuer = `http://127.0.0.1:${keys.address().port}`;
  const authed = deno({ ZITADEL_ISSUER: issuer, ZITADEL_AUDIENCE: "other, project", CAMUNDA_USER_CLAIM: "preferred_username" });
  server = await startServer(bin("deno"), authed.args, authed.options, `http://127.0.0.1:${authed.port}/`);
  try {
    if (!server.ok) return { runtime: "example-deno", passed: 0, failed: 1, failures: [`Deno.serve (ZITADEL_ISSUER) did not answer:\n${server.log.slice(-3000)}`] };
    const base = `http://127.0.0.1:${authed.port}`;
    const token = await new SignJWT({ sub: "demo", preferred_username: "demo" }).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(issuer).setAudience("project").setIssuedAt().setExpirationTime("5m").sign(privateKey);
    const links = (headers) => fetch(`${base}/v2/users/demo/links/_search`, { method: "POST", body: "{}", headers });
    const none = await links({});
    check("ZITADEL_ISSUER: no token: 401 auth header missing", none.status === 401 && (await none.text()) === '{"code":16,"message":"auth header missing"}');
    const own = await links({ authorization: `Bearer ${token}` });
    check("ZITADEL_ISSUER: a valid token reads its own links", own.status === 200 && (await own.text()) === nodeApi.Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json"), "utf8")).listIdpLinksJson({ userId: "demo" }));
    const camunda = await fetch(`${base}/engine-rest/identity/groups?userId=demo`);
    check("ZITADEL_ISSUER: Camunda's routes without a token: 401 Basic", camunda.status === 401 && camunda.headers.get("www-authenticate") === 'Basic realm="default"');
    const camundaOk = await fetch(`${base}/engine-rest/identity/groups?userId=demo`, { headers: { authorization: `Bearer ${token}` } });
    check("CAMUNDA_USER_CLAIM: the token's claim names Camunda's caller", camundaOk.status === 200);
  } finally {
    server.proc.kill();
    keys.close();
  }
  return result;
}

function typescript() {
  const failures = [];
  const consumer = run(tsc, ["-p", "tsconfig.consumer.json"]);
  if (consumer.code !== 0) failures.push(`tsc --strict over consumer.ts and the package typings:\n${consumer.out}`);
  // The declarations alone, with the plain and the newest libs (Symbol.dispose both ways).
  for (const lib of ["es2022,dom", "esnext,dom"]) {
    const dts = run(tsc, ["--noEmit", "--strict", "--lib", lib, "node_modules/identity-links/index.d.ts", "node_modules/identity-links/index.d.cts"]);
    if (dts.code !== 0) failures.push(`tsc --strict --lib ${lib} over the declarations:\n${dts.out}`);
  }
  return { runtime: "typescript", passed: 3 - failures.length, failed: failures.length, failures };
}

const runtimes = {
  "node-esm": () => parseResult("node-esm", run("node", ["node-esm.mjs", "node-esm"])),
  "node-cjs": () => parseResult("node-cjs", run("node", ["node-cjs.cjs"])),
  deno: () => parseResult("deno", run(bin("deno"), ["run", "--quiet", "--no-code-cache", "--allow-read", "--allow-env", "node-esm.mjs", "deno"], { env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } })),
  "deno-web": () => parseResult("deno-web", run(bin("deno"), ["run", "--quiet", "--no-code-cache", "--allow-read", "--allow-env", "web-init.mjs", "deno-web"], { env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" } })),
  bun: () => parseResult("bun", run(bin("bun"), ["node-esm.mjs", "bun"])),
  "bun-web": () => parseResult("bun-web", run(bin("bun"), ["web-init.mjs", "bun-web"])),
  "browser-chromium": () => browser("chromium"),
  "browser-firefox": () => browser("firefox"),
  workerd,
  "example-worker": exampleWorker,
  "example-deno": exampleDeno,
  typescript,
};

const count = prepare();
console.log(`package tests: ${count} conformance cases per runtime`);
for (const [name, fn] of Object.entries(runtimes)) {
  if (!wanted(name)) continue;
  let result;
  try {
    result = await fn();
  } catch (e) {
    result = { runtime: name, passed: 0, failed: 1, failures: [String(e && e.stack || e)] };
  }
  check(`${name}: ${result.passed} checks passed, ${result.failed} failed`, result.failed === 0 && result.passed > 0, result.failures.join("\n"));
}
