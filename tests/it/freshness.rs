//! Freshness and warm-up (issue 9): write policies and stale hits, TTL
//! sweeps, warm-up, prefill, the timeline, and the YCSB and shifting/scanning
//! Zipf presets. Library-level checks first, then the CLI end to end.

use crate::common;
use common::{cachesim, stderr};

use cachesim::policy::{Access, Evictions, Policy, StrategySpec};
use cachesim::sim::freshness::OnWrite;
use cachesim::sim::phases::{self, Driver, FreshOptions, Warmup, TIMELINE_COLUMNS};
use cachesim::sim::replay::{ChargeModel, Counters, Rules};
use cachesim::sim::runner::{Plan, WorkloadInput};
use cachesim::sim::{Capacity, RunResult};
use cachesim::workload::zipf::zipf_weights;
use cachesim::workload::Preset;
use cachesim::Op;
use std::path::Path;

fn preset(name: &str, requests: u64, keys: u64, f: impl FnOnce(&mut Preset)) -> WorkloadInput {
    let mut p = Preset::load(name).unwrap();
    p.requests = requests;
    p.keys = keys;
    f(&mut p);
    WorkloadInput::Preset {
        preset: p,
        label: name.into(),
    }
}

fn plan(w: WorkloadInput, strategies: &str, caps: &str, ttls: &[f64], fresh: FreshOptions) -> Plan {
    Plan {
        workloads: vec![w],
        strategies: StrategySpec::parse_list(strategies).unwrap(),
        capacities: Capacity::parse_list(caps).unwrap(),
        seeds: vec![7],
        ttls: ttls.to_vec(),
        on_writes: vec![],
        latency: None,
        histograms: None,
        fresh,
        fleet: None,
        l1_capacity: None,
        engines: Default::default(),
        threads: None,
    }
}

fn on_write(w: OnWrite) -> FreshOptions {
    FreshOptions {
        on_write: w,
        ..Default::default()
    }
}

fn zipf_with_writes(requests: u64, ratio: f64) -> WorkloadInput {
    preset("zipf", requests, 10_000, |p| p.write_ratio = Some(ratio))
}

const ALL: &str = "none,lru,fifo,lfu,ttl:ttl=30s,random";

#[test]
fn invalidate_and_update_never_serve_stale_data() {
    for w in [OnWrite::Invalidate, OnWrite::Update] {
        let rows = plan(
            zipf_with_writes(100_000, 0.1),
            ALL,
            "1%,10%",
            &[],
            on_write(w),
        )
        .run(true)
        .unwrap();
        for r in &rows {
            assert!(
                r.writes > 9_000,
                "{w:?} {}: {} writes",
                r.strategy,
                r.writes
            );
            assert_eq!(r.writes, r.sets);
            assert_eq!(r.stale_hits, 0, "{w:?} {}", r.strategy);
            assert_eq!(r.stale_age_mean_s, None);
            assert_eq!(r.requests, r.gets + r.writes);
            assert_eq!(r.origin_requests, r.misses + r.writes);
        }
        // The policies do work: LRU at 10% hits.
        assert!(rows.iter().any(|r| r.hit_ratio > 0.3));
    }
}

#[test]
fn update_keeps_more_hits_than_invalidate() {
    let run = |w| {
        plan(
            zipf_with_writes(100_000, 0.1),
            "lru",
            "10%",
            &[],
            on_write(w),
        )
        .run(true)
        .unwrap()[0]
            .hits
    };
    assert!(run(OnWrite::Update) > run(OnWrite::Invalidate));
}

