//! `random`: random replacement, as `cachetools.RRCache(maxsize=c)` with a
//! seeded `choice`: on a miss with a full cache, a uniformly chosen resident
//! key is evicted. Like `RRCache`, resident keys sit in an array; a removed
//! key's slot is filled by the last key. The generator is xoshiro256++ seeded
//! from the run's seed, so runs repeat exactly.

use super::common::LinkedSlab;
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;
use crate::rng::SimRng;

#[derive(Debug, Clone, Copy)]
struct Entry {
    charge: u32,
    pos: u32,
}

/// Random replacement, as `cachetools.RRCache`. See the module
/// documentation.
#[derive(Debug, Clone)]
pub struct RandomCache {
    slab: LinkedSlab<Entry>,
    /// Slab handles of resident keys, in no particular order.
    slots: Vec<u32>,
    rng: SimRng,
    used: u64,
    capacity: u64,
}

impl RandomCache {
    pub(crate) fn new(capacity: u64, seed: u64) -> RandomCache {
        RandomCache {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            slots: Vec::new(),
            rng: SimRng::new(seed ^ 0x5eed_0f77),
            used: 0,
            capacity,
        }
    }

    /// Resident keys, sorted. For tests.
    pub fn keys(&self) -> Vec<Key> {
        let mut v: Vec<Key> = self.slots.iter().map(|&i| self.slab.key(i)).collect();
        v.sort_unstable();
        v
    }

    fn remove_idx(&mut self, idx: u32) {
        let pos = self.slab.data(idx).pos as usize;
        self.slots.swap_remove(pos);
        if pos < self.slots.len() {
            let moved = self.slots[pos];
            self.slab.data_mut(moved).pos = pos as u32;
        }
        self.used -= u64::from(self.slab.data(idx).charge);
        self.slab.remove(idx);
    }
}

impl Register for RandomCache {
    const INFO: PolicyInfo = PolicyInfo {
        name: "random",
        summary: "random replacement = cachetools.RRCache, seeded",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<RandomCache, SpecError> {
        Ok(RandomCache::new(ctx.capacity, ctx.seed))
    }
}

impl Policy for RandomCache {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(slab);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        self.slab.find(a.key).is_some()
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        while self.used + a.charge > self.capacity && !self.slots.is_empty() {
            let victim = self.slots[self.rng.below(self.slots.len() as u64) as usize];
            self.remove_idx(victim);
            ev.evicted += 1;
        }
        let idx = self.slab.insert(
            a.key,
            Entry {
                charge: a.charge as u32,
                pos: self.slots.len() as u32,
            },
        );
        self.slots.push(idx);
        self.used += a.charge;
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                self.remove_idx(idx);
                true
            }
            None => false,
        }
    }

    fn len(&self) -> usize {
        self.slab.len()
    }

    fn used(&self) -> u64 {
        self.used
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes() + self.slots.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hits(seed: u64) -> Vec<bool> {
        let mut c = RandomCache::new(4, seed);
        let mut ev = Evictions::default();
        (0..200u64)
            .map(|t| {
                let a = Access::simple((t * 7) % 9, t);
                let h = c.get(&a);
                if !h {
                    c.insert(&a, &mut ev);
                }
                assert!(c.len() <= 4);
                h
            })
            .collect()
    }

    #[test]
    fn same_seed_same_choices_and_seed_matters() {
        assert_eq!(hits(1), hits(1));
        assert_ne!(hits(1), hits(2));
    }

    #[test]
    fn keeps_positions_consistent() {
        let mut c = RandomCache::new(3, 9);
        let mut ev = Evictions::default();
        for k in 0..50u64 {
            c.insert(&Access::simple(k, k), &mut ev);
            if k % 5 == 0 {
                c.remove(k);
            }
            for (p, &i) in c.slots.iter().enumerate() {
                assert_eq!(c.slab.data(i).pos as usize, p);
            }
        }
        assert_eq!(c.len(), c.slots.len());
    }
}
