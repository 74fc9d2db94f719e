//! Camunda's changes read from PostgreSQL's write-ahead log (`--wal-slot`): a logical replication
//! slot with the `test_decoding` output plugin (shipped with PostgreSQL) names the rows each
//! committed transaction inserted, updated or deleted, so a step re-reads the keys they name
//! instead of scanning the tables' gates (`follow::camunda`).
//!
//! Consistency: the slot is peeked (not consumed) before the step's repeatable-read transaction
//! begins, and only the transactions that the transaction's snapshot sees as ended are taken
//! ([`EndedTransactions::sees`]): a commit is written to the log a moment before it becomes
//! visible, and one decoded but not yet visible would otherwise be skipped. The slot is advanced
//! past the taken transactions once the step has read their keys, so a step that fails (or a
//! follower that stops) leaves them to be read again.

use crate::db;
use postgres::Client;

/// A followed table, as the log names it (lowercase, without its schema).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Task,
    Link,
    User,
    Group,
    Membership,
    Authorization,
}

impl Table {
    fn named(name: &str) -> Option<Table> {
        Some(match name {
            "act_ru_task" => Table::Task,
            "act_ru_identitylink" => Table::Link,
            "act_id_user" => Table::User,
            "act_id_group" => Table::Group,
            "act_id_membership" => Table::Membership,
            "act_ru_authorization" => Table::Authorization,
            _ => return None,
        })
    }
}

/// What a change did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Insert,
    Update,
    Delete,
    Truncate,
}

/// One changed row of a followed table: its columns as the log gives them (for an update whose
/// key changed, the old key's columns too), `None` for NULL; column names lowercase.
#[derive(Debug, PartialEq, Eq)]
pub struct Change {
    pub table: Table,
    pub op: Op,
    pub columns: Vec<(String, Option<String>)>,
}

impl Change {
    /// The values of column `name` (more than one when an update changed the key).
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.columns.iter().filter(move |(n, _)| n == name).filter_map(|(_, v)| v.as_deref())
    }
}

/// A committed transaction's changes to the followed tables.
#[derive(Debug, Default)]
pub struct Transaction {
    /// Its id as the log gives it (32 bits).
    pub xid: u32,
    /// Where its commit ends in the log (`pg_lsn` text): the slot is advanced to it.
    pub end: String,
    pub changes: Vec<Change>,
}

/// What a peek found: the transactions (in commit order) and whether it stopped at `batch`
/// changes with more left.
pub struct Peeked {
    pub transactions: Vec<Transaction>,
    pub more: bool,
    /// How many bytes of log the slot's place was behind the server's when peeked: a slot whose
    /// transactions all went to tables not followed, or to no table, is moved on
    /// ([`Slot::catch_up`]) so that the server may recycle that log and a peek need not decode
    /// it again.
    pub behind: f64,
    /// The file of the links' table ([`LINKS_FILE`]) when peeked.
    pub links_file: i64,
}

/// The file of `ACT_RU_IDENTITYLINK` now (`pg_relation_filenode`, as a `bigint`): a rewrite of
/// the table (CLUSTER, VACUUM FULL) makes a new one and logs no row, and a CLUSTER reorders the
/// links, whose order the snapshot keeps (`follow::camunda`).
pub const LINKS_FILE: &str = "coalesce(pg_relation_filenode('act_ru_identitylink'::regclass)::text::bigint, 0)";

/// How far behind the server's log a slot that found nothing is moved on ([`Slot::catch_up`]):
/// a WAL segment's worth.
pub const CATCH_UP_BYTES: f64 = 16.0 * 1024.0 * 1024.0;

/// The server's log position that a peek decodes up to (a primary's: [`Slot::ensure`]).
const LOG_END: &str = "pg_current_wal_flush_lsn()";

/// A slot and how much a step reads from it.
pub struct Slot {
    pub name: String,
    /// At most this many changes are read in one step (`--wal-batch`); more make the step read
    /// Camunda whole.
    pub batch: i32,
}

