//! Throughput and memory of every eviction policy beyond the talk's basic
//! six, next to LRU: 10M requests of Zipf(1.0) over 1M keys, single thread,
//! at 10k and 100k capacity, through the real replay loop (the stream is
//! generated before timing; each iteration starts from an empty cache; for
//! the offline policies, Belady and Belady-size, the next-use pass is inside
//! the timed region). Before timing, each policy's hit ratio and bytes per
//! resident entry (`Policy::heap_bytes / len`, ghosts included in the
//! bytes) are printed.
//!
//!     cargo bench --bench policies
//!     cargo bench --bench policies -- 'policies/(lirs|belady)'   # some of them
//!
//! Targets: every policy >= 5M req/s; CLOCK, SIEVE, S3-FIFO at least as fast
//! as LRU.

use cachesim::policy::{build, needs_future, AnyPolicy, BuildCtx, Policy, StrategySpec};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters};
use cachesim::workload::future::next_use;
use cachesim::workload::{zipf, Batch};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};
use std::time::Duration;

const REQUESTS: u64 = 10_000_000;
const KEYS: u64 = 1_000_000;
const POLICIES: [&str; 14] = [
    "lru",
    "clock",
    "sieve",
    "s3fifo",
    "slru",
    "2q",
    "arc",
    "lirs",
    "wtinylfu",
    "belady",
    "belady-size",
    "sampled-lru",
    "sampled-lfu",
    "sampled-random",
];

fn policy(name: &str, cap: u64) -> AnyPolicy {
    let mut p = build(
        &StrategySpec::parse(name).unwrap(),
        &BuildCtx {
            capacity: cap,
            seed: 1,
            ttl: None,
        },
    )
    .unwrap()
    .policy;
    // As `cachesim run` does: the key space, for a direct index.
    p.index_keys_below(KEYS);
    p
}

/// One full run: the next-use pass (offline policies only) and the replay.
fn replay(p: &mut AnyPolicy, name: &str, batch: &Batch, cap: u64) -> Counters {
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

    let mut g = c.benchmark_group("policies");
    // Flat sampling: 10 samples of one full replay each (~1 s), so the whole
    // bench takes about three minutes.
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(REQUESTS));
    for cap in [10_000u64, 100_000] {
        for name in POLICIES {
            let mut p = policy(name, cap);
            let cnt = replay(&mut p, name, &batch, cap);
            eprintln!(
                "{name:>11} c={cap}: hit ratio {:.4}, {:.1} bytes/entry ({} entries)",
                cnt.hit_ratio(),
                p.heap_bytes() as f64 / p.len().max(1) as f64,
                p.len()
            );
            g.bench_function(format!("{name}/{cap}"), |b| {
                b.iter_batched(
                    || policy(name, cap),
                    |mut p| replay(&mut p, name, &batch, cap).hits,
                    BatchSize::PerIteration,
                )
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
