//! Frequency estimation for admission policies (TinyLFU and its relatives):
//! a count-min sketch of 4-bit counters, a doorkeeper Bloom filter, and
//! [`TinyLfu`], which combines them with the periodic aging ("reset") of
//! Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission
//! Policy", ACM TOS 2017.
//!
//! Everything is deterministic: the hash functions are SplitMix64 mixes with
//! fixed seeds, never a per-process `RandomState`, so a run repeats exactly.

use crate::request::Key;
use crate::rng::splitmix;

/// Hash-function seeds (arbitrary odd constants, fixed forever).
const SEED_A: u64 = 0x243F_6A88_85A3_08D3;
const SEED_B: u64 = 0x1319_8A2E_0370_7345;

/// Two independent 64-bit hashes of `key`: one picks the block, the other
/// the positions inside it.
#[inline]
fn hashes(key: Key) -> (u64, u64) {
    let h1 = splitmix(key ^ SEED_A);
    let h2 = splitmix(key ^ SEED_B);
    (h1, h2)
}

/// A count-min sketch of 4-bit saturating counters with `DEPTH` hash
/// functions, blocked as in Caffeine's current `FrequencySketch`: a key's
/// `DEPTH` counters all lie in one 64-byte block (one cache line), counter
/// `i` in word `2i` or `2i + 1` of the block, so the rows never share a
/// counter and an update or estimate costs one cache miss, not four.
#[derive(Debug, Clone)]
pub(crate) struct CountMin4 {
    blocks: Vec<Block>,
    shift: u32,
}

/// Eight words of sixteen 4-bit counters, aligned to a cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Block([u64; 8]);

/// Hash functions (counters per key) of the sketch, as in the paper and
/// Caffeine.
pub(crate) const DEPTH: usize = 4;
/// A 4-bit counter saturates here.
pub(crate) const MAX_COUNT: u8 = 15;

impl CountMin4 {
    /// A sketch with at least `counters` counters per hash function (rounded
    /// up to a power of two, at least 32): `DEPTH x counters` in total.
    pub(crate) fn new(counters: usize) -> CountMin4 {
        let total = (counters.clamp(32, 1 << 30) * DEPTH).next_power_of_two();
        let blocks = total / 128;
        CountMin4 {
            blocks: vec![Block::default(); blocks],
            shift: 64 - blocks.trailing_zeros(),
        }
    }

    /// (block, [(word, bit offset); DEPTH]) of `key`'s counters.
    #[inline]
    fn slots(&self, key: Key) -> (usize, [(usize, u32); DEPTH]) {
        let (h1, h2) = hashes(key);
        let b = if self.shift >= 64 {
            0
        } else {
            (h1 >> self.shift) as usize
        };
        let s = std::array::from_fn(|i| {
            let word = 2 * i + ((h2 >> i) & 1) as usize;
            let nibble = ((h2 >> (8 + 4 * i)) & 15) as u32;
            (word, nibble * 4)
        });
        (b, s)
    }

    /// Adds one to each of `key`'s counters that is below 15; returns whether
    /// any changed.
    #[inline]
    pub(crate) fn increment(&mut self, key: Key) -> bool {
        let (b, slots) = self.slots(key);
        let block = &mut self.blocks[b].0;
        let mut changed = false;
        for (w, off) in slots {
            if (block[w] >> off) & 0xF < u64::from(MAX_COUNT) {
                block[w] += 1 << off;
                changed = true;
            }
        }
        changed
    }

    /// The minimum of `key`'s counters.
    #[inline]
    pub(crate) fn estimate(&self, key: Key) -> u8 {
        let (b, slots) = self.slots(key);
        let block = &self.blocks[b].0;
        let mut m = MAX_COUNT;
        for (w, off) in slots {
            m = m.min(((block[w] >> off) & 0xF) as u8);
        }
        m
    }

    /// Halves every counter (integer division: 1 becomes 0).
    pub(crate) fn halve(&mut self) {
        for b in &mut self.blocks {
            for w in &mut b.0 {
                *w = (*w >> 1) & 0x7777_7777_7777_7777;
            }
        }
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.blocks.capacity() * std::mem::size_of::<Block>()
    }
}

/// A blocked Bloom filter: each key sets `PROBES` bits of one 64-bit word
/// (one cache line touched per operation, a slightly higher false-positive
/// rate than an unblocked filter of the same size). TinyLFU's doorkeeper,
/// which absorbs the first occurrence of every key so the sketch only counts
/// keys seen at least twice per period.
#[derive(Debug, Clone)]
pub(crate) struct Doorkeeper {
    words: Vec<u64>,
    shift: u32,
}

const PROBES: u32 = 3;

impl Doorkeeper {
    /// A filter of at least `bits` bits (a power of two, at least 64).
    pub(crate) fn new(bits: usize) -> Doorkeeper {
        let words = (bits.clamp(64, 1 << 34) / 64).next_power_of_two();
        Doorkeeper {
            words: vec![0; words],
            shift: 64 - words.trailing_zeros(),
        }
    }

