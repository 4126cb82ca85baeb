//! Mini-simulations (`cachesim::mrc::minisim`, Waldspurger et al., ATC
//! 2017) against full replays of the same policy on the ARC traces: P12
//! sampled at 1% and OLTP at 10%, for lru, arc, 2q, s3fifo and sieve, at 20
//! log-spaced sizes from the smallest whose scaled capacity holds 100
//! objects (`100 / R`) up to the working set: every size within 0.01
//! (absolute miss ratio) of the full simulation, except SIEVE, whose
//! mini-simulations are biased on these traces (see `check`). And `cachesim mrc
//! --strategy` end to end on a synthetic workload: its rows, columns,
//! refusals and warning. Trace tests skip when the traces are absent.

use crate::common::{self, cachesim, col, parse_csv, stderr, stdout};

use cachesim::mrc::minisim::{replay_all, scaled_capacity, Sample, MIN_SCALED_OBJECTS};
use cachesim::policy::StrategySpec;
use cachesim::workload::trace::{read_all, TraceFormat};
use cachesim::workload::Batch;
use rayon::prelude::*;
use std::path::Path;

const POLICIES: [&str; 5] = ["lru", "arc", "2q", "s3fifo", "sieve"];

fn read_lis_zst(path: &Path) -> Batch {
    read_all(path, Some(&TraceFormat::Arc.into()), 1000.0).unwrap_or_else(|e| panic!("{e}"))
}

/// `n` sizes log-spaced from `lo` to `hi`, rounded, distinct.
fn log_sizes(lo: u64, hi: u64, n: usize) -> Vec<u64> {
    let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
    let mut v: Vec<u64> = (0..n)
        .map(|i| (a + (b - a) * i as f64 / (n - 1) as f64).exp().round() as u64)
        .collect();
    v.dedup();
    v
}

/// For each policy, the largest |mini - full| miss-ratio error over
/// `sizes` and where, with adj (SHARDS-adj's estimator, the default) and
/// without; printed as a table.
/// The largest error of a policy and the capacity where it is.
type Worst = (u64, f64);

fn errors(b: &Batch, rate: f64, sizes: &[u64]) -> Vec<(&'static str, Worst, Worst)> {
    let sample = Sample::of_batch(b, rate);
    let jobs: Vec<(&str, u64)> = POLICIES
        .iter()
        .flat_map(|&p| sizes.iter().map(move |&c| (p, c)))
        .collect();
    let rows: Vec<(f64, f64, f64)> = jobs
        .par_iter()
        .map(|&(p, c)| {
            let spec = StrategySpec::parse(p).unwrap();
            let full = replay_all(b, None, &spec, c, 1).unwrap();
            let mini = sample.simulate(&spec, c, 1).unwrap();
            let f = full.misses as f64 / full.gets as f64;
            (
                f,
                sample.miss_ratio(&mini, true),
                sample.miss_ratio(&mini, false),
            )
        })
        .collect();
    let mut out = Vec::new();
    for (i, &p) in POLICIES.iter().enumerate() {
        let mut adj = (0, 0.0);
        let mut plain = (0, 0.0);
        for (j, &c) in sizes.iter().enumerate() {
            let (f, a, n) = rows[i * sizes.len() + j];
            eprintln!(
                "{p:<7} c={c:<8} scaled={:<6} full={f:.4} adj={a:.4} ({:+.4}) plain={n:.4} ({:+.4})",
                scaled_capacity(c, sample.rate),
                a - f,
                n - f
            );
            if (a - f).abs() > adj.1 {
                adj = (c, (a - f).abs());
            }
            if (n - f).abs() > plain.1 {
                plain = (c, (n - f).abs());
            }
        }
        out.push((p, adj, plain));
    }
    for (p, a, n) in &out {
        eprintln!(
            "max error {p:<7} adj {:.4} (c={}) plain {:.4} (c={})",
            a.1, a.0, n.1, n.0
        );
    }
    out
}

