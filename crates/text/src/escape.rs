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
