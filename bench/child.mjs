// One measurement in a fresh process (memory and cold start must not share a heap or a compiled
// module with anything else). Prints one JSON line. Run by bench/run.mjs:
//   node --expose-gc bench/child.mjs memory-baseline|memory-wasm FILE
//   node bench/child.mjs cold-node
//   node bench/child.mjs cold-load FILE.idl     (compile + instantiate + fromBytes, as workerd does)
//   node bench/child.mjs first-json FILE.json   (compile + instantiate + the first fromJson)
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [what, file] = process.argv.slice(2);
const wasmPath = join(root, "pkg/identity_links_bg.wasm");

if (what === "memory-baseline") {
  const { load } = await import("./baseline.mjs");
  const text = readFileSync(file, "utf8");
  globalThis.gc();
  const before = process.memoryUsage().heapUsed;
  const kept = load(text);
  globalThis.gc();
  console.log(JSON.stringify({ bytes: process.memoryUsage().heapUsed - before, kept: kept.users.size }));
} else if (what === "memory-wasm") {
  const glue = await import(join(root, "pkg/index.js"));
  const exports = glue.initSync({ module: readFileSync(wasmPath) });
  const input = readFileSync(file);
  const before = exports.memory.buffer.byteLength;
  globalThis.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const snapshot = file.endsWith(".idl") ? glue.Snapshot.fromBytes(input) : glue.Snapshot.fromJson(input);
  // A snapshot in use: the first query of each kind allocates the answer buffers (wasm memory)
  // and the wrapper's per-snapshot text caches (JS heap), which count too.
  try {
    snapshot.getIdentityLinks({ taskId: "any" });
  } catch {
    // an unknown task: the answer does not matter here
  }
  snapshot.listIdpLinks({ userId: "any" });
  snapshot.getUserGroups({ userId: "any" });
  snapshot.listIdpLinksJson({ userId: "any" });
  globalThis.gc();
  const heap = process.memoryUsage().heapUsed - heapBefore;
  console.log(JSON.stringify({ bytes: exports.memory.buffer.byteLength - before, heap, users: snapshot.stats().users }));
} else if (what === "cold-node") {
  const bytes = readFileSync(wasmPath);
  const glue = await import(join(root, "pkg/index.js"));
  const t0 = performance.now();
  glue.initSync({ module: new WebAssembly.Module(bytes) });
  console.log(JSON.stringify({ ms: performance.now() - t0 }));
} else if (what === "first-json") {
  // The first fromJson of a process: instantiation, then a load whose throwaway instance is new.
  const text = readFileSync(file, "utf8");
  const t0 = performance.now();
  const glue = await import(join(root, "pkg/index.js"));
  glue.initSync({ module: new WebAssembly.Module(readFileSync(wasmPath)) });
  const s = glue.Snapshot.fromJson(text);
  console.log(JSON.stringify({ ms: performance.now() - t0, users: s.stats().users }));
} else if (what === "cold-load") {
  const bytes = readFileSync(wasmPath);
  const snapshotBytes = new Uint8Array(readFileSync(file));
  const t0 = performance.now();
  const glue = await import(join(root, "pkg/index.js"));
  glue.initSync({ module: new WebAssembly.Module(bytes) });
  const s = glue.Snapshot.fromBytes(snapshotBytes);
  const ms = performance.now() - t0;
  console.log(JSON.stringify({ ms, users: s.stats().users }));
}
else if (what === "deltas") {
  // applyDelta against fromBytes on one snapshot, and what applies and re-bases do to the
  // module's memory (issue 24's targets):
  //   node bench/child.mjs deltas BASE.idl FORWARD.delta BACK.delta APPLIES REBASES [keep|letgo] [MORE]
  // (`letgo`: each re-base frees the current snapshot before loading the next, as the worker
  // does past its MEMORY_BUDGET_BYTES, decision 0016; MORE applies after the re-bases.)
  const [forwardFile, backFile, applies, rebases, mode = "keep", more = "0"] = process.argv.slice(4);
  const glue = await import(join(root, "pkg/index.js"));
  const exports = glue.initSync({ module: new WebAssembly.Module(readFileSync(wasmPath)) });
  const memory = () => exports.memory.buffer.byteLength;
  const base = new Uint8Array(readFileSync(file));
  const [forward, back] = [forwardFile, backFile].map((f) => new Uint8Array(readFileSync(f)));
  const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const start = memory();
  let s = glue.Snapshot.fromBytes(base);
  const loaded = memory();
  const applyMs = [];
  const loadMs = [];
  const at = [];
  for (let i = 0; i < Number(applies); i++) {
    const t = performance.now();
    s.applyDelta(i % 2 === 0 ? forward : back);
    applyMs.push(performance.now() - t);
    at.push(memory());
  }
  // Re-bases as the worker does them: the next snapshot loaded beside the current one, then the
  // current one freed (or, `letgo`, the current one freed first).
  const rebaseAt = [];
  for (let i = 0; i < Number(rebases); i++) {
    if (mode === "letgo") s.free();
    const t = performance.now();
    const next = glue.Snapshot.fromBytes(base);
    loadMs.push(performance.now() - t);
    if (mode !== "letgo") s.free();
    s = next;
    rebaseAt.push(memory());
  }
  for (let i = 0; i < Number(more); i++) s.applyDelta(i % 2 === 0 ? forward : back);
  const after = memory();
  console.log(JSON.stringify({ start, loaded, at, rebaseAt, after, applyMs: median(applyMs), firstApplyMs: applyMs[0], loadMs: median(loadMs) }));
}
