//! The HTTP layer: the peers' own routes over the core, so that existing clients work unchanged.
//!
//! | route | peer |
//! | --- | --- |
//! | `GET {prefix}[/engine/{name}]/task/{id}/identity-links[?type=]` | Camunda engine-rest (`{prefix}`: empty or `/engine-rest`; `{name}` one of [`Options::engines`]) |
//! | `GET {prefix}[/engine/{name}]/identity/groups?userId=` | Camunda engine-rest |
//! | `POST /v2/users/{userId}/links/_search` | Zitadel REST gateway |
//! | `POST /zitadel.user.v2.UserService/ListIDPLinks` | Zitadel: Connect (JSON and binary), gRPC-web (binary and JSON) |
//!
//! Plain Rust like the rest of the core: the wasm facade only carries a `Request` in and a
//! `Response` out. Every answer has the peer's status and body; an unknown path is 404, a known
//! path with another method 405 (with `Allow`), a body over the limit 413. Camunda's routes answer
//! `HEAD` and `OPTIONS` and match a trailing slash, as JAX-RS does; CORS follows [`Options::cors`].

pub mod auth;
pub mod cors;
pub mod grpc;
pub mod proto;
mod refusal;
pub mod url;

use crate::error::{CamundaError, QueryError, ZitadelError};
use crate::json::Value;
use crate::query::access::RoleMapping;
use crate::query::request::{IdentityLinksRequest, ListIdpLinksRequest, UserGroupsRequest};
use crate::query::{CallContext, Peer, Query};
use crate::snapshot::Snapshot;
use auth::{Access, Denied};
pub use auth::{Auth, Identity};
pub use cors::Cors;
use refusal::Refusal;
use std::borrow::Cow;
use url::Target;

/// The largest request body read by default (1 MiB).
pub const MAX_BODY: usize = 1 << 20;

/// A request's body, or the fact that it was too large to read.
#[derive(Clone, Copy, Debug)]
pub enum Body<'a> {
    /// The bytes (empty for none).
    Bytes(&'a [u8]),
    /// Larger than the limit (by `Content-Length` or by reading); not kept.
    TooLarge,
    /// Not read yet: a route that needs it answers [`Served::Needs`].
    Later,
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
    /// The `Origin`, `Access-Control-Request-Method` and `Access-Control-Request-Headers`
    /// headers, for CORS.
    pub cors: cors::RequestHeaders<'a>,
    /// The caller, as the wrapper established it (with [`Auth::FromRequest`]).
    pub identity: Identity<'a>,
}

impl<'a> Request<'a> {
    /// A request without CORS headers.
    pub fn new(method: &'a str, url: &'a str, content_type: Option<&'a str>, body: Body<'a>) -> Self {
        Request { method, url, content_type, body, cors: cors::RequestHeaders::default(), identity: Identity::Unknown }
    }
}

/// How the handler serves: which Camunda engines, CORS, and the largest body read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The engine names served under `{prefix}/engine/{name}/...` (Camunda's default engine is
    /// `default`); another name is Camunda's 400 "No process engine available".
    pub engines: Vec<String>,
    /// Cross-origin requests.
    pub cors: Cors,
    /// The largest request body read (its reader stops past it, and the answer is 413).
    pub max_body: usize,
    /// Whether the server can send HTTP trailers (HTTP/2): then gRPC is served, with its status
    /// in [`Response::trailers`]. Not an option of `handleRequest`: the package's Node listener
    /// says it in the call's flags (`src/wasm/abi.rs`, "An HTTP request").
    pub trailers: bool,
    /// Who is calling. The default, [`Auth::Nobody`], answers every route with its peer's 401:
    /// full rights only where the caller says so ([`Options::trusted`]).
    pub auth: Auth,
    /// Zitadel's role → permission mapping for callers verified from a token
    /// (`auth.zitadel.rolePermissions`); `None`: Zitadel's defaults
    /// ([`crate::query::access::USER_READ_ROLES`]). Given, it replaces them whole, as
    /// `InternalAuthZ.RolePermissionMappings` does in Zitadel's configuration.
    pub role_permissions: Option<Vec<RoleMapping>>,
    /// When set, every route answers its peer's 503 with this message, before its caller is
    /// checked and without reading the snapshot: for a deployment that has no good snapshot to
    /// answer from (the worker example on a cold isolate whose base is absent or damaged). A
    /// route-less path is still 404 and a CORS preflight still answered.
    pub unavailable: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            engines: vec!["default".to_owned()],
            cors: Cors::Peers,
            max_body: MAX_BODY,
            trailers: false,
            auth: Auth::Nobody,
            role_permissions: None,
            unavailable: None,
        }
    }
}

