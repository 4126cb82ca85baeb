//! The replay loop: the hot path. It owns demand fill, counting and timing;
//! the policy only decides what to keep.
//!
//! Per request:
//! - `get`: a hit if the policy has the key; otherwise a miss, after which the
//!   key is inserted (demand fill) unless its charge exceeds the whole
//!   capacity (an object larger than the cache is never admitted, as in
//!   libCacheSim).
//! - `set`: the policy's write-through update (insert if absent); an object
//!   too large for the cache is removed instead, so no stale copy stays.
//! - `delete`: the key is removed.
//!
//! Hit ratio is counted over gets only. The loop is generic over the policy,
//! so each policy gets its own compiled loop with no dynamic dispatch.

use super::latency::{LatencySink, NoLatency, OriginError};
use crate::policy::{Access, Evictions, Policy};
use crate::request::Op;
use crate::workload::Batch;
use serde::{Deserialize, Serialize};

/// What one replay counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub requests: u64,
    pub gets: u64,
    pub hits: u64,
    pub misses: u64,
    pub sets: u64,
    pub deletes: u64,
    pub evictions: u64,
    pub expirations: u64,
    /// Bytes asked for by gets.
    pub bytes_requested: u64,
    /// Bytes of gets that missed.
    pub bytes_missed: u64,
}

impl Counters {
    pub fn hit_ratio(&self) -> f64 {
        if self.gets == 0 {
            0.0
        } else {
            self.hits as f64 / self.gets as f64
        }
    }

    pub fn byte_hit_ratio(&self) -> f64 {
        if self.bytes_requested == 0 {
            0.0
        } else {
            1.0 - self.bytes_missed as f64 / self.bytes_requested as f64
        }
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

/// Replays requests `range` of `batch` against `policy`, adding to `c`.
/// Request `i` of the batch is number `vtime_base + i` of the stream.
/// `next_use`, when given, holds for each request of the batch the stream
/// position of the next request for the same key (`u64::MAX` for none), for
/// offline policies.
pub fn replay_batch<P: Policy + ?Sized>(
    policy: &mut P,
    batch: &Batch,
    range: std::ops::Range<usize>,
    vtime_base: u64,
    next_use: Option<&[u64]>,
    charge: ChargeModel,
    c: &mut Counters,
) {
    replay_batch_with(
        policy,
        batch,
        range,
        vtime_base,
        next_use,
        charge,
        c,
        &mut NoLatency,
    )
    .expect("a replay without an origin cannot fail");
}

/// [`replay_batch`] with latency: `lat` times the cache operations of gets
/// and fetches misses from the origin (see [`super::latency`]). Fails only if
/// a real origin fails.
#[inline(never)]
#[allow(clippy::too_many_arguments)]
pub fn replay_batch_with<P: Policy + ?Sized, L: LatencySink>(
    policy: &mut P,
    batch: &Batch,
    range: std::ops::Range<usize>,
    vtime_base: u64,
    next_use: Option<&[u64]>,
    charge: ChargeModel,
    c: &mut Counters,
    lat: &mut L,
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
            next_vtime: match next_use {
                Some(n) => n[i],
                None => u64::MAX,
            },
        };
        match r.op {
            Op::Get => {
                c.gets += 1;
                c.bytes_requested += u64::from(r.size);
                let t0 = lat.begin();
                if policy.get(&a) {
                    c.hits += 1;
                    lat.hit(t0);
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
                    }
                    lat.miss(t0, t1, t2, origin_ns);
                }
            }
            Op::Set => {
                c.sets += 1;
                if a.charge <= charge.capacity {
                    policy.set(&a, &mut ev);
                } else {
                    policy.remove(a.key);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::lru::Lru;
    use crate::request::Request;

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
            ChargeModel {
                bytes: true,
                capacity: 10,
            },
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
}
