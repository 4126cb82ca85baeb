//! `scan`: a sequential loop over the key space, `0, 1, ..., n-1, 0, 1, ...`.
//! Deterministic (the seed is unused). Any recency policy with c < n gets zero
//! hits; it is the workload that shows why scan resistance matters.

pub(crate) fn generate(n: u64, requests: u64) -> Vec<u64> {
    (0..requests).map(|i| i % n).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn loops() {
        assert_eq!(super::generate(3, 7), vec![0, 1, 2, 0, 1, 2, 0]);
    }
}
