//! The future of a request stream, for offline policies (Belady): for every
//! request, the position of the next request for the same key.
//!
//! One backward pass over the keys with a hash map from key to the position
//! where it was last seen (i.e. the nearest one in the future). The runner
//! computes it once per workload and shares it between runs.

use crate::request::Key;
use rustc_hash::FxHashMap;

/// Marks "never requested again" in a next-use array.
pub const NEVER: u64 = u64::MAX;

/// `next_use(keys)[i]` is the smallest `j > i` with `keys[j] == keys[i]`, or
/// [`NEVER`] when there is none.
pub fn next_use(keys: &[Key]) -> Vec<u64> {
    let mut out = vec![NEVER; keys.len()];
    let mut seen: FxHashMap<Key, u64> =
        FxHashMap::with_capacity_and_hasher(keys.len().min(1 << 22) / 4, Default::default());
    for i in (0..keys.len()).rev() {
        if let Some(j) = seen.insert(keys[i], i as u64) {
            out[i] = j;
        }
    }
    out
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
    }
}
