// Browsers, bundlers and the default entry: `import init, { ... } from "identity-links"`, then
// `await init()` (fetches identity_links_bg.wasm next to this file) or `initSync({ module })`.
import instantiate, { initSync as instantiateSync } from "./identity_links.js";
import * as glue from "./identity_links.js";
import { checkAbi, install } from "./api.js";

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
} = install(glue);

/** Instantiates the module (see wasm-bindgen's `init`), then checks it keeps this wrapper's ABI. */
export default async function init(input) {
  const exports = await instantiate(input);
  checkAbi(glue);
  return exports;
}

/** `init`, synchronously, from bytes or a compiled module. */
export function initSync(input) {
  const exports = instantiateSync(input);
  checkAbi(glue);
  return exports;
}
