//! The memory contract between this module and the package's JS wrapper (`pkg-template/api.js`):
//! the one place where both sides agree on bytes and words in wasm memory. Anything here that
//! changes bumps [`VERSION`]; the wrapper compares every constant of [`constants`] with its own
//! when it starts and refuses a module that differs (tested on both sides: `tests/wasm/api.rs`
//! and `tests/js/hostile-test.mjs`).
//!
//! # A call
//! A trusted query (no caller context) is one call into wasm. The wrapper writes the request's
//! strings as UTF-8, one after another, into the request area — [`REQUEST_BYTES`] bytes at the
//! address [`request_area`] gives, which never moves (longer requests take the validating
//! method) — then calls the query's function with their lengths in bytes ([`NULL`] for an absent
//! string) and its numbers. The function answers with the address of the answer, or 0 when
//! it cannot answer (a request the peer refuses, or anything unusual): the wrapper then calls the
//! validating method, which throws the peer's exact error. The answer stays valid until the next
//! call into the module.
//!
//! # An answer
//! Little-endian `u32` words: the number of words that follow, then the query's layout. A string
//! is a *cell*, one word or three:
//! - a key below [`RAW`] (the lowest special value), one word: a text that never changes for this
//!   snapshot. The wrapper decodes it once and keeps it under its key until the snapshot is
//!   freed; for a key it has not seen, `snapshot.__text(key)` gives the address of two words
//!   `address, length` of its UTF-8 (valid until the next call). Keys are below
//!   `snapshot.__keys()`.
//! - [`NULL`], one word: `null`;
//! - [`ABSENT`], one word: the field is left out of the answer (protojson omits it);
//! - [`FRESH`], `address`, `length`: text of this answer only (decode it, do not keep it);
//! - [`RAW`], `address`, `length`: JSON syntax, as it is, in memory that never changes (the
//!   wrapper may keep it by its address).
//!
//! | query | layout |
//! | --- | --- |
//! | `getIdentityLinks` | `n`, then `n` × (`userId`, `groupId`, `type`) cells |
//! | `getUserGroups` | `g`, `g` × (`id`, `name`), `u`, `u` × (`firstName`, `lastName`, `displayName`, `id`) |
//! | `listIdpLinks` | `totalResult`, `processedSequence`, `timestamp` cells; `r` ([`ABSENT`]: no `result` field), `r` × (`idpId`, `userId`, `userName`) |
//! | any `...Json` | `n`, then `n` pieces: [`RAW`] cells as they are, the others (strings) quoted as `JSON.stringify` quotes them, concatenated in order |
//!
//!
//! # An HTTP request (`handleRequest`)
//! One call into the module answers a request: `snapshot.__http(lengths…, body, flags,
//! identity, context, options)`. The wrapper writes the request's texts as UTF-8, one after
//! another, into the HTTP input area (its address from [`http_input`], which makes it hold at
//! least the bytes asked for and moves only then), in this order: the method, the URL, the
//! headers `content-type`, `content-length`, `origin`, `access-control-request-method` and
//! `access-control-request-headers`, and the verified caller's user id — each length a call
//! argument, [`NULL`] for a text that is not there (for the method and the URL: not a string,
//! which the module refuses by name) — then the body. The wrapper may leave out a header the module does not read for the method:
//! `content-type` and `content-length` for `GET` and `HEAD` (no body is read, and the route that
//! reads a content type answers them 405), and the `access-control-request-*` headers for any
//! method but `OPTIONS` (only a preflight reads them). The `body` argument is the body's length in bytes after the texts, or:
//! - [`NULL`]: no body is read (`GET` and `HEAD`);
//! - [`BODY_LATER`]: the body is not read yet. The answer is final (413 for a `Content-Length`
//!   over the limit, any answer that does not need the body) or *needs* it (below); the wrapper
//!   reads the body stream up to the limit and calls again with the texts and the body (or
//!   [`TOO_LARGE`]);
//! - [`TOO_LARGE`]: the body went past the limit while it was read (the answer is 413).
//!
//! `flags`: [`TRAILERS`] when the server can send HTTP trailers (the package's Node listener
//! over HTTP/2), so gRPC is served; the `auth` option: [`TRUSTED`], or [`AUTH_ZITADEL`] and/or
//! [`AUTH_CAMUNDA`] for the peers whose callers the wrapper can establish (none of the three:
//! every route answers its peer's 401). `identity`: 0 until the module asks for the caller,
//! then [`ID_USER`] (the eighth text) or why there is none ([`ID_MISSING`] ...). `context` and
//! `options` (without `auth`) are JS values (`undefined`: none).
//!
//! The answer, `u32` words at the address returned, valid until the next call:
//! `status` — 0: the module *needs* something first, and the next two words say what: the body
//! (its limit in bytes, or [`NULL`] when the body is not needed) and the caller (0: not needed;
//! 1: of a Zitadel route, from its bearer token; 2: of a Camunda route) —, the body — kind (0: none, [`TEXT`]: UTF-8 JSON
//! text, [`BYTES`]), address, length —, `h` and `h` × (name cell, value cell) for the headers,
//! `t` and `t` × (name cell, value cell) for the trailers; cells as above: [`RAW`] (text that
//! never moves, to keep by its address) or [`FRESH`] (this answer's).
//!
//! # Moving a snapshot's tables (`fromJson`)
//! JSON is loaded in a throwaway instance of the module (`super::scratch`), whose memory goes
//! when the instance does; only the tables move into the long-lived instance, as they are. The
//! throwaway instance's `__jsonToTables(length, maxBytes)` answers the address of a *table list*
//! (no length word; 0 when the text is refused): [`LIST_WORDS`] words — `sequence` (low word,
//! high word), the `timestamp`'s seconds (low, high) and nanoseconds, then [`TABLES`] × (address,
//! length in bytes): the strings' text, then the columns in `Snapshot::kept_columns` order. The
//! wrapper writes the list into the long-lived instance's request area and calls `__adopt()`,
//! which makes room for every table and writes the room's addresses over the list's (answering
//! 1; 0 when memory is short); the wrapper copies each table's bytes and calls
//! `Snapshot.__adopted(options)`, which checks the tables as `fromBytes` checks the binary form
//! (all but the checksum: the bytes never left wasm memory) and answers the `Snapshot`.

