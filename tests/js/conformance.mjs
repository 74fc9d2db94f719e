// Runs conformance cases through the package's public API, as a user would call it, and
// compares `JSON.stringify` output byte for byte. Shared by every runtime's test.

/**
 * A caller holding every right there is (Zitadel's instance-wide user.read, Camunda's ALL on
 * every resource): a context that takes the validating path and answers as a trusted call.
 */
const EVERYTHING = { caller: { userId: "conformance", permissions: ["user.read"], authorizations: ["Task", "Group", "User"].map((resource) => ({ resource, resourceId: "*", permissions: ["ALL"] })) } };

/** Runs one case; returns a failure description, or null when it passes. */
function runCase(api, c) {
  let snapshot;
  let status;
  let body;
  let message;
  try {
    snapshot = api.Snapshot.fromJson(JSON.stringify(c.snapshot), c.options);
    if (c.call === "load") {
      status = 200;
    } else {
      const request = c.request ?? {};
      const context = c.context ?? undefined;
      body = api[c.call](snapshot, request, context);
      const viaMethod = snapshot[c.call](request, context);
      if (JSON.stringify(viaMethod) !== JSON.stringify(body)) return "method and function answers differ";
      // A caller with every right answers as no context does, through the validating path.
      const validated = snapshot[c.call](request, context ?? EVERYTHING);
      if (JSON.stringify(validated) !== JSON.stringify(body)) return `validating path differs: ${JSON.stringify(validated)}`;
      // The JSON text methods and functions give exactly JSON.stringify of the answer.
      for (const ctx of [context, context ?? EVERYTHING]) {
        const text = snapshot[`${c.call}Json`](request, ctx);
        if (text !== JSON.stringify(body)) return `${c.call}Json differs: ${text}`;
        if (api[`${c.call}Json`](snapshot, request, ctx) !== text) return `${c.call}Json function differs`;
      }
      status = 200;
    }
  } catch (e) {
    if (!(e instanceof Error) || e.name !== "IdentityError" || !api.isIdentityError(e)) {
      return `threw a non-IdentityError: ${e && e.name}: ${e && e.message}`;
    }
    if (e.message !== e.body.message) return `message ${JSON.stringify(e.message)} differs from body.message`;
    status = e.status;
    body = e.body;
    message = e.message;
  } finally {
    snapshot?.free();
  }
  if (status !== c.expect.status) return `status ${status}, expected ${c.expect.status}: ${JSON.stringify(body)}`;
  if ("body" in c.expect && JSON.stringify(body) !== JSON.stringify(c.expect.body)) {
    return `body ${JSON.stringify(body)}\n      expected ${JSON.stringify(c.expect.body)}`;
  }
  if (c.expect.messageIncludes && !String(message).includes(c.expect.messageIncludes)) {
    return `message ${JSON.stringify(message)} lacks ${JSON.stringify(c.expect.messageIncludes)}`;
  }
  return null;
}

/** A ReadableStream of `bytes` in chunks of `size`. */
function streamOf(bytes, size) {
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + size));
      at += size;
    },
  });
}

/** The outcome of loading as text: the canonical JSON, or the error's status and body. */
async function loaded(load) {
  try {
    const s = await load();
    const text = s.toJson();
    s.free();
    return text;
  } catch (e) {
    return `${e.name} ${e.status} ${JSON.stringify(e.body)}`;
  }
}

/** `Snapshot.fromStream`: the binary form and JSON in chunks load as fromBytes and fromJson do. */
async function streamChecks(api, files, check) {
  const { Snapshot } = api;
  const encoder = new TextEncoder();
  let same = 0;
  let cases = 0;
  for (const { cases: list } of files) {
    for (const c of list) {
      cases++;
      const json = encoder.encode(JSON.stringify(c.snapshot));
      const direct = await loaded(() => Snapshot.fromJson(json, c.options));
      const streamed = await loaded(() => Snapshot.fromStream(streamOf(json, 7), c.options));
      if (direct === streamed) same++;
      else check(`fromStream(JSON) of ${c.name}: ${streamed} instead of ${direct}`, false);
    }
  }
  check(`fromStream of every case's JSON loads or refuses as fromJson (${same} of ${cases})`, same === cases);
  const s = Snapshot.fromJson(JSON.stringify(files[0].cases[0].snapshot));
  const bytes = s.toBytes();
  for (const size of [1, 7, 4096, bytes.length]) {
    check(`fromStream of the binary form in chunks of ${size} answers as fromBytes`, (await loaded(() => Snapshot.fromStream(streamOf(bytes, size)))) === s.toJson());
  }
  const cut = await loaded(() => Snapshot.fromStream(streamOf(bytes.slice(0, bytes.length - 3), 64)));
  check("a truncated binary stream is an IdentityError naming what arrived", cut.startsWith("IdentityError 400") && cut.includes(`${bytes.length - 3} of the ${bytes.length} bytes`));
  const notStream = await loaded(() => Snapshot.fromStream("not a stream"));
  check("fromStream of something else is an IdentityError", notStream.startsWith("IdentityError 400"));
  const failing = await Snapshot.fromStream(new ReadableStream({ pull: (c) => c.error("gone") })).then(() => null, (e) => e);
  check("a failing stream rejects with an Error carrying the reason", failing instanceof Error && failing.cause === "gone");
  s.free();
}

