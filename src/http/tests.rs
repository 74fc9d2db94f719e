//! The HTTP layer's tests: every route, wire format and refusal, byte for byte.
#![cfg(test)]

use super::*;

const SNAPSHOT: &str = r#"{"version":1,"sequence":"7","timestamp":"2025-01-01T00:00:00Z",
  "users":[{"id":"u 1","org":"O"},{"id":"ü"}],"groups":[{"id":"g","name":"G"}],
  "memberships":[{"userId":"u 1","groupId":"g"},{"userId":"ü","groupId":"g"}],
  "tasks":[{"id":"a/b","assignee":"u 1","identityLinks":[{"groupId":"g","type":"candidate"}]}],
  "idpLinks":[{"userId":"u 1","idpId":"i","providedUserId":"p","providedUserName":"n"}]}"#;

fn snapshot() -> Snapshot {
    Snapshot::from_json(SNAPSHOT.as_bytes()).expect("the test snapshot loads")
}

fn call(method: &str, url: &str, body: &str, content_type: Option<&str>) -> (u16, String, Option<&'static str>) {
    let request = Request::new(method, url, content_type, Body::Bytes(body.as_bytes()));
    let r = handle_trusted(&snapshot(), &request, None);
    (r.status, String::from_utf8_lossy(&r.body).into_owned(), r.allow)
}

fn get(url: &str) -> (u16, String) {
    let (s, b, _) = call("GET", url, "", None);
    (s, b)
}

