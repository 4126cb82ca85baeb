//! An index-linked slab: cache entries live in one `Vec`, are linked into any
//! number of doubly linked lists by `u32` handles, and are found by key through
//! an open-addressing table that stores only the handle.
//!
//! Why not `HashMap<Key, Box<Node>>`: per entry that costs a heap allocation and
//! a 16-byte map slot on top of the node. Here an entry costs its node (key,
//! two links, the policy's data: 20 bytes for LRU) plus 16 to 28 bytes of
//! index (8-byte slots, 2 to 3.5 per entry), and a lookup touches one or
//! two adjacent slots and the one node it finds (which the policy touches
//! anyway to relink it).
//!
//! Each slot holds a handle and a 32-bit tag: the top half of the key's hash.
//! A probe compares tags, so it reads a node only when the tags match (the
//! key's own node, or a stranger's once in 2^(32 - log2 slots)); and since
//! the home slot is the top bits of the same hash, deletion and growth
//! compute every slot's home from its tag without reading a node. Until
//! issue 23 slots held bare handles: deletions read a node for every slot
//! they shifted, and they were a third of an LRU's replay time.
//!
//! A direct index. When the run knows (or guesses) that its keys are small
//! integers, as the synthetic workloads' are (0 to `--keys`), it hints a
//! bound ([`LinkedSlab::index_keys_below`]) and the index becomes an array
//! of handles, one `u32` per key below the largest seen: a lookup is one
//! load, a removal one store, with no hashing, probing or shifting. It
//! costs 4 bytes per key of the key space instead of 16 to 28 per entry,
//! so it is only on under a bound (at most [`DIRECT_MAX`] keys); the first
//! key at or above the bound turns the slab back to the hashed index, once,
//! so a wrong guess costs a rebuild, never a result.
//!
//! Lists follow Python's `OrderedDict` convention: the front is the oldest
//! element (the eviction end), `push_back` appends the newest.

use crate::request::Key;

/// The null handle.
pub(crate) const NIL: u32 = u32::MAX;

/// Index slots from which [`LinkedSlab::prefetch_slot`] and
/// [`LinkedSlab::prefetch_node`] fetch anything: 2^17 slots, a 1 MiB
/// index, 2 to 3 MiB with the nodes. At 2^16 the hints were on for S3-FIFO
/// and ARC at 10k objects (their ghosts double the slab) and cost them
/// 7-14%.
const PREFETCH_MIN_SLOTS: usize = 1 << 17;

/// The largest key space a direct index covers: 2^22 keys, 16 MiB of
/// handles. Beyond it a sparse array would miss every cache level where
/// the hashed index, sized by the entries, does not.
pub(crate) const DIRECT_MAX: u64 = 1 << 22;

/// Direct-index handles from which the prefetch hints fetch anything: the
/// same 1 MiB as [`PREFETCH_MIN_SLOTS`]. The Redis models' table (`evpool`)
/// uses it for its own direct index.
pub(crate) const DIRECT_PREFETCH_MIN: usize = 1 << 18;

/// Whether a direct index suits keys below `bound` in a structure sized
/// for `expected` entries: at most [`DIRECT_MAX`] keys, and at most 64 per
/// expected entry (or 2^20 keys, 4 MiB, for a small cache). A key space far
/// larger than the cache is better hashed. The rule of every direct index
/// (this slab's, the Redis models' table's).
pub(crate) fn direct_fits(bound: Key, expected: usize) -> bool {
    let per_entry = (expected as u64).saturating_mul(64);
    (1..=DIRECT_MAX.min(per_entry.max(1 << 20))).contains(&bound)
}

/// The length a direct index bounded by `bound` grows to for `key` (below
/// the bound): the power of two above it, at least 1024 handles, at most
/// the bound.
pub(crate) fn direct_len(key: Key, bound: Key) -> usize {
    let want = (key + 1).next_power_of_two().min(bound) as usize;
    want.max(1024.min(bound as usize))
}

/// One slab entry: the key, the links of the one list it is on, and the
/// policy's own data (a size, a frequency, a region tag...). The key is
/// kept as two halves so that the node is only 4-aligned: 20 bytes, not
/// 24, with a `u32` of data.
#[derive(Debug, Clone)]
pub(crate) struct Node<T> {
    key: [u32; 2],
    prev: u32,
    next: u32,
    pub data: T,
}

