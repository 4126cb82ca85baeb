//! The event mode against theory (Erlang C, the XFetch formula, one fetch
//! per expiry with coalescing, the plain loop's counts at zero latency) and
//! hand-worked sequences for each defence.

use super::sim::{Outcome, Service, Setup, Sim};
use super::{Arrivals, EventOptions};
use crate::policy::{self, AnyPolicy, BuildCtx, Policy, StrategySpec};
use crate::request::{Key, Op};
use crate::sim::expiry::Deadlines;
use crate::sim::freshness::Versions;
use crate::sim::latency::{ModelOrigin, NoLatency, OriginModel};
use crate::sim::phases::{Driver, FreshOptions, FreshRun, Phaser};
use crate::sim::replay::{replay_batch_with, ChargeModel, Counters, Rules};
use crate::sim::write::OnWrite;
use crate::workload::Batch;

fn charge(capacity: u64) -> ChargeModel {
    ChargeModel {
        bytes: false,
        capacity,
    }
}

/// A batch of `(key, time, op, ttl)`.
fn batch(reqs: &[(Key, f64, Op, f32)]) -> Batch {
    Batch::of_requests(1000.0, reqs)
}

/// Gets of `keys` at `times`, without TTLs of their own.
fn gets(reqs: &[(Key, f64)]) -> Batch {
    let v: Vec<_> = reqs.iter().map(|&(k, t)| (k, t, Op::Get, 0.0)).collect();
    batch(&v)
}

struct Case<'a> {
    opts: EventOptions,
    origin: OriginModel,
    ttl: Option<f64>,
    capacity: u64,
    on_write: OnWrite,
    window: Option<u64>,
    warmup: u64,
    prefill: Option<&'a [(Key, u32)]>,
    next_use: Option<&'a [u64]>,
}

impl Default for Case<'_> {
    fn default() -> Self {
        Case {
            opts: EventOptions::default(),
            origin: OriginModel::Constant(0.0),
            ttl: None,
            capacity: 1000,
            on_write: OnWrite::Invalidate,
            window: None,
            warmup: 0,
            prefill: None,
            next_use: None,
        }
    }
}

impl Case<'_> {
    /// Runs `b` through `p` in the event mode, fed in pieces of 1000.
    fn run<P: Policy + ?Sized>(&self, p: &mut P, b: &Batch) -> Outcome {
        let fresh = FreshRun {
            opts: FreshOptions {
                window: self.window,
                ..FreshOptions::default()
            },
            warmup: self.warmup,
            ..FreshRun::default()
        };
        let setup = Setup {
            opts: &self.opts,
            rules: Rules::new(charge(self.capacity), self.on_write),
            ttl: self.ttl,
            rate: b.rate,
            seed: 7,
            prefill: self.prefill,
            prefill_delta: 0.0,
        };
        let service = Service::Model(ModelOrigin::new(&self.origin, 7));
        let mut sim = Sim::new(setup, service, Phaser::new(&fresh));
        let mut i = 0;
        while i < b.len() {
            let end = (i + 1000).min(b.len());
            sim.feed(p, b, i..end, 0, self.next_use).unwrap();
            i = end;
        }
        sim.finish(p).unwrap();
        sim.outcome()
    }

    fn lru(&self, b: &Batch) -> Outcome {
        self.run(&mut crate::policy::lru::Lru::new(self.capacity), b)
    }
}

fn build(name: &str, capacity: u64) -> AnyPolicy {
    policy::build(
        &StrategySpec::parse(name).unwrap(),
        &BuildCtx {
            capacity,
            seed: 3,
            ttl: None,
        },
    )
    .unwrap()
    .policy
}

/// Sorted recorded values of a histogram, in seconds.
fn values_s(h: &hdrhistogram::Histogram<u64>) -> Vec<f64> {
    let mut v = Vec::new();
    for x in h.iter_recorded() {
        for _ in 0..x.count_at_value() {
            v.push((x.value_iterated_to() as f64 / 1e6).round() / 1e3);
        }
    }
    v
}

