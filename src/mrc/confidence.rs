//! When a SHARDS curve can be trusted: the rule behind `cachesim mrc`'s
//! warnings and refusal.
//!
//! A sampled curve at rate `R` is the exact curve of the sampled stream,
//! with distances scaled by `1/R`. Its point at capacity `C` is decided by
//! how the sampled stream behaves in a cache of `C * R` objects, the
//! *scaled capacity*, and all of it by the sampled keys (the distinct keys
//! whose hash passed the threshold, the `sampled_keys` column). Neither
//! needs the exact curve to compute, and the error follows both:
//!
//! - a point with `C * R` < [`MIN_SCALED`] (32) draws a **warning**: it
//!   rests on fewer than 32 sampled objects (below 1 it is a guess from
//!   less than one object);
//! - a curve whose sample holds fewer than [`WARN_KEYS`] (100) keys draws a
//!   **warning** for every point: even its large capacities are rough;
//! - a sample of fewer than [`REFUSE_KEYS`] (10) keys is **refused** (a
//!   usage error, nothing written): every point of such a curve lies below
//!   `C * R` = 10, and its typical error is as large as the effects one
//!   reads a curve for.
//!
//! A curve whose rate is 1 (the sample is the whole workload, as fixed-size
//! SHARDS is until it holds more keys than its size) is exact and passes.
//!
//! The thresholds come from `examples/shards_error.rs`: 20 traces (all 13
//! LIRS traces with 751 to 9,939 keys, cache2k web07, web12 and orm-busy,
//! both CloudPhysics traces, OLTP, Scarab; up to 275k keys), rates 0.001 to
//! 0.1, 8 members of the sampling hash family each, every point of the
//! default 64-point grid: the absolute hit-ratio error of SHARDS-adj (the
//! default) against the exact curve.
//!
//! | scaled capacity `C * R` | points | median | p95 | max |
//! |---|---:|---:|---:|---:|
//! | [0, 1) | 28,664 | 0.128 | 0.819 | 0.999 |
//! | [1, 2) | 5,504 | 0.042 | 0.335 | 0.998 |
//! | [2, 4) | 5,136 | 0.032 | 0.199 | 0.970 |
//! | [4, 8) | 4,768 | 0.022 | 0.137 | 0.998 |
//! | [8, 16) | 4,240 | 0.014 | 0.093 | 0.998 |
//! | [16, 32) | 3,584 | 0.010 | 0.067 | 0.998 |
//! | [32, 64) | 3,024 | 0.006 | 0.049 | 0.998 |
//! | [64, 128) | 2,400 | 0.004 | 0.037 | 0.960 |
//! | [128, inf) | 5,288 | 0.002 | 0.018 | 0.236 |
//!
//! | sampled keys | points (all) | median | p95 | p95 where `C * R` >= 32 |
//! |---|---:|---:|---:|---:|
//! | [0, 10) | 11,440 | 0.160 | 0.935 | (none: every point is below) |
//! | [10, 25) | 8,066 | 0.046 | 0.572 | (none) |
//! | [25, 50) | 6,105 | 0.036 | 0.474 | 0.194 |
//! | [50, 100) | 6,392 | 0.020 | 0.405 | 0.080 |
//! | [100, 200) | 7,124 | 0.015 | 0.292 | 0.023 |
//! | [200, 400) | 6,808 | 0.016 | 0.312 | 0.029 |
//! | [400, 800) | 4,742 | 0.026 | 0.282 | 0.073 |
//! | [800, 1600) | 3,819 | 0.021 | 0.259 | 0.030 |
//! | [1600, inf) | 8,112 | 0.010 | 0.169 | 0.027 |
//!
//! The error falls steadily with the scaled capacity; 32 is where its 95th
//! percentile drops under 0.05. With enough scaled capacity, samples of 100
//! keys and more do about equally well (p95 0.02 to 0.07) and smaller ones
//! markedly worse (0.08 and 0.19). The maxima near 1 are cliffs (LIRS
//! `loop`, `scan`, `zigzag`: the whole curve drops at one capacity, and a
//! sample that puts the drop a little off is wrong by the full height
//! between); no threshold removes them. A 1% sample of a workload of about
//! 4,300 keys (`-w zipf --keys 4356 --requests 100k`: 44 sampled keys,
//! off by 0.15 at c = 10 and 0.44 at c = 100) warns on both counts; a 0.1%
//! sample of it (5 keys) is refused.

use super::Curve;

/// Points whose scaled capacity `C * R` is below this draw a warning.
pub const MIN_SCALED: f64 = 32.0;
/// A sample with fewer keys than this makes the whole curve rough: warning.
pub const WARN_KEYS: u64 = 100;
/// A sample with fewer keys than this is refused.
pub const REFUSE_KEYS: u64 = 10;

