//! Issue 19: the `disk` strategy, a joblib-style cache in a real directory.

use crate::common::{fails_with, json, u};
use std::path::Path;
use std::process::{Command, Output};

/// Runs cachesim in `cwd` with `TMPDIR` set to `tmp`, so that the default
/// cache directory is made under a parent the test watches.
fn run_in(cwd: &Path, tmp: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .current_dir(cwd)
        .env("TMPDIR", tmp)
        .output()
        .expect("binary runs")
}

const SMALL: &[&str] = &[
    "run",
    "-w",
    "zipf",
    "--requests",
    "3000",
    "--keys",
    "500",
    "--no-save",
    "-f",
    "json",
    "-q",
];

fn small(extra: &[&str]) -> Vec<String> {
    SMALL.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn args(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Every file under `dir`, recursively, relative to it.
fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                todo.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn disk_hits_equal_an_unbounded_cache_and_its_files_are_the_cached_set() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("cache");
    let d = dir.to_str().unwrap();
    let disk = json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "disk", "--disk-dir", d, "--disk-keep"])),
    ));
    let lru = json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "lru", "-c", "100%"])),
    ));
    let (disk, lru) = (&disk[0], &lru[0]);
    assert_eq!(disk["strategy"], "disk");
    assert_eq!(disk["capacity_spec"], "disk");
    assert_eq!(u(disk, "hits"), u(lru, "hits"));
    assert_eq!(u(disk, "misses"), u(lru, "misses"));
    assert_eq!(u(disk, "evictions"), 0);
    // Hit latency was measured.
    assert!(disk["hit_p50_us"].as_f64().unwrap() > 0.0, "{disk}");
    // One file per distinct key requested (all cached: nothing evicted),
    // each of the request's size (1 byte in zipf, no sizes), plus the marker.
    let files = walk(&dir);
    let cached: Vec<&String> = files.iter().filter(|f| !f.starts_with('.')).collect();
    assert_eq!(cached.len() as u64, u(disk, "misses"));
    assert_eq!(files.len(), cached.len() + 1, "{files:?}");
    assert!(files.contains(&".cachesim-disk".to_string()));
    for f in cached {
        assert_eq!(f.len(), 16, "{f}");
        assert_eq!(std::fs::metadata(dir.join(f)).unwrap().len(), 1, "{f}");
    }
    // Nothing else was written under the parent.
    assert_eq!(
        walk(parent.path())
            .iter()
            .filter(|f| !f.starts_with("cache"))
            .count(),
        0
    );
}

#[test]
fn value_size_sets_the_files_and_a_limit_evicts_to_it() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("c");
    let d = dir.to_str().unwrap();
    let rows = json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&[
            "-s",
            "disk:limit=10KiB:every=100",
            "--value-size",
            "100",
            "--disk-dir",
            d,
            "--disk-keep",
        ])),
    ));
    let r = &rows[0];
    assert_eq!(r["strategy"], "disk:limit=10KiB:every=100");
    assert_eq!(r["capacity_spec"], "limit=10KiB");
    assert_eq!(u(r, "capacity"), 10 * 1024);
    assert!(u(r, "evictions") > 0, "{r}");
    // The run's last request (3000) is a multiple of 100: reduce_size ran
    // last, so at most 102 files of 100 bytes remain.
    let files: Vec<String> = walk(&dir)
        .into_iter()
        .filter(|f| !f.starts_with('.'))
        .collect();
    assert_eq!(files.len() as u64, u(r, "memory_objects"));
    assert!(files.len() <= 102 && files.len() > 50, "{}", files.len());
    for f in &files {
        assert_eq!(std::fs::metadata(dir.join(f)).unwrap().len(), 100);
    }
}

#[test]
fn the_default_directory_is_made_under_the_temp_dir_and_removed() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let before = walk(parent.path());
    let rows = json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "disk"])),
    ));
    assert!(u(&rows[0], "hits") > 0);
    assert_eq!(walk(parent.path()), before);
    assert_eq!(walk(cwd.path()), Vec::<String>::new());
    // With --disk-keep, only its own directory is left there.
    json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "disk", "--disk-keep"])),
    ));
    let left = walk(parent.path());
    assert!(
        left.iter().all(|f| f.starts_with("cachesim-disk-")),
        "{left:?}"
    );
    assert!(
        left.iter().any(|f| f.ends_with(".cachesim-disk")),
        "{left:?}"
    );
}

