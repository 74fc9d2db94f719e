//! Callers resolved from the snapshot: who may read what, by the peers' own rules
//! (SEMANTICS.md section 5; docs/semantics.md, "Authorization from the snapshot").
//!
//! **Camunda** (camunda/camunda-bpm-platform): `AuthorizationManager.isAuthorized` runs the
//! `authCheck` SQL of `engine/src/main/resources/org/camunda/bpm/engine/impl/mapping/entity/
//! Authorization.xml`, a `CASE` whose first matching `WHEN` decides: the user's own rows, then
//! (when the user has groups) its groups' rows, then the global rows; at each level the rows
//! on the resource's own id before those on `*`, and at each of those a grant (`TYPE_ = 1`, or
//! `0` for global rows) whose `PERMS_` holds every asked bit (`1`) before a revoke (`TYPE_ = 2`,
//! or a global row) that lacks one (`0`); no row: not authorized. Revokes are checked only when
//! `selectRevokeAuthorization` finds a revoke row of the user or its groups (the default
//! `authorizationCheckRevokes = "auto"`). A task in a process instance needs READ on
//! `Task(id)` or READ_TASK on `ProcessDefinition(key)` (`AuthorizationCommandChecker.
//! checkTaskPermission`), checked as `disjunctiveAtomicChecks`: `COALESCE(task, definition, 0)`,
//! so the task's own answer, grant or revoke, comes first. Authorization disabled
//! (`isAuthorizationEnabled()` false): everything passes. Members of `camunda-admin` read
//! everything through the rows Camunda's setup gives that group (`SetupResource.java`,
//! `CreateAdminUserConfiguration.java`: a grant of ALL on `*` for every resource), not through
//! a bypass: `AuthorizationManager.isAuthorized` never consults `adminGroups`
//! (`isCamundaAdmin` guards only admin-only commands).
//!
//! **Zitadel** (zitadel/zitadel, `internal/api/authz/permissions.go`): `getUserPermissions`
//! searches the caller's memberships in the instance and the target's organisation (none:
//! AUTHZ-cdgFk), maps their roles to permissions (`InternalAuthZ.RolePermissionMappings`,
//! `cmd/defaults.yaml`), project memberships' with the project as context;
//! `checkUserResourcePermissions` then refuses no `user.read` (AUTH-AWfge) and only
//! context-scoped ones (AUTH-Swrgg2).

use super::context::{Caller, CamundaAccess, GrantSource, ReadGrants, Resource, ZitadelAccess, ZitadelMembership};
use crate::error::ZitadelError;
use crate::snapshot::Snapshot;
use identity_links_tables::strings::{Sym, NONE};
use identity_links_tables::tables::{range, BySym, AUTH_GLOBAL, AUTH_GRANT, AUTH_GROUP_BIT, AUTH_REVOKE};

/// Camunda's `Permissions.READ`.
pub const READ: u32 = 2;
/// Camunda's `ProcessDefinitionPermissions.READ_TASK`.
pub const READ_TASK: u32 = 64;
/// Camunda's resource types (`Resources`): `USER`, `GROUP`, `PROCESS_DEFINITION`, `TASK`.
pub const USER: u32 = 1;
/// See [`USER`].
pub const GROUP: u32 = 2;
/// See [`USER`].
pub const PROCESS_DEFINITION: u32 = 6;
/// See [`USER`].
pub const TASK: u32 = 7;

/// The roles of Zitadel's default `InternalAuthZ.RolePermissionMappings` (`cmd/defaults.yaml`
/// in zitadel/zitadel, read at 0011448) whose permissions include `user.read`: e.g. `ORG_OWNER`,
/// `ORG_USER_MANAGER` and `PROJECT_OWNER` do, `ORG_SETTINGS_MANAGER`, `ORG_PROJECT_CREATOR` and
/// `PROJECT_OWNER_GLOBAL` (`user.global.read` only) do not. `handleRequest`'s
/// `auth.zitadel.rolePermissions` replaces the whole mapping, as configuring
/// `ZITADEL_INTERNALAUTHZ_ROLEPERMISSIONMAPPINGS` does in Zitadel ("all the default
/// RolePermissionMappings are lost", the same file says).
pub const USER_READ_ROLES: [&str; 14] = [
    "IAM_OWNER",
    "IAM_OWNER_VIEWER",
    "IAM_ORG_MANAGER",
    "IAM_USER_MANAGER",
    "IAM_LOGIN_CLIENT",
    "ORG_OWNER",
    "ORG_USER_MANAGER",
    "ORG_OWNER_VIEWER",
    "ORG_USER_PERMISSION_EDITOR",
    "ORG_PROJECT_PERMISSION_EDITOR",
    "PROJECT_OWNER",
    "PROJECT_OWNER_VIEWER",
    "PROJECT_GRANT_OWNER",
    "PROJECT_GRANT_OWNER_VIEWER",
];