use crate::snapshot::layout::KEPT;
use crate::snapshot::Snapshot;
use identity_links_text::timestamp::Timestamp;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

/// The contract's version: the wrapper refuses a module with another.
pub const VERSION: u32 = 6;
/// A cell for `null`; as a string length in a call, an absent string.
pub const NULL: u32 = u32::MAX;
/// A cell for a field left out of the answer.
pub const ABSENT: u32 = u32::MAX - 1;
/// A cell whose text belongs to this answer only (followed by its address and length).
pub const FRESH: u32 = u32::MAX - 2;
/// A cell of JSON syntax in memory that never changes (followed by its address and length).
pub const RAW: u32 = u32::MAX - 3;

/// The size of the request area: ids are at most 200 characters (800 bytes of UTF-8).
pub const REQUEST_BYTES: u32 = 4096;

/// The body limit without options (`maxBodyBytes`' default).
pub const MAX_BODY: u32 = crate::http::MAX_BODY as u32;
/// A body length in an HTTP call: the body is not read yet (see "An HTTP request").
pub const BODY_LATER: u32 = u32::MAX - 4;
/// A body length in an HTTP call: the body went past the limit.
pub const TOO_LARGE: u32 = u32::MAX - 5;
/// An HTTP call's flag: the server can send trailers (gRPC over HTTP/2).
pub const TRAILERS: u32 = 1;
/// An HTTP call's flag: `auth: "trusted"` (full rights, or the context's caller).
pub const TRUSTED: u32 = 2;
/// An HTTP call's flag: the wrapper verifies Zitadel's bearer tokens (`AuthOptions.zitadel`).
pub const AUTH_ZITADEL: u32 = 4;
/// An HTTP call's flag: the wrapper identifies Camunda's callers (`AuthOptions.camunda`).
pub const AUTH_CAMUNDA: u32 = 8;
/// An HTTP call's identity: the verified caller's user id is the eighth text (0: not
/// established yet). Then, without one: [`ID_MISSING`] and the following codes.
pub const ID_USER: u32 = 1;
/// An HTTP call's identity: no credentials (no `Authorization` header; a Camunda verifier
/// that found nobody).
pub const ID_MISSING: u32 = 2;
/// An HTTP call's identity: an `Authorization` header that is not `Bearer <token>`.
pub const ID_MALFORMED: u32 = 3;
/// An HTTP call's identity: a token that does not verify.
pub const ID_INVALID: u32 = 4;
/// An HTTP call's identity: the issuer's keys or introspection could not be reached.
pub const ID_UNAVAILABLE: u32 = 5;
/// An HTTP answer's body kind: UTF-8 text (JSON).
pub const TEXT: u32 = 1;
/// An HTTP answer's body kind: bytes.
pub const BYTES: u32 = 2;

