//! The follower's document read in two parts on two threads, then merged into the rows one load
//! of the whole document collects (`identity_links_tables::load::parse`, then `build::index`):
//! loading the state is the largest part of a step at 1M links (bench/RESULTS.md), and the
//! interning of its strings cannot be shared out within one document.
//!
//! The parts are two documents: the first a prefix of the whole, closed after one of the tasks;
//! the second the rest, opened as a document ([`SECOND_PART`]). A string's symbol is its place in
//! the order of first appearance, so the merged strings are the first part's, then the second's
//! that the first lacks, in the second's order: exactly the order one loader gives. Anything a
//! part or the merge refuses is left to the whole document's load ([`load_parts`]), so refusals
//! are the one-shot export's, word for word.

use identity_links::{Limits, Snapshot};
use identity_links_tables::build::{index, Raw};
use identity_links_tables::load::parse;
use identity_links_tables::strings::{Sym, NONE};

/// What the second part starts with: a document whose `tasks` continue the first part's.
pub const SECOND_PART: &[u8] = br#"{"version":1,"tasks":["#;

/// What closes the first part after its last task.
pub const FIRST_PART_END: &[u8] = b"]}";

/// The whole document the two parts were cut from.
pub fn whole(first: &[u8], second: &[u8]) -> Vec<u8> {
    // Parts not cut as this module cuts them are joined as they are (their load then says why).
    let head = first.strip_suffix(FIRST_PART_END).unwrap_or(first);
    let tail = second.strip_prefix(SECOND_PART).unwrap_or(second);
    let mut text = Vec::with_capacity(head.len() + 1 + tail.len());
    text.extend_from_slice(head);
    // The second part's first task follows the first's last (none: the array closes).
    if tail.first() != Some(&b']') {
        text.push(b',');
    }
    text.extend_from_slice(tail);
    text
}

/// The snapshot of the document cut into `first` and `second` (see the module documentation),
/// each part read on a thread of its own; the whole document's load where a part or the merge
/// refuses, or where the parts are not cut as this module cuts them. Parts refused where the
/// whole document loads would be this module's mistake: it says so on standard error
/// (`follow warning: …`), and the whole document's snapshot is taken.
pub fn load_parts(first: &[u8], second: &[u8]) -> Result<Snapshot, String> {
    let parts = in_parts(first, second);
    if let Some(snapshot) = parts {
        return Ok(snapshot);
    }
    let whole = crate::document::load(&whole(first, second));
    if whole.is_ok() {
        eprintln!(
            "{} follow warning: the document read in two parts was refused, whole it loads",
            crate::output::now()
        );
    }
    whole
}

/// The snapshot of the document cut into `first` and `second`, read in two parts; none if a part
/// or the merge refuses.
fn in_parts(first: &[u8], second: &[u8]) -> Option<Snapshot> {
    let limits = Limits::default();
    let cut = first.ends_with(FIRST_PART_END) && second.starts_with(SECOND_PART);
    if !cut || first.len() + second.len() > limits.max_bytes {
        return None;
    }
    let (a, b) = std::thread::scope(|s| {
        // A thread the system refuses to make: the second part read after the first, here.
        match std::thread::Builder::new().spawn_scoped(s, || parse(second, limits)) {
            Ok(b) => (parse(first, limits), b.join().ok()),
            Err(_) => (parse(first, limits), Some(parse(second, limits))),
        }
    });
    let mut raw = merge(a.ok()?, b?.ok()?)?;
    let strings = std::mem::take(&mut raw.strings).finish();
    Some(Snapshot::from_loaded(index(raw, strings).ok()?, limits))
}

