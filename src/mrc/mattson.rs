//! Exact LRU stack distances in one pass (Mattson, Gecsei, Slutz and
//! Traiger, "Evaluation techniques for storage hierarchies", IBM Systems
//! Journal 9(2), 1970).
//!
//! LRU has the inclusion property: a cache of `c` objects holds exactly the
//! `c` most recently used keys, so a get hits at every capacity of at least
//! its *stack distance* (1 + the number of distinct keys requested since the
//! key's previous request). One pass that records the histogram of stack
//! distances therefore gives the hit ratio at every capacity at once.
//!
//! Distances are counted with a Fenwick tree (binary indexed tree) over
//! access times: each resident key has a 1 at the time of its last access,
//! so the distance of a key last seen at time `p` is 1 + the number of ones
//! after `p`, an O(log n) prefix sum. Times grow without bound, so when the
//! tree is full it is *compacted*: the live ones are renumbered 0..k by rank
//! (their order is all that matters) and the tree is rebuilt with room for
//! at least 2k, which keeps memory O(distinct keys) and the cost amortised
//! O(log n) per request.
//!
//! Sets are uses that are not counted (an LRU write moves the key to the
//! most recent end, as a get does); deletes remove the key from the stack.
//! With deletes the inclusion property no longer holds exactly (a delete
//! frees a slot in small caches only), so the curve of a trace with deletes
//! is an approximation of the replay; `mrc --compare` shows by how much.

use crate::request::Key;
use rustc_hash::FxHashMap;

/// Smallest tree, so tiny streams do not compact all the time.
const MIN_SLOTS: usize = 1 << 12;

/// LRU stack distances, one key at a time.
#[derive(Debug, Clone)]
pub struct StackDistances {
    /// Fenwick tree, 1-based: `tree[i]` counts the ones in
    /// `(i - lowbit(i), i]`; position `p` (from 0) is index `p + 1`.
    tree: Vec<u32>,
    /// Each resident key's last access position.
    last: FxHashMap<Key, u32>,
    /// Next position to hand out.
    cursor: usize,
}

impl Default for StackDistances {
    fn default() -> Self {
        StackDistances::new()
    }
}

impl StackDistances {
    pub fn new() -> StackDistances {
        StackDistances {
            tree: vec![0; MIN_SLOTS + 1],
            last: FxHashMap::default(),
            cursor: 0,
        }
    }

    /// Keys on the stack.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// Bytes held (tree and index), for reporting memory.
    pub fn heap_bytes(&self) -> usize {
        self.tree.capacity() * 4 + self.last.capacity() * (8 + 4 + 1)
    }

    #[inline]
    fn slots(&self) -> usize {
        self.tree.len() - 1
    }

    /// Ones at positions `0..=p`.
    #[inline]
    fn prefix(&self, p: u32) -> u32 {
        let mut i = p as usize + 1;
        let mut s = 0;
        while i > 0 {
            s += self.tree[i];
            i &= i - 1;
        }
        s
    }

    #[inline]
    fn add(&mut self, p: usize, up: bool) {
        let n = self.tree.len();
        let mut i = p + 1;
        while i < n {
            if up {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += i & i.wrapping_neg();
        }
    }

    /// Requests `key`: returns its stack distance (1 = it was the most
    /// recent key), or `None` the first time (or first since a removal),
    /// and moves it to the top of the stack.
    #[inline]
    pub fn access(&mut self, key: Key) -> Option<u64> {
        if self.cursor == self.slots() {
            self.compact();
        }
        let now = self.cursor;
        self.cursor += 1;
        let live = self.last.len() as u32;
        let prev = match self.last.entry(key) {
            std::collections::hash_map::Entry::Occupied(mut e) => Some(e.insert(now as u32)),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(now as u32);
                None
            }
        };
        let d = prev.map(|p| {
            let d = u64::from(live - self.prefix(p)) + 1;
            self.add(p as usize, false);
            d
        });
        self.add(now, true);
        d
    }

    /// Removes `key` from the stack (a delete); returns whether it was there.
    pub fn remove(&mut self, key: Key) -> bool {
        match self.last.remove(&key) {
            Some(p) => {
                self.add(p as usize, false);
                true
            }
            None => false,
        }
    }

    /// Renumbers the live positions 0..k by rank and rebuilds the tree with
    /// room for at least 2k (the next compaction is k accesses away).
    fn compact(&mut self) {
        let live = self.last.len();
        let ranks: Vec<u32> = self.last.values().map(|&p| self.prefix(p) - 1).collect();
        for (v, r) in self.last.values_mut().zip(ranks) {
            *v = r;
        }
        let n = (2 * live).max(MIN_SLOTS).next_power_of_two();
        let mut t = vec![0u32; n + 1];
        for x in t.iter_mut().skip(1).take(live) {
            *x = 1;
        }
        for i in 1..=n {
            let j = i + (i & i.wrapping_neg());
            if j <= n {
                t[j] += t[i];
            }
        }
        self.tree = t;
        self.cursor = live;
    }
}

/// The histogram of stack distances of gets: `hist[d]` gets at distance `d`
/// (index 0 unused), `cold` gets of keys not on the stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    pub hist: Vec<u64>,
    pub cold: u64,
}

impl Histogram {
    #[inline]
    pub fn record(&mut self, d: Option<u64>) {
        match d {
            Some(d) => {
                let d = d as usize;
                if d >= self.hist.len() {
                    let n = (d + 1).max(self.hist.len() * 2);
                    self.hist.resize(n, 0);
                }
                self.hist[d] += 1;
            }
            None => self.cold += 1,
        }
    }

    pub fn gets(&self) -> u64 {
        self.cold + self.hist.iter().sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distances by brute force: a Vec as the stack.
    fn naive(keys: &[u64]) -> Vec<Option<u64>> {
        let mut stack: Vec<u64> = Vec::new();
        keys.iter()
            .map(|k| {
                let d = stack
                    .iter()
                    .rev()
                    .position(|x| x == k)
                    .map(|i| i as u64 + 1);
                stack.retain(|x| x != k);
                stack.push(*k);
                d
            })
            .collect()
    }

    #[test]
    fn hand_worked_distances() {
        let mut s = StackDistances::new();
        let got: Vec<_> = [1, 2, 1, 3, 2, 2]
            .into_iter()
            .map(|k| s.access(k))
            .collect();
        assert_eq!(got, [None, None, Some(2), None, Some(3), Some(1)]);
    }

    #[test]
    fn matches_brute_force_across_compactions() {
        // More accesses than MIN_SLOTS so the tree compacts several times.
        let mut rng = crate::rng::SimRng::new(7);
        let keys: Vec<u64> = (0..20_000)
            .map(|i| {
                if i % 3 == 0 {
                    rng.below(50)
                } else {
                    rng.below(3000)
                }
            })
            .collect();
        let mut s = StackDistances::new();
        let got: Vec<_> = keys.iter().map(|&k| s.access(k)).collect();
        assert_eq!(got, naive(&keys));
        assert!(s.slots() <= (2 * s.len()).max(MIN_SLOTS).next_power_of_two());
    }

    #[test]
    fn remove_takes_the_key_off_the_stack() {
        let mut s = StackDistances::new();
        for k in [1, 2, 3] {
            s.access(k);
        }
        assert!(s.remove(2));
        assert!(!s.remove(2));
        assert_eq!(s.access(1), Some(2));
        assert_eq!(s.access(2), None);
    }
}
