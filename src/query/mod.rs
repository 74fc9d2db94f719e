//! The three queries, their requests and the caller context.
//!
//! Each query writes the peer's exact JSON body into a byte buffer: the HTTP path hands those
//! bytes to a `Response` as they are, and the JavaScript API parses them into objects whose
//! `JSON.stringify` gives the same bytes back.

pub mod access;
pub mod context;
mod identity_links;
mod idp_links;
pub mod java_set;
pub mod peer;
pub mod request;
mod user_groups;

pub use context::{CallContext, Caller, ContextError, Grant, Resource};
pub use identity_links::{AnswerLink, LinkKind};
pub use idp_links::{IdpDetails, IdpPage};
pub use peer::Peer;
pub use request::{IdentityLinksRequest, ListIdpLinksRequest, RequestKeys, UserGroupsRequest};
pub use user_groups::{DisplayName, GroupInfoAnswer};

use crate::error::QueryError;
use crate::json::Value;
use crate::snapshot::Snapshot;

/// Which query to run. A query owns what is its own: its name, the peer that answers it (and so
/// its error format), its request's keys. Every `match` over it is exhaustive, so a new variant
/// does not compile until each place that must decide has decided (docs/architecture.md,
/// "Adding a query").
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
    /// Every query (a new variant is added here too).
    pub const ALL: [Query; 3] = [Query::IdentityLinks, Query::UserGroups, Query::ListIdpLinks];

    /// The query by its JavaScript name.
    pub fn from_name(name: &str) -> Option<Query> {
        Query::ALL.into_iter().find(|q| q.name() == name)
    }

    /// The query's JavaScript name.
    pub fn name(self) -> &'static str {
        match self {
            Query::IdentityLinks => "getIdentityLinks",
            Query::UserGroups => "getUserGroups",
            Query::ListIdpLinks => "listIdpLinks",
        }
    }

    /// The peer server whose answers this query reproduces, errors included.
    pub fn peer(self) -> Peer {
        match self {
            Query::IdentityLinks | Query::UserGroups => Peer::Camunda,
            Query::ListIdpLinks => Peer::Zitadel,
        }
    }

    /// The names of the request's fields (what its decoder in [`request`] reads).
    pub fn request_keys(self) -> RequestKeys {
        match self {
            Query::IdentityLinks => RequestKeys { fields: &["taskId", "type"], query: &[] },
            Query::UserGroups => RequestKeys { fields: &["userId"], query: &[] },
            Query::ListIdpLinks => RequestKeys { fields: &["userId", "query"], query: &["offset", "limit", "asc"] },
        }
    }

    /// A malformed request or context (`message` says what is wrong) as this query's peer
    /// reports it: the one place that turns such a message into an error.
    pub fn malformed(self, message: String) -> QueryError {
        self.peer().malformed(message)
    }
}

impl ContextError {
    /// The error `query` gives for this context: a malformed one is its peer's malformed
    /// request; one without a caller is a usage error, whoever the peer.
    pub fn for_query(self, query: Query) -> QueryError {
        match self {
            ContextError::Malformed(message) => query.malformed(message),
            ContextError::NoCaller(message) => crate::error::UsageError(message).into(),
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
        let context_of = || CallContext::from_value(context).map_err(|e| e.for_query(query));
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
        let malformed = |e: identity_links_text::reader::SyntaxError| query.malformed(query.peer().syntax_message(&e));
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
    fn every_query_is_found_by_its_name() {
        for query in Query::ALL {
            assert_eq!(Query::from_name(query.name()), Some(query));
        }
        assert_eq!(Query::from_name("nope"), None);
    }

    #[test]
    fn a_context_without_a_caller_is_a_usage_error_for_every_query() {
        let s = Snapshot::from_json(br#"{"version":1,"tasks":[{"id":"t","assignee":"a"}]}"#)
            .expect("the test snapshot loads");
        for query in Query::ALL {
            for nobody in ["{}", "null", r#"{"caller":null}"#] {
                let got = s.run_json(query, r#"{"taskId":"t","userId":"a"}"#, Some(nobody)).map_err(|e| e.body_json());
                let want = r#"{"type":"UsageError","message":"context: "#;
                assert!(got.as_ref().is_err_and(|b| b.starts_with(want)), "{query:?} {nobody}: {got:?}");
            }
        }
    }

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
