//! `cachesim run` and `cachesim list` end to end: every documented path and
//! every documented error, through the real binary.

use crate::common;
use common::{cachesim, col, parse_csv, stderr, stdout};

#[test]
fn headline_command_prints_a_table_and_saves_csv_under_results() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "--strategy",
            "lru",
            "--workload",
            "zipf",
            "--requests",
            "20k",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("hit ratio") && out.contains("lru"), "{out}");
    let saved: Vec<_> = std::fs::read_dir(dir.path().join("results"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(saved.len(), 1);
    let name = saved[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.starts_with("run-") && name.ends_with(".csv"), "{name}");
    assert!(
        stderr(&o).contains(&name),
        "the saved path is printed: {}",
        stderr(&o)
    );
    let (header, rows) = parse_csv(&std::fs::read_to_string(&saved[0]).unwrap());
    assert_eq!(header, cachesim::sim::result::COLUMNS);
    assert_eq!(rows.len(), 1);
}

#[test]
fn strategy_and_capacity_lists_make_one_row_each() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "--strategy",
            "none,lru,lfu,fifo,ttl,random",
            "--workload",
            "zipf",
            "--capacity",
            "1%,5%,10%",
            "--ttl",
            "30s",
            "--requests",
            "30k",
            "--format",
            "csv",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let (h, rows) = parse_csv(&stdout(&o));
    assert_eq!(rows.len(), 18);
    let (strat, hits, gets, misses, hr, cap) = (
        col(&h, "strategy"),
        col(&h, "hits"),
        col(&h, "gets"),
        col(&h, "misses"),
        col(&h, "hit_ratio"),
        col(&h, "capacity"),
    );
    let distinct: u64 = rows[0][col(&h, "distinct_keys")].parse().unwrap();
    for r in &rows {
        let (hi, g, m): (u64, u64, u64) = (
            r[hits].parse().unwrap(),
            r[gets].parse().unwrap(),
            r[misses].parse().unwrap(),
        );
        assert_eq!(hi + m, g);
        if r[strat] == "none" {
            assert_eq!(hi, 0);
        } else {
            assert!(hi > 0, "{r:?}");
        }
        let ratio: f64 = r[hr].parse().unwrap();
        assert!((ratio - hi as f64 / g as f64).abs() < 1e-12);
    }
    // 5% of the distinct keys, rounded.
    assert_eq!(
        rows[1][cap].parse::<u64>().unwrap(),
        (distinct as f64 * 0.05).round() as u64
    );
    assert!(rows.iter().any(|r| r[strat] == "ttl:ttl=30s"));
    // More cache never hurts LRU on this stream.
    let lru: Vec<f64> = rows
        .iter()
        .filter(|r| r[strat] == "lru")
        .map(|r| r[hr].parse().unwrap())
        .collect();
    assert!(lru[0] < lru[1] && lru[1] < lru[2], "{lru:?}");
}

#[test]
fn trace_file_with_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("my-keys.txt");
    let keys: Vec<String> = (0..5000u64).map(|i| ((i * i) % 1500).to_string()).collect();
    std::fs::write(&trace, keys.join("\n")).unwrap();
    let o = cachesim(
        &[
            "run",
            "--strategy",
            "lru",
            "--trace",
            trace.to_str().unwrap(),
            "--capacity",
            "100,1000",
            "--format",
            "json",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let runs = v.as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["workload"], "my-keys.txt");
    assert_eq!(runs[0]["capacity"], 100);
    assert_eq!(runs[1]["capacity"], 1000);
    assert_eq!(runs[0]["requests"], 5000);
    for name in cachesim::sim::result::COLUMNS {
        assert!(runs[0].get(name).is_some(), "JSON lacks {name}");
    }
}

