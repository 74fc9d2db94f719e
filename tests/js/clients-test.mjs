// Real clients against handleRequest: Zitadel's official TypeScript client (@zitadel/client over
// @connectrpc/connect-web's Connect transport, whose fetch calls handleRequest) with decoded
// answers and errors checked; and every Camunda and Zitadel conformance case sent with a
// fetch-shaped function backed by handleRequest. Prints "clients: N passed, M failed".
import { createUserServiceClient } from "@zitadel/client/v2";
import { createConnectTransport } from "@connectrpc/connect-web";
import { Code, ConnectError } from "@connectrpc/connect";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { Snapshot, handleRequest } = await import(join(root, "pkg/node/index.mjs"));
const conformanceDir = process.env.IDENTITY_LINKS_CONFORMANCE ?? resolve(root, "../shared/conformance");

const results = [];
const check = (name, ok, detail = "") => results.push({ name, ok: Boolean(ok), detail });

/** A `fetch` that answers from `snapshot` through handleRequest, as a worker would. */
const fetchFrom = (snapshot, context) => (input, init) => handleRequest(snapshot, new Request(input, init), context);

// --- Zitadel's official client over a Connect transport ---------------------------------------
const sample = Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json")));
function client(context) {
  const transport = createConnectTransport({ baseUrl: "https://zitadel.example.com", fetch: fetchFrom(sample, context) });
  return createUserServiceClient(transport);
}

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
    check(`zitadel client: ${name}`, JSON.stringify(decoded) === JSON.stringify(want), `${JSON.stringify(decoded)}\nexpected ${JSON.stringify(want)}`);
  } catch (e) {
    check(`zitadel client: ${name}`, false, String(e));
  }
}

async function expectError(name, request, context, code, message) {
  try {
    await client(context).listIDPLinks(request);
    check(`zitadel client: ${name}`, false, "no error");
  } catch (e) {
    const ok = e instanceof ConnectError && e.code === code && e.rawMessage === message;
    check(`zitadel client: ${name}`, ok, `${e && e.code} ${e && e.rawMessage}`);
  }
}

await expectAnswer("all of a user's links, newest first", { userId: "demo" });
await expectAnswer("paged, ascending", { userId: "demo", query: { offset: 1n, limit: 2, asc: true } });
await expectAnswer("a user with an empty IdP user name", { userId: "mary", query: { asc: true } });
await expectAnswer("a user without links", { userId: "peter" });
await expectAnswer("own links without permissions", { userId: "demo" }, { caller: { userId: "demo" } });
await expectAnswer("user.read on the user's organisation", { userId: "demo" }, { caller: { userId: "kermit", permissions: ["user.read@acme"] } });
await expectError("limit above the maximum", { userId: "demo", query: { limit: 1001 } }, undefined, Code.InvalidArgument, "Limit exceeded (QUERY-4M0fs)");
await expectError("empty user id", { userId: "" }, undefined, Code.InvalidArgument, "invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive");
await expectError("caller without any permission", { userId: "demo" }, { caller: { userId: "mary" } }, Code.NotFound, "membership not found (AUTHZ-cdgFk)");
await expectError("caller with other permissions", { userId: "demo" }, { caller: { userId: "mary", permissions: ["user.read@globex"] } }, Code.PermissionDenied, "No matching permissions found (AUTH-AWfge)");

// --- Every conformance case over HTTP, with fetch ----------------------------------------------
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
      for (const prefix of ["", "/engine-rest"]) requests.push([`http://camunda.example${prefix}/task/${enc(r.taskId)}/identity-links${query}`, { method: "GET" }]);
    } else if (c.call === "getUserGroups") {
      const query = typeof r.userId === "string" ? `?userId=${enc(r.userId)}` : "";
      for (const prefix of ["", "/engine-rest"]) requests.push([`http://camunda.example${prefix}/identity/groups${query}`, { method: "GET" }]);
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
check("conformance requests were sent", sent > 40, `${sent}`);

const failed = results.filter((r) => !r.ok);
for (const r of failed) console.log(`  FAIL ${r.name}\n       ${r.detail.replaceAll("\n", "\n       ")}`);
console.log(`clients: ${results.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length === 0 ? 0 : 1);
