//! Conformance against the real traces in `../shared/traces` (or
//! `$CACHESIM_TRACE_DIR`): the readers count exactly what the papers and the
//! traces' README count, and LRU/FIFO reproduce the published hit ratios.
//! Each test prints a reason and passes when its trace is absent.
//!
//! Reference numbers are copied from the sources named next to them: the ARC
//! paper (Megiddo & Modha, FAST 2003) Tables III, IV, V and VIII, BitFaster
//! PR #132, the LIRS `loop` trace's analytic anchor, and libCacheSim's
//! `test/test_evictionAlgo.c` (LRU and FIFO on cloudPhysicsIO.oracleGeneral.bin
//! with byte capacities of 128 MiB steps up to 1 GiB).

use crate::common;

use cachesim::policy::{self, BuildCtx, StrategySpec};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters, Rules};
use cachesim::sim::write::OnWrite;
use cachesim::workload::distinct::DistinctKeys;
use cachesim::workload::trace::{self, TraceFormat};
use cachesim::workload::Batch;
use std::path::Path;

/// Replays all of `batch` against a fresh `strategy` of capacity `cap`.
fn replay(batch: &Batch, strategy: &str, cap: u64, bytes: bool) -> Counters {
    let spec = StrategySpec::parse(strategy).unwrap();
    let mut built = policy::build(
        &spec,
        &BuildCtx {
            capacity: cap,
            seed: 1,
            ttl: None,
        },
    )
    .unwrap();
    let mut c = Counters::default();
    let charge = ChargeModel {
        bytes,
        capacity: cap,
    };
    cachesim::dispatch!(&mut built.policy, p => replay_batch(p, batch, 0..batch.len(), 0, None, Rules::new(charge, OnWrite::Update), &mut c));
    c
}

/// Hit ratio in percent, as the papers print it (2 decimals).
fn pct(c: &Counters) -> String {
    format!("{:.2}", 100.0 * c.hits as f64 / c.gets as f64)
}

/// Streams a trace and returns (requests, distinct keys).
fn count(path: &Path, format: Option<TraceFormat>) -> (u64, u64) {
    let mut r = trace::open(path, format.map(Into::into).as_ref()).unwrap();
    let mut b = Batch::new(1.0, 1);
    let mut d = DistinctKeys::new();
    let mut n = 0;
    while r.next_batch(&mut b, 1 << 16).unwrap() > 0 {
        n += b.len() as u64;
        d.extend(&b.keys);
    }
    (n, d.len())
}

fn load(rel: &str) -> Option<Batch> {
    let p = common::trace(rel)?;
    Some(trace::read_all(&p, None, 1000.0).unwrap())
}

#[test]
fn arc_traces_match_table_iii() {
    // ARC paper Table III: requests, unique pages.
    for (file, requests, distinct) in [
        ("arc/OLTP.lis.zst", 914_145, 186_880),
        ("arc/P2.lis.zst", 12_729_495, 913_347),
        ("arc/P3.lis.zst", 3_912_296, 762_543),
        ("arc/P6.lis.zst", 12_672_123, 773_770),
        ("arc/P12.lis.zst", 13_208_930, 3_153_310),
    ] {
        let Some(p) = common::trace(file) else {
            continue;
        };
        assert_eq!(trace::detect(&p).unwrap(), TraceFormat::Arc, "{file}");
        assert_eq!(count(&p, None), (requests, distinct), "{file}");
    }
}

