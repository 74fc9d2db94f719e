// Deterministic synthetic snapshots at three scales, with realistic skew: a few users in hundreds
// of groups, a few groups of thousands of members, users with many IdP links, and two heavy
// fixtures — "heavy-user" in 100 groups of 1,000 members, and "idp-heavy" with 10,000 IdP links.
//
// Usage: node bench/generate.mjs S|M|L > snapshot.json   (or import { generate })

/** Scales by stored identity links: S ≈ 10k, M ≈ 100k, L ≈ 1M; XS (no heavy fixtures) is the
 * ~1 MB binary snapshot of the cold-start measurements. */
export const SCALES = {
  XS: { users: 3_000, groups: 300, tasks: 3_000, memberships: 20_000, idpLinks: 6_000, light: true },
  S: { users: 3_000, groups: 300, tasks: 2_000, memberships: 20_000, idpLinks: 5_000 },
  M: { users: 30_000, groups: 2_000, tasks: 20_000, memberships: 200_000, idpLinks: 50_000 },
  L: { users: 300_000, groups: 10_000, tasks: 200_000, memberships: 1_000_000, idpLinks: 500_000 },
};

/**
 * Light snapshots (no heavy fixtures) of about 5 MB and 100 MB of JSON: the sizes the load-time
 * scaling target names (load time per MB at 100 MB within 1.5× of that at 5 MB). XS's shape,
 * scaled.
 */
/**
 * The edge scale: 1,000,000 identity links (333,333 tasks with UUID ids, 3 links each), 50,000
 * users with e-mail-like ids, 5,000 groups, ~500k memberships, 100,000 IdP links — the size an
 * edge isolate (128 MB in all) must serve.
 */
SCALES.edge = { users: 50_000, groups: 5_000, tasks: 333_333, memberships: 500_000, idpLinks: 100_000, light: true, edge: true };

/**
 * The object-dense shape a new user tries first (issue 13): short ids (`user-123`, `task-456`),
 * many small objects, some null names — ~10 MB of JSON, no heavy fixtures.
 */
SCALES.dense = { users: 5_000, groups: 500, tasks: 33_000, memberships: 50_000, idpLinks: 25_000, light: true, short: true, links: 2 };

for (const [name, factor] of [["5MB", 1.6], ["100MB", 32]]) {
  SCALES[name] = Object.fromEntries(Object.entries(SCALES.XS).map(([k, v]) => [k, typeof v === "number" ? Math.round(v * factor) : v]));
}

