//! The iteration order of a `java.util.HashSet`, reproduced (SEMANTICS.md G5).
//!
//! Camunda collects `groupUsers` in a `HashSet<UserDto>` and Jackson writes its iteration order,
//! so the answer's order is `java.util.HashMap`'s bucket order. This is that table's algorithm:
//! 16 buckets to start, doubling when the size exceeds 0.75 × buckets, and also when an insertion
//! makes a bucket hold 9 or more entries while there are fewer than 64 buckets (Java's treeify
//! threshold resizes small tables instead). Each bucket keeps insertion order: Java appends at
//! the tail and splits buckets in order when resizing. (Java would turn a 9+ bucket of a 64+
//! table into a tree ordered by identity hash codes, which not even Java can reproduce; there
//! insertion order is kept.)

use identity_links_tables::strings::NONE;

const TREEIFY_THRESHOLD: usize = 9;
const MIN_TREEIFY_CAPACITY: usize = 64;

/// A set of keys (`u32`, compared by value) with their Java hash codes.
pub struct JavaHashSet {
    heads: Vec<u32>,
    tails: Vec<u32>,
    next: Vec<u32>,
    keys: Vec<u32>,
    spreads: Vec<u32>,
}

impl Default for JavaHashSet {
    fn default() -> Self {
        Self::new()
    }
}

impl JavaHashSet {
    /// An empty set (Java allocates its 16 buckets on the first insertion; no difference here).
    pub fn new() -> Self {
        JavaHashSet {
            heads: vec![NONE; 16],
            tails: vec![NONE; 16],
            next: Vec::new(),
            keys: Vec::new(),
            spreads: Vec::new(),
        }
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Adds `key` with Java hash code `hash` unless present (`HashSet.add`).
    pub fn insert(&mut self, key: u32, hash: i32) {
        let h = hash as u32;
        let spread = h ^ (h >> 16);
        let bucket = (spread as usize) & (self.heads.len() - 1);
        let mut chain = 0;
        let mut at = self.heads[bucket];
        while at != NONE {
            if self.keys[at as usize] == key {
                return;
            }
            chain += 1;
            at = self.next[at as usize];
        }
        let entry = self.keys.len() as u32;
        self.keys.push(key);
        self.spreads.push(spread);
        self.next.push(NONE);
        self.append(bucket, entry);
        if chain + 1 >= TREEIFY_THRESHOLD && self.heads.len() < MIN_TREEIFY_CAPACITY {
            self.resize();
        }
        if self.keys.len() > self.heads.len() / 4 * 3 {
            self.resize();
        }
    }

    fn append(&mut self, bucket: usize, entry: u32) {
        match self.tails[bucket] {
            NONE => self.heads[bucket] = entry,
            tail => self.next[tail as usize] = entry,
        }
        self.tails[bucket] = entry;
    }

    fn resize(&mut self) {
        let size = self.heads.len() * 2;
        self.heads = vec![NONE; size];
        self.tails = vec![NONE; size];
        for entry in 0..self.keys.len() {
            self.next[entry] = NONE;
            self.append((self.spreads[entry] as usize) & (size - 1), entry as u32);
        }
    }

    /// The keys in Java's iteration order: bucket by bucket, each in insertion order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.heads.iter().flat_map(move |&head| {
            std::iter::successors((head != NONE).then_some(head), move |&e| {
                let n = self.next[e as usize];
                (n != NONE).then_some(n)
            })
            .map(move |e| self.keys[e as usize])
        })
    }

    /// How many buckets the table has now (for tests).
    pub fn buckets(&self) -> usize {
        self.heads.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_at_three_quarters() {
        let mut set = JavaHashSet::new();
        for k in 0..12 {
            set.insert(k, k as i32);
        }
        assert_eq!(set.buckets(), 16);
        set.insert(12, 12);
        assert_eq!(set.buckets(), 32);
        set.insert(12, 12);
        assert_eq!(set.len(), 13);
    }

    #[test]
    fn a_crowded_bucket_resizes_a_small_table() {
        // Hashes 0, 64, 128, ... all land in bucket 0 of 16, 32 and 64 buckets.
        let mut set = JavaHashSet::new();
        for k in 0..8 {
            set.insert(k, (k * 64) as i32);
        }
        assert_eq!(set.buckets(), 16);
        set.insert(8, 8 * 64);
        assert_eq!(set.buckets(), 32);
        set.insert(9, 9 * 64);
        assert_eq!(set.buckets(), 64);
        set.insert(10, 10 * 64);
        assert_eq!(set.buckets(), 64, "tables of 64+ buckets treeify instead of resizing");
        assert_eq!(set.iter().collect::<Vec<_>>(), (0..11).collect::<Vec<_>>());
    }

    #[test]
    fn iterates_bucket_by_bucket() {
        let mut set = JavaHashSet::new();
        set.insert(1, 17);
        set.insert(2, 1);
        set.insert(3, 0);
        set.insert(4, 0x10000);
        // spread(0x10000) = 0x10001 -> bucket 1; 17 -> bucket 1; 1 -> bucket 1; 0 -> bucket 0.
        assert_eq!(set.iter().collect::<Vec<_>>(), vec![3, 1, 2, 4]);
    }
}
