//! The machinery of Redis's sampled eviction, shared by `sampled-lru`,
//! `sampled-lfu` and `sampled-random`: the resident keys hashed into
//! buckets as in Redis's main dictionary, from which random keys and
//! samples are drawn as Redis draws them ([`Resident`]), and Redis's
//! eviction pool ([`EvictionPool`]).
//!
//! Redis (7.0, `src/evict.c`, `evictionPoolPopulate` and `performEvictions`)
//! evicts under `allkeys-lru` and `allkeys-lfu` as follows, and so does
//! [`PoolCache::make_room`]:
//! - it samples `maxmemory-samples` keys with `dictGetSomeKeys`: the keys
//!   of consecutive buckets of the hash table from a random one (see
//!   [`Resident::sample`]). Not a uniform sample: a key after a stretch of
//!   empty buckets is sampled more often, one behind a crowded stretch less,
//!   and since a sample of identical scores enters the pool in walk order,
//!   this decides which keys go. Modelling it, rather than drawing keys
//!   uniformly, moved the models' hit ratios at 1% to 10% of the keys by
//!   -0.002 to -0.011, onto the server's (README, "Redis's eviction
//!   in-process");
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
//! Where the model differs from Redis: the hash is a seeded mix of the key
//! (Redis: SipHash of the key's name, seeded per server start), the table
//! rehashes at once (Redis: incrementally, sampling both tables meanwhile)
//! and shrinks as soon as it is under 10% full (Redis: from its cron); and
//! Redis evicts when the *next* command starts, with the key just written
//! among the candidates, the model before admitting it (every strategy
//! here finds a key just inserted on the next request; with 5 samples out
//! of hundreds of keys the new key is seldom sampled, and its score, idle 0
//! or counter 5, seldom makes it the victim: evicting after the insert
//! moved the hit ratios by at most 0.004, measured with a uniform sample).

use super::slab::{direct_fits, direct_len, DIRECT_PREFETCH_MIN};
use super::NIL;
use crate::policy::{Params, SpecError};
use crate::request::Key;
use crate::rng::{splitmix, SimRng};

/// Entries of Redis's eviction pool (`EVPOOL_SIZE`).
pub(crate) const EVPOOL_SIZE: usize = 16;

/// One resident key: its name, the next key of its bucket ([`NIL`]: the
/// last; for a free node, the next free node), its charge and metadata.
#[derive(Debug, Clone, Copy)]
struct Node<M> {
    key: Key,
    next: u32,
    charge: u32,
    meta: M,
}

/// The most keys a sample takes (`maxmemory-samples` at most; Redis
/// allows more, the `redis-*` strategies' `samples` stop here too).
pub(crate) const MAX_SAMPLES: usize = 64;

/// Smallest table (`DICT_HT_INITIAL_SIZE`).
const MIN_BUCKETS: usize = 4;

/// The resident keys with their metadata `M` (an LRU clock, an LFU
/// counter), hashed into buckets as in Redis's main dictionary
/// (`src/dict.c`): the table is both the key index and what random keys
/// and samples are drawn from, the way Redis draws them.
///
/// The table is a power of two of chained buckets; a new key goes at the
/// head of its bucket's chain; the table doubles (to the power of two
/// above the count) when a key is added with as many keys as buckets, and
/// shrinks (to the power of two at or above the count, at least 4) when
/// under 10% full (Redis does that from its cron, here at once).
/// Rehashing is instantaneous here (Redis rehashes incrementally). The
/// hash is a seeded mix of the key (Redis: SipHash of the name with a seed
/// random per server start). Nodes live in one vector, addressed by `u32`
/// handles, freed ones reused.
///
/// A lookup need not walk a chain: when the run hints that its keys are
/// small integers ([`Resident::index_keys_below`]), a direct index (one
/// handle per key, as in `common::slab`) finds them in one load, and the
/// chains serve only what Redis does with its buckets: drawing samples and
/// random keys. The chains, their order and every draw are the same either
/// way; only the lookups are quicker (they were half the time of
/// `sampled-random`, and more than a third of `sampled-lru`'s).
#[derive(Debug, Clone)]
pub(crate) struct Resident<M> {
    nodes: Vec<Node<M>>,
    /// First free node ([`NIL`]: none).
    free: u32,
    len: usize,
    /// Bucket heads (node handles), a power of two of them.
    buckets: Vec<u32>,
    salt: u64,
    used: u64,
    /// In direct mode, the handle of every key below `direct.len()`
    /// ([`NIL`] if not resident), grown by doubling up to `direct_bound`.
    direct: Vec<u32>,
    /// Keys at or above this leave direct mode; 0 when not in it.
    direct_bound: u64,
}

