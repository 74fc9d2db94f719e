//! A query's peer decides its error format, on every way in: a Zitadel query never answers in
//! Camunda's `{type,message,code}` and a Camunda query never in Zitadel's `{code,message}`.
//! Covered: the core (`Snapshot::run`, `Snapshot::run_json`, `Query::malformed`) and every HTTP
//! transport (Camunda REST, the Zitadel REST gateway, Connect JSON and binary, gRPC-web), each
//! with a malformed request, a malformed context and a refused method.
//!
//! The expected format is written here from the peers' documentation, not read from the
//! library, and every `match` over `Query` is exhaustive: a new query does not compile here
//! until it says what a valid request is and which HTTP routes it has.
#![cfg(not(target_arch = "wasm32"))]

use identity_links::http::{handle_trusted, Body, Request, Response};
use identity_links::json::Value;
use identity_links::query::Peer;
use identity_links::{CamundaError, Query, QueryError, Snapshot, ZitadelError};

const SNAPSHOT: &str = r#"{"version":1,"users":[{"id":"a"}],"tasks":[{"id":"t","assignee":"a"}]}"#;

fn snapshot() -> Snapshot {
    Snapshot::from_json(SNAPSHOT.as_bytes()).expect("the test snapshot loads")
}

/// The shape of an error answer, as a client of the peer sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// engine-rest's `ExceptionDto`: `{"type":..,"message":..,"code":..}`.
    Camunda,
    /// Zitadel's REST gateway status: `{"code":<number>,"message":..}`.
    Gateway,
    /// Connect's error: `{"code":"<name>","message":..}`.
    Connect,
    /// gRPC-web's trailers-only status: HTTP 200, no body, `grpc-status` not 0.
    GrpcStatus,
    /// Anything else (a success, or a body none of the above).
    Other,
}

/// The shape of an error body given as JSON text.
fn body_shape(body: &[u8]) -> Shape {
    let Ok(Value::Object(members)) = Value::parse(body) else { return Shape::Other };
    let keys: Vec<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    match (keys.as_slice(), members.first().map(|(_, v)| v)) {
        (["type", "message", "code"], _) => Shape::Camunda,
        (["code", "message", ..], Some(Value::Number(_))) => Shape::Gateway,
        (["code", "message", ..], Some(Value::String(_))) => Shape::Connect,
        _ => Shape::Other,
    }
}

/// The shape of an HTTP answer.
fn response_shape(r: &Response) -> Shape {
    let grpc_status = r.headers.iter().find(|(name, _)| *name == "grpc-status").map(|(_, v)| v.as_str());
    match grpc_status {
        Some(code) if code != "0" && r.status == 200 && r.body.is_empty() => Shape::GrpcStatus,
        Some(_) => Shape::Other,
        None if r.status >= 400 => body_shape(&r.body),
        None => Shape::Other,
    }
}

/// The shape of a core error.
fn error_shape(e: &QueryError) -> Shape {
    body_shape(e.body_json().as_bytes())
}

/// The peer that owns each query, as API.md says (not asked of the library, which is tested).
fn owner(query: Query) -> Peer {
    match query {
        Query::IdentityLinks | Query::UserGroups => Peer::Camunda,
        Query::ListIdpLinks => Peer::Zitadel,
    }
}

/// A request each query answers without error.
fn valid_request(query: Query) -> &'static str {
    match query {
        Query::IdentityLinks => r#"{"taskId":"t"}"#,
        Query::UserGroups => r#"{"userId":"a"}"#,
        Query::ListIdpLinks => r#"{"userId":"a"}"#,
    }
}

/// The way a request arrives over HTTP.
#[derive(Clone, Copy, Debug)]
enum Transport {
    CamundaRest,
    Gateway,
    ConnectJson,
    ConnectProto,
    GrpcWeb,
}

/// One HTTP route of a query: the transport, method, URL, content type, and a valid body.
struct Route {
    transport: Transport,
    method: &'static str,
    url: &'static str,
    content_type: Option<&'static str>,
    body: &'static [u8],
}

/// `ListIDPLinksRequest { user_id: "a" }` in protobuf.
const PROTO_REQUEST: &[u8] = &[0x0a, 0x01, b'a'];

/// Every HTTP route of a query, in each protocol it speaks.
fn routes(query: Query) -> Vec<Route> {
    let rest = |url| Route { transport: Transport::CamundaRest, method: "GET", url, content_type: None, body: b"" };
    let connect = "/zitadel.user.v2.UserService/ListIDPLinks";
    match query {
        Query::IdentityLinks => vec![rest("/engine-rest/task/t/identity-links"), rest("/task/t/identity-links")],
        Query::UserGroups => vec![rest("/engine-rest/identity/groups?userId=a"), rest("/identity/groups?userId=a")],
        Query::ListIdpLinks => vec![
            Route {
                transport: Transport::Gateway,
                method: "POST",
                url: "/v2/users/a/links/_search",
                content_type: Some("application/json"),
                body: b"{}",
            },
            Route {
                transport: Transport::ConnectJson,
                method: "POST",
                url: connect,
                content_type: Some("application/json"),
                body: br#"{"userId":"a"}"#,
            },
            Route {
                transport: Transport::ConnectProto,
                method: "POST",
                url: connect,
                content_type: Some("application/proto"),
                body: PROTO_REQUEST,
            },
            Route {
                transport: Transport::GrpcWeb,
                method: "POST",
                url: connect,
                content_type: Some("application/grpc-web+proto"),
                body: &[0, 0, 0, 0, 3, 0x0a, 0x01, b'a'],
            },
        ],
    }
}

