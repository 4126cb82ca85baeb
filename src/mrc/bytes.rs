//! The LRU miss-ratio curve in bytes: byte-weighted stack distances, exact
//! or sampled (SHARDS in bytes).
//!
//! An LRU cache of `C` bytes holds the longest prefix of the recency stack
//! whose sizes add up to at most `C` (it evicts from the cold end until the
//! new object fits, so what stays is always such a prefix). A get of a key
//! therefore hits at every byte capacity of at least its *byte stack
//! distance*: the sizes of the distinct keys requested since its previous
//! request, plus its own. One pass that records those distances gives the
//! hit ratio at every byte capacity, as [`super::mattson`] does in objects.
//!
//! The distances are summed with a Fenwick tree of sizes over access times
//! (each resident key weighs its size at the time of its last access),
//! compacted when full as the object-count stack is, so memory stays
//! O(distinct keys).
//!
//! The curve equals a replay of `lru` at each byte capacity (a test pins
//! it) when every object fits the smallest capacity and a key keeps its
//! size: an object larger than a capacity is never admitted there but stays
//! on the one stack, and a key whose size changes is charged its new size
//! (the replay keeps a hit's old charge). SHARDS in bytes samples keys by
//! the same hash as [`super::shards`] and scales distances by `1 / R`.

use super::shards::{hash_mod_p, threshold};
use super::Curve;
use crate::request::Key;
use rustc_hash::FxHashMap;

/// Smallest number of positions.
const MIN_SLOTS: usize = 1 << 12;

/// Byte-weighted LRU stack distances, one request at a time.
#[derive(Debug, Clone)]
pub struct ByteStack {
    /// Fenwick tree of sizes over positions, 1-based.
    tree: Vec<u64>,
    /// Each resident key's last position and its size there.
    last: FxHashMap<Key, (u32, u32)>,
    cursor: usize,
    /// Sum of the resident keys' sizes.
    total: u64,
}

impl Default for ByteStack {
    fn default() -> Self {
        ByteStack::new()
    }
}

impl ByteStack {
    /// An empty stack.
    pub fn new() -> ByteStack {
        ByteStack {
            tree: vec![0; MIN_SLOTS + 1],
            last: FxHashMap::default(),
            cursor: 0,
            total: 0,
        }
    }

    fn add(&mut self, pos: usize, delta: i64) {
        let mut i = pos + 1;
        while i < self.tree.len() {
            self.tree[i] = self.tree[i].wrapping_add(delta as u64);
            i += i & i.wrapping_neg();
        }
    }

    /// Sum of sizes at positions `0..=pos`.
    fn prefix(&self, pos: usize) -> u64 {
        let mut i = pos + 1;
        let mut s = 0u64;
        while i > 0 {
            s = s.wrapping_add(self.tree[i]);
            i &= i - 1;
        }
        s
    }

    /// A use of `key` (an object of `size` bytes): its byte stack distance
    /// (the sizes of the distinct keys used since its last use, plus its
    /// own then), or `None` on its first use.
    pub fn access(&mut self, key: Key, size: u32) -> Option<u64> {
        let d = self.last.get(&key).map(|&(p, s)| {
            let after = self.total - self.prefix(p as usize);
            after + u64::from(s)
        });
        if let Some((p, s)) = self.last.remove(&key) {
            self.add(p as usize, -i64::from(s));
            self.total -= u64::from(s);
        }
        if self.cursor + 1 >= self.tree.len() {
            self.compact();
        }
        let pos = self.cursor;
        self.cursor += 1;
        self.add(pos, i64::from(size));
        self.total += u64::from(size);
        self.last.insert(key, (pos as u32, size));
        d
    }

    /// Takes `key` off the stack (a delete).
    pub fn remove(&mut self, key: Key) {
        if let Some((p, s)) = self.last.remove(&key) {
            self.add(p as usize, -i64::from(s));
            self.total -= u64::from(s);
        }
    }

