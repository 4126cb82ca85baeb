//! Trace inputs that are not plain small files (issue 16, items 4 and 5):
//! lines past the 64 KiB maximum, binary data in a text trace, and traces
//! on a pipe, standard input or a FIFO, read once into a spool.

use crate::common;
use common::{cachesim, fails_with, stderr, stdout};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs cachesim in `cwd` with `input` on its standard input.
fn cachesim_stdin(args: &[&str], cwd: &Path, input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary runs");
    let mut stdin = child.stdin.take().unwrap();
    let data = input.to_vec();
    // Written from a thread: a pipe holds only 64 KiB.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// `1..=n` as a text trace, keys cycling over 50.
fn keys_text(n: u64) -> String {
    (1..=n).map(|i| format!("{}\n", i % 50)).collect()
}

#[test]
fn a_line_past_64_kib_is_refused_naming_file_and_line() {
    let d = tempfile::tempdir().unwrap();
    let long = "7".repeat(65_537);
    for (name, text) in [
        ("t.txt", format!("1\n2\n{long}\n3\n")),
        ("t.csv", format!("key\n1\n{long}\n")),
        ("t.lis", format!("1 2 0 0\n3 1 0 1\n{long}\n")),
        ("t.trace", format!("1\n*\n{long}\n")),
    ] {
        std::fs::write(d.path().join(name), text).unwrap();
        let o = cachesim(&["trace", "stats", name], d.path());
        let want = format!("{name}:3: the line is longer than 65536 bytes");
        fails_with(&o, 1, &want, name);
    }
    // A quote never closed: the record is held to the same maximum.
    let open: String = "key\n1\n\"2\n".to_string() + &"3,4\n".repeat(20_000);
    std::fs::write(d.path().join("q.csv"), open).unwrap();
    let o = cachesim(&["trace", "stats", "q.csv"], d.path());
    let want = "q.csv:3: a record longer than 65536 bytes: a quoted field is not closed?";
    fails_with(&o, 1, want, "open quote");
    // Exactly 65536 bytes is still a line.
    std::fs::write(
        d.path().join("ok.txt"),
        format!("{}\n1\n", "8".repeat(65_536)),
    )
    .unwrap();
    let o = cachesim(&["trace", "stats", "ok.txt", "--format", "json"], d.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"requests\": 2"), "{}", stdout(&o));
}

#[test]
fn a_single_200_mb_line_is_refused_after_64_kib() {
    let d = tempfile::tempdir().unwrap();
    let f = std::fs::File::create(d.path().join("one.txt")).unwrap();
    let mut w = std::io::BufWriter::new(f);
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..200 {
        w.write_all(&chunk).unwrap();
    }
    drop(w);
    let o = cachesim(&["run", "-t", "one.txt", "-c", "10", "--no-save"], d.path());
    let want = "one.txt:1: the line is longer than 65536 bytes";
    fails_with(&o, 1, want, "200 MB line");
}

#[test]
fn binary_data_in_a_text_trace_is_named_from_its_first_4_kb() {
    let d = tempfile::tempdir().unwrap();
    // A sparse 2 GiB file: all NUL bytes, costing no disk.
    let f = std::fs::File::create(d.path().join("x.txt")).unwrap();
    f.set_len(2 << 30).unwrap();
    let start = std::time::Instant::now();
    let o = cachesim(&["run", "-t", "x.txt", "-c", "10", "--no-save"], d.path());
    let want =
        "x.txt: holds binary data (a NUL byte at offset 0 of the first 4 KB), not a text trace";
    fails_with(&o, 1, want, "sparse 2 GiB");
    assert!(start.elapsed().as_secs() < 10, "read the 2 GiB file?");
    // A NUL later in the first 4 KB of a .lis file.
    std::fs::write(d.path().join("b.lis"), b"1 2 0 0\n\x00\x01\n").unwrap();
    let o = cachesim(&["trace", "stats", "b.lis"], d.path());
    let want = "b.lis: holds binary data (a NUL byte at offset 8";
    fails_with(&o, 1, want, "NUL in a .lis");
}

#[test]
fn a_trace_on_standard_input_is_read_once_for_every_pass() {
    let d = tempfile::tempdir().unwrap();
    let text = keys_text(1000);
    std::fs::write(d.path().join("k.txt"), &text).unwrap();
    let args = |t: &'static str, s: &'static str| {
        vec![
            "run",
            "-s",
            s,
            "-t",
            t,
            "-c",
            "10,40",
            "-f",
            "json",
            "--no-save",
        ]
    };
    // One strategy: a counting pass, then a streaming replay per capacity;
    // two: the trace held in memory.
    for s in ["lru", "lru,fifo"] {
        let want = common::json(&cachesim(&args("k.txt", s), d.path()));
        for t in ["-", "/dev/stdin"] {
            let o = cachesim_stdin(&args(t, s), d.path(), text.as_bytes());
            let got = common::json(&o);
            assert_eq!(got.len(), want.len(), "{t} {s}");
            for (g, w) in got.iter().zip(&want) {
                assert_eq!(g["workload"], "stdin", "{t}");
                for k in ["requests", "hits", "misses", "distinct_keys"] {
                    assert_eq!(g[k], w[k], "{t} {s} {k}");
                }
            }
        }
    }
    let o = cachesim_stdin(
        &["trace", "stats", "-", "--format", "json"],
        d.path(),
        text.as_bytes(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("\"requests\": 1000"), "{}", stdout(&o));
    // An empty pipe is an empty trace, said as such.
    let o = cachesim_stdin(&["run", "-t", "-", "--no-save"], d.path(), b"");
    fails_with(&o, 1, "-: the trace holds no requests", "empty pipe");
}

#[test]
fn an_endless_device_is_read_directly_not_spooled() {
    let d = tempfile::tempdir().unwrap();
    let args = ["trace", "stats", "/dev/zero", "--trace-format", "text"];
    let child = common::spawn_cachesim(&args, d.path());
    let (status, err) = common::wait_within(child, 30, "trace stats /dev/zero");
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("/dev/zero: holds binary data"), "{err}");
}

#[test]
fn a_compressed_trace_through_a_fifo_is_spooled() {
    let Some(mkfifo) = common::which("mkfifo") else {
        skip_or_fail!("mkfifo not found");
    };
    let d = tempfile::tempdir().unwrap();
    let fifo = d.path().join("f");
    assert!(Command::new(mkfifo).arg(&fifo).status().unwrap().success());
    let text = keys_text(2000);
    let packed = zstd::encode_all(text.as_bytes(), 3).unwrap();
    std::fs::write(d.path().join("k.txt"), &text).unwrap();
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, packed).unwrap())
    };
    let run = |t: &str| {
        let o = cachesim(
            &[
                "run",
                "-s",
                "lru",
                "-t",
                t,
                "-c",
                "20",
                "-f",
                "json",
                "--no-save",
            ],
            d.path(),
        );
        common::json(&o)
    };
    let got = run("f");
    writer.join().unwrap();
    let want = run("k.txt");
    assert_eq!(got[0]["hits"], want[0]["hits"]);
    assert_eq!(common::u(&got[0], "requests"), 2000);
    let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("cachesim-spool-")
        })
        .collect();
    assert!(leftovers.is_empty(), "spool files left: {leftovers:?}");
}
