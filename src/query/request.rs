//! The three requests, decoded from JSON values with the peers' own refusals.
//!
//! Camunda's requests are a path id and query parameters, so anything not a string is an
//! `InvalidRequestException`; Zitadel's request is a protobuf message read by protojson with
//! unknown fields discarded, so wrong types are protojson's `invalid value` errors (code 3).

use std::borrow::Cow;

use crate::error::{CamundaError, ZitadelError};
use crate::json::Value;
use identity_links_text::number::parse_uint;

/// The names of a request's fields: all a decoder below reads (peers ignore unknown fields), so a
/// caller that converts a foreign object (the wasm facade, from JS) converts only these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestKeys {
    /// The request's own fields.
    pub fields: &'static [&'static str],
    /// The fields of its `query` member, one level down (Zitadel's paging), if it has one.
    pub query: &'static [&'static str],
}

/// `GET /task/{taskId}/identity-links?type=` (borrowed or owned text, so a caller that has the
/// strings at hand need not copy them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityLinksRequest<'a> {
    /// The task id.
    pub task_id: Cow<'a, str>,
    /// The `type` filter, if given.
    pub kind: Option<Cow<'a, str>>,
}

/// `GET /identity/groups?userId=`
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserGroupsRequest<'a> {
    /// The user id; `None` is Camunda's "No user id was supplied".
    pub user_id: Option<Cow<'a, str>>,
}

/// `ListIDPLinksRequest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListIdpLinksRequest<'a> {
    /// The owning user's id.
    pub user_id: Cow<'a, str>,
    /// `query.offset`
    pub offset: u64,
    /// `query.limit` (0: the default).
    pub limit: u32,
    /// `query.asc`
    pub asc: bool,
}

fn camunda_invalid(message: String) -> CamundaError {
    CamundaError::InvalidRequest { message }
}

fn camunda_object(value: &Value) -> Result<(), CamundaError> {
    match value {
        Value::Object(_) => Ok(()),
        other => Err(camunda_invalid(format!("The request must be an object, found {}", other.described()))),
    }
}

impl IdentityLinksRequest<'static> {
    /// Decodes `{ taskId, type? }` (SEMANTICS.md C1).
    pub fn from_value(value: &Value) -> Result<Self, CamundaError> {
        camunda_object(value)?;
        let task_id = match value.get("taskId") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => return Err(camunda_invalid("No task id was supplied".into())),
            Some(other) => {
                return Err(camunda_invalid(format!("The task id must be a string, found {}", other.described())))
            }
        };
        let kind = match value.get_present("type") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(camunda_invalid(format!("The type filter must be a string, found {}", other.described())))
            }
        };
        Ok(IdentityLinksRequest { task_id: Cow::Owned(task_id), kind: kind.map(Cow::Owned) })
    }
}

impl UserGroupsRequest<'static> {
    /// Decodes `{ userId? }`; a missing id is kept for the query to refuse (G1).
    pub fn from_value(value: &Value) -> Result<Self, CamundaError> {
        camunda_object(value)?;
        let user_id = match value.get_present("userId") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                return Err(camunda_invalid(format!("The user id must be a string, found {}", other.described())))
            }
        };
        Ok(UserGroupsRequest { user_id: user_id.map(Cow::Owned) })
    }
}

/// protojson's message for a value that does not fit a field.
fn invalid_value(kind: &str, field: &str, value: &Value) -> ZitadelError {
    ZitadelError::InvalidArgument {
        message: format!("proto: invalid value for {kind} field {field}: {}", value.to_json()),
    }
}

impl ListIdpLinksRequest<'static> {
    /// Decodes the request message as protojson does (SEMANTICS.md Z1, Z3).
    pub fn from_value(value: &Value) -> Result<Self, ZitadelError> {
        if !matches!(value, Value::Object(_)) {
            return Err(invalid_value("message", "ListIDPLinksRequest", value));
        }
        // protojson accepts a field by its JSON name or its proto name, but not both.
        let user_id = match (value.get_present("userId"), value.get_present("user_id")) {
            (Some(_), Some(_)) => return Err(duplicate_field("user_id")),
            (None, None) => String::new(),
            (Some(Value::String(s)), None) | (None, Some(Value::String(s))) => s.clone(),
            (Some(other), None) | (None, Some(other)) => return Err(invalid_value("string", "userId", other)),
        };
        let mut request = ListIdpLinksRequest { user_id: Cow::Owned(user_id), offset: 0, limit: 0, asc: false };
        let query = match value.get_present("query") {
            None => return Ok(request),
            Some(q @ Value::Object(_)) => q,
            Some(other) => return Err(invalid_value("message", "query", other)),
        };
        if let Some(v) = query.get_present("offset") {
            request.offset = uint_field(v, "uint64", "offset", u64::MAX)?;
        }
        if let Some(v) = query.get_present("limit") {
            request.limit = uint_field(v, "uint32", "limit", u64::from(u32::MAX))? as u32;
        }
        match query.get_present("asc") {
            None => {}
            Some(Value::Bool(b)) => request.asc = *b,
            Some(other) => return Err(invalid_value("bool", "asc", other)),
        }
        Ok(request)
    }
}

/// protojson's refusal of one field given twice (by its JSON and its proto name).
fn duplicate_field(name: &str) -> ZitadelError {
    ZitadelError::InvalidArgument {
        message: format!("proto: duplicate field {}", identity_links_text::escape::quote(name)),
    }
}

/// An unsigned integer field: a JSON number or a string holding one, as protojson accepts.
fn uint_field(value: &Value, kind: &str, field: &str, max: u64) -> Result<u64, ZitadelError> {
    let text = match value {
        Value::Number(t) | Value::String(t) => t,
        other => return Err(invalid_value(kind, field, other)),
    };
    parse_uint(text, max).map_err(|_| invalid_value(kind, field, value))
}