#[test]
fn without_a_write_policy_or_ttl_stale_hits_appear_and_age() {
    let run = |requests| -> RunResult {
        plan(
            zipf_with_writes(requests, 0.05),
            "lru",
            "10%",
            &[],
            on_write(OnWrite::None),
        )
        .run(true)
        .unwrap()
        .remove(0)
    };
    let short = run(50_000);
    let long = run(200_000);
    for r in [&short, &long] {
        assert!(r.stale_hits > 0 && r.stale_hits <= r.hits);
        assert!((r.stale_hit_ratio - r.stale_hits as f64 / r.gets as f64).abs() < 1e-12);
        let (mean, max) = (r.stale_age_mean_s.unwrap(), r.stale_age_max_s.unwrap());
        assert!(mean > 0.0 && mean <= max);
        // Ages are bounded by the stream's duration (1000 requests/s).
        assert!(max <= r.requests as f64 / 1000.0);
    }
    // A hot key stays cached, and stale, for ever: the longer the stream,
    // the older the data it serves.
    let (a, b) = (
        short.stale_age_mean_s.unwrap(),
        long.stale_age_mean_s.unwrap(),
    );
    assert!(
        b > 2.0 * a,
        "mean stale age {a} s over 50k, {b} s over 200k"
    );
    assert!(long.stale_age_max_s.unwrap() > 3.0 * short.stale_age_max_s.unwrap());
    assert!(long.stale_hit_ratio > short.stale_hit_ratio);
}

#[test]
fn a_ttl_bounds_the_stale_age_and_the_sweep_is_one_run_per_ttl() {
    let rows = plan(
        zipf_with_writes(100_000, 0.05),
        "lru,ttl",
        "10%",
        &[0.5, 5.0, 50.0],
        on_write(OnWrite::None),
    )
    .run(true)
    .unwrap();
    assert_eq!(rows.len(), 6);
    let ttl: Vec<&RunResult> = rows
        .iter()
        .filter(|r| r.strategy.starts_with("ttl"))
        .collect();
    let names: Vec<&str> = ttl.iter().map(|r| r.strategy.as_str()).collect();
    assert_eq!(names, ["ttl:ttl=500ms", "ttl:ttl=5s", "ttl:ttl=50s"]);
    for r in &ttl {
        let t = r.ttl_s.unwrap();
        // A value served from cache is at most one TTL old.
        assert!(r.stale_age_max_s.unwrap() < t, "{}", r.strategy);
    }
    // Longer TTL: more hits, and more of them stale.
    assert!(ttl[0].hit_ratio < ttl[1].hit_ratio && ttl[1].hit_ratio < ttl[2].hit_ratio);
    assert!(ttl[0].stale_hit_ratio < ttl[2].stale_hit_ratio);
    // Other strategies ignore the TTL: identical counts along the axis.
    let lru: Vec<&RunResult> = rows.iter().filter(|r| r.strategy == "lru").collect();
    assert_eq!(
        lru.iter().map(|r| r.ttl_s).collect::<Vec<_>>(),
        [Some(0.5), Some(5.0), Some(50.0)]
    );
    assert!(lru
        .iter()
        .all(|r| r.hits == lru[0].hits && r.stale_hits == lru[0].stale_hits));
}

#[test]
fn a_ttl_shorter_than_every_gap_gives_no_hits() {
    // At 1000 requests/s two requests are at least 1 ms apart: a 0.5 ms TTL
    // expires every entry before its key comes back, even with room for all.
    let rows = plan(
        preset("zipf", 50_000, 1_000, |_| {}),
        "ttl",
        "100%",
        &[0.0005, 10.0],
        Default::default(),
    )
    .run(true)
    .unwrap();
    assert_eq!(rows[0].hits, 0);
    assert_eq!(rows[0].misses, rows[0].gets);
    assert!(rows[0].expirations > 0);
    assert!(rows[1].hit_ratio > 0.8, "{}", rows[1].hit_ratio);
    // The loop of `scan` comes back to a key after exactly 1 s; reads do
    // not extend a TTL, so 1.001 s hits every other lap (miss, hit, miss...).
    let rows = plan(
        preset("scan", 5_000, 1_000, |_| {}),
        "ttl",
        "100%",
        &[0.999, 1.001, 5.0],
        Default::default(),
    )
    .run(true)
    .unwrap();
    let hits: Vec<u64> = rows.iter().map(|r| r.hits).collect();
    assert_eq!(hits, [0, 2_000, 4_000]);
}

