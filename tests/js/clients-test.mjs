// Real clients against handleRequest: Zitadel's official TypeScript client over every transport
// its users configure — @zitadel/client/web's default (gRPC-web, binary), connect-web's Connect
// transport with the JSON and the binary codec, its gRPC-web transport with the JSON codec —
// each with a fetch that calls handleRequest, decoded answers and errors (with Zitadel's
// ErrorDetail) checked against the JSON route's; Connect JSON with proto field names; and every
// Camunda and Zitadel conformance case sent with a fetch-shaped function backed by
// handleRequest, Camunda's also under the named-engine paths its webapps and camunda-bpm-sdk-js
// call. Run with `node --test` (tests/js/check.mjs).
import { check } from "./check.mjs";
import { createUserServiceClient } from "@zitadel/client/v2";
import { createClientTransport } from "@zitadel/client/web";
import { createServerTransport } from "@zitadel/client/node";
import { createConnectTransport as createNodeConnectTransport } from "@connectrpc/connect-node";
import { createServer as createHttp2Server } from "node:http2";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { Snapshot, handleRequest } = await import(join(root, "pkg/node/index.mjs"));
const { createNodeListener } = await import(join(root, "pkg/node/listener.mjs"));
const conformanceDir = process.env.IDENTITY_LINKS_CONFORMANCE ?? resolve(root, "../shared/conformance");


/** A `fetch` that answers from `snapshot` through handleRequest, as a worker would. */
const fetchFrom = (snapshot, context) => (input, init) => handleRequest(snapshot, new Request(input, init), context, { auth: "trusted" });

// --- Zitadel's official client over every transport -------------------------------------------
const sample = Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json")));
const baseUrl = "https://zitadel.example.com";
// gRPC over HTTP/2 needs trailers: @zitadel/client/node's default transport talks to an
// http2.createServer() on 127.0.0.1 with the package's Node listener. The test's caller context
// travels in a header, read by the listener's context function; without one the caller holds
// every right (a context function that finds nobody is refused: never full rights).
const everything = { caller: { userId: "clients-test", permissions: ["user.read"] } };
const h2 = createHttp2Server(createNodeListener(sample, { options: { auth: "trusted" }, context: (req) => (req.headers["x-test-context"] === undefined ? everything : JSON.parse(req.headers["x-test-context"])) }));
await new Promise((done) => h2.listen(0, "127.0.0.1", done));
// The clients keep their HTTP/2 sessions open: closed from the server's side at the end.
const sessions = new Set();
h2.on("session", (session) => sessions.add(session));
const withContext = (context) => (next) => async (req) => {
  if (context !== undefined) req.header.set("x-test-context", JSON.stringify(context));
  return next(req);
};

/** Each transport as its users configure it, by name: a function of the fetch to use (and the context). */
const TRANSPORTS = {
  "@zitadel/client/node default (gRPC over HTTP/2, Node listener)": (_, context) =>
    createServerTransport("a-token", { baseUrl: `http://127.0.0.1:${h2.address().port}`, interceptors: [withContext(context)] }),
  "connect-node Connect, binary, HTTP/2 (Node listener)": (_, context) =>
    createNodeConnectTransport({ baseUrl: `http://127.0.0.1:${h2.address().port}`, httpVersion: "2", useBinaryFormat: true, interceptors: [withContext(context)] }),
  "@zitadel/client/web default (gRPC-web, binary)": (fetch) => createClientTransport("a-token", { baseUrl, fetch }),
  "connect-web Connect, JSON": (fetch) => createConnectTransport({ baseUrl, fetch }),
  "connect-web Connect, binary": (fetch) => createConnectTransport({ baseUrl, fetch, useBinaryFormat: true }),
  "connect-web gRPC-web, JSON": (fetch) => createGrpcWebTransport({ baseUrl, fetch, useBinaryFormat: false }),
};
let transport = Object.values(TRANSPORTS)[0];
let transportName = "";
const client = (context) => createUserServiceClient(transport(fetchFrom(sample, context), context));

/** RFC 3339 of a decoded google.protobuf.Timestamp, as protojson writes it. */
function rfc3339(ts) {
  const date = new Date(Number(ts.seconds) * 1000).toISOString().replace(".000Z", "");
  const nanos = String(ts.nanos).padStart(9, "0");
  const frac = ts.nanos === 0 ? "" : `.${nanos.endsWith("000000") ? nanos.slice(0, 3) : nanos.endsWith("000") ? nanos.slice(0, 6) : nanos}`;
  return `${date}${frac}Z`;
}

async function expectAnswer(name, request, context) {
  const want = sample.listIdpLinks({ userId: request.userId, query: { ...request.query, offset: request.query?.offset?.toString() } }, context);
  try {
    const got = await client(context).listIDPLinks(request);
    const decoded = {
      details: {
        totalResult: got.details.totalResult === 0n ? undefined : String(got.details.totalResult),
        processedSequence: got.details.processedSequence === 0n ? undefined : String(got.details.processedSequence),
        timestamp: rfc3339(got.details.timestamp),
      },
      result: got.result.length === 0 ? undefined : got.result.map((r) => ({ idpId: r.idpId, userId: r.userId, userName: r.userName || undefined })),
    };
    check(`${transportName}: ${name}`, JSON.stringify(decoded) === JSON.stringify(want), `${JSON.stringify(decoded)}\nexpected ${JSON.stringify(want)}`);
  } catch (e) {
    check(`${transportName}: ${name}`, false, String(e));
  }
}

