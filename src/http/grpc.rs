//! Zitadel's `ListIDPLinks` path in the protocols its clients speak, as a connect-go server
//! serves them on one path: Connect with the JSON codec (`application/json`) or the binary one
//! (`application/proto`), and gRPC-web (`application/grpc-web+proto`, `application/grpc-web+json`):
//! length-prefixed frames, then a trailer frame with `grpc-status` and `grpc-message`.
//! gRPC over HTTP/2 (`application/grpc`) needs response trailers, which a fetch `Response`
//! cannot carry: served where the server can send them (the Node listener), answered
//! `unimplemented`, trailers-only, naming the protocols that work, elsewhere.
//!
//! Errors carry Zitadel's `zitadel.v1.ErrorDetail` where Zitadel sends one: in a Connect error's
//! `details` (`type`, base64 `value`, and `debug` as connect-go writes it), and in gRPC-web's
//! `grpc-status-details-bin`.

use super::auth::{Access, Denied};
use super::proto::{decode_list_idp_links, error_detail, status};
use super::{zitadel_json, Body, Needs, Request, Response, Served};
use crate::error::ZitadelError;
use crate::query::request::ListIdpLinksRequest;
use crate::query::Peer;
use crate::snapshot::Snapshot;
use identity_links_text::escape::write_str;

/// The protocol and codec of a request, from its `Content-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// Connect, JSON codec.
    ConnectJson,
    /// Connect, binary codec.
    ConnectProto,
    /// gRPC-web, binary (`json`: false) or JSON codec.
    GrpcWeb { json: bool },
    /// gRPC over HTTP/2, binary (`json`: false) or JSON codec.
    Grpc { json: bool },
}

impl Protocol {
    /// The protocol of a `Content-Type` (parameters ignored, case-insensitive), if one is served.
    pub fn of(content_type: Option<&str>) -> Option<Protocol> {
        const TYPES: [(&str, Protocol); 8] = [
            ("application/json", Protocol::ConnectJson),
            ("application/proto", Protocol::ConnectProto),
            ("application/grpc-web", Protocol::GrpcWeb { json: false }),
            ("application/grpc-web+proto", Protocol::GrpcWeb { json: false }),
            ("application/grpc-web+json", Protocol::GrpcWeb { json: true }),
            ("application/grpc", Protocol::Grpc { json: false }),
            ("application/grpc+proto", Protocol::Grpc { json: false }),
            ("application/grpc+json", Protocol::Grpc { json: true }),
        ];
        let media = content_type?.split(';').next()?.trim();
        TYPES.iter().find(|(name, _)| name.eq_ignore_ascii_case(media)).map(|&(_, protocol)| protocol)
    }

    fn content_type(self) -> &'static str {
        match self {
            Protocol::ConnectJson => "application/json",
            Protocol::ConnectProto => "application/proto",
            Protocol::GrpcWeb { json: false } => "application/grpc-web+proto",
            Protocol::GrpcWeb { json: true } => "application/grpc-web+json",
            Protocol::Grpc { json: false } => "application/grpc+proto",
            Protocol::Grpc { json: true } => "application/grpc+json",
        }
    }
}

/// A failure on this path: the gRPC code, Connect's name for it, the message, and Zitadel's
/// error detail (id and text) when there is one.
struct Failure {
    code: u8,
    name: &'static str,
    /// The HTTP status of a Connect error.
    status: u16,
    message: String,
    detail: Option<(&'static str, &'static str)>,
}

impl From<ZitadelError> for Failure {
    fn from(error: ZitadelError) -> Failure {
        let code = error.code();
        let detail = match error {
            ZitadelError::Zitadel { id, text, .. } => Some((id, text)),
            ZitadelError::InvalidArgument { .. } | ZitadelError::Bare { .. } => None,
        };
        Failure {
            code: code.number(),
            name: code.connect_name(),
            status: code.http_status(),
            message: error.message(),
            detail,
        }
    }
}

/// A failure of the protocol itself (not of the query), by HTTP status as [`super::fail`] maps it.
fn protocol_failure(status: u16, message: &str) -> Failure {
    let (code, name) = code_for_status(status);
    Failure { code, name, status, message: message.to_owned(), detail: None }
}

/// The gRPC code and its Connect name for an HTTP-level failure.
pub fn code_for_status(status: u16) -> (u8, &'static str) {
    match status {
        404 | 405 | 415 => (12, "unimplemented"),
        413 => (8, "resource_exhausted"),
        503 => (14, "unavailable"),
        _ => (3, "invalid_argument"),
    }
}

