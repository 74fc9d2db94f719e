//! The columns of a loaded snapshot and the load options: plain data, shared by the loader
//! (which fills them) and the rest of the core (which queries and writes them).

use crate::error::{SnapshotError, SnapshotProblem};
use crate::strings::{Strings, Sym, NONE};
use identity_links_text::timestamp::Timestamp;

/// Zitadel's `DefaultQueryLimit`: the page size when a request's limit is 0 or absent.
pub const DEFAULT_LIMIT: u32 = 100;
/// Zitadel's `MaxQueryLimit`: larger limits are refused.
pub const MAX_LIMIT: u32 = 1000;

/// The largest `rank` (`groups[].rank`, `memberships[].rank`): every `u32` but [`NONE`], which
/// marks a row without one while the loader reads.
pub const MAX_RANK: u32 = NONE - 1;

/// The largest snapshot accepted by default, JSON or binary (1 GiB): wasm32 has 4 GiB in all, and
/// loading needs the input plus the tables.
pub const MAX_BYTES: usize = 1 << 30;

/// The options of `SnapshotOptions`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Page size when a request's limit is 0 or absent; 0: no limit.
    pub default_limit: u32,
    /// Largest limit a request may ask for; 0: no maximum.
    pub max_limit: u32,
    /// Largest snapshot input (JSON text or binary form) in bytes.
    pub max_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { default_limit: DEFAULT_LIMIT, max_limit: MAX_LIMIT, max_bytes: MAX_BYTES }
    }
}

impl Limits {
    /// Paging options as Zitadel's `SystemDefaults` reads them: 0 disables the restriction
    /// (no default page size — all rows — or no maximum; `SystemDefaults.QueryLimit` in
    /// zitadel/zitadel).
    pub fn new(default_limit: u32, max_limit: u32) -> Limits {
        Limits { default_limit, max_limit, max_bytes: MAX_BYTES }
    }

    /// Refuses an input larger than `max_bytes` (without probing the memory: for input counted
    /// as it arrives).
    pub fn check_size(&self, bytes: usize, path: &str) -> Result<(), SnapshotError> {
        if bytes > self.max_bytes {
            let why = "larger than the limit (options.maxBytes)";
            return Err(SnapshotError::new(path, SnapshotProblem::Invalid { why }));
        }
        Ok(())
    }

    /// Refuses an input larger than `max_bytes`, or one the memory cannot hold: the probe
    /// reserves as much as the input (the tables need less) and frees it at once, so a load
    /// that would run out of memory part-way is refused up front instead (where the allocator
    /// cannot grow memory at all, Rust aborts: a trap, documented in the README). For the JSON
    /// loader, which needs its whole input; the binary form's reader reserves each table fallibly
    /// instead (a probe grows wasm memory, which never shrinks, by the input's size).
    pub fn check_input(&self, bytes: usize, path: &str) -> Result<(), SnapshotError> {
        self.check_size(bytes, path)?;
        if Vec::<u8>::new().try_reserve_exact(bytes).is_err() {
            return Err(SnapshotError::new(path, SnapshotProblem::Invalid { why: "not enough memory to load it" }));
        }
        Ok(())
    }
}

/// `users`: one row per user, in snapshot order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Users {
    /// `id`
    pub id: Vec<Sym>,
    /// `firstName` or [`NONE`]
    pub first: Vec<Sym>,
    /// `lastName` or [`NONE`]
    pub last: Vec<Sym>,
    /// `org` or [`NONE`]
    pub org: Vec<Sym>,
    /// The hash code of Camunda's `UserDto` for this user (SEMANTICS.md G5), as the bits of a
    /// Java `int`.
    pub java_hash: Vec<u32>,
    /// Row `u`'s groups are `groups[groups_at[u]..groups_at[u + 1]]`, in the groups' order: by
    /// [`Groups::rank`] when the snapshot carries it, else G3's.
    pub groups_at: Vec<u32>,
    /// Group rows, per user.
    pub groups: Vec<u32>,
    /// Row `u`'s IdP links are `idp[idp_at[u]..idp_at[u + 1]]`, in creation order.
    pub idp_at: Vec<u32>,
    /// IdP link rows, per user.
    pub idp: Vec<u32>,
}

/// `groups`: one row per group, in snapshot order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Groups {
    /// `id`
    pub id: Vec<Sym>,
    /// `name` or [`NONE`]
    pub name: Vec<Sym>,
    /// Row `g`'s members are `members[members_at[g]..members_at[g + 1]]`: by
    /// [`Groups::member_rank`] when the snapshot carries it, else ascending by id (G5).
    pub members_at: Vec<u32>,
    /// User rows, per group.
    pub members: Vec<u32>,
    /// The source database's order of the groups (`groups[].rank`): one per group, or empty
    /// when the snapshot carries none. Camunda's group query sorts by name in SQL
    /// (`ORDER BY RES.NAME_ asc`), so by the source database's collation and NULL placement,
    /// which no rule of ours can know: an exporter records the result as ranks, and groups are
    /// then ordered by rank, equal ranks by id (UTF-16 code units, as G3 breaks ties).
    pub rank: Vec<u32>,
    /// The source database's order of each group's members (`memberships[].rank`), parallel
    /// to [`Groups::members`], or empty when the snapshot carries none. Camunda's user query
    /// sorts members by `RES.ID_ asc` in SQL (the database's collation again); members are
    /// then ordered by rank, equal ranks by id.
    pub member_rank: Vec<u32>,
}

