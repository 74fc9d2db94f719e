// The Zitadel token verifier (pkg/auth/zitadel-token.js, as built; make test-auth): keys made here
// with jose (RS256, ES256, EdDSA), a key set and an introspection endpoint served by node:http on
// 127.0.0.1 (each verifier its own server, so that its fetches are counted), a clock the test
// moves. Tokens valid and not (expired, not yet valid, tolerance, issuer, audience, signature,
// `alg: none`, HS256 with the public key, a changed payload), the Authorization header's forms as
// Zitadel parses them, key rotation and the refetch's rate limit (a storm of unknown kids is one
// fetch), a key set that cannot be fetched, introspection (client authentication, active,
// inactive, the cache's bounds), the options' errors, and Node's CommonJS copy.
// Run with `node --test` (tests/js/check.mjs).
import { check } from "./check.mjs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "node:util";
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, generateSecret } from "jose";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const modulePath = join(root, "pkg/auth/zitadel-token.js");
if (!existsSync(modulePath)) throw new Error("pkg/auth/zitadel-token.js is missing: run `make build` first");
const { createZitadelVerifier } = await import(modulePath);

// Nothing the verifier does may print a token: everything printed while it runs is kept and
// searched at the end.
const printed = [];
for (const method of ["log", "info", "warn", "error", "debug", "trace"]) {
  const original = console[method].bind(console);
  console[method] = (...args) => {
    printed.push(args.map(String).join(" "));
    original(...args);
  };
}
const tokensSeen = new Set();

// --- Keys --------------------------------------------------------------------------------------
async function keyPair(alg, kid, options) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  return { alg, kid, publicKey, privateKey, jwk };
}
const rs = await keyPair("RS256", "rs-1");
const es = await keyPair("ES256", "es-1");
const ed = await keyPair("EdDSA", "ed-1", { crv: "Ed25519" });
const rsNext = await keyPair("RS256", "rs-2"); // rotated in later
const stranger = await keyPair("RS256", "rs-1"); // another key that claims rs-1's kid

// --- The issuer's endpoints --------------------------------------------------------------------
const CLIENT_ID = "api@identity links"; // characters that Basic authentication must form-encode
const CLIENT_SECRET = "s3cr:t/+%";

/** A key set and introspection endpoint on 127.0.0.1, with counters and switches. */
async function issuerServer() {
  const state = {
    keys: [rs.jwk, es.jwk, ed.jwk],
    jwksStatus: 200,
    jwksBody: null, // a string served instead of the key set
    jwksFetches: 0,
    introspections: 0,
    introspectionStatus: 200,
    introspectionBody: null,
    badClientAuth: 0,
    active: new Map(), // token -> introspection response
  };
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      if (req.url === "/oauth/v2/keys" && req.method === "GET") {
        state.jwksFetches++;
        res.writeHead(state.jwksStatus, { "content-type": "application/json" });
        res.end(state.jwksBody ?? JSON.stringify({ keys: state.keys }));
        return;
      }
      if (req.url === "/oauth/v2/introspect" && req.method === "POST") {
        state.introspections++;
        // Client authentication as zitadel/oidc reads it: Basic, then url.QueryUnescape.
        const [scheme, encoded] = (req.headers.authorization ?? "").split(" ");
        const [id, secret] = Buffer.from(encoded ?? "", "base64").toString().split(":");
        const unescape = (s) => decodeURIComponent((s ?? "").replace(/\+/g, " "));
        if (scheme !== "Basic" || unescape(id) !== CLIENT_ID || unescape(secret) !== CLIENT_SECRET || req.headers["content-type"] !== "application/x-www-form-urlencoded") {
          state.badClientAuth++;
          res.writeHead(401, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: "unauthorized_client" }));
          return;
        }
        const token = new URLSearchParams(body).get("token");
        res.writeHead(state.introspectionStatus, { "content-type": "application/json" });
        res.end(state.introspectionBody ?? JSON.stringify(state.active.get(token) ?? { active: false }));
        return;
      }
      res.writeHead(404);
      res.end();
    });
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  server.unref(); // a rejection in the suite ends it instead of leaving it waiting on the servers
  const url = `http://127.0.0.1:${server.address().port}`;
  return { state, url, close: () => new Promise((done) => server.close(done)) };
}

/** A port where nothing listens. */
async function closedPort() {
  const server = createServer();
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  const { port } = server.address();
  await new Promise((done) => server.close(done));
  return `http://127.0.0.1:${port}`;
}

// --- Tokens and the clock ----------------------------------------------------------------------
let clock = Date.UTC(2026, 0, 15, 12, 0, 0);
const now = () => clock;
const seconds = () => Math.floor(clock / 1000);
const AUDIENCE = "project-1";

