//! What authentication needs, from the snapshot: Camunda's authorizations with Camunda's
//! precedence (`Authorization.xml`'s `authCheck`), READ_TASK through the task's process
//! definition, the authorization flag; Zitadel's memberships with the role mapping (N3); the
//! format's additions (refusals naming the value, `toJson`, binary version 4, version 3 read).

use identity_links::query::access::RoleMapping;
use identity_links::query::context::{CallContext, Caller};
use identity_links::query::request::{IdentityLinksRequest, ListIdpLinksRequest, UserGroupsRequest};
use identity_links::{CamundaError, Limits, Snapshot, ZitadelError};

const BASE: &str = r#""users":[{"id":"alice","org":"acme"},{"id":"bob","org":"acme"},{"id":"carol","org":"other"},{"id":"dave"}],
  "groups":[{"id":"sales","name":"Sales"},{"id":"ops","name":"Ops"},{"id":"camunda-admin","name":"Admins"}],
  "memberships":[{"userId":"alice","groupId":"sales"},{"userId":"bob","groupId":"sales"},{"userId":"carol","groupId":"ops"},
                 {"userId":"alice","groupId":"ops"},{"userId":"dave","groupId":"camunda-admin"}],
  "tasks":[{"id":"t1","assignee":"bob","processDefinitionKey":"invoice","identityLinks":[]},
           {"id":"t2","assignee":"bob","identityLinks":[]}],
  "idpLinks":[{"userId":"alice","idpId":"i","providedUserId":"a1","providedUserName":"a"},{"userId":"bob","idpId":"i","providedUserId":"b1","providedUserName":"b"},
              {"userId":"carol","idpId":"i","providedUserId":"c1","providedUserName":"c"},
              {"userId":"dave","idpId":"i","providedUserId":"d1","providedUserName":"d"}]"#;

