// Hostile input through the built package in Node: every refusal is an IdentityError — never a
// RuntimeError (a wasm trap), never a TypeError — and the snapshot answers correctly afterwards.
// Also: 20,000 load/free cycles do not grow wasm memory; free() twice and a query after free()
// are clear errors. Run with `node --expose-gc --test` (tests/js/check.mjs).
import { check } from "./check.mjs";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const api = require(join(root, "pkg/node/index.cjs"));
const glue = require(join(root, "pkg/node/identity_links.js")); // the same instance, for its memory
const { Snapshot } = api;

const sampleText = readFileSync(join(root, "www/sample-snapshot.json"), "utf8");
const reference = Snapshot.fromJson(sampleText);
/** handleRequest's options for full rights (the handler serves no one until `auth` says how). */
const trusted = { auth: "trusted" };

const probes = [
  ["getIdentityLinks", { taskId: "approve-invoice-1001" }],
  ["getUserGroups", { userId: "demo" }],
  ["listIdpLinks", { userId: "demo", query: { limit: 2, asc: true } }],
];
const expected = probes.map(([q, r]) => JSON.stringify(reference[q](r)));

const stillAnswers = () => probes.every(([q, r], i) => JSON.stringify(reference[q](r)) === expected[i]);

/** `f` must throw an IdentityError (status 400-499, a body, message = body.message). */
function refused(name, f) {
  try {
    const result = f();
    check(name, false, `accepted (${String(JSON.stringify(result)).slice(0, 80)})`);
  } catch (e) {
    const ok = e instanceof Error && e.name === "IdentityError" && api.isIdentityError(e) && e.status >= 400 && e.status < 500 && typeof e.body === "object" && e.message === e.body.message;
    if (!ok) check(name, false, `threw ${e && e.name}: ${e && e.message}`);
    else check(name, stillAnswers(), "the snapshot no longer answers correctly");
  }
}

// --- Snapshots: JSON ----------------------------------------------------------------------
const valid = JSON.stringify({ version: 1, users: [{ id: "u" }], groups: [{ id: "g", name: "G" }], memberships: [{ userId: "u", groupId: "g" }], tasks: [{ id: "t", identityLinks: [{ groupId: "g", type: "c" }] }] });
for (let cut = 0; cut < valid.length; cut += 3) refused(`truncated JSON at ${cut}`, () => Snapshot.fromJson(valid.slice(0, cut)));
let seed = 99;
const random = () => (seed = (seed * 48271) % 2147483647);
for (let i = 0; i < 200; i++) {
  const garbage = new Uint8Array(1 + (random() % 300)).map(() => random() & 255);
  refused(`garbage bytes #${i}`, () => Snapshot.fromJson(garbage));
}
refused("deeply nested arrays", () => Snapshot.fromJson("[".repeat(1_000_000) + "]".repeat(1_000_000)));
refused("deeply nested in a field", () => Snapshot.fromJson(`{"version":1,"users":[{"id":${"[".repeat(5000)}${"]".repeat(5000)}}]}`));
refused("larger than maxBytes (string)", () => Snapshot.fromJson(`{"version":1,"x":"${"a".repeat(2 << 20)}"}`, { maxBytes: 1 << 20 }));
refused("larger than maxBytes (bytes)", () => Snapshot.fromJson(new Uint8Array(3 << 20), { maxBytes: 1 << 20 }));
refused("a 10 MB id", () => Snapshot.fromJson(`{"version":1,"users":[{"id":"${"x".repeat(10_000_000)}"}]}`));
for (const [name, text] of [
  ["wrong type: version", '{"version":"1"}'],
  ["wrong type: users", '{"version":1,"users":{}}'],
  ["wrong type: id", '{"version":1,"users":[{"id":1}]}'],
  ["lone surrogate escape", '{"version":1,"users":[{"id":"\\ud800"}]}'],
  ["duplicate id", '{"version":1,"users":[{"id":"a"},{"id":"a"}]}'],
  ["duplicate key", '{"version":1,"version":1}'],
  ["dangling membership", '{"version":1,"users":[{"id":"a"}],"memberships":[{"userId":"a","groupId":"nope"}]}'],
  ["dangling IdP link", '{"version":1,"idpLinks":[{"userId":"x","idpId":"i","providedUserId":"p","providedUserName":""}]}'],
  ["sequence overflow", '{"version":1,"sequence":"99999999999999999999"}'],
  ["NaN literal", '{"version":NaN}'],
]) refused(name, () => Snapshot.fromJson(text));
refused("raw lone surrogate in a JS string", () => Snapshot.fromJson('{"version":1,"users":[{"id":"\ud800"}]}'));
for (const [name, value] of [["number", 42], ["null", null], ["undefined", undefined], ["object", {}], ["array", []], ["symbol", Symbol("x")], ["function", () => 1], ["bigint", 5n]]) {
  refused(`fromJson(${name})`, () => Snapshot.fromJson(value));
  refused(`fromBytes(${name})`, () => Snapshot.fromBytes(value));
}
const cyclic = { version: 1 };
cyclic.self = cyclic;
refused("fromObject: a cycle", () => Snapshot.fromObject(cyclic));
refused("fromObject: a BigInt", () => Snapshot.fromObject({ version: 1n }));
refused("fromObject: undefined", () => Snapshot.fromObject(undefined));
refused("fromObject: a throwing toJSON", () => Snapshot.fromObject({ version: 1, toJSON() { throw new TypeError("no"); } }));
for (const [name, options] of [["negative", { maxLimit: -1 }], ["fraction", { defaultLimit: 1.5 }], ["string", { maxLimit: "10" }], ["NaN", { maxBytes: NaN }], ["unknown", { maxlimit: 1 }], ["not an object", 7]]) {
  refused(`options: ${name}`, () => Snapshot.fromJson(valid, options));
}

