//! `zipf`: independent requests (the IRM) where the key of popularity rank `r`
//! (1-based) is requested with probability `r^-alpha / H(n, alpha)`, exactly,
//! for any `alpha >= 0` (alpha = 0 is uniform; alpha = 1 included).
//!
//! Up to [`FLAT_ABOVE`] keys, sampling uses Vose's alias method over the `n`
//! exact probabilities: O(n) to build, then O(1) per request (one table
//! probe, two random words), so the generator runs at well over 50M
//! requests/s and never limits a replay. Above it the table would cost 24
//! bytes a key (20M keys: 1 GB and seconds before the first request), so
//! sampling switches to rejection-inversion (Hörmann & Derflinger, "Rejection-
//! inversion to generate variates from monotone discrete distributions",
//! ACM TOMACS 1996): exact as well, constant memory, a few logarithms per
//! request, for 10^8 to 10^10 keys. Which one a run used is recorded in the
//! `zipf_sampler` column ([`sampler_name`]), so seeded runs stay reproducible.
//! Ranks become keys through [`super::scramble::Scramble`], which is O(1) per
//! key and needs no table.

use super::scramble::Scramble;
use crate::rng::SimRng;

/// An alias table over `n` outcomes.
#[derive(Debug, Clone)]
pub(crate) struct AliasTable {
    /// Probability (scaled to `u64`) of keeping column `i` rather than its alias.
    keep: Vec<u64>,
    alias: Vec<u32>,
}

impl AliasTable {
    /// Builds the table for weights `w` (non-negative, not all zero).
    pub(crate) fn new(w: &[f64]) -> AliasTable {
        let n = w.len();
        assert!(n > 0 && n < u32::MAX as usize);
        let total: f64 = w.iter().sum();
        let mut scaled: Vec<f64> = w.iter().map(|x| x * n as f64 / total).collect();
        let mut keep = vec![u64::MAX; n];
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n as u32).partition(|&i| scaled[i as usize] < 1.0);
        while let (Some(s), Some(&l)) = (small.pop(), large.last()) {
            let p = scaled[s as usize];
            keep[s as usize] = to_threshold(p);
            alias[s as usize] = l;
            scaled[l as usize] -= 1.0 - p;
            if scaled[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left is 1 up to rounding: always keep.
        AliasTable { keep, alias }
    }

    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> usize {
        let i = rng.below(self.keep.len() as u64) as usize;
        if rng.next_u64() < self.keep[i] {
            i
        } else {
            self.alias[i] as usize
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keep.len()
    }
}

fn to_threshold(p: f64) -> u64 {
    if p >= 1.0 {
        u64::MAX
    } else {
        (p * 18_446_744_073_709_551_616.0) as u64
    }
}

/// The exact Zipf probabilities of ranks 1..=n.
pub fn zipf_weights(n: u64, alpha: f64) -> Vec<f64> {
    (1..=n).map(|r| (r as f64).powf(-alpha)).collect()
}

/// An alias table whose columns carry their keys: one slot read (one cache
/// line) per sample, however large the key space.
#[derive(Debug, Clone)]
pub(crate) struct KeySampler {
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    keep: u64,
    key: u64,
    alias_key: u64,
}

impl KeySampler {
    /// `keys[i]` is drawn with probability proportional to `w[i]`.
    pub(crate) fn new(w: &[f64], keys: &[u64]) -> KeySampler {
        let t = AliasTable::new(w);
        let slots = (0..t.len())
            .map(|i| Slot {
                keep: t.keep[i],
                key: keys[i],
                alias_key: keys[t.alias[i] as usize],
            })
            .collect();
        KeySampler { slots }
    }

    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> u64 {
        let s = &self.slots[rng.below(self.slots.len() as u64) as usize];
        if rng.next_u64() < s.keep {
            s.key
        } else {
            s.alias_key
        }
    }
}

/// Key spaces larger than this are sampled by rejection-inversion in
/// constant memory; smaller ones through an alias table.
pub const FLAT_ABOVE: u64 = 4_000_000;

/// The sampler a Zipf workload over `n` keys uses: `alias` or
/// `rejection-inversion` (the `zipf_sampler` column).
pub fn sampler_name(n: u64) -> &'static str {
    if n > FLAT_ABOVE {
        "rejection-inversion"
    } else {
        "alias"
    }
}

/// Zipf(alpha) over ranks 1..=n by rejection-inversion (Hörmann &
/// Derflinger 1996), for alpha > 0: a continuous hat `h(x) = x^-alpha` is
/// inverted at a uniform point of its integral, the result rounded to a
/// rank and accepted when it falls under the rank's own share (nearly
/// always: the expected number of tries is close to 1).
#[derive(Debug, Clone)]
pub(crate) struct RejectionInversion {
    n: u64,
    alpha: f64,
    h_int_x1: f64,
    h_int_n: f64,
    s: f64,
}

/// `ln(1 + x) / x`, accurate near 0.
fn log1p_over(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.ln_1p() / x
    } else {
        1.0 - x * (0.5 - x * (1.0 / 3.0 - 0.25 * x))
    }
}

