//! The `Snapshot` class and the top-level query functions of API.md.

use super::convert::{js_string, limits, request_value, to_value};
use super::error::{identity_error, snapshot_error};
use crate::query::Query;
use crate::snapshot::binary::ByteSource;
use crate::snapshot::delta::{DeltaError, DeltaHeader, Version};
use crate::snapshot::Snapshot;
use crate::QueryError;
use identity_links_tables::error::{SnapshotError, SnapshotProblem};
use std::cell::{Cell, RefCell};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// A loaded identity snapshot in wasm memory, queried many times.
///
/// Load it once with `fromJson`, `fromObject` or `fromBytes`; release it with `free()`.
#[wasm_bindgen(js_name = Snapshot)]
pub struct JsSnapshot {
    /// The snapshot.
    pub(crate) inner: Snapshot,
    /// The text of answers (JSON text, and texts made for an answer), reused across queries.
    pub(crate) out: RefCell<Vec<u8>>,
    /// The words of trusted answers (`super::abi`), reused across queries.
    pub(crate) codes: RefCell<Vec<u32>>,
    /// `sequence` and `timestamp` as answers write them, made once.
    pub(crate) fixed: [String; 2],
    /// `__text`'s answer: a made text, and the address and length of the text asked for.
    pub(crate) spot: RefCell<(Vec<u8>, [u32; 2])>,
    /// The snapshot's version once computed (a pass over the snapshot), kept until a delta
    /// changes it.
    pub(crate) version: Cell<Option<Version>>,
}

pub(super) fn wrap(inner: Snapshot) -> JsSnapshot {
    let (out, codes) = (RefCell::new(Vec::new()), RefCell::new(Vec::new()));
    let fixed = [inner.sequence_text(), inner.timestamp_text()];
    JsSnapshot { inner, out, codes, fixed, spot: RefCell::new((Vec::new(), [0; 2])), version: Cell::new(None) }
}

#[wasm_bindgen]
extern "C" {
    /// A `Uint8Array` made by [`ByteCopy::new`].
    #[wasm_bindgen(js_name = Uint8Array)]
    type ByteCopy;
    /// `new Uint8Array(bytes)`, its exception caught: a copy of a typed array's bytes, read
    /// through its own slots (not a `length` the object may redefine); a detached or shrunk
    /// buffer throws, which must not cross the module while a snapshot is borrowed (it would
    /// stay borrowed for good).
    #[wasm_bindgen(constructor, js_class = "Uint8Array", catch)]
    fn new(bytes: &JsValue) -> Result<ByteCopy, JsValue>;
}

/// `value` as a `Uint8Array` (of this realm), for every loader and delta reader: a proxy of one,
/// which `instanceof` takes for one but whose `length` throws, is no view.
fn uint8_array(value: &JsValue) -> Option<&js_sys::Uint8Array> {
    js_sys::ArrayBuffer::is_view(value).then(|| value.dyn_ref()).flatten()
}

/// A delta's bytes: `value` copied when it is a `Uint8Array`; why not, without an exception
/// whatever `value` is.
fn delta_bytes(value: &JsValue) -> Result<Vec<u8>, &'static str> {
    if uint8_array(value).is_none() {
        return Err("it is not a Uint8Array");
    }
    let copy = ByteCopy::new(value).map_err(|_| "its buffer cannot be read (detached or shrunk)")?;
    Ok(copy.unchecked_into::<js_sys::Uint8Array>().to_vec())
}

/// A JS `Uint8Array` as a [`ByteSource`]: each read copies one piece into wasm memory.
struct JsBytes<'a>(&'a js_sys::Uint8Array);

impl ByteSource for JsBytes<'_> {
    fn len(&self) -> usize {
        self.0.length() as usize
    }
    fn read(&self, at: usize, out: &mut [u8]) {
        // copy_to requires equal lengths: a read past the end (which callers avoid) copies nothing.
        if at.checked_add(out.len()).is_some_and(|end| end <= self.len()) {
            self.0.subarray(at as u32, (at + out.len()) as u32).copy_to(out);
        }
    }
}

