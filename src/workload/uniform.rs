//! `uniform`: every one of `n` keys equally likely, independently per request.
//! The worst case for any cache: the hit ratio of every policy is about c / n.

use crate::rng::SimRng;

pub(crate) fn generate(n: u64, requests: u64, seed: u64) -> Vec<u64> {
    let mut rng = SimRng::new(seed);
    (0..requests).map(|_| rng.below(n)).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn covers_the_key_space_evenly() {
        let keys = super::generate(4, 40_000, 1);
        let mut c = [0u32; 4];
        keys.iter().for_each(|&k| c[k as usize] += 1);
        assert!(c.iter().all(|&x| (9_500..10_500).contains(&x)), "{c:?}");
    }
}
