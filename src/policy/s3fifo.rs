//! `s3fifo`: S3-FIFO (Yang, Zhang, Qiu, Yue, Rashmi, "FIFO queues are all you
//! need for cache eviction", SOSP 2023), as implemented for the paper in
//! libCacheSim's `S3FIFOv0.c`.
//!
//! Semantics:
//! - Three FIFO queues: *small* S (10% of the capacity), *main* M (the rest)
//!   and *ghost* G (keys only, no data; 90% of the capacity, i.e. as many
//!   entries as M holds with unit charges).
//! - Each resident object has a 2-bit frequency: a hit increments it, capped
//!   at 3; a hit never moves an object.
//! - A miss on a key in G takes it out of G and inserts it into M; any other
//!   miss inserts into S. New objects start with frequency 0.
//! - While the new object does not fit, one object is evicted: from M when M
//!   holds more than its share or S is empty, else from S (libCacheSim's
//!   `S3FIFOv0_evict`; in a full cache this is the paper's "evict from S when
//!   S is at least 10% of the cache").
//! - Evicting from S: the oldest object of S moves to M (frequency cleared)
//!   if its frequency is greater than 1, and the scan goes on; the first
//!   object with frequency 0 or 1 leaves the cache and its key enters G
//!   (G forgets its oldest keys beyond its size). The threshold follows
//!   libCacheSim's `S3FIFOv0` default `move-to-main-threshold=2`: freq >= 2,
//!   i.e. hit more than once while in S (the frequency counts hits since
//!   insertion), which is how we read the paper's "accessed more than once";
//!   re-tellings that promote on a single hit (freq >= 1) differ.
//! - Evicting from M: the oldest object of M with a non-zero frequency is
//!   reinserted at M's head with its frequency decreased by one; the first
//!   with frequency 0 leaves. (M is kept as a CLOCK ring with a hand, which
//!   is the same order without relinking on every reinsertion.)
//!
//! Parameters: `small` = S's share of the capacity (default 0.1), `ghost` =
//! G's size as a share of the capacity (default 0.9). Sizes are
//! `floor(share * capacity)`.
//!
//! Byte capacities: S, M and G sizes are in charge units (bytes), as in
//! libCacheSim where every queue is a byte-sized FIFO and a ghost remembers
//! its object's size.
//!
//! Deviation: libCacheSim refuses to admit an object at least as large as S
//! (so with unit charges a cache below 10 objects admits nothing); here such
//! an object still enters S (and is usually the next to leave it), so every
//! strategy admits whatever fits the cache.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

/// Keys with their frequencies, oldest first (test and debug view).
#[cfg(test)]
pub(crate) type KeyFreqs = Vec<(Key, u8)>;

const SMALL: u8 = 0;
const MAIN: u8 = 1;
const GHOST: u8 = 2;

#[derive(Debug, Clone, Copy)]
struct Meta {
    charge: u32,
    region: u8,
    freq: u8,
}

/// S3-FIFO. See the module documentation.
#[derive(Debug, Clone)]
pub struct S3Fifo {
    slab: LinkedSlab<Meta>,
    small: List,
    /// M as a ring read from `main_hand` (`NIL` = the front): the oldest
    /// object is under the hand, and "reinsert at the head" is "the hand
    /// moves past it", so a reinsertion touches no links (M is a FIFO with
    /// reinsertion, which is CLOCK).
    main: List,
    main_hand: u32,
    ghost: List,
    small_used: u64,
    main_used: u64,
    ghost_used: u64,
    main_cap: u64,
    ghost_cap: u64,
    capacity: u64,
    /// What the last missing `get` found: its key and ghost handle (`NIL`
    /// for none), so the `insert` that follows skips a second lookup. Valid
    /// until the next insert or remove (the only calls that add or free
    /// handles).
    probe: Option<(Key, u32)>,
}

impl S3Fifo {
    /// `small` and `ghost` are shares of `capacity`.
    pub(crate) fn new(capacity: u64, small: f64, ghost: f64) -> S3Fifo {
        let small_cap = (capacity as f64 * small).floor() as u64;
        let ghost_cap = (capacity as f64 * ghost).floor() as u64;
        S3Fifo {
            slab: LinkedSlab::with_capacity((capacity + ghost_cap).min(1 << 24) as usize),
            small: List::default(),
            main: List::default(),
            main_hand: NIL,
            ghost: List::default(),
            small_used: 0,
            main_used: 0,
            ghost_used: 0,
            main_cap: capacity - small_cap.min(capacity),
            ghost_cap,
            capacity,
            probe: None,
        }
    }

