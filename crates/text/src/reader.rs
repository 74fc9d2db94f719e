//! A strict pull parser over JSON bytes.
//!
//! The snapshot loader drives it token by token, so a large snapshot is read without building a
//! tree or allocating a `String` per field, and every error can name where it happened. It accepts
//! exactly RFC 8259 JSON (plus one leading UTF-8 byte-order mark) and refuses what would silently
//! lose data elsewhere: lone surrogate escapes, invalid UTF-8 and raw control characters.

use std::fmt;

/// How deeply arrays and objects may nest before the reader refuses the input.
///
/// A snapshot needs four levels and a request three; the limit only exists so that hostile input
/// cannot exhaust the stack of anything that walks a value recursively.
pub const MAX_DEPTH: u32 = 64;

/// The kind of the next value, seen without consuming it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `{`
    Object,
    /// `[`
    Array,
    /// `"`
    String,
    /// a number
    Number,
    /// `true` or `false`
    Bool,
    /// `null`
    Null,
}

impl Kind {
    /// The kind's name with an article, for error messages ("found a number").
    pub fn described(self) -> &'static str {
        match self {
            Kind::Object => "an object",
            Kind::Array => "an array",
            Kind::String => "a string",
            Kind::Number => "a number",
            Kind::Bool => "a boolean",
            Kind::Null => "null",
        }
    }
}

/// Why the text is not JSON (or not JSON we accept), and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// Byte offset of the offending character.
    pub offset: usize,
    /// 1-based line of the offending character.
    pub line: usize,
    /// 1-based column (in bytes) of the offending character.
    pub column: usize,
    /// What was wrong.
    pub what: SyntaxProblem,
}

/// The ways JSON text can be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxProblem {
    /// The text ended inside a value.
    UnexpectedEnd,
    /// A character that cannot start or continue a value here.
    UnexpectedCharacter,
    /// A number that does not follow JSON's grammar.
    BadNumber,
    /// A backslash escape that JSON does not define.
    BadEscape,
    /// A `\uD800`-style escape without its other half.
    LoneSurrogate,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter,
    /// Bytes that are not UTF-8.
    InvalidUtf8,
    /// More than [`MAX_DEPTH`] nested arrays and objects.
    TooDeep,
    /// Something follows the top-level value.
    TrailingCharacters,
}

impl fmt::Display for SyntaxProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyntaxProblem::UnexpectedEnd => "unexpected end of input",
            SyntaxProblem::UnexpectedCharacter => "unexpected character",
            SyntaxProblem::BadNumber => "malformed number",
            SyntaxProblem::BadEscape => "invalid escape sequence",
            SyntaxProblem::LoneSurrogate => "lone UTF-16 surrogate escape (not a Unicode character)",
            SyntaxProblem::ControlCharacter => "unescaped control character in a string",
            SyntaxProblem::InvalidUtf8 => "invalid UTF-8",
            SyntaxProblem::TooDeep => "nested more than 64 levels deep",
            SyntaxProblem::TrailingCharacters => "unexpected text after the JSON value",
        })
    }
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at line {}, column {}: {}", self.line, self.column, self.what)
    }
}

impl std::error::Error for SyntaxError {}

/// The pull parser: call [`Reader::peek`] to see what comes, then the matching `read_*`,
/// `begin_*`/`next_*` or [`Reader::skip`].
pub struct Reader<'a> {
    src: &'a [u8],
    /// `src` as text, when all of it is UTF-8 (checked once, word at a time): strings are then
    /// sliced from it without validating each one again. Otherwise each string is validated,
    /// so that the error names the string that is not UTF-8.
    text: Option<&'a str>,
    pos: usize,
    depth: u32,
    /// Bit `d` is set when the container open at depth `d + 1` is an object.
    objects: u64,
    /// The innermost container was just opened and has yielded no element yet.
    fresh: bool,
    /// The last string had escapes and its text is in `scratch`.
    scratch_valid: bool,
    scratch: Vec<u8>,
}

type Result<T> = std::result::Result<T, SyntaxError>;

