//! Every conformance case over HTTP: the Camunda routes (with and without `/engine-rest`), the
//! Zitadel REST gateway route where the user id fits in a path, and the Connect route always
//! (with errors in Connect's format).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::http::{handle_trusted, Body, Request};
use identity_links::json::Value;

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn text(v: Option<&Value>) -> Option<&str> {
    match v {
        Some(Value::String(s)) => Some(s),
        _ => None,
    }
}

/// Standard base64 without padding, written independently of the library's.
fn base64(bytes: &[u8]) -> String {
    let alphabet: Vec<char> = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".chars().collect();
    let bits: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
    bits.as_bytes()
        .chunks(6)
        .map(|six| {
            let padded = format!("{:0<6}", std::str::from_utf8(six).expect("ASCII bits"));
            alphabet[usize::from_str_radix(&padded, 2).expect("six bits")]
        })
        .collect()
}

/// `zitadel.v1.ErrorDetail { id = 1; message = 2; }` as protobuf bytes (short strings only).
fn error_detail(id: &str, message: &str) -> Vec<u8> {
    let mut out = vec![0x0a, id.len() as u8];
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&[0x12, message.len() as u8]);
    out.extend_from_slice(message.as_bytes());
    out
}

/// The Connect form of an expected gateway error body: Zitadel's ErrorDetail, when the gateway
/// body has one, as connect-go writes it (`type`, base64 `value`, `debug`).
fn connect_error(body: &Value) -> String {
    let code = match body.get("code") {
        Some(Value::Number(n)) => n.clone(),
        _ => String::new(),
    };
    let name = match code.as_str() {
        "3" => "invalid_argument",
        "5" => "not_found",
        "7" => "permission_denied",
        _ => "unknown",
    };
    let mut members = vec![
        ("code".into(), Value::String(name.into())),
        ("message".into(), body.get("message").cloned().unwrap_or(Value::Null)),
    ];
    if let Some(Value::Array(details)) = body.get("details") {
        let connect = details.iter().map(|d| {
            let (id, message) = (text(d.get("id")).unwrap_or(""), text(d.get("message")).unwrap_or(""));
            Value::Object(vec![
                ("type".into(), Value::String("zitadel.v1.ErrorDetail".into())),
                ("value".into(), Value::String(base64(&error_detail(id, message)))),
                (
                    "debug".into(),
                    Value::Object(vec![
                        ("id".into(), Value::String(id.into())),
                        ("message".into(), Value::String(message.into())),
                    ]),
                ),
            ])
        });
        members.push(("details".into(), Value::Array(connect.collect())));
    }
    Value::Object(members).to_json()
}

#[test]
fn every_conformance_case_over_http() {
    let mut failures = Vec::new();
    let mut requests = 0;
    for case in support::cases().iter().filter(|c| c.call != "load") {
        let snapshot = support::load(case).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let request = case.request.clone().unwrap_or(Value::Object(Vec::new()));
        let want_body = case.body.as_ref().map(Value::to_json).unwrap_or_default();
        let mut attempts: Vec<(String, String, String, String)> = Vec::new(); // method, url, body, expected body
        match case.call.as_str() {
            "getIdentityLinks" => {
                let task = text(request.get("taskId")).unwrap_or("");
                let query = text(request.get("type")).map(|t| format!("?type={}", encode(t))).unwrap_or_default();
                for prefix in ["", "/engine-rest"] {
                    attempts.push((
                        "GET".into(),
                        format!("http://localhost{prefix}/task/{}/identity-links{query}", encode(task)),
                        String::new(),
                        want_body.clone(),
                    ));
                }
            }
            "getUserGroups" => {
                let query = text(request.get("userId")).map(|u| format!("?userId={}", encode(u))).unwrap_or_default();
                for prefix in ["", "/engine-rest"] {
                    attempts.push((
                        "GET".into(),
                        format!("http://localhost{prefix}/identity/groups{query}"),
                        String::new(),
                        want_body.clone(),
                    ));
                }
            }
            _ => {
                let user = text(request.get("userId")).unwrap_or("");
                if !user.is_empty() {
                    let body = Value::Object(
                        request.get("query").map(|q| vec![("query".into(), q.clone())]).unwrap_or_default(),
                    )
                    .to_json();
                    attempts.push((
                        "POST".into(),
                        format!("http://localhost/v2/users/{}/links/_search", encode(user)),
                        body,
                        want_body.clone(),
                    ));
                }
                let connect_want = if case.status == 200 {
                    want_body.clone()
                } else {
                    case.body.as_ref().map(connect_error).unwrap_or_default()
                };
                attempts.push((
                    "POST".into(),
                    "http://localhost/zitadel.user.v2.UserService/ListIDPLinks".into(),
                    request.to_json(),
                    connect_want,
                ));
            }
        }
        for (method, url, body, want) in attempts {
            requests += 1;
            let r = handle_trusted(
                &snapshot,
                &Request::new(&method, &url, Some("application/json"), Body::Bytes(body.as_bytes())),
                case.context.as_ref(),
            );
            let got = String::from_utf8_lossy(&r.body).into_owned();
            if r.status != case.status || got != want {
                failures.push(format!(
                    "{} / {}: {method} {url}\n  got {} {got}\n  expected {} {want}",
                    case.file, case.name, r.status, case.status
                ));
            }
        }
    }
    println!("http conformance: {requests} requests, {} failed", failures.len());
    assert!(requests > 60, "only {requests} requests");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
