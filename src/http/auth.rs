//! Who is calling: the handler's `auth` mode, the caller the wrapper established from the
//! request, and the peers' answers when there is none (SEMANTICS.md section 5).
//!
//! Verifying credentials is I/O (a key set, an introspection endpoint, the user's own verifier),
//! so the package's wrapper does it and hands the module its outcome ([`Identity`]); the module
//! decides when a route needs one, and answers every refusal in the route's protocol.

use super::Response;
use crate::error::ZitadelError;
use crate::query::access::RoleMapping;
use crate::query::{CallContext, Peer};
use crate::snapshot::Snapshot;

/// How the handler knows who calls (`handleRequest`'s `auth` option).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Auth {
    /// Nobody is served: every route answers its peer's 401. The default — the handler
    /// answers no one until told how to authenticate.
    #[default]
    Nobody,
    /// Every request with full rights, or as the context argument's caller (`auth: "trusted"`,
    /// said explicitly: behind the user's own gateway).
    Trusted,
    /// The caller comes from the request: the wrapper verifies it for the peers it has options
    /// for (`AuthOptions.zitadel`, `AuthOptions.camunda`); the other peer's routes answer 401.
    FromRequest {
        /// Zitadel's bearer tokens can be verified.
        zitadel: bool,
        /// Camunda's callers can be identified.
        camunda: bool,
    },
}

impl Auth {
    /// Whether the wrapper can establish callers of `peer`'s routes.
    pub fn verifies(self, peer: Peer) -> bool {
        match (self, peer) {
            (Auth::FromRequest { zitadel, .. }, Peer::Zitadel) => zitadel,
            (Auth::FromRequest { camunda, .. }, Peer::Camunda) => camunda,
            (Auth::Nobody | Auth::Trusted, Peer::Zitadel | Peer::Camunda) => false,
        }
    }
}

/// The caller as the wrapper established it from the request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Identity<'a> {
    /// Not established yet: a route that needs it asks for it.
    #[default]
    Unknown,
    /// The caller's user id, verified (Zitadel: the token's subject; Camunda: the user id the
    /// claim or the user's verifier gave).
    User(&'a str),
    /// No credentials: no `Authorization` header, or a Camunda verifier that found nobody.
    Missing,
    /// An `Authorization` header that is not `Bearer <token>`.
    Malformed,
    /// A token that does not verify.
    Invalid,
    /// The issuer's keys or introspection endpoint could not be reached.
    Unavailable,
}

/// Whether a request may go on, and as whom.
pub(super) enum Access {
    /// Answer with this context.
    Granted(CallContext),
    /// The wrapper must establish the caller first.
    Ask,
    /// Refused: Camunda's answer, or Zitadel's error for the route to write in its protocol.
    Refused(Denied),
}

/// A refusal, before it is written.
pub(super) enum Denied {
    /// The answer, whole (Camunda's filter's, or a trusted call's malformed context).
    Answer(Response),
    /// Zitadel's error ([`zitadel_refusal`] on the REST gateway; the Connect route's protocol
    /// writer otherwise).
    Zitadel(ZitadelError),
}

/// The access of a request to a route of `peer` (`engine`: the engine named in a Camunda path,
/// for its realm; `mapping`: Zitadel's role → permission mapping, `None` for its defaults), when
/// `auth` is not [`Auth::Trusted`].
pub(super) fn access(
    snapshot: &Snapshot,
    auth: Auth,
    identity: Identity,
    peer: Peer,
    engine: &str,
    mapping: Option<&[RoleMapping]>,
) -> Access {
    let refused = |identity: Identity| match (peer, identity) {
        (Peer::Camunda, Identity::Unavailable) => Access::Refused(Denied::Answer(camunda_unavailable())),
        (Peer::Camunda, _) => Access::Refused(Denied::Answer(camunda_unauthenticated(engine))),
        (Peer::Zitadel, _) => Access::Refused(Denied::Zitadel(zitadel_error(identity))),
    };
    if !auth.verifies(peer) {
        // No options for this peer: its 401 to everyone (for Zitadel, as it words a request
        // without a valid token: the wrapper still says whether a header was there).
        return match (peer, identity) {
            (Peer::Zitadel, Identity::Unknown) if auth != Auth::Nobody => Access::Ask,
            (_, Identity::Unknown | Identity::User(_)) => refused(Identity::Missing),
            _ => refused(identity),
        };
    }
    match identity {
        Identity::Unknown => Access::Ask,
        Identity::User(user) => Access::Granted(caller(snapshot, peer, user, mapping)),
        other => refused(other),
    }
}