/// Every policy within 0.01 of the full simulation at every size, except
/// SIEVE, held to `sieve_bound`. Its mini-simulations are biased on block
/// traces, not unlucky: over 8 to 16 members of the hash family (keys
/// relabelled `key + offset`, `examples/minisim_accuracy.rs`) the mean
/// error is -0.05 on OLTP at c=1000 (sd 0.015) and +0.02 on P12 at
/// c=152,633 (sd 0.01), where LRU's and CLOCK's means are within 0.005 of 0.
/// Sampling at 50% still leaves -0.03 on OLTP at c=3008 (scaled capacity
/// 1,504), so it is not too few sampled objects; sampling groups of 8 or 64
/// neighbouring blocks together changes nothing, so it is not runs of
/// blocks split by the hash; on an independent Zipf stream SIEVE's error is
/// 0.005 like LRU's. The cause is SIEVE itself: split by key hash into
/// independent caches of `c / parts`, with every request replayed, SIEVE
/// misses 0.054 less than one whole cache on OLTP (10 parts at c=1000) and
/// 0.017 more on P12 (100 parts at c=152,633), where LRU and CLOCK stay
/// within 0.002 (`sieve_is_not_partition_invariant_...` below). A
/// mini-simulation replays one such part, so it inherits the gap.
fn check(b: &Batch, rate: f64, distinct: u64, sieve_bound: f64) {
    let r = cachesim::mrc::minisim::effective_rate(rate);
    let lo = (MIN_SCALED_OBJECTS as f64 / r).ceil() as u64;
    let sizes = log_sizes(lo, distinct, 20);
    assert_eq!(sizes.len(), 20);
    assert!(sizes
        .iter()
        .all(|&c| scaled_capacity(c, r) >= MIN_SCALED_OBJECTS));
    let mut bad = Vec::new();
    for (p, (c, e), _) in errors(b, rate, &sizes) {
        let bound = if p == "sieve" { sieve_bound } else { 0.01 };
        if e > bound {
            bad.push(format!("{p}: {e:.4} at c={c} (bound {bound})"));
        }
    }
    assert!(
        bad.is_empty(),
        "mini-simulation off the full simulation: {bad:?}"
    );
}

