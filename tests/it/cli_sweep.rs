//! `cachesim run` sweeps and `cachesim mrc` end to end through the binary:
//! row order, thread-count independence, the new columns, and clear usage
//! errors (exit 2, nothing written) for bad ranges, seeds and threads.

use crate::common;
use common::{cachesim, col, parse_csv, stderr, stdout};

const SWEEP: &[&str] = &[
    "run",
    "-s",
    "lru,fifo,random",
    "-w",
    "zipf,hotspot",
    "--seeds",
    "1..2",
    "-c",
    "1%..20%:3",
    "--requests",
    "20k",
    "--format",
    "csv",
    "--no-save",
];

#[test]
fn sweep_rows_nest_workload_seed_strategy_capacity() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(SWEEP, dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(h, cachesim::sim::result::COLUMNS);
    assert_eq!(rows.len(), 2 * 2 * 3 * 3);
    let (w, s, st, cs) = (
        col(&h, "workload"),
        col(&h, "seed"),
        col(&h, "strategy"),
        col(&h, "capacity_spec"),
    );
    let mut expected = Vec::new();
    for wl in ["zipf:requests=20k", "hotspot:requests=20k"] {
        for seed in ["1", "2"] {
            for strat in ["lru", "fifo", "random"] {
                for cap in ["1%", "4.472%", "20%"] {
                    expected.push((wl, seed, strat, cap));
                }
            }
        }
    }
    let got: Vec<_> = rows
        .iter()
        .map(|r| (&*r[w], &*r[s], &*r[st], &*r[cs]))
        .collect();
    assert_eq!(got, expected);
    // Different seeds give different synthetic streams.
    let hits = col(&h, "hits");
    assert_ne!(rows[0][hits], rows[9][hits]);
}

#[test]
fn one_and_two_threads_give_identical_results_except_timing() {
    let dir = tempfile::tempdir().unwrap();
    let run = |t: &str| {
        let mut a = SWEEP.to_vec();
        a.extend(["--threads", t]);
        let o = cachesim(&a, dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        parse_csv(&stdout(&o))
    };
    let (h1, r1) = run("1");
    let (h2, r2) = run("2");
    assert_eq!(h1, h2);
    // The measured columns (timing, timed latency) and `threads` may differ.
    let skip: Vec<usize> = cachesim::sim::result::MEASURED_COLUMNS
        .iter()
        .map(|c| col(&h1, c))
        .collect();
    assert!(skip.contains(&col(&h1, "threads")));
    let strip = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter()
            .map(|r| {
                r.iter()
                    .enumerate()
                    .filter(|(i, _)| !skip.contains(i))
                    .map(|(_, v)| v.clone())
                    .collect()
            })
            .collect()
    };
    assert_eq!(strip(&r1), strip(&r2));
    let t = col(&h1, "threads");
    assert!(r1.iter().all(|r| r[t] == "1") && r2.iter().all(|r| r[t] == "2"));
}

#[test]
fn repeated_traces_are_separate_workloads_with_their_format() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.txt");
    let b = dir.path().join("b.csv");
    std::fs::write(&a, "1\n2\n1\n3\n1\n2\n").unwrap();
    std::fs::write(&b, "key\n5\n5\n6\n5\n").unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru",
            "-t",
            "a.txt",
            "-t",
            "b.csv",
            "-c",
            "1,2",
            "--seeds",
            "1,2",
            "-f",
            "csv",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(rows.len(), 2 * 2 * 2);
    let (w, f) = (col(&h, "workload"), col(&h, "trace_format"));
    assert_eq!(rows[0][w], "a.txt");
    assert_eq!(rows[0][f], "text");
    assert_eq!(rows[4][w], "b.csv");
    assert_eq!(rows[4][f], "csv");
    // Seeds do not change a trace's LRU result.
    let hits = col(&h, "hits");
    assert_eq!(rows[0][hits], rows[2][hits]);
}

