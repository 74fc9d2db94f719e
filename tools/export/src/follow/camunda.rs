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
//! - `ACT_ID_MEMBERSHIP` (`USER_ID_`, `GROUP_ID_`), which has no revision: the set is diffed,
//!   bucket by bucket (by the hash of the group's id); the groups with a membership added or
//!   removed have their members re-read with their ranks.
//! - `ACT_RU_AUTHORIZATION` `ID_`, `REV_` (resource types 1, 2, 6, 7): the changed rows re-read.
//!
//! A step reads nothing when no transaction has ended since the last step read
//! ([`db::ended_transactions`]: the database is as that step saw it). Otherwise every table's
//! fingerprint is read only when the table's gate changed: a count and a sum of hashes of every
//! row version's `ctid` and `xmin`, one scan without grouping or sorting. An insert, update or
//! delete changes a row version's place or writer, so an equal gate means the table is as it was
//! at the last read; a rewrite of the table (VACUUM FULL, CLUSTER) changes the gate without a
//! change: a false alarm, and the fingerprint is read as before. The three large tables (tasks,
//! links, memberships) go further: when the table's gate changed, a gate per
//! bucket (1,024, by the hash of the task's id for tasks and links, so that a task and its links
//! share a bucket, and of the group's id for memberships) names the buckets whose fingerprints
//! are read again, so one task or membership changed re-reads about a thousandth of them
//! (bench/RESULTS.md, at 1M links). Before PostgreSQL 11 (no `hashtextextended`) every step reads
//! every fingerprint, all in one bucket.
//!
//! `LAST_UPDATED_` (7.19+) and `CREATE_TIME_` of `ACT_RU_TASK` would name the tasks updated or
//! created since a time, but not the tasks completed (deleted) nor the tasks whose links changed
//! (a link insert does not touch the task's row), so they cannot replace the diff; `REV_` names
//! every update exactly without depending on clocks.

use super::model::{diff, Authorization, Camunda, CamundaUser, Gate, Task};
use super::wal::{self, EndedTransactions, Op, Peeked, Slot, Table};
use crate::camunda::{rank, HINT, TABLES};
use crate::db::{self, Tls};
use crate::document::{write_task, Link};
use postgres::types::ToSql;
use postgres::{Client, Row};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

const WHAT: &str = "Camunda";

/// How many buckets the tasks' and links' gates are split into once a table's gate changed.
const BUCKETS: i32 = 1024;

/// A row version's hash in a gate: its place (`ctid`) hashed with its writer (`xmin`) as the
/// seed, where the server has `hashtidextended` (asked when connecting; PostgreSQL 15 here): at
/// 1M links a third less than hashing the two as one text, [`ROW_VERSION_AS_TEXT`].
const ROW_VERSION: &str = "hashtidextended(ctid, xmin::text::bigint)";

/// [`ROW_VERSION`] on a server without `hashtidextended`: the place and the writer as one text.
const ROW_VERSION_AS_TEXT: &str = "hashtextextended(ctid::text || ':' || xmin::text, 0)";

/// Buckets whose fingerprints are to be read again, and the gates to store once they are: the
/// table's, and each bucket's (none without gates on the server).
type Changed = (BTreeSet<i32>, Option<(Gate, HashMap<i32, Gate>)>);

/// Where a step moves the slot (`--wal-slot`) once its transaction committed.
enum SlotTo {
    Stay,
    /// Past the transactions the step read (to the last one's commit).
    Advance(String),
    /// Past the log that holds nothing for it ([`Slot::catch_up`]).
    CatchUp,
}

/// Bucket → key → value: what a step read of the buckets it re-read.
type ByBucket<V> = HashMap<i32, HashMap<String, V>>;

/// A connection to Camunda's database that follows it.
pub struct Source {
    client: Client,
    tenant: Option<String>,
    /// Whether the server has `hashtextextended` (PostgreSQL 11+), which the gates use.
    gates: bool,
    /// How a gate hashes a row version on this server ([`ROW_VERSION`] or
    /// [`ROW_VERSION_AS_TEXT`]).
    row_version: &'static str,
    /// How this server says which transactions have ended ([`db::snapshot_function`]).
    snapshot: &'static str,
    /// `--wal-slot`: the changes read from the log ([`wal`]) instead of the gates.
    wal: Option<Slot>,
}