/// A key as a node stores it (see [`Node`]).
#[inline]
fn halves(key: Key) -> [u32; 2] {
    [key as u32, (key >> 32) as u32]
}

impl<T> Node<T> {
    #[inline]
    fn key(&self) -> Key {
        u64::from(self.key[0]) | (u64::from(self.key[1]) << 32)
    }
}

/// The head of one list threaded through the slab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct List {
    head: u32,
    tail: u32,
    len: u32,
}

impl Default for List {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

impl List {
    pub(crate) fn len(&self) -> usize {
        self.len as usize
    }
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The oldest element (the eviction end).
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }
}

/// Fibonacci hashing: multiply by 2^64/phi and keep the top bits. Deterministic
/// (no per-process seed) and spreads sequential block numbers, which real
/// traces are full of, evenly. The top 32 bits are the key's tag; its home
/// slot is the tag's top bits.
#[inline]
fn tag_of(key: Key) -> u32 {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as u32
}

/// Hashed-index slots for `expected` entries: a power of two, two to 3.5
/// per entry (at most 4/7 full, at most 28 bytes per entry).
fn slots_for(expected: usize) -> usize {
    let slots = (expected * 2).next_power_of_two();
    if slots * 2 > expected * 7 {
        slots / 2
    } else {
        slots
    }
}

/// An empty index slot (no live slot has handle `NIL`).
const EMPTY: u64 = u64::MAX;

/// The slot naming node `idx` of a key with tag `tag`.
#[inline]
fn slot(tag: u32, idx: u32) -> u64 {
    (u64::from(tag) << 32) | u64::from(idx)
}

/// The handle a slot names.
#[inline]
fn handle(s: u64) -> u32 {
    s as u32
}

/// The tag a slot carries.
#[inline]
fn tag(s: u64) -> u32 {
    (s >> 32) as u32
}

/// Entries and their key index. See the module documentation.
#[derive(Debug, Clone)]
pub(crate) struct LinkedSlab<T> {
    nodes: Vec<Node<T>>,
    free: u32,
    len: usize,
    /// Open-addressing table of tagged handles ([`slot`]), linear probing,
    /// at most 4/7 full.
    slots: Vec<u64>,
    /// Tag bits dropped to get a home slot: 32 - log2(slots.len()).
    shift: u32,
    /// In direct mode, the handle of every key below `direct.len()` (`NIL`
    /// if absent); `slots` is then empty. Grown by doubling up to
    /// `direct_bound` as larger keys arrive.
    direct: Vec<u32>,
    /// Keys at or above this leave direct mode; 0 when not in it.
    direct_bound: u64,
    /// Whether the prefetch hints fetch anything: set by [`Self::resized`].
    prefetch: bool,
}

impl<T> LinkedSlab<T> {
    /// A slab sized for `expected` live entries (it grows if more are
    /// added). The initial size is capped at 2^20 entries, so that a policy
    /// built for a large byte capacity does not reserve an index for one
    /// object per byte; growth beyond that is amortised doubling.
    pub(crate) fn with_capacity(expected: usize) -> Self {
        let expected = expected.clamp(4, 1 << 20);
        let slots = slots_for(expected);
        let mut s = LinkedSlab {
            nodes: Vec::with_capacity(expected.min(1 << 26)),
            free: NIL,
            len: 0,
            slots: vec![EMPTY; slots],
            shift: 32 - slots.trailing_zeros(),
            direct: Vec::new(),
            direct_bound: 0,
            prefetch: false,
        };
        s.resized();
        s
    }

    /// Whether prefetching pays: the index and its nodes outgrow a core's
    /// L2 cache. Below that, the hints only add work (measured: 8% slower
    /// at 10k entries, 8% faster at 100k). Called whenever the index
    /// changes size.
    fn resized(&mut self) {
        self.prefetch =
            self.slots.len() >= PREFETCH_MIN_SLOTS || self.direct.len() >= DIRECT_PREFETCH_MIN;
    }

    /// Whether keys are found through the direct index.
    #[inline]
    pub(crate) fn is_direct(&self) -> bool {
        self.direct_bound != 0
    }

