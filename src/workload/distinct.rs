//! Exact distinct-key counting in little memory and few cache misses. A
//! trace's keys are usually block numbers or ids below 2^32, so the set
//! stores them as `u32` (4 bytes a slot) and switches to `u64` only when a
//! larger key shows up. The set is an open-addressing table of its own
//! (linear probing, at most 13/16 full, Fibonacci hashing) rather than a
//! `HashSet`, so that [`DistinctKeys::extend`] can prefetch the slots of
//! the keys a little ahead ([`crate::prefetch`]): the set outgrows the
//! caches on large traces, and counting it was a quarter of a single run's
//! time. The ARC trace P12 (3.15M distinct pages) takes 16 MiB.
//!
//! Smaller still: while every key is below [`BITMAP_KEYS`] (a synthetic
//! workload's keys, a small volume's block numbers) the set is a bitmap,
//! one bit per key below the largest seen: 1M keys take 128 KiB, which
//! stays in a core's L2 cache, so counting costs a few cycles per request.
//! The first larger key moves the keys into the table.

use crate::request::Key;

/// Keys ahead of the one inserted whose slot [`DistinctKeys::extend`]
/// prefetches.
const AHEAD: usize = 16;

/// A key type the table stores, with the value that marks an empty slot
/// (that key itself is counted by a flag).
trait Slot: Copy + Eq + Into<u64> {
    const EMPTY: Self;
}

impl Slot for u32 {
    const EMPTY: u32 = u32::MAX;
}

impl Slot for u64 {
    const EMPTY: u64 = u64::MAX;
}

/// Keys below this are counted in a bitmap (at most 8 MiB).
const BITMAP_KEYS: u64 = 1 << 26;

/// A set of small keys, one bit each, that only counts.
#[derive(Debug, Clone, Default)]
struct Bitmap {
    words: Vec<u64>,
    len: u64,
}

impl Bitmap {
    /// Adds `k` (below [`BITMAP_KEYS`]).
    #[inline]
    fn insert(&mut self, k: u64) {
        let w = (k / 64) as usize;
        if w >= self.words.len() {
            self.widen(w);
        }
        let bit = 1u64 << (k % 64);
        let word = &mut self.words[w];
        self.len += u64::from(*word & bit == 0);
        *word |= bit;
    }

    #[cold]
    fn widen(&mut self, w: usize) {
        self.words.resize((w + 1).next_power_of_two().max(1024), 0);
    }

    fn keys(&self) -> impl Iterator<Item = u64> + '_ {
        self.words.iter().enumerate().flat_map(|(i, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                (w != 0).then(|| {
                    let b = w.trailing_zeros();
                    w &= w - 1;
                    i as u64 * 64 + u64::from(b)
                })
            })
        })
    }
}

/// A set of keys of one width that only counts.
#[derive(Debug, Clone)]
struct Table<K> {
    slots: Vec<K>,
    shift: u32,
    /// Keys in `slots`.
    filled: u64,
    /// Whether `K::EMPTY` itself was seen.
    has_empty: bool,
}

impl<K: Slot> Table<K> {
    fn with_slots(n: usize) -> Table<K> {
        let n = n.max(16).next_power_of_two();
        Table {
            slots: vec![K::EMPTY; n],
            shift: 64 - n.trailing_zeros(),
            filled: 0,
            has_empty: false,
        }
    }

