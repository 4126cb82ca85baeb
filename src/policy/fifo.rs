//! `fifo`: first in, first out.
//!
//! Semantics of `cachetools.FIFOCache(maxsize=c)`: a hit changes nothing; a
//! miss inserts the key at the back after evicting from the front until it
//! fits. A write (`set`) of a resident key moves it to the back, because
//! `FIFOCache.__setitem__` calls `move_to_end` on an existing key; a get never
//! reorders.

use super::common::Queue;
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

/// First in, first out. See the module documentation.
#[derive(Debug, Clone)]
pub struct Fifo {
    q: Queue,
}

impl Fifo {
    pub(crate) fn new(capacity: u64) -> Fifo {
        Fifo {
            q: Queue::new(capacity),
        }
    }

    /// Keys from first in (next victim) to last in. For tests.
    pub fn keys(&self) -> Vec<Key> {
        self.q.keys()
    }
}

impl Register for Fifo {
    const INFO: PolicyInfo = PolicyInfo {
        name: "fifo",
        summary: "first in, first out = cachetools.FIFOCache (a hit does not reorder)",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<Fifo, SpecError> {
        Ok(Fifo::new(ctx.capacity))
    }
}

impl Policy for Fifo {
    #[inline]
    fn reads_time(&self) -> bool {
        false
    }

    super::common::prefetch::prefetch_through!(q);

    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        self.q.find(a.key).is_some()
    }

    #[inline]
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        ev.evicted += self.q.push_evicting(a.key, a.charge);
    }

    fn set(&mut self, a: &Access, ev: &mut Evictions) {
        match self.q.find(a.key) {
            Some(idx) => self.q.move_to_back(idx),
            None => self.insert(a, ev),
        }
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
    fn hit_does_not_reorder_but_set_does() {
        // c = 2: a b a c -> a is evicted by c although it was just hit.
        let mut c = Fifo::new(2);
        let mut ev = Evictions::default();
        for (t, k) in [1u64, 2, 1, 3].into_iter().enumerate() {
            let a = Access::simple(k, t as u64);
            if !c.get(&a) {
                c.insert(&a, &mut ev);
            }
        }
        assert_eq!(c.keys(), vec![2, 3]);
        c.set(&Access::simple(2, 9), &mut ev);
        assert_eq!(c.keys(), vec![3, 2]);
        c.q.validate();
    }
}
