// The worker example's whole memory in workerd: the module's wasm memory (the health route's
// wasmBytes) and the isolate's JS heap (V8's own figure, through workerd's inspector), while it
// loads a base, applies deltas and re-bases. A Workers isolate has 128 MB for both together
// (docs/scaling.md, "What an isolate holds"); the other benches measure the wasm side only. The
// JS side is V8's heap size (Runtime.getHeapUsage's totalSize: what the heap has taken, used or
// not) and the ArrayBuffers' backing stores outside it (backingStorageSize).
//
//   node bench/worker-memory.mjs [BASE.idl FORWARD.delta BACK.delta OTHER.idl] [APPLIES]
//
// Defaults: the edge shape's files that `node bench/run.mjs edge` leaves in target/bench
// (edge.idl, edge.forward.delta, edge.back.delta, edge.b.idl: the 1M-link snapshot, a 1,000-key
// delta and its reverse, another base), 20 applies. The base is published with
// examples/worker/publish.mjs into a KV folder, then the deltas one at a time (each waited for on
// the health route), then OTHER.idl as a new base (a re-base over MEMORY_BUDGET_BYTES lets the old
// snapshot go first: decision 0016), then the deltas again. The JS heap is sampled every 20 ms
// throughout; the figures are the largest seen in each phase.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

if (typeof WebSocket === "undefined") {
  // Node 20 has the WebSocket client behind a flag (22 has it by default).
  const r = spawnSync(process.execPath, ["--experimental-websocket", ...process.argv.slice(1)], { stdio: "inherit" });
  process.exit(r.status ?? 1);
}

const { prepareWorker, startWorker } = await import("../tests/js/worker-example.mjs");
const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cache = join(root, "target/bench");
const args = process.argv.slice(2);
const [baseFile, forwardFile, backFile, otherFile] = args.length >= 4 ? args.slice(0, 4).map((f) => resolve(f)) : ["edge.idl", "edge.forward.delta", "edge.back.delta", "edge.b.idl"].map((f) => join(cache, f));
const applies = Number(args[4] ?? args[0] ?? 20) || 20;
for (const f of [baseFile, forwardFile, backFile, otherFile]) {
  if (!existsSync(f)) throw new Error(`${f} is missing: run \`node bench/run.mjs edge\` first, or name the four files`);
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const MiB = 1024 * 1024;
const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;

const dir = join(cache, "worker-memory");
prepareWorker(dir);
const kv = join(dir, "kv");
rmSync(kv, { recursive: true, force: true });
mkdirSync(kv, { recursive: true });
const publish = (file) => {
  const r = spawnSync(process.execPath, [join(dir, "publish.mjs"), file, "--dir", kv, "--grace-seconds", "0"], { cwd: dir, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`publish.mjs ${file}: ${r.stderr}`);
};
publish(baseFile);

const port = 21000 + Math.floor(Math.random() * 8000);
const worker = await startWorker(dir, { port, kv: { folder: kv }, vars: { AUTH: "trusted", DELTA_POLL_MS: 200, STALE_AFTER_MS: 100 }, inspector: port + 1 });
process.on("exit", () => worker.stop());

// The isolate's JS heap, from V8 (Runtime.getHeapUsage), over workerd's inspector.
const targets = await (await fetch(`http://127.0.0.1:${port + 1}/json/list`)).json();
const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
await new Promise((ok, fail) => { socket.onopen = ok; socket.onerror = fail; });
let id = 0;
const pending = new Map();
socket.onmessage = (m) => {
  const reply = JSON.parse(m.data);
  pending.get(reply.id)?.(reply.result);
  pending.delete(reply.id);
};
const heap = () => new Promise((ok) => {
  pending.set(++id, ok);
  socket.send(JSON.stringify({ id, method: "Runtime.getHeapUsage" }));
});

let most = 0;
let mostBacking = 0;
let sampling = true;
(async () => {
  while (sampling) {
    const h = await heap();
    if (h) {
      most = Math.max(most, h.totalSize);
      mostBacking = Math.max(mostBacking, h.backingStorageSize ?? 0);
    }
    await sleep(20);
  }
})();
const health = async () => (await fetch(`${worker.base}/.identity-links/health`)).json();
const until = async (what, ok) => {
  for (const end = Date.now() + 120_000; Date.now() < end; await sleep(50)) {
    await fetch(`${worker.base}/engine-rest/task/none/identity-links`); // a request: the refresh runs behind it
    const h = await health();
    if (ok(h)) return h;
  }
  throw new Error(`${what}: not reached\n${worker.log().slice(-2000)}`);
};
const rows = [];
const phase = async (name, run) => {
  most = 0;
  mostBacking = 0;
  const h = await run();
  await sleep(100);
  const now = await heap();
  const [heapMost, backingMost] = [Math.max(most, now.totalSize), Math.max(mostBacking, now.backingStorageSize)];
  rows.push({ name, wasm: h.wasmBytes, heapMost, backingMost });
  console.log(`${name}: wasm ${mib(h.wasmBytes)}, JS heap ${mib(now.usedSize)} used of ${mib(now.totalSize)} (most ${mib(heapMost)}), backing stores ${mib(now.backingStorageSize)} (most ${mib(backingMost)})`);
};

await phase("loaded", () => until("the base", (h) => h.loads === 1 && h.version !== null));
const deltas = async (label) => {
  for (let i = 0; i < applies; i++) {
    const before = (await health()).applied;
    publish(i % 2 === 0 ? forwardFile : backFile);
    await phase(`${label} ${i + 1}`, () => until(`apply ${i + 1}`, (h) => h.applied > before));
  }
};
await deltas("apply");
const loads = (await health()).loads;
publish(otherFile);
await phase("re-based", () => until("the other base", (h) => h.loads > loads && h.version !== null));
sampling = false;
socket.close();
const max = (key) => Math.max(...rows.map((r) => r[key]));
const sum = Math.max(...rows.map((r) => r.wasm + r.heapMost + r.backingMost));
console.log(`most: wasm ${mib(max("wasm"))}, JS heap ${mib(max("heapMost"))} (V8's heap size, used and free), backing stores ${mib(max("backingMost"))}; the three together ${mib(sum)} (${(sum / 1e6).toFixed(1)} MB of the isolate's 128 MB)`);
await worker.stop();
process.exit(0);
