// Vercel's and Next.js's edge runtime (the `edge-light` condition): their bundlers import a
// `.wasm` with the `?module` suffix as a compiled module (the edge runtime forbids compiling
// wasm from bytes at run time), which is instantiated on import, as in workerd.
import wasmModule from "./identity_links_bg.wasm?module";
import { initSync } from "./index.js";

initSync({ module: wasmModule });

export * from "./index.js";
export { default } from "./index.js";
