// Bundled by esbuild for the browser (the package's `browser` condition) and loaded in
// headless Chromium; the .wasm is served next to the bundle.
import init, * as api from "identity-links";
import files from "./cases.json";
import { runConformance } from "./conformance.mjs";

try {
  await init();
  window.__result = { runtime: "browser", ...(await runConformance({ ...api, default: init }, files)) };
} catch (e) {
  window.__result = { runtime: "browser", passed: 0, failed: 1, failures: [String(e && e.stack || e)] };
}