#[test]
fn gzip_and_zstd_traces_are_read_transparently() {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..2000u64).map(|i| format!("{}\n", i % 300)).collect();
    let gz = dir.path().join("k.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    std::io::Write::write_all(&mut e, text.as_bytes()).unwrap();
    e.finish().unwrap();
    let zs = dir.path().join("k.zst");
    std::fs::write(&zs, zstd::encode_all(text.as_bytes(), 3).unwrap()).unwrap();
    let plain = dir.path().join("k.txt");
    std::fs::write(&plain, &text).unwrap();
    let mut outs = vec![];
    for f in [&gz, &zs, &plain] {
        let o = cachesim(
            &[
                "run",
                "-s",
                "lru",
                "-t",
                f.to_str().unwrap(),
                "--trace-format",
                "text",
                "-c",
                "100",
                "-f",
                "csv",
                "--no-save",
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let (h, rows) = parse_csv(&stdout(&o));
        outs.push(rows[0][col(&h, "hits")].clone());
    }
    assert_eq!(outs[0], outs[2]);
    assert_eq!(outs[1], outs[2]);
    assert_eq!(outs[2], "0"); // a loop over 300 keys with c = 100
}

#[test]
fn csv_trace_with_sets_and_deletes() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.csv");
    std::fs::write(&trace, "time,key,op,size\n0,a,get,10\n1,a,get,10\n2,a,delete,10\n3,a,get,10\n4,b,set,5\n5,b,get,5\n").unwrap();
    // A trace's set is a write: by default (--on-write invalidate) it
    // deletes the cached copy, so the get of b misses; with write-through
    // (--on-write update) the set caches b and the get hits.
    for (on_write, hits) in [("invalidate", 1), ("update", 2)] {
        let o = cachesim(
            &[
                "run",
                "-s",
                "lru",
                "-t",
                trace.to_str().unwrap(),
                "-c",
                "10",
                "-f",
                "json",
                "--no-save",
                "--on-write",
                on_write,
            ],
            dir.path(),
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
        let r = &v[0];
        assert_eq!(
            (
                r["gets"].as_u64(),
                r["hits"].as_u64(),
                r["sets"].as_u64(),
                r["deletes"].as_u64(),
                r["writes"].as_u64(),
                r["origin_requests"].as_u64(),
            ),
            (
                Some(4),
                Some(hits),
                Some(1),
                Some(1),
                Some(1),
                Some(4 - hits + 1)
            ),
            "{on_write}"
        );
    }
}

#[test]
fn same_seed_same_csv_and_seed_matters() {
    let dir = tempfile::tempdir().unwrap();
    let run = |seed: &str| {
        let o = cachesim(
            &[
                "run",
                "-s",
                "lru,random",
                "-c",
                "1%,10%",
                "--requests",
                "20k",
                "--seed",
                seed,
                "-f",
                "csv",
                "--no-save",
            ],
            dir.path(),
        );
        assert!(o.status.success());
        let (h, mut rows) = parse_csv(&stdout(&o));
        // Timing columns are measurements, not results.
        for r in &mut rows {
            for m in cachesim::sim::result::MEASURED_COLUMNS {
                r[col(&h, m)].clear();
            }
        }
        rows
    };
    assert_eq!(run("7"), run("7"));
    assert_ne!(run("7"), run("8"));
}

#[test]
fn list_shows_strategies_and_presets() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(&["list"], dir.path());
    assert!(o.status.success());
    let out = stdout(&o);
    for name in [
        "none", "lru", "fifo", "lfu", "ttl", "random", "zipf", "uniform", "hotspot", "scan",
    ] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(name)),
            "list lacks {name}:\n{out}"
        );
    }
}

