//! `handleRequest(snapshot, request, context?)`: a fetch-style `Request` in, a `Response` out.
//!
//! The answer's JSON is produced in wasm and handed to `new Response(text, ...)` as it is, with
//! no JS objects in between. A `GET` resolves at once; a `POST` reads the body first (refused
//! unread when `Content-Length` says it is over 1 MiB).

use super::convert::{js_string, to_value};
use super::error::identity_error;
use super::snapshot::JsSnapshot;
use crate::error::{QueryError, ZitadelError};
use crate::http::{handle, Body, Request, Response, MAX_BODY};
use crate::json::Value;
use crate::snapshot::Snapshot;
use js_sys::{Array, Function, Object, Promise, Reflect};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What the handler keeps of the request while its body is read.
struct Pending {
    snapshot: Rc<Snapshot>,
    method: String,
    url: String,
    content_type: Option<String>,
    context: Option<Value>,
}

impl Pending {
    fn respond(&self, body: Body<'_>) -> Result<JsValue, JsValue> {
        let request =
            Request { method: &self.method, url: &self.url, content_type: self.content_type.as_deref(), body };
        to_js_response(&handle(&self.snapshot, &request, self.context.as_ref()))
    }
}

fn get(target: &JsValue, key: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `request.headers.get(name)`, if there is such a header.
fn header(request: &JsValue, name: &str) -> Option<String> {
    let headers = get(request, "headers");
    let getter = get(&headers, "get").dyn_into::<Function>().ok()?;
    getter.call1(&headers, &JsValue::from_str(name)).ok()?.as_string()
}

/// `new Response(body, { status, headers })`, using the runtime's own `Response`.
fn to_js_response(response: &Response) -> Result<JsValue, JsValue> {
    let constructor: Function = get(&js_sys::global(), "Response").dyn_into()?;
    let headers = Object::new();
    Reflect::set(&headers, &"content-type".into(), &"application/json".into())?;
    if let Some(allow) = response.allow {
        Reflect::set(&headers, &"allow".into(), &allow.into())?;
    }
    let init = Object::new();
    Reflect::set(&init, &"status".into(), &response.status.into())?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    let text = crate::json::writer::text(&response.body);
    Reflect::construct(&constructor, &Array::of2(&JsValue::from_str(text), &init))
}

fn invalid(message: String) -> JsValue {
    identity_error(&QueryError::Zitadel(ZitadelError::InvalidArgument { message }))
}

/// Serves the peers' routes (see the README): Camunda's `GET {prefix}/task/{id}/identity-links`
/// and `GET {prefix}/identity/groups`, Zitadel's `POST /v2/users/{userId}/links/_search` and the
/// Connect route `POST /zitadel.user.v2.UserService/ListIDPLinks`.
///
/// # Errors
/// The promise rejects only when `request` is not a `Request` or `context` cannot be read;
/// every HTTP-level failure is a `Response` with the peer's status and body.
#[wasm_bindgen(js_name = handleRequest)]
pub fn handle_request(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue) -> Promise {
    match start(snapshot, request, context) {
        Ok(promise) => promise,
        Err(e) => Promise::reject(&e),
    }
}

fn start(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue) -> Result<Promise, JsValue> {
    let text = |key: &str| match js_string(&get(request, key)) {
        Some(Ok(s)) => Ok(s),
        _ => Err(invalid(format!("request.{key}: expected a string (is this a fetch Request?)"))),
    };
    let pending = Pending {
        snapshot: snapshot.shared(),
        method: text("method")?,
        url: text("url")?,
        content_type: header(request, "content-type"),
        context: to_value(context, "context").map_err(invalid)?,
    };
    if pending.method.eq_ignore_ascii_case("GET") || pending.method.eq_ignore_ascii_case("HEAD") {
        return Ok(Promise::resolve(&pending.respond(Body::Bytes(&[]))?));
    }
    let declared = header(request, "content-length").and_then(|n| n.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Ok(Promise::resolve(&pending.respond(Body::TooLarge)?));
    }
    let read: Function = get(request, "arrayBuffer").dyn_into()?;
    let body: Promise = read.call0(request)?.dyn_into()?;
    let on_body = Closure::once_into_js(move |buffer: JsValue| -> Result<JsValue, JsValue> {
        let bytes = js_sys::Uint8Array::new(&buffer);
        if bytes.length() as usize > MAX_BODY {
            return pending.respond(Body::TooLarge);
        }
        pending.respond(Body::Bytes(&bytes.to_vec()))
    });
    let then: Function = get(&body, "then").dyn_into()?;
    then.call1(&body, &on_body)?.dyn_into()
}
