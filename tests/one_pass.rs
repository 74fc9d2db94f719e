//! The loader reads a record in one pass when nothing in it needs more, and token by token
//! otherwise — escapes, unknown or repeated keys, long strings, mistakes (`Loader::compact` in
//! crates/tables/src/load.rs). The two must agree: the same tables for the same document however it
//! is spelled — compact, with whitespace anywhere JSON allows it, with escapes (keys included, so
//! read token by token), with its keys in another order, or a mix record by record — and the same
//! refusal for the same mistake.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::json::Value;
use identity_links::Snapshot;
use support::gen::{self, Rng};

/// How each part of a document is spelled.
#[derive(Clone, Copy, Debug)]
enum Spelling {
    /// As `JSON.stringify` writes it.
    Compact,
    /// Whitespace (all four kinds) before and after every token.
    Spaced,
    /// The first character of every non-empty string, keys included, written as a `\u` escape:
    /// every object is then read token by token.
    Escaped,
    /// Every object's members in reverse order.
    Reversed,
    /// Each value spelled one of the ways above at random, so that a record can change
    /// spelling anywhere (a task's last identity link escaped after two compact ones).
    Mixed(u64),
}

/// `value` spelled `how`.
fn spell(value: &Value, how: Spelling) -> String {
    let mut out = String::new();
    let mut rng = Rng::new(match how {
        Spelling::Mixed(seed) => seed,
        _ => 0,
    });
    write(value, how, &mut rng, &mut out);
    out
}

fn write(value: &Value, how: Spelling, rng: &mut Rng, out: &mut String) {
    // A mixed document picks again for each value; the others keep theirs.
    let this = match how {
        Spelling::Mixed(_) => *rng.pick(&[Spelling::Compact, Spelling::Compact, Spelling::Spaced, Spelling::Escaped]),
        other => other,
    };
    let space = |out: &mut String| {
        if matches!(this, Spelling::Spaced) {
            out.push_str(" \n\t\r ");
        }
    };
    match value {
        Value::String(s) => write_string(s, matches!(this, Spelling::Escaped), out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                space(out);
                if i > 0 {
                    out.push(',');
                    space(out);
                }
                write(item, how, rng, out);
            }
            space(out);
            out.push(']');
        }
        Value::Object(members) => {
            let mut members: Vec<&(String, Value)> = members.iter().collect();
            if matches!(this, Spelling::Reversed) {
                members.reverse();
            }
            out.push('{');
            for (i, (key, item)) in members.iter().enumerate() {
                space(out);
                if i > 0 {
                    out.push(',');
                    space(out);
                }
                write_string(key, matches!(this, Spelling::Escaped), out);
                space(out);
                out.push(':');
                space(out);
                write(item, how, rng, out);
            }
            space(out);
            out.push('}');
        }
        other => out.push_str(&other.to_json()),
    }
}

/// A JSON string, its first character escaped when `escape` (and it has one).
fn write_string(s: &str, escape: bool, out: &mut String) {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) if escape => {
            out.push('"');
            for unit in first.encode_utf16(&mut [0; 2]) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
            // The rest as JSON.stringify writes it, without its opening quote.
            out.push_str(&Value::String(chars.as_str().to_owned()).to_json()[1..]);
        }
        _ => out.push_str(&Value::String(s.to_owned()).to_json()),
    }
}

/// Hand-written documents for what random ones rarely hold: strings over 200 bytes but not over
/// 200 characters, escapes the one-pass reading leaves to the other path, empty names.
const DOCUMENTS: &[&str] = &[
    r#"{"version":1,"users":[{"id":"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé","firstName":"","lastName":"tab\there","org":"\u00e9"}],"groups":[{"id":"g","name":""}],"memberships":[{"userId":"ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé","groupId":"g"}]}"#,
    r#"{"version":1,"users":[{"id":"a"},{"id":"b\"q"}],"tasks":[{"id":"t","identityLinks":[]},{"id":"u","assignee":null,"owner":null},{"id":"v","identityLinks":[{"userId":"a","groupId":null,"type":"x"},{"userId":"b\"q","type":"y"},{"groupId":null,"userId":"a","type":"z"}]}]}"#,
    r#"{"version":1,"users":[{"id":"\"q","firstName":"\n","lastName":"\\","org":"\u0001"}],"groups":[{"id":"😀","name":"\ud83d\ude00"}]}"#,
];

/// Snapshot documents to respell: the hand-written ones, every conformance case's snapshot and
/// random ones.
fn documents() -> Vec<Value> {
    let mut docs: Vec<Value> =
        DOCUMENTS.iter().map(|d| Value::parse(d.as_bytes()).expect("a hand-written document is JSON")).collect();
    docs.extend(support::cases().into_iter().map(|case| case.snapshot));
    let mut rng = Rng::new(13);
    docs.extend((0..300).map(|_| gen::snapshot(&mut rng)));
    docs
}

/// What loading `text` gives: the snapshot's binary form (every table and every string, in the
/// order the loader met them) and its canonical JSON; or the refusal's message.
fn outcome(text: &str) -> Result<(Vec<u8>, String), String> {
    Snapshot::from_json(text.as_bytes()).map(|s| (s.to_bytes(), s.to_json())).map_err(|e| e.to_string())
}