/** mulberry32: a small seeded PRNG, so every run generates the same snapshot. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken", "Dennis", "Margaret", "Linus", "Guido", "Bjarne", "Frances", "Radia", "Tim", "Vint", "Anita", "Mary", "John", "Peter", "Sophie", "Élodie", "Jürgen", "Zoë", "Søren"];
const LAST = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Thompson", "Ritchie", "Hamilton", "Torvalds", "van Rossum", "Stroustrup", "Allen", "Perlman", "Berners-Lee", "Cerf", "Borg", "Anne", "Doe", "Meter", "Müller", "O'Brien", "Ñúñez"];
const TYPES = ["candidate", "candidate", "candidate", "candidate", "participant", "approver", "watcher"];
const IDPS = ["google", "github", "azure-ad", "okta", "gitlab", "keycloak"];

/** The snapshot document for `scale` (a key of SCALES). */
export function generate(scale) {
  const n = SCALES[scale];
  const rand = rng(0x1d3a + scale.charCodeAt(0));
  const pick = (items) => items[Math.floor(rand() * items.length)];
  // Skewed choice of an index in 0..count: small indexes are chosen far more often (Zipf-like).
  const skewed = (count) => Math.min(count - 1, Math.floor(count * Math.pow(rand(), 3)));
  const pad = (i, w) => String(i).padStart(w, "0");
  const hex = (digits) => Array.from({ length: digits }, () => Math.floor(rand() * 16).toString(16)).join("");
  const uuid = () => `${hex(8)}-${hex(4)}-4${hex(3)}-${(8 + Math.floor(rand() * 4)).toString(16)}${hex(3)}-${hex(12)}`;

  const users = [];
  for (let i = 0; i < n.users; i++) {
    const named = rand() > 0.05;
    users.push({
      id: n.edge ? `${pick(FIRST).toLowerCase()}.${pick(LAST).toLowerCase().replace(/[^a-z]/g, "")}.${i}@example.com` : n.short ? `user-${i}` : `user-${pad(i, 6)}`,
      firstName: named ? pick(FIRST) : null,
      lastName: named && rand() > 0.1 ? pick(LAST) : null,
      org: `org-${i % 50}`,
    });
  }
  if (!n.light) {
    users.push({ id: "heavy-user", firstName: "Heavy", lastName: "User", org: "org-0" });
    users.push({ id: "idp-heavy", firstName: "Idp", lastName: "Heavy", org: "org-0" });
  }

  const groups = [];
  for (let i = 0; i < n.groups; i++) groups.push({ id: n.short ? `group-${i}` : `group-${pad(i, 5)}`, name: rand() > 0.03 ? `Team ${pick(LAST)} ${i % 97}` : null });
  if (!n.light) for (let i = 0; i < 100; i++) groups.push({ id: `heavy-group-${pad(i, 3)}`, name: `Heavy ${pad(i, 3)}` });

  const seen = new Set();
  const memberships = [];
  const member = (u, g) => {
    const key = `${u}\u0000${g}`;
    if (!seen.has(key)) {
      seen.add(key);
      memberships.push({ userId: u, groupId: g });
    }
  };
  while (memberships.length < n.memberships) member(users[skewed(n.users)].id, groups[skewed(n.groups)].id);
  // heavy-user in 100 groups of 1,000 members each.
  for (let g = 0; g < (n.light ? 0 : 100); g++) {
    const group = `heavy-group-${pad(g, 3)}`;
    member("heavy-user", group);
    for (let k = 0; k < 999; k++) member(users[(g * 7919 + k * 31) % n.users].id, group);
  }

  const tasks = [];
  for (let i = 0; i < n.tasks; i++) {
    const links = [];
    const count = n.links ?? (n.edge ? 3 : 1 + Math.floor(rand() * 9));
    for (let k = 0; k < count; k++) {
      if (rand() < 0.55) links.push({ userId: null, groupId: groups[skewed(n.groups)].id, type: pick(TYPES) });
      else links.push({ userId: users[skewed(n.users)].id, groupId: null, type: pick(TYPES) });
    }
    tasks.push({
      id: n.edge ? uuid() : n.short ? `task-${i}` : `task-${pad(i, 7)}`,
      assignee: rand() < 0.6 ? users[skewed(n.users)].id : null,
      owner: rand() < 0.3 ? users[skewed(n.users)].id : null,
      identityLinks: links,
    });
  }

  const idpLinks = [];
  for (let i = 0; i < n.idpLinks; i++) {
    const u = users[skewed(n.users)];
    const idp = pick(IDPS);
    idpLinks.push({ userId: u.id, idpId: `idp-${idp}`, providedUserId: n.short ? `${idp}-${i}` : `${idp}-${pad(i, 9)}`, providedUserName: rand() < 0.1 ? "" : `${u.id}@${idp}.example` });
  }
  for (let i = 0; i < (n.light ? 0 : 10_000); i++) {
    idpLinks.push({ userId: "idp-heavy", idpId: `idp-${IDPS[i % IDPS.length]}`, providedUserId: `heavy-${pad(i, 6)}`, providedUserName: `heavy${i}@example.com` });
  }

  return { version: 1, sequence: "987654321", timestamp: "2025-06-01T12:00:00.123Z", users, groups, memberships, tasks, idpLinks };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify(generate(process.argv[2] ?? "S")));
}
