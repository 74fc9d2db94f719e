//! Loading JSON in a throwaway instance of this module, and moving the tables it built into the
//! long-lived instance (the contract is `super::abi`'s "Moving a snapshot's tables").
//!
//! Wasm memory never shrinks: the copy of the input and the loader's working memory (the JSON
//! text, the index while it grows, the rows before they are indexed), left behind in the
//! throwaway instance, go away with it instead of staying in the long-lived memory for as long
//! as the page or worker runs. The long-lived memory grows by the tables alone, as it does for
//! `fromBytes`.
//!
//! The throwaway instance has no JS glue: only numbers cross, and nothing there calls into JS.

use super::abi::{arrive, table_list, with_input_bytes, Arriving};
use super::convert::limits;
use super::error::snapshot_error;
use super::snapshot::{wrap, JsSnapshot};
use crate::snapshot::Snapshot;
use identity_links_tables::error::{SnapshotError, SnapshotProblem};
use identity_links_tables::tables::Limits;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// A snapshot loaded in a throwaway instance, and its table list.
type Loaded = (Snapshot, Vec<u32>);

// Boxed, so that each static is a word (an empty snapshot's columns are not all zero bytes, and
// would take room in the module's data segment).
thread_local! {
    /// In a throwaway instance: the last snapshot loaded, and its table list.
    static LOADED: RefCell<Option<Box<Loaded>>> = const { RefCell::new(None) };
    /// In the long-lived instance: the snapshot whose tables are being copied in.
    static ARRIVING: RefCell<Option<Box<Arriving>>> = const { RefCell::new(None) };
}

/// Loads the JSON text in the first `len` bytes of the input area, refusing more than
/// `max_bytes`, and keeps it: returns the address of its table list, or 0 when the text is
/// refused (the wrapper then loads it in the long-lived instance, which throws the exact
/// `IdentityError`).
#[wasm_bindgen(js_name = __jsonToTables)]
pub fn json_to_tables(len: u32, max_bytes: u32) -> u32 {
    let limits = Limits { max_bytes: max_bytes as usize, ..Limits::default() };
    // The last snapshot's tables go first, so that two are never held at once.
    let _ = LOADED.try_with(|loaded| loaded.try_borrow_mut().map(|mut loaded| loaded.take()));
    let Some(snapshot) = with_input_bytes(len, |text| Snapshot::from_json_with(text, limits).ok()) else {
        return 0;
    };
    LOADED
        .try_with(|loaded| {
            let Ok(mut loaded) = loaded.try_borrow_mut() else { return 0 };
            let list = table_list(&snapshot);
            let address = list.as_ptr() as u32;
            *loaded = Some(Box::new((snapshot, list)));
            address
        })
        .unwrap_or(0)
}

/// Makes room for the tables named by the table list in the request area (replacing their
/// addresses there with the room's); returns 1, or 0 when memory is short.
#[wasm_bindgen(js_name = __adopt)]
pub fn adopt() -> u32 {
    let arriving = arrive().map(Box::new);
    let made = arriving.is_some();
    let kept = ARRIVING.try_with(|slot| slot.replace(arriving)).is_ok();
    u32::from(made && kept)
}

#[wasm_bindgen(js_class = Snapshot)]
impl JsSnapshot {
    /// The snapshot whose tables `__adopt` made room for and the wrapper filled, once they pass
    /// every structural check of the binary form.
    ///
    /// # Errors
    /// `IdentityError` (400, `SnapshotError` at `bytes`) for tables that are not a snapshot's, or
    /// with no tables arriving; the options' errors as `fromJson` reports them.
    #[wasm_bindgen(js_name = __adopted)]
    pub fn adopted(options: &JsValue) -> Result<JsSnapshot, JsValue> {
        let limits = limits(options).map_err(snapshot_error)?;
        let refused = |why| snapshot_error(SnapshotError::new("bytes", SnapshotProblem::Binary { why }));
        let arriving = ARRIVING
            .try_with(|slot| slot.take())
            .ok()
            .flatten()
            .ok_or_else(|| refused("no tables are arriving (call __adopt first)"))?;
        let Arriving { mut snapshot, text } = *arriving;
        snapshot.strings.text = String::from_utf8(text).map_err(|_| refused("string text is not UTF-8"))?;
        snapshot.check_structure().map_err(snapshot_error)?;
        snapshot.limits = limits;
        Ok(wrap(snapshot))
    }
}