async function sign(key, claims = {}, header = {}) {
  const { iss, aud, sub, exp, nbf, iat, ...rest } = { iss: server.url, aud: AUDIENCE, sub: "user-1", iat: seconds(), exp: seconds() + 300, ...claims };
  const jwt = new SignJWT(rest).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header });
  if (iss !== undefined) jwt.setIssuer(iss);
  if (aud !== undefined) jwt.setAudience(aud);
  if (sub !== undefined) jwt.setSubject(sub);
  if (iat !== undefined) jwt.setIssuedAt(iat);
  if (exp !== undefined) jwt.setExpirationTime(exp);
  if (nbf !== undefined) jwt.setNotBefore(nbf);
  const token = await jwt.sign(key.privateKey);
  tokensSeen.add(token);
  return token;
}

const b64url = (bytes) => Buffer.from(bytes).toString("base64url");
/** A compact JWS made by hand: header and payload as given, signed by `signer` (bytes -> bytes). */
async function handMade(header, payload, signer) {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const token = `${input}.${b64url(await signer(Buffer.from(input)))}`;
  tokensSeen.add(token);
  return token;
}
async function hmac(keyBytes, data) {
  const key = await crypto.subtle.importKey("raw", keyBytes, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, data));
}

const server = await issuerServer();
const servers = [server];
const verifierFor = (srv, options = {}) => createZitadelVerifier({ issuer: srv.url, audience: AUDIENCE, now, ...options });
const bearer = (token) => `Bearer ${token}`;
const verifier = verifierFor(server);
const reasonOf = async (v, header) => {
  const result = await v.verify(header);
  return result.ok ? `ok:${result.subject}` : result.reason;
};

// --- Valid tokens, each algorithm --------------------------------------------------------------
for (const key of [rs, es, ed]) {
  const token = await sign(key, { sub: `user-${key.alg}` });
  const result = await verifier.verify(bearer(token));
  check(`${key.alg}: a valid token is accepted, its subject the token's sub`, result.ok === true && result.subject === `user-${key.alg}`, JSON.stringify(result));
  check(`${key.alg}: the claims are the token's`, result.ok === true && result.claims.aud === AUDIENCE && result.claims.iss === server.url, JSON.stringify(result));
}
check("valid tokens of three keys: the key set fetched once", server.state.jwksFetches === 1, `fetches: ${server.state.jwksFetches}`);

// --- Invalid tokens: one answer whatever the reason --------------------------------------------
const INVALID_CASES = {
  "expired": () => sign(rs, { iat: seconds() - 600, exp: seconds() - 1 }),
  "expiring this second (exp == now)": () => sign(rs, { iat: seconds() - 600, exp: seconds() }),
  "not yet valid (nbf in the future)": () => sign(rs, { nbf: seconds() + 60 }),
  "issued in the future (iat)": () => sign(rs, { iat: seconds() + 60 }),
  "without exp": () => sign(rs, { exp: undefined }),
  "without sub": () => sign(rs, { sub: undefined }),
  "with an empty sub": () => sign(rs, { sub: "" }),
  "wrong issuer": () => sign(rs, { iss: "https://evil.example" }),
  "issuer with a trailing slash": () => sign(rs, { iss: `${server.url}/` }),
  "without iss": () => sign(rs, { iss: undefined }),
  "wrong audience": () => sign(rs, { aud: "another-project" }),
  "an audience array without ours": () => sign(rs, { aud: ["a", "b"] }),
  "without aud": () => sign(rs, { aud: undefined }),
  "signed by another key under a known kid": () => sign(stranger),
  "a tampered signature": async () => {
    const token = await sign(rs);
    const [h, p, s] = token.split(".");
    const sig = Buffer.from(s, "base64url");
    sig[10] ^= 1;
    return `${h}.${p}.${b64url(sig)}`;
  },
  "a payload changed after signing": async () => {
    const token = await sign(rs, { sub: "user-1" });
    const [h, , s] = token.split(".");
    const payload = { iss: server.url, aud: AUDIENCE, sub: "admin", iat: seconds(), exp: seconds() + 300 };
    return `${h}.${b64url(JSON.stringify(payload))}.${s}`;
  },
  "alg none (unsecured) with a known kid": () => {
    const token = new UnsecuredJWT({ sub: "user-1" }).setIssuer(server.url).setAudience(AUDIENCE).setIssuedAt(seconds()).setExpirationTime(seconds() + 300).encode();
    const [, p] = token.split(".");
    return `${b64url(JSON.stringify({ alg: "none", kid: rs.kid }))}.${p}.`;
  },
  "HS256 signed with the RSA public key's PEM (key confusion)": async () => {
    const pem = await exportSPKI(rs.publicKey);
    return handMade({ alg: "HS256", kid: rs.kid }, { iss: server.url, aud: AUDIENCE, sub: "admin", iat: seconds(), exp: seconds() + 300 }, (data) => hmac(Buffer.from(pem), data));
  },
  "HS256 signed with the RSA public key's JWK modulus": async () =>
    handMade({ alg: "HS256", kid: rs.kid }, { iss: server.url, aud: AUDIENCE, sub: "admin", iat: seconds(), exp: seconds() + 300 }, (data) => hmac(Buffer.from(rs.jwk.n, "base64url"), data)),
  "RS256 header on an EC key's kid": async () => {
    const token = await sign(rs, {}, { kid: es.kid });
    return token;
  },
  "ES256 signature under an RS256 header": async () => {
    const token = await sign(es);
    const [, p, s] = token.split(".");
    return `${b64url(JSON.stringify({ alg: "RS256", kid: rs.kid }))}.${p}.${s}`;
  },
  "a crit header naming an unknown extension": () =>
    handMade({ alg: "RS256", kid: rs.kid, crit: ["x-ext"], "x-ext": 1 }, { iss: server.url, aud: AUDIENCE, sub: "user-1", iat: seconds(), exp: seconds() + 300 }, async (data) => new Uint8Array(await crypto.subtle.sign("RSASSA-PKCS1-v1_5", rs.privateKey, data))),
  "garbage in three parts": () => "a.b.c",
  "three empty parts": () => "..",
  "an unparseable header": () => `${b64url("{not json")}.${b64url("{}")}.sig`,
  "an empty token (\"Bearer \")": () => "",
  "a token with two extra spaces (\"Bearer  x\": Zitadel's token \" x\")": async () => ` ${await sign(rs)}`,
  "a token followed by a space": async () => `${await sign(rs)} `,
  "an opaque token without introspection": () => "opaque-token-value",
  "a five-part token (JWE shape) without introspection": () => "a.b.c.d.e",
};
const fetchesBefore = server.state.jwksFetches;
for (const [name, make] of Object.entries(INVALID_CASES)) {
  const token = await make();
  tokensSeen.add(token);
  const result = await verifier.verify(bearer(token));
  check(`invalid: ${name}`, result.ok === false && result.reason === "invalid" && Object.keys(result).length === 2, JSON.stringify(result));
}
check("invalid tokens within the cooldown: no further fetch", server.state.jwksFetches === fetchesBefore, `fetches: ${fetchesBefore} -> ${server.state.jwksFetches}`);

