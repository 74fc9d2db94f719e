//! The WebAssembly facade: converts JavaScript values to the core's types and back, and
//! nothing else. Every failure leaves as a real JS `Error` named `IdentityError`.

pub mod abi;
mod convert;
mod error;
mod http;
mod scratch;
mod snapshot;
mod stream;
mod trusted;

pub use error::is_identity_error;
pub use scratch::{adopt, json_to_tables};
pub use snapshot::{get_identity_links, get_user_groups, list_idp_links, JsSnapshot};

use wasm_bindgen::prelude::*;

/// The module's allocator: Talc, growing the linear memory as dlmalloc (Rust's default for
/// wasm32) did, in less code and less time (docs/decisions/0011-talc-as-the-allocator.md).
#[global_allocator]
static ALLOCATOR: talc::wasm::WasmDynamicTalc = talc::wasm::new_wasm_dynamic_allocator();

/// Installs the panic hook once, when the module is instantiated: a panic is a bug, and its
/// message should reach the console rather than a bare `unreachable` trap.
#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}