/// A malformed request or context, as the query's peer reports one.
fn bad_request(query: Query, message: String) -> JsValue {
    identity_error(&query.malformed(message))
}

#[wasm_bindgen(js_class = Snapshot)]
impl JsSnapshot {
    /// Loads a snapshot from JSON text, or its UTF-8 bytes.
    ///
    /// # Errors
    /// `IdentityError` (400, `SnapshotError`) naming the JSON path of the first bad value.
    #[wasm_bindgen(js_name = fromJson)]
    pub fn from_json(text: &JsValue, options: &JsValue) -> Result<JsSnapshot, JsValue> {
        let limits = limits(options).map_err(snapshot_error)?;
        let bytes = uint8_array(text);
        // Refuse oversized input before copying it into wasm memory.
        if let Some(js) = text.dyn_ref::<js_sys::JsString>() {
            limits.check_input(js.length() as usize, "$").map_err(snapshot_error)?;
        } else if let Some(bytes) = bytes {
            limits.check_input(bytes.length() as usize, "$").map_err(snapshot_error)?;
        }
        let loaded = if let Some(s) = js_string(text) {
            let s = s.map_err(|()| {
                snapshot_error(SnapshotError::new(
                    "$",
                    SnapshotProblem::Invalid { why: "the text contains a lone UTF-16 surrogate (not Unicode)" },
                ))
            })?;
            Snapshot::from_json_with(s.as_bytes(), limits)
        } else if let Some(bytes) = bytes {
            // A detached buffer reads as empty (copying it would throw).
            let bytes = if bytes.length() == 0 { Vec::new() } else { bytes.to_vec() };
            Snapshot::from_json_with(&bytes, limits)
        } else {
            let found = text.js_typeof().as_string().unwrap_or_default();
            return Err(snapshot_error(SnapshotError::new(
                "$",
                SnapshotProblem::WrongType {
                    expected: "JSON text (a string or a Uint8Array)",
                    found: if found == "object" { "an object" } else { "another type" },
                },
            )));
        };
        loaded.map(wrap).map_err(snapshot_error)
    }

    /// Loads a snapshot from a JS object of the snapshot's shape.
    ///
    /// # Errors
    /// As `fromJson`; values JSON cannot hold (BigInt, cycles) are refused too.
    #[wasm_bindgen(js_name = fromObject)]
    pub fn from_object(data: &JsValue, options: &JsValue) -> Result<JsSnapshot, JsValue> {
        let text = js_sys::JSON::stringify(data).map_err(|_| {
            snapshot_error(SnapshotError::new(
                "$",
                SnapshotProblem::Invalid {
                    why: "cannot be converted to JSON (a BigInt, a cycle or a throwing toJSON)",
                },
            ))
        })?;
        if !text.is_string() {
            return Err(snapshot_error(SnapshotError::new(
                "$",
                SnapshotProblem::WrongType { expected: "an object", found: "undefined or a function" },
            )));
        }
        Self::from_json(&text.into(), options)
    }

