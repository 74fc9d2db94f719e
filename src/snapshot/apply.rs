//! Applying a delta ([`Snapshot::apply_delta`]): the snapshot's own columns are edited in place,
//! table by table in the delta's order, and only what is derived from the rows (each user's
//! groups and IdP links, the lookups by id, the strings' hash index) is computed again.
//!
//! The strings' edit is made in the base's own text ([`super::text_edit`]), every other row
//! column in itself ([`super::column_edit`]): the rows that stay move to their new places and
//! their symbols (or, for a group's members and an IdP link's user, their users' rows) are
//! renumbered there; the rows the delta drops are set aside; the rows it inserts, read first
//! into tables of their own (which checks them), fill the gaps. Nothing is sorted but the groups
//! (for the users' lists) and the authorizations (a small table, made again): the rows come in
//! the newer snapshot's order, and each list a row holds (a task's links, a group's members, a
//! membership's roles) is moved whole, in its order. The result is checked as the binary form
//! is ([`Snapshot::check_structure`]) and kept only if its version is the one the delta names,
//! so a delta whose rows would make another snapshot (for instance a list in another order) is
//! refused, and the snapshot is unchanged.
//!
//! Memory: the row columns are never held twice, and what the base derives from its rows alone
//! (its strings' hash index, its users' groups, IdP links and hashes, its lookups by id) is made
//! again for the new rows in its own memory ([`build::refill`]). The blocks an apply still takes
//! and lets go (the symbols' new numbers, the strings' new ends, the groups' column the version
//! writes) have one size, so that they fit in one another's places: over a chain of applies the
//! module's memory settles at the second (decision 0020). A refused delta is undone ([`Undo`]):
//! each column edited, in reverse order, is edited back with what it set aside, the base's text
//! is put back, and the derived columns are made again ([`Snapshot::restore`]). docs/deltas.md,
//! "Memory and time", has the figures.

use super::column_edit::{self, SetAside, Step};
use super::columns::{self, read_row, Column, Unit, DEFINITION};
use super::delta::{edit, DeltaError, DeltaHeader, Edit, Table, Version, Words, TABLES};
use super::text_edit::edit_strings;
use super::Snapshot;
use identity_links_tables::build;
use identity_links_tables::strings::{Sym, NONE};
use identity_links_tables::tables::Authorizations;
use identity_links_text::timestamp::Timestamp;

