// identity-links as a Cloudflare Worker / workerd service: Camunda's and Zitadel's routes,
// answered from a snapshot in wasm memory, within the platform's limits (README, "Deploying";
// examples/worker/README.md for the setup; decision 0009 for the storage).
//
// - The base lives in Workers KV as chunks of at most 25 MiB (a KV value's limit) under a
//   manifest, written last by publish.mjs. An isolate streams the chunks, one after the other,
//   into Snapshot.fromStream: never held whole in the JS heap.
// - Deltas (decision 0010): the manifest also lists the chain of deltas after its base, each under
//   a key named by the versions it joins. A warm isolate re-reads the manifest every
//   DELTA_POLL_MS (in the background of a request) and applies the deltas from its snapshot's
//   version to the newest, in order, in place (applyDelta). A refused delta (DeltaError: another
//   base, damaged) keeps the last good state, is reported on the health route, and the next
//   attempt (after the backoff) re-bases from the manifest's base; so does a manifest whose chain
//   does not start from the isolate's version (a gap, or a new base whose bridge does not either:
//   decision 0017, a new base lists the deltas to it from the states published before it). A
//   request after an idle
//   spell (no read for STALE_AFTER_MS) waits for the refresh, up to STALE_WAIT_MS, instead of
//   answering from the old state.
// - One load or apply at a time per isolate, whatever the number of requests (single flight); the
//   isolate keeps answering from the snapshot it has; on a re-base the old one is freed once the
//   new one is in place, after the requests still answering from it (the package defers free()).
//   A re-base needs the two together at most, and does not grow wasm memory across re-bases
//   (docs/scaling.md). Where the two together would pass MEMORY_BUDGET_BYTES of wasm memory
//   (100 MiB; an isolate has 128 MB), the old one is let go first: requests wait for the new
//   one as on a cold isolate, and a load that fails then leaves the isolate answering 503 until a
//   later attempt succeeds (docs/scaling.md, "Re-bases within the budget").
// - A manifest or chunk that is absent, damaged or stalled (READ_TIMEOUT_MS) keeps the last good
//   snapshot on a warm isolate (unless a re-base let it go, above); a cold one answers each
//   peer's 503 (handleRequest's `unavailable`). Failed reads back off (1 s doubling to 60 s): no
//   read storm. A refresh the runtime cut off (its timers never fire) is given up after twice
//   READ_TIMEOUT_MS (and LET_GO_WAIT_MS) and begun again (loadOverdue); what a load cut off had
//   built in wasm memory stays there (nothing can reach it to free it).
// - The manifest's head (decision 0012): with a Durable Object bound as MANIFEST_HEAD (the class
//   ManifestHead below), the manifest is read from it instead of KV: strongly consistent, so a
//   new manifest is seen in every location at once (watched, below) instead of after KV's
//   cacheTtl (30-60 s). publish.mjs --head writes it through PUT /.identity-links/manifest with
//   the PUBLISH_TOKEN secret, then copies it to KV's manifest key, which the worker reads while
//   the object fails; the base's chunks and the deltas stay in KV under the same keys. A warm
//   isolate watches the head instead of polling it (decision 0013): one request held by the
//   object until a new manifest is put or HEAD_WATCH_MS pass, so a publication reaches an isolate
//   that has requests within a round trip rather than at its next poll.
// - Every answer says which version it comes from and how old its data is (headers
//   identity-links-version and identity-links-age); GET /.identity-links/health says it as JSON.
// - Callers are verified (AuthOptions from the environment) unless AUTH = "trusted" says the
//   worker sits behind a gateway of yours; with neither, it refuses to serve (500).
// - The bundled sample is served only when DEMO = "sample" is set.
import { Snapshot, handleRequest, memoryUsage } from "identity-links";
import sample from "./snapshot.json";

/** The health route: off the peers' paths (no Camunda or Zitadel route starts with a dot). */
const HEALTH_PATH = "/.identity-links/health";
/** The publishing route of the manifest's head (MANIFEST_HEAD and PUBLISH_TOKEN): GET and PUT. */
const HEAD_PATH = "/.identity-links/manifest";
/** How long a read of the head may take before KV's copy of the manifest is read instead. */
const HEAD_READ_TIMEOUT_MS = 5_000;
/** The longest a watch of the head may be held (HEAD_WATCH_MS at most): the watch, with
 * HEAD_READ_TIMEOUT_MS for the head's answer, must end within the 30 s after its request's
 * response that Workers give `waitUntil` work. */
const HEAD_WATCH_MAX_MS = 20_000;
/** The largest manifest the head keeps: a Durable Object's stored value is at most 128 KiB. */
const MANIFEST_MAX_BYTES = 128 * 1024;
/** The shortest PUBLISH_TOKEN accepted: 32 characters (e.g. `openssl rand -hex 32` gives 64). */
const TOKEN_MIN_LENGTH = 32;
/** What publish.mjs writes: the manifest's format. */
const MANIFEST_FORMAT = "identity-links-base/1";
/** A Workers KV value's limit: every chunk must fit. */
const KV_VALUE_LIMIT = 25 * 1024 * 1024;

