//! Writes, versions and stale reads: what expiry and invalidation trade.
//!
//! Every key has a version at the origin, bumped by each write (`set`
//! request: a `--write-ratio` write, a YCSB update or insert, or a trace's
//! `set`). Every cached value carries the version it was read at (recorded by
//! the loop at fill time); a hit on an older version is a **stale hit**, whose
//! **stale age** is how long ago the served value changed: the request's time
//! minus the time of the first write after the cached version.
//!
//! What a write does to the cache is the write policy, `--on-write`:
//! - `invalidate` (default): the cached entry is deleted (look-aside caching
//!   with delete-on-write, as memcached users do); the next read misses and
//!   fetches the new version. Never a stale hit.
//! - `update`: write-through: the cache is updated with the new value and
//!   version (the policy's `set`: update in place, or insert when absent).
//!   Never a stale hit.
//! - `none`: the cache is left alone: the old value is served until it is
//!   evicted or expires (a TTL is the only cure).
//!
//! The version tracking lives here and in the loop below, not in the
//! policies. It is only used for batches that carry ops; a stream of gets only
//! goes through [`super::replay::replay_batch_with`] untouched, so workloads
//! without writes pay nothing. A `delete` request removes the cached entry and
//! does not change the version (it is the cache-side invalidation a trace
//! records, not a write of the data).

use super::latency::{LatencySink, OriginError};
use super::replay::{ChargeModel, Counters};
use crate::policy::{Access, Evictions, Policy};
use crate::request::{Key, Op};
use crate::workload::Batch;
use rustc_hash::FxHashMap;

pub use super::write::OnWrite;
use super::write::WriteAction;

/// One written key: its origin version, the version its cached copy (if
/// any) was read at, and when that cached copy went stale.
#[derive(Debug, Clone, Copy, Default)]
struct KeyState {
    version: u32,
    cached: u32,
    /// Time of the first write after version `cached`.
    stale_since: f64,
}

/// Per-key versions. Only keys that were ever written have an entry: a key
/// without one is at version 0 and any cached copy of it is current.
#[derive(Debug, Default, Clone)]
pub struct Versions {
    keys: FxHashMap<Key, KeyState>,
}

impl Versions {
    /// A write of `key` at `time`: bumps its version.
    #[inline]
    fn write(&mut self, key: Key, time: f64) {
        let s = self.keys.entry(key).or_default();
        if s.cached == s.version {
            // The cached copy (if any) was current until now.
            s.stale_since = time;
        }
        s.version = s.version.wrapping_add(1);
    }

    /// The cache now holds the current version of `key`.
    #[inline]
    fn fill(&mut self, key: Key) {
        if let Some(s) = self.keys.get_mut(&key) {
            s.cached = s.version;
        }
    }

    /// A hit on `key` at `time`: the stale age if the cached copy is stale.
    #[inline]
    fn stale_age(&self, key: Key, time: f64) -> Option<f64> {
        match self.keys.get(&key) {
            Some(s) if s.cached != s.version => Some((time - s.stale_since).max(0.0)),
            _ => None,
        }
    }

    /// Keys ever written.
    pub fn written_keys(&self) -> usize {
        self.keys.len()
    }
}

/// Stale reads counted by one replay.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct StaleStats {
    pub stale_hits: u64,
    pub stale_age_sum_s: f64,
    pub stale_age_max_s: f64,
}

impl StaleStats {
    /// Mean stale age, `None` without stale hits.
    pub fn mean_age_s(&self) -> Option<f64> {
        (self.stale_hits > 0).then(|| self.stale_age_sum_s / self.stale_hits as f64)
    }

    /// Max stale age, `None` without stale hits.
    pub fn max_age_s(&self) -> Option<f64> {
        (self.stale_hits > 0).then_some(self.stale_age_max_s)
    }
}

