//! The string table: every string of a snapshot stored once, named by a `u32` symbol.
//!
//! One text buffer, one end offset per symbol and one open-addressing hash index make the
//! whole table three flat vectors: cheap to build, small in wasm memory (no allocation per
//! string) and written to the binary form as they are, index included.

/// A string's number in the [`Strings`] table.
pub type Sym = u32;

/// The "no value" symbol, for optional fields (`null`) and empty slots.
pub const NONE: Sym = u32::MAX;

/// Interned strings with lookup by content. The fields are public for the binary form, which
/// writes and reads them as they are; a table read from elsewhere must pass
/// [`Strings::check_shape`] before lookups can rely on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Strings {
    /// All strings, concatenated.
    pub text: String,
    /// `ends[s]` is where symbol `s` ends in `text`; it starts where `s - 1` ends.
    pub ends: Vec<u32>,
    /// Open-addressing hash index (power-of-two size, linear probing): a symbol or [`NONE`].
    pub slots: Vec<Sym>,
}

/// Why a string cannot enter the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TableFull;

impl Strings {
    /// How many distinct strings the table holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of symbol `sym`; `""` for [`NONE`] or an unknown symbol.
    #[inline]
    pub fn get(&self, sym: Sym) -> &str {
        let i = sym as usize;
        let end = match self.ends.get(i) {
            Some(&e) => e as usize,
            None => return "",
        };
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        self.text.get(start..end).unwrap_or("")
    }

    /// The bytes of symbol `sym` (what lookups compare: no char-boundary checks); empty for
    /// [`NONE`] or an unknown symbol.
    #[inline(always)]
    pub fn bytes_of(&self, sym: Sym) -> &[u8] {
        let i = sym as usize;
        let end = self.ends.get(i).map_or(0, |&e| e as usize);
        let start = match i.checked_sub(1) {
            Some(p) => self.ends.get(p).map_or(0, |&e| e as usize),
            None => 0,
        };
        self.text.as_bytes().get(start..end).unwrap_or_default()
    }

    /// The text of an optional symbol.
    #[inline]
    pub fn get_opt(&self, sym: Sym) -> Option<&str> {
        (sym != NONE).then(|| self.get(sym))
    }

