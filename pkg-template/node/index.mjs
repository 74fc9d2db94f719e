// Node, Deno and Bun (ES modules): the same instance as the CommonJS entry, loaded
// synchronously, so `import { Snapshot } from "identity-links"` works without init(). A
// namespace import, so that every runtime and bundler gives the named exports, whatever it makes
// of `__esModule` in a default import.
import * as cjs from './index.cjs';

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
  initSync,
} = cjs;

export default cjs.init;
