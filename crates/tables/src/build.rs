//! From collected rows to indexed [`Tables`]: resolve references, refuse duplicate
//! pairs, and build the sorted indexes the queries walk.

use crate::error::{SnapshotError, SnapshotProblem};
use crate::intern::Interner;
use crate::strings::{cmp_utf16, Strings, Sym, NONE};
use crate::tables::{range, Authorizations, BySym, Groups, IdpLinks, Members, Tables, Tasks, Users};
use identity_links_text::timestamp::Timestamp;

/// What the loader (`crate::load`) collected, before references are resolved and indexes built:
/// the input of [`build`], so that the loader depends on this module and not the other way round.
#[derive(Default)]
pub struct Raw {
    /// The strings as they are interned (unused by [`index`], which is given them finished).
    pub strings: Interner,
    /// `sequence`.
    pub sequence: u64,
    /// `timestamp`.
    pub timestamp: Timestamp,
    /// Users' columns, in row order (as [`Users`]).
    pub user_id: Vec<Sym>,
    /// See `user_id`.
    pub user_first: Vec<Sym>,
    /// See `user_id`.
    pub user_last: Vec<Sym>,
    /// See `user_id`.
    pub user_org: Vec<Sym>,
    /// Groups' columns, in row order (as [`Groups`]).
    pub group_id: Vec<Sym>,
    /// See `group_id`.
    pub group_name: Vec<Sym>,
    /// Each group's `rank`, or [`NONE`] where it has none.
    pub group_rank: Vec<u32>,
    /// `(userId, groupId)` symbols, in document order.
    pub memberships: Vec<(Sym, Sym)>,
    /// Each membership's `rank`, or [`NONE`] where it has none.
    pub membership_rank: Vec<u32>,
    /// Tasks and their links, as they are kept.
    pub tasks: Tasks,
    /// The owning `userId` symbol of each IdP link.
    pub idp_user: Vec<Sym>,
    /// IdP links' columns, in row order (as [`IdpLinks`]).
    pub idp_id: Vec<Sym>,
    /// See `idp_id`.
    pub idp_provided_id: Vec<Sym>,
    /// See `idp_id`.
    pub idp_provided_name: Vec<Sym>,
    /// `authorizations`: (owner, kind, resourceId, permissions), as [`Authorizations`] keeps them.
    pub authorizations: Vec<(Sym, u32, Sym, u32)>,
    /// `authorizationEnabled`.
    pub authorization_enabled: bool,
    /// `zitadelMembers`: user, org (or [`NONE`]), project (or [`NONE`]), roles.
    pub member_user: Vec<Sym>,
    /// See `member_user`.
    pub member_org: Vec<Sym>,
    /// See `member_user`.
    pub member_project: Vec<Sym>,
    /// See `member_user` (as [`Members`]: empty without rows).
    pub member_roles_at: Vec<u32>,
    /// See `member_user`.
    pub member_roles: Vec<Sym>,
    /// Row by id symbol, filled as ids are read (to find duplicates at once).
    pub user_by_sym: Vec<u32>,
    /// See `user_by_sym`.
    pub group_by_sym: Vec<u32>,
    /// See `user_by_sym`.
    pub task_by_sym: Vec<u32>,
}

/// Resolves, checks and indexes what the loader read.
pub(crate) fn build(mut raw: Raw) -> Result<Tables, SnapshotError> {
    let strings = std::mem::take(&mut raw.strings).finish();
    index(raw, strings)
}

