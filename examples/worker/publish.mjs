#!/usr/bin/env node
// Publishes snapshots and deltas for the worker (worker.js) into Workers KV (decision 0010).
//
// The base: its binary form split into chunks of at most 25 MiB (a Workers KV value's limit),
// each under a key named by the version (`base.<version>.<i>`). A delta: under a key named by the
// versions it turns one into the other (`delta.<from>.<to>`): its bytes are a function of the two
// versions (`deltaTo` of two equal states is the same bytes), so no key is ever written with
// other contents, and a location's cached copy of it is never stale. Then the manifest — the one
// key that changes — written last: the base (version, chunks, sizes, the form's checksum) and the
// chain of deltas after it, in order; after a new base, its bridge too (decision 0017: the old
// chain and the delta into the base, which warm isolates apply instead of loading the base). An
// isolate that reads the manifest finds every key it lists already there. Keys that a new
// manifest no longer lists (the old base's chunks, the deltas before the base before it) are
// listed in it as `retired` and deleted by a later publication once `--grace-seconds` (default
// 300) have passed, after every isolate's cached manifest has expired. A manifest with its bridge
// lists up to twice `--rebase-after` deltas (~165 bytes each): the head holds 128 KiB, so keep
// `--rebase-after` under ~350 with `--head`.
//
// Usage:
//   node publish.mjs <snapshot.json | snapshot.idl> --dir kv            (workerd's local KV folder)
//   node publish.mjs <snapshot> --wrangler [--binding SNAPSHOTS] [--local]   (Cloudflare, via wrangler)
//   node publish.mjs <file.delta> --dir kv | --wrangler ...            (append one delta to the chain)
//   node publish.mjs --sink --dir kv | --wrangler ...                  (the exporter's --sink-command:
//       IL_KIND says snapshot or delta; the file is the last argument; IL_BRIDGE, with a
//       snapshot, the delta from the file before it: decision 0017)
//   ... --head https://worker.example   (the manifest in the worker's Durable Object head, through
//       its publishing route with IL_PUBLISH_TOKEN; chunks and deltas still in KV: decision 0012)
// Options: --chunk-bytes N (default 25 MiB), --manifest-key K (default "manifest"), --version V
// (the base's key prefix; default: the binary form's checksum, 16 hex digits), --rebase-after N
// (publish a new base instead once the chain has N deltas, default 50, or its deltas add up to half
// the base), --apply-max-bytes N (publish a base instead of a delta once the base is over N bytes,
// default 54 MiB: an isolate applying deltas settles at ~1.85× the base), --grace-seconds S, --dry-run
// (print, write nothing).
// A snapshot is loaded with the package first, so a damaged one is refused here, not at the edge;
// a delta must apply to the chain's newest version (its header says which: the package's
// deltaInfo reads it, checksum checked), else the sink publishes a new base instead: the state
// the store publishes with the delta applied, or the exporter's follow directory materialized
// (its base and the deltas after it), whichever applies fewer deltas (with the package).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { Snapshot, deltaInfo } from "identity-links";

export const KV_VALUE_LIMIT = 25 * 1024 * 1024;
export const MANIFEST_FORMAT = "identity-links-base/1";
/** Past this many deltas in the chain, the sink publishes a new base instead (a cold isolate applies the whole chain). */
export const REBASE_AFTER = 50;
/**
 * The largest base (binary form, bytes) the sink appends deltas to. Set when an isolate applying
 * deltas held the old tables and the new ones at once, and its wasm memory settled at about
 * 1.8–1.85× the binary form (95.9 MB for the 1M-link base of 51.8 MB; 93.6–95.8 MiB in workerd for
 * bench/pipeline.mjs edge's 55.1 MB). The apply now edits the columns in place (decisions 0018,
 * 0020) and settles at about 1.22× (63.05 MB for that base: docs/scaling.md); the limit stays
 * until the worker is measured at larger bases. A re-base adds nothing to that: past the worker's MEMORY_BUDGET_BYTES (100 MiB)
 * it lets the old snapshot go before loading the new one (decision 0016). Beside the wasm, the
 * isolate's JS heap and ArrayBuffers took up to 20.4 MiB in workerd, each counted at its largest
 * (bench/worker-memory.mjs: 115.1–117.1 MB in all at the 51.8 MB base, two runs). So the 1M-link
 * snapshots measured (51.8 and 55.1 MB) take deltas, and a 54 MiB base would settle near 97–100
 * MiB of wasm (at the 1.8–1.85× measured), 123–126 MB of an isolate's 128 MB with the JS side;
 * above it every change is published as a base (docs/scaling.md). 56 MiB before the JS side was
 * measured: 127–130 MB at that size.
 */
