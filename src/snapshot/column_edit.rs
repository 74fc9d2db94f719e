//! A delta's edit of one column, made in the column itself: the values that stay are moved to
//! their new places (each at most once) and renumbered there, those dropped are set aside, and
//! those inserted are written into the gaps. The same edit, inverted ([`inverse`]) with the
//! values set aside and the inverse renumbering, puts the column back as it was, which is how a
//! refused delta leaves the snapshot unchanged.
//!
//! An apply edits every row column of the snapshot so, instead of building new ones beside the
//! base's: memory holds each column once (docs/deltas.md, "Memory and time").

use super::apply::{fit, room};
use identity_links_tables::strings::NONE;

/// One run of a table's edit, in the base's row order: `n` of the base's rows kept or dropped,
/// or `n` new rows inserted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Step {
    Keep(usize),
    Drop(usize),
    Insert(usize),
}

/// The edit that undoes `steps`: what was dropped is inserted again, what was inserted dropped.
pub(super) fn inverse(steps: &[Step]) -> Vec<Step> {
    let flip = |step: &Step| match *step {
        Step::Drop(n) => Step::Insert(n),
        Step::Insert(n) => Step::Drop(n),
        keep => keep,
    };
    steps.iter().map(flip).collect()
}

/// The edit of a list column (a task's links, a group's members, a membership's roles) that
/// follows the edit `rows` of its rows: each kept or dropped row keeps or drops its items
/// (`at`: the base's offsets), each inserted row inserts as many as `lengths` gives, in order.
pub(super) fn items(rows: &[Step], at: &[u32], lengths: &[u32]) -> Vec<Step> {
    // (Read with `get`: the counts are the caller's, from the same rows; no panic path.)
    let at = |i: usize| at.get(i).map_or(0, |&x| x as usize);
    let (mut row, mut inserted, mut items) = (0, 0, Vec::with_capacity(rows.len()));
    for step in rows {
        items.push(match *step {
            Step::Keep(n) | Step::Drop(n) => {
                let count = at(row + n).saturating_sub(at(row));
                row += n;
                if let Step::Keep(_) = step {
                    Step::Keep(count)
                } else {
                    Step::Drop(count)
                }
            }
            Step::Insert(n) => {
                let count = lengths.get(inserted..inserted + n).unwrap_or_default().iter().map(|&l| l as usize).sum();
                inserted += n;
                Step::Insert(count)
            }
        });
    }
    items
}

/// Offsets (`n + 1`, the first 0) to lengths (`n`), in place.
pub(super) fn to_lengths(at: &mut Vec<u32>) {
    // From the end, each offset becomes the next one less it; the last (made of nothing) goes.
    let mut next = 0u32;
    for x in at.iter_mut().rev() {
        (*x, next) = (next.wrapping_sub(*x), *x);
    }
    at.pop();
}

/// Lengths back to offsets, in place; no rows give `[0]`, or nothing if `empty_without_rows`.
pub(super) fn to_offsets(lengths: &mut Vec<u32>, empty_without_rows: bool) {
    if lengths.is_empty() && empty_without_rows {
        return;
    }
    let mut sum = 0;
    for x in lengths.iter_mut() {
        (*x, sum) = (sum, sum + *x);
    }
    lengths.push(sum);
}

/// What an edit of a column set aside, to undo it with.
#[derive(Default)]
pub(super) struct SetAside {
    /// The values dropped, in order.
    pub(super) dropped: Vec<u32>,
    /// The kept values the renumbering lost (mapped to [`NONE`]: a delta that is refused then),
    /// each with its row in the base.
    pub(super) lost: Vec<(usize, u32)>,
}

/// Edits `column` by `steps`: kept values move to their new places, renumbered through `map`
/// in their bits above the lowest `low` (the symbol of a link's type is above its group flag;
/// [`NONE`] for a value the map lacks, [`NONE`] itself among them), or left as they are without
/// a map; dropped ones are appended to `aside`, with the kept ones the map loses; `inserted`
/// fills the gaps, in order.
///
/// The column must hold the rows the steps keep and drop, and `inserted` the rows they insert
/// (the caller's counts, from the delta's reader); it grows, when it must, to [`room`], and
/// gives back room it no longer needs ([`fit`]).
pub(super) fn edit(
    column: &mut Vec<u32>,
    steps: &[Step],
    map: Option<&[u32]>,
    low: u32,
    inserted: &[u32],
    aside: &mut SetAside,
) {
    let (mut from, mut total) = (0, 0);
    for step in steps {
        match *step {
            Step::Keep(n) => (from, total) = (from + n, total + n),
            Step::Drop(n) => {
                aside.dropped.extend_from_slice(column.get(from..from + n).unwrap_or_default());
                from += n;
            }
            Step::Insert(n) => total += n,
        }
    }
    if total > column.len() {
        if total > column.capacity() {
            column.reserve_exact(room(total) - column.len());
        }
        column.resize(total, 0);
    }
    // Runs that move left (or stay), from the first; then those that move right, from the last:
    // no run is written over before it has moved.
    let (mut from, mut to) = (0, 0);
    for step in steps {
        match *step {
            Step::Keep(n) => {
                if to <= from {
                    keep(column, from, to, n, map, low, &mut aside.lost);
                }
                (from, to) = (from + n, to + n);
            }
            Step::Drop(n) => from += n,
            Step::Insert(n) => to += n,
        }
    }
    for step in steps.iter().rev() {
        match *step {
            Step::Keep(n) => {
                (from, to) = (from - n, to - n);
                if to > from {
                    keep(column, from, to, n, map, low, &mut aside.lost);
                }
            }
            Step::Drop(n) => from -= n,
            Step::Insert(n) => to -= n,
        }
    }
    let mut next = 0;
    for step in steps {
        match *step {
            Step::Keep(n) => to += n,
            Step::Insert(n) => {
                if let (Some(gap), Some(new)) = (column.get_mut(to..to + n), inserted.get(next..next + n)) {
                    gap.copy_from_slice(new);
                }
                (to, next) = (to + n, next + n);
            }
            Step::Drop(_) => {}
        }
    }
    column.truncate(total);
    fit(column);
}

