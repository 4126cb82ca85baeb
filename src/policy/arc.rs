//! `arc`: ARC, the Adaptive Replacement Cache (Megiddo & Modha, "ARC: A
//! Self-Tuning, Low Overhead Replacement Cache", USENIX FAST 2003), following
//! the paper's Figure 4 pseudo-code `ARC(c)`.
//!
//! Semantics. Four LRU lists: `T1` (resident, seen once recently), `T2`
//! (resident, seen at least twice), and the ghost directories `B1`, `B2`
//! (keys only) of objects recently evicted from `T1` and `T2`. A target size
//! `p` for `T1` starts at 0.
//! - Case I, hit in `T1` or `T2`: move to `T2`'s MRU end.
//! - Case II, miss found in `B1`: `p <- min(p + d1, c)` with `d1 = 1` if
//!   `|B1| >= |B2|`, else `|B2| / |B1|` (a real ratio: `p` is a real number
//!   here as in the paper); `REPLACE`; move the key to `T2`'s MRU end.
//! - Case III, miss found in `B2`: `p <- max(p - d2, 0)` with `d2 = 1` if
//!   `|B2| >= |B1|`, else `|B1| / |B2|`; `REPLACE`; move to `T2`'s MRU end.
//! - Case IV, miss elsewhere: (A) if `|T1| + |B1| = c`: if `|T1| < c` delete
//!   `B1`'s LRU key and `REPLACE`, else evict `T1`'s LRU object (no ghost).
//!   (B) otherwise, if `|T1| + |T2| + |B1| + |B2| >= c`: delete `B2`'s LRU key
//!   when the total is `2c`, then `REPLACE`. Put the key at `T1`'s MRU end.
//! - `REPLACE`: if `T1` is non-empty and (`|T1| > p`, or the key is in `B2`
//!   and `|T1| = p`), move `T1`'s LRU object to `B1`'s MRU end, else move
//!   `T2`'s LRU object to `B2`'s MRU end.
//!
//! Parameters: none (ARC tunes itself; `c` is the capacity).
//!
//! Charges (byte capacities), a generalisation the paper does not cover
//! (our choice, stated here): all list sizes are sums of charges; `d1`/`d2` are
//! multiplied by the object's charge; "`= c`" conditions become "the object
//! does not fit", deletions and `REPLACE` repeat until it fits, and `REPLACE`
//! runs only while the resident lists lack room (so after a `remove` the
//! space freed is used first). With unit charges and no removals every step
//! is exactly the paper's.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

const T1: u8 = 0;
const T2: u8 = 1;
const B1: u8 = 2;
const B2: u8 = 3;

#[derive(Debug, Clone, Copy)]
struct Meta {
    charge: u32,
    list: u8,
}

/// ARC. See the module documentation.
#[derive(Debug, Clone)]
pub struct Arc {
    slab: LinkedSlab<Meta>,
    /// T1, T2, B1, B2, LRU at the front.
    lists: [List; 4],
    /// Charge sums of the four lists.
    sizes: [u64; 4],
    /// Target size of T1.
    p: f64,
    capacity: u64,
    /// What the last missing `get` found: its key and ghost handle (`NIL`
    /// for none), so the `insert` that follows skips a second lookup. Valid
    /// until the next insert or remove (the only calls that add or free
    /// handles).
    probe: Option<(Key, u32)>,
}

impl Arc {
    /// An empty cache of `capacity` charge units (objects, or bytes).
    pub fn new(capacity: u64) -> Arc {
        Arc {
            slab: LinkedSlab::with_capacity((2 * capacity).min(1 << 24) as usize),
            lists: [List::default(); 4],
            sizes: [0; 4],
            p: 0.0,
            capacity,
            probe: None,
        }
    }

    /// The adaptation target `p`. For tests.
    #[cfg(test)]
    pub(crate) fn p(&self) -> f64 {
        self.p
    }

