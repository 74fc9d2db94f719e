//! Errors as types: what went wrong, the HTTP status the peer answers with, and the peer's
//! exact error body. Strings are made only at the boundary ([`QueryError::write_body`],
//! `Display`).

use std::fmt;

use crate::snapshot::delta::DeltaError;
use identity_links_tables::error::SnapshotError;
use identity_links_text::escape::write_str;

/// A Camunda query failed; the body is engine-rest's `ExceptionDto` (or
/// `AuthorizationExceptionDto`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CamundaError {
    /// A malformed request (`InvalidRequestException`, 400, `code: null`).
    InvalidRequest { message: String },
    /// The task does not exist (`NullValueException`, 400, `code: 0`; SEMANTICS.md C2).
    TaskNotFound { task_id: String },
    /// The caller lacks a permission (`AuthorizationException`, 403; SEMANTICS.md A1).
    Unauthorized { user_id: String, permission: &'static str, resource: &'static str, resource_id: String },
}

impl CamundaError {
    /// The HTTP status engine-rest answers with.
    pub fn status(&self) -> u16 {
        match self {
            CamundaError::InvalidRequest { .. } | CamundaError::TaskNotFound { .. } => 400,
            CamundaError::Unauthorized { .. } => 403,
        }
    }

    /// The exception's message, as in the body.
    pub fn message(&self) -> String {
        match self {
            CamundaError::InvalidRequest { message } => message.clone(),
            CamundaError::TaskNotFound { task_id } => format!("Cannot find task with id {task_id}: task is null"),
            CamundaError::Unauthorized { user_id, permission, resource, resource_id } => format!(
                "The user with id '{user_id}' does not have '{permission}' permission on resource '{resource_id}' of type '{resource}'."
            ),
        }
    }

