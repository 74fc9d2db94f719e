// examples/worker when the runtime cuts off a refresh: Workers cancel a request's `waitUntil`
// work 30 s after its response, and a cancelled request's timers and reads never settle
// (github.com/rocicorp/cf-global-state shows a lock held for ever that way). workerd does not
// cut `waitUntil` work (a 40 s timer after the response fires there), so the cut is made here:
// the worker runs in Node (bundled for it, with the built package), its KV is a Map whose reads
// made during the cut never answer (or answer late), and the timers set during the cut never
// fire. Checks: a cold isolate's next request, and a warm isolate's refreshes, are not held by
// the cut refresh for longer than twice READ_TIMEOUT_MS; the refresh cut off changes nothing
// when its reads answer after all.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = join(root, "target/worker-cut-test");
const READ_TIMEOUT_MS = 200;

// --- The cut: while `cut` is set, timers set are dropped and KV reads are held.
let cut = false;
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const dropped = { dropped: true };
globalThis.setTimeout = (fn, ms, ...args) => (cut ? dropped : realSetTimeout(fn, ms, ...args));
globalThis.clearTimeout = (timer) => (timer === dropped ? undefined : realClearTimeout(timer));

// --- The fake KV: values in a Map; a read made during the cut is answered (with the value it
// would have had then) only when `release()` is called, if ever.
const values = new Map();
let held = [];
let reads = 0;
const kv = {
  get(key, type) {
    reads++;
    const value = values.get(key);
    const kind = typeof type === "string" ? type : (type?.type ?? "text");
    const answer = () => {
      if (value === undefined) return null;
      if (kind === "json") return JSON.parse(value.toString("utf8"));
      if (kind === "arrayBuffer") return value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength);
      if (kind === "stream") return new Blob([value]).stream();
      return value.toString("utf8");
    };
    if (cut) return new Promise((ok) => held.push(() => ok(answer())));
    return Promise.resolve(answer());
  },
};
const release = () => {
  for (const answer of held) answer();
  held = [];
};
const store = {
  get: async (key) => values.get(key) ?? null,
  put: async (key, bytes) => void values.set(key, Buffer.from(bytes)),
  delete: async (key) => void values.delete(key),
};

let worker;
let publish;
let api;
// DELTA_POLL_MS: no refresh of a warm isolate but those a check asks for (polled()).
const env = { SNAPSHOTS: kv, AUTH: "trusted", READ_TIMEOUT_MS: String(READ_TIMEOUT_MS), DELTA_POLL_MS: "600000", RETRY_MIN_MS: "10000" };
const ctx = { waitUntil() {} };
const get = (path) => worker.fetch(new Request(`http://worker${path}`), env, ctx);
const health = async () => (await get("/.identity-links/health")).json();
/** The assignee the worker answers for task t1, with the version it answers from. */
async function assignee() {
  const r = await get("/engine-rest/task/t1/identity-links");
  assert.equal(r.status, 200, await r.clone().text());
  const links = await r.json();
  return { assignee: links.find((l) => l.type === "assignee")?.userId, version: r.headers.get("identity-links-version") };
}
/** The answer of a request after which a warm isolate refreshes (its poll is due): `assignee()`. */
async function polled() {
  env.DELTA_POLL_MS = "1";
  await sleep(2);
  try {
    return await assignee();
  } finally {
    env.DELTA_POLL_MS = "600000";
  }
}
/** Waits until no refresh is under way (the health route's `loadingSince`). */
async function idle() {
  for (let i = 0; i < 200 && (await health()).loadingSince !== null; i++) await sleep(5);
}
/** `promise`, or a failure naming `what` after `ms`: a request held by the cut refresh. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, fail) => (timer = realSetTimeout(() => fail(new Error(`${what}: no answer after ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => realClearTimeout(timer));
}

/** A snapshot whose task t1 is assigned to `user`. */
function snapshot(user, sequence) {
  const users = ["ann", "bob", "cy"].map((id) => ({ id, firstName: id, lastName: "L" }));
  const tasks = [{ id: "t1", assignee: user, identityLinks: [{ userId: user, type: "assignee" }, { groupId: "sales", type: "candidate" }] }];
  return api.Snapshot.fromObject({ version: 1, sequence, timestamp: new Date().toISOString(), users, tasks });
}