    /// (T1, T2, B1, B2) keys, LRU first. For tests.
    #[cfg(test)]
    pub(crate) fn lists(&self) -> [Vec<Key>; 4] {
        self.lists
            .map(|l| self.slab.iter(&l).map(|i| self.slab.key(i)).collect())
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        let mut n = 0;
        for (t, l) in self.lists.iter().enumerate() {
            n += self.slab.check_list(l);
            let sum: u64 = self
                .slab
                .iter(l)
                .map(|i| {
                    assert_eq!(self.slab.data(i).list as usize, t);
                    u64::from(self.slab.data(i).charge)
                })
                .sum();
            assert_eq!(sum, self.sizes[t]);
        }
        assert_eq!(n, self.slab.len());
        let c = self.capacity;
        assert!(self.sizes[T1 as usize] + self.sizes[T2 as usize] <= c);
        assert!(self.sizes[T1 as usize] + self.sizes[B1 as usize] <= c);
        assert!((0.0..=c as f64).contains(&self.p));
    }

    #[inline]
    fn size(&self, l: u8) -> u64 {
        self.sizes[l as usize]
    }

    #[inline]
    fn resident(&self) -> u64 {
        self.sizes[T1 as usize] + self.sizes[T2 as usize]
    }

    /// Takes the LRU entry off list `l`, or `None` if it is empty.
    #[inline]
    fn pop_lru(&mut self, l: u8) -> Option<u32> {
        let idx = self.slab.pop_front(&mut self.lists[l as usize])?;
        self.sizes[l as usize] -= u64::from(self.slab.data(idx).charge);
        Some(idx)
    }

    #[inline]
    fn push_mru(&mut self, l: u8, idx: u32) {
        let m = self.slab.data_mut(idx);
        m.list = l;
        let c = u64::from(m.charge);
        self.slab.push_back(&mut self.lists[l as usize], idx);
        self.sizes[l as usize] += c;
    }

    #[inline]
    fn unlink(&mut self, idx: u32) {
        let m = *self.slab.data(idx);
        self.slab.unlink(&mut self.lists[m.list as usize], idx);
        self.sizes[m.list as usize] -= u64::from(m.charge);
    }

    /// Deletes the LRU entry of `l` from the slab; false if `l` is empty.
    #[inline]
    fn delete_lru(&mut self, l: u8) -> bool {
        match self.pop_lru(l) {
            Some(idx) => {
                self.slab.remove(idx);
                true
            }
            None => false,
        }
    }

    /// The paper's `REPLACE(x, p)`: demotes one resident object to its ghost
    /// list. `in_b2` is "x is in B2".
    #[inline]
    fn replace(&mut self, in_b2: bool) {
        let t1 = self.size(T1) as f64;
        let from_t1 = !self.lists[T1 as usize].is_empty()
            && (t1 > self.p || (in_b2 && t1 == self.p) || self.lists[T2 as usize].is_empty());
        let (from, to) = if from_t1 { (T1, B1) } else { (T2, B2) };
        if let Some(idx) = self.pop_lru(from) {
            self.push_mru(to, idx);
        }
    }

    /// Runs `REPLACE` until `charge` more fits in T1 + T2; returns how many
    /// objects left the cache.
    #[inline]
    fn make_room(&mut self, charge: u64, in_b2: bool) -> u64 {
        let mut n = 0;
        while self.resident() + charge > self.capacity && self.resident() > 0 {
            self.replace(in_b2);
            n += 1;
        }
        n
    }
}

impl Register for Arc {
    const INFO: PolicyInfo = PolicyInfo {
        name: "arc",
        summary: "adaptive replacement cache (Megiddo & Modha, FAST 2003)",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<Arc, SpecError> {
        Ok(Arc::new(ctx.capacity))
    }
}

impl Policy for Arc {
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
        let Some(idx) = self.slab.find(a.key) else {
            self.probe = Some((a.key, NIL));
            return false;
        };
        match self.slab.data(idx).list {
            T1 => {
                self.unlink(idx);
                self.push_mru(T2, idx);
                true
            }
            T2 => {
                self.slab.move_to_back(&mut self.lists[T2 as usize], idx);
                true
            }
            _ => {
                self.probe = Some((a.key, idx));
                false
            }
        }
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        let c = self.capacity;
        let charge = a.charge;
        let ghost = match self.probe.take() {
            Some((k, i)) if k == a.key => (i != NIL).then_some(i),
            _ => self.slab.find(a.key),
        };
        if let Some(x) = ghost {
            let (b1, b2) = (self.size(B1) as f64, self.size(B2) as f64);
            let in_b2 = match self.slab.data(x).list {
                B1 => {
                    // Case II.
                    let d1 = if b1 >= b2 { 1.0 } else { b2 / b1 };
                    self.p = (self.p + d1 * charge as f64).min(c as f64);
                    false
                }
                _ => {
                    // Case III (a resident key is never inserted).
                    debug_assert_eq!(self.slab.data(x).list, B2);
                    let d2 = if b2 >= b1 { 1.0 } else { b1 / b2 };
                    self.p = (self.p - d2 * charge as f64).max(0.0);
                    true
                }
            };
            self.unlink(x);
            ev.evicted += self.make_room(charge, in_b2);
            self.slab.data_mut(x).charge = charge as u32;
            self.push_mru(T2, x);
            return;
        }
        // Case IV.
        if self.size(T1) + self.size(B1) + charge > c {
            // A: L1 is full.
            while self.size(T1) + self.size(B1) + charge > c && self.delete_lru(B1) {}
            while self.size(T1) + self.size(B1) + charge > c && self.delete_lru(T1) {
                ev.evicted += 1;
            }
        } else {
            // B: L1 has room; bound the whole directory by 2c.
            let total = |s: &Self| s.sizes.iter().sum::<u64>();
            while total(self) + charge > 2 * c && self.delete_lru(B2) {}
        }
        ev.evicted += self.make_room(charge, false);
        let x = self.slab.insert(
            a.key,
            Meta {
                charge: charge as u32,
                list: T1,
            },
        );
        self.push_mru(T1, x);
    }