impl Slot {
    /// Checks that the server can decode its log (`wal_level = logical`) and advance a slot
    /// (PostgreSQL 11 and later), that this is a primary (a standby's snapshots do not list
    /// their running transactions, which [`EndedTransactions::sees`] needs), and makes the slot
    /// with `test_decoding` if it is missing. A slot of another plugin or another database is
    /// refused; a slot whose log the server removed (`wal_status` lost, `max_slot_wal_keep_size`)
    /// is made anew, with a warning. Then peeks it once, so that a role that may not read it is
    /// told now. Whoever calls this reads everything afresh after it.
    pub fn ensure(&self, client: &mut Client, what: &str) -> Result<(), String> {
        let level: String = client.query_one("SHOW wal_level", &[]).map_err(|e| db::failed(what, &e))?.get(0);
        if level != "logical" {
            return Err(format!(
                "--wal-slot needs wal_level = logical on {what}'s server (it is {level}): set it and restart the server, or follow without --wal-slot"
            ));
        }
        if !db::has_function(client, what, "pg_replication_slot_advance(name,pg_lsn)")? {
            return Err(format!("--wal-slot needs PostgreSQL 11 or later on {what}'s server (pg_replication_slot_advance): follow without --wal-slot"));
        }
        let standby: bool =
            client.query_one("SELECT pg_is_in_recovery()", &[]).map_err(|e| db::failed(what, &e))?.get(0);
        if standby {
            return Err(format!(
                "--wal-slot needs {what}'s primary server: this one is a standby, whose snapshots do not list the transactions running (follow the primary, or a standby without --wal-slot)"
            ));
        }
        // wal_status is PostgreSQL 13's; before it, a slot keeps its log whatever its size.
        let version: String =
            client.query_one("SHOW server_version_num", &[]).map_err(|e| db::failed(what, &e))?.get(0);
        let status = if version.parse::<u32>().unwrap_or(0) >= 130_000 { "wal_status::text" } else { "NULL::text" };
        let sql = format!(
            "SELECT plugin::text, database::text, current_database()::text, {status} FROM pg_replication_slots WHERE slot_name = $1"
        );
        let found = client.query_opt(&sql, &[&self.name]).map_err(|e| db::failed(what, &e))?;
        let create = match found {
            Some(row) => {
                let (plugin, database, here, status): (Option<String>, Option<String>, String, Option<String>) =
                    (row.get(0), row.get(1), row.get(2), row.get(3));
                if plugin.as_deref() != Some("test_decoding") {
                    return Err(format!(
                        "--wal-slot {}: the slot exists with the plugin {}, not test_decoding",
                        self.name,
                        plugin.as_deref().unwrap_or("none (a physical slot)")
                    ));
                }
                if database.as_deref() != Some(here.as_str()) {
                    return Err(format!(
                        "--wal-slot {}: the slot decodes the database {}, not {here} (name another slot)",
                        self.name,
                        database.as_deref().unwrap_or("none")
                    ));
                }
                if status.as_deref() == Some("lost") {
                    eprintln!(
                        "{} follow warning: --wal-slot {}: the server removed log the slot still needed (max_slot_wal_keep_size); the slot is made anew and everything read afresh",
                        crate::output::now(),
                        self.name
                    );
                    client
                        .query_one("SELECT pg_drop_replication_slot($1)::text", &[&self.name])
                        .map_err(|e| format!("--wal-slot {}: {}", self.name, db::failed(what, &e)))?;
                    true
                } else {
                    false
                }
            }
            None => true,
        };
        if create {
            client
                .query_one("SELECT pg_create_logical_replication_slot($1, 'test_decoding')::text", &[&self.name])
                .map_err(|e| format!("--wal-slot {}: {}", self.name, db::failed(what, &e)))?;
        }
        client
            .query("SELECT 1 FROM pg_logical_slot_peek_changes($1, NULL, 1)", &[&self.name])
            .map_err(|e| format!("--wal-slot {}: {}", self.name, db::failed(what, &e)))?;
        Ok(())
    }

