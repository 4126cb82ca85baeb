//! SHARDS: Spatially Hashed Approximate Reuse Distance Sampling (Waldspurger,
//! Park, Garthwaite and Ahmad, "Efficient MRC Construction with SHARDS",
//! FAST 2015).
//!
//! A key is sampled when `hash(key) mod P < T`, with `P = 2^24` and the
//! hash Fibonacci (multiplicative) hashing: `hash(key) mod P` is the top 24
//! bits of `key * 0x9E3779B97F4A7C15 mod 2^64` ([`hash_mod_p`], fixed, so
//! every run and machine samples the same keys: key `k` is in the sample at
//! rate `R = T / P` exactly when `(k * 0x9E3779B97F4A7C15 mod 2^64) >> 40 <
//! T`). Sampling by key, not by request, keeps every request of a sampled
//! key, so the sampled stream's stack distances are those of the full
//! stream scaled by the rate. The paper's reuse distance counts the *other*
//! distinct keys since the last request (our stack distance minus 1), and
//! scales that: a sampled stack distance `d` stands for `1 + (d - 1) / R`,
//! which is unbiased (the `d - 1` others are a Binomial(D - 1, R) sample of
//! the true `D - 1`).
//!
//! Why this hash: it is one multiply, so the sampling test over a slice of
//! keys runs at memory speed ([`ShardsFixedRate::get_all`]), and on keys
//! that are consecutive integers (disk block numbers, key ranks) it is a
//! Weyl sequence: every run of `n` consecutive keys holds `n * R` sampled
//! keys to within a few (tested), where a random hash gives a Binomial(n,
//! R) count. Block traces touch runs of neighbouring blocks, so the sample
//! is stratified along the key space and the curve's error is smaller. On
//! the ARC P12 trace at 1%, over 32 members of the family `(key + offset) *
//! C` (random offsets), the largest error from c=1024 up is at most 0.0041
//! for plain SHARDS and median 0.0043 with SHARDS-adj, against 0.0118 and
//! 0.0122 for 32 seeds of the SplitMix64 finaliser used before
//! (`examples/mrc_accuracy.rs`). On OLTP, whose error comes from a few
//! hundred hot keys, the two families do equally well. Keys of no
//! particular order (hashed names) are sampled as by any multiply-shift
//! hash. The weak spot is keys in arithmetic progression with a stride
//! whose product with the multiplier is near a multiple of 2^64 (Fibonacci
//! numbers such as 6765): their hashes drift slowly, and the sample takes
//! long runs of such keys or none.
//!
//! - Fixed rate ([`ShardsFixedRate`]): `T = round(R * P)` for the whole
//!   trace. The curve uses the published correction SHARDS-adj (section
//!   3.2 of the paper): the number of sampled gets differs from its expected
//!   value `R * N` (a few very hot keys fall in or out of the sample), and
//!   the difference `R * N - N_sampled` is added to the first bucket of the
//!   histogram (counted as hits at every capacity), with `R * N` as the
//!   total. Equivalently, miss ratio = sampled misses / (R * N).
//!   `--sample-adj off` gives plain SHARDS (total = sampled gets). Which
//!   is closer depends on where the surplus or shortfall of sampled gets
//!   comes from: hot keys, mostly hits (the adjustment's case; OLTP), or
//!   many lukewarm keys whose misses scale with their gets (plain's case;
//!   P12 with a random hash). See the README for measurements.
//! - Fixed size ([`ShardsFixedSize`]): at most `S` sampled keys are
//!   tracked. The rate starts at 1; when a new key would exceed `S`, the key
//!   with the largest `hash mod P` is evicted, `T` drops to that value (so
//!   every key at or above it leaves the sample), and the counts already in
//!   the histogram are rescaled by `R_new / R_old` so that all counts are
//!   on the current rate's scale (section 4 of the paper). The curve is the
//!   cumulative histogram over its total (no SHARDS-adj, as in the paper).