    fn remove(&mut self, key: Key) -> bool {
        self.probe = None;
        let Some(idx) = self.slab.find(key) else {
            return false;
        };
        let resident = self.slab.data(idx).list <= T2;
        self.unlink(idx);
        self.slab.remove(idx);
        resident
    }

    fn len(&self) -> usize {
        self.lists[T1 as usize].len() + self.lists[T2 as usize].len()
    }

    fn used(&self) -> u64 {
        self.resident()
    }

    fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::testkit::{charged_stream, key_stream, run_keys, Model};
    use proptest::prelude::*;

    #[test]
    fn hand_worked_sequence() {
        // c = 2. x, x again (T1 -> T2), y.
        let mut a = Arc::new(2);
        let hits = run_keys(&mut a, &[1, 1, 2], |a| a.validate());
        assert_eq!(hits, [false, true, false]);
        assert_eq!(a.lists(), [vec![2], vec![1], vec![], vec![]]);
        // z: case IV-B (|L1| = 1 < c, total 2 >= c): REPLACE with p = 0 and
        // |T1| = 1 > p: y goes to B1.
        run_keys(&mut a, &[3], |a| a.validate());
        assert_eq!(a.lists(), [vec![3], vec![1], vec![2], vec![]]);
        // y: in B1, |B1| >= |B2| so p = 0 + 1. REPLACE: |T1| = 1 is not > p:
        // T2's LRU (x) goes to B2. y enters T2.
        let hits = run_keys(&mut a, &[2], |a| a.validate());
        assert_eq!(hits, [false]);
        assert_eq!(a.p(), 1.0);
        assert_eq!(a.lists(), [vec![3], vec![2], vec![], vec![1]]);
        // x: in B2, p = 1 - 1 = 0. REPLACE: |T1| = 1 > 0: z goes to B1.
        run_keys(&mut a, &[1], |a| a.validate());
        assert_eq!(a.p(), 0.0);
        assert_eq!(a.lists(), [vec![], vec![2, 1], vec![3], vec![]]);
        // w: case IV-B (total 3, not 2c): REPLACE: T1 empty: y -> B2.
        run_keys(&mut a, &[4], |a| a.validate());
        assert_eq!(a.lists(), [vec![4], vec![1], vec![3], vec![2]]);
        // v: case IV-A (|L1| = 2 = c, |T1| < c): delete B1's LRU (z), then
        // REPLACE: w -> B1.
        run_keys(&mut a, &[5], |a| a.validate());
        assert_eq!(a.lists(), [vec![5], vec![1], vec![4], vec![2]]);
        // u, t: case IV-A with |T1| = c after u: T1's LRU is dropped with no
        // ghost.
        let mut b = Arc::new(2);
        run_keys(&mut b, &[1, 2, 3], |b| b.validate());
        assert_eq!(b.lists(), [vec![2, 3], vec![], vec![], vec![]]);
    }