    /// A hint that every key will be below `bound`: an empty slab switches
    /// to the direct index (see the module documentation) when `bound` is
    /// at most [`DIRECT_MAX`] and at most 64 keys per expected entry (or
    /// 2^20 keys, 4 MiB, for a small cache): a key space far larger than
    /// the cache is better hashed. No effect on results, nor on a slab
    /// that holds entries.
    pub(crate) fn index_keys_below(&mut self, bound: Key) {
        if self.len == 0 && direct_fits(bound, self.nodes.capacity()) {
            self.direct_bound = bound;
            self.direct = Vec::new();
            self.slots = Vec::new();
            self.resized();
        }
    }

    /// Leaves direct mode: indexes every live node in a hashed index sized
    /// for them.
    #[cold]
    fn leave_direct(&mut self) {
        let n = slots_for(self.len.max(self.nodes.capacity()).clamp(4, 1 << 20));
        self.slots = vec![EMPTY; n];
        self.shift = 32 - n.trailing_zeros();
        self.direct = Vec::new();
        self.direct_bound = 0;
        self.resized();
        while self.over_full() {
            self.grow();
        }
        for i in 0..self.nodes.len() {
            if self.nodes[i].prev != FREE {
                let key = self.nodes[i].key();
                self.place(key, i as u32);
            }
        }
    }

    /// Readies the index for a new entry of `key`, which the direct index
    /// (if any) has no place for yet.
    #[inline]
    fn make_place(&mut self, key: Key) {
        if self.is_direct() {
            if key >= self.direct_bound {
                self.leave_direct();
            } else {
                self.widen_direct(key);
                return;
            }
        }
        if self.over_full() {
            self.grow();
        }
    }

    /// Whether one more entry would fill the hashed index past 4/7.
    #[inline]
    fn over_full(&self) -> bool {
        (self.len + 1) * 7 > self.slots.len() * 4
    }

    /// Makes room in the direct index for `key` (below the bound).
    #[cold]
    fn widen_direct(&mut self, key: Key) {
        self.direct.resize(direct_len(key, self.direct_bound), NIL);
        self.resized();
    }

    /// The home slot of a key with tag `t`.
    #[inline]
    fn home(&self, t: u32) -> usize {
        (t >> self.shift) as usize
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Bytes held by the slab and its index (for the bytes-per-entry report).
    pub(crate) fn heap_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<T>>()
            + self.slots.len() * 8
            + self.direct.capacity() * 4
    }

    /// The handle of `key`, if present.
    #[inline]
    pub(crate) fn find(&self, key: Key) -> Option<u32> {
        // The direct index first: empty when hashed.
        if let Some(&h) = self.direct.get(key as usize) {
            return (h != NIL).then_some(h);
        }
        if self.is_direct() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let t = tag_of(key);
        let mut i = self.home(t);
        loop {
            let s = self.slots[i];
            if s == EMPTY {
                return None;
            }
            if tag(s) == t && self.nodes[handle(s) as usize].key() == key {
                return Some(handle(s));
            }
            i = (i + 1) & mask;
        }
    }

    /// Hints that `key` is looked up soon: fetches its home index slot
    /// (the first [`Self::find`] reads). No effect on results.
    #[inline]
    pub(crate) fn prefetch_slot(&self, key: Key) {
        if self.prefetch {
            self.fetch_index_entry(key);
        }
    }

    /// Fetches the index entry [`Self::find`] reads first for `key`: its
    /// direct handle, or its home slot.
    #[inline]
    fn fetch_index_entry(&self, key: Key) {
        if self.is_direct() {
            if let Some(h) = self.direct.get(key as usize) {
                crate::prefetch::prefetch(h);
            }
        } else if let Some(s) = self.slots.get(self.home(tag_of(key))) {
            crate::prefetch::prefetch(s);
        }
    }

    /// Hints that `key`'s entry is touched soon: reads its home index slot
    /// (fetched by an earlier [`Self::prefetch_slot`]) and fetches the node
    /// it names, `key`'s own on most lookups. No effect on results.
    #[inline]
    pub(crate) fn prefetch_node(&self, key: Key) {
        if !self.prefetch {
            return;
        }
        let h = if self.is_direct() {
            self.direct.get(key as usize).copied().unwrap_or(NIL)
        } else {
            let s = self.slots.get(self.home(tag_of(key))).copied();
            handle(s.unwrap_or(EMPTY))
        };
        if let Some(n) = self.nodes.get(h as usize) {
            crate::prefetch::prefetch(n);
        }
    }

