// Issue 23's test matrix (make test-auth): every token case over every protocol Zitadel's route
// speaks — the REST gateway, Connect with JSON and with binary bodies, gRPC-web, and gRPC over
// HTTP/2 through the Node listener (raw frames and trailers, and connect-node's gRPC client) — plus
// Camunda's routes through handleRequest and the Node listener over HTTP/1.1.
//
// Table-driven: TOKENS (what the caller sends) × PROTOCOLS (how it is sent). Each protocol is a
// function that sends one request with one `Authorization` value and returns a normalized answer:
// the status, the body's bytes, and the headers and trailers that matter. Every refusal of an
// invalid token must be byte-equal to every other in that protocol (Zitadel answers one
// AUTH-7fs1e "Errors.Token.Invalid" whatever the reason: internal/api/authz/context.go), and every
// accepted one byte-equal to the same request answered with `auth: "trusted"`.
//
// The key set, its fetch counter, an endpoint that fails and an introspection endpoint are served
// here on 127.0.0.1; keys are made for this run.
import { check } from "./check.mjs";
import { createServer } from "node:http";
import { connect as connectHttp2, createServer as createHttp2Server } from "node:http2";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SignJWT, exportJWK, exportSPKI, generateKeyPair } from "jose";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ConnectError } from "@connectrpc/connect";
import { createUserServiceClient } from "@zitadel/client/v2";
import { ErrorDetailSchema } from "@zitadel/proto/zitadel/message_pb.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { Snapshot, handleRequest } = await import(join(root, "pkg/node/index.mjs"));
const { createNodeListener } = await import(join(root, "pkg/node/listener.mjs"));
const sample = Snapshot.fromJson(readFileSync(join(root, "www/sample-snapshot.json"), "utf8"));

// --- Keys and the issuer on 127.0.0.1 ------------------------------------------------------------
const rsa = await generateKeyPair("RS256", { extractable: true });
const ec = await generateKeyPair("ES256", { extractable: true });
const stranger = await generateKeyPair("ES256", { extractable: true }); // a key the issuer never served
const publicJwk = async (pair, kid, alg) => ({ ...(await exportJWK(pair.publicKey)), kid, alg, use: "sig" });
/** The key set served at /oauth/v2/keys; tests add keys to it (rotation). */
const served = [await publicJwk(rsa, "rsa1", "RS256"), await publicJwk(ec, "ec1", "ES256")];
let keyFetches = 0;
const INTROSPECTION_CLIENT = { clientId: "matrix", clientSecret: "s3cret" };
const OPAQUE_ACTIVE = "opaque-active-token";
const OPAQUE_INACTIVE = "opaque-inactive-token";
/** Inactive, but with a `sub` (RFC 7662 section 2.2 requires only `active`; an endpoint may say more). */
const OPAQUE_INACTIVE_WITH_SUB = "opaque-inactive-token-with-sub";
const issuerServer = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk) => (body += chunk));
  req.on("end", () => {
    const json = (status, value) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));
    if (req.url === "/oauth/v2/keys") {
      keyFetches++;
      return json(200, { keys: served });
    }
    if (req.url === "/down") return res.writeHead(500).end();
    if (req.url === "/introspect" && req.method === "POST") {
      const basic = `Basic ${Buffer.from(`${INTROSPECTION_CLIENT.clientId}:${INTROSPECTION_CLIENT.clientSecret}`).toString("base64")}`;
      if (req.headers.authorization !== basic) return json(401, { error: "invalid_client" });
      const token = new URLSearchParams(body).get("token");
      if (token === OPAQUE_ACTIVE) return json(200, { active: true, sub: "demo", exp: Math.floor(Date.now() / 1000) + 300 });
      if (token === OPAQUE_INACTIVE_WITH_SUB) return json(200, { active: false, sub: "demo" });
      return json(200, { active: false });
    }
    res.writeHead(404).end();
  });
});
await new Promise((done) => issuerServer.listen(0, "127.0.0.1", done));
const issuer = `http://127.0.0.1:${issuerServer.address().port}`;
// A port nobody listens on: a key set that cannot be reached at all.
const closedPort = await new Promise((done) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const { port } = s.address();
    s.close(() => done(port));
  });
});

