//! JavaScript values into the core's JSON [`Value`], strictly: no silent loss.
//!
//! Numbers become their exact text (a BigInt its decimal digits), `undefined` members are left
//! out as `JSON.stringify` leaves them, and what JSON cannot hold (functions, symbols, lone
//! UTF-16 surrogates, cycles) is refused with the path of the value.

use crate::json::Value;
use identity_links_tables::tables::Limits;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// A JS string, seen through the one method this module needs.
    type JsText;
    /// `String.prototype.isWellFormed` (no lone surrogates).
    #[wasm_bindgen(method, js_name = isWellFormed)]
    fn is_well_formed(this: &JsText) -> bool;
    // The calls that read a value given by the caller catch what it throws (a getter, a proxy,
    // a revoked proxy): an exception through the module would leave the snapshot the call
    // borrowed borrowed for good (every later call refused, `free()` too).
    /// `Object.entries`, its exception caught.
    #[wasm_bindgen(js_namespace = Object, js_name = entries, catch)]
    fn entries(value: &JsValue) -> Result<js_sys::Array, JsValue>;
    /// `Array.from`, its exception caught: a plain copy of an array, each item read once.
    #[wasm_bindgen(js_namespace = Array, js_name = from, catch)]
    fn array_from(value: &JsValue) -> Result<js_sys::Array, JsValue>;
    /// `Array.isArray`, its exception (a revoked proxy's) caught.
    #[wasm_bindgen(js_namespace = Array, js_name = isArray, catch)]
    fn is_array(value: &JsValue) -> Result<bool, JsValue>;
}

/// Deeper than any request or context needs; guards against cycles.
const MAX_DEPTH: u32 = 32;

/// A JS string as Rust text, refusing lone surrogates (which UTF-8 cannot carry). The check
/// runs only when the conversion produced U+FFFD, the conversion's mark for them.
pub fn js_string(value: &JsValue) -> Option<Result<String, ()>> {
    let text = value.as_string()?;
    // U+FFFD is EF BF BD in UTF-8. `contains` on bytes is core's word-at-a-time memchr, so a
    // large text without BD bytes is cleared at once; a byte search keeps the char pattern
    // searcher out of the module.
    let bytes = text.as_bytes();
    if bytes.contains(&0xBD) && bytes.windows(3).any(|w| w == [0xEF, 0xBF, 0xBD]) {
        let js: &JsText = value.unchecked_ref();
        if !js.is_well_formed() {
            return Some(Err(()));
        }
    }
    Some(Ok(text))
}

/// Converts `value` (at `path`, for messages) into a [`Value`]; `None` for `undefined`.
pub fn to_value(value: &JsValue, path: &str) -> Result<Option<Value>, String> {
    convert(value, path, 0)
}

/// The members `keys` of a request object, converted: what the core's request decoders read,
/// and nothing else (peers ignore unknown request fields), with one `Reflect.get` per key
/// instead of walking every member. `query` members are read the same way, one level down.
pub fn request_value(value: &JsValue, keys: &[&str], query_keys: &[&str]) -> Result<Value, String> {
    if !value.is_object() || value.is_function() || !matches!(is_array(value), Ok(false)) {
        return Ok(to_value(value, "request")?.unwrap_or(Value::Null));
    }
    let mut members = Vec::with_capacity(keys.len());
    for &key in keys {
        let member = js_sys::Reflect::get(value, &JsValue::from_str(key)).map_err(|_| unreadable(key))?;
        let nested =
            key == "query" && !query_keys.is_empty() && member.is_object() && matches!(is_array(&member), Ok(false));
        let converted = if nested { Some(request_value(&member, query_keys, &[])?) } else { convert(&member, key, 1)? };
        if let Some(v) = converted {
            members.push((key.to_owned(), v));
        }
    }
    Ok(Value::Object(members))
}

