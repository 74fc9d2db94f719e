// The browser build under Deno or Bun: `import init` from the web entry, then `await init()`,
// which fetches the .wasm next to the module.
import init, * as api from "identity-links/web";
import { readFileSync } from "node:fs";
import { runConformance, report } from "./conformance.mjs";

await init();
const files = JSON.parse(readFileSync(new URL("./cases.json", import.meta.url), "utf8"));
report(process.argv[2] ?? "web-init", await runConformance({ ...api, default: init }, files));