use super::mattson::{Histogram, StackDistances};
use crate::request::Key;
use rustc_hash::FxHashMap;
use std::collections::BinaryHeap;

/// The modulus of the sampling test.
pub const P: u64 = 1 << 24;

/// The multiplier of the sampling hash: 2^64 divided by the golden ratio,
/// made odd (Knuth's Fibonacci hashing).
pub(crate) const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;

/// `hash(key) mod P`, the value compared with the threshold: the top 24
/// bits of `key * MULTIPLIER mod 2^64`.
#[inline]
pub fn hash_mod_p(key: Key) -> u64 {
    key.wrapping_mul(MULTIPLIER) >> (64 - P.trailing_zeros())
}

/// The full-trace stack distance a sampled stack distance `d` stands for
/// at rate `r`: `1 + (d - 1) / r`.
#[inline]
pub(crate) fn scale_distance(d: u64, r: f64) -> f64 {
    1.0 + (d as f64 - 1.0) / r
}

/// The threshold for rate `r` (0 < r <= 1).
pub fn threshold(r: f64) -> u64 {
    ((r * P as f64).round() as u64).clamp(1, P)
}

/// Fixed-rate SHARDS.
#[derive(Debug, Clone)]
pub struct ShardsFixedRate {
    t: u64,
    stack: StackDistances,
    /// Stack distances of sampled gets, in sampled units.
    pub hist: Histogram,
    /// Every get seen (sampled or not).
    pub gets: u64,
    /// Keys that entered the sample (by a get or a set; a key deleted and
    /// requested again counts again).
    pub sampled_keys: u64,
}

impl ShardsFixedRate {
    /// Samples the keys whose hash falls under `rate` (0 < rate <= 1).
    pub fn new(rate: f64) -> ShardsFixedRate {
        ShardsFixedRate {
            t: threshold(rate),
            stack: StackDistances::new(),
            hist: Histogram::default(),
            gets: 0,
            sampled_keys: 0,
        }
    }

    /// The rate actually used, `T / P`.
    pub(crate) fn rate(&self) -> f64 {
        self.t as f64 / P as f64
    }

    /// Keys tracked.
    pub fn tracked(&self) -> usize {
        self.stack.len()
    }

    /// Replays a get of `key`: records its stack distance if the key is sampled.
    #[inline]
    pub fn get(&mut self, key: Key) {
        self.gets += 1;
        if hash_mod_p(key) < self.t {
            let d = self.stack.access(key);
            self.sampled_keys += u64::from(d.is_none());
            self.hist.record(d);
        }
    }

    /// [`get`](Self::get) for each key in order. Same result, faster: the
    /// sampling test (a multiply and a compare) runs over a span of keys
    /// first, collecting the sampled ones (a fraction R), which then go to
    /// the stack together, so the two loops do not evict each other's data
    /// from the cache. The test takes four keys at a time without branches
    /// and looks at them one by one only when one of them is sampled (4%
    /// of quads at R = 1%): the scan then runs at about memory speed.
    pub fn get_all(&mut self, keys: &[Key]) {
        const SPAN: usize = 1 << 16;
        let t = self.t;
        let is_sampled = |k: &Key| hash_mod_p(*k) < t;
        let mut sampled = Vec::new();
        for span in keys.chunks(SPAN) {
            sampled.clear();
            let mut quads = span.chunks_exact(4);
            for quad in &mut quads {
                // `|` of the four tests (not `any`, which branches per key).
                if quad.iter().fold(0u8, |a, k| a | u8::from(is_sampled(k))) != 0 {
                    sampled.extend(quad.iter().filter(|k| is_sampled(k)));
                }
            }
            sampled.extend(quads.remainder().iter().filter(|k| is_sampled(k)));
            let (hist, new) = (&mut self.hist, &mut self.sampled_keys);
            self.stack.access_all(&sampled, |d| {
                *new += u64::from(d.is_none());
                hist.record(d);
            });
        }
        self.gets += keys.len() as u64;
    }

