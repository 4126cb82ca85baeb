//! `write_ratio` / `--write-ratio`: turns a share of a synthetic stream's
//! requests into writes (`set` requests: the origin's value changes, see
//! `sim::freshness`). Each request independently becomes a write with
//! probability `write_ratio`, drawn from its own random stream (derived from
//! the seed), so adding writes never changes which keys are requested.

use crate::request::Op;
use crate::rng::SimRng;

/// The sub-stream of the seed used for write decisions.
const STREAM: u64 = 0x7772_6974_6573;

pub(crate) fn ops(requests: usize, write_ratio: f64, seed: u64) -> Vec<Op> {
    let mut w = Writes::new(write_ratio, seed);
    (0..requests).map(|_| w.next_op()).collect()
}

/// The write decisions of a stream, one request at a time (the same as
/// [`ops`] gives at once).
pub(crate) struct Writes {
    rng: SimRng,
    ratio: f64,
}

impl Writes {
    pub(crate) fn new(write_ratio: f64, seed: u64) -> Writes {
        Writes {
            rng: SimRng::derive(seed, STREAM),
            ratio: write_ratio,
        }
    }

    /// The next request's operation.
    #[inline]
    pub(crate) fn next_op(&mut self) -> Op {
        if self.rng.f64() < self.ratio {
            Op::Set
        } else {
            Op::Get
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn share_of_writes() {
        let ops = super::ops(100_000, 0.05, 3);
        let w = ops
            .iter()
            .filter(|&&o| o == crate::request::Op::Set)
            .count();
        assert!((w as f64 / 1e5 - 0.05).abs() < 0.003, "{w}");
    }
}
