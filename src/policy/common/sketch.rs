//! Frequency estimation for admission policies (TinyLFU and its relatives):
//! count-min sketches of 4-bit counters, a doorkeeper Bloom filter, and
//! [`TinyLfu`], which combines them with periodic aging ("reset") and the
//! admission test of Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient
//! Cache Admission Policy", ACM TOS 2017.
//!
//! The default [`TinyLfuConfig`] reproduces the `count-min-4` sketch with
//! `periodic` reset of Caffeine's simulator (`admission/TinyLfu.java`,
//! `admission/countmin4/CountMin4.java`, `PeriodicResetCountMin4.java`,
//! `reference.conf`), rule for rule: the same counters, hash functions and
//! table indices, the same aging and the same admission jitter, so its
//! W-TinyLFU misses what Caffeine's does. [`Layout::Blocked`],
//! `doorkeeper` and [`Aging::Accesses`] keep cachesim's earlier variant.
//!
//! Everything is deterministic: the hash functions have fixed seeds, never a
//! per-process `RandomState`, and the jitter draws from a generator seeded by
//! the run's seed, so a run repeats exactly. That generator is
//! `java.util.Random`'s (see [`JavaRandom`]), not the simulator's xoshiro:
//! one jitter admission changes the rest of a run, moving a miss ratio by up
//! to 0.02 on the LIRS `multi2` trace, so matching Caffeine point by point
//! takes its very draws, which `--seed 1033096058` (Caffeine's
//! `random-seed`) gives.

use crate::request::Key;
use crate::rng::splitmix;

/// A 4-bit counter saturates here.
pub(crate) const MAX_COUNT: u8 = 15;
/// Hash functions (counters per key), as in the paper and Caffeine.
const DEPTH: usize = 4;
/// Every counter's lowest bit, and every counter's three low bits after a
/// one-bit shift: halving sixteen 4-bit counters packed in a word.
const ONE_MASK: u64 = 0x1111_1111_1111_1111;
const RESET_MASK: u64 = 0x7777_7777_7777_7777;

/// Halves the sixteen counters of `w`; returns how many were odd.
#[inline]
fn halve_word(w: &mut u64) -> u64 {
    let odd = u64::from((*w & ONE_MASK).count_ones());
    *w = (*w >> 1) & RESET_MASK;
    odd
}

/// The table layout and hash functions of the count-min sketch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Caffeine simulator's `CountMin4`: a table of 64-bit words of sixteen
    /// counters; a key's row-`i` counter is counter `start + i` of word
    /// `index(i)`, four independently indexed words, with Caffeine's hash
    /// (`Long.hashCode`, `spread`, the seeded `indexOf`).
    Caffeine,
    /// cachesim's earlier sketch: all of a key's counters in one 64-byte
    /// block (one cache line, as Caffeine's library `FrequencySketch`),
    /// SplitMix64 hashes.
    Blocked,
}

/// When the counters are halved, and what the count restarts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aging {
    /// Caffeine's periodic reset: only increments that changed a counter
    /// count; after `10 x counters / 16` of them every counter is halved and
    /// the count becomes `(count - odd / 4) / 2`, `odd` being the number of
    /// counters that were odd (the truncation error of the halving).
    Changed,
    /// cachesim's earlier reset: every recorded access counts; after
    /// `10 x capacity` of them every counter is halved and the count halved.
    Accesses,
}

/// How a [`TinyLfu`] is built; [`TinyLfuConfig::default`] is Caffeine's
/// simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TinyLfuConfig {
    /// Table layout and hashing.
    pub layout: Layout,
    /// Counters per cache entry: the sketch has `next_power_of_two(counters
    /// x capacity)` counters (Caffeine: one 16-counter word per entry, 16).
    pub counters: u64,
    /// A Bloom filter in front of the sketch absorbing each key's first
    /// occurrence per period.
    pub doorkeeper: bool,
    /// The reset rule.
    pub aging: Aging,
    /// Admit a losing candidate whose estimate is at least
    /// [`JITTER_THRESHOLD`] with probability 1/128 (Caffeine's defence
    /// against hash flooding).
    pub jitter: bool,
}