#[test]
fn bad_sweep_options_are_usage_errors_that_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["run", "-c", "1..10"], "missing ':POINTS'"),
        (&["run", "-c", "10..1:4"], "END must be greater than START"),
        (&["run", "-c", "1%..10:4"], "same kind"),
        (&["run", "-c", "1..10:1"], "POINTS must be from 2"),
        (
            &["run", "-c", "1..10:4", "--capacity-scale", "cubic"],
            "--capacity-scale",
        ),
        (&["run", "--seeds", "5..1"], "--seeds"),
        (&["run", "--seeds", "x"], "not a whole number"),
        (&["run", "--threads", "0"], "--threads"),
        (&["run", "-w", "zipf,nope"], "unknown workload 'nope'"),
        (&["run", "-w", "uniform", "--alpha", "0.9"], "--alpha"),
        (
            &["mrc", "-c", "64MiB,1000"],
            "mixes byte budgets with counts",
        ),
        (&["mrc", "--sample", "2"], "--sample"),
        (
            &["mrc", "--sample", "1%", "--sample-adj", "maybe"],
            "--sample-adj",
        ),
        (&["mrc", "--sample-size", "0"], "--sample-size"),
        (
            &["mrc", "--sample", "1%", "--sample-size", "10"],
            "cannot be used with",
        ),
        (&["mrc", "-c", "5..1:3"], "END must be greater"),
    ];
    for (args, needle) in cases {
        let o = cachesim(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("panicked"), "{args:?}");
    }
    assert!(!dir.path().join("results").exists(), "nothing written");
}

#[test]
fn mrc_saves_csv_prints_a_table_and_compares_with_lru() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "mrc",
            "-w",
            "zipf",
            "--requests",
            "30k",
            "--keys",
            "5k",
            "-c",
            "10..2k:6,5%",
            "--compare",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("abs error"), "{}", stdout(&o));
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1);
    let name = saved[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("mrc-") && name.ends_with(".csv"));
    assert!(stderr(&o).contains(&name));
    let (h, rows) = parse_csv(&std::fs::read_to_string(&saved[0]).unwrap());
    assert_eq!(h, cachesim::mrc::COLUMNS);
    assert_eq!(
        &h[..5],
        [
            "capacity",
            "hit_ratio",
            "miss_ratio",
            "method",
            "sample_rate"
        ]
    );
    assert_eq!(rows.len(), 7);
    let (m, e) = (col(&h, "method"), col(&h, "abs_error"));
    for r in &rows {
        assert_eq!(r[m], "exact");
        // The exact curve is the LRU replay.
        assert_eq!(r[e].parse::<f64>().unwrap(), 0.0, "{r:?}");
    }
    // Sampled: a rate column and an error column that are filled in.
    let o = cachesim(
        &[
            "mrc",
            "-w",
            "zipf",
            "--requests",
            "30k",
            "-c",
            "1%,10%",
            "--sample",
            "50%",
            "--compare",
            "-f",
            "csv",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][col(&h, "method")], "shards");
    let r: f64 = rows[0][col(&h, "sample_rate")].parse().unwrap();
    assert!((r - 0.5).abs() < 1e-6);
    assert!(rows[0][col(&h, "abs_error")].parse::<f64>().unwrap() < 0.1);
}

#[test]
fn mrc_default_grid_runs_from_one_to_the_working_set() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "mrc",
            "-w",
            "uniform",
            "--requests",
            "5k",
            "--keys",
            "500",
            "-f",
            "csv",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    let c = col(&h, "capacity");
    let d = col(&h, "distinct_keys");
    assert_eq!(rows[0][c], "1");
    assert_eq!(rows.last().unwrap()[c], rows[0][d]);
    let hit = col(&h, "hit_ratio");
    let ratios: Vec<f64> = rows.iter().map(|r| r[hit].parse().unwrap()).collect();
    assert!(
        ratios.windows(2).all(|w| w[0] <= w[1]),
        "an LRU curve never falls"
    );
}

/// `-j 8000` on two runs starts two threads and says so (not under `-q`);
/// the largest number is accepted and lowered the same way.
#[test]
fn threads_beyond_the_runs_are_lowered_with_a_note() {
    let dir = tempfile::tempdir().unwrap();
    for j in ["8000", "18446744073709551615"] {
        let args = [
            "run",
            "--no-save",
            "-f",
            "csv",
            "-c",
            "10,20",
            "--requests",
            "1000",
            "-j",
            j,
        ];
        let o = cachesim(&args, dir.path());
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("note: --threads {j} lowered to 2")),
            "{}",
            stderr(&o)
        );
        let (h, rows) = parse_csv(&stdout(&o));
        let t = col(&h, "threads");
        assert!(rows.iter().all(|r| r[t] == "2"), "{rows:?}");
        let mut quiet = args.to_vec();
        quiet.push("-q");
        let o = cachesim(&quiet, dir.path());
        assert!(
            o.status.success() && stderr(&o).is_empty(),
            "{}",
            stderr(&o)
        );
    }
}
