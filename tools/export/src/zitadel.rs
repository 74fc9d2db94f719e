//! Reading Zitadel's projections (zitadel/zitadel, `internal/query/projection/`):
//! - `user.go`: `projections.users<N>` (`id`, `resource_owner`, `instance_id`, `creation_date`)
//!   and `projections.users<N>_humans` (`user_id`, `instance_id`, `first_name`, `last_name`);
//!   machine users have no row there and no names.
//! - `idp_user_link.go`: `projections.idp_user_links<N>` (`instance_id`, `idp_id`, `user_id`,
//!   `external_user_id`, `display_name`, `creation_date`, `sequence`).
//! - The IdP-link projection's state, which `ListIDPLinks` reports as `details`
//!   (`internal/api/grpc/object/v2/converter.go`, `ToListDetails`: `processedSequence` is the
//!   state's `Sequence`, `timestamp` its `EventCreatedAt`), read as the release in the database
//!   reads it ([`Details`]):
//!   - releases with `projections.current_states` (`internal/query/current_state.go`,
//!     `latestState` / `prepareLatestState`) select only `event_date`, `position` and
//!     `last_updated`, so their `Sequence` stays 0 whatever the `sequence` column holds: the
//!     snapshot gets `sequence` 0 and `timestamp` = `event_date` (the row `ORDER BY event_date
//!     DESC` gives first, as there);
//!   - older releases with `projections.current_sequences` (`internal/query/current_sequence.go`,
//!     `latestSequence` / `prepareLatestSequence`) select `current_sequence` and `timestamp`
//!     (the row `ORDER BY current_sequence DESC` gives first): the snapshot gets both.
//!
//! - `instance_member.go`, `org_member.go` and `member.go`: `projections.instance_members<N>`
//!   (`id` the instance, `user_id`, `roles` text[], `instance_id`, `creation_date`,
//!   `owner_removed` and `user_owner_removed` in newer releases) and
//!   `projections.org_members<N>` (the same with `org_id`): the memberships whose roles give
//!   `user.read` (`internal/api/authz/permissions.go`, SEMANTICS.md N3), as `zitadelMembers`
//!   (an org membership with `org`, an instance one without).
//! - `project_member.go`, `project_grant_member.go`: project and project-grant memberships, with
//!   `org` and `project` (their permissions' context): [`crate::project_members`].
//!
//! The projections' names carry a version that changes between releases (`users8`, `users14`,
//! `idp_user_links3`): the highest one present is read. Rows of removed organisations
//! (`owner_removed`, where the column exists) are left out, as Zitadel's queries leave them out.
//! Zitadel's query has no `ORDER BY` (SEMANTICS.md Z5); links are exported in creation order
//! (`creation_date`, then `sequence`).

use crate::db::{self, Tls, PROGRESS_EVERY};
use crate::document::Document;
use crate::project_members::{self, Scope};
use postgres::Client;

const WHAT: &str = "Zitadel";

/// Reads the projections of one instance at `url` into `doc`.
pub fn export(
    url: &str,
    tls: &Tls,
    instance: Option<&str>,
    details: Details,
    doc: &mut Document,
) -> Result<(), String> {
    let mut client = db::connect(WHAT, url, tls)?;
    let Projections { users, humans, links, instance_members, org_members, project_members, state_source } =
        Projections::find(&mut client, details)?;
    db::begin_consistent(&mut client, WHAT)?;
    let instance = choose_instance(&mut client, &users, &links, instance)?;
    let removed = |table: &str, client: &mut Client| -> Result<&'static str, String> {
        Ok(if has_column(client, table, "owner_removed")? { " AND NOT owner_removed" } else { "" })
    };

    let user_filter = removed(&users, &mut client)?.replace("owner_removed", "u.owner_removed");
    let sql = format!(
        "SELECT u.id, u.resource_owner, h.first_name, h.last_name FROM {users} u \
         LEFT JOIN {humans} h ON h.user_id = u.id AND h.instance_id = u.instance_id \
         WHERE u.instance_id = $1{user_filter} ORDER BY u.creation_date, u.id COLLATE \"C\""
    );
    db::each_row(&mut client, &sql, &[&instance], &users, |row| {
        let id = db::required(row, 0, &users)?;
        let org = db::required(row, 1, &users)?;
        doc.zitadel_user(id, org, db::text(row, 2, &humans)?, db::text(row, 3, &humans)?);
        Ok(())
    })?;

    doc.section("idpLinks");
    let link_filter = removed(&links, &mut client)?;
    let sql = format!(
        "SELECT user_id, idp_id, external_user_id, display_name FROM {links} \
         WHERE instance_id = $1{link_filter} \
         ORDER BY creation_date, sequence, idp_id COLLATE \"C\", external_user_id COLLATE \"C\""
    );
    let mut count = 0usize;
    db::each_row(&mut client, &sql, &[&instance], &links, |row| {
        let name = db::text(row, 3, &links)?.unwrap_or_default();
        let (user, idp, provided) =
            (db::required(row, 0, &links)?, db::required(row, 1, &links)?, db::required(row, 2, &links)?);
        doc.idp_link(&user, &idp, &provided, &name);
        count += 1;
        if count % PROGRESS_EVERY == 0 {
            eprintln!("zitadel: {count} IdP links read");
        }
        Ok(())
    })?;

    doc.section("zitadelMembers");
    for (table, org) in [(&instance_members, "NULL::text"), (&org_members, "org_id")] {
        let mut filter = String::new();
        for column in ["owner_removed", "user_owner_removed"] {
            if has_column(&mut client, table, column)? {
                filter.push_str(&format!(" AND NOT {column}"));
            }
        }
        let sql = format!(
            "SELECT user_id, {org}, roles FROM {table} WHERE instance_id = $1{filter} \
             ORDER BY creation_date, {org} COLLATE \"C\", user_id COLLATE \"C\""
        );
        db::each_row(&mut client, &sql, &[&instance], table, |row| {
            let user = db::required(row, 0, table)?;
            let org = db::text(row, 1, table)?;
            let roles: Option<Vec<String>> = db::value(row, 2, table)?;
            doc.member(&user, org.as_deref(), None, &roles.unwrap_or_default());
            Ok(())
        })?;
    }
    project_members.read(&mut client, &instance, Scope::All, |m| m.write(doc))?;

    state(&mut client, state_source, &links, &instance, doc)?;
    client.batch_execute("COMMIT").map_err(|e| db::failed(WHAT, &e))
}