export const APPLY_MAX_BYTES = 54 * 1024 * 1024;
/** How long a key no longer listed stays readable (an isolate may hold a manifest cached up to 60 s, KV's default cacheTtl). */
export const GRACE_SECONDS = 300;

/** The hexadecimal form of a little-endian u64 at `at`: how a version is written (`Snapshot.version`). */
const hex64 = (bytes, at) => Array.from(bytes.subarray(at, at + 8), (b) => b.toString(16).padStart(2, "0")).reverse().join("");

/** The manifest and the chunks (`[{ key, bytes }]`) of `binary`, the snapshot's binary form. */
export function split(binary, { chunkBytes = KV_VALUE_LIMIT, version, sequence, timestamp } = {}) {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > KV_VALUE_LIMIT) {
    throw new Error(`--chunk-bytes must be a whole number from 1 to ${KV_VALUE_LIMIT} (a KV value's limit), found ${chunkBytes}`);
  }
  // The binary form ends with its checksum, a little-endian u64: the snapshot's version.
  const checksum = hex64(binary, binary.length - 8);
  version ??= checksum;
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(version)) throw new Error(`--version: letters, digits, '.', '_' and '-' only, found ${JSON.stringify(version)}`);
  const chunks = [];
  for (let at = 0, i = 0; at < binary.length; at += chunkBytes, i++) {
    chunks.push({ key: `base.${version}.${i}`, bytes: binary.subarray(at, Math.min(binary.length, at + chunkBytes)) });
  }
  const manifest = {
    format: MANIFEST_FORMAT,
    version,
    size: binary.length,
    checksum,
    chunks: chunks.map(({ key, bytes }) => ({ key, size: bytes.length })),
    sequence,
    timestamp,
    publishedAt: new Date().toISOString(),
    deltas: [],
    retired: [],
  };
  return { manifest, chunks };
}

/** The version the manifest leads to: its last delta's, or its base's (the form's checksum). */
export function newest(manifest) {
  return manifest.deltas?.at(-1)?.to ?? manifest.checksum;
}

/** A delta that does not continue the chain (another base, a gap, out of order). */
export class GapError extends Error {}

/** A base an isolate could not apply a delta to within its memory (over `applyMaxBytes`). */
export class TooLargeError extends Error {}

/** The manifest's entry of the delta `bytes` (its key named by the versions it joins). */
function deltaEntry(bytes) {
  const h = deltaInfo(bytes); // the package reads the header (and checks the checksum)
  return { key: `delta.${h.from}.${h.to}`, from: h.from, to: h.to, size: bytes.length, sequence: h.sequence, timestamp: h.timestamp };
}

/** The manifest with `bytes` (a delta) appended to its chain, and the delta's key. */
export function appendDelta(manifest, bytes) {
  if (bytes.length > KV_VALUE_LIMIT) throw new Error(`the delta is ${bytes.length} bytes, more than a KV value's ${KV_VALUE_LIMIT}: publish a base instead`);
  const entry = deltaEntry(bytes);
  const at = newest(manifest);
  if (entry.from !== at) throw new GapError(`the delta applies to version ${entry.from}, the chain is at ${at}`);
  return { key: entry.key, manifest: { ...manifest, deltas: [...(manifest.deltas ?? []), entry], publishedAt: new Date().toISOString() } };
}

