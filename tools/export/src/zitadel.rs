//! Reading Zitadel's projections (zitadel/zitadel, `internal/query/projection/`):
//! - `user.go`: `projections.users<N>` (`id`, `resource_owner`, `instance_id`, `creation_date`)
//!   and `projections.users<N>_humans` (`user_id`, `instance_id`, `first_name`, `last_name`);
//!   machine users have no row there and no names.
//! - `idp_user_link.go`: `projections.idp_user_links<N>` (`instance_id`, `idp_id`, `user_id`,
//!   `external_user_id`, `display_name`, `creation_date`, `sequence`).
//! - `current_state.go` (`internal/query/`): `projections.current_states` (`projection_name`,
//!   `instance_id`, `event_date`, `sequence`): the IdP-link projection's row gives the snapshot's
//!   `timestamp` (`event_date`: what `ListIDPLinks` reports as `details.timestamp`) and
//!   `sequence` (`details.processedSequence`).
//!
//! The projections' names carry a version that changes between releases (`users8`, `users14`,
//! `idp_user_links3`): the highest one present is read. Rows of removed organisations
//! (`owner_removed`, where the column exists) are left out, as Zitadel's queries leave them out.
//! Zitadel's query has no `ORDER BY` (SEMANTICS.md Z5); links are exported in creation order
//! (`creation_date`, then `sequence`).

use crate::db::{self, Tls, PROGRESS_EVERY};
use crate::document::Document;
use postgres::Client;

const WHAT: &str = "Zitadel";

/// Reads the projections of one instance at `url` into `doc`.
pub fn export(url: &str, tls: &Tls, instance: Option<&str>, doc: &mut Document) -> Result<(), String> {
    let mut client = db::connect(WHAT, url, tls)?;
    let users = latest(&mut client, "users")?;
    let links = latest(&mut client, "idp_user_links")?;
    let humans = format!("{users}_humans");
    let tables = [humans.as_str(), "projections.current_states"];
    db::require_tables(&mut client, WHAT, &tables, "is this Zitadel's database?")?;
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

    state(&mut client, &links, &instance, doc)?;
    client.batch_execute("COMMIT").map_err(|e| db::failed(WHAT, &e))
}

/// `projections.<prefix><N>` with the highest `N` (or none) present.
fn latest(client: &mut Client, prefix: &str) -> Result<String, String> {
    let sql = "SELECT table_name::text FROM information_schema.tables \
               WHERE table_schema = 'projections' AND table_name ~ ('^' || $1 || '[0-9]*$')";
    let rows = client.query(sql, &[&prefix]).map_err(|e| db::failed(WHAT, &e))?;
    let version = |name: &str| name[prefix.len()..].parse::<u64>().unwrap_or(0);
    let names: Vec<String> = rows.iter().map(|r| r.get::<_, String>(0)).collect();
    names.into_iter().max_by_key(|name| version(name)).map(|name| format!("projections.{name}")).ok_or_else(|| {
        format!("the {WHAT} database has no table projections.{prefix}<N> (is this Zitadel's database?)")
    })
}

fn has_column(client: &mut Client, table: &str, column: &str) -> Result<bool, String> {
    let name = table.trim_start_matches("projections.");
    let sql = "SELECT count(*) FROM information_schema.columns \
               WHERE table_schema = 'projections' AND table_name = $1 AND column_name = $2";
    let row = client.query_one(sql, &[&name, &column]).map_err(|e| db::failed(table, &e))?;
    Ok(row.get::<_, i64>(0) > 0)
}

/// The instance to export: the one asked for, or the only one there is.
fn choose_instance(client: &mut Client, users: &str, links: &str, asked: Option<&str>) -> Result<String, String> {
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

/// The IdP-link projection's state for `instance`: `sequence` and `event_date` (UTC, RFC 3339,
/// microseconds as PostgreSQL keeps them). No row: sequence 0 and no timestamp (Zitadel then
/// reports `0001-01-01T00:00:00Z`, the snapshot's default).
fn state(client: &mut Client, links: &str, instance: &str, doc: &mut Document) -> Result<(), String> {
    let sql = "SELECT sequence, to_char(event_date AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
               FROM projections.current_states WHERE instance_id = $1 AND projection_name = $2 \
               ORDER BY event_date DESC LIMIT 1";
    let rows = client.query(sql, &[&instance, &links]).map_err(|e| db::failed("projections.current_states", &e))?;
    let Some(row) = rows.first() else {
        doc.state(0, None);
        return Ok(());
    };
    let sequence: Option<i64> = row.try_get(0).map_err(|e| db::failed("projections.current_states", &e))?;
    let sequence = u64::try_from(sequence.unwrap_or(0))
        .map_err(|_| "reading projections.current_states: a negative sequence".to_owned())?;
    doc.state(sequence, db::text(row, 1, "projections.current_states")?);
    Ok(())
}
