// identity-links-export's rate and peak memory on the edge data set (1,000,000 identity links):
// the data loaded into the peers' tables of a private PostgreSQL cluster (tests/export/), then
// exported to the binary form and to JSON; then followed (--follow): the first base, the cost of
// a step with nothing changed and of one with a task reassigned, commit → the delta's file, and
// the follower's peak memory; then the same with --wal-slot. Writes target/bench/export.json, which bench/run.mjs reports in
// bench/RESULTS.md. Run by `make bench` (needs target/native/identity-links-export).
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startCluster } from "../tests/export/cluster.mjs";
import { CAMUNDA, ZITADEL, ZITADEL_EVENTS, ZITADEL_STATES } from "../tests/export/schema.mjs";
import { generate } from "./generate.mjs";
import { loadData } from "./load-data.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const cache = join(root, "target/bench");
mkdirSync(cache, { recursive: true });
const scale = process.argv[2] ?? "edge";
/** How many changes of each kind a follow run commits: 20 by default, enough for a 95th percentile. */
const changeCount = Number(process.env.FOLLOW_CHANGES ?? 20);
const cached = join(cache, `${scale}.json`);
const data = existsSync(cached) ? JSON.parse(readFileSync(cached, "utf8")) : generate(scale);

// wal_level = logical: the second follow run reads Camunda's changes from a replication slot.
const { dir, port, psql, stop, PASSWORD } = startCluster({ logical: true });
psql("postgres", "create database bench;");
// A current Zitadel release's schema: its projections' state in current_states (the exporter
// detects the release from it, docs/export.md), and its event store, which --follow reads for
// the aggregates that changed (without it, a release is re-read whole every step).
psql("bench", CAMUNDA + ZITADEL + ZITADEL_STATES + ZITADEL_EVENTS);

