//! The followed state: every row the snapshot is made of, held by its key, with the fingerprints
//! the Camunda source diffs (`REV_`, the link lists' digests) and the orders the one-shot export
//! writes. A step replaces the rows of the keys that changed; [`super::render`] renders the whole
//! state through the same [`crate::document::Document`] the one-shot export fills, so the
//! snapshot the core loader builds from it is the one a fresh export would build. Each part of
//! the state that makes a section of the document is [`Tracked`], so that the renderer writes
//! again only the sections whose rows may have changed.

pub use crate::project_members::ProjectMember;
use identity_links_tables::intern::Interner;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::Hash;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A part of the state with a stamp that changes whenever it is borrowed to be changed (every
/// `&mut` access, whether or not it changes anything): equal stamps, equal contents. Stamps come
/// from one counter for the whole process, so a part made anew (a reconcile's fresh state, a
/// Zitadel state read again whole) never has the stamp of one rendered before.
#[derive(Debug)]
pub struct Tracked<T> {
    value: T,
    stamp: u64,
}

/// A stamp no part had before, after every one given so far: the renderer notes what it has
/// seen with one.
pub fn next_stamp() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

impl<T> Tracked<T> {
    /// The stamp of the contents as they are.
    pub fn stamp(&self) -> u64 {
        self.stamp
    }
}

impl<T: Default> Default for Tracked<T> {
    fn default() -> Self {
        Tracked { value: T::default(), stamp: next_stamp() }
    }
}

impl<T> Deref for Tracked<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T> DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.stamp = next_stamp();
        &mut self.value
    }
}

/// A user of `ACT_ID_USER`.
pub struct CamundaUser {
    pub first: Option<String>,
    pub last: Option<String>,
}

/// A task of `ACT_RU_TASK` with its process definition's key and its links in `ctid` order, as
/// its element of the document's `tasks` section ([`crate::document::write_task`]): written once
/// when the task is read, copied by every step's document (rendering every task again took
/// 60–70 ms more of each step's build at 1M links).
pub struct Task {
    pub element: Vec<u8>,
}

/// A row of `ACT_RU_AUTHORIZATION` as the snapshot has it.
pub struct Authorization {
    pub kind: i32,
    pub user: Option<String>,
    pub group: Option<String>,
    pub resource_type: i32,
    pub resource: String,
    pub perms: i32,
}

/// A table's gate (`follow::camunda::gate`): its row count and the sum of a hash of every row
/// version's place and writer. Equal in two steps: the table is unchanged.
pub type Gate = (i64, String);

/// Camunda's rows, keyed as its tables are (the `BTreeMap`s iterate in byte order, the order
/// the one-shot export writes with `COLLATE "C"`).
#[derive(Default)]
pub struct Camunda {
    pub users: Tracked<BTreeMap<String, CamundaUser>>,
    pub user_revs: HashMap<String, Option<i32>>,
    /// id → (name, rank).
    pub groups: Tracked<BTreeMap<String, (Option<String>, u32)>>,
    pub group_revs: HashMap<String, Option<i32>>,
    /// (user, group) → the member's rank in the group.
    pub memberships: Memberships,
    /// Group → the bucket of its memberships (`follow::camunda`), for the groups with members.
    pub group_buckets: HashMap<String, i32>,
    pub tasks: Tracked<BTreeMap<String, Task>>,
    /// Bucket → task id → `REV_` (a task's bucket: the hash of its id, `follow::camunda`).
    pub task_revs: HashMap<i32, HashMap<String, Option<i32>>>,
    /// Bucket → task id → the digest of its links' ids in `ctid` order (tasks with links only;
    /// a task's links are in its own bucket).
    pub link_digests: HashMap<i32, HashMap<String, String>>,
    /// Table → its gate when its fingerprint was last read; a table absent has none yet.
    pub gates: HashMap<&'static str, Gate>,
    /// Table → bucket → the bucket's gate, for the tables gated by bucket.
    pub buckets: HashMap<&'static str, HashMap<i32, Gate>>,
    /// By `ID_`; rows without a resource id have a revision but no row.
    pub authorizations: Tracked<BTreeMap<String, Authorization>>,
    pub authorization_revs: HashMap<String, Option<i32>>,
    /// The transactions ended when these rows were read ([`crate::db::ended_transactions`]):
    /// a step that finds the same has nothing to read. With `--wal-slot`, when they were last
    /// read whole, until a step has peeked all the slot holds: the log's transactions this
    /// snapshot saw are in the rows already.
    pub read_at: Option<String>,
    /// Read whole once: with `--wal-slot`, the next steps read what the log names.
    pub whole: bool,
    /// With `--wal-slot`: each link's task by the link's id (a delete in the log carries only
    /// the id).
    pub link_tasks: HashMap<Box<str>, Arc<str>>,
    /// With `--wal-slot`: the file of `ACT_RU_IDENTITYLINK` (`pg_relation_filenode`) when the
    /// rows were read whole. A rewrite (CLUSTER, VACUUM FULL) logs no row but makes a new file,
    /// and CLUSTER reorders the links: a step that finds another file reads Camunda whole.
    pub links_file: Option<i64>,
}

