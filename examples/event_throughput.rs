//! Speed of the event mode (issue 20's target: at least 5M events per
//! second on one thread). An event is a request's arrival, a fetch's
//! arrival from the origin, or (closed loop) a client's next request being
//! scheduled.
//!
//!     cargo run --release --example event_throughput [rounds]
//!
//! Workload: 10M requests of Zipf(1.0) over 1M keys at 100k requests/s, an
//! LRU of 100k objects, TTL 30 s, a 2 ms (or exp:2ms) origin; the best of
//! `rounds` (default 3) per scenario.

use cachesim::policy::{build, BuildCtx, StrategySpec};
use cachesim::sim::event::sim::{Service, Setup, Sim};
use cachesim::sim::event::{Arrivals, EventOptions};
use cachesim::sim::latency::{ModelOrigin, OriginModel};
use cachesim::sim::phases::{FreshRun, Phaser};
use cachesim::sim::replay::{ChargeModel, Rules};
use cachesim::workload::{zipf, Batch};
use std::time::Instant;

const REQUESTS: u64 = 10_000_000;
const KEYS: u64 = 1_000_000;
const CAPACITY: u64 = 100_000;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse().expect("rounds: a whole number"))
        .unwrap_or(3);
    let mut batch = Batch::new(100_000.0, 1);
    batch.keys = zipf::generate(KEYS, 1.0, REQUESTS, 42);
    let scenarios: Vec<(&str, EventOptions, OriginModel)> = vec![
        (
            "open loop (trace), unbounded origin 2ms",
            EventOptions::default(),
            OriginModel::Constant(0.002),
        ),
        (
            "closed loop, 64 clients, C=16, coalesce",
            EventOptions {
                arrivals: Arrivals::Closed { clients: 64 },
                origin_concurrency: Some(16),
                coalesce: true,
                ..EventOptions::default()
            },
            OriginModel::Exp(0.002),
        ),
        (
            "poisson, swr 1s + xfetch 1 + jitter 0.2",
            EventOptions {
                arrivals: Arrivals::Poisson,
                swr: Some(1.0),
                xfetch: Some(1.0),
                ttl_jitter: Some(0.2),
                ..EventOptions::default()
            },
            OriginModel::Exp(0.002),
        ),
    ];
    println!("| scenario | hit ratio | events | Mevents/s (best of {rounds}) | Mreq/s |");
    println!("|---|---:|---:|---:|---:|");
    let fresh = FreshRun::default();
    for (name, opts, origin) in &scenarios {
        let mut best = f64::MAX;
        let mut shown = (0.0, 0u64);
        for _ in 0..rounds {
            let spec = StrategySpec::parse("lru").expect("lru");
            let ctx = BuildCtx {
                capacity: CAPACITY,
                seed: 1,
                ttl: None,
            };
            let mut p = build(&spec, &ctx).expect("lru builds").policy;
            let setup = Setup {
                opts,
                rules: Rules::from(ChargeModel {
                    bytes: false,
                    capacity: CAPACITY,
                }),
                ttl: Some(30.0),
                rate: batch.rate,
                seed: 1,
                prefill: None,
                prefill_delta: 0.0,
            };
            let mut sim = Sim::new(
                setup,
                Service::Model(ModelOrigin::new(origin, 1)),
                Phaser::new(&fresh),
            );
            let t0 = Instant::now();
            cachesim::dispatch!(&mut p, q => {
                let mut i = 0;
                while i < batch.len() {
                    let end = (i + (1 << 20)).min(batch.len());
                    sim.feed(q, &batch, i..end, 0, None).expect("a model origin");
                    i = end;
                }
                sim.finish(q).expect("a model origin");
            });
            let wall = t0.elapsed().as_secs_f64();
            let out = sim.outcome();
            let c = out.counters;
            let closed = u64::from(opts.clients().is_some());
            let events = c.requests * (1 + closed) + out.origin.requests;
            best = best.min(wall);
            shown = (c.hit_ratio(), events);
        }
        println!(
            "| {name} | {:.4} | {} | {:.1} | {:.1} |",
            shown.0,
            shown.1,
            shown.1 as f64 / best / 1e6,
            REQUESTS as f64 / best / 1e6
        );
    }
}