    /// The transactions committed since the slot was last advanced, up to `batch` changes (the
    /// log's whole transactions: the last may pass it), without consuming them; and the
    /// transactions that the current transaction's snapshot sees as ended (`snapshot`, as
    /// [`db::ended_transactions`]). One statement, the first of a `REPEATABLE READ`
    /// transaction: the snapshot is taken before the log is decoded, so every transaction it
    /// sees as committed is in the log decoded (a commit is flushed to the log before it becomes
    /// visible; with `synchronous_commit = off` it may not be: docs/export.md).
    pub fn peek(&self, client: &mut Client, what: &str, snapshot: &str) -> Result<(String, Peeked), String> {
        let sql = format!(
            "SELECT s.ended, s.behind, p.lsn::text, p.data, s.links_file \
             FROM (SELECT {snapshot}::text AS ended, \
                          pg_wal_lsn_diff({LOG_END}, (SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1))::float8 AS behind, \
                          {LINKS_FILE} AS links_file) s \
             LEFT JOIN pg_logical_slot_peek_changes($1, NULL, $2, 'include-xids', '1', 'skip-empty-xacts', '1') \
                  WITH ORDINALITY p ON true \
             ORDER BY p.ordinality"
        );
        let rows = client.query(&sql, &[&self.name, &self.batch]).map_err(|e| db::failed(what, &e))?;
        let first = rows.first().ok_or_else(|| format!("{what}: the slot's peek answered no row"))?;
        let (ended, behind, links_file): (String, Option<f64>, i64) = (first.get(0), first.get(1), first.get(4));
        let lines: Vec<(String, String)> = rows
            .iter()
            .filter_map(|row| Some((row.get::<_, Option<String>>(2)?, row.get::<_, Option<String>>(3)?)))
            .collect();
        let more = lines.len() >= self.batch as usize;
        let mut transactions = Vec::new();
        let mut open: Option<Transaction> = None;
        for (lsn, data) in lines {
            if let Some(xid) = data.strip_prefix("BEGIN ") {
                let xid = xid.trim().parse().map_err(|_| format!("the log's line {data:?}: no transaction id"))?;
                open = Some(Transaction { xid, ..Transaction::default() });
            } else if data.starts_with("COMMIT") {
                if let Some(mut t) = open.take() {
                    t.end = lsn;
                    transactions.push(t);
                }
            } else if let Some(change) = parse_change(&data)? {
                if let Some(t) = &mut open {
                    t.changes.push(change);
                }
            }
        }
        Ok((ended, Peeked { transactions, more, behind: behind.unwrap_or(0.0), links_file }))
    }

    /// Moves a slot that found nothing past the log written so far, when a peek of all of it
    /// still finds nothing (no transaction of this database with changes committed in it): the
    /// log before that place, other databases' and empty transactions', is then no longer kept
    /// for the slot, nor decoded by every peek. The place is where the next record will be
    /// inserted, read before the peek (a record's boundary, every record before it whole), and
    /// only once the log is flushed past it (a peek decodes the flushed log only; the flushed
    /// end may cut a record in two). Whether it moved.
    pub fn catch_up(&self, client: &mut Client, what: &str) -> Result<bool, String> {
        let failed = |e: postgres::Error| db::failed(what, &e);
        let end: String = client.query_one("SELECT pg_current_wal_insert_lsn()::text", &[]).map_err(failed)?.get(0);
        let sql = "SELECT pg_wal_lsn_diff(pg_current_wal_flush_lsn(), $1::text::pg_lsn) >= 0";
        let flushed: bool = client.query_one(sql, &[&end]).map_err(failed)?.get(0);
        if !flushed {
            return Ok(false);
        }
        let sql = "SELECT count(*) FROM pg_logical_slot_peek_changes($1, NULL, 1, 'skip-empty-xacts', '1')";
        let found: i64 = client.query_one(sql, &[&self.name]).map_err(failed)?.get(0);
        if found > 0 {
            return Ok(false);
        }
        self.advance(client, what, &end)?;
        Ok(true)
    }

    /// Moves the slot past everything up to `end` (a transaction's commit): the server may then
    /// recycle that part of its log.
    pub fn advance(&self, client: &mut Client, what: &str, end: &str) -> Result<(), String> {
        client
            .query_one("SELECT pg_replication_slot_advance($1, $2::text::pg_lsn)::text", &[&self.name, &end])
            .map_err(|e| db::failed(what, &e))?;
        Ok(())
    }
}