    /// Hints that the front of `list` is removed soon (it is the next
    /// victim): fetches its index slot, and the node behind it, whose slot
    /// the same hint fetches at the next eviction. A queue's front was
    /// last touched long ago, so its lines are cold even in a small cache;
    /// with the hint, the eviction finds them fetched. No effect on
    /// results. A queue calls it after its evictions; in every
    /// `pop_front` it cost the multi-list policies (2Q, ARC at 10k) up to
    /// 12%.
    #[inline]
    pub(crate) fn prefetch_front(&self, list: &List) {
        if let Some(n) = self.nodes.get(list.head as usize) {
            self.fetch_index_entry(n.key());
            if let Some(next) = self.nodes.get(n.next as usize) {
                crate::prefetch::prefetch(next);
            }
        }
    }

    /// Adds an entry for `key` (which must not be present), on no list yet.
    pub(crate) fn insert(&mut self, key: Key, data: T) -> u32 {
        debug_assert!(self.find(key).is_none(), "key {key} inserted twice");
        // A key the direct index holds a place for is the common case;
        // the others widen it, leave it, or are hashed.
        if key as usize >= self.direct.len() {
            self.make_place(key);
        }
        let node = Node {
            key: halves(key),
            prev: NIL,
            next: NIL,
            data,
        };
        let idx = if self.free != NIL {
            let idx = self.free;
            self.free = self.nodes[idx as usize].next;
            self.nodes[idx as usize] = node;
            idx
        } else {
            assert!(self.nodes.len() < NIL as usize, "slab full");
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        self.place(key, idx);
        self.len += 1;
        idx
    }

    fn place(&mut self, key: Key, idx: u32) {
        if let Some(h) = self.direct.get_mut(key as usize) {
            *h = idx;
            return;
        }
        self.place_slot(slot(tag_of(key), idx));
    }

    /// Puts slot `s` in the first empty slot from its home on.
    fn place_slot(&mut self, s: u64) {
        let mask = self.slots.len() - 1;
        let mut i = self.home(tag(s));
        while self.slots[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = s;
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        assert!(n <= 1 << 32, "slab index full");
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; n]);
        self.shift = 32 - n.trailing_zeros();
        self.resized();
        // Re-place every live slot: its tag gives its new home.
        for s in old {
            if s != EMPTY {
                self.place_slot(s);
            }
        }
    }

    /// Removes the entry `idx` (which must already be unlinked from its list)
    /// and returns its key. The handle may be reused by the next insert.
    #[inline]
    pub(crate) fn remove(&mut self, idx: u32) -> Key
    where
        T: Copy,
    {
        let key = self.nodes[idx as usize].key();
        debug_assert!(self.nodes[idx as usize].prev != FREE, "double free");
        self.forget(key, idx);
        let node = &mut self.nodes[idx as usize];
        node.prev = FREE;
        node.next = self.free;
        self.free = idx;
        self.len -= 1;
        key
    }

    /// Gives the front node of `list` (which must not be empty) to `key`
    /// (not present) with `data`, and moves it to the back: the eviction
    /// of the front and the insert of `key` in one step, the node never
    /// passing through the free list.
    #[inline]
    pub(crate) fn recycle_front(&mut self, list: &mut List, key: Key, data: T) {
        debug_assert!(self.find(key).is_none(), "key {key} inserted twice");
        let idx = list.head;
        self.unlink(list, idx);
        self.forget(self.nodes[idx as usize].key(), idx);
        self.len -= 1;
        if key as usize >= self.direct.len() {
            // Neither widening nor leaving the direct index may see the
            // node: it is indexed under its new key below.
            self.nodes[idx as usize].prev = FREE;
            self.make_place(key);
        }
        let n = &mut self.nodes[idx as usize];
        n.key = halves(key);
        n.data = data;
        self.place(key, idx);
        self.len += 1;
        self.push_back(list, idx);
    }

