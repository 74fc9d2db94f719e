//! The queries of a trusted call (no caller context), for the package's JS wrapper: one call
//! each, the request's strings read from the input area and the answer written as the
//! [`abi`](super::abi) lays it out — every rule of the query applied here, by the core.
//! Any call these cannot answer returns 0, and the wrapper calls the validating method, which
//! throws the exact `IdentityError`. Not part of the public API (names start with `__`).

use super::abi::{with_strings, Answer, ABSENT, NULL, RAW};
use super::snapshot::JsSnapshot;
use crate::json::sink::Parts;
use crate::json::writer::u64_digits;
use crate::json::{JsonSink, Kept};
use crate::query::request::{IdentityLinksRequest, ListIdpLinksRequest, UserGroupsRequest};
use crate::query::{CallContext, DisplayName, LinkKind};
use crate::snapshot::Snapshot;
use identity_links_tables::strings::{Sym, NONE};
use std::borrow::Cow;
use wasm_bindgen::prelude::*;

/// The keys of a snapshot's texts (`abi`'s one-word cells): its strings by symbol, then these
/// texts made for answers, counted from the number of strings — the last one per user row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Made {
    Assignee,
    Owner,
    Sequence,
    Timestamp,
    DisplayName(u32),
}

impl Made {
    fn offset(self) -> u64 {
        match self {
            Made::Assignee => 0,
            Made::Owner => 1,
            Made::Sequence => 2,
            Made::Timestamp => 3,
            Made::DisplayName(user) => 4 + u64::from(user),
        }
    }

    /// The text made for the key `offset` places after the strings, if there is one.
    fn at(offset: u64, users: usize) -> Option<Made> {
        Some(match offset {
            0 => Made::Assignee,
            1 => Made::Owner,
            2 => Made::Sequence,
            3 => Made::Timestamp,
            n => Made::DisplayName(u32::try_from(n - 4).ok().filter(|&u| (u as usize) < users)?),
        })
    }
}

impl JsSnapshot {
    /// Writes the one-word cell of a made text: its key. Keys stay below [`RAW`]: a snapshot
    /// has fewer than 2^31 strings (the string table refuses more) and, in 4 GiB of memory,
    /// fewer than 2^29 users; [`JsSnapshot::keys`] clamps all the same.
    fn put_made(&self, answer: &mut Answer, made: Made) {
        let key = self.inner.strings.len() as u64 + made.offset();
        answer.push(key.min(u64::from(RAW - 1)) as u32);
    }

    /// The text of a made key.
    fn made_text(&self, made: Made, out: &mut Vec<u8>) {
        let s = &self.inner;
        match made {
            Made::Assignee => out.extend_from_slice(s.link_kind_name(LinkKind::Assignee).as_bytes()),
            Made::Owner => out.extend_from_slice(s.link_kind_name(LinkKind::Owner).as_bytes()),
            Made::Sequence => out.extend_from_slice(self.fixed[0].as_bytes()),
            Made::Timestamp => out.extend_from_slice(self.fixed[1].as_bytes()),
            Made::DisplayName(user) => match s.display_name(user as usize) {
                DisplayName::Own(sym) => out.extend_from_slice(s.strings.bytes_of(sym)),
                DisplayName::Joined(first, last) => {
                    out.extend_from_slice(first.as_bytes());
                    out.push(b' ');
                    out.extend_from_slice(last.as_bytes());
                }
            },
        }
    }

    /// Runs `write` over an [`Answer`] in the snapshot's buffers; its address, or 0 when `write`
    /// gives up (or the buffers are in use: a call from inside a call).
    fn trusted(&self, write: impl FnOnce(&mut Answer) -> Option<()>) -> u32 {
        let (Ok(mut words), Ok(mut text)) = (self.codes.try_borrow_mut(), self.out.try_borrow_mut()) else {
            return 0;
        };
        let mut answer = Answer::new(&mut words, &mut text);
        match write(&mut answer) {
            Some(()) => answer.finish(),
            None => 0,
        }
    }

    /// A `...Json` answer: `write` fills the pieces; 0 when it fails.
    fn trusted_json<E>(&self, write: impl FnOnce(&Snapshot, &mut Pieces) -> Result<(), E>) -> u32 {
        self.trusted(|answer| {
            let count = answer.count_later();
            let mut pieces = Pieces { snapshot: self, answer, count: 0 };
            write(&self.inner, &mut pieces).ok()?;
            let n = pieces.count;
            answer.set_count(count, n);
            Some(())
        })
    }
}