/** base64url of bytes or a string. */
function base64url(input) {
  const bytes = typeof input === "string" ? new TextEncoder().encode(input) : new Uint8Array(input);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * handleRequest with AuthOptions in this runtime, through the entry it resolves (the browser
 * entry loads the verifier, and jose, with import() here): an ES256 token signed with
 * WebCrypto, its key set served by an injected `fetch` (no network: workerd and browsers run it
 * too). A valid token reads its subject's own links on Zitadel's routes and names the Camunda
 * user by a claim; no token, a changed payload and an unreachable key set are refused.
 */
async function authChecks(api, check) {
  const { Snapshot, handleRequest } = api;
  const snapshot = Snapshot.fromObject({ version: 1, users: [{ id: "u1", org: "o" }, { id: "u2", org: "o" }], idpLinks: [{ userId: "u1", idpId: "i", providedUserId: "p", providedUserName: "n" }, { userId: "u2", idpId: "i", providedUserId: "q", providedUserName: "m" }] });
  const keys = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const jwk = { ...(await crypto.subtle.exportKey("jwk", keys.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
  delete jwk.key_ops;
  delete jwk.ext;
  const issuer = "https://issuer.example";
  const now = Math.floor(Date.now() / 1000);
  const sign = async (claims) => {
    const input = `${base64url(JSON.stringify({ alg: "ES256", kid: "k1" }))}.${base64url(JSON.stringify({ iss: issuer, aud: "project", iat: now, exp: now + 300, ...claims }))}`;
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, keys.privateKey, new TextEncoder().encode(input));
    return `${input}.${base64url(signature)}`;
  };
  let reachable = true;
  const fetch = async (url) => {
    if (!reachable || String(url) !== `${issuer}/oauth/v2/keys`) throw new TypeError("fetch failed");
    return new Response(JSON.stringify({ keys: [jwk] }), { headers: { "content-type": "application/json" } });
  };
  const options = { auth: { zitadel: { issuer, audience: "project", fetch }, camunda: { zitadelClaim: "preferred_username" } } };
  const rest = (user, token) => new Request(`http://x/v2/users/${user}/links/_search`, { method: "POST", body: "{}", headers: token ? { authorization: `Bearer ${token}` } : {} });
  const connect = (user, token) => new Request("http://x/zitadel.user.v2.UserService/ListIDPLinks", { method: "POST", body: JSON.stringify({ userId: user }), headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) } });
  const answer = async (request, opts = options) => {
    try {
      const r = await handleRequest(snapshot, request, undefined, opts);
      return `${r.status} ${await r.text()}`;
    } catch (e) {
      return `rejected: ${e?.message ?? e}`;
    }
  };
  const token = await sign({ sub: "u1", preferred_username: "u1" });
  const own = snapshot.listIdpLinksJson({ userId: "u1" });
  check("auth: a valid ES256 token reads its own links (REST)", (await answer(rest("u1", token))) === `200 ${own}`);
  check("auth: a valid ES256 token reads its own links (Connect)", (await answer(connect("u1", token))).startsWith("200 "));
  const other = await answer(rest("u2", token));
  check(`auth: another user's links without memberships: 404 AUTHZ-cdgFk (${other.slice(0, 80)})`, other.startsWith("404 ") && other.includes("AUTHZ-cdgFk"));
  check("auth: no token: 401 auth header missing", (await answer(rest("u1"))) === '401 {"code":16,"message":"auth header missing"}');
  const [head, , signature] = token.split(".");
  const changed = `${head}.${base64url(JSON.stringify({ iss: issuer, aud: "project", iat: now, exp: now + 300, sub: "u2" }))}.${signature}`;
  check("auth: a payload changed after signing: 401 Errors.Token.Invalid", (await answer(rest("u2", changed))).startsWith('401 {"code":16,"message":"Errors.Token.Invalid (AUTH-7fs1e)"'));
  const groups = await answer(new Request("http://x/engine-rest/identity/groups?userId=u1", { headers: { authorization: `Bearer ${token}` } }));
  check("auth: Camunda's caller from the token's claim: 200", groups.startsWith("200 "));
  reachable = false;
  const fresh = { auth: { zitadel: { issuer, audience: "project", fetch } } };
  check("auth: the key set unreachable: 503 unavailable, never a 200", (await answer(connect("u1", token), fresh)).startsWith('503 {"code":"unavailable"'));
  snapshot.free();
}

/** The outcome of `f`: "ok", or the IdentityError's status, body type and message. */
function outcome(api, f) {
  try {
    f();
    return "ok";
  } catch (e) {
    return api.isIdentityError(e) ? `${e.status} ${e.body.type} ${e.message}` : `not an IdentityError: ${e}`;
  }
}

/** `version`, `deltaTo` and `applyDelta` (API.md, "Live updates"). */
function deltaChecks(api, files, check) {
  const { Snapshot } = api;
  const base = files[0].cases[0].snapshot;
  const changed = JSON.parse(JSON.stringify(base));
  changed.users = [...(changed.users ?? []), { id: "delta-user", firstName: "Dee", lastName: "Elta" }];
  changed.sequence = "987654321";
  const [a, b] = [Snapshot.fromJson(JSON.stringify(base)), Snapshot.fromJson(JSON.stringify(changed))];
  const again = Snapshot.fromJson(JSON.stringify(base));
  check("version is 16 hexadecimal digits", typeof a.version === "string" && /^[0-9a-f]{16}$/.test(a.version));
  check("version is equal across fresh loads of the same data (JSON and binary)", a.version === again.version && Snapshot.fromBytes(a.toBytes()).version === a.version);
  check("versions of different data differ", a.version !== b.version);
  const ids = [...(base.users ?? []).map((u) => u.id), "delta-user"];
  const answers = (s) => ids.map((userId) => s.getUserGroupsJson({ userId }) + JSON.stringify(s.getUserGroups({ userId })) + JSON.stringify(s.listIdpLinks({ userId })) + s.listIdpLinksJson({ userId })).join("\n");
  const before = answers(a); // texts decoded and kept by the wrapper before the delta
  const delta = a.deltaTo(b);
  check("deltaTo gives a Uint8Array", delta instanceof Uint8Array && delta.length > 0);
  const [aVersion, bVersion] = [a.version, b.version];
  check("applyDelta applies", outcome(api, () => a.applyDelta(delta)) === "ok");
  const bytes = (s) => Array.from(s.toBytes()).join();
  check("after applyDelta: the newer version, binary form and answers", a.version === bVersion && bytes(a) === bytes(b) && answers(a) === answers(b) && answers(a) !== before);
  const info = api.deltaInfo(delta);
  check("deltaInfo reads the delta's versions, sequence and timestamp without a snapshot", JSON.stringify(info) === JSON.stringify({ from: aVersion, to: bVersion, sequence: b.sequence, timestamp: b.timestamp }), JSON.stringify(info));
  const cut = outcome(api, () => api.deltaInfo(delta.subarray(0, delta.length - 1)));
  check("deltaInfo of a truncated delta, or of something else, is a DeltaError (400)", cut.startsWith("400 DeltaError ") && outcome(api, () => api.deltaInfo("delta")).startsWith("400 DeltaError "), cut);
  const twice = outcome(api, () => a.applyDelta(delta));
  check("the same delta twice is a DeltaError (400) naming both versions", twice.startsWith("400 DeltaError ") && twice.includes(aVersion) && twice.includes(bVersion), twice);
  const back = b.deltaTo(again);
  back[back.length - 20] ^= 4;
  const damaged = outcome(api, () => b.applyDelta(back));
  check("a damaged delta is a DeltaError (400), the snapshot unchanged", damaged.startsWith("400 DeltaError ") && b.version === bVersion && answers(b) === answers(a), damaged);
  check("a delta that is not bytes is a DeltaError", outcome(api, () => b.applyDelta("delta")).startsWith("400 DeltaError "));
  const gone = Snapshot.fromJson(JSON.stringify(base));
  gone.free();
  check("deltaTo of a freed snapshot or of something else is a UsageError", [gone, {}, undefined].every((x) => outcome(api, () => a.deltaTo(x)).startsWith("400 UsageError ")));
  for (const s of [a, b, again]) s.free();
}

/**
 * Runs every case of `files` (`[{ file, cases }]`) and a few checks of the API's shape.
 * Resolves to `{ passed, failed, failures }`.
 */
export async function runConformance(api, files) {
  let passed = 0;
  const failures = [];
  const check = (name, ok) => (ok ? passed++ : failures.push(name));
  for (const { file, cases } of files) {
    for (const c of cases) {
      const failure = runCase(api, c);
      if (failure) failures.push(`${file} / ${c.name}: ${failure}`);
      else passed++;
    }
  }
  // The rest of the contract that the cases do not reach.
  const s = api.Snapshot.fromJson(JSON.stringify(files[0].cases[0].snapshot));
  check("binary round trip answers identically", JSON.stringify(api.Snapshot.fromBytes(s.toBytes()).stats()) === JSON.stringify(s.stats()));
  check("canonical JSON round trip", api.Snapshot.fromJson(s.toJson()).toJson() === s.toJson());
  check("fromObject equals fromJson", api.Snapshot.fromObject(files[0].cases[0].snapshot).toJson() === s.toJson());
  check("fromJson accepts UTF-8 bytes", api.Snapshot.fromJson(new TextEncoder().encode(s.toJson())).toJson() === s.toJson());
  check("sequence and timestamp are strings", typeof s.sequence === "string" && typeof s.timestamp === "string");
  if (typeof Symbol.dispose === "symbol") {
    // [Symbol.dispose]() frees: the snapshot is refused afterwards, as after free().
    const disposed = api.Snapshot.fromJson(s.toJson());
    disposed[Symbol.dispose]();
    let refused = false;
    try {
      disposed.stats();
    } catch (e) {
      refused = api.isIdentityError(e);
    }
    check("Symbol.dispose frees", refused);
  } else {
    passed++; // a runtime without Symbol.dispose: nothing to dispose with
  }
  // memoryUsage(): the module's memory now, whole wasm pages, and at least what a snapshot holds.
  const usage = api.memoryUsage();
  check("memoryUsage() reports the module's memory in whole pages", Object.keys(usage).join() === "wasmBytes" && Number.isInteger(usage.wasmBytes) && usage.wasmBytes > 0 && usage.wasmBytes % 65536 === 0);
  const big = api.Snapshot.fromObject({ version: 1, users: Array.from({ length: 20000 }, (_, i) => ({ id: `memory-check-user-${i}`, firstName: "A", lastName: "B" })) });
  check("memoryUsage() follows the memory as it grows", api.memoryUsage().wasmBytes >= usage.wasmBytes && api.memoryUsage().wasmBytes >= big.toBytes().length);
  big.free();
  check("default export is init", typeof api.default === "function" && typeof api.initSync === "function");
  s.free();
  deltaChecks(api, files, check);
  await streamChecks(api, files, check);
  await authChecks(api, check);
  return { passed, failed: failures.length, failures };
}

/**
 * Before `init()`: every entry point throws (fromStream and handleRequest reject) an Error that
 * says to call init() first, not wasm-bindgen's TypeError about an undefined export, and
 * isIdentityError answers false. For the entries that wait for init (web, browsers); returns
 * what `runConformance` returns.
 */
export async function beforeInitChecks(api) {
  let passed = 0;
  const failures = [];
  const calls = {
    "Snapshot.fromJson()": () => api.Snapshot.fromJson('{"version":1}'),
    "Snapshot.fromObject()": () => api.Snapshot.fromObject({ version: 1 }),
    "Snapshot.fromBytes()": () => api.Snapshot.fromBytes(new Uint8Array(16)),
    "Snapshot.fromStream()": () => api.Snapshot.fromStream(new Blob(['{"version":1}']).stream()),
    "getIdentityLinks()": () => api.getIdentityLinks({}, { taskId: "t" }),
    "handleRequest()": () => api.handleRequest({}, new Request("http://localhost/engine-rest/identity/groups?userId=u")),
    "deltaInfo()": () => api.deltaInfo(new Uint8Array(64)),
    "memoryUsage()": () => api.memoryUsage(),
  };
  for (const [what, call] of Object.entries(calls)) {
    let error;
    try {
      await call();
    } catch (e) {
      error = e;
    }
    const said = `identity-links: ${what} before the module is initialized: call init() or initSync() first`;
    if (error instanceof Error && error.message === said) passed++;
    else failures.push(`before init, ${what}: ${error ? `${error.name}: ${error.message}` : "no error"}`);
  }
  // isIdentityError, as the catch block of a load calls it: false, not a TypeError.
  try {
    if (api.isIdentityError(new Error("x")) === false) passed++;
    else failures.push("before init, isIdentityError() is not false");
  } catch (e) {
    failures.push(`before init, isIdentityError() threw ${e.name}: ${e.message}`);
  }
  return { passed, failed: failures.length, failures };
}

/** Prints the result as one line the orchestrator reads. */
export function report(runtime, result) {
  console.log(`RESULT ${JSON.stringify({ runtime, ...result })}`);
}