/// Serves `ListIDPLinks` in `protocol` as `access` allows; `trailers`: whether HTTP trailers
/// can be sent.
pub(super) fn serve(
    snapshot: &Snapshot,
    request: &Request<'_>,
    access: &Access,
    protocol: Protocol,
    trailers: bool,
) -> Served {
    let answered = match protocol {
        Protocol::Grpc { .. } if !trailers => {
            Err(protocol_failure(415, "gRPC needs HTTP/2 trailers: use Connect, gRPC-web or identity-links/node"))
        }
        _ => match run(snapshot, request, access, protocol) {
            Ok(Some(message)) => Ok(message),
            Ok(None) => {
                let body = matches!(request.body, Body::Later);
                let identity = matches!(access, Access::Ask).then_some(Peer::Zitadel);
                return Served::Needs(Needs { body, identity });
            }
            Err(failure) => Err(failure),
        },
    };
    Served::Answer(write(answered, protocol, trailers))
}

/// The answer in `protocol`: the message, or the failure's status.
fn write(answered: Result<Vec<u8>, Failure>, protocol: Protocol, trailers: bool) -> Response {
    match (answered, protocol) {
        (Ok(message), Protocol::GrpcWeb { .. }) => {
            let mut body = frame(0x00, &message);
            body.extend_from_slice(&frame(0x80, b"grpc-status:0\r\ngrpc-message:\r\n"));
            Response::new(200, Some(protocol.content_type()), body)
        }
        (Ok(message), Protocol::Grpc { .. }) => {
            let ok = vec![("grpc-status", "0".to_owned()), ("grpc-message", String::new())];
            Response { trailers: ok, ..Response::new(200, Some(protocol.content_type()), frame(0x00, &message)) }
        }
        (Ok(message), _) => Response::new(200, Some(protocol.content_type()), message),
        (Err(failure), Protocol::Grpc { .. }) if trailers => {
            // The status after an empty body, as gRPC servers send it over HTTP/2.
            let status = trailers_only(protocol, &failure);
            Response { trailers: status.headers, ..Response::new(200, status.content_type, Vec::new()) }
        }
        (Err(failure), Protocol::GrpcWeb { .. } | Protocol::Grpc { .. }) => trailers_only(protocol, &failure),
        (Err(failure), _) => {
            let mut body = Vec::new();
            connect_error_body((failure.code, failure.name), &failure.message, failure.detail, &mut body);
            Response::json(failure.status, body)
        }
    }
}

/// The answer's message in the protocol's codec, or why there is none; `None` when the body or
/// the caller is still needed. The message is read before the caller is checked (connect-go
/// decodes a unary request before Zitadel's interceptors run); a trusted call's malformed
/// context is refused first.
fn run(
    snapshot: &Snapshot,
    request: &Request<'_>,
    access: &Access,
    protocol: Protocol,
) -> Result<Option<Vec<u8>>, Failure> {
    if let Access::Refused(Denied::Zitadel(error @ ZitadelError::InvalidArgument { .. })) = access {
        return Err(Failure::from(error.clone()));
    }
    let body = match request.body {
        Body::Bytes(body) => body,
        Body::Later => return Ok(None),
        Body::TooLarge => return Err(protocol_failure(413, "request body larger than the limit")),
    };
    let (message, json) = match protocol {
        Protocol::ConnectJson => (body, true),
        Protocol::ConnectProto => (body, false),
        Protocol::GrpcWeb { json } | Protocol::Grpc { json } => (unframe(body)?, json),
    };
    let request: ListIdpLinksRequest = if json {
        zitadel_json(message, None)?
    } else {
        decode_list_idp_links(message).map_err(|e| {
            protocol_failure(400, &format!("unmarshal into zitadel.user.v2.ListIDPLinksRequest: proto: {}", e.0))
        })?
    };
    let context = match access {
        Access::Granted(context) => context,
        Access::Refused(Denied::Zitadel(error)) => return Err(Failure::from(error.clone())),
        Access::Ask => return Ok(None),
        // Answered whole by the Connect route before it gets here.
        Access::Refused(Denied::Answer(_)) => return Err(protocol_failure(400, "the context was refused")),
    };
    let mut out = Vec::new();
    if json {
        snapshot.list_idp_links(&request, context, &mut out)?;
    } else {
        out = snapshot.list_idp_links_proto(&request, context)?;
    }
    Ok(Some(out))
}