#[test]
fn camunda_routes_with_and_without_prefix_decode_the_path_and_query() {
    let links =
        r#"[{"userId":null,"groupId":"g","type":"candidate"},{"userId":"u 1","groupId":null,"type":"assignee"}]"#;
    assert_eq!(get("http://h/task/a%2Fb/identity-links"), (200, links.to_owned()));
    assert_eq!(get("http://h/engine-rest/task/a%2Fb/identity-links"), (200, links.to_owned()));
    assert_eq!(
        get("/engine-rest/task/a%2Fb/identity-links?type=assign%65e"),
        (200, r#"[{"userId":"u 1","groupId":null,"type":"assignee"}]"#.to_owned())
    );
    assert_eq!(get("/engine-rest/task/a%2Fb/identity-links?type="), (200, "[]".to_owned()));
    let groups = get("/engine-rest/identity/groups?userId=u+1");
    assert_eq!(groups, (200, r#"{"groups":[{"id":"g","name":"G"}],"groupUsers":[{"firstName":null,"lastName":null,"displayName":"ü","id":"ü"}]}"#.to_owned()));
    assert_eq!(get("/identity/groups?userId=%C3%BC").0, 200);
    assert_eq!(
        get("/identity/groups"),
        (400, r#"{"type":"InvalidRequestException","message":"No user id was supplied","code":null}"#.to_owned())
    );
    assert_eq!(
        get("/task/nope/identity-links"),
        (
            400,
            r#"{"type":"NullValueException","message":"Cannot find task with id nope: task is null","code":0}"#
                .to_owned()
        )
    );
}

#[test]
fn zitadel_rest_takes_the_user_from_the_path_and_the_query_from_the_body() {
    let ok = r#"{"details":{"totalResult":"1","processedSequence":"7","timestamp":"2025-01-01T00:00:00Z"},"result":[{"idpId":"i","userId":"p","userName":"n"}]}"#;
    assert_eq!(
        call("POST", "/v2/users/u%201/links/_search", r#"{"query":{"limit":1}}"#, Some("application/json")).1,
        ok
    );
    assert_eq!(call("POST", "/v2/users/u%201/links/_search", "", None).1, ok, "an empty body is an empty message");
    assert_eq!(call("POST", "/v2/users/u%201/links/_search", r#"{"userId":"other"}"#, None).1, ok, "the path wins");
    let (status, body, _) = call("POST", "/v2/users/u%201/links/_search", r#"{"query":{"offset":-1}}"#, None);
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"code":3,"message":"proto: invalid value for uint64 field offset: -1"}"#)
    );
    let (status, body, _) = call("POST", "/v2/users/u%201/links/_search", "{\"query\":", None);
    assert_eq!(
        (status, body.as_str()),
        (400, r#"{"code":3,"message":"proto: syntax error (line 1:10): unexpected end of input"}"#)
    );
}

#[test]
fn connect_route_speaks_json_with_connect_errors() {
    let ct = Some("application/json; charset=utf-8");
    let (status, body, _) =
        call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", r#"{"userId":"u 1","query":{"asc":true}}"#, ct);
    assert_eq!(
        (status, body.as_str()),
        (
            200,
            r#"{"details":{"totalResult":"1","processedSequence":"7","timestamp":"2025-01-01T00:00:00Z"},"result":[{"idpId":"i","userId":"p","userName":"n"}]}"#
        )
    );
    let (status, body, _) =
        call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", r#"{"userId":"u 1","query":{"limit":5000}}"#, ct);
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"code":"invalid_argument","message":"Limit exceeded (QUERY-4M0fs)","details":[{"type":"zitadel.v1.ErrorDetail","value":"CgtRVUVSWS00TTBmcxIOTGltaXQgZXhjZWVkZWQ","debug":{"id":"QUERY-4M0fs","message":"Limit exceeded"}}]}"#
        )
    );
    let (status, body, _) = call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", r#"{"userId":""}"#, ct);
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"code":"invalid_argument","message":"invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive"}"#
        )
    );
    // "{}" is no protobuf message (0x7b starts group 15, whose i32 0x7d is cut short):
    // Connect's invalid_argument.
    assert_eq!(call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", "{}", Some("application/proto")).0, 400);
    assert_eq!(call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", "{}", Some("text/plain")).0, 415);
    assert_eq!(call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", "{}", None).0, 415);
}

#[test]
fn callers_are_checked_over_http() {
    let context = Value::parse(br#"{"caller":{"userId":"x","permissions":["org.read"]}}"#).unwrap_or(Value::Null);
    let request = Request::new(
        "POST",
        "/zitadel.user.v2.UserService/ListIDPLinks",
        Some("application/json"),
        Body::Bytes(br#"{"userId":"u 1"}"#),
    );
    let r = handle_trusted(&snapshot(), &request, Some(&context));
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).as_ref()),
        (
            403,
            r#"{"code":"permission_denied","message":"No matching permissions found (AUTH-AWfge)","details":[{"type":"zitadel.v1.ErrorDetail","value":"CgpBVVRILUFXZmdlEh1ObyBtYXRjaGluZyBwZXJtaXNzaW9ucyBmb3VuZA","debug":{"id":"AUTH-AWfge","message":"No matching permissions found"}}]}"#
        )
    );
    let bad = Value::parse(br#"{"caller":{"userId":1}}"#).unwrap_or(Value::Null);
    let r = handle_trusted(
        &snapshot(),
        &Request::new("GET", "/task/a%2Fb/identity-links", None, Body::Bytes(b"")),
        Some(&bad),
    );
    assert_eq!(r.status, 400);
}

#[test]
fn unknown_paths_wrong_methods_and_large_bodies() {
    assert_eq!(get("/nope"), (404, r#"{"code":5,"message":"Not Found"}"#.to_owned()));
    assert_eq!(
        get("/engine-rest/nope"),
        (404, r#"{"type":"NotFoundException","message":"HTTP 404 Not Found","code":null}"#.to_owned())
    );
    assert_eq!(get("/task//identity-links").0, 404, "an empty id does not match");
    assert_eq!(get("/task/a/identity-links/extra").0, 404);
    assert_eq!(
        call("POST", "/engine-rest/identity/groups?userId=u", "", None),
        (
            405,
            r#"{"type":"NotAllowedException","message":"HTTP 405 Method Not Allowed","code":null}"#.to_owned(),
            Some("GET,HEAD,OPTIONS")
        )
    );
    assert_eq!(
        call("GET", "/v2/users/u/links/_search", "", None),
        (405, r#"{"code":12,"message":"Method Not Allowed: use POST"}"#.to_owned(), Some("POST"))
    );
    assert_eq!(call("DELETE", "/zitadel.user.v2.UserService/ListIDPLinks", "", None).0, 405);
    assert_eq!(get("/task/%zz/identity-links").0, 400);
    let big = Request::new("POST", "/v2/users/u/links/_search", None, Body::TooLarge);
    assert_eq!(handle_trusted(&snapshot(), &big, None).status, 413);
    // The limit is the reader's (the wasm facade stops reading past it): bytes it handed over
    // are read, however many.
    let padded = format!("{{}}{}", " ".repeat(MAX_BODY + 1));
    assert_eq!(call("POST", "/v2/users/u%201/links/_search", &padded, None).0, 200);
}

/// `POST /zitadel.user.v2.UserService/ListIDPLinks` with a binary body.
fn binary(content_type: &str, body: &[u8]) -> Response {
    let request =
        Request::new("POST", "/zitadel.user.v2.UserService/ListIDPLinks", Some(content_type), Body::Bytes(body));
    handle_trusted(&snapshot(), &request, None)
}

/// `ListIDPLinksRequest { user_id: "u 1", query: { asc: true } }`.
const REQUEST_PROTO: &[u8] = &[0x0a, 3, b'u', b' ', b'1', 0x12, 2, 0x18, 1];
/// The answer's `ListIDPLinksResponse`, encoded by hand: details { total_result 1,
/// processed_sequence 7, timestamp { seconds 1735689600 } }, result [{ "i", "p", "n" }].
const RESPONSE_PROTO: &[u8] = &[
    0x0a, 0x0c, 0x08, 0x01, 0x10, 0x07, 0x1a, 0x06, 0x08, 0x80, 0x8b, 0xd2, 0xbb, 0x06, 0x12, 0x09, 0x0a, 0x01, b'i',
    0x12, 0x01, b'p', 0x1a, 0x01, b'n',
];

#[test]
fn connect_binary_answers_protobuf() {
    let r = binary("application/proto", REQUEST_PROTO);
    assert_eq!((r.status, r.content_type, r.body.as_slice()), (200, Some("application/proto"), RESPONSE_PROTO));
    // Errors stay Connect's JSON, with Zitadel's detail.
    let limit = [0x0a, 3, b'u', b' ', b'1', 0x12, 3, 0x10, 0xe9, 0x07]; // limit 1001
    let r = binary("application/proto", &limit);
    assert_eq!((r.status, r.content_type), (400, Some("application/json")));
    assert!(String::from_utf8_lossy(&r.body).contains(r#""details":[{"type":"zitadel.v1.ErrorDetail""#));
}

#[test]
fn binary_requests_skip_what_protobuf_go_skips_and_refuse_the_rest() {
    // An unknown group holding a nested one, user_id as a varint, an unknown i32: skipped.
    let body = [&[0x7b, 0x0b, 0x0c, 0x7c, 0x08, 0x01, 0x7d, 1, 2, 3, 4], REQUEST_PROTO].concat();
    let r = binary("application/proto", &body);
    assert_eq!((r.status, r.body.as_slice()), (200, RESPONSE_PROTO));
    // A stray end group: Connect's invalid_argument.
    let r = binary("application/proto", &[0x0c]);
    let want = r#"{"code":"invalid_argument","message":"unmarshal into zitadel.user.v2.ListIDPLinksRequest: proto: an end group without its start group"}"#;
    assert_eq!((r.status, String::from_utf8_lossy(&r.body).as_ref()), (400, want));
}

#[test]
fn grpc_web_frames_the_answer_and_ends_with_a_trailer_frame() {
    let mut framed = vec![0, 0, 0, 0, REQUEST_PROTO.len() as u8];
    framed.extend_from_slice(REQUEST_PROTO);
    let r = binary("application/grpc-web+proto", &framed);
    let mut want = vec![0, 0, 0, 0, RESPONSE_PROTO.len() as u8];
    want.extend_from_slice(RESPONSE_PROTO);
    let trailer = b"grpc-status:0\r\ngrpc-message:\r\n";
    want.extend_from_slice(&[0x80, 0, 0, 0, trailer.len() as u8]);
    want.extend_from_slice(trailer);
    assert_eq!((r.status, r.content_type, r.body), (200, Some("application/grpc-web+proto"), want));
    // The JSON codec in gRPC-web frames: the Connect JSON body, framed.
    let json = br#"{"user_id":"u 1","query":{"asc":true}}"#;
    let mut framed = vec![0, 0, 0, 0, json.len() as u8];
    framed.extend_from_slice(json);
    let r = binary("application/grpc-web+json", &framed);
    let text = String::from_utf8_lossy(&r.body[5..]).into_owned();
    assert!(text.starts_with(r#"{"details":{"totalResult":"1""#), "{text}");
    // Errors are trailers-only: grpc-status in the headers, with Zitadel's detail in
    // grpc-status-details-bin, and no body.
    let limit = [0, 0, 0, 0, 10, 0x0a, 3, b'u', b' ', b'1', 0x12, 3, 0x10, 0xe9, 0x07];
    let r = binary("application/grpc-web", &limit);
    assert_eq!((r.status, r.body.len()), (200, 0));
    let header = |name: &str| r.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    assert_eq!(header("grpc-status").as_deref(), Some("3"));
    assert_eq!(header("grpc-message").as_deref(), Some("Limit exceeded (QUERY-4M0fs)"));
    assert!(header("grpc-status-details-bin").is_some_and(|v| !v.is_empty()));
    // A malformed frame, and gRPC over HTTP/2 (which needs trailers): trailers-only errors.
    assert_eq!(binary("application/grpc-web", &[1, 0, 0, 0, 0]).headers[0], ("grpc-status", "3".to_owned()));
    assert_eq!(binary("application/grpc", &[0, 0, 0, 0, 0]).headers[0], ("grpc-status", "12".to_owned()));
}

#[test]
fn connect_json_accepts_proto_field_names_but_not_both() {
    let ct = Some("application/json");
    let url = "/zitadel.user.v2.UserService/ListIDPLinks";
    let by_json_name = call("POST", url, r#"{"userId":"u 1"}"#, ct);
    assert_eq!(by_json_name.0, 200);
    assert_eq!(call("POST", url, r#"{"user_id":"u 1"}"#, ct), by_json_name);
    let both = call("POST", url, r#"{"userId":"u 1","user_id":"u 1"}"#, ct);
    assert_eq!(
        (both.0, both.1.as_str()),
        (400, r#"{"code":"invalid_argument","message":"proto: duplicate field \"user_id\""}"#)
    );
}

#[test]
fn camunda_named_engines_trailing_slashes_head_and_options() {
    let links =
        r#"[{"userId":null,"groupId":"g","type":"candidate"},{"userId":"u 1","groupId":null,"type":"assignee"}]"#;
    assert_eq!(get("/engine-rest/engine/default/task/a%2Fb/identity-links"), (200, links.to_owned()));
    assert_eq!(get("/engine-rest/engine/default/identity/groups?userId=u+1").0, 200);
    assert_eq!(get("/engine-rest/task/a%2Fb/identity-links/"), (200, links.to_owned()), "a trailing slash matches");
    assert_eq!(
        get("/engine-rest/engine/other/task/a%2Fb/identity-links"),
        (400, r#"{"type":"InvalidRequestException","message":"No process engine available","code":null}"#.to_owned())
    );
    let options = Options { engines: vec!["other".to_owned()], ..Options::trusted() };
    let request = Request::new("GET", "/engine-rest/engine/other/task/a%2Fb/identity-links", None, Body::Bytes(b""));
    assert_eq!(handle_with(&snapshot(), &request, None, &options).status, 200);
    let head = call("HEAD", "/engine-rest/task/a%2Fb/identity-links", "", None);
    assert_eq!((head.0, head.1.as_str()), (200, ""), "HEAD: GET's status, no body");
    let r = handle_trusted(
        &snapshot(),
        &Request::new("OPTIONS", "/engine-rest/identity/groups", None, Body::Bytes(b"")),
        None,
    );
    assert_eq!((r.status, r.allow, r.content_type), (200, Some("GET,HEAD,OPTIONS"), None));
    // A bad escape on a Camunda route is Camunda's error.
    let bad = get("/engine-rest/task/%zz/identity-links");
    assert!(bad.1.contains("InvalidRequestException"), "{}", bad.1);
}

#[test]
fn cors_as_the_peers_answer_it() {
    let preflight = |url: &str, options: &Options| {
        let mut request = Request::new("OPTIONS", url, None, Body::Bytes(b""));
        request.cors = cors::RequestHeaders {
            origin: Some("https://app.example"),
            method: Some("POST"),
            headers: Some("content-type,connect-protocol-version"),
        };
        handle_with(&snapshot(), &request, None, options)
    };
    let header = |r: &Response, name: &str| r.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    // Any origin on Zitadel's routes, without credentials (Zitadel allows them; a replica does
    // only for origins it lists); Camunda has no CORS by default.
    let r = preflight("/zitadel.user.v2.UserService/ListIDPLinks", &Options::trusted());
    assert_eq!(r.status, 204);
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("https://app.example"));
    assert_eq!(header(&r, "access-control-allow-headers").as_deref(), Some("content-type,connect-protocol-version"));
    assert_eq!(header(&r, "access-control-allow-credentials"), None, "no cookies from any site");
    let any = Options { cors: Cors::Origins(vec!["*".to_owned()]), ..Options::trusted() };
    let r = preflight("/zitadel.user.v2.UserService/ListIDPLinks", &any);
    assert_eq!(header(&r, "access-control-allow-credentials"), None, "nor with \"*\"");
    let r = preflight("/engine-rest/identity/groups", &Options::trusted());
    assert_eq!((r.status, header(&r, "access-control-allow-origin")), (200, None));
    // Chosen origins apply to every route; others get no CORS headers.
    let chosen = Options { cors: Cors::Origins(vec!["https://app.example".to_owned()]), ..Options::trusted() };
    let r = preflight("/engine-rest/identity/groups", &chosen);
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("https://app.example"));
    assert_eq!(header(&r, "access-control-allow-credentials").as_deref(), Some("true"), "listed: credentials");
    let elsewhere = Options { cors: Cors::Origins(vec!["https://other.example".to_owned()]), ..Options::trusted() };
    assert_eq!(
        header(&preflight("/zitadel.user.v2.UserService/ListIDPLinks", &elsewhere), "access-control-allow-origin"),
        None
    );
    // An actual request from an allowed origin carries the headers too.
    let mut request = Request::new("GET", "/engine-rest/identity/groups?userId=u+1", None, Body::Bytes(b""));
    request.cors.origin = Some("https://app.example");
    let r = handle_with(&snapshot(), &request, None, &chosen);
    assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("https://app.example"));
    assert!(header(&r, "access-control-expose-headers").is_some_and(|h| h.contains("Grpc-Status")));
}

#[test]
fn unavailable_answers_each_peers_503_before_its_caller_is_checked() {
    let message = "no snapshot is loaded";
    let answer = |method: &str, url: &str, content_type: Option<&str>, auth: Auth| {
        let options = Options { unavailable: Some(message.to_owned()), auth, ..Options::default() };
        let request = Request::new(method, url, content_type, Body::Bytes(b"{}"));
        let r = handle_with(&snapshot(), &request, None, &options);
        (r.status, String::from_utf8_lossy(&r.body).into_owned())
    };
    let camunda = (503, format!(r#"{{"type":"RestException","message":"{message}","code":null}}"#));
    let gateway = (503, format!(r#"{{"code":14,"message":"{message}"}}"#));
    let connect = (503, format!(r#"{{"code":"unavailable","message":"{message}"}}"#));
    for auth in [Auth::Trusted, Auth::Nobody] {
        assert_eq!(answer("GET", "/engine-rest/task/a%2Fb/identity-links", None, auth), camunda, "{auth:?}");
        assert_eq!(answer("GET", "/identity/groups?userId=u", None, auth), camunda, "{auth:?}");
        assert_eq!(answer("POST", "/v2/users/u%201/links/_search", Some("application/json"), auth), gateway);
        let connect_path = "/zitadel.user.v2.UserService/ListIDPLinks";
        assert_eq!(answer("POST", connect_path, Some("application/json"), auth), connect, "{auth:?}");
    }
    // No route: still 404.
    assert_eq!(answer("GET", "/elsewhere", None, Auth::Trusted).0, 404);
    // The option as handleRequest gives it.
    let value = Value::parse(br#"{"unavailable":"down"}"#).expect("JSON");
    assert_eq!(Options::from_value(Some(&value)).map(|o| o.unavailable), Ok(Some("down".to_owned())));
    let empty = Value::parse(br#"{"unavailable":""}"#).expect("JSON");
    assert!(Options::from_value(Some(&empty)).is_err(), "an empty message is refused");
}
