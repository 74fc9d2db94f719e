//! The row columns of each table as a delta carries them: which columns, in the order of a
//! row's fields in a delta (docs/deltas.md, "The format"), and what their values name. The one
//! home of a delta's rows: the reader of an apply ([`read_row`]) and the edit of each column
//! ([`Column::edit`]) go by these lists.

use super::column_edit::{self, SetAside, Step};
use super::delta::{Table, Words};
use super::layout::kept_index;
use identity_links_tables::strings::NONE;

/// What a column's values are counted in.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Unit {
    /// One value per row.
    Row,
    /// One per item of the rows' lists.
    Item,
    /// The lists' offsets (edited as lengths, one per row).
    Lengths,
}

/// What a column's values name, and so how an apply renumbers those it keeps.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Map {
    /// Strings: through the strings' edit.
    Syms,
    /// Users' rows: through the users' edit (by id).
    UserRows,
    /// Numbers (ranks, lengths): kept as they are.
    Same,
}

/// A column an apply edits, in the order of a row's fields in a delta (docs/deltas.md).
pub(super) struct Column {
    /// Its place among the kept columns ([`Snapshot::kept_column_mut`]), as a byte (the lists
    /// are statics in the module's data).
    place: u8,
    pub(super) unit: Unit,
    pub(super) map: Map,
    /// The bits below the symbol (a link's group flag).
    pub(super) low: u8,
    /// Empty when no row has a value ([`NONE`] for each).
    pub(super) optional: bool,
    /// Offsets without rows: empty rather than `[0]`.
    pub(super) empty_without_rows: bool,
    /// A field that may be null ([`NONE`]) in a row.
    pub(super) nullable: bool,
}

impl Column {
    /// Its place among the kept columns ([`Snapshot::kept_column_mut`]).
    pub(super) fn kept(&self) -> usize {
        usize::from(self.place)
    }

    /// Edits this column's `values` by `steps` ([`column_edit::edit`]), renumbered through the
    /// map of `maps` (the strings', the users') its values need; offsets edited as lengths.
    pub(super) fn edit(
        &self,
        values: &mut Vec<u32>,
        steps: &[Step],
        maps: [&[u32]; 2],
        inserted: &[u32],
        aside: &mut SetAside,
    ) {
        let map = match self.map {
            Map::Syms => Some(maps[0]),
            Map::UserRows => Some(maps[1]),
            Map::Same => None,
        };
        let lengths = self.unit == Unit::Lengths;
        if lengths {
            column_edit::to_lengths(values);
        }
        column_edit::edit(values, steps, map, self.low.into(), inserted, aside);
        if lengths {
            column_edit::to_offsets(values, self.empty_without_rows);
        }
    }
}

const fn column(name: &str, unit: Unit, map: Map) -> Column {
    Column {
        place: kept_index(name) as u8,
        unit,
        map,
        low: 0,
        optional: false,
        empty_without_rows: false,
        nullable: false,
    }
}

const fn nullable(name: &str) -> Column {
    Column { nullable: true, ..column(name, Unit::Row, Map::Syms) }
}

/// A column absent from a snapshot where no row has a value (its rows' values nullable).
const fn optional(name: &str, unit: Unit, map: Map) -> Column {
    Column { optional: true, nullable: true, ..column(name, unit, map) }
}

/// The process-definition keys' column: on some tasks only, where the ranks are on all rows.
pub(super) const DEFINITION: usize = kept_index("tasks.definition");

static USERS: [Column; 4] =
    [column("users.id", Unit::Row, Map::Syms), nullable("users.first"), nullable("users.last"), nullable("users.org")];
