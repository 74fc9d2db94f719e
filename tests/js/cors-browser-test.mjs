// CORS in a real browser: a page on one origin (http://localhost:A) calls handleRequest, served
// by node:http on another (http://127.0.0.1:B), from headless Chromium. With the default options
// a Connect POST to Zitadel's route passes the browser's preflight and answers (as Zitadel's CORS
// interceptor allows any origin), while Camunda's route, without CORS by default, is blocked;
// with `cors: [origin]` Camunda's answers too. A credentialed read (`credentials: "include"`) is
// blocked by the browser with the default CORS and allowed for a listed origin. Run with `node --test` (tests/js/check.mjs).
import { launch } from "./browsers.mjs";
import { check } from "./check.mjs";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { Snapshot, handleRequest } = await import(join(root, "pkg/node/index.mjs"));
const sample = Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json")));


/** node:http in front of handleRequest, as a Node deployment would write it. */
function api(options) {
  const seen = [];
  const server = createServer(async (req, res) => {
    seen.push(req.method);
    const hasBody = req.method !== "GET" && req.method !== "HEAD";
    const request = new Request(`http://${req.headers.host}${req.url}`, {
      method: req.method,
      headers: req.headers,
      body: hasBody ? Readable.toWeb(req) : undefined,
      duplex: "half",
    });
    const response = await handleRequest(sample, request, undefined, { auth: "trusted", ...options });
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  return new Promise((done) => server.listen(0, "127.0.0.1", () => done({ server, seen, port: server.address().port })));
}

const page = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html" });
  res.end("<!doctype html><title>another origin</title>");
});
await new Promise((done) => page.listen(0, "127.0.0.1", done));
const pageUrl = `http://localhost:${page.address().port}/`;

const browser = await launch("chromium");
try {
  const tab = await browser.newPage();
  await tab.goto(pageUrl);
  /** Runs fetch in the page: the answer's status and text, or the browser's error. */
  const call = (url, init) =>
    tab.evaluate(async ([u, i]) => {
      try {
        const r = await fetch(u, i);
        return { status: r.status, text: await r.text() };
      } catch (e) {
        return { error: String(e) };
      }
    }, [url, init]);
  const connect = { method: "POST", headers: { "content-type": "application/json", "connect-protocol-version": "1" }, body: JSON.stringify({ userId: "demo" }) };

  const peers = await api(undefined);
  const base = `http://127.0.0.1:${peers.port}`;
  const zitadel = await call(`${base}/zitadel.user.v2.UserService/ListIDPLinks`, connect);
  check("a cross-origin Connect POST passes the preflight and answers", zitadel.text === sample.listIdpLinksJson({ userId: "demo" }), JSON.stringify(zitadel));
  check("the browser sent a preflight first", peers.seen[0] === "OPTIONS" && peers.seen.includes("POST"), peers.seen.join(","));
  const camunda = await call(`${base}/engine-rest/identity/groups?userId=demo`, { headers: { "x-requested-with": "fetch" } });
  check("Camunda's route is blocked cross-origin by default", typeof camunda.error === "string", JSON.stringify(camunda));
  // With credentials (cookies, a cookie gate in front): the default grants none to an origin it
  // was not given, so the browser blocks the read (no Access-Control-Allow-Credentials).
  const credentialed = await call(`${base}/zitadel.user.v2.UserService/ListIDPLinks`, { ...connect, credentials: "include" });
  check("a credentialed cross-origin read is blocked by the browser with the default CORS", typeof credentialed.error === "string" && credentialed.text === undefined, JSON.stringify(credentialed));
  peers.server.close();

  const chosen = await api({ cors: [new URL(pageUrl).origin] });
  const allowed = await call(`http://127.0.0.1:${chosen.port}/engine-rest/identity/groups?userId=demo`, { headers: { "x-requested-with": "fetch" } });
  check("with cors: [origin], Camunda's route answers that origin", allowed.text === sample.getUserGroupsJson({ userId: "demo" }), JSON.stringify(allowed));
  const listed = await call(`http://127.0.0.1:${chosen.port}/zitadel.user.v2.UserService/ListIDPLinks`, { ...connect, credentials: "include" });
  check("with cors: [origin], a credentialed read from that origin is allowed", listed.text === sample.listIdpLinksJson({ userId: "demo" }), JSON.stringify(listed));
  chosen.server.close();
} finally {
  await browser.close();
  page.close();
}

