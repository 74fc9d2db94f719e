//! Property tests: the indexed engine and the simple reference model give the same answers on
//! random snapshots and requests, paging and callers included; and the binary and canonical
//! JSON forms answer identically to the snapshot they came from.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::json::Value;
use identity_links::{Limits, Query, Snapshot};
use support::gen::{self, Rng};
use support::reference;

const SNAPSHOTS: u64 = 400;
const REQUESTS: usize = 40;
const CALLS: [&str; 3] = ["getIdentityLinks", "getUserGroups", "listIdpLinks"];

fn engine(snapshot: &Snapshot, call: &str, request: &Value, context: Option<&Value>) -> (u16, String) {
    let mut out = Vec::new();
    let query = Query::from_name(call).unwrap_or(Query::IdentityLinks);
    match snapshot.run(query, request, context, &mut out) {
        Ok(()) => (200, String::from_utf8_lossy(&out).into_owned()),
        Err(e) => (e.status(), e.body_json()),
    }
}

#[test]
fn engine_agrees_with_the_reference_model() {
    let mut compared = 0;
    for seed in 0..SNAPSHOTS {
        let mut rng = Rng::new(seed);
        let doc = gen::snapshot(&mut rng);
        let (default_limit, max_limit) = match rng.below(10) {
            0..=2 => (3, 5),
            3 => (0, 0), // no restriction, as Zitadel reads 0
            _ => (100, 1000),
        };
        let limits = Limits::new(default_limit, max_limit);
        let snapshot = Snapshot::from_json_with(doc.to_json().as_bytes(), limits)
            .unwrap_or_else(|e| panic!("seed {seed}: generated snapshot refused: {e}"));
        for _ in 0..REQUESTS {
            let call = *rng.pick(&CALLS);
            let request = gen::request(&mut rng, call, &doc);
            let context = gen::context(&mut rng, &doc);
            let got = engine(&snapshot, call, &request, context.as_ref());
            let want = reference::answer(
                &doc,
                call,
                &request,
                context.as_ref(),
                u64::from(default_limit),
                u64::from(max_limit),
            );
            assert_eq!(
                got,
                want,
                "seed {seed}: {call} {} context {}\nsnapshot {}",
                request.to_json(),
                context.as_ref().map(Value::to_json).unwrap_or_default(),
                doc.to_json()
            );
            compared += 1;
        }
    }
    println!("compared {compared} answers");
}

#[test]
fn binary_and_canonical_forms_answer_identically() {
    for seed in 1000..1000 + SNAPSHOTS / 2 {
        let mut rng = Rng::new(seed);
        let doc = gen::snapshot(&mut rng);
        let original = Snapshot::from_json(doc.to_json().as_bytes()).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let from_bytes = Snapshot::from_bytes(&original.to_bytes(), Limits::default())
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let canonical = original.to_json();
        let from_json =
            Snapshot::from_json(canonical.as_bytes()).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{canonical}"));
        assert_eq!(from_json.to_json(), canonical, "seed {seed}: toJson is a fixed point");
        assert_eq!(from_bytes.stats(), original.stats());
        for _ in 0..REQUESTS {
            let call = *rng.pick(&CALLS);
            let request = gen::request(&mut rng, call, &doc);
            let context = gen::context(&mut rng, &doc);
            let want = engine(&original, call, &request, context.as_ref());
            assert_eq!(engine(&from_bytes, call, &request, context.as_ref()), want, "seed {seed}: fromBytes differs");
            assert_eq!(
                engine(&from_json, call, &request, context.as_ref()),
                want,
                "seed {seed}: fromJson(toJson) differs"
            );
        }
    }
}