    #[inline]
    pub(crate) fn set(&mut self, key: Key) {
        if hash_mod_p(key) < self.t && self.stack.access(key).is_none() {
            self.sampled_keys += 1;
        }
    }

    #[inline]
    pub(crate) fn delete(&mut self, key: Key) {
        if hash_mod_p(key) < self.t {
            self.stack.remove(key);
        }
    }
}

/// Fixed-size SHARDS.
#[derive(Debug, Clone)]
pub struct ShardsFixedSize {
    t: u64,
    max_keys: usize,
    stack: StackDistances,
    /// Sampled keys by `hash mod P`, largest first.
    heap: BinaryHeap<(u64, Key)>,
    /// Weight per scaled distance (`ceil(1 + (d - 1) / R)` at the time of
    /// the get),
    /// stored divided by `scale` so that a rescale is O(1).
    weights: FxHashMap<u64, f64>,
    cold: f64,
    /// Product of the rescale factors so far.
    scale: f64,
    /// Every get seen (sampled or not).
    pub gets: u64,
}

impl ShardsFixedSize {
    /// Tracks at most `max_keys` keys (at least 1), lowering the rate as new
    /// keys arrive.
    pub fn new(max_keys: usize) -> ShardsFixedSize {
        ShardsFixedSize {
            t: P,
            max_keys: max_keys.max(1),
            stack: StackDistances::new(),
            heap: BinaryHeap::new(),
            weights: FxHashMap::default(),
            cold: 0.0,
            scale: 1.0,
            gets: 0,
        }
    }

    /// The current rate, `T / P`.
    pub(crate) fn rate(&self) -> f64 {
        self.t as f64 / P as f64
    }

    /// Keys tracked.
    pub fn tracked(&self) -> usize {
        self.stack.len()
    }

    /// Samples `key` if it passes the threshold, making room for it; returns
    /// the stack distance of the access (`None` if new), or `None` with
    /// `false` when not sampled.
    #[inline]
    fn touch(&mut self, key: Key) -> (bool, Option<u64>) {
        let h = hash_mod_p(key);
        if h >= self.t {
            return (false, None);
        }
        let d = self.stack.access(key);
        if d.is_none() {
            self.heap.push((h, key));
            while self.stack.len() > self.max_keys {
                self.lower_threshold();
            }
            if hash_mod_p(key) >= self.t {
                // The new key itself was the largest: it left the sample.
                return (false, None);
            }
        }
        (true, d)
    }

    /// Evicts every key with the largest `hash mod P` and lowers `T` to it.
    fn lower_threshold(&mut self) {
        let Some(&(top, _)) = self.heap.peek() else {
            return;
        };
        while let Some(&(h, k)) = self.heap.peek() {
            if h != top {
                break;
            }
            self.heap.pop();
            self.stack.remove(k);
        }
        let old = self.rate();
        self.t = top;
        self.scale *= self.rate() / old;
    }

    /// Replays a get of `key`: records its weighted, scaled stack distance if
    /// the key is sampled.
    #[inline]
    pub fn get(&mut self, key: Key) {
        self.gets += 1;
        let (sampled, d) = self.touch(key);
        if !sampled {
            return;
        }
        let w = 1.0 / self.scale;
        match d {
            Some(d) => {
                let scaled = scale_distance(d, self.rate()).ceil() as u64;
                *self.weights.entry(scaled).or_insert(0.0) += w;
            }
            None => self.cold += w,
        }
    }

    #[inline]
    pub(crate) fn set(&mut self, key: Key) {
        self.touch(key);
    }

    #[inline]
    pub(crate) fn delete(&mut self, key: Key) {
        if hash_mod_p(key) < self.t {
            self.stack.remove(key);
        }
    }

