// The bearer token verifier for Zitadel's routes (API.md "Authentication", SEMANTICS.md N1-N4).
//
//   createZitadelVerifier({ issuer, audience, jwksUri?, introspection?, clockToleranceSeconds?, fetch?, now? })
//     -> { verify(authorizationHeaderValue) -> Promise<{ ok: true, subject, claims } | { ok: false, reason }> }
//
// `reason` is "missing" (no header), "malformed" (not one `Bearer ` prefix), "invalid" (any token that
// does not verify: one answer whatever the cause) or "unavailable" (the key set or the introspection
// endpoint cannot be used). verify never throws and never logs: the token appears in no message.
//
// What Zitadel does, and where (github.com/zitadel/zitadel):
// - internal/api/grpc/server/connect_middleware/auth_interceptor.go: an empty `Authorization` value
//   is "auth header missing" (`if authToken == ""`), checked before anything else.
// - internal/api/authz/context.go, extractBearerToken: `strings.Split(token, BearerPrefix)` with
//   BearerPrefix = "Bearer " (internal/api/authz/access_token.go); anything but exactly two parts is
//   AUTH-7fs1e "invalid auth header", and the token is the second part as it is. So the prefix is
//   case-sensitive, must occur exactly once, and what follows it is not trimmed: "Bearer  x" is the
//   token " x" (which then fails verification), "bearer x" and "Bearer" are malformed.
// - same file, VerifyTokenAndCreateCtxData: every verification failure becomes one error,
//   AUTH-7fs1e "Errors.Token.Invalid".
// - internal/authz/repository/eventsourcing/eventstore/token_verifier.go: a token is opaque (an
//   encrypted `tokenID:subject`, PATs included) or a JWT verified against the instance's keys
//   (issuer, signature with the key matching `kid` and `alg`, expiry); then the token id (`jti`)
//   is looked up in the token store, so a revoked token fails at once. This verifier cannot see
//   that store: a revoked JWT passes here until `exp` unless introspection is configured (N4).
// - internal/api/oidc/introspect.go: introspection answers `active: false` unless the token's
//   audience contains the introspecting client or its project (validateIntrospectionAudience), and
//   a failed client authentication is an error, not `active: false`.
// - zitadel/oidc (pkg/op) reads HTTP Basic client credentials with url.QueryUnescape, so the id and
//   secret are form-urlencoded before base64 (RFC 6749 section 2.3.1).
//
// jose is loaded on first use (dynamic imports), so that a bundle that never verifies a token does
// not carry it, and so that Node's CommonJS copy of this file (node/auth/zitadel-token.cjs) can load
// jose, which is an ES module only.

const PREFIX = "auth.zitadel";

/** Key sets: refetched at most once per cooldown on an unknown key, and after this age in any case. */
const JWKS_COOLDOWN_MS = 30_000;
const JWKS_MAX_AGE_MS = 10 * 60_000;
/** After a failed fetch, the next attempt waits this long (a storm against a down server is one fetch). */
const FAILURE_COOLDOWN_MS = 5_000;
/** Every request to the key set or the introspection endpoint gives up after this. */
const FETCH_TIMEOUT_MS = 10_000;
/** Introspection results: an active token at most this long (and never past its `exp`), so that a
 * revocation is seen within it; an inactive one briefly (it may be a fresh token not yet known). */
const INTROSPECTION_ACTIVE_MS = 60_000;
const INTROSPECTION_INACTIVE_MS = 10_000;
const INTROSPECTION_CACHE_ENTRIES = 10_000;
/** Bodies read from the key set or the introspection endpoint are cut off here. */
const MAX_RESPONSE_BYTES = 1 << 20;

/** The signature algorithms a key may verify, by key type: never `none`, never HMAC. */
const RSA_ALGS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];
const EC_ALGS = { "P-256": "ES256", "P-384": "ES384", "P-521": "ES512" };
const OKP_ALGS = { Ed25519: ["EdDSA", "Ed25519"] };
const ALL_ALGS = [...RSA_ALGS, ...Object.values(EC_ALGS), ...Object.values(OKP_ALGS).flat()];

