//! Fuzzing entry points: arbitrary bytes into each input surface of the core. The cargo-fuzz
//! targets in `fuzz/` call these, and `tests/fuzz_corpus.rs` replays the committed corpus and
//! every crash found through them, so a crash stays fixed. Each must return for any input;
//! a panic is a bug.

use crate::http::{handle_trusted, Body, Request};
use crate::json::Value;
use crate::query::Query;
use crate::snapshot::Snapshot;
use identity_links_tables::error::SnapshotError;
use identity_links_tables::tables::Limits;
use std::sync::OnceLock;

/// A small snapshot with every kind of row, for the query and HTTP targets.
pub const SAMPLE: &str = r#"{"version":1,"sequence":"267831","timestamp":"2025-01-01T10:00:00.123456Z",
"users":[{"id":"demo","firstName":"Demo","lastName":"Demo","org":"O1"},{"id":"john","firstName":null,"lastName":"Doe","org":"O2"},
{"id":"AaAa"},{"id":"BBBB"},{"id":"AaBB"},{"id":"BBAa"},{"id":"é😀","firstName":"","lastName":null}],
"groups":[{"id":"sales","name":"Sales"},{"id":"ops","name":null},{"id":"crowd","name":"Crowd"}],
"memberships":[{"userId":"demo","groupId":"sales"},{"userId":"john","groupId":"sales"},{"userId":"demo","groupId":"ops"},
{"userId":"AaAa","groupId":"crowd"},{"userId":"BBBB","groupId":"crowd"},{"userId":"AaBB","groupId":"crowd"},{"userId":"BBAa","groupId":"crowd"},{"userId":"demo","groupId":"crowd"}],
"tasks":[{"id":"t1","assignee":"demo","owner":"john","identityLinks":[{"groupId":"sales","type":"candidate"},{"userId":"john","type":"candidate"}]},{"id":"t2"}],
"idpLinks":[{"userId":"demo","idpId":"i1","providedUserId":"p1","providedUserName":"a"},{"userId":"demo","idpId":"i2","providedUserId":"p2","providedUserName":""}]}"#;

fn sample() -> &'static Snapshot {
    static SNAPSHOT: OnceLock<Snapshot> = OnceLock::new();
    SNAPSHOT.get_or_init(|| Snapshot::from_json(SAMPLE.as_bytes()).unwrap_or_default())
}

/// Splits `data` at NUL bytes into at most `n` parts (missing parts are empty).
fn parts(data: &[u8], n: usize) -> Vec<&[u8]> {
    let mut out: Vec<&[u8]> = data.splitn(n, |&b| b == 0).collect();
    out.resize(n, &[]);
    out
}

/// Loads `data` as snapshot JSON; when it loads, round-trips it through both other forms. When
/// it is JSON, the same document respelled (whitespace between all tokens, every string's first
/// character escaped) must load the same tables or meet the same refusal: the loader reads a
/// record in one pass when it is written as writers write it and token by token otherwise, and
/// the respelled document takes the second path wherever `data` took the first.
pub fn load_json(data: &[u8]) {
    let loaded = Snapshot::from_json_with(data, Limits::default());
    if let Ok(s) = &loaded {
        let again = Snapshot::from_json(s.to_json().as_bytes());
        assert!(again.is_ok(), "canonical JSON of a loaded snapshot must load");
        assert!(Snapshot::from_bytes(&s.to_bytes(), Limits::default()).is_ok(), "the binary form must load");
    }
    if let Ok(value) = Value::parse(data) {
        let mut respelled = Vec::new();
        write_respelled(&value, &mut respelled);
        let again = Snapshot::from_json_with(&respelled, Limits::default());
        let outcome = |r: &Result<Snapshot, SnapshotError>| r.as_ref().map(|s| s.to_bytes()).map_err(|e| e.to_string());
        assert_eq!(outcome(&again), outcome(&loaded), "a respelled document loads as the original");
    }
}

