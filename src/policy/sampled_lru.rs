//! `sampled-lru`: Redis's `allkeys-lru` modelled in-process, to run at
//! simulation speed where `redis-lru` measures a real server.
//!
//! Follows Redis 7.0 (`src/evict.c`: `evictionPoolPopulate`,
//! `performEvictions`, `estimateObjectIdleTime`, `getLRUClock`;
//! `src/db.c`: `lookupKey`; `src/server.h`: `LRU_BITS`,
//! `LRU_CLOCK_RESOLUTION`):
//! - every key carries a 24-bit LRU clock, in seconds
//!   (`LRU_CLOCK_RESOLUTION` = 1000 ms), set when the key is written and on
//!   every hit; the clock is the request's time (`--rate`, or the trace's
//!   timestamps), `floor(seconds) mod 2^24`;
//! - a key's idle time is (clock - its clock) x 1000 ms, with Redis's
//!   wrap-around rule;
//! - to evict, `maxmemory-samples` distinct resident keys (default 5) are
//!   sampled into the 16-entry eviction pool, and the pool's idlest entry
//!   still resident is evicted (see `common::evpool` for the pool's exact
//!   rules: stale scores, ties, duplicates, ghosts).
//!
//! With a one-second clock, keys used in the same second tie; at tens of
//! thousands of requests per second a small cache's keys are nearly all
//! idle 0 or 1 s, and the pool then evicts close to in the order it was
//! offered keys, not by recency.
//!
//! Not modelled: the key just written being a candidate, SipHash and
//! incremental rehashing (see `common::evpool`),
//! the clock's update every 100 ms (`hz` 10) rather than at each request,
//! memory as Redis counts it (capacity is in objects or in the requests'
//! bytes, as for every policy here). A write of a resident key is a use,
//! as Redis's `SET` (its lookup touches the key).

use super::common::evpool::{maxmemory_samples, PoolCache};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;
use crate::rng::SimRng;

/// `LRU_CLOCK_MAX`: the clock has 24 bits.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// `LRU_CLOCK_RESOLUTION`, in milliseconds.
const LRU_CLOCK_RESOLUTION_MS: u64 = 1000;

/// Redis's LRU clock at `time` seconds: `(ms / 1000) & LRU_CLOCK_MAX`.
#[inline]
fn lru_clock(time: f64) -> u32 {
    // `as` saturates: a negative or NaN time is clock 0.
    ((time as u64) & u64::from(LRU_CLOCK_MAX)) as u32
}

/// `estimateObjectIdleTime`: milliseconds since `lru` at `clock`.
#[inline]
fn idle_ms(clock: u32, lru: u32) -> u64 {
    let ticks = if clock >= lru {
        clock - lru
    } else {
        clock + (LRU_CLOCK_MAX - lru)
    };
    u64::from(ticks) * LRU_CLOCK_RESOLUTION_MS
}

/// Redis's sampled LRU. See the module documentation.
#[derive(Debug, Clone)]
pub struct SampledLru {
    /// Resident keys with their LRU clocks, and the pool.
    c: PoolCache<u32>,
    rng: SimRng,
}

impl SampledLru {
    /// An empty cache of `capacity` charge units sampling `samples` keys
    /// per eviction, its draws seeded by `seed`.
    pub fn new(capacity: u64, samples: usize, seed: u64) -> SampledLru {
        let mut rng = SimRng::derive(seed, 0x1e_u64);
        let salt = rng.next_u64();
        SampledLru {
            c: PoolCache::new(capacity, samples, salt),
            rng,
        }
    }

    /// Resident keys, sorted. For tests.
    #[cfg(test)]
    fn keys(&self) -> Vec<Key> {
        self.c.keys.keys()
    }
}

