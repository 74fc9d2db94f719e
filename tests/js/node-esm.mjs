// Node ESM (also run by Deno and Bun): `import` resolves the package's node/deno/bun entry,
// which loads synchronously; `await init()` resolves at once.
import init, * as api from "identity-links";
import { readFileSync } from "node:fs";
import { runConformance, report } from "./conformance.mjs";
import { createNodeListener } from "identity-links/node";

const runtime = process.argv[2] ?? "node-esm";
// Usable before init(): the entry instantiates synchronously.
const before = api.Snapshot.fromJson('{"version":1}').stats().users === 0;
await init();
const files = JSON.parse(readFileSync(new URL("./cases.json", import.meta.url), "utf8"));
const result = await runConformance({ ...api, default: init }, files);
if (!before) result.failures.push("not usable before init()"), result.failed++;
// identity-links/node: the listener for node:http and node:http2, over the same instance.
if (typeof createNodeListener(api.Snapshot.fromJson('{"version":1}'), { options: { auth: "trusted" } }) === "function") result.passed++;
else result.failures.push("identity-links/node: createNodeListener gives no listener"), result.failed++;
// Without options.auth it serves no one: refused when made.
let unmade = null;
try {
  createNodeListener(api.Snapshot.fromJson('{"version":1}'));
} catch (e) {
  unmade = e;
}
if (api.isIdentityError(unmade) && unmade.body?.type === "UsageError" && /options\.auth/.test(unmade.message)) result.passed++;
else result.failures.push(`identity-links/node: createNodeListener without options.auth: ${unmade?.message ?? "made"}`), result.failed++;
report(runtime, result);
