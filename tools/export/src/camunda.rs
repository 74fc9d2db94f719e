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
//! Links of process definitions (`PROC_DEF_ID_` set, `TASK_ID_` null) are not task links and are
//! left out. `--tenant` keeps the tasks whose `TENANT_ID_` is that tenant (and their links);
//! users, groups and memberships have no tenant column and are all exported.

use crate::db::{self, Tls, PROGRESS_EVERY};
use crate::document::{Document, Link};
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use std::iter::Peekable;

const WHAT: &str = "Camunda";
const TABLES: &[&str] = &["act_id_user", "act_id_group", "act_id_membership", "act_ru_task", "act_ru_identitylink"];
const HINT: &str = "is this Camunda 7's database, and its schema on the search_path?";

/// Reads Camunda's tables at `url` into `doc`.
pub fn export(url: &str, tls: &Tls, tenant: Option<&str>, doc: &mut Document) -> Result<(), String> {
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
    let sql = "SELECT ID_, NAME_ FROM ACT_ID_GROUP ORDER BY ID_ COLLATE \"C\"";
    db::each_row(&mut client, sql, &[], "ACT_ID_GROUP", |row| {
        doc.group(&db::required(row, 0, "ACT_ID_GROUP")?, db::text(row, 1, "ACT_ID_GROUP")?.as_deref());
        Ok(())
    })?;

    doc.section("memberships");
    let sql =
        "SELECT USER_ID_, GROUP_ID_ FROM ACT_ID_MEMBERSHIP ORDER BY USER_ID_ COLLATE \"C\", GROUP_ID_ COLLATE \"C\"";
    db::each_row(&mut client, sql, &[], "ACT_ID_MEMBERSHIP", |row| {
        doc.membership(&db::required(row, 0, "ACT_ID_MEMBERSHIP")?, &db::required(row, 1, "ACT_ID_MEMBERSHIP")?);
        Ok(())
    })?;

    doc.section("tasks");
    tasks(&mut client, &mut links_client, tenant, doc)?;
    client.batch_execute("COMMIT").map_err(|e| db::failed(WHAT, &e))?;
    links_client.batch_execute("COMMIT").map_err(|e| db::failed(WHAT, &e))
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
    let tenant_filter = if tenant.is_some() { " WHERE TENANT_ID_ = $1" } else { "" };
    let sql = format!("SELECT ID_, ASSIGNEE_, OWNER_ FROM ACT_RU_TASK{tenant_filter} ORDER BY ID_ COLLATE \"C\"");
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
        doc.task(&id, assignee.as_deref(), owner.as_deref(), &task_links);
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