/** The call must fail with `code` and `message`, and Zitadel's ErrorDetail `detail` ([id, text]) if given. */
async function expectError(name, request, context, code, message, detail) {
  try {
    await client(context).listIDPLinks(request);
    check(`${transportName}: ${name}`, false, "no error");
  } catch (e) {
    const details = e instanceof ConnectError ? e.findDetails(ErrorDetailSchema).map((d) => [d.id, d.message]) : [];
    const ok = e instanceof ConnectError && e.code === code && e.rawMessage === message && JSON.stringify(details) === JSON.stringify(detail ? [detail] : []);
    check(`${transportName}: ${name}`, ok, `${e && e.code} ${e && e.rawMessage} ${JSON.stringify(details)}`);
  }
}

for ([transportName, transport] of Object.entries(TRANSPORTS)) {
  await expectAnswer("all of a user's links, newest first", { userId: "demo" });
  await expectAnswer("paged, ascending", { userId: "demo", query: { offset: 1n, limit: 2, asc: true } });
  await expectAnswer("a user with an empty IdP user name", { userId: "mary", query: { asc: true } });
  await expectAnswer("a user without links", { userId: "peter" });
  await expectAnswer("own links without permissions", { userId: "demo" }, { caller: { userId: "demo" } });
  await expectAnswer("user.read on the user's organisation", { userId: "demo" }, { caller: { userId: "kermit", permissions: ["user.read@acme"] } });
  await expectError("limit above the maximum", { userId: "demo", query: { limit: 1001 } }, undefined, Code.InvalidArgument, "Limit exceeded (QUERY-4M0fs)", ["QUERY-4M0fs", "Limit exceeded"]);
  await expectError("empty user id", { userId: "" }, undefined, Code.InvalidArgument, "invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive");
  await expectError("caller without any permission", { userId: "demo" }, { caller: { userId: "mary" } }, Code.NotFound, "membership not found (AUTHZ-cdgFk)", ["AUTHZ-cdgFk", "membership not found"]);
  await expectError("caller with other permissions", { userId: "demo" }, { caller: { userId: "mary", permissions: ["user.read@globex"] } }, Code.PermissionDenied, "No matching permissions found (AUTH-AWfge)", ["AUTH-AWfge", "No matching permissions found"]);
}

// --- Connect JSON with protobuf field names, as protojson accepts them ---------------------------
{
  const post = (body) => handleRequest(sample, new Request(`${baseUrl}/zitadel.user.v2.UserService/ListIDPLinks`, { method: "POST", body, headers: { "content-type": "application/json" } }), undefined, { auth: "trusted" });
  const byProtoName = await (await post('{"user_id":"demo","query":{"limit":2}}')).text();
  check("Connect JSON: user_id is userId", byProtoName === sample.listIdpLinksJson({ userId: "demo", query: { limit: 2 } }), byProtoName);
  const both = await post('{"user_id":"demo","userId":"demo"}');
  check("Connect JSON: both names are a duplicate field", both.status === 400 && (await both.json()).code === "invalid_argument");
}

// --- Every conformance case over HTTP, with fetch ----------------------------------------------
// Camunda's paths: bare, under /engine-rest, and under /engine-rest/engine/default — the form
// camunda-bpm-sdk-js (engine "default") and Camunda's webapps call, with the SDK's Accept header.
const CAMUNDA_PREFIXES = ["", "/engine-rest", "/engine-rest/engine/default"];
const SDK_HEADERS = { accept: "application/hal+json, application/json; q=0.5" };
const enc = encodeURIComponent;
let sent = 0;
for (const file of readdirSync(conformanceDir).filter((f) => f.endsWith(".json")).sort()) {
  for (const c of JSON.parse(readFileSync(join(conformanceDir, file), "utf8")).cases) {
    if (c.call === "load") continue;
    const snapshot = Snapshot.fromJson(JSON.stringify(c.snapshot), c.options);
    const fetch = fetchFrom(snapshot, c.context);
    const r = c.request ?? {};
    const requests = [];
    if (c.call === "getIdentityLinks") {
      const query = typeof r.type === "string" ? `?type=${enc(r.type)}` : "";
      for (const prefix of CAMUNDA_PREFIXES) requests.push([`http://camunda.example${prefix}/task/${enc(r.taskId)}/identity-links${query}`, { method: "GET", headers: SDK_HEADERS }]);
    } else if (c.call === "getUserGroups") {
      const query = typeof r.userId === "string" ? `?userId=${enc(r.userId)}` : "";
      for (const prefix of CAMUNDA_PREFIXES) requests.push([`http://camunda.example${prefix}/identity/groups${query}`, { method: "GET", headers: SDK_HEADERS }]);
    } else if (r.userId) {
      requests.push([`http://zitadel.example/v2/users/${enc(r.userId)}/links/_search`, { method: "POST", body: JSON.stringify({ query: r.query }), headers: { "content-type": "application/json" } }]);
    }
    for (const [url, init] of requests) {
      sent++;
      const res = await fetch(url, init);
      const body = await res.text();
      const ok = res.status === c.expect.status && body === JSON.stringify(c.expect.body) && res.headers.get("content-type") === "application/json";
      check(`fetch ${file} / ${c.name}: ${init.method} ${url}`, ok, `${res.status} ${body}\nexpected ${c.expect.status} ${JSON.stringify(c.expect.body)}`);
    }
    snapshot.free();
  }
}
check("conformance requests were sent", sent > 60, `${sent}`);
{
  const res = await fetchFrom(sample)("http://camunda.example/engine-rest/engine/other/identity/groups?userId=demo", { headers: SDK_HEADERS });
  const body = await res.text();
  check("an engine not served is Camunda's 400", res.status === 400 && body === '{"type":"InvalidRequestException","message":"No process engine available","code":null}', `${res.status} ${body}`);
}

h2.close();
for (const session of sessions) session.destroy();