// --- Snapshots: binary --------------------------------------------------------------------
const binary = Snapshot.fromJson(valid).toBytes();
for (let cut = 0; cut < binary.length; cut += 7) refused(`truncated binary at ${cut}`, () => Snapshot.fromBytes(binary.subarray(0, cut)));
for (let i = 0; i < binary.length; i += 5) {
  const flipped = binary.slice();
  flipped[i] ^= 1 << (i % 8);
  refused(`bit flip at byte ${i}`, () => Snapshot.fromBytes(flipped));
}

// --- Requests -----------------------------------------------------------------------------
const huge = "x".repeat(5_000_000);
for (const [name, query, request, context] of [
  ["request null", "getIdentityLinks", null],
  ["request a string", "getIdentityLinks", "approve-invoice-1001"],
  ["request a symbol", "getUserGroups", Symbol("u")],
  ["taskId a number", "getIdentityLinks", { taskId: 7 }],
  ["taskId an object", "getIdentityLinks", { taskId: { id: "t" } }],
  ["type a number", "getIdentityLinks", { taskId: "approve-invoice-1001", type: 1 }],
  ["unknown task", "getIdentityLinks", { taskId: huge }],
  ["userId missing", "getUserGroups", {}],
  ["userId a bigint", "getUserGroups", { userId: 1n }],
  ["negative offset", "listIdpLinks", { userId: "demo", query: { offset: -1 } }],
  ["negative bigint offset", "listIdpLinks", { userId: "demo", query: { offset: -1n } }],
  ["fractional offset", "listIdpLinks", { userId: "demo", query: { offset: 0.5 } }],
  ["NaN limit", "listIdpLinks", { userId: "demo", query: { limit: NaN } }],
  ["Infinity limit", "listIdpLinks", { userId: "demo", query: { limit: Infinity } }],
  ["limit over uint32", "listIdpLinks", { userId: "demo", query: { limit: 2 ** 32 } }],
  ["offset over uint64", "listIdpLinks", { userId: "demo", query: { offset: "18446744073709551616" } }],
  ["asc a string", "listIdpLinks", { userId: "demo", query: { asc: "yes" } }],
  ["query an array", "listIdpLinks", { userId: "demo", query: [] }],
  ["huge user id", "listIdpLinks", { userId: huge }],
  ["lone surrogate user id", "listIdpLinks", { userId: "\udc00" }],
  ["context a string", "getIdentityLinks", { taskId: "approve-invoice-1001" }, "admin"],
  ["context with a typo", "listIdpLinks", { userId: "demo" }, { caller: { userId: "x", permission: ["user.read"] } }],
  ["context resource unknown", "getUserGroups", { userId: "demo" }, { caller: { userId: "x", authorizations: [{ resource: "Process", resourceId: "*", permissions: ["READ"] }] } }],
  ["context cyclic", "getUserGroups", { userId: "demo" }, (() => { const c = { caller: { userId: "x" } }; c.caller.self = c; return c; })()],
]) {
  refused(`${query}: ${name}`, () => reference[query](request, context));
  refused(`${query}Json: ${name}`, () => reference[`${query}Json`](request, context));
  refused(`${query}(snapshot): ${name}`, () => api[query](reference, request, context));
}
for (const [name, value] of [["null", null], ["an object", {}], ["a number", 1]]) refused(`getUserGroups on ${name}`, () => api.getUserGroups(value, { userId: "demo" }));

