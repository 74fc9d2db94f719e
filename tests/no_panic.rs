//! No panic is reachable from input: thousands of random and mutated snapshots (JSON text and
//! binary form) and random requests and contexts each give an answer or an error, never a panic.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::json::Value;
use identity_links::{Limits, Query, Snapshot};
use std::panic::{catch_unwind, AssertUnwindSafe};
use support::gen::{self, Rng};

const QUERIES: [Query; 3] = Query::ALL;

/// Mutates bytes: flip, delete, insert, duplicate a slice, or truncate.
fn mutate(rng: &mut Rng, bytes: &mut Vec<u8>) {
    const INTERESTING: &[&[u8]] = &[
        b"{", b"}", b"[", b"]", b"\"", b"\\", b"\\u", b"\\ud800", b",", b":", b"null", b"-1", b"1e999", b"\xff",
        b"\xc3", b"\0",
    ];
    for _ in 0..1 + rng.below(4) {
        let len = bytes.len();
        let at = rng.below(len + 1);
        match rng.below(6) {
            0 if len > 0 => bytes[at.min(len - 1)] ^= 1 << rng.below(8),
            1 if at < len => {
                let end = (at + 1 + rng.below(8)).min(len);
                bytes.drain(at..end);
            }
            2 => {
                let piece = rng.pick(INTERESTING);
                bytes.splice(at..at, piece.iter().copied());
            }
            3 if at < len => {
                let end = (at + 1 + rng.below(40)).min(len);
                let piece = bytes[at..end].to_vec();
                let to = rng.below(bytes.len() + 1);
                bytes.splice(to..to, piece);
            }
            4 => bytes.truncate(at),
            _ => bytes.insert(at.min(len), rng.next() as u8),
        }
    }
}

/// A random JSON value of bounded size, biased towards request-like shapes.
fn random_value(rng: &mut Rng, depth: u32) -> Value {
    let keys = [
        "taskId",
        "type",
        "userId",
        "query",
        "offset",
        "limit",
        "asc",
        "caller",
        "permissions",
        "authorizations",
        "resource",
        "resourceId",
        "x",
    ];
    match rng.below(if depth > 3 { 5 } else { 7 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(50)),
        2 => Value::Number(
            rng.pick(&["0", "-1", "1.5", "1e3", "18446744073709551616", "4294967296", "-0", "1e-400", "7"]).to_string(),
        ),
        3 => Value::String(
            rng.pick(&["", "task1", "U1", "*", "READ", "ALL", "Task", "user.read", "\u{1F600}", "ﬀ"]).to_string(),
        ),
        4 => Value::String("x".repeat(rng.below(300))),
        5 => Value::Array((0..rng.below(4)).map(|_| random_value(rng, depth + 1)).collect()),
        _ => Value::Object(
            (0..rng.below(5)).map(|_| (rng.pick(&keys).to_string(), random_value(rng, depth + 1))).collect(),
        ),
    }
}

fn run_everything(snapshot: &Snapshot, rng: &mut Rng, doc: &Value) {
    let mut out = Vec::new();
    for _ in 0..20 {
        let query = *rng.pick(&QUERIES);
        let (request, context) = if rng.chance(50) {
            (gen::request(rng, query.name(), doc), gen::context(rng, doc))
        } else {
            (random_value(rng, 0), if rng.chance(50) { Some(random_value(rng, 0)) } else { None })
        };
        out.clear();
        let _ = snapshot.run(query, &request, context.as_ref(), &mut out);
    }
    let _ = snapshot.to_json();
    let _ = snapshot.stats();
}

#[test]
fn random_and_mutated_input_never_panics() {
    let mut loaded = 0;
    let mut refused = 0;
    for seed in 0..3000u64 {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let mut rng = Rng::new(seed);
            let doc = gen::snapshot(&mut rng);
            let mut text = doc.to_json().into_bytes();
            if seed % 10 != 0 {
                mutate(&mut rng, &mut text);
            }
            let limits = Limits::new(rng.below(5) as u32, rng.below(5) as u32);
            match Snapshot::from_json_with(&text, limits) {
                Ok(snapshot) => {
                    run_everything(&snapshot, &mut rng, &doc);
                    let mut bytes = snapshot.to_bytes();
                    mutate(&mut rng, &mut bytes);
                    if let Ok(s) = Snapshot::from_bytes(&bytes, limits) {
                        run_everything(&s, &mut rng, &doc);
                    }
                    true
                }
                Err(e) => {
                    let _ = e.to_string();
                    false
                }
            }
        }));
        match result {
            Ok(true) => loaded += 1,
            Ok(false) => refused += 1,
            Err(_) => panic!("seed {seed} panicked"),
        }
    }
    println!("{loaded} loaded, {refused} refused, none panicked");
    assert!(loaded > 250 && refused > 250, "the mix should both load and refuse ({loaded} / {refused})");
}

#[test]
fn arbitrary_bytes_never_panic() {
    for seed in 0..3000u64 {
        let mut rng = Rng::new(seed);
        let bytes: Vec<u8> = (0..rng.below(200)).map(|_| rng.next() as u8).collect();
        let ok = catch_unwind(|| {
            let _ = Snapshot::from_json(&bytes);
            let _ = Snapshot::from_bytes(&bytes, Limits::default());
            let _ = Value::parse(&bytes);
        });
        assert!(ok.is_ok(), "seed {seed} panicked");
    }
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(Snapshot::from_json(deep.as_bytes()).is_err());
    assert!(Value::parse(deep.as_bytes()).is_err());
    let nested_users = format!(r#"{{"version":1,"users":[{{"id":{}1{}}}]}}"#, "[".repeat(70), "]".repeat(70));
    assert!(Snapshot::from_json(nested_users.as_bytes()).is_err());
}