/// Buckets from which [`Resident::prefetch_slot`] and
/// [`Resident::prefetch_node`] fetch anything: 2^16, the table of 32k to
/// 64k keys, 1 to 2 MiB with their 24-byte nodes.
const PREFETCH_MIN_BUCKETS: usize = 1 << 16;

impl<M: Copy> Resident<M> {
    /// Empty, sized for `expected` keys, its hash salted by `salt`.
    pub(crate) fn new(expected: u64, salt: u64) -> Resident<M> {
        Resident {
            nodes: Vec::with_capacity(expected.min(1 << 20) as usize),
            free: NIL,
            len: 0,
            buckets: vec![NIL; MIN_BUCKETS],
            salt,
            used: 0,
            direct: Vec::new(),
            direct_bound: 0,
        }
    }

    #[inline]
    fn bucket(&self, key: Key) -> usize {
        (splitmix(key ^ self.salt) as usize) & (self.buckets.len() - 1)
    }

    #[inline]
    fn next(&self, idx: u32) -> u32 {
        self.nodes[idx as usize].next
    }

    /// A hint that every key will be below `bound`: an empty table starts
    /// a direct index when `bound` is small enough (by the slab's rule,
    /// [`direct_fits`]). No effect on results.
    pub(crate) fn index_keys_below(&mut self, bound: Key) {
        if self.len == 0 && direct_fits(bound, self.nodes.capacity()) {
            self.direct_bound = bound;
            self.direct = Vec::new();
        }
    }

    /// Whether keys are found through the direct index.
    #[inline]
    fn is_direct(&self) -> bool {
        self.direct_bound != 0
    }

    /// Records `key`'s handle in the direct index, if there is one: widens
    /// it for a key past its end, leaves it for a key past its bound.
    #[inline]
    fn index(&mut self, key: Key, idx: u32) {
        if !self.is_direct() {
            return;
        }
        if key as usize >= self.direct.len() {
            if key >= self.direct_bound {
                // A wrong guess: lookups walk the chains from now on.
                self.direct = Vec::new();
                self.direct_bound = 0;
                return;
            }
            self.direct.resize(direct_len(key, self.direct_bound), NIL);
        }
        self.direct[key as usize] = idx;
    }

    /// The handle of `key`, if resident.
    #[inline]
    pub(crate) fn find(&self, key: Key) -> Option<u32> {
        if self.is_direct() {
            let h = self.direct.get(key as usize).copied().unwrap_or(NIL);
            return (h != NIL).then_some(h);
        }
        let mut at = self.buckets[self.bucket(key)];
        while at != NIL {
            let n = &self.nodes[at as usize];
            if n.key == key {
                return Some(at);
            }
            at = n.next;
        }
        None
    }

    /// Whether the prefetch hints fetch anything: the table and its nodes
    /// have outgrown a core's L2 cache.
    #[inline]
    fn prefetches(&self) -> bool {
        self.buckets.len() >= PREFETCH_MIN_BUCKETS
    }

    /// Hints that `key` is looked up soon: fetches its direct handle or
    /// its bucket head, the first thing [`Self::find`] reads. No effect on
    /// results.
    #[inline]
    pub(crate) fn prefetch_slot(&self, key: Key) {
        if self.is_direct() {
            if self.direct.len() >= DIRECT_PREFETCH_MIN {
                if let Some(h) = self.direct.get(key as usize) {
                    crate::prefetch::prefetch(h);
                }
            }
        } else if self.prefetches() {
            crate::prefetch::prefetch(&self.buckets[self.bucket(key)]);
        }
    }

