//! How close fixed-rate SHARDS comes to the exact LRU miss-ratio curve of a
//! trace, and why: a small report for issue 7's accuracy target (0.01
//! absolute miss ratio at every point).
//!
//! 1. Per capacity (every power of two up to the working set): the exact
//!    miss ratio, the errors of plain SHARDS and SHARDS-adj with the pinned
//!    sampling hash, and the standard deviation of each estimator that comes
//!    from *which keys* are sampled, computed from the exact per-key miss
//!    counts (independent key sampling at rate R: the variance of
//!    `sum over sampled keys of x_k / R` is `(1 - R) / R * sum of x_k^2`,
//!    with `x_k` a key's misses for SHARDS-adj, an estimate of total misses
//!    over `R * N`, and its misses minus the miss ratio times its gets for
//!    plain SHARDS, a ratio estimator). That is the spread a random hash
//!    gives; the pinned hash samples runs of consecutive keys evenly, which
//!    does better on block traces (P12).
//! 2. Over 32 members of two hash families, the pinned one (Fibonacci
//!    hashing of `key + offset`) and the SplitMix64 finaliser of
//!    `key ^ seed` (the previous hash): the worst error over the grid
//!    (powers of two from FROM up to the working set, plus EXTRA sizes) for
//!    each estimator, as median, maximum and how many members stay within
//!    0.01. Member 0 of each family is its unseeded hash.
//!
//! Run: `cargo run --release --example mrc_accuracy -- TRACE.lis.zst RATE [FROM [EXTRA,...]]`
//! e.g. `... P12.lis.zst 0.01` or `... OLTP.lis.zst 0.1 1000 1000,2000,5000,10000,15000`
//! (ARC `.lis` traces; FROM defaults to 1000).

use cachesim::mrc::mattson::{Histogram, StackDistances};
use cachesim::mrc::shards::{hash_mod_p, threshold, ShardsFixedRate, P};
use cachesim::mrc::{fixed_rate_curve, sampled_curve, Curve};
use cachesim::rng::splitmix;
use cachesim::workload::trace::{read_all, TraceFormat};
use rustc_hash::FxHashMap;
use std::path::Path;

const MEMBERS: u64 = 32;