#[test]
fn other_traces_match_their_readme_counts() {
    // ../shared/traces/README.md: requests, distinct keys.
    let lirs = [
        ("2_pools", 100_000, 9_939),
        ("cpp", 9_047, 1_223),
        ("cs", 6_781, 1_409),
        ("gli", 6_015, 2_529),
        ("ps", 10_448, 3_083),
        ("sprite", 133_996, 7_075),
        ("multi1", 15_858, 2_606),
        ("multi2", 26_311, 5_684),
        ("multi3", 30_241, 7_454),
        ("loop", 505_500, 1_011),
        ("scan", 50_025, 2_001),
        ("zigzag", 52_001, 2_001),
        ("backf", 9_000, 751),
    ];
    for (name, requests, distinct) in lirs {
        let file = format!("lirs/{name}.trace.gz");
        let Some(p) = common::trace(&file) else {
            continue;
        };
        assert_eq!(trace::detect(&p).unwrap(), TraceFormat::Lirs, "{file}");
        assert_eq!(count(&p, None), (requests, distinct), "{file}");
    }
    let binary = [
        ("cache2k/web07.trace.xz", TraceFormat::U32Be, 76_118, 20_484),
        ("cache2k/web12.trace.xz", TraceFormat::U32Be, 95_607, 13_756),
        (
            "cache2k/orm-busy.trace.xz",
            TraceFormat::U32Be,
            5_000_000,
            76_349,
        ),
        (
            "cache2k/orm-night.trace.xz",
            TraceFormat::U32Be,
            5_000_000,
            86_466,
        ),
        (
            "cloudphysics/w106.trace.xz",
            TraceFormat::U32Be,
            5_292_456,
            275_171,
        ),
        (
            "scarab/scarab-recs.trace.xz",
            TraceFormat::I64Be,
            1_245_184,
            258_368,
        ),
    ];
    for (file, format, requests, distinct) in binary {
        let Some(p) = common::trace(file) else {
            continue;
        };
        assert_eq!(count(&p, Some(format)), (requests, distinct), "{file}");
    }
    if let Some(p) = common::trace("cloudphysics/cloudPhysicsIO.oracleGeneral.bin") {
        assert_eq!(trace::detect(&p).unwrap(), TraceFormat::OracleGeneral);
        assert_eq!(count(&p, None), (113_872, 48_974));
        let b = trace::read_all(&p, None, 1000.0).unwrap();
        let bytes: u64 = b.sizes.iter().map(|&s| u64::from(s)).sum();
        assert_eq!(bytes, 4_368_040_448);
    }
}

#[test]
fn lru_on_oltp_matches_table_iv_and_bitfaster() {
    let Some(b) = load("arc/OLTP.lis.zst") else {
        return;
    };
    // ARC paper Table IV, LRU column.
    for (c, want) in [
        (1000, "32.83"),
        (2000, "42.47"),
        (5000, "53.65"),
        (10000, "60.70"),
        (15000, "64.63"),
    ] {
        assert_eq!(pct(&replay(&b, "lru", c, false)), want, "OLTP c={c}");
    }
    // BitFaster.Caching PR #132, classic LRU.
    for (c, want) in [
        (250, "16.47"),
        (500, "23.45"),
        (750, "28.28"),
        (1000, "32.83"),
        (1250, "36.21"),
        (1500, "38.70"),
        (1750, "40.79"),
        (2000, "42.47"),
    ] {
        assert_eq!(pct(&replay(&b, "lru", c, false)), want, "OLTP c={c}");
    }
}

#[test]
fn lru_on_p_traces_matches_table_viii() {
    // ARC paper Table VIII, LRU at c = 32768 pages (16 MB).
    for (file, want) in [
        ("arc/P2.lis.zst", "18.47"),
        ("arc/P3.lis.zst", "3.57"),
        ("arc/P6.lis.zst", "4.24"),
        ("arc/P12.lis.zst", "8.93"),
    ] {
        let Some(b) = load(file) else { continue };
        assert_eq!(pct(&replay(&b, "lru", 32768, false)), want, "{file}");
    }
}

#[test]
fn lru_on_p12_matches_table_v_within_a_hundredth() {
    let Some(b) = load("arc/P12.lis.zst") else {
        return;
    };
    // ARC paper Table V, P12, LRU column. PUBLISHED.md notes that an exact LRU
    // gives 4.08, 4.83 and 29.22 at c = 1024, 2048, 131072 (0.01 off the
    // print), so the comparison allows 0.01 point.
    for (c, want) in [
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
    ] {
        let got: f64 = pct(&replay(&b, "lru", c, false)).parse().unwrap();
        assert!((got - want).abs() <= 0.0101, "P12 c={c}: {got} vs {want}");
    }
}

