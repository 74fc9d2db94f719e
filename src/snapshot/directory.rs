//! Directories: for each task, and for each user with IdP links, one record holding everything
//! a fast-path answer needs, found by a hash index of its own — what `getIdentityLinks` and
//! `listIdpLinks` in the package's JS wrapper read.
//!
//! Through the columns, a lookup is a chain of dependent reads (string index → symbol → row →
//! range → columns), and each read that misses the caches costs a memory round trip. Here the
//! index slot holds the record's offset and the record holds the id's own bytes (to compare a
//! request's id with) and the answer's symbols, so the chain is index slot → record. Derived
//! from the tables when the JS wrapper first asks for them; not part of the binary form.
//!
//! A record is `len`, the id's `len` UTF-8 bytes as little-endian words (the last one
//! zero-padded), then its body:
//! - a task's: `n, assignee, owner, (link_ref, link_type) × n` (symbols; [`NONE`] for no
//!   assignee or owner; `link_type` as in [`Tasks::link_type`]);
//! - a user's: `n, (idp_id, provided_id, provided_name) × n`, in creation order. Users without
//!   IdP links have no record (their page is empty, as an unknown user's).

use super::strings::{slot_hash, Strings, NONE};
use super::{IdpLinks, Tasks, Users};

/// Records and their index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directory {
    /// Open addressing (power-of-two size, at most half full, linear probing from
    /// [`slot_hash`] of the id): a record's offset in `records`, or [`NONE`].
    pub slots: Vec<u32>,
    /// The records, one after another in row order.
    pub records: Vec<u32>,
}

impl Directory {
    /// The directory of `tasks`, whose ids are symbols of `strings`.
    pub fn tasks(tasks: &Tasks, strings: &Strings) -> Self {
        let rows = tasks.id.iter().zip(&tasks.assignee).zip(&tasks.owner).zip(tasks.links_at.windows(2));
        let items = rows.map(|(((&id, &assignee), &owner), range)| (id, (assignee, owner, range)));
        let capacity = 4 * tasks.id.len() + 2 * tasks.link_ref.len();
        Self::build(strings, tasks.id.len(), capacity, items, |(assignee, owner, range), out| {
            let links = range[0] as usize..range[1] as usize;
            let refs = tasks.link_ref.get(links.clone()).unwrap_or_default();
            let types = tasks.link_type.get(links).unwrap_or_default();
            out.extend_from_slice(&[refs.len() as u32, assignee, owner]);
            for (&r, &t) in refs.iter().zip(types) {
                out.extend_from_slice(&[r, t]);
            }
        })
    }

    /// The directory of the users of `users` that have IdP links (rows of `idp`).
    pub fn idp_users(users: &Users, idp: &IdpLinks, strings: &Strings) -> Self {
        let rows = users.id.iter().zip(users.idp_at.windows(2)).filter(|(_, range)| range[1] > range[0]);
        let count = rows.clone().count();
        let capacity = 2 * count + 3 * users.idp.len();
        Self::build(strings, count, capacity, rows.map(|(&id, range)| (id, range)), |range, out| {
            let links = users.idp.get(range[0] as usize..range[1] as usize).unwrap_or_default();
            out.push(links.len() as u32);
            for &row in links {
                let column = |c: &[u32]| c.get(row as usize).copied().unwrap_or(NONE);
                out.extend_from_slice(&[column(&idp.idp_id), column(&idp.provided_id), column(&idp.provided_name)]);
            }
        })
    }

    /// Slots and records for `count` items, an id and what `body` writes after it; `capacity`
    /// is the bodies' words, roughly (ids are added to it).
    fn build<T>(
        strings: &Strings,
        count: usize,
        capacity: usize,
        items: impl Iterator<Item = (u32, T)>,
        mut body: impl FnMut(T, &mut Vec<u32>),
    ) -> Self {
        let mask = (2 * count).next_power_of_two().max(2) - 1;
        let mut slots = vec![NONE; mask + 1];
        let mut records = Vec::with_capacity(capacity + 5 * count);
        for (id, item) in items {
            let text = strings.bytes_of(id);
            let mut slot = slot_hash(text) as usize & mask;
            while slots[slot] != NONE {
                slot = (slot + 1) & mask;
            }
            slots[slot] = records.len() as u32;
            records.push(text.len() as u32);
            let mut word = 0;
            for (i, &byte) in text.iter().enumerate() {
                word |= u32::from(byte) << (8 * (i & 3));
                if i & 3 == 3 || i + 1 == text.len() {
                    records.push(word);
                    word = 0;
                }
            }
            body(item, &mut records);
        }
        Directory { slots, records }
    }

