// identity-links-export against a real PostgreSQL (make test-export): a private cluster on
// 127.0.0.1 in a temporary directory, the peers' tables with their real names and types (the
// columns the export reads, and some it must ignore), the data of every conformance snapshot,
// then the exporter; the exported snapshot must answer every conformance case exactly as the
// original does, through the built package. Also: Camunda's link order, the tenant and instance
// filters, refusals (unreachable, credentials, missing table, data the loader refuses) and
// --watch replacing the file atomically while a reader loads it in a loop.
//
// Needs: pkg/ (make build), target/native/identity-links-export, PostgreSQL's server binaries
// (scripts/setup.sh installs Debian's postgresql).
import { check } from "../js/check.mjs";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { startCluster } from "./cluster.mjs";
import { CAMUNDA, ZITADEL } from "./schema.mjs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const api = require(join(root, "pkg/node/index.cjs"));
const { Snapshot } = api;
const exporter = join(root, "target/native/identity-links-export");


// --- A private cluster -------------------------------------------------------------------------
const { dir, port, psql, stop, PASSWORD, certificate } = startCluster();
const url = (db, password = PASSWORD) => `postgres://postgres:${password}@127.0.0.1:${port}/${db}`;
const q = (v) => (v === null || v === undefined ? "NULL" : `'${String(v).replace(/'/g, "''")}'`);

// An older users projection with a row that must not be read.
const STALE = "insert into projections.users8 values ('stale-user', 'stale-org', 'inst-1', now());";
let dbs = 0;
/** A fresh database with the Camunda and Zitadel tables; its name. */
function database(extra = "") {
  const name = `db${++dbs}`;
  psql("postgres", `create database ${name};`);
  psql(name, CAMUNDA + ZITADEL + STALE + extra);
  return name;
}

/** An id that does not grow with insertion order (so no order by id can pass for insertion order). */
const scrambled = (i) => `link-${((i * 7919) % 10007).toString(36)}-${i}`;

/** SQL inserting snapshot `s` into the Camunda and Zitadel tables of one database. */
function snapshotSql(s, { instance = "inst-1", tenant = "acme" } = {}) {
  const out = [];
  for (const u of s.users ?? []) {
    out.push(`insert into ACT_ID_USER (ID_, REV_, FIRST_, LAST_, EMAIL_) values (${q(u.id)}, 1, ${q(u.firstName)}, ${q(u.lastName)}, 'x@example.com');`);
  }
  (s.users ?? []).forEach((u, i) => {
    if (u.org === undefined) return;
    out.push(`insert into projections.users14 (id, creation_date, resource_owner, instance_id, username, type) values (${q(u.id)}, timestamptz '2024-01-01' + interval '${i} seconds', ${q(u.org)}, ${q(instance)}, ${q(u.id)}, 1);`);
    out.push(`insert into projections.users14_humans (user_id, instance_id, first_name, last_name) values (${q(u.id)}, ${q(instance)}, 'Zitadel', 'Name');`);
  });
  for (const g of s.groups ?? []) out.push(`insert into ACT_ID_GROUP (ID_, REV_, NAME_, TYPE_) values (${q(g.id)}, 1, ${q(g.name)}, 'WORKFLOW');`);
  for (const m of s.memberships ?? []) out.push(`insert into ACT_ID_MEMBERSHIP values (${q(m.userId)}, ${q(m.groupId)});`);
  let link = 0;
  for (const t of s.tasks ?? []) {
    out.push(`insert into ACT_RU_TASK (ID_, REV_, NAME_, OWNER_, ASSIGNEE_, TENANT_ID_) values (${q(t.id)}, 1, 'Task', ${q(t.owner)}, ${q(t.assignee)}, ${q(tenant)});`);
    for (const l of t.identityLinks ?? []) {
      out.push(`insert into ACT_RU_IDENTITYLINK (ID_, REV_, GROUP_ID_, TYPE_, USER_ID_, TASK_ID_, TENANT_ID_) values (${q(scrambled(link++))}, 1, ${q(l.groupId)}, ${q(l.type)}, ${q(l.userId)}, ${q(t.id)}, ${q(tenant)});`);
    }
  }
  // A process definition's link: not a task link.
  out.push(`insert into ACT_RU_IDENTITYLINK (ID_, REV_, GROUP_ID_, TYPE_, PROC_DEF_ID_) values ('procdef-link', 1, 'starters', 'candidate', 'invoice:1:7');`);
  (s.idpLinks ?? []).forEach((l, i) => {
    out.push(`insert into projections.idp_user_links3 (idp_id, user_id, external_user_id, creation_date, sequence, resource_owner, instance_id, display_name) values (${q(l.idpId)}, ${q(l.userId)}, ${q(l.providedUserId)}, timestamptz '2024-06-01' + interval '${i} seconds', ${i + 1}, 'org', ${q(instance)}, ${q(l.providedUserName)});`);
  });
  if (s.sequence !== undefined || s.timestamp !== undefined) {
    out.push(`insert into projections.current_states (projection_name, instance_id, sequence, event_date) values ('projections.idp_user_links3', ${q(instance)}, ${s.sequence === undefined ? 0 : String(s.sequence)}, ${s.timestamp === undefined ? "NULL" : q(s.timestamp)});`);
  }
  return out.join("\n");
}