const AUDIENCE = "project";
const now = () => Math.floor(Date.now() / 1000);
const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
/** A JWT signed with `key` (default: the EC key, kid ec1), with claims overriding a valid set. */
async function jwt({ claims = {}, alg = "ES256", kid = "ec1", key = ec.privateKey, iss = issuer, aud = AUDIENCE, exp = now() + 300, nbf } = {}) {
  const payload = { sub: "demo", iss, aud, exp, iat: now(), ...claims };
  if (nbf !== undefined) payload.nbf = nbf;
  return new SignJWT(payload).setProtectedHeader({ alg, kid }).sign(key);
}
const bearer = (token) => `Bearer ${token}`;

/** Every token that must be refused with the one AUTH-7fs1e answer (name → Authorization value). */
async function invalidTokens() {
  const valid = await jwt();
  const [header, , signature] = valid.split(".");
  const rsaPem = await exportSPKI(rsa.publicKey);
  return {
    expired: bearer(await jwt({ exp: now() - 60 })),
    "not yet valid (nbf in an hour)": bearer(await jwt({ nbf: now() + 3600 })),
    "wrong issuer": bearer(await jwt({ iss: "https://evil.example" })),
    "wrong audience": bearer(await jwt({ aud: "another-project" })),
    "signed by another key (same kid)": bearer(await jwt({ key: stranger.privateKey })),
    "unknown kid": bearer(await jwt({ kid: "no-such-kid" })),
    "alg: none": bearer(`${b64url({ alg: "none", kid: "ec1" })}.${b64url({ sub: "demo", iss: issuer, aud: AUDIENCE, exp: now() + 300 })}.`),
    // The classic confusion: HMAC keyed with the RSA public key's PEM, under the RSA key's kid.
    "HS256 signed with the public key": bearer(await jwt({ alg: "HS256", kid: "rsa1", key: new TextEncoder().encode(rsaPem) })),
    "payload changed after signing": bearer(`${header}.${b64url({ sub: "demo", iss: issuer, aud: AUDIENCE, exp: now() + 86400, iat: now() })}.${signature}`),
    garbage: bearer("garbage"),
    "garbage in three parts": bearer("eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln"),
  };
}

// --- The protocols ----------------------------------------------------------------------------------
// A context is { snapshot, options }; each protocol sends `user`'s ListIDPLinks with `authorization`
// (undefined: no header) and returns { status, body (bytes as hex), headers, trailers } of what
// matters, and `code`/`message`: the gRPC status it carries, read the way that protocol says it.
const SERVICE_PATH = "/zitadel.user.v2.UserService/ListIDPLinks";
const KEPT_HEADERS = ["content-type", "www-authenticate", "grpc-status", "grpc-message", "grpc-status-details-bin"];
const CONNECT_CODES = { ok: 0, not_found: 5, permission_denied: 7, unavailable: 14, unauthenticated: 16, invalid_argument: 3 };
/** ListIDPLinksRequest { user_id = 1 } in protobuf. */
const protoRequest = (user) => {
  const id = Buffer.from(user);
  return Buffer.concat([Buffer.from([10, id.length]), id]);
};
/** A gRPC / gRPC-web message frame. */
const frame = (message) => Buffer.concat([Buffer.from([0, 0, 0, 0, message.length]), message]);
const kept = (get) => Object.fromEntries(KEPT_HEADERS.map((name) => [name, get(name) ?? null]).filter(([, v]) => v !== null));

async function viaHandler(ctx, request) {
  const response = await handleRequest(ctx.snapshot, request, undefined, ctx.options);
  const body = Buffer.from(await response.arrayBuffer());
  return { status: response.status, headers: kept((n) => response.headers.get(n)), trailers: {}, body: body.toString("hex"), bytes: body };
}
const withAuth = (authorization, headers) => (authorization === undefined ? headers : { ...headers, authorization });

