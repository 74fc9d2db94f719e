//! CORS, as the peers answer it: Zitadel allows every origin on its API (its `CORSInterceptor`,
//! `internal/api/http/middleware/cors_interceptor.go`: rs/cors, any origin echoed, the methods and
//! headers below); Camunda's engine-rest has no CORS unless its deployment adds a filter.
//! [`Cors`] chooses.
//!
//! One deliberate difference: Zitadel also allows credentials (`AllowCredentials: true`) for any
//! origin. A replica behind a cookie gate would then be readable by every site its users visit,
//! so credentials are allowed only for origins the deployment lists (`cors: [origins]`); with
//! the default and with `"*"`, any origin may call with a bearer token (which needs no
//! credentials mode), none with cookies.

use super::Response;

/// Which cross-origin requests are allowed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Cors {
    /// As the peers do by default: any origin on Zitadel's routes, none on Camunda's.
    #[default]
    Peers,
    /// No CORS headers on any route.
    Off,
    /// These origins on every route (`*`: any origin).
    Origins(Vec<String>),
}

/// The request headers CORS reads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestHeaders<'a> {
    /// `Origin`.
    pub origin: Option<&'a str>,
    /// `Access-Control-Request-Method` (a preflight's).
    pub method: Option<&'a str>,
    /// `Access-Control-Request-Headers` (a preflight's).
    pub headers: Option<&'a str>,
}

/// The CORS policy of one route.
pub struct Policy<'a> {
    origins: Option<&'a [String]>,
    /// Whether credentials (cookies) are allowed: only for origins the deployment listed.
    credentials: bool,
}

/// Zitadel's allowed methods and headers, and the headers it exposes (rs/cors writes them
/// canonicalized).
const METHODS: [&str; 7] = ["OPTIONS", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const HEADERS: [&str; 12] = [
    "origin",
    "content-type",
    "accept",
    "accept-language",
    "authorization",
    "x-zitadel-orgid",
    "x-user-agent",
    "x-grpc-web",
    "x-requested-with",
    "connect-protocol-version",
    "connect-timeout-ms",
    "grpc-timeout",
];
const EXPOSED: &str = "Location, Content-Length, Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin";
/// Any origin.
const ANY: &[String] = &[];

impl Cors {
    /// The policy of a Camunda route (`camunda`) or a Zitadel one.
    pub fn for_peer(&self, camunda: bool) -> Policy<'_> {
        let origins = match self {
            Cors::Peers if camunda => None,
            Cors::Peers => Some(ANY),
            Cors::Off => None,
            Cors::Origins(list) if list.iter().any(|o| o == "*") => Some(ANY),
            Cors::Origins(list) => Some(list.as_slice()),
        };
        let credentials = matches!(origins, Some(list) if !list.is_empty());
        Policy { origins, credentials }
    }
}

impl Policy<'_> {
    /// The origin, if the request has one and it is allowed.
    fn allowed<'r>(&self, headers: &RequestHeaders<'r>) -> Option<&'r str> {
        let origins = self.origins?;
        let origin = headers.origin?;
        (origins.is_empty() || origins.iter().any(|o| o.eq_ignore_ascii_case(origin))).then_some(origin)
    }
}

/// The answer to a CORS preflight (`OPTIONS` with `Origin` and `Access-Control-Request-Method`),
/// or `None` when this is no preflight the route's policy answers.
pub fn preflight(policy: &Policy, headers: &RequestHeaders, method: &str) -> Option<Response> {
    policy.origins?;
    let requested = headers.method?;
    if !method.eq_ignore_ascii_case("OPTIONS") || headers.origin.is_none() {
        return None;
    }
    let mut response = Response::new(204, None, Vec::new());
    response.headers.push(("vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers".to_owned()));
    let method_ok = METHODS.iter().any(|m| m.eq_ignore_ascii_case(requested.trim()));
    let asked = headers.headers.unwrap_or("");
    let headers_ok = asked.split(',').all(|h| {
        let h = h.trim();
        h.is_empty() || HEADERS.iter().any(|a| a.eq_ignore_ascii_case(h))
    });
    if let (Some(origin), true, true) = (policy.allowed(headers), method_ok, headers_ok) {
        response.headers.push(("access-control-allow-origin", origin.to_owned()));
        if policy.credentials {
            response.headers.push(("access-control-allow-credentials", "true".to_owned()));
        }
        response.headers.push(("access-control-allow-methods", requested.trim().to_owned())); // browsers send it upper-case
        if !asked.trim().is_empty() {
            // The requested headers, as asked (all of them are allowed).
            response.headers.push(("access-control-allow-headers", asked.trim().to_owned()));
        }
    }
    Some(response)
}

/// Adds the CORS headers of an actual (not preflight) request from an allowed origin.
pub fn decorate(policy: &Policy, headers: &RequestHeaders, response: &mut Response) {
    if policy.origins.is_none() {
        return;
    }
    response.headers.push(("vary", "Origin".to_owned()));
    if let Some(origin) = policy.allowed(headers) {
        response.headers.push(("access-control-allow-origin", origin.to_owned()));
        if policy.credentials {
            response.headers.push(("access-control-allow-credentials", "true".to_owned()));
        }
        response.headers.push(("access-control-expose-headers", EXPOSED.to_owned()));
    }
}
