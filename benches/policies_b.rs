//! Throughput of lirs, wtinylfu, belady and belady-size (issue 8): 10M
//! requests of Zipf(1.0) over 1M keys, single thread, at 10k and 100k
//! capacity, LRU alongside as the yardstick. Belady's next-use pass is
//! inside the timed region, as the issue asks. Bytes per entry
//! (`heap_bytes / len`) and hit ratios are printed once per policy/capacity.
//!
//!     cargo bench --bench policies_b
//!
//! Target (issue 8): every policy at least 5M requests/s.

use cachesim::policy::{build, needs_future, BuildCtx, Policy, StrategySpec};
use cachesim::sim::future::next_use;
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters};
use cachesim::workload::{zipf, Batch};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::time::Duration;

const REQUESTS: u64 = 10_000_000;
const KEYS: u64 = 1_000_000;
const POLICIES: [&str; 5] = ["lru", "lirs", "wtinylfu", "belady", "belady-size"];

fn policy(name: &str, cap: u64) -> cachesim::policy::AnyPolicy {
    build(
        &StrategySpec::parse(name).unwrap(),
        &BuildCtx {
            capacity: cap,
            seed: 1,
            ttl: None,
        },
    )
    .unwrap()
    .policy
}

/// One full run: the next-use pass (offline policies only) and the replay.
fn run(p: &mut cachesim::policy::AnyPolicy, name: &str, batch: &Batch, cap: u64) -> Counters {
    let next = needs_future(name).then(|| next_use(&batch.keys));
    let mut cnt = Counters::default();
    let charge = ChargeModel {
        bytes: false,
        capacity: cap,
    };
    cachesim::dispatch!(p, q => replay_batch(q, batch, 0..batch.len(), 0, next.as_deref(), charge.into(), &mut cnt));
    cnt
}

fn bench(c: &mut Criterion) {
    let mut batch = Batch::new(1000.0, 1);
    batch.keys = zipf::generate(KEYS, 1.0, REQUESTS, 42);
    let mut g = c.benchmark_group("policies_b");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Elements(REQUESTS));
    for cap in [10_000u64, 100_000] {
        for name in POLICIES {
            let mut p = policy(name, cap);
            let cnt = run(&mut p, name, &batch, cap);
            eprintln!(
                "{name} c={cap}: hit ratio {:.4}, {:.1} bytes/entry ({} entries)",
                cnt.hit_ratio(),
                p.heap_bytes() as f64 / p.len().max(1) as f64,
                p.len()
            );
            g.bench_function(format!("{name}/{cap}"), |b| {
                b.iter_batched(
                    || policy(name, cap),
                    |mut p| run(&mut p, name, &batch, cap).hits,
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
