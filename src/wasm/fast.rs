//! Fast paths for the package's JS wrapper (`api.js`): answers written as symbols into a
//! reusable `u32` buffer that JS reads through a view of wasm memory and turns into objects or
//! JSON text with its caches of JS strings. At most one call into wasm per query, and no string
//! decoding for strings JS has seen before.
//!
//! Each function returns the buffer's address (its first word is the payload's length), or 0
//! when the query fails: the wrapper then takes the validating path, which throws the exact
//! `IdentityError`. Not part of the public API (names start with `__`).
//!
//! `getIdentityLinks` and `listIdpLinks` need no call at all: the wrapper reads the tables
//! through [`JsSnapshot::layout`], hashing a request's string with the index's own
//! [`crate::snapshot::strings::slot_hash`]. `getUserGroups` (a `java.util.HashSet`'s order) is
//! computed here.
//!
//! Layouts (`NONE` = 0xFFFFFFFF for null):
//! - groups: `g, (id, name) × g, u, (firstName, lastName, id) × u`
//! - layout: addresses (bytes) of the string text, `ends`, then the count of strings; `slots`
//!   and its length; the task directory's slots, their length, and its records; the same of
//!   the IdP users' directory ([`crate::snapshot::directory`]); then `defaultLimit`,
//!   `maxLimit`.

use super::snapshot::JsSnapshot;
use crate::query::request::UserGroupsRequest;
use crate::query::CallContext;
use crate::snapshot::directory::Directory;
use crate::snapshot::NONE;
use std::borrow::Cow;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    /// Where the wrapper writes a request's strings (UTF-8, one after another).
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The module's memory, for the wrapper's views.
#[wasm_bindgen(js_name = __memory)]
pub fn memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Makes the input buffer hold at least `capacity` bytes; returns its address.
#[wasm_bindgen(js_name = __input)]
pub fn input(capacity: u32) -> u32 {
    INPUT.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        if buffer.len() < capacity as usize {
            buffer.resize(capacity as usize, 0);
        }
        buffer.as_ptr() as u32
    })
}

/// Runs `f` with the first `len` bytes of the input buffer; `None` when they do not fit.
pub(super) fn with_input_bytes<R>(len: u32, f: impl FnOnce(&[u8]) -> Option<R>) -> Option<R> {
    INPUT.with(|buffer| f(buffer.try_borrow().ok()?.get(..len as usize)?))
}

/// [`with_input_bytes`] as a string; `None` when not UTF-8 (the wrapper then takes the
/// validating path).
fn with_input<R>(len: u32, f: impl FnOnce(&str) -> Option<R>) -> Option<R> {
    with_input_bytes(len, |bytes| f(std::str::from_utf8(bytes).ok()?))
}

#[wasm_bindgen(js_class = Snapshot)]
impl JsSnapshot {
    /// Where the snapshot's tables are in wasm memory, for the wrapper's lookups without a call
    /// into wasm (`getIdentityLinks`, `listIdpLinks`): the address of the words listed in the
    /// module documentation. The first call builds the directories. The tables never move: a
    /// snapshot is not changed after loading.
    #[wasm_bindgen(js_name = __layout)]
    pub fn layout(&self) -> u32 {
        let s = self.shared();
        let at = |c: &[u32]| c.as_ptr() as u32;
        let (tasks, users) = self.directories.get_or_init(|| {
            (Directory::tasks(&s.tasks, &s.strings), Directory::idp_users(&s.users, &s.idp, &s.strings))
        });
        let strings = &s.strings;
        self.answer(|out| {
            out.extend_from_slice(&[
                strings.text.as_ptr() as u32,
                at(&strings.ends),
                strings.len() as u32,
                at(&strings.slots),
                strings.slots.len() as u32,
                at(&tasks.slots),
                tasks.slots.len() as u32,
                at(&tasks.records),
                at(&users.slots),
                users.slots.len() as u32,
                at(&users.records),
                s.limits.default_limit,
                s.limits.max_limit,
            ]);
        })
    }

    /// `getUserGroups` for a trusted call, user id in the input buffer.
    #[wasm_bindgen(js_name = __groups)]
    pub fn fast_groups(&self, user_len: u32) -> u32 {
        let snapshot = self.shared();
        let answer = with_input(user_len, |user_id| {
            let request = UserGroupsRequest { user_id: Some(Cow::Borrowed(user_id)) };
            snapshot.user_groups_answer(&request, &CallContext::default()).ok()
        });
        let Some(answer) = answer else { return 0 };
        let column = |c: &[u32], row: u32| c.get(row as usize).copied().unwrap_or(NONE);
        self.answer(|out| {
            out.push(answer.groups.len() as u32);
            for &g in &answer.groups {
                out.extend_from_slice(&[column(&snapshot.groups.id, g), column(&snapshot.groups.name, g)]);
            }
            out.push(answer.users.len() as u32);
            for &u in &answer.users {
                let users = &snapshot.users;
                out.extend_from_slice(&[column(&users.first, u), column(&users.last, u), column(&users.id, u)]);
            }
        })
    }
}
