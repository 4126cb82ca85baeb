//! The replay loop: the hot path, and the only place that applies the
//! request rules to one cache. It owns demand fill, counting and timing; the
//! policy only decides what to keep.
//!
//! Per request:
//! - `get`: a hit if the policy has the key; otherwise a miss, after which the
//!   key is fetched from the origin and inserted (demand fill) unless its
//!   charge exceeds the whole capacity (an object larger than the cache is
//!   never admitted, as in libCacheSim).
//! - `set` and `delete`: what they do to the cached copy is the run's write
//!   policy, decided by [`OnWrite::action`] (the one rule fleets and real
//!   servers apply too): drop it, write the new value through (the policy's
//!   `set`), or keep the old one.
//!
//! - a request's TTL (from the trace) gives the object it fills a deadline;
//!   a get past it finds the object expired ([`super::expiry`]): removed,
//!   counted in `expirations`, and a miss.
//!
//! Hit ratio is counted over gets only. The loop is generic over the policy,
//! the latency sink, the version tracker and the deadlines, so each
//! combination gets its own compiled loop with no dynamic dispatch, and a
//! stream without writes (tracked by [`NoVersions`]) or TTLs ([`NoExpiry`])
//! pays nothing for them.

use super::expiry::{Expiry, NoExpiry};
use super::freshness::{Freshness, NoVersions};
use super::latency::{LatencySink, NoLatency, OriginError};
use super::write::{OnWrite, WriteAction};
use crate::policy::{Access, Evictions, Policy};
use crate::request::{Op, Request};
use crate::workload::Batch;
use serde::{Deserialize, Serialize};

/// What one replay counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// Requests replayed (gets + sets + deletes).
    pub requests: u64,
    /// Get requests.
    pub gets: u64,
    /// Gets that found the key cached.
    pub hits: u64,
    /// Gets that did not.
    pub misses: u64,
    /// Set (write) requests.
    pub sets: u64,
    /// Delete requests.
    pub deletes: u64,
    /// Entries removed to make room.
    pub evictions: u64,
    /// Entries removed because their TTL had passed.
    pub expirations: u64,
    /// Bytes asked for by gets.
    pub bytes_requested: u64,
    /// Bytes of gets that missed.
    pub bytes_missed: u64,
}

impl Counters {
    /// hits / gets; 0 without gets.
    pub fn hit_ratio(&self) -> f64 {
        if self.gets == 0 {
            0.0
        } else {
            self.hits as f64 / self.gets as f64
        }
    }

    pub(crate) fn byte_hit_ratio(&self) -> f64 {
        if self.bytes_requested == 0 {
            0.0
        } else {
            1.0 - self.bytes_missed as f64 / self.bytes_requested as f64
        }
    }
}

impl std::ops::AddAssign for Counters {
    fn add_assign(&mut self, o: Counters) {
        self.requests += o.requests;
        self.gets += o.gets;
        self.hits += o.hits;
        self.misses += o.misses;
        self.sets += o.sets;
        self.deletes += o.deletes;
        self.evictions += o.evictions;
        self.expirations += o.expirations;
        self.bytes_requested += o.bytes_requested;
        self.bytes_missed += o.bytes_missed;
    }
}

impl std::ops::AddAssign<Evictions> for Counters {
    fn add_assign(&mut self, ev: Evictions) {
        self.evictions += ev.evicted;
        self.expirations += ev.expired;
    }
}

/// How the loop charges objects against the capacity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChargeModel {
    /// Charge each object its size in bytes (byte capacity), else 1.
    pub bytes: bool,
    /// The capacity in charge units.
    pub capacity: u64,
}

impl ChargeModel {
    /// What an object of `size` bytes costs.
    #[inline]
    pub(crate) fn of(&self, size: u32) -> u64 {
        if self.bytes {
            u64::from(size)
        } else {
            1
        }
    }
}

/// The rules of one run's loop: how objects are charged, and what a write
/// does to a cached copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How objects are charged against the capacity.
    pub charge: ChargeModel,
    /// What a write does to a cached copy (`--on-write`).
    pub on_write: OnWrite,
}