// --- An "oct" key in the key set is never used ---------------------------------------------------
{
  const srv = await issuerServer();
  servers.push(srv);
  const secret = await generateSecret("HS256", { extractable: true });
  srv.state.keys = [{ ...(await exportJWK(secret)), kid: "hmac-1", alg: "HS256", use: "sig" }, rs.jwk];
  const v = verifierFor(srv);
  const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256", kid: "hmac-1" }).setIssuer(srv.url).setAudience(AUDIENCE).setSubject("admin").setIssuedAt(seconds()).setExpirationTime(seconds() + 300).sign(secret);
  tokensSeen.add(token);
  check("an HS256 token signed with an HMAC key the key set serves: invalid", (await reasonOf(v, bearer(token))) === "invalid");
  const withAlgLie = { ...rs.jwk, kid: "rs-alg-lie", alg: "HS256" };
  srv.state.keys = [withAlgLie];
  clock += 31_000;
  const lie = await handMade({ alg: "HS256", kid: "rs-alg-lie" }, { iss: srv.url, aud: AUDIENCE, sub: "admin", iat: seconds(), exp: seconds() + 300 }, (data) => hmac(Buffer.from(rs.jwk.n, "base64url"), data));
  check("an RSA key whose JWK says alg HS256: never used", (await reasonOf(v, bearer(lie))) === "invalid");
  const rsTokenOnLie = await sign({ ...rs, kid: "rs-alg-lie" }, { iss: srv.url });
  check("an RS256 token under a key whose JWK says another alg: invalid", (await reasonOf(v, bearer(rsTokenOnLie))) === "invalid");
  const encKey = { ...rs.jwk, kid: "rs-enc", use: "enc" };
  srv.state.keys = [encKey];
  clock += 31_000;
  const encToken = await sign({ ...rs, kid: "rs-enc" }, { iss: srv.url });
  check("a key with use \"enc\": never used for signatures", (await reasonOf(v, bearer(encToken))) === "invalid");
}