impl Default for TinyLfuConfig {
    fn default() -> TinyLfuConfig {
        TinyLfuConfig {
            layout: Layout::Caffeine,
            counters: 16,
            doorkeeper: false,
            aging: Aging::Changed,
            jitter: true,
        }
    }
}

/// The smallest candidate estimate that may win by jitter (Caffeine's
/// `tiny-lfu.jitter.threshold`).
pub(crate) const JITTER_THRESHOLD: u32 = 6;
/// The most counters a sketch gets (32 MiB): byte capacities size the sketch
/// by bytes, which would otherwise ask for gigabytes.
const MAX_COUNTERS: u64 = 1 << 26;

/// Caffeine's `CountMin4` seeds (from FNV-1a, CityHash and Murmur3).
const CAFFEINE_SEED: [u64; DEPTH] = [
    0xc3a5_c85c_97cb_3127,
    0xb492_b66f_be98_f273,
    0x9ae1_6a3b_2f90_404f,
    0xcbf2_9ce4_8422_2325,
];

/// The layout of Caffeine's simulator `CountMin4`: `words` 64-bit words
/// (a power of two) of sixteen 4-bit counters.
#[derive(Debug, Clone)]
pub(crate) struct FlatCountMin4 {
    table: Vec<u64>,
    mask: u32,
}

impl FlatCountMin4 {
    /// A sketch of `words` words (rounded up to a power of two, at least 1).
    pub(crate) fn new(words: usize) -> FlatCountMin4 {
        let words = words.max(1).next_power_of_two();
        FlatCountMin4 {
            table: vec![0; words],
            mask: (words - 1) as u32,
        }
    }

    /// Java's `Long.hashCode` then Caffeine's `spread` (a 32-bit mix).
    #[inline]
    fn item(key: Key) -> u32 {
        let mut x = (key ^ (key >> 32)) as u32;
        x = ((x >> 16) ^ x).wrapping_mul(0x045d_9f3b);
        x = ((x >> 16) ^ x).wrapping_mul(0x045d_9f3b);
        (x >> 16) ^ x
    }

    /// (word, bit offset) of `key`'s row-`i` counter for each row.
    #[inline]
    fn slots(&self, key: Key) -> [(usize, u32); DEPTH] {
        let item = Self::item(key);
        let start = (item & 3) << 2;
        // Java adds the int to the long seed: sign extension.
        let wide = item as i32 as i64 as u64;
        std::array::from_fn(|i| {
            let mut h = wide
                .wrapping_add(CAFFEINE_SEED[i])
                .wrapping_mul(CAFFEINE_SEED[i]);
            h = h.wrapping_add(h >> 32);
            ((h as u32 & self.mask) as usize, (start + i as u32) << 2)
        })
    }

    /// Adds one to each of `key`'s counters below 15; returns whether any
    /// changed.
    #[inline]
    pub(crate) fn increment(&mut self, key: Key) -> bool {
        let mut changed = false;
        for (w, off) in self.slots(key) {
            if (self.table[w] >> off) & 0xF < u64::from(MAX_COUNT) {
                self.table[w] += 1 << off;
                changed = true;
            }
        }
        changed
    }

    /// The minimum of `key`'s counters.
    #[inline]
    pub(crate) fn estimate(&self, key: Key) -> u8 {
        self.slots(key)
            .into_iter()
            .map(|(w, off)| ((self.table[w] >> off) & 0xF) as u8)
            .min()
            .unwrap_or(0)
    }

    /// Halves every counter; returns how many were odd.
    pub(crate) fn halve(&mut self) -> u64 {
        self.table.iter_mut().map(halve_word).sum()
    }

