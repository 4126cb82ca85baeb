//! The in-process models of Redis's eviction (`sampled-lru`, `sampled-lfu`,
//! `sampled-random`) against the real server they model (`redis-lru`,
//! `redis-lfu`, `redis-random`, a private redis-server per run): the same
//! Zipf stream, the model's clock advancing as the real run's did (`--rate`
//! = the real run's measured requests per second), hit ratios within 0.015
//! at 1%, 5% and 10% of the keys. Skips without redis-server on PATH (fails
//! under CACHESIM_REQUIRE_SERVICES=1).

use crate::common;

use common::{json, u, which};

/// The stream: 200k requests of Zipf(0.99) over 20k keys (17k of them
/// requested), seed 1, one run at a time (so the real runs' rates are
/// their own).
const STREAM: [&str; 13] = [
    "--alpha",
    "0.99",
    "--requests",
    "200k",
    "--keys",
    "20k",
    "--seed",
    "1",
    "--no-latency",
    "--no-save",
    "-f",
    "json",
    "-q",
];

/// How far a model's hit ratio may be from the server's. Quiet, the
/// servers land within 0.005 of the models (redis-random at 1%: 0.3487 to
/// 0.3526 in four runs, the model 0.3473); with the whole suite beside it a
/// starved server once held more keys and reached 0.3582, so the bound is
/// 0.015.
const TOLERANCE: f64 = 0.015;

/// The rows of `cachesim run -s STRATEGY -c CAPACITY [extra] STREAM`.
fn run(strategy: &str, capacity: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let mut args = vec!["run", "-s", strategy, "-c", capacity, "-j", "1"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&STREAM);
    json(&common::cachesim(&args, &std::env::temp_dir()))
}

fn hit_ratio(row: &serde_json::Value) -> f64 {
    row["hit_ratio"].as_f64().unwrap()
}

#[test]
fn sampled_models_hit_like_the_real_server_at_its_own_request_rate() {
    if which("redis-server").is_none() {
        skip_or_fail!("no redis-server on PATH");
    }
    let real = run("redis-lru,redis-lfu,redis-random", "1%,5%,10%", &[]);
    assert_eq!(real.len(), 9);
    let mut report = Vec::new();
    let mut failed = Vec::new();
    for row in &real {
        let strategy = row["strategy"].as_str().unwrap();
        let model = match strategy {
            "redis-lru:samples=5" => "sampled-lru",
            "redis-lfu:samples=5" => "sampled-lfu",
            "redis-random:samples=5" => "sampled-random",
            other => panic!("unexpected strategy {other}"),
        };
        let cap = u(row, "capacity").to_string();
        let rate = row["requests_per_s"].as_f64().unwrap();
        assert!(rate > 0.0, "{row}");
        let rate = format!("{rate:.3}");
        let m = &run(model, &cap, &["--rate", &rate])[0];
        assert_eq!(u(m, "capacity"), u(row, "capacity"));
        assert_eq!(u(m, "gets"), u(row, "gets"));
        let (r, s) = (hit_ratio(row), hit_ratio(m));
        let line = format!("{strategy} c={cap} at {rate}/s: server {r:.4}, {model} {s:.4}");
        if (r - s).abs() > TOLERANCE {
            failed.push(line.clone());
        }
        report.push(line);
    }
    eprintln!("{}", report.join("\n"));
    assert!(failed.is_empty(), "beyond tolerance: {failed:#?}");
}

/// The request rate decides what `sampled-lru` is: at a real server's
/// 15,000 requests/s a 1% cache turns over many times per one-second clock
/// tick and it evicts nearly at random, far below exact LRU (so the test
/// above would catch a model that was exact LRU); at 100 requests/s the
/// clock tells keys apart and it comes within 0.01 of LRU. (No server.)
#[test]
fn request_rate_moves_sampled_lru_towards_lru() {
    let at = |rate: &str| {
        let rows = run("sampled-lru,lru", "1%", &["--rate", rate]);
        (hit_ratio(&rows[0]), hit_ratio(&rows[1]))
    };
    let (fast, lru) = at("15000");
    assert!(
        lru - fast > 3.0 * TOLERANCE,
        "sampled-lru {fast} vs lru {lru}"
    );
    let (slow, lru) = at("100");
    assert!(
        (slow - lru).abs() < TOLERANCE,
        "sampled-lru {slow} vs lru {lru}"
    );
}
