//! Every conformance case over HTTP: the Camunda routes (with and without `/engine-rest`), the
//! Zitadel REST gateway route where the user id fits in a path, and the Connect route always
//! (with errors in Connect's format).
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::http::{handle, Body, Request};
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

/// The Connect form of an expected gateway error body.
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
    Value::Object(vec![
        ("code".into(), Value::String(name.into())),
        ("message".into(), body.get("message").cloned().unwrap_or(Value::Null)),
    ])
    .to_json()
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
            let r = handle(
                &snapshot,
                &Request {
                    method: &method,
                    url: &url,
                    content_type: Some("application/json"),
                    body: Body::Bytes(body.as_bytes()),
                },
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
