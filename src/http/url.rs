//! The parts of a request URL the routes need: the path's segments and the query's values,
//! percent-decoded.

use std::borrow::Cow;

/// A request target split into decoded path segments and query pairs: borrowed from the URL
/// where nothing needed decoding (most requests), so that reading one allocates little.
#[derive(Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// Path segments, percent-decoded (`/task/a%2Fb/x` gives `["task", "a/b", "x"]`).
    pub segments: Vec<Cow<'a, str>>,
    /// Query pairs in order, percent-decoded, `+` as space (as JAX-RS and Go decode them).
    pub query: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Why a URL cannot be routed.
#[derive(Debug, PartialEq, Eq)]
pub enum UrlError {
    /// A `%` not followed by two hex digits, or an escape that decodes to invalid UTF-8.
    BadEscape,
}

impl std::fmt::Display for UrlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("malformed percent-encoding in the URL")
    }
}

impl std::error::Error for UrlError {}

impl<'a> Target<'a> {
    /// Parses an absolute URL (`https://host/path?q`) or an origin-form target (`/path?q`).
    pub fn parse(url: &'a str) -> Result<Target<'a>, UrlError> {
        let after_scheme = target(url);
        let (path, query) = split_at(after_scheme, b'?');
        // Byte searches and loops: `str::split` with a char pattern runs the general searcher,
        // several times slower on every request, and collects into Result add adapters' code.
        let mut segments = Vec::with_capacity(6);
        // What precedes the first `/` is no segment (as `path.split('/').skip(1)`).
        let mut rest = path.as_bytes().iter().position(|&b| b == b'/').and_then(|i| path.get(i + 1..));
        while let Some(part) = rest {
            let end = part.as_bytes().iter().position(|&b| b == b'/');
            segments.push(decode(end.and_then(|i| part.get(..i)).unwrap_or(part), false)?);
            rest = end.and_then(|i| part.get(i + 1..));
        }
        let mut pairs = Vec::new();
        let mut rest = query;
        while !rest.is_empty() {
            let (pair, after) = split_at(rest, b'&');
            if !pair.is_empty() {
                let (k, v) = split_at(pair, b'=');
                pairs.push((decode(k, true)?, decode(v, true)?));
            }
            rest = after;
        }
        Ok(Target { segments, query: pairs })
    }

    /// The first value of query parameter `name` (JAX-RS `@QueryParam` takes the first).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_ref())
    }
}

/// `s` before the first `byte` (ASCII) and after it; all of `s` and `""` when there is none.
fn split_at(s: &str, byte: u8) -> (&str, &str) {
    match s.as_bytes().iter().position(|&b| b == byte) {
        // `get`, not indexing: indexing `str` brings its char-boundary panic into the module.
        Some(i) => (s.get(..i).unwrap_or(""), s.get(i + 1..).unwrap_or("")),
        None => (s, ""),
    }
}

/// The request target of a URL, undecoded: what follows the scheme and authority of an absolute
/// URL (`/path?query`), the whole of an origin-form one, without the fragment.
pub fn target(url: &str) -> &str {
    let (without_fragment, _) = split_at(url, b'#');
    // A byte search: `find("://")` would bring the two-way string searcher into the module.
    match without_fragment.as_bytes().windows(3).position(|w| w == b"://") {
        Some(i) => {
            let rest = without_fragment.get(i + 3..).unwrap_or("");
            let path = rest.as_bytes().iter().position(|&b| b == b'/' || b == b'?');
            path.and_then(|j| rest.get(j..)).unwrap_or("")
        }
        None => without_fragment,
    }
}

/// Percent-decodes `s` (and `+` as a space in query components).
fn decode(s: &str, plus_is_space: bool) -> Result<Cow<'_, str>, UrlError> {
    if !s.bytes().any(|b| b == b'%' || (plus_is_space && b == b'+')) {
        return Ok(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(UrlError::BadEscape)?;
                let value = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or(UrlError::BadEscape)?;
                out.push(value);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map(Cow::Owned).map_err(|_| UrlError::BadEscape)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_decodes() {
        let t = Target::parse(
            "https://h.example:8443/engine-rest/task/a%2Fb%20c/identity-links?type=can+di%64ate&type=x#frag",
        );
        assert_eq!(
            t.as_ref().map(|t| t.segments.clone()),
            Ok(vec!["engine-rest".into(), "task".into(), "a/b c".into(), "identity-links".into()])
        );
        assert_eq!(t.as_ref().ok().and_then(|t| t.param("type")), Some("can didate"));
        let origin = Target::parse("/identity/groups?userId=&x").ok();
        assert_eq!(origin.as_ref().and_then(|t| t.param("userId")), Some(""));
        assert_eq!(origin.as_ref().and_then(|t| t.param("x")), Some(""));
        assert_eq!(Target::parse("http://h").map(|t| t.segments), Ok(vec![]));
        assert_eq!(Target::parse("/task/%E2%82%AC").map(|t| t.segments), Ok(vec!["task".into(), "€".into()]));
    }

    #[test]
    fn refuses_broken_escapes() {
        for bad in ["/a%2", "/a%zz", "/a%ff", "/x?a=%C3"] {
            assert_eq!(Target::parse(bad), Err(UrlError::BadEscape), "{bad}");
        }
    }
}
