//! The wasm facade's tests in Node.js (`wasm-pack test --node`); see `tests/wasm/api.rs`.
#![cfg(target_arch = "wasm32")]

#[path = "wasm/api.rs"]
mod api;

#[path = "wasm/deltas.rs"]
mod deltas;