/// How many tables a table list names: the strings' text and [`KEPT`] columns.
pub const TABLES: u32 = 1 + KEPT as u32;
/// The words of a table list before its tables: `sequence` (2), seconds (2), nanoseconds.
pub const LIST_HEAD: u32 = 5;
/// The words of a table list.
pub const LIST_WORDS: usize = (LIST_HEAD + 2 * TABLES) as usize;

/// Every constant the wrapper must agree with, in this order: [`VERSION`], [`NULL`],
/// [`ABSENT`], [`FRESH`], [`RAW`], [`REQUEST_BYTES`], [`TABLES`], [`LIST_HEAD`],
/// [`MAX_BODY`], [`BODY_LATER`], [`TOO_LARGE`], [`TRAILERS`], [`TEXT`], [`BYTES`], [`TRUSTED`],
/// [`AUTH_ZITADEL`], [`AUTH_CAMUNDA`], [`ID_USER`], [`ID_MISSING`], [`ID_MALFORMED`],
/// [`ID_INVALID`], [`ID_UNAVAILABLE`].
#[wasm_bindgen(js_name = __abi)]
pub fn constants() -> Vec<u32> {
    let memory = [VERSION, NULL, ABSENT, FRESH, RAW, REQUEST_BYTES, TABLES, LIST_HEAD];
    let http = [MAX_BODY, BODY_LATER, TOO_LARGE, TRAILERS, TEXT, BYTES, TRUSTED, AUTH_ZITADEL, AUTH_CAMUNDA];
    let identity = [ID_USER, ID_MISSING, ID_MALFORMED, ID_INVALID, ID_UNAVAILABLE];
    [&memory[..], &http, &identity].concat()
}

/// The table list of `snapshot` (module docs), with the addresses of its own tables.
pub fn table_list(snapshot: &Snapshot) -> Vec<u32> {
    let (seconds, nanos) = (snapshot.timestamp.seconds as u64, snapshot.timestamp.nanos);
    let mut list =
        vec![snapshot.sequence as u32, (snapshot.sequence >> 32) as u32, seconds as u32, (seconds >> 32) as u32, nanos];
    let text = snapshot.strings.text.as_bytes();
    list.extend([text.as_ptr() as u32, text.len() as u32]);
    for column in snapshot.kept_columns() {
        list.extend([column.as_ptr() as u32, 4 * column.len() as u32]);
    }
    list
}

/// A snapshot whose tables are being moved in: the tables at their final sizes, zeroed, and the
/// strings' text apart until it is checked to be UTF-8.
pub struct Arriving {
    /// The tables (text empty).
    pub snapshot: Snapshot,
    /// The strings' text, as bytes.
    pub text: Vec<u8>,
}

