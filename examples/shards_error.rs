//! How far a fixed-rate SHARDS curve strays from the exact one as a
//! function of what the sample holds: the evidence behind the warnings and
//! the refusal of `cachesim mrc --sample` (`cachesim::mrc::confidence`).
//!
//! For every trace given, every rate in RATES and 8 members of the sampling
//! hash family (member 0 is the pinned hash, member `o` hashes `key +
//! splitmix(o)`: other, equally valid samples), the SHARDS-adj curve (the
//! default) is compared with the exact curve at every point of `mrc`'s
//! default grid (64 log-spaced capacities from 1 to the working set). Each
//! point's absolute hit-ratio error is filed under two things the command
//! knows without the exact curve:
//!
//! - the scaled capacity `C * R`: how many sampled objects a cache of `C`
//!   objects holds in the sampled stream;
//! - the sample size: the distinct keys that entered the sample.
//!
//! Prints, per bucket of each, the points, the median, 95th percentile and
//! largest error; then the 95th percentile over both.
//!
//! Run: `cargo run --release --example shards_error -- TRACE[@FORMAT]...`
//! (FORMAT as `--trace-format` takes it, for raw binary traces), e.g. in the
//! shared trace folder: `lirs/*.trace.gz cache2k/web07.trace.xz@u32be
//! cloudphysics/cloudPhysicsIO.oracleGeneral.bin arc/OLTP.lis.zst
//! scarab/scarab-recs.trace.xz@i64be`.

use cachesim::cmd::mrc::{resolve_grid, Grid};
use cachesim::mrc::mattson::{Histogram, StackDistances};
use cachesim::mrc::shards::{hash_mod_p, threshold, P};
use cachesim::mrc::{sampled_curve, Curve};
use cachesim::rng::splitmix;
use cachesim::workload::trace::{read_all, TraceFormat};
use std::path::Path;

const RATES: [f64; 7] = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1];
const MEMBERS: u64 = 8;
/// Lower edges of the scaled-capacity buckets.
const SCALED: [f64; 9] = [0.0, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0];
/// Lower edges of the sample-size buckets.
const KEYS: [u64; 9] = [0, 10, 25, 50, 100, 200, 400, 800, 1600];

fn bucket<T: PartialOrd>(edges: &[T], x: T) -> usize {
    edges.iter().rposition(|e| *e <= x).unwrap_or(0)
}

fn stats(v: &mut [f64]) -> String {
    if v.is_empty() {
        return format!("{:>6} {:>7} {:>7} {:>7}", 0, "", "", "");
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    format!(
        "{:>6} {:>7.4} {:>7.4} {:>7.4}",
        v.len(),
        q(0.5),
        q(0.95),
        v[v.len() - 1]
    )
}

/// Prints, per bucket of `by` (lower `edges`), the points kept by `keep`
/// and the median, 95th percentile and largest of their errors.
fn table(title: &str, what: &str, edges: &[f64], by: &[f64], errs: &[f64], keep: &[bool]) {
    println!("\n{title}");
    println!(
        "{what:>12} {:>6} {:>7} {:>7} {:>7}",
        "points", "median", "p95", "max"
    );
    for (i, lo) in edges.iter().enumerate() {
        let mut v: Vec<f64> = (0..errs.len())
            .filter(|&j| keep[j] && bucket(edges, by[j]) == i)
            .map(|j| errs[j])
            .collect();
        let hi = edges.get(i + 1).map_or("inf".into(), |h| h.to_string());
        println!("{:>12} {}", format!("[{lo}, {hi})"), stats(&mut v));
    }
}

fn main() {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: shards_error TRACE...");
        std::process::exit(2);
    }
    // (scaled capacity, sampled keys, error) of every point.
    let mut points: Vec<(f64, u64, f64)> = Vec::new();
    for arg in &paths {
        let (path, format) = match arg.rsplit_once('@') {
            Some((p, f)) => (
                p,
                Some(TraceFormat::parse(f).unwrap_or_else(|e| panic!("{e}"))),
            ),
            None => (arg.as_str(), None),
        };
        let b = read_all(Path::new(path), format.map(Into::into).as_ref(), 1000.0)
            .unwrap_or_else(|e| panic!("{e}"));
        let keys = &b.keys;
        let mut stack = StackDistances::new();
        let mut h = Histogram::default();
        stack.access_all(keys, |d| h.record(d));
        let exact = Curve::from_histogram(&h, stack.len());
        let distinct = stack.len() as u64;
        let grid = resolve_grid(&Grid::Default, distinct);
        let mut line = format!("{path}: {} requests, {distinct} keys;", keys.len());
        for rate in RATES {
            let t = threshold(rate);
            let r = t as f64 / P as f64;
            let mut worst_small = 0.0f64;
            let mut sizes = Vec::new();
            for o in 0..MEMBERS {
                let off = if o == 0 { 0 } else { splitmix(o) };
                let mut s = StackDistances::new();
                let mut sh = Histogram::default();
                for &k in keys
                    .iter()
                    .filter(|&&k| hash_mod_p(k.wrapping_add(off)) < t)
                {
                    sh.record(s.access(k));
                }
                let sampled = sh.cold;
                sizes.push(sampled);
                let curve = sampled_curve(&sh, keys.len() as u64, r, s.len(), true);
                for &(c, _) in &grid {
                    let e = (curve.hit_ratio(c) - exact.hit_ratio(c)).abs();
                    let scaled = c as f64 * r;
                    if scaled < 1.0 {
                        worst_small = worst_small.max(e);
                    }
                    points.push((scaled, sampled, e));
                }
            }
            sizes.sort_unstable();
            line += &format!(
                " R={rate}: {}..{} sampled keys, worst below C*R=1 {worst_small:.3};",
                sizes[0],
                sizes[sizes.len() - 1]
            );
        }
        println!("{line}");
    }

    let scaled: Vec<f64> = points.iter().map(|p| p.0).collect();
    let keys: Vec<f64> = points.iter().map(|p| p.1 as f64).collect();
    let errs: Vec<f64> = points.iter().map(|p| p.2).collect();
    let edges_k: Vec<f64> = KEYS.iter().map(|&k| k as f64).collect();
    let all = vec![true; points.len()];
    let enough: Vec<bool> = scaled.iter().map(|&s| s >= 32.0).collect();
    table(
        "error by scaled capacity C*R (all points)",
        "C*R",
        &SCALED,
        &scaled,
        &errs,
        &all,
    );
    table(
        "error by sample size (points with C*R >= 32)",
        "keys",
        &edges_k,
        &keys,
        &errs,
        &enough,
    );
    table(
        "error by sample size (all points)",
        "keys",
        &edges_k,
        &keys,
        &errs,
        &all,
    );
    println!("\np95 error (points) by sample size (rows) and C*R (columns)");
    print!("{:>12}", "keys \\ C*R");
    for lo in SCALED {
        print!(" {:>11}", format!(">={lo}"));
    }
    println!();
    for (i, lo) in KEYS.iter().enumerate() {
        print!("{:>12}", format!(">={lo}"));
        for j in 0..SCALED.len() {
            let mut v: Vec<f64> = points
                .iter()
                .filter(|p| bucket(&KEYS, p.1) == i && bucket(&SCALED, p.0) == j)
                .map(|p| p.2)
                .collect();
            v.sort_by(f64::total_cmp);
            if v.is_empty() {
                print!(" {:>11}", "-");
            } else {
                let p95 = v[((v.len() - 1) as f64 * 0.95).round() as usize];
                print!(" {:>11}", format!("{p95:.3} ({})", v.len()));
            }
        }
        println!();
    }
}
