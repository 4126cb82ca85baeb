//! Miniature simulations (Waldspurger, Saemundsson, Ahmad and Park, "Cache
//! Modeling and Optimization using Miniature Simulations", USENIX ATC 2017):
//! the miss-ratio curve of any policy, not only LRU, from small replays.
//!
//! The workload is sampled spatially, by key, with the hash and threshold
//! of SHARDS ([`super::shards::hash_mod_p`] `< round(R * 2^24)`): every
//! request of a sampled key is kept, in order, with its op, size, time and
//! TTL; the others are dropped. The sampled stream looks like the whole
//! one seen through a cache `R` times smaller, so policy `P`'s miss ratio at
//! capacity `C` is estimated by replaying `P` on the sample at the *scaled
//! capacity* `max(1, round(C * R))` ([`scaled_capacity`]) through the real
//! replay loop ([`replay_batch`]): sampled misses over sampled gets.
//!
//! The sample's keys are relabelled by [`relabel`] (SplitMix64's
//! finaliser, a bijection): the sampled keys are those whose Fibonacci hash
//! has small top bits, and the policies' key index (`LinkedSlab`) and the
//! next-use table place keys by the same top bits, so without it every
//! sampled key would land in the first `R` of the index's slots and each
//! lookup would probe a cluster of them (measured: 37 ms per replay of a
//! 68k-request sample, 20x slower than with the relabelling). A key is
//! only an identity to a policy, so the replays are unchanged otherwise.
//!
//! The workload is sampled once ([`Sample::of_data`], one pass); every
//! (policy, size) replay then reads the in-memory sample, about `R` of the
//! requests. A size whose scaled capacity holds fewer than
//! [`MIN_SCALED_OBJECTS`] (100) objects is flagged: the policy's structure
//! (S3-FIFO's 10% small queue, 2Q's A1in, W-TinyLFU's 1% window) is then
//! made of a handful of objects, and rounding `C * R` moves the capacity by
//! up to half an object, 0.5% at 100.

use super::shards::{hash_mod_p, threshold, P};
use crate::policy::{self, BuildCtx, SpecError, StrategySpec};
use crate::request::Op;
use crate::sim::replay::{replay_batch, ChargeModel, Counters};
use crate::sim::runner::{for_each_batch, Data, RunError};
use crate::workload::Batch;
use indicatif::ProgressBar;
use rustc_hash::FxHashSet;

/// Sizes whose scaled capacity is below this many objects are flagged.
pub const MIN_SCALED_OBJECTS: u64 = 100;

/// The capacity a mini-simulation of capacity `c` runs at, sampled at
/// rate `r`: `round(c * r)`, at least 1.
pub fn scaled_capacity(c: u64, r: f64) -> u64 {
    ((c as f64 * r).round() as u64).max(1)
}

/// The key a sampled `key` has in the sample: SplitMix64's finaliser, a
/// bijection whose bits are independent of the sampling hash's.
#[inline]
pub fn relabel(key: u64) -> u64 {
    crate::rng::splitmix(key)
}

/// The rate actually used for rate `r`: the threshold over `2^24`.
pub fn effective_rate(r: f64) -> f64 {
    threshold(r) as f64 / P as f64
}

/// A workload sampled by key.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The sampled requests, in stream order.
    pub batch: Batch,
    /// The rate actually used (`T / 2^24`).
    pub rate: f64,
    /// Distinct keys in the sample.
    pub keys: u64,
    /// Requests in the whole workload.
    pub requests: u64,
    /// Gets in the whole workload.
    pub gets: u64,
    /// Next uses in the sample, for offline policies (Belady); `None`
    /// until [`Sample::with_future`].
    pub next_use: Option<Vec<u64>>,
}

impl Sample {
    /// Samples `data` at rate `r` in one pass, advancing `pb` by every
    /// request read.
    pub fn of_data(data: &Data, r: f64, pb: &ProgressBar) -> Result<Sample, RunError> {
        let mut s = Sampler::new(r);
        for_each_batch(data, pb, |b, range, base| {
            s.feed(b, range, base);
            Ok(())
        })?;
        Ok(s.finish())
    }

    /// Samples an in-memory batch at rate `r`.
    pub fn of_batch(b: &Batch, r: f64) -> Sample {
        let mut s = Sampler::new(r);
        s.feed(b, 0..b.len(), 0);
        s.finish()
    }

    /// Computes the sample's next uses (once), for offline policies.
    pub fn with_future(mut self) -> Sample {
        if self.next_use.is_none() {
            self.next_use = Some(crate::workload::future::next_use(&self.batch.keys));
        }
        self
    }

    /// The miss ratio a replay of the sample counted in `n` stands for.
    /// With `adj` (as SHARDS-adj, `super::shards`): the sampled misses over
    /// the gets a sample at this rate is expected to hold, `rate * gets`,
    /// so that a surplus of sampled gets (a very hot key that happens to be
    /// sampled) counts as hits; clamped to [0, 1]. Without: sampled misses
    /// over sampled gets, the paper's estimate.
    pub fn miss_ratio(&self, n: &Counters, adj: bool) -> f64 {
        let total = if adj {
            self.rate * self.gets as f64
        } else {
            n.gets as f64
        };
        if total <= 0.0 {
            return 0.0;
        }
        (n.misses as f64 / total).clamp(0.0, 1.0)
    }