/// `value` as JSON with whitespace between all its tokens and the first character of every
/// string written as a `\u` escape.
fn write_respelled(value: &Value, out: &mut Vec<u8>) {
    let string = |s: &str, out: &mut Vec<u8>| {
        let mut chars = s.chars();
        let first = chars.next();
        // The rest as JSON.stringify writes it, without its opening quote.
        let mut rest = Vec::new();
        identity_links_text::escape::write_str(&mut rest, chars.as_str());
        out.push(b'"');
        for unit in first.iter().flat_map(|c| c.encode_utf16(&mut [0; 2]).to_vec()) {
            out.extend_from_slice(format!("\\u{unit:04x}").as_bytes());
        }
        out.extend_from_slice(rest.get(1..).unwrap_or_default());
    };
    match value {
        Value::String(s) => string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(if i > 0 { b" ,\n" } else { b" \t" });
                write_respelled(item, out);
            }
            out.extend_from_slice(b"\r ]");
        }
        Value::Object(members) => {
            out.push(b'{');
            for (i, (key, item)) in members.iter().enumerate() {
                out.extend_from_slice(if i > 0 { b" ,\n" } else { b" \t" });
                string(key, out);
                out.extend_from_slice(b" : ");
                write_respelled(item, out);
            }
            out.extend_from_slice(b"\r }");
        }
        other => other.write_json(out),
    }
}

/// Loads `data` as the binary form; when it loads, runs queries on it.
pub fn load_binary(data: &[u8]) {
    if let Ok(s) = Snapshot::from_bytes(data, Limits::default()) {
        let mut out = Vec::new();
        for (query, request) in [
            (Query::IdentityLinks, r#"{"taskId":"t1"}"#),
            (Query::UserGroups, r#"{"userId":"demo"}"#),
            (Query::ListIdpLinks, r#"{"userId":"demo"}"#),
        ] {
            let request = Value::parse(request.as_bytes()).unwrap_or(Value::Null);
            let _ = s.run(query, &request, None, &mut out);
        }
        let _ = s.to_json();
    }
}

/// The first byte picks a query; the rest is `request JSON \0 context JSON`, run on [`SAMPLE`].
pub fn query(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let query = Query::ALL[pick as usize % Query::ALL.len()];
    let p = parts(rest, 2);
    let request = Value::parse(p[0]).unwrap_or(Value::Null);
    let context = Value::parse(p[1]).ok();
    let mut out = Vec::new();
    match sample().run(query, &request, context.as_ref(), &mut out) {
        Ok(()) => assert!(Value::parse(&out).is_ok(), "an answer must be valid JSON"),
        Err(e) => assert!(Value::parse(e.body_json().as_bytes()).is_ok(), "an error body must be valid JSON"),
    }
}

/// The first byte picks a method; the rest is `url \0 content-type \0 body`, served from [`SAMPLE`].
pub fn http(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else { return };
    let method = ["GET", "POST", "PUT", "HEAD", "get"][pick as usize % 5];
    let p = parts(rest, 3);
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let (url, content_type) = (text(p[0]), text(p[1]));
    let body = if pick & 0x80 != 0 { Body::TooLarge } else { Body::Bytes(p[2]) };
    let request = Request::new(method, &url, (!content_type.is_empty()).then_some(&content_type), body);
    let response = handle_trusted(sample(), &request, None);
    // JSON answers are JSON; protobuf and gRPC(-web) answers are bytes, and a body-less answer
    // (HEAD, OPTIONS, a gRPC status in the headers) has none.
    if response.content_type == Some("application/json") && !response.body.is_empty() {
        assert!(Value::parse(&response.body).is_ok(), "every JSON response body must be JSON");
    }
}

/// Applies `data` as a delta to [`SAMPLE`]: as it is when the first byte is even; else the rest
/// as the edits after a real header (from the sample to itself) under a right checksum, so that
/// the edits' reader is reached. A refusal must leave the snapshot unchanged; a delta that
/// applies must leave a snapshot that checks and answers.
pub fn apply_delta(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let base = sample();
    let delta = if mode & 1 == 0 {
        rest.to_vec()
    } else {
        let mut delta = base.delta_to(base);
        delta.truncate(crate::snapshot::delta::HEADER);
        delta.extend_from_slice(rest);
        let sum = identity_links_tables::words::hash(&delta);
        delta.extend_from_slice(&sum.to_le_bytes());
        delta
    };
    let mut s = base.clone();
    match s.apply_delta(&delta) {
        Ok(()) => {
            assert!(s.check_structure().is_ok(), "an applied delta leaves a snapshot that checks");
            let mut out = Vec::new();
            for (query, request) in
                [(Query::IdentityLinks, r#"{"taskId":"t1"}"#), (Query::UserGroups, r#"{"userId":"demo"}"#)]
            {
                let request = Value::parse(request.as_bytes()).unwrap_or(Value::Null);
                let _ = s.run(query, &request, None, &mut out);
            }
        }
        Err(_) => assert!(s == *base, "a refused delta leaves the snapshot unchanged"),
    }
}