/// The shape a peer's clients expect on a transport (what the peer's own servers send);
/// `by_path`: refused by the path's handler before it reads the protocol (a method it does not
/// serve), which connect-go answers in Connect's JSON whatever the content type.
fn expected(peer: Peer, transport: Transport, by_path: bool) -> Shape {
    match (peer, transport) {
        (Peer::Camunda, Transport::CamundaRest) => Shape::Camunda,
        (Peer::Zitadel, Transport::Gateway) => Shape::Gateway,
        (Peer::Zitadel, Transport::ConnectJson | Transport::ConnectProto) => Shape::Connect,
        (Peer::Zitadel, Transport::GrpcWeb) if by_path => Shape::Connect,
        (Peer::Zitadel, Transport::GrpcWeb) => Shape::GrpcStatus,
        (Peer::Camunda, Transport::Gateway | Transport::ConnectJson | Transport::ConnectProto | Transport::GrpcWeb)
        | (Peer::Zitadel, Transport::CamundaRest) => unreachable!("no route of {peer:?} on {transport:?}"),
    }
}

/// A body the route's request reader refuses (the request is malformed, not the context); none
/// on Camunda's routes, whose request is the URL.
fn malformed_body(transport: Transport) -> Option<&'static [u8]> {
    match transport {
        Transport::CamundaRest => None,
        Transport::Gateway | Transport::ConnectJson => Some(b"{"),
        Transport::ConnectProto => Some(&[0xff]),
        Transport::GrpcWeb => Some(&[0, 0, 0, 0, 1, 0xff]),
    }
}

/// A context that is not an object.
fn malformed_context() -> Value {
    Value::parse(b"[]").expect("JSON")
}

#[test]
fn the_core_answers_a_malformed_request_or_context_in_the_query_peers_format() {
    let s = snapshot();
    for query in Query::ALL {
        let peer = owner(query);
        assert_eq!(query.peer(), peer, "{query:?}'s peer");

        let shape = match peer {
            Peer::Camunda => Shape::Camunda,
            Peer::Zitadel => Shape::Gateway,
        };
        let of_peer = |e: &QueryError| {
            matches!(
                (peer, e),
                (Peer::Camunda, QueryError::Camunda(CamundaError::InvalidRequest { .. }))
                    | (Peer::Zitadel, QueryError::Zitadel(ZitadelError::InvalidArgument { .. }))
            )
        };
        let request = Value::parse(valid_request(query).as_bytes()).expect("JSON");
        let mut out = Vec::new();
        assert_eq!(s.run(query, &request, None, &mut out), Ok(()), "{query:?} answers its valid request");
        let errors = [
            ("Query::malformed", query.malformed("bad".into())),
            ("run, bad context", s.run(query, &request, Some(&malformed_context()), &mut out).expect_err("refused")),
            ("run_json, bad request", s.run_json(query, "{", None).expect_err("refused")),
            ("run_json, bad context", s.run_json(query, valid_request(query), Some("[")).expect_err("refused")),
            ("run_json, bad context value", s.run_json(query, valid_request(query), Some("1")).expect_err("refused")),
        ];
        for (way, error) in errors {
            assert!(of_peer(&error), "{query:?} by {way}: {error:?} is not {peer:?}'s malformed-request error");
            assert_eq!(
                (error.status(), error_shape(&error)),
                (400, shape),
                "{query:?} by {way}: {}",
                error.body_json()
            );
        }
    }
}

#[test]
fn every_http_route_answers_errors_in_its_query_peers_format() {
    let s = snapshot();
    for query in Query::ALL {
        for route in routes(query) {
            let send = |method, url, body, context: Option<&Value>| {
                handle_trusted(&s, &Request::new(method, url, route.content_type, Body::Bytes(body)), context)
            };
            let ok = send(route.method, route.url, route.body, None);
            assert_eq!(ok.status, 200, "{query:?} on {}: {}", route.url, String::from_utf8_lossy(&ok.body));
            assert_eq!(response_shape(&ok), Shape::Other, "{query:?} on {} answers, not refuses", route.url);

            let bad_context = send(route.method, route.url, route.body, Some(&malformed_context()));
            let wrong_method = if route.method == "GET" { "PUT" } else { "GET" };
            let refused = send(wrong_method, route.url, route.body, None);
            let mut answers = vec![("a malformed context", bad_context), ("another method", refused)];
            let want = |what| expected(owner(query), route.transport, what == "another method");
            match malformed_body(route.transport) {
                Some(bad) => {
                    answers.push(("a malformed request", send(route.method, route.url, bad, None)));
                    let big = Request::new(route.method, route.url, route.content_type, Body::TooLarge);
                    answers.push(("a body over the limit", handle_trusted(&s, &big, None)));
                }
                None => {
                    // Camunda's request is the URL: an engine that is not served is refused.
                    let url = route.url.replace("/engine-rest/", "/engine-rest/engine/nope/");
                    if url != route.url {
                        answers.push(("an unknown engine", send(route.method, &url, route.body, None)));
                    }
                }
            }
            for (what, r) in answers {
                let body = String::from_utf8_lossy(&r.body);
                assert_eq!(
                    response_shape(&r),
                    want(what),
                    "{query:?} ({:?}) on {:?} {}, {what}: {} {body} {:?}",
                    owner(query),
                    route.transport,
                    route.url,
                    r.status,
                    r.headers
                );
            }
        }
    }
}
