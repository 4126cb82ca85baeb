//! Fleets against a real Redis: K instances sharing the machine's Redis (or
//! a private one), and tiered fleets with K local L1s in front of a Redis
//! L2. Skips (or fails under CACHESIM_REQUIRE_SERVICES=1) when no Redis
//! answers on 127.0.0.1:6379; each test uses its own database (10, 11) and
//! the run's key prefix.

use crate::common;

use common::{json, u};

use cachesim::external::resp::{Conn, Value};
use std::process::Command;

fn redis_up() -> bool {
    Conn::connect("127.0.0.1", 6379)
        .and_then(|mut c| c.cmd(&["PING"]))
        .is_ok()
}

/// Keys of cachesim runs left in database `db`.
fn leftovers(db: u32) -> usize {
    let mut c = Conn::connect("127.0.0.1", 6379).unwrap();
    c.login(None, None, db).unwrap();
    match c.cmd(&["KEYS", "cachesim:*"]).unwrap() {
        Value::Array(k) => k.len(),
        v => panic!("KEYS: {v:?}"),
    }
}

/// Runs cachesim on a 40k-request Zipf stream with 5% writes, Redis
/// database `db`; rows as JSON.
fn run(db: u32, args: &[&str]) -> Vec<serde_json::Value> {
    let url = format!("redis://127.0.0.1:6379/{db}");
    let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args([
            "run",
            "-w",
            "zipf",
            "--requests",
            "40k",
            "--keys",
            "4000",
            "--write-ratio",
            "0.05",
            "--redis-url",
            &url,
            "--no-save",
            "-q",
            "-f",
            "json",
        ])
        .args(args)
        .output()
        .unwrap();
    json(&o)
}

macro_rules! need_redis {
    () => {
        if !redis_up() {
            skip_or_fail!("no Redis answers on 127.0.0.1:6379");
        }
    };
}

/// The machine's Redis never evicts these few keys, so a fleet sharing it
/// counts exactly what an in-process shared cache that holds everything
/// counts, for any number of instances, with the same stale hits.
#[test]
fn fleet_on_the_shared_server_equals_an_unbounded_shared_cache() {
    need_redis!();
    for (k, prefill) in [("1", "top:1"), ("4", "top:1"), ("4", "top:300")] {
        for on_write in ["invalidate", "none", "update"] {
            let args = [
                "--instances",
                k,
                "--on-write",
                on_write,
                "-c",
                "4000",
                "--prefill",
                prefill,
            ];
            let redis = &run(10, &[&["-s", "redis", "--shared"][..], &args].concat())[0];
            let local = &run(10, &[&["-s", "shared:lru"][..], &args].concat())[0];
            for col in ["gets", "hits", "misses", "sets", "stale_hits", "instances"] {
                assert_eq!(u(redis, col), u(local, col), "{col}, K={k}, {on_write}");
            }
            assert_eq!(u(redis, "l2_hits"), u(redis, "hits"));
            assert_eq!(u(redis, "memory_objects"), u(local, "memory_objects"));
            if on_write == "none" {
                assert!(u(redis, "stale_hits") > 0, "K={k}");
            }
        }
    }
    assert_eq!(leftovers(10), 0);
}