fn convert(value: &JsValue, path: &str, depth: u32) -> Result<Option<Value>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("{path}: nested more than {MAX_DEPTH} levels deep (or cyclic)"));
    }
    // Strings first: most request values are strings, and each test is a call into JS.
    if let Some(text) = js_string(value) {
        return text.map(|t| Some(Value::String(t))).map_err(|()| format!("{path}: contains a lone UTF-16 surrogate"));
    }
    if value.is_undefined() {
        return Ok(None);
    }
    if value.is_null() {
        return Ok(Some(Value::Null));
    }
    if let Some(b) = value.as_bool() {
        return Ok(Some(Value::Bool(b)));
    }
    if let Some(n) = value.as_f64() {
        return Ok(Some(Value::Number(number_text(n))));
    }
    if value.is_bigint() {
        let digits = js_sys::BigInt::from(value.clone()).to_string(10).map(String::from).unwrap_or_default();
        return Ok(Some(Value::Number(digits)));
    }
    if !matches!(is_array(value), Ok(false)) {
        let array = read(array_from, value, path)?;
        let mut items = Vec::with_capacity(array.length() as usize);
        for (i, item) in array.iter().enumerate() {
            // JSON.stringify writes undefined array items as null.
            items.push(convert(&item, &format!("{path}[{i}]"), depth + 1)?.unwrap_or(Value::Null));
        }
        return Ok(Some(Value::Array(items)));
    }
    if value.is_object() && !value.is_function() {
        let entries = read(entries, value, path)?;
        let mut members = Vec::with_capacity(entries.length() as usize);
        for entry in entries.iter() {
            let pair: &js_sys::Array = entry.unchecked_ref();
            let key = pair.get(0).as_string().unwrap_or_default();
            let child = format!("{path}.{key}");
            if let Some(v) = convert(&pair.get(1), &child, depth + 1)? {
                members.push((key, v));
            }
        }
        return Ok(Some(Value::Object(members)));
    }
    Err(format!("{path}: a {} cannot be sent as JSON", value.js_typeof().as_string().unwrap_or_default()))
}

/// `copy`'s copy of `value` (an array or an object, at `path`): why not when a getter or a proxy
/// throws.
fn read(
    copy: fn(&JsValue) -> Result<js_sys::Array, JsValue>,
    value: &JsValue,
    path: &str,
) -> Result<js_sys::Array, String> {
    copy(value).map_err(|_| unreadable(path))
}

/// Why the value at `path` was not read.
fn unreadable(path: &str) -> String {
    format!("{path}: could not be read (a getter or a proxy threw)")
}

/// A JS number as JSON number text, written by JS itself (`1`, `1.5`, `1e+21`: all valid JSON;
/// `NaN` and `Infinity` are not numbers, and every integer field refuses them). Rust's float
/// formatting would add some 15 KB to the module for the same text.
fn number_text(n: f64) -> String {
    js_sys::Number::from(n).to_string_with_radix(10).map(String::from).unwrap_or_default()
}

/// `SnapshotOptions`, checked: `defaultLimit` and `maxLimit`, whole numbers from 1 to 2^32−1.
pub fn limits(options: &JsValue) -> Result<Limits, identity_links_tables::error::SnapshotError> {
    use identity_links_tables::error::{SnapshotError, SnapshotProblem};
    let defaults = Limits::default();
    if options.is_undefined() || options.is_null() {
        return Ok(defaults);
    }
    let bad = |path: &str, why: &'static str| SnapshotError::new(path, SnapshotProblem::Invalid { why });
    let value = to_value(options, "options").map_err(|_| bad("options", "must be a plain object"))?;
    let Some(Value::Object(members)) = value else {
        return Err(bad("options", "must be an object"));
    };
    let mut limits = defaults;
    for (key, v) in &members {
        if key == "maxBytes" {
            let path = format!("options.{key}");
            limits.max_bytes = match v {
                Value::Number(text) => identity_links_text::number::parse_uint(text, u64::from(u32::MAX))
                    .ok()
                    .filter(|&n| n > 0)
                    .map(|n| n as usize)
                    .ok_or_else(|| bad(&path, "must be a whole number from 1 to 4294967295"))?,
                Value::Null => limits.max_bytes,
                _ => return Err(bad(&path, "must be a number")),
            };
            continue;
        }
        let slot = match key.as_str() {
            "defaultLimit" => &mut limits.default_limit,
            "maxLimit" => &mut limits.max_limit,
            _ => {
                return Err(SnapshotError::new(
                    format!("options.{key}"),
                    SnapshotProblem::Invalid { why: "unknown option (defaultLimit, maxLimit, maxBytes)" },
                ))
            }
        };
        let path = format!("options.{key}");
        match v {
            Value::Null => {}
            Value::Number(text) => {
                *slot = identity_links_text::number::parse_uint(text, u64::from(u32::MAX))
                    .map_err(|_| bad(&path, "must be a whole number from 0 to 4294967295 (0: no restriction)"))?
                    as u32;
            }
            _ => return Err(bad(&path, "must be a number")),
        }
    }
    Ok(Limits { max_bytes: limits.max_bytes, ..Limits::new(limits.default_limit, limits.max_limit) })
}
