// The demo page: load a snapshot into identity-links (wasm), run the three queries from the
// panels, and show each answer with its REST request, timing and a diagram.
import init, { Snapshot, isIdentityError } from "/pkg/index.js";
import { taskDiagram, userDiagram } from "./diagram.js";

const $ = (id) => document.getElementById(id);
/** A panel's output element, by its data-testid (`links-result`, `idp-time`, ...). */
const part = (name) => document.querySelector(`[data-testid="${name}"]`);
const MAGIC = [0x49, 0x44, 0x4c, 0x49, 0x4e, 0x4b, 0x53, 0x00]; // "IDLINKS\0": the binary form
const MAX_PICKER = 2000; // options per picker; larger snapshots still load and answer in full

/** The loaded snapshot, and what the pickers and diagrams need from it. */
const state = { snapshot: null, source: "", ids: { users: [], tasks: [], types: [] }, memberOf: new Map(), size: 0 };

const STATUS_TEXT = { 200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error" };

/** The pickers' contents, read once per load from the canonical JSON. */
function indexFor(snapshot) {
  const data = JSON.parse(snapshot.toJson());
  const memberOf = new Map();
  for (const m of data.memberships) {
    if (!memberOf.has(m.userId)) memberOf.set(m.userId, []);
    memberOf.get(m.userId).push(m.groupId);
  }
  const types = new Set(["candidate", "assignee", "owner"]);
  for (const t of data.tasks) for (const l of t.identityLinks) types.add(l.type);
  const usersWithLinks = new Set(data.idpLinks.map((l) => l.userId));
  return {
    ids: {
      users: data.users.map((u) => u.id),
      tasks: data.tasks.map((t) => t.id),
      types: [...types],
      idpUsers: [...usersWithLinks],
    },
    memberOf,
  };
}

function fillSelect(select, values, preferred) {
  const keep = select.value;
  select.replaceChildren(...values.slice(0, MAX_PICKER).map((v) => new Option(v, v)));
  if (values.length > MAX_PICKER) select.append(new Option(`… ${values.length - MAX_PICKER} more (type in the API)`, "", false, false));
  select.value = values.includes(keep) ? keep : (preferred ?? values[0] ?? "");
}

function renderStats() {
  const s = state.snapshot.stats();
  const rows = [
    ["users", s.users], ["groups", s.groups], ["memberships", s.memberships], ["tasks", s.tasks],
    ["identity links", s.identityLinks], ["IdP links", s.idpLinks], ["sequence", state.snapshot.sequence],
    ["timestamp", state.snapshot.timestamp], ["size", `${(state.size / 1024).toFixed(1)} KiB`],
  ];
  $("stats").replaceChildren(
    ...rows.map(([k, v]) => {
      const div = document.createElement("div");
      div.dataset.stat = k;
      div.innerHTML = "<dt></dt><dd></dd>";
      div.children[0].textContent = k;
      div.children[1].textContent = String(v);
      return div;
    }),
  );
  $("source").textContent = state.source;
}

/** Makes `snapshot` the loaded one (freeing the previous) and refreshes every panel. */
function use(snapshot, source, size) {
  const index = indexFor(snapshot);
  state.snapshot?.free();
  Object.assign(state, { snapshot, source, size }, index);
  fillSelect($("links-task"), state.ids.tasks);
  fillSelect($("groups-user"), state.ids.users, state.ids.users.includes("demo") ? "demo" : undefined);
  fillSelect($("idp-user"), state.ids.users, state.ids.idpUsers[0]);
  const callerSelect = $("caller-user");
  const callerKeep = callerSelect.value;
  callerSelect.replaceChildren(new Option("nobody (trusted server-side call)", ""), ...state.ids.users.slice(0, MAX_PICKER).map((u) => new Option(u, u)));
  callerSelect.value = state.ids.users.includes(callerKeep) ? callerKeep : "";
  $("link-types").replaceChildren(...state.ids.types.map((t) => new Option(t)));
  renderStats();
  runAll();
}

function showLoadError(message) {
  const box = $("load-error");
  box.hidden = !message;
  box.textContent = message ?? "";
}

/** Loads a snapshot from bytes: the binary form if it starts with the magic, else JSON. */
function loadBytes(bytes, source) {
  const binary = MAGIC.every((b, i) => bytes[i] === b);
  try {
    const next = binary ? Snapshot.fromBytes(bytes) : Snapshot.fromJson(bytes);
    use(next, source, bytes.length);
    showLoadError(null);
    return true;
  } catch (e) {
    // The previous snapshot stays loaded and usable.
    const detail = isIdentityError(e) ? `${e.status} ${STATUS_TEXT[e.status] ?? ""}\n${JSON.stringify(e.body, null, 2)}` : String(e);
    showLoadError(`${source} was refused; the previous snapshot is still loaded.\n${detail}`);
    return false;
  }
}

/** Reads a file with a progress bar, then loads it. */
function loadFile(file) {
  return new Promise((done) => {
    const bar = $("progress");
    const reader = new FileReader();
    bar.hidden = false;
    bar.value = 0;
    reader.onprogress = (e) => {
      if (e.lengthComputable) bar.value = e.loaded / e.total;
    };
    reader.onerror = () => {
      bar.hidden = true;
      showLoadError(`${file.name} could not be read: ${reader.error}`);
      done(false);
    };
    reader.onload = () => {
      bar.value = 1;
      // Let the bar paint full before a large load blocks the thread.
      setTimeout(() => {
        const ok = loadBytes(new Uint8Array(reader.result), file.name);
        bar.hidden = true;
        done(ok);
      }, 0);
    };
    reader.readAsArrayBuffer(file);
  });
}

/** The caller context from the Caller panel, or undefined for a trusted call. */
function callerContext() {
  const userId = $("caller-user").value;
  $("caller-error").hidden = true;
  if (!userId) return undefined;
  const permissions = $("caller-permissions").value.split(",").map((p) => p.trim()).filter(Boolean);
  let authorizations;
  try {
    authorizations = JSON.parse($("caller-authorizations").value || "[]");
  } catch (e) {
    $("caller-error").hidden = false;
    $("caller-error").textContent = `Camunda authorizations are not valid JSON: ${e.message}`;
    authorizations = [];
  }
  return { caller: { userId, permissions, authorizations } };
}

/** Median time of one call, over batches long enough to measure. */
function timeCall(fn) {
  const attempt = () => {
    try {
      fn();
    } catch {
      // errors are timed too
    }
  };
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) attempt();
    if (performance.now() - t0 > 8 || n >= 1 << 15) break;
    n *= 2;
  }
  const samples = [];
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) attempt();
    samples.push((performance.now() - t0) / n);
  }
  samples.sort((a, b) => a - b);
  return samples[2];
}

