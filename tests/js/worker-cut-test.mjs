// examples/worker when the runtime cuts off a refresh: Workers cancel a request's `waitUntil`
// work 30 s after its response, and a cancelled request's timers and reads never settle
// (github.com/rocicorp/cf-global-state shows a lock held for ever that way). workerd does not
// cut `waitUntil` work (a 40 s timer after the response fires there), so the cut is made here:
// the worker runs in Node (bundled for it, with the built package), its KV is a Map whose reads
// made during the cut never answer (or answer late), and the timers set during the cut never
// fire. Checks: a cold isolate's next request, and a warm isolate's refreshes, are not held by
// the cut refresh for longer than its time (twice READ_TIMEOUT_MS and LET_GO_WAIT_MS); a refresh
// cut off in its manifest's, a delta's or a base's read changes nothing when its reads answer
// after all, and frees the snapshot it had loaded; a re-base cut while it lets the old snapshot
// go (decision 0016) reads and loads nothing when that wait ends; a refresh cut while it reads
// the manifest's head (decision 0012) reports nothing of the head when the head answers.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync, symlinkSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const dir = join(root, "target/worker-cut-test");
const READ_TIMEOUT_MS = 500;
/** When the worker gives a refresh up: twice READ_TIMEOUT_MS and its LET_GO_WAIT_MS (2 s). */
const OVERDUE_MS = 2 * READ_TIMEOUT_MS + 2_000;