/// What the rule says about one curve.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Every point rests on enough sampled objects (or the curve is exact).
    Fine,
    /// Some points (or all) are rough: the message says which and why.
    Warn(String),
    /// The curve is noise: the message names the option and what to do.
    Refuse {
        /// The option that chose the sample (`--sample`, `--sample-size`).
        option: &'static str,
        /// Why, and what to use instead.
        msg: String,
    },
}

/// The option that chose a sampled curve's sample.
fn option(curve: &Curve) -> &'static str {
    if curve.method == super::Method::FixedSize(0).name() {
        "--sample-size"
    } else {
        "--sample"
    }
}

/// What to use instead of the sample `option` chose, for a workload of
/// `distinct` keys.
fn advice(option: &str, distinct: u64) -> String {
    if option == "--sample-size" {
        return format!(
            "use --sample-size {WARN_KEYS} or more, or the exact curve (leave out --sample-size)"
        );
    }
    let rate = WARN_KEYS as f64 / distinct.max(1) as f64;
    if rate >= 0.5 {
        return format!(
            "use the exact curve (leave out --sample): the workload has only {distinct} keys"
        );
    }
    // Rounded up to 2 significant digits, in percent.
    format!(
        "use --sample {} or more (about {WARN_KEYS} keys of {distinct}), --sample-size, or the exact curve (leave out --sample)",
        percent_up(rate)
    )
}

/// `rate` in percent, rounded up to 2 significant digits (`2.3%`).
fn percent_up(rate: f64) -> String {
    let pct = rate * 100.0;
    let step = 10f64.powf(pct.log10().floor() - 1.0);
    format!("{}%", trim((pct / step).ceil() * step))
}

/// `capacity 5` or `capacities 1..5 (3 of 9 points)`, for the `low` points
/// of `total`.
fn range_text(low: &[u64], total: usize) -> String {
    let lo = low.iter().min().copied().unwrap_or(0);
    let hi = low.iter().max().copied().unwrap_or(0);
    let range = if lo == hi {
        format!("capacity {lo}")
    } else {
        format!("capacities {lo}..{hi}")
    };
    format!("{range} ({} of {total} points)", low.len())
}

/// `the <what> of 'label' (--sample: rate R) holds N keys`.
fn holds(what: &str, label: &str, rate: &str, keys: u64) -> String {
    format!(
        "the {what} of '{label}' ({rate}) holds {keys} key{}",
        if keys == 1 { "" } else { "s" }
    )
}

/// Judges mini-simulations (`super::minisim`) of `label`, a workload of
/// `distinct` keys, sampled at rate `r` into a sample of `keys` keys, at
/// `capacities`: refused, as SHARDS, when the sample holds fewer than
/// [`REFUSE_KEYS`] keys; a warning naming the capacities whose scaled
/// capacity `round(C * r)` holds fewer than
/// [`super::minisim::MIN_SCALED_OBJECTS`] objects.
pub fn judge_minisim(r: f64, keys: u64, capacities: &[u64], distinct: u64, label: &str) -> Verdict {
    use super::minisim::{scaled_capacity, MIN_SCALED_OBJECTS};
    if r >= 1.0 {
        return Verdict::Fine;
    }
    let what = holds(
        "mini-simulation sample",
        label,
        &format!("--sample: rate {}", trim(r)),
        keys,
    );
    if keys < REFUSE_KEYS {
        return Verdict::Refuse {
            option: "--sample",
            msg: format!(
                "{what}, fewer than {REFUSE_KEYS}: every point would be noise; {}",
                advice("--sample", distinct)
            ),
        };
    }
    let low: Vec<u64> = capacities
        .iter()
        .copied()
        .filter(|&c| scaled_capacity(c, r) < MIN_SCALED_OBJECTS)
        .collect();
    let Some(&smallest) = low.iter().min() else {
        return Verdict::Fine;
    };
    let fix = if (MIN_SCALED_OBJECTS as f64 / smallest as f64) < 0.5 {
        format!(
            "--sample {} or more, or ",
            percent_up(MIN_SCALED_OBJECTS as f64 / smallest as f64)
        )
    } else {
        String::new()
    };
    Verdict::Warn(format!(
        "{what}; {} run at fewer than {MIN_SCALED_OBJECTS} objects (column scaled_capacity = round(capacity x rate)) and are rough; for accurate points use {fix}full simulations (leave out --sample)",
        range_text(&low, capacities.len())
    ))
}