/// A snapshot with authorization on and these rows (a JSON array's elements).
fn with(rows: &str) -> Snapshot {
    let text = format!(r#"{{"version":1,{BASE},"authorizationEnabled":true,"authorizations":[{rows}]}}"#);
    Snapshot::from_json(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn reads_task(s: &Snapshot, user: &str, task: &str) -> bool {
    let context = CallContext { caller: Some(s.camunda_caller(user)) };
    let request = IdentityLinksRequest { task_id: task.into(), kind: None };
    match s.identity_links_answer(&request, &context) {
        Ok(_) => true,
        Err(CamundaError::Unauthorized { .. }) => false,
        Err(e) => panic!("{e:?}"),
    }
}

/// `getUserGroups` for `user` as `user` sees it: group ids, member ids.
fn groups_seen(s: &Snapshot, user: &str) -> (Vec<String>, Vec<String>) {
    let context = CallContext { caller: Some(s.camunda_caller(user)) };
    let a = s.user_groups_answer(&UserGroupsRequest { user_id: Some(user.into()) }, &context).expect("an answer");
    let ids = |col: &[u32], rows: &[u32]| rows.iter().map(|&r| s.str(col[r as usize]).to_owned()).collect();
    (ids(&s.groups.id, &a.groups), ids(&s.users.id, &a.users))
}

const GLOBAL_TASK_READ: &str = r#"{"type":0,"userId":"*","resourceType":7,"resourceId":"*","permissions":2}"#;

fn row(kind: u32, owner: &str, resource_type: u32, id: &str, perms: i64) -> String {
    let owner = match owner.strip_prefix("g:") {
        Some(group) => format!(r#""groupId":"{group}""#),
        None => format!(r#""userId":"{owner}""#),
    };
    format!(r#"{{"type":{kind},{owner},"resourceType":{resource_type},"resourceId":"{id}","permissions":{perms}}}"#)
}

/// ALL with READ cleared: a revoke of READ as Camunda stores it (a revoke starts at ALL).
const NOT_READ: i64 = i32::MAX as i64 & !2;

#[test]
fn camunda_precedence_table() {
    // (rows, user, task, allowed, why) on Task resources; t2 has no process definition.
    let cases: Vec<(Vec<String>, &str, &str, bool, &str)> = vec![
        (vec![], "alice", "t2", false, "no row: not authorized"),
        (vec![GLOBAL_TASK_READ.into()], "alice", "t2", true, "a global grant on *"),
        (vec![row(1, "alice", 7, "t2", 2)], "alice", "t2", true, "the user's grant on the id"),
        (vec![row(1, "alice", 7, "t2", 4)], "alice", "t2", false, "a grant without READ"),
        (vec![row(1, "alice", 7, "*", 2147483647)], "alice", "t2", true, "ALL on *"),
        (vec![row(1, "bob", 7, "t2", 2)], "alice", "t2", false, "another user's grant"),
        // A specific id beats *: at the user level, and at the group level.
        (
            vec![row(1, "alice", 7, "*", 2), row(2, "alice", 7, "t2", NOT_READ)],
            "alice",
            "t2",
            false,
            "user revoke on id beats user grant on *",
        ),
        (
            vec![row(2, "alice", 7, "*", NOT_READ), row(1, "alice", 7, "t2", 2)],
            "alice",
            "t2",
            true,
            "user grant on id beats user revoke on *",
        ),
        (
            vec![row(1, "g:sales", 7, "*", 2), row(2, "g:sales", 7, "t2", NOT_READ)],
            "alice",
            "t2",
            false,
            "group revoke on id beats group grant on *",
        ),
        // The user's own rows beat its groups'; groups' beat global.
        (
            vec![row(1, "g:sales", 7, "t2", 2), row(2, "alice", 7, "t2", NOT_READ)],
            "alice",
            "t2",
            false,
            "user revoke beats group grant",
        ),
        (
            vec![row(2, "g:sales", 7, "t2", NOT_READ), row(1, "alice", 7, "t2", 2)],
            "alice",
            "t2",
            true,
            "user grant beats group revoke",
        ),
        (
            vec![row(2, "g:sales", 7, "t2", NOT_READ), row(1, "alice", 7, "*", 2)],
            "alice",
            "t2",
            true,
            "user grant on * beats group revoke on id",
        ),
        (
            vec![GLOBAL_TASK_READ.into(), row(2, "g:sales", 7, "*", NOT_READ)],
            "alice",
            "t2",
            false,
            "group revoke beats global grant",
        ),
        (
            vec![row(0, "*", 7, "*", 0), row(1, "g:ops", 7, "t2", 2)],
            "alice",
            "t2",
            true,
            "group grant beats global without READ",
        ),
        (vec![row(1, "g:sales", 7, "t2", 2)], "carol", "t2", false, "a group the user is not in"),
        // Grant and revoke at the same level and id: the grant's WHEN comes first.
        (
            vec![row(1, "alice", 7, "t2", 2), row(2, "alice", 7, "t2", NOT_READ)],
            "alice",
            "t2",
            true,
            "grant before revoke, same level",
        ),
        (
            vec![row(1, "g:sales", 7, "t2", 2), row(2, "g:ops", 7, "t2", NOT_READ)],
            "alice",
            "t2",
            true,
            "one group grants, another revokes",
        ),
        // A global row on the id without READ only counts where revokes are checked.
        (
            vec![GLOBAL_TASK_READ.into(), row(0, "*", 7, "t2", 0)],
            "alice",
            "t2",
            true,
            "no revoke row: global on id lacking READ ignored",
        ),
        (
            vec![GLOBAL_TASK_READ.into(), row(0, "*", 7, "t2", 0), row(2, "alice", 1, "x", 0)],
            "alice",
            "t2",
            false,
            "revokes on: global on id lacking READ denies",
        ),
        // READ_TASK on the task's process definition (t1 has key "invoice").
        (vec![row(1, "alice", 6, "invoice", 64)], "alice", "t1", true, "READ_TASK on the definition"),
        (vec![row(1, "alice", 6, "*", 64)], "alice", "t1", true, "READ_TASK on every definition"),
        (vec![row(1, "alice", 6, "invoice", 2)], "alice", "t1", false, "READ on the definition is not READ_TASK"),
        (vec![row(1, "alice", 6, "invoice", 64)], "alice", "t2", false, "a standalone task ignores definitions"),
        (vec![row(1, "alice", 6, "other", 64)], "alice", "t1", false, "another definition"),
        (
            vec![row(1, "alice", 6, "invoice", 64), row(2, "alice", 7, "t1", NOT_READ)],
            "alice",
            "t1",
            false,
            "the task's own revoke comes first (COALESCE)",
        ),
        // camunda-admin: its rights are its rows (Camunda's setup grants ALL on *).
        (vec![], "dave", "t2", false, "camunda-admin without rows"),
        (vec![row(1, "g:camunda-admin", 7, "*", 2147483647)], "dave", "t2", true, "camunda-admin with setup's rows"),
        (
            vec![row(1, "g:camunda-admin", 7, "*", 2147483647), row(2, "dave", 7, "t2", NOT_READ)],
            "dave",
            "t2",
            false,
            "a user revoke beats camunda-admin's grant",
        ),
    ];
    for (rows, user, task, allowed, why) in cases {
        let s = with(&rows.join(","));
        assert_eq!(reads_task(&s, user, task), allowed, "{why}: {rows:?}");
    }
}

/// Camunda's own authorization tests as a table (camunda/camunda-bpm-platform, engine/src/test/
/// java/org/camunda/bpm/engine/test/api/...): each row names the test it follows, its rows and
/// who may READ which task afterwards. Users: alice (sales, ops), bob (sales), carol (ops), dave
/// (camunda-admin); t1 is in process definition "invoice", t2 is standalone. The precedence is
/// `authCheck` in `Authorization.xml`: the user's rows (on the id, then on `*`; a grant before
/// a revoke), else its groups' (likewise), else the global rows.
#[test]
fn camunda_precedence_from_camundas_own_tests() {
    const ALL: i64 = i32::MAX as i64;
    let global = |id: &str, perms: i64| row(0, "*", 7, id, perms);
    // (test, rows, [(user, task, may read)])
    type Case<'a> = (&'a str, Vec<String>, Vec<(&'a str, &'a str, bool)>);
    let cases: Vec<Case> = vec![
        // identity/AuthorizationServiceTest
        ("testAuthorizationCheckEmptyDb", vec![], vec![("alice", "t2", false), ("dave", "t2", false)]),
        (
            "testGlobalGrantAuthorizationCheck",
            vec![global("*", ALL)],
            vec![("alice", "t2", true), ("carol", "t1", true), ("dave", "t2", true)],
        ),
        (
            "testUserOverrideGlobalGrantAuthorizationCheck: a user revoke beats a global grant",
            vec![global("*", ALL), row(2, "alice", 7, "*", NOT_READ)],
            vec![("alice", "t2", false), ("carol", "t2", true)],
        ),
        (
            "testGroupOverrideGlobalGrantAuthorizationCheck: a group revoke beats a global grant",
            vec![global("*", ALL), row(2, "g:sales", 7, "*", NOT_READ)],
            vec![("alice", "t2", false), ("bob", "t2", false), ("carol", "t2", true)],
        ),
        (
            "testUserOverrideGroupOverrideGlobalAuthorizationCheck: user grant > group revoke > global grant",
            vec![global("*", ALL), row(2, "g:sales", 7, "*", NOT_READ), row(1, "alice", 7, "*", 2)],
            vec![("alice", "t2", true), ("bob", "t2", false), ("carol", "t2", true)],
        ),
        (
            "testUserOverrideGlobalRevokeAuthorizationCheck: a user grant beats a global revoke",
            vec![global("*", 0), row(1, "alice", 7, "*", 2)],
            vec![("alice", "t2", true), ("carol", "t2", false)],
        ),
        // Authorization.xml's order, beyond those tests: the user's level whatever the id, then
        // the specific id before `*` within a level.
        (
            "authCheck: a user revoke on * beats a group grant on the id",
            vec![row(1, "g:sales", 7, "t2", 2), row(2, "alice", 7, "*", NOT_READ)],
            vec![("alice", "t2", false), ("bob", "t2", true)],
        ),
        (
            "authCheck: a group grant on the id beats a group revoke on *",
            vec![row(2, "g:sales", 7, "*", NOT_READ), row(1, "g:sales", 7, "t2", 2)],
            vec![("alice", "t2", true), ("bob", "t2", true), ("bob", "t1", false)],
        ),
        (
            "authCheck: a global grant on the id beats a global row on * without READ (revokes checked)",
            vec![global("*", 0), global("t2", 2), row(2, "alice", 1, "x", 0)],
            vec![("alice", "t2", true), ("alice", "t1", false), ("carol", "t2", true)],
        ),
        // authorization/TaskAuthorizationTest, "get identity links"
        (
            "testStandaloneTaskGetIdentityLinksWithoutAuthorization / testProcessTaskGetIdentityLinksWithoutAuthorization",
            vec![],
            vec![("alice", "t2", false), ("alice", "t1", false)],
        ),
        ("testStandaloneTaskGetIdentityLinks", vec![row(1, "alice", 7, "t2", 2)], vec![("alice", "t2", true)]),
        (
            "testProcessTaskGetIdentityLinksWithReadPersmissionOnTask",
            vec![row(1, "alice", 7, "t1", 2)],
            vec![("alice", "t1", true), ("alice", "t2", false)],
        ),
        (
            "testProcessTaskGetIdentityLinksWithReadPersmissionOnAnyTask",
            vec![row(1, "alice", 7, "*", 2)],
            vec![("alice", "t1", true), ("alice", "t2", true)],
        ),
        (
            "testProcessTaskGetIdentityLinksWithReadTasksPersmissionOnProcessDefinition",
            vec![row(1, "alice", 6, "invoice", 64)],
            vec![("alice", "t1", true), ("alice", "t2", false), ("bob", "t1", false)],
        ),
        (
            "testProcessTaskGetIdentityLinks (READ on the task and READ_TASK on the definition)",
            vec![row(1, "alice", 7, "t1", 2), row(1, "alice", 6, "invoice", 64)],
            vec![("alice", "t1", true)],
        ),
        (
            "READ_TASK on the definition through a group",
            vec![row(1, "g:sales", 6, "invoice", 64)],
            vec![("alice", "t1", true), ("bob", "t1", true), ("carol", "t1", false)],
        ),
        // camunda-admin: AuthorizationManager.isAuthorized(userId, groupIds, permissionCheck)
        // runs the authCheck query and never reads adminGroups (isCamundaAdmin guards only
        // admin-only commands), so the group reads what its rows grant, like any other.
        ("camunda-admin has no bypass", vec![row(1, "g:sales", 7, "*", 2)], vec![("dave", "t2", false)]),
        ("camunda-admin's rows count as a group's", vec![row(1, "g:camunda-admin", 7, "t2", 2)], vec![("dave", "t2", true)]),
    ];
    for (test, rows, expectations) in cases {
        let s = with(&rows.join(","));
        for (user, task, allowed) in expectations {
            assert_eq!(reads_task(&s, user, task), allowed, "{test}: {user} reads {task}? rows {rows:?}");
        }
    }
}

#[test]
fn authorization_disabled_reads_everything() {
    let text = format!(r#"{{"version":1,{BASE},"authorizations":[{}]}}"#, row(2, "alice", 7, "t2", NOT_READ));
    let s = Snapshot::from_json(text.as_bytes()).expect("loads");
    assert!(!s.authz.is_enabled());
    assert!(reads_task(&s, "alice", "t2"));
    assert_eq!(groups_seen(&s, "alice").0, ["ops", "sales"]);
    let off = Snapshot::from_json(
        text.replace(r#""authorizations""#, r#""authorizationEnabled":false,"authorizations""#).as_bytes(),
    );
    assert!(reads_task(&off.expect("loads"), "alice", "t2"));
}

#[test]
fn the_403_is_a1s_body() {
    let s = with("");
    let context = CallContext { caller: Some(s.camunda_caller("alice")) };
    let e = s.identity_links_answer(&IdentityLinksRequest { task_id: "t1".into(), kind: None }, &context).unwrap_err();
    assert_eq!(
        e,
        CamundaError::Unauthorized {
            user_id: "alice".into(),
            permission: "READ",
            resource: "Task",
            resource_id: "t1".into()
        }
    );
    // An unknown task is still the 400 before any access check.
    let e = s.identity_links_answer(&IdentityLinksRequest { task_id: "nope".into(), kind: None }, &context);
    assert!(matches!(e, Err(CamundaError::TaskNotFound { .. })));
}

#[test]
fn user_groups_filters_groups_and_users_by_read() {
    let rows = [row(1, "alice", 2, "sales", 2), row(1, "g:sales", 1, "*", 2), row(2, "alice", 1, "bob", NOT_READ)];
    let s = with(&rows.join(","));
    // ops is left out (no READ); bob is revoked for alice; carol is in ops only.
    assert_eq!(groups_seen(&s, "alice"), (vec!["sales".to_owned()], vec![]));
    let rows = [row(1, "alice", 2, "*", 2), row(1, "g:sales", 1, "*", 2)];
    let s = with(&rows.join(","));
    let (groups, users) = groups_seen(&s, "alice");
    assert_eq!(groups, ["ops", "sales"]);
    let mut users = users;
    users.sort();
    assert_eq!(users, ["bob", "carol"]);
    // Nothing granted: nothing seen, no error.
    assert_eq!(groups_seen(&with(""), "alice"), (vec![], vec![]));
}

#[test]
fn listed_callers_work_as_before() {
    // A context's caller (GrantSource::Listed) ignores the snapshot's rows.
    let s = with("");
    let caller: Caller = serde_like_caller("alice", "Task", "t1");
    let context = CallContext { caller: Some(caller) };
    assert!(s.identity_links_answer(&IdentityLinksRequest { task_id: "t1".into(), kind: None }, &context).is_ok());
}

fn serde_like_caller(user: &str, resource: &str, id: &str) -> Caller {
    let text = format!(
        r#"{{"caller":{{"userId":"{user}","authorizations":[{{"resource":"{resource}","resourceId":"{id}","permissions":["READ"]}}]}}}}"#
    );
    let value = identity_links::json::value::Value::parse(text.as_bytes()).expect("JSON");
    CallContext::from_value(Some(&value)).expect("a context").caller.expect("a caller")
}

fn idp(s: &Snapshot, caller: Caller, user: &str) -> Result<usize, ZitadelError> {
    let request = ListIdpLinksRequest { user_id: user.into(), offset: 0, limit: 0, asc: false };
    s.idp_page(&request, &CallContext { caller: Some(caller) }).map(|p| p.links.len())
}

#[test]
fn zitadel_memberships_give_n3s_outcomes() {
    let text = format!(
        r#"{{"version":1,{BASE},"zitadelMembers":[
        {{"userId":"alice","roles":["IAM_OWNER_VIEWER"]}},
        {{"userId":"bob","org":"acme","roles":["ORG_OWNER"]}},
        {{"userId":"carol","org":"acme","roles":["ORG_SETTINGS_MANAGER"]}},
        {{"userId":"dave","org":"acme","project":"p1","roles":["PROJECT_OWNER"]}},
        {{"userId":"dave","org":"other","roles":["ORG_PROJECT_CREATOR"]}}]}}"#
    );
    let s = Snapshot::from_json(text.as_bytes()).expect("loads");
    let caller = |u: &str| s.zitadel_caller(u, None);
    assert_eq!(caller("alice").permissions, ["user.read"]);
    assert_eq!(caller("bob").permissions, ["user.read@acme"]);
    // Instance membership: every user.
    assert_eq!(idp(&s, caller("alice"), "carol"), Ok(1));
    // Org membership: its org's users; another org's: no membership there (404).
    assert_eq!(idp(&s, caller("bob"), "alice"), Ok(1));
    assert_eq!(idp(&s, caller("bob"), "carol"), Err(ZitadelError::MEMBERSHIP_NOT_FOUND));
    // A user without org: only instance memberships count.
    assert_eq!(idp(&s, caller("bob"), "dave"), Err(ZitadelError::MEMBERSHIP_NOT_FOUND));
    assert_eq!(idp(&s, caller("alice"), "dave"), Ok(1));
    // Roles without user.read (403 AWfge); only project-scoped user.read (403 Swrgg2).
    assert_eq!(idp(&s, caller("carol"), "bob"), Err(ZitadelError::PERMISSION_DENIED));
    assert_eq!(idp(&s, caller("dave"), "bob"), Err(ZitadelError::CONTEXT_PERMISSION_DENIED));
    assert_eq!(idp(&s, caller("dave"), "carol"), Err(ZitadelError::PERMISSION_DENIED));
    // No membership at all: 404; one's own links: always.
    assert_eq!(idp(&s, s.zitadel_caller("nobody", None), "bob"), Err(ZitadelError::MEMBERSHIP_NOT_FOUND));
    assert_eq!(idp(&s, s.zitadel_caller("carol", None), "carol"), Ok(1));
    // A replaced mapping: ORG_SETTINGS_MANAGER granting user.read (with a context suffix).
    let mapping = [RoleMapping { role: "ORG_SETTINGS_MANAGER".into(), permissions: vec!["user.read:x".into()] }];
    assert_eq!(idp(&s, s.zitadel_caller("carol", Some(&mapping)), "bob"), Ok(1));
    assert_eq!(idp(&s, s.zitadel_caller("bob", Some(&mapping)), "alice"), Err(ZitadelError::PERMISSION_DENIED));
}

fn refused(text: &str) -> String {
    match Snapshot::from_json(text.as_bytes()) {
        Ok(_) => panic!("loaded, but should be refused: {text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_additions_are_refused_naming_the_value() {
    let doc = |extra: &str| format!(r#"{{"version":1,"users":[{{"id":"u"}}],{extra}}}"#);
    let auth = |fields: &str| doc(&format!(r#""authorizations":[{fields}]"#));
    let cases = [
        (
            auth(r#"{"type":3,"userId":"u","resourceType":7,"resourceId":"*","permissions":2}"#),
            "authorizations[0].type: 3 is not",
        ),
        (
            auth(r#"{"type":1,"userId":"u","resourceType":4,"resourceId":"*","permissions":2}"#),
            "authorizations[0].resourceType: 4 is not",
        ),
        (
            auth(r#"{"type":1,"userId":"u","resourceType":7,"resourceId":"*","permissions":2147483648}"#),
            "permissions: 2147483648 is not",
        ),
        (
            auth(r#"{"type":1,"userId":"u","resourceType":7,"resourceId":"*","permissions":1.5}"#),
            "permissions: 1.5 is not",
        ),
        (
            auth(r#"{"type":1,"userId":"u","groupId":"g","resourceType":7,"resourceId":"*","permissions":2}"#),
            "authorizations[0]: a global",
        ),
        (
            auth(r#"{"type":0,"userId":"u","resourceType":7,"resourceId":"*","permissions":2}"#),
            "authorizations[0]: a global",
        ),
        (auth(r#"{"type":1,"resourceType":7,"resourceId":"*","permissions":2}"#), "authorizations[0]: a global"),
        (auth(r#"{"type":1,"userId":"u","resourceType":7,"permissions":2}"#), "authorizations[0].resourceId: required"),
        (
            auth(r#"{"type":1,"userId":"u","resourceType":7,"resourceId":"*"}"#),
            "authorizations[0].permissions: required",
        ),
        (
            auth(r#"{"type":1,"userId":"u","resourceType":7,"resourceId":"*","permissions":2,"perms":2}"#),
            "authorizations[0].perms: unknown field",
        ),
        (doc(r#""authorizationEnabled":"yes""#), "authorizationEnabled: expected a boolean"),
        (doc(r#""zitadelMembers":[{"userId":"u"}]"#), "zitadelMembers[0].roles: required"),
        (doc(r#""zitadelMembers":[{"userId":"u","roles":["A",""]}]"#), "zitadelMembers[0].roles[1]: must not be empty"),
        (doc(r#""zitadelMembers":[{"userId":"u","project":"p","roles":[]}]"#), "zitadelMembers[0].org: required"),
        (doc(r#""tasks":[{"id":"t","processDefinitionKey":""}]"#), "tasks[0].processDefinitionKey: must not be empty"),
    ];
    for (text, wanted) in cases {
        let message = refused(&text);
        assert!(message.contains(wanted), "{message} (wanted {wanted}) for {text}");
    }
    // A negative Java int is a permission value (bit 31 set).
    let s = Snapshot::from_json(
        auth(r#"{"type":2,"userId":"u","resourceType":7,"resourceId":"*","permissions":-3}"#).as_bytes(),
    );
    assert_eq!(s.expect("loads").authz.perms, [(-3i32) as u32]);
}

fn full() -> Snapshot {
    let rows = [row(0, "*", 7, "*", 2), row(2, "alice", 7, "t1", NOT_READ), row(1, "g:sales", 6, "invoice", -1)];
    let text = format!(
        r#"{{"version":1,{BASE},"authorizationEnabled":true,"authorizations":[{}],
        "zitadelMembers":[{{"userId":"alice","roles":["IAM_OWNER"]}},{{"userId":"bob","org":"acme","project":"p","roles":["A","B"]}}]}}"#,
        rows.join(",")
    );
    Snapshot::from_json(text.as_bytes()).expect("loads")
}

#[test]
fn additions_round_trip_through_json_and_bytes() {
    let s = full();
    let back = Snapshot::from_bytes(&s.to_bytes(), Limits::default()).expect("reads");
    assert_eq!(back, s);
    assert_eq!(&s.to_bytes()[8..12], &4u32.to_le_bytes());
    let json = s.to_json();
    assert!(json.contains(r#""processDefinitionKey":"invoice""#), "{json}");
    assert!(json.contains(r#""authorizationEnabled":true"#), "{json}");
    assert!(
        json.contains(r#"{"type":1,"groupId":"sales","resourceType":6,"resourceId":"invoice","permissions":-1}"#),
        "{json}"
    );
    assert!(json.contains(r#"{"userId":"bob","org":"acme","project":"p","roles":["A","B"]}"#), "{json}");
    let again = Snapshot::from_json(json.as_bytes()).expect("its JSON loads");
    assert_eq!(again, s);
    // A snapshot without them writes none of them.
    let plain = Snapshot::from_json(
        format!(r#"{{"version":1,{BASE}}}"#).replace(r#","processDefinitionKey":"invoice""#, "").as_bytes(),
    );
    let plain = plain.expect("loads");
    assert!(plain.tasks.definition.is_empty() && plain.authz.owner.is_empty() && plain.members.user.is_empty());
    for key in ["processDefinitionKey", "authorization", "zitadelMembers"] {
        assert!(!plain.to_json().contains(key), "{key}");
    }
}

#[test]
fn crafted_bytes_with_bad_additions_are_refused() {
    let s = full();
    let spoil: [fn(&mut Snapshot); 6] = [
        |s| s.authz.kind[0] = 5 << 3,
        |s| s.authz.owner.swap(0, 2),
        |s| s.authz.enabled = vec![2],
        |s| s.members.roles_at[1] = 9,
        |s| s.members.org.pop().map(drop).unwrap_or(()),
        |s| s.tasks.definition = vec![0],
    ];
    for (i, f) in spoil.iter().enumerate() {
        let mut bad = s.clone();
        f(&mut bad);
        assert!(Snapshot::from_bytes(&bad.to_bytes(), Limits::default()).is_err(), "spoiled {i}");
    }
}

#[test]
fn the_version_3_binary_form_is_still_read() {
    // tests/support/format3.idl: `toBytes` of tests/support/format3.json by the release before
    // version 4 (main at a8629e1).
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
    let bytes = std::fs::read(dir.join("format3.idl")).expect("the fixture");
    assert_eq!(&bytes[8..12], &3u32.to_le_bytes(), "a version 3 form");
    let from_json = Snapshot::from_json(&std::fs::read(dir.join("format3.json")).expect("JSON")).expect("loads");
    let old = Snapshot::from_bytes(&bytes, Limits::default()).expect("version 3 is read");
    assert_eq!(old, from_json);
    assert!(old.authz.owner.is_empty() && !old.authz.is_enabled() && old.members.user.is_empty());
    // Without the flag, a caller resolved from it reads as before.
    assert!(reads_task(&old, "bob", "t1"));
    for len in 0..bytes.len() {
        assert!(Snapshot::from_bytes(&bytes[..len], Limits::default()).is_err(), "truncated to {len}");
    }
    let mut wrong = bytes.clone();
    wrong[8] = 4;
    assert!(Snapshot::from_bytes(&wrong, Limits::default()).is_err());
}

/// `auth.zitadel.rolePermissions` as the wrapper hands it to the module (the options' JSON
/// form, through `http::serve`): it replaces Zitadel's default mapping whole.
#[test]
fn role_permissions_option_replaces_the_default_mapping() {
    use identity_links::http::{handle_with, Auth, Body, Identity, Options, Request};
    use identity_links::json::Value;
    let text = format!(
        r#"{{"version":1,{BASE},"zitadelMembers":[
        {{"userId":"bob","org":"acme","roles":["ORG_OWNER"]}},
        {{"userId":"carol","org":"acme","roles":["ORG_SETTINGS_MANAGER"]}}]}}"#
    );
    let s = Snapshot::from_json(text.as_bytes()).expect("loads");
    let options = |json: &str| {
        let value = Value::parse(json.as_bytes()).expect("JSON");
        let mut options = Options::from_value(Some(&value)).expect("options");
        options.auth = Auth::FromRequest { zitadel: true, camunda: false };
        options
    };
    let status = |options: &Options, caller: &str, user: &str| {
        let url = format!("/v2/users/{user}/links/_search");
        let mut request = Request::new("POST", &url, Some("application/json"), Body::Bytes(b"{}"));
        request.identity = Identity::User(caller);
        handle_with(&s, &request, None, options).status
    };
    let default = options("{}");
    let custom = options(
        r#"{"auth":{"zitadel":{"rolePermissions":{"ORG_SETTINGS_MANAGER":["user.read"],"ORG_OWNER":["org.read"]}}}}"#,
    );
    // Zitadel's defaults: ORG_OWNER reads the org's users, ORG_SETTINGS_MANAGER does not (403).
    assert_eq!((status(&default, "bob", "alice"), status(&default, "carol", "alice")), (200, 403));
    // The replaced mapping: the other way round.
    assert_eq!((status(&custom, "bob", "alice"), status(&custom, "carol", "alice")), (403, 200));
    // An empty mapping: nobody reads another user's links; one's own still.
    let empty = options(r#"{"auth":{"zitadel":{"rolePermissions":{}}}}"#);
    assert_eq!((status(&empty, "bob", "alice"), status(&empty, "bob", "bob")), (403, 200));
    // Bad values are refused, naming them.
    for (json, message) in [
        (
            r#"{"auth":{"zitadel":{"rolePermissions":{"ORG_OWNER":"user.read"}}}}"#,
            "options.auth.zitadel.rolePermissions.ORG_OWNER: expected an array of permission strings",
        ),
        (
            r#"{"auth":{"zitadel":{"rolePermissions":{"ORG_OWNER":[1]}}}}"#,
            "options.auth.zitadel.rolePermissions.ORG_OWNER: expected an array of permission strings",
        ),
        (r#"{"auth":{"zitadel":{"rolePermissions":[]}}}"#, "options.auth.zitadel.rolePermissions: expected an object"),
        (r#"{"auth":{"zitadel":{"issuer":"x"}}}"#, "options.auth.zitadel.issuer: unknown option here"),
        (r#"{"auth":{"camunda":{}}}"#, "options.auth.camunda: unknown option here"),
    ] {
        let value = Value::parse(json.as_bytes()).expect("JSON");
        let error = Options::from_value(Some(&value)).expect_err("refused");
        assert!(error.starts_with(message), "{json}: {error}");
    }
}
