//! The wasm facade's tests, a module of `tests/wasm_node.rs` (`wasm-pack test --node`) and
//! `tests/wasm_browser.rs` (`wasm-pack test --headless --chrome`): every conformance case through
//! the facade's exported functions (the Rust side of the package; the package itself, its JS
//! wrapper included, runs them in every runtime in `tests/js/conformance.mjs`), and the facade's
//! own conversions and memory contract.

use identity_links::json::Value;
use identity_links::wasm::{
    abi, adopt, get_identity_links, get_user_groups, is_identity_error, json_to_tables, list_idp_links, JsSnapshot,
};
use js_sys::{Reflect, JSON};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

// The conformance files, listed by build.rs from the directory.
include!(concat!(env!("OUT_DIR"), "/conformance.rs"));

fn js(json: &str) -> JsValue {
    JSON::parse(json).unwrap_or(JsValue::UNDEFINED)
}

fn stringify(v: &JsValue) -> String {
    JSON::stringify(v).ok().and_then(|s| s.as_string()).unwrap_or_default()
}

fn get(v: &JsValue, key: &str) -> JsValue {
    Reflect::get(v, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// Runs one case through the facade: `Err` describes a mismatch.
fn run_case(case: &Value) -> Result<(), String> {
    let member = |k: &str| case.get_present(k).map(|v| js(&v.to_json())).unwrap_or(JsValue::UNDEFINED);
    let snapshot_text = case.get("snapshot").map(Value::to_json).unwrap_or_default();
    let call = match case.get("call") {
        Some(Value::String(c)) => c.clone(),
        _ => return Err("no call".into()),
    };
    let expect = case.get("expect").cloned().unwrap_or(Value::Null);
    let status = match expect.get("status") {
        Some(Value::Number(n)) => n.parse::<u32>().unwrap_or(0),
        _ => 0,
    };
    let (options, request, context) = (member("options"), member("request"), member("context"));
    let result = JsSnapshot::from_json(&JsValue::from_str(&snapshot_text), &options).and_then(|s| {
        let request = if request.is_undefined() { js("{}") } else { request.clone() };
        let answer = match call.as_str() {
            "load" => Ok(JsValue::NULL),
            "getIdentityLinks" => get_identity_links(&s, &request, &context),
            "getUserGroups" => get_user_groups(&s, &request, &context),
            _ => list_idp_links(&s, &request, &context),
        };
        let method = match call.as_str() {
            "load" => Ok(JsValue::NULL),
            "getIdentityLinks" => s.get_identity_links(&request, &context),
            "getUserGroups" => s.get_user_groups(&request, &context),
            _ => s.list_idp_links(&request, &context),
        };
        match (&answer, &method) {
            (Ok(a), Ok(m)) if stringify(a) != stringify(m) => Err(js(r#"{"mismatch":"function and method differ"}"#)),
            _ => answer,
        }
    });
    let (got_status, got_body, message) = match result {
        Ok(body) => (200, body, None),
        Err(e) => {
            if !is_identity_error(&e) {
                return Err(format!("threw something else: {}", stringify(&e)));
            }
            let status = get(&e, "status").as_f64().unwrap_or(0.0) as u32;
            let message = get(&e, "message").as_string();
            if message != get(&get(&e, "body"), "message").as_string() {
                return Err("message differs from body.message".into());
            }
            (status, get(&e, "body"), message)
        }
    };
    if got_status != status {
        return Err(format!("status {got_status}, expected {status}: {}", stringify(&got_body)));
    }
    if let Some(body) = expect.get("body") {
        if stringify(&got_body) != body.to_json() {
            return Err(format!("body {}\n expected {}", stringify(&got_body), body.to_json()));
        }
    }
    if let Some(Value::String(part)) = expect.get("messageIncludes") {
        if !message.unwrap_or_default().contains(part.as_str()) {
            return Err(format!("message lacks {part}"));
        }
    }
    Ok(())
}

#[wasm_bindgen_test]
fn every_conformance_case_passes_through_the_facade() {
    let mut count = 0;
    let mut failures = Vec::new();
    assert!(!CONFORMANCE.is_empty(), "no conformance files: ../shared/conformance must be beside the repository");
    for &(file, text) in CONFORMANCE {
        let doc = Value::parse(text.as_bytes()).unwrap_or(Value::Null);
        let Some(Value::Array(cases)) = doc.get("cases") else { panic!("{file}: no cases") };
        for case in cases {
            count += 1;
            if let Err(e) = run_case(case) {
                failures.push(format!("{file} / {:?}: {e}", case.get("name")));
            }
        }
    }
    assert!(count >= 50, "only {count} cases");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

const SAMPLE: &str = r#"{"version":1,"sequence":"18446744073709551615","timestamp":"2025-01-16T03:26:13.5+01:00",
  "users":[{"id":"u1","org":"O"}],"tasks":[{"id":"t","assignee":"u1"}],
  "idpLinks":[{"userId":"u1","idpId":"i","providedUserId":"p1","providedUserName":"a"},{"userId":"u1","idpId":"i","providedUserId":"p2","providedUserName":"b"}]}"#;

fn sample() -> JsSnapshot {
    JsSnapshot::from_json(&JsValue::from_str(SAMPLE), &JsValue::UNDEFINED)
        .unwrap_or_else(|e| panic!("{}", stringify(&e)))
}

#[wasm_bindgen_test]
fn loads_from_text_bytes_and_objects_alike() {
    let s = sample();
    assert_eq!(s.sequence(), "18446744073709551615");
    assert_eq!(s.timestamp(), "2025-01-16T02:26:13.500Z");
    let bytes = js_sys::Uint8Array::from(SAMPLE.as_bytes());
    let from_bytes = JsSnapshot::from_json(&bytes, &JsValue::UNDEFINED).unwrap_or_else(|_| panic!("utf-8 bytes"));
    let from_object = JsSnapshot::from_object(&js(SAMPLE), &JsValue::UNDEFINED).unwrap_or_else(|_| panic!("object"));
    for other in [&from_bytes, &from_object] {
        assert_eq!(stringify(&other.stats()), stringify(&s.stats()));
        assert_eq!(other.to_json(), s.to_json());
    }
    assert_eq!(
        stringify(&s.stats()),
        r#"{"users":1,"groups":0,"memberships":0,"tasks":1,"identityLinks":0,"idpLinks":2}"#
    );
}

#[wasm_bindgen_test]
fn binary_form_round_trips_and_refuses_corruption() {
    let s = sample();
    let bytes = s.to_bytes();
    let back = JsSnapshot::from_bytes(&js_sys::Uint8Array::from(&bytes[..]).into(), &JsValue::UNDEFINED)
        .unwrap_or_else(|_| panic!("round trip"));
    let request = js(r#"{"userId":"u1","query":{"asc":true}}"#);
    let answer = |snap: &JsSnapshot| {
        list_idp_links(snap, &request, &JsValue::UNDEFINED).map(|v| stringify(&v)).unwrap_or_default()
    };
    assert_eq!(answer(&back), answer(&s));
    let mut broken = bytes.clone();
    broken[bytes.len() / 2] ^= 4;
    let e = JsSnapshot::from_bytes(&js_sys::Uint8Array::from(&broken[..]).into(), &JsValue::UNDEFINED)
        .err()
        .unwrap_or(JsValue::NULL);
    assert!(is_identity_error(&e));
    assert_eq!(get(&get(&e, "body"), "path").as_string().as_deref(), Some("bytes"));
}

#[wasm_bindgen_test]
fn bigint_and_string_offsets_are_uint64() {
    let s = sample();
    let request = js(r#"{"userId":"u1","query":{}}"#);
    let query = get(&request, "query");
    let _ = Reflect::set(&query, &"offset".into(), &js_sys::BigInt::from(1u64).into());
    let answer = list_idp_links(&s, &request, &JsValue::UNDEFINED).map(|v| stringify(&v));
    assert_eq!(
        answer.as_deref().ok(),
        Some(
            r#"{"details":{"totalResult":"2","processedSequence":"18446744073709551615","timestamp":"2025-01-16T02:26:13.500Z"},"result":[{"idpId":"i","userId":"p1","userName":"a"}]}"#
        )
    );
    let _ = Reflect::set(&query, &"offset".into(), &JsValue::from_str("18446744073709551615"));
    assert!(list_idp_links(&s, &request, &JsValue::UNDEFINED).is_ok());
}

#[wasm_bindgen_test]
fn hostile_values_are_identity_errors() {
    let s = sample();
    let cases: [(&str, JsValue); 4] = [
        ("negative offset", js(r#"{"userId":"u1","query":{"offset":-1}}"#)),
        ("fractional limit", js(r#"{"userId":"u1","query":{"limit":0.5}}"#)),
        ("NaN limit", {
            let r = js(r#"{"userId":"u1","query":{}}"#);
            let _ = Reflect::set(&get(&r, "query"), &"limit".into(), &JsValue::from_f64(f64::NAN));
            r
        }),
        ("not an object", JsValue::from_str("u1")),
    ];
    for (what, request) in cases {
        let e = list_idp_links(&s, &request, &JsValue::UNDEFINED).err().unwrap_or(JsValue::NULL);
        assert!(is_identity_error(&e), "{what}: {}", stringify(&e));
        assert_eq!(get(&e, "status").as_f64(), Some(400.0), "{what}");
    }
    let lone = js_sys::JsString::from_char_code1(0xD800);
    let e = JsSnapshot::from_json(&lone.into(), &JsValue::UNDEFINED).err().unwrap_or(JsValue::NULL);
    assert!(is_identity_error(&e), "lone surrogate text");
    let e = get_identity_links(&s, &js(r#"{"taskId":7}"#), &JsValue::UNDEFINED).err().unwrap_or(JsValue::NULL);
    assert_eq!(
        stringify(&get(&e, "body")),
        r#"{"type":"InvalidRequestException","message":"The task id must be a string, found a number","code":null}"#
    );
    // The snapshot still answers after every error.
    assert!(get_identity_links(&s, &js(r#"{"taskId":"t"}"#), &JsValue::UNDEFINED).is_ok());
}

#[wasm_bindgen_test]
fn options_are_checked() {
    let e = JsSnapshot::from_json(&JsValue::from_str(SAMPLE), &js(r#"{"maxLimit":-1}"#)).err().unwrap_or(JsValue::NULL);
    assert_eq!(
        get(&e, "message").as_string().as_deref(),
        Some("options.maxLimit: must be a whole number from 0 to 4294967295 (0: no restriction)")
    );
    // 0 disables the maximum, as in Zitadel.
    let open = JsSnapshot::from_json(&JsValue::from_str(SAMPLE), &js(r#"{"maxLimit":0}"#))
        .unwrap_or_else(|_| panic!("maxLimit 0"));
    assert!(list_idp_links(&open, &js(r#"{"userId":"u1","query":{"limit":5000}}"#), &JsValue::UNDEFINED).is_ok());
    let e = JsSnapshot::from_json(&JsValue::from_str(SAMPLE), &js(r#"{"maxlimit":5}"#)).err().unwrap_or(JsValue::NULL);
    assert_eq!(
        get(&e, "message").as_string().as_deref(),
        Some("options.maxlimit: unknown option (defaultLimit, maxLimit, maxBytes)")
    );
    let s = JsSnapshot::from_json(&JsValue::from_str(SAMPLE), &js(r#"{"defaultLimit":1,"maxLimit":1}"#))
        .unwrap_or_else(|_| panic!("options"));
    let page =
        list_idp_links(&s, &js(r#"{"userId":"u1"}"#), &JsValue::UNDEFINED).map(|v| stringify(&get(&v, "result")));
    assert_eq!(page.ok().as_deref(), Some(r#"[{"idpId":"i","userId":"p2","userName":"b"}]"#));
}

/// An HTTP request as the wrapper hands it to the module (src/wasm/abi.rs, "An HTTP request"):
/// the texts (method, URL, the five headers; `None` absent) and the body, one after another in
/// the HTTP input area; their lengths.
fn put_http(texts: [Option<&str>; 8], body: &[u8]) -> [u32; 8] {
    let total = texts.iter().flatten().map(|t| t.len()).sum::<usize>() + body.len();
    let mut at = abi::http_input(total as u32);
    assert_ne!(at, 0, "room is made");
    let memory = js_sys::Uint8Array::new(&get(&wasm_bindgen::memory(), "buffer"));
    let mut lengths = [abi::NULL; 8];
    for (text, length) in texts.iter().zip(&mut lengths) {
        if let Some(text) = text {
            memory.subarray(at, at + text.len() as u32).copy_from(text.as_bytes());
            (at, *length) = (at + text.len() as u32, text.len() as u32);
        }
    }
    memory.subarray(at, at + body.len() as u32).copy_from(body);
    lengths
}

/// One `__http` call; the answer's words from `address` (enough for any answer here).
fn http_call(s: &JsSnapshot, lengths: [u32; 8], body: u32, flags: u32, options: &JsValue) -> Result<Vec<u32>, JsValue> {
    http_as(s, lengths, body, flags, 0, options)
}

/// [`http_call`] with an identity code (the caller's user id is the eighth text).
fn http_as(
    s: &JsSnapshot,
    lengths: [u32; 8],
    body: u32,
    flags: u32,
    identity: u32,
    options: &JsValue,
) -> Result<Vec<u32>, JsValue> {
    let [a, b, c, d, e, f, g, h] = lengths;
    let address = s.http(a, b, c, d, e, f, g, h, body, flags, identity, &JsValue::UNDEFINED, options)?;
    Ok(words_from(address, 64))
}

/// An HTTP answer read as the wrapper reads it: status, body kind, body text, headers,
/// trailers.
#[derive(Debug, PartialEq, Eq)]
struct Answer {
    status: u32,
    kind: u32,
    body: String,
    headers: Vec<(String, String)>,
    trailers: Vec<(String, String)>,
}

fn read_answer(words: &[u32]) -> Answer {
    let text = |kind: u32, address: u32, length: u32| {
        assert!(kind == abi::RAW || kind == abi::FRESH, "a header's cell is RAW or FRESH, not {kind}");
        Cells::text(address, length)
    };
    let mut at = 4;
    let mut pairs = || {
        let n = words[at] as usize;
        at += 1;
        let list = (0..n)
            .map(|i| {
                let w = &words[at + 6 * i..at + 6 * i + 6];
                assert_eq!(w[0], abi::RAW, "a header's name is static text");
                (text(w[0], w[1], w[2]), text(w[3], w[4], w[5]))
            })
            .collect::<Vec<_>>();
        at += 6 * n;
        list
    };
    let (headers, trailers) = (pairs(), pairs());
    let body = if words[1] == 0 {
        String::new()
    } else {
        String::from_utf8_lossy(&Cells::text_bytes(words[2], words[3])).into_owned()
    };
    Answer { status: words[0], kind: words[1], body, headers, trailers }
}

/// What the package's `handleRequest` does with a request of `method`, `url`, `content_type`
/// and `body` (pkg-template/api.js): the texts and body in the input area, one call.
fn respond(s: &JsSnapshot, method: &str, url: &str, content_type: Option<&str>, body: &str) -> Answer {
    let bodiless = method == "GET" || method == "HEAD";
    let lengths = put_http([Some(method), Some(url), content_type, None, None, None, None, None], body.as_bytes());
    let length = if bodiless { abi::NULL } else { body.len() as u32 };
    let words = http_call(s, lengths, length, abi::TRUSTED, &JsValue::UNDEFINED)
        .unwrap_or_else(|e| panic!("{}", stringify(&e)));
    read_answer(&words)
}

#[wasm_bindgen_test]
fn handle_request_serves_the_routes() {
    let s = sample();
    let json = || vec![("content-type".to_owned(), "application/json".to_owned())];
    let got = respond(&s, "GET", "http://x/engine-rest/task/t/identity-links", None, "");
    let links = r#"[{"userId":"u1","groupId":null,"type":"assignee"}]"#;
    assert_eq!(got, Answer { status: 200, kind: abi::TEXT, body: links.to_owned(), headers: json(), trailers: vec![] });
    let got = respond(&s, "POST", "http://x/v2/users/u1/links/_search", None, r#"{"query":{"limit":1,"asc":true}}"#);
    assert_eq!(got.status, 200);
    assert!(got.body.ends_with(r#""result":[{"idpId":"i","userId":"p1","userName":"a"}]}"#), "{}", got.body);
    let connect = "http://x/zitadel.user.v2.UserService/ListIDPLinks";
    let got = respond(&s, "POST", connect, Some("application/json"), r#"{"userId":""}"#);
    assert_eq!(got.status, 400);
    assert!(got.body.starts_with(r#"{"code":"invalid_argument","#), "{}", got.body);
    assert_eq!(respond(&s, "GET", "http://x/elsewhere", None, "").status, 404);
    let not_allowed = respond(&s, "DELETE", "http://x/identity/groups?userId=u1", None, "");
    assert_eq!(not_allowed.status, 405);
    assert!(not_allowed.headers.contains(&("allow".to_owned(), "GET,HEAD,OPTIONS".to_owned())), "{not_allowed:?}");
    // HEAD: no body at all (kind 0); OPTIONS on Camunda's routes: Allow, no content type.
    let head = respond(&s, "HEAD", "http://x/identity/groups?userId=u1", None, "");
    assert_eq!((head.status, head.kind, head.headers), (200, 0, json()));
    let options = respond(&s, "OPTIONS", "http://x/identity/groups?userId=u1", None, "");
    assert_eq!(options.headers, vec![("allow".to_owned(), "GET,HEAD,OPTIONS".to_owned())]);
}

#[wasm_bindgen_test]
fn an_http_call_asks_for_the_body_then_answers_with_it() {
    let s = sample();
    let rest = "http://x/v2/users/u1/links/_search";
    let options = js(r#"{"maxBodyBytes":64}"#);
    // Not read yet: the module asks for it, with the limit of the options.
    let lengths = put_http([Some("POST"), Some(rest), None, None, None, None, None, None], b"");
    let asked =
        http_call(&s, lengths, abi::BODY_LATER, abi::TRUSTED, &options).unwrap_or_else(|e| panic!("{}", stringify(&e)));
    assert_eq!(&asked[..3], &[0, 64, 0], "the body, with its limit; no caller");
    // A Content-Length over the limit: 413 at once, in the route's peer's format.
    let lengths = put_http([Some("POST"), Some(rest), None, Some("65"), None, None, None, None], b"");
    let refused = read_answer(&http_call(&s, lengths, abi::BODY_LATER, abi::TRUSTED, &options).unwrap_or_default());
    assert_eq!(refused.status, 413);
    // Past the limit while read: 413; within it: the answer.
    let lengths = put_http([Some("POST"), Some(rest), None, None, None, None, None, None], b"");
    assert_eq!(
        read_answer(&http_call(&s, lengths, abi::TOO_LARGE, abi::TRUSTED, &options).unwrap_or_default()).status,
        413
    );
    let body = br#"{"query":{"limit":1}}"#;
    let lengths = put_http([Some("POST"), Some(rest), None, None, None, None, None, None], body);
    let answered = read_answer(&http_call(&s, lengths, body.len() as u32, abi::TRUSTED, &options).unwrap_or_default());
    assert_eq!(answered.status, 200, "{answered:?}");
    // Options and texts the module cannot read are refused by name.
    let bad = http_call(&s, lengths, 0, 0, &js(r#"{"maxBodyBytes":"x"}"#)).err().map(|e| stringify(&e));
    assert!(bad.is_some_and(|e| e.contains("options.maxBodyBytes")));
    let lengths = put_http([Some("GET"), None, None, None, None, None, None, None], b"");
    let no_url = http_call(&s, lengths, abi::NULL, 0, &JsValue::UNDEFINED).err().map(|e| stringify(&e));
    assert!(no_url.is_some_and(|e| e.contains("request.url: expected a string")));
}

#[wasm_bindgen_test]
fn the_caller_is_asked_for_and_crosses_as_the_eighth_text() {
    let s = sample();
    let groups = "http://x/engine-rest/identity/groups?userId=u1";
    let zitadel = "http://x/v2/users/u1/links/_search";
    let head = |url: &'static str, caller: Option<&'static str>| {
        let method = if url == zitadel { "POST" } else { "GET" };
        put_http([Some(method), Some(url), None, None, None, None, None, caller], b"{}")
    };
    // No auth flag: nobody is served; Camunda's filter answers at once.
    let nobody = read_answer(&http_call(&s, head(groups, None), abi::NULL, 0, &JsValue::UNDEFINED).unwrap_or_default());
    assert_eq!(
        (nobody.status, nobody.headers),
        (401, vec![("www-authenticate".to_owned(), "Basic realm=\"default\"".to_owned())])
    );
    // With Camunda's caller established by the wrapper: asked for (peer 2), then answered.
    let asked =
        http_call(&s, head(groups, None), abi::NULL, abi::AUTH_CAMUNDA, &JsValue::UNDEFINED).unwrap_or_default();
    assert_eq!(&asked[..3], &[0, abi::NULL, 2]);
    let answered =
        http_as(&s, head(groups, Some("u1")), abi::NULL, abi::AUTH_CAMUNDA, abi::ID_USER, &JsValue::UNDEFINED);
    assert_eq!(read_answer(&answered.unwrap_or_default()).status, 200);
    let missing = http_as(&s, head(groups, None), abi::NULL, abi::AUTH_CAMUNDA, abi::ID_MISSING, &JsValue::UNDEFINED);
    assert_eq!(read_answer(&missing.unwrap_or_default()).status, 401);
    // Zitadel: the body and the caller asked for together (peer 1); each refusal its own answer.
    let asked = http_call(&s, head(zitadel, None), abi::BODY_LATER, abi::AUTH_ZITADEL, &JsValue::UNDEFINED);
    assert_eq!(&asked.unwrap_or_default()[..3], &[0, 1 << 20, 1]);
    for (code, message) in [
        (abi::ID_MISSING, "auth header missing"),
        (abi::ID_MALFORMED, "invalid auth header (AUTH-7fs1e)"),
        (abi::ID_INVALID, "Errors.Token.Invalid (AUTH-7fs1e)"),
    ] {
        let refused = http_as(&s, head(zitadel, None), 2, abi::AUTH_ZITADEL, code, &JsValue::UNDEFINED);
        let refused = read_answer(&refused.unwrap_or_default());
        assert_eq!(refused.status, 401);
        assert!(refused.body.starts_with(&format!(r#"{{"code":16,"message":"{message}""#)), "{}", refused.body);
    }
    let own = http_as(&s, head(zitadel, Some("u1")), 2, abi::AUTH_ZITADEL, abi::ID_USER, &JsValue::UNDEFINED);
    assert_eq!(read_answer(&own.unwrap_or_default()).status, 200, "a user reads their own links");
}

#[wasm_bindgen_test]
fn grpc_status_comes_as_trailers_only_when_the_call_says_they_can_be_sent() {
    let s = sample();
    let grpc = "http://x/zitadel.user.v2.UserService/ListIDPLinks";
    // A gRPC frame of an empty ListIDPLinksRequest (user id "", which Zitadel refuses).
    let frame = [0u8, 0, 0, 0, 0];
    let send = |flags: u32| {
        let lengths =
            put_http([Some("POST"), Some(grpc), Some("application/grpc"), None, None, None, None, None], &frame);
        read_answer(
            &http_call(&s, lengths, frame.len() as u32, flags | abi::TRUSTED, &JsValue::UNDEFINED).unwrap_or_default(),
        )
    };
    let without = send(0);
    assert!(without.trailers.is_empty(), "{without:?}");
    assert!(without.headers.iter().any(|(n, v)| n == "grpc-status" && v != "0"), "{without:?}");
    let with = send(abi::TRAILERS);
    assert!(with.trailers.iter().any(|(n, v)| n == "grpc-status" && v == "3"), "{with:?}");
}

fn bytes() -> js_sys::Uint8Array {
    js_sys::Uint8Array::new(&get(&wasm_bindgen::memory(), "buffer"))
}

/// The little-endian word at byte `at` of memory (aligned or not).
fn word(at: u32) -> u32 {
    let b: Vec<u8> = (at..at + 4).map(|i| bytes().get_index(i)).collect();
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// Moves `json`'s tables as `fromJson`'s wrapper moves them from a throwaway instance (here the
/// same one), word by word as src/wasm/abi.rs lays them out; `spoil` may change the copied
/// bytes of table `t` (0: the text) before they are checked.
fn moved(json: &str, spoil: impl Fn(u32, u32, u32)) -> Result<JsSnapshot, JsValue> {
    let at = abi::input(json.len() as u32);
    bytes().subarray(at, at + json.len() as u32).copy_from(json.as_bytes());
    let list = json_to_tables(json.len() as u32, u32::MAX);
    assert_ne!(list, 0, "the JSON loads");
    let size = 4 * abi::LIST_WORDS as u32;
    let area = abi::request_area();
    bytes().copy_within(area as i32, list as i32, (list + size) as i32);
    assert_eq!(adopt(), 1, "room is made");
    for t in 0..abi::TABLES {
        let (from, length, to) = (word(list + 20 + 8 * t), word(list + 24 + 8 * t), word(area + 20 + 8 * t));
        assert_eq!(word(area + 24 + 8 * t), length, "the room is the table's size");
        bytes().copy_within(to as i32, from as i32, (from + length) as i32);
        spoil(t, to, length);
    }
    JsSnapshot::adopted(&JsValue::UNDEFINED)
}

/// A snapshot none of whose tables is empty (the source's order included: a rank spoiled in
/// the first place comes after the next one, against the indexes).
const FULL: &str = r#"{"version":1,"sequence":"42","timestamp":"2025-01-01T10:00:00.5+01:00",
    "users":[{"id":"u1","firstName":"Ann","lastName":"Lee","org":"o"},{"id":"u2"}],
    "groups":[{"id":"g","name":"G","rank":0},{"id":"g2","name":null,"rank":1}],
    "memberships":[{"userId":"u1","groupId":"g","rank":1},{"userId":"u2","groupId":"g","rank":2},{"userId":"u1","groupId":"g2","rank":1}],
    "tasks":[{"id":"t","assignee":"u1","owner":"u2","processDefinitionKey":"d","identityLinks":[{"groupId":"g","type":"candidate"}]}],
    "idpLinks":[{"userId":"u1","idpId":"i","providedUserId":"p","providedUserName":"n"}],
    "authorizationEnabled":true,
    "authorizations":[{"type":1,"userId":"u1","resourceType":7,"resourceId":"t","permissions":2}],
    "zitadelMembers":[{"userId":"u1","org":"o","project":"p","roles":["PROJECT_OWNER"]}]}"#;

#[wasm_bindgen_test]
fn tables_move_between_instances_and_are_checked() {
    let loaded = JsSnapshot::from_json(&JsValue::from_str(FULL), &JsValue::UNDEFINED);
    let expected = loaded.unwrap_or_else(|e| panic!("{}", stringify(&e))).to_bytes();
    let same = moved(FULL, |_, _, _| {}).unwrap_or_else(|e| panic!("{}", stringify(&e)));
    assert_eq!(same.to_bytes(), expected, "the moved snapshot is the loaded one");
    // A symbol, row or offset out of range (0xF0F0F0F0 is none of them, nor null) in any
    // column, or text that is not UTF-8, is refused; the users' hash codes (table 7) and the
    // authorizations' permission bits (table 34: any Java int, negative included) may be any.
    for table in (0..abi::TABLES).filter(|&t| t != 7 && t != 34) {
        let spoiled = moved(FULL, |t, to, length| {
            if t == table {
                assert!(length >= 4, "table {t} of the sample is not empty");
                bytes().subarray(to, to + 4).fill(0xF0, 0, 4);
            }
        });
        let message = stringify(&spoiled.err().unwrap_or_else(|| JsValue::from_str("accepted")));
        assert!(message.contains("not a valid identity-links binary snapshot"), "table {table}: {message}");
    }
    // Without room made first, nothing arrives.
    let nothing = stringify(&JsSnapshot::adopted(&JsValue::UNDEFINED).err().unwrap_or(JsValue::NULL));
    assert!(nothing.contains("no tables are arriving"), "{nothing}");
}

/// Writes `strings` one after another into the input area, as the wrapper does; their lengths.
fn put(strings: &[&str]) -> Vec<u32> {
    let total: usize = strings.iter().map(|s| s.len()).sum();
    assert!(total <= abi::REQUEST_BYTES as usize, "a request fits the request area");
    let at = abi::request_area() as usize;
    let memory = js_sys::Uint8Array::new(&get(&wasm_bindgen::memory(), "buffer"));
    let mut offset = at;
    for s in strings {
        memory.subarray(offset as u32, (offset + s.len()) as u32).copy_from(s.as_bytes());
        offset += s.len();
    }
    strings.iter().map(|s| s.len() as u32).collect()
}

/// The answer at `address` as the wrapper reads it: its words after the length word.
fn words_at(address: u32) -> Vec<u32> {
    assert_ne!(address, 0, "no answer");
    let memory = js_sys::Uint32Array::new(&get(&wasm_bindgen::memory(), "buffer"));
    let at = address / 4;
    let n = memory.get_index(at);
    (1..=n).map(|i| memory.get_index(at + i)).collect()
}

/// Reads cells as the wrapper does: a cursor over an answer's words, asking the snapshot for
/// the text of a key.
struct Cells<'a> {
    snapshot: &'a JsSnapshot,
    words: Vec<u32>,
    at: usize,
}

/// A cell's value: `Some(Some(text))`, `Some(None)` for null, `None` for absent; with its kind.
type Cell = (u32, Option<Option<String>>);

impl Cells<'_> {
    fn text(address: u32, length: u32) -> String {
        String::from_utf8(Self::text_bytes(address, length)).expect("a cell's text is UTF-8")
    }

    fn text_bytes(address: u32, length: u32) -> Vec<u8> {
        let memory = js_sys::Uint8Array::new(&get(&wasm_bindgen::memory(), "buffer"));
        memory.subarray(address, address + length).to_vec()
    }

    fn word(&mut self) -> u32 {
        self.at += 1;
        self.words[self.at - 1]
    }

    fn next(&mut self) -> Cell {
        let key = self.word();
        match key {
            abi::NULL => (key, Some(None)),
            abi::ABSENT => (key, None),
            abi::FRESH | abi::RAW => {
                let (address, length) = (self.word(), self.word());
                (key, Some(Some(Self::text(address, length))))
            }
            _ => {
                assert!(key < self.snapshot.keys(), "key {key} is below __keys()");
                let spot = words_from(self.snapshot.text(key), 2);
                (key, Some(Some(Self::text(spot[0], spot[1]))))
            }
        }
    }
}

/// The `n` words at `address`.
fn words_from(address: u32, n: u32) -> Vec<u32> {
    assert_ne!(address, 0, "no answer");
    let memory = js_sys::Uint32Array::new(&get(&wasm_bindgen::memory(), "buffer"));
    (0..n).map(|i| memory.get_index(address / 4 + i)).collect()
}

fn text_of(cell: Cell) -> Option<Option<String>> {
    cell.1
}

#[wasm_bindgen_test]
fn the_abi_is_what_the_wrapper_expects() {
    // pkg-template/api.js's ABI, in order (the JS side checks the same in tests/js/hostile-test.mjs).
    let http = [1 << 20, u32::MAX - 4, u32::MAX - 5, 1, 1, 2, 2, 4, 8];
    let identity = [1, 2, 3, 4, 5];
    let memory = vec![6, u32::MAX, u32::MAX - 1, u32::MAX - 2, u32::MAX - 3, 4096, 41, 5];
    let constants = [memory, http.to_vec(), identity.to_vec()].concat();
    assert_eq!(abi::constants(), constants);
    let s = sample();
    let some = |t: &str| Some(Some(t.to_owned()));
    // getIdentityLinks: n, then (userId, groupId, type) cells; "assignee" under a key of its own.
    let lens = put(&["t"]);
    let mut c = Cells { snapshot: &s, words: words_at(s.trusted_links(lens[0], abi::NULL, false)), at: 0 };
    assert_eq!(c.word(), 1);
    assert_eq!(text_of(c.next()), some("u1"));
    assert_eq!(text_of(c.next()), Some(None));
    let (key, kind) = c.next();
    assert_eq!(kind, some("assignee"));
    assert!(key < abi::RAW);
    assert_eq!(c.at, c.words.len());
    // A filter that matches nothing; an unknown task answers 0 (the validating method throws).
    let lens = put(&["t", "candidate"]);
    assert_eq!(words_at(s.trusted_links(lens[0], lens[1], false)), vec![0]);
    let lens = put(&["nope"]);
    assert_eq!(s.trusted_links(lens[0], abi::NULL, false), 0);
    // listIdpLinks: totalResult (fresh), processedSequence and timestamp (kept), r, r × 3 cells.
    let lens = put(&["u1"]);
    let mut c = Cells { snapshot: &s, words: words_at(s.trusted_idp(lens[0], 0.0, 1.0, true, false)), at: 0 };
    assert_eq!(c.next(), (abi::FRESH, some("2")));
    assert_eq!(text_of(c.next()), some("18446744073709551615"));
    assert_eq!(text_of(c.next()), some("2025-01-16T02:26:13.500Z"));
    assert_eq!(c.word(), 1);
    assert_eq!([c.next().1, c.next().1, c.next().1], [some("i"), some("p1"), some("a")]);
    assert_eq!(c.at, c.words.len());
    // An empty page: totalResult absent, and the list absent (protojson leaves both out).
    let lens = put(&["nobody"]);
    let mut c = Cells { snapshot: &s, words: words_at(s.trusted_idp(lens[0], 0.0, 0.0, false, false)), at: 0 };
    assert_eq!(c.next().1, None);
    c.next();
    c.next();
    assert_eq!(c.word(), abi::ABSENT);
    // A limit above the maximum, or a fractional one: the validating method's to refuse.
    assert_eq!(s.trusted_idp(lens[0], 0.0, 1001.0, false, false), 0);
    assert_eq!(s.trusted_idp(lens[0], 0.0, 0.5, false, false), 0);
    // A key past the snapshot's has no text.
    assert_eq!(s.text(s.keys()), 0);
    // The `...Json` forms: pieces, syntax as RAW cells and strings quoted, in order.
    let lens = put(&["t"]);
    let mut c = Cells { snapshot: &s, words: words_at(s.trusted_links(lens[0], abi::NULL, true)), at: 0 };
    let mut body = String::new();
    for _ in 0..c.word() {
        match c.next() {
            (abi::RAW, Some(Some(json))) => body.push_str(&json),
            (_, Some(Some(text))) => body.push_str(&stringify(&JsValue::from_str(&text))),
            other => panic!("a JSON piece is never {other:?}"),
        }
    }
    assert_eq!(c.at, c.words.len());
    assert_eq!(body, r#"[{"userId":"u1","groupId":null,"type":"assignee"}]"#);
}
