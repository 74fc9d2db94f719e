// Node for bundlers (the `module` condition: Turbopack and webpack bundling for Node, as in
// Next.js's server build, and esbuild): one ES module, so that a bundle holds one instance,
// instantiated on import from the `.wasm` the bundler emits for `new URL(..., import.meta.url)`
// — or, in a CommonJS bundle (esbuild), from the `identity_links_bg.wasm` copied beside it.
// Unbundled Node loads index.mjs / index.cjs instead.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { initSync } from "../index.js";

/** Where the `.wasm` is, as a path; null where it is no file (see below). */
function wasmPath() {
  if (typeof import.meta.url === "string") {
    // Read through its text: a bundler may give a URL object of its own, which fs does not take.
    const url = String(new URL("../identity_links_bg.wasm", import.meta.url));
    // Next.js's server rendering of client components gets the asset's public path, no file:
    // there nothing is instantiated here, and init() does it where the code runs.
    return url.startsWith("file:") ? fileURLToPath(url) : null;
  }
  return typeof __dirname === "string" ? join(__dirname, "identity_links_bg.wasm") : null;
}

const path = wasmPath();
if (path !== null) initSync({ module: readFileSync(path) });

export * from "../index.js";
export { default } from "../index.js";
