//! Fuzz target: see `identity_links::fuzz::http`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| identity_links::fuzz::http(data));