    /// Renumbers the resident keys 0..k in order of last use, in a tree
    /// with room for at least 4k.
    fn compact(&mut self) {
        let mut live: Vec<(u32, Key)> = self.last.iter().map(|(&k, &(p, _))| (p, k)).collect();
        live.sort_unstable();
        let slots = (live.len() * 4).max(MIN_SLOTS);
        self.tree = vec![0; slots + 1];
        for (i, (_, k)) in live.iter().enumerate() {
            let e = self.last.get_mut(k).expect("live");
            e.0 = i as u32;
            // Linear-time build: add each size at its node, then push up.
            self.tree[i + 1] += u64::from(e.1);
        }
        for i in 1..self.tree.len() {
            let j = i + (i & i.wrapping_neg());
            if j < self.tree.len() {
                self.tree[j] = self.tree[j].wrapping_add(self.tree[i]);
            }
        }
        self.cursor = live.len();
    }
}

/// Counts gets' byte distances at the capacities of a curve.
#[derive(Debug, Clone)]
pub struct ByteCurve {
    stack: ByteStack,
    /// Capacities in bytes, ascending.
    caps: Vec<u64>,
    /// Gets whose (scaled) distance is at most `caps[i]` and more than
    /// `caps[i - 1]`.
    hits: Vec<u64>,
    /// Gets counted (sampled ones under SHARDS).
    gets: u64,
    /// All gets seen.
    all_gets: u64,
    /// SHARDS: the sampling threshold and rate; `None` for exact.
    sample: Option<(u64, f64)>,
    sampled_keys: u64,
}

impl ByteCurve {
    /// A curve at `caps` (bytes), exact (`rate` = `None`) or SHARDS at
    /// `rate`.
    pub fn new(caps: &[u64], rate: Option<f64>) -> ByteCurve {
        let mut caps = caps.to_vec();
        caps.sort_unstable();
        caps.dedup();
        ByteCurve {
            stack: ByteStack::new(),
            hits: vec![0; caps.len()],
            caps,
            gets: 0,
            all_gets: 0,
            sample: rate.map(|r| (threshold(r), r)),
            sampled_keys: 0,
        }
    }

    fn sampled(&self, key: Key) -> bool {
        self.sample.is_none_or(|(t, _)| hash_mod_p(key) < t)
    }

    /// A get of `key`, `size` bytes.
    pub fn get(&mut self, key: Key, size: u32) {
        self.all_gets += 1;
        if !self.sampled(key) {
            return;
        }
        self.gets += 1;
        let own = self.stack.last.get(&key).map_or(0, |e| u64::from(e.1));
        let d = self.stack.access(key, size);
        let Some(d) = d else {
            self.sampled_keys += 1;
            return;
        };
        // The keys in front of it stand for 1 / R as many bytes; its own
        // size is its own.
        let d = match self.sample {
            Some((_, r)) => own + ((d - own) as f64 / r).ceil() as u64,
            None => d,
        };
        let i = self.caps.partition_point(|&c| c < d);
        if i < self.caps.len() {
            self.hits[i] += 1;
        }
    }

    /// A set: a use of `key` that is not counted.
    pub fn set(&mut self, key: Key, size: u32) {
        if self.sampled(key) && self.stack.access(key, size).is_none() {
            self.sampled_keys += 1;
        }
    }

    /// A delete: `key` leaves the stack.
    pub fn delete(&mut self, key: Key) {
        if self.sampled(key) {
            self.stack.remove(key);
        }
    }

    /// Gets that hit at each capacity (ascending capacities).
    pub fn hits_at(&self) -> Vec<(u64, u64)> {
        let mut cum = 0;
        self.caps
            .iter()
            .zip(&self.hits)
            .map(|(&c, &h)| {
                cum += h;
                (c, cum)
            })
            .collect()
    }