impl Options {
    /// The defaults with [`Auth::Trusted`]: every request with full rights (or as the context's
    /// caller), for a handler behind the user's own gateway.
    pub fn trusted() -> Options {
        Options { auth: Auth::Trusted, ..Options::default() }
    }

    /// The options of `handleRequest` from their JSON form: `{ engines?: string[], cors?:
    /// The options of `handleRequest` from their JSON form: `{ engines?: string[], cors?:
    /// "peers" | false | "*" | string[], maxBodyBytes?: number, unavailable?: string }`, and from
    /// the wrapper, which takes `auth` apart (its mode travels in the call's flags), `auth: {
    /// zitadel: { rolePermissions: { [role]: string[] } } }`.
    ///
    /// # Errors
    /// A message naming the option and what it must be.
    pub fn from_value(value: Option<&Value>) -> Result<Options, String> {
        let mut options = Options::default();
        let Some(value) = value else { return Ok(options) };
        let Value::Object(members) = value else {
            return Err(format!("options: expected an object, found {}", value.described()));
        };
        let strings = |v: &Value, what: &str| {
            let mut list = Vec::new();
            if let Value::Array(items) = v {
                for item in items {
                    match item {
                        Value::String(s) => list.push(s.clone()),
                        _ => return Err(format!("{what}: expected an array of strings")),
                    }
                }
                return Ok(list);
            }
            Err(format!("{what}: expected an array of strings, found {}", v.described()))
        };
        for (key, v) in members {
            match key.as_str() {
                "engines" => options.engines = strings(v, "options.engines")?,
                "cors" => {
                    options.cors = match v {
                        Value::String(s) if s == "peers" => Cors::Peers,
                        Value::String(s) if s == "*" => Cors::Origins(vec!["*".to_owned()]),
                        Value::Bool(false) => Cors::Off,
                        Value::Array(_) => Cors::Origins(strings(v, "options.cors")?),
                        other => {
                            return Err(format!(
                                "options.cors: expected \"peers\", false, \"*\" or an array of origins, found {}",
                                other.described()
                            ))
                        }
                    }
                }
                "maxBodyBytes" => {
                    let n = match v {
                        Value::Number(n) => identity_links_text::number::parse_uint(n, u64::from(u32::MAX)).ok(),
                        _ => None,
                    };
                    options.max_body =
                        n.ok_or_else(|| "options.maxBodyBytes: expected a whole number of bytes".to_owned())? as usize;
                }
                "auth" => options.role_permissions = role_permissions(v)?,
                "unavailable" => match v {
                    Value::String(message) if !message.is_empty() => options.unavailable = Some(message.clone()),
                    other => {
                        return Err(format!(
                            "options.unavailable: expected the message of the 503 (a non-empty string), found {}",
                            other.described()
                        ))
                    }
                },
                other => {
                    return Err(format!("options.{other}: unknown option (engines, cors, maxBodyBytes, unavailable)"))
                }
            }
        }
        Ok(options)
    }
}

/// `auth: { zitadel: { rolePermissions } }` as the wrapper passes it: the mapping, if given.
fn role_permissions(auth: &Value) -> Result<Option<Vec<RoleMapping>>, String> {
    const AT: &str = "options.auth.zitadel.rolePermissions";
    let Value::Object(auth) = auth else {
        return Err(format!("options.auth: expected an object, found {}", auth.described()));
    };
    let mut mapping = None;
    for (key, zitadel) in auth {
        let Value::Object(zitadel) = zitadel else {
            return Err(format!("options.auth.{key}: expected an object, found {}", zitadel.described()));
        };
        if key != "zitadel" {
            return Err(format!("options.auth.{key}: unknown option here (zitadel)"));
        }
        for (key, roles) in zitadel {
            if key != "rolePermissions" {
                return Err(format!("options.auth.zitadel.{key}: unknown option here (rolePermissions)"));
            }
            let Value::Object(roles) = roles else {
                return Err(format!(
                    "{AT}: expected an object of roles to arrays of permissions, found {}",
                    roles.described()
                ));
            };
            let mut list = Vec::with_capacity(roles.len());
            for (role, permissions) in roles {
                let strings = match permissions {
                    Value::Array(items) => items
                        .iter()
                        .map(|p| match p {
                            Value::String(p) => Some(p.clone()),
                            _ => None,
                        })
                        .collect::<Option<Vec<String>>>(),
                    _ => None,
                };
                let permissions = strings.ok_or_else(|| {
                    format!("{AT}.{role}: expected an array of permission strings, found {}", permissions.described())
                })?;
                list.push(RoleMapping { role: role.clone(), permissions });
            }
            mapping = Some(list);
        }
    }
    Ok(mapping)
}

