//! `redis` and `redis-*` with `--warmup`, `--window` and `--restart-every`:
//! the simulator's own loop with the server as the cache, so an unbounded
//! Redis counts exactly as an unbounded in-process cache, window by
//! window, and keeps its contents across restarts. Against the machine's
//! Redis on 127.0.0.1:6379, database 9 (keys under the run's prefix);
//! skips (or fails under CACHESIM_REQUIRE_SERVICES=1) when no Redis
//! answers. The refusals need no server.

use crate::common::{fails_with, json, u};
use crate::redis::{redis_up, scan};
use cachesim::sim::phases::read_timeline;
use cachesim::sim::result::read_results;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const URL: &str = "redis://127.0.0.1:6379/9";

/// A Zipf workload of 40k requests over 4k keys, 5% writes, nothing
/// timed.
const SMALL: &[&str] = &[
    "--requests",
    "40k",
    "--keys",
    "4k",
    "--write-ratio",
    "0.05",
    "--seed",
    "3",
    "--no-latency",
    "--redis-url",
    URL,
];

/// Runs cachesim in `dir`; returns its output and pid (the run's keys are
/// `cachesim:<pid>-...`).
fn run_in(dir: &Path, args: &[&str]) -> (Output, u32) {
    let child = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    (child.wait_with_output().unwrap(), pid)
}

/// `-s STRATEGIES` on [`SMALL`] plus `extra`, as JSON rows; asserts the
/// run left no key under its prefix.
fn rows(strategies: &str, extra: &[&str]) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        &[
            "run",
            "-s",
            strategies,
            "-c",
            "100%",
            "--no-save",
            "-f",
            "json",
        ][..],
        SMALL,
        extra,
    ]
    .concat();
    let (o, pid) = run_in(dir.path(), &args);
    let rows = json(&o);
    assert!(scan(6379, 9, &format!("cachesim:{pid}-*")).is_empty());
    rows
}

