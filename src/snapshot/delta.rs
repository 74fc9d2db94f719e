//! Deltas: the changes that turn one snapshot into another ([`Snapshot::delta_to`]), applied in
//! place ([`Snapshot::apply_delta`]), and the [`Version`] that names each state.
//!
//! A snapshot's version is the checksum of its binary form ([`Snapshot::to_bytes`]'s last eight
//! bytes), hashed as the bytes are made, without a copy of them: equal versions are equal
//! binary forms, so they answer every query identically, and the exporter and a worker that
//! loaded the same data agree on it.
//!
//! A delta is, for each table of the snapshot in turn (the strings, users, groups with their
//! members, tasks with their ordered links, IdP links, authorizations, Zitadel memberships),
//! an edit of its rows: keep the next `n` rows of the base, drop the next `n`, insert `n` rows
//! written out whole. A row is replaced whole (a task with all its links, a group with all its
//! members, a membership with all its roles), so the order rules survive. Rows are matched by
//! key (strings by text, users, groups and tasks by id: the longest run of matches in order is
//! kept), the smaller tables (IdP links, authorizations, Zitadel memberships) by their common
//! start and end. The header carries `sequence`, `timestamp` and `authorizationEnabled`, the
//! base's version, the version the delta makes, and a checksum. docs/deltas.md has the layout
//! byte by byte.
//!
//! Applying a delta ([`super::apply`]) makes the new tables from the base's columns and the
//! delta's rows, checks the result as the binary form is checked, and takes it only if its
//! version is the one the delta names: a delta for another base, out of order, applied twice,
//! or damaged is refused with a [`DeltaError`] and the snapshot is unchanged.
//! The paging options (`Limits`) are not part of a snapshot's data: a delta keeps the
//! snapshot's own.

use super::Snapshot;
use identity_links_tables::strings::{Sym, NONE};
use identity_links_tables::tables::range;
use identity_links_tables::words::{hash, StreamHash};
use identity_links_text::timestamp::Timestamp;
use std::fmt;

/// What identifies a snapshot's state: the checksum of its binary form. Written as 16
/// lowercase hexadecimal digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Version(pub u64);

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Why a delta was refused. Every refusal leaves the snapshot as it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeltaError {
    /// Not a delta, truncated, or altered: its header or its checksum is wrong. `found` is the
    /// snapshot's version.
    Damaged {
        /// What is wrong.
        why: &'static str,
        /// The snapshot's version.
        found: Version,
    },
    /// Not a delta, truncated, or altered, read without a snapshot ([`DeltaHeader::read`]
    /// through the package's `deltaInfo`).
    Unreadable {
        /// What is wrong.
        why: &'static str,
    },
    /// The delta applies to another version than the snapshot's: another base, a delta out of
    /// order (or one skipped), or one applied already.
    WrongBase {
        /// The version the delta applies to.
        expected: Version,
        /// The snapshot's version.
        found: Version,
    },
    /// The delta's checksum is right but its rows do not make a snapshot from this base.
    Invalid {
        /// What is wrong.
        why: String,
        /// The version the delta applies to (the snapshot's).
        base: Version,
    },
    /// Applied, the delta made another version than the one it names.
    Mismatch {
        /// The version the delta names.
        expected: Version,
        /// The version it made.
        found: Version,
    },
}

impl fmt::Display for DeltaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeltaError::Damaged { why, found } => {
                write!(f, "the delta is damaged: {why}; the snapshot is unchanged (version {found})")
            }
            DeltaError::Unreadable { why } => write!(f, "the delta is damaged: {why}"),
            DeltaError::WrongBase { expected, found } => write!(
                f,
                "the delta applies to version {expected}, this snapshot is version {found} (another base, a delta \
                 out of order or applied already); the snapshot is unchanged"
            ),
            DeltaError::Invalid { why, base } => {
                write!(f, "the delta does not apply to version {base}: {why}; the snapshot is unchanged")
            }
            DeltaError::Mismatch { expected, found } => write!(
                f,
                "the delta should make version {expected} but made version {found}; the snapshot is unchanged"
            ),
        }
    }
}

