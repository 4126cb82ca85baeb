//! `ttl`: LRU with a per-entry time-to-live, the semantics of
//! `cachetools.TTLCache(maxsize=c, ttl=T, timer=<request time>)` (8.0):
//!
//! - an entry inserted at time `t` expires at `t + T`; reads do not extend it;
//! - an entry is valid while `now < expires`; a get of an expired entry is a
//!   miss (and, as in cachetools, still moves the entry to the recent end);
//! - before every insert, all expired entries are purged (counted as
//!   expirations), walking the insertion-ordered expiry list from its front
//!   while entries have expired; then the least recently used entry is evicted
//!   while the cache is still full (counted as evictions);
//! - a write (`set`) of a resident key resets its expiry and makes it most
//!   recent in both orders, as `TTLCache.__setitem__` does.
//!
//! Time is the request's timestamp (from the trace, or `--rate` for synthetic
//! workloads), not the wall clock.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

#[derive(Debug, Clone, Copy)]
struct Entry {
    charge: u32,
    /// Links of the expiry (insertion-order) list; the slab's own links hold
    /// the LRU order.
    exp_prev: u32,
    exp_next: u32,
    expires: f64,
}

/// LRU with a per-entry time-to-live, as `cachetools.TTLCache`. See the
/// module documentation.
#[derive(Debug, Clone)]
pub struct TtlCache {
    slab: LinkedSlab<Entry>,
    lru: List,
    exp_head: u32,
    exp_tail: u32,
    ttl: f64,
    used: u64,
    capacity: u64,
}

impl TtlCache {
    pub(crate) fn new(capacity: u64, ttl: f64) -> TtlCache {
        TtlCache {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            lru: List::default(),
            exp_head: NIL,
            exp_tail: NIL,
            ttl,
            used: 0,
            capacity,
        }
    }

    fn exp_push_back(&mut self, idx: u32) {
        let tail = self.exp_tail;
        {
            let e = self.slab.data_mut(idx);
            e.exp_prev = tail;
            e.exp_next = NIL;
        }
        if tail == NIL {
            self.exp_head = idx;
        } else {
            self.slab.data_mut(tail).exp_next = idx;
        }
        self.exp_tail = idx;
    }

    fn exp_unlink(&mut self, idx: u32) {
        let Entry {
            exp_prev, exp_next, ..
        } = *self.slab.data(idx);
        if exp_prev == NIL {
            self.exp_head = exp_next;
        } else {
            self.slab.data_mut(exp_prev).exp_next = exp_next;
        }
        if exp_next == NIL {
            self.exp_tail = exp_prev;
        } else {
            self.slab.data_mut(exp_next).exp_prev = exp_prev;
        }
    }

    fn drop_entry(&mut self, idx: u32) {
        self.exp_unlink(idx);
        self.slab.unlink(&mut self.lru, idx);
        self.used -= u64::from(self.slab.data(idx).charge);
        self.slab.remove(idx);
    }

    /// Removes every entry at the front of the expiry order that has expired.
    fn expire(&mut self, now: f64) -> u64 {
        let mut n = 0;
        while self.exp_head != NIL && now >= self.slab.data(self.exp_head).expires {
            self.drop_entry(self.exp_head);
            n += 1;
        }
        n
    }

    /// Keys from least to most recently used. For tests.
    pub fn keys(&self) -> Vec<Key> {
        self.slab
            .iter(&self.lru)
            .map(|i| self.slab.key(i))
            .collect()
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        let n = self.slab.check_list(&self.lru);
        let mut m = 0;
        let mut cur = self.exp_head;
        let mut prev = NIL;
        while cur != NIL {
            assert_eq!(self.slab.data(cur).exp_prev, prev);
            prev = cur;
            cur = self.slab.data(cur).exp_next;
            m += 1;
        }
        assert_eq!(prev, self.exp_tail);
        assert_eq!(n, m);
        assert!(self.used <= self.capacity);
    }
}

