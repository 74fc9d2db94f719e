// One scenario of tests/js/memory-test.mjs in a process of its own (wasm memory never shrinks, so
// each scenario needs a fresh module): prints one line, `MEMORY <json>`, with memoryUsage()'s
// figures in bytes.
//
// Usage: node tests/js/memory-child.mjs rebase|rebase-answering|failed <big snapshot> <small snapshot> (binary forms)
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { Snapshot, handleRequest, memoryUsage } = createRequire(import.meta.url)(join(root, "pkg/node/index.cjs"));

/** A stream of `bytes` in 64 KiB chunks that fails after `limit` bytes when `limit` is short. */
function streamOf(bytes, limit = bytes.length) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= limit) return limit < bytes.length ? controller.error(new Error("the read failed")) : controller.close();
      const n = Math.min(65536, limit - at);
      controller.enqueue(bytes.slice(at, at + n));
      at += n;
    },
  });
}

const wasm = () => memoryUsage().wasmBytes;
const [scenario, bigFile, smallFile] = process.argv.slice(2);
const big = readFileSync(bigFile);
const small = readFileSync(smallFile);
const out = { big: big.length, small: small.length, start: wasm() };
/**
 * A request on `snapshot` whose body waits until `open()` is called: `{ open, answer, want }`
 * (`answer`, the promise of its text; `want`, what the snapshot answers it directly).
 */
async function waitingRequest(snapshot) {
  const user = "idp-heavy"; // bench/generate.mjs's user with 10,000 IdP links
  const want = snapshot.listIdpLinksJson({ userId: user, query: { limit: 2 } });
  let open;
  const body = new ReadableStream({
    async pull(c) {
      await new Promise((r) => (open = r));
      c.enqueue(new TextEncoder().encode('{"query":{"limit":2}}'));
      c.close();
    },
  });
  const request = new Request(`http://x/v2/users/${user}/links/_search`, { method: "POST", body, duplex: "half" });
  const answer = handleRequest(snapshot, request, undefined, { auth: "trusted" }).then((r) => r.text());
  while (open === undefined) await new Promise((r) => setTimeout(r, 1));
  return { open, answer, want };
}

if (scenario === "rebase" || scenario === "rebase-answering") {
  // Re-bases as the worker makes them: the new snapshot loads while the old one answers, and
  // the old one is freed once the new one is in place. Two sizes alternating. With
  // "rebase-answering", each while a request waits for its body on the snapshot being replaced:
  // free() on it is deferred until that request ends (pkg-template/api.js), which must still
  // answer from it, and then released; the objects stay reachable, so only free() releases them.
  const answering = scenario === "rebase-answering";
  const kept = [];
  out.wrong = [];
  let current = await Snapshot.fromStream(streamOf(big));
  if (answering) kept.push(current);
  out.after = [wasm()];
  for (let i = 0; i < 8; i++) {
    for (const bytes of [small, big]) {
      const waiting = answering ? await waitingRequest(current) : null;
      const next = await Snapshot.fromStream(streamOf(bytes));
      if (answering) kept.push(next);
      current.free();
      current = next;
      if (waiting !== null) {
        waiting.open();
        const got = await waiting.answer;
        if (got !== waiting.want) out.wrong.push(`re-base ${out.after.length}: ${got.slice(0, 100)} (want ${waiting.want.slice(0, 100)})`);
      }
      out.after.push(wasm());
    }
  }
  current.free();
} else if (scenario === "failed") {
  // Loads whose stream fails after its first 64 KiB, then a whole load.
  out.failed = [];
  for (let i = 0; i < 3; i++) {
    const error = await Snapshot.fromStream(streamOf(big, 65536)).then(() => null, (e) => e);
    if (error === null) throw new Error("a load that failed part-way resolved");
    out.failed.push(wasm());
  }
  const whole = await Snapshot.fromStream(streamOf(big));
  out.loaded = wasm();
  whole.free();
} else {
  throw new Error(`unknown scenario ${scenario}: rebase or failed`);
}
console.log(`MEMORY ${JSON.stringify(out)}`);