/// The context of a verified caller of `peer`'s routes, its rights from the snapshot
/// (`src/query/access.rs`): Zitadel's memberships and roles with `mapping` (Zitadel's default
/// mapping when `None`; N3); Camunda's authorization rows, groups and flag (N6, N7). A snapshot
/// without them answers as the peers do without them: Zitadel lets a user read their own links
/// only; Camunda, its authorization checks off by default, lets an authenticated user read all.
fn caller(snapshot: &Snapshot, peer: Peer, user: &str, mapping: Option<&[RoleMapping]>) -> CallContext {
    let caller = match peer {
        Peer::Zitadel => snapshot.zitadel_caller(user, mapping),
        Peer::Camunda => snapshot.camunda_caller(user),
    };
    CallContext { caller: Some(caller) }
}

/// Zitadel's error for a request without a valid token (N1).
fn zitadel_error(identity: Identity) -> ZitadelError {
    match identity {
        Identity::Missing | Identity::Unknown | Identity::User(_) => ZitadelError::AUTH_HEADER_MISSING,
        Identity::Malformed => ZitadelError::INVALID_AUTH_HEADER,
        Identity::Invalid => ZitadelError::TOKEN_INVALID,
        Identity::Unavailable => ZitadelError::VERIFIER_UNAVAILABLE,
    }
}

/// A Zitadel refusal on the REST gateway: its status JSON, with grpc-gateway's
/// `Www-Authenticate` for code 16 (`DefaultHTTPErrorHandler`, runtime/errors.go).
pub(super) fn gateway_refusal(error: &ZitadelError) -> Response {
    let mut response = super::query_error(super::Format::Gateway, &error.clone().into());
    if error.code() == crate::error::GrpcCode::Unauthenticated {
        response.headers.push(("www-authenticate", error.message()));
    }
    response
}

/// Camunda's answer to a request its authentication filter lets nobody through:
/// `ProcessEngineAuthenticationFilter` with `HttpBasicAuthenticationProvider`: 401, no body,
/// `WWW-Authenticate: Basic realm="<engine>"` (N5).
pub(super) fn camunda_unauthenticated(engine: &str) -> Response {
    let mut response = Response::new(401, None, Vec::new());
    response.headers.push(("www-authenticate", format!("Basic realm=\"{engine}\"")));
    response
}

/// A Camunda route's answer when the token its caller comes from cannot be verified (the
/// issuer's keys cannot be reached): 503 in engine-rest's `ExceptionDto`, never a 200 or a 401.
fn camunda_unavailable() -> Response {
    let mut body = Vec::new();
    let message = "the caller could not be verified: the issuer's keys or introspection endpoint cannot be reached";
    crate::error::write_exception(&mut body, "RestException", message, None);
    Response::new(503, Some("application/json"), body)
}

/// The filter's answer for an engine it does not know, before it authenticates (N5):
/// `{"type":"InvalidRequestException","message":"Process engine <name> not available","code":null}`.
pub(super) fn camunda_unknown_engine(engine: &str) -> Response {
    let mut body = Vec::new();
    let message = format!("Process engine {engine} not available");
    crate::error::write_exception(&mut body, "InvalidRequestException", &message, None);
    Response::new(404, Some("application/json"), body)
}
