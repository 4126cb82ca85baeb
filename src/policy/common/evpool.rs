//! The machinery of Redis's sampled eviction, shared by `sampled-lru`,
//! `sampled-lfu` and `sampled-random`: the resident keys in an array that
//! gives a uniform random key, or a sample of distinct keys, in O(1) per key
//! ([`Resident`]), and Redis's eviction pool ([`EvictionPool`]).
//!
//! Redis (7.0, `src/evict.c`, `evictionPoolPopulate` and `performEvictions`)
//! evicts under `allkeys-lru` and `allkeys-lfu` as follows, and so does
//! [`PoolCache::make_room`]:
//! - it samples `maxmemory-samples` distinct keys (`dictGetSomeKeys`);
//! - each sampled key is offered to a pool of 16 entries kept in ascending
//!   order of score (idle time, or 255 - frequency), each entry holding the
//!   key's name and its score *as it was when sampled*; the pool lives across
//!   evictions and its scores are never refreshed;
//! - a key goes in front of the first entry whose score is greater than *or
//!   equal to* its own, so among equal scores the entry offered earliest is
//!   nearest the evicting end; into a full pool it goes only if it beats
//!   the lowest entry, which then drops out;
//! - keys already in the pool are not looked for: a key sampled twice holds
//!   two entries;
//! - the victim is the highest-scoring entry; entries are taken from that
//!   end, and one whose key is no longer resident (evicted through another
//!   entry, or removed) is dropped and the next one tried; a pool emptied so
//!   is populated again.
//!
//! Where the model differs from Redis: Redis's sample is keys of
//! consecutive hash-table buckets from a random start, the model's a
//! uniform sample of distinct resident keys in random order (the hash of a
//! key is independent of its recency and frequency, so both are random
//! subsets as far as the policy can tell); and Redis evicts when the
//! *next* command starts, with the key just written among the candidates,
//! the model before admitting it (every strategy here finds a key just
//! inserted on the next request; with 5 samples out of hundreds of keys,
//! the new key is seldom sampled, and its score, idle 0 or counter 5,
//! would rarely make it the victim).

use super::LinkedSlab;
use crate::policy::{Params, SpecError};
use crate::request::Key;
use crate::rng::SimRng;

/// Entries of Redis's eviction pool (`EVPOOL_SIZE`).
pub(crate) const EVPOOL_SIZE: usize = 16;

#[derive(Debug, Clone, Copy)]
struct Entry<M> {
    charge: u32,
    /// Index in [`Resident::slots`].
    pos: u32,
    meta: M,
}

/// The resident keys with their metadata `M` (an LRU clock, an LFU
/// counter): a key index for lookups, and the keys in an array (a removed
/// key's place is taken by the last one) for uniform random picks.
#[derive(Debug, Clone)]
pub(crate) struct Resident<M> {
    slab: LinkedSlab<Entry<M>>,
    /// Slab handles of the resident keys, in no particular order.
    slots: Vec<u32>,
    used: u64,
}

impl<M: Copy> Resident<M> {
    /// Empty, sized for `expected` keys.
    pub(crate) fn new(expected: u64) -> Resident<M> {
        Resident {
            slab: LinkedSlab::with_capacity(expected.min(1 << 24) as usize),
            slots: Vec::new(),
            used: 0,
        }
    }

    /// The handle of `key`, if resident.
    #[inline]
    pub(crate) fn find(&self, key: Key) -> Option<u32> {
        self.slab.find(key)
    }

    /// The key of handle `idx`.
    #[inline]
    pub(crate) fn key(&self, idx: u32) -> Key {
        self.slab.key(idx)
    }

    /// The metadata of handle `idx`.
    #[inline]
    pub(crate) fn meta(&self, idx: u32) -> M {
        self.slab.data(idx).meta
    }

    /// Sets the metadata of handle `idx`.
    #[inline]
    pub(crate) fn set_meta(&mut self, idx: u32, meta: M) {
        self.slab.data_mut(idx).meta = meta;
    }