impl Snapshot {
    /// Applies `delta` (made by [`Snapshot::delta_to`] from a snapshot of this version) in
    /// place: afterwards the snapshot's binary form, version and answers are those of the
    /// snapshot the delta was made to.
    ///
    /// The columns are edited in place (module docs): the work is linear in the snapshot, the
    /// memory it takes beyond the snapshot's in the delta and the strings.
    ///
    /// # Errors
    /// A [`DeltaError`] when the delta is damaged, applies to another version (another base, out
    /// of order, applied already), or does not make the version it names; the snapshot is then
    /// unchanged (its edits undone, its derived columns made again), and what the attempt
    /// allocated is given back.
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
        // What the snapshot derives from its rows alone stays until it is made again, in its own
        // memory: for the new rows, or for these if the delta is refused.
        let mut delta = Words { words: &words, at: 0 };
        let (strings, edited) = match edit_strings(&mut self.strings, &mut delta, words.len()) {
            Ok(made) => made,
            Err(why) => {
                self.restore();
                return Err(DeltaError::Invalid { why, base });
            }
        };
        // The base's strings (their ends; their text is the new table's now), for an undo.
        let mut old_strings = std::mem::replace(&mut self.tables.strings, strings);
        let mut undo = Undo { time: (self.sequence, self.timestamp), ..Undo::default() };
        let made = self.edit_tables(&header, &mut delta, &edited.map, &mut undo).and_then(|()| {
            self.derive();
            self.check_structure().map_err(|e| format!("its rows are not a snapshot ({e})"))
        });
        let refusal = match made {
            Ok(()) => match self.version() {
                made if made == new => return Ok(made),
                made => DeltaError::Mismatch { expected: new, found: made },
            },
            Err(why) => DeltaError::Invalid { why, base },
        };
        self.undo(undo, &edited.map);
        // The base's text was edited into the new table's: put back, then the rest.
        edited.restore(&mut old_strings, &self.strings);
        self.tables.strings = old_strings;
        self.restore();
        Err(refusal)
    }

    /// Makes the snapshot whole again after a refused delta (its rows and its strings' text back
    /// in place): its strings' index, its lookups by id and what it derives from its rows, made
    /// again. Each is a function of the rows, so the snapshot is as it was (for any snapshot this
    /// library made: a binary form written otherwise, with another index of the same strings or
    /// lists in another order, would come back with this library's).
    fn restore(&mut self) {
        let old = std::mem::take(&mut self.strings);
        self.strings = identity_links_tables::strings::Strings::reindexed(old.text, old.ends, old.slots);
        let n_syms = self.strings.len() as u32;
        let t = &mut self.tables;
        for (lookup, ids) in [(&mut t.by_sym.user, &t.users.id), (&mut t.by_sym.task, &t.tasks.id)] {
            by_sym(lookup, ids, n_syms);
        }
        self.derive();
    }

    /// Edits this snapshot's rows (its strings edited already: `map` gives the new symbol of
    /// each of the base's) by the delta's tables, and makes the lookups by id; each edit is
    /// logged in `undo`. Why not, if they do not make a snapshot: the edits made so far are then
    /// in `undo`, for [`Snapshot::undo`].
    fn edit_tables(
        &mut self,
        header: &DeltaHeader,
        delta: &mut Words,
        map: &[Sym],
        undo: &mut Undo,
    ) -> Result<(), String> {
        let n_syms = self.strings.len() as u32;
        // The delta's rows, read into columns of their own (a list's lengths for its offsets).
        let mut inserted = vec![Vec::new(); super::layout::KEPT];
        let mut authorizations = Vec::new();
        // Each of the base's users: first its id's new symbol, then (the users edited) its new
        // row, for the columns that name users by row.
        undo.user_rows = self.users.id.iter().map(|&id| map.get(id as usize).copied().unwrap_or(NONE)).collect();
        for table in TABLES[1..].iter().copied() {
            let columns = columns::of(table);
            let (base_rows, users, a) = (self.rows(table), &self.tables.by_sym.user, &self.tables.authz);
            let m = |s: Sym| map.get(s as usize).copied().unwrap_or(NONE);
            let (mut steps, mut at) = (Vec::new(), 0);
            edit(delta, base_rows, &mut |edit, delta| match edit {
                Edit::Keep(run) => {
                    if run.start > at {
                        steps.push(Step::Drop(run.start - at));
                    }
                    at = run.end;
                    steps.push(Step::Keep(run.len()));
                    if table == Table::Authz {
                        // Kept in the delta's order, among the new ones (sorted once all are in).
                        let at = |c: &[u32], r: usize| c.get(r).copied().unwrap_or(NONE);
                        authorizations.extend(
                            run.map(|r| (m(at(&a.owner, r)), at(&a.kind, r), m(at(&a.resource, r)), at(&a.perms, r))),
                        );
                    }
                    Ok(())
                }
                Edit::Insert => {
                    match steps.last_mut() {
                        Some(Step::Insert(n)) => *n += 1,
                        _ => steps.push(Step::Insert(1)),
                    }
                    if table != Table::Authz {
                        return read_row(columns, delta, n_syms, users, &mut inserted);
                    }
                    let (owner, kind) = (delta.sym(n_syms, false)?, delta.word()?);
                    authorizations.push((owner, kind, delta.sym(n_syms, false)?, delta.word()?));
                    Ok(())
                }
            })?;
            if base_rows > at {
                steps.push(Step::Drop(base_rows - at));
            }
            if table == Table::Authz {
                let made = build::authorizations(&authorizations, header.enabled);
                undo.authz = Some(std::mem::replace(&mut self.tables.authz, made));
                continue;
            }
            // A list's edit follows its rows': found before its offsets are edited.
            let mut item_steps = Vec::new();
            if let Some(list) = columns.iter().find(|c| c.unit == Unit::Lengths) {
                let lengths = inserted.get(list.kept()).map_or(&[][..], |l| l);
                if let Some(base_at) = self.kept_column_mut(list.kept()) {
                    item_steps = column_edit::items(&steps, base_at, lengths);
                }
            }
            let edits = undo.steps.len();
            undo.steps.push(steps);
            undo.steps.push(item_steps);
            for column in columns {
                let at = edits + usize::from(column.unit == Unit::Item);
                let steps = undo.steps.get(at).map_or(&[][..], |s| s);
                let values = inserted.get_mut(column.kept()).map(std::mem::take).unwrap_or_default();
                let maps = [map, &undo.user_rows];
                self.edit_column(column, steps, at, maps, &values, &mut undo.columns)?;
            }
            match table {
                Table::Users | Table::Tasks => {
                    let (t, users) = (&mut self.tables, table == Table::Users);
                    let (lookup, ids) = match users {
                        true => (&mut t.by_sym.user, &t.users.id),
                        false => (&mut t.by_sym.task, &t.tasks.id),
                    };
                    if !by_sym(lookup, ids, n_syms) {
                        let why = if users {
                            "a user id is missing or there twice"
                        } else {
                            "a task id is missing or there twice"
                        };
                        return Err(why.into());
                    }
                    if users {
                        for row in &mut undo.user_rows {
                            *row = lookup.get(*row as usize).copied().unwrap_or(NONE);
                        }
                    }
                }
                Table::Groups => {
                    // A bit per string (a 32nd of a lookup by id).
                    let mut seen = vec![0u32; n_syms.div_ceil(32) as usize];
                    for &id in &self.groups.id {
                        match seen.get_mut(id as usize / 32) {
                            Some(bits) if *bits & 1 << (id % 32) == 0 => *bits |= 1 << (id % 32),
                            _ => return Err("a group id is missing or there twice".into()),
                        }
                    }
                }
                _ => {}
            }
        }
        if delta.at != delta.words.len() {
            return Err("it has words after its last table".into());
        }
        // Kept rows that named a user who went (the users' derived lists need every one there).
        let n_users = self.users.id.len() as u32;
        if self.groups.members.iter().chain(&self.idp.user).any(|&row| row >= n_users) {
            return Err("a row names a user who is not there".into());
        }
        (self.sequence, self.timestamp) = (header.sequence, header.timestamp);
        Ok(())
    }

    /// Edits `column` by `steps` (`at` in the undo's list), its symbols or users renumbered through `maps` (the
    /// strings', the users') and `inserted` its new rows' values; logs the edit in `log` (an
    /// optional column left as it was, absent from the base and from the new rows, is not), and
    /// applies an optional column's rule: the source's order is carried by every row or by none,
    /// and a column without any value is empty.
    fn edit_column(
        &mut self,
        column: &'static Column,
        steps: &[Step],
        at: usize,
        maps: [&[u32]; 2],
        inserted: &[u32],
        log: &mut Vec<Logged>,
    ) -> Result<(), String> {
        let Some(values) = self.kept_column_mut(column.kept()) else { return Ok(()) };
        let mut logged = Logged { column, steps: at, aside: SetAside::default(), expanded: false, cleared: None };
        if column.optional && values.is_empty() {
            if inserted.iter().all(|&x| x == NONE) {
                return Ok(());
            }
            let base: usize = steps.iter().map(|s| if let Step::Keep(n) | Step::Drop(n) = s { *n } else { 0 }).sum();
            (*values, logged.expanded) = (vec![NONE; base], true);
        }
        column.edit(values, steps, maps, inserted, &mut logged.aside);
        // An optional column: without any value, empty; a rank on some rows but not all is
        // refused (a definition key may be on some tasks only).
        let partial = column.optional && {
            let with = values.iter().filter(|&&x| x != NONE).count();
            if with == 0 {
                logged.cleared = Some(std::mem::take(values));
            }
            with != 0 && with != values.len() && column.kept() != DEFINITION
        };
        log.push(logged);
        match partial {
            true => Err("some rows have a rank and others not".into()),
            false => Ok(()),
        }
    }

    /// Undoes the edits `undo` logged, the last first: each column edited back with what it
    /// set aside, through the inverse of its renumbering; the authorizations, the sequence and
    /// timestamp put back. The lookups by id are [`Snapshot::restore`]'s to make again.
    fn undo(&mut self, undo: Undo, map: &[Sym]) {
        // The inverse renumberings: each new symbol's in the base, each new user's row.
        let symbols = invert(map, self.strings.len());
        let users = invert(&undo.user_rows, self.users.id.len());
        for logged in undo.columns.into_iter().rev() {
            let Some(values) = self.kept_column_mut(logged.column.kept()) else { continue };
            if let Some(cleared) = logged.cleared {
                *values = cleared;
            }
            let steps = column_edit::inverse(undo.steps.get(logged.steps).map_or(&[][..], |s| s));
            logged.column.edit(values, &steps, [&symbols, &users], &logged.aside.dropped, &mut SetAside::default());
            for &(row, x) in &logged.aside.lost {
                if let Some(value) = values.get_mut(row) {
                    *value = x;
                }
            }
            if logged.expanded {
                *values = Vec::new();
            }
        }
        if let Some(authz) = undo.authz {
            self.tables.authz = authz;
        }
        (self.sequence, self.timestamp) = undo.time;
    }
}