    #[test]
    fn b2_hit_with_t1_equal_to_p_takes_from_t1() {
        // The state T1 [v], T2 [x], B1 [w], B2 [y] of the sequence above,
        // with p set to 2: a hit on y in B2 gives p = 1 = |T1|, and because
        // y is in B2, REPLACE takes T1's LRU (v), not T2's (x).
        let mut a = Arc::new(2);
        run_keys(&mut a, &[1, 1, 2, 3, 2, 1, 4, 5], |a| a.validate());
        assert_eq!(a.lists(), [vec![5], vec![1], vec![4], vec![2]]);
        a.p = 2.0;
        run_keys(&mut a, &[2], |a| a.validate());
        assert_eq!(a.p(), 1.0);
        assert_eq!(a.lists(), [vec![], vec![1, 2], vec![4, 5], vec![]]);
    }

    /// The paper's Figure 4, literally, on Vecs (LRU first), unit pages only.
    #[derive(Default, Clone)]
    struct Naive {
        t1: Vec<Key>,
        t2: Vec<Key>,
        b1: Vec<Key>,
        b2: Vec<Key>,
        p: f64,
        c: usize,
    }

    impl Naive {
        fn replace(&mut self, x_in_b2: bool) {
            let t1 = self.t1.len() as f64;
            if !self.t1.is_empty() && ((x_in_b2 && t1 == self.p) || t1 > self.p) {
                let y = self.t1.remove(0);
                self.b1.push(y);
            } else {
                let y = self.t2.remove(0);
                self.b2.push(y);
            }
        }
    }

    impl Model for Naive {
        fn access(&mut self, x: Key, _charge: u64) -> bool {
            let c = self.c;
            if let Some(i) = self.t1.iter().position(|&k| k == x) {
                self.t1.remove(i);
                self.t2.push(x);
                return true;
            }
            if let Some(i) = self.t2.iter().position(|&k| k == x) {
                self.t2.remove(i);
                self.t2.push(x);
                return true;
            }
            if let Some(i) = self.b1.iter().position(|&k| k == x) {
                let (b1, b2) = (self.b1.len() as f64, self.b2.len() as f64);
                let d1 = if b1 >= b2 { 1.0 } else { b2 / b1 };
                self.p = (self.p + d1).min(c as f64);
                self.replace(false);
                self.b1.remove(i);
                self.t2.push(x);
                return false;
            }
            if let Some(i) = self.b2.iter().position(|&k| k == x) {
                let (b1, b2) = (self.b1.len() as f64, self.b2.len() as f64);
                let d2 = if b2 >= b1 { 1.0 } else { b1 / b2 };
                self.p = (self.p - d2).max(0.0);
                self.replace(true);
                let i = self.b2.iter().position(|&k| k == x).unwrap_or(i);
                self.b2.remove(i);
                self.t2.push(x);
                return false;
            }
            let l1 = self.t1.len() + self.b1.len();
            let total = l1 + self.t2.len() + self.b2.len();
            if l1 == c {
                if self.t1.len() < c {
                    self.b1.remove(0);
                    self.replace(false);
                } else {
                    self.t1.remove(0);
                }
            } else if total >= c {
                if total == 2 * c {
                    self.b2.remove(0);
                }
                self.replace(false);
            }
            self.t1.push(x);
            false
        }
    }

    proptest! {
        #[test]
        fn matches_the_papers_pseudo_code(stream in key_stream(), cap in 1usize..20) {
            let mut fast = Arc::new(cap as u64);
            let mut naive = Naive { c: cap, ..Default::default() };
            let hits = run_keys(&mut fast, &stream, |a| a.validate());
            for (t, (&k, &hit)) in stream.iter().zip(&hits).enumerate() {
                prop_assert_eq!(hit, naive.access(k, 1), "request {}", t);
            }
            prop_assert_eq!(fast.p(), naive.p);
            prop_assert_eq!(fast.lists(), [naive.t1, naive.t2, naive.b1, naive.b2]);
        }

        #[test]
        fn byte_charges_keep_the_invariants(stream in charged_stream(), cap in 1u64..40) {
            let mut fast = Arc::new(cap);
            let mut ev = Evictions::default();
            for (t, &(key, charge)) in stream.iter().enumerate() {
                let a = Access { charge: charge.min(cap), ..Access::simple(key, t as u64) };
                if !fast.get(&a) {
                    fast.insert(&a, &mut ev);
                    prop_assert!(fast.slab.find(key).is_some());
                }
                fast.validate();
            }
        }
    }
}