// The memory contract (src/wasm/abi.rs): the wrapper's constants are the module's, and a module
// that differs is refused when the package starts, naming both.
{
  const { ABI, checkAbi } = await import(join(root, "pkg/api.js"));
  const theirs = Array.from(glue.__abi());
  check(`the wrapper's ABI constants are the module's (${theirs.join(", ")})`, JSON.stringify(theirs) === JSON.stringify(Object.values(ABI)));
  const other = { __abi: () => [ABI.VERSION + 1, ...theirs.slice(1)] };
  let refusal = "";
  try {
    checkAbi(other);
  } catch (e) {
    refusal = String(e.message);
  }
  check("a module of another ABI version is refused, naming both", refusal.includes(`${ABI.VERSION + 1}, `) && refusal.includes(`(${Object.values(ABI).join(", ")})`), refusal);
  let none = "";
  try {
    checkAbi({});
  } catch (e) {
    none = String(e.message);
  }
  check("a module without the ABI export is refused", none.includes("(none)"), none);
}
// initSync and init take a compiled module made in another realm (as Next.js's edge sandbox
// hands one over): the web entry, in a fresh process, initialized from a vm context's module.
{
  const { spawnSync } = await import("node:child_process");
  const script = `
    import { readFileSync } from "node:fs";
    import vm from "node:vm";
    const web = await import(${JSON.stringify(join(root, "pkg/index.js"))});
    const bytes = readFileSync(${JSON.stringify(join(root, "pkg/identity_links_bg.wasm"))});
    const foreign = vm.runInNewContext("new WebAssembly.Module(bytes)", { bytes });
    const realm = foreign instanceof WebAssembly.Module ? "same" : "other";
    await web.default({ module_or_path: foreign });
    const s = web.Snapshot.fromJson('{"version":1,"users":[{"id":"u"}]}');
    console.log(realm, s.stats().users, JSON.stringify(web.getIdentityLinks(web.Snapshot.fromJson('{"version":1,"tasks":[{"id":"t","owner":"o"}]}'), { taskId: "t" })));`;
  const out = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  check("init takes a WebAssembly.Module of another realm", out.stdout.trim() === 'other 1 [{"userId":"o","groupId":null,"type":"owner"}]', out.stdout + out.stderr);
}
// A runtime without String.prototype.isWellFormed (older than ES2024) is refused when the
// package loads, naming what it needs, rather than failing later inside a query.
{
  const { spawnSync } = await import("node:child_process");
  const script = `delete String.prototype.isWellFormed; try { require(${JSON.stringify(join(root, "pkg/node/index.cjs"))}); console.log("loaded"); } catch (e) { console.log(e.message); }`;
  const out = spawnSync(process.execPath, ["-e", script], { encoding: "utf8" }).stdout.trim();
  check("a runtime without String.prototype.isWellFormed is refused at load, naming it", out.startsWith("identity-links: this runtime lacks String.prototype.isWellFormed"), out);
}
check("lone-surrogate task id is not found, not a U+FFFD match", (() => {
  const s = Snapshot.fromJson('{"version":1,"tasks":[{"id":"\\ufffd"}]}');
  try { s.getIdentityLinks({ taskId: "\ud800" }); return false; } catch (e) { return e.status === 400; } finally { s.free(); }
})());

// The fast path and the validating path (forced by an empty context) agree on odd shapes.
const outcome = (f) => {
  try {
    return JSON.stringify(f());
  } catch (e) {
    return `${e.name} ${e.status} ${JSON.stringify(e.body)}`;
  }
};
const odd = [undefined, null, 0, -0, 1, 2.5, -3, 2 ** 53, NaN, "", "demo", "approve-invoice-1001", "1", true, [], {}, [1], 3n, "\ud800x"];
// A context takes the validating path; this caller holds every right there is (Zitadel's
// instance-wide user.read, Camunda's ALL on every resource), so it answers as a trusted call.
const everything = { caller: { userId: "hostile-test", permissions: ["user.read"], authorizations: ["Task", "Group", "User"].map((resource) => ({ resource, resourceId: "*", permissions: ["ALL"] })) } };
let disagreements = 0;
for (let i = 0; i < 3000; i++) {
  const pick = () => odd[random() % odd.length];
  const query = random() % 4 === 0 ? pick() : { offset: pick(), limit: pick(), asc: pick() };
  const requests = {
    getIdentityLinks: { taskId: random() % 3 ? "approve-invoice-1001" : pick(), type: pick() },
    getUserGroups: { userId: random() % 3 ? "demo" : pick() },
    listIdpLinks: { userId: random() % 3 ? "demo" : pick(), query },
  };
  for (const [q, request] of Object.entries(requests)) {
    const fast = outcome(() => reference[q](request));
    if (fast !== outcome(() => reference[q](request, everything)) || outcome(() => reference[`${q}Json`](request)) !== outcome(() => JSON.stringify(reference[q](request, everything)))) {
      if (disagreements++ < 3) check(`fast and validating paths differ: ${q} ${String(JSON.stringify(request, (k, v) => (typeof v === "bigint" ? `${v}n` : v)))}`, false);
    }
  }
}
check(`fast and validating paths agree on 9,000 odd requests (${disagreements} differ)`, disagreements === 0);

