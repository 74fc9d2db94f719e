// Bun (the `bun` condition): the .wasm is imported with Bun's own file loader, so that `bun build`
// copies it beside a bundle (hashed), or into a `--compile` binary, and the import gives where it
// is. In Bun (`bun run`, `--target=bun` bundles, compiled binaries) it is read and instantiated on
// import, so the package is ready at once, as in Node; in a browser bundle (`--target=browser`
// with `--conditions=bun`) it is a URL, which `await init()` fetches.
import wasm from "./identity_links_bg.wasm" with { type: "file" };
import init, { initSync } from "./index.js";

// In Bun a path: absolute when run from source (in node_modules) or inside a compiled binary,
// relative to the bundle (not to the working directory) in a `--target=bun` bundle.
if (typeof Bun === "object") {
  const path = wasm.startsWith(".") ? new URL(wasm, import.meta.url) : wasm;
  initSync({ module: process.getBuiltinModule("node:fs").readFileSync(path) });
}

/** `init`, whose default is the `.wasm` that Bun's bundler emitted (in Bun: already done). */
export default function bunInit(input) {
  return init(input ?? (typeof Bun === "object" ? undefined : { module_or_path: new URL(wasm, import.meta.url) }));
}

export * from "./index.js";
