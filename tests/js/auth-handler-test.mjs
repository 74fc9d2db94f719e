// handleRequest with `options.auth`, through the built package in Node (make test-auth): the
// handler serves no one until told how; with AuthOptions the caller comes from the request —
// Zitadel's bearer tokens verified against a key set served here on 127.0.0.1, Camunda's user
// from a claim or a verifier — and every refusal is the peer's, in the route's protocol.
import { check } from "./check.mjs";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT, exportJWK, generateKeyPair } from "jose";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const api = await import(join(root, "pkg/node/index.mjs"));
const { Snapshot, handleRequest } = api;
const sample = Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json"), "utf8"));

// A key set on 127.0.0.1; `down` makes it answer 500 (an issuer that cannot be reached).
const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256", use: "sig" }] };
let down = false;
const server = createServer((req, res) => {
  if (down) return res.writeHead(500).end();
  res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
});
await new Promise((done) => server.listen(0, "127.0.0.1", done));
const issuer = `http://127.0.0.1:${server.address().port}`;
const token = (claims, key = privateKey) =>
  new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: "k1" }).setIssuer(issuer).setAudience("project").setIssuedAt().setExpirationTime("5m").sign(key);

const ZITADEL = { zitadel: { issuer, audience: "project" } };
const options = { auth: { ...ZITADEL, camunda: { zitadelClaim: "preferred_username" } } };
const rest = (user, headers = {}) => new Request(`http://x/v2/users/${user}/links/_search`, { method: "POST", body: "{}", headers });
const connect = (user, headers = {}) =>
  new Request("http://x/zitadel.user.v2.UserService/ListIDPLinks", { method: "POST", body: JSON.stringify({ userId: user }), headers: { "content-type": "application/json", ...headers } });
const grpcWeb = (headers = {}) =>
  new Request("http://x/zitadel.user.v2.UserService/ListIDPLinks", { method: "POST", body: new Uint8Array([0, 0, 0, 0, 6, 10, 4, 100, 101, 109, 111]), headers: { "content-type": "application/grpc-web+proto", ...headers } });
const groups = (headers = {}, engine = "") => new Request(`http://x/engine-rest${engine}/identity/groups?userId=demo`, { headers });
const bearer = async (claims) => ({ authorization: `Bearer ${await token(claims)}` });
const outcome = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

// --- auth is required, and says who ------------------------------------------------------------
for (const [name, opts] of [["no options", undefined], ["options without auth", {}], ["auth: null", { auth: null }], ["auth: 'yes'", { auth: "yes" }]]) {
  const { error } = await outcome(handleRequest(sample, groups(), undefined, opts));
  check(`${name}: rejects with a UsageError naming options.auth`, error?.body?.type === "UsageError" && /options\.auth/.test(error.message), String(error?.message));
}
{
  const { error } = await outcome(handleRequest(sample, groups(), { caller: { userId: "demo" } }, options));
  check("AuthOptions with a context: a UsageError (the caller comes from the request)", error?.body?.type === "UsageError", String(error?.message));
  const bad = await outcome(handleRequest(sample, groups(), undefined, { auth: { zitadel: { issuer: 7, audience: "x" } } }));
  check("a bad verifier option: a UsageError naming it", bad.error?.body?.type === "UsageError" && bad.error.message.includes("auth.zitadel.issuer"), String(bad.error?.message));
}