// The trusted calls pass a request's strings as UTF-8 through the module's input area and decode
// the answer's cells: every id of a snapshot of mixed scripts and lengths (1- to 4-byte UTF-8,
// strings that need JSON escapes), loaded from JSON and from the binary form, answers exactly as
// the validating path does, as objects and as JSON text.
{
  const chars = ["a", "Z", "7", "-", "é", "ß", "€", "中", "😀", "\"", "\\", "\n", "\u2028", "\u0001", "~"];
  const word = (i, len) => Array.from({ length: len }, (_, k) => chars[(i * 7 + k * 3 + (k * k) % 5) % chars.length]).join("");
  const users = Array.from({ length: 300 }, (_, i) => ({ id: `${word(i, 1 + (i % 23))}#${i}`, firstName: i % 5 ? word(i + 1, 1 + (i % 7)) : null, lastName: i % 3 ? word(i + 2, 2 + (i % 4)) : null, org: `o${i % 4}` }));
  const groups = Array.from({ length: 40 }, (_, i) => ({ id: `${word(i + 9, 1 + (i % 11))}·${i}`, name: i % 6 ? word(i, 3) : null }));
  const memberships = users.flatMap((u, i) => [groups[i % 40], groups[(i * 7) % 40]].filter((g, k, a) => a.indexOf(g) === k).map((g) => ({ userId: u.id, groupId: g.id })));
  const types = ["candidate", word(3, 5), "assignee", "participant"];
  const tasks = Array.from({ length: 400 }, (_, i) => ({
    id: `${word(i + 5, 1 + (i % 17))}/${i}`,
    assignee: i % 3 ? users[i % 300].id : null,
    owner: i % 4 ? null : users[(i * 11) % 300].id,
    identityLinks: Array.from({ length: i % 6 }, (_, k) => (k % 2 ? { groupId: groups[(i + k) % 40].id, type: types[(i + k) % 4] } : { userId: users[(i * k) % 300].id, type: types[k % 4] })),
  }));
  const idpLinks = users.flatMap((u, i) => Array.from({ length: i % 4 }, (_, k) => ({ userId: u.id, idpId: `idp-${k}`, providedUserId: word(i + k, 4) + i, providedUserName: k === 1 ? "" : word(i, 6) })));
  const json = JSON.stringify({ version: 1, sequence: "7", timestamp: "2025-01-02T03:04:05Z", users, groups, memberships, tasks, idpLinks });
  const fromJson = Snapshot.fromJson(json, { defaultLimit: 2, maxLimit: 3 });
  const fromBytes = Snapshot.fromBytes(fromJson.toBytes(), { defaultLimit: 2, maxLimit: 3 });
  let compared = 0;
  let differ = 0;
  const same = (snapshot, q, request) => {
    compared++;
    const validated = outcome(() => snapshot[q](request, everything));
    const ok = outcome(() => snapshot[q](request)) === validated && outcome(() => snapshot[`${q}Json`](request)) === outcome(() => JSON.stringify(snapshot[q](request, everything)));
    if (!ok && differ++ < 3) check(`fast path differs: ${q} ${JSON.stringify(request)}`, false);
  };
  for (const snapshot of [fromJson, fromBytes]) {
    for (const t of tasks) for (const type of [undefined, ...types, "absent", t.id]) same(snapshot, "getIdentityLinks", { taskId: t.id, type });
    for (const u of users) {
      same(snapshot, "getUserGroups", { userId: u.id });
      for (const query of [undefined, {}, { limit: 1 }, { limit: 3, asc: true }, { offset: 1, asc: true }, { offset: 2 }, { limit: 4 }]) same(snapshot, "listIdpLinks", { userId: u.id, query });
    }
    for (const id of ["", "absent", "a", "é", "😀", "\ud83d", users[0].id.slice(0, -1)]) {
      same(snapshot, "getIdentityLinks", { taskId: id });
      same(snapshot, "listIdpLinks", { userId: id });
    }
  }
  check(`fast paths agree with the validating path on ${compared} lookups of mixed-script ids (${differ} differ)`, differ === 0 && compared > 8000);
  // And the fast path is taken for every stored task (a miss would fall back to the validating
  // path, answering the same): the request is read twice by the fast path, twice more by the
  // validating path.
  const reads = (snapshot, request) => {
    let gets = 0;
    const counted = new Proxy(request, { get: (target, key) => (gets++, target[key]) });
    outcome(() => snapshot.getIdentityLinks(counted));
    outcome(() => snapshot.getIdentityLinksJson(counted));
    return gets;
  };
  const slow = [fromJson, fromBytes].flatMap((snapshot) => tasks.filter((t) => reads(snapshot, { taskId: t.id, type: null }) !== 4));
  check(`the fast path answers for every stored task (${slow.length} fell back)`, slow.length === 0);
  check("an unknown task falls back to the validating path", reads(fromJson, { taskId: "absent", type: null }) === 8);
  check("the fast paths found the ids (answers are not all empty)", fromJson.listIdpLinks({ userId: users[3].id }).result?.length === 2 && fromBytes.listIdpLinksJson({ userId: users[3].id }).includes("totalResult") && fromBytes.getIdentityLinks({ taskId: tasks[5].id }).length === 6);
  fromJson.free();
  fromBytes.free();
}

// The input area grows for long strings: strings of up to 200 characters (the snapshot's limit)
// of 1, 2 and 4 bytes each are found, as link types (a type that is not found filters every link
// out) and as user ids (an unknown user has an empty page).
{
  const lengths = [1, 2, 3, 4, 5, 63, 64, 65, 127, 128, 129, 199, 200];
  const texts = lengths.flatMap((n) => ["x".repeat(n - 1) + "!", "é".repeat(n - 1) + "z", "😀".repeat(n - 1) + "q", "😀".repeat(n)]);
  const ids = texts;
  const users = ids.map((id) => ({ id, firstName: null, lastName: null, org: "o" }));
  const idpLinks = ids.map((id, i) => ({ userId: id, idpId: "idp", providedUserId: `p${i}`, providedUserName: "" }));
  const tasks = texts.map((type, i) => ({ id: `t${i}`, assignee: null, owner: null, identityLinks: [{ userId: "u", type }, { groupId: "g", type: "other" }] }));
  const snapshot = Snapshot.fromJson(JSON.stringify({ version: 1, users, tasks, idpLinks }));
  const typed = texts.filter((type, i) => {
    const links = snapshot.getIdentityLinks({ taskId: `t${i}`, type });
    return links.length === 1 && links[0].type === type && snapshot.getIdentityLinksJson({ taskId: `t${i}`, type }) === JSON.stringify(links);
  });
  check(`long link types are found by the fast paths (${typed.length} of ${texts.length})`, typed.length === texts.length && texts.length === 52);
  const paged = ids.filter((id, i) => snapshot.listIdpLinks({ userId: id }).result?.[0]?.userId === `p${i}`);
  check(`long user ids are found by the fast paths (${paged.length} of ${ids.length})`, paged.length === ids.length);
  check("a long type one character short is not found", snapshot.getIdentityLinks({ taskId: "t51", type: "😀".repeat(199) }).length === 0);
  snapshot.free();
}

