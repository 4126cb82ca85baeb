//! The trace commands and trace errors as a user meets them: run the binary,
//! check exit status, stdout and stderr.

use crate::common;
use common::{cachesim, stderr, stdout};

/// oracleGeneral records for `keys` (time = index, size 100, next access -1).
fn oracle_bytes(keys: &[u64]) -> Vec<u8> {
    let mut out = vec![];
    for (i, &k) in keys.iter().enumerate() {
        out.extend_from_slice(&(i as u32).to_le_bytes());
        out.extend_from_slice(&k.to_le_bytes());
        out.extend_from_slice(&100u32.to_le_bytes());
        out.extend_from_slice(&(-1i64).to_le_bytes());
    }
    out
}

#[test]
fn truncated_binary_record_names_the_byte_offset() {
    let d = tempfile::tempdir().unwrap();
    let mut data = oracle_bytes(&[1, 2, 3]);
    data.truncate(2 * 24 + 5);
    std::fs::write(d.path().join("t.oracleGeneral.bin"), &data).unwrap();
    let o = cachesim(
        &["run", "-t", "t.oracleGeneral.bin", "-c", "10", "--no-save"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("t.oracleGeneral.bin") && e.contains("byte offset 48"),
        "{e}"
    );

    std::fs::write(d.path().join("k.bin"), [0u8, 0, 0, 1, 0, 0]).unwrap();
    let o = cachesim(
        &["trace", "stats", "k.bin", "--trace-format", "u32be"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("byte offset 4"), "{}", stderr(&o));
}

#[test]
fn bad_lis_line_names_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("bad.lis"), "1 4 0 0\n9 2 0 1\nten 1 0 2\n").unwrap();
    let o = cachesim(&["run", "-t", "bad.lis", "-c", "10", "--no-save"], d.path());
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert!(e.contains("bad.lis:3:") && e.contains("'ten 1 0 2'"), "{e}");
    assert!(!e.contains("panicked"), "{e}");

    std::fs::write(d.path().join("bad.trace"), "1\n*\n2\nx7\n").unwrap();
    let o = cachesim(
        &["trace", "stats", "bad.trace", "--trace-format", "lirs"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("bad.trace:4:"), "{}", stderr(&o));
}

#[test]
fn empty_traces_are_errors() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("empty.lis"), "").unwrap();
    std::fs::write(d.path().join("blank.lis"), "\n\n\r\n").unwrap();
    std::fs::write(d.path().join("empty.oracleGeneral"), "").unwrap();
    std::fs::write(d.path().join("stars.trace"), "*\n*\n").unwrap();
    for (f, fmt) in [
        ("empty.lis", None),
        ("blank.lis", None),
        ("empty.oracleGeneral", None),
        ("stars.trace", Some("lirs")),
    ] {
        let mut args = vec!["run", "-t", f, "-c", "10", "--no-save"];
        if let Some(fmt) = fmt {
            args.extend(["--trace-format", fmt]);
        }
        let o = cachesim(&args, d.path());
        assert_eq!(o.status.code(), Some(1), "{f}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("holds no requests"),
            "{f}: {}",
            stderr(&o)
        );
        let o = cachesim(
            &[
                "trace",
                "stats",
                f,
                "--trace-format",
                fmt.unwrap_or(if f.ends_with(".lis") {
                    "arc"
                } else {
                    "oracle-general"
                }),
            ],
            d.path(),
        );
        assert_eq!(o.status.code(), Some(1), "{f}");
        assert!(
            stderr(&o).contains("holds no requests"),
            "{f}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn undetectable_format_lists_the_formats() {
    let d = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8)
        .collect();
    std::fs::write(d.path().join("keys.bin"), &data).unwrap();
    let o = cachesim(
        &["run", "-t", "keys.bin", "-c", "10", "--no-save"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    for f in [
        "text",
        "csv",
        "arc",
        "lirs",
        "oracle-general",
        "u32be",
        "i64be",
    ] {
        assert!(e.contains(f), "{f} missing from: {e}");
    }
    let o = cachesim(
        &[
            "run",
            "-t",
            "keys.bin",
            "--trace-format",
            "u33be",
            "--no-save",
        ],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--trace-format") && stderr(&o).contains("i64be"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn stats_json_and_table() {
    let d = tempfile::tempdir().unwrap();
    // 1 2 3 1 2 2 4 1 as an ARC trace with runs.
    std::fs::write(
        d.path().join("t.lis"),
        "1 3 0 0\n1 2 0 1\n2 1 0 2\n4 1 0 3\n1 1 0 4\n",
    )
    .unwrap();
    let o = cachesim(&["trace", "stats", "t.lis", "--format", "json"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["requests"], 8);
    assert_eq!(v["distinct_keys"], 4);
    assert_eq!(v["one_hit_wonders"], 2);
    assert_eq!(v["reuses"], 4);
    assert_eq!(v["top_keys"][0]["key"], 1);
    assert_eq!(v["top_keys"][0]["count"], 3);
    assert_eq!(v["zipf"]["rank_to"], 2);
    let o = cachesim(&["trace", "stats", "t.lis"], d.path());
    assert!(o.status.success());
    let t = stdout(&o);
    assert!(
        t.contains("requests           8") && t.contains("ranks 1..=2"),
        "{t}"
    );
}

#[test]
fn convert_round_trips_and_writes_nothing_on_failure() {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("in.trace"), "5\r\n*\r\n7\r\n5\r\n9\r\n").unwrap();
    let o = cachesim(
        &[
            "trace",
            "convert",
            "in.trace",
            "out.oracleGeneral",
            "--to",
            "oracle-general",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let bytes = std::fs::read(d.path().join("out.oracleGeneral")).unwrap();
    assert_eq!(bytes.len(), 4 * 24);
    // Record 0 (key 5) is next requested at 0-based index 2, which
    // libCacheSim writes as request 3 (it counts from 1).
    assert_eq!(u64::from_le_bytes(bytes[4..12].try_into().unwrap()), 5);
    assert_eq!(i64::from_le_bytes(bytes[16..24].try_into().unwrap()), 3);
    assert_eq!(
        i64::from_le_bytes(bytes[24 + 16..48].try_into().unwrap()),
        -1
    );
    let o = cachesim(
        &[
            "trace",
            "convert",
            "out.oracleGeneral",
            "back.csv",
            "--to",
            "csv",
        ],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.path().join("back.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("time,key,size"));
    let keys: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(keys, ["5", "7", "5", "9"]);
    let o = cachesim(
        &["trace", "convert", "back.csv", "back.txt", "--to", "text"],
        d.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read_to_string(d.path().join("back.txt")).unwrap(),
        "5\n7\n5\n9\n"
    );

    std::fs::write(d.path().join("bad.lis"), "1 1 0 0\noops\n").unwrap();
    let o = cachesim(
        &["trace", "convert", "bad.lis", "never.txt", "--to", "text"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(!d.path().join("never.txt").exists());
    let left: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !left.iter().any(|n| n.to_string_lossy().contains("tmp")),
        "{left:?}"
    );
}

#[test]
fn exported_workload_replays_like_the_synthetic_one() {
    let d = tempfile::tempdir().unwrap();
    let gen = [
        "--workload",
        "zipf",
        "--keys",
        "2000",
        "--requests",
        "50k",
        "--alpha",
        "0.9",
        "--seed",
        "7",
    ];
    let mut args = vec!["workload", "export", "-o", "zipf.txt"];
    args.extend(gen);
    let o = cachesim(&args, d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let text = std::fs::read_to_string(d.path().join("zipf.txt")).unwrap();
    assert_eq!(text.lines().count(), 50_000);

    let hits = |args: &[&str]| -> String {
        let o = cachesim(args, d.path());
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        let mut lines = out.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let row: Vec<&str> = lines.next().unwrap().split(',').collect();
        let i = header.iter().position(|&h| h == "hits").unwrap();
        row[i].to_string()
    };
    let mut synth = vec!["run", "-s", "lru", "-c", "200", "-f", "csv", "--no-save"];
    synth.extend(gen);
    let from_trace = hits(&[
        "run",
        "-s",
        "lru",
        "-c",
        "200",
        "-f",
        "csv",
        "--no-save",
        "-t",
        "zipf.txt",
    ]);
    assert_eq!(hits(&synth), from_trace);

    // Options are validated as `run` validates them.
    let o = cachesim(
        &["workload", "export", "--alpha", "11", "-o", "x.txt"],
        d.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--alpha"), "{}", stderr(&o));
    assert!(!d.path().join("x.txt").exists());
}

#[test]
fn one_pass_runs_count_the_same_requests_and_distinct_keys_as_a_counting_pass() {
    // 5000 requests over 1234 keys, one of them past 2^32.
    let keys: Vec<u64> = (0..5000u64)
        .map(|i| {
            if i == 4000 {
                1 << 40
            } else {
                (i * 7919) % 1233
            }
        })
        .collect();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("t.oracleGeneral.bin"), oracle_bytes(&keys)).unwrap();
    // `-c 10` streams the trace once, counting as it replays; `-c 50%` and
    // `--prefill` need the counts first: a counting pass, then the replay.
    let runs: [&[&str]; 3] = [
        &["-c", "10"],
        &["-c", "50%"],
        &["-c", "10", "--prefill", "top:5"],
    ];
    for (i, extra) in runs.into_iter().enumerate() {
        let out = format!("r{i}.csv");
        let mut args = vec!["run", "-t", "t.oracleGeneral.bin", "-q", "-o", &out];
        args.extend_from_slice(extra);
        let o = cachesim(&args, d.path());
        assert_eq!(o.status.code(), Some(0), "{extra:?}: {}", stderr(&o));
        let (h, rows) = common::read_csv(&d.path().join(&out));
        let cell = |name: &str| rows[0][common::col(&h, name)].clone();
        assert_eq!(
            (cell("requests"), cell("distinct_keys")),
            ("5000".to_string(), "1234".to_string()),
            "{extra:?}"
        );
        if extra[1] == "50%" {
            assert_eq!(cell("capacity"), "617");
        }
    }
}
