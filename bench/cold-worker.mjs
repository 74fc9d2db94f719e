// A workerd worker that times, inside the isolate, what a cold Worker does before its first
// answer: import the package (its browser build, which does not instantiate on import), init
// with the imported .wasm module, and Snapshot.fromBytes of a 1.2 MB binary snapshot. Bundled
// and run in a fresh workerd process per measurement by bench/run.mjs.
import wasm from "../pkg/identity_links_bg.wasm";
import snapshot from "./XS.idl";

export default {
  async fetch() {
    const t0 = performance.now();
    const api = await import("../pkg/index.js");
    api.initSync({ module: wasm });
    const s = api.Snapshot.fromBytes(new Uint8Array(snapshot));
    const ms = performance.now() - t0;
    return Response.json({ ms, users: s.stats().users });
  },
};