// --- Values that throw when the module reads them ------------------------------------------
// An exception thrown through the module while a call holds a snapshot would leave that
// snapshot borrowed for good (every later call refused, free() too). Each of these is an
// IdentityError, and the snapshot answers, takes a delta and frees afterwards.
{
  const traps = ["get", "has", "ownKeys", "getOwnPropertyDescriptor", "getPrototypeOf"];
  const throwing = () => new Proxy({}, Object.fromEntries(traps.map((t) => [t, () => { throw new Error(t); }])));
  const revoked = () => { const r = Proxy.revocable({}, {}); r.revoke(); return r.proxy; };
  const values = [
    ["a throwing proxy", throwing],
    ["a revoked proxy", revoked],
    ["an object whose getters throw", () => Object.defineProperties({}, Object.fromEntries(["userId", "caller", "taskId", "offset", "limit", "asc", "origins"].map((k) => [k, { enumerable: true, get() { throw new Error(k); } }])))],
    ["an array whose item throws", () => Object.defineProperty([1], 0, { get() { throw new Error("item"); } })],
    ["a proxy of an array", () => new Proxy([], { get() { throw new Error("get"); } })],
  ];
  const fresh = () => Snapshot.fromObject({ version: 1, users: [{ id: "u" }], tasks: [{ id: "t", assignee: "u" }] });
  const other = Snapshot.fromObject({ version: 1, users: [{ id: "v" }] });
  /** `f(s)` is refused as an IdentityError, and `s` still answers, applies a delta and frees. */
  const survives = (name, f) => {
    const s = fresh();
    const delta = s.deltaTo(other);
    try {
      f(s);
      check(name, false, "accepted");
    } catch (e) {
      check(name, api.isIdentityError(e), `threw ${e?.name}: ${e?.message}`);
    }
    let after = "";
    try {
      after = JSON.stringify(s.getIdentityLinks({ taskId: "t" }));
      s.applyDelta(delta);
      check(`${name}: the snapshot answers and takes a delta after`, after.includes('"u"') && s.version === other.version);
      s.free();
    } catch (e) {
      check(`${name}: the snapshot answers and takes a delta after`, false, `${e?.name}: ${e?.message}`);
    }
  };
  const caller = { userId: "u" };
  for (const [what, value] of values) {
    survives(`a context that is ${what}`, (s) => s.getIdentityLinks({ taskId: "t" }, value()));
    survives(`a caller that is ${what}`, (s) => s.getUserGroups({ userId: "u" }, { caller: value() }));
    survives(`a request member that is ${what}`, (s) => s.getIdentityLinks({ taskId: value() }, { caller }));
    survives(`a query that is ${what}`, (s) => s.listIdpLinksJson({ userId: "u", query: value() }, { caller }));
  }
  // The HTTP handler reads its context and options the same way.
  for (const [what, value] of values) {
    const s = fresh();
    const request = () => new Request("http://x/identity/groups?userId=u");
    const e = await api.handleRequest(s, request(), value(), { auth: "trusted" }).then(() => null, (x) => x);
    check(`handleRequest with a context that is ${what}: an IdentityError`, api.isIdentityError(e), String(e?.message ?? "answered"));
    const f = await api.handleRequest(s, request(), undefined, { auth: "trusted", cors: value() }).then(() => null, (x) => x);
    check(`handleRequest with an option that is ${what}: an IdentityError`, api.isIdentityError(f), String(f?.message ?? "answered"));
    const answer = await api.handleRequest(s, request(), undefined, { auth: "trusted" });
    check(`handleRequest with ${what}: the snapshot answers after`, answer.status === 200);
    s.free();
  }

  // Deltas that cannot be read: a buffer transferred away (as postMessage does), a resizable one
  // shrunk under its view, proxies, a `length` that lies (the bytes are read, not the property).
  const good = fresh().deltaTo(other);
  const detached = () => { const copy = good.slice(); structuredClone(copy.buffer, { transfer: [copy.buffer] }); return copy; };
  const shrunk = () => { const buffer = new ArrayBuffer(good.length, { maxByteLength: good.length }); const view = new Uint8Array(buffer, 0, good.length); view.set(good); buffer.resize(0); return view; };
  const deltas = [
    ["a detached buffer", detached],
    ["a shrunk resizable buffer", shrunk],
    ["a proxy of a delta", () => new Proxy(good.slice(), {})],
    ["a revoked proxy", revoked],
    ["a throwing proxy", throwing],
  ];
  for (const [what, delta] of deltas) {
    survives(`applyDelta(${what})`, (s) => s.applyDelta(delta()));
    refused(`deltaInfo(${what})`, () => api.deltaInfo(delta()));
  }
  {
    const s = fresh();
    const liar = Object.defineProperty(good.slice(), "length", { value: 2 ** 31 - 1 });
    s.applyDelta(liar);
    check("applyDelta reads a delta's bytes, not a length it claims", s.version === other.version);
    s.free();
  }

  // The loaders, given the same (nothing is borrowed there, but the error is still theirs).
  const proxied = ["a proxy of a snapshot's bytes", () => new Proxy(other.toBytes(), {})];
  for (const [what, value] of [...values, ["a detached buffer", detached], ["a shrunk resizable buffer", shrunk], proxied]) {
    refused(`fromJson(${what})`, () => Snapshot.fromJson(value()));
    refused(`fromBytes(${what})`, () => Snapshot.fromBytes(value()));
  }
  for (const [what, value] of values) refused(`fromJson with options that are ${what}`, () => Snapshot.fromJson('{"version":1}', value()));

  // A receiver that only inherits from a Snapshot is not one: refused, and the snapshot it
  // inherits from is neither freed nor used.
  const s = fresh();
  const heir = Object.create(s);
  for (const [what, f] of [["free()", () => heir.free()], ["version", () => heir.version], ["a query", () => heir.getIdentityLinks({ taskId: "t" })], ["applyDelta", () => heir.applyDelta(good)], ["deltaTo's argument", () => s.deltaTo(heir)], ["a bare prototype", () => Object.create(Snapshot.prototype).toBytes()]]) {
    try {
      f();
      check(`an object inheriting from a snapshot: ${what} refused`, false, "accepted");
    } catch (e) {
      check(`an object inheriting from a snapshot: ${what} refused`, e?.body?.type === "UsageError", `${e?.name}: ${e?.message}`);
    }
  }
  check("the snapshot an object inherits from still answers", JSON.stringify(s.getIdentityLinks({ taskId: "t" })).includes('"u"'));
  s.free();
  other.free();
}

