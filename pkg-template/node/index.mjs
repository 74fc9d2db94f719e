// Node, Deno and Bun (ES modules): the same instance as the CommonJS entry, loaded
// synchronously, so `import { Snapshot } from "identity-links"` works without init(). A
// namespace import, so that every runtime and bundler gives the named exports, whatever it makes
// of `__esModule` in a default import. The named exports are those of ../index.js, where they
// are written once: scripts/build.sh appends `export const { ... } = cjs;` with its names.
import * as cjs from './index.cjs';

export default cjs.init;
