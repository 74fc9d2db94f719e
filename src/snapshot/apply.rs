//! Applying a delta ([`Snapshot::apply_delta`]): the base's columns and the delta's rows make the
//! new snapshot's columns directly, table by table in the delta's order, and only what is
//! derived from the rows (each user's groups and IdP links, the lookups by id, the strings'
//! hash index) is computed again.
//!
//! The strings' edit is made in the base's own text ([`super::text_edit`]). Of the rows the base
//! keeps, the tasks' and users' are copied column by column, their symbols renumbered; the other
//! tables' are written as the delta would write them and read back by the reader of the delta's
//! own rows, which checks both. Nothing is sorted but the groups (for the users' lists) and the
//! authorizations (a small table): the rows come in the newer snapshot's order, and each list a
//! row holds (a task's links, a group's members, a membership's roles) is copied whole, in its
//! order. The result is checked as the binary form is ([`Snapshot::check_structure`]) and taken
//! only if its version is the one the delta names, so a delta whose rows would make another
//! snapshot (for instance a list in another order) is refused, and the snapshot is unchanged.
//!
//! Memory: what the base derives from its rows alone (its strings' hash index, its users'
//! groups, IdP links and hashes) is let go first; the new columns are built beside the base's
//! other columns, each with room for all it can receive; the base's are let go once the new
//! snapshot is taken. A refused delta puts the base's text back and makes its derived columns
//! again ([`Snapshot::restore`]). docs/deltas.md, "Memory and time", has the figures.

use super::delta::{edit, DeltaError, DeltaHeader, Edit, Table, Version, Words, TABLES};
use super::text_edit::edit_strings;
use super::Snapshot;
use identity_links_tables::build;
use identity_links_tables::strings::{Strings, Sym, NONE};
use identity_links_tables::tables::{Groups, IdpLinks, Members, Tables, Tasks, Users};
use std::ops::Range;

impl Snapshot {
    /// Applies `delta` (made by [`Snapshot::delta_to`] from a snapshot of this version) in
    /// place: afterwards the snapshot's binary form, version and answers are those of the
    /// snapshot the delta was made to.
    ///
    /// The new tables are made from this snapshot's columns and the delta's rows (module docs),
    /// then the old ones are let go: the work is linear in the snapshot, and memory holds most
    /// of the old tables and the new ones at once for a moment.
    ///
    /// # Errors
    /// A [`DeltaError`] when the delta is damaged, applies to another version (another base, out
    /// of order, applied already), or does not make the version it names; the snapshot is then
    /// unchanged (its derived columns made again), and what the attempt allocated is given back.
    pub fn apply_delta(&mut self, delta: &[u8]) -> Result<(), DeltaError> {
        self.apply_delta_at(self.version(), delta).map(|_| ())
    }

    /// [`Snapshot::apply_delta`] for a caller that knows the snapshot's version (`found`, which
    /// must be [`Snapshot::version`]'s answer: the wasm facade keeps it), saving one pass over
    /// the snapshot; gives the new version.
    ///
    /// # Errors
    /// As [`Snapshot::apply_delta`].
    pub fn apply_delta_at(&mut self, found: Version, delta: &[u8]) -> Result<Version, DeltaError> {
        let (header, edits) = DeltaHeader::read(delta).map_err(|why| DeltaError::Damaged { why, found })?;
        let (base, new) = (header.from, header.to);
        if base != found {
            return Err(DeltaError::WrongBase { expected: base, found });
        }
        let u32_at = |at: usize| u32::from_le_bytes([edits[at], edits[at + 1], edits[at + 2], edits[at + 3]]);
        let words: Vec<u32> = (0..edits.len()).step_by(4).map(u32_at).collect();
        // What the snapshot derives from its rows alone (its strings' index, its users' groups,
        // IdP links and hashes) is let go now, and made again at the end: for the new rows, or
        // for these if the delta is refused.
        self.strings.slots = Vec::new();
        let u = &mut self.users;
        (u.java_hash, u.groups_at, u.groups, u.idp_at, u.idp) = Default::default();
        let mut delta = Words { words: &words, at: 0 };
        let (strings, edited) = match edit_strings(&mut self.strings, &mut delta, words.len()) {
            Ok(made) => made,
            Err(why) => {
                self.restore();
                return Err(DeltaError::Invalid { why, base });
            }
        };
        let map = &edited.map;
        let mut next = Snapshot { tables: self.sized(strings, words.len()), limits: self.limits };
        (next.sequence, next.timestamp) = (header.sequence, header.timestamp);
        let filled = self.fill(&header, &mut delta, map, &mut next.tables).and_then(|()| {
            next.derive();
            // Rows added past the base's sizes left room to spare: given back (in place).
            for i in 0..super::layout::KEPT {
                next.kept_column_mut(i).map(Vec::shrink_to_fit);
            }
            next.check_structure().map_err(|e| format!("its rows are not a snapshot ({e})"))
        });
        let refusal = match filled {
            Ok(()) => match next.version() {
                made if made == new => {
                    *self = next;
                    return Ok(made);
                }
                made => DeltaError::Mismatch { expected: new, found: made },
            },
            Err(why) => DeltaError::Invalid { why, base },
        };
        // The base's text was edited into the new table's: put back, then the rest.
        edited.restore(&mut self.strings, &next.strings);
        drop(next);
        self.restore();
        Err(refusal)
    }