#[test]
fn every_spelling_of_a_document_loads_the_same_tables() {
    let mut loaded = 0;
    for (i, doc) in documents().iter().enumerate() {
        let want = outcome(&spell(doc, Spelling::Compact));
        loaded += usize::from(want.is_ok());
        for how in [Spelling::Spaced, Spelling::Escaped, Spelling::Mixed(i as u64)] {
            let text = spell(doc, how);
            assert_eq!(outcome(&text), want, "{how:?}: {text}");
        }
        // Another key order interns strings in another order: the same snapshot, other symbols.
        let text = spell(doc, Spelling::Reversed);
        let canonical = |o: Result<(Vec<u8>, String), String>| o.map(|(_, json)| json);
        assert_eq!(canonical(outcome(&text)), canonical(want), "reversed: {text}");
    }
    assert!(loaded > 300, "only {loaded} documents loaded: the comparison would prove little");
}

/// Ways to break a valid document, each a rule of SNAPSHOT.md the loader checks as it reads.
fn break_it(doc: &mut Value, how: usize) {
    let Value::Object(top) = doc else { panic!("a snapshot is an object") };
    let table = |top: &mut Vec<(String, Value)>, name: &str| -> usize {
        match top.iter().position(|(k, _)| k == name) {
            Some(i) => i,
            None => {
                top.push((name.to_owned(), Value::Array(Vec::new())));
                top.len() - 1
            }
        }
    };
    let s = |text: &str| Value::String(text.to_owned());
    let object =
        |members: &[(&str, Value)]| Value::Object(members.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect());
    let users = table(top, "users");
    let Value::Array(rows) = &mut top[users].1 else { panic!("users is an array") };
    let Some(Value::Object(first)) = rows.first().cloned() else { panic!("a generated snapshot has a user") };
    let first_id = first.iter().find(|(k, _)| k == "id").map(|(_, v)| v.clone()).expect("a user has an id");
    // Broken rows are whole records, fields in the writers' order, so that the one-pass reading
    // meets the mistake (a record missing a field is read token by token anyway).
    let user =
        |id: Value, last: Value| object(&[("id", id), ("firstName", s("F")), ("lastName", last), ("org", s("O"))]);
    let link =
        |user: Value, group: Value, kind: &str| object(&[("userId", user), ("groupId", group), ("type", s(kind))]);
    match how {
        // A user's id seen before, in the last row.
        0 => rows.push(Value::Object(first)),
        // An unknown field after a user's four.
        1 => rows.push(Value::Object(vec![
            ("id".into(), s("new")),
            ("firstName".into(), Value::Null),
            ("lastName".into(), Value::Null),
            ("org".into(), Value::Null),
            ("nickname".into(), s("x")),
        ])),
        // An empty id; a null id; a number for a name.
        2 => rows.push(user(s(""), s("L"))),
        3 => rows.push(user(Value::Null, s("L"))),
        4 => rows.push(user(s("n"), Value::Number("1".into()))),
        // A name of 201 characters (402 bytes).
        5 => rows.push(user(s("long"), s(&"é".repeat(201)))),
        // The same key twice.
        6 => rows.push(Value::Object(vec![
            ("id".into(), s("twice")),
            ("firstName".into(), Value::Null),
            ("lastName".into(), Value::Null),
            ("org".into(), s("o")),
            ("org".into(), s("p")),
        ])),
        // A task's third identity link with both ids, with neither, with an empty type, after
        // two good ones.
        7..=9 => {
            let last = match how {
                7 => link(first_id.clone(), s("g"), "t"),
                8 => link(Value::Null, Value::Null, "t"),
                _ => link(first_id.clone(), Value::Null, ""),
            };
            let good = link(first_id.clone(), Value::Null, "t");
            let links = Value::Array(vec![good.clone(), good, last]);
            let tasks = table(top, "tasks");
            let Value::Array(tasks) = &mut top[tasks].1 else { panic!("tasks is an array") };
            tasks.push(object(&[
                ("id", s("broken-task")),
                ("assignee", Value::Null),
                ("owner", Value::Null),
                ("identityLinks", links),
            ]));
        }
        // A membership of a user that does not exist; one with an empty group id.
        _ => {
            let memberships = table(top, "memberships");
            let Value::Array(rows) = &mut top[memberships].1 else { panic!("memberships is an array") };
            let group = if how == 10 { "g" } else { "" };
            rows.push(object(&[("userId", if how == 10 { s("nobody") } else { first_id }), ("groupId", s(group))]));
        }
    }
}

#[test]
fn every_spelling_of_a_mistake_is_refused_with_the_same_message() {
    let mut rng = Rng::new(29);
    for i in 0..72 {
        let mut doc = gen::snapshot(&mut rng);
        break_it(&mut doc, i % 12);
        let want = outcome(&spell(&doc, Spelling::Compact)).map(|_| ()).expect_err("a broken document is refused");
        // (Each broken document has one mistake, so reversed keys do not change the message.)
        for how in [Spelling::Spaced, Spelling::Escaped, Spelling::Reversed, Spelling::Mixed(i as u64)] {
            let text = spell(&doc, how);
            assert_eq!(outcome(&text).map(|_| ()), Err(want.clone()), "{how:?}: {text}");
        }
    }
}