/// The answer: status, headers and body (and trailers, which only gRPC over HTTP/2 has).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type` (`None`: no body at all, as JAX-RS answers `OPTIONS`).
    pub content_type: Option<&'static str>,
    /// The body.
    pub body: Vec<u8>,
    /// `Allow` header value, for 405 and `OPTIONS`.
    pub allow: Option<&'static str>,
    /// Other headers (gRPC status, CORS), in order.
    pub headers: Vec<(&'static str, String)>,
    /// HTTP trailers, after the body: gRPC's status, when [`Options::trailers`] says they can
    /// be sent.
    pub trailers: Vec<(&'static str, String)>,
}

impl Response {
    /// An answer with no other headers.
    pub fn new(status: u16, content_type: Option<&'static str>, body: Vec<u8>) -> Response {
        Response { status, content_type, body, allow: None, headers: Vec::new(), trailers: Vec::new() }
    }

    /// A JSON answer.
    fn json(status: u16, body: Vec<u8>) -> Response {
        Response::new(status, Some("application/json"), body)
    }
}

/// How a route's requests arrive: the wire its clients speak.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Transport {
    /// Camunda engine-rest (JAX-RS): `GET` with the request in the path and the query string;
    /// JAX-RS answers `HEAD` and `OPTIONS` too.
    CamundaRest,
    /// Zitadel's REST gateway (grpc-gateway): `POST` with a protojson body.
    ZitadelGateway,
    /// connect-go's handler: `POST` in Connect (JSON, binary), gRPC-web or gRPC, by content type.
    Connect,
}

impl Transport {
    /// The one method the transport's routes serve (`HEAD`, `OPTIONS` aside).
    fn method(self) -> &'static str {
        match self {
            Transport::CamundaRest => "GET",
            Transport::ZitadelGateway | Transport::Connect => "POST",
        }
    }
}

/// The shape of an error body: engine-rest's `ExceptionDto`, the REST gateway's status, or
/// Connect's error (gRPC-web and gRPC carry the same code and message in their status).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Camunda,
    Gateway,
    Connect,
}

impl Format {
    /// The error format of a query of `peer` on `transport`: Connect's envelope on Connect's
    /// path, whichever the peer; elsewhere the peer's own body.
    fn of(peer: Peer, transport: Transport) -> Format {
        match (transport, peer) {
            (Transport::Connect, Peer::Camunda | Peer::Zitadel) => Format::Connect,
            (Transport::CamundaRest | Transport::ZitadelGateway, Peer::Camunda) => Format::Camunda,
            (Transport::CamundaRest | Transport::ZitadelGateway, Peer::Zitadel) => Format::Gateway,
        }
    }
}

/// A matched route: the query it answers, the transport it arrives by, and what the path says.
struct Route<'a> {
    query: Query,
    transport: Transport,
    /// The id in the path (the task's, the user's), where the path has one.
    id: Option<&'a str>,
    /// A Camunda path naming an engine this handler does not serve (Camunda's 400).
    unknown_engine: bool,
    /// The engine a Camunda path names (`/engine/{name}/...`), if it names one.
    engine: Option<&'a str>,
}

impl Route<'_> {
    /// The format of this route's errors, from its query's peer and its transport.
    fn format(&self) -> Format {
        Format::of(self.query.peer(), self.transport)
    }
}

