//! Following Camunda 7's tables. Camunda's tables keep no record of deletions, and the identity
//! links none of anything (`ACT_RU_IDENTITYLINK` has no timestamp), so each step takes a
//! fingerprint of every table the snapshot reads, in one consistent state, diffs it against the
//! last one and re-reads only the keys that changed, in that same state
//! (camunda/camunda-bpm-platform, `engine/src/main/resources/org/camunda/bpm/engine/db/create/
//! activiti.postgres.create.engine.sql` and `activiti.postgres.create.identity.sql`):
//!
//! - `ACT_RU_TASK` `ID_`, `REV_` (Camunda's optimistic locking raises `REV_` with every update
//!   of the row: an assignee, an owner) and the digest of the task's links: `ACT_RU_IDENTITYLINK`
//!   `ID_` in physical order (`ctid`) for its `TASK_ID_`. Links are only inserted and deleted,
//!   so the ids in physical order are the list Camunda reads: a link added, a link deleted, a
//!   VACUUM's freed place taken by a new link each change the digest. A completed task is a row
//!   gone. A changed task is re-read with its links.
//! - `ACT_ID_USER` `ID_`, `REV_`: the changed users are re-read; the groups they are members of
//!   have their member ranks re-read (a user row appearing or going changes them).
//! - `ACT_ID_GROUP` `ID_`, `REV_`: any change re-reads every group, because a group's rank is
//!   its place among all the names (a renamed group moves the others).
//! - `ACT_ID_MEMBERSHIP` (`USER_ID_`, `GROUP_ID_`), which has no revision: the set is diffed; the
//!   groups with a membership added or removed have their members re-read with their ranks.
//! - `ACT_RU_AUTHORIZATION` `ID_`, `REV_` (resource types 1, 2, 6, 7): the changed rows re-read.
//!
//! `LAST_UPDATED_` (7.19+) and `CREATE_TIME_` of `ACT_RU_TASK` would name the tasks updated or
//! created since a time, but not the tasks completed (deleted) nor the tasks whose links changed
//! (a link insert does not touch the task's row), so they cannot replace the diff; `REV_` names
//! every update exactly without depending on clocks.

use super::model::{diff, Authorization, Camunda, CamundaUser, Task, TaskPrint};
use crate::camunda::{rank, HINT, TABLES};
use crate::db::{self, Tls};
use crate::document::Link;
use postgres::types::ToSql;
use postgres::Client;
use std::collections::{BTreeSet, HashMap};

const WHAT: &str = "Camunda";

/// A connection to Camunda's database that follows it.
pub struct Source {
    client: Client,
    tenant: Option<String>,
}

impl Source {
    pub fn connect(url: &str, tls: &Tls, tenant: Option<&str>) -> Result<Source, String> {
        let mut client = db::connect(WHAT, url, tls)?;
        db::require_tables(&mut client, WHAT, TABLES, HINT)?;
        Ok(Source { client, tenant: tenant.map(str::to_owned) })
    }

