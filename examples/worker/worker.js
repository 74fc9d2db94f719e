// identity-links as a Cloudflare Worker / workerd service: Camunda's and Zitadel's routes,
// answered from a snapshot in wasm memory.
//
// The snapshot is the bundled snapshot.json, or — when a KV namespace is bound as SNAPSHOTS —
// the snapshot stored under the key "current" (the binary form from `Snapshot.toBytes()`, or
// JSON), reloaded at most once a minute per isolate. It is read from KV as a stream, straight
// into wasm memory, so a large snapshot is never held whole in the isolate's JS heap as well.
// See the README, "Deploying".
import { Snapshot, handleRequest } from "identity-links";
import bundled from "./snapshot.json";

const REFRESH_MS = 60_000;
let current = null;
let checkedAt = 0;

/** The snapshot to answer from: KV's newest when bound (checked once a minute), else bundled. */
async function snapshotFor(env) {
  if (env.SNAPSHOTS && (current === null || Date.now() - checkedAt > REFRESH_MS)) {
    checkedAt = Date.now();
    const stream = await env.SNAPSHOTS.get("current", "stream");
    if (stream) {
      const next = await Snapshot.fromStream(stream);
      current?.free();
      current = next;
    }
  }
  current ??= Snapshot.fromObject(bundled);
  return current;
}

export default {
  async fetch(request, env) {
    // No caller context: answers with full rights. Put the worker behind your authentication,
    // or derive `{ caller }` from a verified identity and pass it as the third argument.
    return handleRequest(await snapshotFor(env), request, undefined, { auth: "trusted" });
  },
};
