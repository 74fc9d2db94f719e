//! The binary form (`toBytes` / `fromBytes`): the loaded snapshot's columns written as they are
//! in memory, so reading it back is a copy and a few linear checks, not a parse and a rebuild.
//! One column is not kept in memory: the groups' rows by id symbol (no query needs it), which is
//! written from `groups.id` and, when read, checked and dropped.
//!
//! Layout (all integers little-endian):
//!
//! | offset | size | content |
//! | --- | --- | --- |
//! | 0 | 8 | magic `IDLINKS\0` |
//! | 8 | 4 | format version (2: the index hashed with [`super::strings::slot_hash`]) |
//! | 12 | 4 | number of columns (28) |
//! | 16 | 8 | `sequence` |
//! | 24 | 8 | `timestamp` seconds since the epoch (signed) |
//! | 32 | 4 | `timestamp` nanoseconds |
//! | 36 | 4 | length of the string text in bytes |
//! | 40 | 4 × 28 | each column's length in elements |
//! | … | | the string text (UTF-8), zero-padded to a multiple of 4 |
//! | … | | the columns, `u32` each, in `Snapshot::columns` order |
//! | end − 8 | 8 | checksum: [`super::strings::hash`] of every byte before it |
//!
//! The checksum proves the bytes are the ones written (no truncation, no bit flips). Then every
//! structural invariant the queries rely on is checked in one linear pass — symbols and rows in
//! range, index offsets ascending, text valid UTF-8 — without hashing a string or rebuilding an
//! index; so even crafted bytes with a correct checksum cannot make a query panic or loop.

use super::stream::BinaryReader;
use super::strings::{hash, Strings, NONE};
use super::timestamp::Timestamp;
use super::{Limits, Snapshot};
use crate::error::{SnapshotError, SnapshotProblem};

pub(super) const MAGIC: &[u8; 8] = b"IDLINKS\0";
const FORMAT: u32 = 2;
pub(super) const COLUMNS: usize = 28;
pub(super) const HEADER: usize = 40 + 4 * COLUMNS;
/// Where `groups.id` and the groups' by-symbol column are among the columns.
#[cfg(test)]
const GROUP_ID: usize = 11;
pub(super) const GROUP_BY_SYM: usize = 26;
/// How many columns [`Snapshot::kept_columns`] gives.
pub const KEPT: usize = COLUMNS - 1;

/// Whether `column` maps each of `n_syms` symbols to a row below `n` or to [`NONE`].
fn by_sym(column: &[u32], n_syms: usize, n: usize) -> bool {
    column.len() == n_syms && column.iter().all(|&x| x == NONE || (x as usize) < n)
}

pub(super) fn refuse(why: &'static str) -> SnapshotError {
    SnapshotError::new("bytes", SnapshotProblem::Binary { why })
}

impl Snapshot {
    /// The `u32` columns the snapshot keeps (every column of the binary form but the groups'
    /// by-symbol one), in the binary form's order: also how `fromJson` moves a snapshot loaded in
    /// one wasm instance into another ([`KEPT`] of them).
    fn kept(&self) -> [&Vec<u32>; KEPT] {
        let (u, g, t, l, b) = (&self.users, &self.groups, &self.tasks, &self.idp, &self.by_sym);
        [
            &self.strings.ends,
            &self.strings.slots,
            &u.id,
            &u.first,
            &u.last,
            &u.org,
            &u.java_hash,
            &u.groups_at,
            &u.groups,
            &u.idp_at,
            &u.idp,
            &g.id,
            &g.name,
            &g.members_at,
            &g.members,
            &t.id,
            &t.assignee,
            &t.owner,
            &t.links_at,
            &t.link_ref,
            &t.link_type,
            &l.user,
            &l.idp_id,
            &l.provided_id,
            &l.provided_name,
            &b.user,
            &b.task,
        ]
    }