    /// Loads the binary form written by `toBytes`.
    ///
    /// # Errors
    /// `IdentityError` (400, `SnapshotError`, path `bytes`) for truncated, corrupted or foreign bytes.
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &JsValue, options: &JsValue) -> Result<JsSnapshot, JsValue> {
        let limits = limits(options).map_err(snapshot_error)?;
        let Some(bytes) = uint8_array(bytes) else {
            return Err(snapshot_error(SnapshotError::new(
                "bytes",
                SnapshotProblem::Binary { why: "expected a Uint8Array" },
            )));
        };
        // Read piece by piece: the whole input is never copied into wasm memory.
        Snapshot::from_source(&JsBytes(bytes), limits).map(wrap).map_err(snapshot_error)
    }

    /// The compact binary form; `Snapshot.fromBytes(s.toBytes())` answers identically.
    #[wasm_bindgen(js_name = toBytes)]
    pub fn to_bytes(&self) -> Vec<u8> {
        self.inner.to_bytes()
    }

    /// Canonical JSON; `Snapshot.fromJson(s.toJson())` answers identically.
    #[wasm_bindgen(js_name = toJson)]
    pub fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// The version of the snapshot's data (16 hexadecimal digits: the checksum of its binary
    /// form): equal versions answer identically; a delta names the version it applies to and
    /// the one it makes.
    #[wasm_bindgen(getter)]
    pub fn version(&self) -> String {
        self.known_version().to_string()
    }

    /// The changes that turn this snapshot into `newer`, for `applyDelta` on a snapshot of this
    /// version.
    #[wasm_bindgen(js_name = deltaTo)]
    pub fn delta_to(&self, newer: &JsSnapshot) -> Vec<u8> {
        self.inner.delta_to_at(self.known_version(), &newer.inner, newer.known_version())
    }

    /// Applies a delta made by `deltaTo` from this snapshot's version, in place.
    ///
    /// # Errors
    /// `IdentityError` (400, `DeltaError`) for a delta of another base, out of order, applied
    /// already or damaged, naming the versions it concerns (`DeltaError`'s display); the
    /// snapshot is unchanged.
    #[wasm_bindgen(js_name = applyDelta)]
    pub fn apply_delta(&mut self, delta: &JsValue) -> Result<(), JsValue> {
        let found = self.known_version();
        let refused = |e: DeltaError| identity_error(&QueryError::Delta(e));
        let bytes = delta_bytes(delta).map_err(|why| refused(DeltaError::Damaged { why, found }))?;
        let made = self.inner.apply_delta_at(found, &bytes).map_err(refused)?;
        self.version.set(Some(made));
        self.fixed = [self.inner.sequence_text(), self.inner.timestamp_text()];
        Ok(())
    }

    /// The snapshot's `sequence`, a decimal uint64.
    #[wasm_bindgen(getter)]
    pub fn sequence(&self) -> String {
        self.inner.sequence_text()
    }

    /// The snapshot's `timestamp`, RFC 3339 in UTC as Zitadel renders it.
    #[wasm_bindgen(getter)]
    pub fn timestamp(&self) -> String {
        self.inner.timestamp_text()
    }

    /// Row counts: `{ users, groups, memberships, tasks, identityLinks, idpLinks }`.
    pub fn stats(&self) -> JsValue {
        js_sys::JSON::parse(&self.inner.stats().to_json()).unwrap_or(JsValue::NULL)
    }

    /// Camunda `GET /task/{id}/identity-links?type=`.
    ///
    /// # Errors
    /// `IdentityError` with Camunda's status and body.
    #[wasm_bindgen(js_name = getIdentityLinks)]
    pub fn get_identity_links(&self, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
        self.query(Query::IdentityLinks, request, context)
    }

    /// Camunda `GET /identity/groups?userId=`.
    ///
    /// # Errors
    /// `IdentityError` with Camunda's status and body.
    #[wasm_bindgen(js_name = getUserGroups)]
    pub fn get_user_groups(&self, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
        self.query(Query::UserGroups, request, context)
    }

    /// `getIdentityLinks` as JSON text: exactly the HTTP body.
    ///
    /// # Errors
    /// `IdentityError` with Camunda's status and body.
    #[wasm_bindgen(js_name = getIdentityLinksJson)]
    pub fn get_identity_links_json(&self, request: &JsValue, context: &JsValue) -> Result<String, JsValue> {
        self.query_text(Query::IdentityLinks, request, context)
    }

    /// `getUserGroups` as JSON text: exactly the HTTP body.
    ///
    /// # Errors
    /// `IdentityError` with Camunda's status and body.
    #[wasm_bindgen(js_name = getUserGroupsJson)]
    pub fn get_user_groups_json(&self, request: &JsValue, context: &JsValue) -> Result<String, JsValue> {
        self.query_text(Query::UserGroups, request, context)
    }

    /// `listIdpLinks` as JSON text: exactly the HTTP body.
    ///
    /// # Errors
    /// `IdentityError` with Zitadel's status and body.
    #[wasm_bindgen(js_name = listIdpLinksJson)]
    pub fn list_idp_links_json(&self, request: &JsValue, context: &JsValue) -> Result<String, JsValue> {
        self.query_text(Query::ListIdpLinks, request, context)
    }

    /// Zitadel `POST /v2/users/{userId}/links/_search`.
    ///
    /// # Errors
    /// `IdentityError` with Zitadel's status and body.
    #[wasm_bindgen(js_name = listIdpLinks)]
    pub fn list_idp_links(&self, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
        self.query(Query::ListIdpLinks, request, context)
    }
}