/** Runs the exporter; `{ status, stdout, stderr }`. */
function run(args, options = {}) {
  const r = spawnSync(exporter, args, { encoding: "utf8", ...options });
  return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** What `call` answers (or throws) on `snapshot`, as comparable text. */
function answer(snapshot, c) {
  try {
    return JSON.stringify({ status: 200, body: snapshot[c.call](c.request, c.context) });
  } catch (e) {
    return JSON.stringify({ status: e.status, body: e.body ?? String(e) });
  }
}

// --- 1. Every conformance snapshot, exported, answers every case as the original --------------
console.log("export: conformance snapshots through PostgreSQL");
const conformance = join(root, "../shared/conformance");
const bySnapshot = new Map();
for (const file of readdirSync(conformance).filter((f) => f.endsWith(".json"))) {
  for (const c of JSON.parse(readFileSync(join(conformance, file), "utf8")).cases) {
    if (c.call === "load") continue;
    const key = JSON.stringify(c.snapshot);
    (bySnapshot.get(key) ?? bySnapshot.set(key, []).get(key)).push(c);
  }
}
let cases = 0;
let exported = 0;
let mismatched = 0;
for (const [text, group] of bySnapshot) {
  const s = JSON.parse(text);
  const orgless = (s.idpLinks ?? []).filter((l) => !(s.users ?? []).some((u) => u.id === l.userId && u.org !== undefined));
  if (orgless.length > 0) throw new Error("a conformance snapshot links IdP accounts to users without an org: extend snapshotSql");
  const db = database();
  psql(db, snapshotSql(s));
  for (const format of ["json", "idl"]) {
    const out = join(dir, `${db}.${format}`);
    const r = run(["--camunda", url(db), "--zitadel", url(db), "--out", out]);
    if (r.status !== 0) {
      check(`${db} (${group[0].name}): exported as ${format}`, false, r.stderr);
      continue;
    }
    exported++;
    const bytes = readFileSync(out);
    for (const c of group) {
      const original = Snapshot.fromJson(text, c.options);
      const copy = format === "json" ? Snapshot.fromJson(bytes, c.options) : Snapshot.fromBytes(bytes, c.options);
      const [want, got] = [answer(original, c), answer(copy, c)];
      cases++;
      if (want !== got) {
        mismatched++;
        check(`${c.name} (${format})`, false, `want ${want}\n got ${got}`);
      }
      original.free();
      copy.free();
    }
  }
}
check(`${bySnapshot.size} conformance snapshots exported as JSON and binary; ${cases} case answers identical`, exported === 2 * bySnapshot.size && mismatched === 0);

// --- 2. Link order: what PostgreSQL returns for Camunda's own select ---------------------------
// Camunda inserts and deletes identity links, never updates them (IdentityLink.xml). After a
// delete and a VACUUM, a new link takes the freed place in the heap: Camunda's select then
// returns it among the older ones, not last — under every plan.
console.log("export: Camunda's identity link order");
{
  const links = Array.from({ length: 6 }, (_, i) => ({ userId: `u${i}`, groupId: null, type: "candidate" }));
  const db = database();
  psql(db, snapshotSql({ users: [], tasks: [{ id: "t1", assignee: null, owner: null, identityLinks: links }] }));
  psql(db, "delete from ACT_RU_IDENTITYLINK where USER_ID_ = 'u1';");
  psql(db, "vacuum ACT_RU_IDENTITYLINK;");
  psql(db, "insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('later', 1, 'candidate', 'u9', 't1');");
  const select = "select USER_ID_ from ACT_RU_IDENTITYLINK where TASK_ID_ = 't1'";
  const plan = (settings) => psql(db, `${settings} ${select}`, ["-A", "-t"]).trim().split("\n");
  const sequential = plan("set enable_indexscan = off; set enable_bitmapscan = off;");
  const index = plan("set enable_seqscan = off; set enable_bitmapscan = off;");
  const bitmap = plan("set enable_seqscan = off; set enable_indexscan = off;");
  const out = join(dir, "order.json");
  const r = run(["--camunda", url(db), "--out", out]);
  const got = r.status === 0 ? Snapshot.fromJson(readFileSync(out)).getIdentityLinks({ taskId: "t1" }).map((l) => l.userId) : [r.stderr];
  check("Camunda's select answers in one order under every plan (sequential, index, bitmap), the new link in the freed place",
    JSON.stringify(index) === JSON.stringify(sequential) && JSON.stringify(bitmap) === JSON.stringify(sequential) && sequential.at(-1) !== "u9", `${sequential} | ${index} | ${bitmap}`);
  check("the exported links come in that order", JSON.stringify(got) === JSON.stringify(sequential), `${got} vs ${sequential}`);
}

// --- 3. Filters: tenant and instance -------------------------------------------------------------
console.log("export: tenant and instance filters");
{
  const db = database();
  const task = (id) => ({ id, assignee: null, owner: null, identityLinks: [{ userId: null, groupId: `g-${id}`, type: "candidate" }] });
  psql(db, snapshotSql({ tasks: [task("a1"), task("a2")] }, { tenant: "tenant-a" }).replace(/procdef-link/g, "procdef-a"));
  psql(db, snapshotSql({ tasks: [task("b1")] }, { tenant: "tenant-b" }).replace(/procdef-link/g, "procdef-b").replace(/link-/g, "blink-"));
  const out = join(dir, "tenant.json");
  const r = run(["--camunda", url(db), "--tenant", "tenant-a", "--out", out]);
  const s = r.status === 0 ? JSON.parse(readFileSync(out, "utf8")) : { tasks: [] };
  check("--tenant keeps that tenant's tasks and their links only", JSON.stringify(s.tasks.map((t) => [t.id, t.identityLinks.length])) === '[["a1",1],["a2",1]]', r.stderr || JSON.stringify(s.tasks));

  const zdb = database();
  const users = (org) => [{ id: `${org}-user`, firstName: "A", lastName: "B", org }];
  const idp = (org) => [{ userId: `${org}-user`, idpId: "google", providedUserId: `${org}-ext`, providedUserName: "n" }];
  psql(zdb, `delete from projections.users8;` + snapshotSql({ users: users("one"), idpLinks: idp("one") }, { instance: "inst-1" }).split("\n").filter((l) => l.includes("projections.")).join("\n"));
  psql(zdb, snapshotSql({ users: users("two"), idpLinks: idp("two") }, { instance: "inst-2" }).split("\n").filter((l) => l.includes("projections.")).join("\n"));
  const both = run(["--zitadel", url(zdb), "--out", join(dir, "both.json")]);
  check("two instances without --zitadel-instance are refused, naming both", both.status === 1 && both.stderr.includes("inst-1, inst-2") && !existsSync(join(dir, "both.json")), both.stderr);
  const one = run(["--zitadel", url(zdb), "--zitadel-instance", "inst-2", "--out", join(dir, "inst2.json")]);
  const z = one.status === 0 ? JSON.parse(readFileSync(join(dir, "inst2.json"), "utf8")) : {};
  check("--zitadel-instance exports that instance's users (names from Zitadel, org) and links", JSON.stringify(z.users) === '[{"id":"two-user","firstName":"Zitadel","lastName":"Name","org":"two"}]' && z.idpLinks?.length === 1, one.stderr || JSON.stringify(z));
}

// --- 4. Refusals ---------------------------------------------------------------------------------
console.log("export: refusals");
{
  const unreachable = run(["--camunda", `postgres://postgres:${PASSWORD}@127.0.0.1:1/none`, "--out", join(dir, "x.json")]);
  check("an unreachable database: exit 1, named without its password", unreachable.status === 1 && unreachable.stderr.includes("cannot connect to the Camunda database at postgres://postgres:***@127.0.0.1:1/none") && !unreachable.stderr.includes(PASSWORD), unreachable.stderr);
  const db = database();
  const refused = run(["--camunda", url(db, "wrong"), "--out", join(dir, "x.json")]);
  check("refused credentials: exit 1 and the server's reason", refused.status === 1 && refused.stderr.includes("password authentication failed"), refused.stderr);
  psql(db, "drop table ACT_RU_IDENTITYLINK;");
  const missing = run(["--camunda", url(db), "--out", join(dir, "x.json")]);
  check("a missing table: exit 1, naming it", missing.status === 1 && missing.stderr.includes("has no table act_ru_identitylink"), missing.stderr);
  const bad = database();
  psql(bad, snapshotSql({ users: [{ id: "long", firstName: "x".repeat(201), lastName: null }] }));
  const out = join(dir, "kept.json");
  writeFileSync(out, "previous");
  const invalid = run(["--camunda", url(bad), "--out", out]);
  check("data the loader refuses: exit 1 with its JSON path, the previous file kept", invalid.status === 1 && invalid.stderr.includes("users[0].firstName: longer than 200 characters") && readFileSync(out, "utf8") === "previous", invalid.stderr);
  check("no temporary file is left beside it", readdirSync(dir).every((f) => !f.endsWith(".tmp")));
}

// --- TLS: the role `tls` may only connect encrypted (tests/export/cluster.mjs) -----------------
console.log("export: TLS");
{
  const db = database();
  psql(db, snapshotSql({ users: [{ id: "u", firstName: "A", lastName: "B" }] }));
  const tls = (mode) => `postgres://tls:${PASSWORD}@127.0.0.1:${port}/${db}?sslmode=${mode}`;
  const out = join(dir, "tls.json");
  const plain = run(["--camunda", tls("disable"), "--out", out]);
  check("a server that requires TLS refuses a connection without it", plain.status === 1 && plain.stderr.includes("no encryption"), plain.stderr);
  const encrypted = run(["--camunda", tls("require"), "--out", out]);
  check("sslmode=require connects over TLS", encrypted.status === 0 && JSON.parse(readFileSync(out, "utf8")).users.length === 1, encrypted.stderr);
  const verified = run(["--camunda", tls("require"), "--ca-file", certificate, "--out", out]);
  check("--ca-file verifies the server's certificate and host", verified.status === 0, verified.stderr);
  const other = join(dir, "other.crt");
  spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other", "-keyout", join(dir, "other.key"), "-out", other], { stdio: "ignore" });
  const untrusted = run(["--camunda", tls("require"), "--ca-file", other, "--out", out]);
  check("--ca-file refuses a certificate it does not trust", untrusted.status === 1 && /certificate/i.test(untrusted.stderr), untrusted.stderr);
}

// --- 5. --watch: atomic replacement under a reader ----------------------------------------------
console.log("export: --watch");
{
  const db = database();
  psql(db, snapshotSql({ users: [{ id: "u", firstName: "A", lastName: "B" }], groups: [{ id: "g0", name: "G" }] }));
  const out = join(dir, "watched.idl");
  const watcher = spawn(exporter, ["--camunda", url(db), "--out", out, "--watch", "1"], { stdio: ["ignore", "pipe", "pipe"] });
  let lines = "";
  watcher.stdout.on("data", (d) => (lines += d));
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const deadline = Date.now() + 15000;
  while (!existsSync(out) && Date.now() < deadline) await sleep(50);
  let loads = 0;
  let broken = 0;
  let maxGroups = 0;
  for (let round = 1; round <= 4; round++) {
    psql(db, `insert into ACT_ID_GROUP (ID_, REV_, NAME_) values ('g${round}', 1, 'G');`);
    const until = Date.now() + 1400;
    while (Date.now() < until) {
      try {
        const s = Snapshot.fromBytes(readFileSync(out));
        maxGroups = Math.max(maxGroups, s.stats().groups);
        s.free();
        loads++;
      } catch (e) {
        broken++;
      }
      await sleep(2);
    }
  }
  await sleep(1500);
  watcher.kill();
  const final = Snapshot.fromBytes(readFileSync(out)).stats().groups;
  const written = (lines.match(/ written /g) ?? []).length;
  check(`a reader loaded the file ${loads} times while --watch replaced it: never a partial file`, loads > 50 && broken === 0, `${broken} failed loads`);
  check("the file follows the database (5 groups) and one line is printed per export", final === 5 && maxGroups === 5 && written >= 2 && /unchanged|written/.test(lines) && lines.includes("groups="), lines);
}

stop();
