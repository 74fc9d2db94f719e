// Issue 24's end-to-end latency: "a change committed in either database is answered by the local
// worker within 5 s at p95". The pipeline of tests/export/pipeline-test.mjs, measured: a private
// PostgreSQL with both peers' tables, identity-links-export --follow (default --poll-ms 250,
// --reconcile-every 0, --rebase-above-bytes 56623104 --rebase-after 50 as docs/deploying.md runs
// it) with examples/worker/publish.mjs --sink --dir as its sink, and the worker example in workerd reading
// that folder as its KV (AUTH "trusted"), once per DELTA_POLL_MS setting. Each change alternates
// the peers (Camunda: a link added, an assignee changed, a membership toggled; Zitadel: an IdP
// link's event pushed then projected, added or removed); its latency is commit → the first worker
// answer that differs, polled every 10 ms, and commit → the KV manifest written (publish.mjs's
// part). Before each commit, a random pause in [0, DELTA_POLL_MS) with the same 10 ms traffic, so
// commits fall at random points of the worker's poll cycle (as real changes do) instead of just
// after its last refresh. Numbers only; a change not seen within 30 s fails the run (exit 1).
// Prints a markdown table and writes it to target/bench/pipeline.md, which bench/run.mjs puts in
// bench/RESULTS.md. Each setting runs its own exporter and worker; the last reads the manifest from
// the worker's Durable Object head (publish.mjs --head, decision 0012), which it watches rather
// than polls (HEAD_WATCH_MS's default, decision 0013).
//
// With `edge`, the same changes in a database that also holds the edge data set (1,000,000
// identity links: bench/generate.mjs), at the worker's default poll from KV and with the head
// watched: the binary form is then 55.1 MB, under --rebase-above-bytes and publish.mjs's
// --apply-max-bytes (54 MiB, 56.6 MB), so the changes are published as deltas and the worker
// applies each (before 2026-12-07: 32 MiB, every change a base); written to
// target/bench/pipeline-edge.md.
//
// With PIPELINE_WAL=1, the exporter reads Camunda's changes from a replication slot
// (--wal-slot, a slot per setting, on a cluster with wal_level = logical; its --poll-ms then 50).
//
// Usage: node bench/pipeline.mjs [edge]
//   (PIPELINE_CHANGES=N changes per setting, default 40; 20 at edge)
// Needs: pkg/ (make build), target/native/identity-links-export, PostgreSQL's server binaries
// (scripts/setup.sh test), workerd and esbuild (the root's node_modules).
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "../tests/export/cluster.mjs";
import { followed, INSTANCE } from "../tests/export/followed.mjs";
import { prepareWorker, startWorker } from "../tests/js/worker-example.mjs";
import { generate } from "./generate.mjs";
import { loadData } from "./load-data.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const EDGE = process.argv[2] === "edge";
const CHANGES = Number(process.env.PIPELINE_CHANGES ?? (EDGE ? 20 : 40));
// The exporter's --rebase-above-bytes and the sink's --apply-max-bytes (PIPELINE_APPLY_MAX_BYTES,
// unset: publish.mjs's default), to measure deltas where the defaults publish bases.
const REBASE_ABOVE_BYTES = Number(process.env.PIPELINE_REBASE_ABOVE_BYTES ?? 54 * 1024 * 1024);
// The exporter's --rebase-after (PIPELINE_REBASE_AFTER; 50 as documented): a smaller one makes
// bases within a run, which warm isolates reach through their bridges (decision 0017).
const REBASE_AFTER = Number(process.env.PIPELINE_REBASE_AFTER ?? 50);
// The worker's DELTA_POLL_MS (2000: its default; 5000: its default before, a third of the reads),
// and where it reads the manifest (KV, or the Durable Object head).
// At edge, KV at the default poll and the head watched (a 1 s poll was measured on 4017c73 and
// gained nothing: bench/RESULTS.md).
const SETTINGS = EDGE
  ? [{ pollMs: 2000, head: false }, { pollMs: 2000, head: true }]
  : [{ pollMs: 2000, head: false }, { pollMs: 5000, head: false }, { pollMs: 2000, head: true }];