/// One role of a Zitadel role → permission mapping (`InternalAuthZ.RolePermissionMappings`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoleMapping {
    /// The role, e.g. `ORG_OWNER`.
    pub role: String,
    /// Its permissions, e.g. `user.read` (a `:context` suffix is allowed, as Zitadel writes them).
    pub permissions: Vec<String>,
}

/// Whether `role` grants `user.read` under `mapping` (Zitadel's defaults when `None`).
fn grants_user_read(role: &str, mapping: Option<&[RoleMapping]>) -> bool {
    match mapping {
        None => USER_READ_ROLES.contains(&role),
        // Zitadel compares the permission without its context (`SplitPermission`).
        Some(roles) => roles
            .iter()
            .any(|m| m.role == role && m.permissions.iter().any(|p| p.split(':').next() == Some("user.read"))),
    }
}

/// How a query checks READ on one resource type for a caller (or for no caller).
pub enum ReadCheck<'a> {
    /// No caller, or authorization disabled: everything.
    All,
    /// A context's grants.
    Listed(ReadGrants<'a>),
    /// The snapshot's rows, for the Camunda resource type given.
    Snapshot(&'a CamundaAccess, u32),
}

impl Snapshot {
    /// The Camunda caller `user_id`, its rights resolved from the snapshot: its groups (from
    /// `memberships`), whether authorization is enabled, whether revokes apply to it.
    pub fn camunda_caller(&self, user_id: &str) -> Caller {
        let user = self.strings.lookup(user_id);
        let groups: Vec<Sym> = user
            .and_then(|sym| BySym::row(&self.by_sym.user, sym))
            .map(|row| range(&self.users.groups_at, &self.users.groups, row))
            .unwrap_or(&[])
            .iter()
            .filter_map(|&g| self.groups.id.get(g as usize).copied())
            .collect();
        // `selectRevokeAuthorization`: a revoke row of the user (or of `*`) or of its groups.
        let revokes_of = |owner: Option<Sym>, group: bool| {
            owner.is_some_and(|owner| {
                self.owner_rows(owner).any(|i| {
                    let kind = self.authz.kind[i];
                    kind & 3 == AUTH_REVOKE && (kind & AUTH_GROUP_BIT != 0) == group
                })
            })
        };
        let revokes = revokes_of(user, false)
            || revokes_of(self.strings.lookup("*"), false)
            || groups.iter().any(|&g| revokes_of(Some(g), true));
        let access = CamundaAccess { enabled: self.authz.is_enabled(), user, groups, revokes };
        Caller { user_id: user_id.to_owned(), source: GrantSource::Camunda(access), ..Caller::default() }
    }

    /// The Zitadel caller `user_id`, its memberships from the snapshot with their roles mapped
    /// by `mapping` (Zitadel's defaults when `None`). `permissions` lists what they grant in the
    /// context's form (`user.read`, `user.read@<org>`); the queries check the memberships
    /// themselves ([`GrantSource::Zitadel`]).
    pub fn zitadel_caller(&self, user_id: &str, mapping: Option<&[RoleMapping]>) -> Caller {
        let m = &self.members;
        let mut memberships = Vec::new();
        let mut permissions = Vec::new();
        if let Some(user) = self.strings.lookup(user_id) {
            for i in (0..m.user.len()).filter(|&i| m.user[i] == user) {
                let roles = range(&m.roles_at, &m.roles, i);
                let user_read = roles.iter().any(|&r| grants_user_read(self.str(r), mapping));
                let org = self.opt_str(m.org[i]).map(str::to_owned);
                let project = self.opt_str(m.project[i]).map(str::to_owned);
                if user_read && project.is_none() {
                    let permission = org.as_ref().map_or_else(|| "user.read".to_owned(), |o| format!("user.read@{o}"));
                    if !permissions.contains(&permission) {
                        permissions.push(permission);
                    }
                }
                memberships.push(ZitadelMembership { org, project, user_read });
            }
        }
        let source = GrantSource::Zitadel(ZitadelAccess { memberships });
        Caller { user_id: user_id.to_owned(), permissions, source, ..Caller::default() }
    }

    /// Whether `caller` may read task row `task` (A1, N6): its grants, or the snapshot's rows.
    pub fn caller_reads_task(&self, caller: &Caller, task: usize, task_id: &str) -> bool {
        let GrantSource::Camunda(access) = &caller.source else {
            return caller.can_read(Resource::Task, task_id);
        };
        if !access.enabled {
            return true;
        }
        let own = self.camunda_check(access, TASK, task_id, READ);
        let key = self.tasks.definition.get(task).and_then(|&d| self.opt_str(d));
        match key {
            // A task of a process instance: COALESCE(task, definition, 0).
            Some(key) => own.or_else(|| self.camunda_check(access, PROCESS_DEFINITION, key, READ_TASK)),
            // A standalone task: READ on the task only.
            None => own,
        }
        .unwrap_or(false)
    }

    /// How READ on `resource` is checked for `caller` (A2).
    pub fn read_check<'a>(&self, caller: Option<&'a Caller>, resource: Resource) -> ReadCheck<'a> {
        match caller.map(|c| (c, &c.source)) {
            None => ReadCheck::All,
            Some((_, GrantSource::Camunda(access))) if !access.enabled => ReadCheck::All,
            Some((_, GrantSource::Camunda(access))) => {
                let kind = match resource {
                    Resource::Task => TASK,
                    Resource::Group => GROUP,
                    Resource::User => USER,
                };
                ReadCheck::Snapshot(access, kind)
            }
            Some((c, _)) => ReadCheck::Listed(c.read_grants(resource)),
        }
    }

    /// Whether `check` allows reading the resource `id`.
    pub fn allows(&self, check: &ReadCheck<'_>, id: &str) -> bool {
        match check {
            ReadCheck::All => true,
            ReadCheck::Listed(grants) => grants.allows(id),
            ReadCheck::Snapshot(access, kind) => self.camunda_check(access, *kind, id, READ) == Some(true),
        }
    }

    /// Camunda's `authCheck` for one permission: `Some(true)` (1), `Some(false)` (0) or `None`
    /// (no row decides: null), by the precedence in the module documentation.
    pub fn camunda_check(&self, access: &CamundaAccess, resource_type: u32, id: &str, bits: u32) -> Option<bool> {
        let specific = if id == "*" { None } else { self.strings.lookup(id) };
        let star = self.strings.lookup("*");
        let user: Vec<Sym> = access.user.into_iter().collect();
        let levels: [(&[Sym], bool, u32, u32); 3] = [
            (&user, false, AUTH_GRANT, AUTH_REVOKE),
            (&access.groups, true, AUTH_GRANT, AUTH_REVOKE),
            (star.as_slice(), false, AUTH_GLOBAL, AUTH_GLOBAL),
        ];
        for (owners, group, grant, revoke) in levels {
            for resource in [specific, star].into_iter().flatten() {
                let rows = || owners.iter().flat_map(move |&owner| self.rows_of(owner, group, resource_type, resource));
                if rows().any(|i| self.authz.kind[i] & 3 == grant && self.authz.perms[i] & bits == bits) {
                    return Some(true);
                }
                if access.revokes
                    && rows().any(|i| self.authz.kind[i] & 3 == revoke && self.authz.perms[i] & bits != bits)
                {
                    return Some(false);
                }
            }
        }
        None
    }

    /// The rows (indexes) whose owner is `owner`, by binary search on the sorted rows.
    fn owner_rows(&self, owner: Sym) -> std::ops::Range<usize> {
        let o = &self.authz.owner;
        o.partition_point(|&x| x < owner)..o.partition_point(|&x| x <= owner)
    }

    /// The rows of `owner` (a group's when `group`) on `resource_type` and `resource`.
    fn rows_of(&self, owner: Sym, group: bool, resource_type: u32, resource: Sym) -> std::ops::Range<usize> {
        let wanted = (u32::from(group) | resource_type << 1, resource);
        let rows = self.owner_rows(owner);
        let key = |i: usize| {
            let (_, middle, resource, _) = self.authz.key(i);
            (middle, resource)
        };
        let start = partition(rows.start, rows.end, |i| key(i) < wanted);
        start..partition(start, rows.end, |i| key(i) <= wanted)
    }

    /// Zitadel's check of `user.read` on user row `user` for a caller resolved from the
    /// snapshot (N3): memberships in the instance or the user's organisation, none → 404
    /// AUTHZ-cdgFk; one granting `user.read` outside a project → allowed; only project-scoped
    /// ones → 403 AUTH-Swrgg2; none granting it → 403 AUTH-AWfge.
    pub fn check_zitadel_access(&self, access: &ZitadelAccess, user: usize) -> Result<(), ZitadelError> {
        let org = self.users.org.get(user).copied().filter(|&o| o != NONE).map(|o| self.str(o));
        let relevant: Vec<&ZitadelMembership> =
            access.memberships.iter().filter(|m| m.org.is_none() || m.org.as_deref() == org).collect();
        if relevant.is_empty() {
            return Err(ZitadelError::MEMBERSHIP_NOT_FOUND);
        }
        if relevant.iter().any(|m| m.user_read && m.project.is_none()) {
            return Ok(());
        }
        if relevant.iter().any(|m| m.user_read) {
            return Err(ZitadelError::CONTEXT_PERMISSION_DENIED);
        }
        Err(ZitadelError::PERMISSION_DENIED)
    }
}

/// The first index in `from..to` where `below` turns false (`below` is true, then false).
fn partition(from: usize, to: usize, below: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (from, to);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if below(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
