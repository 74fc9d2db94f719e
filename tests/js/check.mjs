// The test runner of the JavaScript suites: Node's own (node:test). A suite computes a check's
// outcome where it is (in a browser, over HTTP, in a child process) and records it with
// `check(name, ok, detail)`: one node:test test that passes or fails with that detail. Run a suite
// with `node --test <file>`; the runner prints every test and closes with its counts
// (`# pass N`, `# fail M`), and exits non-zero on any failure.
import assert from "node:assert/strict";
import { test } from "node:test";

/** Records one check: a test named `name` that fails with `detail` unless `ok`. */
export function check(name, ok, detail = "") {
  test(name, () => {
    assert.ok(ok, detail === "" ? "failed" : String(detail));
  });
}