    fn counters(&self) -> u64 {
        16 * self.table.len() as u64
    }

    fn heap_bytes(&self) -> usize {
        self.table.capacity() * 8
    }
}

/// Hash-function seeds of the blocked sketch and the doorkeeper (arbitrary
/// odd constants, fixed forever).
const SEED_A: u64 = 0x243F_6A88_85A3_08D3;
const SEED_B: u64 = 0x1319_8A2E_0370_7345;

/// Two independent 64-bit hashes of `key`: one picks the block, the other
/// the positions inside it.
#[inline]
fn hashes(key: Key) -> (u64, u64) {
    (splitmix(key ^ SEED_A), splitmix(key ^ SEED_B))
}

/// A count-min sketch of 4-bit saturating counters blocked as in Caffeine's
/// library `FrequencySketch`: a key's `DEPTH` counters all lie in one 64-byte
/// block (one cache line), counter `i` in word `2i` or `2i + 1` of the block,
/// so the rows never share a counter and an update or estimate costs one
/// cache miss, not four.
#[derive(Debug, Clone)]
pub(crate) struct BlockedCountMin4 {
    blocks: Vec<Block>,
    shift: u32,
}

/// Eight words of sixteen 4-bit counters, aligned to a cache line.
#[derive(Debug, Clone, Copy, Default)]
#[repr(align(64))]
struct Block([u64; 8]);

