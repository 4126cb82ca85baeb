//! `clock`: CLOCK, the second-chance algorithm (Corbató, "A paging experiment
//! with the Multics system", 1968; the textbook CLOCK of Tanenbaum), with an
//! optional k-bit reference counter as in libCacheSim's `Clock`
//! (`n-bit-counter`).
//!
//! Semantics. Resident entries sit on a ring; the hand points at the oldest
//! one. A hit increments the entry's counter, capped at `2^bits - 1` (with the
//! default `bits=1` this is "set the reference bit"); a hit never moves an
//! entry. To make room, the hand looks at the entry under it: a non-zero
//! counter is decremented (the second chance) and the hand moves on; an entry
//! whose counter is zero is evicted. A new entry is placed just behind the
//! hand (it is the last the hand will reach) with its counter at 0, as in
//! libCacheSim (`Clock_insert` sets `freq = 0`).
//!
//! The ring is a list on the index-linked slab read circularly (after the
//! back comes the front) with a hand handle; sweeping only reads and writes
//! counters, and a new entry is linked just before the hand.
//!
//! Parameters: `bits` (1..=8, default 1: classic CLOCK).
//! Byte capacities: an entry is charged its size; the hand evicts until the
//! new object fits.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

#[derive(Debug, Clone, Copy)]
struct Meta {
    charge: u32,
    count: u8,
}

/// CLOCK with a `bits`-bit counter. See the module documentation.
#[derive(Debug, Clone)]
pub struct Clock {
    slab: LinkedSlab<Meta>,
    /// The ring, read circularly.
    ring: List,
    /// The entry under the hand; `NIL` means the front.
    hand: u32,
    used: u64,
    capacity: u64,
    max_count: u8,
}

impl Clock {
    /// A CLOCK cache of `capacity` charge units with `bits`-bit counters
    /// (`bits` in 1..=8).
    pub(crate) fn new(capacity: u64, bits: u32) -> Clock {
        assert!((1..=8).contains(&bits), "clock bits must be in 1..=8");
        Clock {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            ring: List::default(),
            hand: NIL,
            used: 0,
            capacity,
            max_count: ((1u32 << bits) - 1) as u8,
        }
    }

    /// Keys from the hand onwards (next candidate first), with counters.
    /// For tests.
    #[cfg(test)]
    pub(crate) fn ring(&self) -> Vec<(Key, u8)> {
        let all: Vec<u32> = self.slab.iter(&self.ring).collect();
        let at = all.iter().position(|&i| i == self.hand).unwrap_or(0);
        all[at..]
            .iter()
            .chain(&all[..at])
            .map(|&i| (self.slab.key(i), self.slab.data(i).count))
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        assert_eq!(self.slab.check_list(&self.ring), self.slab.len());
        let sum: u64 = self
            .slab
            .iter(&self.ring)
            .map(|i| u64::from(self.slab.data(i).charge))
            .sum();
        assert_eq!(sum, self.used);
        assert!(self.used <= self.capacity);
        if self.hand != NIL {
            assert!(
                self.slab.iter(&self.ring).any(|i| i == self.hand),
                "hand off the ring"
            );
        }
        assert!(self
            .slab
            .iter(&self.ring)
            .all(|i| self.slab.data(i).count <= self.max_count));
    }
}

impl Register for Clock {
    const INFO: PolicyInfo = PolicyInfo {
        name: "clock",
        summary: "CLOCK second chance (k-bit counter optional)",
        params: "bits=1",
        kind: Kind::Online,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<Clock, SpecError> {
        let bits = p.u64_in("bits", 1, 1, 8)? as u32;
        Ok(Clock::new(ctx.capacity, bits))
    }
}

impl Policy for Clock {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(slab);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.slab.find(a.key) {
            Some(idx) => {
                let m = self.slab.data_mut(idx);
                if m.count < self.max_count {
                    m.count += 1;
                }
                true
            }
            None => false,
        }
    }

