//! Fuzz target: see `identity_links::fuzz::apply_delta`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| identity_links::fuzz::apply_delta(data));
