//! The peer server whose API a query reproduces. It decides the query's error format, so that
//! every layer (the core, the HTTP routes, the wasm facade) asks the query instead of picking a
//! peer by hand.

use crate::error::{CamundaError, QueryError, ZitadelError};
use identity_links_text::reader::SyntaxError;

/// Which server answers a query, and so how its errors look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Peer {
    /// Camunda 7 engine-rest: `{type, message, code}` (`ExceptionDto`).
    Camunda,
    /// Zitadel (its REST gateway, Connect, gRPC): `{code, message[, details]}` with gRPC codes.
    Zitadel,
}

impl Peer {
    /// A malformed request or context as this peer reports one: Camunda's
    /// `InvalidRequestException` (400), Zitadel's `InvalidArgument` (code 3, 400).
    pub fn malformed(self, message: String) -> QueryError {
        match self {
            Peer::Camunda => CamundaError::InvalidRequest { message }.into(),
            Peer::Zitadel => ZitadelError::InvalidArgument { message }.into(),
        }
    }

    /// The message for request or context text that is not JSON, in this peer's words
    /// (engine-rest's; protojson's on Zitadel), for [`Peer::malformed`].
    pub fn syntax_message(self, e: &SyntaxError) -> String {
        match self {
            Peer::Camunda => format!("request is not valid JSON: {e}"),
            Peer::Zitadel => format!("proto: syntax error: {e}"),
        }
    }
}
