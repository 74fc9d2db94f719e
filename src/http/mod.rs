//! The HTTP layer: the peers' own routes over the core, so that existing clients work unchanged.
//!
//! | route | peer |
//! | --- | --- |
//! | `GET {prefix}/task/{id}/identity-links[?type=]` | Camunda engine-rest (`{prefix}`: empty or `/engine-rest`) |
//! | `GET {prefix}/identity/groups?userId=` | Camunda engine-rest |
//! | `POST /v2/users/{userId}/links/_search` | Zitadel REST gateway |
//! | `POST /zitadel.user.v2.UserService/ListIDPLinks` | Zitadel Connect protocol, JSON codec |
//!
//! Plain Rust like the rest of the core: the wasm facade only carries a `Request` in and a
//! `Response` out. Every answer is JSON with the peer's status and body; an unknown path is 404,
//! a known path with another method 405 (with `Allow`), a body over 1 MiB 413.

pub mod url;

use crate::error::{CamundaError, QueryError, ZitadelError};
use crate::json::Value;
use crate::query::request::{IdentityLinksRequest, ListIdpLinksRequest, UserGroupsRequest};
use crate::query::CallContext;
use crate::snapshot::Snapshot;
use url::Target;

/// The largest request body read (1 MiB).
pub const MAX_BODY: usize = 1 << 20;

/// A request's body, or the fact that it was too large to read.
#[derive(Clone, Copy, Debug)]
pub enum Body<'a> {
    /// The bytes (empty for none).
    Bytes(&'a [u8]),
    /// Larger than [`MAX_BODY`] (by `Content-Length` or by reading); not kept.
    TooLarge,
}

/// What the handler needs of an HTTP request.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `GET`, `POST`, ...
    pub method: &'a str,
    /// The absolute URL (as `Request.url` gives it) or an origin-form target (`/path?query`).
    pub url: &'a str,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: Body<'a>,
}

/// The answer: status, JSON body, and the methods to list in `Allow` for a 405.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: Vec<u8>,
    /// `Allow` header value, for 405.
    pub allow: Option<&'static str>,
}

/// Which peer a path belongs to, which decides the shape of error bodies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Peer {
    Camunda,
    Gateway,
    Connect,
}

/// A matched route.
enum Route {
    IdentityLinks { task_id: String },
    UserGroups,
    IdpLinksRest { user_id: String },
    IdpLinksConnect,
}

impl Route {
    fn method(&self) -> &'static str {
        match self {
            Route::IdentityLinks { .. } | Route::UserGroups => "GET",
            Route::IdpLinksRest { .. } | Route::IdpLinksConnect => "POST",
        }
    }

    fn peer(&self) -> Peer {
        match self {
            Route::IdentityLinks { .. } | Route::UserGroups => Peer::Camunda,
            Route::IdpLinksRest { .. } => Peer::Gateway,
            Route::IdpLinksConnect => Peer::Connect,
        }
    }
}

/// Matches decoded path segments against the routes.
fn route(segments: &[String]) -> Option<Route> {
    let s: Vec<&str> = segments.iter().map(String::as_str).collect();
    let camunda = s.strip_prefix(&["engine-rest"]).unwrap_or(&s);
    match camunda {
        ["task", id, "identity-links"] if !id.is_empty() => {
            return Some(Route::IdentityLinks { task_id: (*id).to_owned() })
        }
        ["identity", "groups"] => return Some(Route::UserGroups),
        _ => {}
    }
    match s.as_slice() {
        ["v2", "users", id, "links", "_search"] if !id.is_empty() => {
            Some(Route::IdpLinksRest { user_id: (*id).to_owned() })
        }
        ["zitadel.user.v2.UserService", "ListIDPLinks"] => Some(Route::IdpLinksConnect),
        _ => None,
    }
}

