//! `lfu`: least frequently used, with the semantics of `cachetools.LFUCache`
//! (v6 and later, checked against 8.0's source).
//!
//! - A use count lives only while the key is cached: a new entry starts at 1,
//!   every hit (and every write to a resident key) adds 1, eviction forgets it.
//! - The victim is a key with the lowest count; among equal counts, the key
//!   that has held that count longest (cachetools keeps one insertion-ordered
//!   dict per count and pops its first key).
//!
//! O(1) per request: entries sit on one list per count, and the counts form an
//! ascending linked list of buckets (the classic O(1) LFU of Shah, Mitra and
//! Matani, 2010), which is also how cachetools 6 implements it.

use super::common::{LinkedSlab, List, NIL};
use super::{Access, BuildCtx, Evictions, Kind, Params, Policy, PolicyInfo, Register, SpecError};
use crate::request::Key;

#[derive(Debug, Clone, Copy)]
struct Entry {
    charge: u32,
    bucket: u32,
}

#[derive(Debug, Clone)]
struct Bucket {
    count: u64,
    list: List,
    prev: u32,
    next: u32,
}

/// Least frequently used, as `cachetools.LFUCache`. See the module
/// documentation.
#[derive(Debug, Clone)]
pub struct Lfu {
    slab: LinkedSlab<Entry>,
    buckets: Vec<Bucket>,
    free_buckets: Vec<u32>,
    /// The bucket with the lowest count.
    lowest: u32,
    used: u64,
    capacity: u64,
}

impl Lfu {
    pub(crate) fn new(capacity: u64) -> Lfu {
        Lfu {
            slab: LinkedSlab::with_capacity(capacity.min(1 << 24) as usize),
            buckets: Vec::new(),
            free_buckets: Vec::new(),
            lowest: NIL,
            used: 0,
            capacity,
        }
    }

    /// A new bucket with `count`, linked right after `after` (or first).
    fn new_bucket(&mut self, count: u64, after: u32) -> u32 {
        let next = if after == NIL {
            self.lowest
        } else {
            self.buckets[after as usize].next
        };
        let b = Bucket {
            count,
            list: List::default(),
            prev: after,
            next,
        };
        let id = match self.free_buckets.pop() {
            Some(id) => {
                self.buckets[id as usize] = b;
                id
            }
            None => {
                self.buckets.push(b);
                (self.buckets.len() - 1) as u32
            }
        };
        if after == NIL {
            self.lowest = id;
        } else {
            self.buckets[after as usize].next = id;
        }
        if next != NIL {
            self.buckets[next as usize].prev = id;
        }
        id
    }

    fn drop_bucket_if_empty(&mut self, b: u32) {
        if !self.buckets[b as usize].list.is_empty() {
            return;
        }
        let (prev, next) = (self.buckets[b as usize].prev, self.buckets[b as usize].next);
        if prev == NIL {
            self.lowest = next;
        } else {
            self.buckets[prev as usize].next = next;
        }
        if next != NIL {
            self.buckets[next as usize].prev = prev;
        }
        self.free_buckets.push(b);
    }

    fn touch(&mut self, idx: u32) {
        let b = self.slab.data(idx).bucket;
        let count = self.buckets[b as usize].count;
        let next = self.buckets[b as usize].next;
        let target = if next != NIL && self.buckets[next as usize].count == count + 1 {
            next
        } else if self.buckets[b as usize].list.len() == 1 {
            // Alone at this count: the bucket itself moves up.
            self.buckets[b as usize].count += 1;
            return;
        } else {
            self.new_bucket(count + 1, b)
        };
        let mut from = self.buckets[b as usize].list;
        self.slab.unlink(&mut from, idx);
        self.buckets[b as usize].list = from;
        let mut to = self.buckets[target as usize].list;
        self.slab.push_back(&mut to, idx);
        self.buckets[target as usize].list = to;
        self.slab.data_mut(idx).bucket = target;
        self.drop_bucket_if_empty(b);
    }

    fn unlink_entry(&mut self, idx: u32) {
        let b = self.slab.data(idx).bucket;
        let mut l = self.buckets[b as usize].list;
        self.slab.unlink(&mut l, idx);
        self.buckets[b as usize].list = l;
        self.used -= u64::from(self.slab.data(idx).charge);
        self.slab.remove(idx);
        self.drop_bucket_if_empty(b);
    }