/// Camunda's memberships, (user, group) → the member's rank in the group, by user and group
/// (the document's order), with the stamp of each user's last change: the renderer writes again
/// only the part of the section whose users changed (`follow::render`; at 1M links writing the
/// 500,000 memberships took 0.16–0.32 s, a step's whole rendering is 0.07–0.08 s in parts).
/// Every change goes through its methods, which note it.
///
/// A group's members are found through an index of their own ([`Memberships::members`]), so that
/// a step that reads some groups again does not walk every row: at 1M links (500,000 rows) each
/// such walk took 20–60 ms, and a membership changed took three.
#[derive(Debug)]
pub struct Memberships {
    rows: BTreeMap<(String, String), u32>,
    /// Group → its members in `rows`, by their numbers in `users` (a number a row rather than a
    /// copy of the user's id: at 1M links the peak grew 10–19 MB with a numbering that held each
    /// id twice, before `users` was the interner).
    by_group: HashMap<String, BTreeSet<u32>>,
    /// The users `by_group` names, numbered in order of first appearance (the loader's interner,
    /// each id held once). A number stays with its user while the set lives (a user who leaves
    /// every group keeps it: the users ever members, until a state read afresh makes a new set).
    users: Interner,
    /// User → the stamp of the last change to its rows.
    changed: HashMap<String, u64>,
    /// A stamp of its own: a new set of memberships (a state read afresh) is new to the renderer.
    id: u64,
}

impl Default for Memberships {
    fn default() -> Self {
        Memberships {
            rows: BTreeMap::new(),
            by_group: HashMap::new(),
            users: Interner::default(),
            changed: HashMap::new(),
            id: next_stamp(),
        }
    }
}

impl Memberships {
    /// The rows, by user and group.
    pub fn iter(&self) -> impl Iterator<Item = (&(String, String), &u32)> {
        self.rows.iter()
    }

    /// The rows whose user is in `users` (`users.start` included), by user and group.
    pub fn users(
        &self,
        users: (std::ops::Bound<&str>, std::ops::Bound<&str>),
    ) -> impl Iterator<Item = (&(String, String), &u32)> {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let key = |b: std::ops::Bound<&str>| match b {
            Included(u) => Included((u.to_owned(), String::new())),
            Excluded(u) => Excluded((u.to_owned(), String::new())),
            Unbounded => Unbounded,
        };
        self.rows.range((key(users.0), key(users.1)))
    }

    pub fn contains_key(&self, key: &(String, String)) -> bool {
        self.rows.contains_key(key)
    }