    /// One step: the fingerprints of one consistent state diffed against `m`'s, the changed keys
    /// re-read into `m`. The number of keys that changed (every key on an empty model).
    pub fn step(&mut self, m: &mut Camunda) -> Result<usize, String> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| db::failed(WHAT, &e))?;
        let changed = self.read(m);
        let end = if changed.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.client.batch_execute(end).map_err(|e| db::failed(WHAT, &e))?;
        changed
    }

    fn read(&mut self, m: &mut Camunda) -> Result<usize, String> {
        let c = &mut self.client;
        let mut count = 0;

        // Users.
        let revs = revisions(c, "SELECT ID_, REV_ FROM ACT_ID_USER", &[], "ACT_ID_USER")?;
        let (users, gone) = diff(&m.user_revs, &revs);
        count += users.len() + gone.len();
        for id in &gone {
            m.users.remove(id);
        }
        let sql = "SELECT ID_, FIRST_, LAST_ FROM ACT_ID_USER WHERE ID_ = ANY($1)";
        for row in c.query(sql, &[&users]).map_err(|e| db::failed("ACT_ID_USER", &e))? {
            let id = db::required(&row, 0, "ACT_ID_USER")?;
            let user =
                CamundaUser { first: db::text(&row, 1, "ACT_ID_USER")?, last: db::text(&row, 2, "ACT_ID_USER")? };
            m.users.insert(id, user);
        }
        m.user_revs = revs;
        let touched_users: BTreeSet<String> = users.into_iter().chain(gone).collect();

        // Groups: any change re-reads them all (a rank is a place among all the names).
        let revs = revisions(c, "SELECT ID_, REV_ FROM ACT_ID_GROUP", &[], "ACT_ID_GROUP")?;
        let (groups, gone) = diff(&m.group_revs, &revs);
        if !groups.is_empty() || !gone.is_empty() {
            count += groups.len() + gone.len();
            m.groups.clear();
            db::each_row(c, crate::camunda::GROUPS, &[], "ACT_ID_GROUP", |row| {
                let rank = rank(row, 2, "ACT_ID_GROUP")?;
                let name = db::text(row, 1, "ACT_ID_GROUP")?;
                m.groups.insert(db::required(row, 0, "ACT_ID_GROUP")?, (name, rank));
                Ok(())
            })?;
        }
        m.group_revs = revs;

        // Memberships: the set diffed; the groups touched re-read with their members' ranks.
        let mut now = BTreeSet::new();
        db::each_row(c, "SELECT USER_ID_, GROUP_ID_ FROM ACT_ID_MEMBERSHIP", &[], "ACT_ID_MEMBERSHIP", |row| {
            now.insert((db::required(row, 0, "ACT_ID_MEMBERSHIP")?, db::required(row, 1, "ACT_ID_MEMBERSHIP")?));
            Ok(())
        })?;
        let mut touched: BTreeSet<String> = BTreeSet::new();
        for key in m.memberships.keys().filter(|k| !now.contains(*k)) {
            touched.insert(key.1.clone());
        }
        for key in now.iter().filter(|k| !m.memberships.contains_key(*k)) {
            touched.insert(key.1.clone());
        }
        count += touched.len();
        for (user, group) in &now {
            if touched_users.contains(user) {
                touched.insert(group.clone());
            }
        }
        if !touched.is_empty() {
            m.memberships.retain(|(_, group), _| !touched.contains(group));
            let groups: Vec<String> = touched.into_iter().collect();
            let sql = "SELECT M.USER_ID_, M.GROUP_ID_, \
                       dense_rank() OVER (PARTITION BY M.GROUP_ID_ ORDER BY RES.ID_ asc) \
                       FROM ACT_ID_MEMBERSHIP M LEFT JOIN ACT_ID_USER RES ON RES.ID_ = M.USER_ID_ \
                       WHERE M.GROUP_ID_ = ANY($1)";
            db::each_row(c, sql, &[&groups], "ACT_ID_MEMBERSHIP", |row| {
                let rank = rank(row, 2, "ACT_ID_MEMBERSHIP")?;
                let key = (db::required(row, 0, "ACT_ID_MEMBERSHIP")?, db::required(row, 1, "ACT_ID_MEMBERSHIP")?);
                m.memberships.insert(key, rank);
                Ok(())
            })?;
        }

        // Tasks with their links' digests.
        let prints = task_prints(c, self.tenant.as_deref())?;
        let (tasks, gone) = diff(&m.task_prints, &prints);
        count += tasks.len() + gone.len();
        for id in &gone {
            m.tasks.remove(id);
        }
        if !tasks.is_empty() {
            read_tasks(c, &tasks, m)?;
        }
        m.task_prints = prints;

        // Authorizations.
        let sql = "SELECT ID_, REV_ FROM ACT_RU_AUTHORIZATION WHERE RESOURCE_TYPE_ IN (1, 2, 6, 7)";
        let revs = revisions(c, sql, &[], "ACT_RU_AUTHORIZATION")?;
        let (rows, gone) = diff(&m.authorization_revs, &revs);
        count += rows.len() + gone.len();
        for id in rows.iter().chain(&gone) {
            m.authorizations.remove(id);
        }
        if !rows.is_empty() {
            read_authorizations(c, &rows, m)?;
        }
        m.authorization_revs = revs;
        Ok(count)
    }
}

/// `id → REV_` of every row `sql` selects.
fn revisions(
    c: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    what: &str,
) -> Result<HashMap<String, Option<i32>>, String> {
    let mut out = HashMap::new();
    db::each_row(c, sql, params, what, |row| {
        let rev: Option<i32> = row.try_get(1).map_err(|e| format!("reading {what}: {}", db::error_chain(&e)))?;
        out.insert(db::required(row, 0, what)?, rev);
        Ok(())
    })?;
    Ok(out)
}

