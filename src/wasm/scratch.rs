//! Loading JSON in a throwaway instance of this module: the wrapper (`pkg-template/api.js`,
//! `fromJson`) instantiates the compiled module afresh, writes the text into that instance's
//! input buffer, and calls [`json_to_bytes`]; the long-lived instance then reads the binary form
//! with `fromBytes`. Wasm memory never shrinks, so the copy of the input and the loader's working
//! tables, left behind in the throwaway instance's memory, go away with it instead of staying
//! in the long-lived memory for as long as the page or worker runs.
//!
//! The throwaway instance has no JS glue: only numbers cross, and nothing here calls into JS.

use super::abi::with_input_bytes;
use crate::snapshot::{Limits, Snapshot};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// The binary form of the last snapshot loaded here, and `[address, length]` of it.
    static LOADED: RefCell<(Vec<u8>, [u32; 2])> = const { RefCell::new((Vec::new(), [0; 2])) };
}

/// Loads the JSON text in the first `len` bytes of the input buffer, refusing more than
/// `max_bytes`, and keeps its binary form: returns the address of `[address, length]` of those
/// bytes, or 0 when the text is refused (the wrapper then loads it in the long-lived instance,
/// which throws the exact `IdentityError`).
#[wasm_bindgen(js_name = __jsonToBytes)]
pub fn json_to_bytes(len: u32, max_bytes: u32) -> u32 {
    let limits = Limits { max_bytes: max_bytes as usize, ..Limits::default() };
    let Some(bytes) = with_input_bytes(len, |text| Snapshot::from_json_with(text, limits).ok().map(|s| s.to_bytes()))
    else {
        return 0;
    };
    LOADED.with(|loaded| {
        let Ok(mut loaded) = loaded.try_borrow_mut() else { return 0 };
        loaded.1 = [bytes.as_ptr() as u32, bytes.len() as u32];
        loaded.0 = bytes;
        loaded.1.as_ptr() as u32
    })
}