/** The gRPC-web trailer frame (flag 0x80) of a body, as a header map. */
function grpcWebTrailers(bytes) {
  let at = 0;
  while (at + 5 <= bytes.length) {
    const length = bytes.readUInt32BE(at + 1);
    if (bytes[at] & 0x80) {
      const text = bytes.subarray(at + 5, at + 5 + length).toString("latin1");
      return Object.fromEntries(text.split("\r\n").filter(Boolean).map((line) => [line.slice(0, line.indexOf(":")).trim().toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
    }
    at += 5 + length;
  }
  return {};
}

// The Node listener over HTTP/2 (gRPC needs trailers): one server, one listener per context,
// chosen by a header of the test's own.
const listeners = new Map();
const listenerIds = new WeakMap();
const h2 = createHttp2Server((req, res) => listeners.get(req.headers["x-matrix-context"])(req, res));
await new Promise((done) => h2.listen(0, "127.0.0.1", done));
const h2Origin = `http://127.0.0.1:${h2.address().port}`;
const serverSessions = new Set();
h2.on("session", (s) => serverSessions.add(s));
function listenerFor(ctx) {
  let id = listenerIds.get(ctx);
  if (id === undefined) {
    id = String(listeners.size);
    listeners.set(id, createNodeListener(ctx.snapshot, { options: ctx.options }));
    listenerIds.set(ctx, id);
  }
  return id;
}
const h2Client = connectHttp2(h2Origin);

/** A gRPC call with raw frames over HTTP/2: the status, headers, body bytes and trailers as sent. */
function rawGrpc(ctx, user, authorization) {
  return new Promise((done, fail) => {
    const headers = { ":method": "POST", ":path": SERVICE_PATH, "content-type": "application/grpc+proto", te: "trailers", "x-matrix-context": listenerFor(ctx) };
    const stream = h2Client.request(withAuth(authorization, headers));
    let head = {};
    let trailers = {};
    let trailersOnly = false;
    const chunks = [];
    stream.on("response", (h, flags) => ((head = h), (trailersOnly = (flags & 1) === 1))); // END_STREAM on the HEADERS frame
    stream.on("trailers", (t) => (trailers = t));
    stream.on("data", (c) => chunks.push(c));
    stream.on("error", fail);
    stream.on("end", () => {
      const body = Buffer.concat(chunks);
      const wanted = ["grpc-status", "grpc-message", "grpc-status-details-bin"];
      done({ status: head[":status"], headers: kept((n) => head[n]), trailers: Object.fromEntries(wanted.filter((n) => trailers[n] !== undefined).map((n) => [n, trailers[n]])), body: body.toString("hex"), bytes: body, trailersOnly });
    });
    stream.end(frame(protoRequest(user)));
  });
}

/** connect-node's gRPC transport (what @zitadel/client/node uses) against the same listener. */
async function clientGrpc(ctx, user, authorization) {
  const transport = createGrpcTransport({
    baseUrl: h2Origin,
    interceptors: [
      (next) => (req) => {
        req.header.set("x-matrix-context", listenerFor(ctx));
        if (authorization !== undefined) req.header.set("authorization", authorization);
        return next(req);
      },
    ],
  });
  try {
    const answer = await createUserServiceClient(transport).listIDPLinks({ userId: user });
    const result = answer.result.map((r) => [r.idpId, r.userId, r.userName]);
    const body = JSON.stringify({ total: String(answer.details?.totalResult), result });
    return { status: 200, headers: {}, trailers: { "grpc-status": "0" }, body, clientCode: 0, clientMessage: "" };
  } catch (error) {
    if (!(error instanceof ConnectError)) throw error;
    const details = error.findDetails(ErrorDetailSchema).map((d) => [d.id, d.message]);
    const trailers = { "grpc-status": String(error.code), "grpc-message": error.rawMessage };
    return { status: 200, headers: {}, trailers, body: JSON.stringify(details), clientCode: error.code, clientMessage: error.rawMessage };
  }
}

/** name → { send(ctx, user, authorization), code(answer), message(answer), status(code) }: the HTTP status its code goes with. */
const HTTP_STATUS = { 0: 200, 3: 400, 5: 404, 7: 403, 14: 503, 16: 401 };
const json = (answer) => JSON.parse(answer.bytes.toString("utf8"));
const PROTOCOLS = {
  "REST gateway": {
    send: (ctx, user, authorization) =>
      viaHandler(ctx, new Request(`http://z/v2/users/${user}/links/_search`, { method: "POST", body: "{}", headers: withAuth(authorization, { "content-type": "application/json" }) })),
    code: (a) => (a.status === 200 ? 0 : json(a).code),
    message: (a) => (a.status === 200 ? "" : json(a).message),
    status: (code) => HTTP_STATUS[code],
  },
  "Connect, JSON": {
    send: (ctx, user, authorization) =>
      viaHandler(ctx, new Request(`http://z${SERVICE_PATH}`, { method: "POST", body: JSON.stringify({ userId: user }), headers: withAuth(authorization, { "content-type": "application/json" }) })),
    code: (a) => (a.status === 200 ? 0 : CONNECT_CODES[json(a).code]),
    message: (a) => (a.status === 200 ? "" : json(a).message),
    status: (code) => HTTP_STATUS[code],
  },
  "Connect, binary": {
    send: (ctx, user, authorization) =>
      viaHandler(ctx, new Request(`http://z${SERVICE_PATH}`, { method: "POST", body: protoRequest(user), headers: withAuth(authorization, { "content-type": "application/proto" }) })),
    code: (a) => (a.status === 200 ? 0 : CONNECT_CODES[json(a).code]),
    message: (a) => (a.status === 200 ? "" : json(a).message),
    status: (code) => HTTP_STATUS[code],
  },
  "gRPC-web, binary": {
    send: (ctx, user, authorization) =>
      viaHandler(ctx, new Request(`http://z${SERVICE_PATH}`, { method: "POST", body: frame(protoRequest(user)), headers: withAuth(authorization, { "content-type": "application/grpc-web+proto" }) })),
    // A refusal is trailers-only (grpc-status in the headers); an answer ends with a trailer frame.
    code: (a) => Number(a.headers["grpc-status"] ?? grpcWebTrailers(a.bytes)["grpc-status"]),
    message: (a) => decodeURIComponent(a.headers["grpc-message"] ?? grpcWebTrailers(a.bytes)["grpc-message"] ?? ""),
    status: () => 200,
  },
  "gRPC over HTTP/2 (Node listener, raw frames)": {
    send: (ctx, user, authorization) => rawGrpc(ctx, user, authorization),
    code: (a) => Number(a.trailers["grpc-status"] ?? a.headers["grpc-status"]),
    message: (a) => decodeURIComponent(a.trailers["grpc-message"] ?? a.headers["grpc-message"] ?? ""),
    status: () => 200,
  },
  "gRPC over HTTP/2 (Node listener, connect-node's gRPC client)": {
    send: clientGrpc,
    code: (a) => a.clientCode,
    message: (a) => a.clientMessage,
    status: () => 200,
  },
};

const same = (a, b) => a.status === b.status && a.body === b.body && JSON.stringify(a.headers) === JSON.stringify(b.headers) && JSON.stringify(a.trailers) === JSON.stringify(b.trailers);
const show = (a) => JSON.stringify({ status: a.status, headers: a.headers, trailers: a.trailers, body: a.body.length > 400 ? `${a.body.slice(0, 400)}…` : a.body });
const ZITADEL = { issuer, audience: AUDIENCE };
const ctxOf = (snapshot, zitadel = ZITADEL) => ({ snapshot, options: { auth: { zitadel: { ...zitadel } } } });
/** `now` for a verifier, `skew` milliseconds ahead of the real clock (the key set's cooldowns). */
const skewedClock = () => {
  const clock = () => Date.now() + clock.skew;
  clock.skew = 0;
  return clock;
};

const INVALID_MESSAGE = "Errors.Token.Invalid (AUTH-7fs1e)";
const invalid = await invalidTokens();

for (const [protocol, p] of Object.entries(PROTOCOLS)) {
  const ctx = ctxOf(sample);
  const trusted = { snapshot: sample, options: { auth: "trusted" } };
  const full = await p.send(trusted, "demo", undefined);
  check(`${protocol}: the trusted answer (the reference) is a 200 with demo's links`, p.code(full) === 0 && full.status === 200, show(full));

  // --- valid tokens: demo's own links, byte-equal to the trusted answer ---------------------------
  for (const [name, token] of [
    ["RS256", await jwt({ alg: "RS256", kid: "rsa1", key: rsa.privateKey })],
    ["ES256", await jwt()],
  ]) {
    const answer = await p.send(ctx, "demo", bearer(token));
    check(`${protocol}: a valid ${name} token reads its own links (byte-equal to the trusted answer)`, same(answer, full), show(answer));
  }

  // --- every invalid token: one answer, Zitadel's AUTH-7fs1e -------------------------------------
  const answers = [];
  for (const [name, authorization] of Object.entries(invalid)) answers.push([name, await p.send(ctx, "demo", authorization)]);
  // The reference is the plainest refusal (not a JWT, no introspection): a break that lets any
  // other case through fails that case's check alone.
  const first = answers.find(([name]) => name === "garbage")[1];
  check(
    `${protocol}: an invalid token is code 16 "${INVALID_MESSAGE}" (HTTP ${p.status(16)})`,
    p.code(first) === 16 && p.message(first) === INVALID_MESSAGE && first.status === p.status(16),
    show(first),
  );
  for (const [name, answer] of answers) check(`${protocol}: ${name}: refused, byte-equal to every other invalid token`, same(answer, first), `${show(answer)}\nexpected ${show(first)}`);
  if (protocol.includes("raw frames")) {
    // grpc-go writes a status with no message before it as Trailers-Only: one HEADERS frame with
    // grpc-status that ends the stream (http2_server.go, writeStatus); an answer ends with trailers.
    check(`${protocol}: a refusal is Trailers-Only (one HEADERS frame, END_STREAM), an answer is not`, first.trailersOnly === true && full.trailersOnly === false, show(first));
  }
  if (protocol === "REST gateway") check(`${protocol}: the 401 carries grpc-gateway's Www-Authenticate`, first.headers["www-authenticate"] === INVALID_MESSAGE, show(first));

  // --- no header and a malformed one: their own answers, not the invalid token's -----------------
  const missing = await p.send(ctx, "demo", undefined);
  check(`${protocol}: no Authorization: code 16 "auth header missing"`, p.code(missing) === 16 && p.message(missing) === "auth header missing" && missing.status === p.status(16), show(missing));
  const malformed = await p.send(ctx, "demo", "bearer x");
  check(`${protocol}: "bearer x": code 16 "invalid auth header (AUTH-7fs1e)"`, p.code(malformed) === 16 && p.message(malformed) === "invalid auth header (AUTH-7fs1e)", show(malformed));

  // --- key rotation: a new kid is accepted after one refetch, at most one per 30 s ---------------
  {
    const clock = skewedClock();
    const rotating = ctxOf(sample, { ...ZITADEL, now: clock });
    const primed = await p.send(rotating, "demo", bearer(await jwt()));
    const before = keyFetches;
    const next = await generateKeyPair("ES256", { extractable: true });
    const kid = `rotated-${protocol}`;
    served.push(await publicJwk(next, kid, "ES256"));
    const token = bearer(await jwt({ kid, key: next.privateKey }));
    const tooSoon = await p.send(rotating, "demo", token);
    const duringCooldown = keyFetches - before;
    clock.skew = 31_000;
    const rotated = await p.send(rotating, "demo", token);
    const again = await p.send(rotating, "demo", token);
    check(
      `${protocol}: key rotation: a new kid is refused within 30 s of the last fetch (no fetch), then accepted after exactly one refetch (and cached)`,
      same(primed, full) && same(tooSoon, first) && duringCooldown === 0 && same(rotated, full) && same(again, full) && keyFetches - before === 1,
      `fetches ${duringCooldown} then ${keyFetches - before}; ${show(tooSoon)} ${show(rotated)}`,
    );
  }

  // --- a storm of unknown kids: one fetch, not one per request ------------------------------------
  {
    const clock = skewedClock();
    const stormy = ctxOf(sample, { ...ZITADEL, now: clock });
    const before = keyFetches;
    const cold = await Promise.all(Array.from({ length: 50 }, async (_, i) => p.send(stormy, "demo", bearer(await jwt({ kid: `cold-${i}` })))));
    const coldFetches = keyFetches - before;
    clock.skew = 31_000; // past the cooldown: a storm may refetch, once
    const storm = await Promise.all(Array.from({ length: 100 }, async (_, i) => p.send(stormy, "demo", bearer(await jwt({ kid: `storm-${i}` })))));
    check(
      `${protocol}: 50 unknown kids at once on a cold verifier: one fetch; 100 more past the cooldown: one more; every one refused with the invalid token's answer`,
      coldFetches === 1 && keyFetches - before === 2 && [...cold, ...storm].every((a) => same(a, first)),
      `fetches ${coldFetches}, ${keyFetches - before}`,
    );
  }

  // --- the key set cannot be used: Zitadel's unavailable (14), never a 200 -------------------------
  {
    const down = await p.send(ctxOf(sample, { ...ZITADEL, jwksUri: `${issuer}/down` }), "demo", bearer(await jwt()));
    const refused = await p.send(ctxOf(sample, { ...ZITADEL, jwksUri: `http://127.0.0.1:${closedPort}/keys` }), "demo", bearer(await jwt()));
    check(`${protocol}: a key set answering 500: code 14 unavailable (HTTP ${p.status(14)})`, p.code(down) === 14 && down.status === p.status(14), show(down));
    check(`${protocol}: a key set refusing connections: the same answer`, same(refused, down), `${show(refused)}\nexpected ${show(down)}`);
  }

  // --- introspection against a local endpoint -----------------------------------------------------
  {
    const introspecting = ctxOf(sample, { ...ZITADEL, introspection: { ...INTROSPECTION_CLIENT, endpoint: `${issuer}/introspect` } });
    const active = await p.send(introspecting, "demo", bearer(OPAQUE_ACTIVE));
    check(`${protocol}: introspection: an active opaque token reads its own links`, same(active, full), show(active));
    const inactive = await p.send(introspecting, "demo", bearer(OPAQUE_INACTIVE));
    check(`${protocol}: introspection: an inactive opaque token is refused with the invalid token's answer`, same(inactive, first), show(inactive));
    const inactiveWithSub = await p.send(introspecting, "demo", bearer(OPAQUE_INACTIVE_WITH_SUB));
    check(`${protocol}: introspection: active false with a sub is refused too`, same(inactiveWithSub, first), show(inactiveWithSub));
    const withoutIntrospection = await p.send(ctx, "demo", bearer(OPAQUE_ACTIVE));
    check(`${protocol}: an opaque token without introspection configured: the invalid token's answer`, same(withoutIntrospection, first), show(withoutIntrospection));
    const unreachable = await p.send(ctxOf(sample, { ...ZITADEL, introspection: { ...INTROSPECTION_CLIENT, endpoint: `${issuer}/down` } }), "demo", bearer(OPAQUE_ACTIVE));
    check(`${protocol}: introspection endpoint answering 500: code 14 unavailable`, p.code(unreachable) === 14 && unreachable.status === p.status(14), show(unreachable));
  }
}

// --- Another user's links: memberships from the snapshot (zitadelMembers; docs/auth.md) ----------
{
  const members = Snapshot.fromObject({
    version: 1,
    users: [{ id: "u1", org: "o" }, { id: "admin", org: "o" }, { id: "settings", org: "o" }, { id: "projectOwner", org: "o" }, { id: "outsider", org: "p" }, { id: "iam" }],
    idpLinks: [{ userId: "u1", idpId: "google", providedUserId: "g1", providedUserName: "u" }],
    zitadelMembers: [
      { userId: "admin", org: "o", roles: ["ORG_USER_MANAGER"] },
      { userId: "settings", org: "o", roles: ["ORG_SETTINGS_MANAGER"] },
      { userId: "projectOwner", org: "o", project: "p1", roles: ["PROJECT_OWNER"] },
      { userId: "outsider", org: "p", roles: ["ORG_OWNER"] },
      { userId: "iam", roles: ["IAM_OWNER_VIEWER"] },
    ],
  });
  // (caller, the gRPC code, its message): Zitadel's internal/api/authz/permissions.go.
  const CASES = [
    ["u1", 0, "", "own links"],
    ["admin", 0, "", "an org membership whose role grants user.read"],
    ["iam", 0, "", "an instance membership whose role grants user.read"],
    ["settings", 7, "No matching permissions found (AUTH-AWfge)", "an org membership without user.read"],
    ["projectOwner", 7, "No matching permissions found (AUTH-Swrgg2)", "user.read from a project membership only"],
    ["outsider", 5, "membership not found (AUTHZ-cdgFk)", "a membership in another org only"],
    ["nobody", 5, "membership not found (AUTHZ-cdgFk)", "no membership at all"],
  ];
  for (const [protocol, p] of Object.entries(PROTOCOLS)) {
    const ctx = ctxOf(members);
    const full = await p.send({ snapshot: members, options: { auth: "trusted" } }, "u1", undefined);
    for (const [caller, code, message, why] of CASES) {
      const answer = await p.send(ctx, "u1", bearer(await jwt({ claims: { sub: caller } })));
      const ok = code === 0 ? same(answer, full) : p.code(answer) === code && p.message(answer) === message && answer.status === p.status(code);
      check(`${protocol}: ${caller} reads u1's links (${why}): code ${code}${code === 0 ? ", byte-equal to the trusted answer" : ` ${message}`}`, ok, show(answer));
    }
  }
  members.free();
}

// --- Camunda's routes: handleRequest and the Node listener (HTTP/1.1) -----------------------------------
{
  const camundaSnapshot = Snapshot.fromObject({
    version: 1,
    users: [{ id: "alice" }, { id: "bob" }, { id: "dave" }],
    groups: [{ id: "sales", name: "Sales" }, { id: "camunda-admin", name: "Admins" }],
    memberships: [{ userId: "alice", groupId: "sales" }, { userId: "dave", groupId: "camunda-admin" }],
    tasks: [
      { id: "t1", assignee: "bob", processDefinitionKey: "invoice" },
      { id: "t2", assignee: "bob" },
    ],
    authorizationEnabled: true,
    authorizations: [{ type: 1, userId: "alice", resourceType: 6, resourceId: "invoice", permissions: 64 }],
  });
  const h1 = createServer((req, res) => listeners.get(req.headers["x-matrix-context"])(req, res));
  await new Promise((done) => h1.listen(0, "127.0.0.1", done));
  const h1Origin = `http://127.0.0.1:${h1.address().port}`;
  const CAMUNDA_PROTOCOLS = {
    handleRequest: async (ctx, path, headers) => viaHandler(ctx, new Request(`http://c${path}`, { headers })),
    "Node listener, HTTP/1.1": async (ctx, path, headers) => {
      const response = await fetch(`${h1Origin}${path}`, { headers: { ...headers, "x-matrix-context": listenerFor(ctx) } });
      const body = Buffer.from(await response.arrayBuffer());
      return { status: response.status, headers: kept((n) => response.headers.get(n)), trailers: {}, body: body.toString("hex"), bytes: body };
    },
  };
  const byClaim = { ...ctxOf(camundaSnapshot), options: { auth: { zitadel: { ...ZITADEL }, camunda: { zitadelClaim: "preferred_username" } } } };
  const byVerifier = { snapshot: camundaSnapshot, options: { auth: { camunda: { identify: (request) => request.headers.get("x-user") } } } };
  const groupsPath = "/engine-rest/identity/groups?userId=alice";
  const linksPath = (task) => `/engine-rest/engine/default/task/${task}/identity-links`;
  for (const [protocol, send] of Object.entries(CAMUNDA_PROTOCOLS)) {
    // Every way of not being authenticated: Camunda's one 401 (ProcessEngineAuthenticationFilter).
    const refusals = {
      "no Authorization": [byClaim, {}],
      "bearer x": [byClaim, { authorization: "bearer x" }],
      // These two carry the claim: only the verifier stands between them and an answer.
      "an expired token": [byClaim, { authorization: bearer(await jwt({ claims: { preferred_username: "alice" }, exp: now() - 60 })) }],
      "alg: none": [byClaim, { authorization: bearer(`${b64url({ alg: "none", kid: "ec1" })}.${b64url({ sub: "s", preferred_username: "alice", iss: issuer, aud: AUDIENCE, exp: now() + 300 })}.`) }],
      "a valid token without the claim": [byClaim, { authorization: bearer(await jwt({ claims: { sub: "s" } })) }],
      "identify gives null": [byVerifier, {}],
      "identify gives an empty string": [byVerifier, { "x-user": "" }],
    };
    let reference = null;
    for (const [name, [ctx, headers]] of Object.entries(refusals)) {
      const answer = await send(ctx, groupsPath, headers);
      reference ??= answer;
      const ok = answer.status === 401 && answer.body === "" && answer.headers["www-authenticate"] === 'Basic realm="default"' && same(answer, reference);
      check(`Camunda, ${protocol}: ${name}: 401, empty body, WWW-Authenticate: Basic realm="default" (byte-equal to the others)`, ok, show(answer));
    }
    const claimed = await send(byClaim, groupsPath, { authorization: bearer(await jwt({ claims: { sub: "s", preferred_username: "alice" } })) });
    check(`Camunda, ${protocol}: a caller by a verified token's claim is answered`, claimed.status === 200 && claimed.body.length > 0, show(claimed));
    const identified = await send(byVerifier, groupsPath, { "x-user": "alice" });
    check(`Camunda, ${protocol}: a caller by the user's verifier (identify) is answered, as by the claim`, same(identified, claimed), show(identified));
    // The snapshot's rows (authorization on): READ_TASK on t1's process definition; t2 has none.
    const readTask = await send(byVerifier, linksPath("t1"), { "x-user": "alice" });
    const standalone = await send(byVerifier, linksPath("t2"), { "x-user": "alice" });
    check(`Camunda, ${protocol}: READ_TASK on the task's process definition reads the task`, readTask.status === 200, show(readTask));
    check(`Camunda, ${protocol}: no READ on a task without a definition: 403 AuthorizationException`, standalone.status === 403 && json(standalone).type === "AuthorizationException", show(standalone));
    // camunda-admin has no bypass in Camunda's checks (AuthorizationManager.isAuthorized): without rows, 403.
    const admin = await send(byVerifier, linksPath("t2"), { "x-user": "dave" });
    check(`Camunda, ${protocol}: camunda-admin without rows is refused (no bypass)`, admin.status === 403, show(admin));
  }
  h1.close();
  camundaSnapshot.free();
}

h2Client.close();
for (const s of serverSessions) s.destroy();
h2.close();
issuerServer.close();
sample.free();
