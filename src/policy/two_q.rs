//! `2q`: 2Q, full version (Johnson & Shasha, "2Q: A Low Overhead High
//! Performance Buffer Management Replacement Algorithm", VLDB 1994, §2.2
//! "Full version").
//!
//! Semantics, following the paper's pseudo-code:
//! - `A1in`: a FIFO of resident objects seen once recently; `Am`: an LRU of
//!   resident objects seen again; `A1out`: a FIFO of *identifiers only*
//!   (ghosts, no data) of objects recently paged out of `A1in`.
//! - A hit in `Am` moves the object to `Am`'s MRU end; a hit in `A1in` does
//!   nothing (correlated references are not counted).
//! - A miss on a key in `A1out` takes it out of `A1out`, reclaims room and
//!   puts it at `Am`'s MRU end. Any other miss reclaims room and puts the key
//!   at the tail of `A1in`.
//! - Reclaiming (`reclaimfor`): while the cache is full, if `A1in` holds more
//!   than `Kin`, its oldest object is paged out and its identifier appended
//!   to `A1out` (the oldest identifiers beyond `Kout` are forgotten);
//!   otherwise `Am`'s LRU object is paged out and *not* remembered. When one
//!   of the two is empty the other one gives (a case the paper leaves
//!   implicit).
//!
//! Parameters, with the paper's recommended defaults: `kin` = `Kin` as a
//! share of the capacity (default 0.25), `kout` = `Kout` as a share of the
//! capacity (default 0.5). Both are `floor(share * capacity)`.
//!
//! Byte capacities: `Kin` and `Kout` are in charge units, i.e. bytes (a ghost
//! remembers the size its object had), as libCacheSim's `TwoQ` sizes its
//! queues in bytes.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

const A1IN: u8 = 0;
const A1OUT: u8 = 1;
const AM: u8 = 2;

#[derive(Debug, Clone, Copy)]
struct Meta {
    charge: u32,
    region: u8,
}

/// 2Q. See the module documentation.
#[derive(Debug, Clone)]
pub struct TwoQ {
    slab: LinkedSlab<Meta>,
    a1in: List,
    a1out: List,
    am: List,
    a1in_used: u64,
    a1out_used: u64,
    am_used: u64,
    kin: u64,
    kout: u64,
    capacity: u64,
    /// What the last missing `get` found: its key and ghost handle (`NIL`
    /// for none), so the `insert` that follows skips a second lookup. Valid
    /// until the next insert or remove (the only calls that add or free
    /// handles).
    probe: Option<(Key, u32)>,
}

impl TwoQ {
    /// `kin` and `kout` are shares of `capacity`.
    pub(crate) fn new(capacity: u64, kin: f64, kout: f64) -> TwoQ {
        let expected = (capacity as f64 * (1.0 + kout)).min((1 << 24) as f64) as usize;
        TwoQ {
            slab: LinkedSlab::with_capacity(expected),
            a1in: List::default(),
            a1out: List::default(),
            am: List::default(),
            a1in_used: 0,
            a1out_used: 0,
            am_used: 0,
            kin: (capacity as f64 * kin).floor() as u64,
            kout: (capacity as f64 * kout).floor() as u64,
            capacity,
            probe: None,
        }
    }

    /// (A1in oldest first, A1out oldest first, Am LRU first). For tests.
    #[cfg(test)]
    pub(crate) fn queues(&self) -> (Vec<Key>, Vec<Key>, Vec<Key>) {
        let keys = |l: &List| self.slab.iter(l).map(|i| self.slab.key(i)).collect();
        (keys(&self.a1in), keys(&self.a1out), keys(&self.am))
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        let mut n = 0;
        for (l, region, used) in [
            (&self.a1in, A1IN, self.a1in_used),
            (&self.a1out, A1OUT, self.a1out_used),
            (&self.am, AM, self.am_used),
        ] {
            n += self.slab.check_list(l);
            let sum: u64 = self
                .slab
                .iter(l)
                .map(|i| {
                    assert_eq!(self.slab.data(i).region, region);
                    u64::from(self.slab.data(i).charge)
                })
                .sum();
            assert_eq!(sum, used);
        }
        assert_eq!(n, self.slab.len());
        assert!(self.a1in_used + self.am_used <= self.capacity);
        assert!(self.a1out_used <= self.kout);
    }