    /// The users with a row in `group`, in no particular order.
    pub fn members<'a>(&'a self, group: &str) -> impl Iterator<Item = &'a str> + 'a {
        self.by_group.get(group).into_iter().flatten().map(|&n| self.users.strings().get(n))
    }

    /// The groups in which `user` has a row, in order.
    pub fn groups_of<'a>(&'a self, user: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        let from = (user.to_owned(), String::new());
        self.rows
            .range(from..)
            .map(|((u, group), _)| (u, group))
            .take_while(move |(u, _)| *u == user)
            .map(|(_, g)| g.as_str())
    }

    /// Sets a row, noting its user's change (if it is one).
    pub fn insert(&mut self, key: (String, String), rank: u32) {
        if self.rows.get(&key) != Some(&rank) {
            self.changed.insert(key.0.clone(), next_stamp());
            // Past 4 GiB of user ids the interner is full, and so would be the snapshot's own
            // strings: the loader refuses that state whatever this index holds.
            if let Ok(user) = self.users.intern(&key.0) {
                self.by_group.entry(key.1.clone()).or_default().insert(user);
            }
            self.rows.insert(key, rank);
        }
    }

    /// Replaces the rows of `groups` with `rows` (theirs, read afresh), noting the users whose
    /// rows changed: a member added to a large group changes its user's rows only.
    pub fn replace_groups(
        &mut self,
        groups: &std::collections::BTreeSet<String>,
        rows: HashMap<(String, String), u32>,
    ) {
        for group in groups {
            let gone: Vec<(String, String)> = self
                .members(group)
                .map(|user| (user.to_owned(), group.clone()))
                .filter(|key| !rows.contains_key(key))
                .collect();
            for key in &gone {
                self.remove(key);
            }
        }
        for (key, rank) in rows {
            self.insert(key, rank);
        }
    }

    /// Removes one row, noting its user's change (if it was there).
    pub fn remove(&mut self, key: &(String, String)) {
        if self.rows.remove(key).is_some() {
            self.changed.insert(key.0.clone(), next_stamp());
            // The user has a number already (its row was inserted): interning only finds it.
            if let (Some(members), Ok(user)) = (self.by_group.get_mut(&key.1), self.users.intern(&key.0)) {
                members.remove(&user);
                if members.is_empty() {
                    self.by_group.remove(&key.1);
                }
            }
        }
    }

    /// The users whose rows changed after `stamp`.
    pub fn changed_after(&self, stamp: u64) -> impl Iterator<Item = &str> {
        self.changed.iter().filter(move |(_, &at)| at > stamp).map(|(user, _)| user.as_str())
    }

    /// This set's own stamp ([`Memberships`]).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Forgets the changes made before `stamp`, which the renderer has written: without it the
    /// users noted would grow with every user ever changed until a reconcile reads the set
    /// afresh (never, with `--reconcile-every 0`), and each render would look through them all.
    pub fn forget_before(&mut self, stamp: u64) {
        self.changed.retain(|_, at| *at >= stamp);
        // The room a large group's change took is given back once it is written.
        if self.changed.capacity() > 4 * self.changed.len() + 64 {
            self.changed.shrink_to(2 * self.changed.len());
        }
    }

    /// How many users have changes noted (tests).
    #[cfg(test)]
    pub fn noted(&self) -> usize {
        self.changed.len()
    }
}

/// A sort key as PostgreSQL orders it ascending: NULL last.
pub type Micros = (bool, i64);

/// `Some(µs)` → `(false, µs)`, NULL → `(true, 0)`.
pub fn micros(value: Option<i64>) -> Micros {
    value.map_or((true, 0), |v| (false, v))
}