// --- Resources ----------------------------------------------------------------------------
const memory = () => glue.__memory().buffer.byteLength;
const small = readFileSync(join(root, "www/sample-snapshot.json"));
// fromJson loads in a throwaway instance and reads back the binary form, so the long-lived
// memory grows by the tables only: not by the JSON (here padded to over 20 MB with whitespace,
// which the tables do not keep), as a copy of the input in it would. Also from a Uint8Array,
// and through fromObject.
{
  const users = Array.from({ length: 20_000 }, (_, i) => ({ id: `user-${i}`, firstName: "Ada", lastName: null, org: "o" }));
  const padded = JSON.stringify({ version: 1, users }).replaceAll(",", `,${" ".repeat(300)}`);
  const start = memory();
  const loaded = [Snapshot.fromJson(padded), Snapshot.fromJson(new TextEncoder().encode(padded)), Snapshot.fromObject({ version: 1, users })];
  const grew = memory() - start;
  check(`fromJson keeps the input out of long-lived memory (grew ${grew} bytes for ${padded.length} of JSON, three loads)`, padded.length > 20e6 && grew < padded.length / 4);
  check("the three loads are the same snapshot", loaded.every((s) => s.toJson() === loaded[0].toJson() && s.stats().users === 20_000));
  for (const s of loaded) s.free();
}
// The fast paths read wasm memory through views that a growth of memory detaches: answers stay
// right when memory grows between two queries (here by 64 MiB, as an allocation would grow it).
{
  const s = Snapshot.fromJson(small);
  // The fast paths (no context) against the validating path (a caller with every right).
  const ask = (context) => JSON.stringify([
    s.getIdentityLinks({ taskId: "approve-invoice-1001" }, context),
    s.listIdpLinks({ userId: "demo" }, context),
    JSON.parse(s.getUserGroupsJson({ userId: "demo" }, context)),
  ]);
  const truth = ask(everything);
  const before = ask() === truth;
  const size = memory();
  glue.__memory().grow(1024);
  check(`fast paths answer as the validating path before and after memory grew (${size} -> ${memory()} bytes)`, memory() > size && before && ask() === truth && truth.includes("totalResult"));
  glue.__input(16 << 20); // the input buffer moves: getUserGroups must not write where it was
  // Users other than the last one asked (the moved buffer holds its id).
  const users = ["john", "mary", "fozzie", "demo"];
  check("getUserGroups answers as the validating path after the input buffer moved", users.every((userId) => s.getUserGroupsJson({ userId }) === s.getUserGroupsJson({ userId }, everything)));
  s.free();
}

// Errors are the direct path's whatever the options: a maxBytes below the smallest snapshot does
// not hide what is wrong with a text within it.
{
  const error = (text, options) => {
    try {
      Snapshot.fromJson(text, options).free();
      return "loaded";
    } catch (e) {
      return e.body?.message;
    }
  };
  check("fromJson('[]', { maxBytes: 5 }) names the type, not the size", /must be|expected/i.test(error("[]", { maxBytes: 5 })) && !/larger/.test(error("[]", { maxBytes: 5 })));
  check("fromJson of 20 bytes with maxBytes 12 names the size", /larger than the limit/.test(error('{"version":1, "x":1}', { maxBytes: 12 })));
  check("fromJson with maxBytes 13 loads the smallest snapshot", error('{"version":1}', { maxBytes: 13 }) === "loaded");
  check("fromJson with a bad option names the option", /options\.maxLimit/.test(error('{"version":1}', { maxLimit: "x" })));
}
for (let i = 0; i < 1000; i++) Snapshot.fromJson(small).free();
const before = memory();
for (let i = 0; i < 20_000; i++) {
  const s = Snapshot.fromJson(small);
  s.getUserGroups({ userId: "demo" });
  s.free();
}
check(`20,000 load/free cycles do not grow wasm memory (${before} -> ${memory()} bytes)`, memory() === before);
// Requests longer than the module's request area (4 KiB) take the validating path and answer
// exactly as it does: a long unknown id, and a long filter of 3-byte characters on a real task.
{
  const longId = "x".repeat(5000);
  const longType = "€".repeat(1500);
  const same = (q, request) => outcome(() => reference[q](request)) === outcome(() => reference[q](request, everything)) && outcome(() => reference[`${q}Json`](request)) === outcome(() => JSON.stringify(reference[q](request, everything)));
  check("requests past the request area answer as the validating path", same("getIdentityLinks", { taskId: longId }) && same("getIdentityLinks", { taskId: "approve-invoice-1001", type: longType }) && same("listIdpLinks", { userId: longId }) && same("getUserGroups", { userId: longId }));
}