    /// The symbol of `s`, if the table holds it.
    pub fn lookup(&self, s: &str) -> Option<Sym> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut slot = slot_hash(s.as_bytes()) as usize & mask;
        loop {
            let sym = self.slots[slot];
            if sym == NONE {
                return None;
            }
            if self.bytes_of(sym) == s.as_bytes() {
                return Some(sym);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The table of the strings concatenated in `text`, symbol `s` ending at `ends[s]`, with its
    /// index built at the size lookups do well with: at most three quarters full (a table that
    /// is still filled would want more room; this one is complete).
    pub fn indexed(text: String, ends: Vec<u32>) -> Strings {
        Strings::reindexed(text, ends, Vec::new())
    }

    /// [`Strings::indexed`], the index made in `slots`' memory when that is its size (a delta's
    /// apply indexes its strings again where the base's index was, instead of in a new block).
    pub fn reindexed(text: String, ends: Vec<u32>, slots: Vec<Sym>) -> Strings {
        let mut strings = Strings { text, ends, slots };
        let n = strings.ends.len();
        match n {
            // No strings, no index (not `slots`' old one).
            0 => strings.slots = Vec::new(),
            _ => strings.rebuild_index((n + n / 3 + 1).next_power_of_two().max(16)),
        }
        strings
    }

    /// The index rebuilt at `size` slots (a power of two above the number of strings), in the
    /// old index's memory when that is its size.
    fn rebuild_index(&mut self, size: usize) {
        let mut slots = std::mem::take(&mut self.slots);
        slots.clear();
        if slots.capacity() != size {
            slots = Vec::new();
        }
        slots.resize(size, NONE);
        let mask = size - 1;
        for sym in 0..self.ends.len() as Sym {
            let mut slot = slot_hash(self.bytes_of(sym)) as usize & mask;
            while slots[slot] != NONE {
                slot = (slot + 1) & mask;
            }
            slots[slot] = sym;
        }
        self.slots = slots;
    }

    /// Checks the shape that [`Strings::get`] and [`Strings::lookup`] rely on: ends ascending on
    /// character boundaries, and an index of power-of-two size with one occupied slot per
    /// symbol (so lookups terminate). Linear, and hashes nothing.
    pub fn check_shape(&self) -> bool {
        let mut prev = 0usize;
        for &end in &self.ends {
            let end = end as usize;
            if end < prev || !self.text.is_char_boundary(end) {
                return false;
            }
            prev = end;
        }
        if prev != self.text.len() || self.ends.len() >= (1 << 31) {
            return false;
        }
        let size = self.slots.len();
        let shaped = if self.ends.is_empty() {
            size == 0 || size.is_power_of_two()
        } else {
            size.is_power_of_two() && size > self.ends.len()
        };
        // Exactly one occupied slot per symbol leaves empty slots, so lookups terminate.
        shaped
            && self.slots.iter().all(|&s| s == NONE || (s as usize) < self.ends.len())
            && self.slots.iter().filter(|&&s| s != NONE).count() == self.ends.len()
    }
}

impl std::fmt::Display for TableFull {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the string table is full (2^31 strings or 4 GiB of text)")
    }
}

impl std::error::Error for TableFull {}

/// How many characters (Unicode scalar values) `s` holds: its bytes that do not continue a
/// character. What `s.chars().count()` answers, in a loop that a size-optimized build keeps small.
pub fn char_count(s: &str) -> usize {
    s.bytes().filter(|&b| b & 0xC0 != 0x80).count()
}

const K32: u32 = 0x9E37_79B1;

/// The hash index's hash: 32-bit, over little-endian 4-byte words (the last one zero-padded), the
/// length as its seed, and a murmur3 finalizer to spread every input bit into the low bits the
/// index masks with. The binary form stores the index, so the function is part of the format.
pub fn slot_hash(bytes: &[u8]) -> u32 {
    let mix = |h: u32, w: u32| (h ^ w).wrapping_mul(K32).rotate_left(15);
    let mut h = (bytes.len() as u32).wrapping_mul(K32);
    // Little-endian words, the last one zero-padded.
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
        h = mix(h, u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        h = mix(h, u32::from_le_bytes(last));
    }
    h ^= h >> 16;
    h = h.wrapping_mul(0x85EB_CA6B);
    h ^= h >> 13;
    h = h.wrapping_mul(0xC2B2_AE35);
    h ^ (h >> 16)
}

/// Java's `String.hashCode` (over UTF-16 code units, 32-bit wrap-around); 0 for `None`.
pub fn java_hash(s: Option<&str>) -> i32 {
    s.map_or(0, |s| s.encode_utf16().fold(0i32, |h, unit| h.wrapping_mul(31).wrapping_add(i32::from(unit))))
}

/// Java's `String.compareTo`: order by UTF-16 code units (differs from UTF-8 byte order only
/// between U+E000..U+FFFF and characters beyond U+FFFF).
pub fn cmp_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    let diff = a.bytes().zip(b.bytes()).position(|(x, y)| x != y);
    match diff {
        None => a.len().cmp(&b.len()),
        Some(i) => {
            // Back up to the start of the character that differs (the prefix is shared).
            let mut start = i;
            while !a.is_char_boundary(start) {
                start -= 1;
            }
            let units = |s: &str| {
                s.get(start..).and_then(|rest| rest.chars().next()).map(|c| {
                    let mut buf = [0u16; 2];
                    let n = c.encode_utf16(&mut buf).len();
                    (buf, n)
                })
            };
            match (units(a), units(b)) {
                (Some((x, nx)), Some((y, ny))) => x[..nx].cmp(&y[..ny]),
                _ => a.len().cmp(&b.len()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;

    #[test]
    fn an_index_is_at_most_three_quarters_full_and_finds_everything() {
        for n in [0, 1, 11, 12, 13, 700, 3000, 20_000] {
            let words: Vec<String> = (0..n).map(|i| format!("w{i}")).collect();
            let mut ends = Vec::new();
            for w in &words {
                ends.push(ends.last().copied().unwrap_or(0) + w.len() as u32);
            }
            let t = Strings::indexed(words.concat(), ends);
            assert!(t.check_shape(), "{n}");
            let size = t.slots.len();
            if n == 0 {
                assert_eq!(size, 0, "an empty table has no index");
            } else {
                assert!(4 * n <= 3 * size, "{n}: {size} slots, over three quarters full");
                assert!(size == 16 || 8 * n >= 3 * size, "{n}: {size} slots, larger than needed");
            }
            for (i, w) in words.iter().enumerate() {
                assert_eq!(t.lookup(w), Some(i as Sym), "{w}");
            }
            assert_eq!(t.lookup("absent"), None);
        }
    }

    #[test]
    fn an_index_made_in_an_old_ones_memory_is_the_index_made_afresh() {
        let table = |n: usize| {
            let words: Vec<String> = (0..n).map(|i| format!("v{i}")).collect();
            let ends = words.iter().scan(0, |end, w| Some(*end + w.len() as u32).inspect(|&e| *end = e)).collect();
            (words.concat(), ends)
        };
        // Every pair of sizes among these: the same index size, another, none.
        let sizes = [0, 1, 12, 13, 700, 701, 3000];
        for old in sizes {
            for new in sizes {
                let before = Strings::indexed(table(old).0, table(old).1);
                let (block, size) = (before.slots.as_ptr(), before.slots.len());
                let (text, ends) = table(new);
                let again = Strings::reindexed(text.clone(), ends.clone(), before.slots);
                assert!(again == Strings::indexed(text, ends), "{old} strings, then {new}");
                if again.slots.len() == size && new > 0 {
                    assert_eq!(again.slots.as_ptr(), block, "{old} → {new}: the old index's memory");
                }
            }
        }
    }

    #[test]
    fn char_count_counts_what_chars_count_counts() {
        for s in ["", "a", "é", "中文", "😀x😀", "a\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}\u{10ffff}"] {
            assert_eq!(char_count(s), s.chars().count(), "{s:?}");
        }
    }

    #[test]
    fn slot_hash_is_pinned() {
        // Stored binary indexes depend on the function: these values pin it.
        assert_eq!(slot_hash(b""), 0);
        assert_eq!(slot_hash(b"a"), 0xB261_CC32);
        assert_eq!(slot_hash(b"task-0000001"), 0xA518_DD0E);
        assert_ne!(slot_hash(b"ab"), slot_hash(b"ba"));
    }

    #[test]
    fn java_string_hash_code() {
        assert_eq!(java_hash(Some("")), 0);
        assert_eq!(java_hash(Some("demo")), 3_079_651);
        assert_eq!(java_hash(Some("polygenelubricants")), i32::MIN);
        assert_eq!(java_hash(Some("😀")), 0xD83D * 31 + 0xDE00);
        assert_eq!(java_hash(None), 0);
    }

    #[test]
    fn utf16_order_differs_from_utf8_only_above_the_bmp() {
        assert_eq!(cmp_utf16("a", "b"), Ordering::Less);
        assert_eq!(cmp_utf16("ab", "a"), Ordering::Greater);
        assert_eq!(cmp_utf16("Z", "a"), Ordering::Less);
        // U+FF5E is above the high surrogates in UTF-16, below U+1F600 in code points.
        assert_eq!(cmp_utf16("\u{FF5E}", "😀"), Ordering::Greater);
        assert_eq!("\u{FF5E}".cmp("😀"), Ordering::Less);
        assert_eq!(cmp_utf16("xé", "xé"), Ordering::Equal);
    }
}
