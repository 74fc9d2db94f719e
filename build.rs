//! Lists the conformance files (`../shared/conformance/*.json`) for the wasm tests
//! (`tests/wasm/api.rs`), which cannot read a directory at run time: `$OUT_DIR/conformance.rs`
//! embeds each file by name, so a file added there is tested without touching the tests. Without
//! the directory the list is empty, and the wasm tests fail saying so.
use std::fs;
use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .map(|entries| {
            entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "json")).collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut out = String::from("/// Every file of `../shared/conformance/`, by name, with its text.\npub const CONFORMANCE: &[(&str, &str)] = &[\n");
    for path in &files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!("cargo:rerun-if-changed={}", path.display());
        out.push_str(&format!("    ({name:?}, include_str!({:?})),\n", path.display().to_string()));
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("conformance.rs");
    fs::write(target, out).expect("OUT_DIR is writable");
}