impl<'a> Reader<'a> {
    /// A reader over `src`, skipping a leading UTF-8 byte-order mark.
    pub fn new(src: &'a [u8]) -> Self {
        let pos = if src.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 };
        let text = std::str::from_utf8(src).ok();
        Reader { src, text, pos, depth: 0, objects: 0, fresh: false, scratch_valid: false, scratch: Vec::new() }
    }

    /// Byte offset of the next unread character.
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// An error of kind `what` at byte `offset`, with its line and column.
    #[cold]
    #[inline(never)]
    pub fn error_at(&self, offset: usize, what: SyntaxProblem) -> SyntaxError {
        let offset = offset.min(self.src.len());
        let before = &self.src[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        SyntaxError { offset, line, column: offset - line_start + 1, what }
    }

    #[cold]
    #[inline(never)]
    fn error(&self, what: SyntaxProblem) -> SyntaxError {
        self.error_at(self.pos, what)
    }

    /// Moves the cursor past JSON whitespace.
    #[inline]
    pub fn skip_ws(&mut self) {
        while let Some(&b) = self.src.get(self.pos) {
            if matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
                self.pos += 1;
            } else {
                break;
            }
        }
    }

    fn next_byte(&mut self) -> Result<u8> {
        self.skip_ws();
        self.src.get(self.pos).copied().ok_or_else(|| self.error(SyntaxProblem::UnexpectedEnd))
    }

    fn consume(&mut self, byte: u8) -> Result<()> {
        if self.next_byte()? != byte {
            return Err(self.error(SyntaxProblem::UnexpectedCharacter));
        }
        self.pos += 1;
        Ok(())
    }

    /// The kind of the next value, without consuming it.
    pub fn peek(&mut self) -> Result<Kind> {
        match self.next_byte()? {
            b'{' => Ok(Kind::Object),
            b'[' => Ok(Kind::Array),
            b'"' => Ok(Kind::String),
            b'-' | b'0'..=b'9' => Ok(Kind::Number),
            b't' | b'f' => Ok(Kind::Bool),
            b'n' => Ok(Kind::Null),
            _ => Err(self.error(SyntaxProblem::UnexpectedCharacter)),
        }
    }

    fn enter(&mut self, open: u8, object: bool) -> Result<()> {
        if self.next_byte()? != open {
            return Err(self.error(SyntaxProblem::UnexpectedCharacter));
        }
        if self.depth >= MAX_DEPTH {
            return Err(self.error(SyntaxProblem::TooDeep));
        }
        if object {
            self.objects |= 1 << self.depth;
        } else {
            self.objects &= !(1 << self.depth);
        }
        self.depth += 1;
        self.pos += 1;
        self.fresh = true;
        Ok(())
    }

    fn leave(&mut self) {
        self.pos += 1;
        self.depth -= 1;
        self.fresh = false;
    }

    /// Consumes the `{` of an object; then call [`Reader::next_key`] until it gives `None`.
    pub fn begin_object(&mut self) -> Result<()> {
        self.enter(b'{', true)
    }

    /// Consumes the `[` of an array; then call [`Reader::next_item`] before each element.
    pub fn begin_array(&mut self) -> Result<()> {
        self.enter(b'[', false)
    }

    /// Consumes the separator before the next element of the innermost container, or its
    /// closing bracket; returns whether an element follows.
    fn advance(&mut self, close: u8) -> Result<bool> {
        let b = self.next_byte()?;
        if b == close {
            self.leave();
            return Ok(false);
        }
        if self.fresh {
            self.fresh = false;
            return Ok(true);
        }
        if b != b',' {
            return Err(self.error(SyntaxProblem::UnexpectedCharacter));
        }
        self.pos += 1;
        Ok(true)
    }

    /// The next key of the current object (with its `:` consumed), or `None` after its `}`.
    ///
    /// The key borrows the reader; copy or match it before reading the value.
    pub fn next_key(&mut self) -> Result<Option<&str>> {
        if !self.advance(b'}')? {
            return Ok(None);
        }
        if self.next_byte()? != b'"' {
            return Err(self.error(SyntaxProblem::UnexpectedCharacter));
        }
        let key_start = self.pos;
        let key_end = self.scan_string()?;
        self.consume(b':')?;
        self.string_at(key_start, key_end).map(Some)
    }

    /// Whether another element follows in the current array (consuming its `,`), or `false`
    /// after the closing `]`.
    pub fn next_item(&mut self) -> Result<bool> {
        self.advance(b']')
    }

    /// Reads a string value, unescaped. Borrows the input when there is nothing to unescape.
    pub fn read_str(&mut self) -> Result<&str> {
        if self.next_byte()? != b'"' {
            return Err(self.error(SyntaxProblem::UnexpectedCharacter));
        }
        let start = self.pos;
        let end = self.scan_string()?;
        self.string_at(start, end)
    }

    /// Reads a number and returns its exact text (the caller decides what it may be).
    pub fn read_number(&mut self) -> Result<&'a str> {
        self.skip_ws();
        let start = self.pos;
        let src = self.src;
        let mut i = start;
        let digits = |i: &mut usize| {
            let from = *i;
            while src.get(*i).is_some_and(u8::is_ascii_digit) {
                *i += 1;
            }
            *i > from
        };
        if src.get(i) == Some(&b'-') {
            i += 1;
        }
        match src.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => {
                digits(&mut i);
            }
            _ => return Err(self.error_at(i, SyntaxProblem::BadNumber)),
        }
        if src.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return Err(self.error_at(i, SyntaxProblem::BadNumber));
            }
        }
        if matches!(src.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(src.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return Err(self.error_at(i, SyntaxProblem::BadNumber));
            }
        }
        self.pos = i;
        // The slice holds only ASCII digits and signs, so it is valid UTF-8.
        std::str::from_utf8(&src[start..i]).map_err(|_| self.error_at(start, SyntaxProblem::BadNumber))
    }

    /// Reads `true` or `false`.
    pub fn read_bool(&mut self) -> Result<bool> {
        self.skip_ws();
        if self.src[self.pos..].starts_with(b"true") {
            self.pos += 4;
            Ok(true)
        } else if self.src[self.pos..].starts_with(b"false") {
            self.pos += 5;
            Ok(false)
        } else {
            Err(self.error(SyntaxProblem::UnexpectedCharacter))
        }
    }

    /// Reads `null`.
    pub fn read_null(&mut self) -> Result<()> {
        self.skip_ws();
        if self.src[self.pos..].starts_with(b"null") {
            self.pos += 4;
            Ok(())
        } else {
            Err(self.error(SyntaxProblem::UnexpectedCharacter))
        }
    }

    /// Skips one whole value of any kind, without recursion.
    pub fn skip(&mut self) -> Result<()> {
        let base = self.depth;
        loop {
            match self.peek()? {
                Kind::Object => self.begin_object()?,
                Kind::Array => self.begin_array()?,
                Kind::String => {
                    self.read_str()?;
                }
                Kind::Number => {
                    self.read_number()?;
                }
                Kind::Bool => {
                    self.read_bool()?;
                }
                Kind::Null => self.read_null()?,
            }
            // Close every container that has ended; stop before the next value to skip.
            loop {
                if self.depth == base {
                    return Ok(());
                }
                let in_object = self.objects & (1 << (self.depth - 1)) != 0;
                let more = if in_object { self.next_key()?.is_some() } else { self.next_item()? };
                if more {
                    break;
                }
            }
        }
    }

    /// Checks that only whitespace follows the top-level value.
    pub fn finish(&mut self) -> Result<()> {
        self.skip_ws();
        if self.pos < self.src.len() {
            return Err(self.error(SyntaxProblem::TrailingCharacters));
        }
        Ok(())
    }

    /// Consumes `lit` when the input continues with exactly those bytes (no whitespace skipped).
    ///
    /// With [`Reader::skip_ws`], [`Reader::plain_str`] and [`Reader::rewind`], this lets a caller
    /// that knows the shape of a value read it in one pass, and go back to read it token by token
    /// when it needs more.
    #[inline(always)]
    pub fn eat(&mut self, lit: &[u8]) -> bool {
        let end = self.pos + lit.len();
        match self.src.get(self.pos..end) {
            Some(bytes) if crate::bytes::same(bytes, lit) => {
                self.pos = end;
                true
            }
            _ => false,
        }
    }

    /// Consumes a string at the cursor (no whitespace skipped) and gives its text when it needs no
    /// unescaping and has at most `max_bytes` bytes, in input known to be UTF-8; otherwise gives
    /// `None` and leaves the cursor where it was.
    #[inline(always)]
    pub fn plain_str(&mut self, max_bytes: usize) -> Option<&'a str> {
        let text = self.text?;
        if self.src.get(self.pos) != Some(&b'"') {
            return None;
        }
        let start = self.pos + 1;
        let mut end = start + plain_prefix(self.src.get(start..).unwrap_or_default());
        // The bytes after the last whole word (at the end of the input only).
        while self.src.get(end).is_some_and(|&b| b != b'"' && b != b'\\' && b >= 0x20) {
            end += 1;
        }
        if self.src.get(end) != Some(&b'"') || end - start > max_bytes {
            return None;
        }
        // Quotes are ASCII, so the slice of valid text between them is text.
        let s = text.get(start..end)?;
        self.pos = end + 1;
        Some(s)
    }

    /// Moves the cursor back to `offset`, a value's start that [`Reader::offset`] gave, at the
    /// same depth: for a caller whose one-pass reading of that value ([`Reader::eat`],
    /// [`Reader::plain_str`]) did not match.
    #[inline(always)]
    pub fn rewind(&mut self, offset: usize) {
        self.pos = offset;
    }

    /// Moves the cursor past a string whose opening quote is at the cursor, validating it, and
    /// returns the index of its closing quote. Leaves the unescaped text in `scratch` when it had
    /// escapes (`scratch_valid`); otherwise the text lies between the quotes in `src`.
    fn scan_string(&mut self) -> Result<usize> {
        self.scratch.clear();
        let src = self.src;
        let start = self.pos + 1;
        let mut i = start + plain_prefix(src.get(start..).unwrap_or_default());
        let mut escaped = false;
        loop {
            let Some(&b) = src.get(i) else {
                return Err(self.error_at(i, SyntaxProblem::UnexpectedEnd));
            };
            match b {
                b'"' => break,
                b'\\' => {
                    if !escaped {
                        escaped = true;
                        self.scratch.extend_from_slice(&src[start..i]);
                    }
                    i = self.unescape(i)?;
                }
                0..=0x1f => return Err(self.error_at(i, SyntaxProblem::ControlCharacter)),
                _ => {
                    if escaped {
                        self.scratch.push(b);
                    }
                    i += 1;
                }
            }
        }
        if !escaped {
            // Validate UTF-8 for the borrowed slice now (unless all the input is known to be), so
            // string_at cannot fail later.
            if self.text.is_none() {
                if let Err(e) = std::str::from_utf8(&src[start..i]) {
                    return Err(self.error_at(start + e.valid_up_to(), SyntaxProblem::InvalidUtf8));
                }
            }
            self.scratch_valid = false;
        } else {
            if std::str::from_utf8(&self.scratch).is_err() {
                return Err(self.error_at(start, SyntaxProblem::InvalidUtf8));
            }
            self.scratch_valid = true;
        }
        self.pos = i + 1;
        Ok(i)
    }

    /// Decodes the escape whose backslash is at `i` into `scratch`; returns the index after it.
    fn unescape(&mut self, i: usize) -> Result<usize> {
        let Some(&c) = self.src.get(i + 1) else {
            return Err(self.error_at(i + 1, SyntaxProblem::UnexpectedEnd));
        };
        let simple = match c {
            b'"' => Some(b'"'),
            b'\\' => Some(b'\\'),
            b'/' => Some(b'/'),
            b'b' => Some(0x08),
            b'f' => Some(0x0c),
            b'n' => Some(b'\n'),
            b'r' => Some(b'\r'),
            b't' => Some(b'\t'),
            b'u' => None,
            _ => return Err(self.error_at(i, SyntaxProblem::BadEscape)),
        };
        if let Some(byte) = simple {
            self.scratch.push(byte);
            return Ok(i + 2);
        }
        let first = self.hex4(i + 2)?;
        let (code, next) = match first {
            0xD800..=0xDBFF => {
                if self.src.get(i + 6) != Some(&b'\\') || self.src.get(i + 7) != Some(&b'u') {
                    return Err(self.error_at(i, SyntaxProblem::LoneSurrogate));
                }
                let second = self.hex4(i + 8)?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error_at(i, SyntaxProblem::LoneSurrogate));
                }
                (0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00), i + 12)
            }
            0xDC00..=0xDFFF => return Err(self.error_at(i, SyntaxProblem::LoneSurrogate)),
            _ => (first, i + 6),
        };
        let ch = char::from_u32(code).ok_or_else(|| self.error_at(i, SyntaxProblem::BadEscape))?;
        let mut buf = [0u8; 4];
        self.scratch.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        Ok(next)
    }

    fn hex4(&self, at: usize) -> Result<u32> {
        let digits = self.src.get(at..at + 4).ok_or_else(|| self.error_at(at, SyntaxProblem::UnexpectedEnd))?;
        let mut v = 0u32;
        for (k, &d) in digits.iter().enumerate() {
            let n = (d as char).to_digit(16).ok_or_else(|| self.error_at(at + k, SyntaxProblem::BadEscape))?;
            v = v * 16 + n;
        }
        Ok(v)
    }

    /// The text of the string just scanned, whose quotes were at `start` and `end`.
    fn string_at(&self, start: usize, end: usize) -> Result<&str> {
        if !self.scratch_valid {
            // Quotes are ASCII, so the slice of valid text between them is text.
            if let Some(text) = self.text.and_then(|t| t.get(start + 1..end)) {
                return Ok(text);
            }
        }
        let bytes: &[u8] =
            if self.scratch_valid { &self.scratch } else { self.src.get(start + 1..end).unwrap_or_default() };
        std::str::from_utf8(bytes).map_err(|_| self.error_at(start, SyntaxProblem::InvalidUtf8))
    }
}
/// How many bytes at the start of `bytes` need no attention inside a string: none is `"`, `\`
/// or a control character. Eight bytes at a time (the bit tricks of "Bit Twiddling Hacks",
/// "determine if a word has a byte less than n"): flags a byte below `0x20`, or equal to `"` or
/// `\` after an XOR; the lowest flag is always a true one, so its position is exact. Stops
/// at the last whole word; the caller's byte loop does the rest.
#[inline]
fn plain_prefix(bytes: &[u8]) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |v: u64, n: u8| v.wrapping_sub(ONES * u64::from(n)) & !v & HIGH;
    let mut done = 0;
    for word in bytes.chunks_exact(8) {
        let v = u64::from_le_bytes([word[0], word[1], word[2], word[3], word[4], word[5], word[6], word[7]]);
        let flags = below(v, 0x20) | below(v ^ (ONES * u64::from(b'"')), 1) | below(v ^ (ONES * u64::from(b'\\')), 1);
        if flags != 0 {
            return done + (flags.trailing_zeros() / 8) as usize;
        }
        done += 8;
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_prefix_stops_at_the_first_byte_that_needs_attention() {
        // Every position of each special byte, in words and in the tail after them.
        for special in [b'"', b'\\', 0x00, 0x1f] {
            for at in 0..20 {
                let mut bytes = vec![b'a'; 20];
                bytes[at] = special;
                assert_eq!(plain_prefix(&bytes), at.min(16), "byte {special:#x} at {at}");
            }
        }
        // UTF-8 and the bytes around the specials are plain; the tail is left to the caller.
        assert_eq!(plain_prefix("é€😀 !#[]~\u{7f}".as_bytes()), 16);
        assert_eq!(plain_prefix(b"!#$%&'()*+,-./01"), 16);
        assert_eq!(plain_prefix(b""), 0);
    }

    #[test]
    fn strings_read_the_same_whatever_their_length() {
        for n in 0..40 {
            let body: String = "aé\u{7f}".chars().cycle().take(n).collect();
            for tail in ["", "\\n", "\\u00e9x"] {
                let json = format!("\"{body}{tail}\"");
                let mut r = Reader::new(json.as_bytes());
                let want = format!("{body}{}", tail.replace("\\n", "\n").replace("\\u00e9", "é"));
                assert_eq!(r.read_str().map(str::to_owned), Ok(want), "{json}");
            }
            let raw = format!("\"{body}\u{1}\"");
            let e = Reader::new(raw.as_bytes()).read_str().map(str::to_owned);
            assert_eq!(e.map_err(|e| (e.what, e.offset)), Err((SyntaxProblem::ControlCharacter, raw.len() - 2)));
        }
    }
}