const DEFAULTS = { MANIFEST_KEY: "manifest", DELTA_POLL_MS: 2_000, HEAD_WATCH_MS: 15_000, STALE_AFTER_MS: 30_000, STALE_WAIT_MS: 1_000, READ_TIMEOUT_MS: 30_000, RETRY_MIN_MS: 1_000, RETRY_MAX_MS: 60_000, MEMORY_BUDGET_BYTES: 100 * 1024 * 1024, LET_GO_WAIT_MS: 2_000 };
/** The 503's message (the same for every cause: the details are for the health route and logs). */
const UNAVAILABLE = "identity-links: no identity snapshot is loaded yet; try again shortly";

/** This isolate's state. */
const state = {
  snapshot: null,
  version: null, // snapshot.version: the version answered from
  timestamp: null, // the snapshot's own timestamp (when the newest applied change was exported)
  base: null, // the version of the base loaded last
  loadedAt: null, // when the base was loaded
  changedAt: null, // when the newest delta was applied (or the base loaded)
  checkedAt: 0, // when the manifest was last read successfully (or a watch of the head found it unchanged)
  loading: null, // the load or apply in flight: every request shares it
  loadingSince: 0, // when it began
  refreshes: 0, // refreshes begun: the one in flight is the one whose number this is
  abandoned: 0, // refreshes given up as cut off by the runtime (loadOverdue)
  failures: 0,
  retryAt: 0, // no read before this (backoff after failures)
  lastError: null,
  rebase: false, // a delta was refused: the next attempt loads the manifest's base
  refused: null, // the last refused delta: { key, message, at }
  loads: 0, // base loads begun (for the health route and the tests)
  letGo: 0, // re-bases that let the old snapshot go first (over MEMORY_BUDGET_BYTES)
  applied: 0, // deltas applied
  polls: 0, // manifest reads
  manifestFrom: null, // where the manifest was read last: "durable-object" or "kv"
  headError: null, // the head's last failure ({ message, at }), null once it answers again
  headEtag: null, // the head's ETag of the manifest the isolate is at (null: not read from the head)
  watch: null, // the watch of the head in flight, { id, startedAt } (decision 0013)
  watches: 0, // watches begun
  headChanged: false, // a watch found a new manifest: the next request refreshes
};
/** A snapshot with nothing in it: carries `unavailable` answers (it reads no data). */
let carrier = null;

