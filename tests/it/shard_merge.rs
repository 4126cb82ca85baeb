//! Sweeps split over machines: every shard `run --shard I/N` of a sweep,
//! joined by `cachesim merge`, gives exactly the unsharded sweep's rows
//! (outside the measured columns) and timeline, in its order; missing,
//! duplicate and foreign shards are refused without writing anything; and
//! `scripts/slurm-sweep.sh` does the same through Slurm when a cluster
//! answers.

use crate::common::*;
use std::path::Path;

/// A small sweep of four runs.
const SWEEP: &[&str] = &[
    "-s",
    "lru,fifo",
    "-c",
    "1%,5%",
    "--requests",
    "2k",
    "--no-latency",
];

/// Random plans: several strategies, capacities, seeds, workloads, a TTL
/// axis or a write axis sometimes, split into a random number of shards.
#[test]
fn every_shard_merged_is_the_unsharded_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let mut f = Fuzz::new(21);
    let strategies = [
        "lru", "lfu", "fifo", "random", "sieve", "s3fifo", "ttl", "arc",
    ];
    let capacities = ["1%", "5%", "10", "100", "2%..20%:3", "64"];
    for case in 0..12 {
        let mut args: Vec<String> = vec!["--requests".into(), "3k".into()];
        args.extend(["--keys".into(), "500".into(), "--no-latency".into()]);
        let pick = |f: &mut Fuzz, from: &[&str], most: usize| -> String {
            let n = 1 + f.below(most);
            let mut got: Vec<&str> = Vec::new();
            while got.len() < n {
                let s = f.pick(from);
                if !got.contains(&s) {
                    got.push(s);
                }
            }
            got.join(",")
        };
        args.extend(["-s".into(), pick(&mut f, &strategies, 3)]);
        args.extend(["-c".into(), pick(&mut f, &capacities, 3)]);
        args.extend(["-w".into(), pick(&mut f, &["zipf", "hotspot"], 2)]);
        args.extend(["--seeds".into(), format!("1..{}", 1 + f.below(2))]);
        match f.below(3) {
            0 => args.extend(["--ttl".into(), "1s,30s".into()]),
            1 => args.extend([
                "--write-ratio".into(),
                "0.1".into(),
                "--on-write".into(),
                "invalidate,none".into(),
            ]),
            _ => {}
        }
        if f.below(2) == 0 {
            args.extend(["--window".into(), "1k".into()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let whole = format!("whole{case}.csv");
        let (h, rows) = run_to(dir.path(), &args, &whole, None);
        let runs = rows.len();
        let n = 1 + f.below(runs.min(5));
        let mut parts = Vec::new();
        for i in 1..=n {
            let part = format!("c{case}-part{i}.csv");
            let shard = format!("{i}/{n}");
            let (_, prows) = run_to(dir.path(), &args, &part, Some(&shard));
            assert!(
                prows.len() == runs / n || prows.len() == runs / n + 1,
                "case {case} shard {shard}: {} of {runs} runs: {args:?}",
                prows.len()
            );
            parts.push(part);
        }
        // Any order of the files.
        parts.rotate_left(f.below(n));
        let merged = format!("merged{case}.csv");
        let o = merge(dir.path(), &parts, &merged);
        assert!(o.status.success(), "case {case}: {}", stderr(&o));
        let (mh, mrows) = read_csv(&dir.path().join(&merged));
        assert_eq!(mh, h);
        assert_eq!(
            without_measured(&mh, &mrows),
            without_measured(&h, &rows),
            "case {case}: {args:?} in {n} shards"
        );
        let index = col(&h, "run_index");
        let order: Vec<String> = (1..=runs).map(|k| k.to_string()).collect();
        assert_eq!(
            rows.iter().map(|r| r[index].clone()).collect::<Vec<_>>(),
            order
        );
        let timeline = |name: &str| dir.path().join(name.replace(".csv", "-timeline.csv"));
        if args.contains(&"--window") {
            assert_eq!(
                std::fs::read_to_string(timeline(&merged)).unwrap(),
                std::fs::read_to_string(timeline(&whole)).unwrap(),
                "case {case}: the merged timeline"
            );
        } else {
            assert!(!timeline(&merged).exists());
        }
    }
}

/// `--shard` values that are not I/N with 1 <= I <= N, or more shards than
/// runs: a usage error naming --shard, and no file.
#[test]
fn bad_shards_are_usage_errors_naming_the_option() {
    let dir = tempfile::tempdir().unwrap();
    for bad in ["0/3", "4/3", "1/0", "x", "3", "1/2/3", "-1/3"] {
        let o = cachesim(
            &[
                "run",
                "-s",
                "lru",
                "--requests",
                "1k",
                "-q",
                "--shard",
                bad,
                "-o",
                "x.csv",
            ],
            dir.path(),
        );
        fails_with(&o, 2, "--shard", bad);
    }
    // Two runs, three shards.
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru",
            "-c",
            "1%,2%",
            "--requests",
            "1k",
            "-q",
            "--shard",
            "3/3",
            "-o",
            "x.csv",
        ],
        dir.path(),
    );
    fails_with(&o, 2, "--shard", "3/3 of 2 runs");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// A missing shard, one given twice, a shard of another sweep, a file
/// without the shard columns and a timeline missing for one shard: each
/// refused (exit 1), naming the file, with nothing written.
#[test]
fn merge_refuses_missing_duplicate_and_foreign_shards() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for i in 1..=3 {
        run_to(d, SWEEP, &format!("p{i}.csv"), Some(&format!("{i}/3")));
    }
    let other = [
        "-s",
        "lru,lfu",
        "-c",
        "1%,5%",
        "--requests",
        "2k",
        "--no-latency",
    ];
    run_to(d, &other, "other2.csv", Some("2/3"));
    let cases: [(&[&str], &str); 4] = [
        (&["p1.csv", "p3.csv"], "shard 2/3 missing"),
        (
            &["p1.csv", "p2.csv", "p2.csv", "p3.csv"],
            "shard 2/3 is given twice",
        ),
        (
            &["p1.csv", "other2.csv", "p3.csv"],
            "'other2.csv' is from a different sweep",
        ),
        (&["p1.csv", "nope.csv"], "nope.csv"),
    ];
    for (files, needle) in cases {
        let o = merge(d, files, "out.csv");
        fails_with(&o, 1, needle, &files.join(" "));
        assert!(!d.join("out.csv").exists(), "{files:?}");
    }
    // A file written before the columns: every row lacks them.
    let (h, rows) = read_csv(&d.join("p1.csv"));
    let keep: Vec<usize> = (0..h.len())
        .filter(|&i| !["run_index", "runs", "shard", "sweep_id"].contains(&h[i].as_str()))
        .collect();
    let mut w = csv::Writer::from_path(d.join("old.csv")).unwrap();
    w.write_record(keep.iter().map(|&i| &h[i])).unwrap();
    for r in &rows {
        w.write_record(keep.iter().map(|&i| &r[i])).unwrap();
    }
    w.flush().unwrap();
    let o = merge(d, &["old.csv", "p2.csv", "p3.csv"], "out.csv");
    fails_with(&o, 1, "'old.csv' has rows without run_index", "old file");
    // Timelines for some shards only.
    let windowed = [SWEEP, &["--window", "500"]].concat();
    for i in 1..=2 {
        run_to(d, &windowed, &format!("w{i}.csv"), Some(&format!("{i}/2")));
    }
    std::fs::remove_file(d.join("w2-timeline.csv")).unwrap();
    let o = merge(d, &["w1.csv", "w2.csv"], "out.csv");
    fails_with(&o, 1, "'w2.csv' has no timeline", "a timeline missing");
    assert!(!d.join("out.csv").exists());
    assert!(!d.join("out-timeline.csv").exists());
    // And the complete set merges.
    let o = merge(d, &["p2.csv", "p3.csv", "p1.csv"], "out.csv");
    assert!(o.status.success(), "{}", stderr(&o));
}