impl std::error::Error for DeltaError {}

/// The delta's first bytes.
const MAGIC: &[u8; 8] = b"IDLDELTA";
/// The delta format this release writes and reads.
const FORMAT: u32 = 1;
/// The header's size: magic, format, flags, base and new versions, sequence, timestamp (the fuzz
/// target writes its own edits after a real one).
pub(crate) const HEADER: usize = 52;
/// An edit's kinds (the low two bits of its word; the count is the rest).
const KEEP: u32 = 0;
const DROP: u32 = 1;
const INSERT: u32 = 2;
const END: u32 = 3;
/// The bit of an inserted string's length word that makes it a reference to one of the base's
/// strings (a string that moves), by its symbol there.
pub(super) const MOVED: u32 = 1 << 31;
/// The largest count one edit word holds.
const MAX_RUN: u32 = (1 << 30) - 1;

/// The tables a delta edits, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Table {
    Strings,
    Users,
    Groups,
    Tasks,
    Idp,
    Authz,
    Members,
}

pub(super) const TABLES: [Table; 7] =
    [Table::Strings, Table::Users, Table::Groups, Table::Tasks, Table::Idp, Table::Authz, Table::Members];

impl Snapshot {
    /// The snapshot's version: the checksum of its binary form (equal to the last eight bytes of
    /// [`Snapshot::to_bytes`], little-endian), computed without writing the form out. Linear in
    /// the snapshot's size.
    pub fn version(&self) -> Version {
        let mut h = StreamHash::new(self.binary_body_len());
        self.write_binary(&mut |piece| h.update(piece));
        Version(h.finish())
    }

    /// The delta that turns this snapshot into `newer`: applied to a snapshot of this version
    /// with [`Snapshot::apply_delta`], it makes one whose binary form (and so every answer) is
    /// `newer`'s. Its size grows with what changed, not with the snapshot (but for the strings'
    /// and rows' matching, which reads both).
    pub fn delta_to(&self, newer: &Snapshot) -> Vec<u8> {
        self.delta_to_at(self.version(), newer, newer.version())
    }