/** A number from the environment, or its default. */
function setting(env, name) {
  const value = env[name];
  if (value === undefined || value === "") return DEFAULTS[name];
  const n = Number(value);
  if (name === "MANIFEST_CACHE_TTL") {
    if (!Number.isInteger(n) || n < 30) throw new ConfigError(`${name} must be a whole number of seconds, at least 30 (Workers KV's minimum cacheTtl), found ${JSON.stringify(value)}`);
    return n;
  }
  if (name === "MEMORY_BUDGET_BYTES") {
    if (!Number.isInteger(n) || n < 0) throw new ConfigError(`${name} must be a whole number of bytes, found ${JSON.stringify(value)}`);
    return n;
  }
  if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${name} must be a number of milliseconds, found ${JSON.stringify(value)}`);
  if (name === "HEAD_WATCH_MS" && n > HEAD_WATCH_MAX_MS) throw new ConfigError(`${name} must be at most ${HEAD_WATCH_MAX_MS} (a watch is held within a request's lifetime), found ${JSON.stringify(value)}`);
  return n;
}

class ConfigError extends Error {}

/** handleRequest's options from the environment, `{ normal, unavailable }`; memoized per env object. */
const optionsByEnv = new WeakMap();
function handlerOptions(env) {
  let options = optionsByEnv.get(env);
  if (options) return options;
  // Every number checked at the first request, not at the first use of each.
  for (const name of [...Object.keys(DEFAULTS), "MANIFEST_CACHE_TTL"]) if (name !== "MANIFEST_KEY") setting(env, name);
  const list = (v) => String(v).split(",").map((s) => s.trim()).filter(Boolean);
  if (env.AUTH === "trusted") {
    options = { auth: "trusted" };
  } else if (env.AUTH !== undefined && env.AUTH !== "") {
    throw new ConfigError(`AUTH must be "trusted" or unset, found ${JSON.stringify(env.AUTH)}`);
  } else {
    const auth = {};
    if (env.ZITADEL_ISSUER) {
      if (!env.ZITADEL_AUDIENCE) throw new ConfigError("ZITADEL_ISSUER needs ZITADEL_AUDIENCE (the project or client ids a token's aud must contain)");
      auth.zitadel = { issuer: env.ZITADEL_ISSUER, audience: list(env.ZITADEL_AUDIENCE) };
      if (env.ZITADEL_JWKS_URI) auth.zitadel.jwksUri = env.ZITADEL_JWKS_URI;
      if (env.ZITADEL_CLIENT_ID && env.ZITADEL_CLIENT_SECRET) {
        auth.zitadel.introspection = { clientId: env.ZITADEL_CLIENT_ID, clientSecret: env.ZITADEL_CLIENT_SECRET };
      }
    }
    if (env.CAMUNDA_ZITADEL_CLAIM) {
      // The claim is read from a token Zitadel's settings verify: alone, it could verify nothing.
      if (!auth.zitadel) throw new ConfigError("CAMUNDA_ZITADEL_CLAIM needs ZITADEL_ISSUER and ZITADEL_AUDIENCE (the claim is read from a token verified with them)");
      auth.camunda = { zitadelClaim: env.CAMUNDA_ZITADEL_CLAIM };
    }
    if (Object.keys(auth).length === 0) {
      throw new ConfigError('no authentication configured: set ZITADEL_ISSUER and ZITADEL_AUDIENCE (and CAMUNDA_ZITADEL_CLAIM for Camunda\'s routes), or AUTH = "trusted" behind a gateway of yours');
    }
    options = { auth };
  }
  // The same options with `unavailable`, for a cold isolate without a snapshot.
  options = { normal: options, unavailable: { ...options, unavailable: UNAVAILABLE } };
  optionsByEnv.set(env, options);
  return options;
}

/** The manifest, checked: `{ version, size, checksum, chunks: [{ key, size }], ... }`. */
function checkManifest(m) {
  const bad = (why) => new Error(`the manifest ${why}`);
  if (m === null) throw bad("is absent");
  if (typeof m !== "object" || m.format !== MANIFEST_FORMAT) throw bad(`is not ${MANIFEST_FORMAT}`);
  if (typeof m.version !== "string" || m.version === "") throw bad("has no version");
  if (!/^[0-9a-f]{16}$/.test(m.checksum ?? "")) throw bad("has no checksum");
  if (!Array.isArray(m.chunks) || m.chunks.length === 0) throw bad("lists no chunks");
  let total = 0;
  for (const c of m.chunks) {
    if (typeof c?.key !== "string" || !Number.isInteger(c.size) || c.size <= 0 || c.size > KV_VALUE_LIMIT) throw bad(`lists a bad chunk: ${JSON.stringify(c)}`);
    total += c.size;
  }
  if (total !== m.size) throw bad(`says ${m.size} bytes, its chunks ${total}`);
  const checkDeltas = (list, what) => {
    if (!Array.isArray(list)) throw bad(`has ${what} that are not a list`);
    for (const d of list) {
      if (typeof d?.key !== "string" || !Number.isInteger(d.size) || d.size <= 0 || d.size > KV_VALUE_LIMIT || !/^[0-9a-f]{16}$/.test(d.to ?? "") || !/^[0-9a-f]{16}$/.test(d.from ?? "")) throw bad(`lists a bad delta: ${JSON.stringify(d)}`);
    }
    return list;
  };
  // A chain with a gap is not refused here: the isolate re-bases past it (see `refresh`).
  m.deltas = checkDeltas(m.deltas ?? [], "deltas");
  // The bridge (decision 0017): deltas from states published before this base to it.
  m.bridge = checkDeltas(m.bridge ?? [], "bridge deltas");
  if (m.bridge.length > 0 && m.bridge.at(-1).to !== m.checksum) throw bad("has a bridge that does not lead to its base");
  m.newest = m.deltas.at(-1)?.to ?? m.checksum;
  return m;
}

/** The Durable Object holding the manifest: one per manifest key. */
function headOf(env) {
  return env.MANIFEST_HEAD.get(env.MANIFEST_HEAD.idFromName(env.MANIFEST_KEY || DEFAULTS.MANIFEST_KEY));
}

/** The head is reachable and holds nothing: nothing was published through it (no fallback then). */
class EmptyHeadError extends Error {}

/** The manifest in the head: `{ manifest, etag }` (its JSON and the head's ETag of it). */
async function readHead(env) {
  const r = await headOf(env).fetch("https://head" + HEAD_PATH);
  if (!r.ok) throw new Error(`the manifest head answered ${r.status}: ${await r.text()}`);
  const manifest = await r.json();
  if (manifest === null) throw new EmptyHeadError("the manifest head holds no manifest yet: publish with publish.mjs --head");
  return { manifest, etag: r.headers.get("etag") };
}

/**
 * Whether the head's manifest is another than `etag`'s: asked with `If-None-Match` and
 * `Prefer: wait=`, which the head holds until a new manifest is put or `ms` pass (then 304).
 */
async function watchHead(env, etag, ms) {
  const headers = { "if-none-match": etag, prefer: `wait=${Math.ceil(ms / 1000)}` };
  const r = await within(headOf(env).fetch("https://head" + HEAD_PATH, { headers }), ms + HEAD_READ_TIMEOUT_MS, "watching the manifest head");
  await r.body?.cancel();
  if (r.status === 304) return false;
  if (!r.ok) throw new Error(`the manifest head answered ${r.status} to a watch`);
  return true;
}

/**
 * Keeps one watch of the head in flight on a warm isolate that is at the head's manifest (read
 * from the head by the last refresh, which succeeded). When the head answers that the manifest
 * changed, the refresh starts at once if the watch began less than HEAD_READ_TIMEOUT_MS before
 * (a manifest published while no watch was held: the request that started the watch has its
 * time ahead of it, as a poll's would), else with the next request (in that request's own
 * lifetime: a refresh begun at the end of a long watch could be cut off by Workers' 30 s limit
 * on `waitUntil` work). When it answers that nothing changed, the isolate counts as checked now.
 * A failed watch is reported as the head's error, and the isolate polls (DELTA_POLL_MS) until a
 * refresh reads the head again. The watch is the request's `waitUntil` work, and ends within
 * HEAD_WATCH_MS plus HEAD_READ_TIMEOUT_MS; one that has not ended by then (its request's work cut
 * off) no longer counts.
 */
function startWatch(env, ctx) {
  const ms = setting(env, "HEAD_WATCH_MS");
  if (watching(env) || state.loading || !env.MANIFEST_HEAD || state.headEtag === null || ms === 0) return;
  const etag = state.headEtag;
  const id = ++state.watches;
  const startedAt = Date.now();
  // Not this watch's to act on: another has started, or a refresh moved on meanwhile.
  const stale = () => state.watch?.id !== id || state.headEtag !== etag;
  const promise = watchHead(env, etag, ms)
    .then((changed) => {
      if (stale()) return;
      if (!changed) {
        state.checkedAt = Date.now();
        return;
      }
      Object.assign(state, { headEtag: null, headChanged: true }); // a refresh clears the flag
      if (Date.now() - startedAt < HEAD_READ_TIMEOUT_MS) return startRefresh(env, ctx);
    })
    .catch((e) => {
      if (stale()) return;
      state.headEtag = null;
      state.headError = { message: String(e?.message ?? e), at: new Date().toISOString() };
      console.error(`identity-links: watching the manifest head failed, polling instead: ${state.headError.message}`);
    })
    .finally(() => {
      if (state.watch?.id === id) state.watch = null;
    });
  state.watch = { id, startedAt };
  ctx?.waitUntil?.(promise);
}

/** Whether a watch of the head is in flight and within its time. */
function watching(env) {
  return state.watch !== null && Date.now() - state.watch.startedAt < setting(env, "HEAD_WATCH_MS") + HEAD_READ_TIMEOUT_MS;
}

/**
 * The manifest's JSON (null when absent) and where it was read, `{ manifest, from }`, by
 * `deadline`: from the head when bound; from KV's manifest key otherwise, or when the head fails
 * (unreachable, erroring, slower than HEAD_READ_TIMEOUT_MS): publish.mjs --head writes KV's copy
 * after the head's, so the isolates keep loading and following, KV's freshness instead of the
 * head's, until the head answers again (`headError` on the health route meanwhile).
 */
async function readManifest(env, cacheTtl, deadline, current) {
  if (env.MANIFEST_HEAD) {
    const read = await within(readHead(env), Math.min(HEAD_READ_TIMEOUT_MS, deadline - Date.now()), "reading the manifest head").then(
      (head) => ({ head }),
      (error) => ({ error }),
    );
    current(); // a refresh given up meanwhile reports nothing of the head
    if (read.head) {
      state.headError = null;
      return { ...read.head, from: "durable-object" };
    }
    const e = read.error;
    if (e instanceof EmptyHeadError) throw e; // KV's key may hold a manifest from before the head
    state.headError = { message: String(e?.message ?? e), at: new Date().toISOString() };
    console.error(`identity-links: the manifest head failed, reading KV's copy: ${state.headError.message}`);
  }
  // KV caches a read in the location for cacheTtl seconds (60 by default, 30 at least): how
  // late a new manifest may be seen where it was read before (decision 0010).
  const options = cacheTtl === undefined ? { type: "json" } : { type: "json", cacheTtl };
  const manifest = await within(env.SNAPSHOTS.get(env.MANIFEST_KEY || DEFAULTS.MANIFEST_KEY, options), deadline - Date.now(), "reading the manifest");
  return { manifest, etag: null, from: "kv" };
}

/** Waits for `promise` (which never rejects), or `ms`, whichever comes first. */
function atMost(promise, ms) {
  let timer;
  return Promise.race([promise, new Promise((ok) => (timer = setTimeout(ok, ms)))]).finally(() => clearTimeout(timer));
}

/** `promise`, or a rejection after `ms` (then `onTimeout` runs). */
function within(promise, ms, what, onTimeout) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new Error(`${what} took longer than ${ms} ms`));
    }, ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The chunks listed by `manifest`, one after the other, as one byte stream: each chunk is read
 * from KV as a stream and passed on as it arrives, its size and the form's closing checksum
 * checked against the manifest. The whole read must end by `deadline`.
 */
