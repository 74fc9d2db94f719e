// Measures what applyDelta costs in wasm memory and time (docs/deltas.md, "Memory"): a snapshot
// of N users (each with a task of four links) and a version of it with K users renamed and
// their tasks reassigned; the deltas both ways are made in this process, then a fresh Node
// process loads the snapshot with fromBytes and applies them, reading the module's memory
// (`WebAssembly.Memory` byteLength) after each step.
//
// Usage: node bench/delta-memory.mjs [N=100000] [K=1000] [applies=50]   (after make build)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const glue = join(import.meta.dirname, "../pkg/node/identity_links.js");

if (process.argv[2] === "--child") {
  const { Snapshot, __memory } = require(glue);
  const dir = process.argv[3];
  const applies = Number(process.argv[4]);
  const [base, forward, back] = ["base", "forward", "back"].map((f) => new Uint8Array(readFileSync(join(dir, f))));
  const mib = () => (__memory().buffer.byteLength / 2 ** 20).toFixed(1);
  const start = mib();
  const s = Snapshot.fromBytes(base);
  const loaded = mib();
  let t = performance.now();
  s.applyDelta(forward);
  const first = performance.now() - t;
  const once = mib();
  s.applyDelta(back);
  const twice = mib();
  t = performance.now();
  for (let i = 0; i < applies; i++) {
    s.applyDelta(forward);
    s.applyDelta(back);
  }
  const each = (performance.now() - t) / (2 * applies);
  console.log(JSON.stringify({ start, loaded, once, twice, after: mib(), first: first.toFixed(1), each: each.toFixed(1) }));
  process.exit(0);
}

const [n = 100_000, k = 1000, applies = 50] = process.argv.slice(2).map(Number);
function snapshot(changed) {
  const users = [];
  const tasks = [];
  for (let u = 0; u < n; u++) {
    users.push({ id: `user-${u}`, firstName: u < changed ? "Renamed" : "Name", lastName: `L${u}` });
    const links = [0, 1, 2, 3].map((j) => ({ userId: `user-${(u + j) % n}`, type: "candidate" }));
    tasks.push({ id: `task-${u}`, assignee: `user-${u < changed ? (u + 1) % n : u}`, identityLinks: links });
  }
  return JSON.stringify({ version: 1, sequence: String(changed), users, tasks });
}
const { Snapshot } = require(glue);
const a = Snapshot.fromJson(snapshot(0));
const b = Snapshot.fromJson(snapshot(k));
const dir = mkdtempSync(join(tmpdir(), "delta-memory-"));
const base = a.toBytes();
const [forward, back] = [a.deltaTo(b), b.deltaTo(a)];
writeFileSync(join(dir, "base"), base);
writeFileSync(join(dir, "forward"), forward);
writeFileSync(join(dir, "back"), back);
const child = spawnSync(process.execPath, [import.meta.filename, "--child", dir, String(applies)], { encoding: "utf8" });
rmSync(dir, { recursive: true });
if (child.status !== 0) throw new Error(child.stderr);
const m = JSON.parse(child.stdout);
console.log(`snapshot: ${n} users, ${n} tasks, ${4 * n} links; binary form ${(base.length / 2 ** 20).toFixed(1)} MiB; deltas of ${k} users and tasks: ${forward.length} and ${back.length} bytes`);
console.log(`wasm memory (MiB): ${m.start} at start, ${m.loaded} after fromBytes, ${m.once} after the first applyDelta, ${m.twice} after the second, ${m.after} after ${2 * applies} more`);
console.log(`applyDelta: ${m.first} ms the first, ${m.each} ms each after (Node ${process.version})`);