/// `scripts/slurm-sweep.sh` through a real Slurm: when `sbatch` answers and
/// `sinfo` shows a node (e.g. after `scripts/slurm-local.sh up`), a sweep
/// in three array tasks and a dependent merge gives the unsharded rows.
/// Skipped with a reason otherwise, even in CI (no cluster there).
#[test]
fn slurm_sweep_script_gives_the_unsharded_sweep() {
    let answers = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| stdout(&o))
    };
    if answers("sbatch", &["--version"]).is_none() {
        eprintln!(
            "skipped: `sbatch --version` fails: no Slurm client, or no cluster configured (scripts/slurm-local.sh up starts a one-node one)"
        );
        return;
    }
    match answers("sinfo", &["-h", "-o", "%N %t"]) {
        Some(nodes) if nodes.split_whitespace().count() >= 2 => {}
        _ => {
            eprintln!("skipped: sinfo shows no Slurm node (scripts/slurm-local.sh up)");
            return;
        }
    }
    // Slurm's tasks run as this user on this node: a folder they can write.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (h, rows) = run_to(d, SWEEP, "whole.csv", None);
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/slurm-sweep.sh");
    let merged = d.join("merged.csv");
    let o = std::process::Command::new(script)
        .args(["-n", "3", "--wait", "-o"])
        .arg(&merged)
        .arg("--cachesim")
        .arg(env!("CARGO_BIN_EXE_cachesim"))
        .arg("--")
        .args(SWEEP)
        .current_dir(d)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let (mh, mrows) = read_csv(&merged);
    assert_eq!(mh, h);
    assert_eq!(without_measured(&mh, &mrows), without_measured(&h, &rows));
}

/// Runs `cachesim run ARGS -q -f csv -o OUT` (with `--shard`), panicking
/// with its stderr on failure; the file's header and rows.
fn run_to(
    dir: &Path,
    args: &[&str],
    out: &str,
    shard: Option<&str>,
) -> (Vec<String>, Vec<Vec<String>>) {
    let mut a = vec!["run", "-q", "-f", "csv", "-o", out];
    a.extend(args);
    if let Some(s) = shard {
        a.extend(["--shard", s]);
    }
    let o = cachesim(&a, dir);
    assert!(o.status.success(), "{a:?}: {}", stderr(&o));
    read_csv(&dir.join(out))
}

/// `cachesim merge FILES -o OUT` in `dir`.
fn merge(dir: &Path, files: &[impl AsRef<str>], out: &str) -> std::process::Output {
    let mut a = vec!["merge"];
    a.extend(files.iter().map(|f| f.as_ref()));
    a.extend(["-o", out]);
    cachesim(&a, dir)
}
