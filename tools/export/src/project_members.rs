//! Zitadel's project and project-grant memberships, as the membership search that checks a
//! caller's permissions finds them (zitadel/zitadel):
//!
//! - `internal/query/projection/project_member.go` and `project_grant_member.go` (with
//!   `member.go`'s columns): `projections.project_members<N>` (`user_id`, `roles`,
//!   `resource_owner` the project's organisation, `project_id`, `creation_date`) and
//!   `projections.project_grant_members<N>` (the same with `grant_id` and `granted_org`).
//! - `internal/authz/repository/eventsourcing/eventstore/user_membership.go`
//!   (`searchUserMemberships`) and `internal/query/user_membership.go` (`Memberships`): the
//!   caller's memberships whose `resource_owner` is the organisation checked (or the instance),
//!   or, for a grant, whose granted organisation is: a project membership counts in its project's
//!   organisation, a grant membership in the project's and in the granted one.
//! - `internal/api/authz/permissions.go` (`roleWithContext`, `addRoleContextIDToPerm`): their
//!   permissions carry the project's id, or the grant's, as context; `user.read` with a context
//!   never matches a user being read, so a caller whose only `user.read` comes from them is
//!   refused with AUTH-Swrgg2 (SEMANTICS.md N3).
//!
//! So each becomes a `zitadelMembers` row with `org` and `project` (the context: the project's
//! id, or the grant's), and a grant membership a second row for the granted organisation. The
//! granted organisation is read as Zitadel's query reads it, from `projections.project_grants<N>`
//! (`granted_org_id`, joined by grant, project and instance); where the release has no such
//! table, from the member's own `granted_org`. Rows of removed owners are left out where the
//! release marks them (`owner_removed`, `user_owner_removed`, and a grant's
//! `granted_org_removed`), as Zitadel's query leaves them out. Releases without these projections
//! export none.

use crate::db;
use crate::document::Document;
use crate::zitadel::{has_column, latest_optional};
use postgres::types::ToSql;
use postgres::Client;

/// A project or project-grant membership.
#[derive(Clone, Debug, PartialEq)]
pub struct ProjectMember {
    /// A project grant's membership (else a project's).
    pub grant: bool,
    pub user: String,
    /// The project's id, or the grant's: the context of its permissions.
    pub context: String,
    /// The project (a grant's too): what a change of the project re-reads.
    pub project: String,
    /// The project's organisation (`resource_owner`).
    pub org: String,
    /// A grant's granted organisation (none for a project membership).
    pub granted: Option<String>,
    /// `creation_date` in µs (none: NULL, ordered last as PostgreSQL orders it).
    pub created: Option<i64>,
    pub roles: Vec<String>,
}

impl ProjectMember {
    /// The organisations it is found in: the project's, then a grant's granted one where it is
    /// another.
    pub fn orgs(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.org.as_str()).chain(self.granted.as_deref().filter(|g| *g != self.org))
    }

    /// Its place among the rows: the projects' before the grants', each table by creation,
    /// context, project and user (the export's `ORDER BY`).
    pub fn order(&self) -> (bool, (bool, i64), &str, &str, &str) {
        (self.grant, (self.created.is_none(), self.created.unwrap_or(0)), &self.context, &self.project, &self.user)
    }

    /// Writes its `zitadelMembers` rows into `d`'s open section: one per organisation it is found
    /// in, with its context as `project` (the one-shot export and the follower alike).
    pub fn write(&self, d: &mut Document) {
        for org in self.orgs() {
            d.member(&self.user, Some(org), Some(&self.context), &self.roles);
        }
    }

    /// Its key: what tells it from every other row of the two tables.
    pub fn key(&self) -> (bool, String, String, String) {
        (self.grant, self.context.clone(), self.project.clone(), self.user.clone())
    }
}

