//! Fuzz target: see `identity_links::fuzz::load_binary`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| identity_links::fuzz::load_binary(data));