/// One line of `test_decoding`'s output for a row (`table public.act_ru_task: UPDATE:
/// id_[character varying]:'t1' rev_[integer]:2 ...`), or `None` for a table not followed.
pub fn parse_change(line: &str) -> Result<Option<Change>, String> {
    let bad = || format!("the log's line {:?} is not test_decoding's", line.chars().take(120).collect::<String>());
    let Some(rest) = line.strip_prefix("table ") else { return Ok(None) };
    let (names, rest) = rest.split_once(": ").ok_or_else(bad)?;
    let (op, mut rest) = rest.split_once(':').ok_or_else(bad)?;
    // One TRUNCATE names every table it emptied (`table a, b: TRUNCATE: …`, CASCADE's too): a
    // followed one among them is the change.
    let named = |name: &str| {
        let name = name.rsplit('.').next().unwrap_or(name).trim_matches('"').to_ascii_lowercase();
        Table::named(&name)
    };
    let table = if op == "TRUNCATE" { names.split(", ").find_map(named) } else { named(names) };
    let Some(table) = table else { return Ok(None) };
    let op = match op {
        "INSERT" => Op::Insert,
        "UPDATE" => Op::Update,
        "DELETE" => Op::Delete,
        "TRUNCATE" => Op::Truncate,
        _ => return Err(bad()),
    };
    let mut columns = Vec::new();
    if op != Op::Truncate {
        loop {
            rest = rest.trim_start();
            if rest.is_empty() || rest.starts_with("(no-tuple-data)") {
                break;
            }
            if let Some(r) = rest.strip_prefix("old-key:").or_else(|| rest.strip_prefix("new-tuple:")) {
                rest = r;
                continue;
            }
            // name[type]:value; the type may hold spaces and brackets (`text[]`).
            let open = rest.find('[').ok_or_else(bad)?;
            let column = rest[..open].trim_matches('"').to_ascii_lowercase();
            let mut depth = 0;
            let close = rest[open..]
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '[' => 1,
                        ']' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| open + i)
                .ok_or_else(bad)?;
            rest = rest[close + 1..].strip_prefix(':').ok_or_else(bad)?;
            let value;
            (value, rest) = match rest.strip_prefix('\'') {
                Some(quoted) => {
                    let mut text = String::new();
                    let mut chars = quoted.char_indices();
                    let end = loop {
                        match chars.next() {
                            Some((i, '\'')) if quoted[i + 1..].starts_with('\'') => {
                                text.push('\'');
                                chars.next();
                            }
                            Some((i, '\'')) => break i + 1,
                            Some((_, c)) => text.push(c),
                            None => return Err(bad()),
                        }
                    };
                    (Some(text), &quoted[end..])
                }
                None => {
                    let end = rest.find(' ').unwrap_or(rest.len());
                    let token = &rest[..end];
                    ((token != "null").then(|| token.to_owned()), &rest[end..])
                }
            };
            columns.push((column, value));
        }
    }
    Ok(Some(Change { table, op, columns }))
}

/// A snapshot's `xmin:xmax:in-progress` text (`pg_current_snapshot()`, full 64-bit ids): which
/// transactions it sees as ended.
pub struct EndedTransactions {
    xmax: u64,
    in_progress: Vec<u64>,
}

impl EndedTransactions {
    pub fn parse(text: &str) -> Result<EndedTransactions, String> {
        let bad = || format!("the snapshot {text:?} is not xmin:xmax:list");
        let mut parts = text.splitn(3, ':');
        let (_, xmax, list) =
            (parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?, parts.next().ok_or_else(bad)?);
        let xmax = xmax.parse().map_err(|_| bad())?;
        let in_progress = list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        Ok(EndedTransactions { xmax, in_progress })
    }

