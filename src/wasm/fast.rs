//! Fast paths for the package's JS wrapper (`api.js`): the same core queries, with answers
//! written as symbols into a reusable `u32` buffer that JS reads through a view of wasm memory
//! and turns into objects with its cache of JS strings. One call into wasm per query, no JSON
//! text and no string decoding for strings JS has seen before.
//!
//! Each function returns the buffer's address (its first word is the payload's length), or 0
//! when the query fails: the wrapper then takes the validating path, which throws the exact
//! `IdentityError`. Not part of the public API (names start with `__`).
//!
//! Layouts (`NONE` = 0xFFFFFFFF for null; `ASSIGNEE`/`OWNER` = NONE−1/NONE−2 as a link type):
//! - links: `n, (user, group, type) × n`
//! - groups: `g, (id, name) × g, u, (firstName, lastName, id) × u`
//! - IdP links: `totalResult, n, (idpId, providedUserId, providedUserName) × n`

use super::snapshot::JsSnapshot;
use crate::query::request::{IdentityLinksRequest, ListIdpLinksRequest, UserGroupsRequest};
use crate::query::{CallContext, LinkKind};
use crate::snapshot::NONE;
use std::borrow::Cow;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

const ASSIGNEE: u32 = NONE - 1;
const OWNER: u32 = NONE - 2;

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

/// Runs `f` with the strings of `lengths` read from the input buffer (`NONE`: absent); `None`
/// when they do not fit or are not UTF-8 (the wrapper then takes the validating path).
fn with_input<R>(lengths: [u32; 2], f: impl FnOnce(Option<&str>, Option<&str>) -> Option<R>) -> Option<R> {
    INPUT.with(|buffer| {
        let buffer = buffer.try_borrow().ok()?;
        let mut at = 0usize;
        let mut take = |len: u32| -> Option<Option<&str>> {
            if len == NONE {
                return Some(None);
            }
            let bytes = buffer.get(at..at + len as usize)?;
            at += len as usize;
            std::str::from_utf8(bytes).ok().map(Some)
        };
        let (a, b) = (take(lengths[0])?, take(lengths[1])?);
        f(a, b)
    })
}

#[wasm_bindgen(js_class = Snapshot)]
impl JsSnapshot {
    /// The text of symbol `sym` (the wrapper caches it).
    #[wasm_bindgen(js_name = __string)]
    pub fn string(&self, sym: u32) -> String {
        self.shared().str(sym).to_owned()
    }

    /// How many strings the snapshot holds (the wrapper sizes its cache with it).
    #[wasm_bindgen(js_name = __stringCount)]
    pub fn string_count(&self) -> u32 {
        self.shared().strings.len() as u32
    }

    /// `getIdentityLinks` for a trusted call, task id and type in the input buffer.
    #[wasm_bindgen(js_name = __links)]
    pub fn fast_links(&self, task_len: u32, type_len: u32) -> u32 {
        let snapshot = self.shared();
        let links = with_input([task_len, type_len], |task_id, kind| {
            let request = IdentityLinksRequest { task_id: Cow::Borrowed(task_id?), kind: kind.map(Cow::Borrowed) };
            snapshot.identity_links_answer(&request, &CallContext::default()).ok()
        });
        let Some(links) = links else { return 0 };
        self.answer(|out| {
            out.push(links.len() as u32);
            for link in &links {
                let kind = match link.kind {
                    LinkKind::Stored(sym) => sym,
                    LinkKind::Assignee => ASSIGNEE,
                    LinkKind::Owner => OWNER,
                };
                out.extend_from_slice(&[link.user, link.group, kind]);
            }
        })
    }

    /// `getUserGroups` for a trusted call, user id in the input buffer.
    #[wasm_bindgen(js_name = __groups)]
    pub fn fast_groups(&self, user_len: u32) -> u32 {
        let snapshot = self.shared();
        let answer = with_input([user_len, NONE], |user_id, _| {
            let request = UserGroupsRequest { user_id: user_id.map(Cow::Borrowed) };
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

    /// `listIdpLinks` for a trusted call with whole-number paging, user id in the input buffer.
    #[wasm_bindgen(js_name = __idp)]
    pub fn fast_idp(&self, user_len: u32, offset: f64, limit: u32, asc: bool) -> u32 {
        let snapshot = self.shared();
        let page = with_input([user_len, NONE], |user_id, _| {
            let request = ListIdpLinksRequest { user_id: Cow::Borrowed(user_id?), offset: offset as u64, limit, asc };
            snapshot.idp_page(&request, &CallContext::default()).ok()
        });
        let Some(page) = page else { return 0 };
        let column = |c: &[u32], row: u32| c.get(row as usize).copied().unwrap_or(NONE);
        self.answer(|out| {
            out.extend_from_slice(&[page.total.min(u64::from(u32::MAX)) as u32, page.links.len() as u32]);
            for &l in &page.links {
                let idp = &snapshot.idp;
                out.extend_from_slice(&[
                    column(&idp.idp_id, l),
                    column(&idp.provided_id, l),
                    column(&idp.provided_name, l),
                ]);
            }
        })
    }

    /// The JSON text of a trusted query with its strings in the input buffer: the address of
    /// `[address, length]` of the UTF-8 body, or 0 on failure. `query`: 0 links, 1 groups, 2 IdP.
    #[wasm_bindgen(js_name = __json)]
    pub fn fast_json(&self, query: u32, first_len: u32, second_len: u32, offset: f64, limit: u32, asc: bool) -> u32 {
        let snapshot = self.shared();
        let Ok(mut body) = self.out_buffer() else { return 0 };
        body.clear();
        let ok = with_input([first_len, second_len], |first, second| {
            let context = CallContext::default();
            let done = match query {
                0 => {
                    let request =
                        IdentityLinksRequest { task_id: Cow::Borrowed(first?), kind: second.map(Cow::Borrowed) };
                    snapshot.identity_links(&request, &context, &mut body).is_ok()
                }
                1 => {
                    let request = UserGroupsRequest { user_id: first.map(Cow::Borrowed) };
                    snapshot.user_groups(&request, &context, &mut body).is_ok()
                }
                _ => {
                    let request =
                        ListIdpLinksRequest { user_id: Cow::Borrowed(first?), offset: offset as u64, limit, asc };
                    snapshot.list_idp_links(&request, &context, &mut body).is_ok()
                }
            };
            done.then_some(())
        });
        if ok.is_none() {
            return 0;
        }
        let (address, length) = (body.as_ptr() as u32, body.len() as u32);
        self.answer(|out| out.extend_from_slice(&[address, length]))
    }
}
