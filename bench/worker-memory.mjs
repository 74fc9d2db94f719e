// The worker example's whole memory in workerd: the module's wasm memory (the health route's
// wasmBytes) and the isolate's JS heap (V8's own figure, through workerd's inspector), while it
// loads a base, applies deltas and re-bases. A Workers isolate has 128 MB for both together
// (docs/scaling.md, "What an isolate holds"); the other benches measure the wasm side only. The
// JS side is V8's heap size (Runtime.getHeapUsage's totalSize: what the heap has taken, used or
// not) and the ArrayBuffers' backing stores outside it (backingStorageSize).
//
//   node bench/worker-memory.mjs [BASE.idl FORWARD.delta BACK.delta] [APPLIES]
//
// Defaults: the edge shape's files that `node bench/run.mjs edge` leaves in target/bench
// (edge.idl, edge.forward.delta, edge.back.delta: the 1M-link snapshot, a 1,000-key delta and its
// reverse), 20 applies (an even number: the isolate ends at BASE's state). The base is published
// with examples/worker/publish.mjs into a KV folder, then the deltas one at a time (each waited
// for on the health route), then BASE with FORWARD applied (made here with the package) as a new
// base: a re-base, over MEMORY_BUDGET_BYTES at 1M links, so the old snapshot is let go first
// (decision 0016). The JS heap is sampled every 20 ms throughout; each phase reports the largest
// figures seen in it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
if (args.length !== 0 && args.length !== 1 && args.length !== 3 && args.length !== 4) {
  throw new Error("usage: node bench/worker-memory.mjs [BASE.idl FORWARD.delta BACK.delta] [APPLIES]");
}
const files = args.length >= 3 ? args.slice(0, 3).map((f) => resolve(f)) : ["edge.idl", "edge.forward.delta", "edge.back.delta"].map((f) => join(cache, f));
const [baseFile, forwardFile, backFile] = files;
const applies = Number(args.length >= 3 ? (args[3] ?? 20) : (args[0] ?? 20));
if (!Number.isInteger(applies) || applies < 0 || applies % 2 !== 0) throw new Error(`APPLIES must be an even whole number, found ${args.at(-1)}`);
for (const f of files) {
  if (!existsSync(f)) throw new Error(`${f} is missing: run \`node bench/run.mjs edge\` first (it leaves the edge shape's files in target/bench), or name the three files`);
}
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const MiB = 1024 * 1024;
const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;

const dir = join(cache, "worker-memory");
prepareWorker(dir);
// The new base: BASE with FORWARD applied, a state the isolate does not hold after an even number of applies.
const otherFile = join(dir, "other.idl");
{
  const { Snapshot } = await import(join(root, "pkg/node/index.cjs"));
  const s = Snapshot.fromBytes(new Uint8Array(readFileSync(baseFile)));
  s.applyDelta(new Uint8Array(readFileSync(forwardFile)));
  writeFileSync(otherFile, s.toBytes());
  s.free();
}
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
const heap = () => new Promise((ok, fail) => {
  const timer = setTimeout(() => fail(new Error("the inspector did not answer Runtime.getHeapUsage within 10 s")), 10_000);
  pending.set(++id, (result) => {
    clearTimeout(timer);
    ok(result);
  });
  socket.send(JSON.stringify({ id, method: "Runtime.getHeapUsage" }));
});

let most = 0;
let mostUsed = 0;
let mostBacking = 0;
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    const h = await heap();
    if (h) {
      most = Math.max(most, h.totalSize);
      mostUsed = Math.max(mostUsed, h.usedSize);
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
  mostUsed = 0;
  mostBacking = 0;
  const h = await run();
  await sleep(100);
  const now = await heap();
  const [heapMost, usedMost, backingMost] = [Math.max(most, now.totalSize), Math.max(mostUsed, now.usedSize), Math.max(mostBacking, now.backingStorageSize)];
  // Wasm memory never shrinks: its figure at the phase's end is the phase's largest.
  rows.push({ name, wasm: h.wasmBytes, heapMost, usedMost, backingMost });
  console.log(`${name}: wasm ${mib(h.wasmBytes)}; JS heap at most ${mib(usedMost)} used of ${mib(heapMost)}; backing stores at most ${mib(backingMost)}`);
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
// The sampler's last request answered before the socket closes (closed under it, the request's
// 10 s limit failed the run once worker.stop() took longer than that).
sampling = false;
await sampler;
socket.close();
const max = (key) => Math.max(...rows.map((r) => r[key]));
// The phase whose wasm, heap size and backing stores, each at its largest in the phase, add up to the most.
const sum = Math.max(...rows.map((r) => r.wasm + r.heapMost + r.backingMost));
const used = Math.max(...rows.map((r) => r.wasm + r.usedMost + r.backingMost));
console.log(`most: wasm ${mib(max("wasm"))}, JS heap ${mib(max("usedMost"))} used of ${mib(max("heapMost"))}, backing stores ${mib(max("backingMost"))}; in one phase together ${mib(sum)} (${(sum / 1e6).toFixed(1)} MB of the isolate's 128 MB) counting the heap's size, ${mib(used)} (${(used / 1e6).toFixed(1)} MB) counting its used part`);
await worker.stop();
process.exit(0);
