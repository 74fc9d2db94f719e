//! The loaded snapshot: columnar tables of integer ids over one string table, with the indexes
//! that make every query cost in proportion to its answer.
//!
//! Every column is a flat vector (`u32` symbols and row numbers,
//! [`NONE`](identity_links_tables::strings::NONE) for null), so a million-link snapshot is a few
//! dozen allocations, and the binary form writes the columns as they are. The tables themselves,
//! the string table and the loader are the data model's crate, `identity-links-tables`; this
//! module holds the snapshot they make and the forms it is read and written in.

pub mod apply;
pub mod binary;
pub mod canonical;
mod column_edit;
mod columns;
pub mod delta;
pub mod layout;
pub mod stream;
mod text_edit;

use identity_links_tables::build;
use identity_links_tables::error::SnapshotError;
use identity_links_tables::load;
use identity_links_tables::strings::{java_hash, Sym};
use identity_links_tables::tables::range;
use identity_links_tables::tables::{Limits, Tables};

/// A validated, indexed snapshot, ready for queries: its tables (read through `Deref`:
/// `snapshot.users`, `snapshot.strings`, ...) and the paging options it answers with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Every table, as the loader built them or the binary form held them.
    pub tables: Tables,
    /// Paging options.
    pub limits: Limits,
}

impl std::ops::Deref for Snapshot {
    type Target = Tables;
    fn deref(&self) -> &Tables {
        &self.tables
    }
}

impl std::ops::DerefMut for Snapshot {
    fn deref_mut(&mut self) -> &mut Tables {
        &mut self.tables
    }
}

/// Row counts, as `Snapshot.stats()` reports them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Users.
    pub users: usize,
    /// Groups.
    pub groups: usize,
    /// Memberships.
    pub memberships: usize,
    /// Tasks.
    pub tasks: usize,
    /// Stored identity links (assignee and owner not counted).
    pub identity_links: usize,
    /// IdP links.
    pub idp_links: usize,
}

impl Stats {
    /// `{"users":..,"groups":..,...}` in the order of API.md.
    pub fn to_json(&self) -> String {
        format!(
            r#"{{"users":{},"groups":{},"memberships":{},"tasks":{},"identityLinks":{},"idpLinks":{}}}"#,
            self.users, self.groups, self.memberships, self.tasks, self.identity_links, self.idp_links
        )
    }
}

impl Snapshot {
    /// Loads a snapshot from JSON text with the default options.
    pub fn from_json(text: &[u8]) -> Result<Snapshot, SnapshotError> {
        Self::from_json_with(text, Limits::default())
    }

    /// Loads a snapshot from JSON text.
    pub fn from_json_with(text: &[u8], limits: Limits) -> Result<Snapshot, SnapshotError> {
        let mut snapshot = load::load(text, limits).map(|tables| Snapshot::from_tables(tables, limits))?;
        snapshot.derive();
        Ok(snapshot)
    }

    /// Fills the columns the snapshot derives from its rows (the others final): each user's
    /// Java hash (SEMANTICS.md G5), groups (in the groups' order, [`build::group_order`]) and IdP
    /// links (in creation order). The one home of these columns, for a load and for a delta's
    /// result ([`Snapshot::apply_delta`]). Here rather than with the loader's index building
    /// (`identity-links-tables`, compiled for speed): compiled for size, the module is 270 bytes
    /// smaller gzipped, and a million-link JSON load took as long within the noise (484–499 ms
    /// before, 490–505 ms after, natively).
    pub(crate) fn derive(&mut self) {
        let (strings, g) = (&self.tables.strings, &self.tables.groups);
        let n_users = self.tables.users.id.len();
        let order = build::group_order(strings, &g.id, &g.name, &g.rank);
        // Made in the columns' own memory (`build::refill`): an apply makes them again in place.
        let u = &mut self.tables.users;
        build::csr_into(
            n_users,
            &|entry| {
                for &group in &order {
                    range(&g.members_at, &g.members, group as usize).iter().for_each(|&x| entry(x as usize, group));
                }
            },
            &mut u.groups_at,
            &mut u.groups,
        );
        let idp_users = &self.tables.idp.user;
        build::csr_into(
            n_users,
            &|entry| idp_users.iter().enumerate().for_each(|(link, &x)| entry(x as usize, link as u32)),
            &mut u.idp_at,
            &mut u.idp,
        );
        let h = |s: Sym| java_hash(strings.get_opt(s));
        build::refill(&mut u.java_hash, n_users, 0);
        for r in 0..n_users {
            let hash = 31i32.wrapping_mul(31i32.wrapping_mul(h(u.first[r])).wrapping_add(h(u.last[r])));
            u.java_hash[r] = hash.wrapping_add(h(u.id[r])) as u32;
        }
    }

    /// The snapshot of `tables` as the loader built them (`identity_links_tables::load::load`,
    /// or `build::index` over rows read in parts: the exporter's follower), answering with
    /// `limits`: the columns it derives from the rows are made ([`Snapshot::derive`]).
    pub fn from_loaded(tables: Tables, limits: Limits) -> Snapshot {
        let mut snapshot = Snapshot::from_tables(tables, limits);
        snapshot.derive();
        snapshot
    }

    /// The snapshot of `tables`, answering with `limits`. Crate-private: tables from the loader
    /// lack the columns the snapshot derives ([`Snapshot::derive`], which the caller runs).
    pub(crate) fn from_tables(tables: Tables, limits: Limits) -> Snapshot {
        Snapshot { tables, limits }
    }

    /// Row counts.
    pub fn stats(&self) -> Stats {
        Stats {
            users: self.users.id.len(),
            groups: self.groups.id.len(),
            memberships: self.groups.members.len(),
            tasks: self.tasks.id.len(),
            identity_links: self.tasks.link_ref.len(),
            idp_links: self.idp.user.len(),
        }
    }

    /// `sequence` as decimal text.
    pub fn sequence_text(&self) -> String {
        self.sequence.to_string()
    }

    /// `timestamp` as Zitadel renders it.
    pub fn timestamp_text(&self) -> String {
        self.timestamp.render()
    }

    /// The text of a symbol.
    #[inline]
    pub fn str(&self, sym: Sym) -> &str {
        self.strings.get(sym)
    }

    /// The text of an optional symbol.
    #[inline]
    pub fn opt_str(&self, sym: Sym) -> Option<&str> {
        self.strings.get_opt(sym)
    }
}
