//! `zipf-shift`: Zipf(alpha) over `n` keys whose popular set moves: every
//! `shift_every` requests the ranking rotates by `shift_by` ranks, so in phase
//! `p` (requests `p * shift_every ..`) popularity rank `r` is the key of rank
//! `(r + p * shift_by) mod n` of phase 0 (through the usual scramble). With
//! `shift_by` at least the cache size, the whole hot set is replaced by keys
//! that were cold: a frequency policy (LFU) stays stuck on the old favourites
//! while a recency policy (LRU) follows the shift.

use super::scramble::Scramble;
use super::zipf::{zipf_weights, AliasTable};
use crate::rng::SimRng;

pub(crate) fn generate(
    n: u64,
    alpha: f64,
    shift_every: u64,
    shift_by: u64,
    requests: u64,
    seed: u64,
) -> Vec<u64> {
    let table = AliasTable::new(&zipf_weights(n, alpha));
    let scr = Scramble::new(n);
    let mut rng = SimRng::new(seed);
    let shift_every = shift_every.max(1);
    (0..requests)
        .map(|i| {
            let offset = ((i / shift_every) % n).wrapping_mul(shift_by % n) % n;
            let rank = table.sample(&mut rng) as u64;
            scr.key((rank + offset) % n)
        })
        .collect()
}

/// The `k` most popular keys at the start (phase 0), most popular first.
pub(crate) fn popular(n: u64, k: u64) -> Vec<u64> {
    let scr = Scramble::new(n);
    (0..k.min(n)).map(|r| scr.key(r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hot_key_moves_every_phase() {
        let n = 1000;
        let keys = generate(n, 1.2, 10_000, 100, 30_000, 1);
        let scr = Scramble::new(n);
        for phase in 0..3u64 {
            let hot = scr.key(phase * 100);
            let part = &keys[(phase * 10_000) as usize..((phase + 1) * 10_000) as usize];
            let share = part.iter().filter(|&&k| k == hot).count() as f64 / 1e4;
            // Rank 1 of Zipf(1.2) over 1000 keys: about 0.22.
            assert!(share > 0.18, "phase {phase}: {share}");
            if phase > 0 {
                let old = scr.key((phase - 1) * 100);
                let old_share = part.iter().filter(|&&k| k == old).count() as f64 / 1e4;
                assert!(old_share < 0.01, "phase {phase}: old hot key {old_share}");
            }
        }
    }
}
