//! Issue 16, items 14, 15 and 17: options that would be ignored are
//! refused, results that no run can produce are refused, every error names
//! one place, and labels say what ran.

use crate::common::{cachesim, json, stderr, stdout};
use std::path::Path;

/// Runs `args` in a fresh directory and returns the output and whether the
/// directory is still empty.
fn in_empty_dir(args: &[&str]) -> (std::process::Output, bool) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keys.txt"), "1\n2\n1\n3\n").unwrap();
    let o = cachesim(args, dir.path());
    let left = std::fs::read_dir(dir.path()).unwrap().count();
    (o, left == 1)
}

/// Item 14: an option that would change nothing is a usage error naming
/// it, and nothing runs.
#[test]
fn options_that_would_be_ignored_are_refused() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["run", "-t", "keys.txt", "--requests", "10"],
            "--requests",
            "synthetic",
        ),
        (
            &["run", "-t", "keys.txt", "--keys", "10"],
            "--keys",
            "synthetic",
        ),
        (
            &["mrc", "-t", "keys.txt", "--requests", "10", "--no-save"],
            "--requests",
            "synthetic",
        ),
        (
            &["run", "-s", "lru", "--pipeline", "8"],
            "--pipeline",
            "none of --strategy",
        ),
        (
            // In-process strategies take --clients (the event mode); disk
            // replays through one process and takes none.
            &["run", "-s", "lru,disk", "--clients", "4"],
            "--clients",
            "'disk'",
        ),
        (
            &["run", "-s", "lru", "--value-size", "1KiB"],
            "--value-size",
            "redis-lru",
        ),
        (&["mrc", "--sample-adj", "off", "--no-save"], "--sample", ""),
        (
            &[
                "run",
                "--origin-latency",
                "5ms",
                "--origin",
                "postgres://root@127.0.0.1:1/test",
            ],
            "--origin-latency",
            "--origin",
        ),
        (
            &["run", "--origin-latency", "5ms", "--no-latency"],
            "--origin-latency",
            "--no-latency",
        ),
    ];
    for (args, option, needle) in cases {
        let mut full = args.to_vec();
        full.extend_from_slice(&["--out", "r.csv", "-q"]);
        if full[0] == "mrc" {
            full.retain(|a| *a != "--out" && *a != "r.csv");
        }
        let (o, clean) = in_empty_dir(&full);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(option) && err.contains(needle),
            "{args:?}: {err}"
        );
        assert!(clean, "{args:?} left a file");
    }
    // What the refusals are not about still runs: --requests with a preset
    // beside a trace applies to the preset.
    let (o, _) = in_empty_dir(&[
        "run",
        "-w",
        "zipf",
        "-t",
        "keys.txt",
        "--requests",
        "1k",
        "--no-save",
        "-f",
        "json",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = json(&o);
    assert_eq!(rows[0]["workload"], "zipf:requests=1k");
    assert_eq!(rows[1]["workload"], "keys.txt");
    assert_eq!(rows[1]["requests"], 4);
}

/// Writes `results.csv` of a small run into `dir` and returns its text.
fn results(dir: &Path) -> String {
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru,lfu",
            "--requests",
            "5k",
            "-c",
            "5%",
            "--no-latency",
            "-o",
            "results.csv",
            "-q",
        ],
        dir,
    );
    assert!(o.status.success(), "{}", stderr(&o));
    std::fs::read_to_string(dir.join("results.csv")).unwrap()
}