/// Matches decoded path segments against the routes: Camunda's with or without `/engine-rest`,
/// with or without `/engine/{name}`, a trailing slash matched as JAX-RS matches it.
fn route<'a>(segments: &'a [Cow<'a, str>], engines: &[String]) -> Option<Route<'a>> {
    // The segments as `&str`s, for the slice patterns below: no route has more than 7.
    let mut all = [""; 8];
    if segments.len() > all.len() {
        return None;
    }
    for (slot, segment) in all.iter_mut().zip(segments) {
        *slot = segment;
    }
    let s = &all[..segments.len()];
    let camunda = s.strip_prefix(&["engine-rest"]).unwrap_or(s);
    let camunda = camunda.strip_suffix(&[""]).unwrap_or(camunda);
    let (engine, camunda) = match camunda {
        ["engine", name, rest @ ..] => (Some(*name), rest),
        _ => (None, camunda),
    };
    let unknown_engine = engine.is_some_and(|name| !engines.iter().any(|e| e == name));
    // The route table: one arm per path, each naming its query and transport (Camunda's paths
    // after the prefixes first). `at` makes the route (this form is the smallest in wasm).
    let at = |query, transport, id: Option<&'a str>| {
        let unknown_engine = unknown_engine && transport == Transport::CamundaRest;
        let engine = if transport == Transport::CamundaRest { engine } else { None };
        Some(Route { query, transport, id, unknown_engine, engine })
    };
    match camunda {
        ["task", id, "identity-links"] if !id.is_empty() => {
            return at(Query::IdentityLinks, Transport::CamundaRest, Some(id))
        }
        ["identity", "groups"] => return at(Query::UserGroups, Transport::CamundaRest, None),
        _ => {}
    }
    match s {
        ["v2", "users", id, "links", "_search"] if !id.is_empty() => {
            at(Query::ListIdpLinks, Transport::ZitadelGateway, Some(id))
        }
        ["zitadel.user.v2.UserService", "ListIDPLinks"] => at(Query::ListIdpLinks, Transport::Connect, None),
        _ => None,
    }
}

/// A query error in `format` (Connect's own on Connect's path).
fn query_error(format: Format, error: &QueryError) -> Response {
    let mut body = Vec::new();
    match (format, error) {
        (Format::Connect, QueryError::Zitadel(z)) => grpc::write_connect_error(z, &mut body),
        (
            Format::Connect,
            QueryError::Camunda(_) | QueryError::Snapshot(_) | QueryError::Usage(_) | QueryError::Delta(_),
        )
        | (Format::Camunda | Format::Gateway, _) => error.write_body(&mut body),
    }
    Response::json(error.status(), body)
}

/// Whether the raw path looks like one of Camunda's routes (for a URL that cannot be decoded).
fn looks_camunda(url: &str) -> bool {
    let path = url::target(url);
    ["/engine-rest", "/task/", "/identity/", "/engine/"].iter().any(|p| path.starts_with(p))
}

/// Answers one request with [`Options::trusted`]: full rights, or as the context's caller;
/// never fails (every failure is an error response).
pub fn handle_trusted(snapshot: &Snapshot, request: &Request<'_>, context: Option<&Value>) -> Response {
    handle_with(snapshot, request, context, &Options::trusted())
}

/// What the handler needs before it can answer: the wrapper reads the body, establishes the
/// caller, or both, and asks again with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// The body ([`Body::Later`] was given).
    pub body: bool,
    /// The caller of this peer's route ([`Identity::Unknown`] was given).
    pub identity: Option<Peer>,
}

/// An answer, or what it needs first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Served {
    /// The answer.
    Answer(Response),
    /// What the handler needs first.
    Needs(Needs),
}

/// [`serve`] for a request whose body and caller are given (or not needed): the answer. A
/// request that still needs either (with [`Body::Later`], or [`Auth::FromRequest`] and no
/// identity) is answered 500, naming what it needs: call [`serve`] for those.
pub fn handle_with(snapshot: &Snapshot, request: &Request<'_>, context: Option<&Value>, options: &Options) -> Response {
    match serve(snapshot, request, context, options) {
        Served::Answer(response) => response,
        Served::Needs(needs) => {
            let mut body = Vec::new();
            let message = format!("the handler needs {needs:?} of the request: call http::serve");
            crate::error::write_exception(&mut body, "RestException", &message, None);
            Response::json(500, body)
        }
    }
}