/// Which memberships a read covers.
pub enum Scope<'a> {
    All,
    Users(&'a [String]),
    Projects(&'a [String]),
    /// Those found in these organisations (the project's, or a grant's granted one).
    Orgs(&'a [String]),
}

/// One of the two projections as this release names it, with how to read it.
struct Table {
    name: String,
    /// What leaves out removed owners' rows (`m` the member's row).
    removed: String,
    /// The join that gives a grant's granted organisation (the joined projection's name, the
    /// join), and its expression.
    joined: Option<String>,
    join: String,
    granted: String,
}

/// The two projections (either may be absent in a release).
pub struct Tables {
    projects: Option<Table>,
    grants: Option<Table>,
}

impl Tables {
    pub fn find(client: &mut Client) -> Result<Tables, String> {
        let mut find = |prefix: &str, removed_columns: &[&str]| -> Result<Option<Table>, String> {
            let Some(name) = latest_optional(client, prefix)? else { return Ok(None) };
            let mut removed = String::new();
            for column in removed_columns {
                if has_column(client, &name, column)? {
                    removed.push_str(&format!(" AND NOT m.{column}"));
                }
            }
            Ok(Some(Table { name, removed, joined: None, join: String::new(), granted: "NULL::text".to_owned() }))
        };
        let projects = find("project_members", &["owner_removed", "user_owner_removed"])?;
        let mut grants =
            find("project_grant_members", &["owner_removed", "user_owner_removed", "granted_org_removed"])?;
        if let Some(table) = &mut grants {
            match latest_optional(client, "project_grants")? {
                Some(g) if has_column(client, &g, "granted_org_id")? => {
                    table.join = format!(
                        " LEFT JOIN {g} g ON g.grant_id = m.grant_id AND g.project_id = m.project_id \
                         AND g.instance_id = m.instance_id"
                    );
                    table.granted = "g.granted_org_id".to_owned();
                    table.joined = Some(g);
                }
                _ if has_column(client, &table.name, "granted_org")? => table.granted = "m.granted_org".to_owned(),
                _ => {}
            }
        }
        Ok(Tables { projects, grants })
    }

    /// The projections read (for their progress in `projections.current_states`: a grant's
    /// granted organisation is read once the grants' projection has its event too).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        let tables = [&self.projects, &self.grants].into_iter().flatten();
        tables.flat_map(|table| std::iter::once(table.name.as_str()).chain(table.joined.as_deref()))
    }

    /// The project memberships of `instance` in `scope`, then the grant memberships, each in
    /// creation order, to `each`.
    pub fn read(
        &self,
        client: &mut Client,
        instance: &str,
        scope: Scope,
        mut each: impl FnMut(ProjectMember),
    ) -> Result<(), String> {
        let all = matches!(scope, Scope::All);
        let keys: &[String] = match scope {
            Scope::All => &[],
            Scope::Users(ids) | Scope::Projects(ids) | Scope::Orgs(ids) => ids,
        };
        let params: Vec<&(dyn ToSql + Sync)> = if all { vec![&instance] } else { vec![&instance, &keys] };
        let created = "round(extract(epoch from m.creation_date) * 1000000)::bigint";
        // The projects' table, then the grants': the context column.
        for (found, grant, context) in [(&self.projects, false, "m.project_id"), (&self.grants, true, "m.grant_id")] {
            let Some(Table { name, removed, join, granted, .. }) = found else { continue };
            let filter = match scope {
                Scope::All => String::new(),
                Scope::Users(_) => " AND m.user_id = ANY($2)".to_owned(),
                Scope::Projects(_) => " AND m.project_id = ANY($2)".to_owned(),
                Scope::Orgs(_) => format!(" AND (m.resource_owner = ANY($2) OR {granted} = ANY($2))"),
            };
            let sql = format!(
                "SELECT m.user_id, {context}, m.project_id, m.resource_owner, {granted}, {created}, m.roles \
                 FROM {name} m{join} WHERE m.instance_id = $1{removed}{filter} \
                 ORDER BY m.creation_date, {context} COLLATE \"C\", m.project_id COLLATE \"C\", m.user_id COLLATE \"C\""
            );
            db::each_row(client, &sql, &params, name, |row| {
                each(member(row, name, grant)?);
                Ok(())
            })?;
        }
        Ok(())
    }
}

/// A row of [`Tables::read`]'s selects.
fn member(row: &postgres::Row, table: &str, grant: bool) -> Result<ProjectMember, String> {
    let roles: Option<Vec<String>> = db::value(row, 6, table)?;
    Ok(ProjectMember {
        grant,
        user: db::required(row, 0, table)?,
        context: db::required(row, 1, table)?,
        project: db::required(row, 2, table)?,
        org: db::required(row, 3, table)?,
        granted: db::text(row, 4, table)?,
        created: db::value(row, 5, table)?,
        roles: roles.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(org: &str, granted: Option<&str>) -> ProjectMember {
        ProjectMember {
            grant: granted.is_some(),
            user: "u".into(),
            context: "g".into(),
            project: "p".into(),
            org: org.into(),
            granted: granted.map(str::to_owned),
            created: None,
            roles: vec![],
        }
    }

    #[test]
    fn a_grant_membership_is_found_in_the_project_organisation_and_the_granted_one() {
        assert_eq!(member("acme", None).orgs().collect::<Vec<_>>(), ["acme"]);
        assert_eq!(member("acme", Some("globex")).orgs().collect::<Vec<_>>(), ["acme", "globex"]);
        assert_eq!(member("acme", Some("acme")).orgs().collect::<Vec<_>>(), ["acme"], "one row where they are one");
    }
}