/// `(e^x - 1) / x`, accurate near 0.
fn expm1_over(x: f64) -> f64 {
    if x.abs() > 1e-8 {
        x.exp_m1() / x
    } else {
        1.0 + x * 0.5 * (1.0 + x / 3.0 * (1.0 + 0.25 * x))
    }
}

impl RejectionInversion {
    pub(crate) fn new(n: u64, alpha: f64) -> RejectionInversion {
        let mut r = RejectionInversion {
            n,
            alpha,
            h_int_x1: 0.0,
            h_int_n: 0.0,
            s: 0.0,
        };
        r.h_int_x1 = r.h_integral(1.5) - 1.0;
        r.h_int_n = r.h_integral(n as f64 + 0.5);
        r.s = 2.0 - r.h_integral_inverse(r.h_integral(2.5) - r.h(2.0));
        r
    }

    /// The hat: `x^-alpha`.
    fn h(&self, x: f64) -> f64 {
        (-self.alpha * x.ln()).exp()
    }

    /// A primitive of the hat: `(x^(1-alpha) - 1) / (1 - alpha)` (`ln x` at
    /// alpha = 1), written to stay accurate near alpha = 1.
    fn h_integral(&self, x: f64) -> f64 {
        let log_x = x.ln();
        expm1_over((1.0 - self.alpha) * log_x) * log_x
    }

    fn h_integral_inverse(&self, x: f64) -> f64 {
        let t = (x * (1.0 - self.alpha)).max(-1.0);
        (log1p_over(t) * x).exp()
    }

    /// A rank in 1..=n.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut SimRng) -> u64 {
        loop {
            let u = self.h_int_n + rng.f64() * (self.h_int_x1 - self.h_int_n);
            let x = self.h_integral_inverse(u);
            let k = ((x + 0.5) as u64).clamp(1, self.n);
            let kf = k as f64;
            if kf - x <= self.s || u >= self.h_integral(kf + 0.5) - self.h(kf) {
                return k;
            }
        }
    }
}

/// A Zipf key stream that can be drawn in pieces: the same keys, in the
/// same order, as [`generate`] gives at once.
#[derive(Debug, Clone)]
pub struct ZipfStream {
    sampler: Sampler,
    rng: SimRng,
}

#[derive(Debug, Clone)]
enum Sampler {
    Alias(KeySampler),
    Flat(RejectionInversion, Scramble),
    Uniform(u64, Scramble),
}

impl ZipfStream {
    /// Zipf(`alpha`) over `n` keys from `seed`: an alias table up to
    /// [`FLAT_ABOVE`] keys, rejection-inversion above.
    pub fn new(n: u64, alpha: f64, seed: u64) -> ZipfStream {
        let sampler = if n <= FLAT_ABOVE {
            Sampler::Alias(KeySampler::new(
                &zipf_weights(n, alpha),
                &Scramble::new(n).table(),
            ))
        } else if alpha == 0.0 {
            Sampler::Uniform(n, Scramble::new(n))
        } else {
            Sampler::Flat(RejectionInversion::new(n, alpha), Scramble::new(n))
        };
        ZipfStream {
            sampler,
            rng: SimRng::new(seed),
        }
    }

    /// The next key.
    #[inline]
    pub fn next_key(&mut self) -> u64 {
        match &self.sampler {
            Sampler::Alias(s) => s.sample(&mut self.rng),
            Sampler::Flat(r, scr) => scr.key(r.sample(&mut self.rng) - 1),
            Sampler::Uniform(n, scr) => scr.key(self.rng.below(*n)),
        }
    }
}