function chunkStream(kv, manifest, deadline) {
  let index = 0;
  let reader = null;
  let seen = 0;
  let tail = new Uint8Array(0); // the last bytes seen: the binary form ends with its checksum
  const left = () => Math.max(0, deadline - Date.now());
  return new ReadableStream({
    async pull(controller) {
      for (;;) {
        if (reader === null) {
          if (index === manifest.chunks.length) {
            const hex = Array.from(tail.slice(-8), (b) => b.toString(16).padStart(2, "0")).reverse().join("");
            if (hex !== manifest.checksum) throw new Error(`the chunks end with checksum ${hex}, the manifest says ${manifest.checksum}`);
            controller.close();
            return;
          }
          const { key } = manifest.chunks[index];
          const body = await within(kv.get(key, "stream"), left(), `reading chunk ${key}`);
          if (body === null) throw new Error(`chunk ${key} is absent`);
          reader = body.getReader();
          seen = 0;
        }
        const chunk = manifest.chunks[index];
        const next = await within(reader.read(), left(), `reading chunk ${chunk.key}`, () => reader.cancel().catch(() => {}));
        if (next.done) {
          if (seen !== chunk.size) throw new Error(`chunk ${chunk.key} has ${seen} bytes, the manifest says ${chunk.size}`);
          reader = null;
          index++;
          continue;
        }
        const bytes = next.value;
        seen += bytes.length;
        if (seen > chunk.size) throw new Error(`chunk ${chunk.key} is longer than the manifest's ${chunk.size} bytes`);
        // The last 8 bytes so far (the binary form ends with its checksum, little-endian).
        const keep = Math.min(8, tail.length + bytes.length);
        const fromBytes = Math.min(bytes.length, keep);
        const joined = new Uint8Array(keep);
        joined.set(tail.subarray(tail.length - (keep - fromBytes)), 0);
        joined.set(bytes.subarray(bytes.length - fromBytes), keep - fromBytes);
        tail = joined;
        controller.enqueue(bytes);
        return;
      }
    },
    cancel() {
      reader?.cancel().catch(() => {});
    },
  });
}