/// The one message of a gRPC-web request: a frame of flags (0: uncompressed) and length.
fn unframe(body: &[u8]) -> Result<&[u8], Failure> {
    let malformed = || protocol_failure(400, "protocol error: expected one uncompressed message frame");
    let (&flags, rest) = body.split_first().ok_or_else(malformed)?;
    let (length, message) = rest.split_at_checked(4).ok_or_else(malformed)?;
    let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
    if flags != 0 || message.len() != length {
        return Err(malformed());
    }
    Ok(message)
}

/// A gRPC-web frame: the flags byte, the big-endian length, the payload.
fn frame(flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(flags);
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A gRPC(-web) error: HTTP 200, the status in the headers and no body ("trailers-only").
fn trailers_only(protocol: Protocol, failure: &Failure) -> Response {
    let code = crate::json::writer::u64_digits(u64::from(failure.code), &mut [0; 20]).to_owned();
    let mut headers = vec![("grpc-status", code), ("grpc-message", percent_encode(&failure.message))];
    if let Some(detail) = failure.detail {
        headers.push(("grpc-status-details-bin", base64(&status(failure.code, &failure.message, detail))));
    }
    Response { headers, ..Response::new(200, Some(protocol.content_type()), Vec::new()) }
}

/// A Zitadel error in Connect's JSON error format.
pub fn write_connect_error(error: &ZitadelError, out: &mut Vec<u8>) {
    let failure = Failure::from(error.clone());
    connect_error_body((failure.code, failure.name), &failure.message, failure.detail, out);
}

/// `{"code":..,"message":..[,"details":[{"type":"zitadel.v1.ErrorDetail","value":..,"debug":..}]]}`.
pub fn connect_error_body(code: (u8, &str), message: &str, detail: Option<(&str, &str)>, out: &mut Vec<u8>) {
    out.extend_from_slice(br#"{"code":"#);
    write_str(out, code.1);
    out.extend_from_slice(br#","message":"#);
    write_str(out, message);
    if let Some((id, text)) = detail {
        out.extend_from_slice(br#","details":[{"type":"zitadel.v1.ErrorDetail","value":"#);
        write_str(out, &base64(&error_detail(id, text)));
        out.extend_from_slice(br#","debug":{"id":"#);
        write_str(out, id);
        out.extend_from_slice(br#","message":"#);
        write_str(out, text);
        out.extend_from_slice(b"}}]");
    }
    out.push(b'}');
}

/// Standard base64 without padding (connect-go's and grpc-go's encoding of binary values).
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
        }
    }
    out
}

/// `grpc-message`'s encoding: bytes outside printable ASCII, and `%`, as `%XX`.
fn percent_encode(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    for &b in message.as_bytes() {
        if (0x20..=0x7e).contains(&b) && b != b'%' {
            out.push(char::from(b));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.extend(['%', char::from(HEX[(b >> 4) as usize]), char::from(HEX[(b & 15) as usize])]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_standard_and_unpadded() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg");
        assert_eq!(base64(b"fo"), "Zm8");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(&[0xfb, 0xff]), "+/8");
    }

    #[test]
    fn grpc_messages_are_percent_encoded() {
        assert_eq!(percent_encode("Limit exceeded (QUERY-4M0fs)"), "Limit exceeded (QUERY-4M0fs)");
        assert_eq!(percent_encode("100% é\n"), "100%25 %C3%A9%0A");
    }

    #[test]
    fn content_types_choose_the_protocol() {
        assert_eq!(Protocol::of(Some("Application/JSON; charset=utf-8")), Some(Protocol::ConnectJson));
        assert_eq!(Protocol::of(Some("application/grpc-web")), Some(Protocol::GrpcWeb { json: false }));
        assert_eq!(Protocol::of(Some("application/grpc+proto")), Some(Protocol::Grpc { json: false }));
        assert_eq!(Protocol::of(Some("text/plain")), None);
        assert_eq!(Protocol::of(None), None);
    }

    #[test]
    fn frames_are_length_prefixed() {
        assert_eq!(frame(0x80, b"ab"), [0x80, 0, 0, 0, 2, b'a', b'b']);
        assert!(unframe(&[0, 0, 0, 0, 2, b'a', b'b']).is_ok_and(|m| m == b"ab"));
        assert!(unframe(&[1, 0, 0, 0, 0]).is_err(), "compressed");
        assert!(unframe(&[0, 0, 0, 0, 3, b'a']).is_err(), "short");
        assert!(unframe(&[0, 0]).is_err(), "no prefix");
    }
}
