#!/usr/bin/env node
// Publishes a snapshot for the worker (worker.js): its binary form split into chunks of at most
// 25 MiB (a Workers KV value's limit), each under a key named by the version, then the manifest,
// written last, which names the version, the chunks with their sizes, and the form's checksum.
// An isolate that reads the manifest finds every chunk it lists already there; the chunks of the
// version it replaces are left in place for isolates still reading them (delete them later, or
// give them an expiration with wrangler's --expiration-ttl).
//
// Usage:
//   node publish.mjs <snapshot.json | snapshot.idl> --dir kv            (workerd's local KV folder)
//   node publish.mjs <snapshot> --wrangler [--binding SNAPSHOTS] [--local]   (Cloudflare, via wrangler)
// Options: --chunk-bytes N (default 25 MiB), --manifest-key K (default "manifest"), --version V
// (default: the binary form's checksum, 16 hex digits), --dry-run (print, write nothing).
// The snapshot is loaded with the package first, so a damaged one is refused here, not at the edge.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Snapshot } from "identity-links";

export const KV_VALUE_LIMIT = 25 * 1024 * 1024;
export const MANIFEST_FORMAT = "identity-links-base/1";

/** The manifest and the chunks (`[{ key, bytes }]`) of `binary`, the snapshot's binary form. */
export function split(binary, { chunkBytes = KV_VALUE_LIMIT, version, sequence, timestamp } = {}) {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 1 || chunkBytes > KV_VALUE_LIMIT) {
    throw new Error(`--chunk-bytes must be a whole number from 1 to ${KV_VALUE_LIMIT} (a KV value's limit), found ${chunkBytes}`);
  }
  // The binary form ends with its checksum, a little-endian u64: written here as 16 hex digits.
  const checksum = Array.from(binary.subarray(binary.length - 8), (b) => b.toString(16).padStart(2, "0")).reverse().join("");
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
  };
  return { manifest, chunks };
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

function args(argv) {
  const out = { file: null, dir: null, wrangler: false, binding: "SNAPSHOTS", local: false, chunkBytes: KV_VALUE_LIMIT, manifestKey: "manifest", version: undefined, dryRun: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--dir") out.dir = value();
    else if (a === "--wrangler") out.wrangler = true;
    else if (a === "--binding") out.binding = value();
    else if (a === "--local") out.local = true;
    else if (a === "--chunk-bytes") out.chunkBytes = Number(value());
    else if (a === "--manifest-key") out.manifestKey = value();
    else if (a === "--version") out.version = value();
    else if (a === "--dry-run") out.dryRun = true;
    else if (a.startsWith("--")) throw new Error(`unknown option ${a}`);
    else if (out.file === null) out.file = a;
    else throw new Error(`one snapshot file, found ${a} too`);
  }
  if (out.file === null || (out.dir === null) === !out.wrangler) throw new Error("usage: node publish.mjs <snapshot> (--dir <folder> | --wrangler) [--chunk-bytes N] [--manifest-key K] [--version V] [--dry-run]");
  return out;
}

async function main() {
  const o = args(process.argv.slice(2));
  const { binary, sequence, timestamp } = readSnapshot(o.file);
  const parts = split(binary, { chunkBytes: o.chunkBytes, version: o.version, sequence, timestamp });
  let put;
  if (o.dryRun) {
    put = async (key, bytes) => console.log(`would put ${key} (${bytes.length} bytes)`);
  } else if (o.dir !== null) {
    mkdirSync(o.dir, { recursive: true });
    put = async (key, bytes) => writeFileSync(join(o.dir, key), bytes);
  } else {
    const scratch = mkdtempSync(join(tmpdir(), "identity-links-publish-"));
    process.on("exit", () => rmSync(scratch, { recursive: true, force: true }));
    put = async (key, bytes) => {
      const path = join(scratch, key);
      writeFileSync(path, bytes);
      const r = spawnSync("npx", ["wrangler", "kv", "key", "put", key, "--path", path, "--binding", o.binding, o.local ? "--local" : "--remote"], { stdio: "inherit" });
      if (r.status !== 0) throw new Error(`wrangler kv key put ${key} failed (exit ${r.status})`);
    };
  }
  await publish(parts, put, o.manifestKey);
  const { manifest } = parts;
  console.log(`published version ${manifest.version}: ${manifest.size} bytes in ${manifest.chunks.length} chunk(s) of at most ${o.chunkBytes} bytes, manifest "${o.manifestKey}" last`);
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("publish.mjs")) {
  main().catch((e) => {
    console.error(`publish.mjs: ${e.message}`);
    process.exit(1);
  });
}