/** The deltas of `manifest` that lead from `version` to its newest, in order; null when none do. */
function chainFrom(manifest, version) {
  // The bridge leads from states published before the base to it, the chain on from there.
  const all = [...manifest.bridge, ...manifest.deltas];
  const first = all.findLastIndex((d) => d.from === version);
  if (first < 0) return null;
  const path = all.slice(first);
  for (let i = 1; i < path.length; i++) if (path[i].from !== path[i - 1].to) return null; // a gap
  return path;
}

/** A delta's bytes from KV (whole: applyDelta takes them at once), its size checked. */
async function readDelta(kv, entry, deadline) {
  const bytes = await within(kv.get(entry.key, "arrayBuffer"), Math.max(0, deadline - Date.now()), `reading delta ${entry.key}`);
  if (bytes === null) throw new Error(`delta ${entry.key} is absent`);
  if (bytes.byteLength !== entry.size) throw new Error(`delta ${entry.key} has ${bytes.byteLength} bytes, the manifest says ${entry.size}`);
  return new Uint8Array(bytes);
}

/**
 * Applies `path` to `snapshot` in place, one delta after the other: `current` (which throws if
 * the refresh was given up) before each, `onApplied` after.
 */
async function applyChain(kv, snapshot, path, deadline, current, onApplied) {
  for (const entry of path) {
    const bytes = await readDelta(kv, entry, deadline);
    current();
    try {
      snapshot.applyDelta(bytes); // synchronous: no request sees half of it
    } catch (e) {
      if (e?.name !== "IdentityError" || e.body?.type !== "DeltaError") throw e;
      // The snapshot is unchanged (applyDelta's contract); the next attempt re-bases.
      state.rebase = true;
      state.refused = { key: entry.key, message: e.message, at: new Date().toISOString() };
      throw new Error(`delta ${entry.key} refused: ${e.message}`);
    }
    onApplied();
  }
}

/**
 * Reads the manifest and brings the isolate to its newest version: the deltas from the
 * snapshot's version when the bridge and the chain have them, else (a gap, a new base with no
 * bridge from it, a refused delta before) its base and then its whole chain. The single
 * flight's body.
 */
async function refresh(env, id) {
  const deadline = Date.now() + setting(env, "READ_TIMEOUT_MS");
  const kv = env.SNAPSHOTS;
  // After each wait: a refresh given up meanwhile (abandon) stops before it changes the state.
  const current = () => {
    if (state.refreshes !== id) throw new Error("abandoned: another refresh took over");
  };
  state.polls++;
  state.headEtag = null; // watched again only once this refresh has succeeded
  state.headChanged = false;
  const read = await readManifest(env, setting(env, "MANIFEST_CACHE_TTL"), deadline, current);
  current();
  const manifest = checkManifest(read.manifest);
  state.manifestFrom = read.from;
  const settle = (snapshot) => Object.assign(state, { version: snapshot.version, timestamp: snapshot.timestamp, changedAt: Date.now() });
  if (state.snapshot !== null && state.version === manifest.newest) {
    state.rebase = false; // up to date
  } else if (state.snapshot !== null && !state.rebase && chainFrom(manifest, state.version) !== null) {
    await applyChain(kv, state.snapshot, chainFrom(manifest, state.version), deadline, current, () => {
      state.applied++;
      settle(state.snapshot);
    });
  } else {
    state.loads++;
    const wasm = memoryUsage().wasmBytes;
    if (state.snapshot !== null && wasm + manifest.size > setting(env, "MEMORY_BUDGET_BYTES")) {
      console.log(`identity-links: re-base to ${manifest.checksum}: the old snapshot let go first (wasm memory ${wasm} bytes and the base's ${manifest.size} over MEMORY_BUDGET_BYTES ${setting(env, "MEMORY_BUDGET_BYTES")})`);
      await letGo(env);
      current();
    }
    const next = await Snapshot.fromStream(chunkStream(kv, manifest, deadline));
    try {
      current();
      if (next.version !== manifest.checksum) throw new Error(`the base loaded as version ${next.version}, the manifest says ${manifest.checksum}`);
      await applyChain(kv, next, manifest.deltas, deadline, current, () => state.applied++);
      current();
    } catch (e) {
      next.free(); // the last good state stays
      throw e;
    }
    const old = state.snapshot;
    state.snapshot = next;
    settle(next);
    Object.assign(state, { base: manifest.checksum, loadedAt: Date.now(), rebase: false });
    // Requests still answering from the old snapshot (waiting for a body or a key set) keep it:
    // the package releases it when the last of them ends (free() is deferred until then).
    old?.free();
  }
  current();
  Object.assign(state, { checkedAt: Date.now(), failures: 0, retryAt: 0, lastError: null, headEtag: read.etag });
}