/// [`super::replay::replay_batch_with`] for batches with ops: the same
/// counting, demand fill and latency, plus versions, stale hits and the
/// write policy `on_write` applied to `set` requests.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn replay_batch_versioned<P: Policy + ?Sized, L: LatencySink>(
    policy: &mut P,
    batch: &Batch,
    range: std::ops::Range<usize>,
    vtime_base: u64,
    next_use: Option<&[u64]>,
    charge: ChargeModel,
    c: &mut Counters,
    lat: &mut L,
    on_write: OnWrite,
    versions: &mut Versions,
    stale: &mut StaleStats,
) -> Result<(), OriginError> {
    let mut ev = Evictions::default();
    let n = range.len() as u64;
    for i in range {
        let vtime = vtime_base + i as u64;
        let r = batch.request(i, vtime);
        let a = Access {
            key: r.key,
            charge: if charge.bytes { u64::from(r.size) } else { 1 },
            time: r.time,
            vtime,
            next_vtime: next_use.map_or(u64::MAX, |n| n[i]),
        };
        match r.op {
            Op::Get => {
                c.gets += 1;
                c.bytes_requested += u64::from(r.size);
                let t0 = lat.begin();
                if policy.get(&a) {
                    c.hits += 1;
                    lat.hit(t0);
                    if let Some(age) = versions.stale_age(a.key, a.time) {
                        stale.stale_hits += 1;
                        stale.stale_age_sum_s += age;
                        if age > stale.stale_age_max_s {
                            stale.stale_age_max_s = age;
                        }
                    }
                } else {
                    c.misses += 1;
                    c.bytes_missed += u64::from(r.size);
                    let t1 = lat.mark(t0);
                    let origin_ns = match lat.fetch(a.key, r.size) {
                        Ok(ns) => ns,
                        Err(e) => {
                            c.evictions += ev.evicted;
                            c.expirations += ev.expired;
                            return Err(e);
                        }
                    };
                    let t2 = lat.mark(t0);
                    if a.charge <= charge.capacity {
                        policy.insert(&a, &mut ev);
                        versions.fill(a.key);
                    }
                    lat.miss(t0, t1, t2, origin_ns);
                }
            }
            Op::Set => {
                c.sets += 1;
                versions.write(a.key, a.time);
                match on_write.action(Op::Set, a.charge <= charge.capacity) {
                    WriteAction::Drop => {
                        policy.remove(a.key);
                    }
                    WriteAction::Update => {
                        policy.set(&a, &mut ev);
                        versions.fill(a.key);
                    }
                    WriteAction::Keep => {}
                }
            }
            Op::Delete => {
                c.deletes += 1;
                policy.remove(a.key);
            }
        }
    }
    c.requests += n;
    c.evictions += ev.evicted;
    c.expirations += ev.expired;
    Ok(())
}

/// Inserts `keys` (most popular first) into `policy` at `time` without
/// counting anything: the least popular first, so that the most popular end
/// up most recent and are the last a recency policy would evict. Keys larger
/// than the whole capacity are skipped.
pub fn prefill<P: Policy + ?Sized>(
    policy: &mut P,
    keys: &[(Key, u32)],
    time: f64,
    charge: ChargeModel,
) {
    let mut ev = Evictions::default();
    prefill_each(keys, time, charge, |a, _| {
        if !policy.get(a) {
            policy.insert(a, &mut ev);
        }
    });
}

/// Calls `fill(access, size)` for each of `keys` that fits the capacity,
/// least popular first (so an LRU-like cache keeps the most popular when
/// they do not all fit), all at `time`: the loop of every prefill.
pub fn prefill_each(
    keys: &[(Key, u32)],
    time: f64,
    charge: ChargeModel,
    mut fill: impl FnMut(&Access, u32),
) {
    for &(key, size) in keys.iter().rev() {
        let a = Access {
            key,
            charge: if charge.bytes { u64::from(size) } else { 1 },
            time,
            vtime: 0,
            next_vtime: u64::MAX,
        };
        if a.charge <= charge.capacity {
            fill(&a, size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::lru::Lru;
    use crate::request::Request;
    use crate::sim::latency::NoLatency;

    fn batch(reqs: &[(u64, Op)]) -> Batch {
        let mut b = Batch::new(1.0, 1);
        for (v, &(k, op)) in reqs.iter().enumerate() {
            b.push(
                &Request {
                    time: v as f64,
                    key: k,
                    size: 1,
                    op,
                },
                v as u64,
            );
        }
        b
    }

    fn run(b: &Batch, on_write: OnWrite) -> (Counters, StaleStats) {
        let mut lru = Lru::new(10);
        let mut c = Counters::default();
        let mut s = StaleStats::default();
        replay_batch_versioned(
            &mut lru,
            b,
            0..b.len(),
            0,
            None,
            ChargeModel {
                bytes: false,
                capacity: 10,
            },
            &mut c,
            &mut NoLatency,
            on_write,
            &mut Versions::default(),
            &mut s,
        )
        .unwrap();
        (c, s)
    }

    #[test]
    fn write_policies_decide_what_a_write_does() {
        use Op::*;
        // t=0 fill, t=1 hit, t=2 write, t=3 write, t=4 read, t=5 read.
        let b = batch(&[(1, Get), (1, Get), (1, Set), (1, Set), (1, Get), (1, Get)]);
        let (c, s) = run(&b, OnWrite::Invalidate);
        assert_eq!((c.hits, c.misses, s.stale_hits), (2, 2, 0));
        let (c, s) = run(&b, OnWrite::Update);
        assert_eq!((c.hits, c.misses, s.stale_hits), (3, 1, 0));
        let (c, s) = run(&b, OnWrite::None);
        assert_eq!((c.hits, c.misses, s.stale_hits), (3, 1, 2));
        // Stale since the first write after the cached version (t=2).
        assert_eq!(s.stale_age_sum_s, 2.0 + 3.0);
        assert_eq!(s.max_age_s(), Some(3.0));
        assert_eq!(c.sets, 2);
    }

    #[test]
    fn a_refill_after_eviction_is_current_again() {
        use Op::*;
        // Key 1 cached at version 0, written (stale), deleted, refilled.
        let b = batch(&[
            (1, Get),
            (1, Set),
            (1, Get),
            (1, Delete),
            (1, Get),
            (1, Get),
        ]);
        let (c, s) = run(&b, OnWrite::None);
        assert_eq!((c.hits, s.stale_hits), (2, 1));
    }
}