#[test]
fn warmup_excludes_exactly_n_requests() {
    let w = || zipf_with_writes(80_000, 0.05);
    let fresh = |warmup| FreshOptions {
        warmup,
        on_write: OnWrite::None,
        ..Default::default()
    };
    let full = plan(w(), "lru,lfu,ttl", "5%", &[], fresh(None))
        .run(true)
        .unwrap();
    let warm = plan(
        w(),
        "lru,lfu,ttl",
        "5%",
        &[],
        fresh(Some(Warmup::Requests(20_000))),
    )
    .run(true)
    .unwrap();
    let pct = plan(
        w(),
        "lru,lfu,ttl",
        "5%",
        &[],
        fresh(Some(Warmup::Percent(25.0))),
    )
    .run(true)
    .unwrap();
    // The first 20k requests alone: the same prefix of the same stream.
    let head = plan(
        zipf_with_writes(20_000, 0.05),
        "lru,lfu,ttl",
        "5%",
        &[],
        fresh(None),
    );
    // Capacity must resolve the same: pin it from the full run.
    let mut head = head;
    head.capacities = vec![Capacity::Count(full[0].capacity)];
    let head = head.run(true).unwrap();
    for i in 0..3 {
        let (f, w, p, h) = (&full[i], &warm[i], &pct[i], &head[i]);
        assert_eq!(w.capacity, f.capacity);
        assert_eq!(w.requests, f.requests - 20_000);
        // Same stream, same cache state: the counted part is what the full
        // run counted after its first 20k requests.
        assert_eq!(w.gets, f.gets - h.gets, "{}", f.strategy);
        assert_eq!(w.hits, f.hits - h.hits, "{}", f.strategy);
        assert_eq!(w.writes, f.writes - h.writes);
        assert_eq!(w.evictions, f.evictions - h.evictions);
        assert_eq!(w.stale_hits, f.stale_hits - h.stale_hits);
        let same = RunResult {
            elapsed_s: p.elapsed_s,
            requests_per_s: p.requests_per_s,
            ..w.clone()
        };
        assert_eq!(p, &same, "25% of 80k is the same warm-up");
    }
}

/// A cache that admits until full and then never changes: prefilled with the
/// top K, it is the oracle LFU of an IRM stream (the K most probable keys,
/// for ever).
struct Static(std::collections::HashSet<u64>, usize);