#[test]
fn workload_preset_from_a_toml_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.toml"),
        "description = 'tiny'\ngenerator = 'zipf'\nrequests = 5000\nkeys = 50\nalpha = 1.2\n",
    )
    .unwrap();
    let o = cachesim(
        &[
            "run",
            "-w",
            "mine.toml",
            "-c",
            "50",
            "-f",
            "json",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    // Labelled by its file name: a file is not the preset of its stem.
    assert_eq!(v[0]["workload"], "mine.toml");
    // Capacity covers the whole key space: only the first request of each key misses.
    assert_eq!(v[0]["misses"], v[0]["distinct_keys"]);
}

/// Every usage error: exit 2, a message naming the option and what is
/// accepted, and no result file.
#[test]
fn usage_errors_name_the_option_and_write_nothing() {
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["-s", "lrux"],
            &["--strategy", "'lrux'", "none, lru, fifo, lfu, ttl, random"],
        ),
        (
            &["-s", "ttl:ttl=soon"],
            &["--strategy", "ttl=soon", "500ms"],
        ),
        (
            &["-s", "lru:size=3"],
            &["--strategy", "unknown parameter 'size'"],
        ),
        (
            &["-s", "s3fifo:small=0.1:small=0.2"],
            &["--strategy", "'small=0.2'", "already given"],
        ),
        (
            &["-w", "zipff"],
            &["--workload", "'zipff'", "zipf, uniform, hotspot, scan"],
        ),
        (&["-c", "0"], &["--capacity", "at least 1"]),
        (&["-c", "lots"], &["--capacity", "'lots'", "10k"]),
        (&["-c", "120%"], &["--capacity", "(0, 100]"]),
        (&["--ttl", "5 parsecs"], &["--ttl", "unknown unit"]),
        (&["--ttl", "0"], &["--ttl", "greater than 0"]),
        (&["--alpha", "x"], &["--alpha", "'x'", "0.99"]),
        (&["--alpha", "11"], &["--alpha", "from 0 to 10"]),
        (&["--rate=-3"], &["--rate", "positive"]),
        (&["--rate", "0"], &["--rate", "positive"]),
        (&["--requests", "many"], &["--requests", "'many'"]),
        (&["--keys", "0"], &["--keys", "keys = 0"]),
        (
            &["-w", "uniform", "--alpha", "1"],
            &["--alpha", "only applies to zipf"],
        ),
        (&["--trace-format", "text"], &["--trace-format", "--trace"]),
        (&["--window", "lots"], &["--window", "'lots'", "10k"]),
        (
            &["--on-write", "maybe"],
            &["--on-write", "'maybe'", "invalidate"],
        ),
        (
            &["--balance", "fair"],
            &["--balance", "'fair'", "round-robin"],
        ),
        (
            &["--pipeline", "0"],
            &["--pipeline", "'0'", "between 1 and"],
        ),
        (
            &["--value-size", "1GiB"],
            &["--value-size", "'1GiB'", "512MiB"],
        ),
        (
            &["--l1-capacity", "lots"],
            &["--l1-capacity", "'lots'", "10k"],
        ),
        (
            &["--origin", "mysql://x"],
            &["--origin", "'mysql://x'", "postgres://"],
        ),
        (
            &["-t", "x.txt", "--trace-format", "parquet"],
            &["--trace-format", "text, csv"],
        ),
    ];
    for (args, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut full = vec!["run", "--requests", "1000", "--out", "r.csv"];
        full.extend_from_slice(args);
        let o = cachesim(&full, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        for n in *needles {
            assert!(err.contains(n), "{args:?}: message lacks {n:?}: {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            !dir.path().join("r.csv").exists(),
            "{args:?} wrote a result file"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "{args:?} left files"
        );
    }
}

/// Runtime errors: exit 1, the file (and line) named, no result file.
#[test]
fn runtime_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad_csv = dir.path().join("bad.csv");
    std::fs::write(&bad_csv, "key,time\n1,0\n2,0.5\n3,later\n").unwrap();
    let empty = dir.path().join("empty.txt");
    std::fs::write(&empty, "# nothing\n\n").unwrap();
    let missing = dir.path().join("missing.txt");
    let cases: Vec<(String, Vec<String>)> = vec![
        (
            missing.display().to_string(),
            vec!["missing.txt".into(), "cannot open".into()],
        ),
        (
            bad_csv.display().to_string(),
            vec![format!("{}:4:", bad_csv.display()), "later".into()],
        ),
        (
            empty.display().to_string(),
            vec!["empty.txt".into(), "no requests".into()],
        ),
    ];
    for (trace, needles) in cases {
        let out = dir.path().join("r.csv");
        let o = cachesim(
            &[
                "run",
                "-t",
                &trace,
                "-s",
                "lru,fifo",
                "-c",
                "10",
                "--out",
                out.to_str().unwrap(),
            ],
            dir.path(),
        );
        assert_eq!(o.status.code(), Some(1), "{trace}: {}", stderr(&o));
        let err = stderr(&o);
        for n in &needles {
            assert!(
                err.contains(n.as_str()),
                "{trace}: message lacks {n:?}: {err}"
            );
        }
        assert!(!out.exists());
    }
}