    /// Makes the snapshot whole again after a refused delta (its strings' text back in place):
    /// its strings' index and what it derives from its rows, made again. Each is a function of
    /// the rows, so the snapshot is as it was (for any snapshot this library made: a binary form
    /// written otherwise, with another index of the same strings or lists in another order,
    /// would come back with this library's).
    fn restore(&mut self) {
        let old = std::mem::take(&mut self.strings);
        self.strings = Strings::indexed(old.text, old.ends);
        self.derive();
    }

    /// Fills `next`'s rows (its strings made already: `map` gives the new symbol of each of this
    /// snapshot's) from this snapshot's and the delta's, and the lookups by id; why not, if they
    /// do not make a snapshot.
    fn fill(&self, header: &DeltaHeader, delta: &mut Words, map: &[Sym], next: &mut Tables) -> Result<(), String> {
        let n_syms = next.strings.len() as u32;
        next.groups.members_at.push(0);
        next.tasks.links_at.push(0);
        let mut authorizations = Vec::with_capacity(self.authz.owner.len());
        let mut kept = Vec::new();
        for table in TABLES[1..].iter().copied() {
            let mut rows = Rows { next: &mut *next, authorizations: &mut authorizations, n_syms };
            edit(delta, self.rows(table), &mut |edit, delta| match edit {
                Edit::Keep(run) => rows.keep(self, table, run, map, &mut kept),
                Edit::Insert => rows.read(table, delta),
            })?;
            if table == Table::Users {
                next.by_sym.user = by_sym(&next.users.id, n_syms, "user")?;
            }
        }
        if delta.at != delta.words.len() {
            return Err("it has words after its last table".into());
        }
        next.authz = build::authorizations(&authorizations, header.enabled);
        drop(authorizations);
        next.by_sym.task = by_sym(&next.tasks.id, n_syms, "task")?;
        by_sym(&next.groups.id, n_syms, "group")?;
        // The source's order: carried by every row or by none.
        let g = &mut next.groups;
        for (ranks, table) in [(&mut g.rank, "groups"), (&mut g.member_rank, "memberships")] {
            match build::ranked(ranks, table) {
                Ok(true) => {}
                Ok(false) => *ranks = Vec::new(),
                Err(_) => return Err("some rows have a rank and others not".into()),
            }
        }
        if next.tasks.definition.iter().all(|&d| d == NONE) {
            next.tasks.definition = Vec::new();
        }
        Ok(())
    }