impl Policy for Static {
    fn get(&mut self, a: &Access) -> bool {
        self.0.contains(&a.key)
    }
    fn insert(&mut self, a: &Access, _ev: &mut Evictions) {
        if self.0.len() < self.1 {
            self.0.insert(a.key);
        }
    }
    fn remove(&mut self, key: u64) -> bool {
        self.0.remove(&key)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn used(&self) -> u64 {
        self.0.len() as u64
    }
}

#[test]
fn prefill_of_top_k_is_the_oracle_lfu_hit_ratio_on_irm_zipf() {
    let (n, k, requests, alpha) = (10_000u64, 500u64, 200_000u64, 0.9);
    let w = preset("zipf", requests, n, |p| p.alpha = Some(alpha));
    let prepared = w.prepare(3, 1).unwrap();
    let fresh = phases::resolve(
        &FreshOptions {
            prefill: Some(k),
            ..Default::default()
        },
        &w,
        &prepared,
        1,
    )
    .unwrap();
    let keys = fresh.prefill_keys.clone().unwrap();
    assert_eq!(keys.len(), k as usize);
    let cachesim::sim::runner::Data::Memory(batch) = &prepared.data else {
        panic!("a preset is in memory")
    };
    let mut cache = Static(Default::default(), k as usize);
    let mut c = Counters::default();
    let mut d = Driver::new(&fresh);
    let charge = ChargeModel {
        bytes: false,
        capacity: k,
    };
    d.feed(
        &mut cache,
        batch,
        0..batch.len(),
        0,
        None,
        charge,
        &mut c,
        &mut cachesim::sim::latency::NoLatency,
    )
    .unwrap();
    assert_eq!(cache.len(), k as usize);
    let w = zipf_weights(n, alpha);
    let expected: f64 = w[..k as usize].iter().sum::<f64>() / w.iter().sum::<f64>();
    let sd = (expected * (1.0 - expected) / requests as f64).sqrt();
    let got = c.hit_ratio();
    assert!(
        (got - expected).abs() < 4.0 * sd,
        "{got} vs analytic {expected} (sd {sd})"
    );
    // Any other K keys do worse: the prefill picked the most popular.
    let mut other = Static(keys.iter().map(|&(key, _)| (key + 1) % n).collect(), 0);
    let mut c2 = Counters::default();
    cachesim::sim::replay_batch(
        &mut other,
        batch,
        0..batch.len(),
        0,
        None,
        Rules::new(charge, OnWrite::Update),
        &mut c2,
    );
    assert!(c2.hit_ratio() < expected / 2.0, "{}", c2.hit_ratio());
}

#[test]
fn prefill_from_a_trace_counts_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.txt");
    std::fs::write(&t, "1\n2\n2\n3\n3\n3\n4\n3\n2\n").unwrap();
    let w = WorkloadInput::Trace {
        path: t,
        format: None,
        rate: 1000.0,
    };
    for runs in [1, 2] {
        let prepared = w.prepare(1, runs).unwrap();
        let fresh = phases::resolve(
            &FreshOptions {
                prefill: Some(2),
                ..Default::default()
            },
            &w,
            &prepared,
            1,
        )
        .unwrap();
        assert_eq!(fresh.prefill_keys.unwrap().as_slice(), &[(3, 1), (2, 1)]);
    }
    // Through the runner: the least popular goes in first, so an LRU of 2
    // starts as [2, 3] (3 most recent). Then 1 misses, evicting 2: [3, 1];
    // 2 misses: [1, 2]; 2 hits; 3 misses: [2, 3]; 3, 3 hit; 4 misses:
    // [3, 4]; 3 hits; 2 misses. Without the prefill the first 2 is a miss too
    // and the same 4 hits follow, so compare the misses of key 1 and 2.
    let rows = plan(
        w,
        "lru",
        "2",
        &[],
        FreshOptions {
            prefill: Some(2),
            ..Default::default()
        },
    )
    .run(true)
    .unwrap();
    assert_eq!((rows[0].hits, rows[0].misses), (4, 5));
}

#[test]
fn zipf_shift_defeats_lfu_and_zipf_scan_flushes_lru() {
    let shift = preset("zipf-shift", 300_000, 10_000, |p| {
        p.shift_every = Some(50_000);
        p.shift_by = Some(2_000);
    });
    let r = plan(shift, "lru,lfu", "10%", &[], Default::default())
        .run(true)
        .unwrap();
    assert!(
        r[0].hit_ratio > r[1].hit_ratio + 0.1,
        "lru {} lfu {}",
        r[0].hit_ratio,
        r[1].hit_ratio
    );
    let scan = preset("zipf-scan", 300_000, 10_000, |p| {
        p.scan_every = Some(5_000);
        p.scan_length = Some(2_000);
    });
    let r = plan(scan, "lru,lfu", "1000", &[], Default::default())
        .run(true)
        .unwrap();
    assert!(
        r[1].hit_ratio > r[0].hit_ratio + 0.05,
        "lru {} lfu {}",
        r[0].hit_ratio,
        r[1].hit_ratio
    );
}