    /// Replays `spec` (a policy counting objects) on the sample at capacity
    /// `c` of the whole workload, i.e. at [`scaled_capacity`]`(c, rate)`.
    /// An offline policy needs [`Sample::with_future`] first.
    pub fn simulate(&self, spec: &StrategySpec, c: u64, seed: u64) -> Result<Counters, SpecError> {
        replay_all(
            &self.batch,
            self.next_use.as_deref(),
            spec,
            scaled_capacity(c, self.rate),
            seed,
        )
    }
}

/// Replays all of `b` (with next uses `next_use` for an offline policy)
/// against `spec` built at `capacity` objects, through the replay loop.
pub fn replay_all(
    b: &Batch,
    next_use: Option<&[u64]>,
    spec: &StrategySpec,
    capacity: u64,
    seed: u64,
) -> Result<Counters, SpecError> {
    let mut built = policy::build(
        spec,
        &BuildCtx {
            capacity,
            seed,
            ttl: None,
        },
    )?;
    let charge = ChargeModel {
        bytes: false,
        capacity,
    };
    let mut c = Counters::default();
    crate::dispatch!(&mut built.policy, p => replay_batch(p, b, 0..b.len(), 0, next_use, charge.into(), &mut c));
    Ok(c)
}

/// The sampling pass, fed piece by piece.
struct Sampler {
    t: u64,
    out: Batch,
    keys: FxHashSet<u64>,
    requests: u64,
    gets: u64,
}

impl Sampler {
    fn new(r: f64) -> Sampler {
        Sampler {
            t: threshold(r),
            out: Batch::new(1.0, 1),
            keys: FxHashSet::default(),
            requests: 0,
            gets: 0,
        }
    }

    /// Keeps the requests of `b[range]` (stream positions from `base`)
    /// whose key is sampled, with their time, size, op and TTL.
    fn feed(&mut self, b: &Batch, range: std::ops::Range<usize>, base: u64) {
        if self.out.is_empty() {
            // The sample keeps the workload's rate and object size, so
            // their columns stay implicit where the workload's are.
            self.out.rate = b.rate;
            self.out.unit_size = b.unit_size;
        }
        self.requests += range.len() as u64;
        self.gets += if b.ops.is_empty() {
            range.len() as u64
        } else {
            b.ops[range.clone()]
                .iter()
                .filter(|&&o| o == Op::Get)
                .count() as u64
        };
        for i in range {
            let key = b.keys[i];
            if hash_mod_p(key) >= self.t {
                continue;
            }
            let mut r = b.request(i, base + i as u64);
            r.key = relabel(key);
            let v = self.out.len() as u64;
            self.out.push(&r, v);
            self.out.set_last_ttl(b.ttl(i));
            self.keys.insert(key);
        }
    }