/** The snapshot file's binary form, checked by loading it: `{ binary, sequence, timestamp }`. */
export function readSnapshot(file) {
  const input = readFileSync(file);
  const binaryForm = input.subarray(0, 8).toString("latin1") === "IDLINKS\0";
  const snapshot = binaryForm ? Snapshot.fromBytes(input) : Snapshot.fromJson(input);
  try {
    return { binary: binaryForm ? input : snapshot.toBytes(), sequence: snapshot.sequence, timestamp: snapshot.timestamp };
  } finally {
    snapshot.free();
  }
}

/** Writes the chunks, then the manifest, with `put(key, bytes)`. */
export async function publish({ manifest, chunks }, put, manifestKey = "manifest") {
  for (const { key, bytes } of chunks) await put(key, bytes);
  await put(manifestKey, Buffer.from(JSON.stringify(manifest)));
}

/** Every key a manifest reads. */
const keysOf = (m) => [...(m?.chunks ?? []).map((c) => c.key), ...(m?.bridge ?? []).map((d) => d.key), ...(m?.deltas ?? []).map((d) => d.key)];

/**
 * The bridge of a new base published after `previous` (decision 0017): the deltas that lead
 * from the states `previous` published to the new base (`binary`'s version), so that an isolate
 * at one of them applies deltas instead of loading the base — `previous`'s chain and the delta
 * `bytes` from its newest state to the new base. None (empty) when `bytes` does not join them,
 * or when the old base or the new one is over `applyMaxBytes` (an isolate applies no delta to
 * so large a base: it re-bases, letting the old one go first past its budget). Its entries, and
 * the delta's key with its bytes to store.
 */
export function bridgeTo(previous, binary, bytes, applyMaxBytes = APPLY_MAX_BYTES) {
  const tooLarge = previous !== null && Math.max(previous.size, binary.length) > applyMaxBytes;
  if (previous === null || bytes === null || tooLarge || bytes.length > KV_VALUE_LIMIT) return { bridge: [], put: null };
  const entry = deltaEntry(bytes);
  if (entry.from !== newest(previous) || entry.to !== hex64(binary, binary.length - 8)) return { bridge: [], put: null };
  return { bridge: [...(previous.deltas ?? []), entry], put: { key: entry.key, bytes } };
}

/**
 * `next` (a manifest) with `retired` carried over from `previous`: the keys `previous` read that
 * `next` does not, stamped now, and the older ones not yet past the grace; `expired`: the keys to
 * delete once `next` is written.
 */
export function retire(previous, next, graceSeconds = GRACE_SECONDS, now = Date.now()) {
  const live = new Set(keysOf(next));
  const retired = [...(previous?.retired ?? [])];
  for (const key of keysOf(previous)) if (!live.has(key) && !retired.some((r) => r.key === key)) retired.push({ key, at: new Date(now).toISOString() });
  const keep = [];
  const expired = [];
  for (const r of retired) {
    if (live.has(r.key)) continue; // listed again (a state came back): not retired any more
    (now - Date.parse(r.at) >= graceSeconds * 1000 ? expired : keep).push(r);
  }
  return { manifest: { ...next, retired: keep }, expired: expired.map((r) => r.key) };
}

/** A KV store: `{ get(key) → Buffer | null, put(key, bytes), delete(key) }`. */
export function dirStore(dir) {
  mkdirSync(dir, { recursive: true });
  return {
    get: async (key) => (existsSync(join(dir, key)) ? readFileSync(join(dir, key)) : null),
    put: async (key, bytes) => {
      // Beside the name, then renamed: a reader never sees part of a value.
      const tmp = join(dir, `.${key}.tmp`);
      writeFileSync(tmp, bytes);
      (await import("node:fs")).renameSync(tmp, join(dir, key));
    },
    delete: async (key) => rmSync(join(dir, key), { force: true }),
  };
}

