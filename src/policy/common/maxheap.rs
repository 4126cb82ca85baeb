//! A 4-ary max-heap of `(priority, key)` pairs, for Belady's "furthest next
//! use first". With four children per node a node's children share one
//! 64-byte cache line and the tree is half as deep as a binary heap, which
//! matters because the offline policies pop once per eviction from a heap
//! of up to twice the cache's size (std's `BinaryHeap` is binary).

/// One entry: ordered by priority, then key.
pub(crate) type Pair = (u64, u64);

const D: usize = 4;

#[derive(Debug, Clone, Default)]
pub(crate) struct MaxHeap4 {
    v: Vec<Pair>,
}

impl MaxHeap4 {
    pub(crate) fn with_capacity(n: usize) -> MaxHeap4 {
        MaxHeap4 {
            v: Vec::with_capacity(n),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.v.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.v.capacity()
    }

    /// The entries in no particular order.
    pub(crate) fn as_slice(&self) -> &[Pair] {
        &self.v
    }

    #[inline]
    pub(crate) fn push(&mut self, x: Pair) {
        let mut i = self.v.len();
        self.v.push(x);
        while i > 0 {
            let parent = (i - 1) / D;
            if self.v[parent] >= x {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = x;
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Pair> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some(last);
        }
        let top = self.v[0];
        self.sift_down(0, last);
        Some(top)
    }

    /// Places `x` at hole `i` and moves it down to its place.
    #[inline]
    fn sift_down(&mut self, mut i: usize, x: Pair) {
        let n = self.v.len();
        loop {
            let first = i * D + 1;
            if first >= n {
                break;
            }
            let end = (first + D).min(n);
            let mut best = first;
            for c in first + 1..end {
                if self.v[c] > self.v[best] {
                    best = c;
                }
            }
            if self.v[best] <= x {
                break;
            }
            self.v[i] = self.v[best];
            i = best;
        }
        self.v[i] = x;
    }

    /// Keeps only the entries `keep` accepts and restores the heap, O(n).
    pub(crate) fn retain(&mut self, keep: impl FnMut(&Pair) -> bool) {
        self.v.retain(keep);
        let n = self.v.len();
        if n > 1 {
            for i in (0..=(n - 2) / D).rev() {
                let x = self.v[i];
                self.sift_down(i, x);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_descending_order_like_binary_heap() {
        let mut h = MaxHeap4::default();
        let mut r = std::collections::BinaryHeap::new();
        let mut x = 5u64;
        for round in 0..5000 {
            x = crate::rng::splitmix(x);
            if x % 3 == 0 {
                assert_eq!(h.pop(), r.pop());
            } else {
                let p = (x % 100, round);
                h.push(p);
                r.push(p);
            }
            if round % 997 == 0 {
                h.retain(|p| p.0 % 2 == 0);
                r.retain(|p| p.0 % 2 == 0);
            }
            assert_eq!(h.len(), r.len());
        }
        while let Some(p) = r.pop() {
            assert_eq!(h.pop(), Some(p));
        }
        assert!(h.pop().is_none() && h.is_empty());
    }
}
