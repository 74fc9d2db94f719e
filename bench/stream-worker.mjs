// A workerd worker that loads a snapshot from its KV namespace as a stream (Snapshot.fromStream,
// as examples/worker does), answers one query of each kind, and reports the load's time and the
// wasm memory it left; bench/run.mjs reads the workerd process's peak memory from outside.
// The key is the request's path ("/edge.idl").
import wasm from "../pkg/identity_links_bg.wasm";
import { __memory } from "../pkg/identity_links.js";

let api = null;

export default {
  async fetch(request, env) {
    const key = new URL(request.url).pathname.slice(1);
    if (key === "") return new Response("ready");
    api ??= await import("../pkg/index.js");
    api.initSync({ module: wasm });
    const before = __memory().buffer.byteLength;
    const t0 = performance.now();
    const snapshot = await api.Snapshot.fromStream(await env.KV.get(key, "stream"));
    const ms = performance.now() - t0;
    const { tasks, users } = snapshot.stats();
    // A query of every kind, trusted and validating (an unknown task is an error: no matter).
    const attempt = (f) => {
      try {
        f();
      } catch {
        // the answer does not matter here
      }
    };
    attempt(() => snapshot.getIdentityLinks({ taskId: "none" }));
    attempt(() => snapshot.getIdentityLinksJson({ taskId: "none" }, {}));
    attempt(() => snapshot.getUserGroups({ userId: "none" }));
    attempt(() => snapshot.listIdpLinksJson({ userId: "none" }));
    return Response.json({ ms, tasks, users, wasm: __memory().buffer.byteLength, wasmBefore: before });
  },
};