    /// [`Snapshot::delta_to`] for a caller that knows both versions (`from`, `to`: which must be
    /// [`Snapshot::version`]'s answers for this snapshot and `newer`; the wasm facade and the
    /// exporter's follower keep them), saving a pass over each snapshot.
    pub fn delta_to_at(&self, from: Version, newer: &Snapshot, to: Version) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&u32::from(newer.authz.is_enabled()).to_le_bytes());
        out.extend_from_slice(&from.0.to_le_bytes());
        out.extend_from_slice(&to.0.to_le_bytes());
        out.extend_from_slice(&newer.sequence.to_le_bytes());
        out.extend_from_slice(&newer.timestamp.seconds.to_le_bytes());
        out.extend_from_slice(&newer.timestamp.nanos.to_le_bytes());
        let mut words = Vec::new();
        // The strings: matched by text; the base's symbols that stay take their new numbers.
        let targets: Vec<u32> =
            (0..self.strings.len() as Sym).map(|a| newer.strings.lookup(self.str(a)).unwrap_or(NONE)).collect();
        let kept = increasing(&targets);
        // Those kept in place, and those that move (written as a reference to the base's).
        let mut map = vec![NONE; self.strings.len()];
        for (a, &b) in targets.iter().enumerate() {
            map[a] = b;
        }
        let map = |s: Sym| map.get(s as usize).copied().unwrap_or(NONE);
        let id = |s: Sym| s;
        edits(&mut words, self, newer, Table::Strings, &kept, &map);
        for table in &TABLES[1..] {
            let targets: Vec<u32> = match table {
                Table::Users => keyed(&self.users.id, &map, &newer.by_sym.user),
                Table::Groups => keyed(&self.groups.id, &map, &newer.group_by_sym()),
                Table::Tasks => keyed(&self.tasks.id, &map, &newer.by_sym.task),
                _ => {
                    // Matched by their common start and end.
                    let (na, nb) = (self.rows(*table), newer.rows(*table));
                    let (mut ra, mut rb) = (Vec::new(), Vec::new());
                    let mut same = |i: usize, j: usize| {
                        ra.clear();
                        rb.clear();
                        self.record(*table, i, &map, &mut ra);
                        newer.record(*table, j, &id, &mut rb);
                        ra == rb
                    };
                    let mut start = 0;
                    while start < na.min(nb) && same(start, start) {
                        start += 1;
                    }
                    let mut end = 0;
                    while end < na.min(nb) - start && same(na - 1 - end, nb - 1 - end) {
                        end += 1;
                    }
                    let shift = |i: usize| (i + nb - na) as u32;
                    (0..na)
                        .map(|i| {
                            if i < start {
                                i as u32
                            } else if i >= na - end {
                                shift(i)
                            } else {
                                NONE
                            }
                        })
                        .collect()
                }
            };
            edits(&mut words, self, newer, *table, &increasing(&targets), &map);
        }
        for w in words {
            out.extend_from_slice(&w.to_le_bytes());
        }
        let sum = hash(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// How many rows `table` has.
    pub(super) fn rows(&self, table: Table) -> usize {
        match table {
            Table::Strings => self.strings.len(),
            Table::Users => self.users.id.len(),
            Table::Groups => self.groups.id.len(),
            Table::Tasks => self.tasks.id.len(),
            Table::Idp => self.idp.user.len(),
            Table::Authz => self.authz.owner.len(),
            Table::Members => self.members.user.len(),
        }
    }

    /// Appends row `row` of `table` to `out` as a delta writes it, its symbols through `map`
    /// (docs/deltas.md: each table's row). Users are named by their id's symbol, not their row.
    pub(super) fn record(&self, table: Table, row: usize, map: &dyn Fn(Sym) -> Sym, out: &mut Vec<u32>) {
        let m = |s: Option<&Sym>| s.copied().filter(|&s| s != NONE).map_or(NONE, map);
        let user = |r: Option<&u32>| m(r.and_then(|&r| self.users.id.get(r as usize)));
        match table {
            Table::Strings => {
                let bytes = self.strings.bytes_of(row as Sym);
                out.push(bytes.len() as u32);
                out.extend(bytes.chunks(4).map(|c| {
                    let mut w = [0; 4];
                    w[..c.len()].copy_from_slice(c);
                    u32::from_le_bytes(w)
                }));
            }
            Table::Users => {
                let u = &self.users;
                out.extend([m(u.id.get(row)), m(u.first.get(row)), m(u.last.get(row)), m(u.org.get(row))]);
            }
            Table::Groups => {
                let g = &self.groups;
                out.extend([m(g.id.get(row)), m(g.name.get(row)), g.rank.get(row).copied().unwrap_or(NONE)]);
                let (members, ranks) =
                    (range(&g.members_at, &g.members, row), range(&g.members_at, &g.member_rank, row));
                out.push(members.len() as u32);
                for (i, member) in members.iter().enumerate() {
                    out.extend([user(Some(member)), ranks.get(i).copied().unwrap_or(NONE)]);
                }
            }
            Table::Tasks => {
                let t = &self.tasks;
                out.extend([m(t.id.get(row)), m(t.assignee.get(row)), m(t.owner.get(row)), m(t.definition.get(row))]);
                let (refs, types) = (range(&t.links_at, &t.link_ref, row), range(&t.links_at, &t.link_type, row));
                out.push(refs.len() as u32);
                for (reference, kind) in refs.iter().zip(types) {
                    out.extend([m(Some(reference)), m(Some(&(kind >> 1))), kind & 1]);
                }
            }
            Table::Idp => {
                let l = &self.idp;
                let fields = [m(l.idp_id.get(row)), m(l.provided_id.get(row)), m(l.provided_name.get(row))];
                out.push(user(l.user.get(row)));
                out.extend(fields);
            }
            Table::Authz => {
                let a = &self.authz;
                let (kind, perms) = (a.kind.get(row).copied().unwrap_or(0), a.perms.get(row).copied().unwrap_or(0));
                out.extend([m(a.owner.get(row)), kind, m(a.resource.get(row)), perms]);
            }
            Table::Members => {
                let z = &self.members;
                out.extend([m(z.user.get(row)), m(z.org.get(row)), m(z.project.get(row))]);
                let roles = range(&z.roles_at, &z.roles, row);
                out.push(roles.len() as u32);
                out.extend(roles.iter().map(|r| m(Some(r))));
            }
        }
    }
}