    /// Whether the transaction `xid` (32 bits, as the log gives it: one of the 2^31 before this
    /// snapshot's `xmax` or after it) has ended for this snapshot.
    pub fn sees(&self, xid: u32) -> bool {
        let epoch = self.xmax >> 32;
        let mut full = (epoch << 32) | u64::from(xid);
        if full >= self.xmax && full - self.xmax >= 1 << 31 && epoch > 0 {
            full -= 1 << 32;
        } else if full < self.xmax && self.xmax - full > 1 << 31 {
            full += 1 << 32;
        }
        full < self.xmax && !self.in_progress.contains(&full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, value: Option<&str>) -> (String, Option<String>) {
        (name.to_owned(), value.map(str::to_owned))
    }

    #[test]
    fn rows_are_read_as_test_decoding_writes_them() {
        let line = "table public.act_ru_identitylink: INSERT: id_[character varying]:'l''1' rev_[integer]:1 group_id_[character varying]:null type_[character varying]:'candidate' user_id_[character varying]:'u 1' task_id_[character varying]:'t1' tags[text[]]:'{a,b}'";
        let change = parse_change(line).expect("a line").expect("a followed table");
        assert_eq!(change.table, Table::Link);
        assert_eq!(change.op, Op::Insert);
        assert_eq!(
            change.columns,
            [
                column("id_", Some("l'1")),
                column("rev_", Some("1")),
                column("group_id_", None),
                column("type_", Some("candidate")),
                column("user_id_", Some("u 1")),
                column("task_id_", Some("t1")),
                column("tags", Some("{a,b}")),
            ]
        );
        let delete = parse_change("table camunda.\"ACT_ID_MEMBERSHIP\": DELETE: user_id_[character varying]:'u1' group_id_[character varying]:'g1'")
            .expect("a line")
            .expect("a followed table");
        assert_eq!((delete.table, delete.op), (Table::Membership, Op::Delete));
        assert_eq!(delete.values("group_id_").collect::<Vec<_>>(), ["g1"]);
        let key = parse_change("table public.act_id_user: UPDATE: old-key: id_[character varying]:'a' new-tuple: id_[character varying]:'b' rev_[integer]:2")
            .expect("a line")
            .expect("a followed table");
        assert_eq!(key.values("id_").collect::<Vec<_>>(), ["a", "b"]);
        let truncate =
            parse_change("table public.act_ru_task: TRUNCATE: (no-flags)").expect("a line").expect("followed");
        assert_eq!((truncate.op, truncate.columns.len()), (Op::Truncate, 0));
        // One statement emptying several tables (or CASCADE): any followed one counts.
        let several =
            parse_change("table public.act_hi_taskinst, public.act_ru_task, public.act_hi_procinst: TRUNCATE: cascade")
                .expect("a line")
                .expect("a followed table among them");
        assert_eq!((several.table, several.op), (Table::Task, Op::Truncate));
        assert!(parse_change("table public.act_hi_taskinst, public.act_hi_procinst: TRUNCATE: (no-flags)")
            .expect("a line")
            .is_none());
        assert!(parse_change("table public.act_hi_procinst: INSERT: id_[character varying]:'x'")
            .expect("a line")
            .is_none());
        assert!(parse_change("table public.act_ru_task: INSERT: id_[character varying]:'unterminated").is_err());
    }

    #[test]
    fn a_snapshot_sees_the_transactions_ended_before_it() {
        let s = EndedTransactions::parse("4294967300:4294967310:4294967303,4294967305").expect("a snapshot");
        // xmax 2^32 + 14: the ids before it ended but 2^32 + 7 and + 9 (in progress); from
        // 2^32 + 14 on, not yet.
        assert!(s.sees(4) && s.sees(6) && s.sees(8) && s.sees(13));
        assert!(!s.sees(7) && !s.sees(9) && !s.sees(14) && !s.sees(15));
        // An id of the epoch before (just under 2^32) ended long ago.
        assert!(s.sees(u32::MAX - 5));
        let first = EndedTransactions::parse("750:760:").expect("a snapshot");
        assert!(first.sees(749) && first.sees(3) && !first.sees(760) && !first.sees(u32::MAX));
        assert!(EndedTransactions::parse("nonsense").is_err());
    }
}