/// An error answer in the peer's format, for failures outside the queries themselves.
fn fail(peer: Peer, status: u16, message: &str, allow: Option<&'static str>) -> Response {
    let mut body = Vec::new();
    match peer {
        Peer::Camunda => {
            let kind = match status {
                404 => "NotFoundException",
                405 => "NotAllowedException",
                413 => "RestException",
                _ => "InvalidRequestException",
            };
            CamundaJson { kind, message }.write(&mut body);
        }
        Peer::Gateway => {
            let code = match status {
                404 => 5,
                405 => 12,
                413 => 8,
                _ => 3,
            };
            body.extend_from_slice(br#"{"code":"#);
            crate::json::writer::write_u64(&mut body, code);
            body.extend_from_slice(br#","message":"#);
            crate::json::writer::write_str(&mut body, message);
            body.push(b'}');
        }
        Peer::Connect => {
            let code = match status {
                404 | 405 | 415 => "unimplemented",
                413 => "resource_exhausted",
                _ => "invalid_argument",
            };
            body.extend_from_slice(br#"{"code":"#);
            crate::json::writer::write_str(&mut body, code);
            body.extend_from_slice(br#","message":"#);
            crate::json::writer::write_str(&mut body, message);
            body.push(b'}');
        }
    }
    Response { status, body, allow }
}

/// `{"type":..,"message":..,"code":null}`, Camunda's `ExceptionDto` for JAX-RS errors.
struct CamundaJson<'a> {
    kind: &'a str,
    message: &'a str,
}

impl CamundaJson<'_> {
    fn write(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"type":"#);
        crate::json::writer::write_str(out, self.kind);
        out.extend_from_slice(br#","message":"#);
        crate::json::writer::write_str(out, self.message);
        out.extend_from_slice(br#","code":null}"#);
    }
}

/// A query error as the route's peer writes it (Connect's own format on the Connect route).
fn query_error(peer: Peer, error: &QueryError) -> Response {
    let mut body = Vec::new();
    match (peer, error) {
        (Peer::Connect, QueryError::Zitadel(z)) => z.write_connect_body(&mut body),
        _ => error.write_body(&mut body),
    }
    Response { status: error.status(), body, allow: None }
}

/// Answers one request; never fails (every failure is an error response).
pub fn handle(snapshot: &Snapshot, request: &Request<'_>, context: Option<&Value>) -> Response {
    let Ok(target) = Target::parse(request.url) else {
        return fail(Peer::Gateway, 400, "malformed percent-encoding in the URL", None);
    };
    let Some(route) = route(&target.segments) else {
        let peer =
            if target.segments.first().is_some_and(|s| s == "engine-rest") { Peer::Camunda } else { Peer::Gateway };
        let message = if peer == Peer::Camunda { "HTTP 404 Not Found" } else { "Not Found" };
        return fail(peer, 404, message, None);
    };
    let peer = route.peer();
    if !request.method.eq_ignore_ascii_case(route.method()) {
        let message = if peer == Peer::Camunda {
            "HTTP 405 Method Not Allowed".to_owned()
        } else {
            format!("Method Not Allowed: use {}", route.method())
        };
        return fail(peer, 405, &message, Some(route.method()));
    }
    let context = match CallContext::from_value(context) {
        Ok(c) => c,
        Err(e) => {
            let error: QueryError = match peer {
                Peer::Camunda => CamundaError::InvalidRequest { message: e.0 }.into(),
                _ => ZitadelError::InvalidArgument { message: e.0 }.into(),
            };
            return query_error(peer, &error);
        }
    };
    let mut out = Vec::new();
    let result = match route {
        Route::IdentityLinks { task_id } => {
            let request = IdentityLinksRequest { task_id: task_id.into(), kind: target.param("type").map(Into::into) };
            snapshot.identity_links(&request, &context, &mut out).map_err(QueryError::from)
        }
        Route::UserGroups => {
            let request = UserGroupsRequest { user_id: target.param("userId").map(Into::into) };
            snapshot.user_groups(&request, &context, &mut out).map_err(QueryError::from)
        }
        Route::IdpLinksRest { user_id } => match zitadel_request(request, Some(user_id), peer) {
            Ok(r) => snapshot.list_idp_links(&r, &context, &mut out).map_err(QueryError::from),
            Err(response) => return response,
        },
        Route::IdpLinksConnect => match zitadel_request(request, None, peer) {
            Ok(r) => snapshot.list_idp_links(&r, &context, &mut out).map_err(QueryError::from),
            Err(response) => return response,
        },
    };
    match result {
        Ok(()) => Response { status: 200, body: out, allow: None },
        Err(e) => query_error(peer, &e),
    }
}

/// The `ListIDPLinksRequest` of a Zitadel route: the JSON body (the whole message on the Connect
/// route; `{ query }` on the REST route, whose user id comes from the path and wins).
fn zitadel_request(
    request: &Request<'_>,
    path_user: Option<String>,
    peer: Peer,
) -> Result<ListIdpLinksRequest<'static>, Response> {
    if peer == Peer::Connect {
        let media = request.content_type.and_then(|t| t.split(';').next()).map(str::trim);
        if !media.is_some_and(|m| m.eq_ignore_ascii_case("application/json")) {
            let message = format!(
                "unsupported content-type {}: this server speaks Connect's JSON codec (application/json)",
                crate::json::writer::quote(request.content_type.unwrap_or(""))
            );
            return Err(fail(peer, 415, &message, None));
        }
    }
    let bytes = match request.body {
        Body::Bytes(b) if b.len() <= MAX_BODY => b,
        _ => return Err(fail(peer, 413, "request body larger than 1 MiB", None)),
    };
    let invalid = |message: String| query_error(peer, &ZitadelError::InvalidArgument { message }.into());
    let mut message = if bytes.iter().all(u8::is_ascii_whitespace) {
        // grpc-gateway reads an empty body as an empty message.
        Value::Object(Vec::new())
    } else {
        Value::parse(bytes)
            .map_err(|e| invalid(format!("proto: syntax error (line {}:{}): {}", e.line, e.column, e.what)))?
    };
    if let (Some(user), Value::Object(members)) = (path_user, &mut message) {
        members.retain(|(k, _)| k != "userId");
        members.push(("userId".to_owned(), Value::String(user)));
    }
    ListIdpLinksRequest::from_value(&message).map_err(|e| query_error(peer, &e.into()))
}

#[cfg(test)]
mod tests;
