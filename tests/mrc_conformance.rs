//! Miss-ratio curves against the replay loop and published numbers:
//! the exact (Mattson) curve equals independent LRU replays at every
//! capacity on random streams (property test) and on OLTP at the ARC
//! paper's Table IV sizes; SHARDS stays close to the exact curve on P12 (1%)
//! and OLTP (10%). Trace tests skip when the traces are absent.

mod common;

use cachesim::mrc::mattson::{Histogram, StackDistances};
use cachesim::mrc::shards::{ShardsFixedRate, ShardsFixedSize};
use cachesim::mrc::{fixed_rate_curve, fixed_size_curve, Curve};
use cachesim::policy::lru::Lru;
use cachesim::request::{Op, Request};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters};
use cachesim::workload::trace::{read_all, TraceFormat};
use cachesim::workload::Batch;
use proptest::prelude::*;
use std::path::Path;

/// Reads the keys of an ARC `.lis.zst` trace: lines `start n ignore reqno`,
/// expanded to the `n` blocks `start..start+n`.
/// The trace's keys, through cachesim's own ARC reader.
fn read_lis_zst(path: &Path) -> Batch {
    read_all(path, Some(TraceFormat::Arc), 1000.0).unwrap_or_else(|e| panic!("{e}"))
}

fn exact_curve(b: &Batch) -> Curve {
    let mut s = StackDistances::new();
    let mut h = Histogram::default();
    for i in 0..b.len() {
        let k = b.keys[i];
        match b.ops.get(i).copied().unwrap_or(Op::Get) {
            Op::Get => h.record(s.access(k)),
            Op::Set => {
                s.access(k);
            }
            Op::Delete => {
                s.remove(k);
            }
        }
    }
    Curve::from_histogram(&h, s.len())
}

fn lru_replay(b: &Batch, c: u64) -> Counters {
    let mut lru = Lru::new(c);
    let mut n = Counters::default();
    replay_batch(
        &mut lru,
        b,
        0..b.len(),
        0,
        None,
        ChargeModel {
            bytes: false,
            capacity: c,
        },
        &mut n,
    );
    n
}

fn shards_rate(b: &Batch, r: f64, adj: bool) -> Curve {
    let mut s = ShardsFixedRate::new(r);
    for &k in &b.keys {
        s.get(k);
    }
    fixed_rate_curve(&s, adj)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Gets and sets over a small key space: the curve's hit count equals a
    /// real LRU replay's at every capacity up to past the working set.
    #[test]
    fn exact_curve_equals_lru_replays(
        reqs in prop::collection::vec((0u64..60, prop::bool::weighted(0.15)), 1..600)
    ) {
        let mut b = Batch::new(1.0, 1);
        for (v, &(k, set)) in reqs.iter().enumerate() {
            let op = if set { Op::Set } else { Op::Get };
            b.push(&Request { time: v as f64, key: k, size: 1, op }, v as u64);
        }
        let curve = exact_curve(&b);
        for c in 1..=62u64 {
            let n = lru_replay(&b, c);
            prop_assert_eq!(curve.gets, n.gets);
            let hits = (curve.hit_ratio(c) * curve.gets as f64).round() as u64;
            prop_assert_eq!(hits, n.hits, "capacity {}", c);
        }
    }
}

#[test]
fn oltp_exact_curve_equals_lru_at_table_iv_sizes_and_published_lru() {
    let Some(p) = common::trace("arc/OLTP.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    assert_eq!(b.len(), 914_145);
    let curve = exact_curve(&b);
    // Published LRU hit ratios (ARC paper Table IV, %), two decimals.
    for (c, published) in [
        (1000, 32.83),
        (2000, 42.47),
        (5000, 53.65),
        (10000, 60.70),
        (15000, 64.63),
    ] {
        let n = lru_replay(&b, c);
        let exact_hits = (curve.hit_ratio(c) * curve.gets as f64).round() as u64;
        assert_eq!(exact_hits, n.hits, "c={c}");
        let pct = curve.hit_ratio(c) * 100.0;
        assert!(
            (pct - published).abs() < 0.006,
            "c={c}: {pct:.3}% vs published {published}%"
        );
    }
}

/// (capacity, exact miss ratio, sampled miss ratio) where they differ most.
fn worst(exact: &Curve, sampled: &Curve, caps: &[u64]) -> (u64, f64) {
    caps.iter()
        .map(|&c| (c, (exact.hit_ratio(c) - sampled.hit_ratio(c)).abs()))
        .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a })
}

#[test]
fn shards_tracks_the_exact_curve_on_oltp_at_10_percent() {
    let Some(p) = common::trace("arc/OLTP.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    let exact = exact_curve(&b);
    let caps = [1000, 2000, 5000, 10000, 15000];
    let (c, e) = worst(&exact, &shards_rate(&b, 0.1, false), &caps);
    assert!(e <= 0.01, "plain SHARDS at 10%: error {e:.4} at c={c}");
    // SHARDS-adj: measured 0.0107 at c=2000 with our hash (see README).
    let (c, e) = worst(&exact, &shards_rate(&b, 0.1, true), &caps);
    assert!(e <= 0.025, "SHARDS-adj at 10%: error {e:.4} at c={c}");
    // Fixed size: 8k keys tracked (about 4% of OLTP's 186,880 keys).
    let mut s = ShardsFixedSize::new(8192);
    for &k in &b.keys {
        s.get(k);
    }
    assert!(s.tracked() <= 8192);
    let (c, e) = worst(&exact, &fixed_size_curve(&s), &caps);
    assert!(
        e <= 0.03,
        "fixed-size SHARDS (8k keys): error {e:.4} at c={c}"
    );
}

#[test]
fn p12_exact_matches_published_lru_and_shards_at_1_percent_tracks_it() {
    let Some(p) = common::trace("arc/P12.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    assert_eq!(b.len(), 13_208_930);
    let exact = exact_curve(&b);
    // ARC paper Table V, LRU (%); the stored trace is 0.01 off at three sizes
    // (PUBLISHED.md), hence the tolerance.
    let published = [
        (1024, 4.09),
        (2048, 4.84),
        (4096, 5.61),
        (8192, 6.22),
        (16384, 7.09),
        (32768, 8.93),
        (65536, 14.43),
        (131072, 29.21),
        (262144, 49.11),
        (524288, 60.91),
    ];
    for (c, pct) in published {
        let got = exact.hit_ratio(c) * 100.0;
        assert!(
            (got - pct).abs() <= 0.015,
            "c={c}: {got:.3}% vs published {pct}%"
        );
    }
    let caps: Vec<u64> = published.iter().map(|p| p.0).collect();
    let plain = shards_rate(&b, 0.01, false);
    // Within 0.01 up to c=131072 (measured max 0.0074); at 262144 and 524288
    // the measured errors are 0.0118 and 0.0114 (sampling noise of ~31.5k
    // sampled keys), so the bound there is 0.0125. See the README.
    let (c, e) = worst(&exact, &plain, &caps[..8]);
    assert!(e <= 0.01, "plain SHARDS at 1%: error {e:.4} at c={c}");
    let (c, e) = worst(&exact, &plain, &caps);
    assert!(e <= 0.0125, "plain SHARDS at 1%: error {e:.4} at c={c}");
    // SHARDS-adj: measured 0.022 at c=1024 (a shortfall of 2.4% sampled gets
    // from lukewarm keys, which the adjustment counts as hits).
    let (c, e) = worst(&exact, &shards_rate(&b, 0.01, true), &caps);
    assert!(e <= 0.025, "SHARDS-adj at 1%: error {e:.4} at c={c}");
}