/// The CLI's rules for a charge model: `--on-write invalidate`.
impl From<ChargeModel> for Rules {
    fn from(charge: ChargeModel) -> Rules {
        Rules::new(charge, OnWrite::default())
    }
}

impl Rules {
    /// Rules charging objects by `charge`, applying `on_write` to writes.
    pub fn new(charge: ChargeModel, on_write: OnWrite) -> Rules {
        Rules { charge, on_write }
    }
}

/// How many requests ahead the loop computes request times.
const TIME_AHEAD: usize = 8;

/// Replays requests `range` of `batch` against `policy` under `rules`,
/// adding to `c`, without latency or versions. Request `i` of the batch is
/// number `vtime_base + i` of the stream. `next_use`, when given, holds for
/// each request of the batch the stream position of the next request for the
/// same key (`u64::MAX` for none), for offline policies.
pub fn replay_batch<P: Policy + ?Sized>(
    policy: &mut P,
    batch: &Batch,
    range: std::ops::Range<usize>,
    vtime_base: u64,
    next_use: Option<&[u64]>,
    rules: Rules,
    c: &mut Counters,
) {
    replay_batch_with(
        policy,
        batch,
        range,
        vtime_base,
        next_use,
        rules,
        c,
        &mut NoLatency,
        &mut NoVersions,
        &mut NoExpiry,
    )
    .expect("a replay without an origin cannot fail");
}

/// The loop: [`replay_batch`] with latency (`lat` times the cache operations
/// of gets and fetches misses from the origin, see [`super::latency`]) and
/// versions (`fresh` counts stale hits, see [`super::freshness`]) and
/// per-request TTLs (`exp`, see [`super::expiry`]). Fails only if a real
/// origin fails.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn replay_batch_with<P: Policy + ?Sized, L: LatencySink, F: Freshness, X: Expiry>(
    policy: &mut P,
    batch: &Batch,
    range: std::ops::Range<usize>,
    vtime_base: u64,
    next_use: Option<&[u64]>,
    rules: Rules,
    c: &mut Counters,
    lat: &mut L,
    fresh: &mut F,
    exp: &mut X,
) -> Result<(), OriginError> {
    let mut ev = Evictions::default();
    let n = range.len() as u64;
    let charge = rules.charge;
    // A request's time, for those who read it: a division per request
    // otherwise spent for nothing.
    let timed = policy.reads_time() || exp.reads_time() || fresh.reads_time();
    let (far, near) = policy.prefetch_ahead();
    // Times are worked out TIME_AHEAD requests early, into a ring: a
    // division takes longer than a request's other work, and the policy's
    // branches wait on it. The same values, computed sooner.
    let end = range.end;
    let mut ahead = [f64::NAN; TIME_AHEAD];
    if timed {
        for j in range.start..end.min(range.start + TIME_AHEAD) {
            ahead[j % TIME_AHEAD] = batch.time(j, vtime_base + j as u64);
        }
    }
    for i in range {
        // The index slots, then the entries, of the requests a little ahead:
        // their cache misses overlap with this request's work. Hints only.
        if let Some(&k) = batch.keys.get(i + far) {
            policy.prefetch_index(k);
        }
        if let Some(&k) = batch.keys.get(i + near) {
            policy.prefetch_entry(k);
        }
        let vtime = vtime_base + i as u64;
        let r = Request {
            key: batch.keys[i],
            time: if timed {
                let t = ahead[i % TIME_AHEAD];
                let j = i + TIME_AHEAD;
                if j < end {
                    ahead[j % TIME_AHEAD] = batch.time(j, vtime_base + j as u64);
                }
                t
            } else {
                f64::NAN
            },
            size: batch.size(i),
            op: batch.op(i),
        };
        let a = Access {
            key: r.key,
            charge: charge.of(r.size),
            time: r.time,
            vtime,
            next_vtime: match next_use {
                Some(n) => n[i],
                None => u64::MAX,
            },
        };
        let fits = a.charge <= charge.capacity;
        match r.op {
            Op::Get => {
                c.gets += 1;
                c.bytes_requested += u64::from(r.size);
                if exp.expired(a.key, a.time) && policy.remove(a.key) {
                    c.expirations += 1;
                }
                let t0 = lat.begin();
                if policy.get(&a) {
                    c.hits += 1;
                    lat.hit(t0);
                    fresh.hit(a.key, a.time, 0);
                } else {
                    c.misses += 1;
                    c.bytes_missed += u64::from(r.size);
                    let t1 = lat.mark(t0);
                    let origin_ns = match lat.fetch(a.key, r.size) {
                        Ok(ns) => ns,
                        Err(e) => {
                            *c += ev;
                            return Err(e);
                        }
                    };
                    let t2 = lat.mark(t0);
                    if fits {
                        policy.insert(&a, &mut ev);
                        fresh.fill(a.key, 0);
                        exp.fill(a.key, a.time, batch.ttl(i));
                    }
                    lat.miss(t0, t1, t2, origin_ns);
                }
            }
            op @ (Op::Set | Op::Delete) => {
                if op == Op::Set {
                    c.sets += 1;
                } else {
                    c.deletes += 1;
                }
                fresh.write(a.key, a.time);
                match rules.on_write.action(op, fits) {
                    WriteAction::Drop => {
                        policy.remove(a.key);
                    }
                    WriteAction::Update => {
                        policy.set(&a, &mut ev);
                        fresh.fill(a.key, 0);
                        exp.fill(a.key, a.time, batch.ttl(i));
                    }
                    WriteAction::Keep => {}
                }
            }
        }
    }
    c.requests += n;
    *c += ev;
    Ok(())
}