/// Moves the run of `n` values at `from` to `to` and renumbers it there (see [`edit`]); a value
/// the map loses goes to `lost` with its row before the move.
fn keep(
    column: &mut [u32],
    from: usize,
    to: usize,
    n: usize,
    map: Option<&[u32]>,
    low: u32,
    lost: &mut Vec<(usize, u32)>,
) {
    if from != to {
        column.copy_within(from..from + n, to);
    }
    if let Some(map) = map {
        let kept = (1 << low) - 1;
        for (i, x) in column.get_mut(to..to + n).unwrap_or_default().iter_mut().enumerate() {
            let new = match map.get((*x >> low) as usize) {
                Some(&NONE) => {
                    lost.push((from + i, *x));
                    NONE
                }
                Some(&new) => new,
                None => NONE,
            };
            *x = new << low | *x & kept;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The column `steps` make, built afresh: the reference for the edit in place.
    fn made(base: &[u32], steps: &[Step], map: &[u32], inserted: &[u32]) -> Vec<u32> {
        let (mut out, mut from, mut next) = (Vec::new(), 0, 0);
        for step in steps {
            match *step {
                Step::Keep(n) => {
                    out.extend(base[from..from + n].iter().map(|&x| map.get(x as usize).copied().unwrap_or(NONE)));
                    from += n;
                }
                Step::Drop(n) => from += n,
                Step::Insert(n) => {
                    out.extend_from_slice(&inserted[next..next + n]);
                    next += n;
                }
            }
        }
        out
    }

    #[test]
    fn edits_in_place_as_a_new_column_would_and_back() {
        // A small generator, so that the test needs no crate: every shape of edit up to 12 rows.
        let mut seed = 0x2545_f491_u32;
        let mut next = move |n: u32| {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            seed % n
        };
        for _ in 0..5_000 {
            let base: Vec<u32> = (0..next(12)).map(|_| next(20)).collect();
            let (mut steps, mut left, mut inserted) = (Vec::new(), base.len(), Vec::new());
            while left > 0 || next(3) == 0 {
                let n = 1 + next(4) as usize;
                match next(3) {
                    0 if left > 0 => steps.push(Step::Keep(n.min(left))),
                    1 if left > 0 => steps.push(Step::Drop(n.min(left))),
                    _ => {
                        inserted.extend((0..n).map(|_| 100 + next(20)));
                        steps.push(Step::Insert(n));
                        continue;
                    }
                }
                left -= match steps.last() {
                    Some(Step::Keep(n) | Step::Drop(n)) => *n,
                    _ => 0,
                };
            }
            // A renumbering (its own inverse) that loses the values 0 and 19 (mapped to NONE).
            let map: Vec<u32> = (0..20).map(|x| if x % 19 == 0 { NONE } else { 19 - x }).collect();
            let mut column = base.clone();
            let mut aside = SetAside::default();
            edit(&mut column, &steps, Some(&map), 0, &inserted, &mut aside);
            assert_eq!(column, made(&base, &steps, &map, &inserted), "{base:?} {steps:?}");
            // Undone as an apply undoes it: the inverse edit, then the values the map lost.
            edit(&mut column, &inverse(&steps), Some(&map), 0, &aside.dropped, &mut SetAside::default());
            for &(row, x) in &aside.lost {
                column[row] = x;
            }
            assert_eq!(column, base, "undone: {steps:?}");
        }
    }

    #[test]
    fn keeps_the_low_bits_and_maps_lists() {
        let mut column = vec![2 << 1 | 1, 3 << 1];
        edit(&mut column, &[Step::Keep(2)], Some(&[0, 0, 7, 9]), 1, &[], &mut SetAside::default());
        assert_eq!(column, [7 << 1 | 1, 9 << 1]);
        let rows = [Step::Keep(1), Step::Drop(1), Step::Insert(2), Step::Keep(1)];
        assert_eq!(
            items(&rows, &[0, 2, 5, 6], &[4, 0]),
            [Step::Keep(2), Step::Drop(3), Step::Insert(4), Step::Keep(1)]
        );
        let mut at = vec![0, 2, 5, 6];
        to_lengths(&mut at);
        assert_eq!(at, [2, 3, 1]);
        to_offsets(&mut at, false);
        assert_eq!(at, [0, 2, 5, 6]);
        let mut none = Vec::new();
        to_offsets(&mut none, true);
        assert!(none.is_empty());
        to_offsets(&mut none, false);
        assert_eq!(none, [0]);
    }
}
