// Issue 24's pipeline end to end (make test-export): a private PostgreSQL with the peers' tables
// (followed.mjs), identity-links-export --follow with examples/worker/publish.mjs --sink as its
// --sink-command writing into a KV folder, and examples/worker under workerd reading that folder
// as its KV namespace (AUTH "trusted", a short DELTA_POLL_MS). The worker answers the seeded
// state; then the database is changed as Camunda changes it (a link added to a task, an assignee
// changed, REV_ raised) and as Zitadel does (an IdP link's event pushed, then projected), and
// after each change the worker answers what the package answers on a fresh one-shot export of
// the database, byte for byte, with that export's Snapshot.version in identity-links-version;
// the changes arrive as deltas applied in place (one base load). The latency from the commit to
// the first worker answer reflecting it is printed (not asserted: decision 0010, docs/export.md).
// Twice: with the manifest in KV, and with it in the worker's Durable Object head (publish.mjs
// --head through the worker's publishing route, decision 0012), each on a database of its own.
//
// Needs: pkg/ (make build), target/native/identity-links-export, PostgreSQL's server binaries,
// workerd and esbuild (the root's node_modules).
import { check } from "../js/check.mjs";
import { prepareWorker, startWorker } from "../js/worker-example.mjs";
import { startCluster } from "./cluster.mjs";
import { followed, INSTANCE } from "./followed.mjs";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const { Snapshot, handleRequest } = createRequire(import.meta.url)(join(root, "pkg/node/index.cjs"));
const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
const POLL_MS = 100; // the exporter's --poll-ms
const DELTA_POLL_MS = 100; // the worker's
const WAIT_MS = 10_000; // how long a change may take to reach the worker before the test fails

const cluster = startCluster();
const { psql } = cluster;
const { database, zitadel, reference, follow } = followed(cluster);
const dir = join(root, "target/pipeline-test");
prepareWorker(dir);

