//! Restarts (issue 19): `--restart-every` empties every in-process cache, as
//! a deploy does; `--rolling` restarts a fleet's instances one at a time; a
//! shared cache keeps its contents; Redis strategies the simulator's loop
//! cannot run (`tiered:*+redis`, `--clients`) refuse the option.
//! Library-level equivalence with a cold cache first, then the CLI.

use crate::common;
use common::{cachesim, col, fails_with, parse_csv, stderr};

use cachesim::policy::{build, AnyPolicy, BuildCtx, StrategySpec};
use cachesim::sim::freshness::OnWrite;
use cachesim::sim::latency::NoLatency;
use cachesim::sim::phases::{Driver, FreshOptions, FreshRun, WindowPoint};
use cachesim::sim::replay::{ChargeModel, Counters};
use cachesim::sim::restart::{RestartEvery, Restarts};
use cachesim::workload::{Batch, Preset};
use std::path::Path;

/// 40k requests of Zipf over 5000 keys with 10% writes, one per second,
/// each filling with a TTL of 3000 s.
fn stream() -> Batch {
    let mut p = Preset::load("zipf").unwrap();
    p.requests = 40_000;
    p.keys = 5_000;
    p.write_ratio = Some(0.1);
    let mut b = p.generate(11);
    b.rate = 1.0;
    b.times.clear();
    b.ttls = vec![3000.0; b.len()];
    b
}

fn fresh(window: u64, restart: Option<Restarts>) -> FreshRun {
    FreshRun {
        opts: FreshOptions {
            on_write: OnWrite::None,
            window: Some(window),
            restart,
            ..Default::default()
        },
        warmup: 0,
        prefill_keys: None,
    }
}

/// The timeline of `spec` at capacity 500 over `range` of `b`, fed in
/// pieces of 7000 (restart points fall inside pieces), with `restart`.
fn timeline(
    spec: &str,
    b: &Batch,
    range: std::ops::Range<usize>,
    restart: Option<Restarts>,
) -> Vec<WindowPoint> {
    let spec = StrategySpec::parse(spec).unwrap();
    let make = || -> AnyPolicy {
        build(
            &spec,
            &BuildCtx {
                capacity: 500,
                seed: 3,
                ttl: None,
            },
        )
        .unwrap()
        .policy
    };
    let f = fresh(10_000, restart);
    let mut d = Driver::new(&f);
    let mut p = make();
    let mut c = Counters::default();
    let charge = ChargeModel {
        bytes: false,
        capacity: 500,
    };
    let mut s = range.start;
    while s < range.end {
        let e = (s + 7000).min(range.end);
        d.feed_restarting(
            &mut p,
            &make,
            b,
            s..e,
            0,
            None,
            charge,
            &mut c,
            &mut NoLatency,
        )
        .unwrap();
        s = e;
    }
    d.phases.timeline.clone()
}

fn counts(p: &WindowPoint) -> (u64, u64, u64) {
    (p.window_gets, p.window_hits, p.window_stale_hits)
}

#[test]
fn hits_after_a_restart_equal_a_cold_runs_over_the_remaining_requests() {
    let b = stream();
    for every in [
        RestartEvery::Requests(10_000),
        RestartEvery::Seconds(10_000.0),
    ] {
        let r = Some(Restarts {
            every,
            rolling: false,
        });
        for spec in ["lru", "s3fifo", "wtinylfu", "random", "ttl:ttl=20m"] {
            let with = timeline(spec, &b, 0..b.len(), r);
            assert_eq!(with.len(), 4, "{spec}");
            let restarts: Vec<u64> = with.iter().map(|p| p.restarts).collect();
            assert_eq!(restarts, vec![0, 1, 1, 1], "{spec} {every:?}");
            // Each window after a restart counts what a cold cache counts
            // over the same requests (a cold driver's only window):
            // hits, and stale hits (versions written before the restart
            // stay at the origin).
            for (w, point) in with.iter().enumerate().skip(1) {
                let cold = timeline(spec, &b, w * 10_000..(w + 1) * 10_000, None);
                assert_eq!(cold.len(), 1);
                assert_eq!(counts(point), counts(&cold[0]), "{spec} window {w}");
            }
            // Without restarts the LRU stays warm: more hits after the
            // first window. (Not every policy gains from its history here:
            // S3-FIFO's cold small queue does about as well.)
            let warm = timeline(spec, &b, 0..b.len(), None);
            let hits = |t: &[WindowPoint]| t.iter().skip(1).map(|p| p.window_hits).sum::<u64>();
            if spec == "lru" {
                assert!(hits(&warm) > hits(&with), "{spec}");
            }
            assert_eq!(counts(&warm[0]), counts(&with[0]), "{spec}");
        }
    }
}

