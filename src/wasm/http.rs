//! `handleRequest(snapshot, request, context?)`: a fetch-style `Request` in, a `Response` out.
//!
//! The answer's JSON is produced in wasm and handed to `new Response(text, ...)` as it is, with
//! no JS objects in between. A `GET` resolves at once; a `POST` reads its body as a stream,
//! chunk by chunk, and stops at the limit: past [`MAX_BODY`] the stream is cancelled and the
//! answer is 413, whatever `Content-Length` says (or whether there is one). An aborted request
//! (`request.signal`) stops reading and rejects with an `AbortError`.
//!
//! The promise only ever rejects with an `Error`: an `IdentityError` for the caller's mistakes
//! (not a Request, a body already read), an `AbortError`, or an `Error` whose `cause` is what the
//! body stream failed with. Values from another realm (a Request made in a `node:vm` context, a
//! body promise of another global) are read by their properties, never by `instanceof`.

use super::convert::{js_string, to_value};
use super::error::identity_error;
use super::snapshot::JsSnapshot;
use crate::error::{QueryError, ZitadelError};
use crate::http::cors::RequestHeaders;
use crate::http::{handle_with, Body, Options, Request, Response};
use crate::json::Value;
use crate::snapshot::Snapshot;
use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

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
#[wasm_bindgen(js_name = handleRequest)]
pub fn handle_request(snapshot: &JsSnapshot, request: &JsValue, context: &JsValue, options: &JsValue) -> Promise {
    let started = start(snapshot, request, context, options);
    let request = request.clone();
    wasm_bindgen_futures::future_to_promise(async move { answer(started?, &request).await.map_err(as_error) })
}

