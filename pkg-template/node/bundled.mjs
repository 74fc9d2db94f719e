// Node for webpack (the `webpack` condition under `node`, as in Next.js's server build with
// webpack): one ES module, so that a bundle holds one instance, instantiated on import from the
// `.wasm` webpack emits for `new URL(..., import.meta.url)`. Other bundlers targeting Node emit
// no such asset and load embedded.mjs instead; unbundled Node loads index.mjs / index.cjs.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { initSync } from "../index.js";

// Read through its text: a bundler may give a URL object of its own, which fs does not take.
const url = String(new URL("../identity_links_bg.wasm", import.meta.url));
// Next.js's server rendering of client components gets the asset's public path, no file: there
// nothing is instantiated here, and init() does it where the code runs.
if (url.startsWith("file:")) initSync({ module: readFileSync(fileURLToPath(url)) });

export * from "../index.js";
export { default } from "../index.js";