impl BlockedCountMin4 {
    /// A sketch of at least `counters` counters in total (a power of two, at
    /// least one block of 128).
    pub(crate) fn new(counters: usize) -> BlockedCountMin4 {
        let blocks = (counters.max(128).next_power_of_two()) / 128;
        BlockedCountMin4 {
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

    /// Halves every counter (integer division: 1 becomes 0); returns how many
    /// were odd.
    pub(crate) fn halve(&mut self) -> u64 {
        self.blocks
            .iter_mut()
            .flat_map(|b| b.0.iter_mut())
            .map(halve_word)
            .sum()
    }

    fn counters(&self) -> u64 {
        128 * self.blocks.len() as u64
    }

    fn heap_bytes(&self) -> usize {
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

/// `java.util.Random`'s generator, the 48-bit linear congruential generator
/// its API documentation specifies (`setSeed`, `next(bits)`), so that the
/// jitter draws the very numbers of Caffeine's simulator, which seeds one
/// with `random-seed` for its `TinyLfu`. Only the 1-in-128 draw is needed.
#[derive(Debug, Clone)]
pub(crate) struct JavaRandom(u64);

impl JavaRandom {
    const MULTIPLIER: u64 = 0x5_DEEC_E66D;
    const MASK: u64 = (1 << 48) - 1;

    /// `new Random(seed)`.
    pub(crate) fn new(seed: u64) -> JavaRandom {
        JavaRandom((seed ^ Self::MULTIPLIER) & Self::MASK)
    }

    /// `next(bits)`: the top `bits` of the next 48-bit state.
    fn next(&mut self, bits: u32) -> u32 {
        self.0 = self.0.wrapping_mul(Self::MULTIPLIER).wrapping_add(0xB) & Self::MASK;
        (self.0 >> (48 - bits)) as u32
    }

    /// `nextFloat() < 1/128`: `nextFloat` is `next(24) / 2^24`, so exactly
    /// `next(24) < 2^17`.
    pub(crate) fn one_in_128(&mut self) -> bool {
        self.next(24) < 1 << 17
    }
}

/// One of the two sketch layouts.
#[derive(Debug, Clone)]
enum Sketch {
    Flat(FlatCountMin4),
    Blocked(BlockedCountMin4),
}

impl Sketch {
    #[inline]
    fn increment(&mut self, key: Key) -> bool {
        match self {
            Sketch::Flat(s) => s.increment(key),
            Sketch::Blocked(s) => s.increment(key),
        }
    }

    #[inline]
    fn estimate(&self, key: Key) -> u8 {
        match self {
            Sketch::Flat(s) => s.estimate(key),
            Sketch::Blocked(s) => s.estimate(key),
        }
    }

    fn halve(&mut self) -> u64 {
        match self {
            Sketch::Flat(s) => s.halve(),
            Sketch::Blocked(s) => s.halve(),
        }
    }

    fn counters(&self) -> u64 {
        match self {
            Sketch::Flat(s) => s.counters(),
            Sketch::Blocked(s) => s.counters(),
        }
    }

    fn heap_bytes(&self) -> usize {
        match self {
            Sketch::Flat(s) => s.heap_bytes(),
            Sketch::Blocked(s) => s.heap_bytes(),
        }
    }
}

/// TinyLFU's frequency histogram and admission test: a 4-bit count-min
/// sketch, optionally behind a doorkeeper, aged by periodic halving (see
/// [`Aging`]), with optional admission jitter. [`TinyLfu::record`] counts one
/// access: with a doorkeeper, a key not yet in it only enters it; otherwise
/// its sketch counters are incremented. A reset halves every counter and
/// clears the doorkeeper.
#[derive(Debug, Clone)]
pub(crate) struct TinyLfu {
    sketch: Sketch,
    door: Option<Doorkeeper>,
    aging: Aging,
    /// Counted events (per [`Aging`]) between resets.
    period: u64,
    /// Counted events since the last reset (less the carry-over).
    count: u64,
    jitter: Option<JavaRandom>,
}

impl TinyLfu {
    /// Sized for a cache of `capacity` entries; `seed` seeds the jitter.
    pub(crate) fn new(capacity: u64, cfg: TinyLfuConfig, seed: u64) -> TinyLfu {
        let capacity = capacity.clamp(1, 1 << 30);
        let counters = cfg
            .counters
            .saturating_mul(capacity)
            .clamp(1, MAX_COUNTERS)
            .next_power_of_two() as usize;
        let sketch = match cfg.layout {
            Layout::Caffeine => Sketch::Flat(FlatCountMin4::new(counters / 16)),
            Layout::Blocked => Sketch::Blocked(BlockedCountMin4::new(counters)),
        };
        let period = match cfg.aging {
            Aging::Changed => 10 * (sketch.counters() / 16),
            Aging::Accesses => 10 * capacity,
        };
        TinyLfu {
            sketch,
            door: cfg
                .doorkeeper
                .then(|| Doorkeeper::new((20 * capacity) as usize)),
            aging: cfg.aging,
            period,
            count: 0,
            jitter: cfg.jitter.then(|| JavaRandom::new(seed)),
        }
    }

    /// Counts one access to `key`, resetting when the period is over.
    #[inline]
    pub(crate) fn record(&mut self, key: Key) {
        // With a doorkeeper, a key's first occurrence only enters it.
        let changed = match &mut self.door {
            Some(d) => d.insert(key) && self.sketch.increment(key),
            None => self.sketch.increment(key),
        };
        if changed || self.aging == Aging::Accesses {
            self.count += 1;
            if self.count >= self.period {
                self.reset();
            }
        }
    }

    /// Estimated frequency: the sketch's count plus one if the doorkeeper
    /// holds the key.
    #[inline]
    pub(crate) fn estimate(&self, key: Key) -> u32 {
        let door = self.door.as_ref().is_some_and(|d| d.contains(key));
        u32::from(self.sketch.estimate(key)) + u32::from(door)
    }

    /// Whether `candidate` should replace `victim`: its estimate is strictly
    /// higher, or (with jitter) it is at least [`JITTER_THRESHOLD`] and a
    /// 1-in-128 draw says so. The draw is made only in that case, as in
    /// Caffeine, so the stream advances identically for a given history.
    #[inline]
    pub(crate) fn admit(&mut self, candidate: Key, victim: Key) -> bool {
        let c = self.estimate(candidate);
        if c > self.estimate(victim) {
            return true;
        }
        match &mut self.jitter {
            Some(rng) if c >= JITTER_THRESHOLD => rng.one_in_128(),
            _ => false,
        }
    }

    /// Halves every counter, clears the doorkeeper and carries part of the
    /// count over (see [`Aging`]).
    pub(crate) fn reset(&mut self) {
        let odd = self.sketch.halve();
        if let Some(d) = &mut self.door {
            d.clear();
        }
        self.count = match self.aging {
            Aging::Changed => self.count.saturating_sub(odd / 4) / 2,
            Aging::Accesses => self.count / 2,
        };
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.sketch.heap_bytes() + self.door.as_ref().map_or(0, Doorkeeper::heap_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn previous() -> TinyLfuConfig {
        TinyLfuConfig {
            layout: Layout::Blocked,
            counters: 4,
            doorkeeper: true,
            aging: Aging::Accesses,
            jitter: false,
        }
    }

    #[test]
    fn counters_saturate_at_15_and_halve() {
        let mut f = FlatCountMin4::new(4);
        let mut b = BlockedCountMin4::new(256);
        for _ in 0..20 {
            f.increment(7);
            b.increment(7);
        }
        assert_eq!((f.estimate(7), b.estimate(7)), (15, 15));
        // Four counters at 15: four odd ones.
        assert_eq!((f.halve(), b.halve()), (4, 4));
        assert_eq!((f.estimate(7), b.estimate(7)), (7, 7));
        f.halve();
        f.halve();
        f.halve();
        assert_eq!(f.estimate(7), 0);
    }

    #[test]
    fn count_min_never_underestimates() {
        let mut f = FlatCountMin4::new(16);
        let mut b = BlockedCountMin4::new(256);
        let mut truth = std::collections::HashMap::new();
        for i in 0..2000u64 {
            let k = splitmix(i) % 300;
            f.increment(k);
            b.increment(k);
            *truth.entry(k).or_insert(0u32) += 1;
        }
        for (k, n) in truth {
            assert!(u32::from(f.estimate(k)) >= n.min(15), "key {k}");
            assert!(u32::from(b.estimate(k)) >= n.min(15), "key {k}");
        }
    }

    /// Java's `x * 31 + w` over the table, as the probe printed it.
    fn java_table_hash(t: &TinyLfu) -> i64 {
        let Sketch::Flat(s) = &t.sketch else {
            panic!("not the Caffeine layout")
        };
        s.table
            .iter()
            .fold(0i64, |x, &w| x.wrapping_mul(31).wrapping_add(w as i64))
    }

    #[test]
    fn caffeine_hash_and_counts_match_its_countmin4() {
        // Printed by Caffeine's own CountMin4 / PeriodicResetCountMin4
        // (ben-manes/caffeine @ ccef9554, maximum-size = 1000, so 1024
        // words): spread(Long.hashCode(key)) & 3 << 2 and indexOf(hash, 0..4).
        // Key 42's spread is negative (sign extension in indexOf); 1 << 32
        // folds onto 1 and -1 onto 0 (Long.hashCode).
        let expected: [(u64, u32, [usize; 4]); 7] = [
            (0, 0, [315, 678, 432, 524]),
            (1, 12, [989, 814, 258, 730]),
            (42, 4, [691, 509, 241, 251]),
            (1 << 32, 12, [989, 814, 258, 730]),
            (u64::MAX, 0, [315, 678, 432, 524]),
            (123_456_789_012_345, 8, [278, 1002, 5, 522]),
            (5, 8, [254, 542, 391, 999]),
        ];
        let s = FlatCountMin4::new(1024);
        for (key, start, idx) in expected {
            let slots = s.slots(key);
            for i in 0..DEPTH {
                assert_eq!(
                    slots[i],
                    (idx[i], (start + i as u32) * 4),
                    "key {key} row {i}"
                );
            }
        }
        // The probe then incremented (k % 3000) * 7919 for k < 20000 (no
        // reset yet), then (k * 2654435761) % 5000 for k < 100000 (resets).
        let mut t = TinyLfu::new(1000, no_jitter(), 1);
        assert_eq!(t.period, 10_240);
        for k in 0..20_000u64 {
            t.record(k % 3000 * 7919);
        }
        assert_eq!(t.count, 8412);
        assert_eq!((t.estimate(0), t.estimate(7919), t.estimate(1)), (3, 6, 0));
        assert_eq!(java_table_hash(&t), -6_570_739_568_557_506_565);
        for k in 0..100_000u64 {
            t.record(k * 2_654_435_761 % 5000);
        }
        assert_eq!((t.count, t.estimate(0)), (5692, 2));
        assert_eq!(java_table_hash(&t), 3_408_113_277_024_772_523);
    }

    #[test]
    fn caffeine_sizing_sixteen_counters_per_entry() {
        for (c, words) in [(1, 1), (100, 128), (128, 128), (129, 256), (1000, 1024)] {
            let t = TinyLfu::new(c, TinyLfuConfig::default(), 1);
            assert_eq!(t.sketch.counters(), 16 * words, "c = {c}");
            assert_eq!(t.period, 10 * words, "c = {c}");
            assert!(t.door.is_none());
        }
        let t = TinyLfu::new(1000, previous(), 1);
        assert_eq!((t.sketch.counters(), t.period), (4096, 10_000));
    }

    fn no_jitter() -> TinyLfuConfig {
        TinyLfuConfig {
            jitter: false,
            ..TinyLfuConfig::default()
        }
    }

    #[test]
    fn only_changing_increments_count_towards_the_reset() {
        // c = 64: 64 words, period 640, not reached here.
        let mut t = TinyLfu::new(64, no_jitter(), 1);
        for _ in 0..20 {
            t.record(3);
        }
        // The first 15 records raised 3's counters; the last 5 changed none.
        assert_eq!((t.estimate(3), t.count), (15, 15));
    }

    #[test]
    fn reset_after_period_with_odd_correction() {
        // c = 1: one word of 16 counters, period 10 changed increments. Key
        // `a`'s counters are nibbles start(a)..start(a)+3 of that word; pick
        // `b` with another start so they share none.
        let start = |k: Key| FlatCountMin4::item(k) & 3;
        let (a, b) = (1, (2..).find(|&k| start(k) != start(1)).unwrap());
        let mut t = TinyLfu::new(1, no_jitter(), 1);
        assert_eq!(t.period, 10);
        for _ in 0..7 {
            t.record(a);
        }
        for _ in 0..2 {
            t.record(b);
        }
        assert_eq!((t.estimate(a), t.estimate(b), t.count), (7, 2, 9));
        // The 10th changed increment resets: a's four counters are 7 and b's
        // 3, all odd (8 odd counters): halved to 3 and 1, and the count
        // restarts at (10 - 8 / 4) / 2 = 4, not 10 / 2 = 5.
        t.record(b);
        assert_eq!((t.estimate(a), t.estimate(b), t.count), (3, 1, 4));
        // Six more changed increments reach the period again.
        for _ in 0..5 {
            t.record(a);
        }
        assert_eq!((t.estimate(a), t.count), (8, 9));
        t.record(a);
        // a: 9 (odd) -> 4, b: 1 (odd) -> 0; (10 - 8 / 4) / 2 = 4.
        assert_eq!((t.estimate(a), t.estimate(b), t.count), (4, 0, 4));
    }

    #[test]
    fn previous_aging_counts_every_access_and_doorkeeper_absorbs_first() {
        let mut t = TinyLfu::new(100, previous(), 1);
        t.record(42);
        assert_eq!(t.estimate(42), 1); // doorkeeper only
        t.record(42);
        t.record(42);
        assert_eq!(t.estimate(42), 3); // 1 (doorkeeper) + 2 (sketch)
        assert_eq!(t.estimate(43), 0);
        assert_eq!(t.count, 3);
        t.reset();
        assert_eq!(t.estimate(42), 1); // 2 / 2, doorkeeper cleared
        assert_eq!(t.count, 1);
        // The period: after 10 x capacity records the counters are halved.
        let mut t = TinyLfu::new(1, previous(), 1);
        for _ in 0..9 {
            t.record(5);
        }
        assert_eq!(t.estimate(5), 9);
        t.record(5); // 10th: sketch 9, then the reset: 9 / 2 = 4, door cleared
        assert_eq!(t.estimate(5), 4);
        assert_eq!(t.count, 5);
    }

    /// A TinyLfu where `hot` has estimate `n` and `cold` 0.
    fn with_estimate(cfg: TinyLfuConfig, seed: u64, hot: Key, n: usize) -> TinyLfu {
        let mut t = TinyLfu::new(1 << 16, cfg, seed);
        for _ in 0..n {
            t.record(hot);
        }
        t
    }

    #[test]
    fn jitter_only_for_warm_losers_about_one_in_128() {
        let cfg = TinyLfuConfig::default();
        // Candidate estimate 5 never wins against an equal victim.
        let mut t = with_estimate(cfg, 1, 1, 5);
        t.record(2);
        t.record(2);
        t.record(2);
        t.record(2);
        t.record(2);
        assert_eq!((t.estimate(1), t.estimate(2)), (5, 5));
        assert!((0..10_000).all(|_| !t.admit(1, 2)));
        // Estimate 6 against 6: about 1 in 128 admitted.
        let mut t = with_estimate(cfg, 1, 1, 6);
        for _ in 0..6 {
            t.record(2);
        }
        let wins = (0..128_000).filter(|_| t.admit(1, 2)).count();
        // Every call draws once: Java's new Random(1) gives 909 of 128000
        // nextFloat() below 1/128.
        assert_eq!(wins, 909);
        // Strictly higher always wins, with or without jitter.
        assert!(t.admit(1, 99));
        // No jitter: never.
        let off = TinyLfuConfig {
            jitter: false,
            ..cfg
        };
        let mut t = with_estimate(off, 1, 1, 6);
        for _ in 0..6 {
            t.record(2);
        }
        assert!((0..10_000).all(|_| !t.admit(1, 2)));
    }

    #[test]
    fn java_random_replays_javas_draws() {
        // new java.util.Random(1033096058): (int) (nextFloat() * 2^24) for
        // the first five draws, and how many of 128000 are below 1/128.
        let mut r = JavaRandom::new(1_033_096_058);
        let first: Vec<u32> = (0..5).map(|_| r.next(24)).collect();
        assert_eq!(
            first,
            [3_190_946, 6_869_743, 2_746_697, 7_796_529, 2_257_577]
        );
        let mut r = JavaRandom::new(1_033_096_058);
        assert_eq!((0..128_000).filter(|_| r.one_in_128()).count(), 977);
    }

    #[test]
    fn jitter_is_deterministic_per_seed() {
        let draws = |seed| {
            let mut t = with_estimate(TinyLfuConfig::default(), seed, 1, 8);
            for _ in 0..8 {
                t.record(2);
            }
            (0..5000).map(|_| t.admit(1, 2)).collect::<Vec<bool>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
    }

    #[test]
    fn deterministic() {
        for cfg in [TinyLfuConfig::default(), previous()] {
            let mut a = TinyLfu::new(50, cfg, 1);
            let mut b = TinyLfu::new(50, cfg, 1);
            for i in 0..3000u64 {
                a.record(splitmix(i) % 97);
                b.record(splitmix(i) % 97);
            }
            for k in 0..97 {
                assert_eq!(a.estimate(k), b.estimate(k));
            }
        }
    }
}
