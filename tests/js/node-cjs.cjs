// Node CommonJS: `require` loads synchronously.
const api = require("identity-links");
const { readFileSync } = require("node:fs");
const path = require("node:path");

import("./conformance.mjs").then(async ({ runConformance, report }) => {
  const files = JSON.parse(readFileSync(path.join(__dirname, "cases.json"), "utf8"));
  const result = await runConformance(api, files);
  // identity-links/node from CommonJS.
  const { createNodeListener } = require("identity-links/node");
  if (typeof createNodeListener(api.Snapshot.fromJson('{"version":1}'), { options: { auth: "trusted" } }) === "function") result.passed++;
  else result.failures.push("identity-links/node: createNodeListener gives no listener"), result.failed++;
  report("node-cjs", result);
});