    /// Hints that `key`'s node is read soon: reads its direct handle or
    /// bucket head (fetched by an earlier [`Self::prefetch_slot`]) and
    /// fetches the node it names, `key`'s own on most lookups. No effect
    /// on results.
    #[inline]
    pub(crate) fn prefetch_node(&self, key: Key) {
        if self.is_direct() {
            if self.direct.len() >= DIRECT_PREFETCH_MIN {
                let h = self.direct.get(key as usize).copied().unwrap_or(NIL);
                if let Some(n) = self.nodes.get(h as usize) {
                    crate::prefetch::prefetch(n);
                }
            }
        } else if self.prefetches() {
            let head = self.buckets[self.bucket(key)];
            if let Some(n) = self.nodes.get(head as usize) {
                crate::prefetch::prefetch(n);
            }
        }
    }

    /// The key of handle `idx`.
    #[inline]
    pub(crate) fn key(&self, idx: u32) -> Key {
        self.nodes[idx as usize].key
    }

    /// The metadata of handle `idx`.
    #[inline]
    pub(crate) fn meta(&self, idx: u32) -> M {
        self.nodes[idx as usize].meta
    }

    /// Sets the metadata of handle `idx`.
    #[inline]
    pub(crate) fn set_meta(&mut self, idx: u32, meta: M) {
        self.nodes[idx as usize].meta = meta;
    }