/**
 * Lets the isolate's snapshot go before a re-base that could not hold it beside the new one
 * within MEMORY_BUDGET_BYTES: from now on requests wait for the new one, as on a cold isolate,
 * and the old one's memory is free for it once the requests still answering from it have ended
 * (waited for up to LET_GO_WAIT_MS: a request that holds it longer, a slow body, does not hold
 * up the isolate; the load then takes more memory).
 */
async function letGo(env) {
  const old = state.snapshot;
  Object.assign(state, { snapshot: null, version: null, timestamp: null, base: null, loadedAt: null, changedAt: null });
  state.letGo++;
  old.free(); // deferred by the package until the requests answering from it end
  await atMost(answered(old), setting(env, "LET_GO_WAIT_MS"));
}

/** Requests answering from each snapshot (the handler's calls under way), and who waits for none. */
const answering = new Map(); // snapshot → { count, done: [resolve] }

/** `serve()`, counted as a request answering from `snapshot` until it settles. */
async function answeringFrom(snapshot, serve) {
  const entry = answering.get(snapshot) ?? { count: 0, done: [] };
  answering.set(snapshot, entry);
  entry.count++;
  try {
    return await serve();
  } finally {
    if (--entry.count === 0) {
      answering.delete(snapshot);
      for (const resolve of entry.done) resolve();
    }
  }
}

/** Resolves when no request answers from `snapshot` any more. */
function answered(snapshot) {
  const entry = answering.get(snapshot);
  return entry === undefined ? Promise.resolve() : new Promise((resolve) => entry.done.push(resolve));
}

/**
 * How long a refresh may take: its reads all end within READ_TIMEOUT_MS (each is raced against a
 * timer), a re-base that lets the old snapshot go waits up to LET_GO_WAIT_MS besides, and the
 * rest is the module's work (loads and applies: seconds at most). Twice the reads' time, and the
 * wait, leave room for that.
 */
function overdueMs(env) {
  return 2 * setting(env, "READ_TIMEOUT_MS") + setting(env, "LET_GO_WAIT_MS");
}

/**
 * Whether the refresh in flight has run past overdueMs, so was cut off: the
 * platform cancels a request's `waitUntil` work 30 s after its response, and a cancelled request's
 * timers and reads never settle (github.com/rocicorp/cf-global-state: a lock held by a cancelled
 * request, never released). Without this, the one load in flight would be shared for ever: a cold
 * isolate's requests would hang, and a warm one would never be refreshed again.
 */
function loadOverdue(env) {
  return state.loading !== null && Date.now() - state.loadingSince > overdueMs(env);
}

/** Gives up the refresh in flight (loadOverdue): what it would still do is not taken. */
function abandon(env) {
  state.abandoned++;
  state.lastError = `the refresh begun at ${iso(state.loadingSince)} had not ended after ${overdueMs(env)} ms (cut off by the runtime?): begun again`;
  console.error(`identity-links: ${state.lastError}`);
  state.loading = null;
  state.refreshes++; // the abandoned one's number is no longer current: it changes nothing more
}

/**
 * Starts a refresh unless one is running (and not overdue) or a failure's backoff is not over:
 * the load to wait on (it never rejects), or null.
 */
function startRefresh(env, ctx) {
  if (loadOverdue(env)) abandon(env);
  if (state.loading) return state.loading;
  if (Date.now() < state.retryAt) return null;
  const id = ++state.refreshes;
  const loading = refresh(env, id)
    .catch((e) => {
      if (state.refreshes !== id) return; // abandoned meanwhile: its failure is not the isolate's
      state.failures++;
      const wait = Math.min(setting(env, "RETRY_MAX_MS"), setting(env, "RETRY_MIN_MS") * 2 ** (state.failures - 1));
      state.retryAt = Date.now() + wait;
      state.lastError = String(e?.message ?? e);
      console.error(`identity-links: loading the snapshot failed (attempt ${state.failures}, next in ${wait} ms): ${state.lastError}`);
    })
    .finally(() => {
      if (state.loading === loading) state.loading = null;
    });
  Object.assign(state, { loading, loadingSince: Date.now() });
  ctx?.waitUntil?.(loading); // the load outlives the request that started it
  return loading;
}