    /// (S, M with frequencies, G), oldest first. For tests.
    #[cfg(test)]
    pub(crate) fn queues(&self) -> (KeyFreqs, KeyFreqs, Vec<Key>) {
        let f = |l: &List| {
            self.slab
                .iter(l)
                .map(|i| (self.slab.key(i), self.slab.data(i).freq))
                .collect()
        };
        let g = self
            .slab
            .iter(&self.ghost)
            .map(|i| self.slab.key(i))
            .collect();
        let main: Vec<(Key, u8)> = f(&self.main);
        let at = self
            .slab
            .iter(&self.main)
            .position(|i| i == self.main_hand)
            .unwrap_or(0);
        let main = main[at..].iter().chain(&main[..at]).copied().collect();
        (f(&self.small), main, g)
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        let mut n = 0;
        for (l, region, used) in [
            (&self.small, SMALL, self.small_used),
            (&self.main, MAIN, self.main_used),
            (&self.ghost, GHOST, self.ghost_used),
        ] {
            n += self.slab.check_list(l);
            let sum: u64 = self
                .slab
                .iter(l)
                .map(|i| {
                    let m = self.slab.data(i);
                    assert_eq!(m.region, region);
                    assert!(m.freq <= 3);
                    u64::from(m.charge)
                })
                .sum();
            assert_eq!(sum, used);
        }
        assert_eq!(n, self.slab.len());
        assert!(self.small_used + self.main_used <= self.capacity);
        if self.main_hand != NIL {
            assert_eq!(self.slab.data(self.main_hand).region, MAIN, "hand off M");
        }
        assert!(self.ghost_used <= self.ghost_cap);
    }

    /// Evicts one object (libCacheSim's `S3FIFOv0_evict`); false if empty.
    #[inline]
    fn evict(&mut self) -> bool {
        if self.main_used > self.main_cap || self.small.is_empty() {
            self.evict_main()
        } else {
            self.evict_small()
        }
    }

    fn evict_small(&mut self) -> bool {
        while let Some(t) = self.slab.pop_front(&mut self.small) {
            let m = self.slab.data_mut(t);
            let c = u64::from(m.charge);
            self.small_used -= c;
            if m.freq > 1 {
                m.freq = 0;
                m.region = MAIN;
                self.push_main(t);
                self.main_used += c;
            } else {
                m.region = GHOST;
                self.slab.push_back(&mut self.ghost, t);
                self.ghost_used += c;
                while self.ghost_used > self.ghost_cap {
                    let g = self.slab.pop_front(&mut self.ghost).unwrap();
                    self.ghost_used -= u64::from(self.slab.data(g).charge);
                    self.slab.remove(g);
                }
                return true;
            }
        }
        // Everything moved to M; evict from there.
        self.evict_main()
    }

    fn evict_main(&mut self) -> bool {
        let mut h = if self.main_hand != NIL {
            self.main_hand
        } else {
            match self.main.front() {
                Some(f) => f,
                None => return false,
            }
        };
        // Objects with a non-zero frequency are "reinserted at the head"
        // with one less: the hand moves past them.
        while self.slab.data(h).freq > 0 {
            self.slab.data_mut(h).freq -= 1;
            h = match self.slab.next(h) {
                Some(n) => n,
                None => self.main.front().unwrap_or(h),
            };
        }
        self.main_hand = self.slab.next(h).unwrap_or(NIL);
        self.slab.unlink(&mut self.main, h);
        self.main_used -= u64::from(self.slab.data(h).charge);
        self.slab.remove(h);
        true
    }

    /// Inserts `idx` (on no list) at M's head: just behind the hand.
    #[inline]
    fn push_main(&mut self, idx: u32) {
        if self.main_hand != NIL {
            self.slab.insert_before(&mut self.main, self.main_hand, idx);
        } else {
            self.slab.push_back(&mut self.main, idx);
        }
    }
}

