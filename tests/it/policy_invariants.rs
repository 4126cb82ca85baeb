//! The invariants every registered strategy must keep, checked by property
//! tests on random streams for every entry of `STRATEGIES` (so strategies
//! added later are covered without touching this file):
//! - never more than the capacity resident (objects and charge units);
//! - hits + misses = gets, and the counters add up with sets and deletes;
//! - a key just inserted is found on the next request (capacity >= 1);
//! - identical seeds give identical results;
//! - (byte-only policies, `memcached-sim`, are left out: their capacity is
//!   memory in 1 MiB pages)
//! - no strategy beats `belady` (Belady's MIN with demand fill, optimal among
//!   policies that admit every missed object) on any get-only stream, count
//!   capacity.

use cachesim::policy::{
    build, is_policy, needs_byte_capacity, needs_future, Access, AnyPolicy, BuildCtx, Evictions,
    Policy, StrategySpec, STRATEGIES,
};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters, Rules};
use cachesim::sim::write::OnWrite;
use cachesim::workload::future::next_use;
use cachesim::workload::Batch;
use cachesim::{Op, Request};
use proptest::prelude::*;

/// Long enough that no entry of `ttl` expires during a test.
const NO_EXPIRY: f64 = 1e12;

fn make(name: &str, capacity: u64, seed: u64) -> AnyPolicy {
    build(
        &StrategySpec::parse(name).unwrap(),
        &BuildCtx {
            capacity,
            seed,
            ttl: Some(NO_EXPIRY),
        },
    )
    .unwrap_or_else(|e| panic!("{name}: {e}"))
    .policy
}

/// The policies these tests cover: every registered one but those that
/// need a byte capacity of megabytes (`memcached-sim`: its capacity is
/// memory in 1 MiB pages, tested in its own file).
fn in_process(name: &str) -> bool {
    is_policy(name) && !needs_byte_capacity(name)
}

/// A get-only key stream where a key is often requested twice in a row.
fn keys() -> impl Strategy<Value = Vec<u64>> {
    (1u64..40).prop_flat_map(|n| {
        prop::collection::vec((0..n, any::<bool>()), 1..400).prop_map(|v| {
            let mut out = Vec::with_capacity(v.len() * 2);
            for (k, twice) in v {
                out.push(k);
                if twice {
                    out.push(k);
                }
            }
            out
        })
    })
}

/// Replays gets of `keys` step by step, checking capacity and the
/// just-inserted rule after every request; returns the hit sequence.
fn step_through(name: &str, keys: &[u64], cap: u64, seed: u64) -> Vec<bool> {
    let mut p = make(name, cap, seed);
    let next = next_use(keys);
    let mut ev = Evictions::default();
    let mut hits = Vec::with_capacity(keys.len());
    let mut just_inserted = None;
    for (i, &k) in keys.iter().enumerate() {
        let a = Access {
            key: k,
            charge: 1,
            time: i as f64,
            vtime: i as u64,
            next_vtime: next[i],
        };
        let hit = p.get(&a);
        if just_inserted == Some(k) && name != "none" {
            assert!(
                hit,
                "{name} c={cap}: key {k} inserted at request {} not found at {i}",
                i - 1
            );
        }
        just_inserted = None;
        if !hit {
            p.insert(&a, &mut ev);
            just_inserted = Some(k);
        }
        assert!(
            p.len() as u64 <= cap,
            "{name} c={cap}: {} resident after request {i}",
            p.len()
        );
        assert!(
            p.used() <= cap,
            "{name} c={cap}: {} units used after request {i}",
            p.used()
        );
        hits.push(hit);
    }
    hits
}

