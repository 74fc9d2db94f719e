// Browsers, bundlers and the default entry: `import init, { ... } from "identity-links"`, then
// `await init()` (fetches identity_links_bg.wasm next to this file) or `initSync({ module })`.
import { initSync as instantiateSync } from "./identity_links.js";
import * as glue from "./identity_links.js";
import { checkAbi, install } from "./api.js";

/** The compiled module once initialized: fromJson instantiates it again for throwaway loads. */
let compiled = null;

// The package's named exports, written once, here: workerd.js, edge-light.js and
// node/bundled.mjs re-export this module, and scripts/build.sh gives the Node entries, which
// share the CommonJS instance instead, every named export of this one (node/index.mjs,
// node/index.cjs). A name added here reaches every entry.
export const {
  Snapshot,
  getIdentityLinks,
  getUserGroups,
  listIdpLinks,
  getIdentityLinksJson,
  getUserGroupsJson,
  listIdpLinksJson,
  handleRequest,
  isIdentityError,
  memoryUsage,
  deltaInfo,
} = install(glue, () => compiled, {
  // Zitadel's token verifier (and jose) only when a handler is given `auth.zitadel`: bundlers
  // make it a chunk of its own, which a bundle that only queries a snapshot never loads.
  loadZitadelVerifier: () => import("./auth/zitadel-token.js"),
});

/** What `init` and `initSync` were given: `{ module_or_path }` / `{ module }`, or the value itself. */
const argument = (input, key) => (input !== null && typeof input === "object" && Object.getPrototypeOf(input) === Object.prototype ? input[key] : input);

/**
 * `value` if it is a compiled `WebAssembly.Module` of any realm (a framework's bundler may hand
 * over one made in another global), as one this realm's `instanceof` accepts; otherwise null.
 */
function asModule(value) {
  if (value instanceof WebAssembly.Module) return value;
  if (Object.prototype.toString.call(value) !== "[object WebAssembly.Module]") return null;
  // The engine instantiates it whatever its prototype; wasm-bindgen's glue checks instanceof.
  return Object.setPrototypeOf(value, WebAssembly.Module.prototype);
}

/**
 * The bytes of a `file:` URL, read through Node's fs where there is one (Node's fetch reads no
 * `file:` URL, and Jest's jsdom environment has no fetch at all); null for any other URL, or
 * where there is no Node fs, for fetch to read.
 */
async function readFileUrl(source) {
  const href = typeof source === "string" ? source : String(source.url ?? source);
  if (!href.startsWith("file:")) return null;
  const builtin = globalThis.process?.getBuiltinModule;
  if (typeof builtin !== "function") return null;
  return builtin("node:fs/promises").readFile(builtin("node:url").fileURLToPath(href));
}

/** Compiles what `init` accepts: a URL, a string, a Request, a Response, bytes or a module. */
async function compile(source) {
  source = await source;
  const module = asModule(source);
  if (module) return module;
  if (typeof source === "string" || source instanceof URL || (typeof Request === "function" && source instanceof Request)) {
    const file = await readFileUrl(source);
    source = file ?? (await fetch(source));
  }
  if (typeof Response === "function" && source instanceof Response) {
    if (!source.ok) throw new Error(`identity-links: fetching the .wasm failed: ${source.status} ${source.statusText} (${source.url})`);
    const streaming = typeof WebAssembly.compileStreaming === "function" && source.headers.get("content-type") === "application/wasm";
    return streaming ? WebAssembly.compileStreaming(source) : WebAssembly.compile(await source.arrayBuffer());
  }
  return WebAssembly.compile(source);
}

/**
 * Instantiates the module: from `{ module_or_path }` (a URL, a Response, bytes or a compiled
 * module, of any realm), by default the `.wasm` beside this file. Then checks that the module
 * keeps this wrapper's memory contract.
 */
export default async function init(input) {
  if (compiled) return instantiateSync({ module: compiled }); // already: the same exports
  const source = argument(input, "module_or_path") ?? new URL("./identity_links_bg.wasm", import.meta.url);
  return initSync({ module: await compile(source) });
}

/** `init`, synchronously, from `{ module }`: bytes or a compiled module (of any realm). */
export function initSync(input) {
  const source = argument(input, "module");
  const module = asModule(source) ?? new WebAssembly.Module(source);
  const exports = instantiateSync({ module });
  compiled ??= module;
  checkAbi(glue);
  return exports;
}
