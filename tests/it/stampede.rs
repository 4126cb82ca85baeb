//! The event mode from the command line: its columns, seeded results,
//! report commands that reproduce it, what it refuses, and a real
//! PostgreSQL origin under N clients.

use crate::common;
use common::{cachesim, col, fails_with, parse_csv, stderr};
use std::path::Path;

/// Runs `cachesim run ARGS -q --out NAME.csv` in `dir`; the header and rows.
fn run_csv(dir: &Path, name: &str, args: &[&str]) -> (Vec<String>, Vec<Vec<String>>) {
    let out = format!("{name}.csv");
    let mut a = vec!["run", "-q", "--out", &out];
    a.extend(args);
    let o = cachesim(&a, dir);
    assert!(o.status.success(), "{}", stderr(&o));
    parse_csv(&std::fs::read_to_string(dir.join(&out)).unwrap())
}

fn num(row: &[String], h: &[String], name: &str) -> f64 {
    row[col(h, name)]
        .parse()
        .unwrap_or_else(|_| panic!("{name}: '{}'", row[col(h, name)]))
}

const SCENARIO: &[&str] = &[
    "-s",
    "lru",
    "-w",
    "zipf",
    "--requests",
    "20k",
    "--keys",
    "2k",
    "--rate",
    "2000",
    "-c",
    "20%",
    "--ttl",
    "2s",
    "--origin-latency",
    "exp:20ms",
];

#[test]
fn the_event_mode_fills_its_columns_and_is_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let mut args = SCENARIO.to_vec();
    args.extend([
        "--clients",
        "32",
        "--origin-concurrency",
        "4",
        "--window",
        "5k",
    ]);
    let (h, rows) = run_csv(dir.path(), "a", &args);
    let r = &rows[0];
    assert_eq!(r[col(&h, "arrivals")], "closed");
    assert_eq!(r[col(&h, "clients")], "32");
    assert_eq!(r[col(&h, "think_time")], "exp:16ms");
    assert_eq!(r[col(&h, "origin_concurrency")], "4");
    assert_eq!(r[col(&h, "defences")], "none");
    let (misses, dups) = (num(r, &h, "misses"), num(r, &h, "duplicate_fetches"));
    assert!(dups > 0.0, "32 clients on a zipf: duplicates");
    assert_eq!(num(r, &h, "origin_requests"), misses);
    assert!(num(r, &h, "origin_peak_concurrency") > 4.0);
    assert!(num(r, &h, "origin_queue_p99_us") > 0.0);
    // Latency includes the queue: a miss waits longer than its 20 ms mean.
    assert!(num(r, &h, "miss_p99_us") > 20_000.0);
    let t = std::fs::read_to_string(dir.path().join("a-timeline.csv")).unwrap();
    let (th, trows) = parse_csv(&t);
    assert_eq!(trows.len(), 4);
    let sent: f64 = trows
        .iter()
        .map(|t| num(t, &th, "window_origin_requests"))
        .sum();
    assert_eq!(sent, num(r, &h, "origin_requests"));
    assert!(trows
        .iter()
        .all(|t| num(t, &th, "origin_outstanding_max") >= num(t, &th, "origin_queue_max")));
    // The same seed, the same rows (the event mode's latencies are simulated).
    let (h2, rows2) = run_csv(dir.path(), "b", &args);
    assert_eq!(
        (h2, rows2[0].clone()),
        (h.clone(), {
            let mut same = rows[0].clone();
            for m in ["elapsed_s", "requests_per_s"] {
                same[col(&h, m)] = rows2[0][col(&h, m)].clone();
            }
            same
        })
    );
    // Coalescing takes the duplicates away.
    args.push("--coalesce");
    let (h, rows) = run_csv(dir.path(), "c", &args);
    let r = &rows[0];
    assert_eq!(num(r, &h, "duplicate_fetches"), 0.0);
    assert!(num(r, &h, "coalesced") > 0.0);
    assert_eq!(
        num(r, &h, "origin_requests") + num(r, &h, "coalesced"),
        num(r, &h, "misses")
    );
}

