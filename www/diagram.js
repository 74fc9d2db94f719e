// Small SVG diagrams in columns: boxes for users, groups and tasks, curves for relations.

const KIND = {
  user: { fill: "#dbe7fd", stroke: "#2f6fde" },
  me: { fill: "#2f6fde", stroke: "#1d4fae", ink: "#fff" },
  group: { fill: "#d8f1de", stroke: "#1a7f37" },
  task: { fill: "#fde9cf", stroke: "#c26a00" },
};

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const clip = (s, n) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * An SVG of `columns` ([{ title, nodes: [{ key, label, sub?, kind }] }]) joined by `edges`
 * ([{ from, to, label?, labelAt? }], node keys; a label sits next to its `from` end, or its
 * `to` end with `labelAt: "to"`, so labels of edges meeting at one node do not overlap).
 * Returns SVG markup.
 */
export function columnsDiagram(columns, edges) {
  const width = 620;
  const boxW = 160;
  const boxH = 34;
  const gap = 10;
  const top = 28;
  const colX = (i) => (columns.length === 1 ? (width - boxW) / 2 : 10 + (i * (width - boxW - 20)) / (columns.length - 1));
  const tallest = Math.max(1, ...columns.map((c) => c.nodes.length));
  const height = top + tallest * (boxH + gap) + 4;
  const at = new Map();
  const parts = [];
  columns.forEach((col, i) => {
    const offset = ((tallest - col.nodes.length) * (boxH + gap)) / 2;
    parts.push(`<text x="${colX(i) + boxW / 2}" y="14" text-anchor="middle" class="label">${esc(col.title)}</text>`);
    col.nodes.forEach((node, j) => at.set(node.key, { x: colX(i), y: top + offset + j * (boxH + gap), node }));
  });
  for (const e of edges) {
    const a = at.get(e.from);
    const b = at.get(e.to);
    if (!a || !b) continue;
    const [x1, y1, x2, y2] = [a.x + boxW, a.y + boxH / 2, b.x, b.y + boxH / 2];
    const mid = (x1 + x2) / 2;
    parts.unshift(`<path class="edge" d="M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2},${y2}"/>`);
    if (e.label) {
      const [x, y, anchor] = e.labelAt === "to" ? [x2 - 4, y2 - 4, "end"] : [x1 + 4, y1 - 4, "start"];
      parts.push(`<text class="label" x="${x}" y="${y}" text-anchor="${anchor}">${esc(e.label)}</text>`);
    }
  }
  for (const { x, y, node } of at.values()) {
    const k = KIND[node.kind] ?? KIND.user;
    const ink = k.ink ? ` style="fill:${k.ink}"` : "";
    parts.push(
      `<g class="node" data-key="${esc(node.key)}"><title>${esc(node.title ?? node.label)}</title>` +
        `<rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="7" fill="${k.fill}" stroke="${k.stroke}"/>` +
        `<text x="${x + 8}" y="${y + (node.sub ? 14 : 21)}"${ink}>${esc(clip(node.label, 26))}</text>` +
        (node.sub ? `<text x="${x + 8}" y="${y + 27}" class="label"${ink}>${esc(clip(node.sub, 30))}</text>` : "") +
        `</g>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" role="img">${parts.join("")}</svg>`;
}

/** A user, their groups, and the users sharing them (`memberOf(id)` lists a user's group ids). */
export function userDiagram(userId, answer, memberOf) {
  const groups = answer.groups.map((g) => ({ key: `g:${g.id}`, label: g.name ?? g.id, sub: g.name === null ? "(no name)" : g.id, kind: "group" }));
  const users = answer.groupUsers.map((u) => ({ key: `u:${u.id}`, label: u.displayName, sub: u.id, kind: "user" }));
  const edges = answer.groups.map((g) => ({ from: `me:${userId}`, to: `g:${g.id}` }));
  const shown = new Set(answer.groups.map((g) => g.id));
  for (const u of answer.groupUsers) {
    for (const g of memberOf(u.id)) if (shown.has(g)) edges.push({ from: `g:${g}`, to: `u:${u.id}` });
  }
  return columnsDiagram(
    [
      { title: "user", nodes: [{ key: `me:${userId}`, label: userId, kind: "me" }] },
      { title: `groups (${groups.length})`, nodes: groups },
      { title: `sharing a group (${users.length})`, nodes: users },
    ],
    edges,
  );
}

/** A task with its assignee, owner, candidate users (left) and groups (right). */
export function taskDiagram(taskId, links) {
  const users = new Map();
  const groups = new Map();
  // One edge per user or group, labelled with every type that links it (once each).
  const types = new Map();
  for (const l of links) {
    const key = l.userId !== null ? `u:${l.userId}` : `g:${l.groupId}`;
    if (l.userId !== null) users.set(l.userId, { key, label: l.userId, kind: "user" });
    else groups.set(l.groupId, { key, label: l.groupId, kind: "group" });
    if (!types.has(key)) types.set(key, new Set());
    types.get(key).add(l.type);
  }
  const edges = [...types].map(([key, set]) => {
    const label = [...set].join(", ");
    return key.startsWith("u:") ? { from: key, to: `t:${taskId}`, label } : { from: `t:${taskId}`, to: key, label, labelAt: "to" };
  });
  return columnsDiagram(
    [
      { title: "users", nodes: [...users.values()] },
      { title: "task", nodes: [{ key: `t:${taskId}`, label: taskId, kind: "task" }] },
      { title: "groups", nodes: [...groups.values()] },
    ],
    edges,
  );
}
