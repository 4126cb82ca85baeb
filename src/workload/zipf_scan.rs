//! `zipf-scan`: Zipf(alpha) over `n` keys, interrupted after every
//! `scan_every` Zipf requests by a one-off scan of `scan_length` keys never
//! seen before or again (ids `n, n+1, ...`, each scan new ones). A scan longer
//! than the cache flushes LRU's hot set, while scan-resistant policies keep
//! it. `requests` counts scan requests too (the stream is cut at `requests`).

use super::scramble::Scramble;
use super::zipf::{zipf_weights, KeySampler};
use crate::rng::SimRng;

pub(crate) fn generate(
    n: u64,
    alpha: f64,
    scan_every: u64,
    scan_length: u64,
    requests: u64,
    seed: u64,
) -> Vec<u64> {
    let sampler = KeySampler::new(&zipf_weights(n, alpha), &Scramble::new(n).table());
    let mut rng = SimRng::new(seed);
    let mut out = Vec::with_capacity(requests as usize);
    let mut next_new = n;
    let mut since = 0u64;
    while (out.len() as u64) < requests {
        if since == scan_every.max(1) {
            since = 0;
            for _ in 0..scan_length.min(requests - out.len() as u64) {
                out.push(next_new);
                next_new += 1;
            }
            continue;
        }
        out.push(sampler.sample(&mut rng));
        since += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn scans_are_periodic_and_never_repeat() {
        let keys = super::generate(100, 1.0, 10, 5, 43, 1);
        assert_eq!(keys.len(), 43);
        assert!(keys[..10].iter().all(|&k| k < 100));
        assert_eq!(&keys[10..15], &[100, 101, 102, 103, 104]);
        assert!(keys[15..25].iter().all(|&k| k < 100));
        assert_eq!(&keys[25..30], &[105, 106, 107, 108, 109]);
        assert!(keys[30..40].iter().all(|&k| k < 100));
        // The stream is cut in the middle of the third scan.
        assert_eq!(&keys[40..43], &[110, 111, 112]);
    }
}