/// Runs `cachesim run` in `dir` saving `name.csv` (and its timeline);
/// returns (header, rows) of the results and of the timeline.
#[allow(clippy::type_complexity)]
fn run_saved(
    dir: &Path,
    name: &str,
    args: &[&str],
) -> (
    (Vec<String>, Vec<Vec<String>>),
    (Vec<String>, Vec<Vec<String>>),
) {
    let out = format!("{name}.csv");
    let base = [
        "run",
        "-w",
        "zipf",
        "--requests",
        "100k",
        "--keys",
        "20000",
        "--seed",
        "5",
        "--no-latency",
        "-q",
        "--window",
        "5k",
        "--out",
        &out,
    ];
    let o = cachesim(&[&base[..], args].concat(), dir);
    assert!(o.status.success(), "{}", stderr(&o));
    let read = |f: &str| parse_csv(&std::fs::read_to_string(dir.join(f)).unwrap());
    (read(&out), read(&format!("{name}-timeline.csv")))
}

fn num(row: &[String], header: &[String], c: &str) -> f64 {
    row[col(header, c)].parse().unwrap()
}

#[test]
fn restarts_cost_hits_and_the_timeline_drops_right_after_each() {
    let dir = tempfile::tempdir().unwrap();
    let args = ["-s", "lru", "-c", "4000"];
    let ((h, plain), (th, tplain)) = run_saved(dir.path(), "plain", &args);
    let ((_, rs), (_, trs)) = run_saved(
        dir.path(),
        "restarts",
        &[&args[..], &["--restart-every", "20k"]].concat(),
    );
    assert!(h.contains(&"restarts".to_string()));
    assert!(th.contains(&"restarts".to_string()));
    assert_eq!(num(&plain[0], &h, "restarts"), 0.0);
    assert_eq!(num(&rs[0], &h, "restarts"), 4.0);
    assert!(num(&rs[0], &h, "hits") < num(&plain[0], &h, "hits"));
    // The option is recorded, in both files.
    let every = col(&h, "restart_every");
    assert_eq!(
        (plain[0][every].as_str(), rs[0][every].as_str()),
        ("", "20000")
    );
    let tevery = col(&th, "restart_every");
    assert!(trs.iter().all(|r| r[tevery] == "20000"));
    // Before the first restart the two runs are the same (but for the
    // option).
    for w in 0..4 {
        let mut restarted = trs[w].clone();
        restarted[tevery].clear();
        assert_eq!(tplain[w], restarted, "window {w}");
    }
    let ratio = |r: &[String]| num(r, &th, "window_hit_ratio");
    for (w, row) in trs.iter().enumerate() {
        let restarted = num(row, &th, "restarts");
        let start = num(row, &th, "request") as u64 - 5000;
        if start > 0 && start % 20_000 == 0 {
            assert_eq!(restarted, 1.0, "window from {start}");
            // The window that starts cold has a lower hit ratio than the
            // one before it, and than the same window of the warm run.
            assert!(ratio(row) < ratio(&trs[w - 1]), "window from {start}");
            assert!(ratio(row) < ratio(&tplain[w]), "window from {start}");
            // ... and recovers in the next.
            assert!(ratio(&trs[w + 1]) > ratio(row), "window from {start}");
        } else {
            assert_eq!(restarted, 0.0, "window from {start}");
        }
    }
}

#[test]
fn rolling_restarts_one_instance_at_a_time_and_a_shared_cache_keeps_its_hits() {
    let dir = tempfile::tempdir().unwrap();
    let fleet = ["--instances", "4", "--balance", "round-robin", "-c", "1000"];
    let restarts = |t: &(Vec<String>, Vec<Vec<String>>)| -> Vec<u64> {
        t.1.iter()
            .map(|r| num(r, &t.0, "restarts") as u64)
            .collect()
    };
    // Rolling: points every 20k / 4 = 5k, one instance each: one restart
    // per window from the second on.
    let every = ["--restart-every", "20k"];
    let ((h, roll), troll) = run_saved(
        dir.path(),
        "rolling",
        &[&fleet[..], &["-s", "lru", "--rolling"], &every[..]].concat(),
    );
    let mut want = vec![1u64; 20];
    want[0] = 0;
    assert_eq!(restarts(&troll), want);
    assert_eq!(num(&roll[0], &h, "restarts"), 19.0);
    // All at once: four restarts at each 20k.
    let ((_, all), tall) = run_saved(
        dir.path(),
        "all",
        &[&fleet[..], &["-s", "lru"], &every[..]].concat(),
    );
    let want: Vec<u64> = (0..20)
        .map(|w| if w > 0 && w % 4 == 0 { 4 } else { 0 })
        .collect();
    assert_eq!(restarts(&tall), want);
    assert_eq!(num(&all[0], &h, "restarts"), 16.0);
    let ((_, plain), _) = run_saved(dir.path(), "plain", &[&fleet[..], &["-s", "lru"]].concat());
    assert!(num(&roll[0], &h, "hits") < num(&plain[0], &h, "hits"));
    assert!(num(&all[0], &h, "hits") < num(&plain[0], &h, "hits"));
    // A shared cache is outside the instances: restarting them changes
    // none of its counts.
    let ((_, shared), _) = run_saved(
        dir.path(),
        "shared",
        &[&fleet[..], &["-s", "shared:lru"]].concat(),
    );
    let ((_, shared_rs), tshared) = run_saved(
        dir.path(),
        "shared-rs",
        &[&fleet[..], &["-s", "shared:lru", "--rolling"], &every[..]].concat(),
    );
    assert_eq!(restarts(&tshared).iter().sum::<u64>(), 19);
    for c in ["gets", "hits", "misses", "evictions", "memory_objects"] {
        assert_eq!(num(&shared[0], &h, c), num(&shared_rs[0], &h, c), "{c}");
    }
    // tiered-local: the L1s restart, the shared L2 does not and takes the
    // hits the L1s lose.
    let tiered = ["-s", "tiered-local:lru+lru", "--l1-capacity", "200"];
    let ((_, t), _) = run_saved(dir.path(), "tiered", &[&fleet[..], &tiered[..]].concat());
    let ((_, trs), _) = run_saved(
        dir.path(),
        "tiered-rs",
        &[&fleet[..], &tiered[..], &["--rolling"], &every[..]].concat(),
    );
    assert_eq!(num(&trs[0], &h, "restarts"), 19.0);
    assert!(num(&trs[0], &h, "l1_hits") < num(&t[0], &h, "l1_hits"));
    assert!(num(&trs[0], &h, "l2_hits") > num(&t[0], &h, "l2_hits"));
}

