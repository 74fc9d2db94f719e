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
//! | 8 | 4 | format version: 4 (3 and 2 are still read: 3's columns are 4's without [`ADDED_IN_4`](super::layout::ADDED_IN_4), 2's are 3's without [`ADDED_IN_3`](super::layout::ADDED_IN_3), and their headers are that much shorter) |
//! | 12 | 4 | number of columns, `C` ([`COLUMNS`]) |
//! | 16 | 8 | `sequence` |
//! | 24 | 8 | `timestamp` seconds since the epoch (signed) |
//! | 32 | 4 | `timestamp` nanoseconds |
//! | 36 | 4 | length of the string text in bytes |
//! | 40 | 4 × `C` | each column's length in elements |
//! | … | | the string text (UTF-8), zero-padded to a multiple of 4 |
//! | … | | the columns, `u32` each, in the order of [`COLUMN_NAMES`](super::layout::COLUMN_NAMES) |
//! | end − 8 | 8 | checksum: [`identity_links_tables::words::hash`] of every byte before it |
//!
//! The checksum proves the bytes are the ones written (no truncation, no bit flips). Then every
//! structural invariant the queries rely on is checked in one linear pass — symbols and rows in
//! range, index offsets ascending, text valid UTF-8 — without hashing a string or rebuilding an
//! index; so even crafted bytes with a correct checksum cannot make a query panic or loop.

use super::layout::{COLUMNS, FORMAT, HEADER, MAGIC};
use super::stream::BinaryReader;
use super::Snapshot;
use identity_links_tables::error::SnapshotError;
use identity_links_tables::tables::Limits;
use identity_links_tables::words::hash;

impl Snapshot {
    /// The binary form of the snapshot (see the module documentation).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.binary_len());
        self.write_binary(&mut |piece| out.extend_from_slice(piece));
        let sum = hash(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// The length of [`Snapshot::to_bytes`]'s answer, from the columns' lengths (without
    /// writing it): for a caller that limits the size of what it publishes (the exporter).
    pub fn binary_len(&self) -> usize {
        self.binary_body_len() + 8
    }

    /// How many bytes of the binary form come before its checksum.
    pub(super) fn binary_body_len(&self) -> usize {
        let words: usize = self.kept_columns().map(Vec::len).sum::<usize>() + self.strings.len();
        HEADER + self.strings.text.len().div_ceil(4) * 4 + 4 * words
    }

    /// Gives the binary form but its checksum to `sink`, piece by piece: what
    /// [`Snapshot::to_bytes`] writes and [`Snapshot::version`](super::delta) hashes, without a
    /// copy of the whole (the columns go through a small buffer).
    pub(super) fn write_binary(&self, sink: &mut dyn FnMut(&[u8])) {
        let group_by_sym = self.group_by_sym();
        let columns = self.columns(&group_by_sym);
        let text = self.strings.text.as_bytes();
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&FORMAT.to_le_bytes());
        header.extend_from_slice(&(COLUMNS as u32).to_le_bytes());
        header.extend_from_slice(&self.sequence.to_le_bytes());
        header.extend_from_slice(&self.timestamp.seconds.to_le_bytes());
        header.extend_from_slice(&self.timestamp.nanos.to_le_bytes());
        header.extend_from_slice(&(text.len() as u32).to_le_bytes());
        for c in &columns {
            header.extend_from_slice(&(c.len() as u32).to_le_bytes());
        }
        sink(&header);
        sink(text);
        sink(&[0; 3][..text.len().div_ceil(4) * 4 - text.len()]);
        let mut buffer = [0u8; 4096];
        for c in &columns {
            for words in c.chunks(buffer.len() / 4) {
                for (bytes, word) in buffer.chunks_exact_mut(4).zip(words) {
                    // As an array, not `copy_from_slice`: that is a `memcpy` call per word in wasm
                    // (a third of an apply's time at 1M links, which hashes the form).
                    if let Ok(bytes) = <&mut [u8; 4]>::try_from(bytes) {
                        *bytes = word.to_le_bytes();
                    }
                }
                sink(&buffer[..words.len() * 4]);
            }
        }
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
        // The size limit only: the reader reserves memory as it fills it, fallibly (a probe of
        // the whole input's size would grow wasm memory, which never shrinks, by a block no
        // table reuses: src/snapshot/stream.rs).
        limits.check_size(total, "bytes")?;
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::snapshot::layout::{COLUMN_NAMES, GROUP_BY_SYM};

    /// A small snapshot for the binary form's tests (here and in [`crate::snapshot::stream`]'s).
    pub(in crate::snapshot) const SAMPLE: &str = r#"{"version":1,"sequence":"42","timestamp":"2025-01-01T10:00:00.5+01:00",
        "users":[{"id":"u1","firstName":"Ann","lastName":null,"org":"o"},{"id":"u2"}],
        "groups":[{"id":"g","name":"G"}],"memberships":[{"userId":"u1","groupId":"g"},{"userId":"u2","groupId":"g"}],
        "tasks":[{"id":"t","assignee":"u1","identityLinks":[{"groupId":"g","type":"candidate"}]}],
        "idpLinks":[{"userId":"u1","idpId":"i","providedUserId":"p","providedUserName":""}]}"#;

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
    fn binary_len_is_the_length_of_the_binary_form() {
        // The text's length in each remainder modulo 4 (it is padded to a whole word).
        for name in ["", "A", "An", "Ann", "Anne"] {
            let json = SAMPLE.replace("\"Ann\"", &format!("\"{name}\""));
            let s = Snapshot::from_json(json.as_bytes()).expect("the sample, renamed, loads");
            assert_eq!(s.binary_len(), s.to_bytes().len(), "first name {name:?}");
        }
        let empty = Snapshot::from_json(br#"{"version":1}"#).expect("an empty snapshot loads");
        assert_eq!(empty.binary_len(), empty.to_bytes().len());
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
        let group_id = COLUMN_NAMES.iter().position(|&name| name == "groups.id").expect("groups.id is a column");
        assert_eq!(COLUMN_NAMES[GROUP_BY_SYM], "groups.by_sym");
        assert!(std::ptr::eq(columns[GROUP_BY_SYM], &marker) && std::ptr::eq(columns[group_id], &s.groups.id));
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
