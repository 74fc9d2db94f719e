// identity-links/node for ES modules: createNodeListener over the package's Node instance.
import * as api from "./index.cjs";
import { listenerFor } from "../listener.js";

// A namespace import: the named exports whatever a default import makes of `__esModule`.
export const createNodeListener = listenerFor(api);