// --- Audiences and tolerance --------------------------------------------------------------------
{
  const aud = await sign(rs, { aud: ["client-9", AUDIENCE] });
  check("an audience array containing ours: accepted", (await reasonOf(verifier, bearer(aud))) === "ok:user-1");
  const several = verifierFor(server, { audience: ["client-1", "project-2"] });
  const second = await sign(rs, { aud: "project-2" });
  check("the second of several configured audiences: accepted", (await reasonOf(several, bearer(second))) === "ok:user-1");
  check("several configured audiences, the token's none of them: invalid", (await reasonOf(several, bearer(await sign(rs)))) === "invalid");

  const lenient = verifierFor(server, { clockToleranceSeconds: 30 });
  const justExpired = await sign(rs, { iat: seconds() - 600, exp: seconds() - 10 });
  const soon = await sign(rs, { nbf: seconds() + 10, iat: seconds() + 10 });
  const longExpired = await sign(rs, { iat: seconds() - 600, exp: seconds() - 40 });
  const later = await sign(rs, { nbf: seconds() + 40 });
  check("tolerance 30 s: expired 10 s ago, accepted", (await reasonOf(lenient, bearer(justExpired))) === "ok:user-1");
  check("tolerance 30 s: valid (nbf, iat) in 10 s, accepted", (await reasonOf(lenient, bearer(soon))) === "ok:user-1");
  check("tolerance 30 s: expired 40 s ago, invalid", (await reasonOf(lenient, bearer(longExpired))) === "invalid");
  check("tolerance 30 s: valid in 40 s, invalid", (await reasonOf(lenient, bearer(later))) === "invalid");
  check("tolerance 0 (the default): expired 10 s ago, invalid", (await reasonOf(verifier, bearer(justExpired))) === "invalid");
}

// --- The Authorization header, as Zitadel parses it ---------------------------------------------
{
  const valid = await sign(rs);
  const HEADERS = [
    [null, "missing"],
    [undefined, "missing"],
    ["", "missing"], // Zitadel: `authToken == ""` is "auth header missing"
    ["bearer x", "malformed"],
    ["BEARER x", "malformed"],
    ["Bearer", "malformed"],
    ["Bearerx", "malformed"],
    ["Basic x", "malformed"],
    [`Basic ${Buffer.from("u:p").toString("base64")}`, "malformed"],
    [`Bearer ${valid} Bearer ${valid}`, "malformed"], // two "Bearer " : three parts
    [`Bearer Bearer ${valid}`, "malformed"],
    [`bearer ${valid}`, "malformed"],
    [`Bearer\t${valid}`, "malformed"],
    [`Bearer  ${valid}`, "invalid"], // one "Bearer ", the token " eyJ..."
    [42, "malformed"],
    [{ toString: () => `Bearer ${valid}` }, "malformed"],
    [`Bearer ${valid}`, "ok:user-1"],
    // strings.Split(token, "Bearer ") has two parts whatever precedes the prefix: Zitadel takes
    // what follows it (internal/api/authz/context.go, extractBearerToken).
    [`Token Bearer ${valid}`, "ok:user-1"],
  ];
  for (const [header, expected] of HEADERS) {
    const label = typeof header === "string" ? JSON.stringify(header.replaceAll(valid, "<valid>")) : typeof header === "object" && header !== null ? "an object" : String(header);
    let got;
    try {
      got = await reasonOf(verifier, header);
    } catch (error) {
      got = `threw ${error}`;
    }
    check(`header ${label}: ${expected}`, got === expected, got);
  }
}