/// The one-word cell of symbol `sym`, or [`NULL`] for [`NONE`] (the same word).
#[inline(always)]
fn sym(answer: &mut Answer, sym: Sym) {
    answer.push(if sym == NONE { NULL } else { sym });
}

/// A JSON answer as the `abi`'s pieces: syntax as [`RAW`] cells of the writers' literals,
/// strings as cells.
struct Pieces<'s, 'a, 'b> {
    snapshot: &'s JsSnapshot,
    answer: &'a mut Answer<'b>,
    count: usize,
}

impl JsonSink for Pieces<'_, '_, '_> {
    fn raw(&mut self, json: &'static [u8]) {
        self.count += 1;
        self.answer.raw(json);
    }

    fn sym(&mut self, symbol: u32, _: &str) {
        self.count += 1;
        sym(self.answer, symbol);
    }

    fn by_symbol(&self) -> bool {
        true
    }

    fn text(&mut self, text: &str) {
        self.count += 1;
        self.answer.fresh(&[text.as_bytes()]);
    }

    fn kept(&mut self, kept: Kept, _: Parts) {
        self.count += 1;
        let made = match kept {
            Kept::Sequence => Made::Sequence,
            Kept::Timestamp => Made::Timestamp,
            Kept::DisplayName(user) => Made::DisplayName(user),
        };
        self.snapshot.put_made(self.answer, made);
    }
}

#[wasm_bindgen(js_class = Snapshot)]
impl JsSnapshot {
    /// How many keys the wrapper may keep texts under for this snapshot (`abi`'s cells).
    #[wasm_bindgen(js_name = __keys)]
    pub fn keys(&self) -> u32 {
        let count = self.inner.strings.len() as u64 + Made::DisplayName(0).offset() + self.inner.users.id.len() as u64;
        count.min(u64::from(RAW)) as u32
    }

    /// The text of `key` (`abi`): the address of `address, length` of its UTF-8, or 0 for a key
    /// this snapshot does not have.
    #[wasm_bindgen(js_name = __text)]
    pub fn text(&self, key: u32) -> u32 {
        let Ok(mut spot) = self.spot.try_borrow_mut() else { return 0 };
        let (text, words) = &mut *spot;
        let strings = self.inner.strings.len() as u64;
        let (address, length) = if u64::from(key) < strings {
            let bytes = self.inner.strings.bytes_of(key);
            (bytes.as_ptr() as u32, bytes.len() as u32)
        } else {
            let Some(made) = Made::at(u64::from(key) - strings, self.inner.users.id.len()) else { return 0 };
            text.clear();
            self.made_text(made, text);
            (text.as_ptr() as u32, text.len() as u32)
        };
        *words = [address, length];
        words.as_ptr() as u32
    }

    /// `getIdentityLinks`: the task id and the type filter (or [`NULL`]) in the input area; as
    /// JSON text when `json`.
    #[wasm_bindgen(js_name = __links)]
    pub fn trusted_links(&self, task_len: u32, type_len: u32, json: bool) -> u32 {
        let answer = with_strings([task_len, type_len], |[task, kind]| {
            let request = IdentityLinksRequest { task_id: Cow::Borrowed(task?), kind: kind.map(Cow::Borrowed) };
            if json {
                return Some(self.trusted_json(|s, out| s.identity_links(&request, &CallContext::default(), out)));
            }
            Some(self.trusted(|answer| self.links_cells(answer, &request)))
        });
        answer.unwrap_or(0)
    }

    /// `getUserGroups`: the user id in the input area; as JSON text when `json`.
    #[wasm_bindgen(js_name = __groups)]
    pub fn trusted_groups(&self, user_len: u32, json: bool) -> u32 {
        let answer = with_strings([user_len], |[user]| {
            let request = UserGroupsRequest { user_id: Some(Cow::Borrowed(user?)) };
            if json {
                return Some(self.trusted_json(|s, out| s.user_groups(&request, &CallContext::default(), out)));
            }
            Some(self.trusted(|answer| self.groups_cells(answer, &request)))
        });
        answer.unwrap_or(0)
    }