    /// Adds `key` (not resident) with `charge` units and `meta`.
    pub(crate) fn insert(&mut self, key: Key, charge: u64, meta: M) {
        debug_assert!(self.find(key).is_none(), "key {key} inserted twice");
        if self.len >= self.buckets.len() {
            self.rehash((self.len + 1).next_power_of_two());
        }
        let b = self.bucket(key);
        let node = Node {
            key,
            next: self.buckets[b],
            charge: charge as u32,
            meta,
        };
        let idx = if self.free != NIL {
            let idx = self.free;
            self.free = self.next(idx);
            self.nodes[idx as usize] = node;
            idx
        } else {
            assert!(self.nodes.len() < NIL as usize, "too many keys");
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        self.buckets[b] = idx;
        self.index(key, idx);
        self.len += 1;
        self.used += charge;
    }

    /// Removes handle `idx` (resident).
    pub(crate) fn remove(&mut self, idx: u32) {
        let n = self.nodes[idx as usize];
        let b = self.bucket(n.key);
        if self.buckets[b] == idx {
            self.buckets[b] = n.next;
        } else {
            let mut at = self.buckets[b];
            while self.next(at) != idx {
                at = self.next(at);
            }
            self.nodes[at as usize].next = n.next;
        }
        if let Some(h) = self.direct.get_mut(n.key as usize) {
            *h = NIL;
        }
        self.nodes[idx as usize].next = self.free;
        self.free = idx;
        self.len -= 1;
        self.used -= u64::from(n.charge);
        if self.buckets.len() > MIN_BUCKETS && self.len * 10 < self.buckets.len() {
            self.rehash(self.len.max(MIN_BUCKETS).next_power_of_two());
        }
    }

    /// Moves every key into a table of `size` buckets, bucket by bucket,
    /// each chain from its head (so a chain's order reverses, as in
    /// Redis's rehash).
    fn rehash(&mut self, size: usize) {
        let old = std::mem::replace(&mut self.buckets, vec![NIL; size]);
        for head in old {
            let mut at = head;
            while at != NIL {
                let next = self.next(at);
                let b = self.bucket(self.key(at));
                self.nodes[at as usize].next = self.buckets[b];
                self.buckets[b] = at;
                at = next;
            }
        }
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

    /// A random resident key's handle (there must be one), as Redis's
    /// `dictGetRandomKey`: a uniformly chosen non-empty bucket, then a
    /// uniformly chosen key of its chain.
    #[inline]
    pub(crate) fn random(&self, rng: &mut SimRng) -> u32 {
        let mask = self.buckets.len() as u64 - 1;
        let head = loop {
            let h = self.buckets[(rng.next_u64() & mask) as usize];
            if h != NIL {
                break h;
            }
        };
        let mut len = 0;
        let mut at = head;
        while at != NIL {
            len += 1;
            at = self.next(at);
        }
        let mut at = head;
        for _ in 0..rng.below(len) {
            at = self.next(at);
        }
        at
    }

    /// Pass 1 of [`Self::sample`]: the first `count` non-empty buckets the
    /// walk visits, their heads into `heads`; how many. Each holds a key
    /// at least, so `count` of them are enough. In a large table it also
    /// fetches each head's node, which pass 2 reads.
    fn first_pass(&self, rng: &mut SimRng, count: usize, heads: &mut [u32; MAX_SAMPLES]) -> usize {
        let mask = self.buckets.len() - 1;
        let fetch = self.prefetches();
        let last = self.nodes.len().saturating_sub(1);
        let mut found = 0;
        let mut i = (rng.next_u64() as usize) & mask;
        let mut empty = 0;
        // Without a branch on each bucket's emptiness, a coin toss in a
        // table 40-75% full: the head is stored either way and counted
        // only if it is one. (A mispredicted branch every other bucket was
        // a quarter of sampled-lru's evictions.)
        for _ in 0..count * 10 {
            let head = self.buckets[i];
            let some = head != NIL;
            if fetch {
                // An empty bucket's NIL fetches the last node: no branch.
                crate::prefetch::prefetch(&self.nodes[(head as usize).min(last)]);
            }
            heads[found] = head;
            found += usize::from(some);
            if found == count {
                break;
            }
            empty = if some { 0 } else { empty + 1 };
            if empty >= 5 && empty > count {
                i = (rng.next_u64() as usize) & mask;
                empty = 0;
            }
            i = (i + 1) & mask;
        }
        found
    }

    /// Fills `out` with the handles of up to `n` (at most [`MAX_SAMPLES`])
    /// resident keys as Redis's
    /// `dictGetSomeKeys` picks them: from a random bucket on, the keys of
    /// consecutive buckets (a chain that overflows the sample is
    /// reservoir-sampled to its end), jumping to another random bucket
    /// after more than `max(n, 4)` empty buckets in a row, for at most
    /// 10 x n buckets.
    ///
    /// Done in two passes, which draws the same samples: the buckets first
    /// (their heads, up to `n` non-empty ones; emptiness alone decides the
    /// jumps), then the chains from those heads, whose first nodes are then
    /// read independently of each other rather than one bucket at a time.
    /// (The first pass may look at buckets Redis would not reach when a
    /// chain holds several keys, drawing more jumps, so the generator's
    /// stream differs from a one-pass walk's, not the samples' odds.)
    pub(crate) fn sample(&self, rng: &mut SimRng, n: usize, out: &mut Vec<u32>) {
        out.clear();
        let count = n.min(self.len).min(MAX_SAMPLES);
        // Pass 1: the non-empty buckets the walk visits, in order.
        let mut heads = [NIL; MAX_SAMPLES];
        let found = self.first_pass(rng, count, &mut heads);
        // Pass 2: their chains, until the sample is full; the chain that
        // fills it is reservoir-sampled to its end.
        let mut stored = 0usize;
        for &head in &heads[..found] {
            let mut at = head;
            while at != NIL {
                if stored < count {
                    out.push(at);
                } else {
                    let r = rng.below(stored as u64 + 1) as usize;
                    if r < count {
                        out[r] = at;
                    }
                }
                stored += 1;
                at = self.next(at);
            }
            if stored >= count {
                return;
            }
        }
    }

    /// Resident keys.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Capacity units in use.
    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    /// Bytes of heap held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<M>>()
            + self.buckets.capacity() * 4
            + self.direct.capacity() * 4
    }

    /// Resident keys, sorted. For tests.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> Vec<Key> {
        let mut v = Vec::new();
        for &head in &self.buckets {
            let mut at = head;
            while at != NIL {
                v.push(self.key(at));
                at = self.next(at);
            }
        }
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
    /// Empty, for `capacity` charge units and `samples` keys per sample,
    /// the keys' hash salted by `salt`.
    pub(crate) fn new(capacity: u64, samples: usize, salt: u64) -> PoolCache<M> {
        PoolCache {
            keys: Resident::new(capacity, salt),
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

/// `maxmemory-samples`: Redis's name and default (5), at most
/// [`MAX_SAMPLES`].
pub(crate) fn maxmemory_samples(p: &mut Params) -> Result<usize, SpecError> {
    Ok(p.u64_in("maxmemory-samples", 5, 1, MAX_SAMPLES as u64)? as usize)
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

    /// The chains of `r`'s table: keys per bucket.
    fn chains<M: Copy>(r: &Resident<M>) -> Vec<Vec<Key>> {
        r.buckets
            .iter()
            .map(|&head| {
                let mut v = Vec::new();
                let mut at = head;
                while at != NIL {
                    v.push(r.key(at));
                    at = r.next(at);
                }
                v
            })
            .collect()
    }

    #[test]
    fn table_grows_and_shrinks_as_redis_dict_and_keeps_every_key() {
        let mut r: Resident<u8> = Resident::new(4, 11);
        let mut reference = std::collections::BTreeSet::new();
        let mut rng = SimRng::new(2);
        for step in 0..5000u64 {
            let k = rng.below(300);
            // Mostly inserts in one phase, mostly removals in the next.
            let grow = (step / 1000) % 2 == 0;
            if reference.contains(&k) {
                if !grow || rng.below(4) == 0 {
                    assert!(r.remove_key(k));
                    reference.remove(&k);
                }
            } else if grow || rng.below(4) == 0 {
                r.insert(k, 1 + k % 3, k as u8);
                reference.insert(k);
            }
            let n = reference.len();
            let size = r.buckets.len();
            assert!(size.is_power_of_two() && size >= MIN_BUCKETS);
            // Never more keys than buckets; never under 10% full.
            assert!(n <= size, "{n} keys in {size} buckets");
            assert!(size == MIN_BUCKETS || n * 10 >= size, "{n} keys in {size}");
            for (b, chain) in chains(&r).iter().enumerate() {
                for &k in chain {
                    assert_eq!(r.bucket(k), b);
                    assert_eq!(r.meta(r.find(k).unwrap()), k as u8);
                }
            }
        }
        let keys: Vec<Key> = reference.iter().copied().collect();
        assert_eq!(r.keys(), keys);
        assert_eq!(r.used(), keys.iter().map(|k| 1 + k % 3).sum::<u64>());
    }

    #[test]
    fn prefetch_hints_are_on_for_a_large_table_only_and_change_nothing() {
        let mut r: Resident<u32> = Resident::new(4, 5);
        let n = PREFETCH_MIN_BUCKETS as u64;
        for k in 0..n {
            r.insert(k * 7, 1, k as u32);
            // A table grows to `PREFETCH_MIN_BUCKETS` buckets on its
            // (n/2 + 1)-th key.
            assert_eq!(r.prefetches(), k >= n / 2);
        }
        assert!(r.prefetches());
        let before = (r.keys(), r.free, r.len, r.used);
        // Resident keys, absent ones, and keys beyond every bucket.
        for k in (0..n * 8).chain([u64::MAX, u64::MAX - 1]) {
            r.prefetch_slot(k);
            r.prefetch_node(k);
        }
        assert_eq!((r.keys(), r.free, r.len, r.used), before);
        for k in 0..n {
            assert_eq!(r.meta(r.find(k * 7).unwrap()), k as u32);
        }
        // Shrunk under 10% full: off again.
        for k in 0..n - 100 {
            assert!(r.remove_key(k * 7));
        }
        assert!(!r.prefetches() && r.buckets.len() < PREFETCH_MIN_BUCKETS);
    }

    #[test]
    fn a_direct_index_changes_no_chain_sample_or_random_key() {
        // The same inserts, removals, samples and random keys with and
        // without the key-space hint: through the direct index's widening,
        // the table's growing and shrinking, and the index's leaving (keys
        // past the bound come late).
        let mut a: Resident<u32> = Resident::new(400, 3);
        let mut b = a.clone();
        b.index_keys_below(3000);
        assert!(b.is_direct());
        let (mut ra, mut rb) = (SimRng::new(1), SimRng::new(1));
        let (mut sa, mut sb) = (Vec::new(), Vec::new());
        let mut keys = SimRng::new(7);
        for step in 0..30_000u64 {
            let x = keys.next_u64();
            let key = x % if step < 22_000 { 2500 } else { 5000 };
            // A stretch with a small cache, so that the table shrinks.
            let cap = if (8000..12_000).contains(&step) {
                30
            } else {
                400
            };
            let found = a.find(key);
            assert_eq!(found, b.find(key), "step {step}");
            if found.is_some() {
                if step % 5 == 0 {
                    assert!(a.remove_key(key) && b.remove_key(key));
                }
                continue;
            }
            while a.len() >= cap {
                let (va, vb) = if step % 2 == 0 {
                    (a.random(&mut ra), b.random(&mut rb))
                } else {
                    a.sample(&mut ra, 5, &mut sa);
                    b.sample(&mut rb, 5, &mut sb);
                    assert_eq!(sa, sb, "step {step}");
                    (sa[step as usize % sa.len()], sb[step as usize % sb.len()])
                };
                assert_eq!(va, vb, "step {step}");
                a.remove(va);
                b.remove(vb);
            }
            a.insert(key, 1, step as u32);
            b.insert(key, 1, step as u32);
            assert_eq!(chains(&a), chains(&b), "step {step}");
        }
        assert!(!b.is_direct(), "the bound was crossed");
        assert_eq!(a.keys(), b.keys());
    }

    #[test]
    fn random_key_is_a_random_bucket_then_a_random_key_of_its_chain() {
        // dictGetRandomKey's odds: 1 / (non-empty buckets x chain length).
        let mut r: Resident<()> = Resident::new(64, 5);
        for k in 0..40u64 {
            r.insert(k, 1, ());
        }
        let ch = chains(&r);
        let nonempty = ch.iter().filter(|c| !c.is_empty()).count() as f64;
        let mut rng = SimRng::new(8);
        let draws = 400_000;
        let mut seen = [0u32; 40];
        for _ in 0..draws {
            seen[r.key(r.random(&mut rng)) as usize] += 1;
        }
        let mut lengths = std::collections::BTreeSet::new();
        for c in &ch {
            for &k in c {
                let p = 1.0 / (nonempty * c.len() as f64);
                let sd = (draws as f64 * p * (1.0 - p)).sqrt();
                let got = f64::from(seen[k as usize]);
                assert!(
                    (got - draws as f64 * p).abs() < 4.5 * sd,
                    "key {k} (chain of {}): {got} of {draws}",
                    c.len()
                );
                lengths.insert(c.len());
            }
        }
        // The layout has chains of several lengths, so the odds differ.
        assert!(lengths.len() > 1, "{lengths:?}");
    }

    #[test]
    fn samples_are_keys_of_consecutive_buckets() {
        // 127 keys in 128 buckets, laid out with no 6 empty buckets in a
        // row, so a walk never jumps.
        let mut r: Resident<()> = Resident::new(128, 3);
        for k in 0..127u64 {
            r.insert(k, 1, ());
        }
        let ch = chains(&r);
        let size = ch.len();
        assert_eq!(size, 128);
        let empty_run = (0..size).any(|b| (0..6).all(|j| ch[(b + j) % size].is_empty()));
        assert!(!empty_run, "pick another salt");
        let mut rng = SimRng::new(4);
        let mut out = Vec::new();
        let mut covered = std::collections::BTreeSet::new();
        for _ in 0..2000 {
            r.sample(&mut rng, 5, &mut out);
            assert_eq!(out.len(), 5);
            let buckets: Vec<usize> = out.iter().map(|&i| r.bucket(r.key(i))).collect();
            // The walk went (circularly) from one of the sampled buckets to
            // the farthest, and the buckets before that last one held
            // fewer keys than the sample (the last one's chain filled it,
            // reservoir-sampled if it overflowed).
            let walked = buckets.iter().any(|&first| {
                let dist = |b: usize| (b + size - first) % size;
                let last = buckets.iter().map(|&b| dist(b)).max().unwrap();
                let before: usize = (0..last).map(|d| ch[(first + d) % size].len()).sum();
                before < 5
            });
            assert!(walked, "{buckets:?}");
            covered.extend(out.iter().map(|&i| r.key(i)));
        }
        assert_eq!(covered.len(), 127);
        // Fewer keys than asked for: every key.
        let mut small: Resident<()> = Resident::new(4, 3);
        for k in 0..3u64 {
            small.insert(k, 1, ());
        }
        small.sample(&mut rng, 5, &mut out);
        let mut keys: Vec<Key> = out.iter().map(|&i| small.key(i)).collect();
        keys.sort_unstable();
        assert_eq!(keys, vec![0, 1, 2]);
    }

    #[test]
    fn ghost_entries_are_skipped() {
        // Scores are the keys themselves; the best pool entries are keys
        // removed meanwhile, so the victim is the best one still resident.
        let mut c: PoolCache<u64> = PoolCache::new(4, 5, 1);
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