/// Replays all of `b` through an LRU of 10 objects under `on_write`,
/// with `fresh` and `exp`; the counts and the keys left, least recent
/// first. For the tests of the loop's rules.
#[cfg(test)]
pub(crate) fn replay_lru10<F: Freshness, X: Expiry>(
    b: &Batch,
    on_write: OnWrite,
    fresh: &mut F,
    exp: &mut X,
) -> (Counters, Vec<crate::request::Key>) {
    let mut lru = crate::policy::lru::Lru::new(10);
    let mut c = Counters::default();
    let charge = ChargeModel {
        bytes: false,
        capacity: 10,
    };
    replay_batch_with(
        &mut lru,
        b,
        0..b.len(),
        0,
        None,
        Rules::new(charge, on_write),
        &mut c,
        &mut super::latency::NoLatency,
        fresh,
        exp,
    )
    .expect("a replay without an origin cannot fail");
    (c, lru.keys())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::lru::Lru;

    #[test]
    fn counts_gets_sets_deletes_and_oversized_objects() {
        let mut b = Batch::new(1.0, 1);
        let reqs = [
            (1, 4, Op::Get),    // miss, admitted
            (1, 4, Op::Get),    // hit
            (2, 20, Op::Get),   // miss, too large: not admitted
            (2, 20, Op::Get),   // miss again
            (3, 4, Op::Set),    // inserted
            (3, 4, Op::Get),    // hit
            (3, 4, Op::Delete), // removed
            (3, 4, Op::Get),    // miss
        ];
        for (v, (k, s, op)) in reqs.into_iter().enumerate() {
            b.push(
                &Request {
                    time: v as f64,
                    key: k,
                    size: s,
                    op,
                },
                v as u64,
            );
        }
        let mut lru = Lru::new(10);
        let mut c = Counters::default();
        replay_batch(
            &mut lru,
            &b,
            0..b.len(),
            0,
            None,
            Rules::new(
                ChargeModel {
                    bytes: true,
                    capacity: 10,
                },
                OnWrite::Update,
            ),
            &mut c,
        );
        assert_eq!(
            (c.requests, c.gets, c.hits, c.misses, c.sets, c.deletes),
            (8, 6, 2, 4, 1, 1)
        );
        assert_eq!(c.bytes_requested, 4 + 4 + 20 + 20 + 4 + 4);
        assert_eq!(c.bytes_missed, 4 + 20 + 20 + 4);
        assert_eq!(lru.keys(), vec![1, 3]);
    }

    #[test]
    fn a_replay_in_pieces_of_any_length_sees_the_same_times() {
        // A TTL cache reads each request's time, which the loop works out
        // TIME_AHEAD requests early: pieces shorter and longer than that,
        // at any offset, must give what one whole replay gives.
        let mut b = Batch::new(7.0, 1);
        let mut x: u64 = 99;
        b.keys = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % 60
            })
            .collect();
        let rules: Rules = ChargeModel {
            bytes: false,
            capacity: 20,
        }
        .into();
        let whole = {
            let mut p = crate::policy::ttl::TtlCache::new(20, 3.0);
            let mut c = Counters::default();
            replay_batch(&mut p, &b, 0..b.len(), 0, None, rules, &mut c);
            c
        };
        assert!(whole.expirations > 100 && whole.hits > 100, "{whole:?}");
        for piece in [1, 3, 8, 9, 100] {
            let mut p = crate::policy::ttl::TtlCache::new(20, 3.0);
            let mut c = Counters::default();
            let mut at = 0;
            while at < b.len() {
                let end = (at + piece).min(b.len());
                replay_batch(&mut p, &b, at..end, 0, None, rules, &mut c);
                at = end;
            }
            assert_eq!(c, whole, "pieces of {piece}");
        }
    }

    /// Replays `(key, time, op, ttl)` through an LRU of 10 objects with
    /// deadlines, under `on_write`.
    fn replay_ttls(reqs: &[(u64, f64, Op, f32)], on_write: OnWrite) -> (Counters, Vec<u64>) {
        let b = Batch::of_requests(1.0, reqs);
        replay_lru10(
            &b,
            on_write,
            &mut NoVersions,
            &mut crate::sim::expiry::Deadlines::default(),
        )
    }

    #[test]
    fn a_get_past_the_fill_ttl_is_a_counted_expiration_and_a_miss() {
        use Op::*;
        let (c, keys) = replay_ttls(
            &[
                (1, 0.0, Get, 10.0), // miss, filled until 10
                (1, 9.9, Get, 0.0),  // hit: reads do not extend
                (1, 10.0, Get, 0.0), // expired: miss, refilled without TTL
                (1, 1e6, Get, 0.0),  // hit: no deadline any more
                (2, 0.0, Get, 1.0),  // miss, until 1
                (3, 0.0, Get, 0.0),  // miss, never expires
                (3, 5.0, Get, 0.0),  // hit
            ],
            OnWrite::Invalidate,
        );
        assert_eq!((c.gets, c.hits, c.misses, c.expirations), (7, 3, 4, 1));
        // Expiry is lazy: key 2 is still resident, unread.
        assert_eq!(keys, vec![1, 2, 3]);
    }

    #[test]
    fn a_write_through_sets_the_deadline_and_an_invalidation_drops_it() {
        use Op::*;
        let reqs = [
            (1, 0.0, Get, 0.0), // miss, no deadline
            (1, 1.0, Set, 2.0), // update: until 3; invalidate: dropped
            (1, 2.0, Get, 0.0), // update: hit; invalidate: miss, no deadline
            (1, 3.0, Get, 0.0), // update: expired, miss; invalidate: hit
        ];
        let (c, _) = replay_ttls(&reqs, OnWrite::Update);
        assert_eq!((c.hits, c.misses, c.expirations), (1, 2, 1));
        let (c, _) = replay_ttls(&reqs, OnWrite::Invalidate);
        assert_eq!((c.hits, c.misses, c.expirations), (1, 2, 0));
    }

    #[test]
    fn an_expired_stale_copy_is_a_miss_not_a_stale_hit() {
        use Op::*;
        // Under --on-write none a write leaves the copy stale; its TTL ends
        // the staleness: the read after the deadline refills the current
        // version.
        let b = Batch::of_requests(
            1.0,
            &[
                (1, 0.0, Get, 5.0), // miss, filled until 5
                (1, 1.0, Set, 0.0), // the copy is stale from now
                (1, 2.0, Get, 0.0), // stale hit, 1 s old
                (1, 5.0, Get, 5.0), // expired: miss, current again, until 10
                (1, 6.0, Get, 0.0), // fresh hit
            ],
        );
        let mut v = crate::sim::freshness::Versions::default();
        let mut d = crate::sim::expiry::Deadlines::default();
        let (c, _) = replay_lru10(&b, OnWrite::None, &mut v, &mut d);
        assert_eq!((c.hits, c.misses, c.expirations), (2, 2, 1));
        assert_eq!(v.stale.stale_hits, 1);
        assert_eq!(v.stale.max_age_s(), Some(1.0));
    }
}