/// Resolves, checks and indexes `raw`'s rows over the finished string table `strings` (`raw`'s
/// own interner is not read): what [`build`] does once the loader's strings are finished. Its
/// by-symbol columns must hold each id's row (filled as the loader fills them: a duplicate id
/// is the caller's to refuse). The users' derived columns are left empty ([`load`]).
///
/// [`load`]: crate::load::load
pub fn index(raw: Raw, strings: Strings) -> Result<Tables, SnapshotError> {
    // Whether each table carries the source's order: for every row or for none.
    let groups_ranked = ranked(&raw.group_rank, "groups")?;
    let memberships_ranked = ranked(&raw.membership_rank, "memberships")?;
    let n_syms = strings.len();
    let column = |mut v: Vec<u32>| {
        v.resize(n_syms, NONE);
        v
    };
    let by_sym = BySym { user: column(raw.user_by_sym), task: column(raw.task_by_sym) };
    let group_by_sym = column(raw.group_by_sym);

    let pairs = resolve_memberships(&raw.memberships, &by_sym, &group_by_sym, &strings)?;
    drop(group_by_sym);
    refuse_duplicate_pairs(pairs.iter().map(|&(u, g)| (u64::from(u) << 32) | u64::from(g)), |first, at| {
        SnapshotError::new(format!("memberships[{at}]"), SnapshotProblem::DuplicateMembership { first })
    })?;
    let idp_user = resolve_idp_users(&raw.idp_user, &by_sym, &strings)?;
    let idp_pairs = raw.idp_id.iter().zip(&raw.idp_provided_id).map(|(&i, &p)| (u64::from(i) << 32) | u64::from(p));
    refuse_duplicate_pairs(idp_pairs, |first, at| {
        SnapshotError::new(format!("idpLinks[{at}]"), SnapshotProblem::DuplicateIdpLink { first })
    })?;

    let n_users = raw.user_id.len();
    let n_groups = raw.group_id.len();
    let user_order = sorted_rows(n_users, &|a, b| cmp_utf16(strings.get(raw.user_id[a]), strings.get(raw.user_id[b])));

    // group -> members (in id order, or the source's).
    let (members_at, members, member_rank) = if memberships_ranked {
        // Memberships by rank, equal ranks by the user's place in id order.
        let mut place = vec![0u32; n_users];
        for (i, &u) in user_order.iter().enumerate() {
            place[u as usize] = i as u32;
        }
        let rank = &raw.membership_rank;
        let order = sorted_rows(pairs.len(), &|a, b| {
            rank[a].cmp(&rank[b]).then_with(|| place[pairs[a].0 as usize].cmp(&place[pairs[b].0 as usize]))
        });
        let by_group = |value: &dyn Fn(usize) -> u32| {
            csr(n_groups, &|entry| order.iter().for_each(|&m| entry(pairs[m as usize].1 as usize, value(m as usize))))
        };
        let (members_at, members) = by_group(&|m| pairs[m].0);
        let (_, member_rank) = by_group(&|m| rank[m]);
        (members_at, members, member_rank)
    } else {
        let (unsorted_at, unsorted) = csr(n_users, &|entry| pairs.iter().for_each(|&(u, g)| entry(u as usize, g)));
        let (members_at, members) = csr(n_groups, &|entry| {
            for &u in &user_order {
                range(&unsorted_at, &unsorted, u as usize).iter().for_each(|&g| entry(g as usize, u));
            }
        });
        (members_at, members, Vec::new())
    };

    let mut tasks = raw.tasks;
    if tasks.links_at.is_empty() {
        tasks.links_at.push(0);
    }
    if tasks.definition.iter().all(|&d| d == NONE) {
        tasks.definition = Vec::new();
    }
    let authz = authorizations(&raw.authorizations, raw.authorization_enabled);
    Ok(Tables {
        strings,
        sequence: raw.sequence,
        timestamp: raw.timestamp,
        users: Users {
            id: raw.user_id,
            first: raw.user_first,
            last: raw.user_last,
            org: raw.user_org,
            ..Users::default()
        },
        groups: Groups {
            id: raw.group_id,
            name: raw.group_name,
            members_at,
            members,
            rank: if groups_ranked { raw.group_rank } else { Vec::new() },
            member_rank,
        },
        tasks,
        idp: IdpLinks {
            user: idp_user,
            idp_id: raw.idp_id,
            provided_id: raw.idp_provided_id,
            provided_name: raw.idp_provided_name,
        },
        authz,
        members: Members {
            user: raw.member_user,
            org: raw.member_org,
            project: raw.member_project,
            roles_at: raw.member_roles_at,
            roles: raw.member_roles,
        },
        by_sym,
    })
}

/// The groups' order (the rows of `ids`, `names` and `ranks`), in which each user's groups are
/// listed: by rank when the snapshot carries ranks (`ranks` not empty), equal ranks by id, as
/// G3 breaks ties; else NULL names first (H2), then by name, then by id (SEMANTICS.md G3).
pub fn group_order(strings: &Strings, ids: &[Sym], names: &[Sym], ranks: &[u32]) -> Vec<u32> {
    let by_id = |a: usize, b: usize| cmp_utf16(strings.get(ids[a]), strings.get(ids[b]));
    if !ranks.is_empty() {
        return sorted_rows(ids.len(), &|a, b| ranks[a].cmp(&ranks[b]).then_with(|| by_id(a, b)));
    }
    sorted_rows(ids.len(), &|a, b| {
        let name = |g: usize| strings.get_opt(names[g]);
        match (name(a), name(b)) {
            (None, Some(_)) => std::cmp::Ordering::Less,
            (Some(_), None) => std::cmp::Ordering::Greater,
            (x, y) => cmp_utf16(x.unwrap_or(""), y.unwrap_or("")).then_with(|| by_id(a, b)),
        }
    })
}

