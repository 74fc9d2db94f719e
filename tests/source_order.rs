//! The source database's order (`groups[].rank`, `memberships[].rank`; docs/semantics.md): the
//! groups and each group's members in rank order when a snapshot carries it, G3's and G5's rules
//! when it does not; ranks refused when malformed or given to only some rows; kept by `toJson`
//! and the binary form (version 3), and the version 2 form still read.
#![cfg(not(target_arch = "wasm32"))]

use identity_links::query::context::CallContext;
use identity_links::query::request::UserGroupsRequest;
use identity_links::{Limits, Snapshot};

const USERS: &str = r#""users":[{"id":"me"},{"id":"zed"},{"id":"Amy"},{"id":"bob"}]"#;

fn load(text: &str) -> Snapshot {
    Snapshot::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn refusal(text: &str) -> String {
    match Snapshot::from_json(text.as_bytes()) {
        Ok(_) => panic!("loaded, but should be refused: {text}"),
        Err(e) => e.to_string(),
    }
}

/// `(group ids, member ids)` of `getUserGroups` for `user`, members in answer order.
fn answer(s: &Snapshot, user: &str) -> (Vec<String>, Vec<String>) {
    let request = UserGroupsRequest { user_id: Some(user.into()) };
    let a = s.user_groups_answer(&request, &CallContext::default()).expect("an answer");
    let ids = |column: &[u32], rows: &[u32]| rows.iter().map(|&r| s.str(column[r as usize]).to_owned()).collect();
    (ids(&s.groups.id, &a.groups), ids(&s.users.id, &a.users))
}

/// Each group's members, in the index's order.
fn members(s: &Snapshot) -> Vec<Vec<String>> {
    (0..s.groups.id.len())
        .map(|g| {
            let (from, to) = (s.groups.members_at[g] as usize, s.groups.members_at[g + 1] as usize);
            s.groups.members[from..to].iter().map(|&u| s.str(s.users.id[u as usize]).to_owned()).collect()
        })
        .collect()
}

const GROUPS_UNRANKED: &str = r#""groups":[{"id":"g1","name":"beta"},{"id":"g2","name":"Alpha"},{"id":"g3","name":null},{"id":"g4","name":"alpha"}]"#;
const MEMBERSHIPS_UNRANKED: &str = r#""memberships":[{"userId":"me","groupId":"g1"},{"userId":"me","groupId":"g2"},{"userId":"me","groupId":"g3"},{"userId":"me","groupId":"g4"},{"userId":"zed","groupId":"g1"},{"userId":"Amy","groupId":"g1"},{"userId":"bob","groupId":"g1"}]"#;

#[test]
fn without_ranks_g3_and_id_order_apply() {
    let s = load(&format!(r#"{{"version":1,{USERS},{GROUPS_UNRANKED},{MEMBERSHIPS_UNRANKED}}}"#));
    // NULL first, then UTF-16 code units: "Alpha" < "alpha" < "beta".
    assert_eq!(answer(&s, "me").0, ["g3", "g2", "g4", "g1"]);
    assert_eq!(members(&s)[0], ["Amy", "bob", "me", "zed"]);
    assert!(s.groups.rank.is_empty() && s.groups.member_rank.is_empty());
    assert!(!s.to_json().contains("rank"), "a snapshot without ranks is written without them");
}

#[test]
fn ranks_order_groups_and_members() {
    // en_US.UTF-8's order: alpha < Alpha < beta, NULL last; members zed, bob, Amy, me (any order
    // a collation might give: the ranks say it).
    let text = r#"{"version":1,"users":[{"id":"me"},{"id":"zed"},{"id":"Amy"},{"id":"bob"}],
        "groups":[{"id":"g1","name":"beta","rank":3},{"id":"g2","name":"Alpha","rank":2},{"id":"g3","name":null,"rank":4},{"id":"g4","name":"alpha","rank":1}],
        "memberships":[{"userId":"me","groupId":"g1","rank":4},{"userId":"me","groupId":"g2","rank":1},{"userId":"me","groupId":"g3","rank":1},{"userId":"me","groupId":"g4","rank":1},
                       {"userId":"zed","groupId":"g1","rank":1},{"userId":"Amy","groupId":"g1","rank":3},{"userId":"bob","groupId":"g1","rank":2}]}"#;
    let s = load(text);
    assert_eq!(answer(&s, "me").0, ["g4", "g2", "g1", "g3"]);
    assert_eq!(members(&s)[0], ["zed", "bob", "Amy", "me"]);
    assert_eq!(s.groups.member_rank[..4], [1, 2, 3, 4]);
    // toJson keeps them, and loading it gives the same tables.
    let again = load(&s.to_json());
    assert_eq!(again, s);
    assert!(s.to_json().contains(r#"{"id":"g1","name":"beta","rank":3}"#), "{}", s.to_json());
    assert!(s.to_json().contains(r#"{"userId":"zed","groupId":"g1","rank":1}"#), "{}", s.to_json());
    // The binary form keeps them.
    assert_eq!(Snapshot::from_bytes(&s.to_bytes(), Limits::default()).as_ref(), Ok(&s));
}

#[test]
fn equal_ranks_are_ordered_by_id_in_utf16_code_units() {
    // Equal names sort as peers in PostgreSQL (no tie-breaker in Camunda's ORDER BY): an
    // exporter gives them one rank, and identity-links orders them by id, as G3 does.
    let text = r#"{"version":1,"users":[{"id":"me"},{"id":"b"},{"id":"B"},{"id":"a"}],
        "groups":[{"id":"x","name":"Same","rank":0},{"id":"X","name":"Same","rank":0},{"id":"w","name":"First","rank":0},{"id":"late","name":"a","rank":9}],
        "memberships":[{"userId":"me","groupId":"x","rank":0},{"userId":"me","groupId":"X","rank":0},{"userId":"me","groupId":"late","rank":0},{"userId":"me","groupId":"w","rank":0},
                       {"userId":"b","groupId":"x","rank":5},{"userId":"B","groupId":"x","rank":5},{"userId":"a","groupId":"x","rank":6}]}"#;
    let s = load(text);
    assert_eq!(answer(&s, "me").0, ["X", "w", "x", "late"]);
    assert_eq!(members(&s)[0], ["me", "B", "b", "a"]);
}

#[test]
fn ranks_of_one_table_only() {
    // Ranked groups with unranked memberships: members in id order, and the other way round.
    let s = load(&format!(
        r#"{{"version":1,{USERS},"groups":[{{"id":"g1","name":"b","rank":1}},{{"id":"g2","name":"a","rank":0}}],{MEMBERSHIPS_UNRANKED}}}"#
    )
    .replace(r#",{"userId":"me","groupId":"g3"},{"userId":"me","groupId":"g4"}"#, ""));
    assert_eq!(answer(&s, "me").0, ["g2", "g1"]);
    assert_eq!(members(&s)[0], ["Amy", "bob", "me", "zed"]);
    assert_eq!(load(&s.to_json()), s);
}

#[test]
fn malformed_ranks_are_refused_naming_the_value() {
    let group = |rank: &str| format!(r#"{{"version":1,"groups":[{{"id":"g","name":null,"rank":{rank}}}]}}"#);
    let range = "is not a rank (an integer from 0 to 4294967294)";
    assert_eq!(refusal(&group("-1")), format!("groups[0].rank: -1 {range}"));
    assert_eq!(refusal(&group("1.5")), format!("groups[0].rank: 1.5 {range}"));
    assert_eq!(refusal(&group("4294967295")), format!("groups[0].rank: 4294967295 {range}"));
    assert_eq!(refusal(&group("1e10")), format!("groups[0].rank: 1e10 {range}"));
    assert_eq!(refusal(&group(r#""3""#)), "groups[0].rank: expected a rank (an integer), found a string");
    assert_eq!(refusal(&group("null")), "groups[0].rank: expected a rank (an integer), found null");
    assert_eq!(load(&group("4294967294")).groups.rank, [4_294_967_294]);
    assert_eq!(load(&group("2.0")).groups.rank, [2]);
    let membership = format!(
        r#"{{"version":1,{USERS},"groups":[{{"id":"g"}}],"memberships":[{{"userId":"me","groupId":"g","rank":true}}]}}"#
    );
    assert_eq!(refusal(&membership), "memberships[0].rank: expected a rank (an integer), found a boolean");
}

#[test]
fn ranks_are_given_to_every_row_of_a_table_or_to_none() {
    let text = r#"{"version":1,"groups":[{"id":"a","rank":0},{"id":"b"},{"id":"c","rank":1}]}"#;
    assert_eq!(
        refusal(text),
        "groups[1].rank: rank is missing, but groups[0] has one (a table gives every row a rank or none)"
    );
    let text = r#"{"version":1,"users":[{"id":"u"}],"groups":[{"id":"a"},{"id":"b"}],
        "memberships":[{"userId":"u","groupId":"a"},{"userId":"u","groupId":"b","rank":2}]}"#;
    assert_eq!(
        refusal(text),
        "memberships[1].rank: has a rank, but memberships[0] has none (a table gives every row a rank or none)"
    );
}

#[test]
fn the_binary_form_refuses_ranks_that_disagree_with_the_indexes() {
    let text = r#"{"version":1,"users":[{"id":"me"},{"id":"u"}],"groups":[{"id":"a","rank":1},{"id":"b","rank":2}],
        "memberships":[{"userId":"me","groupId":"a","rank":1},{"userId":"u","groupId":"a","rank":2},{"userId":"me","groupId":"b","rank":1}]}"#;
    let s = load(text);
    let mut bad = s.clone();
    bad.groups.rank.swap(0, 1);
    assert!(Snapshot::from_bytes(&bad.to_bytes(), Limits::default()).is_err(), "groups out of rank order");
    let mut bad = s.clone();
    bad.groups.member_rank.swap(0, 1);
    assert!(Snapshot::from_bytes(&bad.to_bytes(), Limits::default()).is_err(), "members out of rank order");
    let mut bad = s.clone();
    bad.groups.member_rank.pop();
    assert!(Snapshot::from_bytes(&bad.to_bytes(), Limits::default()).is_err(), "a rank per member");
    let mut bad = s.clone();
    bad.groups.rank[1] = u32::MAX;
    assert!(Snapshot::from_bytes(&bad.to_bytes(), Limits::default()).is_err(), "no rank is NONE");
}

#[test]
fn the_version_2_binary_form_is_still_read() {
    // tests/support/format2.idl: written by the release before version 3 (`toBytes` of
    // tests/support/format2.json), whose columns are version 3's but the two rank columns.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
    let bytes = std::fs::read(dir.join("format2.idl")).expect("the fixture");
    assert_eq!(&bytes[8..12], &2u32.to_le_bytes(), "a version 2 form");
    let json = std::fs::read(dir.join("format2.json")).expect("the fixture's JSON");
    let from_json = Snapshot::from_json(&json).expect("it loads");
    let old = Snapshot::from_bytes(&bytes, Limits::default()).expect("version 2 is read");
    assert_eq!(old, from_json);
    assert_eq!(answer(&old, "alice"), answer(&from_json, "alice"));
    // Written again, it is the current version (4); every truncation of the old form is still
    // refused.
    assert_eq!(&old.to_bytes()[8..12], &4u32.to_le_bytes());
    for len in 0..bytes.len() {
        assert!(Snapshot::from_bytes(&bytes[..len], Limits::default()).is_err(), "truncated to {len}");
    }
    // Version 2 with version 3's column count (or the other way round) is another format.
    let mut wrong = bytes.clone();
    wrong[8] = 3;
    assert!(Snapshot::from_bytes(&wrong, Limits::default())
        .unwrap_err()
        .to_string()
        .contains("another format version"));
}
