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
//! after `p`, an O(log n) prefix sum (the tree is over 512-bit blocks of a
//! bitmap, see [`StackDistances`], to keep it in cache). Times grow without bound, so when the
//! tree is full it is *compacted*: the live ones are renumbered 0..k by rank
//! (their order is all that matters) and the tree is rebuilt with room for
//! at least 8k (one bit each), which keeps memory O(distinct keys) and the cost amortised
//! O(log n) per request.
//!
//! Sets are uses that are not counted (an LRU write moves the key to the
//! most recent end, as a get does); deletes remove the key from the stack.
//! With deletes the inclusion property no longer holds exactly (a delete
//! frees a slot in small caches only), so the curve of a trace with deletes
//! is an approximation of the replay; `mrc --compare` shows by how much.

use crate::request::Key;

/// Positions per block: 512 bits, one 64-byte cache line of bitmap.
const BLOCK: usize = 512;
const WORDS: usize = BLOCK / 64;

/// Smallest number of positions, so tiny streams do not compact all the time.
const MIN_SLOTS: usize = 1 << 12;

/// LRU stack distances, one key at a time.
///
/// The "Fenwick tree over last-access times" is two-level so that it stays
/// in cache: a bitmap with one bit per position (a 1 at each resident key's
/// last access), cut into blocks of 512 bits (one cache line), and a Fenwick
/// tree over the blocks' counts (4 bytes per 512 positions: 64 KiB for 8M
/// positions). A prefix count is a Fenwick prefix over whole blocks plus a
/// popcount inside one cache line; an update flips one bit and walks the
/// small tree. Asymptotically the same O(log n), but about one cache miss
/// per request instead of one per tree level.
#[derive(Debug, Clone)]
pub struct StackDistances {
    /// One bit per position.
    bits: Vec<u64>,
    /// Fenwick tree over block counts, 1-based: `tree[i]` counts the ones
    /// in blocks `(i - lowbit(i), i]`; block `b` (from 0) is index `b + 1`.
    tree: Vec<u32>,
    /// Each resident key's last access position.
    last: KeyPos,
    /// Next position to hand out.
    cursor: usize,
}

impl Default for StackDistances {
    fn default() -> Self {
        StackDistances::new()
    }
}

impl StackDistances {
    /// An empty stack.
    pub fn new() -> StackDistances {
        let mut s = StackDistances {
            bits: Vec::new(),
            tree: Vec::new(),
            last: KeyPos::new(),
            cursor: 0,
        };
        s.rebuild(MIN_SLOTS, 0);
        s
    }

    /// Keys on the stack.
    pub fn len(&self) -> usize {
        self.last.len()
    }

    /// Whether no key is on the stack yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    #[inline]
    fn slots(&self) -> usize {
        self.bits.len() * 64
    }

    /// Ones at positions `0..=p`.
    #[inline]
    fn prefix(&self, p: u32) -> u32 {
        let p = p as usize;
        let block = p / BLOCK;
        let mut s = 0u32;
        let mut i = block;
        while i > 0 {
            s += self.tree[i];
            i &= i - 1;
        }
        let w = p / 64;
        for word in &self.bits[block * WORDS..w] {
            s += word.count_ones();
        }
        let bit = p % 64;
        let mask = if bit == 63 {
            u64::MAX
        } else {
            (1u64 << (bit + 1)) - 1
        };
        s + (self.bits[w] & mask).count_ones()
    }