/// What a delta's header says: the version it applies to and the one it makes, and the new
/// state's values besides its tables. Read without a snapshot, so that a publisher can name and
/// chain deltas (`deltaInfo` in the package) without a second reader of the format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeltaHeader {
    /// The version the delta applies to.
    pub from: Version,
    /// The version it makes.
    pub to: Version,
    /// The new state's `authorizationEnabled`.
    pub enabled: bool,
    /// The new state's `sequence`.
    pub sequence: u64,
    /// The new state's `timestamp`.
    pub timestamp: Timestamp,
}

impl DeltaHeader {
    /// Reads a delta's header after checking its magic, format, checksum and shape; its edits
    /// (the words between the header and the checksum). Why not, for anything that is not a
    /// whole delta of this format. The edits themselves are checked when the delta is applied.
    ///
    /// # Errors
    /// What is wrong, as [`DeltaError::Damaged`] says it.
    pub fn read(delta: &[u8]) -> Result<(DeltaHeader, &[u8]), &'static str> {
        if delta.len() < HEADER + 8 || delta.get(..8) != Some(&MAGIC[..]) {
            return Err("it is not a delta (too short, or no IDLDELTA header)");
        }
        let body = delta.len() - 8;
        if hash(&delta[..body]).to_le_bytes()[..] != delta[body..] {
            return Err("its checksum does not match (truncated or altered)");
        }
        let u32_at = |at: usize| u32::from_le_bytes([delta[at], delta[at + 1], delta[at + 2], delta[at + 3]]);
        let u64_at = |at: usize| u64::from(u32_at(at)) | u64::from(u32_at(at + 4)) << 32;
        if u32_at(8) != FORMAT {
            return Err("it is written in another delta format");
        }
        if (body - HEADER) % 4 != 0 || u32_at(12) > 1 {
            return Err("its header is inconsistent");
        }
        let header = DeltaHeader {
            from: Version(u64_at(16)),
            to: Version(u64_at(24)),
            enabled: u32_at(12) == 1,
            sequence: u64_at(32),
            timestamp: Timestamp { seconds: u64_at(40) as i64, nanos: u32_at(48) },
        };
        // A snapshot's timestamp is checked when it is loaded: a delta's must be one too.
        if !header.timestamp.is_valid() {
            return Err("its header is inconsistent");
        }
        Ok((header, &delta[HEADER..body]))
    }
}

/// A delta's words, read in order.
pub(super) struct Words<'a> {
    pub(super) words: &'a [u32],
    pub(super) at: usize,
}

impl<'a> Words<'a> {
    pub(super) fn word(&mut self) -> Result<u32, String> {
        let w = self.words.get(self.at).copied().ok_or("it ends inside a table")?;
        self.at += 1;
        Ok(w)
    }

    /// The next word as a symbol below `n_syms` ([`NONE`] too if `optional`).
    pub(super) fn sym(&mut self, n_syms: u32, optional: bool) -> Result<Sym, String> {
        let s = self.word()?;
        if s < n_syms || (optional && s == NONE) {
            Ok(s)
        } else {
            Err(format!("a symbol is out of range ({s})"))
        }
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u32], String> {
        let taken = self.words.get(self.at..self.at.saturating_add(n)).ok_or("it ends inside a table")?;
        self.at += n;
        Ok(taken)
    }
}

/// A table's edit, for [`edit`]'s caller: the base's rows in a range stay, or the delta holds
/// the next row.
pub(super) enum Edit {
    Keep(std::ops::Range<usize>),
    Insert,
}