// --- The cut: while `cut` is set, timers set are dropped and KV reads are held (with
// `dataOnly`, the reads of the deltas and chunks only: the refresh gets past its manifest).
let cut = false;
let dataOnly = false;
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
    if (cut && !(dataOnly && key === "manifest")) return new Promise((ok) => held.push(() => ok(answer())));
    return Promise.resolve(answer());
  },
};
/** Answers the first `n` reads held (all by default). */
const release = (n = held.length) => {
  for (const answer of held.splice(0, n)) answer();
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
  for (let i = 0; (await health()).loadingSince !== null; i++) {
    assert.ok(i < 400, "a refresh still under way after 2 s");
    await sleep(5);
  }
}
/** Cuts the refresh `start()` begins once it waits for a read: the read is held, its timers dropped. */
async function cutOff(start, { data = false } = {}) {
  const before = held.length;
  [cut, dataOnly] = [true, data];
  const answer = await start();
  for (let i = 0; held.length === before; i++) {
    assert.ok(i < 400, "no read held");
    await sleep(5);
  }
  [cut, dataOnly] = [false, false];
  return answer;
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

let frees = 0;
const states = {};

test("a cut refresh holds neither a cold isolate nor a warm one for longer than its time", { timeout: 60_000 }, async () => {
  const free = api.Snapshot.prototype.free;
  api.Snapshot.prototype.free = function () {
    frees++;
    return free.call(this);
  };
  for (const [name, user, sequence] of [["a", "ann", 1], ["b", "bob", 2], ["c", "cy", 3], ["d", "ann", 4], ["e", "bob", 5]]) states[name] = snapshot(user, sequence);
  const { a, b, c } = states;
  await publish.publishBase(store, a.toBytes());

  // Cold: the first request's refresh is cut in its first read (it and its request never end).
  await cutOff(async () => void get("/engine-rest/task/t1/identity-links"));
  assert.equal(held.length, 1, "the cut refresh's manifest read is held");
  const started = performance.now();
  const cold = await within(assignee(), 2 * OVERDUE_MS, "a cold isolate's request after the cut");
  const waited = performance.now() - started;
  assert.deepEqual(cold, { assignee: "ann", version: a.version });
  assert.ok(waited < OVERDUE_MS + 1_000, `answered after ${waited.toFixed(0)} ms`);
  let h = await health();
  assert.equal(h.abandoned, 1, "the cut refresh given up");
  assert.equal(h.loads, 1, "the base loaded by the refresh begun again");
  assert.equal(h.status, "ok");
  console.log(`a cold isolate's request after a cut refresh answered in ${waited.toFixed(0)} ms (given up after ${OVERDUE_MS} ms)`);

  // Warm: a delta is published, and the refresh that would apply it is cut in its manifest read.
  await publish.publishDelta(store, a.deltaTo(b));
  await idle();
  const stale = held.length;
  assert.deepEqual(await cutOff(polled), { assignee: "ann", version: a.version }, "warm: answered from the state it has");
  assert.equal(held.length, stale + 1, "the warm refresh's manifest read is held");
  // Before its time is up the refresh in flight is shared: still the old state.
  assert.deepEqual(await polled(), { assignee: "ann", version: a.version });
  assert.equal(held.length, stale + 1, "no second refresh");
  assert.notEqual((await health()).loadingSince, null, "the cut refresh is under way");
  await sleep(OVERDUE_MS + 50);
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
});

test("a refresh cut in a delta's or a base's read changes nothing when its reads answer, and frees what it loaded", { timeout: 60_000 }, async () => {
  const { c, d, e } = states;
  // A delta: the refresh reads the manifest, then waits for the delta, cut off.
  await publish.publishDelta(store, c.deltaTo(d));
  await idle();
  await cutOff(polled, { data: true });
  await sleep(OVERDUE_MS + 50);
  await polled(); // gives it up; the refresh begun again applies the delta
  await idle();
  let h = await health();
  assert.equal(h.version, d.version);
  const { applied, abandoned } = h;
  release(); // the delta reaches the refresh given up: it does not apply it (nor refuse it)
  await sleep(50);
  h = await health();
  assert.deepEqual([h.version, h.applied, h.refused, h.lastError], [d.version, applied, null, null]);
  assert.deepEqual(await assignee(), { assignee: "ann", version: d.version });

  // A base: the refresh reads the manifest, then waits for its chunk, cut off; the refresh begun
  // again is cut off in the same place, and the first one's read answers while it waits.
  await publish.publishBase(store, e.toBytes());
  await cutOff(polled, { data: true });
  await sleep(OVERDUE_MS + 50);
  await cutOff(polled, { data: true });
  assert.equal(held.length, 2, "both refreshes wait for the chunk");
  const { loadedAt } = await health();
  const freed = frees;
  release(1);
  await sleep(50);
  h = await health();
  assert.equal(frees, freed + 1, "the snapshot the refresh given up loaded is freed");
  assert.deepEqual([h.version, h.loadedAt], [d.version, loadedAt], "and not put in place");
  assert.notEqual(h.loadingSince, null, "the refresh begun again is still under way");
  assert.equal(h.abandoned, abandoned + 1, "the first given up");
  release();
  await idle();
  assert.deepEqual(await assignee(), { assignee: "bob", version: e.version });
  assert.equal(frees, freed + 2, "the state before it freed");
  for (const s of Object.values(states)) s.free();
});

test("a re-base cut while it lets the old snapshot go loads nothing when the wait ends", { timeout: 60_000 }, async () => {
  const f = (states.f = snapshot("cy", 6));
  const { version: old } = await health();
  // Every re-base lets the old snapshot go first (decision 0016).
  env.MEMORY_BUDGET_BYTES = "1";
  const log = console.log;
  try {
    // A request answering from the old snapshot, its body still coming: the let-go waits for it.
    let body;
    const stream = new ReadableStream({ start: (controller) => void (body = controller) });
    const init = { method: "POST", headers: { "content-type": "application/json" }, body: stream, duplex: "half" };
    const slow = worker.fetch(new Request("http://worker/v2/users/ann/links/_search", init), env, ctx);
    await publish.publishBase(store, f.toBytes());
    const { letGo, loads } = await health();
    // The refresh lets the old snapshot go, and waits for the slow request: its timer is cut, and
    // so is the request that began it (which waits for the new snapshot, and never ends).
    const heldBefore = held.length;
    [cut, dataOnly, env.DELTA_POLL_MS] = [true, true, "1"];
    await sleep(2);
    // (Its health route would wait for the new snapshot too: the let-go is seen in the log.)
    const lettingGo = new Promise((seen) => (console.log = (...args) => (String(args[0]).includes("let go first") ? seen() : undefined, log(...args))));
    void get("/engine-rest/task/t1/identity-links");
    await within(lettingGo, 2_000, "the re-base's let-go");
    await sleep(50);
    // Waiting in the let-go, not reading the base's chunk (which the cut would hold).
    assert.equal(held.length, heldBefore, "the cut re-base waits for the slow request before it reads the base");
    [cut, dataOnly, env.DELTA_POLL_MS] = [false, false, "600000"];
    // The isolate is cold: a request waits for the cut refresh's time, gives it up, and the refresh
    // begun again loads the new base.
    const answer = await within(assignee(), 2 * OVERDUE_MS, "a request after the cut let-go");
    assert.deepEqual(answer, { assignee: "cy", version: f.version });
    let h = await health();
    assert.deepEqual([h.loads, h.letGo, h.abandoned > 0], [loads + 2, letGo + 1, true]);
    // The slow request ends, from the snapshot it began with; the refresh given up, whose wait
    // ends with it, reads and loads nothing.
    const [readsBefore, freesBefore] = [reads, frees];
    body.enqueue(new TextEncoder().encode("{}"));
    body.close();
    const r = await slow;
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get("identity-links-version"), old, "answered from the snapshot it began with");
    await sleep(50);
    h = await health();
    assert.equal(reads, readsBefore, "the refresh given up read no chunk");
    assert.equal(frees, freesBefore, "nor loaded a snapshot to free");
    assert.deepEqual([h.version, h.loads, h.lastError === null || !h.lastError.includes("abandoned")], [f.version, loads + 2, true]);
    assert.deepEqual(await assignee(), { assignee: "cy", version: f.version });
  } finally {
    console.log = log;
    [cut, dataOnly, env.DELTA_POLL_MS, env.MEMORY_BUDGET_BYTES] = [false, false, "600000", ""];
  }
});

