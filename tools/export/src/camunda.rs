//! Reading Camunda 7's tables (its PostgreSQL DDL: camunda/camunda-bpm-platform,
//! `engine/src/main/resources/org/camunda/bpm/engine/db/create/activiti.postgres.create.identity.sql`
//! and `activiti.postgres.create.engine.sql`): users, groups and memberships from `ACT_ID_*`,
//! tasks from `ACT_RU_TASK`, their identity links from `ACT_RU_IDENTITYLINK`.
//!
//! Camunda reads a task's identity links with `select * from ACT_RU_IDENTITYLINK where TASK_ID_ =
//! ?` and no `ORDER BY` (`IdentityLink.xml`, `selectIdentityLinksByTask`), and only ever inserts
//! and deletes them, never updates them. PostgreSQL then answers in the rows' physical order
//! (`ctid`) whatever the plan: a sequential scan and a bitmap heap scan visit the heap in that
//! order, and a B-tree scan returns equal keys in heap order. That is the creation order until a
//! delete and a VACUUM free a place that a later link takes; the export follows `ctid`, and its
//! test checks the three plans and the export against each other after exactly that.
//!
//! **The source's order.** `getGroupInfo` (engine-rest `IdentityRestServiceImpl`) lists the
//! user's groups with `createGroupQuery().groupMember(userId).orderByGroupName().asc()` and each
//! group's members with `createUserQuery().memberOfGroup(groupId)`, which has no ordering and so
//! gets MyBatis' default. In camunda/camunda-bpm-platform,
//! `engine/src/main/resources/org/camunda/bpm/engine/impl/mapping/entity/Group.xml`
//! (`selectGroupByQueryCriteria`) and `User.xml` (`selectUserByQueryCriteria`) end in
//! `${orderBy}`, which `Commons.xml` (`bindOrderBy`) makes `RES.NAME_ asc` for the groups and
//! `RES.ID_ asc` (the default) for the users. PostgreSQL sorts those by the column's collation
//! (the database's default unless the column has its own), NULL names last in ascending order,
//! and returns rows that sort equal in no specified order (Camunda adds no tie-breaker). The
//! export ranks the rows with the same `ORDER BY` in a window (`dense_rank()`): equal names
//! share a rank, which identity-links breaks by id; every group carries its rank and every
//! membership its member's rank within the group.
//!
//! Links of process definitions (`PROC_DEF_ID_` set, `TASK_ID_` null) are not task links and are
//! left out. `--tenant` keeps the tasks whose `TENANT_ID_` is that tenant (and their links);
//! users, groups and memberships have no tenant column and are all exported.

use crate::db::{self, Tls, PROGRESS_EVERY};
use crate::document::{Document, Link};
use identity_links::MAX_RANK;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use std::iter::Peekable;

const WHAT: &str = "Camunda";
pub(crate) const TABLES: &[&str] = &[
    "act_id_user",
    "act_id_group",
    "act_id_membership",
    "act_ru_task",
    "act_ru_identitylink",
    "act_re_procdef",
    "act_ru_authorization",
];
pub(crate) const HINT: &str = "is this Camunda 7's database, and its schema on the search_path?";

