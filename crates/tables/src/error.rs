//! The snapshot's errors: what was refused and where. Strings are made only at the boundary
//! (`Display`, [`SnapshotError::write_body`]).

use std::fmt;

use crate::tables::MAX_RANK;

use identity_links_text::escape::{quote, write_str};
use identity_links_text::reader::SyntaxError;
use identity_links_text::timestamp::TimestampProblem;

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
    /// A `rank` that is not an integer from 0 to [`MAX_RANK`].
    Rank { found: String },
    /// A row with a `rank` in a table whose first row has none, or the other way round
    /// (`has` says which): a table carries the source's order for every row or for none.
    PartialRanks { has: bool, first: &'static str },
    /// A value outside what its field allows (`found` as written, `expected` says what is
    /// allowed): an authorization's `type`, `resourceType` or `permissions`.
    NotAllowed { found: String, expected: &'static str },
    /// An authorization row whose owner does not fit its type (a global row is `userId: "*"`,
    /// a grant or revoke names exactly one user or group).
    AuthorizationOwner,
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
            SnapshotProblem::NotAllowed { found, expected } => write!(f, "{found} is not {expected}"),
            SnapshotProblem::AuthorizationOwner => f.write_str(
                "a global authorization (type 0) has userId \"*\" and no groupId; a grant or revoke exactly one of userId and groupId",
            ),
            SnapshotProblem::Rank { found } => {
                write!(f, "{found} is not a rank (an integer from 0 to {MAX_RANK})")
            }
            SnapshotProblem::PartialRanks { has: true, first } => {
                write!(f, "has a rank, but {first} has none (a table gives every row a rank or none)")
            }
            SnapshotProblem::PartialRanks { has: false, first } => {
                write!(f, "rank is missing, but {first} has one (a table gives every row a rank or none)")
            }
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
    use super::comma_list;

    #[test]
    fn separates_names_with_commas() {
        assert_eq!(comma_list(&[]), "");
        assert_eq!(comma_list(&["a"]), "a");
        assert_eq!(comma_list(&["id", "name", "org"]), "id, name, org");
    }
}