/// The authorization rows sorted by [`Authorizations::key`], and the flag.
pub fn authorizations(rows: &[(Sym, u32, Sym, u32)], enabled: bool) -> Authorizations {
    let key = |i: usize| {
        let (owner, kind, resource, _) = rows[i];
        (owner, kind >> 2, resource, kind & 3)
    };
    let order = sorted_rows(rows.len(), &|a, b| key(a).cmp(&key(b)));
    let column = |f: fn(&(Sym, u32, Sym, u32)) -> u32| order.iter().map(|&i| f(&rows[i as usize])).collect();
    Authorizations {
        owner: column(|r| r.0),
        kind: column(|r| r.1),
        resource: column(|r| r.2),
        perms: column(|r| r.3),
        enabled: if enabled { vec![1] } else { Vec::new() },
    }
}

/// Whether every row of `table` has a rank (`ranks`, [`NONE`] for none); an error at the first
/// row that differs from the first row.
pub fn ranked(ranks: &[u32], table: &'static str) -> Result<bool, SnapshotError> {
    let Some(&first) = ranks.first() else { return Ok(false) };
    let has = first != NONE;
    match ranks.iter().position(|&r| (r != NONE) != has) {
        None => Ok(has),
        Some(row) => {
            let first = if table == "groups" { "groups[0]" } else { "memberships[0]" };
            let problem = SnapshotProblem::PartialRanks { has: !has, first };
            Err(SnapshotError::new(format!("{table}[{row}].rank"), problem))
        }
    }
}

fn resolve_memberships(
    pairs: &[(Sym, Sym)],
    by_sym: &BySym,
    group_by_sym: &[u32],
    strings: &Strings,
) -> Result<Vec<(u32, u32)>, SnapshotError> {
    // Loops rather than collects into a Result, here and below: each such collect adds its own
    // adapter's code to the module.
    let mut rows = Vec::with_capacity(pairs.len());
    for (i, &(user, group)) in pairs.iter().enumerate() {
        let u = BySym::row(&by_sym.user, user).ok_or_else(|| {
            SnapshotError::new(
                format!("memberships[{i}].userId"),
                SnapshotProblem::UnknownUser { id: strings.get(user).to_owned() },
            )
        })?;
        let g = BySym::row(group_by_sym, group).ok_or_else(|| {
            SnapshotError::new(
                format!("memberships[{i}].groupId"),
                SnapshotProblem::UnknownGroup { id: strings.get(group).to_owned() },
            )
        })?;
        rows.push((u as u32, g as u32));
    }
    Ok(rows)
}

fn resolve_idp_users(users: &[Sym], by_sym: &BySym, strings: &Strings) -> Result<Vec<u32>, SnapshotError> {
    let mut rows = Vec::with_capacity(users.len());
    for (i, &user) in users.iter().enumerate() {
        let u = BySym::row(&by_sym.user, user).ok_or_else(|| {
            SnapshotError::new(
                format!("idpLinks[{i}].userId"),
                SnapshotProblem::UnknownUser { id: strings.get(user).to_owned() },
            )
        })?;
        rows.push(u as u32);
    }
    Ok(rows)
}

/// Refuses the first row (in row order) whose key an earlier row already has: rows go into an
/// open-addressing table of keys in row order, and the first key found there already is it.
/// (No sort: one pass, and the wasm module keeps a single sort's code, `sorted_rows`'.)
fn refuse_duplicate_pairs(
    keys: impl ExactSizeIterator<Item = u64>,
    error: impl Fn(usize, usize) -> SnapshotError,
) -> Result<(), SnapshotError> {
    // Keys are two u32 row or symbol numbers below 2^31: never EMPTY.
    const EMPTY: u64 = u64::MAX;
    let mask = (2 * keys.len()).next_power_of_two().max(2) - 1;
    let mut table: Vec<(u64, u32)> = vec![(EMPTY, 0); mask + 1];
    for (row, key) in keys.enumerate() {
        // Fibonacci hashing: the product's high bits depend on every bit of the key.
        let mut slot = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask;
        // The table is at most half full: the probe meets an empty slot.
        while table[slot].0 != EMPTY {
            if table[slot].0 == key {
                return Err(error(table[slot].1 as usize, row));
            }
            slot = (slot + 1) & mask;
        }
        table[slot] = (key, row as u32);
    }
    Ok(())
}

