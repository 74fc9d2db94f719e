// Browsers, bundlers and the default entry: `import init, { ... } from "identity-links"`, then
// `await init()` (fetches identity_links_bg.wasm next to this file) or `initSync({ module })`.
import init, * as glue from "./identity_links.js";
import { install } from "./api.js";

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
export { initSync } from "./identity_links.js";
export default init;
