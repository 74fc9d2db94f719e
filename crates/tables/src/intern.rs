//! The string table as the loader fills it: each string stored once, in order of first
//! appearance, found again through an index of its own.
//!
//! Interning is the loader's most frequent step (every id, reference and name of a snapshot),
//! so its index is not the binary form's: each entry holds the symbol with 32 bits of a hash
//! that is quick over short strings, so that a probe compares text only when the hashes match.
//! [`Interner::finish`] gives the [`Strings`] of the snapshot, with the index of the binary form
//! built once over the distinct strings.

use crate::strings::{Strings, Sym, TableFull};
use identity_links_text::bytes::{same, word64};

/// An empty index entry.
const EMPTY: u64 = u64::MAX;

/// Strings interned while loading.
#[derive(Debug, Default)]
pub struct Interner {
    /// The strings so far, as the snapshot will hold them; their own index is left empty until
    /// [`Interner::finish`].
    strings: Strings,
    /// Open addressing, linear probing, power-of-two size, at most half full: `hash << 32 | sym`
    /// or [`EMPTY`].
    index: Vec<u64>,
}

impl Interner {
    /// An empty table whose index holds `strings` strings before it first grows: a loader that
    /// can estimate how many it will intern saves the index's rebuilds on the way.
    pub fn with_capacity(strings: usize) -> Interner {
        let size = strings.saturating_mul(2).next_power_of_two().max(16);
        Interner { index: vec![EMPTY; size], ..Interner::default() }
    }

    /// The strings interned so far (their lookup index is built by [`Interner::finish`]).
    pub fn strings(&self) -> &Strings {
        &self.strings
    }

    /// The symbol of `s`, adding it when new. Fails only past 4 GiB of text or 2^31 strings.
    #[inline]
    pub fn intern(&mut self, s: &str) -> Result<Sym, TableFull> {
        if self.strings.len() * 2 >= self.index.len() {
            self.grow();
        }
        let hash = load_hash(s.as_bytes());
        let mask = self.index.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            let entry = self.index[slot];
            if entry == EMPTY {
                break;
            }
            if (entry >> 32) as u32 == hash {
                let sym = entry as u32;
                if same(self.strings.bytes_of(sym), s.as_bytes()) {
                    return Ok(sym);
                }
            }
            slot = (slot + 1) & mask;
        }
        let strings = &mut self.strings;
        let end = u32::try_from(strings.text.len() + s.len()).map_err(|_| TableFull)?;
        let sym = Sym::try_from(strings.ends.len()).ok().filter(|&n| n < (1 << 31)).ok_or(TableFull)?;
        strings.text.push_str(s);
        strings.ends.push(end);
        self.index[slot] = u64::from(hash) << 32 | u64::from(sym);
        Ok(sym)
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        let size = (self.index.len() * 2).max(16);
        let mut index = vec![EMPTY; size];
        let mask = size - 1;
        for &entry in self.index.iter().filter(|&&e| e != EMPTY) {
            let mut slot = (entry >> 32) as usize & mask;
            while index[slot] != EMPTY {
                slot = (slot + 1) & mask;
            }
            index[slot] = entry;
        }
        self.index = index;
    }

    /// The snapshot's string table: the same symbols, with the binary form's index.
    pub fn finish(self) -> Strings {
        Strings::indexed(self.strings.text, self.strings.ends)
    }
}

/// The interning hash: 32 bits, from the length and the string's 8-byte words (the last one
/// overlapping the one before it; a shorter string is one word), so that a short id costs one
/// or two multiplications. Not stored anywhere: only this table's index uses it.
#[inline(always)]
fn load_hash(bytes: &[u8]) -> u32 {
    const K: u64 = 0x9E37_79B9_7F4A_7C15;
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let n = bytes.len();
    let mut h = (n as u64).wrapping_mul(K);
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            h = mix(h, word64(bytes, at));
            at += 8;
        }
        h = mix(h, word64(bytes, n - 8));
    } else {
        h = mix(h, bytes.iter().fold(0, |w, &b| w << 8 | u64::from(b)));
    }
    (h ^ h >> 32) as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strings::NONE;

    #[test]
    fn interns_once_and_keeps_the_order_of_first_appearance() -> Result<(), TableFull> {
        // Lengths 0 to 40 (every branch of the hash), and strings equal but for one byte.
        let words: Vec<String> =
            (0..3000).map(|i| "x".repeat(i % 41) + &format!("{i}")).chain([String::new()]).collect();
        let mut t = Interner::default();
        let syms: Vec<Sym> = words.iter().map(|w| t.intern(w)).collect::<Result<_, _>>()?;
        assert_eq!(syms[..3000], (0..3000).collect::<Vec<Sym>>()[..], "new strings take the next symbol");
        for (w, &s) in words.iter().zip(&syms) {
            assert_eq!(t.intern(w), Ok(s), "{w:?} found again");
            assert_eq!(t.strings().get(s), w);
        }
        assert_eq!(t.strings().len(), 3001);
        assert_eq!(t.strings().get(NONE), "");
        let strings = t.finish();
        assert!(strings.check_shape());
        for (w, &s) in words.iter().zip(&syms) {
            assert_eq!(strings.lookup(w), Some(s), "{w:?} in the binary form's index");
        }
        Ok(())
    }

    #[test]
    fn the_hash_reads_every_byte() {
        for n in 1..40 {
            let base = vec![b'a'; n];
            for at in 0..n {
                let mut other = base.clone();
                other[at] = b'b';
                assert_ne!(load_hash(&base), load_hash(&other), "byte {at} of {n}");
            }
            assert_ne!(load_hash(&base), load_hash(&base[1..]), "the length, at {n}");
        }
    }
}
