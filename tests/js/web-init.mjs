// The browser build under Deno or Bun: `import init` from the web entry, then `await init()`,
// which fetches the .wasm next to the module; before it, every entry point says to call init().
import init, * as api from "identity-links/web";
import { readFileSync } from "node:fs";
import { beforeInitChecks, runConformance, report } from "./conformance.mjs";

const before = await beforeInitChecks(api);
await init();
const files = JSON.parse(readFileSync(new URL("./cases.json", import.meta.url), "utf8"));
const after = await runConformance({ ...api, default: init }, files);
report(process.argv[2] ?? "web-init", { passed: before.passed + after.passed, failed: before.failed + after.failed, failures: [...before.failures, ...after.failures] });
