//! Reading the binary form as it arrives, chunk by chunk (`Snapshot.fromStream`): each byte goes
//! straight to its place — the header, the strings' text, or the column being filled — so the
//! input is never held whole. Every column is reserved at its final length from the header, so
//! memory grows by the tables alone. The checksum is computed on the way and checked at the
//! end, with every structural check of [`Snapshot::from_bytes`].
//!
//! Memory is reserved section by section as the bytes arrive, each reservation fallible (a
//! refusal, "not enough memory to load it", rather than an abort), and never probed up front:
//! wasm memory never shrinks, so a probe of the whole input's size grew it by a whole snapshot
//! even for a load that failed after its first megabyte, and, needing one block as large as the
//! input, it could not reuse the room a freed snapshot left (its tables are many smaller
//! blocks): every re-base grew memory by another snapshot (issue 24: 50.7 → 100.1 → 149.6 MiB
//! for the 1M-link snapshot in Node). Without it a load takes only the blocks it fills, and a
//! re-base reuses the room of the snapshot freed before it.

use super::layout::{header_size, let_go_groups_by_sym, refuse, Layout, GROUP_BY_SYM, HEADER, HEADER_START};
use super::Snapshot;
use identity_links_tables::error::SnapshotError;
use identity_links_tables::tables::Limits;
use identity_links_tables::words::{extend_le_words, StreamHash};

/// Where the reader is in the binary form.
enum Section {
    /// The fixed-size header, gathered in `header`.
    Header,
    /// The strings' text (then its zero padding).
    Text,
    /// Column `i`.
    Column(usize),
    /// The 8-byte checksum.
    Checksum,
}

/// A binary form being read from chunks of any size.
pub struct BinaryReader {
    limits: Limits,
    section: Section,
    /// Bytes read so far.
    read: usize,
    header: Vec<u8>,
    /// The header's size: [`HEADER_START`] until those bytes have said the version, then the
    /// size of that version's header.
    header_len: usize,
    layout: Option<Layout>,
    sum: Option<StreamHash>,
    text: Vec<u8>,
    snapshot: Snapshot,
    group_by_sym: Vec<u32>,
    groups_checked: bool,
    /// The bytes of a column word or of the checksum split across chunks.
    partial: Vec<u8>,
}

impl BinaryReader {
    /// A reader that refuses more than `limits.max_bytes`.
    pub fn new(limits: Limits) -> Self {
        BinaryReader {
            limits,
            section: Section::Header,
            read: 0,
            header: Vec::with_capacity(HEADER),
            header_len: HEADER_START,
            layout: None,
            sum: None,
            text: Vec::new(),
            snapshot: Snapshot::default(),
            group_by_sym: Vec::new(),
            groups_checked: false,
            partial: Vec::new(),
        }
    }

    /// Whether `first` (the first bytes of an input) can start the binary form: what a caller
    /// with input of either kind asks before choosing the JSON loader instead.
    pub fn starts_binary(first: &[u8]) -> bool {
        let n = first.len().min(8);
        first.get(..n) == super::layout::MAGIC.get(..n)
    }

    /// The input's size, once the header is read.
    fn total(&self) -> Option<usize> {
        self.layout.as_ref()?.body?.checked_add(8)
    }