/// `tasks` and their stored identity links.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tasks {
    /// `id`
    pub id: Vec<Sym>,
    /// `assignee` or [`NONE`]
    pub assignee: Vec<Sym>,
    /// `owner` or [`NONE`]
    pub owner: Vec<Sym>,
    /// Task `t`'s links are rows `links_at[t]..links_at[t + 1]` of the link columns.
    pub links_at: Vec<u32>,
    /// The link's `userId` or `groupId`.
    pub link_ref: Vec<Sym>,
    /// The link's `type` symbol shifted left by one, with bit 0 set for a group link.
    pub link_type: Vec<u32>,
    /// Each task's `processDefinitionKey` (Camunda's `ACT_RE_PROCDEF.KEY_` of the task's
    /// definition) or [`NONE`]; empty when no task carries one.
    pub definition: Vec<Sym>,
}

/// Camunda's authorization types (`ACT_RU_AUTHORIZATION.TYPE_`): global, grant, revoke.
pub const AUTH_GLOBAL: u32 = 0;
/// See [`AUTH_GLOBAL`].
pub const AUTH_GRANT: u32 = 1;
/// See [`AUTH_GLOBAL`].
pub const AUTH_REVOKE: u32 = 2;
/// The bit of [`Authorizations::kind`] that marks a group's row.
pub const AUTH_GROUP_BIT: u32 = 4;
/// The resource types a snapshot carries (`Resources` in Camunda): User, Group,
/// ProcessDefinition, Task.
pub const RESOURCE_TYPES: [u32; 4] = [1, 2, 6, 7];

/// `authorizations` (Camunda's `ACT_RU_AUTHORIZATION` rows for the four resource types the
/// queries check) and `authorizationEnabled`. Rows are sorted by [`Authorizations::key`] (their
/// order in the snapshot changes no answer), so that the rows of one owner and resource are
/// found by binary search.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorizations {
    /// `userId` or `groupId` (`"*"` for a global row).
    pub owner: Vec<Sym>,
    /// `type` (bits 0-1), [`AUTH_GROUP_BIT`] for a group's row, `resourceType` shifted left by 3.
    pub kind: Vec<u32>,
    /// `resourceId` (`"*"` for every id).
    pub resource: Vec<Sym>,
    /// `permissions`: the bits of `PERMS_` (a Java `int`).
    pub perms: Vec<u32>,
    /// `[1]` when `authorizationEnabled` is true, else empty (Camunda's default: off).
    pub enabled: Vec<u32>,
}

impl Authorizations {
    /// Row `i`'s sort key: owner, group bit and resource type, resource id, type.
    #[inline]
    pub fn key(&self, i: usize) -> (u32, u32, u32, u32) {
        let kind = self.kind.get(i).copied().unwrap_or(0);
        let at = |c: &[u32]| c.get(i).copied().unwrap_or(NONE);
        (at(&self.owner), kind >> 2, at(&self.resource), kind & 3)
    }

    /// Whether authorization checks are on (`authorizationEnabled`).
    pub fn is_enabled(&self) -> bool {
        self.enabled.first() == Some(&1)
    }
}

/// `zitadelMembers`: Zitadel's instance, organisation and project memberships with their roles
/// (`projections.instance_members*`, `org_members*`), in snapshot order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Members {
    /// `userId`
    pub user: Vec<Sym>,
    /// `org`, or [`NONE`] for an instance membership.
    pub org: Vec<Sym>,
    /// `project` (a project or project-grant membership, scoped to it), or [`NONE`].
    pub project: Vec<Sym>,
    /// Row `m`'s roles are `roles[roles_at[m]..roles_at[m + 1]]` (empty when there are no rows).
    pub roles_at: Vec<u32>,
    /// Role names.
    pub roles: Vec<Sym>,
}

/// `idpLinks`, in snapshot (creation) order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IdpLinks {
    /// The owning user's row.
    pub user: Vec<u32>,
    /// `idpId`
    pub idp_id: Vec<Sym>,
    /// `providedUserId`
    pub provided_id: Vec<Sym>,
    /// `providedUserName`
    pub provided_name: Vec<Sym>,
}

/// Row numbers by symbol: `user[s]` is the row of the user whose id is symbol `s`, or [`NONE`].
/// Groups have none: no query looks a group up by id (the binary form writes their column from
/// `groups.id`, and reading checks it and lets it go).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BySym {
    /// User rows.
    pub user: Vec<u32>,
    /// Task rows.
    pub task: Vec<u32>,
}

impl BySym {
    /// The row for `sym` in `column`, if any.
    #[inline]
    pub fn row(column: &[u32], sym: Sym) -> Option<usize> {
        column.get(sym as usize).copied().filter(|&r| r != NONE).map(|r| r as usize)
    }
}

/// Every table of a loaded snapshot: what [`crate::load::load`] builds (but for the columns the
/// core derives, which it leaves empty) and the core's `Snapshot` holds, with the load options
/// beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tables {
    /// Every string.
    pub strings: Strings,
    /// Zitadel's `processedSequence`.
    pub sequence: u64,
    /// Zitadel's `details.timestamp`.
    pub timestamp: Timestamp,
    /// Users.
    pub users: Users,
    /// Groups.
    pub groups: Groups,
    /// Tasks and identity links.
    pub tasks: Tasks,
    /// IdP links.
    pub idp: IdpLinks,
    /// Camunda's authorizations and its authorization flag.
    pub authz: Authorizations,
    /// Zitadel's memberships.
    pub members: Members,
    /// Lookup by id.
    pub by_sym: BySym,
}

/// The slice `[at[i], at[i + 1])` of `items`: an index's rows for entity `i` (empty if the
/// index is inconsistent, which validation of the binary form rules out).
#[inline]
pub fn range<'a>(at: &[u32], items: &'a [u32], i: usize) -> &'a [u32] {
    match (at.get(i), at.get(i + 1)) {
        (Some(&from), Some(&to)) => items.get(from as usize..to as usize).unwrap_or(&[]),
        _ => &[],
    }
}
