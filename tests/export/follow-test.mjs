// identity-links-export --follow against a real PostgreSQL (make test-export): a private cluster,
// the peers' tables (tests/export/schema.mjs) with Zitadel's event store (followed.mjs), the
// exporter following them into a directory (and a command sink copying each file), and random changes made the way
// the peers make them: Camunda's rows with their REV_ raised, links inserted and deleted (a
// VACUUM's freed place taken by a new link), tasks completed; Zitadel's events pushed and then
// projected (the projection's rows and its current_states position in one transaction). After
// every change, the base and the files after it, applied through the built package, must give
// the binary form a fresh one-shot export gives, byte for byte. Also: a transaction committing
// after a later one was seen (caught by the overlap window), the periodic reconcile, a link
// replaced at its very ctid after a VACUUM (what the tables' gates must see), steps that read
// nothing while no transaction has ended, re-bases and
// pruning, bases only over --rebase-above-bytes, a followed tenant (--tenant), and the latency
// from commit to published file (reported, not asserted).
//
// Needs: pkg/ (make build), target/native/identity-links-export, PostgreSQL's server binaries.
import { check } from "../js/check.mjs";
import { spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { serverBin, startCluster } from "./cluster.mjs";
import { exporter, followed, INSTANCE, q } from "./followed.mjs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const require = createRequire(import.meta.url);
const { Snapshot } = require(join(root, "pkg/node/index.cjs"));

const cluster = startCluster({ logical: true });
const { dir, port, psql } = cluster;
const { database, push, project, zitadel, reference, follow } = followed(cluster);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A seeded generator, so that a failure can be replayed (SEED=… node …).
let seed = Number(process.env.SEED ?? 24);
const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const pick = (items) => items[Math.floor(random() * items.length)];
console.log(`follow: seed ${process.env.SEED ?? 24}`);

// --- The exporter, following (a command sink copying each file) -----------------------------------
function startFollowing(db, out, extra = []) {
  const sinkDir = `${out}-sink`;
  mkdirSync(sinkDir, { recursive: true });
  // The command fails (and is retried) if the PUT's secret reached its environment; it takes a
  // base's bridge (IL_BRIDGE) too.
  const command = `test -z "$IL_SINK_AUTHORIZATION" && { test -z "$IL_BRIDGE" || cp -t ${sinkDir} "$IL_BRIDGE"; } && cp -t ${sinkDir}`;
  // 50 ms steps: the default with --wal-slot (checked from the start line), given otherwise.
  const poll = extra.includes("--wal-slot") || extra.includes("--poll-ms") ? [] : ["--poll-ms", "50"];
  return { ...follow(db, out, command, [...poll, ...extra]), sinkDir };
}

/**
 * The state the directory publishes: its base, then every delta after it, applied through the
 * package when it has applyDelta, else natively by the exporter's --materialize (the core's
 * Snapshot::apply_delta).
 */
function published(out) {
  const manifestPath = join(out, "manifest.json");
  if (!existsSync(manifestPath)) return null;
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  if (typeof Snapshot.prototype.applyDelta !== "function") {
    const r = spawnSync(exporter, ["--materialize", out, "--out", "-", "--format", "binary"], { maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`--materialize failed: ${r.stderr}`);
    return { bytes: r.stdout, manifest };
  }
  let snapshot = Snapshot.fromBytes(readFileSync(join(out, manifest.base)));
  const first = Number(manifest.base.slice(0, 8));
  for (let s = first + 1; s <= manifest.latest; s++) {
    const name = String(s).padStart(8, "0");
    if (existsSync(join(out, `${name}.delta`))) snapshot.applyDelta(readFileSync(join(out, `${name}.delta`)));
    else snapshot = Snapshot.fromBytes(readFileSync(join(out, `${name}.idl`)));
  }
  return { bytes: Buffer.from(snapshot.toBytes()), manifest };
}

/** The assignees of tasks `ids` in each state `out` published after its sequence `after`, in order. */
function assigneesSince(out, after, ids) {
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  let snapshot = Snapshot.fromBytes(readFileSync(join(out, manifest.base)));
  const states = [];
  for (let s = Number(manifest.base.slice(0, 8)) + 1; s <= manifest.latest; s++) {
    const name = String(s).padStart(8, "0");
    if (existsSync(join(out, `${name}.delta`))) snapshot.applyDelta(readFileSync(join(out, `${name}.delta`)));
    else {
      snapshot.free();
      snapshot = Snapshot.fromBytes(readFileSync(join(out, `${name}.idl`)));
    }
    if (s > after) states.push(ids.map((taskId) => snapshot.getIdentityLinks({ taskId }).find((l) => l.type === "assignee")?.userId ?? null));
  }
  snapshot.free();
  return states;
}

/** Waits until `condition()` holds: true, or false after `limit` ms. */
async function within(condition, limit = 5000) {
  const started = performance.now();
  while (performance.now() - started < limit) {
    if (condition()) return true;
    await sleep(10);
  }
  return condition();
}

/** Waits until the published state is `expected`; the milliseconds it took, or null after `limit`. */
async function caughtUp(out, expected, limit = 5000) {
  const started = performance.now();
  const equal = () => {
    const p = published(out);
    return p !== null && Buffer.compare(p.bytes, expected) === 0;
  };
  return (await within(equal, limit)) ? performance.now() - started : null;
}

// --- An HTTP server taking the PUTs of --sink-url: it refuses the first (503), redirects the
// second (302 to a page a GET would read: followed, the PUT would become that GET and count as
// delivered), then takes each file and manifest; what it took, in order. -------------------------
const received = { files: [], manifests: [], refused: 0, headers: [] };
const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    received.headers.push({ authorization: req.headers.authorization, test: req.headers["x-test"], kind: req.headers["x-identity-links-kind"], sequence: req.headers["x-identity-links-sequence"] });
    if (req.method === "GET" && req.url === "/elsewhere") return res.writeHead(200).end("not the sink");
    if (req.method !== "PUT" || !req.url.startsWith("/sink/")) return res.writeHead(405).end();
    if (received.refused < 2) {
      received.refused++;
      return received.refused === 1 ? res.writeHead(503).end() : res.writeHead(302, { location: "/elsewhere" }).end();
    }
    const name = req.url.slice("/sink/".length);
    if (name === "manifest.json") received.manifests.push(Buffer.concat(chunks).toString());
    else received.files.push({ name, bytes: Buffer.concat(chunks) });
    res.writeHead(204).end();
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const sinkUrl = `http://127.0.0.1:${server.address().port}/sink/`;
process.env.IL_SINK_AUTHORIZATION = "Bearer sink-secret"; // the followers inherit it

// --- 1. Replay equivalence ------------------------------------------------------------------------
const db = database("follow1");
const out = join(dir, "follow1");
const follower = startFollowing(db, out, ["--reconcile-every", "0", "--sink-url", sinkUrl, "--sink-header", "X-Test: yes"]);
// The same changes followed through the write-ahead log (--wal-slot) instead of the gates.
const walOut = join(dir, "follow1-wal");
const walFollower = startFollowing(db, walOut, ["--reconcile-every", "0", "--wal-slot", "follow1"]);
const latencies = [];
const STEPS = Number(process.env.STEPS ?? 45);
{
  console.log("follow: replay equivalence under random changes");
  check("the base is published and equals a fresh export", (await caughtUp(out, reference(db))) !== null, follower.log());
  check("--wal-slot: the base is published and equals a fresh export", (await caughtUp(walOut, reference(db))) !== null, walFollower.log());
  const start = (log) => /follow start poll_ms=(\d+) wal_slot=(\S+)/.exec(log)?.slice(1) ?? null;
  await within(() => start(walFollower.log()) !== null && start(follower.log()) !== null);
  check("--wal-slot: steps every 50 ms by default, through the gates as --poll-ms says", JSON.stringify(start(walFollower.log())) === '["50","follow1"]' && JSON.stringify(start(follower.log())) === '["50","-"]', `${start(walFollower.log())} / ${start(follower.log())}\n${walFollower.log().slice(0, 300)}`);
  const slotStart = psql(db, "select confirmed_flush_lsn from pg_replication_slots where slot_name = 'follow1'", ["-At"]).trim();
  let n = 0;
  const tasks = () => psql(db, "select ID_ from ACT_RU_TASK order by ID_", ["-At"]).split("\n").filter(Boolean);
  const links = () => psql(db, "select ID_ from ACT_RU_IDENTITYLINK where TASK_ID_ is not null order by ID_", ["-At"]).split("\n").filter(Boolean);
  const zusers = () => psql(db, "select id from projections.users14 where not coalesce(owner_removed, false) order by id", ["-At"]).split("\n").filter(Boolean);
  const kinds = {
    "a link added": () => psql(db, `insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('n${++n}', 1, 'candidate', 'u${n % 12}', ${q(pick(tasks()))});`),
    "a link deleted": () => psql(db, `delete from ACT_RU_IDENTITYLINK where ID_ = ${q(pick(links()))};`),
    "a link deleted, VACUUM, a link added in its place": () => {
      const task = pick(tasks());
      psql(db, `delete from ACT_RU_IDENTITYLINK where ID_ = (select ID_ from ACT_RU_IDENTITYLINK where TASK_ID_ = ${q(task)} order by ctid limit 1);`);
      psql(db, "vacuum ACT_RU_IDENTITYLINK;");
      psql(db, `insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, GROUP_ID_, TASK_ID_) values ('v${++n}', 1, 'candidate', 'g${n % 5}', ${q(task)});`);
    },
    "the assignee changed": () => psql(db, `update ACT_RU_TASK set ASSIGNEE_ = 'u${++n % 12}', REV_ = REV_ + 1 where ID_ = ${q(pick(tasks()))};`),
    "the owner changed": () => psql(db, `update ACT_RU_TASK set OWNER_ = 'u${++n % 12}', REV_ = REV_ + 1 where ID_ = ${q(pick(tasks()))};`),
    "a task completed": () => {
      const task = pick(tasks());
      psql(db, `begin; delete from ACT_RU_IDENTITYLINK where TASK_ID_ = ${q(task)}; delete from ACT_RU_TASK where ID_ = ${q(task)}; commit;`);
    },
    "a task created": () => psql(db, `begin; insert into ACT_RU_TASK (ID_, REV_, NAME_, ASSIGNEE_, PROC_DEF_ID_, CREATE_TIME_) values ('nt${++n}', 1, 'New', 'u${n % 12}', 'invoice:1:1', now());
      insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, GROUP_ID_, TASK_ID_) values ('ntl${n}', 1, 'candidate', 'g${n % 5}', 'nt${n}'); commit;`),
    "a group renamed": () => psql(db, `update ACT_ID_GROUP set NAME_ = 'Group ${String.fromCharCode(97 + Math.floor(random() * 26))}', REV_ = REV_ + 1 where ID_ = 'g${Math.floor(random() * 5)}';`),
    "a membership added": () => psql(db, `insert into ACT_ID_MEMBERSHIP values ('u${Math.floor(random() * 12)}', 'g${Math.floor(random() * 5)}') on conflict do nothing;`),
    "a membership removed": () => psql(db, `delete from ACT_ID_MEMBERSHIP where (USER_ID_, GROUP_ID_) = (select USER_ID_, GROUP_ID_ from ACT_ID_MEMBERSHIP order by random() limit 1);`),
    "a group's members all removed": () => psql(db, `delete from ACT_ID_MEMBERSHIP where GROUP_ID_ = 'g${Math.floor(random() * 5)}';`),
    "a user renamed": () => psql(db, `update ACT_ID_USER set LAST_ = 'Renamed${++n}', REV_ = REV_ + 1 where ID_ = 'u${n % 12}';`),
    "a user added and made a member": () => psql(db, `begin; insert into ACT_ID_USER (ID_, REV_, FIRST_, LAST_) values ('nu${++n}', 1, 'New', 'User'); insert into ACT_ID_MEMBERSHIP values ('nu${n}', 'g${n % 5}'); commit;`),
    "a user deleted with their memberships": () => {
      const user = psql(db, "select ID_ from ACT_ID_USER where ID_ like 'nu%' order by random() limit 1", ["-At"]).trim();
      if (user) psql(db, `begin; delete from ACT_ID_MEMBERSHIP where USER_ID_ = ${q(user)}; delete from ACT_ID_USER where ID_ = ${q(user)}; commit;`);
    },
    "an authorization granted": () => psql(db, `insert into ACT_RU_AUTHORIZATION (ID_, REV_, TYPE_, GROUP_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_) values ('na${++n}', 1, 1, 'g${n % 5}', 7, 'nt${n}', 2);`),
    "an authorization changed": () => psql(db, `update ACT_RU_AUTHORIZATION set PERMS_ = PERMS_ + 4, REV_ = REV_ + 1 where ID_ = 'a0';`),
    "an IdP link added": () => {
      const user = pick(zusers());
      zitadel(db, "user", user, "user.human.externalidp.added",
        `insert into projections.idp_user_links3 (idp_id, user_id, external_user_id, creation_date, sequence, resource_owner, instance_id, display_name)
           select 'github', id, 'gh-${++n}', now(), ${100 + n}, resource_owner, instance_id, 'gh ${n}' from projections.users14 where id = ${q(user)};`);
    },
    "an IdP link removed": () => {
      const link = psql(db, "select user_id || ' ' || idp_id || ' ' || external_user_id from projections.idp_user_links3 where not owner_removed order by random() limit 1", ["-At"]).trim();
      if (!link) return;
      const [user, idp, external] = link.split(" ");
      zitadel(db, "user", user, "user.human.externalidp.removed", `delete from projections.idp_user_links3 where idp_id = ${q(idp)} and external_user_id = ${q(external)};`);
    },
    "a Zitadel user's profile changed": () => {
      const user = pick(zusers());
      zitadel(db, "user", user, "user.human.profile.changed", `update projections.users14_humans set first_name = 'Changed${++n}' where user_id = ${q(user)};`);
    },
    "an organisation member added": () => {
      const user = pick(zusers());
      zitadel(db, "org", "globex", "org.member.added",
        `insert into projections.org_members4 (creation_date, user_id, user_resource_owner, roles, resource_owner, instance_id, org_id) values (now(), ${q(user)}, 'acme', '{ORG_USER_MANAGER}', 'globex', '${INSTANCE}', 'globex') on conflict do nothing;`);
    },
    // Project and project-grant memberships: events of the project's aggregate.
    "a project member added": () => {
      const user = pick(zusers());
      zitadel(db, "project", "p1", "project.member.added",
        `insert into projections.project_members4 (creation_date, user_id, user_resource_owner, roles, resource_owner, instance_id, project_id) values (now(), ${q(user)}, 'acme', '{PROJECT_OWNER}', 'acme', '${INSTANCE}', 'p1') on conflict do nothing;`);
    },
    "a project grant member added": () => {
      const user = pick(zusers());
      zitadel(db, "project", "p2", "project.grant.member.added",
        `insert into projections.project_grants4 (grant_id, creation_date, resource_owner, instance_id, project_id, granted_org_id) values ('grant-${++n % 3}', now(), 'globex', '${INSTANCE}', 'p2', 'acme') on conflict do nothing;
         insert into projections.project_grant_members4 (creation_date, user_id, user_resource_owner, roles, resource_owner, instance_id, project_id, grant_id, granted_org) values (now(), ${q(user)}, 'acme', '{PROJECT_GRANT_OWNER}', 'globex', '${INSTANCE}', 'p2', 'grant-${n % 3}', 'acme') on conflict do nothing;`);
    },
    "a project member's roles changed": () => {
      zitadel(db, "project", "p1", "project.member.changed", `update projections.project_members4 set roles = '{PROJECT_OWNER_VIEWER}', change_date = now() where project_id = 'p1';`);
    },
    "a project grant removed with its members": () => {
      const grant = psql(db, "select grant_id from projections.project_grant_members4 order by random() limit 1", ["-At"]).trim();
      if (grant) zitadel(db, "project", "p2", "project.grant.removed", `delete from projections.project_grant_members4 where grant_id = ${q(grant)};`);
    },
  };
  const names = Object.keys(kinds);
  const seen = new Set();
  let failures = 0;
  for (let step = 0; step < STEPS && failures === 0; step++) {
    // Every kind once, then random ones.
    const kind = step < names.length ? names[step] : pick(names);
    kinds[kind]();
    const committed = Date.now();
    const expected = reference(db);
    const waited = await caughtUp(out, expected);
    const file = statSync(join(out, "manifest.json")).mtimeMs;
    if (waited !== null && file >= committed) latencies.push(file - committed);
    const walWaited = await caughtUp(walOut, expected);
    if (waited === null) {
      failures++;
      check(`after "${kind}" (step ${step}) the published state equals a fresh export`, false, follower.log().split("\n").slice(-6).join("\n"));
    } else if (walWaited === null) {
      failures++;
      check(`--wal-slot: after "${kind}" (step ${step}) the published state equals a fresh export`, false, walFollower.log().split("\n").slice(-6).join("\n"));
    } else {
      seen.add(kind);
    }
  }
  check(`every kind of change followed exactly, through the gates and through the log (${seen.size} kinds, ${STEPS} steps)`, failures === 0 && seen.size === names.length);
  // Each step's document is read in two parts on two threads (src/parts.rs); a part refused
  // where the whole document loads would be said.
  check("every document read in two parts loads as the whole one", ![follower, walFollower].some((f) => / follow warning: /.test(f.log())), [follower, walFollower].map((f) => f.log().split("\n").filter((l) => / warning: /.test(l)).join("\n")).join("\n"));
  // The log's follower moves its slot past what it read, so that the server may recycle that
  // log. (Read from pg_replication_slots: peeking the slot here would take it from the follower.)
  const flushed = psql(db, "select pg_wal_lsn_diff(confirmed_flush_lsn, " + q(slotStart) + "::pg_lsn) from pg_replication_slots where slot_name = 'follow1'", ["-At"]).trim();
  check("--wal-slot: the slot is advanced as its changes are read", Number(flushed) > 0, `${flushed} bytes past the slot's position at the base`);
  // A link replaced at its very place: the table's count and the set of row places (ctid) as
  // they were, only the row's writer (xmin) differs; the follower's gate must still see it.
  // VACUUM first, so that the first link takes the lowest free place and its replacement, after
  // the second VACUUM, that same one.
  psql(db, "vacuum ACT_RU_IDENTITYLINK;");
  psql(db, `insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, GROUP_ID_, TASK_ID_) values ('w1', 1, 'candidate', 'g1', ${q(tasks()[0])});`);
  const place = psql(db, "select ctid from ACT_RU_IDENTITYLINK where ID_ = 'w1'", ["-At"]).trim();
  const placed = await caughtUp(out, reference(db));
  psql(db, "delete from ACT_RU_IDENTITYLINK where ID_ = 'w1';");
  psql(db, "vacuum ACT_RU_IDENTITYLINK;");
  psql(db, `insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('w2', 1, 'candidate', 'u1', ${q(tasks()[1])});`);
  const replaced = psql(db, "select ctid from ACT_RU_IDENTITYLINK where ID_ = 'w2'", ["-At"]).trim();
  check(`a link replaced at its very place (${place}, then ${replaced}) is followed exactly, through the gates and through the log`, placed !== null && replaced === place && (await caughtUp(out, reference(db))) !== null && (await caughtUp(walOut, reference(db))) !== null, follower.log().split("\n").slice(-4).join("\n"));
  // The links reordered by a CLUSTER (by their ids, descending), which logs no row: through the
  // gates, their places changed; through the log, the table's new file makes the step read
  // Camunda whole (the reconcile is off).
  const unclustered = reference(db);
  psql(db, "create index il_by_id_desc on ACT_RU_IDENTITYLINK (ID_ desc);");
  psql(db, "cluster ACT_RU_IDENTITYLINK using il_by_id_desc;");
  psql(db, "drop index il_by_id_desc;");
  const clustered = reference(db);
  check("a CLUSTER reordering the links is followed exactly, through the gates and through the log", Buffer.compare(unclustered, clustered) !== 0 && (await caughtUp(out, clustered)) !== null && (await caughtUp(walOut, clustered)) !== null, walFollower.log().split("\n").slice(-4).join("\n"));
  // A commit visible before its log is flushed (synchronous_commit = off; the server's log writer
  // flushes it within 10 s here): a step that reads another transaction's keys while it sees
  // that commit, not yet in the log it peeks, reads its keys once a later peek has it. The
  // follower is paused while the two commit, so that no step falls between them; the path is
  // taken when a published state has the first commit's change and not yet the second's (none:
  // the log writer flushed first, and the scenario is tried again, at most three times).
  psql("postgres", "alter system set wal_writer_delay = '10s';");
  psql("postgres", "select pg_reload_conf();");
  try {
    const [first, second] = tasks();
    let [followed, split, attempts] = [true, false, 0];
    while (followed && !split && attempts < 3) {
      attempts++;
      const before = JSON.parse(readFileSync(join(walOut, "manifest.json"), "utf8")).latest;
      walFollower.child.kill("SIGSTOP");
      try {
        psql(db, `begin; update ACT_RU_TASK set ASSIGNEE_ = 'flushed-${attempts}', REV_ = REV_ + 1 where ID_ = ${q(first)}; commit;
          begin; set local synchronous_commit = off; update ACT_RU_TASK set ASSIGNEE_ = 'not-flushed-${attempts}', REV_ = REV_ + 1 where ID_ = ${q(second)}; commit;`);
      } finally {
        walFollower.child.kill("SIGCONT");
      }
      const expected = reference(db);
      followed = (await caughtUp(walOut, expected, 15_000)) !== null && (await caughtUp(out, expected)) !== null;
      const states = followed ? assigneesSince(walOut, before, [first, second]) : [];
      split = states.some(([a, b]) => a === `flushed-${attempts}` && b !== `not-flushed-${attempts}`);
    }
    check(`--wal-slot: a commit visible before its log is flushed (synchronous_commit = off) is followed, read by a later step than the commit before it (attempts: ${attempts})`, followed && split, walFollower.log().split("\n").slice(-6).join("\n"));
  } finally {
    psql("postgres", "alter system reset wal_writer_delay;");
    psql("postgres", "select pg_reload_conf();");
  }
  // Last: an organisation removed (its users, links and members leave with it).
  zitadel(db, "org", "acme", "org.removed", `update projections.users14 set owner_removed = true where resource_owner = 'acme';
    update projections.idp_user_links3 set owner_removed = true where resource_owner = 'acme';
    update projections.org_members4 set owner_removed = true where org_id = 'acme';
    update projections.org_members4 set user_owner_removed = true where user_resource_owner = 'acme';
    update projections.instance_members4 set user_owner_removed = true where user_resource_owner = 'acme';
    update projections.project_members4 set owner_removed = true where resource_owner = 'acme';
    update projections.project_members4 set user_owner_removed = true where user_resource_owner = 'acme';
    update projections.project_grant_members4 set user_owner_removed = true where user_resource_owner = 'acme' or granted_org = 'acme';`);
  const after = reference(db);
  check("an organisation removed: followed exactly, through the gates and through the log", (await caughtUp(out, after)) !== null && (await caughtUp(walOut, after)) !== null, follower.log().split("\n").slice(-4).join("\n"));
  // One TRUNCATE of several tables, a followed one among them but not last (test_decoding names
  // them all on one line): the follower reads everything; then the rows come back.
  psql(db, "create table follow_scratch (x int); create table saved_memberships as select * from ACT_ID_MEMBERSHIP;");
  psql(db, "truncate ACT_ID_MEMBERSHIP, follow_scratch;");
  const emptied = reference(db);
  const truncatedFollowed = (await caughtUp(out, emptied)) !== null && (await caughtUp(walOut, emptied)) !== null;
  psql(db, "insert into ACT_ID_MEMBERSHIP select * from saved_memberships; drop table saved_memberships;");
  check("a TRUNCATE of several tables, a followed one first: followed exactly, through the gates and through the log", truncatedFollowed && (await caughtUp(walOut, reference(db))) !== null, walFollower.log().split("\n").slice(-4).join("\n"));
  // A step that fails (the server ends a follower's connection to one source) may leave part of
  // that source's state changed: the next step reads that source afresh, whole, and the other as
  // usual; what was committed meanwhile is followed. Each source's connections are named in
  // pg_stat_activity, so that one source's can be ended alone.
  const endConnections = (what) => Number(psql(db, `select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = current_database() and application_name = 'identity-links-export ${what}';`, ["-At"]).trim());
  /** The first step after `f`'s last error naming `what`: its `afresh=` and `changed=` (null: none yet). */
  const stepAfter = (f, what) => {
    const lines = f.log().split("\n");
    const error = lines.findLastIndex((l) => l.includes(" follow error: ") && l.endsWith(`(the next step reads ${what} afresh)`));
    const next = error >= 0 ? lines.slice(error + 1).find((l) => / follow seq=\d+ /.test(l)) : undefined;
    return next ? { afresh: / afresh=(\S+) /.exec(next)?.[1], changed: Number(/ changed=(\d+) /.exec(next)?.[1] ?? 0) } : null;
  };
  const errors = (f) => f.log().split("\n").filter((l) => / error: |afresh=[a-z]/.test(l)).slice(-4).join("\n");
  const camundaEnded = endConnections("Camunda");
  psql(db, `update ACT_RU_TASK set ASSIGNEE_ = 'after-the-error', REV_ = REV_ + 1 where ID_ = ${q(tasks()[0])};`);
  let recovered = reference(db);
  let afterError = (await caughtUp(out, recovered, 20_000)) !== null && (await caughtUp(walOut, recovered, 20_000)) !== null;
  // (The step's line comes after its files and the manifest: awaited too.)
  await within(() => [follower, walFollower].every((f) => stepAfter(f, "Camunda") !== null), 10_000);
  const afterCamunda = [follower, walFollower].map((f) => stepAfter(f, "Camunda"));
  check("a step whose Camunda connection ended is followed by a step reading Camunda afresh (every key), Zitadel as usual, and the change committed meanwhile is followed", camundaEnded >= 2 && afterError && afterCamunda.every((step) => step?.afresh === "camunda" && step.changed > 20), `${camundaEnded} connection(s) ended; the steps after the error: ${JSON.stringify(afterCamunda)}\n${[follower, walFollower].map(errors).join("\n")}`);
  const zitadelEnded = endConnections("Zitadel");
  const renamed = pick(zusers());
  zitadel(db, "user", renamed, "user.human.profile.changed", `update projections.users14_humans set first_name = 'After-the-error' where user_id = ${q(renamed)};`);
  psql(db, `update ACT_RU_TASK set ASSIGNEE_ = 'after-the-second-error', REV_ = REV_ + 1 where ID_ = ${q(tasks()[0])};`);
  recovered = reference(db);
  afterError = (await caughtUp(out, recovered, 20_000)) !== null && (await caughtUp(walOut, recovered, 20_000)) !== null;
  await within(() => [follower, walFollower].every((f) => stepAfter(f, "Zitadel") !== null), 10_000);
  const afterZitadel = [follower, walFollower].map((f) => stepAfter(f, "Zitadel"));
  check("a step whose Zitadel connection ended is followed by a step reading Zitadel afresh and Camunda as usual, and what was committed meanwhile in both is followed", zitadelEnded >= 2 && afterError && afterZitadel.every((step) => step?.afresh === "zitadel"), `${zitadelEnded} connection(s) ended; the steps after the error: ${JSON.stringify(afterZitadel)}\n${[follower, walFollower].map(errors).join("\n")}`);
  // Log the slot has nothing in (another database's, here 16 MiB and more) is passed over once
  // a peek finds nothing in it, so that the server can recycle it and a peek need not decode it.
  const slotBefore = psql(db, "select confirmed_flush_lsn from pg_replication_slots where slot_name = 'follow1'", ["-At"]).trim();
  psql("postgres", "create table if not exists follow_elsewhere (x text); insert into follow_elsewhere select repeat('x', 200) from generate_series(1, 100000);");
  const passedOver = () => Number(psql(db, `select pg_wal_lsn_diff(confirmed_flush_lsn, ${q(slotBefore)}::pg_lsn) from pg_replication_slots where slot_name = 'follow1'`, ["-At"]).trim());
  const movedOn = await within(() => passedOver() >= 16 * 1024 * 1024, 10_000);
  check("--wal-slot: log with nothing for the slot (another database's) is passed over", movedOn, `${passedOver()} bytes past ${slotBefore}\n${walFollower.log().split("\n").slice(-3).join("\n")}`);
  // --wal-batch: a slot holding as many lines as the batch, or more, is read whole (the lines
  // beyond the batch are not read, and a state with only the first would mix two moments);
  // fewer are read by key. After a restart, the backlog left in the slot is passed over: the
  // whole read at start saw it.
  const batchOut = join(dir, "follow1-batch");
  const batchArgs = ["--reconcile-every", "0", "--wal-slot", "follow_batch", "--wal-batch", "6"];
  let batched = startFollowing(db, batchOut, batchArgs);
  const stepLines = (f) => f.log().split("\n").slice(0, -1).filter((l) => / follow seq=\d+ \S+ .*changed=/.test(l));
  const keysRead = (lines) => lines.map((l) => Number(/ changed=(\d+) /.exec(l)[1]));
  const batchBase = (await caughtUp(batchOut, reference(db), 20_000)) !== null;
  let counted = stepLines(batched).length;
  psql(db, "insert into ACT_ID_MEMBERSHIP select 'u' || i, 'g4' from generate_series(0, 11) i on conflict do nothing;");
  const many = (await caughtUp(batchOut, reference(db))) !== null && (await within(() => keysRead(stepLines(batched).slice(counted)).some((n) => n > 20)));
  counted = stepLines(batched).length;
  psql(db, `update ACT_RU_TASK set ASSIGNEE_ = 'batch-1', REV_ = REV_ + 1 where ID_ = ${q(tasks()[2])};`);
  const one = (await caughtUp(batchOut, reference(db))) !== null && (await within(() => keysRead(stepLines(batched).slice(counted)).some((n) => n > 0)));
  const oneRead = keysRead(stepLines(batched).slice(counted));
  check("--wal-batch 6: a transaction of 9 rows is read whole, one of a row by its key", batchBase && many && one && oneRead.every((n) => n <= 2), `base ${batchBase}, whole ${many}, by key ${one}: ${oneRead}\n${batched.log().split("\n").slice(-4).join("\n")}`);
  batched.stop();
  await new Promise((done) => (batched.child.exitCode === null ? batched.child.once("exit", done) : done()));
  for (let i = 0; i < 3; i++) psql(db, `update ACT_RU_TASK set ASSIGNEE_ = 'batch-${i + 2}', REV_ = REV_ + 1 where ID_ = ${q(tasks()[3 + i])};`);
  batched = startFollowing(db, join(dir, "follow1-batch-again"), batchArgs);
  const restarted = (await caughtUp(join(dir, "follow1-batch-again"), reference(db), 20_000)) !== null;
  // Three steps after the base (the backlog takes two: 6 lines, then 3).
  const stepped = await within(() => stepLines(batched).length >= 3);
  const afterBase = keysRead(stepLines(batched));
  batched.stop();
  check("--wal-slot restarted over a backlog of 9 lines (--wal-batch 6): the backlog is passed over, not read whole again", restarted && stepped && afterBase.every((n) => n === 0), `caught up ${restarted}, three steps ${stepped}, keys read by the steps after the base: ${afterBase}\n${batched.log().split("\n").slice(-4).join("\n")}`);
  // Quiet steps: while no transaction has ended since the sources were read, a step reads
  // neither (quiet=camunda,zitadel); a commit to a table the snapshot does not read makes the
  // next step read both again (quiet=-), and publishes nothing.
  // Whole lines only: the text after the last newline is the next line's start.
  const lines = () => follower.log().split("\n").slice(0, -1);
  const mark = lines().length;
  const quiet = await within(() => lines().slice(mark).filter((l) => / unchanged changed=0 quiet=camunda,zitadel /.test(l)).length >= 3);
  const [latestBefore, linesBefore] = [published(out).manifest.latest, lines().length];
  psql(db, "create table noise (x int); insert into noise values (1);");
  const readAgain = await within(() => lines().slice(linesBefore).some((l) => / unchanged changed=\d+ quiet=- /.test(l)));
  check("a step with no transaction ended reads neither database; after a commit elsewhere it reads both, publishing nothing", quiet && readAgain && published(out).manifest.latest === latestBefore, `quiet ${quiet}, read again ${readAgain}, published ${published(out).manifest.latest} (was ${latestBefore})\n${lines().slice(linesBefore - 2, linesBefore + 4).join("\n")}`);
  // The follower writes a file, then the manifest naming it, then runs the sink command, then
  // replaces status.json: the published state can be caught up before the command and the status
  // of that step have run (a CI run read status.json one step behind the manifest). So both are
  // awaited, with a limit, before they are compared.
  const dirFiles = () => readdirSync(out).filter((f) => /^\d{8}\.(idl|delta)$/.test(f)).sort();
  const sinkFiles = () => readdirSync(follower.sinkDir).sort();
  const sinkDone = await within(() => JSON.stringify(sinkFiles()) === JSON.stringify(dirFiles()));
  check(`the command sink received every published file (${sinkFiles().length})`, sinkDone, `${sinkFiles()} vs ${dirFiles()}`);
  check("one base, then deltas", dirFiles().filter((f) => f.endsWith(".idl")).length === 1 && dirFiles().length > 40, `${dirFiles()}`);
  const status = () => JSON.parse(readFileSync(join(out, "status.json"), "utf8"));
  const statusDone = await within(() => status().sequence === published(out).manifest.latest && "lagMs" in status());
  check("status.json reports the sequence and the lag", statusDone, `${JSON.stringify(status())} (manifest: latest ${published(out).manifest.latest})`);
  // --sink-url: the server refused the first two PUTs; the follower retried (backoff 1 s, 2 s)
  // from the file it missed, and the server has every file once, in order, byte for byte.
  const putDone = await within(() => received.files.length >= dirFiles().length && status().undelivered === 0, 20_000);
  const put = received.files.map((f) => f.name);
  check(`--sink-url: every published file PUT once, in order, after a 503 and a 302 (${put.length} files)`, putDone && received.refused === 2 && JSON.stringify(put) === JSON.stringify(dirFiles()), `${put} vs ${dirFiles()} (${JSON.stringify(status())})`);
  const same = received.files.every((f) => Buffer.compare(f.bytes, readFileSync(join(out, f.name))) === 0);
  check("--sink-url: the files' bytes are the directory's", same);
  check("--sink-url: the last manifest PUT is the directory's", received.manifests.at(-1) === readFileSync(join(out, "manifest.json"), "utf8"), received.manifests.at(-1));
  const h = received.headers.at(-2) ?? {};
  check("--sink-url: the Authorization from IL_SINK_AUTHORIZATION and --sink-header sent with every PUT", received.headers.every((x) => x.authorization === "Bearer sink-secret" && x.test === "yes") && h.kind === "delta" && h.sequence === String(dirFiles().length), JSON.stringify(received.headers.slice(-2)));
}
server.close();
// A bad --sink-url or --sink-header: refused at start, naming it.
// Secrets are never printed: a password in the URL is refused without echoing it, and a header
// line without a colon is named by its first word only.
for (const [args, says] of [
  [["--sink-url", "ftp://x/"], "ftp://x/: not an http:// or https:// URL"],
  [["--sink-url", "http://x/a?b"], "cannot have a query"],
  [["--sink-url", "http://x/", "--sink-header", "nocolon"], '"nocolon"...: not `Name: value`'],
  [["--sink-url", "http://user:TOPSECRET@x/"], "give the credentials in IL_SINK_AUTHORIZATION"],
  [["--sink-url", "http://x/", "--sink-header", "Authorization Bearer TOPSECRET"], '"Authorization"...: not `Name: value`'],
  [["--sink-url", "http://x/", "--sink-header", "X-Token: TOPSECRET\r\nX-Other: 1"], '"X-Token": its value is not printable ASCII on one line'],
]) {
  const r = spawnSync(exporter, ["--camunda", "postgres://127.0.0.1:1/none", "--follow", "--out", join(dir, "refused"), ...args], { encoding: "utf8" });
  check(`${JSON.stringify(args.join(" "))} is refused at start, no secret printed`, r.status === 2 && r.stderr.includes(says) && !r.stderr.includes("TOPSECRET"), `${r.status} ${r.stderr}`);
}
follower.stop();
walFollower.stop();
latencies.sort((a, b) => a - b);
const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(0);
console.log(`follow: commit → manifest naming the file, ${latencies.length} changes (poll 50 ms): p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`);

// --- 2. A transaction committing after a later one was seen: the overlap window ------------------
{
  console.log("follow: a late commit, caught by the overlap window");
  const db = database("follow2");
  const out = join(dir, "follow2");
  const follower = startFollowing(db, out, ["--reconcile-every", "0", "--overlap-seconds", "5"]);
  check("the base is published", (await caughtUp(out, reference(db))) !== null, follower.log());
  // Transaction A pushes an event for z3 and stays open; B pushes one for z5 later, commits,
  // and is projected and followed. Then A commits and is projected: its position is behind the
  // cursor, and the projections' progress does not move (B's position is higher).
  const a = spawn(join(serverBin(), "psql"), ["-h", dir, "-p", String(port), "-U", "postgres", "-d", db, "-v", "ON_ERROR_STOP=1", "-q", "-X"], { stdio: ["pipe", "ignore", "inherit"] });
  a.stdin.write(`begin;\n${push("user", "z3", "user.human.profile.changed")}\nselect pg_sleep(0);\n`);
  await sleep(300);
  zitadel(db, "user", "z5", "user.human.profile.changed", "update projections.users14_humans set first_name = 'Seen' where user_id = 'z5';");
  check("the later transaction is followed", (await caughtUp(out, reference(db))) !== null, follower.log());
  const closed = new Promise((r) => a.on("close", r));
  a.stdin.end("commit;\n");
  await closed;
  psql(db, project("update projections.users14_humans set first_name = 'Late' where user_id = 'z3';"));
  const expected = reference(db);
  check("the event committed late is read again within the overlap window, and followed",
    (await caughtUp(out, expected, 3000)) !== null, follower.log().split("\n").slice(-3).join("\n"));
  follower.stop();
}

// --- 3. The periodic reconcile ------------------------------------------------------------------
{
  console.log("follow: the periodic reconcile");
  const db = database("follow3");
  const out = join(dir, "follow3");
  const follower = startFollowing(db, out, ["--reconcile-every", "1"]);
  check("the base is published", (await caughtUp(out, reference(db))) !== null, follower.log());
  await sleep(1500);
  const before = published(out).manifest.latest;
  check("reconciles that agree publish nothing", before === Number(published(out).manifest.base.slice(0, 8)) && /reconciled-agrees/.test(follower.log()), follower.log());
  // A change no fingerprint names: a row updated without Camunda's REV_ (a hand-made fix).
  psql(db, "update ACT_RU_TASK set ASSIGNEE_ = 'u11' where ID_ = 't1';");
  const corrected = await caughtUp(out, reference(db), 4000);
  for (let i = 0; i < 100 && !/reconcile corrected/.test(follower.log()); i++) await sleep(20);
  check("the reconcile publishes what the fingerprints missed", corrected !== null && /reconcile corrected/.test(follower.log()), follower.log().split("\n").filter((l) => !/ unchanged /.test(l)).join("\n"));
  follower.stop();
  // A reconcile that fails (here every step is one: a step each 1.2 s, a reconcile each second)
  // is read again whole, as any failed step: a source's place may have moved before the error.
  const again = join(dir, "follow3-failed");
  const reconciler = startFollowing(db, again, ["--reconcile-every", "1", "--poll-ms", "1200"]);
  check("a follower reconciling at every step publishes its base", (await caughtUp(again, reference(db))) !== null, reconciler.log());
  psql(db, "select count(pg_terminate_backend(pid)) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend';");
  psql(db, "update ACT_RU_TASK set ASSIGNEE_ = 'after-a-failed-reconcile', REV_ = REV_ + 1 where ID_ = 't1';");
  const followed = await caughtUp(again, reference(db), 15_000);
  const failed = reconciler.log().split("\n").filter((l) => / follow error: /.test(l));
  check("a reconcile that fails says the next step reads everything afresh, and what was committed meanwhile is followed", followed !== null && failed.length > 0 && failed.every((l) => /\(the next step reads everything afresh\)$/.test(l)), reconciler.log().split("\n").filter((l) => !/ reconciled-agrees /.test(l)).slice(-6).join("\n"));
  reconciler.stop();
}

// --- 4. Re-bases and pruning: --rebase-after 3 --keep-bases 1 ----------------------------------
{
  console.log("follow: re-bases every 3 deltas, one base kept");
  const db = database("follow4");
  const out = join(dir, "follow4");
  // A --sink-url too: the names and kinds it is PUT, in order.
  const puts = [];
  const bridgeServer = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (!req.url.endsWith("manifest.json")) puts.push(`${req.url.slice("/sink/".length)}:${req.headers["x-identity-links-kind"]}`);
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => bridgeServer.listen(0, "127.0.0.1", r));
  const putUrl = `http://127.0.0.1:${bridgeServer.address().port}/sink/`;
  // An IL_BRIDGE in the exporter's own environment reaches no command (the command would fail
  // copying it, and be retried for ever).
  process.env.IL_BRIDGE = join(dir, "no-such.bridge");
  const follower = startFollowing(db, out, ["--reconcile-every", "0", "--rebase-after", "3", "--keep-bases", "1", "--sink-url", putUrl]);
  delete process.env.IL_BRIDGE;
  check("the base is published", (await caughtUp(out, reference(db))) !== null, follower.log());
  let followed = true;
  for (let i = 0; i < 9 && followed; i++) {
    psql(db, `update ACT_ID_USER set LAST_ = 'Pruned${i}', REV_ = REV_ + 1 where ID_ = 'u${i % 12}';`);
    followed = (await caughtUp(out, reference(db))) !== null;
  }
  check("nine changes followed exactly across re-bases", followed, follower.log().split("\n").slice(-4).join("\n"));
  const files = () => readdirSync(out).filter((f) => /^\d{8}\.(idl|delta|bridge)$/.test(f)).sort();
  const sinkFiles = () => readdirSync(follower.sinkDir).sort();
  // Files 1 (the base), then 3 deltas and a base, three times: 2 .. 10 (base at 5 and 9), each
  // base by --rebase-after with its bridge (decision 0017).
  const all = Array.from({ length: 10 }, (_, i) => String(i + 1).padStart(8, "0"))
    .flatMap((n) => (n === "00000001" ? [`${n}.idl`] : ["00000005", "00000009"].includes(n) ? [`${n}.bridge`, `${n}.idl`] : [`${n}.delta`]));
  await within(() => sinkFiles().length >= all.length);
  check("a base every 3 deltas with its bridge, and the sink received every file, pruned ones included", JSON.stringify(sinkFiles()) === JSON.stringify(all), `${sinkFiles()}`);
  check("the directory keeps one base (with its bridge) and the deltas after it", JSON.stringify(files()) === JSON.stringify(["00000009.bridge", "00000009.idl", "00000010.delta"]) && published(out).manifest.base === "00000009.idl", `${files()}`);
  // The bridge of base 9 turns the state the files before it publish into it.
  let bridged = null;
  try {
    const state = Snapshot.fromBytes(readFileSync(join(follower.sinkDir, "00000005.idl")));
    for (const n of ["00000006", "00000007", "00000008"]) state.applyDelta(readFileSync(join(follower.sinkDir, `${n}.delta`)));
    state.applyDelta(readFileSync(join(follower.sinkDir, "00000009.bridge")));
    bridged = Buffer.from(state.toBytes()).equals(readFileSync(join(follower.sinkDir, "00000009.idl"))) || "another state";
    state.free();
  } catch (e) {
    bridged = e.message;
  }
  check("a bridge leads from the state before its base to the base", bridged === true, String(bridged));
  await within(() => puts.length >= all.length);
  const bridgePuts = puts.filter((p) => /0000000[59]\./.test(p));
  check("--sink-url: a base's bridge PUT before it, kind bridge", JSON.stringify(bridgePuts) === JSON.stringify(["00000005.bridge:bridge", "00000005.idl:snapshot", "00000009.bridge:bridge", "00000009.idl:snapshot"]), `${puts}`);
  bridgeServer.close();
  // (The log arrives through a pipe the loop reads between awaits: waited for, with a limit.)
  const logged = await within(() => /pruned 4 file\(s\) before the 1 newest base[^]*pruned 5 file\(s\) before the 1 newest base/.test(follower.log()));
  check("each pruning is logged (4 files at the base 5; 5 at the base 9, base 5's bridge with them)", logged, follower.log().split("\n").filter((l) => /pruned|seq=(5|9) /.test(l)).join("\n"));
  follower.stop();
}

// --- 4b. A base over --rebase-above-bytes: every change published as a base -------------------
{
  console.log("follow: --rebase-above-bytes");
  const db = database("follow4b");
  const out = join(dir, "follow4b");
  const size = reference(db).length;
  // Well over the limit: bases only; at the limit: deltas (the limit is the largest base that
  // still gets them).
  const over = startFollowing(db, out, ["--reconcile-every", "0", "--rebase-above-bytes", String(Math.floor(size / 2))]);
  check("--rebase-above-bytes: the base is published", (await caughtUp(out, reference(db))) !== null, over.log());
  let followed = true;
  for (let i = 0; i < 3 && followed; i++) {
    psql(db, `update ACT_ID_USER set LAST_ = 'Big${i}', REV_ = REV_ + 1 where ID_ = 'u${i}';`);
    followed = (await caughtUp(out, reference(db))) !== null;
  }
  const files = () => readdirSync(out).filter((f) => /^\d{8}\.(idl|delta|bridge)$/.test(f)).sort();
  const logged = await within(() => (over.log().match(/snapshot \(--rebase-above-bytes\)/g) ?? []).length === 3);
  check("--rebase-above-bytes: a base over the limit makes every change a base, followed exactly", followed && logged && files().every((f) => f.endsWith(".idl")), `${files()}\n${over.log().split("\n").slice(-3).join("\n")}`);
  over.stop();
  const at = join(dir, "follow4b-at");
  const atLimit = startFollowing(db, at, ["--reconcile-every", "0", "--rebase-above-bytes", String(reference(db).length)]);
  check("--rebase-above-bytes: the base published at the limit", (await caughtUp(at, reference(db))) !== null, atLimit.log());
  // A change that shrinks the state (a membership removed): a delta, both states within the limit.
  psql(db, "delete from ACT_ID_MEMBERSHIP where (USER_ID_, GROUP_ID_) = (select USER_ID_, GROUP_ID_ from ACT_ID_MEMBERSHIP order by USER_ID_, GROUP_ID_ limit 1);");
  const delta = await caughtUp(at, reference(db));
  check("--rebase-above-bytes: a base at the limit still gets deltas", delta !== null && readdirSync(at).some((f) => f.endsWith(".delta")), `${readdirSync(at)}`);
  // A change that grows it past the limit, the last base still at it: a base (consumers apply a
  // delta to the chain's state, not to its base).
  psql(db, `update ACT_ID_USER set LAST_ = '${"Grown past the limit ".repeat(4)}', REV_ = REV_ + 1 where ID_ = 'u6';`);
  const grown = await caughtUp(at, reference(db));
  const bases = () => readdirSync(at).filter((f) => f.endsWith(".idl")).sort();
  const rebased = await within(() => /snapshot \(--rebase-above-bytes\)/.test(atLimit.log()));
  check("--rebase-above-bytes: a change that grows the state past the limit is a base, though the last base is within it", grown !== null && rebased && bases().length === 2, `${readdirSync(at)}\n${atLimit.log().split("\n").slice(-3).join("\n")}`);
  atLimit.stop();
}

// --- 5. A tenant followed (--tenant): only its tasks, as the one-shot export with --tenant ------
{
  console.log("follow: --tenant");
  const db = database("follow5");
  psql(db, "update ACT_RU_TASK set TENANT_ID_ = 'acme' where ID_ in ('t0', 't1', 't2', 't3', 't4');");
  const out = join(dir, "follow5");
  const follower = startFollowing(db, out, ["--reconcile-every", "0", "--tenant", "acme"]);
  const tenant = () => reference(db, ["--tenant", "acme"]);
  check("--tenant: the base equals a one-shot export with --tenant", (await caughtUp(out, tenant())) !== null, follower.log());
  psql(db, "update ACT_RU_TASK set ASSIGNEE_ = 'u9', REV_ = REV_ + 1 where ID_ = 't1';");
  const reassigned = await caughtUp(out, tenant());
  psql(db, "insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('tenant-l1', 1, 'candidate', 'u3', 't2');");
  const linked = await caughtUp(out, tenant());
  check("--tenant: the tenant's task reassigned, then given a link, is followed exactly", reassigned !== null && linked !== null, follower.log().split("\n").slice(-4).join("\n"));
  // Another tenant's task changed, and one moved into the tenant: followed as the export gives.
  psql(db, "update ACT_RU_TASK set ASSIGNEE_ = 'u9', REV_ = REV_ + 1 where ID_ = 't7';");
  psql(db, "insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('tenant-l2', 1, 'candidate', 'u3', 't8');");
  psql(db, "update ACT_RU_TASK set TENANT_ID_ = 'acme', REV_ = REV_ + 1 where ID_ = 't9';");
  check("--tenant: another tenant's changes leave the published state as the export; a task moved into the tenant appears", (await caughtUp(out, tenant())) !== null, follower.log().split("\n").slice(-4).join("\n"));
  follower.stop();
}
