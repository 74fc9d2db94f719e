//! Connections and the checks every source makes before reading: a reachable database, accepted
//! credentials, the tables it expects. Errors name the database without its password.

use postgres::fallible_iterator::FallibleIterator;
use postgres::types::{FromSql, ToSql};
use postgres::{Client, Row};
use std::path::PathBuf;

/// Rows read between two progress lines on standard error.
pub const PROGRESS_EVERY: usize = 250_000;

/// `url` with its password replaced by `***`, for messages.
pub fn redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else { return url.to_owned() };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}:***{}", &url[..scheme_end], &rest[..colon], &rest[at..]),
        None => url.to_owned(),
    }
}

/// How connections are encrypted. The URL's `sslmode` decides whether (`disable`, `prefer` — the
/// default: TLS when the server offers it — or `require`); the server's certificate is then not
/// verified, as libpq's `require` does not verify it, unless `ca_file` names the certificate
/// (PEM) to verify it and the host name against.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    /// `--ca-file`.
    pub ca_file: Option<PathBuf>,
}

/// A connection to the `what` database (`Camunda`, `Zitadel`) at `url`.
pub fn connect(what: &str, url: &str, tls: &Tls) -> Result<Client, String> {
    let refused = |e: postgres::Error| {
        let why = e.as_db_error().map_or_else(|| error_chain(&e), |db| db.message().to_owned());
        format!("cannot connect to the {what} database at {}: {why}", redacted(url))
    };
    let mut config: postgres::Config = url.parse().map_err(refused)?;
    // Named in the server's own views (`pg_stat_activity`), unless the URL names it otherwise.
    if config.get_application_name().is_none() {
        config.application_name(&application_name(what));
    }
    #[cfg(feature = "tls")]
    {
        config.connect(connector(tls)?).map_err(refused)
    }
    #[cfg(not(feature = "tls"))]
    {
        if tls.ca_file.is_some() {
            return Err("--ca-file: this build has no TLS (build it with the `tls` feature)".to_owned());
        }
        config.connect(postgres::NoTls).map_err(refused)
    }
}

/// The `application_name` of the exporter's connections to the `what` database (`Camunda`,
/// `Zitadel`): `identity-links-export Camunda`.
pub fn application_name(what: &str) -> String {
    format!("identity-links-export {what}")
}

/// The TLS connector for [`Tls`].
#[cfg(feature = "tls")]
fn connector(tls: &Tls) -> Result<postgres_native_tls::MakeTlsConnector, String> {
    let mut builder = native_tls::TlsConnector::builder();
    match &tls.ca_file {
        Some(path) => {
            let pem = std::fs::read(path).map_err(|e| format!("--ca-file {}: {e}", path.display()))?;
            let certificate = native_tls::Certificate::from_pem(&pem)
                .map_err(|e| format!("--ca-file {}: not a PEM certificate: {e}", path.display()))?;
            builder.add_root_certificate(certificate);
        }
        None => {
            builder.danger_accept_invalid_certs(true).danger_accept_invalid_hostnames(true);
        }
    }
    let connector = builder.build().map_err(|e| format!("TLS: {}", error_chain(&e)))?;
    Ok(postgres_native_tls::MakeTlsConnector::new(connector))
}

/// An error with its sources ("error connecting to server: Connection refused (os error 111)").
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// A query's error as a message naming what was being read.
pub fn failed(what: &str, e: &postgres::Error) -> String {
    let why = e.as_db_error().map_or_else(|| error_chain(e), |db| db.message().to_owned());
    format!("reading {what}: {why}")
}

/// Refuses a database that lacks one of `tables` (names as PostgreSQL resolves them).
pub fn require_tables(client: &mut Client, what: &str, tables: &[&str], hint: &str) -> Result<(), String> {
    for table in tables {
        let row = client.query_one("SELECT to_regclass($1)::text", &[table]).map_err(|e| failed(what, &e))?;
        let found: Option<String> = row.get(0);
        if found.is_none() {
            return Err(format!("the {what} database has no table {table} ({hint})"));
        }
    }
    Ok(())
}

/// Whether the database has the function `signature` (`name(argument types)`, a constant of
/// ours: written into the query, as `to_regprocedure` took a `cstring` before PostgreSQL 9.6).
pub fn has_function(client: &mut Client, what: &str, signature: &str) -> Result<bool, String> {
    let sql = format!("SELECT to_regprocedure('{signature}') IS NOT NULL");
    Ok(client.query_one(&sql, &[]).map_err(|e| failed(what, &e))?.get::<_, bool>(0))
}

