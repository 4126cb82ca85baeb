//! Miss-ratio curves against the replay loop and published numbers:
//! the exact (Mattson) curve equals independent LRU replays at every
//! capacity on random streams (property test) and on OLTP at the ARC
//! paper's Table IV sizes; SHARDS stays within 0.01 of the exact curve on
//! P12 (1%) and OLTP (10%) at every power of two from 1024 up to the working
//! set and at the paper's sizes, with measured bounds below 1024. Trace tests
//! skip when the traces are absent.

use crate::common;

use cachesim::mrc::mattson::{Histogram, StackDistances};
use cachesim::mrc::shards::{ShardsFixedRate, ShardsFixedSize};
use cachesim::mrc::{fixed_rate_curve, fixed_size_curve, Curve};
use cachesim::policy::lru::Lru;
use cachesim::request::{Op, Request};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters, Rules};
use cachesim::sim::write::OnWrite;
use cachesim::workload::trace::{read_all, TraceFormat};
use cachesim::workload::Batch;
use proptest::prelude::*;
use std::path::Path;

/// Reads the keys of an ARC `.lis.zst` trace: lines `start n ignore reqno`,
/// expanded to the `n` blocks `start..start+n`.
/// The trace's keys, through cachesim's own ARC reader.
fn read_lis_zst(path: &Path) -> Batch {
    read_all(path, Some(&TraceFormat::Arc.into()), 1000.0).unwrap_or_else(|e| panic!("{e}"))
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
        Rules::new(
            ChargeModel {
                bytes: false,
                capacity: c,
            },
            OnWrite::Update,
        ),
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

/// The capacity where the two curves differ most, and by how much.
fn worst(exact: &Curve, sampled: &Curve, caps: &[u64]) -> (u64, f64) {
    caps.iter()
        .map(|&c| (c, (exact.hit_ratio(c) - sampled.hit_ratio(c)).abs()))
        .fold((0, 0.0), |a, b| if b.1 > a.1 { b } else { a })
}

/// The accuracy grid: every power of two from 1024 up to the working set,
/// plus `published` (the paper's table sizes); and every power of two below
/// 1024, where a sampled distance's step of 1/R objects is coarse.
fn grids(distinct: u64, published: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let pow2 = (0..64).map(|i| 1u64 << i).take_while(|&c| c <= distinct);
    let (small, large): (Vec<u64>, Vec<u64>) = pow2.partition(|&c| c < 1024);
    let mut large: Vec<u64> = large.into_iter().chain(published.iter().copied()).collect();
    large.sort_unstable();
    large.dedup();
    (large, small)
}

#[test]
fn shards_tracks_the_exact_curve_on_oltp_at_10_percent() {
    let Some(p) = common::trace("arc/OLTP.lis.zst") else {
        return;
    };
    let b = read_lis_zst(&p);
    let exact = exact_curve(&b);
    let (caps, small) = grids(186_880, &[1000, 2000, 5000, 10000, 15000]);
    // SHARDS-adj (the default), measured 0.0033 from c=1000 up. This is one
    // sample's luck more than the method's: of 32 hash offsets, 8 stay
    // within 0.01 (median 0.0126), as the spread of the estimate from which
    // keys are sampled is 0.0145 at c=1024 (examples/mrc_accuracy.rs).
    let (c, e) = worst(&exact, &shards_rate(&b, 0.1, true), &caps);
    assert!(e <= 0.01, "SHARDS-adj at 10%: error {e:.4} at c={c}");
    // Below c=1000 the adjustment (the sample's surplus of 2.9% gets, put
    // at distance 0) dominates the few hits: measured 0.0285 at c=64.
    let (c, e) = worst(&exact, &shards_rate(&b, 0.1, true), &small);
    assert!(
        e <= 0.03,
        "SHARDS-adj at 10%, c < 1024: error {e:.4} at c={c}"
    );
    // Plain SHARDS: the surplus comes from hot keys, whose hits make the
    // sampled curve too good: measured 0.0208 at c=512, 0.0206 at c=1024.
    let plain = shards_rate(&b, 0.1, false);
    let all: Vec<u64> = small.iter().chain(&caps).copied().collect();
    let (c, e) = worst(&exact, &plain, &all);
    assert!(e <= 0.025, "plain SHARDS at 10%: error {e:.4} at c={c}");
    // Fixed size: 8k keys tracked (a final rate of 4.4%); measured 0.0056
    // at c=2000.
    let mut s = ShardsFixedSize::new(8192);
    for &k in &b.keys {
        s.get(k);
    }
    assert!(s.tracked() <= 8192);
    let (c, e) = worst(&exact, &fixed_size_curve(&s), &caps);
    assert!(
        e <= 0.01,
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
    let sizes: Vec<u64> = published.iter().map(|p| p.0).collect();
    let (caps, small) = grids(3_153_310, &sizes);
    assert_eq!(caps.last(), Some(&2_097_152));
    // Measured 0.0033 (SHARDS-adj) and 0.0038 (plain) from c=1024 to 2M.
    // P12's keys are runs of block numbers, which the hash samples evenly
    // (see mrc::shards): of 32 hash offsets, all stay within 0.01 plain
    // (max 0.0041) and 29 with the adjustment (max 0.0143).
    for adj in [true, false] {
        let curve = shards_rate(&b, 0.01, adj);
        let (c, e) = worst(&exact, &curve, &caps);
        assert!(e <= 0.01, "SHARDS at 1% (adj {adj}): error {e:.4} at c={c}");
        // Below c=1024, sampled distances come in steps of 1/R = 100
        // objects: a sampled distance of 2 stands for 101, so hits up to
        // about 200 count at c=128. Measured 0.0143 (plain) and 0.0137
        // (adj) at c=128.
        let (c, e) = worst(&exact, &curve, &small);
        assert!(
            e <= 0.015,
            "SHARDS at 1% (adj {adj}), c < 1024: error {e:.4} at c={c}"
        );
    }
}
