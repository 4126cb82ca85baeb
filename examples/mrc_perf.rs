//! Performance figures for `cachesim mrc` and sweeps (issue 7), on the ARC
//! P12 trace (13.2M requests), printed as a small report:
//!
//! - exact MRC (one pass) vs three single-size LRU replays;
//! - SHARDS at 1% vs exact;
//! - a sweep of 4 policies x 10 capacities on 1 and on 2 threads.
//!
//! Run: `cargo run --release --example mrc_perf [-- PATH/P12.lis.zst [REPEATS [no-sweep|sweep-only]]]`
//! (default path: ../shared/traces/arc/P12.lis.zst, or $CACHESIM_TRACE_DIR).
//! Timings are the best of REPEATS (default 3); run it on a quiet machine.

use cachesim::mrc::mattson::{Histogram, StackDistances};
use cachesim::mrc::shards::ShardsFixedRate;
use cachesim::mrc::{fixed_rate_curve, Curve};
use cachesim::policy::{self, BuildCtx, StrategySpec};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters};
use cachesim::sim::runner::{Plan, WorkloadInput};
use cachesim::sim::Capacity;
use cachesim::workload::Batch;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[path = "shared/mod.rs"]
mod shared;
use shared::read_lis_zst;

fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (best, out.unwrap())
}

fn replay(b: &Batch, strategy: &str, c: u64) -> Counters {
    let spec = StrategySpec::parse(strategy).unwrap();
    let mut built = policy::build(
        &spec,
        &BuildCtx {
            capacity: c,
            seed: 1,
            ttl: None,
        },
    )
    .unwrap();
    let mut n = Counters::default();
    let charge = ChargeModel {
        bytes: false,
        capacity: c,
    };
    cachesim::dispatch!(&mut built.policy, p => replay_batch(p, b, 0..b.len(), 0, None, charge.into(), &mut n));
    n
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| shared::default_trace("arc/P12.lis.zst"));
    let repeats: usize = args.get(2).and_then(|r| r.parse().ok()).unwrap_or(3);
    let t = Instant::now();
    let b = read_lis_zst(&path);
    println!(
        "decoded {} requests in {:.2}s",
        b.len(),
        t.elapsed().as_secs_f64()
    );
    let n = b.len() as f64;

    if args.get(3).map(String::as_str) != Some("sweep-only") {
        let (exact_s, curve) = best(repeats, || {
            let mut s = StackDistances::new();
            let mut h = Histogram::default();
            s.access_all(&b.keys, |d| h.record(d));
            Curve::from_histogram(&h, s.len())
        });
        println!(
            "exact MRC            {exact_s:8.3}s  {:6.1} M req/s",
            n / exact_s / 1e6
        );
        // Every LRU size of the ARC paper's Table V for P12; "three single-size
        // replays" is three times their mean.
        let sizes: Vec<u64> = (0..10).map(|i| 1024u64 << i).collect();
        let mut lru_total = 0.0;
        for &c in &sizes {
            let (s, r) = best(repeats, || replay(&b, "lru", c));
            assert_eq!(
                (curve.hit_ratio(c) * curve.gets as f64).round() as u64,
                r.hits
            );
            println!("LRU replay c={c:<7} {s:8.3}s  {:6.1} M req/s", n / s / 1e6);
            lru_total += s;
        }
        let three = 3.0 * lru_total / sizes.len() as f64;
        println!("three LRU replays (3 x mean) {three:8.3}s");
        println!(
            "exact MRC / three LRU replays = {:.2} (must be < 1)",
            exact_s / three
        );
        let (shards_s, _) = best(repeats.max(5), || {
            let mut s = ShardsFixedRate::new(0.01);
            s.get_all(&b.keys);
            fixed_rate_curve(&s, true)
        });
        println!(
            "SHARDS 1%            {shards_s:8.3}s  {:6.1} M req/s",
            n / shards_s / 1e6
        );
        println!(
            "exact / SHARDS 1% = {:.1}x (must be >= 50)",
            exact_s / shards_s
        );
    }
    if args.get(3).is_some_and(|a| a == "no-sweep") {
        return;
    }
    // The sweep, end to end through `Plan::run` (what `cachesim run` does):
    // the trace is written once as a text trace (one key per line), then
    // decoded once by the sweep and replayed by 40 runs.
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("p12.txt");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&text).unwrap());
        for k in &b.keys {
            writeln!(w, "{k}").unwrap();
        }
    }
    drop(b);
    let plan = |threads: usize| Plan {
        workloads: vec![WorkloadInput::Trace {
            path: text.clone(),
            format: None,
            rate: 1000.0,
        }],
        strategies: ["lru", "fifo", "lfu", "random"]
            .map(|s| StrategySpec::parse(s).unwrap())
            .to_vec(),
        capacities: (0..10).map(|i| Capacity::Count(1024u64 << i)).collect(),
        seeds: vec![1],
        threads: Some(threads),
        ..Default::default()
    };
    let strip = |r: Vec<cachesim::sim::RunResult>| {
        r.into_iter()
            .map(|r| (r.strategy, r.capacity, r.hits))
            .collect::<Vec<_>>()
    };
    let (one, r1) = best(1, || strip(plan(1).run(true).unwrap()));
    let (two, r2) = best(1, || strip(plan(2).run(true).unwrap()));
    assert_eq!(r1, r2, "results do not depend on threads");
    println!("sweep 4x10, 1 thread  {one:8.3}s");
    println!("sweep 4x10, 2 threads {two:8.3}s");
    println!("speed-up = {:.2}x (must be >= 1.8)", one / two);
}
