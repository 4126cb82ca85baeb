//! `sampled-lfu`: Redis's `allkeys-lfu` modelled in-process, to run at
//! simulation speed where `redis-lfu` measures a real server.
//!
//! Follows Redis 7.0 (`src/evict.c`: `LFUGetTimeInMinutes`,
//! `LFUTimeElapsed`, `LFULogIncr`, `LFUDecrAndReturn`,
//! `evictionPoolPopulate`, `performEvictions`; `src/db.c`: `updateLFU`,
//! `lookupKey`; `src/object.c`: `createObject`; `src/server.h`:
//! `LFU_INIT_VAL`):
//! - every key carries an 8-bit logarithmic counter and the time of its
//!   last access in minutes (16 bits, wrapping); a new key starts at
//!   `LFU_INIT_VAL` = 5;
//! - on a hit the counter is first decayed, then incremented with
//!   probability 1 / ((counter - 5) x `lfu-log-factor` + 1) (1 at or below
//!   5; never past 255), and the access time set to now;
//! - decay: one per `lfu-decay-time` minutes (default 1; 0: never) of
//!   whole minutes elapsed since the last access, down to 0 (Redis 7.0
//!   subtracts; it does not halve, whatever its comment says); evaluated
//!   when a key is sampled or hit, stored only on a hit;
//! - to evict, `maxmemory-samples` distinct resident keys are sampled into
//!   the 16-entry eviction pool scored 255 - decayed counter, and the
//!   pool's best entry still resident is evicted (see `common::evpool`: the
//!   scores are those of when the key was sampled).
//!
//! Time is the request's (`--rate`, or the trace's timestamps), whole
//! minutes of it as Redis's `server.unixtime / 60`. The probabilistic
//! increment draws from the policy's generator, seeded from `--seed`.
//!
//! Not modelled: as for `sampled-lru` (the key just written is not a
//! candidate, capacity in objects or request bytes). A
//! write of a resident key counts as an access (Redis's `SET` looks the
//! key up, which updates the counter, and keeps it for the new value).

use super::common::evpool::{maxmemory_samples, PoolCache};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;
use crate::rng::SimRng;

/// `LFU_INIT_VAL`: a new key's counter.
const LFU_INIT_VAL: u8 = 5;

/// A key's LFU fields: Redis keeps them in the object's 24 `lru` bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Lfu {
    /// Last access, in minutes, 16 bits (`LFUGetTimeInMinutes`).
    ldt: u16,
    /// Logarithmic access counter.
    counter: u8,
}

/// `LFUGetTimeInMinutes` at `time` seconds.
#[inline]
fn minutes(time: f64) -> u16 {
    // `as` saturates: a negative or NaN time is minute 0.
    (((time as u64) / 60) & 0xFFFF) as u16
}

/// `LFUTimeElapsed`: minutes from `ldt` to `now`, wrapping once.
#[inline]
fn elapsed(now: u16, ldt: u16) -> u64 {
    if now >= ldt {
        u64::from(now - ldt)
    } else {
        65535 - u64::from(ldt) + u64::from(now)
    }
}

/// The parameters Redis calls `lfu-log-factor` and `lfu-decay-time`.
#[derive(Debug, Clone, Copy)]
struct Tuning {
    log_factor: f64,
    decay_minutes: u64,
}

impl Tuning {
    /// `LFUDecrAndReturn`: the counter decayed to minute `now`.
    #[inline]
    fn decayed(&self, m: Lfu, now: u16) -> u8 {
        if self.decay_minutes == 0 {
            return m.counter;
        }
        let periods = elapsed(now, m.ldt) / self.decay_minutes;
        m.counter.saturating_sub(periods.min(255) as u8)
    }

    /// `LFULogIncr`: `counter` + 1 with probability
    /// 1 / (max(counter - 5, 0) x log factor + 1), saturating at 255.
    #[inline]
    fn incremented(&self, counter: u8, rng: &mut SimRng) -> u8 {
        if counter == 255 {
            return 255;
        }
        let base = f64::from(counter.saturating_sub(LFU_INIT_VAL));
        let p = 1.0 / (base * self.log_factor + 1.0);
        if rng.f64() < p {
            counter + 1
        } else {
            counter
        }
    }
}

