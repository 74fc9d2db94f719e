//! The binary form's layout (its table is in [`super::binary`]): the header, the columns in
//! their order, and the structural checks a snapshot read from bytes must pass. Shared by the
//! writer (`binary`) and the reader (`stream`), so that neither depends on the other.

use super::Snapshot;
use identity_links_tables::error::{SnapshotError, SnapshotProblem};
use identity_links_tables::strings::NONE;
use identity_links_tables::tables::{range, Limits};
use identity_links_text::timestamp::Timestamp;

pub(crate) const MAGIC: &[u8; 8] = b"IDLINKS\0";
/// The format version written: 4 added what authorization needs ([`ADDED_IN_4`]), 3 the
/// source's order ([`ADDED_IN_3`]).
pub(super) const FORMAT: u32 = 4;
/// The version before, still read: its columns are this version's but the last
/// [`ADDED_IN_4`]`.len()`, which it reads as empty (no authorizations, no memberships).
pub(super) const FORMAT_3: u32 = 3;
/// The version before that, still read: its columns are version 3's but the last
/// [`ADDED_IN_3`]`.len()`, which it reads as empty (a snapshot without the source's order).
pub(super) const FORMAT_2: u32 = 2;
/// The columns version 3 added, last in the list: the source database's order of groups and
/// of each group's members (empty when the snapshot carries none).
pub const ADDED_IN_3: [&str; 2] = ["groups.rank", "groups.member_rank"];
/// The columns version 4 added, last in the list: each task's process-definition key, Camunda's
/// authorizations and authorization flag, Zitadel's memberships (each empty when the snapshot
/// carries none).
pub const ADDED_IN_4: [&str; 11] = [
    "tasks.definition",
    "authz.owner",
    "authz.kind",
    "authz.resource",
    "authz.perms",
    "authz.enabled",
    "members.user",
    "members.org",
    "members.project",
    "members.roles_at",
    "members.roles",
];
/// How many columns version 3 has.
pub(super) const COLUMNS_3: usize = COLUMNS - ADDED_IN_4.len();
/// How many columns version 2 has.
pub(super) const COLUMNS_2: usize = COLUMNS_3 - ADDED_IN_3.len();
/// The header's size for this version (the largest): 40 bytes, then a length per column.
pub(crate) const HEADER: usize = header_size(COLUMNS);
/// The bytes that say which version (and so how long the header is): magic, version, columns.
pub(super) const HEADER_START: usize = 16;

/// The header's size for a form of `columns` columns.
pub(super) const fn header_size(columns: usize) -> usize {
    40 + 4 * columns
}

/// Declares the binary form's columns from their one list, in their order: the `Tables` columns
/// the snapshot keeps (`table.column`), and, in its place, the groups' by-symbol column that it
/// does not (`[groups.by_sym]`, written from `groups.id`). Everything that knows the order or the
/// number — [`COLUMNS`], [`KEPT`], [`GROUP_BY_SYM`], [`COLUMN_NAMES`], [`Snapshot::kept_columns`]
/// and [`Snapshot::kept_column_mut`] (hence the writer, the reader and the table list that moves
/// a snapshot between wasm instances) — is made from it here; a column left out of the list
/// fails the binary round trips (`binary::tests::round_trips_exactly`, tests/validation.rs).
macro_rules! binary_columns {
    (
        $($table:ident . $column:ident),+ ,
        [groups . by_sym] ,
        $($table_after:ident . $column_after:ident),+ $(,)?
    ) => {
        /// Every column of the binary form, by name (`table.column`), in its order.
        pub const COLUMN_NAMES: [&str; COLUMNS] = [
            $(concat!(stringify!($table), ".", stringify!($column)),)+
            "groups.by_sym",
            $(concat!(stringify!($table_after), ".", stringify!($column_after)),)+
        ];

        /// Where the groups' by-symbol column is among the columns: after every kept column
        /// listed before it.
        pub(crate) const GROUP_BY_SYM: usize = [$(stringify!($column)),+].len();

        /// How many columns [`Snapshot::kept_columns`] gives: all but the groups' by-symbol one.
        pub const KEPT: usize = GROUP_BY_SYM + [$(stringify!($column_after)),+].len();

        impl Snapshot {
            /// The `u32` columns the snapshot keeps (every column of the binary form but the
            /// groups' by-symbol one), in the binary form's order: also how `fromJson` moves a
            /// snapshot loaded in one wasm instance into another ([`KEPT`] of them).
            fn kept(&self) -> [&Vec<u32>; KEPT] {
                let all = &self.tables;
                [$(&all.$table.$column,)+ $(&all.$table_after.$column_after,)+]
            }

            /// The same columns, to fill.
            fn kept_mut(&mut self) -> [&mut Vec<u32>; KEPT] {
                let all = &mut self.tables;
                [$(&mut all.$table.$column,)+ $(&mut all.$table_after.$column_after,)+]
            }
        }
    };
}

