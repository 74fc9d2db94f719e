//! `handleRequest(snapshot, request, context?, options?)`: a fetch-style `Request` in, a
//! `Response` out — every HTTP decision made here, from the request's method, URL, headers,
//! context and body to the answer's status, headers and bytes.
//!
//! The body is I/O, so the JS wrapper (`pkg-template/api.js`) reads it: `__httpStart` reads the
//! rest of the request and answers an [`HttpCall`]; while [`HttpCall::wants_body`] says so, the
//! wrapper reads the body stream chunk by chunk into [`HttpCall::push`], which stops it at the
//! limit (past `options.maxBodyBytes`, 1 MiB by default, whatever `Content-Length` says or
//! whether there is one); then [`HttpCall::respond`] makes the `Response` — 413 in the route's
//! peer's format when the body was too large. Values from another realm (a Request made in a
//! `node:vm` context) are read by their properties, never by `instanceof`.

use super::convert::{js_string, to_value};
use super::error::identity_error;
use super::snapshot::JsSnapshot;
use crate::error::{QueryError, ZitadelError};
use crate::http::cors::RequestHeaders;
use crate::http::{handle_with, Body, Options, Request, Response};
use crate::json::Value;
use crate::snapshot::Snapshot;
use js_sys::{Array, Function, Object, Reflect, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What the handler keeps of the request while its body is read.
struct Pending {
    snapshot: Rc<Snapshot>,
    method: String,
    url: String,
    content_type: Option<String>,
    /// `Origin`, `Access-Control-Request-Method`, `Access-Control-Request-Headers`.
    cors: [Option<String>; 3],
    context: Option<Value>,
    options: Options,
}

impl Pending {
    fn respond(&self, body: Body<'_>) -> Result<JsValue, JsValue> {
        let mut request = Request::new(&self.method, &self.url, self.content_type.as_deref(), body);
        let [origin, method, headers] = &self.cors;
        request.cors =
            RequestHeaders { origin: origin.as_deref(), method: method.as_deref(), headers: headers.as_deref() };
        to_js_response(&handle_with(&self.snapshot, &request, self.context.as_ref(), &self.options))
    }
}

fn get(target: &JsValue, key: &str) -> JsValue {
    if !target.is_object() && !target.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// `target[name]` as a function, if it is one (of any realm: `typeof`, not `instanceof`).
fn method(target: &JsValue, name: &str) -> Option<Function> {
    let f = get(target, name);
    f.is_function().then(|| f.unchecked_into())
}

/// `request.headers.get(name)`, if there is such a header.
fn header(request: &JsValue, name: &str) -> Option<String> {
    let headers = get(request, "headers");
    method(&headers, "get")?.call1(&headers, &JsValue::from_str(name)).ok()?.as_string()
}

/// `new Response(body, { status, headers })`, using the runtime's own `Response`: JSON as text,
/// other bodies as bytes, no body at all when there is none (a 204 may not have one).
fn to_js_response(response: &Response) -> Result<JsValue, JsValue> {
    let constructor: Function = get(&js_sys::global(), "Response").dyn_into()?;
    let headers = Array::new();
    let add = |name: &str, value: &str| headers.push(&Array::of2(&name.into(), &value.into()));
    if let Some(content_type) = response.content_type {
        add("content-type", content_type);
    }
    if let Some(allow) = response.allow {
        add("allow", allow);
    }
    for (name, value) in &response.headers {
        add(name, value);
    }
    let init = Object::new();
    Reflect::set(&init, &"status".into(), &response.status.into())?;
    Reflect::set(&init, &"headers".into(), &headers)?;
    let body = match response.content_type {
        _ if response.body.is_empty() => JsValue::NULL,
        Some("application/json") => JsValue::from_str(crate::json::writer::text(&response.body)),
        _ => Uint8Array::from(&response.body[..]).into(),
    };
    let answer = Reflect::construct(&constructor, &Array::of2(&body, &init))?;
    if !response.trailers.is_empty() {
        // For the package's Node listener, which sends them after the body (gRPC over HTTP/2).
        let trailers = Array::new();
        for (name, value) in &response.trailers {
            trailers.push(&Array::of2(&JsValue::from_str(name), &JsValue::from_str(value)));
        }
        Reflect::set(&answer, &"__trailers".into(), &trailers)?;
    }
    Ok(answer)
}

fn invalid(message: String) -> JsValue {
    identity_error(&QueryError::Zitadel(ZitadelError::InvalidArgument { message }))
}

/// Serves the peers' routes (see the README): Camunda's `GET {prefix}/task/{id}/identity-links`
/// and `GET {prefix}/identity/groups` (also under `/engine/{name}`), Zitadel's
/// `POST /v2/users/{userId}/links/_search` and `POST /zitadel.user.v2.UserService/ListIDPLinks`
/// (Connect JSON and binary, gRPC-web). `options`: `{ engines, cors, maxBodyBytes }`.
///
/// # Errors
/// The promise rejects only with an `Error`: an `IdentityError` when `request` is not a Request
/// or its body cannot be read as one, `context` cannot be read or the snapshot was freed; an
/// `AbortError` when `request.signal` aborts while the body is read; an `Error` (its `cause` the
/// stream's own reason) when the body stream fails. Every HTTP-level failure is a `Response` with
/// the peer's status and body.
#[wasm_bindgen(js_name = __httpStart)]
pub fn http_start(
    snapshot: &JsSnapshot,
    request: &JsValue,
    context: &JsValue,
    options: &JsValue,
) -> Result<HttpCall, JsValue> {
    let pending = start(snapshot, request, context, options)?;
    let limit = pending.options.max_body;
    let declared = header(request, "content-length").and_then(|n| n.trim().parse::<u64>().ok());
    let bodiless = pending.method.eq_ignore_ascii_case("GET") || pending.method.eq_ignore_ascii_case("HEAD");
    Ok(HttpCall {
        pending,
        body: Vec::new(),
        wants_body: !bodiless,
        too_large: declared.is_some_and(|n| n > limit as u64),
    })
}

/// A request being served: what was read of it, and its body so far.
#[wasm_bindgen(js_name = __HttpCall)]
pub struct HttpCall {
    pending: Pending,
    body: Vec<u8>,
    wants_body: bool,
    too_large: bool,
}

#[wasm_bindgen(js_class = __HttpCall)]
impl HttpCall {
    /// Whether the body is still to be read: not for `GET` and `HEAD`, nor once it is known to
    /// be larger than the limit (by its `Content-Length`, or by a chunk).
    #[wasm_bindgen(js_name = wantsBody)]
    pub fn wants_body(&self) -> bool {
        self.wants_body && !self.too_large
    }

    /// Appends the next chunk of the body (a typed array or `DataView` of any realm) or, with
    /// `whole`, the whole body that `request.arrayBuffer()` gave (a request object without a body
    /// stream; an `ArrayBuffer` or a view); `false` once the body is larger than the limit (the
    /// wrapper then cancels the stream).
    ///
    /// # Errors
    /// `IdentityError` (400) for a chunk that is not bytes.
    pub fn push(&mut self, chunk: &JsValue, whole: bool) -> Result<bool, JsValue> {
        let bytes =
            if whole && !js_sys::ArrayBuffer::is_view(chunk) { byte_view(chunk, 0, None) } else { as_bytes(chunk) };
        let why = if whole {
            "request.arrayBuffer(): expected an ArrayBuffer"
        } else {
            "request.body: a chunk that is not a Uint8Array"
        };
        let bytes = bytes.ok_or_else(|| invalid(why.to_owned()))?;
        self.add(&bytes);
        Ok(self.wants_body())
    }

    fn add(&mut self, chunk: &Uint8Array) {
        let n = chunk.length() as usize;
        if self.too_large || self.body.len() + n > self.pending.options.max_body {
            self.too_large = true;
            return;
        }
        let at = self.body.len();
        self.body.resize(at + n, 0);
        chunk.copy_to(&mut self.body[at..]);
    }

    /// The `Response`: the route's answer, or 413 in its peer's format for a body over the limit.
    ///
    /// # Errors
    /// What the runtime's `Response` constructor throws.
    pub fn respond(&self) -> Result<JsValue, JsValue> {
        let body = if self.too_large { Body::TooLarge } else { Body::Bytes(&self.body) };
        self.pending.respond(body)
    }
}

/// An `IdentityError` (400, Zitadel's `invalid_argument`) for a request the handler cannot read,
/// with `cause` when there is one: for the wrapper's reading of the body.
#[wasm_bindgen(js_name = __invalidRequest)]
pub fn invalid_request(message: String, cause: &JsValue) -> JsValue {
    let error = invalid(message);
    if !cause.is_undefined() {
        let _ = Reflect::set(&error, &JsValue::from_str("cause"), cause);
    }
    error
}

fn start(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue, options: &JsValue) -> Result<Pending, JsValue> {
    let text = |key: &str| match js_string(&get(request, key)) {
        Some(Ok(s)) => Ok(s),
        _ => Err(invalid(format!("request.{key}: expected a string (is this a fetch Request?)"))),
    };
    let options = to_value(options, "options").and_then(|o| Options::from_value(o.as_ref())).map_err(invalid)?;
    Ok(Pending {
        snapshot: snapshot.shared(),
        method: text("method")?,
        url: text("url")?,
        content_type: header(request, "content-type"),
        cors: ["origin", "access-control-request-method", "access-control-request-headers"].map(|h| header(request, h)),
        context: to_value(context, "context").map_err(invalid)?,
        options,
    })
}

/// A `Uint8Array` (of this realm) over the bytes of any realm's typed array or `DataView`.
fn as_bytes(chunk: &JsValue) -> Option<Uint8Array> {
    if !js_sys::ArrayBuffer::is_view(chunk) {
        return None;
    }
    let number = |key| get(chunk, key).as_f64().map(|n| n as u32);
    byte_view(&get(chunk, "buffer"), number("byteOffset")?, Some(number("byteLength")?))
}

/// `new Uint8Array(buffer, offset, length)`; `None` when `buffer` is not an `ArrayBuffer` of
/// any realm.
fn byte_view(buffer: &JsValue, offset: u32, length: Option<u32>) -> Option<Uint8Array> {
    let is_buffer = matches!(tag(buffer).as_deref(), Some("[object ArrayBuffer]" | "[object SharedArrayBuffer]"));
    if !is_buffer {
        return None;
    }
    let length = length.or_else(|| get(buffer, "byteLength").as_f64().map(|n| n as u32))?;
    Some(Uint8Array::new_with_byte_offset_and_length(buffer, offset, length))
}

/// `Object.prototype.toString.call(value)`: a value's kind whatever realm it comes from.
fn tag(value: &JsValue) -> Option<String> {
    let prototype = Reflect::get_prototype_of(&Object::new()).ok()?;
    method(&prototype, "toString")?.call0(value).ok()?.as_string()
}
