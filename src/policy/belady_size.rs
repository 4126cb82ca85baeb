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
//! does, so the policy evicts exactly as `belady` (by the same max-heap,
//! ties to the largest key) instead of sampling: on such workloads the two
//! give identical results, and it is fast. The first object with another
//! charge switches it to sampling for the rest of the run.
//!
//! Parameters: `samples=128` (libCacheSim's default). Deviation from
//! libCacheSim: the exact-Belady path for uniform charges described above.

use super::common::{LinkedSlab, MaxHeap4};
use super::{Access, Evictions, Policy};
use crate::request::Key;
use crate::rng::SimRng;

#[derive(Debug, Clone, Copy)]
struct Entry {
    next: u64,
    charge: u32,
    /// Position in `resident` (`u32::MAX` while charges are uniform).
    pos: u32,
}

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct BeladySize {
    slab: LinkedSlab<Entry>,
    /// Slab handles of resident objects, for uniform sampling.
    resident: Vec<u32>,
    /// `(next use, key)` with lazy deletion, used while charges are uniform.
    heap: MaxHeap4,
    /// The charge every object has had so far (0: none seen yet), or
    /// `u64::MAX` once two differed.
    uniform: u64,
    rng: SimRng,
    samples: usize,
    used: u64,
    capacity: u64,
}

impl BeladySize {
    pub fn new(capacity: u64, samples: usize, seed: u64) -> BeladySize {
        BeladySize {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            resident: Vec::new(),
            heap: MaxHeap4::default(),
            uniform: 0,
            rng: SimRng::derive(seed, 0xbe1a_d75e),
            samples: samples.max(1),
            used: 0,
            capacity,
        }
    }

    fn sampling(&self) -> bool {
        self.uniform == u64::MAX
    }

    #[inline]
    fn push(&mut self, next: u64, key: Key, now: u64) {
        if self.sampling() {
            return;
        }
        if self.heap.len() >= 2 * self.slab.len() + 64 {
            // As `belady`: pairs whose time has passed are stale.
            self.heap.retain(|&(n, _)| n > now);
            if self.heap.len() >= self.slab.len() + self.slab.len() / 2 + 32 {
                let slab = &self.slab;
                self.heap
                    .retain(|&(n, k)| slab.find(k).is_some_and(|i| slab.data(i).next == n));
            }
        }
        self.heap.push((next, key));
    }

    fn remove_idx(&mut self, idx: u32) {
        let e = *self.slab.data(idx);
        if self.sampling() {
            let pos = e.pos as usize;
            self.resident.swap_remove(pos);
            if pos < self.resident.len() {
                let moved = self.resident[pos];
                self.slab.data_mut(moved).pos = pos as u32;
            }
        }
        self.used -= u64::from(e.charge);
        self.slab.remove(idx);
    }

    /// Leaves the exact path for sampling: lists the resident objects (each
    /// has a live heap pair; `resident` is only kept while sampling).
    fn start_sampling(&mut self) {
        self.uniform = u64::MAX;
        let heap = std::mem::take(&mut self.heap);
        self.resident.clear();
        for &(n, k) in heap.as_slice() {
            if let Some(i) = self.slab.find(k) {
                let e = self.slab.data(i);
                if e.next == n && e.pos == u32::MAX {
                    self.slab.data_mut(i).pos = self.resident.len() as u32;
                    self.resident.push(i);
                }
            }
        }
        debug_assert_eq!(self.resident.len(), self.slab.len());
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
        let draws = if n <= self.samples { n } else { self.samples };
        for d in 0..draws {
            let idx = if n <= self.samples {
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

    fn evict_one(&mut self, now: u64) -> bool {
        if self.sampling() {
            if self.resident.is_empty() {
                return false;
            }
            let v = self.sample_victim(now);
            self.remove_idx(v);
            return true;
        }
        while let Some((n, k)) = self.heap.pop() {
            if let Some(i) = self.slab.find(k) {
                if self.slab.data(i).next == n {
                    self.remove_idx(i);
                    return true;
                }
            }
        }
        false
    }

    #[cfg(test)]
    pub fn validate(&self) {
        if self.sampling() {
            assert_eq!(self.resident.len(), self.slab.len());
            let mut sum = 0;
            for (p, &i) in self.resident.iter().enumerate() {
                assert_eq!(self.slab.data(i).pos as usize, p);
                sum += u64::from(self.slab.data(i).charge);
            }
            assert_eq!(sum, self.used);
        } else {
            assert_eq!(self.used, self.slab.len() as u64 * self.uniform);
        }
        assert!(self.used <= self.capacity);
    }
}

impl Policy for BeladySize {
    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.slab.find(a.key) {
            Some(i) => {
                self.slab.data_mut(i).next = a.next_vtime;
                self.push(a.next_vtime, a.key, a.vtime);
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
        while self.used + a.charge > self.capacity && self.evict_one(a.vtime) {
            ev.evicted += 1;
        }
        let idx = self.slab.insert(
            a.key,
            Entry {
                next: a.next_vtime,
                charge: a.charge as u32,
                pos: u32::MAX,
            },
        );
        if self.sampling() {
            self.slab.data_mut(idx).pos = self.resident.len() as u32;
            self.resident.push(idx);
        }
        self.used += a.charge;
        self.push(a.next_vtime, a.key, a.vtime);
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(i) => {
                self.remove_idx(i);
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
        self.slab.heap_bytes()
            + self.resident.capacity() * 4
            + self.heap.capacity() * std::mem::size_of::<(u64, Key)>()
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
        let next = crate::sim::future::next_use(&keys);
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
