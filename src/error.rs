//! Errors as types: what went wrong, the HTTP status the peer answers with, and the peer's
//! exact error body. Strings are made only at the boundary ([`QueryError::write_body`],
//! `Display`).

use std::fmt;

use crate::json::writer::{quote, write_str};
use crate::json::SyntaxError;
use crate::snapshot::timestamp::TimestampProblem;

/// A snapshot (or its binary form, or the load options) was refused.
///
/// Always status 400; the message starts with the JSON path of the first offending value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnapshotError {
    /// JSON path of the offending value (`tasks[3].identityLinks[0]`), `$` for the whole
    /// document, `bytes` for the binary form, `options.maxLimit` for an option.
    pub path: String,
    /// What is wrong with it.
    pub problem: SnapshotProblem,
}

/// The rules of SNAPSHOT.md, and the ways input can fail to be a snapshot at all.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SnapshotProblem {
    /// Not JSON (or JSON we refuse: lone surrogates, too deep).
    Syntax(SyntaxError),
    /// A value of the wrong JSON type.
    WrongType { expected: &'static str, found: &'static str },
    /// A required field is absent.
    Missing,
    /// A field the format does not define (rule 1).
    UnknownField { allowed: String },
    /// The same key twice in one object.
    DuplicateKey,
    /// An empty id or type (rule 2).
    Empty,
    /// Longer than 200 characters (rule 2).
    TooLong { chars: usize },
    /// `version` is not 1.
    Version { found: String },
    /// A user, group or task id seen before (rule 3).
    DuplicateId { id: String, first: usize },
    /// The same user and group twice in `memberships` (rule 3).
    DuplicateMembership { first: usize },
    /// The same (`idpId`, `providedUserId`) twice in `idpLinks` (rule 3).
    DuplicateIdpLink { first: usize },
    /// A reference to a user not in `users` (rule 4).
    UnknownUser { id: String },
    /// A reference to a group not in `groups` (rule 4).
    UnknownGroup { id: String },
    /// An identity link with both or neither of `userId` and `groupId`.
    LinkIds,
    /// `sequence` is not a uint64 (rule 5).
    Sequence { found: String },
    /// `timestamp` is not RFC 3339 (rule 5).
    Timestamp { found: String, why: TimestampProblem },
    /// Refused for a reason of its own: an option out of range, text JSON cannot carry, an
    /// input over `maxBytes` or larger than the memory left.
    Invalid { why: &'static str },
    /// More than the format can number (2^31 strings, 4 GiB of text, 2^32 rows).
    Capacity,
    /// The binary form is truncated, corrupted or not ours.
    Binary { why: &'static str },
    /// The binary form ended after `read` of the `total` bytes its header announces.
    Truncated { read: usize, total: usize },
}

impl SnapshotError {
    /// An error at `path`.
    pub fn new(path: impl Into<String>, problem: SnapshotProblem) -> Self {
        SnapshotError { path: path.into(), problem }
    }

    /// The peer-style error body: `{"type":"SnapshotError","message":...,"path":...}`.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"type":"SnapshotError","message":"#);
        write_str(out, &self.to_string());
        out.extend_from_slice(br#","path":"#);
        write_str(out, &self.path);
        out.push(b'}');
    }
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path)?;
        match &self.problem {
            SnapshotProblem::Syntax(e) => write!(f, "{e}"),
            SnapshotProblem::WrongType { expected, found } => {
                write!(f, "expected {expected}, found {found}")
            }
            SnapshotProblem::Missing => f.write_str("required field is missing"),
            SnapshotProblem::UnknownField { allowed } => {
                write!(f, "unknown field (allowed here: {allowed})")
            }
            SnapshotProblem::DuplicateKey => f.write_str("the same key appears twice in this object"),
            SnapshotProblem::Empty => f.write_str("must not be empty"),
            SnapshotProblem::TooLong { chars } => write!(f, "longer than 200 characters ({chars})"),
            SnapshotProblem::Version { found } => {
                write!(f, "unsupported version {found} (must be 1)")
            }
            SnapshotProblem::DuplicateId { id, first } => {
                write!(f, "duplicate id {} (first at index {first})", quote(id))
            }
            SnapshotProblem::DuplicateMembership { first } => {
                write!(f, "duplicate membership (the same pair is at memberships[{first}])")
            }
            SnapshotProblem::DuplicateIdpLink { first } => {
                write!(f, "duplicate IdP link: this idpId and providedUserId are already linked at idpLinks[{first}]")
            }
            SnapshotProblem::UnknownUser { id } => {
                write!(f, "unknown user {} (not in users)", quote(id))
            }
            SnapshotProblem::UnknownGroup { id } => {
                write!(f, "unknown group {} (not in groups)", quote(id))
            }
            SnapshotProblem::LinkIds => f.write_str("exactly one of userId and groupId must be set"),
            SnapshotProblem::Sequence { found } => {
                write!(f, "{found} is not a uint64 (0..18446744073709551615)")
            }
            SnapshotProblem::Timestamp { found, why } => {
                write!(f, "{} is not an RFC 3339 date-time: {}", quote(found), why.describe())
            }
            SnapshotProblem::Invalid { why } => f.write_str(why),
            SnapshotProblem::Capacity => {
                f.write_str("snapshot too large for the format (2^31 strings or 4 GiB of text)")
            }
            SnapshotProblem::Binary { why } => {
                write!(f, "not a valid identity-links binary snapshot: {why}")
            }
            SnapshotProblem::Truncated { read, total } => {
                write!(
                    f,
                    "not a valid identity-links binary snapshot: truncated ({read} of the {total} bytes its header announces)"
                )
            }
        }
    }
}

