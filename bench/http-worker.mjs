// The hand-written worker the benchmark drives beside examples/worker in workerd: the snapshot's
// JSON embedded as a text module (the same data examples/worker reads from KV in binary form),
// loaded once per isolate by bench/baseline.mjs's loader, every request answered by
// bench/http-baseline.mjs. Bundled and served by bench/run.mjs.
import { load } from "./baseline.mjs";
import { handle } from "./http-baseline.mjs";
import text from "./snapshot.json"; // a text module (external to the bundle)

let data = null;

export default {
  async fetch(request) {
    data ??= load(text);
    return handle(data, request);
  },
};