#[test]
fn with_an_unbounded_origin_and_zero_latency_every_policy_counts_as_the_plain_loop() {
    // Gets, sets and deletes; TTLs on some fills; several requests at the
    // same instant (ties); a skewed key space larger than the cache.
    let keys = crate::policy::testkit::skewed(20_000, 300);
    let reqs: Vec<(Key, f64, Op, f32)> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| {
            let op = match i % 31 {
                0 => Op::Delete,
                x if x % 7 == 3 => Op::Set,
                _ => Op::Get,
            };
            let ttl = if i % 5 == 0 { 0.4 } else { 0.0 };
            (k, (i / 3) as f64 * 0.01, op, ttl)
        })
        .collect();
    let b = batch(&reqs);
    let next = crate::workload::future::next_use(&b.keys);
    for info in policy::POLICIES {
        if policy::needs_byte_capacity(info.name) {
            continue;
        }
        for on_write in [OnWrite::Invalidate, OnWrite::Update, OnWrite::None] {
            let mut plain = build(info.name, 64);
            let mut c = Counters::default();
            let mut versions = Versions::default();
            crate::dispatch!(&mut plain, p => replay_batch_with(
                p,
                &b,
                0..b.len(),
                0,
                Some(&next),
                Rules::new(charge(64), on_write),
                &mut c,
                &mut NoLatency,
                &mut versions,
                &mut Deadlines::default(),
            ))
            .unwrap();
            let case = Case {
                capacity: 64,
                on_write,
                next_use: Some(&next),
                ..Case::default()
            };
            let mut events = build(info.name, 64);
            let out = crate::dispatch!(&mut events, p => case.run(p, &b));
            let name = format!("{} {}", info.name, on_write.as_str());
            assert_eq!(out.counters, c, "{name}");
            assert_eq!(out.stale, versions.stale, "{name}");
            assert_eq!(out.origin.requests, c.misses, "{name}");
            assert_eq!(out.stats, Default::default(), "{name}");
            assert_eq!(plain.len(), events.len(), "{name}");
        }
    }
}

#[test]
fn the_plain_driver_and_the_event_mode_agree_on_warm_up_and_windows_at_zero_latency() {
    let keys = crate::policy::testkit::skewed(5000, 200);
    let reqs: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as f64 * 0.001))
        .collect();
    let b = gets(&reqs);
    let fresh = FreshRun {
        opts: FreshOptions {
            window: Some(700),
            ..FreshOptions::default()
        },
        warmup: 1200,
        ..FreshRun::default()
    };
    let mut d = Driver::new(&fresh);
    let mut lru = crate::policy::lru::Lru::new(50);
    let mut c = Counters::default();
    d.feed(
        &mut lru,
        &b,
        0..b.len(),
        0,
        None,
        charge(50),
        &mut c,
        &mut NoLatency,
    )
    .unwrap();
    d.finish(&c);
    let out = Case {
        capacity: 50,
        window: Some(700),
        warmup: 1200,
        ..Case::default()
    }
    .lru(&b);
    // The warm-up is not counted, in the counters as in the origin's.
    assert_eq!(out.counters, c);
    assert_eq!(out.origin.requests, c.misses);
    let plain: Vec<_> = d
        .phases
        .timeline
        .iter()
        .map(|p| (p.request, p.window_hits, p.window_gets))
        .collect();
    let event: Vec<_> = out
        .phases
        .timeline
        .iter()
        .map(|p| (p.request, p.window_hits, p.window_gets))
        .collect();
    assert_eq!(plain, event);
    // Every window knows its origin load: its misses here.
    for p in &out.phases.timeline {
        assert_eq!(p.origin.unwrap()[0], p.window_gets - p.window_hits);
    }
}

/// The Erlang C probability that an arrival waits, M/M/c with offered
/// load `a` (arrival rate / service rate).
fn erlang_c(c: u32, a: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 1..c {
        term *= a / k as f64;
        sum += term;
    }
    let top = term * a / c as f64 * (c as f64 / (c as f64 - a));
    top / (sum + top)
}