    /// `(key, count)` from next victim onwards. For tests.
    pub fn entries(&self) -> Vec<(Key, u64)> {
        let mut out = vec![];
        let mut b = self.lowest;
        while b != NIL {
            let bucket = &self.buckets[b as usize];
            out.extend(
                self.slab
                    .iter(&bucket.list)
                    .map(|i| (self.slab.key(i), bucket.count)),
            );
            b = bucket.next;
        }
        out
    }

    #[cfg(test)]
    pub(crate) fn validate(&self) {
        let mut b = self.lowest;
        let mut n = 0;
        let mut last = 0;
        let mut sum = 0;
        while b != NIL {
            let bucket = &self.buckets[b as usize];
            assert!(bucket.count > last, "bucket counts must ascend");
            assert!(!bucket.list.is_empty(), "empty bucket left linked");
            last = bucket.count;
            n += self.slab.check_list(&bucket.list);
            for i in self.slab.iter(&bucket.list) {
                assert_eq!(self.slab.data(i).bucket, b);
                sum += u64::from(self.slab.data(i).charge);
            }
            b = bucket.next;
        }
        assert_eq!(n, self.slab.len());
        assert_eq!(sum, self.used);
        assert!(self.used <= self.capacity);
    }
}

impl Register for Lfu {
    const INFO: PolicyInfo = PolicyInfo {
        name: "lfu",
        summary: "least frequently used = cachetools.LFUCache (ties: longest at that count)",
        params: "",
        kind: Kind::Online,
    };

    fn build(_p: &mut Params, ctx: &BuildCtx) -> Result<Lfu, SpecError> {
        Ok(Lfu::new(ctx.capacity))
    }
}

impl Policy for Lfu {
    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        match self.slab.find(a.key) {
            Some(idx) => {
                self.touch(idx);
                true
            }
            None => false,
        }
    }

    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        while self.used + a.charge > self.capacity && self.lowest != NIL {
            let victim = self.buckets[self.lowest as usize]
                .list
                .front()
                .expect("non-empty bucket");
            self.unlink_entry(victim);
            ev.evicted += 1;
        }
        let b = if self.lowest != NIL && self.buckets[self.lowest as usize].count == 1 {
            self.lowest
        } else {
            self.new_bucket(1, NIL)
        };
        let idx = self.slab.insert(
            a.key,
            Entry {
                charge: a.charge as u32,
                bucket: b,
            },
        );
        let mut l = self.buckets[b as usize].list;
        self.slab.push_back(&mut l, idx);
        self.buckets[b as usize].list = l;
        self.used += a.charge;
    }

    fn remove(&mut self, key: Key) -> bool {
        match self.slab.find(key) {
            Some(idx) => {
                self.unlink_entry(idx);
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
        self.slab.heap_bytes() + self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(c: &mut Lfu, keys: &[u64]) -> Vec<bool> {
        let mut ev = Evictions::default();
        keys.iter()
            .enumerate()
            .map(|(t, &k)| {
                let a = Access::simple(k, t as u64);
                let hit = c.get(&a);
                if !hit {
                    c.insert(&a, &mut ev);
                }
                c.validate();
                hit
            })
            .collect()
    }

    #[test]
    fn evicts_lowest_count_then_longest_at_that_count() {
        // c = 3: 1 1 2 3 -> counts 1:2, 2:1, 3:1. Insert 4: victim is 2 (count
        // 1 since before 3 got count 1).
        let mut c = Lfu::new(3);
        run(&mut c, &[1, 1, 2, 3, 4]);
        assert_eq!(c.entries(), vec![(3, 1), (4, 1), (1, 2)]);
        // 3 reaches count 2 after 1 did: among count 2, 1 has held it longest.
        // Next insert evicts 4 (count 1), the one after that evicts 5.
        let hits = run(&mut c, &[3, 5, 6]);
        assert_eq!(hits, vec![true, false, false]);
        assert_eq!(c.entries(), vec![(6, 1), (1, 2), (3, 2)]);
    }

    #[test]
    fn counts_are_forgotten_on_eviction() {
        let mut c = Lfu::new(1);
        let hits = run(&mut c, &[1, 1, 1, 2, 1]);
        assert_eq!(hits, vec![false, true, true, false, false]);
        assert_eq!(c.entries(), vec![(1, 1)]);
    }
}
