use super::*;

const SNAPSHOT: &str = r#"{"version":1,"sequence":"7","timestamp":"2025-01-01T00:00:00Z",
  "users":[{"id":"u 1","org":"O"},{"id":"ü"}],"groups":[{"id":"g","name":"G"}],
  "memberships":[{"userId":"u 1","groupId":"g"},{"userId":"ü","groupId":"g"}],
  "tasks":[{"id":"a/b","assignee":"u 1","identityLinks":[{"groupId":"g","type":"candidate"}]}],
  "idpLinks":[{"userId":"u 1","idpId":"i","providedUserId":"p","providedUserName":"n"}]}"#;

fn snapshot() -> Snapshot {
    Snapshot::from_json(SNAPSHOT.as_bytes()).unwrap_or_default()
}

fn call(method: &str, url: &str, body: &str, content_type: Option<&str>) -> (u16, String, Option<&'static str>) {
    let request = Request { method, url, content_type, body: Body::Bytes(body.as_bytes()) };
    let r = handle(&snapshot(), &request, None);
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
        (400, r#"{"code":"invalid_argument","message":"Limit exceeded (QUERY-4M0fs)"}"#)
    );
    let (status, body, _) = call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", r#"{"userId":""}"#, ct);
    assert_eq!(
        (status, body.as_str()),
        (
            400,
            r#"{"code":"invalid_argument","message":"invalid ListIDPLinksRequest.UserId: value length must be between 1 and 200 runes, inclusive"}"#
        )
    );
    assert_eq!(call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", "{}", Some("application/proto")).0, 415);
    assert_eq!(call("POST", "/zitadel.user.v2.UserService/ListIDPLinks", "{}", None).0, 415);
}

#[test]
fn callers_are_checked_over_http() {
    let context = Value::parse(br#"{"caller":{"userId":"x","permissions":["org.read"]}}"#).unwrap_or(Value::Null);
    let request = Request {
        method: "POST",
        url: "/zitadel.user.v2.UserService/ListIDPLinks",
        content_type: Some("application/json"),
        body: Body::Bytes(br#"{"userId":"u 1"}"#),
    };
    let r = handle(&snapshot(), &request, Some(&context));
    assert_eq!(
        (r.status, String::from_utf8_lossy(&r.body).as_ref()),
        (403, r#"{"code":"permission_denied","message":"No matching permissions found (AUTH-AWfge)"}"#)
    );
    let bad = Value::parse(br#"{"caller":{"userId":1}}"#).unwrap_or(Value::Null);
    let r = handle(
        &snapshot(),
        &Request { method: "GET", url: "/task/a%2Fb/identity-links", content_type: None, body: Body::Bytes(b"") },
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
            Some("GET")
        )
    );
    assert_eq!(
        call("GET", "/v2/users/u/links/_search", "", None),
        (405, r#"{"code":12,"message":"Method Not Allowed: use POST"}"#.to_owned(), Some("POST"))
    );
    assert_eq!(call("DELETE", "/zitadel.user.v2.UserService/ListIDPLinks", "", None).0, 405);
    assert_eq!(get("/task/%zz/identity-links").0, 400);
    let big = Request { method: "POST", url: "/v2/users/u/links/_search", content_type: None, body: Body::TooLarge };
    assert_eq!(handle(&snapshot(), &big, None).status, 413);
    let huge = " ".repeat(MAX_BODY + 1);
    assert_eq!(call("POST", "/v2/users/u/links/_search", &huge, None).0, 413);
}
