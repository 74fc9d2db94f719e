//! `IdentityError`: a real JS `Error` with `name`, `status`, `body` and `message`.

use crate::error::QueryError;
use identity_links_tables::error::SnapshotError;
use wasm_bindgen::prelude::*;

/// Builds the JS error for a core error: `message` is `body.message`.
pub fn identity_error(error: &QueryError) -> JsValue {
    let body = js_sys::JSON::parse(&error.body_json()).unwrap_or(JsValue::NULL);
    let e = js_sys::Error::new(&error.message());
    e.set_name("IdentityError");
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("status"), &JsValue::from(error.status()));
    let _ = js_sys::Reflect::set(&e, &JsValue::from_str("body"), &body);
    e.into()
}

/// The JS error for a refused snapshot.
pub fn snapshot_error(error: SnapshotError) -> JsValue {
    identity_error(&QueryError::Snapshot(error))
}

/// Whether `value` is an `IdentityError` thrown by this package (a type guard in TypeScript).
#[wasm_bindgen(js_name = isIdentityError)]
pub fn is_identity_error(value: &JsValue) -> bool {
    value.is_instance_of::<js_sys::Error>()
        && js_sys::Reflect::get(value, &JsValue::from_str("name")).ok().and_then(|n| n.as_string()).as_deref()
            == Some("IdentityError")
}

/// An `IdentityError` for misuse of the API itself (status 400, body
/// `{"type":"UsageError","message":...}`): a freed snapshot, or something that is not one where
/// a snapshot is expected. Used by the package's JS wrapper.
#[wasm_bindgen(js_name = __usageError)]
pub fn usage_error(message: &str) -> JsValue {
    identity_error(&QueryError::Usage(crate::error::UsageError(message.to_owned())))
}
