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

    /// Evicts from the front until `charge` more fits; returns how many left.
    #[inline(always)]
    pub(crate) fn make_room(&mut self, charge: u64) -> u64 {
        let mut n = 0;
        while self.used + charge > self.capacity {
            match self.slab.pop_front(&mut self.list) {
                Some(victim) => {
                    self.used -= u64::from(*self.slab.data(victim));
                    self.slab.remove(victim);
                    n += 1;
                }
                None => break,
            }
        }
        if n > 0 {
            self.slab.prefetch_front(&self.list);
        }
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