/// The rows of `first` followed by those of `second`, as one `parse` of the whole document
/// collects them. The document's end (`sequence`, `timestamp`, `authorizationEnabled`) must be in
/// `second`, as the follower writes it: `None` if `first` has any of it (with a value other
/// than the default), where the whole document's load would refuse what the parts accept (an id
/// in both parts), or when the string table is full: the caller then loads the whole document.
pub fn merge(mut first: Raw, second: Raw) -> Option<Raw> {
    let theirs = second.strings.strings();
    let mut map = Vec::with_capacity(theirs.len());
    for s in 0..theirs.len() as Sym {
        map.push(first.strings.intern(theirs.get(s)).ok()?);
    }
    let sym = |s: Sym| if s == NONE { NONE } else { map[s as usize] };
    let syms = |into: &mut Vec<Sym>, from: &[Sym]| into.extend(from.iter().map(|&s| sym(s)));
    let rows = |into: &mut Vec<u32>, from: &[u32], shift: usize| {
        let shift = u32::try_from(shift).ok()?;
        into.extend(from.iter().map(|&r| r + shift));
        Some(())
    };
    // Each id's row: the second part's rows come after the first's; an id in both is refused.
    let by_sym = |into: &mut Vec<u32>, from: &[u32], shift: usize| -> Option<()> {
        let shift = u32::try_from(shift).ok()?;
        for (s, &row) in from.iter().enumerate().filter(|&(_, &row)| row != NONE) {
            let i = map[s] as usize;
            if into.len() <= i {
                into.resize(i + 1, NONE);
            }
            if into[i] != NONE {
                return None;
            }
            into[i] = row + shift;
        }
        Some(())
    };
    // Offsets into a list column (a task's links, a member's roles): the second part's, shifted
    // past the first's items; a part without rows has none (not even the leading 0).
    let offsets = |into: &mut Vec<u32>, from: &[u32], items: usize| -> Option<()> {
        match (into.is_empty(), from.split_first()) {
            (_, None) => Some(()),
            (true, Some(_)) => rows(into, from, items),
            (false, Some((_, rest))) => rows(into, rest, items),
        }
    };

    by_sym(&mut first.user_by_sym, &second.user_by_sym, first.user_id.len())?;
    by_sym(&mut first.group_by_sym, &second.group_by_sym, first.group_id.len())?;
    by_sym(&mut first.task_by_sym, &second.task_by_sym, first.tasks.id.len())?;

    syms(&mut first.user_id, &second.user_id);
    syms(&mut first.user_first, &second.user_first);
    syms(&mut first.user_last, &second.user_last);
    syms(&mut first.user_org, &second.user_org);

    syms(&mut first.group_id, &second.group_id);
    syms(&mut first.group_name, &second.group_name);
    first.group_rank.extend_from_slice(&second.group_rank);
    first.memberships.extend(second.memberships.iter().map(|&(u, g)| (sym(u), sym(g))));
    first.membership_rank.extend_from_slice(&second.membership_rank);

    let (t, other) = (&mut first.tasks, &second.tasks);
    syms(&mut t.id, &other.id);
    syms(&mut t.assignee, &other.assignee);
    syms(&mut t.owner, &other.owner);
    syms(&mut t.definition, &other.definition);
    offsets(&mut t.links_at, &other.links_at, t.link_ref.len())?;
    syms(&mut t.link_ref, &other.link_ref);
    t.link_type.extend(other.link_type.iter().map(|&k| sym(k >> 1) << 1 | (k & 1)));

    syms(&mut first.idp_user, &second.idp_user);
    syms(&mut first.idp_id, &second.idp_id);
    syms(&mut first.idp_provided_id, &second.idp_provided_id);
    syms(&mut first.idp_provided_name, &second.idp_provided_name);

    let authorizations =
        second.authorizations.iter().map(|&(owner, kind, resource, perms)| (sym(owner), kind, sym(resource), perms));
    first.authorizations.extend(authorizations);

    syms(&mut first.member_user, &second.member_user);
    syms(&mut first.member_org, &second.member_org);
    syms(&mut first.member_project, &second.member_project);
    offsets(&mut first.member_roles_at, &second.member_roles_at, first.member_roles.len())?;
    syms(&mut first.member_roles, &second.member_roles);

    // The document's end is the second part's; the first must not have any of it.
    let none = Raw::default();
    if (first.sequence, first.timestamp, first.authorization_enabled) != (none.sequence, none.timestamp, false) {
        return None;
    }
    (first.sequence, first.timestamp) = (second.sequence, second.timestamp);
    first.authorization_enabled = second.authorization_enabled;
    Some(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parts of `{"version":1<before>,"tasks":[<a>,<b>]<after>}` cut between the tasks `a`
    /// and `b`, and the whole document.
    fn cut(before: &str, a: &str, b: &str, after: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
        let whole = format!(r#"{{"version":1{before},"tasks":[{a},{b}]{after}}}"#);
        let first = format!(r#"{{"version":1{before},"tasks":[{a}]}}"#);
        let second = format!(r#"{{"version":1,"tasks":[{b}]{after}}}"#);
        (first.into_bytes(), second.into_bytes(), whole.into_bytes())
    }

    const BEFORE: &str = r#","groups":[{"id":"g1","name":"Group"},{"id":"g2","name":null}],"memberships":[{"userId":"u2","groupId":"g1"},{"userId":"u1","groupId":"g2"}]"#;
    const A: &str = r#"{"id":"t1","assignee":"u1","owner":null,"processDefinitionKey":"p","identityLinks":[{"userId":"u2","groupId":null,"type":"candidate"}]},{"id":"t2","assignee":null,"owner":"x","identityLinks":[]}"#;
    const B: &str = r#"{"id":"t3","assignee":"u9","owner":"u1","identityLinks":[{"userId":null,"groupId":"g2","type":"candidate"},{"userId":"new","groupId":null,"type":"participant"}]}"#;
    const AFTER: &str = r#","idpLinks":[{"userId":"u1","idpId":"i","providedUserId":"p1","providedUserName":"n"}],"zitadelMembers":[{"userId":"u1","org":"o","roles":["ORG_OWNER","x"]},{"userId":"u2","roles":[]}],"users":[{"id":"u1","firstName":"A","lastName":null,"org":"o"},{"id":"u2","firstName":null,"lastName":"B"}],"sequence":"7","timestamp":"2024-01-01T00:00:00Z""#;

    #[test]
    fn two_parts_make_what_one_load_makes() {
        let (first, second, whole_text) = cut(BEFORE, A, B, AFTER);
        assert_eq!(whole(&first, &second), whole_text);
        let one = crate::document::load(&whole_text).expect("the whole document loads");
        // The merge itself, not the whole load it falls back to.
        let merged = merge(
            parse(&first, Limits::default()).expect("a part"),
            parse(&second, Limits::default()).expect("a part"),
        )
        .expect("the parts merge");
        let mut raw = merged;
        let strings = std::mem::take(&mut raw.strings).finish();
        let parts = Snapshot::from_loaded(index(raw, strings).expect("the rows index"), Limits::default());
        assert_eq!(parts, one, "the same tables, symbols and all");
        assert_eq!(parts.to_bytes(), one.to_bytes());
        assert_eq!(load_parts(&first, &second).expect("loads"), one);
    }

    /// The two parts, each read (both must be), merged: none when the merge refuses.
    fn merged(first: &[u8], second: &[u8]) -> Option<Raw> {
        let limits = Limits::default();
        merge(parse(first, limits).expect("a part"), parse(second, limits).expect("a part"))
    }

    #[test]
    fn an_id_in_both_parts_is_refused_as_the_whole_document_is() {
        let task = r#"{"id":"t1","assignee":null,"owner":null,"identityLinks":[]}"#;
        let (first, second, whole_text) = cut("", task, task, "");
        assert!(merged(&first, &second).is_none());
        let refused = crate::document::load(&whole_text).expect_err("a duplicate id");
        assert_eq!(load_parts(&first, &second).expect_err("a duplicate id"), refused);
    }

    #[test]
    fn parts_not_cut_as_this_module_cuts_are_refused_not_a_panic() {
        for (first, second) in [(&b""[..], &b""[..]), (b"]", b"{"), (b"{}", b"{\"version\":1")] {
            assert!(load_parts(first, second).is_err(), "{first:?} {second:?}");
        }
    }

    #[test]
    fn a_document_whose_end_comes_first_is_left_to_the_whole_load() {
        let head = r#","sequence":"9","timestamp":"2024-01-01T00:00:00Z""#;
        let after = AFTER.split(r#","sequence""#).next().expect("the sections");
        let (first, second, whole_text) = cut(&format!("{head}{BEFORE}"), A, B, after);
        assert!(merged(&first, &second).is_none());
        let one = crate::document::load(&whole_text).expect("the whole document loads");
        assert_eq!(load_parts(&first, &second).expect("loads, whole"), one);
    }

    #[test]
    fn a_part_refused_is_refused_with_the_whole_documents_words() {
        let bad = r#"{"id":"","assignee":null,"owner":null,"identityLinks":[]}"#;
        let (first, second, whole_text) = cut(BEFORE, A, bad, AFTER);
        let refused = crate::document::load(&whole_text).expect_err("an empty id");
        assert!(refused.contains("tasks[2]"), "{refused}");
        assert_eq!(load_parts(&first, &second).expect_err("an empty id"), refused);
    }
}