binary_columns! {
    strings.ends, strings.slots,
    users.id, users.first, users.last, users.org, users.java_hash,
    users.groups_at, users.groups, users.idp_at, users.idp,
    groups.id, groups.name, groups.members_at, groups.members,
    tasks.id, tasks.assignee, tasks.owner, tasks.links_at, tasks.link_ref, tasks.link_type,
    idp.user, idp.idp_id, idp.provided_id, idp.provided_name,
    by_sym.user,
    [groups.by_sym],
    by_sym.task,
    groups.rank, groups.member_rank,
    tasks.definition,
    authz.owner, authz.kind, authz.resource, authz.perms, authz.enabled,
    members.user, members.org, members.project, members.roles_at, members.roles,
}

/// How many columns the binary form has: the kept ones and the groups' by-symbol one.
pub const COLUMNS: usize = KEPT + 1;

/// The place of column `name` (`table.column`) among the kept ones ([`Snapshot::kept_column_mut`]),
/// for a caller that edits named columns (evaluated as constants); [`KEPT`], past the last, for a
/// name not in the list (`columns`' tests check that every name it lists is one).
pub(super) const fn kept_index(name: &str) -> usize {
    let mut i = 0;
    while i < COLUMNS {
        let (a, b) = (COLUMN_NAMES[i].as_bytes(), name.as_bytes());
        let mut same = a.len() == b.len();
        let mut k = 0;
        while same && k < a.len() {
            same = a[k] == b[k];
            k += 1;
        }
        if same && i != GROUP_BY_SYM {
            return if i > GROUP_BY_SYM { i - 1 } else { i };
        }
        i += 1;
    }
    KEPT
}

/// Whether `column` maps each of `n_syms` symbols to a row below `n` or to [`NONE`].
fn by_sym(column: &[u32], n_syms: usize, n: usize) -> bool {
    column.len() == n_syms && column.iter().all(|&x| x == NONE || (x as usize) < n)
}

pub(super) fn refuse(why: &'static str) -> SnapshotError {
    SnapshotError::new("bytes", SnapshotProblem::Binary { why })
}

impl Snapshot {
    /// The kept columns, in order.
    pub fn kept_columns(&self) -> impl Iterator<Item = &Vec<u32>> {
        self.kept().into_iter()
    }

    /// Kept column `i`, to be filled.
    #[inline(never)]
    pub fn kept_column_mut(&mut self, i: usize) -> Option<&mut Vec<u32>> {
        self.kept_mut().into_iter().nth(i)
    }