#[test]
fn a_foreign_disk_dir_is_refused_and_untouched() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let foreign = parent.path().join("photos");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("cat.jpg"), b"meow").unwrap();
    let d = foreign.to_str().unwrap();
    let o = run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "disk", "--disk-dir", d])),
    );
    fails_with(&o, 2, "--disk-dir", "foreign dir");
    assert_eq!(walk(&foreign), ["cat.jpg"]);
    assert_eq!(std::fs::read(foreign.join("cat.jpg")).unwrap(), b"meow");
    // A file is not a directory: a usage error too.
    let f = foreign.join("cat.jpg");
    let o = run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "disk", "--disk-dir", f.to_str().unwrap()])),
    );
    fails_with(&o, 2, "--disk-dir", "a file");
}

#[test]
fn bad_disk_input_is_a_clear_error_not_a_panic() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let out = cwd.path().join("r.csv");
    let o = out.to_str().unwrap();
    for (spec, needle) in [
        ("disk:limit=lots", "limit=lots"),
        ("disk:limit=1GiB:every=0", "every=0"),
        ("disk:every=5", "limit"),
        ("disk:size=3", "size"),
    ] {
        let r = run_in(
            cwd.path(),
            parent.path(),
            &["run", "-s", spec, "--requests", "100", "-q", "-o", o],
        );
        fails_with(&r, 2, needle, spec);
        fails_with(&r, 2, "--strategy", spec);
    }
    // Disk options without the disk strategy would be ignored.
    let r = run_in(
        cwd.path(),
        parent.path(),
        &["run", "-s", "lru", "--disk-keep", "-q", "-o", o],
    );
    fails_with(&r, 2, "--disk-keep", "keep without disk");
    // A directory that cannot be created (even by root): a runtime error
    // naming it, no panic, no result file.
    #[cfg(target_os = "linux")]
    {
        let r = run_in(
            cwd.path(),
            parent.path(),
            &[
                "run",
                "-s",
                "disk",
                "--requests",
                "100",
                "-q",
                "-o",
                o,
                "--disk-dir",
                "/proc/cachesim-disk-test",
            ],
        );
        fails_with(&r, 1, "/proc/cachesim-disk-test", "uncreatable");
        assert!(!String::from_utf8_lossy(&r.stderr).contains("panicked"));
    }
    assert!(!out.exists(), "no result file after a failure");
}

#[test]
fn tiered_lru_over_disk_splits_the_same_hits_between_the_tiers() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let rows = json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&[
            "-s",
            "disk,tiered:lru+disk",
            "--l1-capacity",
            "20",
            "--warmup",
            "10%",
        ])),
    ));
    let (disk, tiered) = (&rows[0], &rows[1]);
    assert_eq!(tiered["strategy"], "tiered:lru+disk");
    assert_eq!(tiered["capacity_spec"], "l1=20+disk");
    // The L1 only answers sooner: an unbounded disk behind it has the same
    // hits, split between the tiers.
    assert_eq!(u(tiered, "hits"), u(disk, "hits"));
    assert_eq!(
        u(tiered, "l1_hits") + u(tiered, "l2_hits"),
        u(tiered, "hits")
    );
    assert!(
        u(tiered, "l1_hits") > 0 && u(tiered, "l2_hits") > 0,
        "{tiered}"
    );
    // `tiered:LOCAL+redis` is still Redis's (a bad L2 is named as before).
    let o = run_in(
        cwd.path(),
        parent.path(),
        &[
            "run",
            "-s",
            "tiered:lru+memcached",
            "--requests",
            "10",
            "--no-save",
            "-q",
        ],
    );
    fails_with(&o, 2, "the L2 must be", "tiered with an unknown L2");
}

/// `disk` is one directory for one process: a fleet of it (`--instances`,
/// `shared:disk`, `--shared`) is a usage error found before any run, which
/// makes no directory.
#[test]
fn disk_in_a_fleet_is_a_usage_error_before_any_run() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    for (extra, option, strategy) in [
        (
            &["-s", "disk", "--instances", "3"][..],
            "--instances",
            "disk",
        ),
        (
            &["-s", "tiered:lru+disk", "--instances", "2"][..],
            "--instances",
            "tiered:lru+disk",
        ),
        (&["-s", "shared:disk"][..], "--strategy", "disk"),
        (&["-s", "disk", "--shared"][..], "--strategy", "disk"),
    ] {
        let o = run_in(cwd.path(), parent.path(), &args(&small(extra)));
        fails_with(&o, 2, option, &format!("{extra:?}"));
        fails_with(
            &o,
            2,
            &format!("strategy '{strategy}'"),
            &format!("{extra:?}"),
        );
        assert!(walk(parent.path()).is_empty(), "{extra:?}");
    }
}

