//! One ordered queue of entries with a capacity budget: the shared body of the
//! policies that keep a single list (LRU, FIFO). The policy decides when an
//! entry moves to the back; the queue does the bookkeeping.

use super::slab::{LinkedSlab, List};
use crate::request::Key;

/// Entries on one list, oldest at the front, with their charges summed.
#[derive(Debug, Clone)]
pub(crate) struct Queue {
    slab: LinkedSlab<u32>,
    list: List,
    used: u64,
    capacity: u64,
}

impl Queue {
    pub(crate) fn new(capacity: u64) -> Queue {
        Queue {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            list: List::default(),
            used: 0,
            capacity,
        }
    }

    #[inline]
    pub(crate) fn find(&self, key: Key) -> Option<u32> {
        self.slab.find(key)
    }

    /// See [`LinkedSlab::prefetch_slot`].
    #[inline]
    pub(crate) fn prefetch_slot(&self, key: Key) {
        self.slab.prefetch_slot(key)
    }

    /// See [`LinkedSlab::prefetch_node`].
    #[inline]
    pub(crate) fn prefetch_node(&self, key: Key) {
        self.slab.prefetch_node(key)
    }

    /// See [`LinkedSlab::index_keys_below`].
    pub(crate) fn index_keys_below(&mut self, bound: Key) {
        self.slab.index_keys_below(bound)
    }

    /// Moves `idx` to the back (most recent end).
    #[inline]
    pub(crate) fn move_to_back(&mut self, idx: u32) {
        self.slab.move_to_back(&mut self.list, idx);
    }

    /// Appends `key` (not present) at the back after evicting from the
    /// front until it fits; the last victim's node is given to `key`
    /// ([`LinkedSlab::recycle_front`]), the handle a removal then an
    /// insert would have given it. Returns how many left.
    #[inline(always)]
    pub(crate) fn push_evicting(&mut self, key: Key, charge: u64) -> u64 {
        let mut n = 0;
        while self.used + charge > self.capacity {
            let Some(front) = self.list.front() else {
                break;
            };
            let front_charge = u64::from(*self.slab.data(front));
            n += 1;
            if self.used - front_charge + charge <= self.capacity {
                self.slab.recycle_front(&mut self.list, key, charge as u32);
                self.used = self.used - front_charge + charge;
                self.slab.prefetch_front(&self.list);
                return n;
            }
            self.slab.pop_front(&mut self.list);
            self.used -= front_charge;
            self.slab.remove(front);
        }
        if n > 0 {
            self.slab.prefetch_front(&self.list);
        }
        self.push(key, charge);
        n
    }

    /// Appends `key` (not present) at the back.
    #[inline]
    pub(crate) fn push(&mut self, key: Key, charge: u64) {
        let idx = self.slab.insert(key, charge as u32);
        self.slab.push_back(&mut self.list, idx);
        self.used += charge;
    }

    pub(crate) fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                self.slab.unlink(&mut self.list, idx);
                self.used -= u64::from(*self.slab.data(idx));
                self.slab.remove(idx);
                true
            }
            None => false,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    pub(crate) fn used(&self) -> u64 {
        self.used
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.slab.heap_bytes()
    }

    /// Keys from front (next victim) to back.
    pub(crate) fn keys(&self) -> Vec<Key> {
        self.slab
            .iter(&self.list)
            .map(|i| self.slab.key(i))
            .collect()
    }

    /// Recounts the list and the charges. For tests.
    #[cfg(test)]
    pub(crate) fn validate(&self) {
        assert_eq!(self.slab.check_list(&self.list), self.slab.len());
        let sum: u64 = self
            .slab
            .iter(&self.list)
            .map(|i| u64::from(*self.slab.data(i)))
            .sum();
        assert_eq!(sum, self.used);
        assert!(self.used <= self.capacity);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `push_evicting` does, the long way: every victim removed
    /// (its node to the free list), then `key` inserted.
    fn make_room_then_push(q: &mut Queue, key: Key, charge: u64) -> u64 {
        let mut n = 0;
        while q.used + charge > q.capacity {
            let Some(victim) = q.slab.pop_front(&mut q.list) else {
                break;
            };
            q.used -= u64::from(*q.slab.data(victim));
            q.slab.remove(victim);
            n += 1;
        }
        q.push(key, charge);
        n
    }

    /// A queue's entries as the slab holds them: (handle, key, charge),
    /// front to back.
    fn layout(q: &Queue) -> Vec<(u32, Key, u32)> {
        q.slab
            .iter(&q.list)
            .map(|i| (i, q.slab.key(i), *q.slab.data(i)))
            .collect()
    }

    #[test]
    fn pushing_with_evictions_is_removals_then_an_insert_down_to_the_handles() {
        // Byte charges (several victims for one key, or none), unit
        // charges (one victim), over a direct index that is widened and
        // then left for a key beyond its bound, and over the hashed one.
        for (bytes, bound) in [(true, 0), (false, 0), (true, 3000), (false, 3000)] {
            let mut a = Queue::new(if bytes { 400 } else { 40 });
            let mut b = a.clone();
            if bound > 0 {
                a.index_keys_below(bound);
                b.index_keys_below(bound);
            }
            let mut rng = crate::rng::SimRng::new(7);
            for step in 0..20_000u64 {
                let x = rng.next_u64();
                // Keys past the bound only late, so both modes are run.
                let key = x % if step < 15_000 { 2500 } else { 5000 };
                let charge = if bytes { 1 + (x >> 32) % 60 } else { 1 };
                if a.find(key).is_some() {
                    let (ia, ib) = (a.find(key).unwrap(), b.find(key).unwrap());
                    a.move_to_back(ia);
                    b.move_to_back(ib);
                    continue;
                }
                let n = a.push_evicting(key, charge);
                assert_eq!(n, make_room_then_push(&mut b, key, charge));
                assert_eq!(layout(&a), layout(&b), "step {step}");
                assert_eq!((a.used(), a.len()), (b.used(), b.len()));
            }
            a.validate();
            assert!(!a.slab.is_direct(), "the bound was crossed");
        }
    }
}