    /// The curve, evaluated exactly at its capacities.
    pub fn curve(&self) -> Curve {
        let steps = self
            .hits_at()
            .into_iter()
            .map(|(c, h)| (c as f64, h as f64))
            .collect();
        // SHARDS-adj (Waldspurger et al., FAST 2015): the sample's gets are
        // set to what the rate promises, the difference counted as hits at
        // every size (it comes from the hottest keys, sampled or not).
        let (adjust, total) = match self.sample {
            Some((_, r)) => {
                let expected = self.all_gets as f64 * r;
                (expected - self.gets as f64, expected)
            }
            None => (0.0, self.gets as f64),
        };
        Curve {
            steps,
            adjust,
            total,
            method: if self.sample.is_some() {
                "shards-bytes"
            } else {
                "exact-bytes"
            },
            sample_rate: self.sample.map_or(1.0, |s| s.1),
            gets: self.all_gets,
            tracked_keys: self.stack.last.len() as u64,
            sampled_keys: self.sampled_keys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::lru::Lru;
    use crate::request::{Op, Request};
    use crate::sim::replay::{replay_batch, ChargeModel, Counters};
    use crate::workload::Batch;

    /// A brute-force byte stack distance.
    fn naive(reqs: &[(Key, u32)]) -> Vec<Option<u64>> {
        let mut stack: Vec<(Key, u32)> = Vec::new();
        reqs.iter()
            .map(|&(k, s)| {
                let d = stack
                    .iter()
                    .position(|e| e.0 == k)
                    .map(|i| stack[..=i].iter().map(|e| u64::from(e.1)).sum::<u64>());
                stack.retain(|e| e.0 != k);
                stack.insert(0, (k, s));
                d
            })
            .collect()
    }

    #[test]
    fn byte_distances_match_brute_force_across_compactions() {
        let mut rng = crate::rng::SimRng::new(5);
        let reqs: Vec<(Key, u32)> = (0..30_000)
            .map(|_| {
                let k = rng.below(700);
                (k, 1 + (k % 13) as u32 * 100)
            })
            .collect();
        let mut s = ByteStack::new();
        let got: Vec<_> = reqs.iter().map(|&(k, z)| s.access(k, z)).collect();
        let want = naive(&reqs);
        let first = got.iter().zip(&want).position(|(a, b)| a != b);
        assert_eq!(first, None, "{:?}", first.map(|i| (i, got[i], want[i])));
    }

    /// A Zipf stream over `keys` keys with fixed sizes from 100 B to 10 KB.
    fn sized_stream(n: usize, keys: u64) -> Batch {
        let keys = crate::workload::zipf::generate(keys, 0.9, n as u64, 3);
        let mut b = Batch::new(1000.0, 1);
        for (v, k) in keys.into_iter().enumerate() {
            let size = 100 + (k.wrapping_mul(0x9E37_79B9) % 9901) as u32;
            b.push(
                &Request {
                    time: v as f64,
                    key: k,
                    size,
                    op: Op::Get,
                },
                v as u64,
            );
        }
        b
    }

    #[test]
    fn the_byte_curve_equals_lru_replays_at_each_byte_capacity() {
        let b = sized_stream(200_000, 5000);
        let caps: Vec<u64> = [16_384u64, 100_000, 1 << 20, 5 << 20, 20 << 20].to_vec();
        let mut curve = ByteCurve::new(&caps, None);
        for i in 0..b.len() {
            let r = b.request(i, i as u64);
            curve.get(r.key, r.size);
        }
        for (c, hits) in curve.hits_at() {
            let mut lru = Lru::new(c);
            let mut n = Counters::default();
            let charge = ChargeModel {
                bytes: true,
                capacity: c,
            };
            replay_batch(&mut lru, &b, 0..b.len(), 0, None, charge.into(), &mut n);
            assert_eq!(hits, n.hits, "capacity {c}");
            let ratio = curve.curve().hit_ratio(c);
            assert!((ratio - n.hit_ratio()).abs() < 1e-12);
        }
    }

    #[test]
    fn shards_in_bytes_comes_close_to_the_exact_byte_curve() {
        // 100k keys, 10% sampled: 10k keys in the sample.
        let b = sized_stream(1_000_000, 100_000);
        let caps: Vec<u64> = [16u64 << 20, 64 << 20, 160 << 20].to_vec();
        let mut exact = ByteCurve::new(&caps, None);
        let mut sampled = ByteCurve::new(&caps, Some(0.1));
        for i in 0..b.len() {
            let r = b.request(i, i as u64);
            exact.get(r.key, r.size);
            sampled.get(r.key, r.size);
        }
        let (e, s) = (exact.curve(), sampled.curve());
        for &c in &caps {
            let d = (e.hit_ratio(c) - s.hit_ratio(c)).abs();
            assert!(
                d < 0.03,
                "capacity {c}: exact {} sampled {}",
                e.hit_ratio(c),
                s.hit_ratio(c)
            );
        }
        assert!(s.sampled_keys < e.sampled_keys / 5);
    }
}