/// Makes room for the tables of the table list in the request area and writes their addresses
/// over the list's; `None` when the list is not one (lengths that are not whole words) or the
/// memory cannot hold them.
pub fn arrive() -> Option<Arriving> {
    REQUEST
        .try_with(|area| {
            let mut area = area.try_borrow_mut().ok()?;
            let words = area.get_mut(..4 * LIST_WORDS)?;
            let word =
                |i: usize| words.get(4 * i..4 * i + 4).map_or(0, |w| u32::from_le_bytes([w[0], w[1], w[2], w[3]]));
            let sequence = u64::from(word(0)) | u64::from(word(1)) << 32;
            let seconds = (u64::from(word(2)) | u64::from(word(3)) << 32) as i64;
            let length = |table: usize| word(LIST_HEAD as usize + 2 * table + 1) as usize;
            let mut text = Vec::new();
            text.try_reserve_exact(length(0)).ok()?;
            text.resize(length(0), 0);
            let mut snapshot = Snapshot::default();
            (snapshot.sequence, snapshot.timestamp) = (sequence, Timestamp { seconds, nanos: word(4) });
            let mut addresses = [0u32; TABLES as usize];
            addresses[0] = text.as_mut_ptr() as u32;
            for (table, address) in addresses.iter_mut().enumerate().skip(1) {
                let bytes = length(table);
                let column = snapshot.kept_column_mut(table - 1)?;
                if bytes % 4 != 0 || column.try_reserve_exact(bytes / 4).is_err() {
                    return None;
                }
                column.resize(bytes / 4, 0);
                *address = column.as_mut_ptr() as u32;
            }
            for (table, address) in addresses.into_iter().enumerate() {
                let at = 4 * (LIST_HEAD as usize + 2 * table);
                words.get_mut(at..at + 4)?.copy_from_slice(&address.to_le_bytes());
            }
            Some(Arriving { snapshot, text })
        })
        .ok()
        .flatten()
}

// The module's thread-locals (these, and those of `http` and `scratch`) are read with `try_with`,
// never `with`: a wasm instance has one thread and never destroys them, so `try_with` cannot
// fail, and `with`'s panic for a destroyed one (its message and `AccessError`'s `Debug`) made
// the module 1,026 bytes larger gzipped (measured 2026-12-07: 99,970 → 98,944).
thread_local! {
    /// Where the wrapper writes a request's strings: a fixed area, so that its address never
    /// changes under the wrapper.
    static REQUEST: RefCell<[u8; REQUEST_BYTES as usize]> = const { RefCell::new([0; REQUEST_BYTES as usize]) };
    /// Where a throwaway instance is handed JSON text to load (`super::scratch`): grows as needed.
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    /// Where the wrapper writes an HTTP request's texts and body: grows as needed.
    static HTTP_INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The request area's address (it never moves).
#[wasm_bindgen(js_name = __request)]
pub fn request_area() -> u32 {
    REQUEST.try_with(|area| area.as_ptr() as u32).unwrap_or(0)
}

/// The module's memory, for the wrapper's views of answers.
#[wasm_bindgen(js_name = __memory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Makes the input area of a throwaway instance hold at least `capacity` bytes; returns its
/// address.
#[wasm_bindgen(js_name = __input)]
pub fn input(capacity: u32) -> u32 {
    INPUT
        .try_with(|buffer| {
            let mut buffer = buffer.borrow_mut();
            if buffer.len() < capacity as usize {
                buffer.resize(capacity as usize, 0);
            }
            buffer.as_ptr() as u32
        })
        .unwrap_or(0)
}

/// Makes the HTTP input area hold at least `capacity` bytes (keeping what it holds); returns
/// its address, or 0 when memory cannot hold it.
#[wasm_bindgen(js_name = __httpInput)]
pub fn http_input(capacity: u32) -> u32 {
    HTTP_INPUT
        .try_with(|buffer| {
            let Ok(mut buffer) = buffer.try_borrow_mut() else { return 0 };
            let (now, wanted) = (buffer.len(), capacity as usize);
            if wanted > now {
                if buffer.try_reserve_exact(wanted - now).is_err() {
                    return 0;
                }
                buffer.resize(wanted, 0);
            }
            buffer.as_ptr() as u32
        })
        .unwrap_or(0)
}

/// Runs `f` with the HTTP input area's bytes.
pub(super) fn with_http_input<R>(f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    HTTP_INPUT.try_with(|buffer| Some(f(&buffer.try_borrow().ok()?))).ok().flatten()
}

/// Runs `f` with the first `len` bytes of the input area; `None` when they do not fit.
pub(super) fn with_input_bytes<R>(len: u32, f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
    INPUT.try_with(|buffer| f(buffer.try_borrow().ok()?.get(..len as usize)?)).ok().flatten()
}

/// Runs `f` with the request's strings, of the byte lengths `lens` one after another in the
/// request area (`None` for a length of [`NULL`]); `None` when one is not UTF-8 or they do not
/// fit.
pub(super) fn with_strings<R, const N: usize>(
    lens: [u32; N],
    f: impl FnOnce([Option<&str>; N]) -> Option<R>,
) -> Option<R> {
    let total = lens.iter().filter(|&&n| n != NULL).try_fold(0u32, |sum, &n| sum.checked_add(n))?;
    REQUEST
        .try_with(|area| {
            let area = area.try_borrow().ok()?;
            let bytes = area.get(..total as usize)?;
            let mut at = 0usize;
            let mut strings = [None; N];
            for (slot, &n) in strings.iter_mut().zip(&lens) {
                if n != NULL {
                    let text = bytes.get(at..at + n as usize)?;
                    *slot = Some(std::str::from_utf8(text).ok()?);
                    at += n as usize;
                }
            }
            f(strings)
        })
        .ok()
        .flatten()
}

/// An answer being written: its words, and the text of its [`FRESH`] cells, whose addresses
/// are set by [`Answer::finish`] once the text no longer moves.
///
/// Words are written by index into a buffer kept longer than needed (`len` is the answer's end),
/// so that the loops writing cells make no call at a size-optimized build's inlining.
pub struct Answer<'a> {
    words: &'a mut Vec<u32>,
    len: usize,
    text: &'a mut Vec<u8>,
    /// Positions in `words` of [`FRESH`] cells, whose address is an offset into `text`.
    pending: Vec<usize>,
}