function formatTime(ms) {
  const us = ms * 1000;
  return us < 1000 ? `${us.toFixed(us < 10 ? 2 : 1)} µs per call` : `${ms.toFixed(2)} ms per call`;
}

/** Runs one query panel: answer or error, REST request, timing, diagram. */
function runPanel(prefix, method, request, rest, diagram) {
  const context = callerContext();
  const call = () => state.snapshot[method](request, context);
  let answer;
  let error;
  try {
    answer = call();
  } catch (e) {
    error = e;
  }
  const status = part(`${prefix}-status`);
  const code = error ? (isIdentityError(error) ? error.status : 500) : 200;
  status.textContent = `${code} ${STATUS_TEXT[code] ?? ""}`.trim();
  status.classList.toggle("failed", code !== 200);
  const body = error ? (isIdentityError(error) ? error.body : { message: String(error) }) : answer;
  part(`${prefix}-result`).textContent = JSON.stringify(body, null, 2);
  part(`${prefix}-rest`).textContent = rest;
  part(`${prefix}-time`).textContent = formatTime(timeCall(call));
  const holder = part(`${prefix}-diagram`);
  if (holder) holder.innerHTML = error || !diagram ? "" : diagram(answer);
}

const enc = encodeURIComponent;

function runLinks() {
  const taskId = $("links-task").value;
  const type = $("links-type").value;
  const request = type ? { taskId, type } : { taskId };
  const rest = `GET /engine-rest/task/${enc(taskId)}/identity-links${type ? `?type=${enc(type)}` : ""}`;
  runPanel("links", "getIdentityLinks", request, rest, (answer) => taskDiagram(taskId, answer));
}

function runGroups() {
  const userId = $("groups-user").value;
  const rest = `GET /engine-rest/identity/groups?userId=${enc(userId)}`;
  runPanel("groups", "getUserGroups", { userId }, rest, (answer) => userDiagram(userId, answer, (u) => state.memberOf.get(u) ?? []));
}

function runIdp() {
  const userId = $("idp-user").value;
  const query = { offset: String(Math.max(0, Number($("idp-offset").value) || 0)), limit: Math.max(0, Number($("idp-limit").value) || 0), asc: $("idp-asc").checked };
  const rest = `POST /v2/users/${enc(userId)}/links/_search\n${JSON.stringify({ query })}`;
  runPanel("idp", "listIdpLinks", { userId, query }, rest, null);
}

function runAll() {
  if (!state.snapshot) return;
  runLinks();
  runGroups();
  runIdp();
}

function wire() {
  for (const id of ["links-task", "links-type"]) $(id).addEventListener("input", runLinks);
  $("groups-user").addEventListener("input", runGroups);
  for (const id of ["idp-user", "idp-offset", "idp-limit", "idp-asc"]) $(id).addEventListener("input", runIdp);
  for (const id of ["caller-user", "caller-permissions", "caller-authorizations"]) $(id).addEventListener("input", runAll);
  $("file").addEventListener("change", (e) => e.target.files[0] && loadFile(e.target.files[0]));
  $("sample").addEventListener("click", loadSample);
  $("download").addEventListener("click", () => {
    const url = URL.createObjectURL(new Blob([state.snapshot.toBytes()], { type: "application/octet-stream" }));
    const a = Object.assign(document.createElement("a"), { href: url, download: "snapshot.idl" });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  const zone = $("dropzone");
  // Dropping a file anywhere must not navigate away from the page.
  for (const type of ["dragover", "drop"]) document.addEventListener(type, (e) => e.preventDefault());
  zone.addEventListener("dragover", () => zone.classList.add("over"));
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => {
    zone.classList.remove("over");
    const file = e.dataTransfer?.files?.[0];
    if (file) loadFile(file);
  });
}

async function loadSample() {
  const response = await fetch("sample-snapshot.json");
  loadBytes(new Uint8Array(await response.arrayBuffer()), "sample-snapshot.json");
}

await init();
wire();
await loadSample();
window.__demo = { ready: true, loadFile };