    #[inline]
    fn reclaim_for(&mut self, charge: u64, ev: &mut Evictions) {
        while self.a1in_used + self.am_used + charge > self.capacity {
            if !self.a1in.is_empty() && (self.a1in_used > self.kin || self.am.is_empty()) {
                let y = self.slab.pop_front(&mut self.a1in).unwrap();
                let m = self.slab.data_mut(y);
                m.region = A1OUT;
                let c = u64::from(m.charge);
                self.a1in_used -= c;
                self.slab.push_back(&mut self.a1out, y);
                self.a1out_used += c;
                while self.a1out_used > self.kout {
                    let z = self.slab.pop_front(&mut self.a1out).unwrap();
                    self.a1out_used -= u64::from(self.slab.data(z).charge);
                    self.slab.remove(z);
                }
            } else if let Some(z) = self.slab.pop_front(&mut self.am) {
                self.am_used -= u64::from(self.slab.data(z).charge);
                self.slab.remove(z);
            } else {
                break;
            }
            ev.evicted += 1;
        }
    }
}

impl Register for TwoQ {
    const INFO: PolicyInfo = PolicyInfo {
        name: "2q",
        summary: "2Q full version: A1in FIFO, A1out ghosts, Am LRU (Johnson & Shasha 1994)",
        params: "kin=0.25:kout=0.5",
        kind: Kind::Online,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<TwoQ, SpecError> {
        let kin = p.f64_in("kin", 0.25, 0.0, 1.0)?;
        let kout = p.f64_in("kout", 0.5, 0.0, 4.0)?;
        Ok(TwoQ::new(ctx.capacity, kin, kout))
    }
}

impl Policy for TwoQ {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(slab);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.slab.find(a.key) {
            Some(idx) => match self.slab.data(idx).region {
                AM => {
                    self.slab.move_to_back(&mut self.am, idx);
                    true
                }
                A1IN => true,
                _ => {
                    self.probe = Some((a.key, idx));
                    false
                }
            },
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
            // A ghost in A1out (a resident key is never inserted).
            debug_assert_eq!(self.slab.data(x).region, A1OUT);
            self.slab.unlink(&mut self.a1out, x);
            self.a1out_used -= u64::from(self.slab.data(x).charge);
            self.reclaim_for(a.charge, ev);
            *self.slab.data_mut(x) = Meta {
                charge: a.charge as u32,
                region: AM,
            };
            self.slab.push_back(&mut self.am, x);
            self.am_used += a.charge;
        } else {
            self.reclaim_for(a.charge, ev);
            let x = self.slab.insert(
                a.key,
                Meta {
                    charge: a.charge as u32,
                    region: A1IN,
                },
            );
            self.slab.push_back(&mut self.a1in, x);
            self.a1in_used += a.charge;
        }
    }

    fn remove(&mut self, key: Key) -> bool {
        self.probe = None;
        let Some(idx) = self.slab.find(key) else {
            return false;
        };
        let m = *self.slab.data(idx);
        let c = u64::from(m.charge);
        match m.region {
            A1IN => {
                self.slab.unlink(&mut self.a1in, idx);
                self.a1in_used -= c;
            }
            AM => {
                self.slab.unlink(&mut self.am, idx);
                self.am_used -= c;
            }
            _ => {
                // A deleted key's ghost is forgotten too.
                self.slab.unlink(&mut self.a1out, idx);
                self.a1out_used -= c;
                self.slab.remove(idx);
                return false;
            }
        }
        self.slab.remove(idx);
        true
    }

    fn len(&self) -> usize {
        self.a1in.len() + self.am.len()
    }

