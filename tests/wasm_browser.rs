//! The wasm facade's tests in a headless browser (`wasm-pack test --headless --chrome`); see
//! `tests/wasm/api.rs`.
#![cfg(target_arch = "wasm32")]

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);

#[path = "wasm/api.rs"]
mod api;

#[path = "wasm/deltas.rs"]
mod deltas;