/// Serves one request with `options`: its answer, or what it needs first (the body, the
/// caller). Never fails: every failure is an error response.
pub fn serve(snapshot: &Snapshot, request: &Request<'_>, context: Option<&Value>, options: &Options) -> Served {
    // Before a route is matched there is no query: the path's look decides the format.
    let Ok(target) = Target::parse(request.url) else {
        let format = if looks_camunda(request.url) { Format::Camunda } else { Format::Gateway };
        return Served::Answer(Refusal::BadEscape.response(format));
    };
    let Some(route) = route(&target.segments, &options.engines) else {
        let camunda = target.segments.first().is_some_and(|s| s == "engine-rest");
        return Served::Answer(Refusal::NotFound.response(if camunda { Format::Camunda } else { Format::Gateway }));
    };
    let policy = options.cors.for_peer(route.query.peer() == Peer::Camunda);
    if let Some(preflight) = cors::preflight(&policy, &request.cors, request.method) {
        return Served::Answer(preflight);
    }
    if let Some(message) = &options.unavailable {
        let mut response = Refusal::Unavailable { message: message.clone() }.response(route.format());
        cors::decorate(&policy, &request.cors, &mut response);
        return Served::Answer(response);
    }
    let access = match options.auth {
        Auth::Trusted => match CallContext::from_value(context) {
            Ok(context) => Access::Granted(context),
            Err(e) => Access::Refused(match e.for_query(route.query) {
                QueryError::Zitadel(z) => Denied::Zitadel(z),
                other => Denied::Answer(query_error(route.format(), &other)),
            }),
        },
        auth => auth::access(
            snapshot,
            auth,
            request.identity,
            route.query.peer(),
            route.engine.unwrap_or("default"),
            options.role_permissions.as_deref(),
        ),
    };
    let call = Call { snapshot, request, route: &route, target: &target, access };
    let mut served = answer(&call, options);
    if let Served::Answer(response) = &mut served {
        cors::decorate(&policy, &request.cors, response);
    }
    served
}

/// A request matched to a route: what answering it needs.
struct Call<'a> {
    snapshot: &'a Snapshot,
    request: &'a Request<'a>,
    route: &'a Route<'a>,
    target: &'a Target<'a>,
    /// Whether, and as whom, the request is answered.
    access: Access,
}

/// The answer of a matched route, before CORS.
fn answer(call: &Call, options: &Options) -> Served {
    let Call { request, route, .. } = *call;
    let (format, method, served) = (route.format(), request.method, route.transport.method());
    let jax_rs = route.transport == Transport::CamundaRest;
    if jax_rs && options.auth != Auth::Trusted {
        // Camunda's authentication filter runs before JAX-RS: an unknown engine, then the
        // caller, before any route's own answer (OPTIONS included).
        if route.unknown_engine {
            return Served::Answer(auth::camunda_unknown_engine(route.engine.unwrap_or("default")));
        }
        match &call.access {
            Access::Ask => return Served::Needs(Needs { body: false, identity: Some(Peer::Camunda) }),
            Access::Refused(Denied::Answer(response)) => return Served::Answer(response.clone()),
            Access::Refused(Denied::Zitadel(error)) => {
                return Served::Answer(query_error(format, &error.clone().into()))
            }
            Access::Granted(_) => {}
        }
    }
    let head = jax_rs && method.eq_ignore_ascii_case("HEAD");
    if jax_rs && method.eq_ignore_ascii_case("OPTIONS") {
        // JAX-RS answers OPTIONS itself: the resource's methods, no body.
        return Served::Answer(Response { allow: Some("GET,HEAD,OPTIONS"), ..Response::new(200, None, Vec::new()) });
    }
    if !method.eq_ignore_ascii_case(served) && !head {
        return Served::Answer(Refusal::MethodNotAllowed { method: served }.response(format));
    }
    let mut served = match route.transport {
        Transport::Connect => connect_route(call, options),
        Transport::CamundaRest | Transport::ZitadelGateway => json_route(call),
    };
    if let (true, Served::Answer(response)) = (head, &mut served) {
        response.body.clear(); // HEAD: GET's status and headers, no body
    }
    served
}

/// Connect's path: the protocol by content type, then the query in it.
fn connect_route(call: &Call, options: &Options) -> Served {
    let Call { snapshot, request, route, .. } = *call;
    if let Access::Refused(Denied::Answer(response)) = &call.access {
        return Served::Answer(response.clone());
    }
    let Some(protocol) = grpc::Protocol::of(request.content_type) else {
        let content_type = request.content_type.unwrap_or("").to_owned();
        return Served::Answer(Refusal::UnsupportedMediaType { content_type }.response(route.format()));
    };
    match route.query {
        Query::ListIdpLinks => grpc::serve(snapshot, request, &call.access, protocol, options.trailers),
        // Camunda has no Connect service: `route` gives its queries no Connect path.
        Query::IdentityLinks | Query::UserGroups => Served::Answer(Refusal::NotFound.response(route.format())),
    }
}

