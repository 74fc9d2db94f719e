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
//! granted organisation is the projection's own `granted_org` (Zitadel's query joins
//! `project_grants<N>` for it: the same value, which a grant never changes). Releases without
//! these projections export none, as before.

use crate::db;
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
    /// context and user (the export's `ORDER BY`).
    pub fn order(&self) -> (bool, (bool, i64), &str, &str) {
        (self.grant, (self.created.is_none(), self.created.unwrap_or(0)), &self.context, &self.user)
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

/// The two projections as this release names them (either may be absent), with the filter that
/// leaves out removed owners' rows where the release marks them.
pub struct Tables {
    projects: Option<(String, String)>,
    grants: Option<(String, String)>,
}

impl Tables {
    pub fn find(client: &mut Client) -> Result<Tables, String> {
        let mut with_filter = |prefix: &str| -> Result<Option<(String, String)>, String> {
            let Some(table) = latest_optional(client, prefix)? else { return Ok(None) };
            let mut filter = String::new();
            for column in ["owner_removed", "user_owner_removed"] {
                if has_column(client, &table, column)? {
                    filter.push_str(&format!(" AND NOT {column}"));
                }
            }
            Ok(Some((table, filter)))
        };
        Ok(Tables { projects: with_filter("project_members")?, grants: with_filter("project_grant_members")? })
    }

    /// The projections' names (for their progress in `projections.current_states`).
    pub fn names(&self) -> impl Iterator<Item = &str> {
        [&self.projects, &self.grants].into_iter().flatten().map(|(table, _)| table.as_str())
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
        let (keys, [project_filter, grant_filter]): (&[String], [&str; 2]) = match scope {
            Scope::All => (&[], ["", ""]),
            Scope::Users(ids) => (ids, [" AND user_id = ANY($2)"; 2]),
            Scope::Projects(ids) => (ids, [" AND project_id = ANY($2)"; 2]),
            Scope::Orgs(ids) => {
                (ids, [" AND resource_owner = ANY($2)", " AND (resource_owner = ANY($2) OR granted_org = ANY($2))"])
            }
        };
        let params: Vec<&(dyn ToSql + Sync)> = if all { vec![&instance] } else { vec![&instance, &keys] };
        let created = "round(extract(epoch from creation_date) * 1000000)::bigint";
        if let Some((table, removed)) = &self.projects {
            let sql = format!(
                "SELECT user_id, project_id, project_id, resource_owner, NULL::text, {created}, roles FROM {table} \
                 WHERE instance_id = $1{removed}{project_filter} \
                 ORDER BY creation_date, project_id COLLATE \"C\", user_id COLLATE \"C\""
            );
            db::each_row(client, &sql, &params, table, |row| {
                each(member(row, table, false)?);
                Ok(())
            })?;
        }
        if let Some((table, removed)) = &self.grants {
            let sql = format!(
                "SELECT user_id, grant_id, project_id, resource_owner, granted_org, {created}, roles FROM {table} \
                 WHERE instance_id = $1{removed}{grant_filter} \
                 ORDER BY creation_date, grant_id COLLATE \"C\", user_id COLLATE \"C\""
            );
            db::each_row(client, &sql, &params, table, |row| {
                each(member(row, table, true)?);
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