const OPTION_NAMES = ["issuer", "audience", "jwksUri", "introspection", "clockToleranceSeconds", "fetch", "now"];
const INTROSPECTION_NAMES = ["clientId", "clientSecret", "endpoint"];

let josePromise = null;
/** The three parts of jose used here, by their subpaths: a bundler then carries about 21 KB
 * (9 KB gzipped) of jose rather than all of it (60 KB, 19 KB gzipped). */
function loadJose() {
  josePromise ??= Promise.all([import("jose/jwt/verify"), import("jose/key/import"), import("jose/decode/protected_header")]).then(
    ([{ jwtVerify }, { importJWK }, { decodeProtectedHeader }]) => ({ jwtVerify, importJWK, decodeProtectedHeader }),
    (error) => {
      josePromise = null;
      throw error;
    },
  );
  return josePromise;
}

function optionError(name, what) {
  return new TypeError(`${PREFIX}.${name} ${what}`);
}

function isPlainObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkUrl(name, value) {
  if (typeof value !== "string" || value === "") throw optionError(name, "must be a non-empty string (an http or https URL)");
  let url;
  try {
    url = new URL(value);
  } catch {
    throw optionError(name, `must be an absolute URL, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw optionError(name, `must be an http or https URL, got ${JSON.stringify(value)}`);
  return value;
}

function checkNonEmptyString(name, value) {
  if (typeof value !== "string" || value === "") throw optionError(name, "must be a non-empty string");
  return value;
}

/** Validates the options; returns them normalized. Throws a TypeError naming the option. */
function readOptions(options) {
  if (!isPlainObject(options)) throw new TypeError(`${PREFIX} must be an object with issuer and audience`);
  for (const key of Object.keys(options)) {
    if (!OPTION_NAMES.includes(key)) throw optionError(key, `is not an option (known: ${OPTION_NAMES.join(", ")})`);
  }
  const issuer = checkUrl("issuer", options.issuer);
  // Zitadel's issuer is an origin (http_util.BuildOrigin): a token's `iss` never ends with "/".
  if (issuer.endsWith("/")) throw optionError("issuer", `must not end with "/" (a token's iss must equal it), got ${JSON.stringify(issuer)}`);

  let audience = options.audience;
  if (typeof audience === "string") audience = [audience];
  if (!Array.isArray(audience) || audience.length === 0 || !audience.every((a) => typeof a === "string" && a !== "")) {
    throw optionError("audience", "must be a non-empty string or a non-empty array of non-empty strings (the project or client ids)");
  }

  const jwksUri = options.jwksUri === undefined ? `${issuer}/oauth/v2/keys` : checkUrl("jwksUri", options.jwksUri);

  let introspection = null;
  if (options.introspection !== undefined) {
    const i = options.introspection;
    if (!isPlainObject(i)) throw optionError("introspection", "must be an object { clientId, clientSecret, endpoint? }");
    for (const key of Object.keys(i)) {
      if (!INTROSPECTION_NAMES.includes(key)) throw optionError(`introspection.${key}`, `is not an option (known: ${INTROSPECTION_NAMES.join(", ")})`);
    }
    introspection = {
      clientId: checkNonEmptyString("introspection.clientId", i.clientId),
      clientSecret: checkNonEmptyString("introspection.clientSecret", i.clientSecret),
      endpoint: i.endpoint === undefined ? `${issuer}/oauth/v2/introspect` : checkUrl("introspection.endpoint", i.endpoint),
    };
  }

  const tolerance = options.clockToleranceSeconds ?? 0;
  if (typeof tolerance !== "number" || !Number.isFinite(tolerance) || tolerance < 0) {
    throw optionError("clockToleranceSeconds", "must be a finite number of seconds, 0 or more");
  }
  if (options.fetch !== undefined && typeof options.fetch !== "function") throw optionError("fetch", "must be a function like globalThis.fetch");
  if (options.now !== undefined && typeof options.now !== "function") throw optionError("now", "must be a function returning milliseconds since the epoch");
  // Called through a closure, not detached: some runtimes' fetch refuses another `this`.
  const fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  if (options.fetch === undefined && typeof globalThis.fetch !== "function") throw optionError("fetch", "is required: this runtime has no globalThis.fetch");
  return { issuer, audience, jwksUri, introspection, tolerance, fetchFn, now: options.now ?? Date.now };
}

/** Marks a failure to reach a key set or an introspection endpoint. */
class Unavailable extends Error {}

/** A fetch with a timeout whose body is read as JSON (at most MAX_RESPONSE_BYTES); Unavailable otherwise. */
async function fetchJson(fetchFn, url, init = {}) {
  let response;
  try {
    const signal = typeof AbortSignal.timeout === "function" ? AbortSignal.timeout(FETCH_TIMEOUT_MS) : undefined;
    response = await fetchFn(url, { ...init, signal });
  } catch {
    throw new Unavailable("unreachable");
  }
  if (!response || response.status !== 200) {
    try {
      await response?.body?.cancel();
    } catch {
      // nothing to free
    }
    throw new Unavailable("status");
  }
  let text;
  try {
    const length = Number(response.headers?.get?.("content-length"));
    if (length > MAX_RESPONSE_BYTES) throw new Error("too large");
    text = await response.text();
  } catch {
    throw new Unavailable("body");
  }
  if (text.length > MAX_RESPONSE_BYTES) throw new Unavailable("too large");
  try {
    return JSON.parse(text);
  } catch {
    throw new Unavailable("not JSON");
  }
}

/** The algorithms `jwk` may verify (its own `alg` if it says one); empty for keys never to use. */
function algorithmsOf(jwk) {
  if (!isPlainObject(jwk)) return [];
  if (jwk.use !== undefined && jwk.use !== "sig") return [];
  let allowed;
  if (jwk.kty === "RSA") allowed = RSA_ALGS;
  else if (jwk.kty === "EC") allowed = EC_ALGS[jwk.crv] === undefined ? [] : [EC_ALGS[jwk.crv]];
  else if (jwk.kty === "OKP") allowed = OKP_ALGS[jwk.crv] ?? [];
  else allowed = []; // "oct" (HMAC) and anything else: never
  if (jwk.alg !== undefined) return allowed.includes(jwk.alg) ? [jwk.alg] : [];
  return allowed;
}

/** The key set: fetched on demand, cached, refetched on an unknown key at most once per cooldown. */
function keySetCache(config) {
  let keys = null; // the usable keys of the last good fetch
  let fetchedAt = -Infinity; // when they were fetched
  let lastAttempt = -Infinity; // the last fetch, good or not
  let lastFailed = false;
  let inflight = null; // the fetch under way, shared by everyone who needs it

  function fetchKeys() {
    lastAttempt = config.now();
    inflight = (async () => {
      try {
        const body = await fetchJson(config.fetchFn, config.jwksUri, { headers: { accept: "application/json" } });
        if (!isPlainObject(body) || !Array.isArray(body.keys)) throw new Unavailable("not a key set");
        keys = body.keys.filter((jwk) => algorithmsOf(jwk).length > 0);
        fetchedAt = config.now();
        lastFailed = false;
        return keys;
      } catch (error) {
        lastFailed = true;
        throw error instanceof Unavailable ? error : new Unavailable("key set");
      } finally {
        inflight = null;
      }
    })();
    return inflight;
  }

  return {
    /** The cached keys, fetched first if there are none or they are too old. */
    async current() {
      if (inflight) return inflight;
      const now = config.now();
      if (keys !== null && now - fetchedAt < JWKS_MAX_AGE_MS) return keys;
      if (lastFailed && now - lastAttempt < FAILURE_COOLDOWN_MS) throw new Unavailable("recently failed");
      return fetchKeys();
    },
    /** After an unknown key: the keys fetched again, unless a fetch is under way (shared) or the
     * last one was less than a cooldown ago (then the cached keys: a storm makes one fetch). */
    async refreshed(seen) {
      if (inflight) return inflight;
      if (keys !== seen) return keys; // someone else fetched since
      if (config.now() - lastAttempt < JWKS_COOLDOWN_MS) return keys;
      return fetchKeys();
    },
  };
}

/** The one key of `keys` that may verify a token with this header, or null. */
function selectKey(keys, header) {
  const candidates = keys.filter((jwk) => (header.kid === undefined || jwk.kid === header.kid) && algorithmsOf(jwk).includes(header.alg));
  if (header.kid === undefined) return candidates.length === 1 ? candidates[0] : null; // as zitadel/oidc's FindMatchingKey
  return candidates[0] ?? null;
}

/** Introspection results, keyed by the token's SHA-256 (the cache keeps no token), least recently used out first. */
function introspectionCache() {
  const entries = new Map(); // digest -> { until, result }
  return {
    get(key, now) {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      entries.delete(key);
      if (entry.until <= now) return undefined;
      entries.set(key, entry); // most recently used last
      return entry.result;
    },
    set(key, result, until) {
      entries.delete(key);
      entries.set(key, { until, result });
      while (entries.size > INTROSPECTION_CACHE_ENTRIES) entries.delete(entries.keys().next().value);
    },
  };
}

async function digest(token) {
  const bytes = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token)));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return hex;
}