// --- Key rotation and the refetch's rate limit --------------------------------------------------
{
  const srv = await issuerServer();
  servers.push(srv);
  const v = verifierFor(srv);
  check("rotation: a token of the current key (first fetch)", (await reasonOf(v, bearer(await sign(rs, { iss: srv.url })))) === "ok:user-1" && srv.state.jwksFetches === 1, `fetches ${srv.state.jwksFetches}`);
  const rotated = await sign(rsNext, { iss: srv.url, sub: "user-2" });
  clock += 5_000;
  check("rotation: an unknown kid within 30 s of the last fetch is invalid without a fetch", (await reasonOf(v, bearer(rotated))) === "invalid" && srv.state.jwksFetches === 1, `fetches ${srv.state.jwksFetches}`);
  srv.state.keys = [rs.jwk, rsNext.jwk];
  clock += 26_000;
  check("rotation: after the cooldown, the unknown kid is fetched once and the new key accepted", (await reasonOf(v, bearer(rotated))) === "ok:user-2" && srv.state.jwksFetches === 2, `fetches ${srv.state.jwksFetches}`);
  check("rotation: the new key is cached", (await reasonOf(v, bearer(rotated))) === "ok:user-2" && srv.state.jwksFetches === 2, `fetches ${srv.state.jwksFetches}`);
  check("rotation: the old key still verifies", (await reasonOf(v, bearer(await sign(rs, { iss: srv.url })))) === "ok:user-1" && srv.state.jwksFetches === 2);
  srv.state.keys = [rsNext.jwk];
  clock += 11 * 60_000;
  const old = await sign(rs, { iss: srv.url });
  check("rotation: after 10 minutes the key set is fetched again and a removed key is refused", (await reasonOf(v, bearer(old))) === "invalid" && srv.state.jwksFetches === 3, `fetches ${srv.state.jwksFetches}`);
}
{
  const srv = await issuerServer();
  servers.push(srv);
  const v = verifierFor(srv);
  const storm = await Promise.all(Array.from({ length: 100 }, (_, i) => sign({ ...rs, kid: `unknown-${i}` }, { iss: srv.url })));
  const first = await Promise.all(storm.map((t) => reasonOf(v, bearer(t))));
  check("storm: 100 unknown kids on a fresh verifier, all invalid", first.every((r) => r === "invalid"), first.join());
  check("storm: 100 unknown kids on a fresh verifier make exactly one fetch", srv.state.jwksFetches === 1, `fetches ${srv.state.jwksFetches}`);
  clock += 31_000;
  const storm2 = await Promise.all(Array.from({ length: 100 }, (_, i) => sign({ ...rs, kid: `unknown-b${i}` }, { iss: srv.url })));
  const second = await Promise.all(storm2.map((t) => reasonOf(v, bearer(t))));
  check("storm: 100 concurrent unknown kids after the cooldown make exactly one more fetch", second.every((r) => r === "invalid") && srv.state.jwksFetches === 2, `fetches ${srv.state.jwksFetches}`);
  for (const t of storm) await v.verify(bearer(t));
  check("storm: 100 more unknown kids one after another within the cooldown make none", srv.state.jwksFetches === 2, `fetches ${srv.state.jwksFetches}`);
  const rotatedIn = await keyPair("ES256", "es-rotated");
  srv.state.keys = [...srv.state.keys, rotatedIn.jwk];
  clock += 31_000;
  const fetches = srv.state.jwksFetches;
  const rotatedTokens = await Promise.all(Array.from({ length: 20 }, (_, i) => sign(rotatedIn, { iss: srv.url, sub: `user-r${i}` })));
  const burst = await Promise.all(rotatedTokens.map((t) => reasonOf(v, bearer(t))));
  check("rotation storm: 20 concurrent tokens of a new key all wait for the one fetch and are accepted", burst.every((r, i) => r === `ok:user-r${i}`) && srv.state.jwksFetches === fetches + 1, `${burst.join()} fetches +${srv.state.jwksFetches - fetches}`);
  check("storm: a valid token still verifies", (await reasonOf(v, bearer(await sign(es, { iss: srv.url })))) === "ok:user-1");
}

// --- A key set that cannot be fetched ------------------------------------------------------------
{
  const down = await closedPort();
  const v = createZitadelVerifier({ issuer: down, audience: AUDIENCE, now });
  const token = await sign(rs, { iss: down });
  check("key set unreachable (connection refused): unavailable", (await reasonOf(v, bearer(token))) === "unavailable");
  const garbage = await reasonOf(v, bearer("a.b.c"));
  check("key set unreachable, a garbage JWT: invalid (no key needed to refuse it)", garbage === "invalid", garbage);
  check("key set unreachable, alg none: invalid (refused before any fetch)", (await reasonOf(v, bearer(INVALID_CASES["alg none (unsecured) with a known kid"]()))) === "invalid");

  const srv = await issuerServer();
  servers.push(srv);
  const v2 = verifierFor(srv);
  const good = await sign(rs, { iss: srv.url });
  for (const [name, status, body] of [
    ["status 500", 500, null],
    ["status 404", 404, null],
    ["a body that is not JSON", 200, "<html>maintenance</html>"],
    ["JSON without keys", 200, JSON.stringify({ error: "nope" })],
    ["keys not an array", 200, JSON.stringify({ keys: {} })],
  ]) {
    srv.state.jwksStatus = status;
    srv.state.jwksBody = body;
    clock += 6_000; // past the failure cooldown
    const before = srv.state.jwksFetches;
    const results = await Promise.all(Array.from({ length: 20 }, () => reasonOf(v2, bearer(good))));
    check(`key set ${name}: unavailable, 20 concurrent requests make one fetch`, results.every((r) => r === "unavailable") && srv.state.jwksFetches === before + 1, `${results[0]}, fetches ${before} -> ${srv.state.jwksFetches}`);
  }
  const before = srv.state.jwksFetches;
  clock += 1_000;
  check("key set failing: within 5 s of the failure, unavailable without a fetch", (await reasonOf(v2, bearer(good))) === "unavailable" && srv.state.jwksFetches === before);
  srv.state.jwksStatus = 200;
  srv.state.jwksBody = null;
  clock += 5_000;
  check("key set back: accepted again", (await reasonOf(v2, bearer(good))) === "ok:user-1" && srv.state.jwksFetches === before + 1);
}