/** Workers KV through wrangler (`npx wrangler kv key get|put|delete`); not tested here (no account). */
export function wranglerStore(binding, local) {
  const where = local ? "--local" : "--remote";
  const scratch = mkdtempSync(join(tmpdir(), "identity-links-publish-"));
  process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
  const wrangler = (args, options = {}) => spawnSync("npx", ["wrangler", "kv", "key", ...args, "--binding", binding, where], options);
  return {
    get: async (key) => {
      const r = wrangler(["get", key], { maxBuffer: 1 << 26 });
      if (r.status !== 0) return null;
      const out = r.stdout;
      return out.length === 0 || out.toString("latin1").startsWith("Value not found") ? null : out;
    },
    put: async (key, bytes) => {
      const path = join(scratch, key);
      writeFileSync(path, bytes);
      const r = wrangler(["put", key, "--path", path], { stdio: "inherit" });
      if (r.status !== 0) throw new Error(`wrangler kv key put ${key} failed (exit ${r.status})`);
    },
    delete: async (key) => {
      const r = wrangler(["delete", key], { stdio: "inherit" });
      if (r.status !== 0) console.error(`publish.mjs: wrangler kv key delete ${key} failed (exit ${r.status}); it stays`);
    },
  };
}

/** The head refused a manifest written over one it was not read from (another publisher wrote since). */
export class HeadConflictError extends Error {}

/** The publishing route of the worker's manifest head (worker.js). */
export const HEAD_PATH = "/.identity-links/manifest";

/**
 * `store` with its manifest in the worker's Durable Object head (decision 0012): the manifest
 * key read and written through the worker's publishing route at `url` (the worker's address)
 * with `token` (its PUBLISH_TOKEN), then copied into `store` (the worker's fallback while the
 * head fails); every other key (chunks, deltas) in `store`, as before. A write names the
 * manifest read before it (If-Match its ETag; If-None-Match: * when there was none): if another
 * publisher wrote in between, the head refuses it (HeadConflictError) rather than lose that
 * publisher's chain.
 */