#[test]
fn help_has_examples_on_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(&["run", "--help"], dir.path());
    assert!(o.status.success());
    assert!(stdout(&o).contains("Examples:") && stdout(&o).contains("--capacity"));
    let o = cachesim(&["list", "--help"], dir.path());
    assert!(o.status.success());
}

/// `cachesim list | head -1` and the like: a reader that closes stdout early
/// is not an error, so the binary exits 0 without a panic or a message.
/// `list` writes its text at once, so its pipe is closed before it starts;
/// `run -f csv` writes more than a pipe holds, so it is still writing when
/// the reader, having read one line, goes away.
#[test]
fn a_closed_stdout_exits_zero_quietly() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let o = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .arg("list")
        .current_dir(dir.path())
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");

    let mut child = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args([
            "run",
            "-q",
            "--no-save",
            "-f",
            "csv",
            "--no-latency",
            "--requests",
            "1000",
            "-c",
            "1..100k:1000",
            "--seeds",
            "1..2",
        ])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("workload,"), "{line}");
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

/// Issue 16, item 9: runs started in the same second took the same default
/// name and one result set was lost. Six `run`s and six `mrc`s started at
/// once in one folder leave twelve files, each with its own seed.
#[test]
fn concurrent_runs_never_share_a_default_results_file() {
    let dir = tempfile::tempdir().unwrap();
    let exe = env!("CARGO_BIN_EXE_cachesim");
    let children: Vec<_> = (1..=6)
        .flat_map(|seed| {
            let seed = seed.to_string();
            let run = [
                "run",
                "--requests",
                "20k",
                "--no-latency",
                "-q",
                "--seed",
                &seed,
            ];
            let mrc = ["mrc", "--requests", "20k", "-q", "--seed", &seed];
            [
                run.map(String::from).to_vec(),
                mrc.map(String::from).to_vec(),
            ]
        })
        .map(|args| {
            std::process::Command::new(exe)
                .args(&args)
                .current_dir(dir.path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let mut seeds = Vec::new();
    for e in std::fs::read_dir(dir.path().join("results")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(!name.starts_with('.'), "temporary file left: {name}");
        let (h, rows) = parse_csv(&std::fs::read_to_string(&p).unwrap());
        let kind = if name.starts_with("run-") {
            "run"
        } else {
            "mrc"
        };
        seeds.push((kind, rows[0][col(&h, "seed")].clone()));
    }
    seeds.sort();
    let want: Vec<_> = ["mrc", "run"]
        .into_iter()
        .flat_map(|k| (1..=6).map(move |s| (k, s.to_string())))
        .collect();
    assert_eq!(seeds, want);
}

/// Issue 16, item 2 and 15: counts beyond what memory can hold, and negative
/// numbers, are usage errors naming the option (they panicked on "capacity
/// overflow", aborted on allocation, or got clap's "unexpected argument").
#[test]
fn huge_and_negative_counts_are_refused_by_name() {
    let cases: &[(&[&str], &[&str])] = &[
        // zipf and uniform are drawn in pieces, up to 10^12 requests.
        (
            &["--requests", "18446744073709551615"],
            &["--requests", "10^12", "--trace"],
        ),
        (&["--requests", "2000G"], &["--requests", "more than"]),
        (
            &["-w", "scan", "--requests", "2G"],
            &["--requests", "1000000000", "--trace"],
        ),
        (&["--requests", "-1"], &["--requests", "'-1'"]),
        (
            &["--instances", "4294967296"],
            &["--instances", "from 1 to 100000"],
        ),
        (&["--seed", "-3"], &["--seed", "'-3'"]),
        (&["-c", "-5"], &["--capacity", "'-5'"]),
        (&["--keys", "-10"], &["--keys", "'-10'"]),
    ];
    for (args, needles) in cases {
        let dir = tempfile::tempdir().unwrap();
        let mut full = vec!["run", "--no-latency", "--out", "r.csv"];
        full.extend_from_slice(args);
        let o = cachesim(&full, dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {n} not in {err}");
        }
        assert!(!dir.path().join("r.csv").exists());
    }
}
