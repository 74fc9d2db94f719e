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
import { CAMUNDA, ZITADEL, ZITADEL_SEQUENCES, ZITADEL_STATES } from "./schema.mjs";
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
/**
 * A fresh database with the Camunda and Zitadel tables; its name. `state`: which table holds
 * Zitadel's projection states (`states`: current_states with position, as current releases;
 * `sequences`: current_sequences, as older ones). `create`: CREATE DATABASE options (a locale).
 */
function database(extra = "", { state = "states", create = "" } = {}) {
  const name = `db${++dbs}`;
  psql("postgres", `create database ${name} ${create};`);
  psql(name, CAMUNDA + ZITADEL + (state === "states" ? ZITADEL_STATES : ZITADEL_SEQUENCES) + STALE + extra);
  return name;
}

/** An id that does not grow with insertion order (so no order by id can pass for insertion order). */
const scrambled = (i) => `link-${((i * 7919) % 10007).toString(36)}-${i}`;

/** SQL inserting snapshot `s` into the Camunda and Zitadel tables of one database. */
function snapshotSql(s, { instance = "inst-1", tenant = "acme", state = "states" } = {}) {
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
  if ((s.sequence !== undefined || s.timestamp !== undefined) && state === "states") {
    out.push(`insert into projections.current_states (projection_name, instance_id, sequence, event_date, position) values ('projections.idp_user_links3', ${q(instance)}, ${s.sequence === undefined ? 0 : String(s.sequence)}, ${s.timestamp === undefined ? "NULL" : q(s.timestamp)}, 1);`);
  } else if (s.sequence !== undefined || s.timestamp !== undefined) {
    out.push(`insert into projections.current_sequences values ('projections.idp_user_links3', 'user', ${s.sequence === undefined ? 0 : String(s.sequence)}, ${q(instance)}, ${s.timestamp === undefined ? "NULL" : q(s.timestamp)});`);
  }
  return out.join("\n");
}