    #[inline]
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        while self.used + a.charge > self.capacity {
            let mut h = if self.hand != NIL {
                self.hand
            } else {
                match self.ring.front() {
                    Some(f) => f,
                    None => break,
                }
            };
            // Sweep: a second chance costs one counter decrement.
            while self.slab.data(h).count > 0 {
                self.slab.data_mut(h).count -= 1;
                h = match self.slab.next(h) {
                    Some(n) => n,
                    None => self.ring.front().unwrap_or(h),
                };
            }
            self.hand = self.slab.next(h).unwrap_or(NIL);
            self.slab.unlink(&mut self.ring, h);
            self.used -= u64::from(self.slab.data(h).charge);
            self.slab.remove(h);
            ev.evicted += 1;
        }
        let idx = self.slab.insert(
            a.key,
            Meta {
                charge: a.charge as u32,
                count: 0,
            },
        );
        // Just behind the hand: the last entry the hand will reach.
        if self.hand != NIL {
            self.slab.insert_before(&mut self.ring, self.hand, idx);
        } else {
            self.slab.push_back(&mut self.ring, idx);
        }
        self.used += a.charge;
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                if self.hand == idx {
                    self.hand = self.slab.next(idx).unwrap_or(NIL);
                }
                self.slab.unlink(&mut self.ring, idx);
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
    fn second_chance_hand_worked() {
        // c = 3: a b c a d  -> a's bit is set, so the hand clears it, skips a
        // and evicts b. Then e: hand at c (bit 0) evicts c. Then a: hit.
        let mut c = Clock::new(3, 1);
        let hits = run_keys(&mut c, &[1, 2, 3, 1, 4], |c| c.validate());
        assert_eq!(hits, [false, false, false, true, false]);
        assert_eq!(c.ring(), vec![(3, 0), (1, 0), (4, 0)]);
        let hits = run_keys(&mut c, &[5, 1], |c| c.validate());
        assert_eq!(hits, [false, true]);
        assert_eq!(c.ring(), vec![(1, 1), (4, 0), (5, 0)]);
    }

    #[test]
    fn two_bit_counter_gives_several_chances() {
        // c = 2, bits = 2: a is hit 3 times (count 3, the cap), then b c d e
        // arrive: a survives three sweeps, the newcomers are evicted.
        let mut c = Clock::new(2, 2);
        run_keys(&mut c, &[1, 1, 1, 1, 1], |c| c.validate());
        assert_eq!(c.ring(), vec![(1, 3)]);
        let hits = run_keys(&mut c, &[2, 3, 4, 5, 1], |c| c.validate());
        assert_eq!(hits, [false, false, false, false, true]);
        // With bits = 1 the same stream has lost a by the time it comes back.
        let mut c = Clock::new(2, 1);
        let hits = run_keys(&mut c, &[1, 1, 1, 1, 1, 2, 3, 4, 5, 1], |c| c.validate());
        assert!(!hits[9]);
    }

    /// The textbook CLOCK on a Vec ring with an explicit hand index.
    #[derive(Default)]
    struct Naive {
        ring: Vec<(Key, u64, u8)>,
        hand: usize,
        cap: u64,
        max: u8,
    }

    impl Model for Naive {
        fn access(&mut self, key: Key, charge: u64) -> bool {
            if let Some(e) = self.ring.iter_mut().find(|e| e.0 == key) {
                e.2 = (e.2 + 1).min(self.max);
                return true;
            }
            let used = |r: &Vec<(Key, u64, u8)>| r.iter().map(|e| e.1).sum::<u64>();
            while used(&self.ring) + charge > self.cap && !self.ring.is_empty() {
                if self.hand >= self.ring.len() {
                    self.hand = 0;
                }
                if self.ring[self.hand].2 > 0 {
                    self.ring[self.hand].2 -= 1;
                    self.hand += 1;
                } else {
                    self.ring.remove(self.hand);
                }
            }
            if self.hand >= self.ring.len() {
                self.hand = 0;
            }
            // The newcomer goes just behind the hand.
            self.ring.insert(self.hand, (key, charge, 0));
            self.hand += 1;
            false
        }
    }

    proptest! {
        #[test]
        fn matches_naive_clock(stream in charged_stream(), cap in 1u64..40, bits in 1u32..4) {
            let mut fast = Clock::new(cap, bits);
            let mut naive = Naive { cap, max: ((1u32 << bits) - 1) as u8, ..Default::default() };
            compare(&mut fast, &mut naive, cap, &stream, |c| c.validate())?;
        }
    }
}