test("a refresh cut while it reads the manifest's head reports nothing of the head when the head answers", { timeout: 60_000 }, async () => {
  const { f } = states;
  const g = snapshot("ann", 7);
  // The head (decision 0012) as a Durable Object's stub: it answers with KV's manifest, except a
  // read made during the cut, held and then answered with an error.
  let headReads = 0;
  env.MANIFEST_HEAD = {
    idFromName: (name) => name,
    get: () => ({
      fetch: (url) => {
        headReads++;
        if (cut) return new Promise((ok) => held.push(() => ok(new Response("the head is down", { status: 500 }))));
        const manifest = values.get("manifest")?.toString("utf8") ?? "null";
        return Promise.resolve(new Response(manifest, { headers: { etag: `"${manifest.length}"` } }));
      },
    }),
  };
  env.HEAD_WATCH_MS = "0"; // no watches: each refresh reads the head once
  try {
    await publish.publishDelta(store, f.deltaTo(g));
    const stale = held.length;
    assert.deepEqual(await cutOff(polled), { assignee: "cy", version: f.version });
    assert.equal(held.length, stale + 1, "the head's read is held");
    await sleep(OVERDUE_MS + 50);
    await polled(); // gives it up; the refresh begun again reads the head and applies the delta
    await idle();
    assert.deepEqual(await assignee(), { assignee: "ann", version: g.version });
    let h = await health();
    assert.deepEqual([h.manifestFrom, h.headError], ["durable-object", null]);
    // The held read answers with the head's failure: the refresh given up does not report it,
    // nor read KV's copy instead.
    const [readsBefore, headReadsBefore] = [reads, headReads];
    release();
    await sleep(50);
    h = await health();
    assert.equal(h.headError, null, "the head's failure, reported by a refresh given up");
    assert.equal(reads, readsBefore, "KV's manifest read by a refresh given up");
    assert.equal(headReads, headReadsBefore);
    assert.equal(h.version, g.version);
  } finally {
    delete env.MANIFEST_HEAD;
    delete env.HEAD_WATCH_MS;
    g.free();
    f?.free(); // (absent when the test before failed)
  }
});