/** Snapshot JSON `text` without the source's order (`rank` of groups and memberships). */
function withoutRanks(text) {
  const s = JSON.parse(text);
  for (const row of [...(s.groups ?? []), ...(s.memberships ?? [])]) delete row.rank;
  return JSON.stringify(s);
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

// --- 0. What authentication needs: authorizations, the flag, definition keys, memberships -------
{
  console.log("export: authorizations, authorizationEnabled, processDefinitionKey, zitadelMembers");
  const db = database(`
    insert into ACT_ID_USER (ID_, REV_, FIRST_, LAST_, PWD_) values ('alice', 1, 'A', 'L', '{SHA-512}secret-hash');
    insert into ACT_ID_GROUP (ID_, REV_, NAME_) values ('sales', 1, 'Sales');
    insert into ACT_ID_MEMBERSHIP values ('alice', 'sales');
    insert into ACT_RE_PROCDEF (ID_, KEY_, VERSION_) values ('invoice:2:9', 'invoice', 2);
    insert into ACT_RU_TASK (ID_, REV_, NAME_, ASSIGNEE_, PROC_DEF_ID_) values ('t1', 1, 'Task', 'alice', 'invoice:2:9');
    insert into ACT_RU_TASK (ID_, REV_, NAME_, ASSIGNEE_) values ('t2', 1, 'Standalone', 'alice');
    insert into ACT_RU_AUTHORIZATION (ID_, REV_, TYPE_, USER_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_) values ('a1', 1, 0, '*', 7, '*', 2);
    insert into ACT_RU_AUTHORIZATION (ID_, REV_, TYPE_, USER_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_) values ('a2', 1, 2, 'alice', 7, 't2', 2147483645);
    insert into ACT_RU_AUTHORIZATION (ID_, REV_, TYPE_, GROUP_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_) values ('a3', 1, 1, 'sales', 6, 'invoice', 64);
    insert into ACT_RU_AUTHORIZATION (ID_, REV_, TYPE_, USER_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_) values ('a4', 1, 1, 'alice', 4, '*', 2147483647);
    insert into projections.users14 (id, creation_date, resource_owner, instance_id, username, type) values ('alice', now(), 'acme', 'inst-1', 'alice', 1);
    insert into projections.instance_members4 (creation_date, user_id, roles, instance_id, id) values (now(), 'alice', '{IAM_OWNER_VIEWER}', 'inst-1', 'inst-1');
    insert into projections.instance_members4 (creation_date, user_id, roles, instance_id, id, owner_removed) values (now(), 'gone', '{IAM_OWNER}', 'inst-1', 'inst-1', true);
    insert into projections.org_members4 (creation_date, user_id, roles, instance_id, org_id) values (now(), 'alice', '{ORG_OWNER,ORG_USER_MANAGER}', 'inst-1', 'acme');
    insert into projections.org_members4 (creation_date, user_id, roles, instance_id, org_id) values (now(), 'other-inst', '{ORG_OWNER}', 'inst-2', 'acme');
    insert into projections.project_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id) values (timestamptz '2024-01-02', 'pat', '{PROJECT_OWNER}', 'acme', 'inst-1', 'p1');
    insert into projections.project_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id) values (timestamptz '2024-01-01', 'alice', '{PROJECT_OWNER_VIEWER}', 'acme', 'inst-1', 'p1');
    insert into projections.project_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id, owner_removed) values (now(), 'gone', '{PROJECT_OWNER}', 'acme', 'inst-1', 'p9', true);
    insert into projections.project_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id) values (now(), 'other-inst', '{PROJECT_OWNER}', 'acme', 'inst-2', 'p1');
    insert into projections.project_grants4 (grant_id, creation_date, resource_owner, instance_id, project_id, granted_org_id) values ('grant-1', now(), 'globex', 'inst-1', 'p2', 'acme'), ('grant-2', now(), 'globex', 'inst-1', 'p3', 'globex'), ('grant-3', now(), 'globex', 'inst-1', 'p3', 'initech');
    alter table projections.project_grant_members4 add column granted_org_removed boolean default false;
    insert into projections.project_grant_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id, grant_id, granted_org, granted_org_removed) values (now(), 'gone', '{PROJECT_GRANT_OWNER}', 'globex', 'inst-1', 'p3', 'grant-3', 'initech', true);
    insert into projections.project_grant_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id, grant_id, granted_org) values (timestamptz '2024-01-01', 'gil', '{PROJECT_GRANT_OWNER}', 'globex', 'inst-1', 'p2', 'grant-1', 'acme');
    insert into projections.project_grant_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id, grant_id, granted_org) values (timestamptz '2024-01-01', 'own', '{PROJECT_GRANT_OWNER_VIEWER}', 'globex', 'inst-1', 'p3', 'grant-2', 'globex');
    insert into projections.project_grant_members4 (creation_date, user_id, roles, resource_owner, instance_id, project_id, grant_id, granted_org, user_owner_removed) values (now(), 'gone', '{PROJECT_GRANT_OWNER}', 'globex', 'inst-1', 'p2', 'grant-1', 'acme', true);
  `);
  const out = join(dir, "auth.json");
  const on = run(["--camunda", url(db), "--zitadel", url(db), "--zitadel-instance", "inst-1", "--camunda-authorization-enabled", "--out", out]);
  check("the export with authorization data succeeds", on.status === 0, on.stderr);
  const text = readFileSync(out, "utf8");
  const s = JSON.parse(text);
  check("authorizationEnabled comes from the option", s.authorizationEnabled === true, text);
  // The snapshot keeps authorization rows in its own (lookup) order: compared as a set.
  const sorted = (rows) => rows.map((r) => JSON.stringify(r)).sort();
  check("ACT_RU_AUTHORIZATION rows of User, Group, ProcessDefinition and Task, as stored (a resource type 4 row left out)",
    JSON.stringify(sorted(s.authorizations)) === JSON.stringify(sorted([
      { type: 0, userId: "*", resourceType: 7, resourceId: "*", permissions: 2 },
      { type: 2, userId: "alice", resourceType: 7, resourceId: "t2", permissions: 2147483645 },
      { type: 1, groupId: "sales", resourceType: 6, resourceId: "invoice", permissions: 64 },
    ])), JSON.stringify(s.authorizations));
  check("each task's process-definition key (none for a standalone task)",
    s.tasks.find((t) => t.id === "t1").processDefinitionKey === "invoice" && !("processDefinitionKey" in s.tasks.find((t) => t.id === "t2")), text);
  const instanceAndOrgs = [
    { userId: "alice", roles: ["IAM_OWNER_VIEWER"] },
    { userId: "alice", org: "acme", roles: ["ORG_OWNER", "ORG_USER_MANAGER"] },
  ];
  check("instance, organisation, project and project-grant memberships with their roles, of this instance, removed owners (and a grant's removed granted organisation) left out; a project's in its organisation, a grant's in the project's and the granted one (Zitadel's membership search)",
    JSON.stringify(s.zitadelMembers) === JSON.stringify([
      ...instanceAndOrgs,
      { userId: "alice", org: "acme", project: "p1", roles: ["PROJECT_OWNER_VIEWER"] },
      { userId: "pat", org: "acme", project: "p1", roles: ["PROJECT_OWNER"] },
      { userId: "gil", org: "globex", project: "grant-1", roles: ["PROJECT_GRANT_OWNER"] },
      { userId: "gil", org: "acme", project: "grant-1", roles: ["PROJECT_GRANT_OWNER"] },
      { userId: "own", org: "globex", project: "grant-2", roles: ["PROJECT_GRANT_OWNER_VIEWER"] },
    ]), JSON.stringify(s.zitadelMembers));
  // An older release: the granted organisation only in project_grants (no granted_org column).
  psql(db, "alter table projections.project_grant_members4 drop column granted_org;");
  const joined = run(["--camunda", url(db), "--zitadel", url(db), "--zitadel-instance", "inst-1", "--out", out]);
  check("a grant's granted organisation read from project_grants<N>, as Zitadel's query joins it (a release whose members lack granted_org)",
    joined.status === 0 && JSON.stringify(JSON.parse(readFileSync(out, "utf8")).zitadelMembers) === JSON.stringify(s.zitadelMembers), joined.stderr);
  psql(db, "drop table projections.project_members4, projections.project_grant_members4;");
  const older = run(["--camunda", url(db), "--zitadel", url(db), "--zitadel-instance", "inst-1", "--out", out]);
  check("a release without the project memberships' projections: exported without them",
    older.status === 0 && JSON.stringify(JSON.parse(readFileSync(out, "utf8")).zitadelMembers) === JSON.stringify(instanceAndOrgs), older.stderr);
  check("no password hash leaves the database (N8)", !text.includes("secret-hash") && !/pwd|salt/i.test(text), text);
  const off = run(["--camunda", url(db), "--out", out]);
  check("without the option the flag is left out (Camunda's default: off)", off.status === 0 && !("authorizationEnabled" in JSON.parse(readFileSync(out, "utf8"))), off.stderr);
}

// --- 1. Every conformance snapshot, exported, answers every case as the original --------------
console.log("export: conformance snapshots through PostgreSQL (an older Zitadel's schema)");
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
  // An older release's schema (current_sequences), which reports processedSequence as the
  // snapshots do; current releases' schema is section 7's.
  const db = database("", { state: "sequences" });
  psql(db, snapshotSql(s, { state: "sequences" }));
  for (const format of ["json", "idl"]) {
    const out = join(dir, `${db}.${format}`);
    const r = run(["--camunda", url(db), "--zitadel", url(db), "--out", out]);
    if (r.status !== 0) {
      check(`${db} (${group[0].name}): exported as ${format}`, false, r.stderr);
      continue;
    }
    exported++;
    const bytes = readFileSync(out);
    // The export carries the database's order (section 6), which is not G3's (NULL names last,
    // bytes not UTF-16): here the rows are compared, so the copy answers without it, by G3.
    const loaded = format === "json" ? Snapshot.fromJson(bytes) : Snapshot.fromBytes(bytes);
    const unranked = withoutRanks(loaded.toJson());
    loaded.free();
    for (const c of group) {
      const original = Snapshot.fromJson(text, c.options);
      const copy = Snapshot.fromJson(unranked, c.options);
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

// --- 6. The source's order: Camunda's group and member queries under each collation -----------
// getGroupInfo (engine-rest IdentityRestServiceImpl) runs the group query ordered by name and a
// user query per group; Group.xml's selectGroupByQueryCriteria and User.xml's
// selectUserByQueryCriteria with Commons.xml's bindOrderBy make them the SQL below, run here as
// Camunda runs it, on databases whose collations order names differently (and differently from
// G3's UTF-16 code units, NULL first). For every user, the exported snapshot's answer through
// the package must equal that SQL's answer with Camunda's HashSet applied to its member order.
console.log("export: the source's order under en_US.UTF-8, ICU and C");
const GROUP_QUERY = `select distinct RES.* from ACT_ID_GROUP RES inner join ACT_ID_MEMBERSHIP M on RES.ID_ = M.GROUP_ID_ inner join ACT_ID_USER U on M.USER_ID_ = U.ID_ WHERE U.ID_ = $1 order by RES.NAME_ asc`;
const USER_QUERY = `select distinct RES.* from ACT_ID_USER RES inner join ACT_ID_MEMBERSHIP M on RES.ID_ = M.USER_ID_ inner join ACT_ID_GROUP G on M.GROUP_ID_ = G.ID_ WHERE G.ID_ = $1 order by RES.ID_ asc`;
/** Java's String.hashCode over UTF-16 code units (0 for null). */
const javaHash = (s) => {
  let h = 0;
  for (let i = 0; s !== null && i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
};
/** The iteration order of a java.util.HashSet<UserDto> filled with `dtos` in that order. */
function javaHashSetOrder(dtos) {
  let size = 16;
  const entries = [];
  const bucketOf = (e) => (e.spread & (size - 1)) >>> 0;
  for (const dto of dtos) {
    if (entries.some((e) => e.dto.id === dto.id)) continue; // UserDto.equals: the same user
    const h = (Math.imul(31, Math.imul(31, javaHash(dto.firstName)) + javaHash(dto.lastName)) + javaHash(dto.id)) | 0;
    const entry = { dto, spread: (h ^ (h >>> 16)) >>> 0 };
    const chain = entries.filter((e) => bucketOf(e) === bucketOf(entry)).length;
    entries.push(entry);
    if (chain + 1 >= 9 && size < 64) size *= 2; // treeifyBin resizes a small table
    if (entries.length > size * 0.75) size *= 2;
  }
  // Bucket by bucket, each bucket in insertion order (what resize's split keeps).
  return entries.map((e, i) => [bucketOf(e), i, e.dto]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
}
const userDto = (u) => ({
  firstName: u.firstName,
  lastName: u.lastName,
  displayName: u.firstName === null && u.lastName === null ? u.id : u.lastName !== null ? `${u.firstName} ${u.lastName}` : u.firstName,
  id: u.id,
});
/** Runs of equal names (PostgreSQL's peers: no order between them) ordered by id, UTF-16. */
function tiesById(groups) {
  const out = [];
  for (let i = 0; i < groups.length; ) {
    let j = i + 1;
    while (j < groups.length && groups[j].name === groups[i].name) j++;
    out.push(...groups.slice(i, j).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
    i = j;
  }
  return out;
}
/** Camunda's answer for `user` from the SQL results: the body getGroupInfo writes. */
function camundaAnswer(sql, user, memberOrder = (members) => members) {
  const groups = tiesById(sql.groups[user] ?? []);
  const dtos = [];
  for (const g of groups) for (const m of memberOrder(sql.members[g.id])) if (m.id !== user) dtos.push(userDto(m));
  return JSON.stringify({ groups: groups.map((g) => ({ id: g.id, name: g.name })), groupUsers: javaHashSetOrder(dtos) });
}
{
  const collations = [
    ["en_US.UTF-8 (glibc)", "template template0 encoding 'UTF8' locale 'en_US.UTF-8'"],
    ["ICU und-u-kf-upper-kn", "template template0 encoding 'UTF8' locale_provider icu icu_locale 'und-u-kf-upper-kn' locale 'C.UTF-8'"],
    ["C", "template template0 encoding 'UTF8' locale 'C'"],
  ];
  // Names for every difference: case, accents, digits, punctuation, spaces, NULL, equal names,
  // the empty name, a character beyond the BMP against one above the surrogates (UTF-16 and
  // UTF-8 order them differently).
  const names = ["alpha", "Alpha", "ALPHA", "Beta", "beta", "Äpfel", "apfel", "Admins2", "Admins10", "admins1",
    "_under", "-dash", "dot.name", "a b", "ab", "Éclair", "eclair", "e", null, null, "Same", "Same", "Same",
    "😀 smile", "\uff21 fullwidth", "", "zz", "Zz", "résumé", "resume"];
  // Ids that sort otherwise than the names, and differently by collation among themselves.
  const groupIds = names.map((_, i) => ["g", "G", "_g", "g-", "Ä", "a", "B", "b"][i % 8] + String(100 - i));
  const userIds = ["me", "Bob", "alice", "carol", "Dave", "émile", "Emile", "Zoe", "z10", "z9", "_x", "a-b", "ab", "user.1", "User2", "ÅSA", "asa", "😀", "\uff21"];
  const users = userIds.map((id, i) => ({ id, firstName: i % 3 === 0 ? null : `F${i}`, lastName: i % 4 === 0 ? null : `L${i % 5}` }));
  const groups = names.map((name, i) => ({ id: groupIds[i], name }));
  const memberships = [];
  users.forEach((u, i) => groups.forEach((g, j) => {
    if (u.id === "me" || (i * 7 + j * 3) % 5 < 2) memberships.push({ userId: u.id, groupId: g.id });
  }));
  let compared = 0;
  for (const [label, create] of collations) {
    const db = database("", { create });
    psql(db, snapshotSql({ users, groups, memberships }));
    const fn = (name, table, query) => `create function ${name}(varchar) returns setof ${table} language sql stable as $f$ ${query} $f$;`;
    psql(db, fn("camunda_groups", "ACT_ID_GROUP", GROUP_QUERY) + fn("camunda_members", "ACT_ID_USER", USER_QUERY));
    // Each function returns its query's rows in the query's order; WITH ORDINALITY numbers them so.
    const sql = JSON.parse(psql(db, `select json_build_object(
      'groups', (select json_object_agg(u.ID_, (select coalesce(json_agg(json_build_object('id', g.id_, 'name', g.name_) order by g.ordinality), '[]') from camunda_groups(u.ID_) with ordinality g)) from ACT_ID_USER u),
      'members', (select json_object_agg(x.ID_, (select coalesce(json_agg(json_build_object('id', m.id_, 'firstName', m.first_, 'lastName', m.last_) order by m.ordinality), '[]') from camunda_members(x.ID_) with ordinality m)) from ACT_ID_GROUP x))`, ["-A", "-t"]));
    const collation = psql(db, "select datcollate || ' ' || coalesce(daticulocale, '') from pg_database where datname = current_database()", ["-A", "-t"]).trim();
    let mismatched = 0;
    let g3Differs = 0;
    let memberOrderMatters = 0;
    let ties = 0;
    for (const format of ["json", "idl"]) {
      const out = join(dir, `${db}.${format}`);
      const r = run(["--camunda", url(db), "--out", out]);
      if (r.status !== 0) {
        check(`${label}: exported as ${format}`, false, r.stderr);
        continue;
      }
      const bytes = readFileSync(out);
      const copy = format === "json" ? Snapshot.fromJson(bytes) : Snapshot.fromBytes(bytes);
      const g3 = Snapshot.fromJson(withoutRanks(copy.toJson()));
      for (const u of users) {
        const want = camundaAnswer(sql, u.id);
        const got = JSON.stringify(copy.getUserGroups({ userId: u.id }));
        compared++;
        if (got !== want) {
          mismatched++;
          if (mismatched <= 3) check(`${label} (${format}): getUserGroups(${u.id}) is Camunda's answer`, false, `want ${want}\n got ${got}`);
        }
        if (JSON.stringify(g3.getUserGroups({ userId: u.id })) !== want) g3Differs++;
        const byUtf16 = (members) => [...members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        if (camundaAnswer(sql, u.id, byUtf16) !== want) memberOrderMatters++;
        const run = sql.groups[u.id] ?? [];
        ties += run.filter((g, i) => i > 0 && g.name === run[i - 1].name).length;
      }
      copy.free();
      g3.free();
    }
    check(`${label} (${collation}): for all ${users.length} users, getUserGroups on the export (JSON and binary) is Camunda's SQL answer with its HashSet`, mismatched === 0, `${mismatched} differ`);
    check(`${label}: the database's order matters here: G3 would answer ${g3Differs / 2} users otherwise, the members' order alone ${memberOrderMatters / 2}, ${ties / 2} equal names met`,
      g3Differs > 0 && ties > 0 && (label === "C" || memberOrderMatters > 0), `${g3Differs} ${memberOrderMatters} ${ties}`);
  }
  check(`${compared} answers compared with Camunda's SQL`, compared === 2 * 3 * userIds.length);
}

// --- 7. Zitadel's details as the release in the database reports them ----------------------------
console.log("export: Zitadel's processedSequence and timestamp by release");
{
  const users = [{ id: "u", firstName: "A", lastName: "B", org: "o" }];
  const idpLinks = [{ userId: "u", idpId: "i", providedUserId: "p", providedUserName: "n" }];
  const details = (args) => {
    const out = join(dir, "details.json");
    const r = run([...args, "--out", out]);
    if (r.status !== 0) return { error: r.stderr };
    const snapshot = Snapshot.fromJson(readFileSync(out));
    const answer = snapshot.listIdpLinks({ userId: "u" }).details;
    snapshot.free();
    return answer;
  };
  // Current releases: current_states with position; prepareLatestState reads no sequence.
  const states = database("", { state: "states" });
  psql(states, snapshotSql({ users, idpLinks, sequence: "4242", timestamp: "2025-03-04T05:06:07.123456Z" }, { state: "states" }));
  const current = details(["--zitadel", url(states)]);
  check("current_states with position: no processedSequence, the state's event_date as timestamp",
    JSON.stringify(current) === '{"totalResult":"1","timestamp":"2025-03-04T05:06:07.123456Z"}', JSON.stringify(current));
  const forced = details(["--zitadel", url(states), "--zitadel-details", "sequence"]);
  check("--zitadel-details sequence on that schema reports current_states.sequence",
    JSON.stringify(forced) === '{"totalResult":"1","processedSequence":"4242","timestamp":"2025-03-04T05:06:07.123456Z"}', JSON.stringify(forced));
  // Older releases: current_sequences; the row with the highest sequence, with its timestamp.
  const sequences = database("", { state: "sequences" });
  psql(sequences, snapshotSql({ users, idpLinks, sequence: "77", timestamp: "2024-12-31T23:59:59Z" }, { state: "sequences" }));
  psql(sequences, "insert into projections.current_sequences values ('projections.idp_user_links3', 'org', 76, 'inst-1', '2025-01-01T00:00:00Z'), ('projections.users14', 'user', 99, 'inst-1', '2025-01-02T00:00:00Z');");
  const older = details(["--zitadel", url(sequences)]);
  check("current_sequences: processedSequence and timestamp of the projection's highest sequence",
    JSON.stringify(older) === '{"totalResult":"1","processedSequence":"77","timestamp":"2024-12-31T23:59:59Z"}', JSON.stringify(older));
  const refused = details(["--zitadel", url(sequences), "--zitadel-details", "position"]);
  check("--zitadel-details position without current_states is refused, naming the table",
    String(refused.error).includes("has no table projections.current_states"), JSON.stringify(refused));
}

stop();