/// The report's commands for event-mode runs (one per defence), run
/// again, give the same rows.
#[test]
fn report_commands_reproduce_the_event_mode() {
    let dir = tempfile::tempdir().unwrap();
    let runs: [&[&str]; 4] = [
        &["--arrivals", "poisson", "--stale-while-revalidate", "500ms"],
        &["--clients", "8", "--think-time", "5ms", "--coalesce"],
        &[
            "--xfetch",
            "2",
            "--ttl-jitter",
            "0.3",
            "--origin-concurrency",
            "3",
        ],
        &["--clients", "4", "--prefill", "top:100"],
    ];
    let mut files = Vec::new();
    let mut originals = Vec::new();
    for (i, extra) in runs.iter().enumerate() {
        let mut args = SCENARIO.to_vec();
        args.extend(*extra);
        let name = format!("o{i}");
        originals.push(run_csv(dir.path(), &name, &args));
        files.push(format!("{name}.csv"));
    }
    let mut a = vec!["report"];
    a.extend(files.iter().map(|s| s.as_str()));
    a.extend(["-o", "r.html"]);
    let o = cachesim(&a, dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("r.html")).unwrap();
    let cmds = common::report_commands(&html);
    assert_eq!(cmds.len(), 4, "{cmds:?}");
    for (i, cmd) in cmds.iter().enumerate() {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        let mut again: Vec<&str> = words[2..].to_vec();
        let name = format!("again{i}");
        let (h2, rows2) = {
            again.retain(|w| !w.is_empty());
            run_csv(dir.path(), &name, &again)
        };
        let (h, rows) = originals
            .iter()
            .find(|(h, rows)| {
                rows[0][col(h, "defences")] == rows2[0][col(&h2, "defences")]
                    && rows[0][col(h, "arrivals")] == rows2[0][col(&h2, "arrivals")]
                    && rows[0][col(h, "prefill")] == rows2[0][col(&h2, "prefill")]
            })
            .unwrap_or_else(|| panic!("no original for {cmd}"));
        assert_eq!(&h2, h);
        for (name, (a, b)) in h.iter().zip(rows[0].iter().zip(&rows2[0])) {
            if !cachesim::sim::result::MEASURED_COLUMNS.contains(&name.as_str()) {
                assert_eq!(a, b, "{name} in {cmd}");
            }
        }
    }
}

#[test]
fn what_the_event_mode_cannot_do_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let base = [
        "-w",
        "zipf",
        "--requests",
        "1000",
        "--keys",
        "100",
        "-o",
        "x.csv",
    ];
    for (extra, needle) in [
        (
            &["-s", "lru", "--coalesce", "--instances", "2"][..],
            "--instances",
        ),
        (
            &["-s", "lru", "--clients", "4", "--restart-every", "500"][..],
            "--restart-every",
        ),
        (
            &["-s", "lru", "--xfetch", "1", "--no-latency"][..],
            "--no-latency",
        ),
        (&["-s", "ttl", "--coalesce"][..], "use lru with --ttl"),
        (&["-s", "lru,redis", "--coalesce"][..], "--coalesce"),
        (&["-s", "disk", "--clients", "4"][..], "--clients"),
        (&["-s", "lru", "--xfetch", "0"][..], "(0, 1000]"),
        (&["-s", "lru", "--ttl-jitter", "1"][..], "[0, 1)"),
        (
            &["-s", "lru", "--origin-concurrency", "0"][..],
            "--origin-concurrency",
        ),
        (&["-s", "lru", "--think-time", "1ms"][..], "--clients"),
        (
            &["-s", "lru", "--clients", "2", "--arrivals", "poisson"][..],
            "--arrivals",
        ),
        (&["-s", "lru", "--arrivals", "closed"][..], "--clients N"),
    ] {
        let mut a = vec!["run"];
        a.extend(base);
        a.extend(extra);
        let o = cachesim(&a, dir.path());
        fails_with(&o, 2, needle, &format!("{extra:?}"));
        assert!(!dir.path().join("x.csv").exists(), "{extra:?}");
    }
}

/// A real PostgreSQL as the origin of 8 closed-loop clients: each fetch
/// runs a SELECT on its client's connection, and the counts keep their
/// rules (service times are measured, so the counts vary from run to run).
#[test]
fn a_postgres_origin_serves_n_clients() {
    if crate::latency::psql_one("SELECT 1").is_none() {
        skip_or_fail!("no PostgreSQL answers at {}", common::pg_url());
    }
    let dir = tempfile::tempdir().unwrap();
    let url = common::pg_url();
    for coalesce in [false, true] {
        let mut args = vec![
            "-s",
            "lru",
            "-w",
            "zipf",
            "--requests",
            "4000",
            "--keys",
            "500",
            "-c",
            "20%",
            "--ttl",
            "200ms",
            "--clients",
            "8",
            "--think-time",
            "1ms",
            "--origin",
            &url,
        ];
        if coalesce {
            args.push("--coalesce");
        }
        let (h, rows) = run_csv(dir.path(), &format!("pg{coalesce}"), &args);
        let r = &rows[0];
        assert_eq!(r[col(&h, "origin")], url);
        let (misses, sent) = (num(r, &h, "misses"), num(r, &h, "origin_requests"));
        assert!(misses > 500.0, "{misses}");
        assert_eq!(sent + num(r, &h, "coalesced"), misses);
        assert!(num(r, &h, "origin_time_s") > 0.0);
        assert!(num(r, &h, "miss_p50_us") > 1.0, "a real round trip");
        assert!(num(r, &h, "origin_peak_concurrency") >= 1.0);
        if coalesce {
            assert_eq!(num(r, &h, "duplicate_fetches"), 0.0);
        }
    }
}