    fn write_body(&self, out: &mut Vec<u8>) {
        let message = self.message();
        match self {
            CamundaError::InvalidRequest { .. } => write_exception(out, "InvalidRequestException", &message, None),
            CamundaError::TaskNotFound { .. } => write_exception(out, "NullValueException", &message, Some(0)),
            CamundaError::Unauthorized { user_id, permission, resource, resource_id } => {
                out.extend_from_slice(br#"{"type":"AuthorizationException","message":"#);
                write_str(out, &message);
                out.extend_from_slice(br#","code":0,"userId":"#);
                write_str(out, user_id);
                let missing = |out: &mut Vec<u8>| {
                    out.extend_from_slice(br#""permissionName":"#);
                    write_str(out, permission);
                    out.extend_from_slice(br#","resourceName":"#);
                    write_str(out, resource);
                    out.extend_from_slice(br#","resourceId":"#);
                    write_str(out, resource_id);
                };
                out.extend_from_slice(br#","resourceName":"#);
                write_str(out, resource);
                out.extend_from_slice(br#","resourceId":"#);
                write_str(out, resource_id);
                out.extend_from_slice(br#","permissionName":"#);
                write_str(out, permission);
                out.extend_from_slice(br#","missingAuthorizations":[{"#);
                missing(out);
                out.extend_from_slice(b"}]}");
            }
        }
    }
}

/// gRPC status codes that Zitadel answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrpcCode {
    /// 3
    InvalidArgument,
    /// 5
    NotFound,
    /// 7
    PermissionDenied,
    /// 13
    Internal,
    /// 16
    Unauthenticated,
    /// 14: what the replica answers when the issuer's keys or introspection cannot be reached.
    Unavailable,
}

impl GrpcCode {
    /// The numeric code, as in the gateway's body.
    pub fn number(self) -> u8 {
        match self {
            GrpcCode::InvalidArgument => 3,
            GrpcCode::NotFound => 5,
            GrpcCode::PermissionDenied => 7,
            GrpcCode::Internal => 13,
            GrpcCode::Unauthenticated => 16,
            GrpcCode::Unavailable => 14,
        }
    }

    /// The HTTP status the gateway maps it to (SEMANTICS.md Z10).
    pub fn http_status(self) -> u16 {
        match self {
            GrpcCode::InvalidArgument => 400,
            GrpcCode::NotFound => 404,
            GrpcCode::PermissionDenied => 403,
            GrpcCode::Internal => 500,
            GrpcCode::Unauthenticated => 401,
            GrpcCode::Unavailable => 503,
        }
    }

    /// Connect's name for the code (SEMANTICS.md Z12).
    pub fn connect_name(self) -> &'static str {
        match self {
            GrpcCode::InvalidArgument => "invalid_argument",
            GrpcCode::NotFound => "not_found",
            GrpcCode::PermissionDenied => "permission_denied",
            GrpcCode::Internal => "internal",
            GrpcCode::Unauthenticated => "unauthenticated",
            GrpcCode::Unavailable => "unavailable",
        }
    }
}

/// A Zitadel query failed; the body is the REST gateway's status JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ZitadelError {
    /// A request the gateway or the validator refuses before Zitadel runs: `{code:3,message}`
    /// with no `details` (SEMANTICS.md Z2, Z3's malformed numbers).
    InvalidArgument { message: String },
    /// A Zitadel error with its id: `{code,message:"text (ID)",details:[ErrorDetail]}` (Z10).
    Zitadel { code: GrpcCode, id: &'static str, text: &'static str },
    /// An error without an id or details: connect-go's own, as Zitadel's auth interceptor
    /// raises "auth header missing" (`connect.NewError(CodeUnauthenticated, ...)`).
    Bare { code: GrpcCode, message: &'static str },
}

impl ZitadelError {
    /// Limit above the maximum (Z3).
    pub const LIMIT_EXCEEDED: ZitadelError =
        ZitadelError::Zitadel { code: GrpcCode::InvalidArgument, id: "QUERY-4M0fs", text: "Limit exceeded" };
    /// A caller without any permission (Z11).
    pub const MEMBERSHIP_NOT_FOUND: ZitadelError =
        ZitadelError::Zitadel { code: GrpcCode::NotFound, id: "AUTHZ-cdgFk", text: "membership not found" };
    /// No `Authorization` header (SEMANTICS.md N1; zitadel/zitadel
    /// `internal/api/grpc/server/connect_middleware/auth_interceptor.go`, `authorize`).
    pub const AUTH_HEADER_MISSING: ZitadelError =
        ZitadelError::Bare { code: GrpcCode::Unauthenticated, message: "auth header missing" };
    /// An `Authorization` header that is not exactly one case-sensitive `Bearer ` and a token
    /// (`internal/api/authz/context.go`, `extractBearerToken`).
    pub const INVALID_AUTH_HEADER: ZitadelError =
        ZitadelError::Zitadel { code: GrpcCode::Unauthenticated, id: "AUTH-7fs1e", text: "invalid auth header" };
    /// A token that does not verify, whatever the reason (`VerifyTokenAndCreateCtxData`): the
    /// i18n key, untranslated, as the auth interceptor runs outside the translation interceptor
    /// (`internal/api/api.go`, `registerConnectServer`).
    pub const TOKEN_INVALID: ZitadelError =
        ZitadelError::Zitadel { code: GrpcCode::Unauthenticated, id: "AUTH-7fs1e", text: "Errors.Token.Invalid" };
    /// The issuer's key set or introspection endpoint could not be reached: the replica's own
    /// answer (Zitadel verifies locally), never a 200.
    pub const VERIFIER_UNAVAILABLE: ZitadelError = ZitadelError::Bare {
        code: GrpcCode::Unavailable,
        message: "the token could not be verified: the issuer's keys or introspection endpoint cannot be reached",
    };
    /// A caller without the needed permission (Z11).
    pub const PERMISSION_DENIED: ZitadelError = ZitadelError::Zitadel {
        code: GrpcCode::PermissionDenied,
        id: "AUTH-AWfge",
        text: "No matching permissions found",
    };

    /// A caller whose `user.read` is only project-scoped (N3; `checkUserResourcePermissions`
    /// in zitadel/zitadel's `internal/api/authz/permissions.go`).
    pub const CONTEXT_PERMISSION_DENIED: ZitadelError = ZitadelError::Zitadel {
        code: GrpcCode::PermissionDenied,
        id: "AUTH-Swrgg2",
        text: "No matching permissions found",
    };

    /// The gRPC code.
    pub fn code(&self) -> GrpcCode {
        match self {
            ZitadelError::InvalidArgument { .. } => GrpcCode::InvalidArgument,
            ZitadelError::Zitadel { code, .. } | ZitadelError::Bare { code, .. } => *code,
        }
    }

    /// The message, as in the body.
    pub fn message(&self) -> String {
        match self {
            ZitadelError::InvalidArgument { message } => message.clone(),
            ZitadelError::Bare { message, .. } => (*message).to_owned(),
            ZitadelError::Zitadel { id, text, .. } => format!("{text} ({id})"),
        }
    }

    fn write_body(&self, out: &mut Vec<u8>) {
        write_status_start(out, self.code().number(), &self.message());
        if let ZitadelError::Zitadel { id, text, .. } = self {
            out.extend_from_slice(br#","details":[{"@type":"type.googleapis.com/zitadel.v1.ErrorDetail","id":"#);
            write_str(out, id);
            out.extend_from_slice(br#","message":"#);
            write_str(out, text);
            out.extend_from_slice(b"}]");
        }
        out.push(b'}');
    }
}

/// Appends Camunda's `ExceptionDto` `{"type":..,"message":..,"code":..}` (`code` null when `None`):
/// the body of every engine-rest error but the authorization one.
pub fn write_exception(out: &mut Vec<u8>, kind: &str, message: &str, code: Option<u8>) {
    out.extend_from_slice(br#"{"type":"#);
    write_str(out, kind);
    out.extend_from_slice(br#","message":"#);
    write_str(out, message);
    out.extend_from_slice(br#","code":"#);
    match code {
        Some(code) => crate::json::writer::write_u64(out, u64::from(code)),
        None => out.extend_from_slice(b"null"),
    }
    out.push(b'}');
}

/// Appends the start of Zitadel's REST gateway status, `{"code":..,"message":..` (the caller
/// adds `details` or not, then `}`).
fn write_status_start(out: &mut Vec<u8>, code: u8, message: &str) {
    out.extend_from_slice(br#"{"code":"#);
    crate::json::writer::write_u64(out, u64::from(code));
    out.extend_from_slice(br#","message":"#);
    write_str(out, message);
}

/// Appends Zitadel's REST gateway status without details, `{"code":..,"message":..}`: what the
/// gateway itself answers for requests it refuses before Zitadel runs.
pub fn write_status(out: &mut Vec<u8>, code: u8, message: &str) {
    write_status_start(out, code, message);
    out.push(b'}');
}

/// Any failure of a query or a load, as the JavaScript API throws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// From `getIdentityLinks` or `getUserGroups`.
    Camunda(CamundaError),
    /// From `listIdpLinks`.
    Zitadel(ZitadelError),
    /// From loading a snapshot.
    Snapshot(SnapshotError),
    /// A misuse of the API itself, not a peer's answer (status 400, `{"type":"UsageError",
    /// "message":...}`): a context without a caller, a handler without `auth`, ...
    Usage(UsageError),
    /// A refused delta (`applyDelta`; status 400, `{"type":"DeltaError","message":...}`).
    Delta(DeltaError),
}

/// A misuse of the API: the message says what was wrong and how to call it instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl UsageError {
    /// Appends `{"type":"UsageError","message":...}`.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"type":"UsageError","message":"#);
        identity_links_text::escape::write_str(out, &self.0);
        out.push(b'}');
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

impl From<UsageError> for QueryError {
    fn from(e: UsageError) -> Self {
        QueryError::Usage(e)
    }
}

impl QueryError {
    /// The HTTP status of the peer's answer.
    pub fn status(&self) -> u16 {
        match self {
            QueryError::Camunda(e) => e.status(),
            QueryError::Zitadel(e) => e.code().http_status(),
            QueryError::Snapshot(_) | QueryError::Usage(_) | QueryError::Delta(_) => 400,
        }
    }

    /// The body's `message`.
    pub fn message(&self) -> String {
        match self {
            QueryError::Camunda(e) => e.message(),
            QueryError::Zitadel(e) => e.message(),
            QueryError::Snapshot(e) => e.to_string(),
            QueryError::Usage(e) => e.0.clone(),
            QueryError::Delta(e) => e.to_string(),
        }
    }

    /// Appends the peer's error body as JSON.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        match self {
            QueryError::Camunda(e) => e.write_body(out),
            QueryError::Zitadel(e) => e.write_body(out),
            QueryError::Snapshot(e) => e.write_body(out),
            QueryError::Usage(e) => e.write_body(out),
            QueryError::Delta(e) => {
                out.extend_from_slice(br#"{"type":"DeltaError","message":"#);
                write_str(out, &e.to_string());
                out.push(b'}');
            }
        }
    }

    /// The peer's error body as JSON text.
    pub fn body_json(&self) -> String {
        let mut out = Vec::new();
        self.write_body(&mut out);
        crate::json::writer::text(&out).to_owned()
    }
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for QueryError {}

impl fmt::Display for CamundaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for CamundaError {}

impl fmt::Display for ZitadelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ZitadelError {}

impl From<CamundaError> for QueryError {
    fn from(e: CamundaError) -> Self {
        QueryError::Camunda(e)
    }
}

impl From<ZitadelError> for QueryError {
    fn from(e: ZitadelError) -> Self {
        QueryError::Zitadel(e)
    }
}

impl From<DeltaError> for QueryError {
    fn from(e: DeltaError) -> Self {
        QueryError::Delta(e)
    }
}

impl From<SnapshotError> for QueryError {
    fn from(e: SnapshotError) -> Self {
        QueryError::Snapshot(e)
    }
}

#[cfg(test)]
mod tests {
    use super::{CamundaError, QueryError, ZitadelError};

    #[test]
    fn every_error_type_is_a_std_error_with_a_message() {
        use crate::http::url::UrlError;
        use crate::query::context::ContextError;
        use identity_links_tables::strings::TableFull;
        use identity_links_text::number::UintProblem;
        use identity_links_text::timestamp::TimestampProblem;
        let errors: [(Box<dyn std::error::Error>, &str); 6] = [
            (Box::new(UrlError::BadEscape), "malformed percent-encoding in the URL"),
            (Box::new(crate::http::proto::ProtoError("proto: duplicate field")), "proto: duplicate field"),
            (
                Box::new(ContextError::Malformed("context.caller: expected an object".into())),
                "context.caller: expected an object",
            ),
            (Box::new(UintProblem::Fractional), "not a whole number"),
            (Box::new(TableFull), "the string table is full (2^31 strings or 4 GiB of text)"),
            (Box::new(TimestampProblem::Range), "a date or time field is out of range"),
        ];
        for (error, text) in errors {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn core_errors_are_std_errors_whose_text_is_the_body_message() {
        let errors: [Box<dyn std::error::Error>; 3] = [
            Box::new(CamundaError::InvalidRequest { message: "No user id was supplied".into() }),
            Box::new(ZitadelError::LIMIT_EXCEEDED),
            Box::new(QueryError::from(ZitadelError::LIMIT_EXCEEDED)),
        ];
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(texts, ["No user id was supplied", "Limit exceeded (QUERY-4M0fs)", "Limit exceeded (QUERY-4M0fs)"]);
    }
}