    #[inline]
    fn home(&self, k: K) -> usize {
        (k.into().wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn prefetch(&self, k: K) {
        if let Some(s) = self.slots.get(self.home(k)) {
            crate::prefetch::prefetch(s);
        }
    }

    #[inline]
    fn insert(&mut self, k: K) {
        if k == K::EMPTY {
            self.has_empty = true;
            return;
        }
        if (self.filled + 1) * 16 > self.slots.len() as u64 * 13 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = self.home(k);
        loop {
            let s = self.slots[i];
            if s == k {
                return;
            }
            if s == K::EMPTY {
                self.slots[i] = k;
                self.filled += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let mut bigger = Table::with_slots(self.slots.len() * 2);
        bigger.has_empty = self.has_empty;
        for &k in self.slots.iter().filter(|&&k| k != K::EMPTY) {
            bigger.insert(k);
        }
        *self = bigger;
    }

    fn len(&self) -> u64 {
        self.filled + u64::from(self.has_empty)
    }

    fn keys(&self) -> impl Iterator<Item = K> + '_ {
        let empty = self.has_empty.then_some(K::EMPTY);
        self.slots
            .iter()
            .copied()
            .filter(|&k| k != K::EMPTY)
            .chain(empty)
    }
}

/// A set of keys that only counts. See the module documentation.
#[derive(Debug, Clone)]
pub struct DistinctKeys(Width);

/// The width the set stores its keys in.
#[derive(Debug, Clone)]
enum Width {
    /// Every key seen so far is below [`BITMAP_KEYS`].
    Bits(Bitmap),
    /// Every key seen so far is below 2^32.
    Small(Table<u32>),
    /// A key of 2^32 or more was seen.
    Large(Table<u64>),
}

impl Default for DistinctKeys {
    fn default() -> Self {
        DistinctKeys(Width::Bits(Bitmap::default()))
    }
}

impl DistinctKeys {
    /// An empty set.
    pub fn new() -> DistinctKeys {
        DistinctKeys::default()
    }

    #[inline]
    pub(crate) fn insert(&mut self, k: Key) {
        match &mut self.0 {
            Width::Bits(b) if k < BITMAP_KEYS => b.insert(k),
            Width::Bits(b) => {
                let mut t = Table::with_slots((b.len as usize * 2).max(16));
                for v in b.keys() {
                    // Below 2^26: fits a u32.
                    t.insert(v as u32);
                }
                self.0 = Width::Small(t);
                self.insert(k);
            }
            Width::Small(s) => match u32::try_from(k) {
                Ok(v) => s.insert(v),
                Err(_) => {
                    let mut big = Table::with_slots(s.slots.len() * 2);
                    for v in s.keys() {
                        big.insert(u64::from(v));
                    }
                    big.insert(k);
                    self.0 = Width::Large(big);
                }
            },
            Width::Large(s) => s.insert(k),
        }
    }

    #[inline]
    fn prefetch(&self, k: Key) {
        match &self.0 {
            // Small: the bitmap stays in cache.
            Width::Bits(_) => {}
            Width::Small(s) => {
                if let Ok(v) = u32::try_from(k) {
                    s.prefetch(v);
                }
            }
            Width::Large(s) => s.prefetch(k),
        }
    }

    /// Adds `keys`, prefetching the slots of the keys ahead.
    pub fn extend(&mut self, keys: &[Key]) {
        for (i, &k) in keys.iter().enumerate() {
            if let Some(&ahead) = keys.get(i + AHEAD) {
                self.prefetch(ahead);
            }
            self.insert(k);
        }
    }

    /// Whether no key was seen yet.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Distinct keys seen so far.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Width::Bits(b) => b.len,
            Width::Small(s) => s.len(),
            Width::Large(s) => s.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_exactly_across_the_switch_to_wide_keys() {
        let mut d = DistinctKeys::new();
        d.extend(&[1, 2, 2, 3]);
        assert!(matches!(d.0, Width::Bits(_)));
        assert_eq!(d.len(), 3);
        d.extend(&[BITMAP_KEYS - 1, 0, BITMAP_KEYS - 1]);
        assert!(matches!(d.0, Width::Bits(_)));
        assert_eq!(d.len(), 5);
        d.extend(&[u64::from(u32::MAX), 2]);
        assert!(matches!(d.0, Width::Small(_)));
        assert_eq!(d.len(), 6);
        d.extend(&[1 << 32, 1, 1 << 32, u64::MAX]);
        assert!(matches!(d.0, Width::Large(_)));
        assert_eq!(d.len(), 8);
        d.insert(3);
        d.insert(BITMAP_KEYS - 1);
        assert_eq!(d.len(), 8);
    }

    #[test]
    fn counts_as_a_hash_set_does_through_growth_and_the_empty_markers() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        // Sequential block numbers, repeats, random ids, and the keys that
        // mark empty slots in each width.
        let mut keys: Vec<u64> = (0..50_000u64).collect();
        keys.extend((0..200_000).map(|_| rng.random_range(0..300_000u64)));
        keys.extend([u64::from(u32::MAX), u64::from(u32::MAX), 0]);
        let mut d = DistinctKeys::new();
        d.extend(&keys[..250_000]);
        let mut want: std::collections::HashSet<u64> = keys[..250_000].iter().copied().collect();
        assert!(matches!(d.0, Width::Bits(_)));
        assert_eq!(d.len(), want.len() as u64);
        d.extend(&keys[250_000..]);
        want.extend(&keys[250_000..]);
        assert!(matches!(d.0, Width::Small(_)));
        assert_eq!(d.len(), want.len() as u64);
        let wide: Vec<u64> = (0..100_000)
            .map(|_| rng.random::<u64>() | 1 << 40)
            .chain([u64::MAX, u64::MAX, 5])
            .collect();
        d.extend(&wide);
        want.extend(&wide);
        assert!(matches!(d.0, Width::Large(_)));
        assert_eq!(d.len(), want.len() as u64);
    }
}