impl Register for S3Fifo {
    const INFO: PolicyInfo = PolicyInfo {
        name: "s3fifo",
        summary: "S3-FIFO: small + main FIFO, ghost queue (Yang et al., SOSP 2023)",
        params: "small=0.1:ghost=0.9",
        kind: Kind::Online,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<S3Fifo, SpecError> {
        let small = p.f64_in("small", 0.1, 0.0, 1.0)?;
        let ghost = p.f64_in("ghost", 0.9, 0.0, 4.0)?;
        Ok(S3Fifo::new(ctx.capacity, small, ghost))
    }
}

impl Policy for S3Fifo {
    #[inline]
    fn prefetch_ahead(&self) -> (usize, usize) {
        super::PREFETCH_AHEAD_LONG
    }

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
                if m.region == GHOST {
                    self.probe = Some((a.key, idx));
                    return false;
                }
                if m.freq < 3 {
                    m.freq += 1;
                }
                true
            }
            None => {
                self.probe = Some((a.key, NIL));
                false
            }
        }
    }

    #[inline]
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        let ghost = match self.probe.take() {
            Some((k, i)) if k == a.key => (i != NIL).then_some(i),
            _ => self.slab.find(a.key),
        };
        if let Some(x) = ghost {
            debug_assert_eq!(self.slab.data(x).region, GHOST);
            self.slab.unlink(&mut self.ghost, x);
            self.ghost_used -= u64::from(self.slab.data(x).charge);
        }
        while self.small_used + self.main_used + a.charge > self.capacity {
            if !self.evict() {
                break;
            }
            ev.evicted += 1;
        }
        match ghost {
            Some(x) => {
                *self.slab.data_mut(x) = Meta {
                    charge: a.charge as u32,
                    region: MAIN,
                    freq: 0,
                };
                self.push_main(x);
                self.main_used += a.charge;
            }
            None => {
                let x = self.slab.insert(
                    a.key,
                    Meta {
                        charge: a.charge as u32,
                        region: SMALL,
                        freq: 0,
                    },
                );
                self.slab.push_back(&mut self.small, x);
                self.small_used += a.charge;
            }
        }
    }

    fn remove(&mut self, key: Key) -> bool {
        self.probe = None;
        let Some(idx) = self.slab.find(key) else {
            return false;
        };
        let m = *self.slab.data(idx);
        let c = u64::from(m.charge);
        let resident = match m.region {
            SMALL => {
                self.slab.unlink(&mut self.small, idx);
                self.small_used -= c;
                true
            }
            MAIN => {
                if self.main_hand == idx {
                    self.main_hand = self.slab.next(idx).unwrap_or(NIL);
                }
                self.slab.unlink(&mut self.main, idx);
                self.main_used -= c;
                true
            }
            _ => {
                self.slab.unlink(&mut self.ghost, idx);
                self.ghost_used -= c;
                false
            }
        };
        self.slab.remove(idx);
        resident
    }

    fn len(&self) -> usize {
        self.small.len() + self.main.len()
    }

    fn used(&self) -> u64 {
        self.small_used + self.main_used
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
    use std::collections::VecDeque;

    #[test]
    fn hand_worked_sequence() {
        // c = 10: S = 1, M = 9, G = 9.
        let mut s = S3Fifo::new(10, 0.1, 0.9);
        // a b: both enter S (S may exceed its share while the cache has room).
        // a is hit twice (freq 2), b once.
        let hits = run_keys(&mut s, &[1, 2, 1, 1, 2], |s| s.validate());
        assert_eq!(hits, [false, false, true, true, true]);
        for k in 3..=10 {
            run_keys(&mut s, &[k], |s| s.validate());
        }
        assert_eq!(s.queues().0.len(), 10);
        // k (11): the cache is full, M is empty: evict from S. a (freq 2 > 1)
        // moves to M with its frequency cleared; b (freq 1) is evicted into G.
        run_keys(&mut s, &[11], |s| s.validate());
        let (small, main, ghost) = s.queues();
        assert_eq!(main, vec![(1, 0)]);
        assert_eq!(ghost, vec![2]);
        assert_eq!(small.first(), Some(&(3, 0)));
        // b again: a ghost hit, so it goes straight to M (and c leaves S for G).
        let hits = run_keys(&mut s, &[2], |s| s.validate());
        assert_eq!(hits, [false]);
        let (_, main, ghost) = s.queues();
        assert_eq!(main, vec![(1, 0), (2, 0)]);
        assert_eq!(ghost, vec![3]);
    }

    #[test]
    fn main_reinserts_with_decremented_frequency() {
        // S = 0 so every object passes through S straight to M or G; c = 2.
        let mut s = S3Fifo::new(2, 0.0, 1.0);
        // a a a: freq 2 in S. b: the cache has room. c: the cache is full and
        // M is within its share, so S is scanned: a (freq 2) -> M, b -> G.
        run_keys(&mut s, &[1, 1, 1, 2, 3], |s| s.validate());
        assert_eq!(s.queues(), (vec![(3, 0)], vec![(1, 0)], vec![2]));
        // a hit 3 times: capped at 3.
        run_keys(&mut s, &[1, 1, 1, 1], |s| s.validate());
        assert_eq!(s.queues().1, vec![(1, 3)]);
        // b: ghost hit -> into M. Room: evict from S: c (freq 0) -> G.
        run_keys(&mut s, &[2], |s| s.validate());
        assert_eq!(s.queues(), (vec![], vec![(1, 3), (2, 0)], vec![3]));
        // d: S empty -> evict M: a reinserted (freq 2), b evicted.
        run_keys(&mut s, &[4], |s| s.validate());
        assert_eq!(s.queues(), (vec![(4, 0)], vec![(1, 2)], vec![3]));
    }

    /// S3-FIFO on three VecDeques, from the paper's description.
    #[derive(Default)]
    struct Naive {
        s: VecDeque<(Key, u64, u8)>,
        m: VecDeque<(Key, u64, u8)>,
        g: VecDeque<(Key, u64)>,
        cap: u64,
        main_cap: u64,
        ghost_cap: u64,
    }

    fn total<T>(q: &VecDeque<T>, f: impl Fn(&T) -> u64) -> u64 {
        q.iter().map(f).sum()
    }

    impl Naive {
        fn evict_m(&mut self) {
            while let Some(mut t) = self.m.pop_front() {
                if t.2 > 0 {
                    t.2 -= 1;
                    self.m.push_back(t);
                } else {
                    return;
                }
            }
        }
        fn evict_s(&mut self) {
            while let Some(t) = self.s.pop_front() {
                if t.2 > 1 {
                    self.m.push_back((t.0, t.1, 0));
                } else {
                    self.g.push_back((t.0, t.1));
                    while total(&self.g, |e| e.1) > self.ghost_cap {
                        self.g.pop_front();
                    }
                    return;
                }
            }
            self.evict_m();
        }
    }

    impl Model for Naive {
        fn access(&mut self, key: Key, charge: u64) -> bool {
            for q in [&mut self.s, &mut self.m] {
                if let Some(e) = q.iter_mut().find(|e| e.0 == key) {
                    e.2 = (e.2 + 1).min(3);
                    return true;
                }
            }
            let in_g = self.g.iter().position(|e| e.0 == key);
            if let Some(i) = in_g {
                self.g.remove(i);
            }
            while total(&self.s, |e| e.1) + total(&self.m, |e| e.1) + charge > self.cap {
                if total(&self.m, |e| e.1) > self.main_cap || self.s.is_empty() {
                    self.evict_m();
                } else {
                    self.evict_s();
                }
            }
            if in_g.is_some() {
                self.m.push_back((key, charge, 0));
            } else {
                self.s.push_back((key, charge, 0));
            }
            false
        }
    }

    proptest! {
        #[test]
        fn matches_naive_s3fifo(stream in charged_stream(), cap in 1u64..40, small in 0.0f64..0.5, ghost in 0.0f64..1.5) {
            let mut fast = S3Fifo::new(cap, small, ghost);
            let small_cap = (cap as f64 * small).floor() as u64;
            let mut naive = Naive {
                cap,
                main_cap: cap - small_cap,
                ghost_cap: (cap as f64 * ghost).floor() as u64,
                ..Default::default()
            };
            compare(&mut fast, &mut naive, cap, &stream, |s| s.validate())?;
        }
    }
}
