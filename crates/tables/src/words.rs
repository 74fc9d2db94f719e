//! Words in bytes, for the binary form: its checksum, and little-endian `u32` columns read from
//! bytes. The loops that touch every byte of a binary snapshot live here, in the crate compiled
//! for speed, and are not inlined into their (size-compiled) callers.

const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// A fast, deterministic 64-bit hash of bytes: the binary form's checksum.
#[inline]
pub fn hash(bytes: &[u8]) -> u64 {
    let mut state = StreamHash::new(bytes.len());
    state.update(bytes);
    state.finish()
}

/// [`hash`] fed piece by piece: the binary form's checksum over input read in chunks. The total
/// length is mixed in first, so it must be known up front.
pub struct StreamHash {
    h: u64,
    pending: [u8; 8],
    filled: usize,
}

impl StreamHash {
    /// A hash of `total` bytes, to be given by [`StreamHash::update`].
    #[inline]
    pub fn new(total: usize) -> Self {
        StreamHash { h: (total as u64).wrapping_mul(K), pending: [0; 8], filled: 0 }
    }

    #[inline]
    fn word(&mut self, w: [u8; 8]) {
        self.h = (self.h ^ u64::from_le_bytes(w)).wrapping_mul(K).rotate_left(29);
    }

    /// Feeds the next bytes. Not inlined, so that this loop is compiled with this crate, for
    /// speed, wherever it is called from.
    #[inline(never)]
    pub fn update(&mut self, mut bytes: &[u8]) {
        if self.filled > 0 {
            let take = (8 - self.filled).min(bytes.len());
            self.pending[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
            self.filled += take;
            bytes = &bytes[take..];
            if self.filled < 8 {
                return;
            }
            self.word(self.pending);
            self.filled = 0;
        }
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            // Built from its bytes: a `copy_from_slice` of 8 bytes is a `memcpy` call in wasm.
            self.word([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        }
        let rest = chunks.remainder();
        self.pending[..rest.len()].copy_from_slice(rest);
        self.filled = rest.len();
    }

    /// The hash of everything fed.
    #[inline]
    pub fn finish(mut self) -> u64 {
        if self.filled > 0 {
            let mut w = [0u8; 8];
            w[..self.filled].copy_from_slice(&self.pending[..self.filled]);
            self.word(w);
        }
        let mut h = self.h;
        h ^= h >> 32;
        h = h.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        h ^ (h >> 32)
    }
}

/// Appends the little-endian `u32`s of `bytes` (a multiple of 4 long; a shorter tail is left) to
/// `column`.
#[inline(never)]
pub fn extend_le_words(column: &mut Vec<u32>, bytes: &[u8]) {
    let start = column.len();
    column.resize(start + bytes.len() / 4, 0);
    for (word, b) in column[start..].iter_mut().zip(bytes.chunks_exact(4)) {
        *word = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_read_little_endian_and_a_short_tail_is_left() {
        let mut column = vec![7];
        extend_le_words(&mut column, &[1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12, 9, 9]);
        assert_eq!(column, vec![7, 1, 0x1234_5678]);
    }

    #[test]
    fn streamed_hash_equals_the_one_shot_hash() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        // Known values pin the function: stored checksums depend on it (the empty input hashes
        // to 0 whatever the constants, so it pins nothing by itself).
        assert_eq!(hash(b"a"), 0x7676_11D5_F0C5_8DA8);
        assert_eq!(hash(b"IDLINKS\0 checksum"), 0xCADB_CAFE_C3BB_C0EF);
        assert_eq!(hash(&data), 0xDAB4_395E_FC4F_A585);
        for len in [0, 1, 7, 8, 9, 63, 64, 65, 300] {
            for split in [1, 3, 8, 13] {
                let mut s = StreamHash::new(len);
                for piece in data[..len].chunks(split) {
                    s.update(piece);
                }
                assert_eq!(s.finish(), hash(&data[..len]), "len {len}, pieces of {split}");
            }
        }
    }
}