// --- Introspection ---------------------------------------------------------------------------------
{
  const srv = await issuerServer();
  servers.push(srv);
  const introspection = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
  const v = verifierFor(srv, { introspection });
  const opaque = (name) => {
    const token = `opaque-${name}-${Math.random().toString(36).slice(2)}`;
    tokensSeen.add(token);
    return token;
  };
  const activeToken = opaque("active");
  srv.state.active.set(activeToken, { active: true, sub: "user-pat", exp: seconds() + 30, aud: [AUDIENCE], iss: srv.url });
  check("introspection: an active opaque token (or PAT) is accepted, subject = sub", (await reasonOf(v, bearer(activeToken))) === "ok:user-pat" && srv.state.introspections === 1, `calls ${srv.state.introspections}`);
  check("introspection: the client authenticated with Basic, form-encoded id and secret", srv.state.badClientAuth === 0);
  const claims = (await v.verify(bearer(activeToken))).claims;
  check("introspection: the claims are the endpoint's answer", claims?.sub === "user-pat" && claims?.active === true, JSON.stringify(claims));
  clock += 29_000;
  check("introspection: cached until exp (1 call in 29 s)", (await reasonOf(v, bearer(activeToken))) === "ok:user-pat" && srv.state.introspections === 1, `calls ${srv.state.introspections}`);
  clock += 2_000;
  srv.state.active.set(activeToken, { active: false });
  check("introspection: past exp the endpoint is asked again (its answer: inactive)", (await reasonOf(v, bearer(activeToken))) === "invalid" && srv.state.introspections === 2, `calls ${srv.state.introspections}`);

  const longLived = opaque("long");
  srv.state.active.set(longLived, { active: true, sub: "user-long", exp: seconds() + 3600 });
  const calls = srv.state.introspections;
  await v.verify(bearer(longLived));
  clock += 59_000;
  await v.verify(bearer(longLived));
  check("introspection: a long-lived token is cached up to 60 s (1 call)", srv.state.introspections === calls + 1, `calls ${srv.state.introspections - calls}`);
  srv.state.active.set(longLived, { active: false }); // revoked
  clock += 2_000;
  check("introspection: after 60 s asked again, so a revocation is seen", (await reasonOf(v, bearer(longLived))) === "invalid" && srv.state.introspections === calls + 2, `calls ${srv.state.introspections - calls}`);

  const noExp = opaque("noexp");
  srv.state.active.set(noExp, { active: true, sub: "user-noexp" });
  check("introspection: an active token without exp is accepted", (await reasonOf(v, bearer(noExp))) === "ok:user-noexp");
  const noSub = opaque("nosub");
  srv.state.active.set(noSub, { active: true });
  check("introspection: active without sub is invalid", (await reasonOf(v, bearer(noSub))) === "invalid");
  const activeString = opaque("activestring");
  srv.state.active.set(activeString, { active: "true", sub: "user-x" });
  check("introspection: active must be the boolean true", (await reasonOf(v, bearer(activeString))) === "invalid");

  const inactive = opaque("inactive");
  const c0 = srv.state.introspections;
  check("introspection: an inactive token is invalid", (await reasonOf(v, bearer(inactive))) === "invalid" && srv.state.introspections === c0 + 1);
  check("introspection: an inactive answer is cached briefly", (await reasonOf(v, bearer(inactive))) === "invalid" && srv.state.introspections === c0 + 1);

  const burst = opaque("burst");
  srv.state.active.set(burst, { active: true, sub: "user-burst", exp: seconds() + 300 });
  const c1 = srv.state.introspections;
  const burstResults = await Promise.all(Array.from({ length: 50 }, () => reasonOf(v, bearer(burst))));
  check("introspection: 50 concurrent requests with one token make one call", burstResults.every((r) => r === "ok:user-burst") && srv.state.introspections === c1 + 1, `calls ${srv.state.introspections - c1}`);

  // JWTs too, when introspection is configured: it sees revocation (N4).
  const jwt = await sign(rs, { iss: srv.url, sub: "user-jwt", jti: "jti-1" });
  srv.state.active.set(jwt, { active: true, sub: "user-jwt", exp: seconds() + 300 });
  check("introspection configured: a valid JWT that is active is accepted", (await reasonOf(v, bearer(jwt))) === "ok:user-jwt");
  const revoked = await sign(rs, { iss: srv.url, sub: "user-jwt", jti: "jti-2" });
  check("introspection configured: a valid JWT that is revoked (inactive) is invalid", (await reasonOf(v, bearer(revoked))) === "invalid");
  const other = await sign(rs, { iss: srv.url, sub: "user-jwt", jti: "jti-3" });
  srv.state.active.set(other, { active: true, sub: "someone-else", exp: seconds() + 300 });
  check("introspection configured: a JWT whose introspected sub differs is invalid", (await reasonOf(v, bearer(other))) === "invalid");
  const c2 = srv.state.introspections;
  const badSig = INVALID_CASES["a tampered signature"];
  check("introspection configured: a JWT that fails locally is refused without a call", (await reasonOf(v, bearer(await badSig()))) === "invalid" && srv.state.introspections === c2);

  const wrongSecret = verifierFor(srv, { introspection: { clientId: CLIENT_ID, clientSecret: "wrong" } });
  const bad0 = srv.state.badClientAuth;
  check("introspection: a refused client (401) is unavailable, not invalid", (await reasonOf(wrongSecret, bearer(opaque("x")))) === "unavailable" && srv.state.badClientAuth === bad0 + 1);

  for (const [name, status, body] of [
    ["status 500", 500, null],
    ["a body that is not JSON", 200, "not json"],
    ["a JSON array", 200, "[]"],
  ]) {
    srv.state.introspectionStatus = status;
    srv.state.introspectionBody = body;
    const t = opaque(name);
    check(`introspection endpoint ${name}: unavailable`, (await reasonOf(v, bearer(t))) === "unavailable");
  }
  srv.state.introspectionStatus = 200;
  srv.state.introspectionBody = null;
  const retried = opaque("retried");
  srv.state.active.set(retried, { active: true, sub: "user-r", exp: seconds() + 300 });
  srv.state.introspectionStatus = 503;
  await v.verify(bearer(retried));
  srv.state.introspectionStatus = 200;
  check("introspection: an unavailable answer is not cached", (await reasonOf(v, bearer(retried))) === "ok:user-r");

  const down = createZitadelVerifier({ issuer: srv.url, audience: AUDIENCE, now, introspection: { ...introspection, endpoint: `${await closedPort()}/introspect` } });
  check("introspection endpoint unreachable: unavailable", (await reasonOf(down, bearer(opaque("down")))) === "unavailable");

  const plain = verifierFor(srv);
  const c3 = srv.state.introspections;
  check("no introspection configured: an opaque token is invalid, no call", (await reasonOf(plain, bearer(activeToken))) === "invalid" && srv.state.introspections === c3);
}