    /// Every `u32` column of the binary form, in its order: the kept ones with `group_by_sym`,
    /// the groups' by-symbol column that the snapshot does not keep ([`Snapshot::group_by_sym`]),
    /// at [`GROUP_BY_SYM`].
    pub(super) fn columns<'a>(&'a self, group_by_sym: &'a Vec<u32>) -> [&'a Vec<u32>; COLUMNS] {
        let kept = self.kept();
        std::array::from_fn(|i| match i.cmp(&GROUP_BY_SYM) {
            std::cmp::Ordering::Less => kept[i],
            std::cmp::Ordering::Equal => group_by_sym,
            std::cmp::Ordering::Greater => kept[i - 1],
        })
    }

    /// Column `i` of the binary form, to fill when reading.
    pub(super) fn column_mut<'a>(&'a mut self, group_by_sym: &'a mut Vec<u32>, i: usize) -> Option<&'a mut Vec<u32>> {
        match i.cmp(&GROUP_BY_SYM) {
            std::cmp::Ordering::Less => self.kept_column_mut(i),
            std::cmp::Ordering::Equal => Some(group_by_sym),
            std::cmp::Ordering::Greater => self.kept_column_mut(i - 1),
        }
    }

    /// The groups' row by symbol of their id, or [`NONE`]: written in the binary form (whose
    /// layout predates its removal from [`BySym`]). In a block the size of the strings' ends, as
    /// the apply's other blocks by string (`text_edit::edit_strings`).
    pub(super) fn group_by_sym(&self) -> Vec<u32> {
        let mut column = Vec::with_capacity(self.strings.ends.capacity());
        column.resize(self.strings.len(), NONE);
        for (row, &id) in self.groups.id.iter().enumerate() {
            if let Some(slot) = column.get_mut(id as usize) {
                *slot = row as u32;
            }
        }
        column
    }

    /// The invariants every query relies on, checked in one linear pass (module docs).
    pub fn check_structure(&self) -> Result<(), SnapshotError> {
        if !self.timestamp.is_valid() {
            return Err(refuse("timestamp out of range"));
        }
        let s = &self.strings;
        if !s.check_shape() {
            return Err(refuse("string table is inconsistent"));
        }
        let n_syms = s.len();
        let (u, g, t, l, b) = (&self.users, &self.groups, &self.tasks, &self.idp, &self.by_sym);
        let (n_users, n_groups, n_tasks) = (u.id.len(), g.id.len(), t.id.len());
        let syms = |c: &[u32], optional: bool| c.iter().all(|&x| (x as usize) < n_syms || (optional && x == NONE));
        let rows = |c: &[u32], n: usize| c.iter().all(|&x| (x as usize) < n);
        let ok = [u.first.len(), u.last.len(), u.org.len(), u.java_hash.len()].iter().all(|&n| n == n_users)
            && self.ranks_agree()
            && g.name.len() == n_groups
            && t.assignee.len() == n_tasks
            && t.owner.len() == n_tasks
            && t.link_type.len() == t.link_ref.len()
            && [l.idp_id.len(), l.provided_id.len(), l.provided_name.len()].iter().all(|&n| n == l.user.len())
            && syms(&u.id, false)
            && syms(&u.first, true)
            && syms(&u.last, true)
            && syms(&u.org, true)
            && syms(&g.id, false)
            && syms(&g.name, true)
            && syms(&t.id, false)
            && syms(&t.assignee, true)
            && syms(&t.owner, true)
            && syms(&t.link_ref, false)
            && t.link_type.iter().all(|&k| ((k >> 1) as usize) < n_syms)
            && syms(&l.idp_id, false)
            && syms(&l.provided_id, false)
            && syms(&l.provided_name, false)
            && rows(&l.user, n_users)
            && offsets(&u.groups_at, n_users, u.groups.len())
            && rows(&u.groups, n_groups)
            && offsets(&u.idp_at, n_users, u.idp.len())
            && rows(&u.idp, l.user.len())
            && offsets(&g.members_at, n_groups, g.members.len())
            && rows(&g.members, n_users)
            && offsets(&t.links_at, n_tasks, t.link_ref.len())
            && by_sym(&b.user, n_syms, n_users)
            && by_sym(&b.task, n_syms, n_tasks)
            && (t.definition.is_empty() || (t.definition.len() == n_tasks && syms(&t.definition, true)))
            && self.authorizations_agree(&syms)
            && self.members_agree(&syms);
        if ok {
            Ok(())
        } else {
            Err(refuse("tables are inconsistent"))
        }
    }
}

impl Snapshot {
    /// Authorization rows: parallel columns, symbols in range, kinds a snapshot can hold, rows
    /// in key order (the binary search relies on it), the flag empty or `[1]`.
    fn authorizations_agree(&self, syms: &dyn Fn(&[u32], bool) -> bool) -> bool {
        let a = &self.authz;
        let n = a.owner.len();
        let kind_ok = |&k: &u32| k & 3 <= 2 && identity_links_tables::tables::RESOURCE_TYPES.contains(&(k >> 3));
        [a.kind.len(), a.resource.len(), a.perms.len()].iter().all(|&l| l == n)
            && syms(&a.owner, false)
            && syms(&a.resource, false)
            && a.kind.iter().all(kind_ok)
            && (1..n).all(|i| a.key(i - 1) <= a.key(i))
            && (a.enabled.is_empty() || a.enabled == [1])
    }

    /// Memberships: parallel columns, symbols in range, the roles' offsets (none without rows).
    fn members_agree(&self, syms: &dyn Fn(&[u32], bool) -> bool) -> bool {
        let m = &self.members;
        let n = m.user.len();
        m.org.len() == n
            && m.project.len() == n
            && syms(&m.user, false)
            && syms(&m.org, true)
            && syms(&m.project, true)
            && syms(&m.roles, false)
            && if n == 0 { m.roles_at.is_empty() && m.roles.is_empty() } else { offsets(&m.roles_at, n, m.roles.len()) }
    }

    /// The source's order, where carried, is a rank per group and per member, and the indexes
    /// follow it: each group's members and each user's groups in ascending rank.
    fn ranks_agree(&self) -> bool {
        let (u, g) = (&self.users, &self.groups);
        let ascending = |ranks: &[u32]| ranks.windows(2).all(|w| w[0] <= w[1]);
        let groups = g.rank.is_empty()
            || (g.rank.len() == g.id.len()
                && !g.rank.contains(&NONE)
                && (0..u.id.len()).all(|user| {
                    let ranks = range(&u.groups_at, &u.groups, user).iter();
                    ranks.map(|&group| g.rank.get(group as usize).copied().unwrap_or(NONE)).is_sorted()
                }));
        let members = g.member_rank.is_empty()
            || (g.member_rank.len() == g.members.len()
                && !g.member_rank.contains(&NONE)
                && (0..g.id.len()).all(|group| ascending(range(&g.members_at, &g.member_rank, group))));
        groups && members
    }
}