/// Redis's sampled LFU. See the module documentation.
#[derive(Debug, Clone)]
pub struct SampledLfu {
    c: PoolCache<Lfu>,
    tuning: Tuning,
    rng: SimRng,
}

impl SampledLfu {
    /// An empty cache of `capacity` charge units sampling `samples` keys
    /// per eviction, with `lfu-log-factor` and `lfu-decay-time` (minutes),
    /// its draws seeded by `seed`.
    pub fn new(
        capacity: u64,
        samples: usize,
        log_factor: u64,
        decay_minutes: u64,
        seed: u64,
    ) -> SampledLfu {
        let mut rng = SimRng::derive(seed, 0x1f_u64);
        let salt = rng.next_u64();
        SampledLfu {
            c: PoolCache::new(capacity, samples, salt),
            tuning: Tuning {
                log_factor: log_factor as f64,
                decay_minutes,
            },
            rng,
        }
    }

    /// The counter `key` would be scored with at `time`, if resident. For
    /// tests.
    #[cfg(test)]
    fn counter(&self, key: Key, time: f64) -> Option<u8> {
        let idx = self.c.keys.find(key)?;
        Some(self.tuning.decayed(self.c.keys.meta(idx), minutes(time)))
    }
}

impl Register for SampledLfu {
    const INFO: PolicyInfo = PolicyInfo {
        name: "sampled-lfu",
        summary:
            "model of Redis allkeys-lfu: log counter from 5, decay per idle minute, eviction pool",
        params: "maxmemory-samples=5:lfu-log-factor=10:lfu-decay-time=1",
        kind: Kind::Online,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<SampledLfu, SpecError> {
        let samples = maxmemory_samples(p)?;
        // Redis's ranges: 0 to INT_MAX.
        let max = i32::MAX as u64;
        let log_factor = p.u64_in("lfu-log-factor", 10, 0, max)?;
        let decay = p.u64_in("lfu-decay-time", 1, 0, max)?;
        Ok(SampledLfu::new(
            ctx.capacity,
            samples,
            log_factor,
            decay,
            ctx.seed,
        ))
    }
}

impl Policy for SampledLfu {
    super::common::prefetch::prefetch_through!(c.keys);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.c.keys.find(a.key) {
            Some(idx) => {
                let now = minutes(a.time);
                let counter = self.tuning.decayed(self.c.keys.meta(idx), now);
                let counter = self.tuning.incremented(counter, &mut self.rng);
                self.c.keys.set_meta(idx, Lfu { ldt: now, counter });
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        let now = minutes(a.time);
        let t = self.tuning;
        ev.evicted += self.c.make_room(a.charge, &mut self.rng, |m| {
            255 - u64::from(t.decayed(m, now))
        });
        let m = Lfu {
            ldt: now,
            counter: LFU_INIT_VAL,
        };
        self.c.keys.insert(a.key, a.charge, m);
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
    use crate::policy::testkit::{at, run_keys};

    fn lfu(cap: u64, samples: usize) -> SampledLfu {
        SampledLfu::new(cap, samples, 10, 1, 1)
    }

    #[test]
    fn a_new_key_starts_at_5_and_its_first_hit_always_counts() {
        let mut c = lfu(4, 5);
        let mut ev = Evictions::default();
        c.insert(&at(1, 0.0), &mut ev);
        assert_eq!(c.counter(1, 0.0), Some(5));
        // At or below LFU_INIT_VAL the increment's probability is 1.
        assert!(c.get(&at(1, 0.0)));
        assert_eq!(c.counter(1, 0.0), Some(6));
    }

    #[test]
    fn increments_have_probability_one_over_base_times_factor_plus_one() {
        // From 6 (base 1) with factor 10: p = 1/11. From 10 (base 5): 1/51.
        let mut rng = SimRng::new(9);
        let t = Tuning {
            log_factor: 10.0,
            decay_minutes: 1,
        };
        let n = 200_000;
        for (from, p) in [(6u8, 1.0 / 11.0), (10, 1.0 / 51.0)] {
            let ups = (0..n)
                .filter(|_| t.incremented(from, &mut rng) == from + 1)
                .count() as f64;
            let sd = (n as f64 * p * (1.0 - p)).sqrt();
            assert!(
                (ups - n as f64 * p).abs() < 4.0 * sd,
                "from {from}: {ups} increments in {n}"
            );
        }
        assert_eq!(t.incremented(255, &mut rng), 255);
        // Factor 0: every access counts, up to 255.
        let t0 = Tuning {
            log_factor: 0.0,
            decay_minutes: 1,
        };
        assert_eq!(t0.incremented(200, &mut rng), 201);
    }

    /// The exact expected counter after `hits` hits from 5 (no decay), by
    /// stepping the counter's distribution.
    fn expected_counter(factor: f64, hits: usize) -> f64 {
        let mut dist = [0.0f64; 256];
        dist[usize::from(LFU_INIT_VAL)] = 1.0;
        for _ in 0..hits {
            let mut next = [0.0f64; 256];
            next[255] = dist[255];
            for c in 0..255 {
                let p = 1.0 / ((c as f64 - 5.0).max(0.0) * factor + 1.0);
                next[c + 1] += dist[c] * p;
                next[c] += dist[c] * (1.0 - p);
            }
            dist = next;
        }
        dist.iter().enumerate().map(|(c, p)| c as f64 * p).sum()
    }

    #[test]
    fn counters_after_n_hits_match_redis_conf_and_the_exact_expectation() {
        // redis.conf's table of the counter after N hits (measured by Redis's
        // authors, rounded): factor 10: 100 hits -> 10, 1000 -> 18; factor
        // 1: 100 -> 18, 1000 -> 49; factor 100: 1000 -> 11.
        for (factor, hits, table) in [
            (10u64, 100usize, 10.0),
            (10, 1000, 18.0),
            (1, 100, 18.0),
            (1, 1000, 49.0),
            (100, 1000, 11.0),
        ] {
            let mut c = SampledLfu::new(1, 1, factor, 0, factor);
            let mut ev = Evictions::default();
            let keys = 300;
            let mut sum = 0.0;
            for k in 0..keys {
                c.insert(&at(k, 0.0), &mut ev);
                for _ in 0..hits {
                    assert!(c.get(&at(k, 0.0)));
                }
                sum += f64::from(c.counter(k, 0.0).unwrap());
            }
            let mean = sum / keys as f64;
            let exact = expected_counter(factor as f64, hits);
            assert!(
                (mean - exact).abs() < 0.3,
                "factor {factor}, {hits} hits: mean {mean} vs expected {exact}"
            );
            assert!(
                (mean - table).abs() < 1.5,
                "factor {factor}, {hits} hits: mean {mean} vs redis.conf {table}"
            );
        }
        // Factor 0: every hit counts, up to 255.
        assert_eq!(expected_counter(0.0, 100), 105.0);
        assert_eq!(expected_counter(0.0, 1000), 255.0);
    }

    #[test]
    fn decays_by_one_per_decay_time_of_idle_minutes() {
        let t = Tuning {
            log_factor: 10.0,
            decay_minutes: 1,
        };
        let m = Lfu {
            ldt: minutes(600.0),
            counter: 12,
        };
        assert_eq!(t.decayed(m, minutes(659.0)), 12);
        assert_eq!(t.decayed(m, minutes(660.0)), 11);
        assert_eq!(t.decayed(m, minutes(600.0 + 5.0 * 60.0)), 7);
        assert_eq!(t.decayed(m, minutes(600.0 + 50.0 * 60.0)), 0);
        let slow = Tuning {
            decay_minutes: 3,
            ..t
        };
        assert_eq!(slow.decayed(m, minutes(600.0 + 7.0 * 60.0)), 10);
        let never = Tuning {
            decay_minutes: 0,
            ..t
        };
        assert_eq!(never.decayed(m, minutes(1e6)), 12);
        // Minutes wrap at 16 bits, once.
        assert_eq!(elapsed(2, 65534), 3);
        assert_eq!(minutes(65536.0 * 60.0 + 61.0), 1);
    }

    #[test]
    fn a_hit_stores_the_decay_and_restarts_the_idle_time() {
        let mut c = SampledLfu::new(2, 5, 0, 1, 1);
        let mut ev = Evictions::default();
        c.insert(&at(1, 0.0), &mut ev);
        for _ in 0..5 {
            c.get(&at(1, 0.0));
        }
        // Factor 0: every hit counts: 10.
        assert_eq!(c.counter(1, 0.0), Some(10));
        // Three minutes later it scores 7; a hit then stores 7 + 1.
        assert_eq!(c.counter(1, 180.0), Some(7));
        c.get(&at(1, 180.0));
        assert_eq!(c.counter(1, 180.0), Some(8));
        assert_eq!(c.counter(1, 239.0), Some(8));
    }

    #[test]
    fn evicts_the_least_frequent_of_the_sample() {
        // Every key sampled: the least frequent goes.
        let mut c = SampledLfu::new(3, 5, 0, 1, 1);
        let mut ev = Evictions::default();
        for k in 1..=3 {
            c.insert(&at(k, 0.0), &mut ev);
        }
        for (k, hits) in [(1, 3), (2, 1), (3, 2)] {
            for _ in 0..hits {
                c.get(&at(k, 1.0));
            }
        }
        c.insert(&at(4, 2.0), &mut ev);
        let mut keys = c.c.keys.keys();
        keys.sort_unstable();
        assert_eq!(keys, vec![1, 3, 4]);
        // The pool holds 1 (counter 8: score 247) below 3 (7: 248).
        assert_eq!(c.c.pool().entries(), &[(247, 1), (248, 3)]);
        // Decay is part of the score: four minutes on, every key has lost
        // 4 when sampled: 1 is at 4, 3 at 3 and the never-hit 4 at 1, whose
        // score (254) beats every other entry, stale or fresh: 4 goes.
        c.insert(&at(5, 240.0), &mut ev);
        let mut keys = c.c.keys.keys();
        keys.sort_unstable();
        assert_eq!(keys, vec![1, 3, 5]);
    }

    #[test]
    fn same_seed_same_run_and_seed_matters() {
        let keys = crate::policy::testkit::skewed(3000, 97);
        let run = |seed| {
            run_keys(&mut SampledLfu::new(20, 5, 10, 1, seed), &keys, |c| {
                assert!(c.len() <= 20)
            })
        };
        assert!(run(1) == run(1));
        assert!(run(1) != run(2));
    }

    #[test]
    fn spec_takes_redis_names() {
        let spec = crate::policy::StrategySpec::parse(
            "sampled-lfu:lfu-decay-time=0:maxmemory-samples=10:lfu-log-factor=1",
        )
        .unwrap();
        let ctx = BuildCtx {
            capacity: 10,
            seed: 1,
            ttl: None,
        };
        let b = crate::policy::build(&spec, &ctx).unwrap();
        assert_eq!(
            b.canonical,
            "sampled-lfu:maxmemory-samples=10:lfu-log-factor=1:lfu-decay-time=0"
        );
        for bad in [
            "sampled-lfu:maxmemory-samples=0",
            "sampled-lfu:maxmemory-samples=65",
            "sampled-lfu:lfu-log-factor=-1",
            "sampled-lfu:lfu-decay-time=x",
            "sampled-lfu:samples=5",
        ] {
            let spec = crate::policy::StrategySpec::parse(bad).unwrap();
            let e = crate::policy::build(&spec, &ctx).unwrap_err().to_string();
            assert!(e.contains("sampled-lfu"), "{bad}: {e}");
        }
    }
}
