//! `belady-size`: a size-aware offline heuristic for byte capacities, after
//! libCacheSim's `BeladySize` (its source says: "sample object and compare
//! reuse_distance * size, then evict the greatest one", default
//! `n-sample=128`). Exact size-aware optimal caching is NP-hard (Berger et
//! al., "Practical Bounds on Optimal Caching with Variable Object Sizes",
//! SIGMETRICS 2018), so this is a heuristic, not a bound.
//!
//! On a miss with a full cache, until the object fits: draw `samples`
//! resident objects uniformly (with replacement, seeded xoshiro256++; all of
//! them when at most `samples` are resident) and evict the one with the
//! largest `(next use - now) x size`; objects never requested again rank
//! above all others, the largest of them first. Demand fill, as `belady`.
//!
//! While every object seen so far has the same charge (count capacities, or
//! a workload without sizes), `distance x size` orders exactly as next use
//! does, so the policy *is* `belady` (it delegates to one) instead of
//! sampling: on such workloads the two give identical results at the same
//! speed. The first object with another charge hands the residents over to
//! the sampling structures for the rest of the run.
//!
//! Parameters: `samples=128` (libCacheSim's default). Deviation from
//! libCacheSim: the exact-Belady path for uniform charges described above.

use super::belady::Belady;
use super::common::LinkedSlab;
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;
use crate::rng::SimRng;

#[derive(Debug, Clone, Copy)]
struct Entry {
    next: u64,
    charge: u32,
    /// Position in `resident`.
    pos: u32,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct BeladySize {
    /// The policy while every charge has been equal.
    exact: Belady,
    /// The charge every object has had so far (0: none seen yet), or
    /// `u64::MAX` once two differed (then the fields below are used).
    uniform: u64,
    slab: LinkedSlab<Entry>,
    /// Slab handles of resident objects, for uniform sampling.
    resident: Vec<u32>,
    rng: SimRng,
    samples: usize,
    used: u64,
    capacity: u64,
}

impl BeladySize {
    pub(crate) fn new(capacity: u64, samples: usize, seed: u64) -> BeladySize {
        BeladySize {
            exact: Belady::new(capacity),
            uniform: 0,
            slab: LinkedSlab::with_capacity(4),
            resident: Vec::new(),
            rng: SimRng::derive(seed, 0xbe1a_d75e),
            samples: samples.max(1),
            used: 0,
            capacity,
        }
    }

    fn sampling(&self) -> bool {
        self.uniform == u64::MAX
    }

    /// Leaves the exact path: moves the residents of `exact` over.
    fn start_sampling(&mut self) {
        let charge = self.uniform;
        self.uniform = u64::MAX;
        let exact = std::mem::replace(&mut self.exact, Belady::new(0));
        let keys = exact.keys_by_next_use();
        self.slab = LinkedSlab::with_capacity(self.capacity.min(1 << 24) as usize);
        for (key, next) in keys {
            self.add(key, next, charge);
        }
    }

    fn add(&mut self, key: Key, next: u64, charge: u64) {
        let idx = self.slab.insert(
            key,
            Entry {
                next,
                charge: charge as u32,
                pos: self.resident.len() as u32,
            },
        );
        self.resident.push(idx);
        self.used += charge;
    }

    fn remove_idx(&mut self, idx: u32) {
        let e = *self.slab.data(idx);
        let pos = e.pos as usize;
        self.resident.swap_remove(pos);
        if pos < self.resident.len() {
            let moved = self.resident[pos];
            self.slab.data_mut(moved).pos = pos as u32;
        }
        self.used -= u64::from(e.charge);
        self.slab.remove(idx);
    }

