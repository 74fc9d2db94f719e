//! Bytes compared and read a word at a time: for the short strings that the loader's interning
//! and its one-pass reading compare, where a call to `memcmp` (whose wasm build compares byte by
//! byte) would cost more than the comparison. `#[inline]`: compiled with their callers.

/// Whether `a` and `b` are the same bytes: a word at a time (the last word overlapping the one
/// before it), without a call to `memcmp` (whose wasm build compares byte by byte), for the
/// short strings that interning and the loader's literals compare.
#[inline]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n >= 8 {
        let mut at = 0;
        while at + 8 < n {
            if word64(a, at) != word64(b, at) {
                return false;
            }
            at += 8;
        }
        return word64(a, n - 8) == word64(b, n - 8);
    }
    a.iter().zip(b).all(|(x, y)| x == y)
}

/// The little-endian word of the 8 bytes of `bytes` at `at` (which must hold them).
#[inline]
pub fn word64(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}