    /// Removes node `idx`'s entry for `key` from whichever index is on.
    #[inline]
    fn forget(&mut self, key: Key, idx: u32) {
        match self.direct.get_mut(key as usize) {
            Some(h) => *h = NIL,
            None => self.unindex(key, idx),
        }
    }

    /// Removes `idx`, of `key`, from the hashed index.
    #[inline(never)]
    fn unindex(&mut self, key: Key, idx: u32) {
        // Backward-shift deletion keeps probe sequences intact without
        // tombstones; every slot's home comes from its tag.
        let mask = self.slots.len() - 1;
        let mut i = self.home(tag_of(key));
        while handle(self.slots[i]) != idx {
            i = (i + 1) & mask;
        }
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s == EMPTY {
                break;
            }
            let k = self.home(tag(s));
            // Move slot j back to i unless its home lies cyclically in (i, j].
            let stays = if i <= j {
                i < k && k <= j
            } else {
                i < k || k <= j
            };
            if !stays {
                self.slots[i] = s;
                i = j;
            }
        }
        self.slots[i] = EMPTY;
    }

    #[inline]
    pub(crate) fn key(&self, idx: u32) -> Key {
        self.nodes[idx as usize].key()
    }

    #[inline]
    pub(crate) fn data(&self, idx: u32) -> &T {
        &self.nodes[idx as usize].data
    }

    #[inline]
    pub(crate) fn data_mut(&mut self, idx: u32) -> &mut T {
        &mut self.nodes[idx as usize].data
    }

    /// The element after `idx` on its list (towards the back).
    #[inline]
    pub(crate) fn next(&self, idx: u32) -> Option<u32> {
        let n = self.nodes[idx as usize].next;
        (n != NIL).then_some(n)
    }

    /// Appends `idx` (on no list) at the back of `list`.
    #[inline]
    pub(crate) fn push_back(&mut self, list: &mut List, idx: u32) {
        let node = &mut self.nodes[idx as usize];
        node.prev = list.tail;
        node.next = NIL;
        if list.tail != NIL {
            self.nodes[list.tail as usize].next = idx;
        } else {
            list.head = idx;
        }
        list.tail = idx;
        list.len += 1;
    }

    /// Puts `idx` (on no list) at the front of `list`.
    #[inline]
    pub(crate) fn push_front(&mut self, list: &mut List, idx: u32) {
        let node = &mut self.nodes[idx as usize];
        node.next = list.head;
        node.prev = NIL;
        if list.head != NIL {
            self.nodes[list.head as usize].prev = idx;
        } else {
            list.tail = idx;
        }
        list.head = idx;
        list.len += 1;
    }

    /// Inserts `idx` (on no list) right before `before` on `list`.
    pub(crate) fn insert_before(&mut self, list: &mut List, before: u32, idx: u32) {
        let p = self.nodes[before as usize].prev;
        if p == NIL {
            return self.push_front(list, idx);
        }
        self.nodes[idx as usize].prev = p;
        self.nodes[idx as usize].next = before;
        self.nodes[p as usize].next = idx;
        self.nodes[before as usize].prev = idx;
        list.len += 1;
    }

    /// Takes `idx` off `list` (it must be on it).
    #[inline]
    pub(crate) fn unlink(&mut self, list: &mut List, idx: u32) {
        let (prev, next) = {
            let n = &self.nodes[idx as usize];
            (n.prev, n.next)
        };
        if prev != NIL {
            self.nodes[prev as usize].next = next;
        } else {
            list.head = next;
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        } else {
            list.tail = prev;
        }
        let n = &mut self.nodes[idx as usize];
        n.prev = NIL;
        n.next = NIL;
        list.len -= 1;
    }

    /// Moves `idx` (on `list`) to the back of `list`.
    #[inline]
    pub(crate) fn move_to_back(&mut self, list: &mut List, idx: u32) {
        if list.tail != idx {
            self.unlink(list, idx);
            self.push_back(list, idx);
        }
    }

    /// Takes the front element off `list` and returns it (still in the slab).
    #[inline]
    pub(crate) fn pop_front(&mut self, list: &mut List) -> Option<u32> {
        let h = list.front()?;
        self.unlink(list, h);
        Some(h)
    }

    /// Handles of `list` from front to back.
    pub(crate) fn iter<'a>(&'a self, list: &List) -> impl Iterator<Item = u32> + 'a {
        let mut cur = list.head;
        std::iter::from_fn(move || {
            if cur == NIL {
                return None;
            }
            let c = cur;
            cur = self.nodes[c as usize].next;
            Some(c)
        })
    }

    /// Checks that `list`'s links are consistent and that every element is
    /// indexed under its key; returns the number of elements. For tests.
    #[cfg(test)]
    pub(crate) fn check_list(&self, list: &List) -> usize {
        let mut n = 0;
        let mut prev = NIL;
        let mut cur = list.head;
        while cur != NIL {
            let node = &self.nodes[cur as usize];
            assert_eq!(node.prev, prev, "broken back link at {cur}");
            assert_eq!(self.find(node.key()), Some(cur), "node {cur} not indexed");
            prev = cur;
            cur = node.next;
            n += 1;
            assert!(n <= self.nodes.len(), "cycle in list");
        }
        assert_eq!(list.tail, prev, "tail mismatch");
        assert_eq!(list.len as usize, n, "list length mismatch");
        n
    }
}

