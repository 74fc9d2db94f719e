// The module's memory over re-bases and failed loads (issue 24), read with memoryUsage(): a
// re-base needs at most the old and the new snapshot together and does not grow memory across
// re-bases (also when the snapshot freed is still answering a request: its release waits for it);
// a load that fails part-way takes less than a snapshot and gives it back to the next
// load. Each scenario runs in a process of its own (tests/js/memory-child.mjs); sizes are
// bench/generate.mjs's S (about 2.8 MB binary) and XS (about 1 MB).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { generate } from "../../bench/generate.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, "../..");
const child = join(here, "memory-child.mjs");
const { Snapshot } = createRequire(import.meta.url)(join(root, "pkg/node/index.cjs"));

// The inputs are made here, so that the children's memory holds only what their loads took.
const scratch = join(root, "target/memory-test");
mkdirSync(scratch, { recursive: true });
const files = ["S", "XS"].map((scale) => {
  const s = Snapshot.fromObject(generate(scale));
  const file = join(scratch, `${scale}.idl`);
  writeFileSync(file, s.toBytes());
  s.free();
  return file;
});

function run(scenario) {
  const r = spawnSync(process.execPath, [child, scenario, ...files], { encoding: "utf8", timeout: 120_000 });
  const line = `${r.stdout}`.split("\n").find((l) => l.startsWith("MEMORY "));
  assert.ok(line, `no figures from ${scenario} (exit ${r.status}):\n${r.stdout}${r.stderr}`);
  return JSON.parse(line.slice("MEMORY ".length));
}

const MiB = (n) => `${(n / 1048576).toFixed(2)} MiB`;

test("re-bases with two sizes alternating: at most 2× the snapshot, and no growth across re-bases", () => {
  const m = run("rebase");
  const figures = m.after.map(MiB).join(" → ");
  // The first re-bases (old and new together, the allocator's free lists taking shape: two with
  // dlmalloc, four with Talc, docs/decisions/0011) may grow memory; after that every one of the
  // last twelve re-bases fits in the room the freed snapshots left.
  const WARM = 4;
  assert.ok(m.after.length >= WARM + 12, `16 re-bases measured: ${figures}`);
  const settled = m.after[WARM];
  for (const [i, bytes] of m.after.entries()) {
    if (i >= WARM) assert.equal(bytes, settled, `memory grew at re-base ${i}: ${figures}`);
  }
  // Peak: both snapshots at once, never more (memory never shrinks, so the last figure is the peak).
  const peak = m.after.at(-1) - m.start;
  assert.ok(peak <= 2 * m.big + (1 << 20), `peak growth ${MiB(peak)} over 2 × ${MiB(m.big)}: ${figures}`);
});

test("re-bases, each freeing a snapshot a request is still answering from: the request answers, the snapshot is released after it", () => {
  const m = run("rebase-answering");
  const figures = m.after.map(MiB).join(" → ");
  assert.deepEqual(m.wrong, [], "every request under way answered from the snapshot it started on");
  // As above: were free() not deferred the requests would fail; were the deferred snapshots never
  // released, every re-base would add one (each is kept reachable, so only free() releases it).
  const WARM = 4;
  assert.ok(m.after.length >= WARM + 12, `16 re-bases measured: ${figures}`);
  const settled = m.after[WARM];
  for (const [i, bytes] of m.after.entries()) {
    if (i >= WARM) assert.ok(bytes - settled <= m.small / 2, `memory grew at re-base ${i}: ${figures}`);
  }
});

test("a load that fails part-way takes less than a snapshot, and the next attempts reuse it", () => {
  const m = run("failed");
  const figures = `${MiB(m.start)} → ${m.failed.map(MiB).join(" → ")}, then loaded ${MiB(m.loaded)}`;
  assert.ok(m.failed[0] - m.start < 0.75 * m.big, `a load failing after 64 KiB grew memory by ${MiB(m.failed[0] - m.start)} of a ${MiB(m.big)} snapshot: ${figures}`);
  assert.equal(m.failed[2], m.failed[0], `failed loads grew memory: ${figures}`);
  assert.ok(m.loaded - m.start <= m.big + (1 << 20), `a whole load after failed ones needs more than the snapshot: ${figures}`);
});
