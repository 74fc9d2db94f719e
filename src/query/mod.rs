//! The three queries, their requests and the caller context.
//!
//! Each query writes the peer's exact JSON body into a byte buffer: the HTTP path hands those
//! bytes to a `Response` as they are, and the JavaScript API parses them into objects whose
//! `JSON.stringify` gives the same bytes back.

pub mod context;
mod identity_links;
mod idp_links;
pub mod java_set;
pub mod request;
mod user_groups;

pub use context::{CallContext, Caller, ContextError, Grant, Resource};
pub use identity_links::{AnswerLink, LinkKind};
pub use idp_links::{IdpDetails, IdpPage};
pub use request::{IdentityLinksRequest, ListIdpLinksRequest, UserGroupsRequest};
pub use user_groups::{DisplayName, GroupInfoAnswer};

use crate::error::{CamundaError, QueryError, ZitadelError};
use crate::json::Value;
use crate::snapshot::Snapshot;

/// Which query to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Query {
    /// `getIdentityLinks`
    IdentityLinks,
    /// `getUserGroups`
    UserGroups,
    /// `listIdpLinks`
    ListIdpLinks,
}

impl Query {
    /// The query by its JavaScript name.
    pub fn from_name(name: &str) -> Option<Query> {
        match name {
            "getIdentityLinks" => Some(Query::IdentityLinks),
            "getUserGroups" => Some(Query::UserGroups),
            "listIdpLinks" => Some(Query::ListIdpLinks),
            _ => None,
        }
    }

    /// The query's JavaScript name.
    pub fn name(self) -> &'static str {
        match self {
            Query::IdentityLinks => "getIdentityLinks",
            Query::UserGroups => "getUserGroups",
            Query::ListIdpLinks => "listIdpLinks",
        }
    }

    /// A context error as this query's peer reports a malformed request.
    fn context_error(self, e: ContextError) -> QueryError {
        match self {
            Query::IdentityLinks | Query::UserGroups => CamundaError::InvalidRequest { message: e.0 }.into(),
            Query::ListIdpLinks => ZitadelError::InvalidArgument { message: e.0 }.into(),
        }
    }
}

impl Snapshot {
    /// Runs `query` with a request and an optional context given as JSON values, appending the
    /// answer's JSON body to `out` (nothing is appended on error).
    ///
    /// # Errors
    /// The peer's error for a malformed request or context, or the query's own errors.
    pub fn run(
        &self,
        query: Query,
        request: &Value,
        context: Option<&Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), QueryError> {
        let start = out.len();
        let result = self.run_inner(query, request, context, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    fn run_inner(
        &self,
        query: Query,
        request: &Value,
        context: Option<&Value>,
        out: &mut Vec<u8>,
    ) -> Result<(), QueryError> {
        // The request is checked before the context, as the peers check their input first.
        let context_of = || CallContext::from_value(context).map_err(|e| query.context_error(e));
        match query {
            Query::IdentityLinks => {
                let request = IdentityLinksRequest::from_value(request)?;
                Ok(self.identity_links(&request, &context_of()?, out)?)
            }
            Query::UserGroups => {
                let request = UserGroupsRequest::from_value(request)?;
                Ok(self.user_groups(&request, &context_of()?, out)?)
            }
            Query::ListIdpLinks => {
                let request = ListIdpLinksRequest::from_value(request)?;
                Ok(self.list_idp_links(&request, &context_of()?, out)?)
            }
        }
    }

    /// [`Snapshot::run`] over JSON text, returning the body as a `String`.
    ///
    /// # Errors
    /// As [`Snapshot::run`]; malformed JSON is the peer's malformed-request error.
    pub fn run_json(&self, query: Query, request: &str, context: Option<&str>) -> Result<String, QueryError> {
        let malformed = |e: identity_links_text::reader::SyntaxError| -> QueryError {
            let message = format!("request is not valid JSON: {e}");
            match query {
                Query::ListIdpLinks => {
                    ZitadelError::InvalidArgument { message: format!("proto: syntax error: {e}") }.into()
                }
                _ => CamundaError::InvalidRequest { message }.into(),
            }
        };
        let request = Value::parse(request.as_bytes()).map_err(malformed)?;
        let context = context.map(|c| Value::parse(c.as_bytes())).transpose().map_err(malformed)?;
        let mut out = Vec::new();
        self.run(query, &request, context.as_ref(), &mut out)?;
        Ok(String::from_utf8(out).unwrap_or_default())
    }
}

impl Snapshot {
    /// Writes symbol `sym`'s string, or `null` for [`NONE`](identity_links_tables::strings::NONE).
    pub(crate) fn put_opt(&self, out: &mut dyn crate::json::JsonSink, sym: identity_links_tables::strings::Sym) {
        match sym {
            identity_links_tables::strings::NONE => out.raw(b"null"),
            _ if out.by_symbol() => out.sym(sym, ""),
            _ => out.sym(sym, self.str(sym)),
        }
    }

    /// Writes symbol `sym`'s string (`""` for [`NONE`](identity_links_tables::strings::NONE), which no valid
    /// snapshot has where this is called).
    pub(crate) fn put_str(&self, out: &mut dyn crate::json::JsonSink, sym: identity_links_tables::strings::Sym) {
        match sym {
            identity_links_tables::strings::NONE => out.text(""),
            _ if out.by_symbol() => out.sym(sym, ""),
            _ => out.sym(sym, self.str(sym)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_json_answers_and_reports_malformed_json_as_the_peer_would() {
        let s = Snapshot::from_json(br#"{"version":1,"tasks":[{"id":"t","assignee":"a"}]}"#)
            .expect("the test snapshot loads");
        let links = s.run_json(Query::IdentityLinks, r#"{"taskId":"t"}"#, None);
        assert_eq!(links, Ok(r#"[{"userId":"a","groupId":null,"type":"assignee"}]"#.to_owned()));
        let camunda = s.run_json(Query::UserGroups, "{", None).map_err(|e| (e.status(), e.body_json()));
        assert_eq!(
            camunda,
            Err((400, r#"{"type":"InvalidRequestException","message":"request is not valid JSON: invalid JSON at line 1, column 2: unexpected end of input","code":null}"#.to_owned()))
        );
        let zitadel = s.run_json(Query::ListIdpLinks, r#"{"userId":"a"}"#, Some("[")).map_err(|e| e.message());
        assert_eq!(
            zitadel,
            Err("proto: syntax error: invalid JSON at line 1, column 2: unexpected end of input".to_owned())
        );
    }
}
