//! A delta's edit of the strings, made in the base's own text: the strings that stay are moved
//! (left over those dropped, then right to make room for those inserted) instead of the whole
//! text being copied into a new one. The text is a snapshot's largest column (18 MB of a 1M-link
//! snapshot's 52), so an apply holds it once instead of twice.
//!
//! The base keeps its strings' ends, and [`Edited`] the dropped strings' text, so that a
//! refused delta can put the base's text back ([`Edited::restore`]).

use super::apply::{fit, room};
use super::delta::{edit, Edit, Words, MOVED};
use identity_links_tables::strings::{Strings, Sym, NONE};

/// Marks, in [`Edited::map`] while the edit is made, a string of the base that moved (inserted
/// elsewhere, not kept in place). New symbols stay below 2^31, so it is never part of one.
const MOVES: u32 = 1 << 31;

/// What an edit of the strings leaves besides the new table.
pub(super) struct Edited {
    /// The new symbol of each of the base's strings, or [`NONE`] for those dropped.
    pub(super) map: Vec<Sym>,
    /// The text of the dropped strings, in the base's order.
    dropped: Vec<u8>,
}

/// Reads the strings' edit from `delta` and makes it in `old`'s text, which it takes: the new
/// string table (its ends given room for as many as `more`, the delta's size in words, can add)
/// and [`Edited`]; `old` keeps its ends. Why not, when the edit does not make a table: `old` is
/// then untouched.
pub(super) fn edit_strings(old: &mut Strings, delta: &mut Words, more: usize) -> Result<(Strings, Edited), String> {
    let n_old = old.len();
    // Each new string's end, given room for up to an eighth more. The map, the old ends (an
    // earlier apply's, let go at the end) and the groups' column the version writes have that
    // size too, so that each apply's large blocks fit in one another's places (decision 0020).
    let size = room(n_old + more.min(n_old / 8 + 64));
    let mut ends = Vec::<u32>::with_capacity(size);
    let mut map = Vec::with_capacity(size);
    map.resize(n_old, NONE);
    // The new strings that are not kept in place, and their text.
    let (mut placed, mut side) = (Vec::<u32>::new(), Vec::<u8>::new());
    let mut total = 0usize;
    let source: &Strings = old;
    // The next string ends `len` bytes after the last.
    let end = |ends: &mut Vec<u32>, total: &mut usize, len: usize| -> Result<(), String> {
        *total += len;
        ends.push(u32::try_from(*total).map_err(|_| "the string table is full")?);
        Ok(())
    };
    edit(delta, n_old, &mut |edit, delta| {
        match edit {
            Edit::Keep(run) => {
                for a in run {
                    if map[a] != NONE {
                        return Err("a string is there twice".into());
                    }
                    map[a] = ends.len() as u32;
                    end(&mut ends, &mut total, source.bytes_of(a as Sym).len())?;
                }
            }
            Edit::Insert => {
                let (b, word, start) = (ends.len() as u32, delta.word()?, side.len());
                if word & MOVED != 0 {
                    // One of the base's strings, moved here.
                    let a = (word & !MOVED) as usize;
                    match map.get(a) {
                        Some(&NONE) => map[a] = b | MOVES,
                        _ => return Err("a moved string is not the base's, or there twice".into()),
                    }
                    side.extend_from_slice(source.bytes_of(a as Sym));
                } else {
                    let len = word as usize;
                    side.extend(delta.take(len.div_ceil(4))?.iter().flat_map(|w| w.to_le_bytes()));
                    side.truncate(start + len);
                    std::str::from_utf8(&side[start..]).map_err(|_| "a string is not UTF-8")?;
                }
                placed.push(b);
                end(&mut ends, &mut total, side.len() - start)?;
            }
        }
        Ok(())
    })?;
    if ends.len() >= 1 << 31 {
        return Err("the string table is full".into());
    }
    // From here nothing fails. The strings that stay, packed to the left in order, a run of them
    // at a time (the dropped ones' text set aside); those that moved are in `side` already.
    let mut text = std::mem::take(&mut old.text).into_bytes();
    let (mut packed, mut start, mut run, mut dropped) = (0, 0, 0, Vec::new());
    for (a, &end) in old.ends.iter().enumerate() {
        let end = end as usize;
        let m = map[a];
        if m == NONE || m & MOVES != 0 {
            text.copy_within(run..start, packed);
            packed += start - run;
            if m == NONE {
                dropped.extend_from_slice(&text[start..end]);
            } else {
                map[a] = m & !MOVES;
            }
            run = end;
        }
        start = end;
    }
    text.copy_within(run..start, packed);
    packed += start - run;
    // Then spread to the right from the end, inserted string by inserted string, the run of
    // strings that stay after each moved right by what is inserted before it (those before the
    // first insertion are in place already).
    if total > text.capacity() {
        text.reserve_exact(room(total) - text.len());
    }
    text.resize(total, 0);
    let (mut upto, mut side_end) = (total, side.len());
    for &b in placed.iter().rev() {
        let (b, end) = (b as usize, ends[b as usize] as usize);
        let start = b.checked_sub(1).map_or(0, |p| ends[p] as usize);
        let stays = upto - end;
        text.copy_within(packed - stays..packed, end);
        text[start..end].copy_from_slice(&side[side_end - (end - start)..side_end]);
        (packed, side_end, upto) = (packed - stays, side_end - (end - start), start);
    }
    // Room no longer needed given back (a delta that shortens the text a lot).
    fit(&mut text);
    fit(&mut ends);
    // Whole strings at their places: UTF-8 (checked once more, as every `String` is made).
    let text = String::from_utf8(text).unwrap_or_default();
    let slots = std::mem::take(&mut old.slots);
    Ok((Strings::reindexed(text, ends, slots), Edited { map, dropped }))
}

impl Edited {
    /// The base's text again, into `old` (whose ends are the base's): each string from the new
    /// table `new` where it stayed or moved, from the dropped ones' text where it went.
    pub(super) fn restore(&self, old: &mut Strings, new: &Strings) {
        let mut text = Vec::with_capacity(new.text.len() + self.dropped.len());
        let (mut start, mut taken) = (0, 0);
        for (&end, &b) in old.ends.iter().zip(&self.map) {
            let len = end as usize - start;
            start = end as usize;
            if b == NONE {
                text.extend_from_slice(self.dropped.get(taken..taken + len).unwrap_or_default());
                taken += len;
            } else {
                text.extend_from_slice(new.bytes_of(b));
            }
        }
        // No more room than an apply gives (a refused delta that lengthened the text a lot).
        fit(&mut text);
        // The base's own bytes, in its order: UTF-8.
        old.text = String::from_utf8(text).unwrap_or_default();
    }
}
