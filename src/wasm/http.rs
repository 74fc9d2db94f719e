//! `handleRequest`'s one call into the module: the request's texts and body in the HTTP input
//! area, the answer's status, headers, body and trailers out as words
//! ([`abi`](super::abi), "An HTTP request"). Every HTTP decision is the core's
//! ([`crate::http`]); this reads the call and writes the answer. The wrapper
//! (`pkg-template/api.js`) reads the `Request` and its body stream, which are I/O, and builds the
//! `Response` from the words.

use super::abi::{
    with_http_input, AUTH_CAMUNDA, AUTH_ZITADEL, BODY_LATER, BYTES, FRESH, ID_INVALID, ID_MALFORMED, ID_MISSING,
    ID_UNAVAILABLE, ID_USER, NULL, RAW, TEXT, TOO_LARGE, TRAILERS, TRUSTED,
};
use super::convert::to_value;
use super::error::identity_error;
use super::snapshot::JsSnapshot;
use crate::error::{QueryError, ZitadelError};
use crate::http::cors::RequestHeaders;
use crate::http::{serve, Auth, Body, Identity, Needs, Options, Request, Response, Served};
use crate::json::Value;
use crate::query::{CallContext, ContextError, Peer};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The request's texts, in the order the wrapper writes them (abi: "An HTTP request").
const TEXTS: [&str; 8] = [
    "method",
    "url",
    "content-type",
    "content-length",
    "origin",
    "access-control-request-method",
    "access-control-request-headers",
    "caller",
];

thread_local! {
    /// `handleRequest`'s options when none but `auth` are given, one for each combination of
    /// the call's four flags.
    static DEFAULT_OPTIONS: [Options; 16] = std::array::from_fn(|flags| {
        let flags = flags as u32;
        Options { trailers: flags & TRAILERS != 0, auth: auth_of(flags), ..Options::default() }
    });
    /// The last answer: its words, and the `Response` whose texts its cells point into.
    static ANSWER: RefCell<(Vec<u32>, Response)> = RefCell::new((Vec::new(), Response::new(0, None, Vec::new())));
}

/// A request the handler cannot read: `IdentityError` 400, Zitadel's `invalid_argument`.
fn invalid(message: String) -> JsValue {
    identity_error(&QueryError::Zitadel(ZitadelError::InvalidArgument { message }))
}

#[wasm_bindgen(js_class = Snapshot)]
impl JsSnapshot {
    /// Serves one request (abi: "An HTTP request"): the address of the answer's words.
    ///
    /// # Errors
    /// `IdentityError` (400) for options or a context that cannot be read, a method or URL that
    /// is not a string, or texts that are not in the input area as UTF-8.
    #[allow(clippy::too_many_arguments)]
    #[wasm_bindgen(js_name = __http)]
    pub fn http(
        &self,
        method: u32,
        url: u32,
        content_type: u32,
        content_length: u32,
        origin: u32,
        request_method: u32,
        request_headers: u32,
        caller: u32,
        body: u32,
        flags: u32,
        identity: u32,
        context: &JsValue,
        options: &JsValue,
    ) -> Result<u32, JsValue> {
        // The JS values first: reading them may call back into the module. Without options the
        // defaults for the flags, made once.
        let given = match options.is_undefined() {
            true => None,
            false => {
                let mut options = module_options(options)?;
                (options.trailers, options.auth) = (flags & TRAILERS != 0, auth_of(flags));
                Some(options)
            }
        };
        let context = to_value(context, "context").map_err(invalid)?;
        // A context without a caller rejects the call (never full rights, never an answer).
        if let Err(ContextError::NoCaller(message)) = CallContext::from_value(context.as_ref()) {
            return Err(super::error::usage_error(&message));
        }
        let lengths = [method, url, content_type, content_length, origin, request_method, request_headers, caller];
        let call = Call { lengths, body, identity, context: context.as_ref() };
        DEFAULT_OPTIONS
            .try_with(|defaults| {
                let options = given.as_ref().unwrap_or(&defaults[(flags & 15) as usize]);
                self.serve(&call, options)
            })
            .unwrap_or_else(|_| Err(invalid("a re-entrant call".to_owned())))
    }
}