/// Marks a free node in its `prev` field (never a valid handle: the slab holds
/// fewer than `u32::MAX - 1` nodes).
const FREE: u32 = u32::MAX - 1;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn lists_keep_order_and_index_follows_removals() {
        let mut s: LinkedSlab<u32> = LinkedSlab::with_capacity(4);
        let mut l = List::default();
        let ids: Vec<u32> = (0..100u64)
            .map(|k| {
                let i = s.insert(k * 7919, k as u32);
                s.push_back(&mut l, i);
                i
            })
            .collect();
        assert_eq!(s.check_list(&l), 100);
        // Remove every third, then check the rest are findable and in order.
        for (n, &i) in ids.iter().enumerate() {
            if n % 3 == 0 {
                s.unlink(&mut l, i);
                s.remove(i);
            }
        }
        assert_eq!(s.check_list(&l), 66);
        let order: Vec<u64> = s.iter(&l).map(|i| s.key(i)).collect();
        let expect: Vec<u64> = (0..100u64)
            .filter(|k| k % 3 != 0)
            .map(|k| k * 7919)
            .collect();
        assert_eq!(order, expect);
        for k in 0..100u64 {
            assert_eq!(s.find(k * 7919).is_some(), k % 3 != 0);
        }
        let front = s.front_key(&l);
        assert_eq!(front, Some(7919));
    }

    impl<T> LinkedSlab<T> {
        fn front_key(&self, l: &List) -> Option<Key> {
            l.front().map(|i| self.key(i))
        }
    }

    /// Removes `key` if the model holds it, else inserts it, checking the
    /// slab's lookups against the model before and its size after.
    fn toggle(s: &mut LinkedSlab<()>, l: &mut List, model: &mut HashMap<u64, u32>, key: u64) {
        if let Some(&i) = model.get(&key) {
            assert_eq!(s.find(key), Some(i));
            s.unlink(l, i);
            assert_eq!(s.remove(i), key);
            model.remove(&key);
        } else {
            assert_eq!(s.find(key), None);
            let i = s.insert(key, ());
            s.push_back(l, i);
            model.insert(key, i);
        }
        assert_eq!(s.len(), model.len());
    }

    #[test]
    fn index_matches_hashmap_under_random_churn() {
        // A deterministic xorshift stream of inserts and removals over a small
        // key space, so probe chains collide, wrap around and shift back.
        let mut s: LinkedSlab<()> = LinkedSlab::with_capacity(8);
        let mut l = List::default();
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut x: u64 = 0x1234_5678;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let key = (x % 300) << 40; // high bits only: stresses the hash
            toggle(&mut s, &mut l, &mut model, key);
        }
        assert_eq!(s.check_list(&l), model.len());
    }

    #[test]
    fn the_direct_index_matches_a_hashmap_and_leaves_for_a_key_beyond_its_bound() {
        let mut s: LinkedSlab<()> = LinkedSlab::with_capacity(8);
        s.index_keys_below(5000);
        assert!(s.is_direct() && s.slots.is_empty());
        let mut l = List::default();
        let mut model: HashMap<u64, u32> = HashMap::new();
        let mut x: u64 = 0x1234_5678;
        for n in 0..40_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Keys below the bound (widening the array as they grow) until
            // the 30,000th step, then some beyond it.
            let key = if n < 30_000 { x % 3000 } else { x % 9000 };
            toggle(&mut s, &mut l, &mut model, key);
            if n == 29_999 {
                assert!(s.is_direct(), "no key reached the bound");
                assert_eq!(s.direct.len(), 4096);
                assert_eq!(s.check_list(&l), model.len());
            }
        }
        assert!(!s.is_direct() && s.direct.is_empty());
        assert_eq!(s.check_list(&l), model.len());
        for k in 0..9000 {
            assert_eq!(s.find(k), model.get(&k).copied(), "key {k}");
        }
    }

    #[test]
    fn the_key_space_hint_is_ignored_when_too_large_or_late() {
        let mut s: LinkedSlab<()> = LinkedSlab::with_capacity(8);
        s.index_keys_below(DIRECT_MAX + 1);
        assert!(!s.is_direct());
        s.index_keys_below(0);
        assert!(!s.is_direct());
        let i = s.insert(7, ());
        s.index_keys_below(100);
        assert!(!s.is_direct(), "a slab holding entries keeps its index");
        assert_eq!(s.find(7), Some(i));
        // At most 64 keys per entry, or 2^20 keys.
        let mut d: LinkedSlab<()> = LinkedSlab::with_capacity(8);
        d.index_keys_below((1 << 20) + 1);
        assert!(!d.is_direct());
        let mut d: LinkedSlab<()> = LinkedSlab::with_capacity(1 << 16);
        d.index_keys_below(DIRECT_MAX);
        assert!(d.is_direct());
        let mut d: LinkedSlab<()> = LinkedSlab::with_capacity(8);
        d.index_keys_below(1 << 20);
        assert!(d.is_direct());
        // The array grows with the largest key, not to the bound at once.
        d.insert(10, ());
        assert_eq!(d.direct.len(), 1024);
        d.insert(5000, ());
        assert_eq!(d.direct.len(), 8192);
        assert_eq!(
            d.heap_bytes(),
            d.nodes.capacity() * std::mem::size_of::<Node<()>>() + 8192 * 4
        );
    }

    #[test]
    fn keys_with_equal_tags_are_told_apart_by_their_nodes() {
        // k and k + PHI^-1 hash one apart: same tag, same home, other key.
        let phi: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut inv = phi;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(phi.wrapping_mul(inv)));
        }
        assert_eq!(phi.wrapping_mul(inv), 1);
        let mut s: LinkedSlab<()> = LinkedSlab::with_capacity(4);
        let mut l = List::default();
        let keys: Vec<u64> = (0..6u64).map(|n| 10 + n * inv).collect();
        assert!(keys.iter().all(|&k| tag_of(k) == tag_of(keys[0])));
        let ids: Vec<u32> = keys
            .iter()
            .map(|&k| {
                assert_eq!(s.find(k), None);
                let i = s.insert(k, ());
                s.push_back(&mut l, i);
                i
            })
            .collect();
        for (&k, &i) in keys.iter().zip(&ids) {
            assert_eq!(s.find(k), Some(i));
        }
        // Remove from the middle of the run: the rest shift back and stay found.
        s.unlink(&mut l, ids[2]);
        s.remove(ids[2]);
        assert_eq!(s.find(keys[2]), None);
        for n in [0, 1, 3, 4, 5] {
            assert_eq!(s.find(keys[n]), Some(ids[n]));
        }
        assert_eq!(s.check_list(&l), 5);
    }

    #[test]
    fn move_to_back_and_pop_front() {
        let mut s: LinkedSlab<()> = LinkedSlab::with_capacity(4);
        let mut l = List::default();
        let a = s.insert(1, ());
        let b = s.insert(2, ());
        let c = s.insert(3, ());
        for i in [a, b, c] {
            s.push_back(&mut l, i);
        }
        s.move_to_back(&mut l, a);
        assert_eq!(s.pop_front(&mut l), Some(b));
        assert_eq!(s.pop_front(&mut l), Some(c));
        assert_eq!(s.pop_front(&mut l), Some(a));
        assert_eq!(s.pop_front(&mut l), None);
        assert!(l.is_empty());
    }
}
