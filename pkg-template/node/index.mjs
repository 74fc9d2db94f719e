// Node, Deno and Bun (ES modules): the same instance as the CommonJS entry, loaded
// synchronously, so `import { Snapshot } from "identity-links"` works without init().
import cjs from './index.cjs';

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

export default cjs.default;
