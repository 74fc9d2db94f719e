//! JSON string literals written byte for byte as `JSON.stringify` writes them: `"` and `\` with
//! a backslash, `\b \f \n \r \t` by name, other control characters as `\u00xx` in lowercase
//! hex, and everything else as it is. Shared by error messages (here) and answers (the core's
//! writer).

/// Appends `s` as a JSON string literal.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    escape(out, s);
    out.push(b'"');
}

/// Appends `s` escaped for the inside of a JSON string literal (escaping works character by
/// character, so a string written in parts is escaped part by part).
pub fn escape(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most strings (ids, names) need nothing escaped: they are copied in one piece.
    let clean = clean_prefix(bytes);
    let (head, rest) = bytes.split_at(clean);
    out.extend_from_slice(head);
    if !rest.is_empty() {
        escape_bytes(out, rest);
    }
}

/// How many leading bytes of `bytes` need no escaping: eight at a time while a word holds no
/// control character, `"` or `\`, then byte by byte.
fn clean_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    // Whether some byte of the word is zero, or below 0x20 (exact as a yes or no).
    let zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS != 0;
    let below_space = |w: u64| w.wrapping_sub(ONES * 0x20) & !w & HIGHS != 0;
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let w = crate::bytes::word64(bytes, at);
        if below_space(w) || zero(w ^ (ONES * u64::from(b'"'))) || zero(w ^ (ONES * u64::from(b'\\'))) {
            break;
        }
        at += 8;
    }
    let tail = bytes.get(at..).unwrap_or_default();
    at + tail.iter().position(|&b| b < 0x20 || b == b'"' || b == b'\\').unwrap_or(tail.len())
}

/// [`escape`] byte by byte.
fn escape_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut clean_from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => {
                out.extend_from_slice(&bytes[clean_from..i]);
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[b'\\', b'u', b'0', b'0', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
                clean_from = i + 1;
                continue;
            }
            _ => continue,
        };
        out.extend_from_slice(&bytes[clean_from..i]);
        out.extend_from_slice(escape);
        clean_from = i + 1;
    }
    out.extend_from_slice(&bytes[clean_from..]);
}

/// `s` as a JSON string literal, for messages that quote a value (`"a\"b"`). Used instead of
/// Rust's `{:?}`, whose escaping tables would grow the wasm module for no gain.
pub fn quote(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len() + 2);
    write_str(&mut out, s);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path copies exactly what the byte-by-byte escaping leaves as it is: every byte
    /// that needs escaping (and some that do not) at every place of strings of 0 to 24 bytes.
    #[test]
    fn the_word_at_a_time_path_escapes_as_the_byte_path_does() {
        let specials = ["\"", "\\", "\n", "\u{0}", "\u{1f}", " ", "!", "#", "[", "]", "\u{7f}", "é", "€", "𝄞"];
        for len in 0..24 {
            for at in 0..=len {
                for special in specials {
                    let s = format!("{}{special}{}", "a".repeat(at), "b".repeat(len - at));
                    let (mut fast, mut slow) = (Vec::new(), Vec::new());
                    escape(&mut fast, &s);
                    escape_bytes(&mut slow, s.as_bytes());
                    assert_eq!(fast, slow, "{s:?}");
                }
            }
        }
        let mut out = Vec::new();
        write_str(&mut out, "ab\"c\\d\u{1}e\n01234567");
        assert_eq!(out, b"\"ab\\\"c\\\\d\\u0001e\\n01234567\"");
    }
}