fn trim(x: f64) -> String {
    let s = format!("{x:.6}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Judges `curve`, reported at `capacities` (in objects), for a workload
/// of `distinct` keys named `label`. See the module documentation.
pub fn judge(curve: &Curve, capacities: &[u64], distinct: u64, label: &str) -> Verdict {
    let r = curve.sample_rate;
    if r >= 1.0 {
        return Verdict::Fine;
    }
    let keys = curve.sampled_keys;
    let rate = if option(curve) == "--sample" {
        format!("--sample: rate {}", trim(r))
    } else {
        format!("--sample-size: final rate {}", trim(r))
    };
    let what = holds("SHARDS sample", label, &rate, keys);
    if keys < REFUSE_KEYS {
        return Verdict::Refuse {
            option: option(curve),
            msg: format!(
                "{what}, fewer than {REFUSE_KEYS}: every point of its curve would be noise; {}",
                advice(option(curve), distinct)
            ),
        };
    }
    let low: Vec<u64> = capacities
        .iter()
        .copied()
        .filter(|&c| (c as f64) * r < MIN_SCALED)
        .collect();
    let few = keys < WARN_KEYS;
    if low.is_empty() && !few {
        return Verdict::Fine;
    }
    let mut parts = Vec::new();
    if few {
        parts.push(format!(
            "{what}, fewer than {WARN_KEYS}: every point is rough"
        ));
    }
    if !low.is_empty() {
        let head = if few {
            String::new()
        } else {
            format!("{what}; ")
        };
        parts.push(format!(
            "{head}{} rest on fewer than {MIN_SCALED} sampled objects (capacity x rate; below capacity {} on less than one)",
            range_text(&low, capacities.len()),
            trim((1.0 / r).round())
        ));
    }
    Verdict::Warn(format!(
        "{}; for accurate points {}",
        parts.join("; "),
        advice(option(curve), distinct)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrc::mattson::Histogram;
    use crate::mrc::sampled_curve;

    fn curve(rate: f64, keys: u64) -> Curve {
        let mut h = Histogram::default();
        for _ in 0..keys {
            h.record(None);
        }
        let mut c = sampled_curve(&h, 1_000_000, rate, keys as usize, true);
        c.sampled_keys = keys;
        c
    }

    #[test]
    fn well_sampled_curves_pass() {
        let c = curve(0.01, 5_000);
        assert_eq!(
            judge(&c, &[3_200, 10_000, 500_000], 500_000, "t"),
            Verdict::Fine
        );
        // Rate 1 is exact, however small.
        assert_eq!(judge(&curve(1.0, 3), &[1, 2, 3], 3, "t"), Verdict::Fine);
    }

    #[test]
    fn small_scaled_capacities_warn_with_their_range() {
        let c = curve(0.01, 5_000);
        let Verdict::Warn(w) = judge(&c, &[1, 100, 3_199, 3_200, 10_000], 500_000, "t") else {
            panic!("no warning")
        };
        assert!(w.contains("capacities 1..3199 (3 of 5 points)"), "{w}");
        assert!(!w.contains("every point"), "{w}");
    }

    #[test]
    fn mini_simulations_flag_scaled_capacities_under_100_objects() {
        // At 1%, 10,000 scales to 100: fine; 9,949 to 99: flagged.
        assert_eq!(
            judge_minisim(0.01, 5_000, &[10_000, 500_000], 500_000, "t"),
            Verdict::Fine
        );
        let Verdict::Warn(w) = judge_minisim(0.01, 5_000, &[100, 9_949, 10_000], 500_000, "t")
        else {
            panic!("no warning")
        };
        assert!(
            w.contains("capacities 100..9949 (2 of 3 points) run at fewer than 100 objects"),
            "{w}"
        );
        // Rate 1 (100/100 >= 0.5) advises full simulations only.
        assert!(!w.contains("--sample 100%"), "{w}");
        let Verdict::Warn(w) = judge_minisim(0.01, 5_000, &[1_000], 500_000, "t") else {
            panic!("no warning")
        };
        assert!(w.contains("--sample 10% or more"), "{w}");
        assert_eq!(judge_minisim(1.0, 3, &[1], 3, "t"), Verdict::Fine);
        let Verdict::Refuse { option, msg } = judge_minisim(0.001, 4, &[1_000], 4_356, "t") else {
            panic!("not refused")
        };
        assert_eq!(option, "--sample");
        assert!(msg.contains("holds 4 keys, fewer than 10"), "{msg}");
    }

    #[test]
    fn small_samples_warn_for_every_point_and_tiny_ones_are_refused() {
        // The case: 1% of 4,356 keys.
        let c = curve(0.01, 44);
        let Verdict::Warn(w) = judge(&c, &[1, 100, 4_356], 4_356, "t") else {
            panic!("no warning")
        };
        assert!(
            w.contains("holds 44 keys, fewer than 100") && w.contains("--sample 2.3%"),
            "{w}"
        );
        let Verdict::Refuse { option, msg } = judge(&curve(0.001, 4), &[1, 4_356], 4_356, "t")
        else {
            panic!("not refused")
        };
        assert_eq!(option, "--sample");
        assert!(msg.contains("holds 4 keys, fewer than 10"), "{msg}");
        // Above half the keys, sampling buys nothing: the exact curve.
        let Verdict::Refuse { msg, .. } = judge(&curve(0.01, 1), &[1, 150], 150, "t") else {
            panic!("not refused")
        };
        assert!(msg.contains("leave out --sample"), "{msg}");
    }
}
