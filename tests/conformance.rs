//! Runs every case of `../shared/conformance/*.json` against the core and compares bytes.
#![cfg(not(target_arch = "wasm32"))]

mod support;

use identity_links::json::Value;
use identity_links::Query;

/// Runs one case; `Err` describes a mismatch.
fn check(case: &support::Case) -> Result<(), String> {
    let loaded = support::load(case);
    if case.call == "load" {
        return match (loaded, case.status) {
            (Ok(_), 200) => Ok(()),
            (Ok(_), s) => Err(format!("loaded, but expected status {s}")),
            (Err(e), 400) => match &case.message_includes {
                Some(part) if !e.to_string().contains(part.as_str()) => {
                    Err(format!("message {:?} lacks {part:?}", e.to_string()))
                }
                _ => Ok(()),
            },
            (Err(e), s) => Err(format!("refused ({e}), expected status {s}")),
        };
    }
    let snapshot = loaded.map_err(|e| format!("snapshot refused: {e}"))?;
    let query = Query::from_name(&case.call).ok_or_else(|| format!("unknown call {}", case.call))?;
    let request = case.request.clone().unwrap_or(Value::Object(Vec::new()));
    let mut out = Vec::new();
    let (status, body) = match snapshot.run(query, &request, case.context.as_ref(), &mut out) {
        Ok(()) => (200, String::from_utf8(out).map_err(|e| e.to_string())?),
        Err(e) => (e.status(), e.body_json()),
    };
    let expected = case.body.as_ref().map(Value::to_json);
    if status != case.status || expected.as_ref().is_some_and(|b| *b != body) {
        return Err(format!("got {status} {body}\n   expected {} {}", case.status, expected.unwrap_or_default()));
    }
    Ok(())
}

#[test]
fn every_conformance_case_passes() {
    let cases = support::cases();
    let failures: Vec<String> =
        cases.iter().filter_map(|c| check(c).err().map(|e| format!("{} / {}: {e}", c.file, c.name))).collect();
    println!("conformance: {} cases, {} failed", cases.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} conformance cases fail:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn every_query_kind_is_covered() {
    let cases = support::cases();
    for call in ["load", "getIdentityLinks", "getUserGroups", "listIdpLinks"] {
        assert!(cases.iter().any(|c| c.call == call), "no conformance case calls {call}");
    }
}
