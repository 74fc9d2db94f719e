//! The loaded snapshot: columnar tables of integer ids over one string table, with the indexes
//! that make every query cost in proportion to its answer.
//!
//! Every column is a flat vector (`u32` symbols and row numbers, [`NONE`] for null), so a
//! million-link snapshot is a few dozen allocations, and the binary form writes the columns as
//! they are.

pub mod binary;
pub mod build;
pub mod canonical;
pub mod load;
pub mod stream;
pub mod strings;
pub mod timestamp;

pub use strings::{Strings, Sym, NONE};
pub use timestamp::Timestamp;

use crate::error::{SnapshotError, SnapshotProblem};

/// Zitadel's `DefaultQueryLimit`: the page size when a request's limit is 0 or absent.
pub const DEFAULT_LIMIT: u32 = 100;
/// Zitadel's `MaxQueryLimit`: larger limits are refused.
pub const MAX_LIMIT: u32 = 1000;

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
    /// cannot grow memory at all, Rust aborts: a trap, documented in the README).
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
    /// Row `u`'s groups are `groups[groups_at[u]..groups_at[u + 1]]`, in G3 order.
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
    /// Row `g`'s members are `members[members_at[g]..members_at[g + 1]]`, ascending by id.
    pub members_at: Vec<u32>,
    /// User rows, per group.
    pub members: Vec<u32>,
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

/// A validated, indexed snapshot, ready for queries.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
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
    /// Lookup by id.
    pub by_sym: BySym,
    /// Paging options.
    pub limits: Limits,
}

/// Row counts, as `Snapshot.stats()` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Users.
    pub users: usize,
    /// Groups.
    pub groups: usize,
    /// Memberships.
    pub memberships: usize,
    /// Tasks.
    pub tasks: usize,
    /// Stored identity links (assignee and owner not counted).
    pub identity_links: usize,
    /// IdP links.
    pub idp_links: usize,
}

impl Stats {
    /// `{"users":..,"groups":..,...}` in the order of API.md.
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"users":{},"groups":{},"memberships":{},"tasks":{},"identityLinks":{},"idpLinks":{}}}"#,
            self.users, self.groups, self.memberships, self.tasks, self.identity_links, self.idp_links
        )
    }
}

impl Snapshot {
    /// Loads a snapshot from JSON text with the default options.
    pub fn from_json(text: &[u8]) -> Result<Snapshot, SnapshotError> {
        load::load(text, Limits::default())
    }

    /// Loads a snapshot from JSON text.
    pub fn from_json_with(text: &[u8], limits: Limits) -> Result<Snapshot, SnapshotError> {
        load::load(text, limits)
    }

    /// Row counts.
    pub fn stats(&self) -> Stats {
        Stats {
            users: self.users.id.len(),
            groups: self.groups.id.len(),
            memberships: self.groups.members.len(),
            tasks: self.tasks.id.len(),
            identity_links: self.tasks.link_ref.len(),
            idp_links: self.idp.user.len(),
        }
    }

    /// `sequence` as decimal text.
    pub fn sequence_text(&self) -> String {
        self.sequence.to_string()
    }

    /// `timestamp` as Zitadel renders it.
    pub fn timestamp_text(&self) -> String {
        self.timestamp.render()
    }

    /// The text of a symbol.
    #[inline]
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.get(sym)
    }

    /// The text of an optional symbol.
    #[inline]
    pub fn opt_str(&self, sym: Sym) -> Option<&str> {
        self.strings.get_opt(sym)
    }
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