#[test]
fn lru_and_fifo_on_loop_hit_only_when_the_loop_fits() {
    let Some(b) = load("lirs/loop.trace.gz") else {
        return;
    };
    // 500 passes over blocks 0..=1010: everything misses below 1011 blocks,
    // and only the first pass misses from 1011 on.
    for s in ["lru", "fifo"] {
        for c in [1, 500, 1010] {
            assert_eq!(replay(&b, s, c, false).hits, 0, "{s} c={c}");
        }
        for c in [1011, 1012, 5000] {
            assert_eq!(replay(&b, s, c, false).hits, 504_489, "{s} c={c}");
        }
    }
}

#[test]
fn byte_capacities_match_libcachesim_on_cloudphysics() {
    let Some(b) = load("cloudphysics/cloudPhysicsIO.oracleGeneral.bin") else {
        return;
    };
    const MIB: u64 = 1 << 20;
    // libCacheSim test/test_evictionAlgo.c, cache sizes 128 MiB .. 1 GiB.
    let lru_miss = [93374, 89783, 83572, 81722, 72494, 72104, 71972, 71704];
    let lru_miss_bytes: [u64; 8] = [
        4214303232, 4061242368, 3778040320, 3660569600, 3100927488, 3078128640, 3075403776,
        3061662720,
    ];
    let fifo_miss = [93403, 89386, 84387, 84025, 72498, 72228, 72182, 72140];
    let fifo_miss_bytes: [u64; 8] = [
        4213112832, 4052646400, 3829170176, 3807412736, 3093146112, 3079525888, 3079210496,
        3077547520,
    ];
    for (s, miss, miss_bytes) in [
        ("lru", lru_miss, lru_miss_bytes),
        ("fifo", fifo_miss, fifo_miss_bytes),
    ] {
        for i in 0..8 {
            let cap = 128 * MIB * (i as u64 + 1);
            let c = replay(&b, s, cap, true);
            assert_eq!(c.requests, 113_872);
            assert_eq!(c.bytes_requested, 4_368_040_448);
            assert_eq!(
                (c.misses, c.bytes_missed),
                (miss[i], miss_bytes[i]),
                "{s} at {} MiB",
                cap / MIB
            );
        }
    }
}

#[test]
fn byte_capacity_semantics() {
    // No trace needed: the rules the CloudPhysics numbers depend on.
    let mut b = Batch::new(1.0, 1);
    for (v, (k, size)) in [(1u64, 40u32), (2, 200), (1, 90), (3, 50), (1, 10), (2, 100)]
        .into_iter()
        .enumerate()
    {
        b.push(
            &cachesim::Request {
                time: v as f64,
                key: k,
                size,
                op: cachesim::Op::Get,
            },
            v as u64,
        );
    }
    let mut lru = policy::lru::Lru::new(100);
    let mut c = Counters::default();
    let charge = ChargeModel {
        bytes: true,
        capacity: 100,
    };
    replay_batch(
        &mut lru,
        &b,
        0..b.len(),
        0,
        None,
        Rules::new(charge, OnWrite::Update),
        &mut c,
    );
    use cachesim::policy::Policy;
    // 1 (40 B) admitted; 2 (200 B) larger than the cache: never admitted;
    // 1 again with 90 B: a hit, still charged 40 B; 3 (50 B) fits next to it;
    // 1 hits again; 2 (100 B) now fits only by evicting both.
    assert_eq!((c.hits, c.misses), (2, 4));
    assert_eq!(c.bytes_missed, 40 + 200 + 50 + 100);
    assert_eq!(lru.keys(), vec![2]);
    assert_eq!(lru.used(), 100);
}