/// An HTTP call's arguments, once its JS values are read.
struct Call<'a> {
    lengths: [u32; 8],
    body: u32,
    identity: u32,
    context: Option<&'a Value>,
}

/// The `auth` mode the call's flags say.
fn auth_of(flags: u32) -> Auth {
    match (flags & TRUSTED != 0, flags & AUTH_ZITADEL != 0, flags & AUTH_CAMUNDA != 0) {
        (true, _, _) => Auth::Trusted,
        (false, false, false) => Auth::Nobody,
        (false, zitadel, camunda) => Auth::FromRequest { zitadel, camunda },
    }
}

/// The caller the wrapper established, from the call's identity code and its user id.
fn identity_of(code: u32, user: Option<&str>) -> Identity<'_> {
    match (code, user) {
        (ID_USER, Some(user)) => Identity::User(user),
        (ID_MISSING, _) | (ID_USER, None) => Identity::Missing,
        (ID_MALFORMED, _) => Identity::Malformed,
        (ID_INVALID, _) => Identity::Invalid,
        (ID_UNAVAILABLE, _) => Identity::Unavailable,
        _ => Identity::Unknown,
    }
}

impl JsSnapshot {
    /// [`JsSnapshot::http`] once its JS values are read.
    fn serve(&self, call: &Call, options: &Options) -> Result<u32, JsValue> {
        let served = with_http_input(|input| {
            let texts = texts(input, call.lengths)?;
            let [Some(method), Some(url), content_type, content_length, origin, cors_method, cors_headers, caller] =
                texts
            else {
                let missing = if texts[0].is_none() { TEXTS[0] } else { TEXTS[1] };
                return Err(invalid(format!("request.{missing}: expected a string (is this a fetch Request?)")));
            };
            let after_texts =
                call.lengths.iter().filter(|&&n| n != NULL).fold(0usize, |sum, &n| sum.saturating_add(n as usize));
            let declared = content_length.and_then(|n| n.trim().parse::<u64>().ok());
            let body = match call.body {
                NULL => Body::Bytes(&[]),
                TOO_LARGE => Body::TooLarge,
                _ if declared.is_some_and(|n| n > options.max_body as u64) => Body::TooLarge,
                BODY_LATER => Body::Later,
                n => Body::Bytes(
                    after_texts
                        .checked_add(n as usize)
                        .and_then(|end| input.get(after_texts..end))
                        .ok_or_else(|| invalid("the request's body is not in the input area".to_owned()))?,
                ),
            };
            let mut request = Request::new(method, url, content_type, body);
            request.cors = RequestHeaders { origin, method: cors_method, headers: cors_headers };
            request.identity = identity_of(call.identity, caller);
            Ok(serve(&self.inner, &request, call.context, options))
        })
        .ok_or_else(|| invalid("a re-entrant call".to_owned()))??;
        let address = match served {
            Served::Answer(response) => answer(response),
            Served::Needs(needs) => wants(needs, options.max_body as u32),
        };
        address.ok_or_else(|| invalid("a re-entrant call".to_owned()))
    }
}

/// The request's texts from the input area, one after another of the byte lengths `lengths`
/// (`None` for [`NULL`]).
fn texts(input: &[u8], lengths: [u32; 8]) -> Result<[Option<&str>; 8], JsValue> {
    let mut texts = [None; 8];
    let mut at = 0usize;
    for ((slot, &n), name) in texts.iter_mut().zip(&lengths).zip(TEXTS) {
        if n == NULL {
            continue;
        }
        let bytes = at.checked_add(n as usize).and_then(|end| input.get(at..end));
        let text = bytes.and_then(|b| std::str::from_utf8(b).ok());
        *slot = Some(text.ok_or_else(|| invalid(format!("request's {name}: not UTF-8 in the input area")))?);
        at += n as usize;
    }
    Ok(texts)
}

