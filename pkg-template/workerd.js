// Cloudflare workerd / Workers: the .wasm is imported as a compiled module (workerd forbids
// compiling wasm from bytes at run time) and instantiated on import, so init() and
// initSync({ module }) resolve at once.
import wasmModule from "./identity_links_bg.wasm";
import { initSync } from "./index.js";

initSync({ module: wasmModule });

export * from "./index.js";
export { default } from "./index.js";
