//! Requests refused before any query runs (a bad URL, no route, another method or content type,
//! a body over the limit), as typed values; each is answered in the route's error format,
//! with the writers of the core's error bodies.

use super::{grpc, Format, Response};
use crate::error::{write_exception, write_status};
use identity_links_text::escape::quote;

/// Why a request is refused at the HTTP level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// A `%` escape in the URL that does not decode (400).
    BadEscape,
    /// No route for the path (404).
    NotFound,
    /// A method the route does not serve (405); `method` is the one it does.
    MethodNotAllowed { method: &'static str },
    /// A content type the Connect route does not speak (415).
    UnsupportedMediaType { content_type: String },
    /// A body larger than the limit (413).
    TooLarge,
    /// No snapshot to answer from (503, [`super::Options::unavailable`]): engine-rest's
    /// `RestException`, as it answers a failure of its own; Zitadel's `unavailable` (code 14),
    /// its code for a backend it cannot reach (grpc-gateway maps it to 503).
    Unavailable { message: String },
}

impl std::fmt::Display for Refusal {
    /// The message as Zitadel's routes word it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Format::Gateway))
    }
}

impl std::error::Error for Refusal {}

impl Refusal {
    /// The HTTP status.
    pub(super) fn status(&self) -> u16 {
        match self {
            Refusal::BadEscape => 400,
            Refusal::NotFound => 404,
            Refusal::MethodNotAllowed { .. } => 405,
            Refusal::UnsupportedMediaType { .. } => 415,
            Refusal::TooLarge => 413,
            Refusal::Unavailable { .. } => 503,
        }
    }

    /// The message, as the routes of `format` word it (JAX-RS's own texts on Camunda's).
    pub(super) fn message(&self, format: Format) -> String {
        let camunda = format == Format::Camunda;
        match self {
            Refusal::BadEscape => "malformed percent-encoding in the URL".to_owned(),
            Refusal::NotFound if camunda => "HTTP 404 Not Found".to_owned(),
            Refusal::NotFound => "Not Found".to_owned(),
            Refusal::MethodNotAllowed { .. } if camunda => "HTTP 405 Method Not Allowed".to_owned(),
            Refusal::MethodNotAllowed { method } => format!("Method Not Allowed: use {method}"),
            Refusal::UnsupportedMediaType { content_type } => {
                format!("unsupported content-type {}: use Connect or gRPC-web", quote(content_type))
            }
            Refusal::TooLarge => "request body larger than the limit".to_owned(),
            Refusal::Unavailable { message } => message.clone(),
        }
    }

    /// The answer in `format`: engine-rest's `ExceptionDto`, the REST gateway's status, or
    /// Connect's error; a 405 names the methods served (`Allow`).
    pub(super) fn response(&self, format: Format) -> Response {
        let (status, message) = (self.status(), self.message(format));
        let mut body = Vec::new();
        match format {
            Format::Camunda => {
                let kind = match self {
                    Refusal::NotFound => "NotFoundException",
                    Refusal::MethodNotAllowed { .. } => "NotAllowedException",
                    Refusal::TooLarge | Refusal::Unavailable { .. } => "RestException",
                    _ => "InvalidRequestException",
                };
                write_exception(&mut body, kind, &message, None);
            }
            Format::Gateway => {
                let code = match self {
                    Refusal::NotFound => 5,
                    Refusal::MethodNotAllowed { .. } => 12,
                    Refusal::TooLarge => 8,
                    Refusal::Unavailable { .. } => 14,
                    _ => 3,
                };
                write_status(&mut body, code, &message);
            }
            Format::Connect => grpc::connect_error_body(grpc::code_for_status(status), &message, None, &mut body),
        }
        let allow = match self {
            Refusal::MethodNotAllowed { method } => {
                Some(if format == Format::Camunda { "GET,HEAD,OPTIONS" } else { *method })
            }
            _ => None,
        };
        Response { allow, ..Response::json(status, body) }
    }
}