#[test]
fn without_a_cache_poisson_arrivals_queue_as_erlang_c_predicts() {
    // M/M/c: arrivals at 3000/s, exponential service with mean 1 ms, c = 4
    // (utilisation 0.75). Every get misses (no cache).
    let (lambda, mean, c) = (3000.0, 0.001, 4u32);
    let n = 1_000_000u64;
    let mut b = Batch::new(lambda, 1);
    b.keys = (0..n).collect();
    let case = Case {
        opts: EventOptions {
            arrivals: Arrivals::Poisson,
            origin_concurrency: Some(u64::from(c)),
            ..EventOptions::default()
        },
        origin: OriginModel::Exp(mean),
        ..Case::default()
    };
    let out = case.run(&mut build("none", 1), &b);
    let a = lambda * mean;
    let p_wait = erlang_c(c, a);
    let wq = p_wait / (f64::from(c) / mean - lambda);
    let waits = &out.origin.waits;
    assert_eq!(waits.len(), n);
    let mean_wait = out.origin.wait_total_s / n as f64;
    let waited = (n - waits.count_at(0)) as f64 / n as f64;
    assert!(
        (mean_wait / wq - 1.0).abs() < 0.05,
        "mean wait {mean_wait} s, Erlang C {wq} s"
    );
    assert!(
        (waited - p_wait).abs() < 0.01,
        "P(wait) {waited}, Erlang C {p_wait}"
    );
    // The tail: P(W > t) = C e^{-(c mu - lambda) t}.
    let p99 = (p_wait / 0.01).ln() / (f64::from(c) / mean - lambda);
    let got = waits.value_at_quantile(0.99) as f64 / 1e9;
    assert!(
        (got / p99 - 1.0).abs() < 0.05,
        "p99 {got} s, theory {p99} s"
    );
    assert!(out.origin.peak > u64::from(c));
}

#[test]
fn with_coalescing_each_expiry_of_a_key_costs_exactly_one_origin_request() {
    // 40 closed-loop clients on 30 keys, a slow origin, a TTL: many gets
    // arrive while a key's fetch is in flight.
    let keys = crate::policy::testkit::skewed(100_000, 30);
    let mut b = Batch::new(2000.0, 1);
    b.keys = keys;
    let distinct = b.distinct_keys();
    for coalesce in [false, true] {
        let out = Case {
            opts: EventOptions {
                arrivals: Arrivals::Closed { clients: 40 },
                coalesce,
                ..EventOptions::default()
            },
            origin: OriginModel::Exp(0.05),
            ttl: Some(1.0),
            ..Case::default()
        }
        .lru(&b);
        let c = out.counters;
        let s = out.stats;
        assert!(c.expirations > 1000, "{c:?}");
        assert_eq!(c.gets, c.hits + c.misses);
        if coalesce {
            assert_eq!(out.origin.requests, distinct + c.expirations);
            assert_eq!(s.duplicate_fetches, 0);
            assert_eq!(c.misses, out.origin.requests + s.coalesced);
            assert!(s.coalesced > 1000, "{s:?}");
        } else {
            assert_eq!(s.coalesced, 0);
            assert!(s.duplicate_fetches > 1000, "{s:?}");
            assert_eq!(
                out.origin.requests,
                distinct + c.expirations + s.duplicate_fetches
            );
            assert_eq!(c.misses, out.origin.requests);
        }
    }
}

#[test]
fn xfetch_recomputes_early_as_often_as_the_papers_formula_says() {
    // One key read every second; each fetch takes delta = 0.5 s; TTL 10 s.
    // A fill at t + 0.5 expires at t + 10.5, so the reads after it come at
    // x = 9.5, 8.5, ..., 0.5 s before expiry; each recomputes early with
    // probability exp(-x / (delta beta)) (XFetch: -delta beta ln U >= x), and
    // the read at x = -0.5 misses. A cycle ends at the first of these; by
    // renewal-reward the share of reads that recompute early is P(early in
    // a cycle) / E[reads per cycle].
    for beta in [1.0, 2.0] {
        let n = 200_000;
        let reqs: Vec<_> = (0..n).map(|i| (1, i as f64)).collect();
        let out = Case {
            opts: EventOptions {
                xfetch: Some(beta),
                ..EventOptions::default()
            },
            origin: OriginModel::Constant(0.5),
            ttl: Some(10.0),
            ..Case::default()
        }
        .lru(&gets(&reqs));
        let (mut none_yet, mut mean_len, mut p_early) = (1.0, 0.0, 0.0);
        for j in 1..=10 {
            let x = 10.5 - j as f64;
            let p = (-x / (0.5 * beta)).exp();
            p_early += none_yet * p;
            mean_len += j as f64 * none_yet * p;
            none_yet *= 1.0 - p;
        }
        mean_len += 11.0 * none_yet;
        let want_early = p_early / mean_len;
        let want_expired = none_yet / mean_len;
        let c = out.counters;
        let early = out.stats.early_refreshes as f64 / c.gets as f64;
        let expired = c.expirations as f64 / c.gets as f64;
        assert!(
            (early / want_early - 1.0).abs() < 0.03,
            "beta {beta}: early share {early}, formula {want_early}"
        );
        assert!(
            (expired / want_expired - 1.0).abs() < 0.05,
            "beta {beta}: expiry share {expired}, formula {want_expired}"
        );
        assert_eq!(c.misses, out.stats.early_refreshes + c.expirations + 1);
    }
}