    /// Reads the next chunk.
    ///
    /// # Errors
    /// A `SnapshotError` at path `bytes`: not the binary form, another format version, sizes
    /// that do not add up, more than the limit or more bytes than the header announces.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), SnapshotError> {
        while !chunk.is_empty() {
            // Checked again once the header in this chunk has told the size.
            if self.total().is_some_and(|total| self.read + chunk.len() > total) {
                return Err(refuse("more bytes than its header announces (trailing data)"));
            }
            let used = match self.section {
                Section::Header => self.header_bytes(chunk)?,
                Section::Text => self.text_bytes(chunk)?,
                Section::Column(i) => self.column_bytes(i, chunk),
                Section::Checksum => {
                    let take = (8 - self.partial.len()).min(chunk.len());
                    self.partial.extend_from_slice(&chunk[..take]);
                    take
                }
            };
            if !matches!(self.section, Section::Checksum) {
                if let Some(sum) = &mut self.sum {
                    sum.update(&chunk[..used]);
                }
            }
            self.read += used;
            chunk = &chunk[used..];
            self.advance()?;
        }
        Ok(())
    }

    fn header_bytes(&mut self, chunk: &[u8]) -> Result<usize, SnapshotError> {
        let mut used = 0;
        loop {
            let take = (self.header_len - self.header.len()).min(chunk.len() - used);
            self.header.extend_from_slice(&chunk[used..used + take]);
            used += take;
            if self.header.len() < self.header_len {
                // The magic is checked as soon as it can be, so other input is refused at once.
                if !Self::starts_binary(&self.header) {
                    return Err(refuse(super::layout::NOT_A_SNAPSHOT));
                }
                return Ok(used);
            }
            if self.header_len != HEADER_START {
                break;
            }
            // The version is known, so the header's size is: the rest may be in this chunk.
            self.header_len = header_size(Layout::columns(&self.header)?);
        }
        let layout = Layout::parse(&self.header)?;
        let Some(body) = layout.body else { return Err(refuse("section lengths do not add up")) };
        self.limits.check_size(body + 8, "bytes")?;
        let mut sum = StreamHash::new(body);
        // The header's own bytes, except the part of this chunk that `push` hashes.
        sum.update(&self.header[..self.header_len - used]);
        self.sum = Some(sum);
        // The text and its padding, with the room a delta's apply gives a column (a 64th), so
        // that the first delta that lengthens the text edits it where it is instead of moving
        // the largest column to a block of its own (docs/deltas.md, "Memory and time").
        let room = super::apply::room(layout.text_end - self.header_len);
        self.text.try_reserve_exact(room).map_err(|_| out_of_memory())?;
        self.layout = Some(layout);
        self.section = Section::Text;
        Ok(used)
    }

    fn text_bytes(&mut self, chunk: &[u8]) -> Result<usize, SnapshotError> {
        let Some(layout) = &self.layout else { return Err(refuse("section lengths do not add up")) };
        // The text, then its padding (kept with it until the section ends, then cut off).
        let padded = layout.text_end - self.header_len;
        let take = (padded - self.text.len()).min(chunk.len());
        self.text.extend_from_slice(&chunk[..take]);
        Ok(take)
    }

    fn column_bytes(&mut self, i: usize, chunk: &[u8]) -> usize {
        let want = self.layout.as_ref().and_then(|l| l.lengths.get(i).copied()).unwrap_or(0);
        let Some(column) = self.snapshot.column_mut(&mut self.group_by_sym, i) else { return chunk.len() };
        let mut used = 0;
        // A word split across chunks first.
        if !self.partial.is_empty() {
            let take = (4 - self.partial.len()).min(chunk.len());
            self.partial.extend_from_slice(&chunk[..take]);
            used = take;
            if let [a, b, c, d] = self.partial[..] {
                column.push(u32::from_le_bytes([a, b, c, d]));
                self.partial.clear();
            }
        }
        let words = (want - column.len()).min((chunk.len() - used) / 4);
        let whole = &chunk[used..used + 4 * words];
        extend_le_words(column, whole);
        used += 4 * words;
        if column.len() < want && used < chunk.len() {
            // The first bytes of a word that the next chunk completes.
            let rest = (chunk.len() - used).min(3);
            self.partial.extend_from_slice(&chunk[used..used + rest]);
            used += rest;
        }
        used
    }

    /// Moves to the next section when the current one is complete.
    fn advance(&mut self) -> Result<(), SnapshotError> {
        loop {
            let Some(layout) = &self.layout else { return Ok(()) };
            let next = match self.section {
                Section::Header | Section::Checksum => return Ok(()),
                Section::Text => {
                    if self.text.len() < layout.text_end - self.header_len {
                        return Ok(());
                    }
                    self.text.truncate(layout.text_len);
                    self.snapshot = layout.start(std::mem::take(&mut self.text), self.limits)?;
                    0
                }
                Section::Column(i) => {
                    let want = layout.lengths.get(i).copied().unwrap_or(0);
                    let read = self.snapshot.column_mut(&mut self.group_by_sym, i).map_or(0, |c| c.len());
                    if read < want {
                        return Ok(());
                    }
                    if i == GROUP_BY_SYM {
                        self.groups_checked = let_go_groups_by_sym(&self.snapshot, &mut self.group_by_sym);
                    }
                    i + 1
                }
            };
            self.section = self.start_column(next)?;
        }
    }

    /// The section of column `i` (its room reserved), or the checksum after the last column.
    ///
    /// # Errors
    /// A `SnapshotError` when the memory cannot hold the column.
    fn start_column(&mut self, i: usize) -> Result<Section, SnapshotError> {
        let want = self.layout.as_ref().and_then(|l| l.lengths.get(i).copied());
        match (self.snapshot.column_mut(&mut self.group_by_sym, i), want) {
            (Some(column), Some(n)) if self.layout.as_ref().is_some_and(|l| i < l.columns) => {
                column.try_reserve_exact(n).map_err(|_| out_of_memory())?;
                Ok(Section::Column(i))
            }
            _ => Ok(Section::Checksum),
        }
    }

    /// The snapshot, once every byte has been read.
    ///
    /// # Errors
    /// A `SnapshotError` at path `bytes`: the input ended early (naming how many bytes of how
    /// many), the checksum differs, or the tables are inconsistent.
    pub fn finish(self) -> Result<Snapshot, SnapshotError> {
        let total = self.total();
        if total != Some(self.read) {
            if self.read == 0 || self.layout.is_none() {
                return Err(refuse(super::layout::NOT_A_SNAPSHOT));
            }
            return Err(SnapshotError::new(
                "bytes",
                identity_links_tables::error::SnapshotProblem::Truncated { read: self.read, total: total.unwrap_or(0) },
            ));
        }
        let stored = <[u8; 8]>::try_from(&self.partial[..]).ok();
        let (Some(sum), Some(stored)) = (self.sum, stored) else {
            return Err(refuse("checksum mismatch (truncated or corrupted)"));
        };
        if sum.finish() != u64::from_le_bytes(stored) {
            return Err(refuse("checksum mismatch (truncated or corrupted)"));
        }
        if !self.groups_checked {
            return Err(refuse("tables are inconsistent"));
        }
        self.snapshot.check_structure()?;
        Ok(self.snapshot)
    }
}