    /// Empty tables over `strings` with room for as many rows as this snapshot's and as many
    /// as a delta of `more` words can add (a row takes 4 words at least; a member 2, a link 3,
    /// a role 1), up to an eighth more: no vector is doubled while it is filled, which would
    /// hold its table twice for a moment (tests/apply_memory.rs), and a large or hostile delta
    /// does not make the apply ask for more than the base's size again.
    fn sized(&self, strings: Strings, more: usize) -> Tables {
        let (u, g, t, l, z) = (&self.users, &self.groups, &self.tasks, &self.idp, &self.members);
        let items = |n: usize, words: usize| Vec::with_capacity(room(n + (more / words).min(n / 8 + 64)));
        let rows = |n: usize| items(n, 4);
        let (n_users, n_groups, n_tasks, n_idp, n_members) =
            (u.id.len(), g.id.len(), t.id.len(), l.user.len(), z.user.len());
        Tables {
            strings,
            users: Users {
                id: rows(n_users),
                first: rows(n_users),
                last: rows(n_users),
                org: rows(n_users),
                ..Users::default()
            },
            groups: Groups {
                id: rows(n_groups),
                name: rows(n_groups),
                rank: rows(n_groups),
                members_at: rows(n_groups + 1),
                members: items(g.members.len(), 2),
                member_rank: items(g.members.len(), 2),
            },
            tasks: Tasks {
                id: rows(n_tasks),
                assignee: rows(n_tasks),
                owner: rows(n_tasks),
                definition: rows(n_tasks),
                links_at: rows(n_tasks + 1),
                link_ref: items(t.link_ref.len(), 3),
                link_type: items(t.link_ref.len(), 3),
            },
            idp: IdpLinks {
                user: rows(n_idp),
                idp_id: rows(n_idp),
                provided_id: rows(n_idp),
                provided_name: rows(n_idp),
            },
            members: Members {
                user: rows(n_members),
                org: rows(n_members),
                project: rows(n_members),
                roles_at: rows(n_members + 1),
                roles: items(z.roles.len(), 1),
            },
            ..Tables::default()
        }
    }
}

/// The new tables as a delta's rows fill them, in the delta's order.
struct Rows<'a> {
    next: &'a mut Tables,
    /// The authorizations' rows, sorted once all are read.
    authorizations: &'a mut Vec<(Sym, u32, Sym, u32)>,
    /// How many strings the new table has.
    n_syms: u32,
}