/** The pipeline on a database of its own, the manifest in KV or (`head`) in the Durable Object head. */
async function pipeline(head) {
  const name = head ? "pipeline_head" : "pipeline";
  const label = head ? " (Durable Object head)" : "";
  const db = database(name);
  // --- The worker's KV folder, its head's storage, the exporter's follow directory ---
  const kvDir = join(dir, `kv-${name}`);
  const out = join(dir, `follow-${name}`);
  mkdirSync(kvDir, { recursive: true });
  const token = randomBytes(24).toString("hex");
  const worker = await startWorker(dir, {
    port: 21000 + Math.floor(Math.random() * 8000),
    kv: { folder: kvDir },
    vars: { AUTH: "trusted", DELTA_POLL_MS, RETRY_MIN_MS: 200, RETRY_MAX_MS: 1000, ...(head ? { PUBLISH_TOKEN: token } : {}) },
    head: head ? join(dir, `head-${name}`) : null,
  });
  // The sink: publish.mjs, and with the head its --head (the token in its environment, which the
  // exporter passes on to the command).
  process.env.IL_PUBLISH_TOKEN = token;
  const sink = `${process.execPath} ${join(dir, "publish.mjs")} --sink --dir ${kvDir}${head ? ` --head ${worker.base}` : ""}`;
  const exporter = follow(db, out, sink, ["--poll-ms", String(POLL_MS), "--reconcile-every", "0"]);
  process.on("exit", () => exporter.stop());
  const tail = (n = 8) => exporter.log().split("\n").slice(-n).join("\n");
  const manifestFile = join(kvDir, "manifest");
  let served = false;
  for (let i = 0; i < 200 && !served; i++) {
    served = (await fetch(`${worker.base}/.identity-links/health`, { signal: AbortSignal.timeout(15_000) })).status === 200;
    if (!served) await sleep(50);
  }
  check(`the exporter's first file is published by publish.mjs --sink${head ? " --head" : ""} and loaded by the worker${label}`, served, `${tail()}\n${worker.log().slice(-1000)}`);
  check(`the manifest is in the KV folder${head ? " (a copy of the head's)" : ""}`, existsSync(manifestFile));

  /** The requests compared: every task's identity links, every user's groups, every Zitadel user's IdP links. */
  const REQUESTS = [
    ...Array.from({ length: 10 }, (_, i) => ["GET", `/engine-rest/task/t${i}/identity-links`]),
    ...Array.from({ length: 12 }, (_, i) => ["GET", `/engine-rest/identity/groups?userId=u${i}`]),
    ...Array.from({ length: 8 }, (_, i) => ["POST", `/v2/users/z${i}/links/_search`, "{}"]),
  ];
  const init = (method, body) => ({ method, body, headers: body === undefined ? {} : { "content-type": "application/json" }, signal: AbortSignal.timeout(15_000) });
  /** The worker's answer: `{ status, body, version }`. */
  async function ask([method, path, body]) {
    const r = await fetch(`${worker.base}${path}`, init(method, body));
    return { status: r.status, body: await r.text(), version: r.headers.get("identity-links-version") };
  }
  /** The package's answer on `snapshot` (in-process, trusted): `{ status, body }`. */
  async function packageAnswer(snapshot, [method, path, body]) {
    const r = await handleRequest(snapshot, new Request(`http://in-process${path}`, init(method, body)), undefined, { auth: "trusted" });
    return { status: r.status, body: await r.text() };
  }

  /**
   * Waits until the worker answers from a fresh one-shot export's version, then compares every
   * request's answer with the package's on that export: the differences (empty when equal).
   */
  async function compareWithFreshExport(what) {
    const fresh = Snapshot.fromBytes(reference(db));
    try {
      let last = null;
      for (const end = performance.now() + WAIT_MS; performance.now() < end; await sleep(20)) {
        last = await ask(REQUESTS[0]);
        if (last.version === fresh.version) break;
      }
      check(`${what}${label}: identity-links-version is the fresh export's Snapshot.version (${fresh.version})`, last?.version === fresh.version, `the worker answers from ${last?.version}\n${tail()}\n${worker.log().slice(-1000)}`);
      const differences = [];
      for (const request of REQUESTS) {
        const got = await ask(request);
        const want = await packageAnswer(fresh, request);
        if (got.status !== want.status || got.body !== want.body || got.version !== fresh.version) {
          differences.push(`${request[0]} ${request[1]}: worker ${got.status} ${got.version} ${got.body}\n  package ${want.status} ${fresh.version} ${want.body}`);
        }
      }
      check(`${what}${label}: the worker's ${REQUESTS.length} answers equal the package's on a fresh one-shot export, byte for byte`, differences.length === 0, differences.join("\n"));
    } finally {
      fresh.free();
    }
  }

  await compareWithFreshExport(`the seeded state${label}`);

  /**
   * Makes one change with `commit` (synchronous: it returns once the transaction is committed),
   * then asks `request` until its answer differs from before. Then the whole comparison with a
   * fresh export. `{ answer, manifest }`: the milliseconds from the commit to that first answer
   * (null if none within WAIT_MS), and to the KV manifest's last write (publish.mjs's, the part of
   * the latency before the worker polls).
   */
  async function change(what, request, commit) {
    const before = (await ask(request)).body;
    commit();
    const committed = performance.now();
    const committedAt = Date.now();
    let answer = null;
    for (const end = committed + WAIT_MS; performance.now() < end; await sleep(10)) {
      const a = await ask(request);
      if (a.body !== before) {
        answer = performance.now() - committed;
        break;
      }
    }
    check(`${what}${label}: the worker's answer to ${request[0]} ${request[1]} changes`, answer !== null, `still ${before}\n${tail()}`);
    const written = statSync(manifestFile).mtimeMs - committedAt;
    const manifest = written >= 0 ? written : null; // null: not written since the commit
    await compareWithFreshExport(what);
    return { answer, manifest };
  }

  const latencies = {};
  latencies["a link added to a task (Camunda)"] = await change("a link added to t3", REQUESTS[3], () =>
    psql(db, "insert into ACT_RU_IDENTITYLINK (ID_, REV_, GROUP_ID_, TYPE_, USER_ID_, TASK_ID_) values ('e2e-link', 1, 'g4', 'candidate', NULL, 't3');"),
  );
  latencies["an assignee changed (Camunda)"] = await change("t0 assigned to u7", REQUESTS[0], () =>
    psql(db, "update ACT_RU_TASK set ASSIGNEE_ = 'u7', REV_ = REV_ + 1 where ID_ = 't0';"),
  );
  // Zitadel: the event pushed (one transaction), then projected (the commit measured from).
  latencies["an IdP link added (Zitadel)"] = await change("an IdP link added to z5", REQUESTS[22 + 5], () =>
    zitadel(db, "user", "z5", "user.human.externalidp.added",
      `insert into projections.idp_user_links3 (idp_id, user_id, external_user_id, creation_date, sequence, resource_owner, instance_id, display_name)
         values ('github', 'z5', 'gh-e2e', now(), 100, 'globex', '${INSTANCE}', 'z5 on GitHub');`),
  );

  const health = await (await fetch(`${worker.base}/.identity-links/health`, { signal: AbortSignal.timeout(15_000) })).json();
  check(`the changes reached the worker as deltas applied in place (one base load, three deltas)${label}`, health.loads === 1 && health.applied === 3 && health.status === "ok" && health.head === (head ? "durable-object" : "kv") && health.manifestFrom === health.head, JSON.stringify(health));

  for (const [what, { answer, manifest }] of Object.entries(latencies)) {
    const first = answer === null ? "never (within the wait)" : `${answer.toFixed(0)} ms`;
    const kv = head ? "the manifest in the Durable Object head, its KV copy" : "the KV manifest";
    const published = manifest === null ? `${kv} not written since the commit` : `${kv} written at ${manifest.toFixed(0)} ms`;
    console.log(`pipeline${label}: ${what}: commit → first worker answer reflecting it ${first} (${published}; exporter --poll-ms ${POLL_MS}, worker DELTA_POLL_MS ${DELTA_POLL_MS})`);
  }
  await worker.stop();
  exporter.stop();
}

await pipeline(false);
await pipeline(true);