    /// `listIdpLinks`: the user id in the input area, the query's numbers as JS numbers (any
    /// that is not a whole number in range is left to the validating method); as JSON text when
    /// `json`.
    #[wasm_bindgen(js_name = __idp)]
    pub fn trusted_idp(&self, user_len: u32, offset: f64, limit: f64, asc: bool, json: bool) -> u32 {
        let whole = |n: f64, max: f64| (n.fract() == 0.0 && (0.0..=max).contains(&n)).then_some(n);
        let (Some(offset), Some(limit)) = (whole(offset, 9_007_199_254_740_991.0), whole(limit, f64::from(u32::MAX)))
        else {
            return 0;
        };
        let answer = with_strings([user_len], |[user]| {
            let request =
                ListIdpLinksRequest { user_id: Cow::Borrowed(user?), offset: offset as u64, limit: limit as u32, asc };
            if json {
                return Some(self.trusted_json(|s, out| s.list_idp_links(&request, &CallContext::default(), out)));
            }
            Some(self.trusted(|answer| self.idp_cells(answer, &request)))
        });
        answer.unwrap_or(0)
    }
}

impl JsSnapshot {
    /// `getIdentityLinks`' layout.
    fn links_cells(&self, answer: &mut Answer, request: &IdentityLinksRequest) -> Option<()> {
        let count = answer.count_later();
        let mut n = 0;
        self.inner
            .identity_links_each(request, &CallContext::default(), &mut |link| {
                n += 1;
                sym(answer, link.user);
                sym(answer, link.group);
                match link.kind {
                    LinkKind::Stored(kind) => sym(answer, kind),
                    LinkKind::Assignee => self.put_made(answer, Made::Assignee),
                    LinkKind::Owner => self.put_made(answer, Made::Owner),
                }
            })
            .ok()?;
        answer.set_count(count, n);
        Some(())
    }

    /// `getUserGroups`' layout.
    fn groups_cells(&self, answer: &mut Answer, request: &UserGroupsRequest) -> Option<()> {
        let s = &self.inner;
        let found = s.user_groups_answer(request, &CallContext::default()).ok()?;
        let column = |c: &[u32], row: u32| c.get(row as usize).copied().unwrap_or(NONE);
        answer.reserve(2 + 2 * found.groups.len() + 4 * found.users.len());
        answer.push(found.groups.len() as u32);
        for &g in &found.groups {
            sym(answer, column(&s.groups.id, g));
            sym(answer, column(&s.groups.name, g));
        }
        answer.push(found.users.len() as u32);
        for &u in &found.users {
            sym(answer, column(&s.users.first, u));
            sym(answer, column(&s.users.last, u));
            match s.display_name(u as usize) {
                DisplayName::Own(own) => sym(answer, own),
                DisplayName::Joined(..) => self.put_made(answer, Made::DisplayName(u)),
            }
            sym(answer, column(&s.users.id, u));
        }
        Some(())
    }

    /// `listIdpLinks`' layout.
    fn idp_cells(&self, answer: &mut Answer, request: &ListIdpLinksRequest) -> Option<()> {
        let s = &self.inner;
        let page = s.idp_page(request, &CallContext::default()).ok()?;
        let details = s.idp_details(&page);
        let mut digits = [0; 20];
        match details.total {
            Some(total) => answer.fresh(&[u64_digits(total, &mut digits).as_bytes()]),
            None => answer.push(ABSENT),
        }
        match details.sequence {
            Some(_) => self.put_made(answer, Made::Sequence),
            None => answer.push(ABSENT),
        }
        self.put_made(answer, Made::Timestamp);
        if page.links.is_empty() {
            answer.push(ABSENT); // protojson leaves out an empty list
            return Some(());
        }
        answer.reserve(1 + 3 * page.links.len());
        answer.push(page.links.len() as u32);
        let l = &s.idp;
        for &link in &page.links {
            let column = |c: &[u32]| c.get(link as usize).copied().unwrap_or(NONE);
            sym(answer, column(&l.idp_id));
            sym(answer, column(&l.provided_id));
            match s.idp_user_name(link as usize) {
                Some(name) => sym(answer, name),
                None => answer.push(ABSENT),
            }
        }
        Some(())
    }
}