impl Source {
    pub fn connect(url: &str, tls: &Tls, tenant: Option<&str>, wal: Option<Slot>) -> Result<Source, String> {
        let mut client = db::connect(WHAT, url, tls)?;
        db::require_tables(&mut client, WHAT, TABLES, HINT)?;
        // Before the first read: the changes committed after it are then in the slot.
        if let Some(slot) = &wal {
            slot.ensure(&mut client, WHAT)?;
        }
        let gates = db::has_function(&mut client, WHAT, "hashtextextended(text,bigint)")?;
        let row_version = if db::has_function(&mut client, WHAT, "hashtidextended(tid,bigint)")? {
            ROW_VERSION
        } else {
            ROW_VERSION_AS_TEXT
        };
        let snapshot = db::snapshot_function(&mut client, WHAT)?;
        Ok(Source { client, tenant: tenant.map(str::to_owned), gates, row_version, snapshot, wal })
    }

    /// `table`'s gate now (over the rows `filter`, a WHERE clause or nothing, keeps), and whether
    /// it differs from the one its fingerprint was last read at (always, without gates). The
    /// gate goes into `m.gates` once the fingerprint is read.
    fn gate(
        &mut self,
        held: Option<&Gate>,
        table: &'static str,
        filter: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<(Option<Gate>, bool), String> {
        if !self.gates {
            return Ok((None, true));
        }
        let sql = format!("SELECT count(*), coalesce(sum({}), 0)::text FROM {table}{filter}", self.row_version);
        let row = self.client.query_one(&sql, params).map_err(|e| db::failed(table, &e))?;
        let gate: Gate = (row.get(0), row.get(1));
        let changed = held != Some(&gate);
        Ok((Some(gate), changed))
    }

    /// The rows of `table` (`ID_` → `REV_`, of those `filter` keeps) added or changed, and
    /// those gone, since `held` was read, `held` made theirs; nothing read, none of either, when
    /// the table's gate is as `gates` holds it (at 1M links, 50,000 users' revisions took
    /// ~100 ms of every step, their gate ~5 ms).
    fn changed_revisions(
        &mut self,
        gates: &mut HashMap<&'static str, Gate>,
        held: &mut HashMap<String, Option<i32>>,
        table: &'static str,
        filter: &str,
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let (gate, changed) = self.gate(gates.get(table), table, filter, &[])?;
        if !changed {
            return Ok((Vec::new(), Vec::new()));
        }
        let revs = revisions(&mut self.client, &format!("SELECT ID_, REV_ FROM {table}{filter}"), &[], table)?;
        let found = diff(held, &revs);
        *held = revs;
        if let Some(gate) = gate {
            gates.insert(table, gate);
        }
        Ok(found)
    }

    /// The bucket of `column`'s value, as SQL: its hash's low bits (0 for every row without gates).
    fn bucket(&self, column: &str) -> String {
        if self.gates {
            format!("(hashtextextended({column}, 0) & {})::int", BUCKETS - 1)
        } else {
            "0".to_owned()
        }
    }

    /// The buckets of `table`'s rows (by the hash of `key`; those `filter` keeps, `$1` its
    /// parameter) changed since `m` read them: none when the table's gate is as it was; else
    /// those whose gate differs (one grouped scan). Without gates: bucket 0, every row, always.
    fn changed_buckets(
        &mut self,
        m: &Camunda,
        table: &'static str,
        key: &str,
        filter: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Changed, String> {
        let rows = format!(" WHERE {key} IS NOT NULL{filter}");
        let (whole, changed) = self.gate(m.gates.get(table), table, &rows, params)?;
        let Some(whole) = whole else { return Ok(([0].into(), None)) };
        if !changed {
            return Ok((BTreeSet::new(), None));
        }
        let sql = format!(
            "SELECT {}, count(*), sum({})::text FROM {table}{rows} GROUP BY 1",
            self.bucket(key),
            self.row_version
        );
        let mut gates: HashMap<i32, Gate> = HashMap::new();
        db::each_row(&mut self.client, &sql, params, table, |row| {
            gates.insert(db::value(row, 0, table)?, (db::value(row, 1, table)?, db::value(row, 2, table)?));
            Ok(())
        })?;
        let empty = HashMap::new();
        let old = m.buckets.get(table).unwrap_or(&empty);
        let mut buckets: BTreeSet<i32> =
            gates.iter().filter(|(b, g)| old.get(*b) != Some(*g)).map(|(b, _)| *b).collect();
        buckets.extend(old.keys().filter(|b| !gates.contains_key(*b)));
        Ok((buckets, Some((whole, gates))))
    }

    /// The `REV_` of the tasks in `buckets` (of the tenant, if one is named), by bucket.
    fn task_revisions(&mut self, buckets: &BTreeSet<i32>) -> Result<ByBucket<Option<i32>>, String> {
        let bucket = self.bucket("ID_");
        let tenant = self.tenant.clone();
        let (filter, params): (&str, Vec<&(dyn ToSql + Sync)>) = match &tenant {
            Some(t) => (" AND TENANT_ID_ = $2", vec![t]),
            None => ("", Vec::new()),
        };
        let sql = format!("SELECT ID_, {bucket}, REV_ FROM ACT_RU_TASK WHERE {bucket} = ANY($1){filter}");
        self.by_bucket(buckets, &sql, &params, "ACT_RU_TASK", |row| db::value(row, 2, "ACT_RU_TASK"))
    }

    /// The digest of each task's links' ids in physical order (each id with its length, so that
    /// no two lists have one text), for the tasks with links in `buckets`, by bucket.
    fn link_digests(&mut self, buckets: &BTreeSet<i32>) -> Result<ByBucket<String>, String> {
        let bucket = self.bucket("TASK_ID_");
        const TABLE: &str = "ACT_RU_IDENTITYLINK";
        let sql = format!(
            "SELECT TASK_ID_, {bucket}, md5(string_agg(length(ID_) || ':' || ID_, ',' ORDER BY ctid)) \
             FROM ACT_RU_IDENTITYLINK WHERE TASK_ID_ IS NOT NULL AND {bucket} = ANY($1) GROUP BY TASK_ID_"
        );
        self.by_bucket(buckets, &sql, &[], TABLE, |row| db::required(row, 2, TABLE))
    }

    /// The memberships of the groups in `buckets` (by the hash of the group's id), each with its
    /// group's bucket.
    fn memberships_in(&mut self, buckets: &BTreeSet<i32>) -> Result<HashMap<(String, String), i32>, String> {
        const TABLE: &str = "ACT_ID_MEMBERSHIP";
        let mut out = HashMap::new();
        if buckets.is_empty() {
            return Ok(out);
        }
        let bucket = self.bucket("GROUP_ID_");
        let sql = format!("SELECT USER_ID_, GROUP_ID_, {bucket} FROM ACT_ID_MEMBERSHIP WHERE {bucket} = ANY($1)");
        let list: Vec<i32> = buckets.iter().copied().collect();
        db::each_row(&mut self.client, &sql, &[&list], TABLE, |row| {
            let key = (db::required(row, 0, TABLE)?, db::required(row, 1, TABLE)?);
            out.insert(key, db::value(row, 2, TABLE)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The rows `sql` selects for `buckets` (its `$1`; `params` after it) as key (column 0) →
    /// `value(row)`, by bucket (column 1): every bucket asked for is there, empty when it holds
    /// no row now.
    fn by_bucket<V>(
        &mut self,
        buckets: &BTreeSet<i32>,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
        table: &str,
        mut value: impl FnMut(&Row) -> Result<V, String>,
    ) -> Result<ByBucket<V>, String> {
        let mut out: ByBucket<V> = buckets.iter().map(|b| (*b, HashMap::new())).collect();
        if buckets.is_empty() {
            return Ok(out);
        }
        let list: Vec<i32> = buckets.iter().copied().collect();
        let all: Vec<&(dyn ToSql + Sync)> =
            std::iter::once(&list as &(dyn ToSql + Sync)).chain(params.iter().copied()).collect();
        db::each_row(&mut self.client, sql, &all, table, |row| {
            let b: i32 = db::value(row, 1, table)?;
            out.entry(b).or_default().insert(db::required(row, 0, table)?, value(row)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// One step: the fingerprints of one consistent state diffed against `m`'s, the changed keys
    /// re-read into `m`. The number of keys that changed (every key on an empty model), or
    /// `None` when no transaction has ended since `m` was read ([`db::ended_transactions`]):
    /// then nothing is read.
    ///
    /// With `--wal-slot`, once `m` was read whole, the step reads the keys that the slot's
    /// transactions name instead ([`Source::read_logged`]), and advances the slot past them once
    /// they are read; nothing is read when the slot has none.
    pub fn step(&mut self, m: &mut Camunda) -> Result<Option<usize>, String> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| db::failed(WHAT, &e))?;
        let read = self.read_in_transaction(m);
        let end = if read.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.client.batch_execute(end).map_err(|e| db::failed(WHAT, &e))?;
        let (changed, slot_to) = read?;
        if let Some(slot) = &self.wal {
            match slot_to {
                SlotTo::Stay => {}
                SlotTo::Advance(end) => slot.advance(&mut self.client, WHAT, &end)?,
                SlotTo::CatchUp => {
                    slot.catch_up(&mut self.client, WHAT)?;
                }
            }
        }
        if self.wal.is_some() && m.whole {
            // The fingerprints serve the gates' diff only, which the log replaces.
            (m.user_revs, m.group_revs, m.task_revs, m.link_digests) = Default::default();
            (m.authorization_revs, m.gates, m.buckets, m.group_buckets) = Default::default();
        }
        Ok(changed)
    }

    /// [`Source::step`]'s reading, in its transaction; and where the slot goes once it commits.
    fn read_in_transaction(&mut self, m: &mut Camunda) -> Result<(Option<usize>, SlotTo), String> {
        let Some(slot) = self.wal.as_ref().filter(|_| m.whole) else {
            return Ok((self.read_unless_quiet(m)?, SlotTo::Stay));
        };
        // The transaction's snapshot, then the log: every commit it sees is in the log peeked.
        let (ended, peeked) = slot.peek(&mut self.client, WHAT, self.snapshot)?;
        // The links' table rewritten since the last whole read ([`wal::LINKS_FILE`]).
        let rewritten = m.links_file != Some(peeked.links_file);
        if peeked.transactions.is_empty() && !peeked.more && !rewritten {
            m.read_at = None; // the slot holds nothing of the last whole read's (read_logged)
            let catch_up = peeked.behind >= wal::CATCH_UP_BYTES;
            return Ok((None, if catch_up { SlotTo::CatchUp } else { SlotTo::Stay }));
        }
        let (changed, advance) = self.read_logged(m, ended, peeked, rewritten)?;
        Ok((Some(changed), advance.map_or(SlotTo::Stay, SlotTo::Advance)))
    }

    /// Reads the keys named by the transactions of `peeked` that this transaction's snapshot
    /// (`ended_text`) sees as ended, into `m`, but for those that `m`'s last whole read saw
    /// (`m.read_at`, until a step peeks all the slot holds);
    /// or, when the slot holds more than `--wal-batch` changes (or a followed table was
    /// truncated, or the links' table `rewritten`: [`wal::LINKS_FILE`]), everything, `m` read
    /// afresh. The number of keys read, and the commit to advance the slot to: the end of the
    /// transactions seen, in commit order, up to the first not seen (a commit not visible yet,
    /// whose keys a later step reads: the slot keeps it and those after it, which that step
    /// reads again).
    fn read_logged(
        &mut self,
        m: &mut Camunda,
        ended_text: String,
        peeked: Peeked,
        rewritten: bool,
    ) -> Result<(usize, Option<String>), String> {
        let ended = EndedTransactions::parse(&ended_text)?;
        let read_at = m.read_at.as_deref().map(EndedTransactions::parse).transpose()?;
        let seen = |t: &&wal::Transaction| ended.sees(t.xid);
        let taken = peeked.transactions.iter().take_while(seen).count();
        let advance = taken.checked_sub(1).map(|last| peeked.transactions[last].end.clone());
        // Transactions that the last read's snapshot saw were read then (by their keys, or
        // whole: a backlog left in the slot when everything was read).
        let new: Vec<&wal::Transaction> = peeked
            .transactions
            .iter()
            .filter(seen)
            .filter(|t| !read_at.as_ref().is_some_and(|r| r.sees(t.xid)))
            .collect();
        if peeked.more && new.is_empty() && !rewritten {
            return Ok((0, advance));
        }
        let named = Named::from_changes(new.iter().flat_map(|t| &t.changes), m);
        if peeked.more || named.everything || rewritten {
            *m = Camunda::default();
            let changed = self.read(m)?;
            (m.whole, m.read_at) = (true, Some(ended_text));
            return Ok((changed, advance));
        }
        let count = named.count();
        let c = &mut self.client;
        let users: Vec<String> = named.users.iter().cloned().collect();
        for id in &users {
            m.users.remove(id);
        }
        read_users(c, &users, m)?;
        if named.groups {
            read_groups(c, m)?;
        }
        let mut touched = named.membership_groups;
        for user in &named.users {
            touched.extend(m.memberships.groups_of(user).map(str::to_owned));
        }
        read_members(c, touched, m)?;
        let tasks: Vec<String> = named.tasks.into_iter().collect();
        for id in &tasks {
            m.tasks.remove(id);
        }
        read_tasks(c, &tasks, self.tenant.as_deref(), self.wal.is_some(), m)?;
        let rows: Vec<String> = named.authorizations.into_iter().collect();
        for id in &rows {
            m.authorizations.remove(id);
        }
        read_authorizations(c, &rows, m)?;
        for id in &named.deleted_links {
            m.link_tasks.remove(id.as_str());
        }
        // Not this snapshot as read: it may see a commit that the peek did not decode (made
        // visible before its log was flushed: synchronous_commit = off), whose keys were not
        // read; a later peek has it, and it is read then. Nor the last whole read's any longer:
        // this peek held the slot's every transaction (not `more`), so the backlog that read
        // saw is taken; one left behind a transaction not seen yet is read again (its keys'
        // rows as they are then). Kept, it would also compare the log's 32-bit ids with an
        // ever older snapshot, which after 2^31 more transactions takes new ones for old.
        m.read_at = None;
        Ok((count, advance))
    }

    /// [`Source::read`], unless the transactions ended are those `m` was read at. `m` keeps
    /// them only once it is read whole: a read that fails leaves none, so the next step reads.
    fn read_unless_quiet(&mut self, m: &mut Camunda) -> Result<Option<usize>, String> {
        let ended = db::ended_transactions(&mut self.client, WHAT, self.snapshot)?;
        if ended.is_some() && m.read_at == ended {
            return Ok(None);
        }
        m.read_at = None;
        let changed = self.read(m)?;
        (m.whole, m.read_at) = (true, ended);
        Ok(Some(changed))
    }

    fn read(&mut self, m: &mut Camunda) -> Result<usize, String> {
        let mut count = 0;
        if self.wal.is_some() {
            let sql = format!("SELECT {}", wal::LINKS_FILE);
            m.links_file = Some(self.client.query_one(&sql, &[]).map_err(|e| db::failed(WHAT, &e))?.get(0));
        }

        // Users.
        let (users, gone) = self.changed_revisions(&mut m.gates, &mut m.user_revs, "ACT_ID_USER", "")?;
        let c = &mut self.client;
        count += users.len() + gone.len();
        for id in &gone {
            m.users.remove(id);
        }
        read_users(c, &users, m)?;
        let touched_users: BTreeSet<String> = users.into_iter().chain(gone).collect();

        // Groups: any change re-reads them all (a rank is a place among all the names).
        let (groups, gone) = self.changed_revisions(&mut m.gates, &mut m.group_revs, "ACT_ID_GROUP", "")?;
        let c = &mut self.client;
        if !groups.is_empty() || !gone.is_empty() {
            count += groups.len() + gone.len();
            read_groups(c, m)?;
        }

        // Memberships: the pairs of the buckets (by group) whose gates changed, diffed against
        // those `m` holds there; the groups touched, and those of the users touched, re-read
        // with their members' ranks.
        let (buckets, gates) = self.changed_buckets(m, "ACT_ID_MEMBERSHIP", "GROUP_ID_", "", &[])?;
        let now = self.memberships_in(&buckets)?;
        let mut touched: BTreeSet<String> = BTreeSet::new();
        if !buckets.is_empty() {
            // The groups of those buckets whose members `m` has and `now` lacks.
            let in_buckets = m.group_buckets.iter().filter(|(_, b)| buckets.contains(b)).map(|(group, _)| group);
            for group in in_buckets {
                if m.memberships.members(group).any(|user| !now.contains_key(&(user.to_owned(), group.clone()))) {
                    touched.insert(group.clone());
                }
            }
            for key in now.keys().filter(|k| !m.memberships.contains_key(k)) {
                touched.insert(key.1.clone());
            }
            count += touched.len();
            m.group_buckets.retain(|_, b| !buckets.contains(b));
            m.group_buckets.extend(now.iter().map(|((_, group), b)| (group.clone(), *b)));
        }
        for user in &touched_users {
            touched.extend(m.memberships.groups_of(user).map(str::to_owned));
        }
        if !touched_users.is_empty() {
            for (user, group) in now.keys() {
                if touched_users.contains(user) {
                    touched.insert(group.clone());
                }
            }
        }
        read_members(&mut self.client, touched, m)?;
        if let Some((whole, gates)) = gates {
            m.gates.insert("ACT_ID_MEMBERSHIP", whole);
            m.buckets.insert("ACT_ID_MEMBERSHIP", gates);
        }

        // Tasks: their revisions and their links' digests, read for the buckets whose gates
        // changed; a task is re-read when either changed.
        let tenant = self.tenant.clone();
        let (filter, params): (&str, Vec<&(dyn ToSql + Sync)>) = match &tenant {
            Some(t) => (" AND TENANT_ID_ = $1", vec![t]),
            None => ("", Vec::new()),
        };
        let (task_buckets, task_gates) = self.changed_buckets(m, "ACT_RU_TASK", "ID_", filter, &params)?;
        let (link_buckets, link_gates) = self.changed_buckets(m, "ACT_RU_IDENTITYLINK", "TASK_ID_", "", &[])?;
        let revs = self.task_revisions(&task_buckets)?;
        let digests = self.link_digests(&link_buckets)?;
        let (no_revs, no_digests) = (HashMap::new(), HashMap::new());
        let mut tasks: BTreeSet<String> = BTreeSet::new();
        let mut gone = Vec::new();
        for (b, now) in &revs {
            let (changed, removed) = diff(m.task_revs.get(b).unwrap_or(&no_revs), now);
            tasks.extend(changed);
            gone.extend(removed);
        }
        for (b, now) in &digests {
            let (changed, removed) = diff(m.link_digests.get(b).unwrap_or(&no_digests), now);
            // Only tasks there are (of the tenant), found in the same bucket: a completed task's
            // links went with it.
            let there = revs.get(b).or(m.task_revs.get(b));
            tasks.extend(changed.into_iter().chain(removed).filter(|id| there.is_some_and(|r| r.contains_key(id))));
        }
        count += tasks.len() + gone.len();
        for id in &gone {
            m.tasks.remove(id);
        }
        let tasks: Vec<String> = tasks.into_iter().collect();
        read_tasks(&mut self.client, &tasks, self.tenant.as_deref(), self.wal.is_some(), m)?;
        replace_buckets(&mut m.task_revs, revs);
        replace_buckets(&mut m.link_digests, digests);
        for (table, gates) in [("ACT_RU_TASK", task_gates), ("ACT_RU_IDENTITYLINK", link_gates)] {
            if let Some((whole, buckets)) = gates {
                m.gates.insert(table, whole);
                m.buckets.insert(table, buckets);
            }
        }

        // Authorizations.
        let filter = " WHERE RESOURCE_TYPE_ IN (1, 2, 6, 7)";
        let (rows, gone) =
            self.changed_revisions(&mut m.gates, &mut m.authorization_revs, "ACT_RU_AUTHORIZATION", filter)?;
        let c = &mut self.client;
        count += rows.len() + gone.len();
        for id in rows.iter().chain(&gone) {
            m.authorizations.remove(id);
        }
        read_authorizations(c, &rows, m)?;
        Ok(count)
    }
}

/// `held` with the buckets of `read` replaced (a bucket read empty: removed).
fn replace_buckets<V>(held: &mut ByBucket<V>, read: ByBucket<V>) {
    for (b, now) in read {
        if now.is_empty() {
            held.remove(&b);
        } else {
            held.insert(b, now);
        }
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
        out.insert(db::required(row, 0, what)?, db::value(row, 1, what)?);
        Ok(())
    })?;
    Ok(out)
}

/// Re-reads users `ids` (their names) into `m`; those not there are left out.
fn read_users(c: &mut Client, ids: &[String], m: &mut Camunda) -> Result<(), String> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = "SELECT ID_, FIRST_, LAST_ FROM ACT_ID_USER WHERE ID_ = ANY($1)";
    db::each_row(c, sql, &[&ids], "ACT_ID_USER", |row| {
        let id = db::required(row, 0, "ACT_ID_USER")?;
        let user = CamundaUser { first: db::text(row, 1, "ACT_ID_USER")?, last: db::text(row, 2, "ACT_ID_USER")? };
        m.users.insert(id, user);
        Ok(())
    })
}

/// Re-reads every group (a rank is a place among all the names) into `m`.
fn read_groups(c: &mut Client, m: &mut Camunda) -> Result<(), String> {
    m.groups.clear();
    db::each_row(c, crate::camunda::GROUPS, &[], "ACT_ID_GROUP", |row| {
        let rank = rank(row, 2, "ACT_ID_GROUP")?;
        let name = db::text(row, 1, "ACT_ID_GROUP")?;
        m.groups.insert(db::required(row, 0, "ACT_ID_GROUP")?, (name, rank));
        Ok(())
    })
}

/// Re-reads the members of `groups` with their ranks into `m`, replacing those it held.
fn read_members(c: &mut Client, groups: BTreeSet<String>, m: &mut Camunda) -> Result<(), String> {
    if groups.is_empty() {
        return Ok(());
    }
    let wanted: Vec<&String> = groups.iter().collect();
    let mut rows = HashMap::new();
    let sql = "SELECT M.USER_ID_, M.GROUP_ID_, \
               dense_rank() OVER (PARTITION BY M.GROUP_ID_ ORDER BY RES.ID_ asc) \
               FROM ACT_ID_MEMBERSHIP M LEFT JOIN ACT_ID_USER RES ON RES.ID_ = M.USER_ID_ \
               WHERE M.GROUP_ID_ = ANY($1)";
    db::each_row(c, sql, &[&wanted], "ACT_ID_MEMBERSHIP", |row| {
        let rank = rank(row, 2, "ACT_ID_MEMBERSHIP")?;
        let key = (db::required(row, 0, "ACT_ID_MEMBERSHIP")?, db::required(row, 1, "ACT_ID_MEMBERSHIP")?);
        rows.insert(key, rank);
        Ok(())
    })?;
    m.memberships.replace_groups(&groups, rows);
    Ok(())
}

/// Re-reads tasks `ids` (their rows, definitions' keys and links in physical order; of
/// `tenant` only, when one is named) into `m`, each as its element of the document; those not
/// there are left out. With `index` (`--wal-slot`), each link's task is kept by the link's id
/// ([`Camunda::link_tasks`]).
fn read_tasks(
    c: &mut Client,
    ids: &[String],
    tenant: Option<&str>,
    index: bool,
    m: &mut Camunda,
) -> Result<(), String> {
    if ids.is_empty() {
        return Ok(());
    }
    /// A task's row (assignee, owner, definition's key) and links, as they are read.
    type Read = (Option<String>, Option<String>, Option<String>, Vec<Link>);
    let mut read: HashMap<String, Read> = HashMap::with_capacity(ids.len());
    let sql = "SELECT T.ID_, T.ASSIGNEE_, T.OWNER_, D.KEY_ FROM ACT_RU_TASK T \
               LEFT JOIN ACT_RE_PROCDEF D ON D.ID_ = T.PROC_DEF_ID_ \
               WHERE T.ID_ = ANY($1) AND ($2::text IS NULL OR T.TENANT_ID_ = $2)";
    db::each_row(c, sql, &[&ids, &tenant], "ACT_RU_TASK", |row| {
        let fields = (
            db::text(row, 1, "ACT_RU_TASK")?,
            db::text(row, 2, "ACT_RU_TASK")?,
            db::text(row, 3, "ACT_RE_PROCDEF")?,
            Vec::new(),
        );
        read.insert(db::required(row, 0, "ACT_RU_TASK")?, fields);
        Ok(())
    })?;
    let sql = "SELECT TASK_ID_, USER_ID_, GROUP_ID_, TYPE_, ID_ FROM ACT_RU_IDENTITYLINK \
               WHERE TASK_ID_ = ANY($1) ORDER BY TASK_ID_, ctid";
    const TABLE: &str = "ACT_RU_IDENTITYLINK";
    let mut task_of: Option<Arc<str>> = None;
    db::each_row(c, sql, &[&ids], TABLE, |row| {
        let task: String = db::required(row, 0, TABLE)?;
        let link =
            Link { user: db::text(row, 1, TABLE)?, group: db::text(row, 2, TABLE)?, kind: db::text(row, 3, TABLE)? };
        if index {
            let shared = match &task_of {
                Some(t) if **t == *task => t.clone(),
                _ => task_of.insert(Arc::from(task.as_str())).clone(),
            };
            m.link_tasks.insert(db::required(row, 4, TABLE)?.into_boxed_str(), shared);
        }
        if let Some(t) = read.get_mut(&task) {
            t.3.push(link);
        }
        Ok(())
    })?;
    for (id, (assignee, owner, definition, links)) in read {
        let mut element = Vec::new();
        write_task(&mut element, &id, assignee.as_deref(), owner.as_deref(), definition.as_deref(), &links);
        m.tasks.insert(id, Task { element });
    }
    Ok(())
}

/// Re-reads the authorization rows `ids` into `m` (a row without a resource id matches no check
/// and is left out, as the one-shot export leaves it out).
fn read_authorizations(c: &mut Client, ids: &[String], m: &mut Camunda) -> Result<(), String> {
    if ids.is_empty() {
        return Ok(());
    }
    const TABLE: &str = "ACT_RU_AUTHORIZATION";
    let sql = "SELECT ID_, TYPE_, USER_ID_, GROUP_ID_, RESOURCE_TYPE_, RESOURCE_ID_, PERMS_ \
               FROM ACT_RU_AUTHORIZATION WHERE ID_ = ANY($1) AND RESOURCE_TYPE_ IN (1, 2, 6, 7)";
    db::each_row(c, sql, &[&ids], TABLE, |row| {
        let int = |i: usize| -> Result<Option<i32>, String> { db::value(row, i, TABLE) };
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

/// The keys that a step's changes from the log name, to be read again.
#[derive(Default)]
struct Named {
    users: BTreeSet<String>,
    /// Any group changed: all are read again (a rank is a place among all the names).
    groups: bool,
    /// The groups whose memberships changed.
    membership_groups: BTreeSet<String>,
    tasks: BTreeSet<String>,
    authorizations: BTreeSet<String>,
    /// The links deleted, whose ids [`Camunda::link_tasks`] lets go once they are read.
    deleted_links: Vec<String>,
    /// A followed table truncated: everything is read again.
    everything: bool,
}

impl Named {
    /// What `changes` name, with the task of each link deleted found in `m` (a delete carries
    /// only the row's key: its `ID_`).
    fn from_changes<'a>(changes: impl Iterator<Item = &'a wal::Change>, m: &Camunda) -> Named {
        let mut n = Named::default();
        let owned = |values: &mut dyn Iterator<Item = &str>, into: &mut BTreeSet<String>| {
            into.extend(values.map(str::to_owned));
        };
        for change in changes {
            if change.op == Op::Truncate {
                n.everything = true;
                continue;
            }
            match change.table {
                Table::Task => owned(&mut change.values("id_"), &mut n.tasks),
                Table::Link => {
                    owned(&mut change.values("task_id_"), &mut n.tasks);
                    for id in change.values("id_") {
                        if let Some(task) = m.link_tasks.get(id) {
                            n.tasks.insert(task.to_string());
                        }
                        if change.op == Op::Delete {
                            n.deleted_links.push(id.to_owned());
                        }
                    }
                }
                Table::User => owned(&mut change.values("id_"), &mut n.users),
                Table::Group => n.groups = true,
                Table::Membership => owned(&mut change.values("group_id_"), &mut n.membership_groups),
                Table::Authorization => owned(&mut change.values("id_"), &mut n.authorizations),
            }
        }
        n
    }

    /// How many keys are named (all the groups counting as one).
    fn count(&self) -> usize {
        let n = &self;
        n.users.len() + usize::from(n.groups) + n.membership_groups.len() + n.tasks.len() + n.authorizations.len()
    }
}