/// Item 14: a results CSV with a NaN, infinite, negative or above-1 ratio
/// (or a negative time) is refused by plot, compare and report, naming the
/// file, the line and the column; a field that does not parse names its
/// column and value, and every message names one line only (item 15).
#[test]
fn results_no_run_can_produce_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = results(dir.path());
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let cases = [
        ("hit_ratio", "NaN", "not a ratio from 0 to 1"),
        ("miss_ratio", "-0.25", "not a ratio from 0 to 1"),
        ("byte_hit_ratio", "1.5", "not a ratio from 0 to 1"),
        ("elapsed_s", "inf", "not a finite number >= 0"),
        ("requests_per_s", "-1", "not a finite number >= 0"),
        ("hits", "many", "hits is 'many'"),
    ];
    for (column, value, needle) in cases {
        let i = header.iter().position(|h| *h == column).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let mut fields: Vec<String> = lines[2].split(',').map(String::from).collect();
        fields[i] = value.to_string();
        lines[2] = fields.join(",");
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, lines.join("\n") + "\n").unwrap();
        for cmd in [
            vec!["compare", "bad.csv"],
            vec!["plot", "bad.csv", "-o", "chart.png"],
            vec!["report", "bad.csv", "-o", "page.html"],
        ] {
            let o = cachesim(&cmd, dir.path());
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(1), "{cmd:?} {column}={value}: {err}");
            assert!(
                err.contains("bad.csv:3:") && err.contains(column) && err.contains(needle),
                "{cmd:?} {column}={value}: {err}"
            );
            assert!(!err.contains("line:") && !err.contains("record"), "{err}");
            assert!(!dir.path().join("chart.png").exists());
            assert!(!dir.path().join("page.html").exists());
        }
    }
    // The untouched file passes.
    let o = cachesim(&["compare", "results.csv"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Item 15: `--redis-server-bin DIR` says it is a directory, not that it
/// does not exist.
#[test]
fn redis_server_bin_names_what_is_wrong_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "redis-lru",
            "--redis-server-bin",
            d,
            "--requests",
            "1k",
            "--no-save",
        ],
        dir.path(),
    );
    let err = stderr(&o);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("is a directory") && err.contains(d), "{err}");
    let plain = dir.path().join("redis-server");
    std::fs::write(&plain, "not a program").unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "redis-lru",
            "--redis-server-bin",
            plain.to_str().unwrap(),
            "--requests",
            "1k",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(stderr(&o).contains("is not executable"), "{}", stderr(&o));
}

