// Node CommonJS: `require` loads synchronously.
const api = require("identity-links");
const { readFileSync } = require("node:fs");
const path = require("node:path");

import("./conformance.mjs").then(async ({ runConformance, report }) => {
  const files = JSON.parse(readFileSync(path.join(__dirname, "cases.json"), "utf8"));
  report("node-cjs", await runConformance(api, files));
});