/// What undoes an apply's edits ([`Snapshot::undo`]), logged as they are made.
#[derive(Default)]
struct Undo {
    /// The tables' edits: for each table edited, its rows' steps, then its lists' (empty
    /// without lists).
    steps: Vec<Vec<Step>>,
    /// The columns edited, in order.
    columns: Vec<Logged>,
    /// Each of the base's users' new row (or [`NONE`]), once the users are edited.
    user_rows: Vec<u32>,
    /// The base's authorizations, once made again.
    authz: Option<Authorizations>,
    /// The base's sequence and timestamp.
    time: (u64, Timestamp),
}

/// One column's edit, as [`Undo`] keeps it.
struct Logged {
    column: &'static Column,
    /// Where its steps are in [`Undo::steps`].
    steps: usize,
    /// The values it dropped, and those its renumbering lost.
    aside: SetAside,
    /// Whether it was absent from the base (made of [`NONE`]s for the edit).
    expanded: bool,
    /// Its values, when the edit left it without any (the column then empty).
    cleared: Option<Vec<u32>>,
}

/// The inverse of `map` (`n` values): each value's index in it, or [`NONE`].
fn invert(map: &[u32], n: usize) -> Vec<u32> {
    let mut back = vec![NONE; n];
    for (a, &b) in map.iter().enumerate() {
        if let Some(slot) = back.get_mut(b as usize) {
            *slot = a as u32;
        }
    }
    back
}

pub(super) use build::room;

/// Gives back the room of a vector past what an apply gives (the [`room`] of an eighth more, as
/// the strings' ends get) when that is more than a 16th of its length: a column that a delta
/// shortens, or that a refused delta lengthened and then undid, does not keep the memory of its
/// longest state (small changes back and forth leave it alone, and the strings' ends the room
/// they were given, which the apply's other blocks by string share).
pub(super) fn fit<T>(v: &mut Vec<T>) {
    let n = v.len();
    if v.capacity() > room(n + n / 8 + 64) + n / 16 {
        v.shrink_to(room(n));
    }
}

/// Makes `column` the row of each id symbol (of `n_syms`), or [`NONE`] (an id there twice: its
/// first row), in its own memory ([`build::refill`]); whether every id was in range and there
/// once.
fn by_sym(column: &mut Vec<u32>, ids: &[Sym], n_syms: u32) -> bool {
    build::refill(column, n_syms as usize, NONE);
    let mut once = true;
    for (row, &id) in ids.iter().enumerate() {
        match column.get_mut(id as usize) {
            Some(slot) if *slot == NONE => *slot = row as u32,
            _ => once = false,
        }
    }
    once
}
