// The demo page's browser test: start `make demo`'s server, drive the page in headless Chromium
// and Firefox (tests/js/browsers.mjs), run each query through the UI and check the
// rendered answers against the package's own answers in Node, load an invalid snapshot and check
// the error (the previous snapshot stays), drop valid JSON and binary snapshots and check the
// counts, and save a screenshot to target/demo-<browser>.png. Any console error or failed request
// fails it. Run with `node --test` (tests/js/check.mjs).
import { check as record } from "./check.mjs";
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const api = require(join(root, "pkg/node/index.cjs"));
import { BROWSERS, launch, waitFor } from "./browsers.mjs";

const sampleText = readFileSync(join(root, "www/sample-snapshot.json"), "utf8");
const sample = api.Snapshot.fromJson(sampleText);
let browserName = "";
const check = (name, ok, detail = "") => record(`${browserName}: ${name}`, ok, detail);

/** What the page must show for an answer or an error: the body, pretty-printed. */
function expected(method, request, context) {
  try {
    return { status: "200 OK", body: JSON.stringify(sample[method](request, context), null, 2) };
  } catch (e) {
    const text = { 400: "Bad Request", 403: "Forbidden", 404: "Not Found" }[e.status];
    return { status: `${e.status} ${text}`, body: JSON.stringify(e.body, null, 2) };
  }
}

const port = 20000 + Math.floor(Math.random() * 20000);
const server = spawn("node", [join(root, "scripts/serve-demo.mjs"), "--port", String(port), "--quiet"], { stdio: "inherit" });

/**
 * What the test does to the page, in DOM terms both browsers' drivers run alike: read texts,
 * count elements, set a field's value (and fire the events a user's input fires), tick a
 * checkbox, pick a file.
 */
function driver(page) {
  const tid = (id) => `[data-testid="${id}"]`;
  return {
    text: (id) => page.evaluate((s) => document.querySelector(s)?.textContent ?? null, tid(id)),
    stat: (name) => page.evaluate((s) => document.querySelector(s)?.textContent ?? null, `[data-stat="${name}"] dd`),
    count: (selector) => page.evaluate((s) => document.querySelectorAll(s).length, selector),
    texts: (selector) => page.evaluate((s) => [...document.querySelectorAll(s)].map((e) => e.textContent), selector),
    set: (id, value) =>
      page.evaluate(
        ([s, v]) => {
          const e = document.querySelector(s);
          e.value = v;
          e.dispatchEvent(new Event("input", { bubbles: true }));
          e.dispatchEvent(new Event("change", { bubbles: true }));
        },
        [tid(id), value],
      ),
    tick: (id) => page.evaluate((s) => document.querySelector(s).checked || document.querySelector(s).click(), tid(id)),
    hidden: (id) => page.evaluate((s) => document.querySelector(s)?.offsetParent === null, tid(id)),
    file: (id, name, bytes) =>
      page.evaluate(
        ([s, n, data]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(data)], n, { type: "application/json" }));
          const input = document.querySelector(s);
          input.files = dt.files;
          input.dispatchEvent(new Event("change", { bubbles: true }));
        },
        [tid(id), name, [...bytes]],
      ),
  };
}