/// Reads Camunda's tables at `url` into `doc`.
pub fn export(
    url: &str,
    tls: &Tls,
    tenant: Option<&str>,
    authorization: bool,
    doc: &mut Document,
) -> Result<(), String> {
    let mut client = db::connect(WHAT, url, tls)?;
    db::require_tables(&mut client, WHAT, TABLES, HINT)?;
    // Tasks and their links are read side by side, on two connections that see one state.
    let state = db::begin_consistent(&mut client, WHAT)?;
    let mut links_client = db::connect(WHAT, url, tls)?;
    db::join_consistent(&mut links_client, WHAT, &state)?;

    let users = client
        .query("SELECT ID_, FIRST_, LAST_ FROM ACT_ID_USER ORDER BY ID_ COLLATE \"C\"", &[])
        .map_err(|e| db::failed("ACT_ID_USER", &e))?;
    for row in &users {
        let id = db::required(row, 0, "ACT_ID_USER")?;
        doc.camunda_user(id, db::text(row, 1, "ACT_ID_USER")?, db::text(row, 2, "ACT_ID_USER")?);
    }

    doc.section("groups");
    db::each_row(&mut client, GROUPS, &[], "ACT_ID_GROUP", |row| {
        let rank = rank(row, 2, "ACT_ID_GROUP")?;
        doc.group(&db::required(row, 0, "ACT_ID_GROUP")?, db::text(row, 1, "ACT_ID_GROUP")?.as_deref(), rank);
        Ok(())
    })?;

    doc.section("memberships");
    db::each_row(&mut client, MEMBERSHIPS, &[], "ACT_ID_MEMBERSHIP", |row| {
        let rank = rank(row, 2, "ACT_ID_MEMBERSHIP")?;
        doc.membership(&db::required(row, 0, "ACT_ID_MEMBERSHIP")?, &db::required(row, 1, "ACT_ID_MEMBERSHIP")?, rank);
        Ok(())
    })?;

    doc.section("tasks");
    tasks(&mut client, &mut links_client, tenant, doc)?;

    doc.section("authorizations");
    db::each_row(&mut client, AUTHORIZATIONS, &[], "ACT_RU_AUTHORIZATION", |row| {
        const TABLE: &str = "ACT_RU_AUTHORIZATION";
        let int = |i: usize| -> Result<Option<i32>, String> { db::value(row, i, TABLE) };
        // A row without a resource id matches no check (Authorization.xml compares RESOURCE_ID_).
        let Some(resource) = db::text(row, 4, TABLE)? else { return Ok(()) };
        let (user, group) = (db::text(row, 1, TABLE)?, db::text(row, 2, TABLE)?);
        let kind = int(0)?.unwrap_or(-1);
        let resource_type = int(3)?.unwrap_or(-1);
        doc.authorization(kind, user.as_deref(), group.as_deref(), resource_type, &resource, int(5)?.unwrap_or(0));
        Ok(())
    })?;
    doc.authorization_enabled(authorization);
    client.batch_execute("COMMIT").map_err(|e| db::failed(WHAT, &e))?;
    links_client.batch_execute("COMMIT").map_err(|e| db::failed(WHAT, &e))
}

/// The authorization rows of the resource types the queries check (`Resources`: USER 1, GROUP 2,
/// PROCESS_DEFINITION 6, TASK 7), in id order (their order changes no answer). `PERMS_` null is
/// no permission; the password columns of `ACT_ID_USER` are never read (N8).
pub(crate) const AUTHORIZATIONS: &str = "SELECT TYPE_, USER_ID_, GROUP_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_ \
                              FROM ACT_RU_AUTHORIZATION WHERE RESOURCE_TYPE_ IN (1, 2, 6, 7) \
                              ORDER BY ID_ COLLATE \"C\"";

/// The groups, each with its rank in Camunda's group order (`ORDER BY RES.NAME_ asc`, Group.xml).
pub(crate) const GROUPS: &str = "SELECT RES.ID_, RES.NAME_, dense_rank() OVER (ORDER BY RES.NAME_ asc) \
                      FROM ACT_ID_GROUP RES ORDER BY RES.ID_ COLLATE \"C\"";

/// The memberships, each with its member's rank in Camunda's member order for that group
/// (`ORDER BY RES.ID_ asc`, User.xml with Commons.xml's default). A membership whose user is
/// missing (no row to rank) still reaches the loader, which refuses it by name.
pub(crate) const MEMBERSHIPS: &str = "SELECT M.USER_ID_, M.GROUP_ID_, \
                           dense_rank() OVER (PARTITION BY M.GROUP_ID_ ORDER BY RES.ID_ asc) \
                           FROM ACT_ID_MEMBERSHIP M LEFT JOIN ACT_ID_USER RES ON RES.ID_ = M.USER_ID_ \
                           ORDER BY M.USER_ID_ COLLATE \"C\", M.GROUP_ID_ COLLATE \"C\"";

/// Column `i` of `row`, a `dense_rank()`, as a snapshot's rank.
pub(crate) fn rank(row: &postgres::Row, i: usize, what: &str) -> Result<u32, String> {
    let rank: i64 = db::value(row, i, what)?;
    u32::try_from(rank)
        .ok()
        .filter(|&r| r <= MAX_RANK)
        .ok_or_else(|| format!("reading {what}: rank {rank} out of range"))
}

