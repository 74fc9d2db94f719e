//! Writing JSON text byte for byte as `JSON.stringify` does.
//!
//! Answers are compared with the peers' bodies as bytes, and the JavaScript API promises that
//! `JSON.stringify(answer)` equals the HTTP body; so strings are escaped exactly as
//! `JSON.stringify` escapes them: `"` and `\` with a backslash, `\b \f \n \r \t` by name, other
//! control characters as `\u00xx` in lowercase hex, and everything else as it is.

/// The text of bytes this module wrote: UTF-8 by construction, since only `&str` and ASCII
/// enter them. Checked all the same (empty if ever not), without the lossy decoder's code.
pub fn text(out: &[u8]) -> &str {
    std::str::from_utf8(out).unwrap_or_default()
}

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

/// Appends `s` as a JSON string literal, or `null` for `None`.
pub fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends the `,` that separates element `index` of an array or object from the one before.
#[inline]
pub fn comma(out: &mut Vec<u8>, index: usize) {
    if index > 0 {
        out.push(b',');
    }
}

/// Appends an unsigned integer in decimal.
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(u64_digits(n, &mut [0; 20]).as_bytes());
}

/// The decimal digits of `n`, written into `buffer`.
pub fn u64_digits(n: u64, buffer: &mut [u8; 20]) -> &str {
    let mut n = n;
    let mut i = buffer.len();
    loop {
        i -= 1;
        buffer[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    text(&buffer[i..])
}

/// Appends an unsigned integer as a JSON string (protojson's form of a uint64).
pub fn write_u64_str(out: &mut Vec<u8>, n: u64) {
    out.push(b'"');
    write_u64(out, n);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> String {
        let mut out = Vec::new();
        write_str(&mut out, text);
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn escapes_like_json_stringify() {
        assert_eq!(s("plain"), r#""plain""#);
        assert_eq!(s("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(s("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(s("\u{1}\u{1f}"), r#""\u0001\u001f""#);
        assert_eq!(s("é/\u{2028}\u{7f}😀"), "\"é/\u{2028}\u{7f}😀\"");
    }

    #[test]
    fn writes_integers() {
        let mut out = Vec::new();
        write_u64(&mut out, 0);
        out.push(b' ');
        write_u64_str(&mut out, u64::MAX);
        assert_eq!(out, b"0 \"18446744073709551615\"");
    }
}