/** The snapshot to answer from (null: none), after loading it on a cold isolate. */
async function snapshotFor(env, ctx) {
  if (env.DEMO === "sample") {
    if (state.snapshot === null) Object.assign(state, { snapshot: Snapshot.fromObject(sample), version: "demo-sample", timestamp: sample.timestamp, loadedAt: Date.now() });
    return state.snapshot;
  }
  if (env.DEMO !== undefined && env.DEMO !== "") throw new ConfigError(`DEMO must be "sample" or unset, found ${JSON.stringify(env.DEMO)}`);
  if (!env.SNAPSHOTS) throw new ConfigError("no KV namespace bound as SNAPSHOTS (or DEMO = \"sample\" for the bundled sample data)");
  if (state.snapshot === null) {
    startRefresh(env, ctx); // a cold isolate waits for the one load in flight (settled, below)
  } else {
    // A warm one answers now. It follows the head's watch when it can; otherwise it re-reads the
    // manifest in the background every DELTA_POLL_MS. After an idle spell (nothing read for
    // STALE_AFTER_MS: no requests came), its state may be minutes old, so the request re-reads
    // the manifest and waits for that, up to STALE_WAIT_MS, then answers from whatever state
    // there is (the watch starts again with the next request).
    const idle = Date.now() - state.checkedAt > setting(env, "STALE_AFTER_MS");
    if (!idle) startWatch(env, ctx);
    if (state.headChanged || (!watching(env) && Date.now() - state.checkedAt > setting(env, "DELTA_POLL_MS"))) {
      const refreshing = startRefresh(env, ctx);
      if (refreshing !== null && idle) await atMost(refreshing, setting(env, "STALE_WAIT_MS"));
    }
  }
  return settled(env, ctx);
}

/**
 * The snapshot to answer from now: none while a load is under way on a cold isolate, or while a
 * re-base that let the old one go is loading the new one, so the request waits for that load
 * (null if it fails). Not beyond the load's time (loadOverdue): then it is begun again.
 */
async function settled(env, ctx) {
  while (state.snapshot === null && state.loading !== null) {
    if (loadOverdue(env)) startRefresh(env, ctx); // given up, begun again unless backing off
    if (state.loading === null) break;
    await atMost(state.loading, Math.max(1, state.loadingSince + overdueMs(env) + 1 - Date.now()));
  }
  return state.snapshot;
}

/** A JSON answer of the health and publishing routes (never cached). */
const json = (status, body, headers = {}) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", "cache-control": "no-store", ...headers } });

/** Seconds since the snapshot's data was exported, or null. */
function age(timestamp = state.timestamp) {
  const at = Date.parse(timestamp ?? "");
  return Number.isNaN(at) ? null : Math.max(0, Math.round((Date.now() - at) / 1000));
}

const iso = (ms) => (ms ? new Date(ms).toISOString() : null);

function health(env) {
  const body = {
    status: state.snapshot ? (state.lastError ? "stale" : "ok") : "unavailable",
    head: env.MANIFEST_HEAD ? "durable-object" : "kv", // where the manifest is read
    manifestFrom: state.manifestFrom, // where it was read last (KV's copy while the head fails)
    headError: state.headError,
    version: state.version,
    age: age(),
    timestamp: state.timestamp,
    base: state.base,
    loadedAt: iso(state.loadedAt),
    changedAt: iso(state.changedAt),
    checkedAt: iso(state.checkedAt),
    loads: state.loads,
    applied: state.applied,
    polls: state.polls,
    watching: watching(env), // a watch of the head is in flight: the state is the head's
    watches: state.watches,
    lastError: state.lastError,
    refused: state.refused,
    letGo: state.letGo,
    abandoned: state.abandoned,
    loadingSince: state.loading ? iso(state.loadingSince) : null, // a refresh under way since
    wasmBytes: memoryUsage().wasmBytes,
  };
  return json(state.snapshot ? 200 : 503, body);
}

/** The answer with the staleness headers of the state it was answered from (`{ version, timestamp }`). */
function stamped(response, { version, timestamp }) {
  // handleRequest's Response is built by the package, its headers mutable: no copy of it.
  if (version !== null) response.headers.set("identity-links-version", version);
  const seconds = age(timestamp);
  if (seconds !== null) response.headers.set("identity-links-age", String(seconds));
  return response;
}