impl Rows<'_> {
    /// Copies the base's rows `run` of `table` into the new tables, their symbols renumbered
    /// through `map` (the base's symbol to the new one): column by column for the tasks and users
    /// (the large tables without users' rows to find again); for the others, each row as the
    /// delta would write it (into `kept`), read back as the delta's own rows are.
    fn keep(
        &mut self,
        base: &Snapshot,
        table: Table,
        run: Range<usize>,
        map: &[Sym],
        kept: &mut Vec<u32>,
    ) -> Result<(), String> {
        let next = &mut *self.next;
        let rows = run.clone();
        match table {
            Table::Users => {
                let (u, b) = (&mut next.users, &base.users);
                for (column, from) in
                    [(&mut u.id, &b.id), (&mut u.first, &b.first), (&mut u.last, &b.last), (&mut u.org, &b.org)]
                {
                    put(column, &from[rows.clone()], map, 0);
                }
            }
            Table::Tasks => {
                let (t, b) = (&mut next.tasks, &base.tasks);
                for (column, from) in [(&mut t.id, &b.id), (&mut t.assignee, &b.assignee), (&mut t.owner, &b.owner)] {
                    put(column, &from[rows.clone()], map, 0);
                }
                // Optional: empty when no task has one, so NONE for each row.
                match b.definition.is_empty() {
                    true => t.definition.extend(rows.clone().map(|_| NONE)),
                    false => put(&mut t.definition, &b.definition[rows.clone()], map, 0),
                }
                let (first, shift) = (b.links_at[run.start], t.link_ref.len() as u32);
                let links = first as usize..b.links_at[run.end] as usize;
                put(&mut t.link_ref, &b.link_ref[links.clone()], map, 0);
                // A link's type: its symbol above its group flag.
                put(&mut t.link_type, &b.link_type[links], map, 1);
                t.links_at.extend(b.links_at[run.start + 1..=run.end].iter().map(|&at| at - first + shift));
            }
            Table::Strings | Table::Groups | Table::Idp | Table::Authz | Table::Members => {
                for row in rows {
                    kept.clear();
                    base.record(table, row, &|s| map.get(s as usize).copied().unwrap_or(NONE), kept);
                    self.read(table, &mut Words { words: kept, at: 0 })?;
                }
            }
        }
        Ok(())
    }

    /// Reads one row of `table` from `words` (as a delta writes it: docs/deltas.md) into the new
    /// tables, checking its symbols (below the new table's size, or [`NONE`] where a field is
    /// optional) and the users it names (the new table's, read first).
    fn read(&mut self, table: Table, words: &mut Words) -> Result<(), String> {
        let (n, next) = (self.n_syms, &mut *self.next);
        let user = |words: &mut Words, next: &Tables| {
            let id = words.sym(n, false)?;
            match next.by_sym.user.get(id as usize) {
                Some(&row) if row != NONE => Ok(row),
                _ => Err("a row names a user who is not there".to_owned()),
            }
        };
        match table {
            Table::Strings => {}
            Table::Users => {
                let u = &mut next.users;
                u.id.push(words.sym(n, false)?);
                u.first.push(words.sym(n, true)?);
                u.last.push(words.sym(n, true)?);
                u.org.push(words.sym(n, true)?);
            }
            Table::Groups => {
                next.groups.id.push(words.sym(n, false)?);
                next.groups.name.push(words.sym(n, true)?);
                next.groups.rank.push(words.word()?);
                for _ in 0..words.word()? {
                    let member = user(words, next)?;
                    next.groups.members.push(member);
                    next.groups.member_rank.push(words.word()?);
                }
                next.groups.members_at.push(next.groups.members.len() as u32);
            }
            Table::Tasks => {
                let t = &mut next.tasks;
                t.id.push(words.sym(n, false)?);
                t.assignee.push(words.sym(n, true)?);
                t.owner.push(words.sym(n, true)?);
                t.definition.push(words.sym(n, true)?);
                for _ in 0..words.word()? {
                    let (reference, kind, group) = (words.sym(n, false)?, words.sym(n, false)?, words.word()?);
                    if group > 1 {
                        return Err("a link's group flag is neither 0 nor 1".into());
                    }
                    t.link_ref.push(reference);
                    t.link_type.push(kind << 1 | group);
                }
                t.links_at.push(t.link_ref.len() as u32);
            }
            Table::Idp => {
                let owner = user(words, next)?;
                let l = &mut next.idp;
                l.user.push(owner);
                l.idp_id.push(words.sym(n, false)?);
                l.provided_id.push(words.sym(n, false)?);
                l.provided_name.push(words.sym(n, false)?);
            }
            Table::Authz => {
                let (owner, kind) = (words.sym(n, false)?, words.word()?);
                let (resource, perms) = (words.sym(n, false)?, words.word()?);
                self.authorizations.push((owner, kind, resource, perms));
            }
            Table::Members => {
                let z = &mut next.members;
                z.user.push(words.sym(n, false)?);
                z.org.push(words.sym(n, true)?);
                z.project.push(words.sym(n, true)?);
                for _ in 0..words.word()? {
                    z.roles.push(words.sym(n, false)?);
                }
                // Empty without rows (as the loader leaves it).
                if z.roles_at.is_empty() {
                    z.roles_at.push(0);
                }
                z.roles_at.push(z.roles.len() as u32);
            }
        }
        Ok(())
    }
}

/// Appends each of `from` to `column`, the symbol in its bits above the lowest `low` renumbered
/// through `map` ([`NONE`] for one the map lacks, [`NONE`] itself among them), those bits kept.
/// One loop for every column the apply copies, without a call per value (a call through a
/// closure per value was a tenth of an apply's time at 1M links).
fn put(column: &mut Vec<u32>, from: &[u32], map: &[Sym], low: u32) {
    let kept = (1 << low) - 1;
    column.extend(from.iter().map(|&x| map.get((x >> low) as usize).copied().unwrap_or(NONE) << low | x & kept));
}

/// The room to give a vector of `n` items: `n` rounded up to a 64th of it (at least 64), so
/// that the applies of a chain ask the allocator for the same sizes, and reuse what the last one
/// gave back, instead of fragmenting memory with sizes a few items apart.
pub(super) fn room(n: usize) -> usize {
    let step = (n / 64).max(64).next_power_of_two();
    n.div_ceil(step) * step
}

/// The row of each id symbol (of `n_syms`), or [`NONE`]; refuses an id twice.
fn by_sym(ids: &[Sym], n_syms: u32, what: &str) -> Result<Vec<u32>, String> {
    let mut column = vec![NONE; n_syms as usize];
    for (row, &id) in ids.iter().enumerate() {
        match column.get_mut(id as usize) {
            Some(slot) if *slot == NONE => *slot = row as u32,
            _ => return Err(format!("a {what} id is missing or there twice")),
        }
    }
    Ok(column)
}