/// Reads one table's edits (up to its end word) over a base of `rows` rows, calling `row` for
/// each row of the result in order; refuses a count past the base's rows, and an end before
/// them.
pub(super) fn edit(
    delta: &mut Words,
    rows: usize,
    row: &mut dyn FnMut(Edit, &mut Words) -> Result<(), String>,
) -> Result<(), String> {
    let mut at = 0;
    loop {
        let word = delta.word()?;
        let n = (word >> 2) as usize;
        match word & 3 {
            KEEP | DROP if n > rows - at => return Err("it keeps or drops rows past the base's".into()),
            KEEP => {
                row(Edit::Keep(at..at + n), delta)?;
                at += n;
            }
            DROP => at += n,
            INSERT => {
                for _ in 0..n {
                    row(Edit::Insert, delta)?;
                }
            }
            _ if at != rows => return Err("a table ends before the base's rows do".into()),
            _ => return Ok(()),
        }
    }
}

/// For each of the base's rows with an id in `ids`, the newer snapshot's row with the same id
/// (through `map`, the base's symbols' new numbers, and `rows_by_sym`, the newer's rows by
/// symbol), or [`NONE`].
fn keyed(ids: &[Sym], map: &dyn Fn(Sym) -> Sym, rows_by_sym: &[u32]) -> Vec<u32> {
    ids.iter().map(|&id| rows_by_sym.get(map(id) as usize).copied().unwrap_or(NONE)).collect()
}

/// The longest run of `(row, targets[row])` increasing in both (rows without a target,
/// [`NONE`], left out): the base's rows that stay, each with its row in the newer snapshot.
/// Patience sorting, `n log n`.
fn increasing(targets: &[u32]) -> Vec<(u32, u32)> {
    let mut tails: Vec<u32> = Vec::new();
    let mut before = vec![NONE; targets.len()];
    for (row, &target) in targets.iter().enumerate() {
        if target == NONE {
            continue;
        }
        // Past the longest run's end (rows mostly in order: no search).
        let k = match tails.last() {
            Some(&last) if targets[last as usize] < target => tails.len(),
            _ => tails.partition_point(|&r| targets[r as usize] < target),
        };
        if k > 0 {
            before[row] = tails[k - 1];
        }
        if k == tails.len() {
            tails.push(row as u32);
        } else {
            tails[k] = row as u32;
        }
    }
    let mut run = Vec::with_capacity(tails.len());
    let mut row = tails.last().copied().unwrap_or(NONE);
    while row != NONE {
        run.push((row, targets[row as usize]));
        row = before[row as usize];
    }
    run.reverse();
    run
}

/// Appends `table`'s edits to `out`: the base's rows in `kept` stay (when their row, renumbered
/// through `map`, is the newer's), the others are dropped, and the newer's rows that none
/// stands for are inserted.
fn edits(
    out: &mut Vec<u32>,
    base: &Snapshot,
    newer: &Snapshot,
    table: Table,
    kept: &[(u32, u32)],
    map: &dyn Fn(Sym) -> Sym,
) {
    let mut runs = Runs { out, kind: END, count: 0, rows: Vec::new() };
    let (mut a, mut b) = (0, 0);
    let (mut ra, mut rb) = (Vec::new(), Vec::new());
    let end = (base.rows(table) as u32, newer.rows(table) as u32);
    for &(ka, kb) in kept.iter().chain([&end]) {
        runs.add(DROP, ka - a, &[]);
        for row in b..kb {
            rb.clear();
            // A string the base has elsewhere moves: named by its symbol there.
            let moved = if table == Table::Strings { base.strings.lookup(newer.str(row)) } else { None };
            match moved {
                Some(a) => rb.push(a | MOVED),
                None => newer.record(table, row as usize, &|s| s, &mut rb),
            }
            runs.add(INSERT, 1, &rb);
        }
        if (ka, kb) == end {
            break;
        }
        ra.clear();
        rb.clear();
        newer.record(table, kb as usize, &|s| s, &mut rb);
        // Strings matched by text are equal; other rows are compared whole.
        if table != Table::Strings {
            base.record(table, ka as usize, map, &mut ra);
        }
        if table == Table::Strings || ra == rb {
            runs.add(KEEP, 1, &[]);
        } else {
            runs.add(DROP, 1, &[]);
            runs.add(INSERT, 1, &rb);
        }
        (a, b) = (ka + 1, kb + 1);
    }
    runs.flush();
    runs.out.push(END);
}

