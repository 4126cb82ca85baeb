//! Throughput of the issue-8 policies next to LRU, robust to a busy machine:
//! the policies are run interleaved, several rounds, and each run is timed
//! both by the wall clock and by the thread's own on-CPU time (from
//! `/proc/thread-self/schedstat`, Linux), keeping the best of the rounds.
//! The criterion bench (`cargo bench --bench policies`) is the reference on
//! a quiet machine; this example answers "is CLOCK at least as fast as LRU"
//! when other jobs share the cores.
//!
//!     cargo run --release --example policy_throughput [rounds [policy,... [capacity,...] [hashed]]]
//!
//! Each policy is told the key space (`Policy::index_keys_below`), as
//! `cachesim run` tells it, so its slab indexes keys directly; a fourth
//! argument `hashed` withholds the hint, to time the hashed index.
//!
//! Workload: 10M requests of Zipf(1.0) over 1M keys, capacities 10k and 100k,
//! count capacity, through the real replay loop; each run starts empty.

use cachesim::policy::{build, AnyPolicy, BuildCtx, Policy, StrategySpec};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters};
use cachesim::workload::{zipf, Batch};
use std::time::Instant;

const REQUESTS: u64 = 10_000_000;
const KEYS: u64 = 1_000_000;
const POLICIES: [&str; 7] = ["lru", "clock", "sieve", "s3fifo", "slru", "2q", "arc"];

/// Nanoseconds this thread has spent on a CPU, if the kernel says.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn policy(name: &str, cap: u64, hint: bool) -> AnyPolicy {
    let spec = StrategySpec::parse(name).expect("valid spec");
    let ctx = BuildCtx {
        capacity: cap,
        seed: 1,
        ttl: None,
    };
    let mut p = build(&spec, &ctx).expect("known strategy").policy;
    if hint {
        p.index_keys_below(KEYS);
    }
    p
}

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("rounds: a whole number"))
        .unwrap_or(5);
    let names: Vec<String> = std::env::args()
        .nth(2)
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_else(|| POLICIES.iter().map(|s| s.to_string()).collect());
    let caps: Vec<u64> = std::env::args()
        .nth(3)
        .map(|s| {
            s.split(',')
                .map(|c| c.parse().expect("capacity: a whole number"))
                .collect()
        })
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let hint = std::env::args().nth(4).as_deref() != Some("hashed");
    let mut batch = Batch::new(1000.0, 1);
    batch.keys = zipf::generate(KEYS, 1.0, REQUESTS, 42);
    println!("| policy | c | hit ratio | Mreq/s (wall, best of {rounds}) | Mreq/s (on-CPU, best) | bytes/entry |");
    println!("|---|---:|---:|---:|---:|---:|");
    for &cap in &caps {
        let mut best = vec![(f64::MAX, f64::MAX); names.len()];
        let mut info = vec![(0.0, 0.0); names.len()];
        for _ in 0..rounds {
            for (i, name) in names.iter().enumerate() {
                let mut p = policy(name, cap, hint);
                let mut cnt = Counters::default();
                let charge = ChargeModel {
                    bytes: false,
                    capacity: cap,
                };
                let (c0, t0) = (cpu_ns(), Instant::now());
                cachesim::dispatch!(&mut p, q => replay_batch(q, &batch, 0..batch.len(), 0, None, charge.into(), &mut cnt));
                let wall = t0.elapsed().as_secs_f64();
                let cpu = match (c0, cpu_ns()) {
                    (Some(a), Some(b)) => (b - a) as f64 / 1e9,
                    _ => f64::NAN,
                };
                best[i].0 = best[i].0.min(wall);
                best[i].1 = best[i].1.min(cpu);
                info[i] = (cnt.hit_ratio(), p.heap_bytes() as f64 / p.len() as f64);
            }
        }
        for (i, name) in names.iter().enumerate() {
            println!(
                "| {name} | {cap} | {:.4} | {:.1} | {:.1} | {:.1} |",
                info[i].0,
                REQUESTS as f64 / best[i].0 / 1e6,
                REQUESTS as f64 / best[i].1 / 1e6,
                info[i].1
            );
        }
    }
}