// --- Zitadel's routes ----------------------------------------------------------------------------
{
  const own = await handleRequest(sample, rest("demo", await bearer({ sub: "demo" })), undefined, options);
  check("REST: a verified user reads their own links", own.status === 200 && (await own.text()) === sample.listIdpLinksJson({ userId: "demo" }));
  const other = await handleRequest(sample, rest("demo", await bearer({ sub: "mary" })), undefined, options);
  const otherBody = await other.json();
  check("REST: another user without memberships: 404 AUTHZ-cdgFk", other.status === 404 && otherBody.message === "membership not found (AUTHZ-cdgFk)", JSON.stringify(otherBody));
  const missing = await handleRequest(sample, rest("demo"), undefined, options);
  check("REST: no header: 401 {code:16,'auth header missing'} and grpc-gateway's Www-Authenticate", missing.status === 401 && (await missing.text()) === '{"code":16,"message":"auth header missing"}' && missing.headers.get("www-authenticate") === "auth header missing");
  const malformed = await handleRequest(sample, rest("demo", { authorization: "bearer x" }), undefined, options);
  const malformedBody = await malformed.json();
  check("REST: 'bearer x': 401 invalid auth header (AUTH-7fs1e)", malformed.status === 401 && malformedBody.message === "invalid auth header (AUTH-7fs1e)" && malformedBody.details[0].id === "AUTH-7fs1e", JSON.stringify(malformedBody));
  const otherKey = (await generateKeyPair("ES256")).privateKey;
  const forged = await handleRequest(sample, rest("demo", { authorization: `Bearer ${await token({ sub: "demo" }, otherKey)}` }), undefined, options);
  check("REST: a token signed by another key: 401 Errors.Token.Invalid (AUTH-7fs1e)", forged.status === 401 && (await forged.json()).message === "Errors.Token.Invalid (AUTH-7fs1e)");
  const connectMissing = await handleRequest(sample, connect("demo"), undefined, options);
  check("Connect: no header: 401 {code:'unauthenticated','auth header missing'}", connectMissing.status === 401 && (await connectMissing.text()) === '{"code":"unauthenticated","message":"auth header missing"}');
  const connectOwn = await handleRequest(sample, connect("demo", await bearer({ sub: "demo" })), undefined, options);
  check("Connect: a verified user reads their own links", connectOwn.status === 200);
  const web = await handleRequest(sample, grpcWeb(), undefined, options);
  check("gRPC-web: no header: grpc-status 16 in the headers, no body", web.status === 200 && web.headers.get("grpc-status") === "16" && web.headers.get("grpc-message") === "auth header missing" && (await web.arrayBuffer()).byteLength === 0);
  const badBody = await handleRequest(sample, new Request("http://x/zitadel.user.v2.UserService/ListIDPLinks", { method: "POST", body: "{", headers: { "content-type": "application/json" } }), undefined, options);
  check("Connect: a malformed body is 400 before the caller is checked (as connect-go decodes first)", badBody.status === 400);
  // A new options object has a verifier of its own, with no keys yet: the issuer is down.
  down = true;
  const unreachable = await handleRequest(sample, rest("demo", await bearer({ sub: "demo" })), undefined, { auth: { ...ZITADEL } });
  const unreachableConnect = await handleRequest(sample, connect("demo", await bearer({ sub: "demo" })), undefined, { auth: { ...ZITADEL } });
  check("REST and Connect: keys unreachable: 503 code 14 / unavailable, never a 200", unreachable.status === 503 && (await unreachable.json()).code === 14 && unreachableConnect.status === 503 && (await unreachableConnect.json()).code === "unavailable");
  const camundaDown = await handleRequest(sample, groups(await bearer({ sub: "s", preferred_username: "demo" })), undefined, { auth: { ...ZITADEL, camunda: { zitadelClaim: "preferred_username" } } });
  check("Camunda: keys unreachable: 503, never a 200 or a 401", camundaDown.status === 503);
  down = false;
}

// --- Camunda's routes ----------------------------------------------------------------------------
{
  const unauthenticated = await handleRequest(sample, groups(), undefined, options);
  check("Camunda: no token: 401, no body, WWW-Authenticate Basic realm=\"default\"", unauthenticated.status === 401 && unauthenticated.headers.get("www-authenticate") === 'Basic realm="default"' && (await unauthenticated.text()) === "");
  const named = await handleRequest(sample, groups({}, "/engine/default"), undefined, options);
  check("Camunda: the realm names the engine of the path", named.headers.get("www-authenticate") === 'Basic realm="default"');
  const unknown = await handleRequest(sample, groups({}, "/engine/other"), undefined, options);
  check("Camunda: an unknown engine: 404 'Process engine other not available' before authentication", unknown.status === 404 && (await unknown.json()).message === "Process engine other not available");
  const claimed = await handleRequest(sample, groups(await bearer({ sub: "s", preferred_username: "demo" })), undefined, options);
  check("Camunda: the caller from a verified token's claim: answered (authorization off: everything)", claimed.status === 200 && (await claimed.text()) === sample.getUserGroupsJson({ userId: "demo" }));
  const noClaim = await handleRequest(sample, groups(await bearer({ sub: "s" })), undefined, options);
  check("Camunda: a verified token without the claim: 401", noClaim.status === 401);
  const identified = { auth: { camunda: { identify: (request) => (request.headers.get("x-user") === "demo" ? "demo" : null) } } };
  const byVerifier = await handleRequest(sample, groups({ "x-user": "demo" }), undefined, identified);
  const nobody = await handleRequest(sample, groups(), undefined, identified);
  check("Camunda: the caller from the user's verifier; null is 401", byVerifier.status === 200 && nobody.status === 401);
  const zitadelWithout = await handleRequest(sample, rest("demo", await bearer({ sub: "demo" })), undefined, identified);
  check("a peer without an entry in auth answers its 401 to everyone (Zitadel: invalid token)", zitadelWithout.status === 401 && (await zitadelWithout.json()).message === "Errors.Token.Invalid (AUTH-7fs1e)");
  const odd = await outcome(handleRequest(sample, groups(), undefined, { auth: { camunda: { identify: () => 7 } } }));
  check("Camunda: a verifier that gives no string rejects with a UsageError", odd.error?.body?.type === "UsageError", String(odd.error?.message));
}