/// The report's command for a run with rolling restarts, run again, gives
/// the same row: `restart_every` and `rolling` come back as options.
#[test]
fn report_commands_reproduce_rolling_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "-s",
        "lru,shared:lru",
        "--instances",
        "3",
        "--balance",
        "round-robin",
        "-c",
        "1000",
        "--restart-every",
        "7k",
        "--rolling",
    ];
    let ((h, rows), _) = run_saved(dir.path(), "orig", &args);
    assert_eq!(rows[0][col(&h, "restart_every")], "7000");
    assert_eq!(rows[0][col(&h, "rolling")], "true");
    let o = cachesim(&["report", "orig.csv", "-o", "r.html"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    let cmds = common::report_commands(&html);
    assert_eq!(cmds.len(), 1, "{cmds:?}");
    assert!(
        cmds[0].contains("--restart-every 7000 --rolling"),
        "{}",
        cmds[0]
    );
    let words: Vec<&str> = cmds[0].split_whitespace().collect();
    assert_eq!(&words[..2], ["cachesim", "run"]);
    let mut again: Vec<&str> = words[1..].to_vec();
    again.extend(["-q", "--out", "again.csv"]);
    let o = cachesim(&again, dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let (h2, rows2) = parse_csv(&std::fs::read_to_string(dir.path().join("again.csv")).unwrap());
    assert_eq!(h2, h);
    assert_eq!(rows2.len(), rows.len());
    for (a, b) in rows.iter().zip(&rows2) {
        for (i, name) in h.iter().enumerate() {
            if !cachesim::sim::result::MEASURED_COLUMNS.contains(&name.as_str()) {
                assert_eq!(a[i], b[i], "{name}");
            }
        }
    }
    assert_eq!(
        num(&rows2[0], &h, "restarts"),
        num(&rows[0], &h, "restarts")
    );
    assert!(num(&rows2[0], &h, "restarts") > 0.0);
}

#[test]
fn redis_strategies_the_loop_cannot_run_refuse_restarts_by_name() {
    // Refused before any connection: no server needed. (`redis` and
    // `redis-*` with a byte capacity restart through the simulator's loop,
    // Redis keeping its contents: tests/it/redis_timeline.rs.)
    let dir = tempfile::tempdir().unwrap();
    for (s, extra, option) in [
        ("tiered:lru+redis", &[][..], "--restart-every"),
        ("redis", &["--clients", "2"][..], "--restart-every"),
        ("redis-lru", &["-c", "500"][..], "--capacity"),
    ] {
        let o = cachesim(
            &[
                &[
                    "run",
                    "-s",
                    s,
                    "--requests",
                    "1000",
                    "--no-save",
                    "--restart-every",
                    "10k",
                ][..],
                extra,
            ]
            .concat(),
            dir.path(),
        );
        fails_with(&o, 2, option, s);
        let e = stderr(&o);
        assert!(e.contains(&format!("'{s}'")), "{s}: {e}");
    }
}

#[test]
fn bad_restart_options_are_usage_errors_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        cachesim(
            &[&["run", "--requests", "1000", "--no-save", "-q"][..], extra].concat(),
            dir.path(),
        )
    };
    for bad in ["0", "0s", "soon", "-3", "10x"] {
        fails_with(&run(&["--restart-every", bad]), 2, "--restart-every", bad);
    }
    fails_with(
        &run(&["--restart-every", "1k", "--rolling"]),
        2,
        "--rolling",
        "rolling without --instances",
    );
    fails_with(
        &run(&["--instances", "3", "--rolling"]),
        2,
        "--rolling",
        "rolling without --restart-every",
    );
    // And a good one runs.
    let o = run(&["--restart-every", "30s", "--instances", "3", "--rolling"]);
    assert!(o.status.success(), "{}", stderr(&o));
}