#[test]
fn table_order_does_not_change_answers_but_idp_link_order_does() {
    // SNAPSHOT.md: only insertion order (identity links per task, IdP links) is observable.
    for seed in 2000..2100 {
        let mut rng = Rng::new(seed);
        let doc = gen::snapshot(&mut rng);
        let Value::Object(mut members) = doc.clone() else {
            continue;
        };
        for (key, value) in members.iter_mut() {
            if let (true, Value::Array(rows)) = (["users", "groups", "memberships"].contains(&key.as_str()), value) {
                rows.reverse();
            }
        }
        members.reverse();
        let shuffled = Value::Object(members);
        let a = Snapshot::from_json(doc.to_json().as_bytes()).expect("a generated snapshot loads");
        let b = Snapshot::from_json(shuffled.to_json().as_bytes()).expect("the shuffled snapshot loads");
        for _ in 0..REQUESTS {
            let call = *rng.pick(&CALLS);
            let request = gen::request(&mut rng, call, &doc);
            let context = gen::context(&mut rng, &doc);
            assert_eq!(
                engine(&a, call, &request, context.as_ref()),
                engine(&b, call, &request, context.as_ref()),
                "seed {seed}"
            );
        }
    }
}

#[test]
fn idp_link_order_and_identity_link_order_are_observable() {
    // The other half of SNAPSHOT.md's rule: reversing the IdP links, or a task's identity links,
    // reverses the answers that list them (SEMANTICS.md Z5, C3).
    let (mut idp_users, mut tasks) = (0, 0);
    for seed in 2000..2100 {
        let mut rng = Rng::new(seed);
        let doc = gen::snapshot(&mut rng);
        let Value::Object(mut members) = doc.clone() else { continue };
        for (key, value) in members.iter_mut() {
            match (key.as_str(), value) {
                ("idpLinks", Value::Array(rows)) => rows.reverse(),
                ("tasks", Value::Array(rows)) => {
                    for task in rows.iter_mut() {
                        if let Value::Object(fields) = task {
                            for (field, links) in fields.iter_mut() {
                                if let ("identityLinks", Value::Array(links)) = (field.as_str(), links) {
                                    links.reverse();
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        let a = Snapshot::from_json(doc.to_json().as_bytes()).expect("a generated snapshot loads");
        let r = Snapshot::from_json(Value::Object(members).to_json().as_bytes()).expect("the reversed snapshot loads");
        let items = |answer: (u16, String), key: &str| -> Vec<String> {
            let value = Value::parse(answer.1.as_bytes()).expect("an answer is JSON");
            let list = if key.is_empty() { Some(&value) } else { value.get(key) };
            match list {
                Some(Value::Array(items)) => items.iter().map(Value::to_json).collect(),
                _ => Vec::new(),
            }
        };
        for user in gen::ids(&doc, "users", "id") {
            let request = Value::parse(
                format!(r#"{{"userId":{},"query":{{"asc":true,"limit":1000}}}}"#, Value::String(user).to_json())
                    .as_bytes(),
            )
            .expect("a request");
            let (mine, theirs) = (
                items(engine(&a, "listIdpLinks", &request, None), "result"),
                items(engine(&r, "listIdpLinks", &request, None), "result"),
            );
            if mine.len() >= 2 {
                idp_users += 1;
                assert_eq!(
                    mine.iter().rev().collect::<Vec<_>>(),
                    theirs.iter().collect::<Vec<_>>(),
                    "seed {seed}: IdP links"
                );
            }
        }
        let Some(Value::Array(all_tasks)) = doc.get("tasks") else { continue };
        for task in all_tasks {
            let Some(Value::String(id)) = task.get("id") else { continue };
            let stored = match task.get("identityLinks") {
                Some(Value::Array(links)) => links.len(),
                _ => 0,
            };
            let request = Value::parse(format!(r#"{{"taskId":{}}}"#, Value::String(id.clone()).to_json()).as_bytes())
                .expect("a request");
            let mine = items(engine(&a, "getIdentityLinks", &request, None), "");
            let theirs = items(engine(&r, "getIdentityLinks", &request, None), "");
            // The stored links come first (reversed), then the synthesized assignee and owner.
            if stored >= 2 && mine[..stored].iter().collect::<std::collections::HashSet<_>>().len() >= 2 {
                tasks += 1;
                let reversed: Vec<&String> = mine[..stored].iter().rev().chain(&mine[stored..]).collect();
                assert_eq!(reversed, theirs.iter().collect::<Vec<_>>(), "seed {seed}: identity links");
            }
        }
    }
    assert!(idp_users >= 20 && tasks >= 20, "too few users with IdP links ({idp_users}) or tasks with links ({tasks})");
}
