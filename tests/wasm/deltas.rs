//! Deltas through the wasm facade (`deltaTo`, `applyDelta`, `version`), a module of
//! `tests/wasm_node.rs` and `tests/wasm_browser.rs`: refusals are `IdentityError`s of type
//! `DeltaError`, and applying deltas over and over does not grow the module's memory.

use identity_links::wasm::{is_identity_error, JsSnapshot};
use js_sys::{Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// A snapshot of `users` users, each with a task of four links, and `changed` of them renamed
/// and reassigned.
fn snapshot(users: usize, changed: usize, sequence: u32) -> JsSnapshot {
    let mut text = format!(r#"{{"version":1,"sequence":"{sequence}","users":["#);
    for u in 0..users {
        let name = if u < changed { "Renamed" } else { "Name" };
        text +=
            &format!(r#"{}{{"id":"user-{u}","firstName":"{name}","lastName":"L{u}"}}"#, if u > 0 { "," } else { "" });
    }
    text += r#"],"tasks":["#;
    for u in 0..users {
        let assignee = if u < changed { (u + 1) % users } else { u };
        let links: Vec<String> =
            (0..4).map(|k| format!(r#"{{"userId":"user-{}","type":"candidate"}}"#, (u + k) % users)).collect();
        text += &format!(
            r#"{}{{"id":"task-{u}","assignee":"user-{assignee}","identityLinks":[{}]}}"#,
            if u > 0 { "," } else { "" },
            links.join(",")
        );
    }
    text += "]}";
    JsSnapshot::from_json(&JsValue::from_str(&text), &JsValue::UNDEFINED).expect("the snapshot loads")
}

fn bytes(delta: &[u8]) -> JsValue {
    Uint8Array::from(delta).into()
}

#[wasm_bindgen_test]
fn refusals_are_delta_errors_and_leave_the_snapshot_as_it_was() {
    let (a, b) = (snapshot(50, 0, 1), snapshot(50, 5, 2));
    let delta = a.delta_to(&b);
    let mut s = snapshot(50, 0, 1);
    assert_eq!(s.version(), a.version(), "a fresh load of the same data has the same version");
    s.apply_delta(&bytes(&delta)).expect("the delta applies");
    assert_eq!((s.version(), s.to_bytes()), (b.version(), b.to_bytes()));
    for wrong in [bytes(&delta), bytes(&delta[..delta.len() - 1]), JsValue::from_str("delta")] {
        let e = s.apply_delta(&wrong).expect_err("refused");
        let body = Reflect::get(&e, &"body".into()).expect("a body");
        assert!(is_identity_error(&e));
        assert_eq!(Reflect::get(&e, &"status".into()).ok().and_then(|v| v.as_f64()), Some(400.0));
        assert_eq!(Reflect::get(&body, &"type".into()).ok().and_then(|v| v.as_string()).as_deref(), Some("DeltaError"));
        assert_eq!(s.to_bytes(), b.to_bytes(), "unchanged");
    }
    let message = s.apply_delta(&bytes(&delta)).err().and_then(|e| Reflect::get(&e, &"message".into()).ok());
    let message = message.and_then(|m| m.as_string()).unwrap_or_default();
    assert!(message.contains(&a.version()) && message.contains(&b.version()), "{message}");
}

/// The module's linear memory in bytes.
fn memory() -> usize {
    core::arch::wasm32::memory_size(0) * 65536
}

#[wasm_bindgen_test]
fn applying_deltas_over_and_over_does_not_grow_memory() {
    let (a, b) = (snapshot(3000, 300, 1), snapshot(3000, 0, 2));
    let (forward, back) = (bytes(&a.delta_to(&b)), bytes(&b.delta_to(&a)));
    let size = a.to_bytes().len();
    drop((a, b));
    let mut s = snapshot(3000, 300, 1);
    let loaded = memory();
    s.apply_delta(&forward).expect("a → b");
    s.apply_delta(&back).expect("b → a");
    let warm = memory();
    for _ in 0..50 {
        s.apply_delta(&forward).expect("a → b");
        s.apply_delta(&back).expect("b → a");
    }
    let after = memory();
    console_log!("snapshot {size} bytes; memory {loaded} loaded, {warm} after two applies, {after} after 100 more");
    assert_eq!(after, warm, "memory grew over 100 applies");
}