/// `--capacity` does not size `disk` (its size is `limit=`): a sweep over
/// capacities runs it once and says so once, while the L1 of
/// `tiered:lru+disk` is sized by each capacity.
#[test]
fn a_capacity_sweep_runs_disk_once_and_says_so() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let sweep = [
        "-s",
        "lru,disk:limit=64KiB,tiered:lru+disk",
        "-c",
        "1%,5%,10%",
        "--seeds",
        "1,2",
    ];
    let mut a = small(&sweep);
    a.retain(|w| w != "-q");
    let o = run_in(cwd.path(), parent.path(), &args(&a));
    let rows = json(&o);
    let strategies: Vec<&str> = rows
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    let per_seed = [
        "lru",
        "lru",
        "lru",
        "disk:limit=64KiB:every=1000",
        "tiered:lru+disk",
        "tiered:lru+disk",
        "tiered:lru+disk",
    ];
    assert_eq!(strategies, [per_seed, per_seed].concat());
    let l1: Vec<&str> = rows[4..7]
        .iter()
        .map(|r| r["capacity_spec"].as_str().unwrap())
        .collect();
    assert_eq!(l1, ["l1=1%+disk", "l1=5%+disk", "l1=10%+disk"]);
    assert_eq!(rows[3]["capacity_spec"], "limit=64KiB");
    assert_ne!(rows[3]["seed"], rows[10]["seed"]);
    let err = String::from_utf8_lossy(&o.stderr);
    let notes: Vec<&str> = err.lines().filter(|l| l.contains("--capacity")).collect();
    assert_eq!(
        notes,
        ["note: --capacity does not size disk:limit=64KiB:every=1000 (measured once, not once per capacity)"]
    );
    // One capacity: nothing to say.
    let o = run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&["-s", "disk", "-c", "1%"]))
            .into_iter()
            .filter(|w| *w != "-q")
            .collect::<Vec<_>>(),
    );
    assert_eq!(json(&o).len(), 1);
    assert!(!String::from_utf8_lossy(&o.stderr).contains("--capacity"));
}

/// `tiered:LOCAL+disk` times its hits by tier, as `tiered:LOCAL+redis`
/// does: an L1 hit reads no file, so it is faster than a disk hit.
#[test]
fn tiered_disk_times_each_tier_and_l1_hits_are_faster() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let rows = json(&run_in(
        cwd.path(),
        parent.path(),
        &args(&small(&[
            "-s",
            "disk,tiered:lru+disk",
            "--l1-capacity",
            "50",
        ])),
    ));
    let (disk, tiered) = (&rows[0], &rows[1]);
    let us = |r: &serde_json::Value, k: &str| {
        r[k].as_f64()
            .unwrap_or_else(|| panic!("{k} missing in {r}"))
    };
    for k in [
        "l1_hit_p50_us",
        "l1_hit_p99_us",
        "l2_hit_p50_us",
        "l2_hit_p99_us",
    ] {
        assert!(us(tiered, k) > 0.0, "{k}");
        // One tier, no split: as before.
        assert!(disk[k].is_null(), "{k}: {disk}");
    }
    assert!(
        us(tiered, "l1_hit_p50_us") < us(tiered, "l2_hit_p50_us"),
        "{tiered}"
    );
    assert!(us(tiered, "l1_hit_p50_us") <= us(tiered, "l1_hit_p99_us"));
    // The hits' median lies between the tiers'.
    let hit = us(tiered, "hit_p50_us");
    assert!(
        us(tiered, "l1_hit_p50_us") <= hit && hit <= us(tiered, "l2_hit_p50_us"),
        "{tiered}"
    );
}

/// A restart (`--restart-every`) empties the L1 of `tiered:lru+disk`, not
/// its files: the hits move from the L1 to the disk and their sum stays
/// the unbounded disk's; plain `disk` keeps every hit.
#[test]
fn a_restart_empties_the_l1_and_keeps_the_files() {
    let cwd = tempfile::tempdir().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut a = small(&["-s", "disk,tiered:lru+disk", "--l1-capacity", "50"]);
        a.extend(extra.iter().map(|s| s.to_string()));
        json(&run_in(cwd.path(), parent.path(), &args(&a)))
    };
    let plain = run(&[]);
    let restarted = run(&["--restart-every", "500"]);
    for (p, r) in plain.iter().zip(&restarted) {
        assert_eq!(u(r, "hits"), u(p, "hits"), "{r}");
        assert_eq!(u(r, "restarts"), 5, "{r}");
        assert_eq!(u(p, "restarts"), 0);
    }
    let (p, r) = (&plain[1], &restarted[1]);
    assert!(u(r, "l1_hits") < u(p, "l1_hits"), "{p} {r}");
    assert_eq!(u(r, "l1_hits") + u(r, "l2_hits"), u(r, "hits"));
}
