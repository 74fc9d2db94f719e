//! The task directory: each task's id and identity links in one record, found by a hash index
//! of its own — what `getIdentityLinks`' fast path in the package's JS wrapper reads.
//!
//! Through the columns, a lookup is a chain of dependent reads (string index → symbol → task
//! row → link range → link columns), and each read that misses the caches costs a memory
//! round trip. Here the index slot holds the record's offset and the record holds everything
//! the answer needs — the id's own bytes too, to compare a request's id with — so the chain is
//! index slot → record. Derived from [`Tasks`] when a snapshot is wrapped for JS; not part of
//! the binary form.
//!
//! A record is `len, n, assignee, owner`, the id's `len` UTF-8 bytes as little-endian words
//! (the last one zero-padded), then `(link_ref, link_type) × n` (symbols; [`NONE`] for no
//! assignee or owner; `link_type` as in [`Tasks::link_type`]).

use super::strings::{slot_hash, Strings, NONE};
use super::Tasks;

/// Task records and their index.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskDirectory {
    /// Open addressing (power-of-two size, at most half full, linear probing from
    /// [`slot_hash`] of the task id): a record's offset in `records`, or [`NONE`].
    pub slots: Vec<u32>,
    /// The records, one after another in task order.
    pub records: Vec<u32>,
}

impl TaskDirectory {
    /// The directory of `tasks`, whose ids are symbols of `strings`.
    pub fn new(tasks: &Tasks, strings: &Strings) -> Self {
        let count = tasks.id.len();
        let mask = (2 * count).next_power_of_two().max(2) - 1;
        let mut slots = vec![NONE; mask + 1];
        let id_words: usize = tasks.id.iter().map(|&id| strings.bytes_of(id).len().div_ceil(4)).sum();
        let mut records = Vec::with_capacity(4 * count + id_words + 2 * tasks.link_ref.len());
        let rows = tasks.id.iter().zip(&tasks.assignee).zip(&tasks.owner).zip(tasks.links_at.windows(2));
        for (((&id, &assignee), &owner), range) in rows {
            let text = strings.bytes_of(id);
            let mut slot = slot_hash(text) as usize & mask;
            while slots[slot] != NONE {
                slot = (slot + 1) & mask;
            }
            slots[slot] = records.len() as u32;
            let (refs, types) = match (
                tasks.link_ref.get(range[0] as usize..range[1] as usize),
                tasks.link_type.get(range[0] as usize..range[1] as usize),
            ) {
                (Some(refs), Some(types)) => (refs, types),
                _ => (&[][..], &[][..]),
            };
            records.extend_from_slice(&[text.len() as u32, refs.len() as u32, assignee, owner]);
            let mut word = 0;
            for (i, &b) in text.iter().enumerate() {
                word |= u32::from(b) << (8 * (i & 3));
                if i & 3 == 3 || i + 1 == text.len() {
                    records.push(word);
                    word = 0;
                }
            }
            for (&r, &t) in refs.iter().zip(types) {
                records.extend_from_slice(&[r, t]);
            }
        }
        TaskDirectory { slots, records }
    }

    /// The record of the task whose id is `id` (its words from the length on), if any: what
    /// the JS wrapper computes, here for tests.
    pub fn find(&self, id: &str) -> Option<&[u32]> {
        let mask = self.slots.len().checked_sub(1)?;
        let mut slot = slot_hash(id.as_bytes()) as usize & mask;
        loop {
            let at = *self.slots.get(slot)? as usize;
            let record = self.records.get(at..)?;
            if Self::id(record) == Some(id.as_bytes().to_vec()) {
                return Some(record);
            }
            slot = (slot + 1) & mask;
        }
    }

    /// The id bytes stored in `record`.
    fn id(record: &[u32]) -> Option<Vec<u8>> {
        let len = *record.first()? as usize;
        let words = record.get(4..4 + len.div_ceil(4))?;
        Some(words.iter().flat_map(|w| w.to_le_bytes()).take(len).collect())
    }

    /// The links of `record`: its `(link_ref, link_type)` words.
    pub fn links(record: &[u32]) -> &[u32] {
        let len = record.first().map_or(0, |&l| l as usize);
        let n = record.get(1).map_or(0, |&n| n as usize);
        let from = 4 + len.div_ceil(4);
        record.get(from..from + 2 * n).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::{Limits, Snapshot};

    #[test]
    fn every_task_is_found_with_its_links_and_unknown_ids_are_not() {
        let json = r#"{"version":1,"tasks":[
            {"id":"t1","assignee":"ann","owner":null,"identityLinks":[{"userId":"bob","type":"candidate"},{"groupId":"ops","type":"watcher"}]},
            {"id":"t2","assignee":null,"owner":"cy","identityLinks":[]},
            {"id":"tâche-3","assignee":null,"owner":null,"identityLinks":[{"groupId":"ops","type":"candidate"}]}]}"#;
        let snapshot = Snapshot::from_json_with(json.as_bytes(), Limits::default()).expect("a valid snapshot");
        let (strings, tasks) = (&snapshot.strings, &snapshot.tasks);
        let directory = TaskDirectory::new(tasks, strings);
        assert_eq!(directory.slots.len(), 8);
        let text = |s: u32| if s == NONE { "-".to_string() } else { strings.get(s).to_string() };
        let t1 = directory.find("t1").expect("t1");
        assert_eq!(
            (t1[0], t1[1], text(t1[2]), text(t1[3]), t1[4]),
            (2, 2, "ann".into(), "-".into(), u32::from_le_bytes(*b"t1\0\0"))
        );
        let links = TaskDirectory::links(t1);
        assert_eq!((text(links[0]), text(links[1] >> 1), links[1] & 1), ("bob".into(), "candidate".into(), 0));
        assert_eq!((text(links[2]), text(links[3] >> 1), links[3] & 1), ("ops".into(), "watcher".into(), 1));
        let t2 = directory.find("t2").expect("t2");
        assert_eq!((t2[1], text(t2[2]), text(t2[3]), TaskDirectory::links(t2).len()), (0, "-".into(), "cy".into(), 0));
        let t3 = directory.find("tâche-3").expect("t3");
        assert_eq!((t3[0], t3[1]), ("tâche-3".len() as u32, 1));
        let links = TaskDirectory::links(t3);
        assert_eq!((text(links[0]), text(links[1] >> 1)), ("ops".into(), "candidate".into()));
        for absent in ["t", "t3", "ann", "", "t1 ", "t1\0", "tâche-"] {
            assert!(directory.find(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn an_empty_snapshot_has_an_empty_directory() {
        let snapshot = Snapshot::from_json_with(br#"{"version":1}"#, Limits::default()).expect("a valid snapshot");
        let directory = TaskDirectory::new(&snapshot.tasks, &snapshot.strings);
        assert!(directory.records.is_empty());
        assert!(directory.find("t1").is_none());
    }
}