    /// The victim by the sampled `distance x size` rule.
    fn sample_victim(&mut self, now: u64) -> u32 {
        let score = |e: &Entry| -> (bool, u128) {
            if e.next == u64::MAX {
                (true, u128::from(e.charge))
            } else {
                (
                    false,
                    u128::from(e.next.saturating_sub(now)) * u128::from(e.charge),
                )
            }
        };
        let n = self.resident.len();
        let mut best = self.resident[0];
        let mut best_score = score(self.slab.data(best));
        let all = n <= self.samples;
        for d in 0..n.min(self.samples) {
            let idx = if all {
                self.resident[d]
            } else {
                self.resident[self.rng.below(n as u64) as usize]
            };
            let s = score(self.slab.data(idx));
            if s > best_score {
                best = idx;
                best_score = s;
            }
        }
        best
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        if !self.sampling() {
            return self.exact.validate();
        }
        assert_eq!(self.resident.len(), self.slab.len());
        let mut sum = 0;
        for (p, &i) in self.resident.iter().enumerate() {
            assert_eq!(self.slab.data(i).pos as usize, p);
            sum += u64::from(self.slab.data(i).charge);
        }
        assert_eq!(sum, self.used);
        assert!(self.used <= self.capacity);
    }
}

impl Register for BeladySize {
    const INFO: PolicyInfo = PolicyInfo {
        name: "belady-size",
        summary: "offline, size-aware: evict the largest next-use distance x size (sampled)",
        params: "samples=128",
        kind: Kind::Offline,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<BeladySize, SpecError> {
        let samples = p.u64_in("samples", 128, 1, 1 << 20)? as usize;
        Ok(BeladySize::new(ctx.capacity, samples, ctx.seed))
    }
}

impl Policy for BeladySize {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(slab);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        if !self.sampling() {
            return self.exact.get(a);
        }
        match self.slab.find(a.key) {
            Some(i) => {
                self.slab.data_mut(i).next = a.next_vtime;
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        if self.uniform == 0 {
            self.uniform = a.charge;
        } else if self.uniform != a.charge && !self.sampling() {
            self.start_sampling();
        }
        if !self.sampling() {
            return self.exact.insert(a, ev);
        }
        while self.used + a.charge > self.capacity && !self.resident.is_empty() {
            let v = self.sample_victim(a.vtime);
            self.remove_idx(v);
            ev.evicted += 1;
        }
        self.add(a.key, a.next_vtime, a.charge);
    }

    fn remove(&mut self, key: Key) -> bool {
        if !self.sampling() {
            return self.exact.remove(key);
        }
        match self.slab.find(key) {
            Some(i) => {
                self.remove_idx(i);
                true
            }
            None => false,
        }
    }

    fn len(&self) -> usize {
        if self.sampling() {
            self.slab.len()
        } else {
            self.exact.len()
        }
    }

    fn used(&self) -> u64 {
        if self.sampling() {
            self.used
        } else {
            self.exact.used()
        }
    }

    fn heap_bytes(&self) -> usize {
        self.exact.heap_bytes() + self.slab.heap_bytes() + self.resident.capacity() * 4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(k: Key, t: u64, next: u64, charge: u64) -> Access {
        Access {
            charge,
            next_vtime: next,
            ..Access::simple(k, t)
        }
    }

    #[test]
    fn evicts_largest_distance_times_size() {
        // Capacity 100, all resident objects sampled (fewer than `samples`).
        let mut p = BeladySize::new(100, 128, 1);
        let mut ev = Evictions::default();
        p.insert(&acc(1, 0, 10, 50), &mut ev); // score at t=3: 7 x 50 = 350
        p.insert(&acc(2, 1, 100, 10), &mut ev); // 97 x 10 = 970
        p.insert(&acc(3, 2, 40, 40), &mut ev); // 37 x 40 = 1480
        p.insert(&acc(4, 3, 5, 30), &mut ev); // needs 30: evicts 3 only
        assert_eq!(ev.evicted, 1);
        assert!(p.get(&acc(1, 4, 10, 50)) && p.get(&acc(2, 4, 100, 10)));
        assert!(!p.get(&acc(3, 4, 40, 40)));
        // A never-reused object goes before any other, whatever its size.
        p.insert(&acc(5, 5, u64::MAX, 5), &mut ev); // 90 + 5 = 95: fits
        p.insert(&acc(6, 6, 7, 10), &mut ev); // 105 > 100: evicts 5 only
        assert!(!p.get(&acc(5, 7, u64::MAX, 5)));
        p.validate();
    }

    #[test]
    fn uniform_charges_evict_exactly_as_belady() {
        let keys: Vec<Key> = (0..3000u64).map(|i| crate::rng::splitmix(i) % 40).collect();
        let next = crate::workload::future::next_use(&keys);
        let mut a = BeladySize::new(7, 4, 3);
        let mut b = super::super::belady::Belady::new(7);
        let mut ev = Evictions::default();
        for (i, &k) in keys.iter().enumerate() {
            let x = acc(k, i as u64, next[i], 1);
            let (ha, hb) = (a.get(&x), b.get(&x));
            assert_eq!(ha, hb, "at {i}");
            if !ha {
                a.insert(&x, &mut ev);
                b.insert(&x, &mut ev);
            }
        }
        a.validate();
        // A second size switches to sampling, which lists every resident.
        let before = a.len();
        assert!(!a.get(&acc(1000, 3000, 3005, 2)));
        a.insert(&acc(1000, 3000, 3005, 2), &mut ev);
        assert!(a.sampling());
        a.validate();
        assert!(a.len() <= before && a.get(&acc(1000, 3001, 3005, 2)));
    }
}