export function headStore(store, url, token, { manifestKey = "manifest", timeoutMs = 30_000 } = {}) {
  const route = new URL(HEAD_PATH, url);
  let etag = null; // the ETag of the manifest read last; null: there was none
  const call = async (method, body, headers = {}) => {
    let r;
    try {
      r = await fetch(route, { method, body, headers: { authorization: `Bearer ${token}`, ...headers }, redirect: "manual", signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new Error(`the manifest head at ${route.origin}: ${e.cause?.message ?? e.message}`);
    }
    if (r.status === 412) throw new HeadConflictError(`the manifest head refused the manifest: it changed since it was read (another publisher?); nothing was replaced`);
    if (!r.ok) throw new Error(`the manifest head at ${route.origin} answered ${method} with ${r.status}: ${(await r.text()).slice(0, 300)}`);
    return r;
  };
  return {
    get: async (key) => {
      if (key !== manifestKey) return store.get(key);
      const r = await call("GET");
      const text = await r.text();
      etag = r.headers.get("etag");
      return text === "null" ? null : Buffer.from(text);
    },
    put: async (key, bytes) => {
      if (key !== manifestKey) return store.put(key, bytes);
      const r = await call("PUT", bytes, { "content-type": "application/json", ...(etag === null ? { "if-none-match": "*" } : { "if-match": etag }) });
      etag = r.headers.get("etag");
      // KV's copy, which the worker reads while the head fails. The head holds the publication
      // already: a failed copy is reported, not thrown (a retry would publish the delta again).
      try {
        await store.put(key, bytes);
      } catch (e) {
        console.error(`publish.mjs: the manifest is in the head, but its copy in KV failed (the isolates' fallback is older until the next publication): ${e.message}`);
      }
    },
    delete: store.delete,
  };
}

/** The manifest in `store`, or null. */
export async function readManifest(store, manifestKey = "manifest") {
  const bytes = await store.get(manifestKey);
  if (bytes === null) return null;
  try {
    const m = JSON.parse(Buffer.from(bytes).toString("utf8"));
    return m?.format === MANIFEST_FORMAT ? m : null;
  } catch {
    return null;
  }
}

/**
 * Publishes a base into `store`: the chunks, the manifest, then deletes what expired. With
 * `bridge` (the delta from the state the store publishes to this base), the manifest lists the
 * deltas that lead to the base from the states the store published ([bridgeTo]). The manifest.
 */
export async function publishBase(store, binary, { manifestKey = "manifest", graceSeconds = GRACE_SECONDS, bridge = null, applyMaxBytes = APPLY_MAX_BYTES, ...options } = {}) {
  const previous = await readManifest(store, manifestKey);
  const parts = split(binary, options);
  const joined = bridgeTo(previous, binary, bridge, applyMaxBytes);
  if (joined.bridge.length > 0) parts.manifest.bridge = joined.bridge;
  const { manifest, expired } = retire(previous, parts.manifest, graceSeconds);
  if (joined.put !== null) await store.put(joined.put.key, joined.put.bytes);
  await publish({ manifest, chunks: parts.chunks }, store.put, manifestKey);
  for (const key of expired) await store.delete(key);
  return manifest;
}

/**
 * Appends the delta `bytes` to the chain in `store`: the delta's key, then the manifest. Throws
 * GapError when the delta does not continue the chain (or there is no manifest), and
 * TooLargeError when the base is over `applyMaxBytes`. The manifest.
 */
export async function publishDelta(store, bytes, { manifestKey = "manifest", graceSeconds = GRACE_SECONDS, applyMaxBytes = APPLY_MAX_BYTES } = {}) {
  const previous = await readManifest(store, manifestKey);
  if (previous === null) throw new GapError("there is no manifest to append the delta to");
  if (previous.size > applyMaxBytes) {
    throw new TooLargeError(`the base is ${previous.size} bytes, over --apply-max-bytes ${applyMaxBytes}: an isolate could not apply a delta to it within its memory`);
  }
  const { key, manifest: appended } = appendDelta(previous, bytes);
  const { manifest, expired } = retire(previous, appended, graceSeconds);
  await store.put(key, bytes);
  await store.put(manifestKey, Buffer.from(JSON.stringify(manifest)));
  for (const k of expired) await store.delete(k);
  return manifest;
}

/**
 * Where the follow directory of `file` (one of its files) starts for it: `{ dir, base, upTo }`,
 * `base` the number of its newest base at or before `file`'s (0: none), `upTo` `file`'s.
 */
function directoryBase(file) {
  const dir = dirname(file);
  const upTo = Number(basename(file).slice(0, 8));
  const followed = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
  let base = Number(String(followed.base).slice(0, 8));
  if (!(base <= upTo)) base = upTo; // a file older than the directory's base: itself must be a base
  while (base > 0 && !existsSync(join(dir, `${String(base).padStart(8, "0")}.idl`))) base--;
  return { dir, base, upTo };
}

/**
 * The snapshot the exporter's follow directory publishes up to `file` (its base, then each delta
 * after it, applied with the package): its binary form.
 */
export function materialize(file) {
  const { dir, base, upTo } = directoryBase(file);
  if (base === 0) throw new Error(`no base at or before ${basename(file)} in ${dir}`);
  const snapshot = Snapshot.fromBytes(readFileSync(join(dir, `${String(base).padStart(8, "0")}.idl`)));
  try {
    for (let s = base + 1; s <= upTo; s++) {
      const name = String(s).padStart(8, "0");
      if (existsSync(join(dir, `${name}.delta`))) snapshot.applyDelta(readFileSync(join(dir, `${name}.delta`)));
      else throw new Error(`${name}.delta is missing from ${dir}`);
    }
    return snapshot.toBytes();
  } finally {
    snapshot.free();
  }
}

/**
 * The state `previous` (the store's manifest) publishes with the delta `bytes` (the follow
 * directory's `file`) applied: its base read from `store` (the chunks), its chain and the delta
 * applied with the package; the binary form. Null when the delta does not continue `previous`'s
 * chain, when the follow directory reaches `file` in as few deltas (its base may lie a thousand
 * deltas back, the exporter's --rebase-after; the store's, at most --rebase-after here), or when
 * a key is missing or the state does not load. So a re-base over --apply-max-bytes, which every
 * change of a large snapshot is, applies one delta, not the directory's whole chain.
 */
export async function materializePublished(store, previous, bytes, file) {
  if (previous === null || newest(previous) !== deltaInfo(bytes).from) return null;
  const { base, upTo } = directoryBase(file);
  if (base > 0 && upTo - base <= (previous.deltas?.length ?? 0) + 1) return null;
  const missing = (key) => {
    console.error(`publish.mjs: ${key} is missing from the store: materializing the follow directory instead`);
    return null;
  };
  const parts = [];
  for (const { key } of previous.chunks ?? []) {
    const chunk = await store.get(key);
    if (chunk === null) return missing(key);
    parts.push(chunk);
  }
  let snapshot;
  try {
    snapshot = Snapshot.fromBytes(Buffer.concat(parts));
    for (const { key } of previous.deltas ?? []) {
      const delta = await store.get(key);
      if (delta === null) return missing(key);
      snapshot.applyDelta(delta);
    }
    snapshot.applyDelta(bytes);
    return snapshot.toBytes();
  } catch (e) {
    console.error(`publish.mjs: the store's published state did not load or apply (${e.message}): materializing the follow directory instead`);
    return null;
  } finally {
    snapshot?.free();
  }
}

/**
 * The exporter's sink: publishes `file` (IL_KIND `snapshot` or `delta`). A delta that does not
 * continue the chain, a chain past `rebaseAfter` deltas or half the base's size, or a base over
 * `applyMaxBytes` (which an isolate could not apply a delta to within its memory) is published as
 * a new base instead: the store's published state with the delta applied
 * ([materializePublished]), else the follow directory materialized up to `file`. What was done.
 */
export async function sink(store, file, kind, { rebaseAfter = REBASE_AFTER, applyMaxBytes = APPLY_MAX_BYTES, bridge = null, ...options } = {}) {
  if (kind === "snapshot") {
    const { binary, sequence, timestamp } = readSnapshot(file);
    const m = await publishBase(store, binary, { ...options, applyMaxBytes, sequence, timestamp, bridge: bridge === null ? null : readFileSync(bridge) });
    return `base ${m.checksum}${m.bridge ? ` (bridged from ${m.bridge.length} delta(s))` : ""}`;
  }
  if (kind !== "delta") throw new Error(`IL_KIND must be snapshot or delta, found ${JSON.stringify(kind)}`);
  const bytes = readFileSync(file);
  const previous = await readManifest(store, options.manifestKey);
  const chain = previous?.deltas ?? [];
  const long = chain.length + 1 > rebaseAfter || chain.reduce((n, d) => n + d.size, bytes.length) > (previous?.size ?? 0) / 2;
  let why = `the chain had ${chain.length} deltas`;
  if (!long) {
    try {
      const m = await publishDelta(store, bytes, { ...options, applyMaxBytes });
      return `delta ${m.deltas.at(-1).key} (chain of ${m.deltas.length})`;
    } catch (e) {
      if (e instanceof TooLargeError) why = e.message;
      else if (e instanceof GapError) {
        console.error(`publish.mjs: ${e.message}: publishing a new base instead`);
        why = "the delta did not continue the chain";
      } else throw e;
    }
  }
  const published = await materializePublished(store, previous, bytes, file);
  const binary = published ?? materialize(file);
  const h = deltaInfo(bytes);
  const made = hex64(binary, binary.length - 8);
  if (made !== h.to) throw new Error(`${published ? "the store's state with the delta applied" : "the follow directory"} materializes ${made}, the delta makes ${h.to}`);
  // The delta itself bridges the published states to the new base, when it continues them.
  const m = await publishBase(store, binary, { ...options, applyMaxBytes, sequence: h.sequence, timestamp: h.timestamp, bridge: bytes });
  return `base ${m.checksum} (re-base: ${why}${m.bridge ? `; bridged from ${m.bridge.length} delta(s)` : ""})`;
}

function args(argv) {
  const out = { file: null, sink: false, dir: null, wrangler: false, head: null, binding: "SNAPSHOTS", local: false, chunkBytes: KV_VALUE_LIMIT, manifestKey: "manifest", version: undefined, rebaseAfter: REBASE_AFTER, applyMaxBytes: APPLY_MAX_BYTES, graceSeconds: GRACE_SECONDS, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const number = () => {
      const v = value();
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${a} needs a whole number, found ${JSON.stringify(v)}`);
      return n;
    };
    if (a === "--dir") out.dir = value();
    else if (a === "--sink") out.sink = true;
    else if (a === "--wrangler") out.wrangler = true;
    else if (a === "--head") out.head = value();
    else if (a === "--binding") out.binding = value();
    else if (a === "--local") out.local = true;
    else if (a === "--chunk-bytes") out.chunkBytes = Number(value());
    else if (a === "--manifest-key") out.manifestKey = value();
    else if (a === "--version") out.version = value();
    else if (a === "--rebase-after") out.rebaseAfter = number();
    else if (a === "--apply-max-bytes") out.applyMaxBytes = number();
    else if (a === "--grace-seconds") out.graceSeconds = number();
    else if (a === "--dry-run") out.dryRun = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else if (out.file === null) out.file = a;
    else throw new Error(`one file, found ${a} too`);
  }
  if (out.file === null || (out.dir === null) === !out.wrangler) {
    throw new Error("usage: node publish.mjs [--sink] <snapshot | delta> (--dir <folder> | --wrangler) [--head <worker URL>] [--chunk-bytes N] [--manifest-key K] [--version V] [--rebase-after N] [--apply-max-bytes N] [--grace-seconds S] [--dry-run]");
  }
  if (out.head !== null) {
    let url;
    try {
      url = new URL(out.head);
    } catch {
      throw new Error(`--head needs the worker's URL (https://…), found ${JSON.stringify(out.head)}`);
    }
    if (url.protocol !== "https:" && !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname)) throw new Error(`--head must be https:// (the token travels with it), found ${url.protocol}`);
    if (url.username || url.password) throw new Error("--head: no user or password in the URL; the token comes from IL_PUBLISH_TOKEN");
    const token = process.env.IL_PUBLISH_TOKEN ?? "";
    if (token.length < 32) throw new Error("--head needs the worker's PUBLISH_TOKEN in the environment variable IL_PUBLISH_TOKEN (at least 32 characters)");
    out.head = { url, token };
  }
  return out;
}

async function main() {
  const o = args(process.argv.slice(2));
  let store = o.dir !== null ? dirStore(o.dir) : wranglerStore(o.binding, o.local);
  if (o.head !== null) store = headStore(store, o.head.url, o.head.token, { manifestKey: o.manifestKey });
  if (o.dryRun) {
    const real = store;
    store = { get: real.get, put: async (key, bytes) => console.log(`would put ${key} (${bytes.length} bytes)`), delete: async (key) => console.log(`would delete ${key}`) };
  }
  const options = { chunkBytes: o.chunkBytes, manifestKey: o.manifestKey, version: o.version, rebaseAfter: o.rebaseAfter, applyMaxBytes: o.applyMaxBytes, graceSeconds: o.graceSeconds };
  // The exporter's bridge to a base it publishes: the delta from the file before it.
  if (o.sink && process.env.IL_BRIDGE) options.bridge = process.env.IL_BRIDGE;
  const where = o.head !== null ? `the manifest in the head at ${o.head.url.origin}` : `manifest "${o.manifestKey}"`;
  const kind = o.sink ? process.env.IL_KIND : o.file.endsWith(".delta") ? "delta" : "snapshot";
  if (!o.sink && kind === "delta") {
    const m = await publishDelta(store, readFileSync(o.file), options);
    console.log(`published delta ${m.deltas.at(-1).key}: chain of ${m.deltas.length} after base ${m.checksum}, ${where} last`);
    return;
  }
  const done = await sink(store, o.file, kind, options);
  console.log(`published ${done}, ${where} last`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("publish.mjs")) {
  main().catch((e) => {
    console.error(`publish.mjs: ${e.message}`);
    process.exit(1);
  });
}