    /// The body of the record whose id is `id` (its words after the id), if any: what the JS
    /// wrapper computes, here for tests.
    pub fn find(&self, id: &str) -> Option<&[u32]> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut slot = slot_hash(id.as_bytes()) as usize & mask;
        loop {
            let at = *self.slots.get(slot)? as usize;
            let record = self.records.get(at..)?;
            let len = *record.first()? as usize;
            let words = record.get(1..1 + len.div_ceil(4))?;
            let stored: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).take(len).collect();
            if stored == id.as_bytes() {
                return record.get(1 + len.div_ceil(4)..);
            }
            slot = (slot + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Limits, Snapshot};

    fn load(json: &str) -> Result<Snapshot, String> {
        Snapshot::from_json_with(json.as_bytes(), Limits::default()).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn every_task_is_found_with_its_links_and_unknown_ids_are_not() -> Result<(), String> {
        let snapshot = load(
            r#"{"version":1,"tasks":[
            {"id":"t1","assignee":"ann","owner":null,"identityLinks":[{"userId":"bob","type":"candidate"},{"groupId":"ops","type":"watcher"}]},
            {"id":"t2","assignee":null,"owner":"cy","identityLinks":[]},
            {"id":"tâche-3","assignee":null,"owner":null,"identityLinks":[{"groupId":"ops","type":"candidate"}]}]}"#,
        )?;
        let strings = &snapshot.strings;
        let directory = Directory::tasks(&snapshot.tasks, strings);
        assert_eq!(directory.slots.len(), 8);
        let text = |s: u32| if s == NONE { "-".to_string() } else { strings.get(s).to_string() };
        let t1 = directory.find("t1").ok_or(concat!("t1", " not found"))?;
        assert_eq!((t1[0], text(t1[1]), text(t1[2])), (2, "ann".into(), "-".into()));
        assert_eq!((text(t1[3]), text(t1[4] >> 1), t1[4] & 1), ("bob".into(), "candidate".into(), 0));
        assert_eq!((text(t1[5]), text(t1[6] >> 1), t1[6] & 1), ("ops".into(), "watcher".into(), 1));
        let t2 = directory.find("t2").ok_or(concat!("t2", " not found"))?;
        assert_eq!((t2[0], text(t2[1]), text(t2[2])), (0, "-".into(), "cy".into()));
        let t3 = directory.find("tâche-3").ok_or(concat!("tâche-3", " not found"))?;
        assert_eq!((t3[0], text(t3[3]), text(t3[4] >> 1)), (1, "ops".into(), "candidate".into()));
        for absent in ["t", "t3", "ann", "", "t1 ", "t1\0", "tâche-"] {
            assert!(directory.find(absent).is_none(), "{absent}");
        }
        Ok(())
    }

    #[test]
    fn users_with_idp_links_are_found_with_their_links_in_creation_order() -> Result<(), String> {
        let snapshot = load(
            r#"{"version":1,"users":[{"id":"ann"},{"id":"bob"},{"id":"Zoë"}],"idpLinks":[
            {"userId":"Zoë","idpId":"gh","providedUserId":"z1","providedUserName":"zoe"},
            {"userId":"ann","idpId":"gl","providedUserId":"a1","providedUserName":""},
            {"userId":"Zoë","idpId":"gl","providedUserId":"z2","providedUserName":"z"}]}"#,
        )?;
        let strings = &snapshot.strings;
        let directory = Directory::idp_users(&snapshot.users, &snapshot.idp, strings);
        let text = |s: &[u32]| s.iter().map(|&x| strings.get(x)).collect::<Vec<_>>().join(" ");
        let zoe = directory.find("Zoë").ok_or(concat!("Zoë", " not found"))?;
        assert_eq!((zoe[0], text(&zoe[1..7])), (2, "gh z1 zoe gl z2 z".into()));
        let ann = directory.find("ann").ok_or(concat!("ann", " not found"))?;
        assert_eq!((ann[0], text(&ann[1..3])), (1, "gl a1".into()));
        assert!(directory.find("bob").is_none(), "no IdP links: no record");
        assert!(directory.find("zoë").is_none());
        Ok(())
    }

    #[test]
    fn an_empty_snapshot_has_empty_directories() -> Result<(), String> {
        let snapshot = load(r#"{"version":1}"#)?;
        for directory in [
            Directory::tasks(&snapshot.tasks, &snapshot.strings),
            Directory::idp_users(&snapshot.users, &snapshot.idp, &snapshot.strings),
        ] {
            assert!(directory.records.is_empty());
            assert!(directory.find("t1").is_none());
        }
        Ok(())
    }
}