/// Generates `requests` keys of Zipf(`alpha`) over `n` keys.
pub fn generate(n: u64, alpha: f64, requests: u64, seed: u64) -> Vec<u64> {
    let mut z = ZipfStream::new(n, alpha, seed);
    (0..requests).map(|_| z.next_key()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_follow_the_exact_law() {
        let n = 100u64;
        let alpha = 1.0;
        let reqs = 400_000u64;
        let keys = generate(n, alpha, reqs, 7);
        let scr = Scramble::new(n);
        let w = zipf_weights(n, alpha);
        let h: f64 = w.iter().sum();
        let mut counts = vec![0u64; n as usize];
        for k in keys {
            counts[k as usize] += 1;
        }
        for rank in [0usize, 1, 9, 99] {
            let p = w[rank] / h;
            let got = counts[scr.key(rank as u64) as usize] as f64 / reqs as f64;
            let sd = (p * (1.0 - p) / reqs as f64).sqrt();
            assert!((got - p).abs() < 5.0 * sd, "rank {rank}: {got} vs {p}");
        }
    }

    #[test]
    fn alpha_zero_is_uniform_and_alpha_three_is_steep() {
        let keys = generate(10, 0.0, 100_000, 1);
        let mut c = [0u32; 10];
        keys.iter().for_each(|&k| c[k as usize] += 1);
        assert!(c.iter().all(|&x| (9_000..11_000).contains(&x)), "{c:?}");
        let hot = Scramble::new(1000).key(0);
        let keys = generate(1000, 3.0, 100_000, 1);
        let share = keys.iter().filter(|&&k| k == hot).count() as f64 / 1e5;
        // 1 / zeta(3) = 0.8319...
        assert!((share - 0.8319).abs() < 0.01, "{share}");
    }

    /// Counts of the top ranks of `draws` rank samples, against the exact
    /// law within 5 standard deviations.
    fn check_ranks(n: u64, alpha: f64, draws: u64) {
        let ri = RejectionInversion::new(n, alpha);
        let mut rng = SimRng::new(11);
        let mut counts = vec![0u64; 200];
        let mut tail = 0u64;
        for _ in 0..draws {
            let k = ri.sample(&mut rng);
            assert!((1..=n).contains(&k));
            match counts.get_mut(k as usize - 1) {
                Some(c) => *c += 1,
                None => tail += 1,
            }
        }
        let h: f64 = (1..=n).map(|r| (r as f64).powf(-alpha)).sum();
        for r in [1u64, 2, 3, 10, 50, 200] {
            let p = (r as f64).powf(-alpha) / h;
            let got = counts[r as usize - 1] as f64 / draws as f64;
            let sd = (p * (1.0 - p) / draws as f64).sqrt();
            assert!(
                (got - p).abs() < 5.0 * sd,
                "n {n} alpha {alpha} rank {r}: {got} vs {p}"
            );
        }
        let p_tail = 1.0 - (1..=200).map(|r| (r as f64).powf(-alpha)).sum::<f64>() / h;
        let sd = (p_tail * (1.0 - p_tail) / draws as f64).sqrt();
        let got = tail as f64 / draws as f64;
        assert!(
            (got - p_tail).abs() < 5.0 * sd + 1e-9,
            "tail {got} vs {p_tail}"
        );
    }

    #[test]
    fn rejection_inversion_follows_the_exact_law() {
        for alpha in [0.5, 0.99, 1.0, 1.01, 1.5, 3.0] {
            check_ranks(1000, alpha, 400_000);
        }
        check_ranks(2_000_000, 0.8, 400_000);
        // A billion keys, in constant memory.
        let ri = RejectionInversion::new(1_000_000_000, 1.0);
        let mut rng = SimRng::new(1);
        let top = (0..200_000).filter(|_| ri.sample(&mut rng) == 1).count() as f64 / 2e5;
        // 1 / H(1e9) with H(n) ~ ln n + 0.5772: 0.0470.
        assert!((top - 1.0 / (1e9f64.ln() + 0.5772)).abs() < 0.003, "{top}");
    }

    #[test]
    fn above_the_threshold_the_stream_is_flat_and_seeded() {
        assert_eq!(sampler_name(FLAT_ABOVE), "alias");
        assert_eq!(sampler_name(FLAT_ABOVE + 1), "rejection-inversion");
        let n = 10_000_000_000;
        let a = generate(n, 0.9, 1000, 3);
        assert_eq!(a, generate(n, 0.9, 1000, 3));
        assert!(a.iter().all(|&k| k < n));
        let hot = Scramble::new(n).key(0);
        assert!(a.contains(&hot), "the most popular key shows up");
        let u = generate(n, 0.0, 1000, 3);
        assert!(u.iter().all(|&k| k < n) && u != a);
    }

    #[test]
    fn same_seed_same_stream() {
        assert_eq!(generate(1000, 0.9, 1000, 3), generate(1000, 0.9, 1000, 3));
        assert_ne!(generate(1000, 0.9, 1000, 3), generate(1000, 0.9, 1000, 4));
    }
}
