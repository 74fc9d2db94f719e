//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) and every crash kept as a
//! regression (`fuzz/regressions/<target>/`) through the fuzz entry points, on the stable
//! toolchain: each input must return, not panic.
#![cfg(not(target_arch = "wasm32"))]

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let mut count = 0;
    for dir in ["corpus", "regressions"] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz").join(dir).join(target);
        let Ok(entries) = std::fs::read_dir(&path) else { continue };
        for entry in entries.flatten() {
            let data = std::fs::read(entry.path()).expect("a corpus file is readable");
            run(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn fuzz_corpus_and_regressions_replay_without_panics() {
    use identity_links::fuzz;
    let counts = [
        ("load_json", replay("load_json", fuzz::load_json)),
        ("load_binary", replay("load_binary", fuzz::load_binary)),
        ("query", replay("query", fuzz::query)),
        ("http", replay("http", fuzz::http)),
        ("apply_delta", replay("apply_delta", fuzz::apply_delta)),
    ];
    println!("replayed {counts:?}");
    for (target, n) in counts {
        assert!(n > 0, "no committed corpus for fuzz target {target} (run `make fuzz`)");
    }
}