// Snapshots dropped without free(), after queries of every kind (their answer buffers in wasm
// memory, their text caches in the JS heap): the garbage collector's finalizers free them, and
// wasm memory stays bounded.
{
  const drop = (n) => {
    for (let i = 0; i < n; i++) {
      const s = Snapshot.fromJson(small);
      s.getIdentityLinks({ taskId: "approve-invoice-1001" });
      s.getUserGroupsJson({ userId: "demo" });
      s.listIdpLinks({ userId: "demo" });
    }
  };
  const settle = async () => {
    for (let i = 0; i < 4; i++) {
      globalThis.gc();
      await new Promise((done) => setTimeout(done, 20));
    }
  };
  drop(500);
  await settle();
  const start = memory();
  for (let round = 0; round < 10; round++) {
    drop(500);
    await settle();
  }
  const grown = (memory() - start) / (1 << 20);
  check(`5,000 snapshots dropped without free() leave wasm memory bounded (+${grown.toFixed(1)} MiB)`, grown <= 4);
}
const freed = Snapshot.fromJson(small);
freed.free();
refused("free() twice", () => freed.free());
refused("a query after free()", () => freed.getIdentityLinks({ taskId: "approve-invoice-1001" }));
for (const q of ["getIdentityLinksJson", "getUserGroups", "getUserGroupsJson", "listIdpLinks", "listIdpLinksJson"]) {
  refused(`${q} after free()`, () => freed[q]({ taskId: "approve-invoice-1001", userId: "demo" }));
}
refused("a getter after free()", () => freed.sequence);
refused("toBytes after free()", () => freed.toBytes());
const rejected = await api.handleRequest(freed, new Request("http://x/identity/groups?userId=demo"), undefined, trusted).then(() => null, (e) => e);
check("handleRequest after free() rejects with an IdentityError", rejected && rejected.name === "IdentityError");
const notARequest = await api.handleRequest(reference, { method: 7 }, undefined, trusted).then(() => null, (e) => e);
check("handleRequest with a non-Request rejects with an IdentityError", notARequest && notARequest.name === "IdentityError");

// The HTTP crossing (src/wasm/abi.rs, "An HTTP request"), the wrapper's side: texts of any
// length and script, bodies that arrive while another request is served, trailers beside the
// Response for the Node listener, bytes bodies.
{
  const text = async (response) => `${response.status} ${response.headers.get("content-type")} ${await response.text()}`;
  const task = `t-${"é€𝄞".repeat(3000)}`; // 27 KB of UTF-8 in the URL, past every fixed area
  const want = (() => {
    try {
      return `200 application/json ${reference.getIdentityLinksJson({ taskId: task })}`;
    } catch (e) {
      return `${e.status} application/json ${JSON.stringify(e.body)}`;
    }
  })();
  const plain = { method: "GET", url: `http://x/task/${task}/identity-links`, headers: new Headers() };
  check("a 27 KB URL of multi-byte text crosses whole (a plain object as the request)", (await text(await api.handleRequest(reference, plain, undefined, trusted))) === want, want.slice(0, 80));
  // Two POSTs whose bodies arrive interleaved: each answered from its own texts and body.
  const gate = [];
  const body = (json, i) => new ReadableStream({ async pull(c) { await new Promise((r) => gate.push(r)); c.enqueue(new TextEncoder().encode(json)); c.close(); } });
  const post = (user, json, i) => new Request(`http://x/v2/users/${user}/links/_search`, { method: "POST", body: body(json, i), duplex: "half", headers: { "content-length": String(json.length) } });
  const a = api.handleRequest(reference, post("demo", '{"query":{"limit":1}}'), undefined, trusted);
  const b = api.handleRequest(reference, post("nobody", '{"query":{"limit":2}}'), undefined, trusted);
  while (gate.length < 2) await new Promise((r) => setTimeout(r, 1));
  gate.reverse().forEach((open) => open());
  const [ra, rb] = await Promise.all([a, b]);
  const wantA = reference.listIdpLinksJson({ userId: "demo", query: { limit: 1 } });
  const wantB = reference.listIdpLinksJson({ userId: "nobody", query: { limit: 2 } });
  check("interleaved request bodies each get their own answer", (await ra.text()) === wantA && (await rb.text()) === wantB);
  // free() while requests wait for their bodies (a re-base freeing the snapshot it replaced):
  // they still answer from it; a new call is refused at once; the memory goes after the last one.
  {
    const doomed = Snapshot.fromJson(sampleText);
    const pending = [api.handleRequest(doomed, post("demo", '{"query":{"limit":1}}'), undefined, trusted), api.handleRequest(doomed, post("nobody", '{"query":{"limit":2}}'), undefined, trusted)];
    while (gate.length < 2) await new Promise((r) => setTimeout(r, 1));
    doomed.free();
    const refusedNow = await api.handleRequest(doomed, new Request("http://x/identity/groups?userId=demo"), undefined, trusted).then(() => null, (e) => e);
    check("after free() a new request on the snapshot is refused at once (an IdentityError)", refusedNow?.name === "IdentityError" && refusedNow.status === 400, String(refusedNow?.message ?? "answered"));
    refused("free() twice while requests are under way", () => doomed.free());
    refused("a query after free() while requests are under way", () => doomed.getUserGroups({ userId: "demo" }));
    gate.splice(0).forEach((open) => open());
    const [first, second] = await Promise.allSettled(pending);
    const bodies = await Promise.all([first, second].map((r) => (r.status === "fulfilled" ? r.value.text() : String(r.reason))));
    check("requests under way when their snapshot is freed answer from it", bodies[0] === wantA && bodies[1] === wantB, bodies.join(" | ").slice(0, 300));
    refused("the snapshot is unusable after its last request", () => doomed.toBytes());
  }
  // gRPC over HTTP/2 (the Node listener's variant): the status comes as trailers, not headers.
  const withTrailers = api.handleRequest[Symbol.for("identity-links.handleRequestWithTrailers")];
  const grpc = new Request("http://x/zitadel.user.v2.UserService/ListIDPLinks", { method: "POST", headers: { "content-type": "application/grpc" }, body: new Uint8Array([0, 0, 0, 0, 0]) });
  const { response, trailers } = await withTrailers(reference, grpc, undefined, trusted);
  check("gRPC's status is a trailer in the Node listener's variant", response.status === 200 && response.headers.get("grpc-status") === null && trailers.some(([n, v]) => n === "grpc-status" && v === "3"), JSON.stringify(trailers));
  const plainGrpc = await api.handleRequest(reference, new Request(grpc.url, { method: "POST", headers: { "content-type": "application/grpc" }, body: new Uint8Array(5) }), undefined, trusted);
  check("without trailers gRPC is refused in its headers", plainGrpc.headers.get("grpc-status") === "12", String(plainGrpc.headers.get("grpc-status")));
  // A binary answer: the bytes as the module wrote them, not text.
  const proto = await api.handleRequest(reference, new Request(grpc.url, { method: "POST", headers: { "content-type": "application/proto" }, body: new Uint8Array([10, 4, 100, 101, 109, 111]) }), undefined, trusted);
  const bytes = new Uint8Array(await proto.arrayBuffer());
  check("a protobuf answer crosses as bytes", proto.status === 200 && bytes.length > 0 && bytes[0] === 10, `${proto.status} ${bytes.length}`);
}

