//! `sieve`: SIEVE (Zhang, Yang, Yue, Vigfusson, Rashmi, "SIEVE is Simpler than
//! LRU: an Efficient Turn-Key Eviction Algorithm for Web Caches", NSDI 2024).
//!
//! Semantics, as in the paper's Figure/Algorithm 1: one queue, new objects
//! are inserted at the head; each object has a `visited` bit, set on a hit
//! (a hit never moves an object). To evict, the hand starts where it last
//! stopped (at the tail the first time, or when it has run past the head):
//! it clears the visited bit of every object it passes, moving from the tail
//! towards the head and wrapping to the tail, and evicts the first object
//! whose bit is already clear. The hand then rests on the next object
//! towards the head, so objects that survived a sweep stay where they are
//! and newer objects behind the hand wait for the next lap.
//!
//! Layout: the slab list's front is SIEVE's tail (oldest), its back SIEVE's
//! head (newest); "towards the head" is `next`.
//!
//! Parameters: none. Byte capacities: each object is charged its size and
//! the hand evicts until the new object fits.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

#[derive(Debug, Clone, Copy)]
struct Meta {
    charge: u32,
    visited: bool,
}

/// SIEVE. See the module documentation.
#[derive(Debug, Clone)]
pub struct Sieve {
    slab: LinkedSlab<Meta>,
    /// Front = tail (oldest), back = head (newest).
    queue: List,
    /// The next object the hand examines, `NIL` for "start at the tail".
    hand: u32,
    used: u64,
    capacity: u64,
}

impl Sieve {
    pub(crate) fn new(capacity: u64) -> Sieve {
        Sieve {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            queue: List::default(),
            hand: NIL,
            used: 0,
            capacity,
        }
    }

    /// Keys from tail (oldest) to head (newest) with their visited bits, and
    /// the key under the hand. For tests.
    #[cfg(test)]
    pub(crate) fn state(&self) -> (Vec<(Key, bool)>, Option<Key>) {
        let q = self
            .slab
            .iter(&self.queue)
            .map(|i| (self.slab.key(i), self.slab.data(i).visited))
            .collect();
        (q, (self.hand != NIL).then(|| self.slab.key(self.hand)))
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        assert_eq!(self.slab.check_list(&self.queue), self.slab.len());
        let sum: u64 = self
            .slab
            .iter(&self.queue)
            .map(|i| u64::from(self.slab.data(i).charge))
            .sum();
        assert_eq!(sum, self.used);
        assert!(self.used <= self.capacity);
        if self.hand != NIL {
            assert!(
                self.slab.iter(&self.queue).any(|i| i == self.hand),
                "hand off the queue"
            );
        }
    }

    #[inline]
    fn evict_one(&mut self) -> bool {
        let mut o = if self.hand != NIL {
            self.hand
        } else {
            match self.queue.front() {
                Some(o) => o,
                None => return false,
            }
        };
        while self.slab.data(o).visited {
            self.slab.data_mut(o).visited = false;
            o = match self.slab.next(o) {
                Some(n) => n,
                None => self.queue.front().unwrap_or(o),
            };
        }
        self.hand = self.slab.next(o).unwrap_or(NIL);
        self.slab.unlink(&mut self.queue, o);
        self.used -= u64::from(self.slab.data(o).charge);
        self.slab.remove(o);
        true
    }
}

impl Register for Sieve {
    const INFO: PolicyInfo = PolicyInfo {
        name: "sieve",
        summary: "SIEVE: visited bit, hand from old to new (Zhang et al., NSDI 2024)",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<Sieve, SpecError> {
        Ok(Sieve::new(ctx.capacity))
    }
}

impl Policy for Sieve {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(slab);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.slab.find(a.key) {
            Some(idx) => {
                self.slab.data_mut(idx).visited = true;
                true
            }
            None => false,
        }
    }

    #[inline]
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        while self.used + a.charge > self.capacity && self.evict_one() {
            ev.evicted += 1;
        }
        let idx = self.slab.insert(
            a.key,
            Meta {
                charge: a.charge as u32,
                visited: false,
            },
        );
        self.slab.push_back(&mut self.queue, idx);
        self.used += a.charge;
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                if self.hand == idx {
                    self.hand = self.slab.next(idx).unwrap_or(NIL);
                }
                self.slab.unlink(&mut self.queue, idx);
                self.used -= u64::from(self.slab.data(idx).charge);
                self.slab.remove(idx);
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testkit::{charged_stream, compare, run_keys, Model};
    use proptest::prelude::*;

    #[test]
    fn hand_worked_sequence() {
        // c = 3. a b c, hit a and b: visited a, b. d: the hand starts at the
        // tail (a), clears a and b, evicts c, rests past c (nothing: wraps).
        let mut s = Sieve::new(3);
        let hits = run_keys(&mut s, &[1, 2, 3, 1, 2, 4], |s| s.validate());
        assert_eq!(hits, [false, false, false, true, true, false]);
        assert_eq!(s.state(), (vec![(1, false), (2, false), (4, false)], None));
        // Hit d, then e: hand from the tail: a is unvisited and goes.
        let hits = run_keys(&mut s, &[4, 5], |s| s.validate());
        assert_eq!(hits, [true, false]);
        assert_eq!(
            s.state(),
            (vec![(2, false), (4, true), (5, false)], Some(2))
        );
        // f: the hand is at b (unvisited): b goes, the hand moves to d.
        // g: d is visited -> cleared, e goes; the hand rests on f (not on
        // the tail: SIEVE keeps its position).
        run_keys(&mut s, &[6], |s| s.validate());
        assert_eq!(
            s.state(),
            (vec![(4, true), (5, false), (6, false)], Some(4))
        );
        run_keys(&mut s, &[7], |s| s.validate());
        assert_eq!(
            s.state(),
            (vec![(4, false), (6, false), (7, false)], Some(6))
        );
    }

    /// SIEVE on a Vec (index 0 = tail) with an explicit hand position.
    #[derive(Default)]
    struct Naive {
        q: Vec<(Key, u64, bool)>,
        hand: Option<usize>,
        cap: u64,
    }

    impl Model for Naive {
        fn access(&mut self, key: Key, charge: u64) -> bool {
            if let Some(e) = self.q.iter_mut().find(|e| e.0 == key) {
                e.2 = true;
                return true;
            }
            while self.q.iter().map(|e| e.1).sum::<u64>() + charge > self.cap && !self.q.is_empty()
            {
                let mut i = self.hand.unwrap_or(0);
                while self.q[i].2 {
                    self.q[i].2 = false;
                    i = if i + 1 < self.q.len() { i + 1 } else { 0 };
                }
                self.q.remove(i);
                self.hand = (i < self.q.len()).then_some(i);
            }
            self.q.push((key, charge, false));
            false
        }
    }

    proptest! {
        #[test]
        fn matches_naive_sieve(stream in charged_stream(), cap in 1u64..40) {
            let mut fast = Sieve::new(cap);
            let mut naive = Naive { cap, ..Default::default() };
            compare(&mut fast, &mut naive, cap, &stream, |s| s.validate())?;
        }
    }
}