fn hits_of(name: &str, keys: &[u64], cap: u64) -> u64 {
    let mut b = Batch::new(1.0, 1);
    b.keys = keys.to_vec();
    let next = next_use(keys);
    let mut p = make(name, cap, 7);
    let mut c = Counters::default();
    let charge = ChargeModel {
        bytes: false,
        capacity: cap,
    };
    cachesim::dispatch!(&mut p, q => replay_batch(q, &b, 0..b.len(), 0, Some(&next), Rules::new(charge, OnWrite::Update), &mut c));
    assert_eq!(c.hits + c.misses, c.gets);
    c.hits
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn capacity_and_just_inserted(keys in keys(), cap in 1u64..20, seed in any::<u64>()) {
        for s in STRATEGIES.iter().filter(|s| in_process(s.name)) {
            let first = step_through(s.name, &keys, cap, seed);
            // Same seed, same result.
            prop_assert_eq!(&first, &step_through(s.name, &keys, cap, seed), "{} is not deterministic", s.name);
        }
    }

    #[test]
    fn nothing_beats_belady(keys in keys(), cap in 1u64..20) {
        let best = hits_of("belady", &keys, cap);
        for s in STRATEGIES.iter().filter(|s| in_process(s.name)) {
            let h = hits_of(s.name, &keys, cap);
            prop_assert!(h <= best, "{} has {} hits, belady {} (c={}, keys {:?})", s.name, h, best, cap, keys);
        }
    }

    #[test]
    fn counters_add_up_with_sets_deletes_and_bytes(
        reqs in prop::collection::vec((0u64..30, 1u32..50, 0u8..10), 1..300),
        cap in 1u64..200,
        bytes in any::<bool>(),
    ) {
        let mut b = Batch::new(1.0, 1);
        for (i, &(k, size, o)) in reqs.iter().enumerate() {
            let op = match o { 0 => Op::Set, 1 => Op::Delete, _ => Op::Get };
            b.push(&Request { time: i as f64, key: k, size, op }, i as u64);
        }
        let next = next_use(&b.keys);
        let charge = ChargeModel { bytes, capacity: cap };
        for s in STRATEGIES.iter().filter(|s| in_process(s.name)) {
            let mut p = make(s.name, cap, 3);
            let mut c = Counters::default();
            // One request at a time, to check the capacity after each.
            for i in 0..b.len() {
                cachesim::dispatch!(&mut p, q => replay_batch(q, &b, i..i + 1, 0, Some(&next), Rules::new(charge, OnWrite::Update), &mut c));
                prop_assert!(p.used() <= cap, "{}: {} used of {}", s.name, p.used(), cap);
                if !bytes {
                    prop_assert!(p.len() as u64 <= cap);
                }
            }
            prop_assert_eq!(c.hits + c.misses, c.gets, "{}", s.name);
            prop_assert_eq!(c.gets + c.sets + c.deletes, c.requests, "{}", s.name);
            prop_assert_eq!(c.requests, b.len() as u64);
        }
    }
}

#[test]
fn offline_strategies_are_declared() {
    assert!(needs_future("belady") && needs_future("belady-size"));
    assert!(!needs_future("lru"));
    assert!(STRATEGIES.iter().any(|s| s.name == "belady"));
}

/// Belady versus brute force (every resident key scanned at each eviction)
/// through the public API on fixed pseudo-random streams.
#[test]
fn belady_equals_brute_force_min() {
    let mut x = 1u64;
    for round in 0..100u64 {
        let keys: Vec<u64> = (0..(50 + round * 3))
            .map(|_| {
                x = cachesim::rng::splitmix(x);
                x % (2 + round % 17)
            })
            .collect();
        for cap in 1..8u64 {
            let next = next_use(&keys);
            let mut cache: Vec<(u64, u64)> = Vec::new();
            let mut brute = 0;
            for (i, &k) in keys.iter().enumerate() {
                if let Some(e) = cache.iter_mut().find(|e| e.0 == k) {
                    e.1 = next[i];
                    brute += 1;
                    continue;
                }
                if cache.len() as u64 == cap {
                    let j = (0..cache.len()).max_by_key(|&j| cache[j].1).unwrap();
                    cache.swap_remove(j);
                }
                cache.push((k, next[i]));
            }
            // Ties between never-used-again keys do not change the hit count.
            assert_eq!(
                hits_of("belady", &keys, cap),
                brute,
                "round {round} c={cap}"
            );
        }
    }
}

/// The runner gives offline strategies the future even for a single run of
/// a trace (which it would otherwise stream), and the result equals MIN.
#[test]
fn runner_provides_the_future_for_a_single_trace_run() {
    use cachesim::sim::runner::{Plan, WorkloadInput};
    use cachesim::sim::Capacity;
    let keys: Vec<u64> = (0..2000u64)
        .map(|i| cachesim::rng::splitmix(i) % 50)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys.txt");
    let text: String = keys.iter().map(|k| format!("{k}\n")).collect();
    std::fs::write(&path, text).unwrap();
    let plan = |strategy: &str| Plan {
        workloads: vec![WorkloadInput::Trace {
            path: path.clone(),
            format: None,
            rate: 1000.0,
        }],
        strategies: vec![StrategySpec::parse(strategy).unwrap()],
        capacities: vec![Capacity::parse("10").unwrap()],
        seeds: vec![1],
        ttls: vec![],
        on_writes: vec![],
        latency: None,
        histograms: None,
        fresh: Default::default(),
        fleet: None,
        l1_capacity: None,
        engines: Default::default(),
        threads: None,
    };
    let belady = plan("belady").run(true).unwrap();
    assert_eq!(belady.len(), 1);
    assert_eq!(belady[0].hits, hits_of("belady", &keys, 10));
    let lru = plan("lru").run(true).unwrap();
    assert!(
        belady[0].hits > lru[0].hits,
        "{} vs {}",
        belady[0].hits,
        lru[0].hits
    );
}