// --- The introspection cache's size bound (a fetch of its own, counted) -------------------------
{
  let calls = 0;
  const asked = [];
  const fakeFetch = async (url, init) => {
    calls++;
    const token = new URLSearchParams(init.body).get("token");
    asked.push(token);
    return new Response(JSON.stringify({ active: true, sub: token, exp: seconds() + 3000 }), { status: 200, headers: { "content-type": "application/json" } });
  };
  const v = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, fetch: fakeFetch, introspection: { clientId: "c", clientSecret: "s" } });
  await v.verify(bearer("opaque-0"));
  for (let i = 1; i < 10_000; i++) await v.verify(bearer(`opaque-${i}`));
  check("introspection cache: 10,000 tokens, one call each", calls === 10_000, `calls ${calls}`);
  await v.verify(bearer("opaque-0")); // the oldest, used again: now the most recent
  check("introspection cache: 10,000 entries all cached", calls === 10_000, `calls ${calls}`);
  await v.verify(bearer("opaque-10000")); // one more: the least recently used (opaque-1) goes
  await v.verify(bearer("opaque-0"));
  check("introspection cache: past 10,000 entries, a recently used one stays", calls === 10_001, `calls ${calls}`);
  await v.verify(bearer("opaque-1"));
  check("introspection cache: past 10,000 entries, the least recently used is asked again", calls === 10_002 && asked.at(-1) === "opaque-1", `calls ${calls}`);
}

// --- Injected fetch, never throwing ---------------------------------------------------------------
{
  const throwing = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, fetch: () => { throw new Error("boom"); } });
  const token = await sign(rs, { iss: "https://zitadel.example" });
  let got;
  try {
    got = await reasonOf(throwing, bearer(token));
  } catch (error) {
    got = `threw ${error}`;
  }
  check("a fetch that throws synchronously: unavailable, no rejection", got === "unavailable", got);
  check("requests carry an abort signal (a timeout)", await (async () => {
    let signal;
    const v = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, fetch: (_, init) => { signal = init.signal; return Promise.reject(new Error("x")); } });
    await v.verify(bearer(token));
    return signal instanceof AbortSignal;
  })());
  let calls = 0;
  const counting = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, fetch: async (url) => { calls++; return new Response(JSON.stringify({ keys: [rs.jwk] }), { status: 200 }); } });
  const ok = await reasonOf(counting, bearer(token));
  check("the injected fetch is used for the key set at issuer + /oauth/v2/keys", ok === "ok:user-1" && calls === 1, `${ok} calls ${calls}`);
  let jwksUrl;
  const custom = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, jwksUri: "https://keys.example/jwks", fetch: async (url) => { jwksUrl = url; return new Response(JSON.stringify({ keys: [rs.jwk] }), { status: 200 }); } });
  await custom.verify(bearer(token));
  check("jwksUri overrides the key set's address", jwksUrl === "https://keys.example/jwks", String(jwksUrl));
  let introspectUrl;
  const customIntrospect = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, introspection: { clientId: "c", clientSecret: "s", endpoint: "https://intro.example/x" }, fetch: async (url) => { introspectUrl = url; return new Response("{\"active\":false}", { status: 200 }); } });
  await customIntrospect.verify(bearer("opaque"));
  check("introspection.endpoint overrides the default", introspectUrl === "https://intro.example/x", String(introspectUrl));
  let defaultIntrospect;
  const defIntrospect = createZitadelVerifier({ issuer: "https://zitadel.example", audience: AUDIENCE, now, introspection: { clientId: "c", clientSecret: "s" }, fetch: async (url) => { defaultIntrospect = url; return new Response("{\"active\":false}", { status: 200 }); } });
  await defIntrospect.verify(bearer("opaque"));
  check("introspection's default endpoint is issuer + /oauth/v2/introspect", defaultIntrospect === "https://zitadel.example/oauth/v2/introspect", String(defaultIntrospect));
}