impl std::error::Error for SnapshotError {}

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
            CamundaError::InvalidRequest { .. } => {
                out.extend_from_slice(br#"{"type":"InvalidRequestException","message":"#);
                write_str(out, &message);
                out.extend_from_slice(br#","code":null}"#);
            }
            CamundaError::TaskNotFound { .. } => {
                out.extend_from_slice(br#"{"type":"NullValueException","message":"#);
                write_str(out, &message);
                out.extend_from_slice(br#","code":0}"#);
            }
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
}

impl ZitadelError {
    /// Limit above the maximum (Z3).
    pub const LIMIT_EXCEEDED: ZitadelError =
        ZitadelError::Zitadel { code: GrpcCode::InvalidArgument, id: "QUERY-4M0fs", text: "Limit exceeded" };
    /// A caller without any permission (Z11).
    pub const MEMBERSHIP_NOT_FOUND: ZitadelError =
        ZitadelError::Zitadel { code: GrpcCode::NotFound, id: "AUTHZ-cdgFk", text: "membership not found" };
    /// A caller without the needed permission (Z11).
    pub const PERMISSION_DENIED: ZitadelError = ZitadelError::Zitadel {
        code: GrpcCode::PermissionDenied,
        id: "AUTH-AWfge",
        text: "No matching permissions found",
    };

    /// The gRPC code.
    pub fn code(&self) -> GrpcCode {
        match self {
            ZitadelError::InvalidArgument { .. } => GrpcCode::InvalidArgument,
            ZitadelError::Zitadel { code, .. } => *code,
        }
    }

    /// The message, as in the body.
    pub fn message(&self) -> String {
        match self {
            ZitadelError::InvalidArgument { message } => message.clone(),
            ZitadelError::Zitadel { id, text, .. } => format!("{text} ({id})"),
        }
    }

    fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"code":"#);
        crate::json::writer::write_u64(out, u64::from(self.code().number()));
        out.extend_from_slice(br#","message":"#);
        write_str(out, &self.message());
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

/// Any failure of a query or a load, as the JavaScript API throws it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// From `getIdentityLinks` or `getUserGroups`.
    Camunda(CamundaError),
    /// From `listIdpLinks`.
    Zitadel(ZitadelError),
    /// From loading a snapshot.
    Snapshot(SnapshotError),
}

impl QueryError {
    /// The HTTP status of the peer's answer.
    pub fn status(&self) -> u16 {
        match self {
            QueryError::Camunda(e) => e.status(),
            QueryError::Zitadel(e) => e.code().http_status(),
            QueryError::Snapshot(_) => 400,
        }
    }

    /// The body's `message`.
    pub fn message(&self) -> String {
        match self {
            QueryError::Camunda(e) => e.message(),
            QueryError::Zitadel(e) => e.message(),
            QueryError::Snapshot(e) => e.to_string(),
        }
    }

    /// Appends the peer's error body as JSON.
    pub fn write_body(&self, out: &mut Vec<u8>) {
        match self {
            QueryError::Camunda(e) => e.write_body(out),
            QueryError::Zitadel(e) => e.write_body(out),
            QueryError::Snapshot(e) => e.write_body(out),
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

impl From<SnapshotError> for QueryError {
    fn from(e: SnapshotError) -> Self {
        QueryError::Snapshot(e)
    }
}

/// `names` separated by ", ", for the messages that list what is allowed. A plain loop: std's
/// generic `join` costs over a kilobyte of wasm for the same text.
pub fn comma_list(names: &[&str]) -> String {
    let mut out = String::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{comma_list, CamundaError, QueryError, ZitadelError};

    #[test]
    fn separates_names_with_commas() {
        assert_eq!(comma_list(&[]), "");
        assert_eq!(comma_list(&["a"]), "a");
        assert_eq!(comma_list(&["id", "name", "org"]), "id, name, org");
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