    /// Adds `key` (not resident) with `charge` units and `meta`.
    pub(crate) fn insert(&mut self, key: Key, charge: u64, meta: M) {
        let idx = self.slab.insert(
            key,
            Entry {
                charge: charge as u32,
                pos: self.slots.len() as u32,
                meta,
            },
        );
        self.slots.push(idx);
        self.used += charge;
    }

    /// Removes handle `idx`; the last key of the array takes its place.
    pub(crate) fn remove(&mut self, idx: u32) {
        let e = *self.slab.data(idx);
        let pos = e.pos as usize;
        self.slots.swap_remove(pos);
        if pos < self.slots.len() {
            let moved = self.slots[pos];
            self.slab.data_mut(moved).pos = pos as u32;
        }
        self.used -= u64::from(e.charge);
        self.slab.remove(idx);
    }

    /// Removes `key`; whether it was resident.
    pub(crate) fn remove_key(&mut self, key: Key) -> bool {
        match self.find(key) {
            Some(idx) => {
                self.remove(idx);
                true
            }
            None => false,
        }
    }

    /// A uniformly chosen resident key's handle (there must be one).
    #[inline]
    pub(crate) fn random(&self, rng: &mut SimRng) -> u32 {
        self.slots[rng.below(self.slots.len() as u64) as usize]
    }

    /// Fills `out` with the handles of `n` distinct resident keys (all of
    /// them when fewer are resident), uniformly chosen, in random order.
    pub(crate) fn sample(&self, rng: &mut SimRng, n: usize, out: &mut Vec<u32>) {
        out.clear();
        let len = self.slots.len();
        if n >= len {
            // Every key, shuffled (Fisher-Yates).
            out.extend_from_slice(&self.slots);
            for i in (1..len).rev() {
                let j = rng.below(i as u64 + 1) as usize;
                out.swap(i, j);
            }
            return;
        }
        // Draws with rejection: n is small next to len (at most len - 1).
        while out.len() < n {
            let s = self.slots[rng.below(len as u64) as usize];
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }

    /// Resident keys.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Capacity units in use.
    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    /// Bytes of heap held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.slots.capacity() * 4
    }

    /// Resident keys, sorted. For tests.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<Key> {
        let mut v: Vec<Key> = self.slots.iter().map(|&i| self.slab.key(i)).collect();
        v.sort_unstable();
        v
    }
}

/// Redis's eviction pool: up to [`EVPOOL_SIZE`] (score, key) entries in
/// ascending order of score; see the module documentation for the rules.
/// Its entries always form a prefix of the array, as in Redis (entries are
/// only taken from the high end).
#[derive(Debug, Clone)]
pub(crate) struct EvictionPool {
    entries: [(u64, Key); EVPOOL_SIZE],
    len: usize,
}

impl Default for EvictionPool {
    fn default() -> Self {
        EvictionPool {
            entries: [(0, 0); EVPOOL_SIZE],
            len: 0,
        }
    }
}

impl EvictionPool {
    /// Offers `key` with `score`: it goes in front of the first entry whose
    /// score is not lower; into a full pool only if that is not the first
    /// entry, which then drops out.
    #[inline]
    pub(crate) fn offer(&mut self, score: u64, key: Key) {
        let n = self.len;
        let k = self.entries[..n]
            .iter()
            .position(|e| e.0 >= score)
            .unwrap_or(n);
        if n < EVPOOL_SIZE {
            self.entries.copy_within(k..n, k + 1);
            self.entries[k] = (score, key);
            self.len += 1;
        } else if k > 0 {
            // Full: the lowest entry drops out, the ones below k move down.
            self.entries.copy_within(1..k, 0);
            self.entries[k - 1] = (score, key);
        }
    }

    /// Takes the entry with the highest score (the latest offered among
    /// equals is the last taken).
    #[inline]
    pub(crate) fn pop_best(&mut self) -> Option<Key> {
        self.len = self.len.checked_sub(1)?;
        Some(self.entries[self.len].1)
    }