/// A user of Zitadel's users projection.
#[derive(Debug, PartialEq)]
pub struct ZitadelUser {
    pub created: Micros,
    pub org: String,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// An IdP link of the IdP-link projection (keyed by `(idp_id, external_user_id)`).
#[derive(Debug, PartialEq)]
pub struct IdpLink {
    pub created: Micros,
    pub sequence: Micros,
    pub user: String,
    pub name: String,
}

/// A membership of the instance or an organisation, with its roles.
#[derive(Debug, PartialEq)]
pub struct Member {
    pub created: Micros,
    pub roles: Vec<String>,
}

/// Zitadel's rows of one instance.
#[derive(Default)]
pub struct Zitadel {
    pub users: Tracked<HashMap<String, ZitadelUser>>,
    pub links: Tracked<HashMap<(String, String), IdpLink>>,
    /// user → membership of the instance.
    pub instance_members: Tracked<HashMap<String, Member>>,
    /// (org, user) → membership of the organisation.
    pub org_members: Tracked<HashMap<(String, String), Member>>,
    /// [`ProjectMember::key`] (grant, context, project, user) → membership of a project
    /// (`false`, the project's id) or a project grant (`true`, the grant's id).
    pub project_members: Tracked<HashMap<(bool, String, String, String), ProjectMember>>,
    pub sequence: u64,
    pub timestamp: Option<String>,
    /// As [`Camunda::read_at`].
    pub read_at: Option<String>,
}

/// The whole followed state.
#[derive(Default)]
pub struct Model {
    pub camunda: Option<Camunda>,
    pub zitadel: Option<Zitadel>,
    pub authorization_enabled: bool,
}

/// Replaces the entries of `part` that `picked` selects with `fresh` (whose entries it all
/// selects), and leaves `part` alone, its stamp as it was, when they are the same entries: a
/// key's rows read again unchanged do not make their section be written again.
pub fn replace_picked<K: Eq + Hash, V: PartialEq>(
    part: &mut Tracked<HashMap<K, V>>,
    fresh: HashMap<K, V>,
    picked: impl Fn(&K, &V) -> bool,
) {
    let held = part.iter().filter(|(k, v)| picked(k, v)).count();
    let same = held == fresh.len() && fresh.iter().all(|(k, v)| part.get(k).is_some_and(|h| h == v && picked(k, h)));
    if !same {
        part.retain(|k, v| !picked(k, v));
        part.extend(fresh);
    }
}

/// The keys of `new` that `old` lacks or holds with another value, and the keys of `old` that
/// `new` lacks: what changed between two fingerprints of a table.
pub fn diff<V: PartialEq>(old: &HashMap<String, V>, new: &HashMap<String, V>) -> (Vec<String>, Vec<String>) {
    let changed = new.iter().filter(|(k, v)| old.get(*k) != Some(*v)).map(|(k, _)| k.clone()).collect();
    let removed = old.keys().filter(|k| !new.contains_key(*k)).cloned().collect();
    (changed, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_read_again_notes_only_the_users_whose_rows_changed() {
        let mut m = Memberships::default();
        for user in ["ann", "bob", "cy"] {
            m.insert((user.into(), "sales".into()), 1);
        }
        m.insert(("dee".into(), "ops".into()), 1);
        let seen = next_stamp();
        let key = |u: &str| (u.to_owned(), "sales".to_owned());
        // Ann stays, Bob's rank changes, Cy leaves, Eve joins; Dee's group is not read.
        let rows: HashMap<_, _> = [(key("ann"), 1), (key("bob"), 2), (key("eve"), 1)].into();
        m.replace_groups(&["sales".to_owned()].into(), rows);
        let mut changed: Vec<&str> = m.changed_after(seen).collect();
        changed.sort();
        assert_eq!(changed, ["bob", "cy", "eve"]);
        let rows: Vec<_> = m.iter().map(|((u, g), r)| format!("{u}/{g}/{r}")).collect();
        assert_eq!(rows, ["ann/sales/1", "bob/sales/2", "dee/ops/1", "eve/sales/1"]);
    }

    #[test]
    fn a_groups_members_and_a_users_groups_are_those_of_the_rows() {
        // Random rows set, replaced by group and removed, against the rows alone.
        let mut m = Memberships::default();
        let mut naive: BTreeMap<(String, String), u32> = BTreeMap::new();
        let mut seed = 0x2545_f491_u64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let key = |u: u64, g: u64| (format!("u{u}"), format!("g{g}"));
        for step in 0..3000 {
            match next(4) {
                0 | 1 => {
                    let (k, rank) = (key(next(40), next(12)), next(3) as u32);
                    m.insert(k.clone(), rank);
                    naive.insert(k, rank);
                }
                2 => {
                    let k = key(next(40), next(12));
                    m.remove(&k);
                    naive.remove(&k);
                }
                _ => {
                    let groups: BTreeSet<String> = (0..next(3) + 1).map(|_| format!("g{}", next(12))).collect();
                    let rows: HashMap<(String, String), u32> = (0..next(30))
                        .map(|_| (key(next(40), next(12)), 1))
                        .filter(|(k, _)| groups.contains(&k.1))
                        .collect();
                    naive.retain(|k, _| !groups.contains(&k.1));
                    naive.extend(rows.iter().map(|(k, &r)| (k.clone(), r)));
                    m.replace_groups(&groups, rows);
                }
            }
            assert!(m.iter().eq(naive.iter()), "step {step}: the rows");
            for g in (0..12).map(|g| format!("g{g}")) {
                let mut members: Vec<&str> = m.members(&g).collect();
                members.sort_unstable();
                let mut want: Vec<&str> = naive.keys().filter(|k| k.1 == g).map(|k| k.0.as_str()).collect();
                want.sort_unstable();
                assert_eq!(members, want, "step {step}: the members of {g}");
            }
            for u in (0..40).map(|u| format!("u{u}")) {
                let want: Vec<&str> = naive.keys().filter(|k| k.0 == u).map(|k| k.1.as_str()).collect();
                assert_eq!(m.groups_of(&u).collect::<Vec<_>>(), want, "step {step}: the groups of {u}");
            }
        }
        assert!(m.by_group.values().all(|members| !members.is_empty()), "no group is kept without members");
    }

    #[test]
    fn a_diff_names_added_changed_and_removed_keys() {
        let old: HashMap<String, i32> = [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)].into();
        let new: HashMap<String, i32> = [("a".into(), 1), ("b".into(), 2), ("d".into(), 1)].into();
        let (mut changed, removed) = diff(&old, &new);
        changed.sort();
        assert_eq!(changed, ["b", "d"]);
        assert_eq!(removed, ["c"]);
    }

    #[test]
    fn a_stamp_changes_with_every_change_and_is_never_reused() {
        let mut a: Tracked<Vec<u32>> = Tracked::default();
        let first = a.stamp();
        assert_eq!(a.len(), 0); // read: the same stamp
        assert_eq!(a.stamp(), first);
        a.push(1);
        let second = a.stamp();
        assert_ne!(second, first);
        let b: Tracked<Vec<u32>> = Tracked::default();
        assert!(b.stamp() != first && b.stamp() != second, "a part made anew has a stamp of its own");
    }

    #[test]
    fn picked_entries_read_again_unchanged_keep_the_stamp() {
        let mut part: Tracked<HashMap<String, i32>> = Tracked::default();
        part.extend([("a".to_owned(), 1), ("b".to_owned(), 2), ("c".to_owned(), 3)]);
        let stamp = part.stamp();
        let picked = |k: &String, _: &i32| k != "c";
        replace_picked(&mut part, [("a".to_owned(), 1), ("b".to_owned(), 2)].into(), picked);
        assert_eq!(part.stamp(), stamp, "the same entries: nothing to write again");
        replace_picked(&mut part, [("a".to_owned(), 1)].into(), picked);
        assert_ne!(part.stamp(), stamp, "one gone");
        let mut held: Vec<_> = part.iter().map(|(k, v)| (k.clone(), *v)).collect();
        held.sort();
        assert_eq!(held, [("a".to_owned(), 1), ("c".to_owned(), 3)]);
        let stamp = part.stamp();
        replace_picked(&mut part, [("a".to_owned(), 5)].into(), picked);
        assert_ne!(part.stamp(), stamp, "one changed");
        assert_eq!(part.get("a"), Some(&5));
        let stamp = part.stamp();
        // An entry held under the key but not picked (another user's now) is not the same.
        replace_picked(&mut part, [("c".to_owned(), 3)].into(), |_, _| false);
        assert_ne!(part.stamp(), stamp);
    }

    #[test]
    fn nulls_sort_last_as_postgresql_orders_ascending() {
        assert!(micros(Some(i64::MAX)) < micros(None));
        assert!(micros(Some(-1)) < micros(Some(0)));
    }
}
