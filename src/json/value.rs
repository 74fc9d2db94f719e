//! A small JSON tree for requests and caller contexts: tiny documents whose fields are looked
//! up by name. Snapshots never become a tree; they stream through [`identity_links_text::reader::Reader`].

use identity_links_text::escape::write_str;
use identity_links_text::reader::{Kind, Reader, SyntaxError};

/// A JSON value. Numbers keep their exact text, so a uint64 survives whatever its size.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number, as written (`12`, `1e3`), or a JavaScript BigInt's decimal digits.
    Number(String),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object's members in document order.
    Object(Vec<(String, Value)>),
}

impl Value {
    /// Parses one JSON document.
    pub fn parse(text: &[u8]) -> Result<Value, SyntaxError> {
        let mut reader = Reader::new(text);
        let value = Self::read(&mut reader)?;
        reader.finish()?;
        Ok(value)
    }

    /// Reads the next value from `reader` (depth is bounded by the reader).
    pub fn read(reader: &mut Reader<'_>) -> Result<Value, SyntaxError> {
        Ok(match reader.peek()? {
            Kind::Null => {
                reader.read_null()?;
                Value::Null
            }
            Kind::Bool => Value::Bool(reader.read_bool()?),
            Kind::Number => Value::Number(reader.read_number()?.to_owned()),
            Kind::String => Value::String(reader.read_str()?.to_owned()),
            Kind::Array => {
                reader.begin_array()?;
                let mut items = Vec::new();
                while reader.next_item()? {
                    items.push(Self::read(reader)?);
                }
                Value::Array(items)
            }
            Kind::Object => {
                reader.begin_object()?;
                let mut members = Vec::new();
                while let Some(key) = reader.next_key()? {
                    let key = key.to_owned();
                    members.push((key, Self::read(reader)?));
                }
                Value::Object(members)
            }
        })
    }

    /// The member named `key` of an object (the last one, as `JSON.parse` keeps), if any.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Like [`Value::get`], but a `null` member counts as absent.
    pub fn get_present(&self, key: &str) -> Option<&Value> {
        self.get(key).filter(|v| !matches!(v, Value::Null))
    }

    /// The kind's name with an article, for error messages.
    pub fn described(&self) -> &'static str {
        match self {
            Value::Null => Kind::Null.described(),
            Value::Bool(_) => Kind::Bool.described(),
            Value::Number(_) => Kind::Number.described(),
            Value::String(_) => Kind::String.described(),
            Value::Array(_) => Kind::Array.described(),
            Value::Object(_) => Kind::Object.described(),
        }
    }

    /// Writes the value back as compact JSON (strings escaped as `JSON.stringify` does).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        match self {
            Value::Null => out.extend_from_slice(b"null"),
            Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Value::Number(n) => out.extend_from_slice(n.as_bytes()),
            Value::String(s) => write_str(out, s),
            Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_json(out);
                }
                out.push(b']');
            }
            Value::Object(members) => {
                out.push(b'{');
                for (i, (k, v)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write_json(out);
                }
                out.push(b'}');
            }
        }
    }

    /// The value as compact JSON text.
    pub fn to_json(&self) -> String {
        let mut out = Vec::new();
        self.write_json(&mut out);
        super::writer::text(&out).to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use identity_links_text::reader::SyntaxProblem;

    #[test]
    fn round_trips_compact_json() {
        let text = r#"{"a":[1,-2.5e3,true,false,null],"b":{"c":"x\"y\u00e9\ud83d\ude00"},"e":{},"f":[]}"#;
        let v = Value::parse(text.as_bytes());
        assert!(v.is_ok(), "valid JSON");
        assert_eq!(
            v.unwrap_or(Value::Null).to_json(),
            "{\"a\":[1,-2.5e3,true,false,null],\"b\":{\"c\":\"x\\\"yé😀\"},\"e\":{},\"f\":[]}"
        );
    }

    #[test]
    fn refuses_what_would_lose_data() {
        let problem = |t: &str| Value::parse(t.as_bytes()).err().map(|e| e.what);
        assert_eq!(problem(r#""\ud800""#), Some(SyntaxProblem::LoneSurrogate));
        assert_eq!(problem(r#""\udc00x""#), Some(SyntaxProblem::LoneSurrogate));
        assert_eq!(problem("\"a\u{1}\""), Some(SyntaxProblem::ControlCharacter));
        assert_eq!(problem("[1,]"), Some(SyntaxProblem::UnexpectedCharacter));
        assert_eq!(problem(r#"{"a":1,}"#), Some(SyntaxProblem::UnexpectedCharacter));
        assert_eq!(problem("[1 2]"), Some(SyntaxProblem::UnexpectedCharacter));
        assert_eq!(problem("01"), Some(SyntaxProblem::TrailingCharacters));
        assert_eq!(problem("{} x"), Some(SyntaxProblem::TrailingCharacters));
        assert_eq!(problem("[\"abc"), Some(SyntaxProblem::UnexpectedEnd));
        assert_eq!(problem(&"[".repeat(65)), Some(SyntaxProblem::TooDeep));
        assert!(Value::parse(&[b'"', 0xff, b'"']).is_err());
    }

    #[test]
    fn skip_passes_over_any_value() {
        let text = br#"{"skip":{"a":[1,{"b":[]},"]"],"c":{}},"keep":7}"#;
        let mut r = Reader::new(text);
        assert!(r.begin_object().is_ok());
        assert_eq!(r.next_key().ok().flatten(), Some("skip"));
        assert!(r.skip().is_ok());
        assert_eq!(r.next_key().ok().flatten(), Some("keep"));
        assert_eq!(r.read_number().ok(), Some("7"));
        assert_eq!(r.next_key().ok().flatten(), None);
        assert!(r.finish().is_ok());
    }

    #[test]
    fn error_positions_are_line_and_column() {
        let e = Value::parse(b"{\n  \"a\": tru\n}").expect_err("error");
        assert_eq!((e.line, e.column), (2, 8));
    }
}
