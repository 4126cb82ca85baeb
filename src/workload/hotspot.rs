//! `hotspot`: a fraction `hot_keys` of the keys receives a fraction
//! `hot_requests` of the requests (uniformly within the hot set and within the
//! cold set), as YCSB's hotspot distribution. With 0.2 / 0.8 it is the "80/20
//! rule". Hot ranks are the first `ceil(hot_keys * n)`; keys are scrambled.

use super::scramble::Scramble;
use crate::rng::SimRng;

pub(crate) fn generate(
    n: u64,
    hot_keys: f64,
    hot_requests: f64,
    requests: u64,
    seed: u64,
) -> Vec<u64> {
    let hot = ((hot_keys * n as f64).ceil() as u64).clamp(1, n);
    let cold = n - hot;
    let scr = Scramble::new(n);
    let mut rng = SimRng::new(seed);
    (0..requests)
        .map(|_| {
            let rank = if cold == 0 || rng.f64() < hot_requests {
                rng.below(hot)
            } else {
                hot + rng.below(cold)
            };
            scr.key(rank)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hot_set_gets_its_share() {
        let n = 1000;
        let keys = generate(n, 0.2, 0.8, 100_000, 5);
        let scr = Scramble::new(n);
        let hot: std::collections::HashSet<u64> = (0..200).map(|r| scr.key(r)).collect();
        let share = keys.iter().filter(|k| hot.contains(k)).count() as f64 / 1e5;
        assert!((share - 0.8).abs() < 0.01, "{share}");
    }
}
