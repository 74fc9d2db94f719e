// A workerd module worker (bundled with the package's `workerd` condition): answers a real HTTP
// request with the conformance result, and initSync({ module }) with the imported .wasm works.
import init, * as api from "identity-links";
import wasm from "identity-links/identity_links_bg.wasm";
import files from "./cases.json";
import { runConformance } from "./conformance.mjs";

export default {
  async fetch() {
    api.initSync({ module: wasm });
    await init();
    const result = runConformance({ ...api, default: init }, files);
    return new Response(JSON.stringify({ runtime: "workerd", ...result }), { headers: { "content-type": "application/json" } });
  },
};
