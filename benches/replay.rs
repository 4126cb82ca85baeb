//! The replay loop's throughput: 10M requests of Zipf(1.0) over 1M keys,
//! single thread, loop only (the stream is generated before timing), for each
//! core strategy at 10k and 100k capacity. Also the Zipf generator's own rate,
//! and bytes per cached entry (printed once per strategy and capacity).
//!
//!     cargo bench --bench replay
//!
//! Targets (issue 2): LRU >= 25M req/s at 10k, >= 10M req/s at 100k; every
//! other core strategy within 2x of LRU; LRU <= 48 bytes per entry.

use cachesim::policy::{build, BuildCtx, Policy, StrategySpec};
use cachesim::sim::freshness::NoVersions;
use cachesim::sim::latency::{ModelOrigin, OriginModel, Timed};
use cachesim::sim::replay::{replay_batch, replay_batch_with, ChargeModel, Counters};
use cachesim::workload::{zipf, Batch};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::time::Duration;

const REQUESTS: u64 = 10_000_000;
const KEYS: u64 = 1_000_000;

fn stream() -> Batch {
    let mut b = Batch::new(1000.0, 1);
    b.keys = zipf::generate(KEYS, 1.0, REQUESTS, 42);
    b
}

fn policy(name: &str, cap: u64) -> cachesim::policy::AnyPolicy {
    let mut p = build(
        &StrategySpec::parse(name).unwrap(),
        &BuildCtx {
            capacity: cap,
            seed: 1,
            ttl: Some(60.0),
        },
    )
    .unwrap()
    .policy;
    // As `cachesim run` does: the key space, for a direct index.
    p.index_keys_below(KEYS);
    p
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("zipf_generate");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("zipf1.0_1M_keys", |b| {
        b.iter(|| zipf::generate(KEYS, 1.0, REQUESTS, 42))
    });
    g.finish();

    let batch = stream();
    let mut g = c.benchmark_group("replay");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(REQUESTS));
    for cap in [10_000u64, 100_000] {
        for name in ["lru", "fifo", "lfu", "ttl", "random", "none"] {
            {
                let mut p = policy(name, cap);
                let mut cnt = Counters::default();
                cachesim::dispatch!(&mut p, q => replay_batch(q, &batch, 0..batch.len(), 0, None, ChargeModel { bytes: false, capacity: cap }.into(), &mut cnt));
                if p.len() > 0 {
                    eprintln!(
                        "{name} c={cap}: hit ratio {:.4}, {:.1} bytes/entry ({} entries)",
                        cnt.hit_ratio(),
                        p.heap_bytes() as f64 / p.len() as f64,
                        p.len()
                    );
                }
            }
            g.bench_function(format!("{name}/{cap}"), |b| {
                b.iter_batched(
                    || policy(name, cap),
                    |mut p| {
                        let mut cnt = Counters::default();
                        cachesim::dispatch!(&mut p, q => replay_batch(q, &batch, 0..batch.len(), 0, None, ChargeModel { bytes: false, capacity: cap }.into(), &mut cnt));
                        cnt.hits
                    },
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();

    // The same LRU replays with latency recording on (issue 5: at most 25%
    // slower than the loop alone): sampled timing, HDR histograms, and a
    // constant 2 ms origin model.
    let mut g = c.benchmark_group("replay_latency");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(REQUESTS));
    for cap in [10_000u64, 100_000] {
        g.bench_function(format!("lru/{cap}"), |b| {
            b.iter_batched(
                || (policy("lru", cap), Timed::new(ModelOrigin::new(&OriginModel::Constant(0.002), 1))),
                |(mut p, mut t)| {
                    let mut cnt = Counters::default();
                    cachesim::dispatch!(&mut p, q => replay_batch_with(q, &batch, 0..batch.len(), 0, None, ChargeModel { bytes: false, capacity: cap }.into(), &mut cnt, &mut t, &mut NoVersions, &mut cachesim::sim::expiry::NoExpiry)).unwrap();
                    t.finish();
                    t.hits.len()
                },
                BatchSize::PerIteration,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
