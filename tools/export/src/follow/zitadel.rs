//! Following Zitadel's projections. What Zitadel serves is its projections; what changed them is
//! its events (zitadel/zitadel, `cmd/initialise/sql/postgres/08_events_table.sql`:
//! `eventstore.events2` `instance_id`, `aggregate_type`, `aggregate_id`, `created_at`,
//! `position`), and how far each projection has got is its row in `projections.current_states`
//! (`internal/query/current_state.go`: `position`, `event_date`, per `projection_name` and
//! `instance_id`). Each step, in one consistent state:
//!
//! 1. the progress: the lowest `position` of the projections read (users, IdP links, instance,
//!    organisation, project and project-grant members) for the instance: every event up to it is
//!    in all of them;
//! 2. the events of the instance up to the progress and after the cursor — or within the overlap
//!    window (`created_at` at least the newest `created_at` seen minus `--overlap`), so that an
//!    event whose transaction committed after a later one had been seen is still read;
//! 3. the keys they name, re-read from the projections: a `user` aggregate is that user (its
//!    row, names, IdP links and memberships); an `org` aggregate is every user of the
//!    organisation (in the followed state or in the projection) and its members (an organisation
//!    removed takes its users, links and members with it, its projects' and grants' members
//!    too); a `project` aggregate (its members, its grants and their members) is the project's
//!    memberships and its grants' (its applications' and roles' events too, which change none of
//!    them); an `instance` aggregate (instance members, instance-wide IdPs whose removal deletes
//!    their links) re-reads the whole instance; other aggregates (sessions, …) change nothing the
//!    snapshot holds;
//! 4. the IdP-link projection's state (`details`), every step.
//!
//! Without `eventstore.events2` or a `position` column in `projections.current_states` (older
//! releases), every step re-reads the whole instance.

use super::model::{micros, replace_picked, IdpLink, Member, Zitadel, ZitadelUser};
use crate::db::{self, Tls};
use crate::project_members::{self, ProjectMember, Scope};
use crate::zitadel::{choose_instance, has_column, has_table, read_state, Details, Projections, StateSource};
use postgres::types::ToSql;
use postgres::Client;
use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

const WHAT: &str = "Zitadel";
const MICROS: &str = "round(extract(epoch from {}) * 1000000)::bigint";

/// Which keys a re-read covers.
enum Keys<'a> {
    All,
    Users(&'a [String]),
}

/// The cursor: the progress last read up to, and the newest `created_at` among the events read.
#[derive(Clone, Debug, Default)]
pub struct Cursor {
    pub position: Option<String>,
    pub created_at: Option<String>,
}

/// A connection to Zitadel's database that follows one instance.
pub struct Source {
    client: Client,
    instance: String,
    users: String,
    humans: String,
    links: String,
    instance_members: String,
    org_members: String,
    user_filter: String,
    link_filter: String,
    member_filters: [String; 2],
    project_members: project_members::Tables,
    state_source: StateSource,
    events: bool,
    overlap: Duration,
    pub cursor: Cursor,
    /// How this server says which transactions have ended ([`db::snapshot_function`]).
    snapshot: &'static str,
}

/// What a step found.
pub struct Step {
    pub changed: usize,
    /// The newest `created_at` of the events read this step (RFC 3339), if any.
    pub newest_event: Option<String>,
}

impl Source {
    pub fn connect(
        url: &str,
        tls: &Tls,
        instance: Option<&str>,
        details: Details,
        overlap: Duration,
    ) -> Result<Source, String> {
        let mut client = db::connect(WHAT, url, tls)?;
        let Projections { users, humans, links, instance_members, org_members, project_members, state_source } =
            Projections::find(&mut client, details)?;
        let instance = choose_instance(&mut client, &users, &links, instance)?;
        let removed = |client: &mut Client, table: &str, alias: &str| -> Result<String, String> {
            Ok(if has_column(client, table, "owner_removed")? {
                format!(" AND NOT {alias}owner_removed")
            } else {
                String::new()
            })
        };
        let user_filter = removed(&mut client, &users, "u.")?;
        let link_filter = removed(&mut client, &links, "")?;
        let mut member_filters = [String::new(), String::new()];
        for (filter, table) in member_filters.iter_mut().zip([&instance_members, &org_members]) {
            for column in ["owner_removed", "user_owner_removed"] {
                if has_column(&mut client, table, column)? {
                    filter.push_str(&format!(" AND NOT {column}"));
                }
            }
        }
        let events = client
            .query_one("SELECT to_regclass('eventstore.events2') IS NOT NULL", &[])
            .map_err(|e| db::failed(WHAT, &e))?
            .get::<_, bool>(0)
            && has_table(&mut client, "current_states")?
            && has_column(&mut client, "projections.current_states", "position")?;
        let snapshot = db::snapshot_function(&mut client, WHAT)?;
        Ok(Source {
            client,
            instance,
            users,
            humans,
            links,
            instance_members,
            org_members,
            user_filter,
            link_filter,
            member_filters,
            project_members,
            state_source,
            events,
            overlap,
            cursor: Cursor::default(),
            snapshot,
        })
    }

