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

/// Two independent 64-bit hashes of `key`, for double hashing.
#[inline]
fn hashes(key: Key) -> (u64, u64) {
    let h1 = splitmix(key ^ SEED_A);
    let h2 = splitmix(key ^ SEED_B) | 1;
    (h1, h2)
}

/// A count-min sketch with `DEPTH` rows of 4-bit saturating counters, 16 to a
/// `u64` word. Row `i` uses hash `h1 + i * h2` (Kirsch-Mitzenmacher double
/// hashing).
#[derive(Debug, Clone)]
pub struct CountMin4 {
    /// `DEPTH` rows of `width / 16` words each, row after row.
    words: Vec<u64>,
    /// Counters per row, a power of two.
    width: usize,
    shift: u32,
}

/// Rows (hash functions) of the sketch, as in the paper and Caffeine.
pub const DEPTH: usize = 4;
/// A 4-bit counter saturates here.
pub const MAX_COUNT: u8 = 15;

impl CountMin4 {
    /// A sketch with at least `counters` counters per row (rounded up to a
    /// power of two, at least 16).
    pub fn new(counters: usize) -> CountMin4 {
        let width = counters.clamp(16, 1 << 30).next_power_of_two();
        CountMin4 {
            words: vec![0; DEPTH * width / 16],
            width,
            shift: 64 - width.trailing_zeros(),
        }
    }

    /// (word index, bit offset) of `key`'s counter in row `row`.
    #[inline]
    fn slot(&self, h1: u64, h2: u64, row: usize) -> (usize, u32) {
        let h = h1.wrapping_add((row as u64).wrapping_mul(h2));
        let c = (h >> self.shift) as usize; // counter index in the row
        (row * (self.width / 16) + c / 16, (c % 16) as u32 * 4)
    }

    /// Adds one to each of `key`'s counters that is below 15; returns whether
    /// any changed.
    #[inline]
    pub fn increment(&mut self, key: Key) -> bool {
        let (h1, h2) = hashes(key);
        let mut changed = false;
        for row in 0..DEPTH {
            let (w, off) = self.slot(h1, h2, row);
            if (self.words[w] >> off) & 0xF < u64::from(MAX_COUNT) {
                self.words[w] += 1 << off;
                changed = true;
            }
        }
        changed
    }

    /// The minimum of `key`'s counters.
    #[inline]
    pub fn estimate(&self, key: Key) -> u8 {
        let (h1, h2) = hashes(key);
        let mut m = MAX_COUNT;
        for row in 0..DEPTH {
            let (w, off) = self.slot(h1, h2, row);
            m = m.min(((self.words[w] >> off) & 0xF) as u8);
        }
        m
    }

    /// Halves every counter (integer division: 1 becomes 0).
    pub fn halve(&mut self) {
        for w in &mut self.words {
            *w = (*w >> 1) & 0x7777_7777_7777_7777;
        }
    }

    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

/// A Bloom filter of `bits` bits (a power of two) probed at `PROBES`
/// positions: TinyLFU's doorkeeper, which absorbs the first occurrence of
/// every key so the sketch only counts keys seen at least twice per period.
#[derive(Debug, Clone)]
pub struct Doorkeeper {
    bits: Vec<u64>,
    shift: u32,
}

const PROBES: u64 = 3;

impl Doorkeeper {
    pub fn new(bits: usize) -> Doorkeeper {
        let bits = bits.clamp(64, 1 << 34).next_power_of_two();
        Doorkeeper {
            bits: vec![0; bits / 64],
            shift: 64 - bits.trailing_zeros(),
        }
    }

    #[inline]
    fn positions(&self, key: Key) -> impl Iterator<Item = usize> + '_ {
        let (h1, h2) = hashes(key.rotate_left(17));
        (0..PROBES).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) >> self.shift) as usize)
    }

    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        self.positions(key)
            .all(|b| self.bits[b / 64] >> (b % 64) & 1 == 1)
    }

    /// Adds `key`; returns whether it was (probably) already present.
    #[inline]
    pub fn insert(&mut self, key: Key) -> bool {
        let mut present = true;
        let pos: [usize; PROBES as usize] = {
            let mut it = self.positions(key);
            std::array::from_fn(|_| it.next().unwrap_or(0))
        };
        for b in pos {
            let (w, m) = (b / 64, 1u64 << (b % 64));
            if self.bits[w] & m == 0 {
                present = false;
                self.bits[w] |= m;
            }
        }
        present
    }

    pub fn clear(&mut self) {
        self.bits.fill(0);
    }

    pub fn heap_bytes(&self) -> usize {
        self.bits.capacity() * 8
    }
}

/// TinyLFU's frequency histogram: doorkeeper + 4-bit count-min sketch with
/// aging. [`TinyLfu::record`] counts one access: a key not yet in the
/// doorkeeper only enters it; otherwise its sketch counters are incremented.
/// After `sample` recorded accesses the reset halves every counter, clears
/// the doorkeeper and halves the access count (the paper's reset, with the
/// doorkeeper cleared as in section 3.4.2).
#[derive(Debug, Clone)]
pub struct TinyLfu {
    sketch: CountMin4,
    door: Doorkeeper,
    sample: u64,
    seen: u64,
}

impl TinyLfu {
    /// Sized for a cache of `capacity` entries with sample (reset period)
    /// `sample` = W: `capacity` counters per row, `2 x W` doorkeeper bits.
    pub fn new(capacity: usize, sample: u64) -> TinyLfu {
        TinyLfu {
            sketch: CountMin4::new(capacity),
            door: Doorkeeper::new((2 * sample).min(1 << 34) as usize),
            sample: sample.max(1),
            seen: 0,
        }
    }

    #[inline]
    pub fn record(&mut self, key: Key) {
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
    pub fn estimate(&self, key: Key) -> u32 {
        u32::from(self.sketch.estimate(key)) + u32::from(self.door.contains(key))
    }

    pub fn reset(&mut self) {
        self.sketch.halve();
        self.door.clear();
        self.seen /= 2;
    }

    pub fn heap_bytes(&self) -> usize {
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