async function runIn(name) {
  browserName = name;
  const browser = await launch(name);
  try {
    const page = await browser.newPage();
    if (typeof page.setViewportSize === "function") await page.setViewportSize({ width: 1280, height: 900 });
    else await page.setViewport({ width: 1280, height: 900 });
    const pageErrors = [];
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    page.on("requestfailed", (r) => pageErrors.push(`request failed: ${r.url()}`));
    // Any error the console shows (a 404, a failed fetch, console.error) fails the test too.
    page.on("console", (m) => m.type() === "error" && pageErrors.push(`console error: ${m.text()}`));
    page.on("response", (r) => r.status() >= 400 && pageErrors.push(`HTTP ${r.status()}: ${r.url()}`));
    page.on("request", (r) => {
      if (!r.url().startsWith(`http://localhost:${port}/`) && !r.url().startsWith("blob:") && !r.url().startsWith("data:")) pageErrors.push(`fetched from outside localhost: ${r.url()}`);
    });
    for (let i = 0; ; i++) {
      try {
        await page.goto(`http://localhost:${port}/`);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((ok) => setTimeout(ok, 100));
      }
    }
    if (!(await waitFor(page, () => window.__demo?.ready === true, 30_000))) throw new Error("the page did not get ready");
    const dom = driver(page);
    const { text, stat } = dom;

    const s = sample.stats();
    check("sample snapshot counts", (await stat("users")) === String(s.users) && (await stat("tasks")) === String(s.tasks) && (await stat("IdP links")) === String(s.idpLinks), await text("stats"));
    check("sample snapshot is realistic", s.users >= 20 && s.groups >= 6 && s.tasks >= 10 && s.idpLinks >= 10, JSON.stringify(s));

    async function expectPanel(prefix, method, request, context, what) {
      const want = expected(method, request, context);
      const [status, body] = [await text(`${prefix}-status`), await text(`${prefix}-result`)];
      check(`${what}: status`, status === want.status, `${status} vs ${want.status}`);
      check(`${what}: answer`, body === want.body, `${body}\n--- expected ---\n${want.body}`);
      check(`${what}: timing shown`, /µs per call|ms per call/.test(await text(`${prefix}-time`)));
    }

    // getIdentityLinks: task picker and type filter.
    await dom.set("links-task", "approve-invoice-1001");
    await expectPanel("links", "getIdentityLinks", { taskId: "approve-invoice-1001" }, undefined, "identity links");
    check("identity links: REST request", (await text("links-rest")) === "GET /engine-rest/task/approve-invoice-1001/identity-links");
    const linkLabels = await dom.texts('[data-testid="links-diagram"] text.label');
    check("identity links: diagram (task, 3 users, 1 group, labelled by type)", (await dom.count('[data-testid="links-diagram"] g.node')) === 5 && ["candidate", "assignee", "owner"].every((t) => linkLabels.includes(t)), linkLabels.join(" | "));
    await dom.set("links-type", "owner");
    await expectPanel("links", "getIdentityLinks", { taskId: "approve-invoice-1001", type: "owner" }, undefined, "identity links, type owner");
    check("identity links, type owner: REST", (await text("links-rest")).endsWith("?type=owner"));
    await dom.set("links-type", "");

    // getUserGroups: the user's groups and the users sharing them, with a diagram.
    await dom.set("groups-user", "demo");
    await expectPanel("groups", "getUserGroups", { userId: "demo" }, undefined, "user groups");
    const groupsAnswer = sample.getUserGroups({ userId: "demo" });
    check("user groups: diagram has the user, groups and users", (await dom.count('[data-testid="groups-diagram"] g.node')) === 1 + groupsAnswer.groups.length + groupsAnswer.groupUsers.length);

    // listIdpLinks: paging and order.
    await dom.set("idp-user", "demo");
    await dom.set("idp-limit", "2");
    await dom.set("idp-offset", "1");
    await dom.tick("idp-asc");
    await expectPanel("idp", "listIdpLinks", { userId: "demo", query: { offset: "1", limit: 2, asc: true } }, undefined, "IdP links, paged");
    check("IdP links: REST request", (await text("idp-rest")).startsWith('POST /v2/users/demo/links/_search\n{"query":{"offset":"1","limit":2,"asc":true}}'));
    await dom.set("idp-limit", "1001");
    await expectPanel("idp", "listIdpLinks", { userId: "demo", query: { offset: "1", limit: 1001, asc: true } }, undefined, "IdP links, limit too large (error)");

    // A caller without rights: the peers' errors, as they answer them.
    await dom.set("caller-authorizations", "[]");
    await dom.set("caller-permissions", "");
    await dom.set("caller-user", "mary");
    const mary = { caller: { userId: "mary", permissions: [], authorizations: [] } };
    await expectPanel("links", "getIdentityLinks", { taskId: "approve-invoice-1001" }, mary, "identity links as mary without grants (403)");
    await dom.set("idp-limit", "0");
    await expectPanel("idp", "listIdpLinks", { userId: "demo", query: { offset: "1", limit: 0, asc: true } }, mary, "IdP links as mary without permissions (404)");
    await expectPanel("groups", "getUserGroups", { userId: "demo" }, mary, "user groups as mary without grants (filtered)");
    await dom.set("caller-user", "");

    // An invalid snapshot: the error with its JSON path; the previous snapshot stays usable.
    await dom.file("file", "broken.json", Buffer.from('{"version":1,"users":[{"id":"a"},{"id":"a"}]}'));
    await waitFor(page, () => document.querySelector('[data-testid="load-error"]')?.offsetParent !== null, 10_000);
    const loadError = await text("load-error");
    check("invalid snapshot: error names the JSON path", loadError.includes("users[1].id") && loadError.includes("400"), loadError);
    check("invalid snapshot: the previous one stays", (await stat("users")) === String(s.users) && (await text("source")) === "sample-snapshot.json");
    await expectPanel("groups", "getUserGroups", { userId: "demo" }, undefined, "queries after a refused load");

    // Drop valid snapshots, JSON and binary, and check the counts.
    const small = { version: 1, users: [{ id: "a" }, { id: "b" }, { id: "c" }], groups: [{ id: "g", name: "G" }], memberships: [{ userId: "a", groupId: "g" }, { userId: "b", groupId: "g" }], tasks: [{ id: "t", assignee: "a" }] };
    async function drop(name, bytes) {
      await page.evaluate(
        ([name, data]) => {
          const dt = new DataTransfer();
          dt.items.add(new File([new Uint8Array(data)], name));
          document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
        },
        [name, [...bytes]],
      );
      await waitFor(page, `document.querySelector('[data-testid="source"]').textContent === ${JSON.stringify(name)}`, 10_000);
    }
    await drop("small.json", Buffer.from(JSON.stringify(small)));
    check("dropped JSON: counts", (await stat("users")) === "3" && (await stat("memberships")) === "2" && (await stat("tasks")) === "1", await text("stats"));
    check("dropped JSON: no error shown", await dom.hidden("load-error"));
    const binary = api.Snapshot.fromJson(sampleText).toBytes();
    await drop("sample.idl", binary);
    check("dropped binary: counts", (await stat("users")) === String(s.users) && (await stat("identity links")) === String(s.identityLinks));
    await dom.set("groups-user", "demo");
    await expectPanel("groups", "getUserGroups", { userId: "demo" }, undefined, "queries on the binary snapshot");

    mkdirSync(join(root, "target"), { recursive: true });
    await page.screenshot({ path: join(root, `target/demo-${name}.png`), fullPage: true });
    check("an empty console: no page errors, failed or refused requests, nothing fetched from outside localhost", pageErrors.length === 0, pageErrors.join("\n"));
  } catch (e) {
    check("the test ran to the end", false, String((e && e.stack) || e));
  } finally {
    await browser.close();
  }
}

for (const name of BROWSERS) await runIn(name);
server.kill();

