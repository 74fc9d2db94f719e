// A generated data set (bench/generate.mjs) loaded into the peers' tables (tests/export/schema.mjs)
// of a database that has them: Camunda's users, groups, memberships, tasks and identity links,
// and Zitadel's users (those with an organisation) and IdP links, in Zitadel instance `instance`.
// Shared by bench/export.mjs (the exporter's rate and --follow at 1M links) and bench/pipeline.mjs
// (end to end at 1M links).

/** A COPY ... FROM stdin block of `rows` (arrays of values; null is \N). */
function copy(table, columns, rows) {
  const cell = (v) => (v === null || v === undefined ? "\\N" : String(v).replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n"));
  return `COPY ${table} (${columns}) FROM stdin;\n${rows.map((r) => r.map(cell).join("\t")).join("\n")}\n\\.\n`;
}

/**
 * Loads `data` into database `db` through `psql(db, sql)`, then VACUUM ANALYZE; the number of
 * rows loaded and of identity links among them.
 */
export function loadData(psql, db, data, instance) {
  psql(db, copy("ACT_ID_USER", "ID_, REV_, FIRST_, LAST_", data.users.map((u) => [u.id, 1, u.firstName, u.lastName])));
  psql(db, copy("ACT_ID_GROUP", "ID_, REV_, NAME_", data.groups.map((g) => [g.id, 1, g.name])));
  psql(db, copy("ACT_ID_MEMBERSHIP", "USER_ID_, GROUP_ID_", data.memberships.map((m) => [m.userId, m.groupId])));
  psql(db, copy("ACT_RU_TASK", "ID_, REV_, ASSIGNEE_, OWNER_", data.tasks.map((t) => [t.id, 1, t.assignee, t.owner])));
  let link = 0;
  const links = data.tasks.flatMap((t) => (t.identityLinks ?? []).map((l) => [`l${link++}`, 1, l.groupId, l.type, l.userId, t.id]));
  psql(db, copy("ACT_RU_IDENTITYLINK", "ID_, REV_, GROUP_ID_, TYPE_, USER_ID_, TASK_ID_", links));
  const users = data.users.filter((u) => u.org !== undefined);
  psql(db, copy("projections.users14", "id, creation_date, resource_owner, instance_id, type", users.map((u, i) => [u.id, new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(), u.org, instance, 1])));
  psql(db, copy("projections.users14_humans", "user_id, instance_id, first_name, last_name", users.map((u) => [u.id, instance, u.firstName, u.lastName])));
  psql(db, copy("projections.idp_user_links3", "idp_id, user_id, external_user_id, creation_date, sequence, resource_owner, instance_id, display_name",
    data.idpLinks.map((l, i) => [l.idpId, l.userId, l.providedUserId, new Date(Date.UTC(2024, 5, 1) + i * 1000).toISOString(), i + 1, "org", instance, l.providedUserName])));
  psql(db, "vacuum analyze;");
  const rows = data.users.length + data.groups.length + data.memberships.length + data.tasks.length + links.length + data.idpLinks.length;
  return { rows, links: links.length };
}
