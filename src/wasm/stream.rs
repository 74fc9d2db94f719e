//! `Snapshot.fromStream`'s loader: the wrapper reads the stream and hands each chunk here, where
//! the binary form goes straight into the tables ([`BinaryReader`]); JSON is recognised by its
//! first bytes and left to the wrapper, which loads it with `fromJson` once it has arrived (JSON
//! needs the whole text), while its size is counted here against `maxBytes`.

use super::convert::limits;
use super::error::snapshot_error;
use super::snapshot::{wrap, JsSnapshot};
use crate::snapshot::stream::BinaryReader;
use identity_links_tables::error::{SnapshotError, SnapshotProblem};
use identity_links_tables::tables::Limits;
use wasm_bindgen::prelude::*;

/// A snapshot arriving chunk by chunk. Not part of the public API (`Snapshot.fromStream` is).
#[wasm_bindgen(js_name = __SnapshotLoader)]
pub struct JsLoader {
    limits: Limits,
    /// The binary form's reader; `None` once the input showed itself to be JSON.
    reader: Option<BinaryReader>,
    /// Bytes seen.
    seen: usize,
}

#[wasm_bindgen(js_class = __SnapshotLoader)]
impl JsLoader {
    /// A loader with `fromBytes`' options.
    ///
    /// # Errors
    /// `IdentityError` for a bad option, as `fromBytes` throws it.
    #[wasm_bindgen(constructor)]
    pub fn new(options: &JsValue) -> Result<JsLoader, JsValue> {
        let limits = limits(options).map_err(snapshot_error)?;
        Ok(JsLoader { limits, reader: Some(BinaryReader::new(limits)), seen: 0 })
    }

    /// Reads the next chunk of the binary form: `true`, or `false` when the input is JSON (its
    /// first bytes tell), which the wrapper then gathers and loads with `fromJson`, calling
    /// [`JsLoader::count`] for each further chunk.
    ///
    /// # Errors
    /// `IdentityError` (`SnapshotError` at `bytes`) for a binary form that is refused.
    pub fn push(&mut self, chunk: &[u8]) -> Result<bool, JsValue> {
        if self.seen == 0 && !chunk.is_empty() && !BinaryReader::starts_binary(chunk) {
            self.reader = None;
        }
        self.count(chunk.len())?;
        match &mut self.reader {
            Some(reader) => reader.push(chunk).map(|()| true).map_err(snapshot_error),
            None => Ok(false),
        }
    }

    /// Counts `n` more bytes of JSON.
    ///
    /// # Errors
    /// `IdentityError` (`SnapshotError` at `$`) past `maxBytes`, as `fromJson` refuses it.
    pub fn count(&mut self, n: usize) -> Result<(), JsValue> {
        self.seen = self.seen.saturating_add(n);
        match self.reader {
            None => self.limits.check_size(self.seen, "$").map_err(snapshot_error),
            Some(_) => Ok(()), // the binary reader refuses more than its header announces
        }
    }

    /// The snapshot, once the stream has ended.
    ///
    /// # Errors
    /// `IdentityError` (`SnapshotError`) for an input that ended early or is refused.
    pub fn finish(self) -> Result<JsSnapshot, JsValue> {
        match self.reader {
            Some(reader) => reader.finish().map(wrap).map_err(snapshot_error),
            None => Err(snapshot_error(SnapshotError::new(
                "$",
                SnapshotProblem::Invalid { why: "JSON: load it with fromJson" },
            ))),
        }
    }
}