    fn used(&self) -> u64 {
        self.a1in_used + self.am_used
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
        // c = 4: Kin = 1, Kout = 2.
        let mut q = TwoQ::new(4, 0.25, 0.5);
        // a b c d fill A1in; a again is a hit in A1in and changes nothing.
        let hits = run_keys(&mut q, &[1, 2, 3, 4, 1], |q| q.validate());
        assert_eq!(hits, [false, false, false, false, true]);
        assert_eq!(q.queues(), (vec![1, 2, 3, 4], vec![], vec![]));
        // e: A1in (4) > Kin (1): a is paged out to A1out although just hit.
        // f: same for b. g: c goes, and A1out keeps only Kout = 2 ids.
        run_keys(&mut q, &[5, 6, 7], |q| q.validate());
        assert_eq!(q.queues(), (vec![4, 5, 6, 7], vec![2, 3], vec![]));
        // b again: a miss found in A1out -> d leaves A1in, b enters Am.
        let hits = run_keys(&mut q, &[2], |q| q.validate());
        assert_eq!(hits, [false]);
        assert_eq!(q.queues(), (vec![5, 6, 7], vec![3, 4], vec![2]));
        // b hits in Am. h: A1in (3) > Kin: e is paged out, c's id forgotten.
        let hits = run_keys(&mut q, &[2, 8], |q| q.validate());
        assert_eq!(hits, [true, false]);
        assert_eq!(q.queues(), (vec![6, 7, 8], vec![4, 5], vec![2]));

        // c = 4, Kin = 2, Kout = 2: a and b come back from A1out into Am,
        // which leaves A1in at Kin; then g's reclaim takes Am's LRU (a) and
        // does not remember it.
        let mut q = TwoQ::new(4, 0.5, 0.5);
        run_keys(&mut q, &[1, 2, 3, 4, 5, 6, 1, 2], |q| q.validate());
        assert_eq!(q.queues(), (vec![5, 6], vec![3, 4], vec![1, 2]));
        run_keys(&mut q, &[7], |q| q.validate());
        assert_eq!(q.queues(), (vec![5, 6, 7], vec![3, 4], vec![2]));
        // h: A1in (3) > Kin again: e is paged out to A1out.
        run_keys(&mut q, &[8], |q| q.validate());
        assert_eq!(q.queues(), (vec![6, 7, 8], vec![4, 5], vec![2]));
    }

    /// 2Q on three Vecs, oldest first, literally after the paper.
    #[derive(Default)]
    struct Naive {
        a1in: Vec<(Key, u64)>,
        a1out: Vec<(Key, u64)>,
        am: Vec<(Key, u64)>,
        cap: u64,
        kin: u64,
        kout: u64,
    }

    fn sum(v: &[(Key, u64)]) -> u64 {
        v.iter().map(|e| e.1).sum()
    }

    impl Naive {
        fn reclaim(&mut self, charge: u64) {
            while sum(&self.a1in) + sum(&self.am) + charge > self.cap {
                if !self.a1in.is_empty() && (sum(&self.a1in) > self.kin || self.am.is_empty()) {
                    let y = self.a1in.remove(0);
                    self.a1out.push(y);
                    while sum(&self.a1out) > self.kout {
                        self.a1out.remove(0);
                    }
                } else {
                    self.am.remove(0);
                }
            }
        }
    }

    impl Model for Naive {
        fn access(&mut self, key: Key, charge: u64) -> bool {
            if let Some(i) = self.am.iter().position(|e| e.0 == key) {
                let e = self.am.remove(i);
                self.am.push(e);
                return true;
            }
            if self.a1in.iter().any(|e| e.0 == key) {
                return true;
            }
            if let Some(i) = self.a1out.iter().position(|e| e.0 == key) {
                self.a1out.remove(i);
                self.reclaim(charge);
                self.am.push((key, charge));
            } else {
                self.reclaim(charge);
                self.a1in.push((key, charge));
            }
            false
        }
    }

    proptest! {
        #[test]
        fn matches_naive_2q(stream in charged_stream(), cap in 1u64..40, kin in 0.0f64..=1.0, kout in 0.0f64..=1.0) {
            let mut fast = TwoQ::new(cap, kin, kout);
            let mut naive = Naive {
                cap,
                kin: (cap as f64 * kin).floor() as u64,
                kout: (cap as f64 * kout).floor() as u64,
                ..Default::default()
            };
            compare(&mut fast, &mut naive, cap, &stream, |q| q.validate())?;
        }
    }
}