    #[inline]
    fn slot(&self, key: Key) -> (usize, u64) {
        let (h1, h2) = hashes(key.rotate_left(17));
        let w = if self.shift >= 64 {
            0
        } else {
            (h1 >> self.shift) as usize
        };
        let mut mask = 0u64;
        for i in 0..PROBES {
            mask |= 1 << ((h2 >> (6 * i)) & 63);
        }
        (w, mask)
    }

    #[inline]
    pub(crate) fn contains(&self, key: Key) -> bool {
        let (w, m) = self.slot(key);
        self.words[w] & m == m
    }

    /// Adds `key`; returns whether it was (probably) already present.
    #[inline]
    pub(crate) fn insert(&mut self, key: Key) -> bool {
        let (w, m) = self.slot(key);
        let present = self.words[w] & m == m;
        self.words[w] |= m;
        present
    }

    pub(crate) fn clear(&mut self) {
        self.words.fill(0);
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// TinyLFU's frequency histogram: doorkeeper + 4-bit count-min sketch with
/// aging. [`TinyLfu::record`] counts one access: a key not yet in the
/// doorkeeper only enters it; otherwise its sketch counters are incremented.
/// After `sample` recorded accesses the reset halves every counter, clears
/// the doorkeeper and halves the access count (the paper's reset, with the
/// doorkeeper cleared as in section 3.4.2).
#[derive(Debug, Clone)]
pub(crate) struct TinyLfu {
    sketch: CountMin4,
    door: Doorkeeper,
    sample: u64,
    seen: u64,
}

impl TinyLfu {
    /// Sized for a cache of `capacity` entries with sample (reset period)
    /// `sample` = W: `capacity` counters per row, `2 x W` doorkeeper bits.
    pub(crate) fn new(capacity: usize, sample: u64) -> TinyLfu {
        TinyLfu {
            sketch: CountMin4::new(capacity),
            door: Doorkeeper::new((2 * sample).min(1 << 34) as usize),
            sample: sample.max(1),
            seen: 0,
        }
    }

    #[inline]
    pub(crate) fn record(&mut self, key: Key) {
        if self.door.insert(key) {
            self.sketch.increment(key);
        }
        self.seen += 1;
        if self.seen >= self.sample {
            self.reset();
        }
    }

    /// Estimated frequency: the sketch's count plus one if the doorkeeper
    /// holds the key.
    #[inline]
    pub(crate) fn estimate(&self, key: Key) -> u32 {
        u32::from(self.sketch.estimate(key)) + u32::from(self.door.contains(key))
    }

    pub(crate) fn reset(&mut self) {
        self.sketch.halve();
        self.door.clear();
        self.seen /= 2;
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.sketch.heap_bytes() + self.door.heap_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_saturate_at_15_and_halve() {
        let mut s = CountMin4::new(64);
        for _ in 0..20 {
            s.increment(7);
        }
        assert_eq!(s.estimate(7), 15);
        s.halve();
        assert_eq!(s.estimate(7), 7);
        s.halve();
        s.halve();
        s.halve();
        assert_eq!(s.estimate(7), 0);
    }

    #[test]
    fn count_min_never_underestimates() {
        let mut s = CountMin4::new(256);
        let mut truth = std::collections::HashMap::new();
        for i in 0..2000u64 {
            let k = splitmix(i) % 300;
            s.increment(k);
            *truth.entry(k).or_insert(0u32) += 1;
        }
        for (k, n) in truth {
            assert!(u32::from(s.estimate(k)) >= n.min(15), "key {k}");
        }
    }

    #[test]
    fn doorkeeper_absorbs_first_occurrence_and_reset_ages() {
        let mut t = TinyLfu::new(100, 1000);
        t.record(42);
        assert_eq!(t.estimate(42), 1); // doorkeeper only
        t.record(42);
        t.record(42);
        assert_eq!(t.estimate(42), 3); // 1 (doorkeeper) + 2 (sketch)
        assert_eq!(t.estimate(43), 0);
        t.reset();
        assert_eq!(t.estimate(42), 1); // 2 / 2, doorkeeper cleared
                                       // The period: after `sample` records the counters are halved.
        let mut t = TinyLfu::new(100, 10);
        for _ in 0..9 {
            t.record(5);
        }
        assert_eq!(t.estimate(5), 9);
        t.record(5); // 10th: sketch 9, then the reset: 9 / 2 = 4, door cleared
        assert_eq!(t.estimate(5), 4);
        assert_eq!(t.seen, 5);
    }

    #[test]
    fn deterministic() {
        let mut a = TinyLfu::new(50, 500);
        let mut b = TinyLfu::new(50, 500);
        for i in 0..3000u64 {
            a.record(splitmix(i) % 97);
            b.record(splitmix(i) % 97);
        }
        for k in 0..97 {
            assert_eq!(a.estimate(k), b.estimate(k));
        }
    }
}