    /// The entries, lowest score first. For tests.
    #[cfg(test)]
    pub(crate) fn entries(&self) -> &[(u64, Key)] {
        &self.entries[..self.len]
    }
}

/// Resident keys, the pool and `maxmemory-samples`: everything
/// `sampled-lru` and `sampled-lfu` share but the score.
#[derive(Debug, Clone)]
pub(crate) struct PoolCache<M> {
    pub(crate) keys: Resident<M>,
    pool: EvictionPool,
    samples: usize,
    /// Scratch for one sample's handles.
    sample: Vec<u32>,
    capacity: u64,
}

impl<M: Copy> PoolCache<M> {
    /// Empty, for `capacity` charge units and `samples` keys per sample.
    pub(crate) fn new(capacity: u64, samples: usize) -> PoolCache<M> {
        PoolCache {
            keys: Resident::new(capacity),
            pool: EvictionPool::default(),
            samples,
            sample: Vec::with_capacity(samples),
            capacity,
        }
    }

    /// Evicts, one key at a time, until `charge` more units fit: each
    /// eviction samples, offers the sample to the pool scored by `score`
    /// (higher: evicted sooner), and evicts the best entry whose key is still
    /// resident. Returns how many keys it evicted.
    #[inline]
    pub(crate) fn make_room(
        &mut self,
        charge: u64,
        rng: &mut SimRng,
        mut score: impl FnMut(M) -> u64,
    ) -> u64 {
        let mut evicted = 0;
        while self.keys.used() + charge > self.capacity && self.keys.len() > 0 {
            self.evict_one(rng, &mut score);
            evicted += 1;
        }
        evicted
    }

    fn evict_one(&mut self, rng: &mut SimRng, score: &mut impl FnMut(M) -> u64) {
        loop {
            self.keys.sample(rng, self.samples, &mut self.sample);
            for &idx in &self.sample {
                self.pool
                    .offer(score(self.keys.meta(idx)), self.keys.key(idx));
            }
            while let Some(key) = self.pool.pop_best() {
                if let Some(idx) = self.keys.find(key) {
                    self.keys.remove(idx);
                    return;
                }
            }
        }
    }

    /// Bytes of heap held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes() + self.sample.capacity() * 4
    }

    /// The pool. For tests.
    #[cfg(test)]
    pub(crate) fn pool(&self) -> &EvictionPool {
        &self.pool
    }
}