const t0 = performance.now();
const { rows, links } = loadData(psql, "bench", data, "inst");
psql("bench", "insert into projections.current_states (projection_name, instance_id, sequence, event_date, position) values ('projections.idp_user_links3', 'inst', 1, '2024-06-01T00:00:00Z', 1);");
console.log(`export bench: ${scale} loaded into PostgreSQL in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

const exporter = join(root, "target/native/identity-links-export");
const url = `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/bench`;
/** Runs the exporter, measuring wall time and peak resident memory (getrusage of the child). */
function measure(out) {
  const wrapper = "import json,resource,subprocess,sys,time\nt=time.time();r=subprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.PIPE)\n" +
    "print(json.dumps({'status':r.returncode,'seconds':time.time()-t,'peak_kb':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,'stderr':r.stderr.decode()[-400:]}))";
  const result = JSON.parse(execFileSync("python3", ["-c", wrapper, exporter, "--camunda", url, "--zitadel", url, "--out", out], { encoding: "utf8" }));
  if (result.status !== 0) throw new Error(`the exporter failed: ${result.stderr}`);
  return { ...result, bytes: statSync(out).size };
}
const results = {};
for (const [format, file] of [["binary", join(dir, "s.idl")], ["json", join(dir, "s.json")]]) {
  const runs = [measure(file), measure(file), measure(file)].sort((a, b) => a.seconds - b.seconds);
  const best = runs[1]; // the median of three
  results[format] = { seconds: best.seconds, rowsPerSecond: rows / best.seconds, peakMB: Math.max(...runs.map((r) => r.peak_kb)) / 1024, bytes: best.bytes };
  console.log(`export bench: ${format}: ${rows} rows in ${best.seconds.toFixed(2)} s = ${(rows / best.seconds).toFixed(0)} rows/s, peak ${(results[format].peakMB).toFixed(0)} MB, ${(best.bytes / 1e6).toFixed(1)} MB written`);
}
results.follow = await follow("gates");
// The same, Camunda's changes read from the write-ahead log (--wal-slot) instead of the gates.
results.followWal = await follow("wal", ["--wal-slot", "bench", "--poll-ms", "250"]);
// And polled every 50 ms (docs/export.md: a step that finds nothing in the slot costs a peek).
results.followWalFast = await follow("wal50", ["--wal-slot", "bench", "--poll-ms", "50"]);
stop();
writeFileSync(join(cache, "export.json"), JSON.stringify({ scale, rows, links, ...results }));

/**
 * The exporter following the loaded data (`run` names it: "gates", then "wal" with `extra` =
 * --wal-slot, Camunda's changes read from the write-ahead log): `{ baseSeconds, quietStepMs, idleStepMs, idleReadMs,
 * changes: [{ kind, latencyMs, stepMs, readMs, renderMs, buildMs, publishMs }], peakMB }` — the
 * first base's time, the median step with nothing committed (neither database read), the median
 * step after a commit to a table the snapshot does not read (nothing changed, but every gate
 * read), and for FOLLOW_CHANGES (20) reassignments of a task, as many
 * links added and as many memberships toggled, the time from each commit to the follow
 * directory's manifest naming the delta and that step's own cost (its `ms=`; `read_ms=` reading
 * the databases, `build_ms=` rendering and loading the state (`render_ms=` of it rendering), `publish_ms=` the delta made and
 * written), and the peak resident memory of the follower (VmHWM).
 */
async function follow(run, extra = []) {
  const out = join(dir, `follow-${run}`);
  const child = spawn(exporter, ["--camunda", url, "--zitadel", url, "--follow", "--out", out, "--reconcile-every", "0", ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr.on("data", (d) => (log += d));
  const steps = () =>
    [...log.matchAll(/ follow seq=(\d+) (\S+).* quiet=(\S+) .* read_ms=([\d.]+) render_ms=([\d.]+) build_ms=([\d.]+) publish_ms=([\d.]+) ms=([\d.]+)$/gm)].map((m, index) => ({
      index, sequence: Number(m[1]), outcome: m[2], quiet: m[3], readMs: Number(m[4]), renderMs: Number(m[5]), buildMs: Number(m[6]), publishMs: Number(m[7]), ms: Number(m[8]),
    }));
  const latest = () => (existsSync(join(out, "manifest.json")) ? JSON.parse(readFileSync(join(out, "manifest.json"), "utf8")).latest : 0);
  const peakMB = () => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
  /** Waits until `done()` or `seconds` pass (then throws with the log). */
  const until = async (done, seconds, what) => {
    for (const end = performance.now() + seconds * 1000; performance.now() < end; await sleep(20)) if (done()) return;
    throw new Error(`export bench: --follow: ${what} not within ${seconds} s:\n${log.slice(-2000)}`);
  };
  try {
    const started = performance.now();
    await until(() => latest() >= 1, 600, "the first base");
    const baseSeconds = (performance.now() - started) / 1000;
    // Steps with nothing committed (neither source read: quiet=camunda,zitadel), then steps
    // after a commit to a table the snapshot does not read (both read, their gates scanned:
    // what every step costs on a database that is written all the time).
    const quietSteps = () => steps().filter((s) => s.outcome === "unchanged" && s.quiet === "camunda,zitadel");
    await until(() => quietSteps().length >= 5, 600, "five steps with nothing committed");
    const quiet = quietSteps().sort((a, b) => a.ms - b.ms);
    psql("bench", "create table if not exists follow_bench_noise (x int);");
    const idleSteps = [];
    for (let i = 0; i < 5; i++) {
      const seen = steps().length;
      psql("bench", `insert into follow_bench_noise values (${i});`);
      await until(() => steps().slice(seen).some((s) => s.quiet === "-"), 60, `a step reading after unrelated commit ${i + 1}`);
      idleSteps.push(steps().slice(seen).find((s) => s.quiet === "-"));
    }
    idleSteps.sort((a, b) => a.ms - b.ms);
    const idle = idleSteps.map((s) => s.ms);
    const changes = [];
    const task = data.tasks[0].id;
    // Reassignments (the tasks' table changes), links added (the links' table changes), then a
    // membership removed and added back, in turn (the memberships' table changes).
    const { userId, groupId } = data.memberships[0];
    const kinds = {
      reassigned: (i) => `update ACT_RU_TASK set ASSIGNEE_ = 'follow-bench-${run}-${i}', REV_ = REV_ + 1 where ID_ = '${task}';`,
      linked: (i) => `insert into ACT_RU_IDENTITYLINK (ID_, REV_, TYPE_, USER_ID_, TASK_ID_) values ('follow-bench-${run}-${i}', 1, 'candidate', '${data.users[i].id}', '${data.tasks[i + 1].id}');`,
      membership: () => `with gone as (delete from ACT_ID_MEMBERSHIP where USER_ID_ = '${userId}' and GROUP_ID_ = '${groupId}' returning 1)
        insert into ACT_ID_MEMBERSHIP (USER_ID_, GROUP_ID_) select '${userId}', '${groupId}' where not exists (select from gone);`,
    };
    for (const [kind, sql] of Object.entries(kinds)) {
      for (let i = 0; i < changeCount; i++) {
        const before = latest();
        // At a random moment of the follower's cycle, as changes come (committing as soon as
        // the last was published would always wait a whole --poll-ms).
        await sleep(Math.random() * 300);
        psql("bench", sql(i));
        const committed = performance.now();
        await until(() => latest() > before, 600, `change ${i + 1} (${kind})`);
        const latencyMs = performance.now() - committed;
        await until(() => steps().some((s) => s.sequence > before), 60, `change ${i + 1}'s step line`);
        const step = steps().find((s) => s.sequence > before);
        changes.push({ kind, latencyMs, stepMs: step.ms, readMs: step.readMs, renderMs: step.renderMs, buildMs: step.buildMs, publishMs: step.publishMs });
      }
    }
    const middle = idleSteps[Math.floor(idleSteps.length / 2)];
    const quietMiddle = quiet[Math.floor(quiet.length / 2)];
    const result = { baseSeconds, quietStepMs: quietMiddle.ms, idleStepMs: middle.ms, idleReadMs: middle.readMs, changes, peakMB: peakMB() };
    const seconds = (ms) => (ms / 1000).toFixed(2);
    // Each kind's latencies, sorted, and its middle step's parts.
    const figures = (kind) => {
      const ofKind = changes.filter((c) => c.kind === kind).sort((a, b) => a.latencyMs - b.latencyMs);
      const c = ofKind[Math.floor(ofKind.length / 2)];
      return `${ofKind.map((c) => seconds(c.latencyMs)).join(", ")} s (the middle one's step ${seconds(c.stepMs)} s: reading ${seconds(c.readMs)}, building ${seconds(c.buildMs)} (rendering ${seconds(c.renderMs)}), publishing ${seconds(c.publishMs)})`;
    };
    console.log(`export bench: --follow (${run}): first base in ${baseSeconds.toFixed(1)} s; a step with nothing committed ${quietMiddle.ms.toFixed(1)} ms (median of ${quiet.length}); a step after an unrelated commit ${middle.ms.toFixed(0)} ms, ${middle.readMs.toFixed(0)} of it reading (median of ${idle.length}); commit → delta, a task reassigned: ${figures("reassigned")}; a link added: ${figures("linked")}; a membership toggled: ${figures("membership")}; peak ${result.peakMB.toFixed(0)} MB`);
    return result;
  } finally {
    child.kill();
  }
}