#[test]
fn ycsb_presets_produce_their_documented_mix() {
    // Share of writes among requests, as documented in workloads/ycsb-*.toml
    // and the README: E has 95% scans of mean length 50.5 and 5% inserts.
    let documented = [
        ("ycsb-a", 0.5),
        ("ycsb-b", 0.05),
        ("ycsb-c", 0.0),
        ("ycsb-d", 0.05),
        ("ycsb-e", 0.05 / (0.95 * 50.5 + 0.05)),
        ("ycsb-f", 1.0 / 3.0),
    ];
    for (name, share) in documented {
        let mut p = Preset::load(name).unwrap();
        assert_eq!(p.alpha, Some(0.99), "{name}: YCSB's zipfian constant");
        assert!(
            (p.ycsb_mix()
                .expected_write_share(p.max_scan_length.unwrap_or(100))
                - share)
                .abs()
                < 1e-12
        );
        p.requests = 200_000;
        let b = p.generate(11);
        assert_eq!(b.len(), 200_000);
        let writes = b.ops.iter().filter(|&&o| o == Op::Set).count() as f64 / 2e5;
        assert!(
            (writes - share).abs() < 0.01,
            "{name}: {writes} writes vs {share}"
        );
        assert!(!b.ops.contains(&Op::Delete));
    }
}

// ---------------------------------------------------------------- CLI

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

#[test]
fn cli_ttl_sweep_with_writes_and_stale_columns() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru,ttl",
            "-c",
            "5%,10%",
            "-w",
            "ycsb-b",
            "--requests",
            "30k",
            "--keys",
            "5k",
            "--on-write",
            "none",
            "--ttl",
            "1s,5s,30s,5m",
            "--no-latency",
            "-q",
            "-o",
            "r.csv",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let results = cachesim::sim::result::read_results(&dir.path().join("r.csv")).unwrap();
    assert_eq!(results.len(), 2 * 2 * 4);
    let ttls: Vec<Option<f64>> = results.iter().take(4).map(|r| r.ttl_s).collect();
    assert_eq!(ttls, [Some(1.0), Some(5.0), Some(30.0), Some(300.0)]);
    let ttl5m = results.iter().find(|r| r.strategy == "ttl:ttl=5m").unwrap();
    assert!(ttl5m.stale_hits > 0 && ttl5m.writes > 0);
    assert!(results[0].workload.contains("keys=5k"));
    let (header, _) = read_csv(&dir.path().join("r.csv"));
    // The freshness columns, together and in order, after the latency ones.
    let at = header.iter().position(|h| h == "writes").unwrap();
    assert!(at > header.iter().position(|h| h == "origin").unwrap());
    let tail: Vec<&str> = header[at..at + 6].iter().map(String::as_str).collect();
    assert_eq!(
        tail,
        [
            "writes",
            "stale_hits",
            "stale_hit_ratio",
            "stale_age_mean_s",
            "stale_age_max_s",
            "ttl_s"
        ]
    );
}

#[test]
fn cli_timeline_windows_add_up_to_the_totals() {
    // One cache per run, and fleets (local, shared and tiered, 3 instances).
    let fleet = [
        "--instances",
        "3",
        "--l1-capacity",
        "50",
        "--broadcast-invalidation",
    ];
    for (strategies, extra) in [
        ("lru,lfu", &[][..]),
        ("lru,shared:lru,tiered-local:lru+lru", &fleet[..]),
    ] {
        timeline_adds_up(strategies, extra);
    }
}

