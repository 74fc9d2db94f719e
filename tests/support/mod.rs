//! Shared helpers for the native integration tests: reading the conformance cases.
#![allow(dead_code)]

use identity_links::json::Value;
use identity_links::{Limits, Snapshot, SnapshotError};
use std::path::PathBuf;

/// The conformance folder: `$IDENTITY_LINKS_CONFORMANCE`, or `../shared/conformance`.
pub fn conformance_dir() -> PathBuf {
    std::env::var_os("IDENTITY_LINKS_CONFORMANCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance"))
}

/// One case of a conformance file.
pub struct Case {
    pub file: String,
    pub name: String,
    pub snapshot: Value,
    pub options: Option<Value>,
    pub call: String,
    pub request: Option<Value>,
    pub context: Option<Value>,
    pub status: u16,
    pub body: Option<Value>,
    pub message_includes: Option<String>,
}

/// Every case of every `*.json` file; panics (failing the test) when there are none.
pub fn cases() -> Vec<Case> {
    let dir = conformance_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("conformance folder {} is missing: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let doc = Value::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let Some(Value::Array(items)) = doc.get("cases") else { panic!("{}: no cases array", path.display()) };
        for item in items {
            let text = |k: &str| match item.get(k) {
                Some(Value::String(s)) => s.clone(),
                _ => panic!("{}: case without {k}", path.display()),
            };
            let expect = item.get("expect").unwrap_or_else(|| panic!("case without expect"));
            let status = match expect.get("status") {
                Some(Value::Number(n)) => n.parse().unwrap_or_else(|_| panic!("bad status {n}")),
                _ => panic!("case without expect.status"),
            };
            cases.push(Case {
                file: path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default(),
                name: text("name"),
                snapshot: item.get("snapshot").cloned().unwrap_or_else(|| panic!("case without snapshot")),
                options: item.get_present("options").cloned(),
                call: text("call"),
                request: item.get_present("request").cloned(),
                context: item.get_present("context").cloned(),
                status,
                body: expect.get("body").cloned(),
                message_includes: match expect.get("messageIncludes") {
                    Some(Value::String(s)) => Some(s.clone()),
                    _ => None,
                },
            });
        }
    }
    assert!(!cases.is_empty(), "no conformance cases found in {}", dir.display());
    cases
}

/// Load options from a case's `options` object.
pub fn limits(options: Option<&Value>) -> Result<Limits, SnapshotError> {
    let get = |k: &str, default: u32| match options.and_then(|o| o.get_present(k)) {
        Some(Value::Number(n)) => n.parse().unwrap_or(0),
        _ => default,
    };
    let d = Limits::default();
    Ok(Limits::new(get("defaultLimit", d.default_limit), get("maxLimit", d.max_limit)))
}

/// Loads a case's snapshot as the conformance README says: from its JSON text.
pub fn load(case: &Case) -> Result<Snapshot, SnapshotError> {
    Snapshot::from_json_with(case.snapshot.to_json().as_bytes(), limits(case.options.as_ref())?)
}

pub mod gen;
pub mod reference;