/// Whether member `offset` of a hash family samples `key`.
type Sampler = dyn Fn(u64, u64) -> bool;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: mrc_accuracy TRACE.lis.zst RATE [FROM [EXTRA,...]]");
        std::process::exit(2);
    }
    let b = read_all(Path::new(&args[1]), Some(&TraceFormat::Arc.into()), 1000.0)
        .unwrap_or_else(|e| panic!("{e}"));
    let rate: f64 = args[2].parse().expect("RATE: a number in (0, 1]");
    let from: u64 = args.get(3).map_or(1000, |a| a.parse().expect("FROM"));
    let extra: Vec<u64> = args.get(4).map_or(Vec::new(), |a| {
        a.split(',').map(|c| c.parse().expect("EXTRA")).collect()
    });
    let keys = &b.keys;
    let n = keys.len() as f64;

    // Exact distances, kept per request for the per-key variance.
    let mut stack = StackDistances::new();
    let mut h = Histogram::default();
    let mut dist = Vec::with_capacity(keys.len());
    stack.access_all(keys, |d| {
        h.record(d);
        dist.push(d.unwrap_or(u64::MAX));
    });
    let exact = Curve::from_histogram(&h, stack.len());
    let ws = stack.len() as u64;
    let pow2: Vec<u64> = (0..64)
        .map(|i| 1u64 << i)
        .take_while(|&c| c <= ws)
        .collect();
    let t = threshold(rate);
    let r = t as f64 / P as f64;
    println!(
        "{}: {} requests, {} distinct keys, rate {r:.6} (T = {t})",
        args[1],
        keys.len(),
        ws
    );

    // Per-key gets and misses at every power of two.
    let mut index: FxHashMap<u64, usize> = FxHashMap::default();
    let mut gets: Vec<f64> = Vec::new();
    let mut misses: Vec<f64> = Vec::new();
    for (&k, &d) in keys.iter().zip(&dist) {
        let next = gets.len();
        let i = *index.entry(k).or_insert(next);
        if i == next {
            gets.push(0.0);
            misses.extend(std::iter::repeat_n(0.0, pow2.len()));
        }
        gets[i] += 1.0;
        for (j, &c) in pow2.iter().enumerate() {
            if d > c {
                misses[i * pow2.len() + j] += 1.0;
            }
        }
    }
    let sd = |j: usize| {
        let f = (1.0 - r) / r;
        let rho = misses.iter().skip(j).step_by(pow2.len()).sum::<f64>() / n;
        let (mut ht, mut ratio) = (0.0, 0.0);
        for (i, g) in gets.iter().enumerate() {
            let m = misses[i * pow2.len() + j];
            ht += m * m;
            ratio += (m - rho * g).powi(2);
        }
        ((f * ratio).sqrt() / n, (f * ht).sqrt() / n)
    };

    let mut pinned = ShardsFixedRate::new(rate);
    pinned.get_all(keys);
    let (plain, adj) = (
        fixed_rate_curve(&pinned, false),
        fixed_rate_curve(&pinned, true),
    );
    let miss = |c: &Curve, cap: u64| 1.0 - c.hit_ratio(cap);
    println!(
        "pinned hash: {} sampled gets ({:.4} of R * N), {} keys",
        pinned.hist.gets(),
        pinned.hist.gets() as f64 / (n * r),
        pinned.tracked()
    );
    println!("       c    exact    plain  sd(plain)      adj    sd(adj)");
    for (j, &c) in pow2.iter().enumerate() {
        let (sd_plain, sd_adj) = sd(j);
        let e = miss(&exact, c);
        println!(
            "{c:8} {e:8.4} {:+8.4} {sd_plain:10.4} {:+8.4} {sd_adj:10.4}",
            miss(&plain, c) - e,
            miss(&adj, c) - e
        );
    }

    let mut grid: Vec<u64> = pow2.iter().copied().filter(|&c| c >= from).collect();
    grid.extend(extra);
    grid.sort_unstable();
    grid.dedup();
    println!("grid {grid:?}");
    let worst = |c: &Curve| {
        grid.iter()
            .map(|&cap| (miss(c, cap) - miss(&exact, cap)).abs())
            .fold(0.0, f64::max)
    };
    let families: [(&str, &Sampler); 2] = [
        ("fibonacci (key + offset)", &move |k, o| {
            hash_mod_p(k.wrapping_add(if o == 0 { 0 } else { splitmix(o) })) < t
        }),
        ("splitmix (key ^ seed)", &move |k, o| {
            let s = if o == 0 { 0 } else { splitmix(o) };
            splitmix(k ^ s) & (P - 1) < t
        }),
    ];
    for (name, sampled) in families {
        let mut errs = [Vec::new(), Vec::new()];
        for o in 0..MEMBERS {
            let mut s = StackDistances::new();
            let mut sh = Histogram::default();
            for &k in keys.iter().filter(|&&k| sampled(k, o)) {
                sh.record(s.access(k));
            }
            for (adj, e) in errs.iter_mut().enumerate() {
                let curve = sampled_curve(&sh, keys.len() as u64, r, s.len(), adj == 1);
                e.push(worst(&curve));
            }
            if o == 0 && name.starts_with("fib") {
                assert_eq!(sh, pinned.hist, "member 0 is the pinned hash");
            }
        }
        for (label, mut e) in ["plain", "adj"].into_iter().zip(errs) {
            let first = e[0];
            e.sort_by(f64::total_cmp);
            println!(
                "{name:26} {label:5}: member 0 {first:.4}, median {:.4}, max {:.4}, within 0.01: {}/{}",
                e[e.len() / 2],
                e[e.len() - 1],
                e.iter().filter(|&&x| x <= 0.01).count(),
                e.len()
            );
        }
    }
}