// --- The caller's rights from the snapshot (memberships, authorization rows) ------------------------
{
  const rights = Snapshot.fromObject({
    version: 1,
    users: [{ id: "u1", org: "o" }, { id: "admin", org: "o" }, { id: "reader" }, { id: "other" }],
    tasks: [{ id: "t", assignee: "u1", processDefinitionKey: "invoice" }],
    idpLinks: [{ userId: "u1", idpId: "google", providedUserId: "g1", providedUserName: "u" }],
    zitadelMembers: [{ userId: "admin", org: "o", roles: ["ORG_USER_MANAGER"] }],
    authorizationEnabled: true,
    authorizations: [{ type: 1, userId: "reader", resourceType: 7, resourceId: "t", permissions: 2 }],
  });
  const byAdmin = await handleRequest(rights, rest("u1", await bearer({ sub: "admin" })), undefined, options);
  const byStranger = await handleRequest(rights, rest("u1", await bearer({ sub: "other" })), undefined, options);
  check("Zitadel: an org member whose role grants user.read reads the org's users' links; a stranger gets 404", byAdmin.status === 200 && byStranger.status === 404, `${byAdmin.status} ${byStranger.status}`);
  const asUser = (user) => ({ auth: { camunda: { identify: () => user } } });
  const links = () => new Request("http://x/engine-rest/task/t/identity-links");
  const granted = await handleRequest(rights, links(), undefined, asUser("reader"));
  const denied = await handleRequest(rights, links(), undefined, asUser("other"));
  check("Camunda: READ on the task from the snapshot's rows answers; without it 403 AuthorizationException", granted.status === 200 && denied.status === 403 && (await denied.json()).type === "AuthorizationException", `${granted.status} ${denied.status}`);
  rights.free();
}

// --- auth.zitadel.rolePermissions: Zitadel's role -> permission mapping, replaced ---------------
{
  const members = Snapshot.fromObject({
    version: 1,
    users: [{ id: "u1", org: "o" }, { id: "owner", org: "o" }, { id: "settings", org: "o" }],
    idpLinks: [{ userId: "u1", idpId: "google", providedUserId: "g1", providedUserName: "u" }],
    zitadelMembers: [{ userId: "owner", org: "o", roles: ["ORG_OWNER"] }, { userId: "settings", org: "o", roles: ["ORG_SETTINGS_MANAGER"] }],
  });
  const byDefault = { auth: { ...ZITADEL } };
  const replaced = { auth: { zitadel: { ...ZITADEL.zitadel, rolePermissions: { ORG_SETTINGS_MANAGER: ["user.read"], ORG_OWNER: ["org.read"] } } } };
  const statuses = async (opts) => {
    const answers = [];
    for (const caller of ["owner", "settings"]) answers.push((await handleRequest(members, rest("u1", await bearer({ sub: caller })), undefined, opts)).status);
    return answers.join(" ");
  };
  check("rolePermissions absent: Zitadel's defaults (ORG_OWNER reads the org's users, ORG_SETTINGS_MANAGER 403)", (await statuses(byDefault)) === "200 403");
  check("rolePermissions replaces the mapping whole (ORG_SETTINGS_MANAGER granted, ORG_OWNER no longer)", (await statuses(replaced)) === "403 200", await statuses(replaced));
  const viaConnect = await handleRequest(members, connect("u1", await bearer({ sub: "settings" })), undefined, replaced);
  check("rolePermissions over Connect too", viaConnect.status === 200);
  const bad = await outcome(handleRequest(members, rest("u1", await bearer({ sub: "owner" })), undefined, { auth: { zitadel: { ...ZITADEL.zitadel, rolePermissions: { ORG_OWNER: "user.read" } } } }));
  check("rolePermissions not an array of strings: rejected with a UsageError naming it", bad.error?.status === 400 && bad.error.body?.type === "UsageError" && bad.error.message.includes("options.auth.zitadel.rolePermissions.ORG_OWNER"), String(bad.error?.message));
  members.free();
}

// --- The browser entry (index.js): the verifier imported with import() on first use ----------------
{
  const web = await import(join(root, "pkg/index.js"));
  await web.default({ module_or_path: readFileSync(join(root, "pkg/identity_links_bg.wasm")) });
  const snapshot = web.Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json"), "utf8"));
  const bad = await outcome(web.handleRequest(snapshot, rest("demo"), undefined, { auth: { zitadel: { issuer: 7, audience: "x" } } }));
  check("browser entry: a bad verifier option (checked once the verifier is loaded): a UsageError naming it", bad.error?.body?.type === "UsageError" && bad.error.message.includes("auth.zitadel.issuer"), String(bad.error?.message));
  // The first requests with one options object share the verifier being loaded.
  const once = { auth: { ...ZITADEL } };
  const [own, none, forged] = await Promise.all([
    web.handleRequest(snapshot, rest("demo", await bearer({ sub: "demo" })), undefined, once),
    web.handleRequest(snapshot, rest("demo"), undefined, once),
    web.handleRequest(snapshot, rest("demo", { authorization: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJkZW1vIn0." }), undefined, once),
  ]);
  check("browser entry: the verifier loaded by import() verifies; no header and alg none are refused", own.status === 200 && none.status === 401 && forged.status === 401 && (await forged.json()).message === "Errors.Token.Invalid (AUTH-7fs1e)", `${own.status} ${none.status} ${forged.status}`);
  snapshot.free();
}

server.close();
sample.free();