static GROUPS: [Column; 6] = [
    column("groups.id", Unit::Row, Map::Syms),
    nullable("groups.name"),
    optional("groups.rank", Unit::Row, Map::Same),
    column("groups.members_at", Unit::Lengths, Map::Same),
    column("groups.members", Unit::Item, Map::UserRows),
    optional("groups.member_rank", Unit::Item, Map::Same),
];
static TASKS: [Column; 7] = [
    column("tasks.id", Unit::Row, Map::Syms),
    nullable("tasks.assignee"),
    nullable("tasks.owner"),
    optional("tasks.definition", Unit::Row, Map::Syms),
    column("tasks.links_at", Unit::Lengths, Map::Same),
    column("tasks.link_ref", Unit::Item, Map::Syms),
    // A link's type: its symbol above its group flag.
    Column { low: 1, ..column("tasks.link_type", Unit::Item, Map::Syms) },
];
static IDP: [Column; 4] = [
    column("idp.user", Unit::Row, Map::UserRows),
    column("idp.idp_id", Unit::Row, Map::Syms),
    column("idp.provided_id", Unit::Row, Map::Syms),
    column("idp.provided_name", Unit::Row, Map::Syms),
];
static MEMBERS: [Column; 5] = [
    column("members.user", Unit::Row, Map::Syms),
    nullable("members.org"),
    nullable("members.project"),
    Column { empty_without_rows: true, ..column("members.roles_at", Unit::Lengths, Map::Same) },
    column("members.roles", Unit::Item, Map::Syms),
];

/// The row columns of `table` (none for the strings and the authorizations, whose rows a delta
/// writes otherwise).
pub(super) fn of(table: Table) -> &'static [Column] {
    match table {
        Table::Users => &USERS,
        Table::Groups => &GROUPS,
        Table::Tasks => &TASKS,
        Table::Idp => &IDP,
        Table::Members => &MEMBERS,
        Table::Strings | Table::Authz => &[],
    }
}

/// Reads one row of a table of `columns` from `words` (as a delta writes it: docs/deltas.md)
/// into `inserted` (by kept column): its fields in the columns' order, then its list's length and items. Checks
/// its symbols (below `n_syms`, or [`NONE`] where a field is nullable) and the users it names
/// (`users`: the new users' rows by id, read first).
pub(super) fn read_row(
    columns: &[Column],
    words: &mut Words,
    n_syms: u32,
    users: &[u32],
    inserted: &mut [Vec<u32>],
) -> Result<(), String> {
    let mut items = 0;
    for column in columns.iter().filter(|c| c.unit != Unit::Item) {
        let value = match column.unit {
            Unit::Lengths => {
                items = words.word()?;
                items
            }
            _ => field(column, words, n_syms, users)?,
        };
        if let Some(values) = inserted.get_mut(column.kept()) {
            values.push(value);
        }
    }
    for _ in 0..items {
        for column in columns.iter().filter(|c| c.unit == Unit::Item) {
            let value = field(column, words, n_syms, users)?;
            if let Some(values) = inserted.get_mut(column.kept()) {
                values.push(value);
            }
        }
    }
    Ok(())
}

/// One field of a row for `column`: a symbol (a link's type: with its group flag, a word of
/// its own in the delta), a user (named by id, kept as its row) or a number.
fn field(column: &Column, words: &mut Words, n_syms: u32, users: &[u32]) -> Result<u32, String> {
    match column.map {
        Map::Same => words.word(),
        Map::UserRows => match users.get(words.sym(n_syms, false)? as usize) {
            Some(&row) if row != NONE => Ok(row),
            _ => Err("a row names a user who is not there".into()),
        },
        Map::Syms => {
            let sym = words.sym(n_syms, column.nullable)?;
            match column.low {
                0 => Ok(sym),
                _ => match words.word()? {
                    group @ 0..=1 => Ok(sym << 1 | group),
                    _ => Err("a link's group flag is neither 0 nor 1".into()),
                },
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::layout::KEPT;

    #[test]
    fn every_listed_column_is_a_kept_column_once() {
        let mut seen = [false; KEPT];
        for column in [&USERS[..], &GROUPS, &TASKS, &IDP, &MEMBERS].into_iter().flatten() {
            assert!(column.kept() < KEPT, "a listed name is not a kept column");
            assert!(!seen[column.kept()], "column {} listed twice", column.kept());
            seen[column.kept()] = true;
        }
        assert_eq!(DEFINITION, kept_index("tasks.definition"));
        assert!(DEFINITION < KEPT && kept_index("no.such") == KEPT);
    }
}
