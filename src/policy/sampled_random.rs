//! `sampled-random`: Redis's `allkeys-random` modelled in-process, the
//! counterpart of `redis-random`.
//!
//! Follows Redis 7.0 (`src/evict.c`, `performEvictions`, the
//! `MAXMEMORY_ALLKEYS_RANDOM` branch): each eviction removes one random
//! resident key (`dictGetRandomKey`), until the new key fits. There is no
//! pool and no sample, so `maxmemory-samples` does not apply.
//!
//! Like `dictGetRandomKey`, it picks a random non-empty bucket of the hash
//! table, then a random key of its chain (see `common::evpool`), so a key
//! sharing its bucket is less likely to go than one alone in its bucket:
//! over many hash seeds every key is equally likely, within one run not.
//! Otherwise it is the `random` policy (`cachetools.RRCache`).
//!
//! Not modelled: Redis evicts when the next command starts, with the key
//! just written among the candidates; here the victim is chosen before the
//! key is admitted.

use super::common::evpool::Resident;
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;
use crate::rng::SimRng;

/// Redis's random eviction. See the module documentation.
#[derive(Debug, Clone)]
pub struct SampledRandom {
    keys: Resident<()>,
    rng: SimRng,
    capacity: u64,
}

impl SampledRandom {
    /// An empty cache of `capacity` charge units, its draws seeded by
    /// `seed`.
    pub fn new(capacity: u64, seed: u64) -> SampledRandom {
        let mut rng = SimRng::derive(seed, 0x20_u64);
        let salt = rng.next_u64();
        SampledRandom {
            keys: Resident::new(capacity, salt),
            rng,
            capacity,
        }
    }
}

impl Register for SampledRandom {
    const INFO: PolicyInfo = PolicyInfo {
        name: "sampled-random",
        summary: "model of Redis allkeys-random: a random bucket's random key per eviction",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<SampledRandom, SpecError> {
        Ok(SampledRandom::new(ctx.capacity, ctx.seed))
    }
}

impl Policy for SampledRandom {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    fn index_keys_below(&mut self, bound: Key) {
        self.keys.index_keys_below(bound)
    }

    /// The index hint only: a lookup here reads no node, and fetching
    /// them cost 4-8% (measured with the direct index).
    #[inline]
    fn prefetch_index(&self, key: Key) {
        self.keys.prefetch_slot(key)
    }

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        self.keys.find(a.key).is_some()
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        while self.keys.used() + a.charge > self.capacity && self.keys.len() > 0 {
            let victim = self.keys.random(&mut self.rng);
            self.keys.remove(victim);
            ev.evicted += 1;
        }
        self.keys.insert(a.key, a.charge, ());
    }

    fn remove(&mut self, key: Key) -> bool {
        self.keys.remove_key(key)
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    fn used(&self) -> u64 {
        self.keys.used()
    }

    fn heap_bytes(&self) -> usize {
        self.keys.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::random::RandomCache;
    use crate::policy::testkit::run_keys;

    #[test]
    fn victims_are_uniform_over_resident_keys_across_seeds() {
        // Cache of 4 holding 0..4; a fifth key evicts one: over many seeds
        // (each its own hash layout) each of the four goes a quarter of the
        // time.
        let mut gone = [0u32; 4];
        let mut ev = Evictions::default();
        for seed in 0..8000 {
            let mut c = SampledRandom::new(4, seed);
            for k in 0..4 {
                c.insert(&Access::simple(k, k), &mut ev);
            }
            c.insert(&Access::simple(9, 4), &mut ev);
            let mut resident: Vec<Key> = c.keys.keys();
            resident.retain(|&k| k != 9);
            assert_eq!(resident.len(), 3);
            let victim = (0..4).find(|k| !resident.contains(k)).unwrap();
            gone[victim as usize] += 1;
        }
        for n in gone {
            assert!((1850..=2150).contains(&n), "{gone:?}");
        }
    }

    #[test]
    fn hit_ratio_is_that_of_random_replacement() {
        let keys: Vec<Key> = (0..50_000u64)
            .map(|i| crate::rng::splitmix(i) % 1000)
            .map(|k| k * k / 1000)
            .collect();
        let ratio = |h: Vec<bool>| h.iter().filter(|&&x| x).count() as f64 / h.len() as f64;
        let ours = ratio(run_keys(&mut SampledRandom::new(100, 3), &keys, |_| {}));
        let rr = ratio(run_keys(&mut RandomCache::new(100, 3), &keys, |_| {}));
        assert!(
            (ours - rr).abs() < 0.01,
            "sampled-random {ours} vs random {rr}"
        );
    }

    #[test]
    fn same_seed_same_run_and_seed_matters() {
        let keys = crate::policy::testkit::skewed(3000, 97);
        let run = |seed| {
            run_keys(&mut SampledRandom::new(20, seed), &keys, |c| {
                assert!(c.len() <= 20)
            })
        };
        assert!(run(1) == run(1));
        assert!(run(1) != run(2));
    }
}
