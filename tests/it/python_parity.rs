//! The core strategies give exactly the hit counts of the Python caches they
//! are pinned to (`functools.lru_cache`, `cachetools` LRU/FIFO/LFU/TTL) on the
//! same key stream, by running `scripts/python_reference.py`.
//!
//! Needs `python3` with `cachetools`; skipped with a printed reason otherwise,
//! and a failure under `CACHESIM_REQUIRE_SERVICES=1` (`.ci/run` installs it).

use cachesim::policy::{build, BuildCtx, StrategySpec};
use cachesim::sim::replay::{replay_batch, ChargeModel, Counters, Rules};
use cachesim::sim::write::OnWrite;
use cachesim::workload::{zipf, Batch};
use std::io::Write;
use std::process::Command;

fn python_has_cachetools() -> bool {
    Command::new("python3")
        .args(["-c", "import cachetools"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn ours(strategy: &str, cap: u64, keys: &[u64], ttl: f64, rate: f64) -> u64 {
    let mut b = Batch::new(rate, 1);
    b.keys = keys.to_vec();
    let mut p = build(
        &StrategySpec::parse(strategy).unwrap(),
        &BuildCtx {
            capacity: cap,
            seed: 1,
            ttl: Some(ttl),
        },
    )
    .unwrap()
    .policy;
    let mut c = Counters::default();
    replay_batch(
        &mut p,
        &b,
        0..b.len(),
        0,
        None,
        Rules::new(
            ChargeModel {
                bytes: false,
                capacity: cap,
            },
            OnWrite::Update,
        ),
        &mut c,
    );
    c.hits
}

fn theirs(strategy: &str, cap: u64, file: &std::path::Path, ttl: f64, rate: f64) -> u64 {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/python_reference.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(strategy)
        .arg(cap.to_string())
        .arg(file)
        .arg(ttl.to_string())
        .arg(rate.to_string())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn core_strategies_match_python_caches() {
    if !python_has_cachetools() {
        skip_or_fail!("python3 with cachetools not available (pip install cachetools)");
    }
    let keys = zipf::generate(3000, 0.9, 30_000, 11);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keys.txt");
    let mut f = std::fs::File::create(&file).unwrap();
    for k in &keys {
        writeln!(f, "{k}").unwrap();
    }
    drop(f);
    let (ttl, rate) = (2.5, 1000.0);
    for cap in [1u64, 10, 300, 2000] {
        for (ours_name, py_name) in [
            ("lru", "functools-lru"),
            ("lru", "lru"),
            ("fifo", "fifo"),
            ("lfu", "lfu"),
            ("ttl", "ttl"),
        ] {
            let a = ours(ours_name, cap, &keys, ttl, rate);
            let b = theirs(py_name, cap, &file, ttl, rate);
            assert_eq!(a, b, "{ours_name} vs Python {py_name} at capacity {cap}");
        }
    }
}