/// `maxmemory-samples`: Redis's name, default (5) and, as for the
/// `redis-*` strategies' `samples`, at most 64.
pub(crate) fn maxmemory_samples(p: &mut Params) -> Result<usize, SpecError> {
    Ok(p.u64_in("maxmemory-samples", 5, 1, 64)? as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool_of(offers: &[(u64, Key)]) -> EvictionPool {
        let mut p = EvictionPool::default();
        for &(s, k) in offers {
            p.offer(s, k);
        }
        p
    }

    #[test]
    fn pool_keeps_ascending_order_and_puts_a_tie_below_the_earlier_entry() {
        let p = pool_of(&[(5, 1), (3, 2), (9, 3), (5, 4)]);
        // Key 4 ties with key 1 and goes in front of it (lower end).
        assert_eq!(p.entries(), &[(3, 2), (5, 4), (5, 1), (9, 3)]);
        let mut p = p;
        assert_eq!(p.pop_best(), Some(3));
        assert_eq!(p.pop_best(), Some(1));
        assert_eq!(p.pop_best(), Some(4));
        assert_eq!(p.pop_best(), Some(2));
        assert_eq!(p.pop_best(), None);
    }

    #[test]
    fn full_pool_drops_its_lowest_and_refuses_what_does_not_beat_it() {
        let offers: Vec<(u64, Key)> = (0..16u64).map(|i| (10 + i, 100 + i)).collect();
        let mut p = pool_of(&offers);
        assert_eq!(p.entries().len(), EVPOOL_SIZE);
        // Not above the lowest (10): refused, also on a tie.
        p.offer(9, 1);
        p.offer(10, 2);
        assert_eq!(p.entries()[0], (10, 100));
        // 13 goes below the entry with 13; the 10 drops out.
        p.offer(13, 3);
        let e = p.entries();
        assert_eq!(e.len(), EVPOOL_SIZE);
        assert_eq!(&e[..4], &[(11, 101), (12, 102), (13, 3), (13, 103)]);
        // Above every entry: it becomes the best.
        p.offer(99, 4);
        assert_eq!(p.entries()[15], (99, 4));
        assert_eq!(p.entries()[0], (12, 102));
    }

    #[test]
    fn a_key_sampled_twice_holds_two_entries() {
        let p = pool_of(&[(4, 7), (6, 7)]);
        assert_eq!(p.entries(), &[(4, 7), (6, 7)]);
    }

    #[test]
    fn samples_are_distinct_resident_and_uniform() {
        let mut r: Resident<()> = Resident::new(10);
        for k in 0..10u64 {
            r.insert(k, 1, ());
        }
        r.remove_key(3);
        let mut rng = SimRng::new(5);
        let mut out = Vec::new();
        let mut seen = [0u32; 10];
        for _ in 0..9000 {
            r.sample(&mut rng, 3, &mut out);
            assert_eq!(out.len(), 3);
            let mut keys: Vec<Key> = out.iter().map(|&i| r.key(i)).collect();
            keys.sort_unstable();
            keys.dedup();
            assert_eq!(keys.len(), 3, "distinct");
            for k in keys {
                seen[k as usize] += 1;
            }
        }
        assert_eq!(seen[3], 0);
        // 9 keys, 27000 draws: 3000 each, give or take 5%.
        for (k, &n) in seen.iter().enumerate().filter(|(k, _)| *k != 3) {
            assert!((2850..=3150).contains(&n), "key {k} sampled {n} times");
        }
        // More samples than keys: every key once.
        r.sample(&mut rng, 64, &mut out);
        let mut keys: Vec<Key> = out.iter().map(|&i| r.key(i)).collect();
        keys.sort_unstable();
        assert_eq!(keys, r.keys());
    }

    #[test]
    fn removals_keep_positions_and_charges_consistent() {
        let mut r: Resident<u8> = Resident::new(4);
        for k in 0..50u64 {
            r.insert(k, 1 + k % 3, k as u8);
            if k % 4 == 0 {
                assert!(r.remove_key(k / 2));
            }
            for (p, &i) in r.slots.iter().enumerate() {
                assert_eq!(r.slab.data(i).pos as usize, p);
                assert_eq!(r.meta(i), r.key(i) as u8);
            }
            let used: u64 = r.keys().iter().map(|k| 1 + k % 3).sum();
            assert_eq!(r.used(), used);
        }
        assert!(!r.remove_key(0));
    }

    #[test]
    fn ghost_entries_are_skipped() {
        // Scores are the keys themselves; the best pool entries are keys
        // removed meanwhile, so the victim is the best one still resident.
        let mut c: PoolCache<u64> = PoolCache::new(4, 5);
        let mut rng = SimRng::new(1);
        for k in 1..=4u64 {
            c.keys.insert(k, 1, k);
        }
        // A sample of 5 takes all 4 keys into the pool.
        assert_eq!(c.make_room(1, &mut rng, |m| m), 1);
        assert_eq!(c.keys.keys(), vec![1, 2, 3]);
        assert_eq!(c.pool().entries(), &[(1, 1), (2, 2), (3, 3)]);
        c.keys.remove_key(3);
        c.keys.remove_key(2);
        c.keys.insert(9, 1, 0);
        c.keys.insert(8, 1, 0);
        // Pool: 3 and 2 are ghosts, 1 is resident and scores 1; the new
        // sample (scores 1, 0, 0) goes below the old entries. Room for 2
        // units takes one eviction: key 1.
        assert_eq!(c.make_room(2, &mut rng, |m| m), 1);
        assert_eq!(c.keys.keys(), vec![8, 9]);
    }
}