#[test]
fn unbounded_redis_counts_like_an_unbounded_lru_in_every_window() {
    if !redis_up() {
        skip_or_fail!("no Redis answers on 127.0.0.1:6379");
    }
    for pipeline in ["1", "16"] {
        let dir = tempfile::tempdir().unwrap();
        let args = [
            &["run", "-s", "redis,lru", "-c", "100%"][..],
            SMALL,
            &["--window", "7k", "--pipeline", pipeline, "-q"],
            &["-o", "out/r.csv"],
        ]
        .concat();
        let (o, pid) = run_in(dir.path(), &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(scan(6379, 9, &format!("cachesim:{pid}-*")).is_empty());
        let results = read_results(&dir.path().join("out/r.csv")).unwrap();
        let (r, l) = (&results[0], &results[1]);
        assert_eq!((r.strategy.as_str(), l.strategy.as_str()), ("redis", "lru"));
        assert!(r.hits > 0 && r.sets > 0);
        assert_eq!((r.gets, r.hits, r.sets), (l.gets, l.hits, l.sets));
        assert_eq!(r.l2_hits, r.hits);
        let tl = read_timeline(&dir.path().join("out/r-timeline.csv")).unwrap();
        let of = |s: &str| -> Vec<(u64, u64, u64)> {
            tl.iter()
                .filter(|t| t.strategy == s)
                .map(|t| (t.request, t.window_gets, t.window_hits))
                .collect()
        };
        let (redis, lru) = (of("redis"), of("lru"));
        // 40k requests in windows of 7k: 5 full and one of 5k.
        assert_eq!(redis.len(), 6, "pipeline {pipeline}");
        assert_eq!(redis, lru, "pipeline {pipeline}");
        assert_eq!(redis.iter().map(|t| t.2).sum::<u64>(), r.hits);
    }
}

#[test]
fn restarts_leave_redis_as_it_is() {
    if !redis_up() {
        skip_or_fail!("no Redis answers on 127.0.0.1:6379");
    }
    let plain = rows("redis,lru", &[]);
    let restarted = rows("redis,lru", &["--restart-every", "10000"]);
    // The server keeps its contents across deploys; the process's LRU does not.
    assert_eq!(u(&restarted[0], "hits"), u(&plain[0], "hits"));
    assert_eq!(u(&plain[0], "hits"), u(&plain[1], "hits"));
    assert!(u(&restarted[1], "hits") < u(&plain[1], "hits"));
    assert_eq!(u(&restarted[1], "restarts"), 3);
    assert_eq!(u(&restarted[0], "restarts"), 3);
    assert_eq!(restarted[0]["restart_every"], "10000");
}

#[test]
fn warmup_counts_like_lru() {
    if !redis_up() {
        skip_or_fail!("no Redis answers on 127.0.0.1:6379");
    }
    for pipeline in ["1", "8"] {
        let r = rows("redis,lru", &["--warmup", "5k", "--pipeline", pipeline]);
        for col in ["requests", "gets", "hits", "misses", "sets", "deletes"] {
            assert_eq!(u(&r[0], col), u(&r[1], col), "{col}, pipeline {pipeline}");
        }
        assert_eq!(u(&r[0], "requests"), 35_000);
        assert_eq!(u(&r[0], "warmup"), 5_000);
    }
}

#[test]
fn a_private_server_sized_in_bytes_runs_with_a_window() {
    if !redis_up() {
        skip_or_fail!("no Redis answers on 127.0.0.1:6379");
    }
    if crate::common::which("redis-server").is_none() {
        skip_or_fail!("no redis-server on PATH");
    }
    let dir = tempfile::tempdir().unwrap();
    let args = [
        &[
            "run",
            "-s",
            "redis-lru",
            "-c",
            "3MiB",
            "--value-size",
            "1000",
        ][..],
        SMALL,
        &["--window", "10k", "-q", "-o", "r.csv"],
    ]
    .concat();
    let (o, _) = run_in(dir.path(), &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = &read_results(&dir.path().join("r.csv")).unwrap()[0];
    // 3 MiB (the server's own ~1 MiB included) holds part of the 3.5k
    // values of 1000 bytes: it evicts, and hits.
    assert!(r.evictions > 0 && r.hits > 0, "{r:?}");
    assert!(
        r.memory_objects > 100 && r.memory_objects < r.distinct_keys,
        "{r:?}"
    );
    let tl = read_timeline(&dir.path().join("r-timeline.csv")).unwrap();
    assert_eq!(tl.len(), 4);
    assert_eq!(tl.iter().map(|t| t.window_hits).sum::<u64>(), r.hits);
}

#[test]
fn what_the_loop_cannot_run_is_refused_naming_the_option() {
    // Refused before any connection: no server needed.
    let dir = tempfile::tempdir().unwrap();
    for (args, needle, what) in [
        (
            &["-s", "tiered:lru+redis", "--window", "1k"][..],
            "--window",
            "with a local L1",
        ),
        (
            &["-s", "redis", "--clients", "2", "--warmup", "100"][..],
            "--warmup",
            "--clients 2",
        ),
        (
            &["-s", "redis", "--redis-pace", "10", "--window", "1k"][..],
            "--window",
            "--redis-pace",
        ),
        (
            &[
                "-s",
                "redis",
                "--redis-url",
                "redis+cluster://127.0.0.1:7000",
                "--window",
                "1k",
            ][..],
            "--window",
            "cluster",
        ),
        (
            &["-s", "redis-lru", "-c", "500", "--window", "1k"][..],
            "--capacity",
            "byte capacity",
        ),
        (
            &["-s", "tiered:lru+redis", "--restart-every", "1k"][..],
            "--restart-every",
            "tiered:lru+redis",
        ),
    ] {
        let o = crate::common::cachesim(
            &[&["run", "--requests", "2000", "-o", "r.csv"][..], args].concat(),
            dir.path(),
        );
        fails_with(&o, 2, needle, what);
        fails_with(&o, 2, what, what);
    }
}