#[test]
fn coalescing_by_hand_one_fetch_answers_every_waiter() {
    // Key 1 at 0, 0.1, 0.2 with a 1 s origin; then a hit at 1.5.
    let b = gets(&[(1, 0.0), (1, 0.1), (1, 0.2), (1, 1.5)]);
    let run = |coalesce| {
        Case {
            opts: EventOptions {
                coalesce,
                ..EventOptions::default()
            },
            origin: OriginModel::Constant(1.0),
            ..Case::default()
        }
        .lru(&b)
    };
    let out = run(false);
    assert_eq!((out.counters.hits, out.counters.misses), (1, 3));
    assert_eq!((out.origin.requests, out.stats.duplicate_fetches), (3, 2));
    assert_eq!(values_s(&out.misses), vec![1.0, 1.0, 1.0]);
    assert_eq!(out.origin.peak, 3);
    let out = run(true);
    assert_eq!((out.counters.hits, out.counters.misses), (1, 3));
    assert_eq!((out.origin.requests, out.stats.coalesced), (1, 2));
    assert_eq!(values_s(&out.misses), vec![0.8, 0.9, 1.0]);
    assert_eq!(out.origin.peak, 1);
}

#[test]
fn stale_while_revalidate_by_hand() {
    // TTL 1 s, served stale for 2 s more, origin 0.5 s.
    let b = gets(&[
        (1, 0.0),  // miss: filled at 0.5, expires at 1.5
        (1, 1.0),  // hit
        (1, 2.0),  // stale serve, refresh: filled at 2.5, expires at 3.5
        (1, 2.2),  // stale serve, the refresh is in flight: no second one
        (1, 3.0),  // fresh hit
        (1, 5.0),  // stale serve (3.5 + 2 > 5), refresh: expires at 6.5
        (1, 8.0),  // stale serve (8.0 < 8.5), refresh: expires at 9.5
        (1, 9.0),  // fresh hit
        (1, 12.0), // past 9.5 + 2: expired, a miss
    ]);
    let out = Case {
        opts: EventOptions {
            swr: Some(2.0),
            ..EventOptions::default()
        },
        origin: OriginModel::Constant(0.5),
        ttl: Some(1.0),
        ..Case::default()
    }
    .lru(&b);
    let c = out.counters;
    assert_eq!((c.gets, c.hits, c.misses, c.expirations), (9, 7, 2, 1));
    assert_eq!(out.stats.stale_serves, 4);
    assert_eq!(out.stats.background_refreshes, 3);
    assert_eq!(out.origin.requests, 5);
    // Stale serves answer at once; only the two misses waited.
    assert_eq!(values_s(&out.misses), vec![0.5, 0.5]);
}

#[test]
fn ttl_jitter_spreads_the_deadlines_over_the_last_share_of_the_ttl() {
    // 3000 keys filled at 0 with TTL 10 s, re-read at 4.99 s (keys
    // 0..1000), 7.5 s (1000..2000) and 10 s (2000..3000).
    let mut reqs: Vec<_> = (0..3000).map(|k| (k, 0.0)).collect();
    for (t, keys) in [(4.99, 0..1000), (7.5, 1000..2000), (10.0, 2000..3000)] {
        reqs.extend(keys.map(|k| (k, t)));
    }
    let b = gets(&reqs);
    let run = |jitter| {
        Case {
            opts: EventOptions {
                ttl_jitter: jitter,
                ..EventOptions::default()
            },
            ttl: Some(10.0),
            capacity: 10_000,
            ..Case::default()
        }
        .lru(&b)
        .counters
        .expirations
    };
    assert_eq!(run(None), 1000);
    // Deadlines uniform in [5, 10]: none before 5, half by 7.5, all by 10.
    let e = run(Some(0.5));
    assert!((1450..=1550).contains(&e), "{e}");
    assert_eq!(run(Some(0.5)), e, "seeded");
}

