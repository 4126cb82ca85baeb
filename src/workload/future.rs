//! The future of a request stream, for offline policies (Belady): for every
//! request, the position of the next request for the same key.
//!
//! One backward pass over the keys with a hash map from key to the position
//! where it was last seen (i.e. the nearest one in the future). The runner
//! computes it once per workload and shares it between runs.

use crate::request::Key;

/// Marks "never requested again" in a next-use array.
pub(crate) const NEVER: u64 = u64::MAX;

/// `next_use(keys)[i]` is the smallest `j > i` with `keys[j] == keys[i]`, or
/// [`NEVER`] when there is none.
///
/// The pass is memory-bound (one table probe per request), so the table is
/// a flat open-addressing array of `(key, position + 1)` pairs with linear
/// probing and Fibonacci hashing: one cache line per probe, where a general
/// hash map touches a control byte and a bucket.
pub fn next_use(keys: &[Key]) -> Vec<u64> {
    let mut out = vec![NEVER; keys.len()];
    Backward::new(keys.len() / 8).scan(keys, 0, &mut out);
    out
}

/// The backward pass in pieces, last piece first: for a stream too long to
/// hold (its keys and next uses spilled to files, `sim::future_file`).
pub(crate) struct Backward(PosTable);

impl Backward {
    /// A pass expecting about `keys` distinct keys (it grows as needed).
    pub(crate) fn new(keys: usize) -> Backward {
        Backward(PosTable::new(keys.max(64)))
    }

    /// The next uses of `keys`, the requests at stream positions `base..`,
    /// into `out` (same length). Call on the pieces from the last to the
    /// first.
    pub(crate) fn scan(&mut self, keys: &[Key], base: u64, out: &mut [u64]) {
        for i in (0..keys.len()).rev() {
            out[i] = self.0.swap(keys[i], base + i as u64).unwrap_or(NEVER);
        }
    }
}

/// Key -> latest position, at most half full. `pos1 == 0` marks an empty slot.
struct PosTable {
    slots: Vec<(Key, u64)>,
    len: usize,
    shift: u32,
}

impl PosTable {
    fn new(expected: usize) -> PosTable {
        let n = (expected * 2).next_power_of_two();
        PosTable {
            slots: vec![(0, 0); n],
            len: 0,
            shift: 64 - n.trailing_zeros(),
        }
    }

    #[inline]
    fn home(&self, key: Key) -> usize {
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// Stores `pos` for `key`, returning the position stored before.
    #[inline]
    fn swap(&mut self, key: Key, pos: u64) -> Option<u64> {
        let mask = self.slots.len() - 1;
        let mut i = self.home(key);
        loop {
            let (k, p1) = self.slots[i];
            if p1 == 0 {
                self.slots[i] = (key, pos + 1);
                self.len += 1;
                if self.len * 2 > self.slots.len() {
                    self.grow();
                }
                return None;
            }
            if k == key {
                self.slots[i].1 = pos + 1;
                return Some(p1 - 1);
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.slots);
        let n = old.len() * 2;
        self.slots = vec![(0, 0); n];
        self.shift = 64 - n.trailing_zeros();
        let mask = n - 1;
        for (k, p1) in old {
            if p1 != 0 {
                let mut i = self.home(k);
                while self.slots[i].1 != 0 {
                    i = (i + 1) & mask;
                }
                self.slots[i] = (k, p1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_use_matches_a_forward_scan() {
        let keys = [1u64, 2, 1, 3, 2, 1, 4];
        let n = next_use(&keys);
        assert_eq!(n, vec![2, 4, 5, NEVER, NEVER, NEVER, NEVER]);
        let keys: Vec<u64> = (0..500u64).map(|i| (i * i + 3 * i) % 37).collect();
        let n = next_use(&keys);
        for i in 0..keys.len() {
            let brute = (i + 1..keys.len())
                .find(|&j| keys[j] == keys[i])
                .map_or(NEVER, |j| j as u64);
            assert_eq!(n[i], brute, "at {i}");
        }
        assert!(next_use(&[]).is_empty());
        // Growth: many distinct keys, including 0 and u64::MAX.
        let keys: Vec<u64> = (0..50_000u64)
            .map(|i| crate::rng::splitmix(i % 20_000) | (i % 3))
            .chain([0, u64::MAX, 0])
            .collect();
        let n = next_use(&keys);
        let mut last = std::collections::HashMap::new();
        for i in (0..keys.len()).rev() {
            assert_eq!(n[i], last.get(&keys[i]).copied().unwrap_or(NEVER), "at {i}");
            last.insert(keys[i], i as u64);
        }
    }
}