/** SHA-256 of `text`, in hexadecimal. */
async function sha256(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Whether `authorization` is `Bearer <token>`, compared in constant time (over the digests). */
async function bearerMatches(authorization, token) {
  const given = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  if (given === undefined) return false;
  const [a, b] = await Promise.all([sha256(given), sha256(token)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * The publishing route: the manifest read (GET) or replaced (PUT) in the head, for publish.mjs
 * --head. Only with MANIFEST_HEAD bound and PUBLISH_TOKEN set (else 404), and only with that token.
 */
async function headRoute(request, env) {
  if (!env.MANIFEST_HEAD || !env.PUBLISH_TOKEN) return json(404, { error: "no manifest head here: bind a Durable Object as MANIFEST_HEAD and set the secret PUBLISH_TOKEN" });
  if (env.PUBLISH_TOKEN.length < TOKEN_MIN_LENGTH) throw new ConfigError(`PUBLISH_TOKEN must have at least ${TOKEN_MIN_LENGTH} characters`);
  if (!(await bearerMatches(request.headers.get("authorization"), env.PUBLISH_TOKEN))) {
    return json(401, { error: "the publishing route needs the PUBLISH_TOKEN as a bearer token" }, { "www-authenticate": 'Bearer realm="identity-links"' });
  }
  return headOf(env).fetch(request); // which answers 405 to methods other than GET and PUT
}

/**
 * The manifest's head: a Durable Object holding the one mutable value, the manifest, strongly
 * consistent wherever it is read (decision 0012). GET answers it (JSON; `null` before the first
 * publication) with its ETag. A GET with `If-None-Match: <its ETag>` is a watch (decision 0013):
 * held, for `Prefer: wait=<seconds>` (at most HEAD_WATCH_MAX_MS), until a PUT replaces the
 * manifest (then 200 with the new one) or the wait ends (304). PUT replaces it, checked as the
 * worker checks it, and only when it names the manifest it replaces (`If-Match: <etag>`, or
 * `If-None-Match: *` for the first): a publisher that read an older manifest gets 412 instead of
 * overwriting a chain unseen.
 */
export class ManifestHead {
  constructor(ctx) {
    this.storage = ctx.storage;
    this.current = null; // { text, etag }: the stored manifest
    this.watchers = new Set(); // the held watches' wake-ups, called when a PUT replaces it
    // Read before any request is delivered: every request then checks against the same value.
    ctx.blockConcurrencyWhile(async () => {
      this.current = (await this.storage.get("manifest")) ?? null;
    });
  }

  async fetch(request) {
    if (request.method === "GET") {
      const known = request.headers.get("if-none-match");
      if (known !== null && known === this.current?.etag) await this.changed(watchWait(request.headers.get("prefer")));
      const current = this.current;
      const headers = { "content-type": "application/json", "cache-control": "no-store", ...(current ? { etag: current.etag } : {}) };
      if (known !== null && known === current?.etag) return new Response(null, { status: 304, headers });
      return new Response(current?.text ?? "null", { headers });
    }
    if (request.method !== "PUT") return json(405, { error: `${request.method} is not GET or PUT` }, { allow: "GET, PUT" });
    const ifMatch = request.headers.get("if-match");
    const ifNoneMatch = request.headers.get("if-none-match");
    if (ifMatch === null && ifNoneMatch !== "*") return json(428, { error: "a PUT names the manifest it replaces: If-Match with its ETag, or If-None-Match: * for the first" });
    // Its bytes, not its characters, against the limit: a manifest of other than ASCII is longer.
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > MANIFEST_MAX_BYTES) return json(413, { error: `the manifest has ${bytes.length} bytes, over the head's ${MANIFEST_MAX_BYTES}` });
    const text = new TextDecoder().decode(bytes);
    try {
      checkManifest(JSON.parse(text));
    } catch (e) {
      return json(400, { error: e instanceof SyntaxError ? `the manifest is not JSON: ${e.message}` : e.message });
    }
    const etag = `"${(await sha256(text)).slice(0, 32)}"`;
    // No await between the check and the new value: two publishers cannot both pass the same
    // precondition (the second sees the first's value), and the write is durable before the 204
    // (the object's output gate).
    const current = this.current;
    if (ifNoneMatch === "*" ? current !== null : current?.etag !== ifMatch) {
      return json(412, { error: "the manifest changed since it was read (another publisher?): read it again", etag: current?.etag ?? null });
    }
    this.current = { text, etag };
    await this.storage.put("manifest", this.current);
    for (const wake of this.watchers) wake();
    return new Response(null, { status: 204, headers: { etag } });
  }

  /** Resolves when a PUT replaces the manifest, or after `ms`. */
  changed(ms) {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.watchers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.watchers.add(wake);
    });
  }
}

/** A watch's wait from its `Prefer` header (RFC 7240 `wait=<seconds>`), in ms: 0 without one. */
function watchWait(prefer) {
  const seconds = Number(/(?:^|[,;\s])wait=(\d+)/i.exec(prefer ?? "")?.[1] ?? 0);
  return Math.min(seconds * 1000, HEAD_WATCH_MAX_MS);
}

export default {
  async fetch(request, env, ctx) {
    let options;
    try {
      options = handlerOptions(env);
      const path = new URL(request.url).pathname;
      if (path === HEAD_PATH) return await headRoute(request, env);
      if (path === HEALTH_PATH) {
        await snapshotFor(env, ctx).catch(() => null);
        return health(env);
      }
      let snapshot = await snapshotFor(env, ctx);
      // Replaced (or let go) between that answer and this continuation: the one in place now.
      if (snapshot !== state.snapshot) snapshot = await settled(env, ctx);
      if (snapshot !== null) {
        // The state answered from, for the headers, unless a delta changes it in place meanwhile.
        const from = { version: state.version, timestamp: state.timestamp };
        const response = await answeringFrom(snapshot, () => handleRequest(snapshot, request, undefined, options.normal));
        return stamped(response, state.snapshot === snapshot ? state : from);
      }
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      console.error(`identity-links: configuration: ${e.message}`);
      return new Response(JSON.stringify({ error: "identity-links is not configured", message: e.message }), { status: 500, headers: { "content-type": "application/json" } });
    }
    // Cold, and the base could not be loaded: each peer's 503, in its own format.
    carrier ??= Snapshot.fromObject({ version: 1 });
    const response = await handleRequest(carrier, request, undefined, options.unavailable);
    const out = new Response(response.body, response);
    if (out.status === 503) out.headers.set("retry-after", String(Math.max(1, Math.ceil((state.retryAt - Date.now()) / 1000))));
    return out;
  },
};