// How long the first base may take to reach the worker (at edge: the exporter's first read of
// 2M rows, publish.mjs, the worker's load).
const FIRST_MS = EDGE ? 300_000 : 20_000;
const label = ({ pollMs, head }) => `${pollMs}${head ? ", head watched" : ""}`;
const WAIT_MS = 30_000; // a change not seen by then: the pipeline is broken
const TARGET_MS = 5000;
const WAL = process.env.PIPELINE_WAL === "1";
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
/** The p-th percentile (nearest rank) of `xs`. */
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * xs.length) - 1)];

const cluster = startCluster({ logical: WAL });
const { database, zitadel, follow } = followed(cluster);
const db = database(EDGE ? "pipeline_edge" : "pipeline");
if (EDGE) {
  const started = performance.now();
  const { rows, links } = loadData(cluster.psql, db, generate("edge"), INSTANCE);
  console.log(`pipeline bench: the edge data set (${rows} rows, ${links} identity links) loaded in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
const dir = join(root, "target/bench/pipeline");
prepareWorker(dir);
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(1)); // the exit hooks stop the cluster
process.env.IL_PUBLISH_TOKEN = randomBytes(24).toString("hex"); // the head's token: publish.mjs --head reads it

/**
 * The worker (in workerd) and the exporter following `db` into it, for one setting: `{ worker,
 * exporter, kvDir }`, once the worker answers from the exporter's first file.
 */
async function start(setting, n) {
  const kvDir = join(dir, `kv-${n}`);
  rmSync(kvDir, { recursive: true, force: true });
  mkdirSync(kvDir, { recursive: true });
  const headDir = join(dir, `head-${n}`);
  rmSync(headDir, { recursive: true, force: true });
  const worker = await startWorker(dir, {
    port: 21000 + Math.floor(Math.random() * 8000),
    kv: { folder: kvDir },
    vars: { AUTH: "trusted", DELTA_POLL_MS: setting.pollMs, RETRY_MIN_MS: 200, RETRY_MAX_MS: 1000, ...(setting.head ? { PUBLISH_TOKEN: process.env.IL_PUBLISH_TOKEN } : {}) },
    head: setting.head ? headDir : null,
  });
  const applyMax = process.env.PIPELINE_APPLY_MAX_BYTES ? ` --apply-max-bytes ${process.env.PIPELINE_APPLY_MAX_BYTES}` : "";
  const sink = `${process.execPath} ${join(dir, "publish.mjs")} --sink --dir ${kvDir}${applyMax}${setting.head ? ` --head ${worker.base}` : ""}`;
  // As docs/deploying.md runs it: a base over publish.mjs's --apply-max-bytes (54 MiB) gets no
  // deltas from the sink, so the exporter publishes its changes as bases.
  const wal = WAL ? ["--wal-slot", `pipeline_${n}`] : [];
  const exporter = follow(db, join(dir, `follow-${n}`), sink, ["--reconcile-every", "0", "--rebase-above-bytes", String(REBASE_ABOVE_BYTES), "--rebase-after", String(REBASE_AFTER), ...wal]);
  process.on("exit", () => exporter.stop());
  for (const end = performance.now() + FIRST_MS; performance.now() < end; await sleep(50)) {
    if ((await ask(worker, ["GET", "/engine-rest/task/t0/identity-links"])).startsWith("200 ")) return { worker, exporter, kvDir };
  }
  exporter.stop();
  await worker.stop();
  throw new Error(`the worker does not answer from the exporter's files (${label(setting)}):\n${exporter.log()}\n${worker.log().slice(-1000)}`);
}

// --- The changes: the i-th, its peer, kind, the request whose answer it changes, its commit ---
let camunda = 0;
let zitadels = 0;
function nextChange(i) {
  if (i % 2 === 0) {
    const c = camunda++;
    const [t, u, g] = [`t${c % 10}`, `u${c % 12}`, `g${c % 5}`];
    const sql = (s) => () => cluster.psql(db, s);
    if (c % 3 === 0) return { peer: "Camunda", kind: "a link added", request: ["GET", `/engine-rest/task/${t}/identity-links`],
      commit: sql(`insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('bench-${c}', 1, 'candidate', '${u}', '${t}');`) };
    if (c % 3 === 1) return { peer: "Camunda", kind: "an assignee changed", request: ["GET", `/engine-rest/task/${t}/identity-links`],
      commit: sql(`update ACT_RU_TASK set ASSIGNEE_ = case when ASSIGNEE_ = 'u7' then 'u8' else 'u7' end, REV_ = REV_ + 1 where ID_ = '${t}';`) };
    return { peer: "Camunda", kind: "a membership toggled", request: ["GET", `/engine-rest/identity/groups?userId=${u}`],
      commit: sql(`with gone as (delete from ACT_ID_MEMBERSHIP where USER_ID_ = '${u}' and GROUP_ID_ = '${g}' returning 1)
        insert into ACT_ID_MEMBERSHIP (USER_ID_, GROUP_ID_) select '${u}', '${g}' where not exists (select from gone);`) };
  }
  // Zitadel: an IdP link added to a user, then removed (event pushed; projected: the commit measured).
  const z = zitadels++;
  const [user, added] = [`z${Math.floor(z / 2) % 8}`, `gh-bench-${z - (z % 2)}`];
  const request = ["POST", `/v2/users/${user}/links/_search`, "{}"];
  if (z % 2 === 0) return { peer: "Zitadel", kind: "an IdP link added", request,
    commit: () => zitadel(db, "user", user, "user.human.externalidp.added",
      `insert into projections.idp_user_links3 (idp_id, user_id, external_user_id, creation_date, sequence, resource_owner, instance_id, display_name)
         select 'github', id, '${added}', now(), ${1000 + z}, resource_owner, instance_id, '${added}' from projections.users14 where id = '${user}';`) };
  return { peer: "Zitadel", kind: "an IdP link removed", request,
    commit: () => zitadel(db, "user", user, "user.human.externalidp.removed", `delete from projections.idp_user_links3 where external_user_id = '${added}';`) };
}

/** The worker's answer to `request` (status and body). */
async function ask(worker, [method, path, body]) {
  const r = await fetch(`${worker.base}${path}`, { method, body, headers: body ? { "content-type": "application/json" } : {}, signal: AbortSignal.timeout(15_000) });
  return `${r.status} ${await r.text()}`;
}

/**
 * One change through `worker`: `{ answer, manifest }` in ms from the commit (answer null: not
 * seen within WAIT_MS; manifest null: not in KV).
 */
async function measure(worker, kvDir, pollMs, change) {
  for (const end = performance.now() + Math.random() * pollMs; performance.now() < end; await sleep(10)) await ask(worker, change.request);
  const before = await ask(worker, change.request);
  change.commit(); // psql returns once the transaction is committed
  const committed = performance.now();
  const committedAt = Date.now();
  for (; performance.now() - committed < WAIT_MS; await sleep(10)) {
    if ((await ask(worker, change.request)) !== before) {
      const answer = performance.now() - committed;
      const written = existsSync(join(kvDir, "manifest")) ? statSync(join(kvDir, "manifest")).mtimeMs - committedAt : -1;
      return { answer, manifest: written >= 0 ? written : null };
    }
  }
  return { answer: null };
}

// --- The run: every setting, CHANGES changes each ---------------------------------------------------
const results = []; // { setting, peer, kind, answer, manifest }
const notes = [];
let failed = null;
let i = 0;
for (const [s, setting] of SETTINGS.entries()) {
  const { worker, exporter, kvDir } = await start(setting, s);
  try {
    for (let n = 0; n < CHANGES && !failed; n++, i++) {
      const change = nextChange(i);
      const r = await measure(worker, kvDir, setting.pollMs, change);
      if (r.answer === null) failed = `DELTA_POLL_MS ${label(setting)}: change ${n + 1} (${change.peer}: ${change.kind}, ${change.request.slice(0, 2).join(" ")}) not answered within ${WAIT_MS / 1000} s`;
      else results.push({ setting, peer: change.peer, kind: change.kind, ...r });
    }
    const health = await (await fetch(`${worker.base}/.identity-links/health`)).json();
    notes.push(`DELTA_POLL_MS ${label(setting)}: ${health.loads} base load(s), ${health.applied} delta(s) applied, ${health.polls} manifest reads, ${health.watches ?? 0} watches, wasm memory ${(health.wasmBytes / 2 ** 20).toFixed(1)} MiB; ${exporterSteps(exporter.log())}`);
  } finally {
    if (failed) console.error(`${failed}\nexporter:\n${exporter.log().split("\n").slice(-8).join("\n")}\nworker:\n${worker.log().slice(-1000)}`);
    exporter.stop();
    await worker.stop();
  }
  if (failed) break;
}

/**
 * The exporter's steps that published (a delta or a base, not the first base): how many, and their
 * cost from its log lines (`ms=`, `read_ms=`, `render_ms=`, `build_ms=`, `publish_ms=`; the sink's run is in
 * `ms=`), p50 / p95.
 */
function exporterSteps(log) {
  const steps = [...log.matchAll(/ follow seq=\d+ (?:delta|snapshot \().* read_ms=([\d.]+) render_ms=[\d.]+ build_ms=([\d.]+) publish_ms=([\d.]+) ms=([\d.]+)$/gm)].map((m) => m.slice(1).map(Number));
  if (steps.length === 0) return "no exporter step published";
  const both = (i) => `${Math.round(pct(steps.map((s) => s[i]), 50))} / ${Math.round(pct(steps.map((s) => s[i]), 95))} ms`;
  return `the exporter's ${steps.length} publishing steps, p50 / p95: ${both(3)} (reading ${both(0)}, building ${both(1)}, publishing ${both(2)}; the sink's run is the rest)`;
}

// --- The report -------------------------------------------------------------------------------------
const ms = (x) => (x === undefined ? "-" : `${Math.round(x)} ms`);
const lines = [
  "| worker DELTA_POLL_MS | peer | changes | p50 | p95 | max | under 5 s | manifest written to KV (with the head: its copy, after the head) p50 / p95 |",
  "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const setting of SETTINGS) {
  for (const peer of ["Camunda", "Zitadel", "both"]) {
    const rows = results.filter((r) => r.setting === setting && (peer === "both" || r.peer === peer));
    if (rows.length === 0) continue;
    const a = rows.map((r) => r.answer);
    const m = rows.map((r) => r.manifest).filter((x) => x !== null);
    const under = a.filter((x) => x < TARGET_MS).length;
    lines.push(`| ${label(setting)} | ${peer} | ${rows.length} | ${ms(pct(a, 50))} | ${ms(pct(a, 95))} | ${ms(Math.max(...a))} | ${((100 * under) / a.length).toFixed(0)}% | ${ms(pct(m, 50))} / ${ms(pct(m, 95))} |`);
  }
}
if (failed) lines.push(`\n**Failed**: ${failed}.`);
let commit = "an unknown commit";
try {
  commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
} catch {
  // not a git checkout
}
const heading = `Commit → the first worker answer reflecting it (\`bench/pipeline.mjs${EDGE ? " edge" : ""}\` on ${commit}, ${new Date().toISOString().slice(0, 10)}; exporter ${WAL ? "--wal-slot (--poll-ms 50)" : "--poll-ms 250"}, --reconcile-every 0, --rebase-above-bytes ${REBASE_ABOVE_BYTES} --rebase-after ${REBASE_AFTER}${process.env.PIPELINE_APPLY_MAX_BYTES ? `, publish.mjs --apply-max-bytes ${process.env.PIPELINE_APPLY_MAX_BYTES}` : ""}):`;
const table = `${heading}\n\n${lines.join("\n")}\n\n${notes.join("; ")}.`;
console.log(`\n${table}\n`);
// A failed run leaves no figures for bench/run.mjs to report.
mkdirSync(join(root, "target/bench"), { recursive: true });
const output = join(root, `target/bench/${EDGE ? "pipeline-edge" : "pipeline"}${WAL ? "-wal" : ""}.md`);
if (failed) rmSync(output, { force: true });
else writeFileSync(output, table);
process.exitCode = failed ? 1 : 0;