    /// The same columns, to fill.
    fn kept_mut(&mut self) -> [&mut Vec<u32>; KEPT] {
        let (u, g, t, l, b) = (&mut self.users, &mut self.groups, &mut self.tasks, &mut self.idp, &mut self.by_sym);
        [
            &mut self.strings.ends,
            &mut self.strings.slots,
            &mut u.id,
            &mut u.first,
            &mut u.last,
            &mut u.org,
            &mut u.java_hash,
            &mut u.groups_at,
            &mut u.groups,
            &mut u.idp_at,
            &mut u.idp,
            &mut g.id,
            &mut g.name,
            &mut g.members_at,
            &mut g.members,
            &mut t.id,
            &mut t.assignee,
            &mut t.owner,
            &mut t.links_at,
            &mut t.link_ref,
            &mut t.link_type,
            &mut l.user,
            &mut l.idp_id,
            &mut l.provided_id,
            &mut l.provided_name,
            &mut b.user,
            &mut b.task,
        ]
    }

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
    fn columns<'a>(&'a self, group_by_sym: &'a Vec<u32>) -> [&'a Vec<u32>; COLUMNS] {
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
    /// layout predates its removal from [`BySym`]).
    fn group_by_sym(&self) -> Vec<u32> {
        let mut column = vec![NONE; self.strings.len()];
        for (row, &id) in self.groups.id.iter().enumerate() {
            if let Some(slot) = column.get_mut(id as usize) {
                *slot = row as u32;
            }
        }
        column
    }

    /// The binary form of the snapshot (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let group_by_sym = self.group_by_sym();
        let columns = self.columns(&group_by_sym);
        let text = self.strings.text.as_bytes();
        let padded = text.len().div_ceil(4) * 4;
        let size = HEADER + padded + columns.iter().map(|c| c.len() * 4).sum::<usize>() + 8;
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT.to_le_bytes());
        out.extend_from_slice(&(COLUMNS as u32).to_le_bytes());
        out.extend_from_slice(&self.sequence.to_le_bytes());
        out.extend_from_slice(&self.timestamp.seconds.to_le_bytes());
        out.extend_from_slice(&self.timestamp.nanos.to_le_bytes());
        out.extend_from_slice(&(text.len() as u32).to_le_bytes());
        for c in &columns {
            out.extend_from_slice(&(c.len() as u32).to_le_bytes());
        }
        out.extend_from_slice(text);
        out.resize(HEADER + padded, 0);
        for c in &columns {
            for v in c.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        let sum = hash(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Reads the binary form back, with the given paging options.
    ///
    /// # Errors
    /// A `SnapshotError` at path `bytes` for truncated, corrupted or foreign bytes.
    pub fn from_bytes(bytes: &[u8], limits: Limits) -> Result<Snapshot, SnapshotError> {
        Self::from_source(bytes, limits)
    }

    /// Reads the binary form from `source` piece by piece, as a stream is read
    /// ([`BinaryReader`]): each piece goes straight into its table, so the whole input is never
    /// copied (into wasm memory, which never shrinks, that copy would count as long as the module
    /// lives).
    ///
    /// # Errors
    /// As [`Snapshot::from_bytes`].
    pub fn from_source<S: ByteSource + ?Sized>(source: &S, limits: Limits) -> Result<Snapshot, SnapshotError> {
        let total = source.len();
        limits.check_input(total, "bytes")?;
        let mut reader = BinaryReader::new(limits);
        let mut buffer = vec![0u8; CHUNK.min(total)];
        let mut done = 0;
        while done < total {
            let n = (total - done).min(buffer.len());
            source.read(done, &mut buffer[..n]);
            reader.push(&buffer[..n])?;
            done += n;
        }
        reader.finish()
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
            && by_sym(&b.task, n_syms, n_tasks);
        if ok {
            Ok(())
        } else {
            Err(refuse("tables are inconsistent"))
        }
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
    /// Each column's length in elements.
    pub(super) lengths: Vec<usize>,
    /// Where the columns start (after the padded text).
    pub(super) text_end: usize,
    /// The bytes before the checksum, if the lengths add up to a size at all.
    pub(super) body: Option<usize>,
}

impl Layout {
    /// Reads the header (the first [`HEADER`] bytes).
    pub(super) fn parse(header: &[u8]) -> Result<Layout, SnapshotError> {
        if header.get(..8) != Some(&MAGIC[..]) {
            return Err(refuse(NOT_A_SNAPSHOT));
        }
        let u32_at = |at: usize| header.get(at..at + 4).map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let u64_at = |at: usize| u64::from(u32_at(at)) | u64::from(u32_at(at + 4)) << 32;
        if u32_at(8) != FORMAT || u32_at(12) as usize != COLUMNS {
            return Err(refuse("written by another format version"));
        }
        let text_len = u32_at(36) as usize;
        let lengths: Vec<usize> = (0..COLUMNS).map(|i| u32_at(40 + 4 * i) as usize).collect();
        let text_end = HEADER + text_len.div_ceil(4) * 4;
        let body = lengths.iter().try_fold(text_end, |acc, &n| n.checked_mul(4).and_then(|b| acc.checked_add(b)));
        let timestamp = Timestamp { seconds: u64_at(24) as i64, nanos: u32_at(32) };
        Ok(Layout { sequence: u64_at(16), timestamp, text_len, lengths, text_end, body })
    }

    /// A snapshot with the header's values and `text` as its strings' text, columns to come.
    pub(super) fn start(&self, text: Vec<u8>, limits: Limits) -> Result<Snapshot, SnapshotError> {
        let text = String::from_utf8(text).map_err(|_| refuse("string text is not UTF-8"))?;
        Ok(Snapshot {
            strings: Strings { text, ..Strings::default() },
            sequence: self.sequence,
            timestamp: self.timestamp,
            limits,
            ..Snapshot::default()
        })
    }
}

/// How much of the input is read at a time (a multiple of 8, so every piece but the last holds
/// whole words for the checksum and whole `u32`s for the columns).
const CHUNK: usize = 64 * 1024;

/// Bytes that can be read piece by piece: a slice, or (in the wasm facade) a JS `Uint8Array`.
pub trait ByteSource {
    /// How many bytes there are.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies the bytes from `at` into `out` (callers stay within `len()`).
    fn read(&self, at: usize, out: &mut [u8]);
}

impl ByteSource for [u8] {
    fn len(&self) -> usize {
        <[u8]>::len(self)
    }
    fn read(&self, at: usize, out: &mut [u8]) {
        if let Some(bytes) = self.get(at..at + out.len()) {
            out.copy_from_slice(bytes);
        }
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

/// A small snapshot for the binary form's tests (here and in [`super::stream`]).
#[cfg(test)]
pub(super) const SAMPLE: &str = r#"{"version":1,"sequence":"42","timestamp":"2025-01-01T10:00:00.5+01:00",
        "users":[{"id":"u1","firstName":"Ann","lastName":null,"org":"o"},{"id":"u2"}],
        "groups":[{"id":"g","name":"G"}],"memberships":[{"userId":"u1","groupId":"g"},{"userId":"u2","groupId":"g"}],
        "tasks":[{"id":"t","assignee":"u1","identityLinks":[{"groupId":"g","type":"candidate"}]}],
        "idpLinks":[{"userId":"u1","idpId":"i","providedUserId":"p","providedUserName":""}]}"#;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot::from_json(SAMPLE.as_bytes()).expect("the sample loads")
    }

    #[test]
    fn round_trips_exactly() {
        let s = sample();
        assert_eq!(s.stats().memberships, 2);
        let back = Snapshot::from_bytes(&s.to_bytes(), Limits::default());
        assert_eq!(back.as_ref(), Ok(&s));
    }

    #[test]
    fn refuses_every_truncation_and_bit_flip() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            assert!(Snapshot::from_bytes(&bytes[..len], Limits::default()).is_err(), "truncated to {len}");
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut b = bytes.clone();
                b[i] ^= 1 << bit;
                assert!(Snapshot::from_bytes(&b, Limits::default()).is_err(), "bit {bit} of byte {i}");
            }
        }
    }

    #[test]
    fn refuses_crafted_inconsistent_tables_with_a_valid_checksum() {
        let s = sample();
        let mut bad = s.clone();
        bad.users.groups[0] = 99;
        let mut bytes = bad.to_bytes();
        assert_eq!(Snapshot::from_bytes(&bytes, Limits::default()).map_err(|e| e.path), Err("bytes".to_owned()));
        // A full hash index (no empty slot) would make lookups loop forever: refused.
        let mut full = s.clone();
        full.strings.slots = vec![0; full.strings.slots.len()];
        bytes = full.to_bytes();
        assert!(Snapshot::from_bytes(&bytes, Limits::default()).is_err());
    }

    #[test]
    fn the_groups_by_symbol_column_is_written_checked_and_let_go() {
        let s = sample();
        let marker = vec![7];
        let columns = s.columns(&marker);
        assert!(std::ptr::eq(columns[GROUP_BY_SYM], &marker) && std::ptr::eq(columns[GROUP_ID], &s.groups.id));
        // Written from groups.id: each group's id symbol maps to its row.
        let bytes = s.to_bytes();
        let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize;
        let lengths: Vec<usize> = (0..COLUMNS).map(|i| word(40 + 4 * i)).collect();
        let start = HEADER + word(36).div_ceil(4) * 4 + 4 * lengths[..GROUP_BY_SYM].iter().sum::<usize>();
        for (row, &id) in s.groups.id.iter().enumerate() {
            assert_eq!(word(start + 4 * id as usize), row);
        }
        assert_eq!(Snapshot::from_bytes(&bytes, Limits::default()), Ok(s.clone()));
        // A row out of range there, under a valid checksum, is refused.
        let mut bad = bytes.clone();
        let body = bad.len() - 8;
        bad[start..start + 4].copy_from_slice(&(s.groups.id.len() as u32).to_le_bytes());
        let sum = hash(&bad[..body]);
        bad[body..].copy_from_slice(&sum.to_le_bytes());
        assert_eq!(Snapshot::from_bytes(&bad, Limits::default()).map_err(|e| e.path), Err("bytes".to_owned()));
    }
}