/// Checks the groups' by-symbol column (just read) against the snapshot read so far, and lets
/// it go at once, so that the next column (as long) takes its place in memory.
pub(super) fn let_go_groups_by_sym(snapshot: &Snapshot, column: &mut Vec<u32>) -> bool {
    let checked = by_sym(column, snapshot.strings.len(), snapshot.groups.id.len());
    *column = Vec::new();
    checked
}

pub(super) const NOT_A_SNAPSHOT: &str =
    "it does not start with the identity-links header (truncated or not a snapshot)";

/// What the header says: where each section is, and the header's own values.
pub(super) struct Layout {
    sequence: u64,
    timestamp: Timestamp,
    pub(super) text_len: usize,
    /// Each column's length in elements ([`COLUMNS`] of them; 0 for those the form lacks).
    pub(super) lengths: Vec<usize>,
    /// How many columns the form has ([`COLUMNS`], [`COLUMNS_3`] or [`COLUMNS_2`]).
    pub(super) columns: usize,
    /// Where the columns start (after the padded text).
    pub(super) text_end: usize,
    /// The bytes before the checksum, if the lengths add up to a size at all.
    pub(super) body: Option<usize>,
}

impl Layout {
    /// Reads the header (its [`header_size`] bytes).
    pub(super) fn parse(header: &[u8]) -> Result<Layout, SnapshotError> {
        if header.get(..8) != Some(&MAGIC[..]) {
            return Err(refuse(NOT_A_SNAPSHOT));
        }
        let u32_at = |at: usize| header.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let u64_at = |at: usize| u64::from(u32_at(at)) | u64::from(u32_at(at + 4)) << 32;
        let columns = Self::columns(header)?;
        let text_len = u32_at(36) as usize;
        // An older form's added columns are empty.
        let lengths: Vec<usize> =
            (0..COLUMNS).map(|i| if i < columns { u32_at(40 + 4 * i) as usize } else { 0 }).collect();
        let text_end = header_size(columns) + text_len.div_ceil(4) * 4;
        let body = lengths.iter().try_fold(text_end, |acc, &n| n.checked_mul(4).and_then(|b| acc.checked_add(b)));
        let timestamp = Timestamp { seconds: u64_at(24) as i64, nanos: u32_at(32) };
        Ok(Layout { sequence: u64_at(16), timestamp, text_len, lengths, columns, text_end, body })
    }

    /// How many columns the form whose header starts with `start` (its first
    /// [`HEADER_START`] bytes) has: [`COLUMNS`] for this version, [`COLUMNS_3`] for version 3,
    /// [`COLUMNS_2`] for version 2; other versions are refused.
    pub(super) fn columns(start: &[u8]) -> Result<usize, SnapshotError> {
        if start.get(..8) != Some(&MAGIC[..]) {
            return Err(refuse(NOT_A_SNAPSHOT));
        }
        let u32_at = |at: usize| start.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        match (u32_at(8), u32_at(12) as usize) {
            (FORMAT, COLUMNS) => Ok(COLUMNS),
            (FORMAT_3, COLUMNS_3) => Ok(COLUMNS_3),
            (FORMAT_2, COLUMNS_2) => Ok(COLUMNS_2),
            _ => Err(refuse("written by another format version")),
        }
    }

    /// A snapshot with the header's values and `text` as its strings' text, columns to come.
    pub(super) fn start(&self, text: Vec<u8>, limits: Limits) -> Result<Snapshot, SnapshotError> {
        let text = String::from_utf8(text).map_err(|_| refuse("string text is not UTF-8"))?;
        let mut snapshot = Snapshot { limits, ..Snapshot::default() };
        (snapshot.strings.text, snapshot.sequence, snapshot.timestamp) = (text, self.sequence, self.timestamp);
        Ok(snapshot)
    }
}

/// A CSR offset column for `n` keys over `items` values: `n + 1` ascending offsets from 0 to
/// `items`.
fn offsets(at: &[u32], n: usize, items: usize) -> bool {
    at.len() == n + 1
        && at.first() == Some(&0)
        && at.last().map(|&x| x as usize) == Some(items)
        && at.windows(2).all(|w| w[0] <= w[1])
}