    fn finish(self) -> Sample {
        Sample {
            batch: self.out,
            rate: self.t as f64 / P as f64,
            keys: self.keys.len() as u64,
            requests: self.requests,
            gets: self.gets,
            next_use: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::Request;

    #[test]
    fn scaled_capacity_rounds_to_nearest_and_is_at_least_one() {
        assert_eq!(scaled_capacity(10_000, 0.01), 100);
        assert_eq!(scaled_capacity(10_049, 0.01), 100);
        assert_eq!(scaled_capacity(10_050, 0.01), 101);
        assert_eq!(scaled_capacity(149, 0.01), 1);
        assert_eq!(scaled_capacity(49, 0.01), 1);
        assert_eq!(scaled_capacity(1, 0.001), 1);
        assert_eq!(scaled_capacity(7, 1.0), 7);
    }

    #[test]
    fn the_sample_is_every_request_of_the_sampled_keys_in_order() {
        // Gets, sets and deletes, sizes and TTLs over 5,000 keys.
        let mut b = Batch::new(100.0, 1);
        for v in 0..60_000u64 {
            let key = (v * 7919) % 5_000;
            let op = match v % 7 {
                0 => Op::Set,
                1 => Op::Delete,
                _ => Op::Get,
            };
            let r = Request {
                time: v as f64 / 100.0,
                key,
                size: (key % 13) as u32 + 1,
                op,
            };
            b.push(&r, v);
            b.set_last_ttl((key % 3) as f32);
        }
        let s = Sample::of_batch(&b, 0.1);
        let t = threshold(0.1);
        assert_eq!(s.rate, t as f64 / P as f64);
        assert_eq!(s.requests, 60_000);
        let want: Vec<(Request, f32)> = (0..b.len())
            .filter(|&i| hash_mod_p(b.keys[i]) < t)
            .map(|i| {
                let mut r = b.request(i, i as u64);
                r.key = relabel(r.key);
                (r, b.ttl(i))
            })
            .collect();
        let got: Vec<(Request, f32)> = (0..s.batch.len())
            .map(|i| (s.batch.request(i, i as u64), s.batch.ttl(i)))
            .collect();
        assert_eq!(got, want);
        // About 10% of the keys; every one of them.
        let keys: FxHashSet<u64> = want.iter().map(|w| w.0.key).collect();
        assert_eq!(s.keys, keys.len() as u64);
        assert!((450..=550).contains(&s.keys), "{}", s.keys);
        // Piecewise (as a trace is read) gives the same sample.
        let mut p = Sampler::new(0.1);
        p.feed(&b, 0..1_000, 0);
        p.feed(&b, 1_000..b.len(), 0);
        let q = p.finish();
        assert_eq!(q.batch, s.batch);
        assert_eq!(q.keys, s.keys);
    }

    #[test]
    fn relabelled_sampled_keys_spread_over_the_key_index() {
        // The sampled keys' Fibonacci hashes all have small top bits: the
        // index's home slots (top bits too) of 1,000 sampled keys in a
        // table of 4,096 would all fall in the first 1%. Relabelled, they
        // cover most of its 64 sixty-fourths.
        let t = threshold(0.01);
        let sampled: Vec<u64> = (0..10_000_000u64)
            .filter(|&k| hash_mod_p(k) < t)
            .take(1_000)
            .collect();
        assert_eq!(sampled.len(), 1_000);
        let home = |k: u64| (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - 12)) as usize;
        assert!(sampled.iter().all(|&k| home(k) < 4096 / 100 + 1));
        let parts: FxHashSet<usize> = sampled.iter().map(|&k| home(relabel(k)) / 64).collect();
        assert!(parts.len() >= 60, "{}", parts.len());
        let distinct: FxHashSet<u64> = sampled.iter().map(|&k| relabel(k)).collect();
        assert_eq!(distinct.len(), 1_000);
    }

    #[test]
    fn adjusted_miss_ratio_divides_by_the_expected_sampled_gets() {
        // Key 0 hashes to 0 and is always sampled: half of a workload of
        // 40,000 requests is key 0, the other half 20,000 distinct keys.
        let mut b = Batch::new(1.0, 1);
        for v in 0..40_000u64 {
            let key = if v % 2 == 0 { 0 } else { 1 + v / 2 };
            let r = Request {
                time: v as f64,
                key,
                size: 1,
                op: Op::Get,
            };
            b.push(&r, v);
        }
        let s = Sample::of_batch(&b, 0.1);
        assert_eq!(s.gets, 40_000);
        let n = s
            .simulate(&StrategySpec::parse("lru").unwrap(), 1_000, 1)
            .unwrap();
        // Every sampled get of the other keys misses, key 0 misses once.
        let others = n.gets - 20_000;
        assert_eq!(n.misses, others + 1);
        // Plain: the 20,000 gets of key 0 swamp the sample (about 92% hits).
        let plain = s.miss_ratio(&n, false);
        assert_eq!(plain, n.misses as f64 / n.gets as f64);
        assert!(plain < 0.1, "{plain}");
        // Adjusted: sampled misses over R x 40,000, near the true 0.5.
        let adj = s.miss_ratio(&n, true);
        assert_eq!(adj, (n.misses as f64 / (s.rate * 40_000.0)).min(1.0));
        assert!((adj - 0.5).abs() < 0.05, "{adj}");
    }

    #[test]
    fn rate_one_replays_the_whole_workload() {
        let mut b = Batch::new(1.0, 1);
        for v in 0..20_000u64 {
            let key = (v * v) % 997;
            b.push(
                &Request {
                    time: v as f64,
                    key,
                    size: 1,
                    op: Op::Get,
                },
                v,
            );
        }
        let spec = StrategySpec::parse("arc").unwrap();
        let s = Sample::of_batch(&b, 1.0);
        assert_eq!(s.batch.len(), b.len());
        let mini = s.simulate(&spec, 100, 1).unwrap();
        let full = replay_all(&b, None, &spec, 100, 1).unwrap();
        assert_eq!(mini, full);
        assert!(mini.hits > 0 && mini.misses > 0);
    }

    #[test]
    fn a_sampled_run_uses_the_scaled_capacity() {
        // 1,000 keys read round-robin: a cache of all of them hits after the
        // first round; one of fewer misses every time (LRU on a loop). At
        // 10%, about 100 keys are sampled: capacity 1,000 scales to 100 and
        // hits, capacity 900 scales to 90 and misses.
        let mut b = Batch::new(1.0, 1);
        for v in 0..50_000u64 {
            let r = Request {
                time: v as f64,
                key: v % 1_000,
                size: 1,
                op: Op::Get,
            };
            b.push(&r, v);
        }
        let s = Sample::of_batch(&b, 0.1);
        let lru = StrategySpec::parse("lru").unwrap();
        let keys = s.keys;
        assert!((95..=105).contains(&keys), "{keys}");
        let big = s
            .simulate(&lru, (keys as f64 / s.rate).ceil() as u64, 1)
            .unwrap();
        assert_eq!(big.misses, keys);
        let small = s.simulate(&lru, 900, 1).unwrap();
        assert_eq!(small.hits, 0);
    }
}