/// `projections.<prefix><N>` with the highest `N` (or none) present.
/// The projections an export reads, named as this release names them (the highest version
/// present), and how the release reports `details`: found once per connection, by the one-shot
/// export and by `--follow` alike.
pub(crate) struct Projections {
    pub users: String,
    pub humans: String,
    pub links: String,
    pub instance_members: String,
    pub org_members: String,
    /// Project and project-grant memberships (none where the release has no such projection).
    pub project_members: project_members::Tables,
    pub state_source: StateSource,
}

impl Projections {
    /// Finds them in the database `client` is connected to.
    pub(crate) fn find(client: &mut Client, details: Details) -> Result<Projections, String> {
        let users = latest(client, "users")?;
        let links = latest(client, "idp_user_links")?;
        let instance_members = latest(client, "instance_members")?;
        let org_members = latest(client, "org_members")?;
        let humans = format!("{users}_humans");
        db::require_tables(client, WHAT, &[humans.as_str()], "is this Zitadel's database?")?;
        let state_source = StateSource::of(client, details)?;
        let project_members = project_members::Tables::find(client)?;
        Ok(Projections { users, humans, links, instance_members, org_members, project_members, state_source })
    }
}

pub(crate) fn latest(client: &mut Client, prefix: &str) -> Result<String, String> {
    latest_optional(client, prefix)?.ok_or_else(|| {
        format!("the {WHAT} database has no table projections.{prefix}<N> (is this Zitadel's database?)")
    })
}

/// `projections.<prefix><N>` with the highest `N`, or none where the release has none.
pub(crate) fn latest_optional(client: &mut Client, prefix: &str) -> Result<Option<String>, String> {
    let sql = "SELECT table_name::text FROM information_schema.tables \
               WHERE table_schema = 'projections' AND table_name ~ ('^' || $1 || '[0-9]*$')";
    let rows = client.query(sql, &[&prefix]).map_err(|e| db::failed(WHAT, &e))?;
    let version = |name: &str| name[prefix.len()..].parse::<u64>().unwrap_or(0);
    let names: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    Ok(names.into_iter().max_by_key(|name| version(name)).map(|name| format!("projections.{name}")))
}