/// Item 17: a preset file is labelled by its file name, not as the preset
/// its stem names, and the report's rerun command gives it as a workload.
#[test]
fn a_preset_file_is_labelled_as_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(
        dir.path().join("sub/zipf.toml"),
        "description = 'not zipf'\ngenerator = 'uniform'\nrequests = 2000\nkeys = 100\n",
    )
    .unwrap();
    let o = cachesim(
        &[
            "run",
            "-w",
            "sub/zipf.toml,zipf",
            "--requests",
            "2k",
            "-c",
            "10",
            "--no-latency",
            "-o",
            "r.csv",
            "-f",
            "json",
            "-q",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = json(&o);
    assert_eq!(rows[0]["workload"], "zipf.toml:requests=2k");
    assert_eq!(rows[1]["workload"], "zipf:requests=2k");
    // Uniform over 100 keys and Zipf(1) over 100k keys differ.
    assert_ne!(rows[0]["hits"], rows[1]["hits"]);
    let o = cachesim(&["report", "r.csv", "-o", "page.html"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let page = std::fs::read_to_string(dir.path().join("page.html")).unwrap();
    assert!(
        page.contains("--workload zipf.toml --requests 2k"),
        "{}",
        &page[page.find("commands").unwrap()..][..400]
    );
    assert!(!page.contains("--trace zipf"));
}

/// Item 17: numbers in labels stay short, a duration too short to tell
/// from 0 is refused rather than labelled 0, 2^64 bytes is too large, and
/// a `*` line makes a file LIRS, so a bad line in it is named.
#[test]
fn labels_and_units_say_what_ran() {
    let (o, _) = in_empty_dir(&[
        "run",
        "--rate",
        "1e-300",
        "--requests",
        "1k",
        "--no-save",
        "-f",
        "json",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(json(&o)[0]["workload"], "zipf:requests=1k:rate=1e-300");
    for args in [
        &["run", "--ttl", "0.0000001ms", "--no-save"][..],
        &["run", "-s", "ttl:ttl=0.0000001ms", "--no-save"][..],
    ] {
        let (o, _) = in_empty_dir(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("1ns") && err.contains("0.0000001ms"), "{err}");
    }
    let (o, _) = in_empty_dir(&[
        "run",
        "-s",
        "ttl:ttl=5ns",
        "--requests",
        "1k",
        "--no-save",
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("ttl=5ns"), "{}", stdout(&o));
    for cap in ["18446744073709551616B", "17179869184GiB"] {
        let (o, _) = in_empty_dir(&["run", "-c", cap, "--no-save"]);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{cap}: {err}");
        assert!(err.contains("too large"), "{cap}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("x.trace"), "1\n*\nabc\n2\n").unwrap();
    let o = cachesim(&["run", "-t", "x.trace", "--no-save"], dir.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("x.trace:3") && err.contains("abc"), "{err}");
}

/// Items 14 and 15: a CSV trace with a column named twice or a row with
/// more fields than the header is refused, and errors name the line the
/// row is on in the file, comments and blank lines counted.
#[test]
fn csv_traces_are_read_strictly_and_named_by_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            "dup.csv",
            "time,key,KEY\n1,2,3\n",
            "dup.csv:1:",
            "'key' twice",
        ),
        (
            "extra.csv",
            "key,time\n1,0\n2,1,9\n",
            "extra.csv:3:",
            "3 fields where the header has 2",
        ),
        (
            "late.csv",
            "# exported by hand\n\nkey,time\n1,0\n\n# pause\n2,soon\n",
            "late.csv:7:",
            "time 'soon'",
        ),
    ];
    for (name, text, place, needle) in cases {
        std::fs::write(dir.path().join(name), text).unwrap();
        let o = cachesim(&["run", "-t", name, "--no-save"], dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{name}: {err}");
        assert!(err.contains(place) && err.contains(needle), "{name}: {err}");
        assert_eq!(err.matches("line").count(), 0, "{name}: {err}");
    }
}

/// Item 11: a full stdout is an error with exit 1 and a message, a full
/// stderr does not turn a usage error (exit 2) into a panic (exit 101).
#[test]
fn a_full_stdout_or_stderr_is_no_panic() {
    if !Path::new("/dev/full").exists() {
        skip_or_fail!("no /dev/full on this system");
    }
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    let bin = env!("CARGO_BIN_EXE_cachesim");
    let o = std::process::Command::new(bin)
        .arg("list")
        .stdout(full())
        .output()
        .unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot write to stdout") && !err.contains("panicked"),
        "{err}"
    );
    for args in [
        &["run", "--bogus"][..],
        &["run", "--requests", "1k", "--no-save"][..],
    ] {
        let o = std::process::Command::new(bin)
            .args(args)
            .stderr(full())
            .stdout(std::process::Stdio::null())
            .output()
            .unwrap();
        let want = if args[1] == "--bogus" { 2 } else { 0 };
        assert_eq!(o.status.code(), Some(want), "{args:?}");
    }
}

/// Item 14, the timeline's twin: `plot` checks a timeline CSV's rows as it
/// checks results, and names the row's line once.
#[test]
fn a_timeline_with_an_impossible_ratio_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "--requests",
            "5k",
            "--window",
            "1k",
            "--no-latency",
            "-o",
            "r.csv",
            "-q",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("r-timeline.csv")).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let i = header
        .iter()
        .position(|h| *h == "window_hit_ratio")
        .unwrap();
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let mut fields: Vec<String> = lines[3].split(',').map(String::from).collect();
    fields[i] = "NaN".into();
    lines[3] = fields.join(",");
    std::fs::write(dir.path().join("t.csv"), lines.join("\n") + "\n").unwrap();
    let o = cachesim(&["plot", "t.csv", "-o", "chart.png"], dir.path());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("t.csv:4: window_hit_ratio is 'NaN', not a ratio from 0 to 1"),
        "{err}"
    );
    assert!(!dir.path().join("chart.png").exists());
}