/** application/x-www-form-urlencoded, as url.QueryUnescape reads it back. */
function formEncode(value) {
  return encodeURIComponent(value).replace(/%20/g, "+");
}

function base64(text) {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

const MISSING = Object.freeze({ ok: false, reason: "missing" });
const MALFORMED = Object.freeze({ ok: false, reason: "malformed" });
const INVALID = Object.freeze({ ok: false, reason: "invalid" });
const UNAVAILABLE = Object.freeze({ ok: false, reason: "unavailable" });

function accepted(subject, claims) {
  return { ok: true, subject, claims: { ...claims } };
}

/**
 * A verifier of the bearer tokens Zitadel issues, for the options of `auth.zitadel`.
 * Throws a TypeError naming the option when the options are wrong.
 */
export function createZitadelVerifier(options) {
  const config = readOptions(options);
  const keySet = keySetCache(config);
  const imported = new WeakMap(); // jwk -> Map(alg -> Promise<CryptoKey>)
  const introspected = introspectionCache();
  const introspecting = new Map(); // digest -> the request under way

  function importKey(jose, jwk, alg) {
    let byAlg = imported.get(jwk);
    if (byAlg === undefined) imported.set(jwk, (byAlg = new Map()));
    let key = byAlg.get(alg);
    if (key === undefined) {
      key = jose.importJWK(jwk, alg);
      key.catch(() => byAlg.delete(alg));
      byAlg.set(alg, key);
    }
    return key;
  }

  /** The token's claims if it verifies locally; INVALID or UNAVAILABLE otherwise. */
  async function verifyJwt(jose, token) {
    let header;
    try {
      header = jose.decodeProtectedHeader(token);
    } catch {
      return INVALID;
    }
    // The algorithm must be one a key of ours could have: `none` and HS* never are.
    if (typeof header.alg !== "string" || !ALL_ALGS.includes(header.alg)) return INVALID;
    if (header.kid !== undefined && typeof header.kid !== "string") return INVALID;

    let keys = await keySet.current();
    let jwk = selectKey(keys, header);
    if (jwk === null) {
      keys = await keySet.refreshed(keys);
      jwk = selectKey(keys, header);
      if (jwk === null) return INVALID;
    }

    let payload;
    try {
      const key = await importKey(jose, jwk, header.alg);
      const now = config.now();
      ({ payload } = await jose.jwtVerify(token, key, {
        algorithms: [header.alg],
        issuer: config.issuer,
        audience: config.audience,
        clockTolerance: config.tolerance,
        currentDate: new Date(now),
        requiredClaims: ["exp", "sub"],
      }));
      // jose checks `iat` only with maxTokenAge: a token issued in the future is refused here.
      if (payload.iat !== undefined && payload.iat > Math.floor(now / 1000) + config.tolerance) return INVALID;
    } catch {
      return INVALID;
    }
    if (typeof payload.sub !== "string" || payload.sub === "") return INVALID;
    return { payload };
  }

  /** The introspection endpoint's answer for `token` (cached); INVALID, UNAVAILABLE or { claims }. */
  async function introspect(token) {
    const key = await digest(token);
    const cached = introspected.get(key, config.now());
    if (cached !== undefined) return cached;
    let pending = introspecting.get(key);
    if (pending === undefined) {
      pending = askIntrospection(token, key).finally(() => introspecting.delete(key));
      introspecting.set(key, pending);
    }
    return pending;
  }

  async function askIntrospection(token, key) {
    const { clientId, clientSecret, endpoint } = config.introspection;
    let body;
    try {
      body = await fetchJson(config.fetchFn, endpoint, {
        method: "POST",
        headers: {
          authorization: `Basic ${base64(`${formEncode(clientId)}:${formEncode(clientSecret)}`)}`,
          "content-type": "application/x-www-form-urlencoded",
          accept: "application/json",
        },
        body: `token=${formEncode(token)}`,
      });
    } catch {
      return UNAVAILABLE;
    }
    if (!isPlainObject(body)) return UNAVAILABLE;
    const now = config.now();
    if (body.active !== true || typeof body.sub !== "string" || body.sub === "") {
      introspected.set(key, INVALID, now + INTROSPECTION_INACTIVE_MS);
      return INVALID;
    }
    const result = { claims: body };
    let until = now + INTROSPECTION_ACTIVE_MS;
    if (typeof body.exp === "number") until = Math.min(until, body.exp * 1000);
    if (until > now) introspected.set(key, result, until);
    return result;
  }

  async function verifyToken(token) {
    if (token === "") return INVALID;
    const isJwt = token.split(".").length === 3;
    if (!isJwt) {
      if (config.introspection === null) return INVALID;
      const answer = await introspect(token);
      if (answer.ok === false) return answer;
      return accepted(answer.claims.sub, answer.claims);
    }
    // Strictly base64url in each part, as Go's decoder reads them: jose's is more lenient (it
    // skips whitespace), and "Bearer <jwt> " must not verify here when it does not in Zitadel.
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) return INVALID;
    let jose;
    try {
      jose = await loadJose();
    } catch {
      return UNAVAILABLE;
    }
    const local = await verifyJwt(jose, token);
    if (local.ok === false) return local;
    if (config.introspection !== null) {
      // Introspection sees revocation, which a signature cannot (N4).
      const answer = await introspect(token);
      if (answer.ok === false) return answer;
      if (answer.claims.sub !== local.payload.sub) return INVALID;
    }
    return accepted(local.payload.sub, local.payload);
  }

  return {
    /**
     * Verifies an `Authorization` header value (null or undefined when there is none). Never throws.
     * @returns {Promise<{ ok: true, subject: string, claims: object } | { ok: false, reason: "missing" | "malformed" | "invalid" | "unavailable" }>}
     */
    async verify(authorizationHeaderValue) {
      try {
        if (authorizationHeaderValue === null || authorizationHeaderValue === undefined || authorizationHeaderValue === "") return MISSING;
        if (typeof authorizationHeaderValue !== "string") return MALFORMED;
        const parts = authorizationHeaderValue.split("Bearer ");
        if (parts.length !== 2) return MALFORMED;
        return await verifyToken(parts[1]);
      } catch (error) {
        return error instanceof Unavailable ? UNAVAILABLE : INVALID;
      }
    },
  };
}