    /// One step into `m` (every key when `full`, or when the release keeps no events to follow);
    /// `None` when, not `full`, no transaction has ended since `m` was read
    /// ([`db::ended_transactions`]): then nothing is read.
    pub fn step(&mut self, m: &mut Zitadel, full: bool) -> Result<Option<Step>, String> {
        self.client
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .map_err(|e| db::failed(WHAT, &e))?;
        let step = self.read_unless_quiet(m, full);
        let end = if step.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.client.batch_execute(end).map_err(|e| db::failed(WHAT, &e))?;
        step
    }

    /// [`Source::read`], unless (not `full`) the transactions ended are those `m` was read at.
    /// `m` keeps them only once it is read: a read that fails leaves none. The events within
    /// the overlap window that a read would find again name keys read already, unchanged since.
    fn read_unless_quiet(&mut self, m: &mut Zitadel, full: bool) -> Result<Option<Step>, String> {
        let ended = db::ended_transactions(&mut self.client, WHAT, self.snapshot)?;
        if !full && ended.is_some() && m.read_at == ended {
            return Ok(None);
        }
        m.read_at = None;
        let step = self.read(m, full)?;
        m.read_at = ended;
        Ok(Some(step))
    }

    fn read(&mut self, m: &mut Zitadel, full: bool) -> Result<Step, String> {
        let mut step = Step { changed: 0, newest_event: None };
        let progress = if self.events { self.progress()? } else { None };
        let mut everything = full || !self.events;
        let mut users: BTreeSet<String> = BTreeSet::new();
        let mut orgs: BTreeSet<String> = BTreeSet::new();
        let mut projects: BTreeSet<String> = BTreeSet::new();
        if !everything {
            if let Some(progress) = &progress {
                let overlap = format!("{} microseconds", self.overlap.as_micros());
                let sql = "SELECT aggregate_type, aggregate_id, \
                           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') \
                           FROM eventstore.events2 WHERE instance_id = $1 AND position <= $2::text::numeric \
                           AND aggregate_type IN ('user', 'org', 'project', 'instance') \
                           AND ($3::text IS NULL OR position > $3::text::numeric \
                                OR created_at >= $4::text::timestamptz - $5::text::interval)";
                let params: [&(dyn ToSql + Sync); 5] =
                    [&self.instance, progress, &self.cursor.position, &self.cursor.created_at, &overlap];
                db::each_row(&mut self.client, sql, &params, "eventstore.events2", |row| {
                    let kind = db::required(row, 0, "eventstore.events2")?;
                    let id = db::required(row, 1, "eventstore.events2")?;
                    let created = db::required(row, 2, "eventstore.events2")?;
                    if step.newest_event.as_ref().is_none_or(|n| *n < created) {
                        step.newest_event = Some(created);
                    }
                    match kind.as_str() {
                        "user" => users.insert(id),
                        "org" => orgs.insert(id),
                        "project" => projects.insert(id),
                        _ => {
                            everything = true;
                            true
                        }
                    };
                    Ok(())
                })?;
            }
        }
        if everything {
            *m = Zitadel::default();
            self.read_users(m, Keys::All)?;
            step.changed = m.users.len() + m.links.len();
        } else {
            if !orgs.is_empty() {
                let orgs: Vec<String> = orgs.iter().cloned().collect();
                users.extend(m.users.iter().filter(|(_, u)| orgs.contains(&u.org)).map(|(id, _)| id.clone()));
                let sql = format!("SELECT id FROM {} WHERE instance_id = $1 AND resource_owner = ANY($2)", self.users);
                let table = self.users.clone();
                db::each_row(&mut self.client, &sql, &[&self.instance, &orgs], &table, |row| {
                    users.insert(db::required(row, 0, &table)?);
                    Ok(())
                })?;
                m.org_members.retain(|(org, _), _| !orgs.contains(org));
                self.read_org_members(m, &orgs)?;
                self.read_project_members(m, Scope::Orgs(&orgs), |p| p.orgs().any(|o| orgs.iter().any(|x| x == o)))?;
            }
            if !projects.is_empty() {
                let projects: Vec<String> = projects.iter().cloned().collect();
                self.read_project_members(m, Scope::Projects(&projects), |p| projects.contains(&p.project))?;
            }
            let users: Vec<String> = users.into_iter().collect();
            step.changed = users.len() + orgs.len() + projects.len();
            if !users.is_empty() {
                self.read_users(m, Keys::Users(&users))?;
            }
        }
        if let Some(progress) = progress {
            self.cursor.position = Some(progress);
        }
        if let Some(newest) = &step.newest_event {
            if self.cursor.created_at.as_ref().is_none_or(|c| c < newest) {
                self.cursor.created_at = Some(newest.clone());
            }
        }
        let (sequence, timestamp) = read_state(&mut self.client, self.state_source, &self.links, &self.instance)?;
        if (sequence, &timestamp) != (m.sequence, &m.timestamp) {
            step.changed += 1;
        }
        (m.sequence, m.timestamp) = (sequence, timestamp);
        Ok(step)
    }

