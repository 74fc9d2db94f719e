// examples/worker built and run under workerd for the tests (worker-test.mjs, and the pipeline
// test tests/export/pipeline-test.mjs): its files copied into a folder with the built package as
// its `identity-links`, bundled with esbuild as `npm run build` does, and served on 127.0.0.1 with
// its KV namespace SNAPSHOTS from a folder (workerd's disk service: a file per key, as
// examples/worker/config.capnp) or from an HTTP service (GET /<key>, 404 when absent).
import { spawn, spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const bin = (name) => join(root, "node_modules/.bin", name);
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

/**
 * A fresh `dir` holding the example's worker.js, snapshot.json and publish.mjs, node_modules/
 * identity-links (a link to pkg/), and the bundle in dist/ (worker.js and the .wasm).
 */
export function prepareWorker(dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  for (const f of ["worker.js", "snapshot.json", "publish.mjs"]) cpSync(join(root, "examples/worker", f), join(dir, f));
  symlinkSync(join(root, "pkg"), join(dir, "node_modules/identity-links"));
  const built = spawnSync(bin("esbuild"), ["worker.js", "--bundle", "--format=esm", "--platform=neutral", "--conditions=workerd,worker", "--loader:.wasm=copy", "--asset-names=[name]", "--outdir=dist", "--log-level=warning"], { cwd: dir, encoding: "utf8" });
  if (built.status !== 0) throw new Error(`esbuild failed: ${built.stderr}`);
}

/**
 * Serves the worker bundled in `dir` (prepareWorker) on 127.0.0.1:`port` with `vars` as text
 * bindings and SNAPSHOTS from `kv`: `{ folder }` (a path) or `{ address }` (host:port of an HTTP
 * service); with `head` (a folder), the manifest's head too, a Durable Object stored there; with
 * `inspector` (a port), V8's inspector protocol on 127.0.0.1 (bench/worker-memory.mjs reads the
 * isolate's JS heap through it).
 * Resolves when the socket accepts connections (no request is sent: a request would
 * start a load): `{ base, log(), stop() }`; `stop` resolves when workerd has exited.
 */
export async function startWorker(dir, { port, kv, vars = {}, head = null, inspector = null }) {
  const kvService = kv.folder !== undefined ? `disk = (path = ${JSON.stringify(kv.folder)}, writable = false)` : `external = (address = ${JSON.stringify(kv.address)}, http = ())`;
  const bindings = [
    '(name = "SNAPSHOTS", kvNamespace = "kv")',
    ...Object.entries(vars).map(([k, v]) => `(name = ${JSON.stringify(k)}, text = ${JSON.stringify(String(v))})`),
  ];
  // `head`: a folder for the Durable Object's storage; the worker's ManifestHead bound as MANIFEST_HEAD.
  let headService = "";
  let headWorker = "";
  if (head !== null) {
    mkdirSync(head, { recursive: true });
    headService = `(name = "head-storage", disk = (path = ${JSON.stringify(resolve(head))}, writable = true)),`;
    headWorker = `durableObjectNamespaces = [ (className = "ManifestHead", uniqueKey = "identity-links-manifest-head", enableSql = true) ],
  durableObjectStorage = (localDisk = "head-storage"),`;
    bindings.push('(name = "MANIFEST_HEAD", durableObjectNamespace = (className = "ManifestHead"))');
  }
  const config = `config-${port}.capnp`;
  writeFileSync(join(dir, config), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .w),
    (name = "kv", ${kvService}),
    ${headService}
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [
    (name = "worker.js", esModule = embed "dist/worker.js"),
    (name = "identity_links_bg.wasm", wasm = embed "dist/identity_links_bg.wasm"),
  ],
  compatibilityDate = "2025-09-01",
  globalOutbound = "internet",
  ${headWorker}
  bindings = [ ${bindings.join(", ")} ],
);
`);
  const inspect = inspector === null ? [] : [`--inspector-addr=127.0.0.1:${inspector}`];
  const proc = spawn(bin("workerd"), ["serve", ...inspect, config], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  const stop = async () => {
    proc.kill();
    await new Promise((ok) => (proc.exitCode !== null || proc.signalCode !== null ? ok() : proc.on("exit", ok)));
  };
  for (let i = 0; ; i++) {
    const up = await new Promise((ok) => connect(port, "127.0.0.1").on("connect", function () { this.destroy(); ok(true); }).on("error", () => ok(false)));
    if (up) break;
    if (i >= 100 || proc.exitCode !== null) {
      await stop();
      throw new Error(`workerd did not start:\n${log}`);
    }
    await sleep(100);
  }
  return { base: `http://127.0.0.1:${port}`, log: () => log, stop };
}