/// The refusal of a load that the memory cannot hold (as [`Limits::check_input`] words it).
fn out_of_memory() -> SnapshotError {
    SnapshotError::new(
        "bytes",
        identity_links_tables::error::SnapshotProblem::Invalid { why: "not enough memory to load it" },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::snapshot::binary::tests::SAMPLE;

    fn sample() -> Snapshot {
        Snapshot::from_json(SAMPLE.as_bytes()).expect("the sample loads")
    }

    fn read(bytes: &[u8], chunk: usize) -> Result<Snapshot, SnapshotError> {
        let mut reader = BinaryReader::new(Limits::default());
        for piece in bytes.chunks(chunk.max(1)) {
            reader.push(piece)?;
        }
        reader.finish()
    }

    #[test]
    fn reads_the_binary_form_in_chunks_of_every_size() {
        let s = sample();
        let bytes = s.to_bytes();
        for chunk in 1..=bytes.len() {
            assert_eq!(read(&bytes, chunk).as_ref(), Ok(&s), "chunks of {chunk}");
        }
    }

    #[test]
    fn refuses_what_from_bytes_refuses() {
        let bytes = sample().to_bytes();
        for len in 0..bytes.len() {
            let error = read(&bytes[..len], 7).expect_err("a truncation is refused");
            assert_eq!(error.path, "bytes", "truncated to {len}");
        }
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            assert!(read(&b, 5).is_err(), "a flipped bit in byte {i} is refused");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        let error = read(&longer, 64).expect_err("trailing data is refused");
        assert!(error.to_string().contains("trailing data"), "{error}");
    }

    #[test]
    fn a_header_announcing_less_than_one_chunk_holds_is_refused() {
        // A length word lowered under a valid-looking header: the chunk holds more than the
        // header announces, and the reader stops there instead of waiting for the checksum.
        let s = sample();
        let mut bytes = s.to_bytes();
        let groups_at = 40 + 4 * 7;
        bytes[groups_at] -= 1;
        let error = read(&bytes, bytes.len()).expect_err("refused");
        assert!(error.to_string().contains("trailing data"), "{error}");
    }

    #[test]
    fn names_how_much_of_a_truncated_input_arrived() {
        let bytes = sample().to_bytes();
        let error = read(&bytes[..bytes.len() - 3], 64).expect_err("truncated");
        let message = error.to_string();
        assert!(message.contains(&format!("{} of the {} bytes", bytes.len() - 3, bytes.len())), "{message}");
    }

    #[test]
    fn refuses_other_input_at_its_first_bytes_and_over_the_limit() {
        let mut reader = BinaryReader::new(Limits::default());
        assert!(reader.push(br#"{"version":1}"#).is_err());
        assert!(BinaryReader::starts_binary(b"IDL") && !BinaryReader::starts_binary(b"{"));
        let bytes = sample().to_bytes();
        let mut small = BinaryReader::new(Limits { max_bytes: bytes.len() - 1, ..Limits::default() });
        let error = small.push(&bytes).expect_err("over the limit");
        assert!(error.to_string().contains("limit"), "{error}");
    }
}