impl Register for TtlCache {
    const INFO: PolicyInfo = PolicyInfo {
        name: "ttl",
        summary: "LRU with per-entry expiry = cachetools.TTLCache (reads do not extend)",
        params: "ttl=--ttl or 60s",
        kind: Kind::Online,
    };

    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<TtlCache, SpecError> {
        let ttl = p.duration("ttl", ctx.ttl.unwrap_or(60.0))?;
        Ok(TtlCache::new(ctx.capacity, ttl))
    }
}

impl Policy for TtlCache {
    super::common::prefetch::prefetch_through!(slab);

    #[inline(always)]
    fn get(&mut self, a: &Access) -> bool {
        match self.slab.find(a.key) {
            Some(idx) => {
                self.slab.move_to_back(&mut self.lru, idx);
                a.time < self.slab.data(idx).expires
            }
            None => false,
        }
    }

    #[inline(always)]
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        ev.expired += self.expire(a.time);
        let expires = a.time + self.ttl;
        if let Some(idx) = self.slab.find(a.key) {
            // Still resident (an expired entry behind a valid one, when
            // timestamps go backwards, or a write): refresh it in place.
            self.slab.data_mut(idx).expires = expires;
            self.exp_unlink(idx);
            self.exp_push_back(idx);
            self.slab.move_to_back(&mut self.lru, idx);
            return;
        }
        while self.used + a.charge > self.capacity {
            let Some(victim) = self.lru.front() else {
                break;
            };
            self.drop_entry(victim);
            ev.evicted += 1;
        }
        let idx = self.slab.insert(
            a.key,
            Entry {
                charge: a.charge as u32,
                exp_prev: NIL,
                exp_next: NIL,
                expires,
            },
        );
        self.slab.push_back(&mut self.lru, idx);
        self.exp_push_back(idx);
        self.used += a.charge;
    }

    fn set(&mut self, a: &Access, ev: &mut Evictions) {
        self.insert(a, ev)
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                self.drop_entry(idx);
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
    use crate::policy::testkit::at;

    fn step(c: &mut TtlCache, ev: &mut Evictions, key: Key, time: f64) -> bool {
        let a = at(key, time);
        let hit = c.get(&a);
        if !hit {
            c.insert(&a, ev);
        }
        c.validate();
        hit
    }

    #[test]
    fn expires_at_insert_plus_ttl_and_reads_do_not_extend() {
        let mut c = TtlCache::new(10, 5.0);
        let mut ev = Evictions::default();
        assert!(!step(&mut c, &mut ev, 1, 0.0));
        assert!(step(&mut c, &mut ev, 1, 4.9));
        // Valid while now < expires: at exactly 5.0 it is gone.
        assert!(!step(&mut c, &mut ev, 1, 5.0));
        assert_eq!(ev.expired, 1);
        assert!(step(&mut c, &mut ev, 1, 9.9));
        assert!(!step(&mut c, &mut ev, 1, 10.0));
    }

    #[test]
    fn purges_all_expired_before_evicting_lru() {
        let mut c = TtlCache::new(2, 10.0);
        let mut ev = Evictions::default();
        step(&mut c, &mut ev, 1, 0.0);
        step(&mut c, &mut ev, 2, 1.0);
        // At t=3 both valid and full: LRU (1) is evicted for 3.
        step(&mut c, &mut ev, 3, 3.0);
        assert_eq!(c.keys(), vec![2, 3]);
        assert_eq!((ev.evicted, ev.expired), (1, 0));
        // At t=11.5, 2 has expired (1 + 10 <= 11.5); 3 has not: 4 needs no eviction.
        step(&mut c, &mut ev, 4, 11.5);
        assert_eq!(c.keys(), vec![3, 4]);
        assert_eq!((ev.evicted, ev.expired), (1, 1));
    }

    #[test]
    fn write_resets_expiry() {
        let mut c = TtlCache::new(4, 5.0);
        let mut ev = Evictions::default();
        step(&mut c, &mut ev, 1, 0.0);
        c.set(&at(1, 4.0), &mut ev);
        assert!(step(&mut c, &mut ev, 1, 8.0));
        assert!(!step(&mut c, &mut ev, 1, 9.0));
    }
}
