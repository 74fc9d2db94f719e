// A workerd module worker (bundled with the package's `workerd` condition): answers a real HTTP
// request with the conformance result, and initSync({ module }) with the imported .wasm works;
// so does a second, throwaway instance of it (what fromJson loads in).
import init, * as api from "identity-links";
import wasm from "identity-links/identity_links_bg.wasm";
import files from "./cases.json";
import { runConformance } from "./conformance.mjs";

export default {
  async fetch() {
    api.initSync({ module: wasm });
    await init();
    const result = await runConformance({ ...api, default: init }, files);
    // fromJson loads in a throwaway instance of the imported module (pkg-template/api.js): the
    // isolate must allow instantiating it at request time, with the package's stub imports.
    try {
      const stubs = {};
      for (const { module, name } of WebAssembly.Module.imports(wasm)) (stubs[module] ??= {})[name] = () => {};
      const scratch = new WebAssembly.Instance(wasm, stubs).exports;
      if (typeof scratch.__jsonToTables !== "function") throw new Error("no __jsonToTables export");
      result.passed++;
    } catch (e) {
      result.failed++;
      result.failures.push(`a throwaway instance cannot be made in workerd: ${e}`);
    }
    return new Response(JSON.stringify({ runtime: "workerd", ...result }), { headers: { "content-type": "application/json" } });
  },
};