#[test]
fn minisim_tracks_full_simulations_on_p12_at_1_percent() {
    let Some(p) = common::trace("arc/P12.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    // SIEVE measured 0.0266 at c=152,633.
    check(&b, 0.01, b.distinct_keys(), 0.03);
}

#[test]
fn minisim_tracks_full_simulations_on_oltp_at_10_percent() {
    let Some(p) = common::trace("arc/OLTP.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    // SIEVE measured 0.0599 at c=1000 (scaled capacity 100).
    check(&b, 0.1, b.distinct_keys(), 0.065);
}

/// `cachesim mrc` with the space-separated `args`, CSV on stdout.
fn mrc(args: &str, dir: &Path) -> std::process::Output {
    let mut v = vec!["mrc", "-f", "csv", "--no-save", "-q"];
    v.extend(args.split(' '));
    cachesim(&v, dir)
}

const ZIPF: &str = "-w zipf --keys 20k --requests 400k";

#[test]
fn mrc_strategy_minisim_rows_columns_and_warning() {
    let d = tempfile::tempdir().unwrap();
    let o = mrc(
        &format!("{ZIPF} --strategy lru,arc,belady --sample 10% -c 100,2000,10000 --compare"),
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    // The library's columns; the ones before `--strategy` first, in their
    // order (the first three and the last of them checked here), the new
    // ones at the end.
    assert_eq!(h, cachesim::mrc::COLUMNS);
    assert_eq!(&h[..3], &["capacity", "hit_ratio", "miss_ratio"][..]);
    assert_eq!(h[12], "sampled_keys");
    assert_eq!(
        &h[13..],
        &[
            "strategy",
            "scaled_capacity",
            "full_miss_ratio",
            "capacity_unit"
        ][..]
    );
    let cell = |r: &Vec<String>, c: &str| r[col(&h, c)].clone();
    let f = |r: &Vec<String>, c: &str| cell(r, c).parse::<f64>().unwrap();
    // In --strategy's order: LRU's SHARDS curve, then the mini-simulations.
    let who: Vec<(String, String, String)> = rows
        .iter()
        .map(|r| (cell(r, "strategy"), cell(r, "method"), cell(r, "capacity")))
        .collect();
    let want: Vec<(String, String, String)> =
        [("lru", "shards"), ("arc", "minisim"), ("belady", "minisim")]
            .iter()
            .flat_map(|(s, m)| {
                ["100", "2000", "10000"].map(|c| (s.to_string(), m.to_string(), c.to_string()))
            })
            .collect();
    assert_eq!(who, want);
    for r in &rows[3..] {
        let c: u64 = cell(r, "capacity").parse().unwrap();
        let scaled: u64 = cell(r, "scaled_capacity").parse().unwrap();
        assert_eq!(scaled, ((c as f64 / 10.0).round() as u64).max(1));
        assert!((f(r, "sample_rate") - 0.1).abs() < 1e-6);
        // The full replay of the row's own policy, not LRU's.
        assert_eq!(cell(r, "lru_miss_ratio"), "");
        let e = (f(r, "miss_ratio") - f(r, "full_miss_ratio")).abs();
        assert!((e - f(r, "abs_error")).abs() < 1e-12);
    }
    // Scaled capacities of 200 and 1000 objects track the full runs.
    for r in rows[3..].iter().filter(|r| cell(r, "capacity") != "100") {
        assert!(f(r, "abs_error") < 0.02, "{r:?}");
    }
    // Belady is optimal on the sample too: never more misses than ARC.
    for i in 0..3 {
        assert!(f(&rows[6 + i], "miss_ratio") <= f(&rows[3 + i], "miss_ratio"));
        assert!(f(&rows[6 + i], "full_miss_ratio") <= f(&rows[3 + i], "full_miss_ratio"));
    }
    // Capacity 100 runs at 10 objects: flagged, once.
    let err = stderr(&o);
    let w: Vec<&str> = err
        .lines()
        .filter(|l| l.contains("mini-simulation"))
        .collect();
    assert_eq!(w.len(), 1, "{err}");
    assert!(
        w[0].contains("capacity 100 (1 of 3 points) run at fewer than 100 objects"),
        "{}",
        w[0]
    );
}

#[test]
fn mrc_strategy_without_sample_is_the_full_simulation_and_minisim_flag_covers_lru() {
    let d = tempfile::tempdir().unwrap();
    let o = mrc(&format!("{ZIPF} --strategy s3fifo -c 2000"), d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][col(&h, "method")], "simulation");
    assert_eq!(rows[0][col(&h, "scaled_capacity")], "");
    let mrc_miss: f64 = rows[0][col(&h, "miss_ratio")].parse().unwrap();
    // Equal to `cachesim run`'s replay of the same workload.
    let mut args = vec![
        "run",
        "-s",
        "s3fifo",
        "-c",
        "2000",
        "-f",
        "csv",
        "--no-save",
        "-q",
    ];
    args.extend(ZIPF.split(' '));
    let o = cachesim(&args, d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    let run_miss: f64 = rows[0][col(&h, "miss_ratio")].parse().unwrap();
    assert_eq!(mrc_miss, run_miss);
    // --minisim: LRU mini-simulated too.
    let o = mrc(&format!("{ZIPF} --sample 10% --minisim -c 5000"), d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(rows[0][col(&h, "method")], "minisim");
    assert_eq!(rows[0][col(&h, "strategy")], "lru");
    assert_eq!(rows[0][col(&h, "scaled_capacity")], "500");
}

#[test]
fn mrc_strategy_refuses_what_it_cannot_simulate() {
    let d = tempfile::tempdir().unwrap();
    for (args, option, what) in [
        (
            "--strategy redis --sample 1%",
            "--strategy",
            "not an in-process policy",
        ),
        (
            "--strategy tiered:lru+lru",
            "--strategy",
            "not an in-process policy",
        ),
        ("--strategy nosuch", "--strategy", ""),
        ("--strategy memcached-sim", "--strategy", "in bytes"),
        (
            "--strategy arc --sample-size 1k",
            "--sample-size",
            "fixed rate",
        ),
    ] {
        let o = mrc(&format!("{ZIPF} {args}"), d.path());
        assert_eq!(o.status.code(), Some(2), "{args}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(option) && err.contains(what), "{args}: {err}");
        assert!(stdout(&o).is_empty(), "{args}");
    }
}

/// Miss ratios of `policy` at capacity `c` on the whole of `b`, and summed
/// over `parts` caches of `c / parts` each, every key sent to the cache
/// its hash picks (no sampling: every request is replayed once).
fn whole_and_partitioned(b: &Batch, policy: &str, c: u64, parts: u64) -> (f64, f64) {
    let spec = StrategySpec::parse(policy).unwrap();
    let whole = replay_all(b, None, &spec, c, 1).unwrap();
    let mut split: Vec<Batch> = (0..parts).map(|_| Batch::new(1000.0, 1)).collect();
    for &k in &b.keys {
        split[(cachesim::mrc::minisim::relabel(k) % parts) as usize]
            .keys
            .push(k);
    }
    let misses: u64 = split
        .par_iter()
        .map(|p| replay_all(p, None, &spec, c / parts, 1).unwrap().misses)
        .sum();
    let n = whole.gets as f64;
    (whole.misses as f64 / n, misses as f64 / n)
}

/// Why SIEVE's mini-simulations are biased while LRU's and CLOCK's are not:
/// split a trace by key hash into `parts` independent caches of `c / parts`
/// and replay every request. For LRU the split caches miss as often as the
/// whole cache (a key's stack distance splits in proportion), and CLOCK
/// follows; SIEVE's split caches miss measurably less (OLTP) or more (P12)
/// than the whole one. A mini-simulation is one such part, so no sample,
/// however lucky, can match SIEVE's full curve there: the bias belongs to
/// SIEVE on these traces, not to the sampler. The SIEVE replays themselves
/// equal an independent implementation (a few lines of Python written from
/// the paper's Algorithm 1) on OLTP: 36,328, 297,626 and 474,305 hits at
/// 100, 1,000 and 5,000 objects.
fn partition_gaps(b: &Batch, c: u64, parts: u64) -> [f64; 3] {
    ["lru", "clock", "sieve"].map(|p| {
        let (whole, split) = whole_and_partitioned(b, p, c, parts);
        eprintln!(
            "{p:<6} c={c} parts={parts}: whole {whole:.4} split {split:.4} ({:+.4})",
            split - whole
        );
        split - whole
    })
}

#[test]
fn sieve_is_not_partition_invariant_on_the_arc_traces_lru_and_clock_are() {
    let Some(p) = common::trace("arc/OLTP.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    for c in [100, 1000, 5000] {
        let hits = replay_all(&b, None, &StrategySpec::parse("sieve").unwrap(), c, 1)
            .unwrap()
            .hits;
        let oracle = match c {
            100 => 36_328,
            1000 => 297_626,
            _ => 474_305,
        };
        assert_eq!(
            hits, oracle,
            "sieve at {c} against the independent implementation"
        );
    }
    for parts in [2, 10] {
        let [lru, clock, sieve] = partition_gaps(&b, 1000, parts);
        assert!(
            lru.abs() < 0.005 && clock.abs() < 0.005,
            "lru {lru:+.4} clock {clock:+.4}"
        );
        assert!(sieve < -0.02, "sieve split into {parts}: {sieve:+.4}");
    }
    if let Some(p) = common::trace("arc/P12.lis.zst") {
        let b = read_lis_zst(&p);
        let [lru, clock, sieve] = partition_gaps(&b, 152_633, 100);
        assert!(
            lru.abs() < 0.005 && clock.abs() < 0.005,
            "lru {lru:+.4} clock {clock:+.4}"
        );
        assert!(sieve > 0.01, "sieve split into 100: {sieve:+.4}");
    }
}
