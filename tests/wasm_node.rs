//! The wasm facade's tests in Node.js (`wasm-pack test --node`); see `tests/wasm/api.rs`.
#![cfg(target_arch = "wasm32")]

include!("wasm/api.rs");