/// How a follower asks which transactions have ended: `pg_current_snapshot()` (PostgreSQL 13+),
/// or `txid_current_snapshot()` before it (the same text, `xmin:xmax:in-progress list`).
pub fn snapshot_function(client: &mut Client, what: &str) -> Result<&'static str, String> {
    Ok(if has_function(client, what, "pg_current_snapshot()")? {
        "pg_current_snapshot()"
    } else {
        "txid_current_snapshot()"
    })
}

/// The transactions the current transaction's snapshot sees as ended (`function`, from
/// [`snapshot_function`]): the first statement of a `REPEATABLE READ` transaction, so that it is
/// the snapshot every later read of the transaction sees.
///
/// Two equal answers mean that no transaction wrote anything between them: every transaction
/// that writes takes an id, and its end (commit or abort) either raises the snapshot's `xmax`
/// (one past the latest ended id) or takes it off the in-progress list. So a step that finds
/// the answer of the last step it read whole has nothing new to read: the database is as that
/// step saw it. Conservative: a write anywhere in the cluster (another table, another
/// database, an `ANALYZE`) makes the next step read as before.
///
/// `None` on a standby: its snapshots leave the running transactions off the list (PostgreSQL
/// keeps them apart during recovery), so an answer could stay the same across a commit; a
/// follower of a standby reads at every step.
pub fn ended_transactions(client: &mut Client, what: &str, function: &str) -> Result<Option<String>, String> {
    let sql = format!("SELECT CASE WHEN pg_is_in_recovery() THEN NULL ELSE {function}::text END");
    let row = client.query_one(&sql, &[]).map_err(|e| failed(what, &e))?;
    Ok(row.get(0))
}

/// Starts a read-only transaction that sees one consistent state of the database, and returns
/// its snapshot's id, so that a second connection can read the same state.
pub fn begin_consistent(client: &mut Client, what: &str) -> Result<String, String> {
    client.batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").map_err(|e| failed(what, &e))?;
    let row = client.query_one("SELECT pg_export_snapshot()", &[]).map_err(|e| failed(what, &e))?;
    Ok(row.get(0))
}

/// Joins a second connection to the state `snapshot` of [`begin_consistent`].
pub fn join_consistent(client: &mut Client, what: &str, snapshot: &str) -> Result<(), String> {
    // The id comes from the server (hex digits and dashes), never from input.
    let quoted = snapshot.replace('\'', "");
    client
        .batch_execute(&format!("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET TRANSACTION SNAPSHOT '{quoted}'"))
        .map_err(|e| failed(what, &e))
}

/// Runs `sql` with `params` and calls `each` with every row as it arrives (the rows are streamed,
/// never held all at once).
pub fn each_row(
    client: &mut Client,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
    what: &str,
    mut each: impl FnMut(&Row) -> Result<(), String>,
) -> Result<(), String> {
    let params = params.iter().map(|p| *p as &dyn ToSql);
    let mut rows = client.query_raw(sql, params).map_err(|e| failed(what, &e))?;
    while let Some(row) = rows.next().map_err(|e| failed(what, &e))? {
        each(&row)?;
    }
    Ok(())
}

/// Column `i` of `row` as a `T`, or the error naming `what` was being read.
pub fn value<'a, T: FromSql<'a>>(row: &'a Row, i: usize, what: &str) -> Result<T, String> {
    row.try_get(i).map_err(|e| format!("reading {what}: {}", error_chain(&e)))
}

/// Column `i` of `row` as an optional string.
pub fn text(row: &Row, i: usize, what: &str) -> Result<Option<String>, String> {
    value(row, i, what)
}

/// Column `i` of `row` as a string that must be there.
pub fn required(row: &Row, i: usize, what: &str) -> Result<String, String> {
    text(row, i, what)?.ok_or_else(|| format!("reading {what}: column {} is NULL", row.columns()[i].name()))
}

#[cfg(test)]
mod tests {
    use super::redacted;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(redacted("postgres://ann:s3cret@db:5432/camunda"), "postgres://ann:***@db:5432/camunda");
        assert_eq!(redacted("postgres://ann@db/camunda"), "postgres://ann@db/camunda");
        assert_eq!(redacted("host=db user=ann"), "host=db user=ann");
    }
}
