//! One test per rule of SNAPSHOT.md: each asserts the JSON path and the wording of the message.
#![cfg(not(target_arch = "wasm32"))]

use identity_links::{Limits, Snapshot};

/// A valid snapshot with `patch` spliced in as extra top-level members or replacing tables.
fn doc(tables: &str) -> String {
    format!(r#"{{"version":1,{tables}}}"#)
}

const BASE: &str = r#""users":[{"id":"u1"},{"id":"u2","firstName":"A","lastName":null}],"groups":[{"id":"g1","name":"G"}],"memberships":[{"userId":"u1","groupId":"g1"}],"tasks":[{"id":"t1","assignee":"u1","identityLinks":[{"groupId":"g1","type":"candidate"}]}],"idpLinks":[{"userId":"u1","idpId":"i1","providedUserId":"p1","providedUserName":"n"}]"#;

/// The error message of loading `text`; panics if it loads.
fn refusal(text: &str) -> String {
    match Snapshot::from_json(text.as_bytes()) {
        Ok(_) => panic!("loaded, but should be refused: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn base_document_loads() {
    let s = Snapshot::from_json(doc(BASE).as_bytes()).map(|s| s.stats());
    assert_eq!(
        s.map(|s| (s.users, s.groups, s.memberships, s.tasks, s.identity_links, s.idp_links)),
        Ok((2, 1, 1, 1, 1, 1))
    );
}

#[test]
fn version_is_required_and_must_be_1() {
    assert_eq!(refusal(r#"{"users":[]}"#), "version: required field is missing");
    assert_eq!(refusal(r#"{"version":2}"#), "version: unsupported version 2 (must be 1)");
    assert_eq!(refusal(r#"{"version":"1"}"#), "version: expected the number 1, found a string");
}

#[test]
fn rule1_unknown_fields_are_errors() {
    assert_eq!(
        refusal(&doc(r#""tasks":[{"id":"t","asignee":"u1"}]"#)),
        "tasks[0].asignee: unknown field (allowed here: id, assignee, owner, processDefinitionKey, identityLinks)"
    );
    assert_eq!(
        refusal(r#"{"version":1,"extra":true}"#),
        "extra: unknown field (allowed here: version, sequence, timestamp, users, groups, memberships, tasks, idpLinks, authorizations, authorizationEnabled, zitadelMembers)"
    );
    assert_eq!(
        refusal(&doc(r#""tasks":[{"id":"t","identityLinks":[{"type":"x","userId":"u","role":"r"}]}]"#)),
        "tasks[0].identityLinks[0].role: unknown field (allowed here: userId, groupId, type)"
    );
}

#[test]
fn repeated_keys_are_errors() {
    assert_eq!(
        refusal(r#"{"version":1,"users":[{"id":"a","id":"b"}]}"#),
        "users[0].id: the same key appears twice in this object"
    );
}

#[test]
fn rule2_ids_and_types_non_empty_and_at_most_200_characters() {
    let long = "é".repeat(201);
    assert_eq!(refusal(&doc(r#""groups":[{"id":""}]"#)), "groups[0].id: must not be empty");
    assert_eq!(
        refusal(&doc(&format!(r#""groups":[{{"id":"{long}"}}]"#))),
        "groups[0].id: longer than 200 characters (201)"
    );
    assert!(
        Snapshot::from_json(doc(&format!(r#""groups":[{{"id":"{}"}}]"#, "é".repeat(200))).as_bytes()).is_ok(),
        "200 characters (400 bytes) are fine"
    );
    assert_eq!(
        refusal(&doc(r#""tasks":[{"id":"t","identityLinks":[{"userId":"u","type":""}]}]"#)),
        "tasks[0].identityLinks[0].type: must not be empty"
    );
    assert_eq!(
        refusal(&doc(&format!(r#""users":[{{"id":"u","lastName":"{long}"}}]"#))),
        "users[0].lastName: longer than 200 characters (201)"
    );
    assert_eq!(refusal(&doc(r#""tasks":[{"id":"t","assignee":""}]"#)), "tasks[0].assignee: must not be empty");
    assert!(
        Snapshot::from_json(doc(r#""users":[{"id":"u","firstName":"","org":""}]"#).as_bytes()).is_ok(),
        "names may be empty"
    );
}

#[test]
fn required_fields() {
    assert_eq!(refusal(&doc(r#""users":[{"firstName":"A"}]"#)), "users[0].id: required field is missing");
    assert_eq!(refusal(&doc(r#""memberships":[{"userId":"u"}]"#)), "memberships[0].groupId: required field is missing");
    assert_eq!(
        refusal(&doc(r#""tasks":[{"id":"t","identityLinks":[{"userId":"u"}]}]"#)),
        "tasks[0].identityLinks[0].type: required field is missing"
    );
    assert_eq!(
        refusal(&doc(r#""users":[{"id":"u"}],"idpLinks":[{"userId":"u","idpId":"i","providedUserId":"p"}]"#)),
        "idpLinks[0].providedUserName: required field is missing"
    );
}

#[test]
fn wrong_types_name_what_was_expected_and_found() {
    assert_eq!(refusal(r#"[]"#), "$: expected an object, found an array");
    assert_eq!(refusal(r#"{"version":1,"users":{}}"#), "users: expected an array, found an object");
    assert_eq!(refusal(&doc(r#""users":[{"id":7}]"#)), "users[0].id: expected a string, found a number");
    assert_eq!(
        refusal(&doc(r#""users":[{"id":"u","firstName":true}]"#)),
        "users[0].firstName: expected a string or null, found a boolean"
    );
    assert_eq!(refusal(&doc(r#""groups":["g"]"#)), "groups[0]: expected an object, found a string");
}

#[test]
fn rule3_ids_unique_within_their_table() {
    assert_eq!(
        refusal(&doc(r#""users":[{"id":"u1"},{"id":"u2"},{"id":"u1"}]"#)),
        r#"users[2].id: duplicate id "u1" (first at index 0)"#
    );
    assert_eq!(
        refusal(&doc(r#""groups":[{"id":"g"},{"id":"g"}]"#)),
        r#"groups[1].id: duplicate id "g" (first at index 0)"#
    );
    assert_eq!(
        refusal(&doc(r#""tasks":[{"id":"t"},{"id":"t"}]"#)),
        r#"tasks[1].id: duplicate id "t" (first at index 0)"#
    );
    assert!(
        Snapshot::from_json(doc(r#""users":[{"id":"x"}],"groups":[{"id":"x"}],"tasks":[{"id":"x"}]"#).as_bytes())
            .is_ok(),
        "tables are separate"
    );
}

#[test]
fn rule3_membership_and_idp_link_pairs_unique() {
    assert_eq!(
        refusal(&doc(
            r#""users":[{"id":"u"}],"groups":[{"id":"g"},{"id":"h"}],"memberships":[{"userId":"u","groupId":"g"},{"userId":"u","groupId":"h"},{"userId":"u","groupId":"g"}]"#
        )),
        "memberships[2]: duplicate membership (the same pair is at memberships[0])"
    );
    assert_eq!(
        refusal(&doc(
            r#""users":[{"id":"u"},{"id":"v"}],"idpLinks":[{"userId":"u","idpId":"i","providedUserId":"p","providedUserName":""},{"userId":"v","idpId":"i","providedUserId":"p","providedUserName":""}]"#
        )),
        "idpLinks[1]: duplicate IdP link: this idpId and providedUserId are already linked at idpLinks[0]"
    );
    // Several duplicates: the first row (in row order) that repeats an earlier one is named, with
    // the earliest row of its pair — not the pair that sorts first.
    let pairs = |rows: &[(&str, &str)]| {
        let rows: Vec<String> = rows.iter().map(|(u, g)| format!(r#"{{"userId":"{u}","groupId":"{g}"}}"#)).collect();
        doc(&format!(
            r#""users":[{{"id":"u"}},{{"id":"v"}}],"groups":[{{"id":"g"}},{{"id":"h"}}],"memberships":[{}]"#,
            rows.join(",")
        ))
    };
    for (rows, expected) in [
        (
            &[("v", "h"), ("u", "g"), ("u", "g"), ("v", "h")][..],
            "memberships[2]: duplicate membership (the same pair is at memberships[1])",
        ),
        (
            &[("v", "h"), ("u", "g"), ("v", "h"), ("u", "g")][..],
            "memberships[2]: duplicate membership (the same pair is at memberships[0])",
        ),
        (
            &[("u", "g"), ("u", "h"), ("v", "g"), ("u", "g"), ("u", "g")][..],
            "memberships[3]: duplicate membership (the same pair is at memberships[0])",
        ),
    ] {
        assert_eq!(refusal(&pairs(rows)), expected);
    }
    // Many distinct pairs (the table grows past several powers of two): none refused.
    let users: Vec<String> = (0..300).map(|i| format!(r#"{{"id":"u{i}"}}"#)).collect();
    let memberships: Vec<String> = (0..300)
        .flat_map(|i| {
            [format!(r#"{{"userId":"u{i}","groupId":"g"}}"#), format!(r#"{{"userId":"u{i}","groupId":"h"}}"#)]
        })
        .collect();
    let many = doc(&format!(
        r#""users":[{}],"groups":[{{"id":"g"}},{{"id":"h"}}],"memberships":[{}]"#,
        users.join(","),
        memberships.join(",")
    ));
    assert!(Snapshot::from_json(many.as_bytes()).is_ok());
}

#[test]
fn rule4_references_resolve() {
    assert_eq!(
        refusal(&doc(
            r#""users":[{"id":"u"}],"groups":[{"id":"g"}],"memberships":[{"userId":"u","groupId":"g"},{"userId":"u","groupId":"nope"}]"#
        )),
        r#"memberships[1].groupId: unknown group "nope" (not in groups)"#
    );
    assert_eq!(
        refusal(&doc(r#""groups":[{"id":"g"}],"memberships":[{"userId":"ghost","groupId":"g"}]"#)),
        r#"memberships[0].userId: unknown user "ghost" (not in users)"#
    );
    assert_eq!(
        refusal(&doc(r#""idpLinks":[{"userId":"ghost","idpId":"i","providedUserId":"p","providedUserName":"n"}]"#)),
        r#"idpLinks[0].userId: unknown user "ghost" (not in users)"#
    );
    // Tables may come in any order: references resolve against the whole document.
    assert!(Snapshot::from_json(
        br#"{"memberships":[{"userId":"u","groupId":"g"}],"groups":[{"id":"g"}],"users":[{"id":"u"}],"version":1}"#
    )
    .is_ok());
}

#[test]
fn rule5_sequence_and_timestamp() {
    assert_eq!(
        refusal(r#"{"version":1,"sequence":"18446744073709551616"}"#),
        r#"sequence: "18446744073709551616" is not a uint64 (0..18446744073709551615)"#
    );
    assert_eq!(refusal(r#"{"version":1,"sequence":-1}"#), "sequence: -1 is not a uint64 (0..18446744073709551615)");
    assert_eq!(
        refusal(r#"{"version":1,"timestamp":"16.01.2025"}"#),
        r#"timestamp: "16.01.2025" is not an RFC 3339 date-time: expected YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)"#
    );
    assert_eq!(
        refusal(r#"{"version":1,"timestamp":"2025-02-30T00:00:00Z"}"#),
        r#"timestamp: "2025-02-30T00:00:00Z" is not an RFC 3339 date-time: a date or time field is out of range"#
    );
    let s = Snapshot::from_json(
        br#"{"version":1,"sequence":18446744073709551615,"timestamp":"2025-01-16T03:26:13.541+01:00"}"#,
    );
    assert_eq!(
        s.map(|s| (s.sequence_text(), s.timestamp_text())),
        Ok(("18446744073709551615".into(), "2025-01-16T02:26:13.541Z".into()))
    );
    let d = Snapshot::from_json(br#"{"version":1}"#);
    assert_eq!(d.map(|s| (s.sequence_text(), s.timestamp_text())), Ok(("0".into(), "0001-01-01T00:00:00Z".into())));
}

#[test]
fn rule6_duplicate_identity_links_are_kept() {
    let s = Snapshot::from_json(
        doc(r#""tasks":[{"id":"t","identityLinks":[{"groupId":"g","type":"c"},{"groupId":"g","type":"c"}]}]"#)
            .as_bytes(),
    );
    assert_eq!(s.map(|s| s.stats().identity_links), Ok(2));
}

#[test]
fn identity_links_need_exactly_one_id() {
    let both = r#""tasks":[{"id":"t","identityLinks":[{"userId":"u","groupId":"g","type":"c"}]}]"#;
    let neither = r#""tasks":[{"id":"t","identityLinks":[{"userId":null,"type":"c"}]}]"#;
    for tables in [both, neither] {
        assert_eq!(refusal(&doc(tables)), "tasks[0].identityLinks[0]: exactly one of userId and groupId must be set");
    }
}

#[test]
fn syntax_errors_name_the_place_and_position() {
    assert_eq!(
        refusal("{\"version\":1,\n\"users\":[{\"id\":\"a\"},]}"),
        "users[1]: invalid JSON at line 2, column 21: unexpected character"
    );
    assert_eq!(
        refusal(r#"{"version":1,"users":[{"id":"\ud800"}]}"#),
        "users[0].id: invalid JSON at line 1, column 30: lone UTF-16 surrogate escape (not a Unicode character)"
    );
    assert_eq!(
        refusal(r#"{"version":1} {}"#),
        "$: invalid JSON at line 1, column 15: unexpected text after the JSON value"
    );
    assert_eq!(refusal(""), "$: invalid JSON at line 1, column 1: unexpected end of input");
}

#[test]
fn zero_limits_disable_the_restriction_as_zitadel_does() {
    use identity_links::json::Value;
    use identity_links::Query;
    let links: String = (0..150)
        .map(|i| format!(r#",{{"userId":"u","idpId":"i","providedUserId":"p{i}","providedUserName":""}}"#))
        .collect();
    let text = format!(r#"{{"version":1,"users":[{{"id":"u"}}],"idpLinks":[{}]}}"#, &links[1..]);
    let count = |limits: Limits, request: &str| {
        let s = Snapshot::from_json_with(text.as_bytes(), limits).map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        let request = Value::parse(request.as_bytes()).unwrap_or(Value::Null);
        s.run(Query::ListIdpLinks, &request, None, &mut out).map_err(|e| e.message())?;
        Ok::<usize, String>(String::from_utf8_lossy(&out).matches("idpId").count())
    };
    assert_eq!(count(Limits::default(), r#"{"userId":"u"}"#), Ok(100), "default page of 100");
    assert_eq!(count(Limits::new(0, 1000), r#"{"userId":"u"}"#), Ok(150), "no default limit: every row");
    assert_eq!(count(Limits::new(100, 0), r#"{"userId":"u","query":{"limit":5000}}"#), Ok(150), "no maximum");
    assert_eq!(
        count(Limits::new(100, 1000), r#"{"userId":"u","query":{"limit":5000}}"#),
        Err("Limit exceeded (QUERY-4M0fs)".into())
    );
}