/// The routes that answer JSON: Camunda's and the REST gateway's. A Zitadel request is read
/// before its caller is checked (grpc-gateway decodes the body before Zitadel's interceptors).
fn json_route(call: &Call) -> Served {
    let Call { snapshot, request, route, target, .. } = *call;
    let format = route.format();
    let context = match &call.access {
        Access::Granted(context) => Some(context),
        // A malformed context of a trusted call: refused first, as before any reading.
        Access::Refused(Denied::Answer(response)) => return Served::Answer(response.clone()),
        Access::Refused(Denied::Zitadel(ZitadelError::InvalidArgument { message })) => {
            return Served::Answer(query_error(
                format,
                &ZitadelError::InvalidArgument { message: message.clone() }.into(),
            ))
        }
        Access::Ask | Access::Refused(Denied::Zitadel(_)) => None,
    };
    if route.unknown_engine {
        // AbstractRestProcessEngineAware.getProcessEngine (engine-rest): 400 for an engine
        // name that names no engine.
        let error = CamundaError::InvalidRequest { message: "No process engine available".into() };
        return Served::Answer(query_error(format, &error.into()));
    }
    // Most answers are a few hundred bytes: room for them at once, not by doubling.
    let mut out = Vec::with_capacity(1024);
    let result = match (route.query, context) {
        (Query::IdentityLinks, Some(context)) => {
            let task_id = route.id.unwrap_or_default().into();
            let request = IdentityLinksRequest { task_id, kind: target.param("type").map(Into::into) };
            snapshot.identity_links(&request, context, &mut out).map_err(QueryError::from)
        }
        (Query::UserGroups, Some(context)) => {
            let request = UserGroupsRequest { user_id: target.param("userId").map(Into::into) };
            snapshot.user_groups(&request, context, &mut out).map_err(QueryError::from)
        }
        (Query::ListIdpLinks, _) => {
            let asked = matches!(call.access, Access::Ask).then_some(Peer::Zitadel);
            let parsed = match zitadel_request(request, route.id.map(str::to_owned), format) {
                Ok(Some(parsed)) => parsed,
                Ok(None) => return Served::Needs(Needs { body: true, identity: asked }),
                Err(response) => return Served::Answer(response),
            };
            match (&call.access, context) {
                (_, Some(context)) => snapshot.list_idp_links(&parsed, context, &mut out).map_err(QueryError::from),
                (Access::Refused(Denied::Zitadel(error)), None) => return Served::Answer(auth::gateway_refusal(error)),
                _ => return Served::Needs(Needs { body: false, identity: asked }),
            }
        }
        // A Camunda query without a context: its caller was asked for or refused above.
        (Query::IdentityLinks | Query::UserGroups, None) => {
            return Served::Needs(Needs { body: false, identity: Some(Peer::Camunda) })
        }
    };
    Served::Answer(match result {
        Ok(()) => Response::json(200, out),
        Err(e) => query_error(format, &e),
    })
}

/// The request body (`None`: not read yet), or the route's 413.
fn body_bytes<'a>(request: &Request<'a>, format: Format) -> Result<Option<&'a [u8]>, Response> {
    match request.body {
        Body::Bytes(b) => Ok(Some(b)),
        Body::Later => Ok(None),
        Body::TooLarge => Err(Refusal::TooLarge.response(format)),
    }
}

/// The `ListIDPLinksRequest` of a Zitadel JSON route: the JSON body (the whole message on the
/// Connect route; `{ query }` on the REST route, whose user id comes from the path and wins).
fn zitadel_request(
    request: &Request<'_>,
    path_user: Option<String>,
    format: Format,
) -> Result<Option<ListIdpLinksRequest<'static>>, Response> {
    let Some(bytes) = body_bytes(request, format)? else { return Ok(None) };
    zitadel_json(bytes, path_user).map(Some).map_err(|e| query_error(format, &e.into()))
}

/// A `ListIDPLinksRequest` from protojson text.
fn zitadel_json(bytes: &[u8], path_user: Option<String>) -> Result<ListIdpLinksRequest<'static>, ZitadelError> {
    let invalid = |message: String| ZitadelError::InvalidArgument { message };
    let mut message = if bytes.iter().all(u8::is_ascii_whitespace) {
        // grpc-gateway reads an empty body as an empty message.
        Value::Object(Vec::new())
    } else {
        Value::parse(bytes)
            .map_err(|e| invalid(format!("proto: syntax error (line {}:{}): {}", e.line, e.column, e.what)))?
    };
    if let (Some(user), Value::Object(members)) = (path_user, &mut message) {
        members.retain(|(k, _)| k != "userId" && k != "user_id");
        members.push(("userId".to_owned(), Value::String(user)));
    }
    ListIdpLinksRequest::from_value(&message)
}

mod tests;
