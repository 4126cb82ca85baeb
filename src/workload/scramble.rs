//! The fixed bijection from popularity rank to key id used by the synthetic
//! generators, so that hot keys are not neighbours (a real key space does not
//! sort by popularity, and neighbouring ids would flatter any policy or hash
//! that groups adjacent keys).
//!
//! On the smallest power-of-two domain `2^k >= n`, the map `x -> (x + c)`,
//! multiply by an odd constant, xor-shift, multiply, xor-shift (each step a
//! bijection modulo `2^k`) is applied and repeated while the result is `>= n`
//! ("cycle walking"), which yields a bijection on `[0, n)`. It depends only on
//! `n`, never on the seed: the same rank is the same key in every run.

/// Maps ranks in `[0, n)` to keys in `[0, n)`, bijectively.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scramble {
    n: u64,
    mask: u64,
    shift: u32,
}

impl Scramble {
    pub(crate) fn new(n: u64) -> Scramble {
        let n = n.max(1);
        let bits = 64 - (n - 1).leading_zeros().min(63);
        let bits = bits.max(1);
        let mask = if bits >= 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        Scramble {
            n,
            mask,
            shift: bits.div_ceil(2).max(1),
        }
    }

    #[inline]
    fn round(&self, mut x: u64) -> u64 {
        x = x.wrapping_add(0x2545_F491_4F6C_DD1D) & self.mask;
        x = x.wrapping_mul(0x9E37_79B9_7F4A_7C15) & self.mask;
        x ^= x >> self.shift;
        x = x.wrapping_mul(0xD6E8_FEB8_6659_FD93) & self.mask;
        x ^= x >> self.shift;
        x
    }

    /// The key of popularity rank `rank` (0 = most popular).
    #[inline]
    pub(crate) fn key(&self, rank: u64) -> u64 {
        debug_assert!(rank < self.n);
        let mut x = self.round(rank);
        while x >= self.n {
            x = self.round(x);
        }
        x
    }

    /// The whole table, rank -> key.
    pub(crate) fn table(&self) -> Vec<u64> {
        (0..self.n).map(|r| self.key(r)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_a_bijection_that_separates_neighbours() {
        for n in [1u64, 2, 3, 10, 1000, 4096, 4097] {
            let t = Scramble::new(n).table();
            let mut seen = vec![false; n as usize];
            for &k in &t {
                assert!(k < n);
                assert!(!seen[k as usize], "collision at n={n}");
                seen[k as usize] = true;
            }
        }
        let t = Scramble::new(1000).table();
        let adjacent = t.windows(2).filter(|w| w[0].abs_diff(w[1]) == 1).count();
        assert!(adjacent < 10, "{adjacent} hot neighbours");
    }
}