    #[inline]
    fn add(&mut self, p: usize, up: bool) {
        let bit = 1u64 << (p % 64);
        let n = self.tree.len();
        let mut i = p / BLOCK + 1;
        if up {
            self.bits[p / 64] |= bit;
            while i < n {
                self.tree[i] += 1;
                i += i & i.wrapping_neg();
            }
        } else {
            self.bits[p / 64] &= !bit;
            while i < n {
                self.tree[i] -= 1;
                i += i & i.wrapping_neg();
            }
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
        let prev = self.last.put(key, now as u32);
        let d = prev.map(|p| {
            let d = u64::from(live - self.prefix(p)) + 1;
            self.add(p as usize, false);
            d
        });
        self.add(now, true);
        d
    }

    /// [`access`](Self::access) for each key in order, calling `out` with
    /// each distance. Same results; faster on large working sets: keys are
    /// taken in groups whose index slots and bitmap words are read first,
    /// all independent loads, so their cache misses overlap instead of
    /// coming one after the other (software prefetching without `unsafe`).
    pub fn access_all(&mut self, keys: &[Key], mut out: impl FnMut(Option<u64>)) {
        const GROUP: usize = 16;
        for group in keys.chunks(GROUP) {
            let mut warm = 0u64;
            for &k in group {
                let s = self.last.slots[self.last.home(k)];
                let w = if s.pos != EMPTY && s.key == k {
                    s.pos as usize / 64
                } else {
                    0
                };
                warm ^= self.bits.get(w).copied().unwrap_or(0);
            }
            std::hint::black_box(warm);
            for &k in group {
                out(self.access(k));
            }
        }
    }

    /// Removes `key` from the stack (a delete); returns whether it was there.
    pub fn remove(&mut self, key: Key) -> bool {
        match self.last.remove(key) {
            Some(p) => {
                self.add(p as usize, false);
                true
            }
            None => false,
        }
    }

    /// Renumbers the live positions 0..k by rank and rebuilds with room for
    /// at least 8k bits (the next compaction is 7k accesses away).
    fn compact(&mut self) {
        let live = self.last.len();
        let mut last = std::mem::take(&mut self.last);
        last.for_each_pos(|p| self.prefix(p) - 1);
        self.last = last;
        self.rebuild((8 * live).max(MIN_SLOTS), live);
    }

    /// Makes room for at least `slots` positions with ones at `0..live`.
    fn rebuild(&mut self, slots: usize, live: usize) {
        let blocks = slots.div_ceil(BLOCK).next_power_of_two();
        let mut bits = vec![0u64; blocks * WORDS];
        for (i, w) in bits.iter_mut().enumerate().take(live.div_ceil(64)) {
            let ones = (live - i * 64).min(64);
            *w = if ones == 64 {
                u64::MAX
            } else {
                (1u64 << ones) - 1
            };
        }
        let mut tree = vec![0u32; blocks + 1];
        for b in 0..blocks {
            tree[b + 1] = (live.saturating_sub(b * BLOCK)).min(BLOCK) as u32;
        }
        for i in 1..=blocks {
            let j = i + (i & i.wrapping_neg());
            if j <= blocks {
                tree[j] += tree[i];
            }
        }
        self.bits = bits;
        self.tree = tree;
        self.cursor = live;
    }
}

/// Key -> last access position: open addressing with linear probing and
/// backward-shift deletion, key and position side by side so that a lookup
/// is one cache line (a general hash map keeps control bytes and entries
/// apart: two misses per lookup once the table outgrows the cache, which is
/// what bounds the exact pass). Slots are picked by the high bits of the
/// SplitMix64 finaliser of the key.
#[derive(Debug, Clone, Default)]
struct KeyPos {
    slots: Vec<Slot>,
    len: usize,
    /// 64 - log2(slots.len()).
    shift: u32,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Key,
    /// `EMPTY` for a free slot.
    pos: u32,
}

const EMPTY: u32 = u32::MAX;

impl KeyPos {
    fn new() -> KeyPos {
        KeyPos::with_slots(1 << 10)
    }

    fn with_slots(n: usize) -> KeyPos {
        KeyPos {
            slots: vec![Slot { key: 0, pos: EMPTY }; n],
            len: 0,
            shift: 64 - n.trailing_zeros(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn home(&self, key: Key) -> usize {
        (crate::rng::splitmix(key) >> self.shift) as usize
    }

    /// Sets `key`'s position; returns the previous one.
    #[inline]
    fn put(&mut self, key: Key, pos: u32) -> Option<u32> {
        if (self.len + 1) * 5 > self.slots.len() * 4 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = &mut self.slots[i];
            if s.pos == EMPTY {
                *s = Slot { key, pos };
                self.len += 1;
                return None;
            }
            if s.key == key {
                return Some(std::mem::replace(&mut s.pos, pos));
            }
            i = (i + 1) & mask;
        }
    }

    fn remove(&mut self, key: Key) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let s = self.slots[i];
            if s.pos == EMPTY {
                return None;
            }
            if s.key == key {
                break;
            }
            i = (i + 1) & mask;
        }
        let old = self.slots[i].pos;
        self.slots[i].pos = EMPTY;
        self.len -= 1;
        // Backward shift: pull later entries of the run into the hole when
        // their home is not in (hole, j].
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s.pos == EMPTY {
                break;
            }
            let h = self.home(s.key);
            let stays = if hole <= j {
                hole < h && h <= j
            } else {
                hole < h || h <= j
            };
            if !stays {
                self.slots[hole] = s;
                self.slots[j].pos = EMPTY;
                hole = j;
            }
        }
        Some(old)
    }

    fn grow(&mut self) {
        let old = std::mem::replace(self, KeyPos::with_slots(self.slots.len() * 2));
        for s in old.slots.into_iter().filter(|s| s.pos != EMPTY) {
            self.put(s.key, s.pos);
        }
    }

    /// Replaces every position `p` by `f(p)`.
    fn for_each_pos(&mut self, mut f: impl FnMut(u32) -> u32) {
        for s in self.slots.iter_mut().filter(|s| s.pos != EMPTY) {
            s.pos = f(s.pos);
        }
    }
}

/// The histogram of stack distances of gets: `hist[d]` gets at distance `d`
/// (index 0 unused), `cold` gets of keys not on the stack.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    /// `hist[d]`: gets at stack distance `d` (index 0 unused).
    pub hist: Vec<u64>,
    /// Gets of keys not on the stack (first accesses).
    pub cold: u64,
}

impl Histogram {
    /// Counts one get at distance `d`; `None` counts a cold get.
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

    /// Gets counted, cold ones included.
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
        assert!(s.slots() <= 2 * (8 * s.len()).max(MIN_SLOTS) + BLOCK);
    }

    #[test]
    fn key_index_matches_a_hashmap_under_churn() {
        let mut k = KeyPos::new();
        let mut m = std::collections::HashMap::new();
        let mut rng = crate::rng::SimRng::new(3);
        for i in 0..50_000u32 {
            let key = rng.below(3000);
            if rng.below(4) == 0 {
                assert_eq!(k.remove(key), m.remove(&key));
            } else {
                assert_eq!(k.put(key, i), m.insert(key, i));
            }
            assert_eq!(k.len(), m.len());
        }
        for (key, v) in &m {
            assert_eq!(k.put(*key, 0), Some(*v));
        }
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