impl JsSnapshot {
    /// The snapshot's version, computed once.
    fn known_version(&self) -> Version {
        let version = self.version.get().unwrap_or_else(|| self.inner.version());
        self.version.set(Some(version));
        version
    }

    /// Runs a query and returns the answer's JSON text.
    fn query_text(&self, query: Query, request: &JsValue, context: &JsValue) -> Result<String, JsValue> {
        let keys = query.request_keys();
        let request = request_value(request, keys.fields, keys.query).map_err(|m| bad_request(query, m))?;
        let context = if context.is_undefined() {
            None
        } else {
            to_value(context, "context").map_err(|m| bad_request(query, m))?
        };
        let mut out = self.out.try_borrow_mut().map_err(|_| bad_request(query, "re-entrant call".into()))?;
        out.clear();
        self.inner.run(query, &request, context.as_ref(), &mut out).map_err(|e| identity_error(&e))?;
        Ok(crate::json::writer::text(&out).to_owned())
    }

    /// Runs a query and returns the answer as JS objects.
    fn query(&self, query: Query, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
        let text = self.query_text(query, request, context)?;
        js_sys::JSON::parse(&text)
    }
}

/// Camunda `GET /task/{id}/identity-links?type=` over `snapshot`.
///
/// # Errors
/// `IdentityError` with Camunda's status and body.
#[wasm_bindgen(js_name = getIdentityLinks)]
pub fn get_identity_links(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
    snapshot.query(Query::IdentityLinks, request, context)
}

/// Camunda `GET /identity/groups?userId=` over `snapshot`.
///
/// # Errors
/// `IdentityError` with Camunda's status and body.
#[wasm_bindgen(js_name = getUserGroups)]
pub fn get_user_groups(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
    snapshot.query(Query::UserGroups, request, context)
}

/// Zitadel `POST /v2/users/{userId}/links/_search` over `snapshot`.
///
/// # Errors
/// `IdentityError` with Zitadel's status and body.
#[wasm_bindgen(js_name = listIdpLinks)]
pub fn list_idp_links(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue) -> Result<JsValue, JsValue> {
    snapshot.query(Query::ListIdpLinks, request, context)
}

/// What a delta's header says, read without a snapshot: `{ from, to, sequence, timestamp }` (the
/// versions as `Snapshot.version` writes them), after its checksum is checked. A publisher names
/// and chains deltas with it instead of reading the format itself.
///
/// # Errors
/// `IdentityError` (400, `DeltaError`) for anything that is not a whole delta of this format.
#[wasm_bindgen(js_name = deltaInfo)]
pub fn delta_info(delta: &JsValue) -> Result<JsValue, JsValue> {
    let refused = |why| identity_error(&QueryError::Delta(DeltaError::Unreadable { why }));
    let bytes = delta_bytes(delta).map_err(refused)?;
    let (h, _) = DeltaHeader::read(&bytes).map_err(refused)?;
    let text = format!(
        r#"{{"from":"{}","to":"{}","sequence":"{}","timestamp":"{}"}}"#,
        h.from,
        h.to,
        h.sequence,
        h.timestamp.render()
    );
    js_sys::JSON::parse(&text)
}
