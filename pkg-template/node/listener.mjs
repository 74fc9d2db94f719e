// identity-links/node for ES modules: createNodeListener over the package's Node instance.
import api from "./index.cjs";
import { listenerFor } from "../listener.js";

export const createNodeListener = listenerFor(api);