    /// The lowest position of the projections read, for the instance (none before any).
    fn progress(&mut self) -> Result<Option<String>, String> {
        let names: Vec<&str> = [&self.users, &self.links, &self.instance_members, &self.org_members]
            .iter()
            .map(|s| s.as_str())
            .chain(self.project_members.names())
            .collect();
        let sql = "SELECT min(position)::text FROM projections.current_states \
                   WHERE instance_id = $1 AND projection_name = ANY($2)";
        let row = self
            .client
            .query_one(sql, &[&self.instance, &names])
            .map_err(|e| db::failed("projections.current_states", &e))?;
        Ok(row.get(0))
    }

    /// Re-reads `keys`' users, their IdP links and their memberships (the instance's and the
    /// organisations') into `m`, replacing what `m` held for them (each part only where it
    /// changed: `replace_picked`).
    fn read_users(&mut self, m: &mut Zitadel, keys: Keys) -> Result<(), String> {
        let Keys::Users(ids) = keys else { return self.read_into(m, keys) };
        let mut got = Zitadel::default();
        self.read_into(&mut got, keys)?;
        let ids: BTreeSet<&String> = ids.iter().collect();
        replace_picked(&mut m.users, std::mem::take(&mut *got.users), |id, _| ids.contains(id));
        replace_picked(&mut m.links, std::mem::take(&mut *got.links), |_, l| ids.contains(&l.user));
        replace_picked(&mut m.instance_members, std::mem::take(&mut *got.instance_members), |user, _| {
            ids.contains(user)
        });
        replace_picked(&mut m.org_members, std::mem::take(&mut *got.org_members), |(_, user), _| ids.contains(user));
        replace_picked(&mut m.project_members, std::mem::take(&mut *got.project_members), |_, p| ids.contains(&p.user));
        Ok(())
    }

    /// Re-reads the project and project-grant memberships in `scope` into `m`, replacing those
    /// `m` held that `picked` names (the same rows) where they changed.
    fn read_project_members(
        &mut self,
        m: &mut Zitadel,
        scope: Scope,
        picked: impl Fn(&ProjectMember) -> bool,
    ) -> Result<(), String> {
        let mut fresh = HashMap::new();
        self.project_members.read(&mut self.client, &self.instance, scope, |p| {
            fresh.insert(p.key(), p);
        })?;
        replace_picked(&mut m.project_members, fresh, |_, p| picked(p));
        Ok(())
    }

