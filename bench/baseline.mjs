// The user's alternative: a hand-written JavaScript implementation over JSON.parse and Maps,
// producing the same answers as identity-links (checked by the benchmark). Errors are thrown as
// { status, body } like IdentityError. No caller context (the benchmark measures trusted calls).

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0); // JS compares UTF-16 code units, as Java does

/** JSON.parse plus the Maps the three queries need. */
export function load(text) {
  const d = JSON.parse(text);
  const users = new Map();
  for (const u of d.users ?? []) users.set(u.id, u);
  const groups = new Map();
  for (const g of d.groups ?? []) groups.set(g.id, g);
  const tasks = new Map();
  for (const t of d.tasks ?? []) tasks.set(t.id, t);
  const groupsOf = new Map();
  const membersOf = new Map();
  for (const m of d.memberships ?? []) {
    (groupsOf.get(m.userId) ?? groupsOf.set(m.userId, []).get(m.userId)).push(groups.get(m.groupId));
    (membersOf.get(m.groupId) ?? membersOf.set(m.groupId, []).get(m.groupId)).push(users.get(m.userId));
  }
  const byName = (a, b) => (a.name === null) !== (b.name === null) ? (a.name === null ? -1 : 1) : cmp(a.name ?? "", b.name ?? "") || cmp(a.id, b.id);
  for (const list of groupsOf.values()) list.sort(byName);
  for (const list of membersOf.values()) list.sort((a, b) => cmp(a.id, b.id));
  const idpOf = new Map();
  for (const l of d.idpLinks ?? []) (idpOf.get(l.userId) ?? idpOf.set(l.userId, []).get(l.userId)).push(l);
  return { sequence: String(d.sequence ?? "0"), timestamp: d.timestamp ?? "0001-01-01T00:00:00Z", users, tasks, groupsOf, membersOf, idpOf };
}

/**
 * The plain loader a user would write first (issue 13): JSON.parse, one Map per kind, and the
 * reference checks fromJson makes (every membership, link and IdP link names a known user, group
 * or task); no sorting. Throws on a dangling reference.
 */
export function loadPlain(text) {
  const d = JSON.parse(text);
  const users = new Map();
  for (const u of d.users ?? []) users.set(u.id, u);
  const groups = new Map();
  for (const g of d.groups ?? []) groups.set(g.id, g);
  const known = (map, id, what) => {
    if (id != null && !map.has(id)) throw new Error(`unknown ${what} ${id}`);
  };
  const tasks = new Map();
  for (const t of d.tasks ?? []) {
    tasks.set(t.id, t);
    known(users, t.assignee, "user");
    known(users, t.owner, "user");
    for (const l of t.identityLinks ?? []) {
      known(users, l.userId, "user");
      known(groups, l.groupId, "group");
    }
  }
  const groupsOf = new Map();
  for (const m of d.memberships ?? []) {
    known(users, m.userId, "user");
    known(groups, m.groupId, "group");
    (groupsOf.get(m.userId) ?? groupsOf.set(m.userId, []).get(m.userId)).push(m.groupId);
  }
  const idpOf = new Map();
  for (const l of d.idpLinks ?? []) {
    known(users, l.userId, "user");
    (idpOf.get(l.userId) ?? idpOf.set(l.userId, []).get(l.userId)).push(l);
  }
  return { users, groups, tasks, groupsOf, idpOf };
}

export function getIdentityLinks(s, { taskId, type }) {
  const task = s.tasks.get(taskId);
  if (!task) throw { status: 400, body: { type: "NullValueException", message: `Cannot find task with id ${taskId}: task is null`, code: 0 } };
  const out = [];
  for (const l of task.identityLinks ?? []) {
    if (type == null || l.type === type) out.push({ userId: l.userId ?? null, groupId: l.groupId ?? null, type: l.type });
  }
  if (task.assignee != null && (type == null || type === "assignee")) out.push({ userId: task.assignee, groupId: null, type: "assignee" });
  if (task.owner != null && (type == null || type === "owner")) out.push({ userId: task.owner, groupId: null, type: "owner" });
  return out;
}

function javaHash(s) {
  let h = 0;
  if (s != null) for (let i = 0; i < s.length; i++) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

export function getUserGroups(s, { userId }) {
  if (userId == null) throw { status: 400, body: { type: "InvalidRequestException", message: "No user id was supplied", code: null } };
  const groups = s.groupsOf.get(userId) ?? [];
  // java.util.HashSet<UserDto>'s iteration order (SEMANTICS.md G5).
  let table = new Array(16).fill(null);
  let size = 0;
  const seen = new Set();
  const resize = () => {
    const next = new Array(table.length * 2).fill(null);
    for (const bucket of table) {
      if (!bucket) continue;
      for (const e of bucket) (next[e.spread & (next.length - 1)] ??= []).push(e);
    }
    table = next;
  };
  for (const g of groups) {
    for (const u of s.membersOf.get(g.id)) {
      if (u.id === userId || seen.has(u.id)) continue;
      seen.add(u.id);
      const h = (Math.imul(31, (Math.imul(31, javaHash(u.firstName)) + javaHash(u.lastName)) | 0) + javaHash(u.id)) | 0;
      const spread = (h ^ (h >>> 16)) >>> 0;
      const bucket = (table[spread & (table.length - 1)] ??= []);
      bucket.push({ spread, u });
      if (bucket.length >= 9 && table.length < 64) resize();
      if (++size > table.length * 0.75) resize();
    }
  }
  const groupUsers = [];
  for (const bucket of table) {
    if (!bucket) continue;
    for (const { u } of bucket) {
      const first = u.firstName ?? null;
      const last = u.lastName ?? null;
      const displayName = first === null && last === null ? u.id : last !== null ? `${first} ${last}` : first;
      groupUsers.push({ firstName: first, lastName: last, displayName, id: u.id });
    }
  }
  return { groups: groups.map((g) => ({ id: g.id, name: g.name ?? null })), groupUsers };
}

export function listIdpLinks(s, { userId, query = {} }, limits = { defaultLimit: 100, maxLimit: 1000 }) {
  const limit = query.limit ? query.limit : limits.defaultLimit;
  if (limit > limits.maxLimit) {
    throw { status: 400, body: { code: 3, message: "Limit exceeded (QUERY-4M0fs)", details: [{ "@type": "type.googleapis.com/zitadel.v1.ErrorDetail", id: "QUERY-4M0fs", message: "Limit exceeded" }] } };
  }
  const links = s.idpOf.get(userId) ?? [];
  const offset = Number(query.offset ?? 0);
  const page = [];
  for (let k = offset; k < offset + limit && k < links.length; k++) page.push(links[query.asc ? k : links.length - 1 - k]);
  const details = {};
  if (page.length) details.totalResult = String(links.length);
  if (s.sequence !== "0") details.processedSequence = s.sequence;
  details.timestamp = s.timestamp;
  const out = { details };
  if (page.length) out.result = page.map((l) => (l.providedUserName ? { idpId: l.idpId, userId: l.providedUserId, userName: l.providedUserName } : { idpId: l.idpId, userId: l.providedUserId }));
  return out;
}