/// Row numbers `0..n` sorted by `cmp`, which must order rows totally (ids are unique, so any
/// sort gives the one order). A bottom-up merge sort of our own: std's sorts, built at this
/// crate's `opt-level = 3`, add 3–7 KB to the module (docs/decisions/0002); this one is a few
/// hundred bytes and makes as many comparisons (n log n), which are what costs here.
fn sorted_rows(n: usize, cmp: &dyn Fn(usize, usize) -> std::cmp::Ordering) -> Vec<u32> {
    let mut rows: Vec<u32> = (0..n as u32).collect();
    let mut other = vec![0u32; n];
    let mut width = 1;
    while width < n {
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut i, mut j) = (start, mid);
            for slot in &mut other[start..end] {
                let take_left = j >= end || (i < mid && cmp(rows[i] as usize, rows[j] as usize).is_le());
                if take_left {
                    *slot = rows[i];
                    i += 1;
                } else {
                    *slot = rows[j];
                    j += 1;
                }
            }
        }
        std::mem::swap(&mut rows, &mut other);
        width *= 2;
    }
    rows
}

/// Gives each (key, value) of an index to the function it is called with ([`csr`]).
pub type Entries<'a> = &'a dyn Fn(&mut dyn FnMut(usize, u32));

/// A compressed sparse row index: for each of `n` keys, its values in the order given.
/// `entries` gives each (key, value) to the function it is called with; it is called twice,
/// to count and to fill. One instance for every index of the module, rather than one per
/// iterator type (docs/decisions/0002).
pub fn csr(n: usize, entries: Entries) -> (Vec<u32>, Vec<u32>) {
    let (mut at, mut values) = (Vec::new(), Vec::new());
    csr_into(n, entries, &mut at, &mut values);
    (at, values)
}

/// [`csr`] made in `at` and `values`' own memory ([`refill`]): a delta's apply makes its
/// users' lists again where they were, rather than in new blocks beside the old.
pub fn csr_into(n: usize, entries: Entries, at: &mut Vec<u32>, values: &mut Vec<u32>) {
    refill(at, n + 1, 0);
    entries(&mut |k, _| at[k + 1] += 1);
    for i in 0..n {
        at[i + 1] += at[i];
    }
    let mut fill = at.clone();
    refill(values, at[n] as usize, 0);
    entries(&mut |k, v| {
        values[fill[k] as usize] = v;
        fill[k] += 1;
    });
}

/// Makes `v` `n` copies of `x` in its own memory, or, when that is too small or more than a 16th
/// larger than [`room`] for `n` (a delta that shortened it), in a block of that room (not the
/// double a growing vector asks for).
pub fn refill(v: &mut Vec<u32>, n: usize, x: u32) {
    v.clear();
    if n > v.capacity() || v.capacity() > room(n) + n / 16 {
        *v = Vec::with_capacity(room(n));
    }
    v.resize(n, x);
}

/// The room to give a vector of `n` items: `n` rounded up to a multiple of a power of two of at
/// least a 64th of it (at least 64), so that the applies of a chain ask the allocator for the
/// same sizes, and reuse what the last one gave back, instead of fragmenting memory with sizes a
/// few items apart. (The room past `n` is anywhere below that step: none for a multiple of it.)
pub fn room(n: usize) -> usize {
    let step = (n / 64).max(64).next_power_of_two();
    n.div_ceil(step) * step
}

#[cfg(test)]
mod tests {
    use super::sorted_rows;

    #[test]
    fn sorted_rows_orders_every_length_as_a_sort_does() {
        // Lengths around the merge passes' widths, keys with many equal values broken by row.
        let mut seed = 7u32;
        for n in (0..70).chain([127, 128, 129, 1000]) {
            let keys: Vec<u32> = (0..n)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (seed >> 16) % 13
                })
                .collect();
            let rows = sorted_rows(n, &|a, b| keys[a].cmp(&keys[b]).then(a.cmp(&b)));
            let mut want: Vec<u32> = (0..n as u32).collect();
            want.sort_by_key(|&r| (keys[r as usize], r));
            assert_eq!(rows, want, "{n} rows");
        }
    }
}
