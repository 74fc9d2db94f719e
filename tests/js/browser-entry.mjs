// Bundled by esbuild for the browser (the package's `browser` condition) and loaded in
// headless Chromium; the .wasm is served next to the bundle.
import init, * as api from "identity-links";
import files from "./cases.json";
import { beforeInitChecks, runConformance } from "./conformance.mjs";

try {
  const before = await beforeInitChecks(api);
  await init();
  const after = await runConformance({ ...api, default: init }, files);
  window.__result = { runtime: "browser", passed: before.passed + after.passed, failed: before.failed + after.failed, failures: [...before.failures, ...after.failures] };
} catch (e) {
  window.__result = { runtime: "browser", passed: 0, failed: 1, failures: [String(e && e.stack || e)] };
}