impl<'a> Answer<'a> {
    /// An empty answer over reusable buffers.
    pub fn new(words: &'a mut Vec<u32>, text: &'a mut Vec<u8>) -> Self {
        text.clear();
        let mut answer = Answer { words, len: 1, text, pending: Vec::new() };
        answer.reserve(16);
        answer
    }

    /// Room for `words` more words.
    #[inline(always)]
    pub fn reserve(&mut self, words: usize) {
        let end = self.len + words;
        if self.words.len() < end {
            self.grow(end);
        }
    }

    fn grow(&mut self, end: usize) {
        self.words.resize(end.max(2 * self.words.len()), 0);
    }

    /// One word: a count, a key, [`NULL`] or [`ABSENT`].
    #[inline(always)]
    pub fn push(&mut self, word: u32) {
        self.reserve(1);
        if let Some(w) = self.words.get_mut(self.len) {
            *w = word;
        }
        self.len += 1;
    }

    /// A three-word cell.
    #[inline(always)]
    fn push3(&mut self, kind: u32, address: u32, length: u32) {
        self.reserve(3);
        if let Some([a, b, c]) = self.words.get_mut(self.len..self.len + 3) {
            (*a, *b, *c) = (kind, address, length);
        }
        self.len += 3;
    }

    /// A count word written once its items are: its position, for [`Answer::set_count`].
    pub fn count_later(&mut self) -> usize {
        self.push(0);
        self.len - 1
    }

    /// Sets the count word at `at`.
    pub fn set_count(&mut self, at: usize, count: usize) {
        if let Some(w) = self.words.get_mut(at) {
            *w = count as u32;
        }
    }

    /// A [`RAW`] cell of a literal.
    pub fn raw(&mut self, json: &'static [u8]) {
        self.push3(RAW, json.as_ptr() as u32, json.len() as u32);
    }

    /// A [`FRESH`] cell of the concatenation of `parts`.
    pub fn fresh(&mut self, parts: &[&[u8]]) {
        let from = self.text.len();
        for part in parts {
            self.text.extend_from_slice(part);
        }
        self.pending.push(self.len);
        self.push3(FRESH, from as u32, (self.text.len() - from) as u32);
    }

    /// Sets the count word and the [`FRESH`] cells' addresses; returns the answer's address.
    pub fn finish(self) -> u32 {
        let base = self.text.as_ptr() as u32;
        for &at in &self.pending {
            if let Some(address) = self.words.get_mut(at + 1) {
                *address += base;
            }
        }
        if let Some(count) = self.words.first_mut() {
            *count = (self.len - 1) as u32;
        }
        self.words.as_ptr() as u32
    }
}
