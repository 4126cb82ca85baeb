//! Versions and stale reads: what expiry and invalidation trade.
//!
//! Every key has a version at the origin, bumped by each write (a `set`
//! request: a `--write-ratio` write, a YCSB update or insert, or a trace's
//! `set`; and a `delete`, which removes the data). Every cached copy carries
//! the version it was read at (recorded by the loop when it fills the copy);
//! a hit on an older version is a **stale hit**, whose **stale age** is how
//! long ago the served value changed: the request's time minus the time of
//! the first write after the copy's version.
//!
//! What a write does to the cached copies is the one rule in
//! [`super::write`]; this module only keeps the versions. A [`Versions`]
//! store serves any number of copies of a key (one cache; a fleet's
//! instances, its shared cache and its L1s), numbered from 0, and grows with
//! the keys written, not with the writes. The loop is generic over
//! [`Freshness`]: a stream of gets only replays with [`NoVersions`], whose
//! methods compile to nothing, so workloads without writes pay nothing.

use super::replay::ChargeModel;
use crate::policy::{Access, Evictions, Policy};
use crate::request::Key;
use rustc_hash::FxHashMap;

pub use super::write::OnWrite;

/// Version tracking as the replay loop sees it: a zero-cost type parameter
/// ([`NoVersions`] or [`Versions`]), like [`super::latency::LatencySink`].
pub trait Freshness {
    /// Whether it reads the requests' times (the replay loop computes them
    /// only if something does).
    #[inline]
    fn reads_time(&self) -> bool {
        true
    }

    /// A write of `key` at `time`: its version moves on; copies that were
    /// current go stale now.
    fn write(&mut self, key: Key, time: f64);
    /// Copy `copy` of `key` now holds the current version.
    fn fill(&mut self, key: Key, copy: usize);
    /// A hit on copy `copy` of `key` at `time`: counts a stale hit when the
    /// copy is older than the origin's version.
    fn hit(&mut self, key: Key, time: f64, copy: usize);
}

/// No versions: for streams without writes.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoVersions;

impl Freshness for NoVersions {
    #[inline(always)]
    fn reads_time(&self) -> bool {
        false
    }

    #[inline(always)]
    fn write(&mut self, _key: Key, _time: f64) {}
    #[inline(always)]
    fn fill(&mut self, _key: Key, _copy: usize) {}
    #[inline(always)]
    fn hit(&mut self, _key: Key, _time: f64, _copy: usize) {}
}

/// One copy of a written key: the version it was filled with, and when
/// that version was overwritten (meaningful once it is stale).
#[derive(Debug, Clone, Copy, Default)]
struct CopyState {
    filled: u32,
    stale_since: f64,
}

/// One written key: its origin version and the state of each copy.
#[derive(Debug, Clone)]
struct KeyState {
    version: u32,
    copies: Box<[CopyState]>,
}

/// Per-key versions for `copies` copies of every key. Only keys that were
/// ever written have an entry: a key without one is at version 0 and every
/// copy of it is current.
#[derive(Debug, Clone)]
pub(crate) struct Versions {
    keys: FxHashMap<Key, KeyState>,
    copies: usize,
    /// Stale hits counted so far.
    pub stale: StaleStats,
}

impl Default for Versions {
    fn default() -> Versions {
        Versions::new(1)
    }
}

impl Versions {
    /// A store for `copies` copies of each key.
    pub(crate) fn new(copies: usize) -> Versions {
        Versions {
            keys: FxHashMap::default(),
            copies: copies.max(1),
            stale: StaleStats::default(),
        }
    }

    /// Copy `to` of `key` takes copy `from`'s version (a tiered fleet's L1
    /// filled from its L2's copy, stale or not).
    #[inline]
    pub(crate) fn fill_from(&mut self, key: Key, to: usize, from: usize) {
        if let Some(s) = self.keys.get_mut(&key) {
            s.copies[to] = s.copies[from];
        }
    }
}

impl Freshness for Versions {
    #[inline]
    fn write(&mut self, key: Key, time: f64) {
        let n = self.copies;
        let s = self.keys.entry(key).or_insert_with(|| KeyState {
            version: 0,
            copies: vec![CopyState::default(); n].into_boxed_slice(),
        });
        for c in s.copies.iter_mut() {
            if c.filled == s.version {
                // This copy (if cached) was current until now.
                c.stale_since = time;
            }
        }
        s.version = s.version.wrapping_add(1);
    }

    #[inline]
    fn fill(&mut self, key: Key, copy: usize) {
        if let Some(s) = self.keys.get_mut(&key) {
            s.copies[copy].filled = s.version;
        }
    }

    #[inline]
    fn hit(&mut self, key: Key, time: f64, copy: usize) {
        if let Some(s) = self.keys.get(&key) {
            let c = s.copies[copy];
            if c.filled != s.version {
                self.stale.record((time - c.stale_since).max(0.0));
            }
        }
    }
}

/// Stale reads counted by one replay.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct StaleStats {
    pub stale_hits: u64,
    pub stale_age_sum_s: f64,
    pub stale_age_max_s: f64,
}

impl StaleStats {
    /// One stale hit, `age` seconds after its value changed.
    #[inline]
    pub(crate) fn record(&mut self, age: f64) {
        self.stale_hits += 1;
        self.stale_age_sum_s += age;
        if age > self.stale_age_max_s {
            self.stale_age_max_s = age;
        }
    }

    /// Mean stale age, `None` without stale hits.
    pub(crate) fn mean_age_s(&self) -> Option<f64> {
        (self.stale_hits > 0).then(|| self.stale_age_sum_s / self.stale_hits as f64)
    }

    /// Max stale age, `None` without stale hits.
    pub(crate) fn max_age_s(&self) -> Option<f64> {
        (self.stale_hits > 0).then_some(self.stale_age_max_s)
    }
}

/// Inserts `keys` (most popular first) into `policy` at `time` without
/// counting anything: the least popular first, so that the most popular end
/// up most recent and are the last a recency policy would evict. Keys larger
/// than the whole capacity are skipped.
pub(crate) fn prefill<P: Policy + ?Sized>(
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
pub(crate) fn prefill_each(
    keys: &[(Key, u32)],
    time: f64,
    charge: ChargeModel,
    mut fill: impl FnMut(&Access, u32),
) {
    for &(key, size) in keys.iter().rev() {
        let a = Access {
            key,
            charge: charge.of(size),
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
    use crate::request::Op;
    use crate::request::Request;
    use crate::sim::replay::{replay_lru10, Counters};
    use crate::workload::Batch;

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
        let mut v = Versions::default();
        let (c, _) = replay_lru10(b, on_write, &mut v, &mut crate::sim::expiry::NoExpiry);
        (c, v.stale)
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