/// The answer that says what the module needs first: status 0, the body's limit (or [`NULL`]),
/// the caller's peer (0: none, 1: Zitadel, 2: Camunda).
fn wants(needs: Needs, limit: u32) -> Option<u32> {
    let peer = match needs.identity {
        None => 0,
        Some(Peer::Zitadel) => 1,
        Some(Peer::Camunda) => 2,
    };
    ANSWER
        .try_with(|answer| {
            let mut answer = answer.try_borrow_mut().ok()?;
            answer.0.clear();
            answer.0.extend([0, if needs.body { limit } else { NULL }, peer]);
            Some(answer.0.as_ptr() as u32)
        })
        .ok()
        .flatten()
}

/// Writes `response` as the abi lays it out and keeps it (its texts are what the cells point
/// at); the words' address. `content-type` and `allow`, static texts, are [`RAW`] cells.
fn answer(response: Response) -> Option<u32> {
    ANSWER
        .try_with(|kept| {
            let mut kept = kept.try_borrow_mut().ok()?;
            let (words, kept) = &mut *kept;
            *kept = response;
            words.clear();
            let body = &kept.body;
            let kind = match kept.content_type {
                _ if body.is_empty() => 0,
                Some("application/json") => TEXT,
                _ => BYTES,
            };
            words.extend([u32::from(kept.status), kind, body.as_ptr() as u32, body.len() as u32]);
            let cell = |words: &mut Vec<u32>, kind: u32, text: &str| {
                words.extend([kind, text.as_ptr() as u32, text.len() as u32]);
            };
            let fixed = [("content-type", kept.content_type), ("allow", kept.allow)];
            let fixed = fixed.iter().filter_map(|&(name, value)| Some((name, value?)));
            words.push((fixed.clone().count() + kept.headers.len()) as u32);
            for (name, value) in fixed {
                cell(words, RAW, name);
                cell(words, RAW, value);
            }
            let pairs = |words: &mut Vec<u32>, list: &[(&'static str, String)]| {
                for (name, value) in list {
                    cell(words, RAW, name);
                    cell(words, FRESH, value);
                }
            };
            pairs(words, &kept.headers);
            words.push(kept.trailers.len() as u32);
            pairs(words, &kept.trailers);
            Some(words.as_ptr() as u32)
        })
        .ok()
        .flatten()
}

/// An `IdentityError` (400, Zitadel's `invalid_argument`) for a request the wrapper cannot read
/// (its body stream), with `cause` when there is one.
/// The options the module reads (`handleRequest`'s, `auth` taken apart by the wrapper); a bad
/// one is the caller's mistake, not the request's: a `UsageError` naming it.
fn module_options(options: &JsValue) -> Result<Options, JsValue> {
    to_value(options, "options")
        .and_then(|o| Options::from_value(o.as_ref()))
        .map_err(|m| super::error::usage_error(&format!("handleRequest: {m}")))
}

/// Checks the options the module reads without a request: the Node listener refuses bad ones
/// when it is made, not at every request.
///
/// # Errors
/// `IdentityError` (400, `UsageError`) naming the bad option.
#[wasm_bindgen(js_name = __checkOptions)]
pub fn check_options(options: &JsValue) -> Result<(), JsValue> {
    module_options(options).map(drop)
}

/// An `IdentityError` (400, Zitadel's `invalid_argument`) for a request the wrapper cannot read
/// (its body stream), with `cause` when there is one.
#[wasm_bindgen(js_name = __invalidRequest)]
pub fn invalid_request(message: String, cause: &JsValue) -> JsValue {
    let error = invalid(message);
    if !cause.is_undefined() {
        let _ = js_sys::Reflect::set(&error, &JsValue::from_str("cause"), cause);
    }
    error
}
