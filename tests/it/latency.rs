//! Latency: the origin model, the histograms, the `.hgrm` files, and a real
//! PostgreSQL origin (skipped without a server, required in CI).

use cachesim::policy::StrategySpec;
use cachesim::sim::latency::OriginModel;
use cachesim::sim::runner::{OriginSpec, Plan, RunConfig, WorkloadInput};
use cachesim::sim::Capacity;
use cachesim::workload::Preset;
use std::process::Command;

fn zipf(requests: u64, keys: u64) -> WorkloadInput {
    let mut p = Preset::load("zipf").unwrap();
    p.requests = requests;
    p.keys = keys;
    WorkloadInput::Preset {
        preset: p,
        label: "zipf".into(),
    }
}

fn run(
    strategy: &str,
    cap: &str,
    model: &str,
) -> (cachesim::sim::RunResult, hdrhistogram::Histogram<u64>) {
    let w = zipf(100_000, 10_000).prepare(1, 1).unwrap();
    let cfg = RunConfig {
        strategy: StrategySpec::parse(strategy).unwrap(),
        capacity: Capacity::parse(cap).unwrap(),
        seed: 1,
        ttl: None,
        latency: Some(OriginSpec::Model(OriginModel::parse(model).unwrap())),
        fleet: None,
        fresh: Default::default(),
        l1_capacity: None,
        engines: Default::default(),
    };
    let (r, h) =
        cachesim::sim::runner::run_one(&w, &cfg, &indicatif::ProgressBar::hidden()).unwrap();
    (r, h.unwrap())
}

#[test]
fn constant_origin_without_cache_puts_every_request_at_2ms() {
    let (r, h) = run("none", "10", "2ms");
    assert_eq!(h.len(), r.gets);
    assert!(
        h.min() >= h.lowest_equivalent(2_000_000),
        "min {} ns",
        h.min()
    );
    let p50 = r.lat_p50_us.unwrap();
    assert!((p50 - 2000.0).abs() / 2000.0 < 0.002, "p50 {p50} us");
    assert_eq!(r.origin_requests, r.gets);
    assert!((r.origin_time_s.unwrap() - 0.002 * r.gets as f64).abs() < 1e-6);
    assert_eq!(r.hit_p50_us, None);
}

#[test]
fn hits_are_orders_of_magnitude_faster_than_misses() {
    let (r, h) = run("lru", "10%", "2ms");
    assert_eq!(h.len(), r.gets);
    let (hit99, miss50) = (r.hit_p99_us.unwrap(), r.miss_p50_us.unwrap());
    assert!(hit99 < miss50, "hit p99 {hit99} us vs miss p50 {miss50} us");
    assert!(
        hit99 < 100.0,
        "an in-process hit takes well under 100 us: {hit99}"
    );
    assert_eq!(r.origin_requests, r.misses);
    // More than half the gets hit, so the median request is a hit.
    assert!(r.hit_ratio > 0.5 && r.lat_p50_us.unwrap() < 100.0);
    assert!(r.lat_p99_us.unwrap() >= 1990.0);
}

#[test]
fn origin_model_is_deterministic_per_seed() {
    let (a, _) = run("lru", "1%", "lognormal:2ms,0.8");
    let (b, _) = run("lru", "1%", "lognormal:2ms,0.8");
    // The origin part is seeded; the tail is dominated by it.
    assert_eq!(a.origin_time_s, b.origin_time_s);
    assert_eq!(a.lat_p9999_us, b.lat_p9999_us);
}

/// The `.hgrm` files parse back and agree with the CSV's percentiles.
#[test]
fn hgrm_files_agree_with_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let hdir = dir.path().join("h");
    let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args([
            "run",
            "-s",
            "none,lru",
            "-c",
            "5%",
            "--requests",
            "50k",
            "--origin-latency",
            "lognormal:2ms,0.8",
            "-f",
            "csv",
            "--no-save",
            "--histograms",
        ])
        .arg(&hdir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut rdr = csv::Reader::from_reader(&o.stdout[..]);
    let rows: Vec<cachesim::sim::RunResult> = rdr.deserialize().map(|r| r.unwrap()).collect();
    let mut files: Vec<_> = std::fs::read_dir(&hdir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    for (row, file) in rows.iter().zip(&files) {
        let text = std::fs::read_to_string(file).unwrap();
        assert!(text.starts_with("       Value     Percentile TotalCount 1/(1-Percentile)"));
        let points: Vec<(f64, f64, u64)> = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.contains("Value"))
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (
                    f[0].parse().unwrap(),
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                )
            })
            .collect();
        // The file lists the value at a ladder of percentile levels; the CSV's
        // percentile must sit between the two levels around it (and equal the
        // file's value where the ladder has that exact level, as it has 0.5).
        for (q, want) in [
            (0.5, row.lat_p50_us),
            (0.9, row.lat_p90_us),
            (0.99, row.lat_p99_us),
        ] {
            let want = want.unwrap();
            let i = points.iter().position(|p| p.1 >= q).unwrap();
            let (lo, hi) = (points[i.saturating_sub(1)].0, points[i].0);
            assert!(
                lo - 0.0015 <= want && want <= hi + 0.0015,
                "{}: p{q}: csv {want} outside [{lo}, {hi}]",
                file.display()
            );
            if (points[i].1 - q).abs() < 1e-12 {
                assert!((hi - want).abs() < 0.0015, "p{q}: hgrm {hi} vs csv {want}");
            }
        }
        assert!(
            points.iter().any(|p| (p.1 - 0.5).abs() < 1e-12),
            "the ladder has the median"
        );
        assert_eq!(points.last().unwrap().2, row.gets, "total count");
        assert!(text.contains("#[Max     ="));
    }
}