impl Register for SampledLru {
    const INFO: PolicyInfo = PolicyInfo {
        name: "sampled-lru",
        summary: "model of Redis allkeys-lru: sampled keys, 16-entry eviction pool, 1 s LRU clock",
        params: "maxmemory-samples=5",
        kind: Kind::Online,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<SampledLru, SpecError> {
        let samples = maxmemory_samples(p)?;
        Ok(SampledLru::new(ctx.capacity, samples, ctx.seed))
    }
}

impl Policy for SampledLru {
    super::common::prefetch::prefetch_through!(c.keys);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.c.keys.find(a.key) {
            Some(idx) => {
                self.c.keys.set_meta(idx, lru_clock(a.time));
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        let clock = lru_clock(a.time);
        ev.evicted += self
            .c
            .make_room(a.charge, &mut self.rng, |lru| idle_ms(clock, lru));
        self.c.keys.insert(a.key, a.charge, clock);
    }

    fn remove(&mut self, key: Key) -> bool {
        self.c.keys.remove_key(key)
    }

    fn len(&self) -> usize {
        self.c.keys.len()
    }

    fn used(&self) -> u64 {
        self.c.keys.used()
    }

    fn heap_bytes(&self) -> usize {
        self.c.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testkit::{at, run_keys, skewed};

    #[test]
    fn clock_is_whole_seconds_on_24_bits_and_idle_wraps_as_in_redis() {
        assert_eq!(lru_clock(0.0), 0);
        assert_eq!(lru_clock(1.999), 1);
        assert_eq!(lru_clock(-3.0), 0);
        assert_eq!(lru_clock(f64::from(1u32 << 24) + 2.5), 2);
        assert_eq!(idle_ms(10, 7), 3000);
        assert_eq!(idle_ms(7, 7), 0);
        // Wrapped: clock 2, key at MAX - 1: Redis counts 2 + 1 ticks.
        assert_eq!(idle_ms(2, LRU_CLOCK_MAX - 1), 3000);
    }

    #[test]
    fn with_every_key_sampled_the_idlest_is_evicted() {
        // 4 keys, 5 samples: every eviction sees every key, so this is
        // exact LRU at one-second resolution.
        let mut c = SampledLru::new(4, 5, 1);
        let mut ev = Evictions::default();
        for (k, t) in [(1, 0.0), (2, 1.0), (3, 2.0), (4, 3.0)] {
            c.insert(&at(k, t), &mut ev);
        }
        assert!(c.get(&at(1, 4.0)));
        c.insert(&at(5, 5.0), &mut ev);
        assert_eq!(c.keys(), vec![1, 3, 4, 5]);
        assert_eq!(ev.evicted, 1);
        // The pool keeps the others it saw, idlest on top: 3 (idle 3 s)
        // above 4 (2 s) above 1 (1 s).
        let e = c.c.pool().entries();
        assert_eq!(e, &[(1000, 1), (2000, 4), (3000, 3)]);
        // Next eviction: the fresh sample scores 3 at 4 s, above every
        // stale entry: 3 goes.
        c.insert(&at(6, 6.0), &mut ev);
        assert_eq!(c.keys(), vec![1, 4, 5, 6]);
    }

    #[test]
    fn stale_pool_scores_can_evict_a_key_used_since() {
        let mut c = SampledLru::new(3, 3, 1);
        let mut ev = Evictions::default();
        for (k, t) in [(1, 0.0), (2, 10.0), (3, 20.0)] {
            c.insert(&at(k, t), &mut ev);
        }
        // Evicts 1 (idle 30 s); the pool keeps 2 at 20 s, 3 at 10 s.
        c.insert(&at(4, 30.0), &mut ev);
        assert_eq!(c.keys(), vec![2, 3, 4]);
        // 2 is used again: its pool entry still says 20 s idle.
        assert!(c.get(&at(2, 31.0)));
        // A sample of all three at t = 31 scores 3 at 11 s, 4 at 1 s and 2
        // at 0 s; the stale entry (20 s) is still the best: 2 goes, not 3.
        c.insert(&at(5, 31.0), &mut ev);
        assert_eq!(c.keys(), vec![3, 4, 5]);
    }

    #[test]
    fn close_to_lru_when_the_clock_tells_keys_apart_near_random_when_not() {
        // Requests one second apart (every request its own tick), 10
        // samples: the hit ratio is close to exact LRU's on a skewed stream.
        let keys = skewed(20_000, 2000);
        let hits = |p: &mut dyn FnMut(Key, u64) -> bool| {
            keys.iter()
                .enumerate()
                .filter(|&(t, &k)| p(k, t as u64))
                .count() as f64
                / keys.len() as f64
        };
        let mut s = SampledLru::new(200, 10, 7);
        let mut lru = crate::policy::lru::Lru::new(200);
        let mut ev = Evictions::default();
        let sampled = hits(&mut |k, t| {
            let a = Access::simple(k, t);
            s.get(&a) || {
                s.insert(&a, &mut ev);
                false
            }
        });
        let exact = hits(&mut |k, t| {
            let a = Access::simple(k, t);
            lru.get(&a) || {
                lru.insert(&a, &mut ev);
                false
            }
        });
        assert!(
            (sampled - exact).abs() < 0.02,
            "sampled {sampled} vs lru {exact}"
        );
        // With one second per 1000 requests the clock cannot tell most
        // keys apart: the hit ratio falls nearer random replacement's than
        // LRU's.
        let mut s = SampledLru::new(200, 10, 7);
        let coarse = keys
            .iter()
            .enumerate()
            .filter(|&(t, &k)| {
                let a = Access {
                    time: t as f64 / 1000.0,
                    ..Access::simple(k, t as u64)
                };
                s.get(&a) || {
                    s.insert(&a, &mut ev);
                    false
                }
            })
            .count() as f64
            / keys.len() as f64;
        let mut r = crate::policy::random::RandomCache::new(200, 7);
        let rand = run_keys(&mut r, &keys, |_| {})
            .iter()
            .filter(|&&h| h)
            .count() as f64
            / keys.len() as f64;
        let gap = exact - rand;
        assert!(gap > 0.02, "lru {exact} vs random {rand}");
        assert!(
            coarse - rand < gap / 2.0,
            "coarse {coarse}: not nearer random {rand} than lru {exact}"
        );
    }

    #[test]
    fn same_seed_same_run_and_seed_matters() {
        let keys = skewed(3000, 97);
        let run = |seed| {
            run_keys(&mut SampledLru::new(20, 5, seed), &keys, |c| {
                assert!(c.len() <= 20)
            })
        };
        assert!(run(1) == run(1));
        assert!(run(1) != run(2));
    }

    #[test]
    fn byte_capacity_evicts_until_the_charge_fits() {
        let mut c = SampledLru::new(10, 5, 1);
        let mut ev = Evictions::default();
        for (k, t, ch) in [(1, 0.0, 4), (2, 1.0, 4), (3, 2.0, 2)] {
            c.insert(
                &Access {
                    charge: ch,
                    ..at(k, t)
                },
                &mut ev,
            );
        }
        assert_eq!(c.used(), 10);
        // 7 units need two evictions: the two idlest, 1 then 2.
        c.insert(
            &Access {
                charge: 7,
                ..at(4, 3.0)
            },
            &mut ev,
        );
        assert_eq!(c.keys(), vec![3, 4]);
        assert_eq!(c.used(), 9);
        assert_eq!(ev.evicted, 2);
        assert!(c.remove(3));
        assert_eq!(c.used(), 7);
    }
}