before(async () => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  symlinkSync(join(root, "pkg"), join(dir, "node_modules/identity-links"));
  // As the example is bundled for Workers, but for Node: the package stays an import (its Node
  // entry, which reads its .wasm from its folder).
  const built = spawnSync(join(root, "node_modules/.bin/esbuild"), [join(root, "examples/worker/worker.js"), "--bundle", "--format=esm", "--platform=node", "--external:identity-links", `--outfile=${join(dir, "worker.mjs")}`, "--log-level=warning"], { encoding: "utf8" });
  assert.equal(built.status, 0, built.stderr);
  worker = (await import(pathToFileURL(join(dir, "worker.mjs")).href)).default;
  api = await import(pathToFileURL(join(dir, "node_modules/identity-links/node/index.mjs")).href);
  cpSync(join(root, "examples/worker/publish.mjs"), join(dir, "publish.mjs"));
  publish = await import(pathToFileURL(join(dir, "publish.mjs")).href);
});
after(() => {
  globalThis.setTimeout = realSetTimeout;
  globalThis.clearTimeout = realClearTimeout;
});

test("a cut refresh holds neither a cold isolate nor a warm one for more than twice READ_TIMEOUT_MS", async () => {
  const [a, b, c] = [snapshot("ann", 1), snapshot("bob", 2), snapshot("cy", 3)];
  await publish.publishBase(store, a.toBytes());

  // Cold: the first request's refresh is cut in its first read (it and its request never end).
  cut = true;
  void get("/engine-rest/task/t1/identity-links");
  await sleep(20);
  cut = false;
  assert.equal(held.length, 1, "the cut refresh's manifest read is held");
  const started = performance.now();
  const cold = await within(assignee(), 20 * READ_TIMEOUT_MS, "a cold isolate's request after the cut");
  const waited = performance.now() - started;
  assert.deepEqual(cold, { assignee: "ann", version: a.version });
  assert.ok(waited < 10 * READ_TIMEOUT_MS, `answered after ${waited.toFixed(0)} ms`);
  let h = await health();
  assert.equal(h.abandoned, 1, "the cut refresh given up");
  assert.equal(h.loads, 1, "the base loaded by the refresh begun again");
  assert.equal(h.status, "ok");
  console.log(`a cold isolate's request after a cut refresh answered in ${waited.toFixed(0)} ms (READ_TIMEOUT_MS ${READ_TIMEOUT_MS})`);

  // Warm: a delta is published, and the refresh that would apply it is cut in its manifest read.
  await publish.publishDelta(store, a.deltaTo(b));
  await idle();
  const stale = held.length;
  cut = true;
  assert.deepEqual(await polled(), { assignee: "ann", version: a.version }, "warm: answered from the state it has");
  cut = false;
  assert.equal(held.length, stale + 1, "the warm refresh's manifest read is held");
  // Before its time is up the refresh in flight is shared: still the old state.
  assert.deepEqual(await polled(), { assignee: "ann", version: a.version });
  assert.equal(held.length, stale + 1, "no second refresh");
  assert.notEqual((await health()).loadingSince, null, "the cut refresh is under way");
  await sleep(2 * READ_TIMEOUT_MS + 50);
  // Past it, a request gives it up and begins another, which applies the delta.
  await polled();
  await idle();
  assert.deepEqual(await assignee(), { assignee: "bob", version: b.version }, "the delta applied by the refresh begun again");
  h = await health();
  assert.equal(h.abandoned, 2);
  assert.equal(h.applied, 1);

  // The cut refreshes' reads answer after all (the manifests they would have read, of a): they
  // change nothing, fail nothing, and a later delta still applies.
  const failuresBefore = h.lastError;
  release();
  await sleep(50);
  h = await health();
  assert.equal(h.version, b.version, "the late refreshes did not move the state");
  assert.equal(h.lastError, failuresBefore, "nor report a failure of their own");
  assert.equal(h.loads, 1, "nor load a base");
  await publish.publishDelta(store, b.deltaTo(c));
  await polled();
  await idle();
  assert.deepEqual(await assignee(), { assignee: "cy", version: c.version });
  assert.ok(reads > 0);
  for (const s of [a, b, c]) s.free();
});