#[test]
fn no_latency_leaves_the_columns_empty() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args([
            "run",
            "-s",
            "lru",
            "--requests",
            "10k",
            "--no-latency",
            "-f",
            "json",
            "--no-save",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v[0]["lat_p50_us"].is_null() && v[0]["origin_time_s"].is_null());
    assert_eq!(v[0]["origin_requests"], v[0]["misses"]);
}

#[test]
fn bad_origin_strings_and_unreachable_databases_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], i32, &[&str])] = &[
        (
            &["--origin-latency", "fast"],
            2,
            &["--origin-latency", "'fast'", "lognormal:2ms,0.8"],
        ),
        (
            &["--origin-latency", "uniform:5ms..1ms"],
            2,
            &["--origin-latency", "lower bound"],
        ),
        (
            &["--origin", "mysql://x@y/z"],
            2,
            &["--origin", "postgres://USER"],
        ),
        (
            &["--origin", "postgres://root@127.0.0.1:1/test"],
            1,
            &["postgres://root@127.0.0.1:1/test", "cannot connect"],
        ),
    ];
    for (args, code, needles) in cases {
        let start = std::time::Instant::now();
        let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
            .args(["run", "--requests", "1000", "--out", "r.csv"])
            .args(*args)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(*code), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {err}");
        }
        assert!(start.elapsed().as_secs() < 10);
        assert!(!dir.path().join("r.csv").exists());
    }
}

use crate::common::pg_url;

/// The first column of the first row of `sql`, or `None` (no server).
pub(crate) fn psql_one(sql: &str) -> Option<String> {
    let cfg = cachesim::external::postgres::PgConfig::parse(&pg_url()).ok()?;
    let mut c = cachesim::external::postgres::PgConn::connect(&cfg).ok()?;
    c.simple(sql).ok()?.into_iter().next().flatten()
}

/// `none` and `lru` against the real server: every miss is one SELECT, and
/// the table is created once and reused.
#[test]
fn postgres_origin_counts_misses_and_reuses_its_table() {
    if psql_one("SELECT 1").is_none() {
        skip_or_fail!("no PostgreSQL answers at {}", pg_url());
    }
    let plan = |strategies: &str| Plan {
        workloads: vec![zipf(5_000, 3_000)],
        strategies: StrategySpec::parse_list(strategies).unwrap(),
        capacities: vec![Capacity::parse("10%").unwrap()],
        seeds: vec![3],
        ttls: vec![],
        on_writes: vec![],
        latency: Some(OriginSpec::Backend(std::sync::Arc::new(
            cachesim::external::postgres::Postgres(
                cachesim::external::postgres::PgConfig::parse(&pg_url()).unwrap(),
            ),
        ))),
        histograms: None,
        fleet: None,
        fresh: Default::default(),
        l1_capacity: None,
        engines: Default::default(),
        threads: None,
    };
    let rows = plan("none,lru").run(true).unwrap();
    for r in &rows {
        assert_eq!(r.origin_requests, r.misses, "{}", r.strategy);
        assert!(r.origin_time_s.unwrap() > 0.0);
        assert!(
            r.miss_p50_us.unwrap() > 1.0,
            "a real round trip takes microseconds"
        );
    }
    assert_eq!(rows[0].misses, rows[0].gets);
    assert!(rows[1].misses < rows[1].gets);
    let oid = psql_one("SELECT 'cachesim_origin'::regclass::oid::text").unwrap();
    let count = psql_one("SELECT count(*)::text FROM cachesim_origin").unwrap();
    let rows2 = plan("lru").run(true).unwrap();
    assert_eq!(rows2[0].misses, rows[1].misses, "same seed, same misses");
    assert_eq!(
        psql_one("SELECT 'cachesim_origin'::regclass::oid::text").unwrap(),
        oid,
        "table recreated"
    );
    assert_eq!(
        psql_one("SELECT count(*)::text FROM cachesim_origin").unwrap(),
        count,
        "rows added again"
    );
}
