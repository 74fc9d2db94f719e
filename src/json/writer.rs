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

use identity_links_text::escape::write_str;

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
