// The followed databases of the exporter's follow tests (follow-test.mjs, pipeline-test.mjs): a
// database with both peers' tables (schema.mjs) and a starting population in a private cluster
// (cluster.mjs); Zitadel's way of changing it (an event pushed, then projected); the exporter
// following it (`--follow`) and a fresh one-shot export of it.
import { spawn, spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { CAMUNDA, ZITADEL, ZITADEL_EVENTS, ZITADEL_STATES } from "./schema.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** The exporter (`cargo build --profile native -p identity-links-export`). */
export const exporter = join(root, "target/native/identity-links-export");

/** The Zitadel projections the exporter reads, each with its row in `projections.current_states`. */
export const PROJECTIONS = ["projections.users14", "projections.idp_user_links3", "projections.instance_members4", "projections.org_members4", "projections.project_members4", "projections.project_grant_members4", "projections.project_grants4"];
/** The Zitadel instance of the population. */
export const INSTANCE = "inst-1";
/** A SQL literal. */
export const q = (v) => (v === null || v === undefined ? "NULL" : `'${String(v).replace(/'/g, "''")}'`);

/**
 * The helpers over `cluster` (startCluster's `{ psql, port, PASSWORD }`): `{ url, database, push,
 * project, zitadel, reference, follow }`.
 */
export function followed({ psql, port, PASSWORD }) {
  const url = (db) => `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/${db}`;

  /**
   * A database with both peers' tables and a starting population; its name. Camunda: users u0–u11,
   * groups g0–g4 with memberships, tasks t0–t9 (three candidate links each; t1, t2, t4, t5, t7, t8
   * assigned), one authorization. Zitadel: users z0–z7 (z0–z3 in organisation acme, z4–z7 in
   * globex), each with a Google IdP link; z1 an organisation owner, z2 an instance owner.
   */
  function database(name) {
    psql("postgres", `create database ${name};`);
    // users14 with owner_removed (releases that mark a removed organisation's rows).
    const sql = [CAMUNDA, ZITADEL, ZITADEL_STATES, ZITADEL_EVENTS, "alter table projections.users14 add column owner_removed boolean default false;"];
    for (let i = 0; i < 12; i++) sql.push(`insert into ACT_ID_USER (ID_, REV_, FIRST_, LAST_) values ('u${i}', 1, 'First${i}', 'Last${i}');`);
    for (let i = 0; i < 5; i++) sql.push(`insert into ACT_ID_GROUP (ID_, REV_, NAME_, TYPE_) values ('g${i}', 1, 'Group ${"edcba"[i]}', 'WORKFLOW');`);
    for (let i = 0; i < 15; i++) sql.push(`insert into ACT_ID_MEMBERSHIP values ('u${i % 12}', 'g${i % 5}') on conflict do nothing;`);
    sql.push(`insert into ACT_RE_PROCDEF (ID_, KEY_, VERSION_) values ('invoice:1:1', 'invoice', 1);`);
    for (let i = 0; i < 10; i++) {
      sql.push(`insert into ACT_RU_TASK (ID_, REV_, NAME_, ASSIGNEE_, OWNER_, PROC_DEF_ID_, CREATE_TIME_) values ('t${i}', 1, 'Task', ${i % 3 ? `'u${i}'` : "NULL"}, NULL, ${i % 2 ? "'invoice:1:1'" : "NULL"}, now());`);
      for (let j = 0; j < 3; j++) sql.push(`insert into ACT_RU_IDENTITYLINK (ID_, REV_, GROUP_ID_, TYPE_, USER_ID_, TASK_ID_) values ('l${i}-${j}', 1, ${j % 2 ? `'g${j}'` : "NULL"}, 'candidate', ${j % 2 ? "NULL" : `'u${(i + j) % 12}'`}, 't${i}');`);
    }
    sql.push(`insert into ACT_RU_AUTHORIZATION (ID_, REV_, TYPE_, USER_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_) values ('a0', 1, 1, 'u1', 7, '*', 2);`);
    for (let i = 0; i < 8; i++) {
      const org = i < 4 ? "acme" : "globex";
      sql.push(`insert into projections.users14 (id, creation_date, resource_owner, instance_id, username, type) values ('z${i}', timestamptz '2024-01-01' + interval '${i} seconds', '${org}', '${INSTANCE}', 'z${i}', 1);`);
      sql.push(`insert into projections.users14_humans (user_id, instance_id, first_name, last_name) values ('z${i}', '${INSTANCE}', 'Z${i}', 'Zed');`);
      sql.push(`insert into projections.idp_user_links3 (idp_id, user_id, external_user_id, creation_date, sequence, resource_owner, instance_id, display_name) values ('google', 'z${i}', 'ext-${i}', timestamptz '2024-06-01' + interval '${i} seconds', ${i + 1}, '${org}', '${INSTANCE}', 'z${i}@example.com');`);
    }
    sql.push(`insert into projections.org_members4 (creation_date, user_id, user_resource_owner, roles, resource_owner, instance_id, org_id) values (now(), 'z1', 'acme', '{ORG_OWNER}', 'acme', '${INSTANCE}', 'acme');`);
    sql.push(`insert into projections.instance_members4 (creation_date, user_id, user_resource_owner, roles, resource_owner, instance_id, id) values (now(), 'z2', 'acme', '{IAM_OWNER}', '${INSTANCE}', '${INSTANCE}', '${INSTANCE}');`);
    for (const p of PROJECTIONS) sql.push(`insert into projections.current_states (projection_name, instance_id, last_updated, sequence, event_date, position) values ('${p}', '${INSTANCE}', now(), 0, timestamptz '2024-06-01', extract(epoch from clock_timestamp()));`);
    psql(name, sql.join("\n"));
    return name;
  }

  // --- Zitadel's way: an event pushed, then projected -----------------------------------------------
  let eventSeq = 0;
  /** SQL pushing one event of aggregate `type`/`id` (its position the clock, as Zitadel's push). */
  const push = (type, id, event) =>
    `insert into eventstore.events2 (instance_id, aggregate_type, aggregate_id, event_type, "sequence", revision, created_at, creator, "owner", "position", in_tx_order) values ('${INSTANCE}', '${type}', ${q(id)}, '${event}', ${++eventSeq}, 1, clock_timestamp(), 'test', 'org', extract(epoch from clock_timestamp()), 0);`;
  /** SQL projecting: `rows` (the projections' changes) and every projection's state moved to the newest event. */
  const project = (rows) => `begin; ${rows}
  update projections.current_states s set position = greatest(s.position, e.position), event_date = e.created_at, last_updated = now()
    from (select max(position) as position, max(created_at) as created_at from eventstore.events2 where instance_id = '${INSTANCE}') e
    where s.instance_id = '${INSTANCE}'; commit;`;
  /** A Zitadel change: the event pushed (one transaction), then projected (another). */
  function zitadel(db, type, id, event, rows) {
    psql(db, push(type, id, event));
    psql(db, project(rows));
  }

  /** The binary form a fresh one-shot export of `db` gives (with `extra` arguments). */
  function reference(db, extra = []) {
    const r = spawnSync(exporter, ["--camunda", url(db), "--zitadel", url(db), "--out", "-", "--format", "binary", ...extra], { maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`the one-shot export failed: ${r.stderr}`);
    return r.stdout;
  }

  /**
   * The exporter following `db` into the directory `out`, running `sinkCommand` with each file it
   * publishes: `{ child, log(), stop() }` (log: its standard error so far).
   */
  function follow(db, out, sinkCommand, extra = []) {
    const args = ["--camunda", url(db), "--zitadel", url(db), "--follow", "--out", out, "--sink-command", sinkCommand, ...extra];
    const child = spawn(exporter, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr.on("data", (d) => (log += d));
    return { child, log: () => log, stop: () => child.kill() };
  }

  return { url, database, push, project, zitadel, reference, follow };
}