    /// Reads `keys`' users, their IdP links and their memberships into `m` (which holds none of
    /// them).
    fn read_into(&mut self, m: &mut Zitadel, keys: Keys) -> Result<(), String> {
        let (filter_u, filter_l, filter_m) = match keys {
            Keys::All => (String::new(), String::new(), String::new()),
            Keys::Users(_) => (
                " AND u.id = ANY($2)".to_owned(),
                " AND user_id = ANY($2)".to_owned(),
                " AND user_id = ANY($2)".to_owned(),
            ),
        };
        let ids: Vec<String> = match keys {
            Keys::All => Vec::new(),
            Keys::Users(ids) => ids.to_vec(),
        };
        let params: Vec<&(dyn ToSql + Sync)> =
            if ids.is_empty() && matches!(keys, Keys::All) { vec![&self.instance] } else { vec![&self.instance, &ids] };
        let c = &mut self.client;
        let (users, humans) = (&self.users, &self.humans);
        let sql = format!(
            "SELECT u.id, u.resource_owner, h.first_name, h.last_name, {} FROM {users} u \
             LEFT JOIN {humans} h ON h.user_id = u.id AND h.instance_id = u.instance_id \
             WHERE u.instance_id = $1{}{filter_u}",
            MICROS.replace("{}", "u.creation_date"),
            self.user_filter
        );
        db::each_row(c, &sql, &params, users, |row| {
            let user = ZitadelUser {
                created: micros(row.try_get(4).map_err(|e| db::failed(users, &e))?),
                org: db::required(row, 1, users)?,
                first: db::text(row, 2, humans)?,
                last: db::text(row, 3, humans)?,
            };
            m.users.insert(db::required(row, 0, users)?, user);
            Ok(())
        })?;
        let links = &self.links;
        let sql = format!(
            "SELECT user_id, idp_id, external_user_id, display_name, {}, sequence FROM {links} \
             WHERE instance_id = $1{}{filter_l}",
            MICROS.replace("{}", "creation_date"),
            self.link_filter
        );
        db::each_row(c, &sql, &params, links, |row| {
            let link = IdpLink {
                created: micros(row.try_get(4).map_err(|e| db::failed(links, &e))?),
                sequence: micros(row.try_get(5).map_err(|e| db::failed(links, &e))?),
                user: db::required(row, 0, links)?,
                name: db::text(row, 3, links)?.unwrap_or_default(),
            };
            m.links.insert((db::required(row, 1, links)?, db::required(row, 2, links)?), link);
            Ok(())
        })?;
        let table = &self.instance_members;
        let sql = format!(
            "SELECT user_id, roles, {} FROM {table} WHERE instance_id = $1{}{filter_m}",
            MICROS.replace("{}", "creation_date"),
            self.member_filters[0]
        );
        db::each_row(c, &sql, &params, table, |row| {
            let member = member(row, table)?;
            m.instance_members.insert(db::required(row, 0, table)?, member);
            Ok(())
        })?;
        let table = &self.org_members;
        let sql = format!(
            "SELECT user_id, roles, {}, org_id FROM {table} WHERE instance_id = $1{}{filter_m}",
            MICROS.replace("{}", "creation_date"),
            self.member_filters[1]
        );
        db::each_row(c, &sql, &params, table, |row| {
            let member = member(row, table)?;
            m.org_members.insert((db::required(row, 3, table)?, db::required(row, 0, table)?), member);
            Ok(())
        })?;
        let scope = match keys {
            Keys::All => Scope::All,
            Keys::Users(ids) => Scope::Users(ids),
        };
        self.project_members.read(c, &self.instance, scope, |p| {
            m.project_members.insert(p.key(), p);
        })
    }

    /// Re-reads the members of organisations `orgs` into `m`.
    fn read_org_members(&mut self, m: &mut Zitadel, orgs: &[String]) -> Result<(), String> {
        let table = &self.org_members;
        let sql = format!(
            "SELECT user_id, roles, {}, org_id FROM {table} WHERE instance_id = $1{} AND org_id = ANY($2)",
            MICROS.replace("{}", "creation_date"),
            self.member_filters[1]
        );
        db::each_row(&mut self.client, &sql, &[&self.instance, &orgs], table, |row| {
            let member = member(row, table)?;
            m.org_members.insert((db::required(row, 3, table)?, db::required(row, 0, table)?), member);
            Ok(())
        })
    }
}

/// A membership row (`user_id`, `roles`, creation in µs).
fn member(row: &postgres::Row, table: &str) -> Result<Member, String> {
    let roles: Option<Vec<String>> = row.try_get(1).map_err(|e| db::failed(table, &e))?;
    Ok(Member { created: micros(row.try_get(2).map_err(|e| db::failed(table, &e))?), roles: roles.unwrap_or_default() })
}
