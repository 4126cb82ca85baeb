//! `lru`: least recently used.
//!
//! Semantics are those of Python's `functools.lru_cache(maxsize=c)` and
//! `cachetools.LRUCache(maxsize=c)`, which agree on every key stream:
//! a hit moves the entry to the most-recent end; a miss inserts the key at the
//! most-recent end after evicting from the least-recent end until it fits.
//! A write (`set`) of a resident key is a use (it moves to the most-recent
//! end), as `LRUCache.__setitem__` does. With byte capacities the charge of an
//! entry is the size it was inserted with; a later request with another size
//! does not change it.

use super::common::Queue;
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

/// Exact LRU on an index-linked slab.
#[derive(Debug, Clone)]
pub struct Lru {
    q: Queue,
}

impl Lru {
    /// An empty cache of `capacity` charge units (objects, or bytes).
    pub fn new(capacity: u64) -> Lru {
        Lru {
            q: Queue::new(capacity),
        }
    }

    /// Keys from least to most recently used. For tests.
    pub fn keys(&self) -> Vec<Key> {
        self.q.keys()
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        self.q.validate()
    }
}

impl Register for Lru {
    const INFO: PolicyInfo = PolicyInfo {
        name: "lru",
        summary: "least recently used = functools.lru_cache = cachetools.LRUCache",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<Lru, SpecError> {
        Ok(Lru::new(ctx.capacity))
    }
}

impl Policy for Lru {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(q);
    #[inline(always)]
    fn get(&mut self, a: &Access) -> bool {
        match self.q.find(a.key) {
            Some(idx) => {
                self.q.move_to_back(idx);
                true
            }
            None => false,
        }
    }

    #[inline(always)]
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        ev.evicted += self.q.push_evicting(a.key, a.charge);
    }

    fn remove(&mut self, key: Key) -> bool {
        self.q.remove(key)
    }

    fn len(&self) -> usize {
        self.q.len()
    }

    fn used(&self) -> u64 {
        self.q.used()
    }

    fn heap_bytes(&self) -> usize {
        self.q.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_worked_sequence() {
        // c = 2: a b a c b  ->  miss miss hit miss(evicts b) miss(evicts a)
        let mut c = Lru::new(2);
        let mut ev = Evictions::default();
        let mut hits = vec![];
        for (t, k) in [1u64, 2, 1, 3, 2].into_iter().enumerate() {
            let a = Access::simple(k, t as u64);
            let hit = c.get(&a);
            if !hit {
                c.insert(&a, &mut ev);
            }
            hits.push(hit);
            c.validate();
        }
        assert_eq!(hits, [false, false, true, false, false]);
        assert_eq!(ev.evicted, 2);
        assert_eq!(c.keys(), vec![3, 2]);
    }

    #[test]
    fn a_full_lru_costs_at_most_48_bytes_per_entry() {
        // Issue 2's bound, at the capacities either side of the index's
        // size steps (2 to 3.5 slots of 8 bytes, 20-byte nodes).
        for cap in [4u64, 1000, 10_000, 16_384, 16_385, 18_725, 100_000, 1 << 20] {
            let mut c = Lru::new(cap);
            let mut ev = Evictions::default();
            for k in 0..cap + 10 {
                c.insert(&Access::simple(k * 0x9E37_79B9, k), &mut ev);
            }
            assert_eq!(c.len() as u64, cap);
            let per_entry = c.heap_bytes() as f64 / cap as f64;
            assert!(per_entry <= 48.0, "{cap}: {per_entry} bytes per entry");
        }
    }

    #[test]
    fn byte_charges_evict_until_it_fits() {
        let mut c = Lru::new(10);
        let mut ev = Evictions::default();
        for (k, size) in [(1, 4), (2, 4), (3, 2)] {
            let a = Access {
                charge: size,
                ..Access::simple(k, 0)
            };
            c.insert(&a, &mut ev);
        }
        assert_eq!(c.used(), 10);
        let big = Access {
            charge: 7,
            ..Access::simple(4, 1)
        };
        c.insert(&big, &mut ev);
        // 1 and 2 go (8 bytes), 3 stays: 2 + 7 = 9 <= 10.
        assert_eq!(c.keys(), vec![3, 4]);
        assert_eq!(ev.evicted, 2);
        c.validate();
    }
}