/// The response to a request whose method, URL and context have been read.
async fn answer(pending: Pending, request: &JsValue) -> Result<JsValue, JsValue> {
    if pending.method.eq_ignore_ascii_case("GET") || pending.method.eq_ignore_ascii_case("HEAD") {
        return pending.respond(Body::Bytes(&[]));
    }
    let limit = pending.options.max_body;
    let declared = header(request, "content-length").and_then(|n| n.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return pending.respond(Body::TooLarge);
    }
    match read_body(request, limit).await? {
        Some(bytes) => pending.respond(Body::Bytes(&bytes)),
        None => pending.respond(Body::TooLarge),
    }
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

/// Awaits `value` as `await` does: a promise or thenable of any realm, or a plain value.
async fn settle(value: JsValue) -> Result<JsValue, JsValue> {
    JsFuture::from(Promise::resolve(&value)).await
}

/// The body's bytes, or `None` when it is larger than `limit` (reading then stops at the first
/// chunk past it, and the stream is cancelled).
async fn read_body(request: &JsValue, limit: usize) -> Result<Option<Vec<u8>>, JsValue> {
    let signal = get(request, "signal");
    if aborted(&signal) {
        return Err(abort_error(&signal));
    }
    let stream = get(request, "body");
    if stream.is_null() || stream.is_undefined() {
        return read_whole(request, limit).await;
    }
    let Some(get_reader) = method(&stream, "getReader") else {
        return Err(invalid("request.body: expected a ReadableStream or null".to_owned()));
    };
    let reader = get_reader.call0(&stream).map_err(|e| {
        let why = "request.body: already read or locked";
        with_cause(invalid(why.to_owned()), &e)
    })?;
    let (Some(read), Some(cancel)) = (method(&reader, "read"), method(&reader, "cancel")) else {
        return Err(invalid("request.body.getReader(): expected a stream reader".to_owned()));
    };
    // An abort cancels the reader, so that a read waiting for a chunk that never comes settles.
    let on_abort = {
        let (reader, cancel) = (reader.clone(), cancel.clone());
        Closure::<dyn FnMut()>::new(move || quietly(cancel.call0(&reader)))
    };
    listen(&signal, "addEventListener", &on_abort);
    let result = pump(&reader, &read, &signal, limit).await;
    listen(&signal, "removeEventListener", &on_abort);
    if !matches!(result, Ok(Some(_))) {
        quietly(cancel.call0(&reader));
    }
    result
}

/// Reads chunks until the stream ends, the limit is passed or the signal aborts.
async fn pump(reader: &JsValue, read: &Function, signal: &JsValue, limit: usize) -> Result<Option<Vec<u8>>, JsValue> {
    let mut bytes = Vec::new();
    loop {
        let next = settle(read.call0(reader)?).await;
        if aborted(signal) {
            return Err(abort_error(signal));
        }
        let next = next.map_err(|e| with_cause(js_sys::Error::new("the request body stream failed").into(), &e))?;
        if get(&next, "done").is_truthy() {
            return Ok(Some(bytes));
        }
        let chunk = as_bytes(&get(&next, "value"))
            .ok_or_else(|| invalid("request.body: a chunk that is not a Uint8Array".to_owned()))?;
        let n = chunk.length() as usize;
        if bytes.len() + n > limit {
            return Ok(None);
        }
        let at = bytes.len();
        bytes.resize(at + n, 0);
        chunk.copy_to(&mut bytes[at..]);
    }
}

/// A request object without a `body` stream (not a fetch Request): its `arrayBuffer()` if it has
/// one, checked against the limit once read; otherwise no body.
async fn read_whole(request: &JsValue, limit: usize) -> Result<Option<Vec<u8>>, JsValue> {
    let Some(read) = method(request, "arrayBuffer") else { return Ok(Some(Vec::new())) };
    let buffer = settle(read.call0(request)?).await?;
    let bytes = if js_sys::ArrayBuffer::is_view(&buffer) { as_bytes(&buffer) } else { byte_view(&buffer, 0, None) };
    let bytes = bytes.ok_or_else(|| invalid("request.arrayBuffer(): expected an ArrayBuffer".to_owned()))?;
    Ok((bytes.length() as usize <= limit).then(|| bytes.to_vec()))
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

fn aborted(signal: &JsValue) -> bool {
    get(signal, "aborted").is_truthy()
}

/// `signal[add_or_remove]("abort", listener)`, when the signal has such a method.
fn listen(signal: &JsValue, add_or_remove: &str, listener: &Closure<dyn FnMut()>) {
    if let Some(f) = method(signal, add_or_remove) {
        let _ = f.call2(signal, &JsValue::from_str("abort"), listener.as_ref());
    }
}

/// Ignores a promise's rejection (a cancelled stream's), so that it is never unhandled.
fn quietly(result: Result<JsValue, JsValue>) {
    if let Ok(promise) = result {
        // One function for both outcomes: called once either way, so it is always freed.
        let ignore = Closure::once_into_js(|_: JsValue| {});
        let promise: JsValue = Promise::resolve(&promise).into();
        if let Some(then) = method(&promise, "then") {
            let _ = then.call2(&promise, &ignore, &ignore);
        }
    }
}

/// An `Error` named `AbortError` (a `DOMException` where the runtime has one), its `cause` the
/// signal's reason.
fn abort_error(signal: &JsValue) -> JsValue {
    let message = "the request was aborted while its body was read";
    let error = match get(&js_sys::global(), "DOMException").dyn_into::<Function>() {
        Ok(dom) => Reflect::construct(&dom, &Array::of2(&message.into(), &"AbortError".into())).ok(),
        Err(_) => None,
    };
    let error = error.unwrap_or_else(|| {
        let e = js_sys::Error::new(message);
        e.set_name("AbortError");
        e.into()
    });
    with_cause(error, &get(signal, "reason"))
}

/// `error` with `cause` set (when there is one to set).
fn with_cause(error: JsValue, cause: &JsValue) -> JsValue {
    if !cause.is_undefined() {
        let _ = Reflect::set(&error, &JsValue::from_str("cause"), cause);
    }
    error
}

/// `value` if it is an `Error` of any realm; otherwise an `Error` that carries it as `cause`.
fn as_error(value: JsValue) -> JsValue {
    if value.is_instance_of::<js_sys::Error>() || tag(&value).as_deref() == Some("[object Error]") {
        return value;
    }
    with_cause(js_sys::Error::new("handleRequest failed").into(), &value)
}

/// `Object.prototype.toString.call(value)`: a value's kind whatever realm it comes from.
fn tag(value: &JsValue) -> Option<String> {
    let prototype = Reflect::get_prototype_of(&Object::new()).ok()?;
    method(&prototype, "toString")?.call0(value).ok()?.as_string()
}