/// Every task's `REV_` and the digest of its links' ids in physical order (each id with its
/// length, so that no two lists have one text).
fn task_prints(c: &mut Client, tenant: Option<&str>) -> Result<HashMap<String, TaskPrint>, String> {
    let filter = if tenant.is_some() { " WHERE T.TENANT_ID_ = $1" } else { "" };
    let sql = format!(
        "SELECT T.ID_, T.REV_, L.LINKS FROM ACT_RU_TASK T LEFT JOIN \
         (SELECT TASK_ID_, md5(string_agg(length(ID_) || ':' || ID_, ',' ORDER BY ctid)) AS LINKS \
          FROM ACT_RU_IDENTITYLINK WHERE TASK_ID_ IS NOT NULL GROUP BY TASK_ID_) L ON L.TASK_ID_ = T.ID_{filter}"
    );
    let mut out = HashMap::new();
    let params: Vec<&(dyn ToSql + Sync)> = tenant.iter().map(|t| t as &(dyn ToSql + Sync)).collect();
    db::each_row(c, &sql, &params, "ACT_RU_TASK", |row| {
        let rev: Option<i32> = row.try_get(1).map_err(|e| format!("reading ACT_RU_TASK: {}", db::error_chain(&e)))?;
        out.insert(db::required(row, 0, "ACT_RU_TASK")?, (rev, db::text(row, 2, "ACT_RU_IDENTITYLINK")?));
        Ok(())
    })?;
    Ok(out)
}

/// Re-reads tasks `ids` (their rows, definitions' keys and links in physical order) into `m`.
fn read_tasks(c: &mut Client, ids: &[String], m: &mut Camunda) -> Result<(), String> {
    let sql = "SELECT T.ID_, T.ASSIGNEE_, T.OWNER_, D.KEY_ FROM ACT_RU_TASK T \
               LEFT JOIN ACT_RE_PROCDEF D ON D.ID_ = T.PROC_DEF_ID_ WHERE T.ID_ = ANY($1)";
    db::each_row(c, sql, &[&ids], "ACT_RU_TASK", |row| {
        let task = Task {
            assignee: db::text(row, 1, "ACT_RU_TASK")?,
            owner: db::text(row, 2, "ACT_RU_TASK")?,
            definition: db::text(row, 3, "ACT_RE_PROCDEF")?,
            links: Vec::new(),
        };
        m.tasks.insert(db::required(row, 0, "ACT_RU_TASK")?, task);
        Ok(())
    })?;
    let sql = "SELECT TASK_ID_, USER_ID_, GROUP_ID_, TYPE_ FROM ACT_RU_IDENTITYLINK \
               WHERE TASK_ID_ = ANY($1) ORDER BY TASK_ID_, ctid";
    const TABLE: &str = "ACT_RU_IDENTITYLINK";
    db::each_row(c, sql, &[&ids], TABLE, |row| {
        let task = db::required(row, 0, TABLE)?;
        let link =
            Link { user: db::text(row, 1, TABLE)?, group: db::text(row, 2, TABLE)?, kind: db::text(row, 3, TABLE)? };
        if let Some(t) = m.tasks.get_mut(&task) {
            t.links.push(link);
        }
        Ok(())
    })
}

/// Re-reads the authorization rows `ids` into `m` (a row without a resource id matches no check
/// and is left out, as the one-shot export leaves it out).
fn read_authorizations(c: &mut Client, ids: &[String], m: &mut Camunda) -> Result<(), String> {
    const TABLE: &str = "ACT_RU_AUTHORIZATION";
    let sql = "SELECT ID_, TYPE_, USER_ID_, GROUP_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_ \
               FROM ACT_RU_AUTHORIZATION WHERE ID_ = ANY($1) AND RESOURCE_TYPE_ IN (1, 2, 6, 7)";
    db::each_row(c, sql, &[&ids], TABLE, |row| {
        let int = |i: usize| -> Result<Option<i32>, String> {
            row.try_get(i).map_err(|e| format!("reading {TABLE}: {}", db::error_chain(&e)))
        };
        let Some(resource) = db::text(row, 5, TABLE)? else { return Ok(()) };
        let a = Authorization {
            kind: int(1)?.unwrap_or(-1),
            user: db::text(row, 2, TABLE)?,
            group: db::text(row, 3, TABLE)?,
            resource_type: int(4)?.unwrap_or(-1),
            resource,
            perms: int(6)?.unwrap_or(0),
        };
        m.authorizations.insert(db::required(row, 0, TABLE)?, a);
        Ok(())
    })
}