fn timeline_adds_up(strategies: &str, extra: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        &[
            "run",
            "-s",
            strategies,
            "-c",
            "5%",
            "-w",
            "zipf",
            "--requests",
            "50k",
            "--keys",
            "5k",
            "--write-ratio",
            "0.05",
            "--on-write",
            "none",
            "--warmup",
            "5000",
            "--window",
            "7000",
            "--prefill",
            "top:100",
            "--no-latency",
            "-o",
            "out/r.csv",
        ][..],
        extra,
    ]
    .concat();
    let o = cachesim(&args, dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let tl = dir.path().join("out/r-timeline.csv");
    assert!(
        stderr(&o).contains("r-timeline.csv"),
        "the path is printed: {}",
        stderr(&o)
    );
    let (header, _) = read_csv(&tl);
    assert_eq!(header, TIMELINE_COLUMNS);
    let rows = phases::read_timeline(&tl).unwrap();
    let results = cachesim::sim::result::read_results(&dir.path().join("out/r.csv")).unwrap();
    assert_eq!(results.len(), strategies.split(',').count());
    for r in &results {
        assert_eq!(r.requests, 45_000);
        let mine: Vec<_> = rows.iter().filter(|t| t.strategy == r.strategy).collect();
        // 45k counted requests in windows of 7k: 6 full and one of 3k.
        assert_eq!(mine.len(), 7);
        assert_eq!(mine[0].request, 12_000);
        assert_eq!(mine.last().unwrap().request, 50_000);
        assert_eq!(mine.iter().map(|t| t.window_gets).sum::<u64>(), r.gets);
        assert_eq!(mine.iter().map(|t| t.window_hits).sum::<u64>(), r.hits);
        assert_eq!(
            mine.iter().map(|t| t.window_stale_hits).sum::<u64>(),
            r.stale_hits
        );
        assert!((mine.last().unwrap().cumulative_hit_ratio.unwrap() - r.hit_ratio).abs() < 1e-12);
        assert!((mine.last().unwrap().time_s - 49.999).abs() < 1e-9);
    }
}

#[test]
fn cli_new_presets_are_listed() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(&["list"], dir.path());
    let out = String::from_utf8_lossy(&o.stdout);
    for n in [
        "zipf-shift",
        "zipf-scan",
        "ycsb-a",
        "ycsb-b",
        "ycsb-c",
        "ycsb-d",
        "ycsb-e",
        "ycsb-f",
    ] {
        assert!(out.contains(n), "{n} missing from: {out}");
    }
}

#[test]
fn cli_freshness_usage_errors_name_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.txt");
    std::fs::write(&trace, "1\n2\n3\n").unwrap();
    let t = trace.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--on-write", "sometimes"],
            &["--on-write", "'sometimes'", "invalidate, update or none"],
        ),
        (
            &["--write-ratio", "1.5"],
            &["--write-ratio", "'1.5'", "0 to 1"],
        ),
        (&["--write-ratio", "lots"], &["--write-ratio", "'lots'"]),
        (
            &["-w", "ycsb-a", "--write-ratio", "0.1"],
            &["--write-ratio", "update_proportion"],
        ),
        (
            &["-t", t, "--write-ratio", "0.1"],
            &["--write-ratio", "synthetic"],
        ),
        (&["--warmup", "soon"], &["--warmup", "'soon'", "10%"]),
        (&["--warmup", "100%"], &["--warmup", "[0, 100)"]),
        (&["--warmup", "1000"], &["--warmup", "leave none"]),
        (&["-t", t, "--warmup", "3"], &["--warmup", "leave none"]),
        (&["--prefill", "1000"], &["--prefill", "top:K"]),
        (&["--prefill", "top:0"], &["--prefill", "at least 1"]),
        (&["--window", "0"], &["--window", "'0'", ">= 1"]),
        (&["--window", "10", "--no-save"], &["--window", "--no-save"]),
        (&["--ttl", "1s,soon"], &["--ttl", "'soon'"]),
        (&["--ttl", "1s,0"], &["--ttl", "greater than 0"]),
        (
            &["-w", "scan", "--alpha", "0.9"],
            &["--alpha", "only applies to zipf"],
        ),
    ];
    for (args, needles) in cases {
        let mut full = vec!["run", "--no-latency"];
        if !args.contains(&"-t") {
            // A trace is replayed as it is: --requests would be refused.
            full.extend(["--requests", "1000"]);
        }
        if !args.contains(&"--no-save") {
            full.extend(["--out", "out/r.csv"]);
        }
        full.extend_from_slice(args);
        let o = cachesim(&full, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: message lacks {n:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            !dir.path().join("out").exists(),
            "{args:?} wrote a result file"
        );
    }
}