/// Edits as they are written: runs of one kind, merged.
struct Runs<'a> {
    out: &'a mut Vec<u32>,
    kind: u32,
    count: u32,
    /// An insert run's rows.
    rows: Vec<u32>,
}

impl Runs<'_> {
    fn add(&mut self, kind: u32, count: u32, row: &[u32]) {
        if count == 0 {
            return;
        }
        if kind != self.kind || self.count + count > MAX_RUN {
            self.flush();
            self.kind = kind;
        }
        self.count += count;
        self.rows.extend_from_slice(row);
    }

    fn flush(&mut self) {
        if self.count > 0 {
            self.out.push(self.count << 2 | self.kind);
            self.out.append(&mut self.rows);
        }
        self.count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::binary::tests::SAMPLE;
    use identity_links_tables::tables::Limits;

    fn load(text: &str) -> Snapshot {
        Snapshot::from_json(text.as_bytes()).expect("the sample loads")
    }

    /// The length of the longest run increasing in both, the slow way.
    fn longest(targets: &[u32]) -> usize {
        let mut best = vec![0usize; targets.len()];
        for i in 0..targets.len() {
            if targets[i] != NONE {
                best[i] = 1
                    + (0..i)
                        .filter(|&j| targets[j] != NONE && targets[j] < targets[i])
                        .map(|j| best[j])
                        .max()
                        .unwrap_or(0);
            }
        }
        best.into_iter().max().unwrap_or(0)
    }

    #[test]
    fn increasing_finds_a_longest_run_in_order_or_not() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (seed >> 33) % n
        };
        for case in 0..300 {
            let n = (case % 40) as usize;
            // Rows mostly in order (the fast path), shuffled, or with holes.
            let mut targets: Vec<u32> = (0..n as u32).collect();
            for _ in 0..next(1 + case % 7) {
                let (a, b) = (next(n.max(1) as u64) as usize, next(n.max(1) as u64) as usize);
                if n > 0 {
                    targets.swap(a, b);
                }
            }
            for t in targets.iter_mut() {
                if next(5) == 0 {
                    *t = NONE;
                }
            }
            let run = increasing(&targets);
            assert_eq!(run.len(), longest(&targets), "{targets:?}");
            assert!(run.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1), "{targets:?}: {run:?}");
            assert!(run.iter().all(|&(row, target)| targets[row as usize] == target));
        }
    }

    #[test]
    fn the_version_is_the_binary_forms_checksum() {
        let s = load(SAMPLE);
        let bytes = s.to_bytes();
        let sum = u64::from_le_bytes(bytes[bytes.len() - 8..].try_into().expect("8 bytes"));
        assert_eq!(s.version(), Version(sum));
        assert_eq!(s.version().to_string(), format!("{sum:016x}"));
    }

    #[test]
    fn a_delta_makes_the_newer_snapshot_and_is_refused_twice() {
        let a = load(SAMPLE);
        let newer = SAMPLE.replace(r#""assignee":"u1""#, r#""assignee":"u2""#).replace(r#""org":"o""#, r#""org":"p""#);
        let b = load(&newer);
        let delta = a.delta_to(&b);
        let mut c = a.clone();
        c.apply_delta(&delta).expect("the delta applies");
        assert_eq!(c.to_bytes(), b.to_bytes());
        assert_eq!(c, b);
        let again = c.apply_delta(&delta);
        assert_eq!(again, Err(DeltaError::WrongBase { expected: a.version(), found: b.version() }));
        assert_eq!(c, b);
        assert_eq!(Snapshot::from_bytes(&c.to_bytes(), Limits::default()), Ok(b));
    }
}
