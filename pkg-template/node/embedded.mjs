// Node for bundlers that emit no asset for `new URL(..., import.meta.url)` (the `module`
// condition under `node`, for every bundler but webpack: Rollup, as SvelteKit's adapter-node
// runs it over the server build, bundling the devDependencies; Vite's SSR build where it bundles
// the package; esbuild; Turbopack): the `.wasm`'s bytes travel inside the bundle, as base64 in
// wasm-base64.mjs (written by scripts/build.sh), and are instantiated on import. So the bundle
// runs wherever it is moved, with no file to copy beside it and no node_modules.
import { Buffer } from "node:buffer";
import { initSync } from "../index.js";
import base64 from "./wasm-base64.mjs";

initSync({ module: Buffer.from(base64, "base64") });

export * from "../index.js";
export { default } from "../index.js";
