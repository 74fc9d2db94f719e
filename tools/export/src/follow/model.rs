//! The followed state: every row the snapshot is made of, held by its key, with the fingerprints
//! the Camunda source diffs (`REV_`, the link lists' digests) and the orders the one-shot export
//! writes. A step replaces the rows of the keys that changed; [`Model::document`] renders the
//! whole state through the same [`Document`] the one-shot export fills, so the snapshot the core
//! loader builds from it is the one a fresh export would build.

use crate::document::Document;
use std::collections::{BTreeMap, HashMap};

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
    pub users: BTreeMap<String, CamundaUser>,
    pub user_revs: HashMap<String, Option<i32>>,
    /// id → (name, rank).
    pub groups: BTreeMap<String, (Option<String>, u32)>,
    pub group_revs: HashMap<String, Option<i32>>,
    /// (user, group) → the member's rank in the group.
    pub memberships: BTreeMap<(String, String), u32>,
    /// Group → the bucket of its memberships (`follow::camunda`), for the groups with members.
    pub group_buckets: HashMap<String, i32>,
    pub tasks: BTreeMap<String, Task>,
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
    pub authorizations: BTreeMap<String, Authorization>,
    pub authorization_revs: HashMap<String, Option<i32>>,
}

/// A sort key as PostgreSQL orders it ascending: NULL last.
pub type Micros = (bool, i64);

/// `Some(µs)` → `(false, µs)`, NULL → `(true, 0)`.
pub fn micros(value: Option<i64>) -> Micros {
    value.map_or((true, 0), |v| (false, v))
}

/// A user of Zitadel's users projection.
pub struct ZitadelUser {
    pub created: Micros,
    pub org: String,
    pub first: Option<String>,
    pub last: Option<String>,
}

/// An IdP link of the IdP-link projection (keyed by `(idp_id, external_user_id)`).
pub struct IdpLink {
    pub created: Micros,
    pub sequence: Micros,
    pub user: String,
    pub name: String,
}

/// A membership of the instance or an organisation, with its roles.
pub struct Member {
    pub created: Micros,
    pub roles: Vec<String>,
}

/// Zitadel's rows of one instance.
#[derive(Default)]
pub struct Zitadel {
    pub users: HashMap<String, ZitadelUser>,
    pub links: HashMap<(String, String), IdpLink>,
    /// user → membership of the instance.
    pub instance_members: HashMap<String, Member>,
    /// (org, user) → membership of the organisation.
    pub org_members: HashMap<(String, String), Member>,
    pub sequence: u64,
    pub timestamp: Option<String>,
}

/// The whole followed state.
#[derive(Default)]
pub struct Model {
    pub camunda: Option<Camunda>,
    pub zitadel: Option<Zitadel>,
    pub authorization_enabled: bool,
}

impl Model {
    /// The document of this state, section by section in the one-shot export's order.
    pub fn document(&self) -> Document {
        let mut doc = Document::new();
        if let Some(c) = &self.camunda {
            for (id, user) in &c.users {
                doc.camunda_user(id.clone(), user.first.clone(), user.last.clone());
            }
            doc.section("groups");
            for (id, (name, rank)) in &c.groups {
                doc.group(id, name.as_deref(), *rank);
            }
            doc.section("memberships");
            for ((user, group), rank) in &c.memberships {
                doc.membership(user, group, *rank);
            }
            doc.section("tasks");
            for t in c.tasks.values() {
                doc.task_written(&t.element);
            }
            doc.section("authorizations");
            for a in c.authorizations.values() {
                doc.authorization(a.kind, a.user.as_deref(), a.group.as_deref(), a.resource_type, &a.resource, a.perms);
            }
            doc.authorization_enabled(self.authorization_enabled);
        }
        if let Some(z) = &self.zitadel {
            let mut users: Vec<_> = z.users.iter().collect();
            users.sort_by(|a, b| (a.1.created, a.0).cmp(&(b.1.created, b.0)));
            for (id, u) in users {
                doc.zitadel_user(id.clone(), u.org.clone(), u.first.clone(), u.last.clone());
            }
            doc.section("idpLinks");
            let mut links: Vec<_> = z.links.iter().collect();
            links.sort_by(|a, b| {
                (a.1.created, a.1.sequence, &a.0 .0, &a.0 .1).cmp(&(b.1.created, b.1.sequence, &b.0 .0, &b.0 .1))
            });
            for ((idp, external), link) in links {
                doc.idp_link(&link.user, idp, external, &link.name);
            }
            doc.section("zitadelMembers");
            let mut instance: Vec<_> = z.instance_members.iter().collect();
            instance.sort_by(|a, b| (a.1.created, a.0).cmp(&(b.1.created, b.0)));
            for (user, m) in instance {
                doc.member(user, None, &m.roles);
            }
            let mut orgs: Vec<_> = z.org_members.iter().collect();
            orgs.sort_by(|a, b| (a.1.created, &a.0 .0, &a.0 .1).cmp(&(b.1.created, &b.0 .0, &b.0 .1)));
            for ((org, user), m) in orgs {
                doc.member(user, Some(org), &m.roles);
            }
            doc.state(z.sequence, z.timestamp.clone());
        }
        doc
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
    fn a_diff_names_added_changed_and_removed_keys() {
        let old: HashMap<String, i32> = [("a".into(), 1), ("b".into(), 1), ("c".into(), 1)].into();
        let new: HashMap<String, i32> = [("a".into(), 1), ("b".into(), 2), ("d".into(), 1)].into();
        let (mut changed, removed) = diff(&old, &new);
        changed.sort();
        assert_eq!(changed, ["b", "d"]);
        assert_eq!(removed, ["c"]);
    }

    #[test]
    fn nulls_sort_last_as_postgresql_orders_ascending() {
        assert!(micros(Some(i64::MAX)) < micros(None));
        assert!(micros(Some(-1)) < micros(Some(0)));
    }
}