fn no_params() -> std::iter::Empty<&'static dyn ToSql> {
    std::iter::empty()
}

/// Tasks in id order, each with its links: two ordered streams merged by task id (byte order on
/// both sides: `COLLATE "C"` there, `str` comparison here).
fn tasks(
    client: &mut postgres::Client,
    links_client: &mut postgres::Client,
    tenant: Option<&str>,
    doc: &mut Document,
) -> Result<(), String> {
    let tenant_filter = if tenant.is_some() { " WHERE T.TENANT_ID_ = $1" } else { "" };
    // Each task's process definition key (ACT_RU_TASK.PROC_DEF_ID_ -> ACT_RE_PROCDEF.KEY_): the
    // resource id of READ_TASK (AuthorizationCommandChecker.checkTaskPermission). A standalone
    // task has none.
    let sql = format!(
        "SELECT T.ID_, T.ASSIGNEE_, T.OWNER_, D.KEY_ FROM ACT_RU_TASK T \
         LEFT JOIN ACT_RE_PROCDEF D ON D.ID_ = T.PROC_DEF_ID_{tenant_filter} ORDER BY T.ID_ COLLATE \"C\""
    );
    let params: Vec<&dyn ToSql> = tenant.iter().map(|t| t as &dyn ToSql).collect();
    let mut tasks = client.query_raw(sql.as_str(), params).map_err(|e| db::failed("ACT_RU_TASK", &e))?;
    let links_sql = "SELECT TASK_ID_, USER_ID_, GROUP_ID_, TYPE_ FROM ACT_RU_IDENTITYLINK \
                     WHERE TASK_ID_ IS NOT NULL ORDER BY TASK_ID_ COLLATE \"C\", ctid";
    let links = links_client.query_raw(links_sql, no_params()).map_err(|e| db::failed("ACT_RU_IDENTITYLINK", &e))?;
    let mut links = links.iterator().peekable();
    let mut count = 0usize;
    let mut task_links = Vec::new();
    while let Some(row) = tasks.next().map_err(|e| db::failed("ACT_RU_TASK", &e))? {
        let id = db::required(&row, 0, "ACT_RU_TASK")?;
        task_links.clear();
        links_of(&id, &mut links, &mut task_links)?;
        let assignee = db::text(&row, 1, "ACT_RU_TASK")?;
        let owner = db::text(&row, 2, "ACT_RU_TASK")?;
        let definition = db::text(&row, 3, "ACT_RE_PROCDEF")?;
        doc.task(&id, assignee.as_deref(), owner.as_deref(), definition.as_deref(), &task_links);
        let before = count;
        count += 1 + task_links.len();
        if before / PROGRESS_EVERY != count / PROGRESS_EVERY {
            eprintln!("camunda: {count} tasks and identity links read");
        }
    }
    Ok(())
}

type LinkRows<I> = Peekable<I>;

/// Moves the links of task `id` from the ordered link rows into `out`, skipping the links of
/// tasks before it (tasks of other tenants, or links whose task is gone).
fn links_of<I>(id: &str, rows: &mut LinkRows<I>, out: &mut Vec<Link>) -> Result<(), String>
where
    I: Iterator<Item = Result<postgres::Row, postgres::Error>>,
{
    const TABLE: &str = "ACT_RU_IDENTITYLINK";
    loop {
        let task = match rows.peek() {
            None => return Ok(()),
            Some(Err(_)) => {
                return Err(rows.next().and_then(Result::err).map_or_else(String::new, |e| db::failed(TABLE, &e)))
            }
            Some(Ok(row)) => db::required(row, 0, TABLE)?,
        };
        match task.as_str().cmp(id) {
            std::cmp::Ordering::Greater => return Ok(()),
            std::cmp::Ordering::Less => {
                rows.next();
            }
            std::cmp::Ordering::Equal => {
                if let Some(Ok(row)) = rows.next() {
                    out.push(Link {
                        user: db::text(&row, 1, TABLE)?,
                        group: db::text(&row, 2, TABLE)?,
                        kind: db::text(&row, 3, TABLE)?,
                    });
                }
            }
        }
    }
}