// --- The options' errors ------------------------------------------------------------------------------
{
  const base = { issuer: "https://zitadel.example", audience: AUDIENCE };
  const CASES = [
    [undefined, "auth.zitadel"],
    [{ audience: AUDIENCE }, "auth.zitadel.issuer"],
    [{ ...base, issuer: "zitadel.example" }, "auth.zitadel.issuer"],
    [{ ...base, issuer: "ftp://zitadel.example" }, "auth.zitadel.issuer"],
    [{ ...base, issuer: "https://zitadel.example/" }, "auth.zitadel.issuer"],
    [{ issuer: base.issuer }, "auth.zitadel.audience"],
    [{ ...base, audience: "" }, "auth.zitadel.audience"],
    [{ ...base, audience: [] }, "auth.zitadel.audience"],
    [{ ...base, audience: ["a", 3] }, "auth.zitadel.audience"],
    [{ ...base, jwksUri: "keys" }, "auth.zitadel.jwksUri"],
    [{ ...base, introspection: "yes" }, "auth.zitadel.introspection"],
    [{ ...base, introspection: { clientId: "c" } }, "auth.zitadel.introspection.clientSecret"],
    [{ ...base, introspection: { clientSecret: "s" } }, "auth.zitadel.introspection.clientId"],
    [{ ...base, introspection: { clientId: "c", clientSecret: "s", endpoint: "nope" } }, "auth.zitadel.introspection.endpoint"],
    [{ ...base, introspection: { clientId: "c", clientSecret: "s", secret: "s" } }, "auth.zitadel.introspection.secret"],
    [{ ...base, clockToleranceSeconds: -1 }, "auth.zitadel.clockToleranceSeconds"],
    [{ ...base, clockToleranceSeconds: "5" }, "auth.zitadel.clockToleranceSeconds"],
    [{ ...base, clockToleranceSeconds: Infinity }, "auth.zitadel.clockToleranceSeconds"],
    [{ ...base, fetch: "fetch" }, "auth.zitadel.fetch"],
    [{ ...base, audiences: [AUDIENCE] }, "auth.zitadel.audiences"],
  ];
  for (const [options, name] of CASES) {
    let error = null;
    try {
      createZitadelVerifier(options);
    } catch (e) {
      error = e;
    }
    const named = error instanceof TypeError && (error.message.startsWith(`${name} `) || (name === "auth.zitadel" && error.message.startsWith("auth.zitadel ")));
    check(`options ${inspect(options, { breakLength: Infinity })}: a TypeError naming ${name}`, named, String(error));
  }
  let fine = null;
  try {
    createZitadelVerifier({ ...base, audience: ["a", "b"], jwksUri: "https://k.example/keys", introspection: { clientId: "c", clientSecret: "s", endpoint: "https://k.example/i" }, clockToleranceSeconds: 5, fetch: () => {}, now: () => 0 });
  } catch (e) {
    fine = e;
  }
  check("every option given correctly: no error", fine === null, String(fine));
}

// --- Node's CommonJS copy ---------------------------------------------------------------------------
{
  const require = createRequire(import.meta.url);
  const cjs = require(join(root, "pkg/node/auth/zitadel-token.cjs"));
  const v = cjs.createZitadelVerifier({ issuer: server.url, audience: AUDIENCE, now });
  check("pkg/node/auth/zitadel-token.cjs (required): a valid token is accepted", (await reasonOf(v, bearer(await sign(ed)))) === "ok:user-1");
  check("pkg/node/auth/zitadel-token.cjs: an invalid one refused", (await reasonOf(v, bearer(await sign(rs, { aud: "x" })))) === "invalid");
}

// --- Nothing printed carries a token ------------------------------------------------------------------
{
  const leaks = printed.filter((line) => [...tokensSeen].some((t) => t.length > 8 && line.includes(t)));
  check("no token appears in anything printed", leaks.length === 0, `${leaks.length} lines`);
}

await Promise.all(servers.map((s) => s.close()));