// Fail closed (API.md "Caller context"): a context without a caller is a UsageError for every
// query and for handleRequest, never full rights; no context argument at all is a trusted call.
for (const [name, context] of [["{}", {}], ["{ caller: undefined }", { caller: undefined }], ["{ caller: null }", { caller: null }], ["null", null]]) {
  for (const [query, request] of probes) {
    let error = null;
    try {
      reference[query](request, context);
    } catch (e) {
      error = e;
    }
    check(`${query} with context ${name} is a UsageError`, api.isIdentityError(error) && error.status === 400 && error.body?.type === "UsageError", String(error?.message ?? "accepted"));
  }
  const rejection = await api.handleRequest(reference, new Request("http://x/identity/groups?userId=demo"), context, trusted).then(() => null, (e) => e);
  check(`handleRequest with context ${name} rejects with a UsageError`, rejection?.body?.type === "UsageError", String(rejection?.message ?? "answered"));
}
// A bad handler option is the caller's mistake: a UsageError naming the option, on every route.
for (const [name, options, says] of [
  ["maxBodyBytes", { maxBodyBytes: "1 MB" }, "options.maxBodyBytes: expected a whole number of bytes"],
  ["cors", { cors: true }, "options.cors: expected"],
  ["engines", { engines: "default" }, "options.engines: expected an array of strings"],
  ["an unknown option", { maxBody: 1 }, "options.maxBody: unknown option"],
  ["unavailable", { unavailable: "" }, "options.unavailable: expected"],
]) {
  for (const url of ["http://x/identity/groups?userId=demo", "http://x/v2/users/demo/links/_search"]) {
    const method = url.includes("/v2/") ? "POST" : "GET";
    const e = await api.handleRequest(reference, new Request(url, { method, body: method === "POST" ? "{}" : undefined }), undefined, { auth: "trusted", ...options }).then(() => null, (x) => x);
    check(`a bad option (${name}) is a UsageError naming it (${method})`, e?.status === 400 && e.body?.type === "UsageError" && e.message.includes(says), String(e?.message ?? "answered"));
  }
}

// The Node listener checks them when it is made, not at every request (which would answer 500).
{
  const { createNodeListener } = createRequire(import.meta.url)(join(root, "pkg/node/listener.cjs"));
  for (const [options, says] of [[{ auth: "trusted", maxBodyBytes: -1 }, "options.maxBodyBytes"], [{ auth: "trusted", cors: 1 }, "options.cors"], [{ auth: "trusted", engine: ["default"] }, "options.engine: unknown option"]]) {
    let error = null;
    try {
      createNodeListener(reference, { options });
    } catch (e) {
      error = e;
    }
    check(`createNodeListener with ${JSON.stringify(options)} throws a UsageError naming it`, error?.body?.type === "UsageError" && error.message.includes(says), String(error?.message ?? "made"));
  }
  check("createNodeListener with good options is made", typeof createNodeListener(reference, { options: { auth: "trusted", maxBodyBytes: 1024, cors: false, engines: ["default"] } }) === "function");
}

check("the reference snapshot answers correctly after everything", stillAnswers());