#[test]
fn xfetch_by_hand_a_large_beta_recomputes_on_every_read() {
    let b = gets(&[(1, 0.0), (1, 1.0), (1, 2.0), (1, 3.0)]);
    let out = Case {
        opts: EventOptions {
            xfetch: Some(1000.0),
            ..EventOptions::default()
        },
        origin: OriginModel::Constant(0.5),
        ttl: Some(2.0),
        ..Case::default()
    }
    .lru(&b);
    // The first read misses; each later one, 1.5 s before expiry,
    // recomputes (and waits 0.5 s): it does not only if -500 ln U < 1.5,
    // that is with probability 0.3%.
    assert_eq!(out.stats.early_refreshes, 3);
    assert_eq!((out.counters.hits, out.counters.misses), (0, 4));
    assert_eq!(out.origin.requests, 4);
    assert_eq!(values_s(&out.misses), vec![0.5; 4]);
}

#[test]
fn a_bounded_origin_serves_in_arrival_order() {
    // One slot, 1 s each: three misses at 0, 0.1, 0.2.
    let b = gets(&[(1, 0.0), (2, 0.1), (3, 0.2)]);
    let out = Case {
        opts: EventOptions {
            origin_concurrency: Some(1),
            ..EventOptions::default()
        },
        origin: OriginModel::Constant(1.0),
        ..Case::default()
    }
    .lru(&b);
    // (The histogram keeps 3 significant digits.)
    let got = values_s(&out.misses);
    for (g, w) in got.iter().zip([1.0, 1.9, 2.8]) {
        assert!((g - w).abs() < 0.005, "{got:?}");
    }
    assert!((out.origin.wait_total_s - 2.7).abs() < 1e-9);
    assert_eq!(out.origin.peak, 3);
}

#[test]
fn closed_loop_clients_send_a_think_time_after_their_answer() {
    // Two clients, think 1 s, origin 0.5 s, every get a miss: the pairs of
    // requests go out at 1, 2.5, 4, ...
    let reqs: Vec<_> = (0..10).map(|k| (k, 0.0)).collect();
    let out = Case {
        opts: EventOptions {
            arrivals: Arrivals::Closed { clients: 2 },
            think: Some(OriginModel::Constant(1.0)),
            ..EventOptions::default()
        },
        origin: OriginModel::Constant(0.5),
        window: Some(2),
        ..Case::default()
    }
    .lru(&gets(&reqs));
    let times: Vec<f64> = out.phases.timeline.iter().map(|p| p.time_s).collect();
    assert_eq!(times, vec![1.0, 2.5, 4.0, 5.5, 7.0]);
    assert_eq!(out.origin.peak, 2);
}

#[test]
fn prefilled_keys_expire_together_unless_their_ttls_are_jittered() {
    // 100 keys prefilled at 0 with TTL 5 s, all read at 4 s: none has
    // expired; with jitter 0.5 the deadlines spread over [2.5, 5] and 60%
    // have. At 5 s all have.
    let keys: Vec<(Key, u32)> = (0..100).map(|k| (k, 1)).collect();
    let mut reqs = vec![(1000, 0.0)];
    reqs.extend((0..100).map(|k| (k, 4.0)));
    reqs.extend((0..100).map(|k| (k, 5.0)));
    let b = gets(&reqs);
    let run = |jitter| {
        let out = Case {
            opts: EventOptions {
                ttl_jitter: jitter,
                ..EventOptions::default()
            },
            ttl: Some(5.0),
            prefill: Some(&keys),
            window: Some(101),
            ..Case::default()
        }
        .lru(&b);
        let at_4s = &out.phases.timeline[0];
        (out.counters.expirations, 100 - at_4s.window_hits)
    };
    // Without jitter: 100 hits at 4 s, 100 expirations at 5 s.
    assert_eq!(run(None), (100, 0));
    let (expired, at_4s) = run(Some(0.5));
    assert!((45..=75).contains(&at_4s), "{at_4s} expired at 4 s");
    // Every prefilled key expires once by 5 s: early at 4 s or then (a
    // key refilled at 4 s expires again only at 4 + [2.5, 5]).
    assert_eq!(expired, 100);
}