    /// (scaled distance, weight) sorted by distance, and the cold weight,
    /// on the current rate's scale.
    pub(crate) fn histogram(&self) -> (Vec<(u64, f64)>, f64) {
        let mut v: Vec<(u64, f64)> = self
            .weights
            .iter()
            .map(|(&d, &w)| (d, w * self.scale))
            .collect();
        v.sort_by_key(|&(d, _)| d);
        (v, self.cold * self.scale)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_by_key_and_near_the_rate() {
        let t = threshold(0.1);
        let sampled = (0..100_000u64).filter(|&k| hash_mod_p(k) < t).count();
        assert!((9_000..11_000).contains(&sampled), "{sampled}");
        // The hash is pinned: changing it changes every sampled curve.
        assert_eq!(hash_mod_p(0), 0);
        assert_eq!(hash_mod_p(1), 0x9E_3779);
        assert_eq!(hash_mod_p(u64::MAX), 0u64.wrapping_sub(MULTIPLIER) >> 40);
    }

    #[test]
    fn runs_of_consecutive_keys_are_sampled_evenly() {
        // A Weyl sequence: every prefix of a run of consecutive keys holds
        // n * R sampled keys to within 4 (a Binomial count would stray by
        // about sqrt(n * R), 30 at n = 100k, R = 1%).
        for rate in [0.01, 0.1, 0.37] {
            let t = threshold(rate);
            let r = t as f64 / P as f64;
            for start in [0u64, 1, 12_345, 1 << 40, u64::MAX - 50_000] {
                let mut count = 0u64;
                for n in 1..=100_000u64 {
                    count += u64::from(hash_mod_p(start.wrapping_add(n - 1)) < t);
                    let off = (count as f64 - n as f64 * r).abs();
                    assert!(off <= 4.0, "rate {rate} start {start} n {n}: {off}");
                }
            }
        }
    }

    #[test]
    fn get_all_equals_get_one_by_one() {
        // More keys than a span, not a multiple of four, over calls of
        // several lengths (as the chunked readers make them).
        let keys: Vec<u64> = (0..70_001u64).map(|i| (i * 7919) % 3001).collect();
        for rate in [0.01, 0.2, 1.0] {
            let mut a = ShardsFixedRate::new(rate);
            let mut b = ShardsFixedRate::new(rate);
            for part in [&keys[..3], &keys[3..1_000], &keys[1_000..]] {
                a.get_all(part);
            }
            for &k in &keys {
                b.get(k);
            }
            assert_eq!(
                (a.hist.clone(), a.gets, a.sampled_keys),
                (b.hist.clone(), b.gets, b.sampled_keys)
            );
            // Every key of 0..3001 appears; the sample is those under T.
            let t = threshold(rate);
            let want = (0..3001u64).filter(|&k| hash_mod_p(k) < t).count() as u64;
            assert_eq!(a.sampled_keys, want);
            assert!(a.hist.gets() > 0);
        }
    }

    #[test]
    fn rate_one_is_exact() {
        let mut s = ShardsFixedRate::new(1.0);
        let mut exact = StackDistances::new();
        let mut h = Histogram::default();
        for k in [1u64, 2, 3, 1, 2, 2, 4, 1] {
            s.get(k);
            h.record(exact.access(k));
        }
        assert_eq!(s.hist, h);
    }

    #[test]
    fn fixed_size_keeps_at_most_s_keys_and_lowers_the_rate() {
        let mut s = ShardsFixedSize::new(100);
        for k in 0..50_000u64 {
            s.get(k % 5_000);
            assert!(s.tracked() <= 100);
        }
        assert!(s.rate() < 0.05, "{}", s.rate());
        let (h, cold) = s.histogram();
        let total: f64 = h.iter().map(|x| x.1).sum::<f64>() + cold;
        // Rescaled counts estimate the number of gets at the final rate.
        let expected = 50_000.0 * s.rate();
        assert!(
            (total - expected).abs() < expected * 0.5,
            "{total} vs {expected}"
        );
    }
}