/// K L1s in front of the machine's Redis behave like K L1s in front of an
/// in-process L2 that holds everything: same L1 and L2 hits, and the same
/// stale hits with and without broadcast invalidation.
#[test]
fn tiered_fleet_with_a_redis_l2_equals_the_in_process_tiered_fleet() {
    need_redis!();
    let mut stale = Vec::new();
    for k in ["1", "4"] {
        for bc in [false, true] {
            let mut args = vec![
                "--instances",
                k,
                "--l1-capacity",
                "100",
                "--prefill",
                "top:500",
            ];
            if bc {
                args.push("--broadcast-invalidation");
            }
            let redis = &run(11, &[&["-s", "tiered:lru+redis"][..], &args].concat())[0];
            let local = &run(
                11,
                &[&["-s", "tiered-local:lru+lru", "-c", "4000"][..], &args].concat(),
            )[0];
            for col in ["hits", "l1_hits", "l2_hits", "misses", "stale_hits"] {
                assert_eq!(u(redis, col), u(local, col), "{col}, K={k}, broadcast={bc}");
            }
            assert_eq!(u(redis, "hits"), u(redis, "l1_hits") + u(redis, "l2_hits"));
            if bc || k == "1" {
                assert_eq!(u(redis, "stale_hits"), 0, "K={k}, broadcast={bc}");
            } else {
                stale.push(u(redis, "stale_hits"));
            }
        }
    }
    assert!(stale[0] > 0, "{stale:?}");
    assert_eq!(leftovers(11), 0);
}

/// A private Redis in a fleet of K holds K x capacity (the memory of K local
/// caches), so it beats the K local caches of that capacity.
#[test]
fn private_redis_fleet_holds_k_times_the_capacity() {
    need_redis!();
    let rows = run(
        10,
        &["-s", "lru,redis-lru", "--instances", "4", "-c", "250"],
    );
    let (local, redis) = (&rows[0], &rows[1]);
    assert_eq!(redis["strategy"], "redis-lru:samples=5");
    assert_eq!(u(redis, "capacity"), 250);
    let held = u(redis, "memory_objects");
    assert!((900..=1050).contains(&held), "resident keys {held}");
    assert!(u(redis, "evictions") > 0);
    let (l, r) = (
        local["hit_ratio"].as_f64().unwrap(),
        redis["hit_ratio"].as_f64().unwrap(),
    );
    assert!(r > l + 0.05, "redis-lru {r} vs local lru {l}");
}

#[test]
fn fleets_refuse_pipelining_and_client_threads_and_redis_runs_refuse_warmup_and_windows() {
    for (opt, v, why) in [
        ("--pipeline", "8", "--instances"),
        ("--clients", "2", "--instances"),
        ("--warmup", "10%", "Redis"),
        ("--window", "1000", "Redis"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
            .args(["run", "-s", "lru,redis", "--instances", "2", opt, v])
            .current_dir(dir.path())
            .output()
            .unwrap();
        // Nothing written.
        assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
        assert_eq!(o.status.code(), Some(2));
        let e = String::from_utf8_lossy(&o.stderr);
        assert!(e.contains(opt) && e.contains(why), "{e}");
    }
}

/// `--prefill top:K` fills the server (and each L1) before the clock starts:
/// with every key prefilled, every get hits; a tiered run's prefilled L1
/// counts what the in-process tiered cache with the same prefill counts.
#[test]
fn prefill_warms_redis_and_the_l1() {
    need_redis!();
    let mut hits = Vec::new();
    for prefill in ["top:1", "top:200", "top:4000"] {
        let redis = &run(12, &["-s", "redis", "--prefill", prefill])[0];
        let lru = &run(12, &["-s", "lru", "-c", "4000", "--prefill", prefill])[0];
        for col in ["hits", "misses", "sets"] {
            assert_eq!(u(redis, col), u(lru, col), "{col}, {prefill}");
        }
        hits.push(u(redis, "hits"));
    }
    assert!(hits[0] < hits[1] && hits[1] < hits[2], "{hits:?}");
    let tiered = &run(
        12,
        &[
            "-s",
            "tiered:lru+redis",
            "-c",
            "100",
            "--prefill",
            "top:200",
        ],
    )[0];
    let local = &run(
        12,
        &[
            "-s",
            "tiered-local:lru+lru",
            "--l1-capacity",
            "100",
            "-c",
            "4000",
            "--prefill",
            "top:200",
        ],
    )[0];
    for col in ["hits", "l1_hits", "l2_hits", "misses"] {
        assert_eq!(u(tiered, col), u(local, col), "{col}");
    }
    assert_eq!(leftovers(12), 0);
}