pub(crate) fn has_column(client: &mut Client, table: &str, column: &str) -> Result<bool, String> {
    let name = table.trim_start_matches("projections.");
    let sql = "SELECT count(*) FROM information_schema.columns \
               WHERE table_schema = 'projections' AND table_name = $1 AND column_name = $2";
    let row = client.query_one(sql, &[&name, &column]).map_err(|e| db::failed(table, &e))?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// The instance to export: the one asked for, or the only one there is.
pub(crate) fn choose_instance(
    client: &mut Client,
    users: &str,
    links: &str,
    asked: Option<&str>,
) -> Result<String, String> {
    let sql = format!("SELECT instance_id FROM {users} UNION SELECT instance_id FROM {links} ORDER BY 1");
    let rows = client.query(sql.as_str(), &[]).map_err(|e| db::failed(users, &e))?;
    let instances: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    match asked {
        Some(id) if instances.iter().any(|i| i == id) => Ok(id.to_owned()),
        Some(id) => Err(format!("the {WHAT} database has no instance {id} (it has: {})", list(&instances))),
        None if instances.len() <= 1 => Ok(instances.into_iter().next().unwrap_or_default()),
        None => Err(format!(
            "the {WHAT} database holds {} instances: choose one with --zitadel-instance ({})",
            instances.len(),
            list(&instances)
        )),
    }
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    items.join(", ")
}

/// How the Zitadel release in the database reports a projection's state (`--zitadel-details`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Details {
    /// From the schema: `projections.current_states` with a `position` column is read as
    /// [`Details::Position`], anything else as [`Details::Sequence`].
    Auto,
    /// Releases that read `projections.current_states` by position: no processedSequence,
    /// the timestamp is the state's `event_date`.
    Position,
    /// Releases that report the state's sequence: `projections.current_sequences`'
    /// `current_sequence` and `timestamp` (or, where only `projections.current_states` exists,
    /// its `sequence` and `event_date`).
    Sequence,
}

/// Where the state is read, and whether its sequence is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StateSource {
    /// `projections.current_states`: `event_date`; the sequence only if `sequence`.
    CurrentStates { sequence: bool },
    /// `projections.current_sequences`: `current_sequence` and `timestamp`.
    CurrentSequences,
}

impl StateSource {
    /// The source `details` asks for, as the schema has it.
    pub(crate) fn of(client: &mut Client, details: Details) -> Result<StateSource, String> {
        let states = has_table(client, "current_states")?;
        let sequences = has_table(client, "current_sequences")?;
        let by_position = states && has_column(client, "projections.current_states", "position")?;
        let source = match details {
            Details::Auto if by_position => Some(StateSource::CurrentStates { sequence: false }),
            Details::Auto | Details::Sequence if sequences => Some(StateSource::CurrentSequences),
            Details::Auto | Details::Sequence if states => Some(StateSource::CurrentStates { sequence: true }),
            Details::Position if states => Some(StateSource::CurrentStates { sequence: false }),
            _ => None,
        };
        source.ok_or_else(|| {
            let wanted = match details {
                Details::Position => "projections.current_states",
                _ => "projections.current_states or projections.current_sequences",
            };
            format!("the {WHAT} database has no table {wanted} (is this Zitadel's database?)")
        })
    }
}

pub(crate) fn has_table(client: &mut Client, name: &str) -> Result<bool, String> {
    let sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'projections' AND table_name = $1";
    let row = client.query_one(sql, &[&name]).map_err(|e| db::failed(WHAT, &e))?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// The IdP-link projection's state for `instance`, read from `source`: the sequence (0 where
/// the release reports none) and the timestamp (UTC, RFC 3339, microseconds as PostgreSQL keeps
/// them). No row, or no timestamp: none (Zitadel then reports `0001-01-01T00:00:00Z`, the
/// snapshot's default).
fn state(
    client: &mut Client,
    source: StateSource,
    links: &str,
    instance: &str,
    doc: &mut Document,
) -> Result<(), String> {
    let (sequence, timestamp) = read_state(client, source, links, instance)?;
    doc.state(sequence, timestamp);
    Ok(())
}

/// The IdP-link projection's state as [`state`] reads it: `(sequence, timestamp)`.
pub(crate) fn read_state(
    client: &mut Client,
    source: StateSource,
    links: &str,
    instance: &str,
) -> Result<(u64, Option<String>), String> {
    const UTC: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";
    let (table, sql) = match source {
        StateSource::CurrentStates { sequence } => (
            "projections.current_states",
            format!(
                "SELECT {}, to_char(event_date AT TIME ZONE 'UTC', {UTC}) FROM projections.current_states \
                 WHERE instance_id = $1 AND projection_name = $2 ORDER BY event_date DESC LIMIT 1",
                if sequence { "sequence" } else { "NULL::bigint" }
            ),
        ),
        StateSource::CurrentSequences => (
            "projections.current_sequences",
            format!(
                "SELECT current_sequence, to_char(timestamp AT TIME ZONE 'UTC', {UTC}) \
                 FROM projections.current_sequences WHERE instance_id = $1 AND projection_name = $2 \
                 ORDER BY current_sequence DESC LIMIT 1"
            ),
        ),
    };
    let rows = client.query(sql.as_str(), &[&instance, &links]).map_err(|e| db::failed(table, &e))?;
    let Some(row) = rows.first() else { return Ok((0, None)) };
    let sequence: Option<i64> = row.try_get(0).map_err(|e| db::failed(table, &e))?;
    let sequence = u64::try_from(sequence.unwrap_or(0)).map_err(|_| format!("reading {table}: a negative sequence"))?;
    Ok((sequence, db::text(row, 1, table)?))
}
