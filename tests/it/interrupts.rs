//! Interrupts and failures lose nothing and leave nothing (issue 16, items
//! 6, 7, 8 and 10): Ctrl-C and `kill` during a sweep save the runs that
//! finished; a Redis run deletes its keys on a signal and gives them a TTL;
//! a private server's watchdog outlives a Ctrl-C to the process group;
//! interrupted writes leave no temp file; a lost PostgreSQL origin keeps
//! the finished runs; an unwritable output is refused before any run.

use crate::common::{self, cachesim, parse_csv, stderr, stdout, which};
use crate::redis::{gone, private_pids, redis_up, scan};
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Starts cachesim with `args` in `cwd`, stdout and stderr piped; with
/// `group`, as the leader of a process group of its own (as a shell starts
/// a job, so that a signal can go to the whole group as Ctrl-C does).
fn start(args: &[&str], cwd: &Path, group: bool) -> Child {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cachesim"));
    c.args(args)
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if group {
        c.process_group(0);
    }
    c.spawn().expect("binary runs")
}

/// Sends `sig` to process `pid` (to the process group `-pid` when negative).
fn kill(pid: i32, sig: i32) {
    // SAFETY: a plain kill(2) to a process (group) this test started.
    assert_eq!(unsafe { libc::kill(pid, sig) }, 0, "kill {pid} {sig}");
}

/// Waits up to `secs` for `f` to hold.
fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    f()
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// N and M of `interrupted: N of M runs finished`.
fn finished_of(err: &str) -> (usize, usize) {
    let rest = err
        .split_once("interrupted: ")
        .unwrap_or_else(|| panic!("no interrupt message: {err}"))
        .1;
    let w: Vec<&str> = rest.split_whitespace().collect();
    (w[0].parse().unwrap(), w[2].parse().unwrap())
}

/// A sweep of 131 short runs on one thread, stopped by `sig` after a few
/// have finished.
fn interrupt_a_sweep(sig: i32, code: i32) {
    let dir = tempfile::tempdir().unwrap();
    // Long enough (131 runs of 5M requests, 10 s and more) that the signal
    // 3 s in always finds runs left: at 1M the sweep once finished first.
    let args = [
        "run",
        "-s",
        "lru",
        "-c",
        "1..1000:200",
        "--requests",
        "5M",
        "--keys",
        "100k",
        "-j",
        "1",
        "--no-latency",
        "-f",
        "csv",
        "-o",
        "r.csv",
    ];
    let child = start(&args, dir.path(), false);
    std::thread::sleep(Duration::from_secs(3));
    let t = Instant::now();
    kill(child.id() as i32, sig);
    let o = child.wait_with_output().unwrap();
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(code), "{err}");
    let (n, m) = finished_of(&err);
    // 1..1000:200 has 131 distinct whole capacities.
    assert_eq!(m, 131, "{err}");
    assert!(n >= 1 && n < m, "{err}");
    assert!(err.contains("runs finished; saved to r.csv"), "{err}");
    // The finished rows, in the file and on stdout, and nothing else.
    let text = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    assert_eq!(parse_csv(&text).1.len(), n);
    assert_eq!(stdout(&o), text);
    assert_eq!(names(dir.path()), ["r.csv"]);
    // They are the rows an uninterrupted run gives.
    let (h, rows) = parse_csv(&text);
    let hits = common::col(&h, "hits");
    let cap = &rows[n - 1][common::col(&h, "capacity_spec")];
    let again = cachesim(
        &[
            "run",
            "-s",
            "lru",
            "-c",
            cap,
            "--requests",
            "5M",
            "--keys",
            "100k",
            "--no-latency",
            "-f",
            "csv",
            "--no-save",
        ],
        dir.path(),
    );
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(parse_csv(&stdout(&again)).1[0][hits], rows[n - 1][hits]);
}

#[test]
fn sigint_during_a_sweep_saves_the_finished_runs_and_exits_130() {
    interrupt_a_sweep(libc::SIGINT, 130);
}

#[test]
fn sigterm_during_a_sweep_saves_the_finished_runs_and_exits_143() {
    interrupt_a_sweep(libc::SIGTERM, 143);
}

/// Item 6: the keys of a `redis` run carry a TTL (`--redis-key-ttl`) and
/// are deleted when the run is interrupted.
#[test]
fn an_interrupted_redis_run_deletes_its_keys_which_carry_a_ttl() {
    if !redis_up() {
        skip_or_fail!("no Redis answers on 127.0.0.1:6379");
    }
    let dir = tempfile::tempdir().unwrap();
    let args = [
        "run",
        "-s",
        "redis",
        "--redis-url",
        "redis://127.0.0.1:6379/9",
        "--requests",
        "5M",
        "--keys",
        "100k",
        "--redis-key-ttl",
        "2h",
        "-q",
        "-o",
        "r.csv",
    ];
    let child = start(&args, dir.path(), false);
    let pattern = format!("cachesim:{}-*", child.id());
    assert!(
        wait_for(60, || !scan(6379, 9, &pattern).is_empty()),
        "no keys"
    );
    let key = scan(6379, 9, &pattern).remove(0);
    let mut c = cachesim::external::resp::Conn::connect("127.0.0.1", 6379).unwrap();
    c.login(None, None, 9).unwrap();
    let ttl = match c.query(&[b"PTTL", &key]).unwrap() {
        cachesim::external::resp::Value::Int(ms) => ms,
        v => panic!("PTTL: {v:?}"),
    };
    assert!(ttl > 7_000_000 && ttl <= 7_200_000, "PTTL {ttl}");
    kill(child.id() as i32, libc::SIGINT);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(130), "{err}");
    assert!(
        err.contains("interrupted: 0 of 1 runs finished; nothing saved"),
        "{err}"
    );
    assert!(scan(6379, 9, &pattern).is_empty(), "keys left");
    assert_eq!(names(dir.path()), Vec::<String>::new());
}

/// The temporary folders of the private servers of cachesim process `pid`.
fn server_dirs(pid: u32) -> Vec<PathBuf> {
    let prefix = format!("cachesim-redis-{pid}-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

/// Item 7: Ctrl-C to the process group (once: cachesim stops the server;
/// twice: cachesim dies at once and the watchdog, which the signal did not
/// reach, stops it) leaves no server and no `/tmp/cachesim-redis-*`.
#[test]
fn ctrl_c_to_the_group_leaves_no_private_server_and_no_temp_dir() {
    if which("redis-server").is_none() {
        skip_or_fail!("no redis-server on PATH");
    }
    for twice in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let args = [
            "run",
            "-s",
            "redis-lru",
            "-c",
            "1000",
            "--requests",
            "5M",
            "--keys",
            "100k",
            "-o",
            "r.csv",
        ];
        let mut child = start(&args, dir.path(), true);
        let pid = child.id();
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let mut seen = String::new();
        let server = loop {
            let line = lines.next().expect("stderr open").unwrap();
            seen += &line;
            if let Some(&p) = private_pids(line.as_bytes()).first() {
                break p;
            }
        };
        let reader =
            std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>().join("\n"));
        assert_eq!(server_dirs(pid).len(), 1, "{seen}");
        std::thread::sleep(Duration::from_millis(300));
        kill(-(pid as i32), libc::SIGINT);
        if twice {
            std::thread::sleep(Duration::from_millis(20));
            kill(-(pid as i32), libc::SIGINT);
        }
        let status = child.wait().unwrap();
        let err = reader.join().unwrap();
        if twice {
            assert!(
                status.signal() == Some(libc::SIGINT) || status.code() == Some(130),
                "{status:?} {err}"
            );
        } else {
            assert_eq!(status.code(), Some(130), "{err}");
            assert!(err.contains("interrupted: 0 of 1 runs finished"), "{err}");
        }
        assert!(
            wait_for(10, || gone(server) && server_dirs(pid).is_empty()),
            "server {server} or {:?} left (twice: {twice})",
            server_dirs(pid)
        );
        assert_eq!(names(dir.path()), Vec::<String>::new());
    }
}

/// Starts `args`, waits for its hidden temp file (`.OUT.tmp-*`) to appear
/// in `dir`, interrupts it, and checks that it died of the signal and left
/// `dir` as it found it (`before`).
fn interrupt_a_write(args: &[&str], dir: &Path, out: &str, before: &[String]) {
    let mut child = start(args, dir, false);
    let tmp = format!(".{out}.tmp-");
    let writing = wait_for(60, || names(dir).iter().any(|n| n.starts_with(&tmp)));
    assert!(writing, "no temp file: {:?}", names(dir));
    kill(child.id() as i32, libc::SIGINT);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(libc::SIGINT), "{status:?}");
    assert_eq!(names(dir), before);
}

/// Item 7: Ctrl-C during `workload export` and `trace convert` leaves
/// neither the output nor its hidden temp file.
#[test]
fn interrupted_export_and_convert_leave_no_temp_file() {
    let dir = tempfile::tempdir().unwrap();
    let export = [
        "workload",
        "export",
        "-w",
        "zipf",
        "--requests",
        "30M",
        "-o",
        "w.txt",
    ];
    interrupt_a_write(&export, dir.path(), "w.txt", &[]);
    let made = cachesim(
        &["workload", "export", "--requests", "5M", "-o", "in.txt"],
        dir.path(),
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let convert = ["trace", "convert", "--to", "csv", "in.txt", "out.csv"];
    interrupt_a_write(&convert, dir.path(), "out.csv", &["in.txt".to_string()]);
}

/// Item 8: a PostgreSQL origin lost in the third run of a sweep: the two
/// finished runs are saved, and the message names the broken run.
#[test]
fn a_postgres_origin_lost_mid_sweep_keeps_the_finished_runs() {
    if crate::latency::psql_one("SELECT 1").is_none() {
        skip_or_fail!("no PostgreSQL answers at {}", common::pg_url());
    }
    let url = common::pg_url();
    let (_, rest) = url.split_once("://").unwrap();
    let (user, rest) = rest.split_once('@').unwrap();
    let (hostport, db) = rest.split_once('/').unwrap();
    let target: u16 = hostport.rsplit_once(':').unwrap().1.parse().unwrap();
    // Connections: 1 populates the table, 2-4 one per run (4 is cut).
    let port = common::proxy(target, 4);
    let via = format!("postgres://{user}@127.0.0.1:{port}/{db}");
    let dir = tempfile::tempdir().unwrap();
    let o = cachesim(
        &[
            "run",
            "-s",
            "none,lru,fifo",
            "-c",
            "10%",
            "--requests",
            "20k",
            "--keys",
            "5k",
            "--origin",
            &via,
            "-q",
            "-o",
            "r.csv",
        ],
        dir.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("run fifo c=10% on zipf"), "{err}");
    assert!(
        err.contains("the 2 finished run(s) were saved to r.csv"),
        "{err}"
    );
    let text = std::fs::read_to_string(dir.path().join("r.csv")).unwrap();
    let (h, rows) = parse_csv(&text);
    let s = common::col(&h, "strategy");
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!((&*rows[0][s], &*rows[1][s]), ("none", "lru"));
}

/// Item 10: every output location that cannot be written is refused
/// before any run (a run of 100M requests would take far longer), naming
/// the option and the path, and nothing is written.
#[test]
fn unwritable_outputs_are_refused_before_any_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("file"), "x").unwrap();
    std::fs::create_dir(d.join("adir")).unwrap();
    std::fs::create_dir(d.join("t-timeline.csv")).unwrap();
    let run = ["run", "-s", "lru", "--requests", "100M", "--keys", "1M"];
    let mrc = ["mrc", "--requests", "100M", "--keys", "1M"];
    let cases: &[(&[&str], &[&str], &[&str])] = &[
        (
            &run,
            &["-o", "file/r.csv"],
            &["'--out'", "'file'", "not a directory"],
        ),
        (&run, &["-o", "/proc/cachesim/r.csv"], &["'--out'", "/proc"]),
        (&run, &["-o", "adir"], &["'--out'", "'adir' is a directory"]),
        (
            &run,
            &["-o", "t.csv", "--window", "1000"],
            &["'--window'", "t-timeline.csv", "is a directory"],
        ),
        (
            &run,
            &["--histograms", "file/h"],
            &["'--histograms'", "'file'", "not a directory"],
        ),
        (
            &run,
            &["--histograms", "file"],
            &["'--histograms'", "'file' is not a directory"],
        ),
        (&mrc, &["-o", "file/m.csv"], &["'--out'", "'file'"]),
    ];
    for (cmd, extra, needles) in cases {
        let args: Vec<&str> = cmd.iter().chain(extra.iter()).copied().collect();
        let t = Instant::now();
        let o = cachesim(&args, d);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(t.elapsed() < Duration::from_secs(5), "{args:?} ran first");
        assert!(stdout(&o).is_empty(), "{args:?}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {err}");
        }
    }
    // The default folder, results/, as a file.
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("results"), "x").unwrap();
    let o = cachesim(&run, cwd.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("'results'"), "{}", stderr(&o));
    assert_eq!(names(d), ["adir", "file", "t-timeline.csv"]);
    assert!(names(&d.join("adir")).is_empty());
}

/// Item 7: a sweep whose third histogram cannot be written leaves neither
/// the two written before it nor a results file (and keeps what was there).
#[test]
fn a_failed_histogram_removes_the_ones_written_before_it() {
    let run = |cwd: &Path| {
        cachesim(
            &[
                "run",
                "-s",
                "lru",
                "-c",
                "1,2,3,4",
                "--requests",
                "20k",
                "-q",
                "--histograms",
                "h",
                "-o",
                "r.csv",
            ],
            cwd,
        )
    };
    let ok = tempfile::tempdir().unwrap();
    assert!(run(ok.path()).status.success());
    let hgrm = names(&ok.path().join("h"));
    assert_eq!(hgrm.len(), 4, "{hgrm:?}");
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("h");
    std::fs::create_dir_all(h.join(&hgrm[2])).unwrap();
    std::fs::write(h.join("keep.txt"), "x").unwrap();
    let o = run(dir.path());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&hgrm[2]), "{}", stderr(&o));
    let mut left = vec![hgrm[2].clone(), "keep.txt".to_string()];
    left.sort();
    assert_eq!(names(&h), left);
    assert_eq!(names(dir.path()), ["h"]);
}

/// Item 7: a timeline that cannot be written once the runs are done (its
/// fresh name, `results/run-<UTC second>-timeline.csv`, taken by a folder)
/// removes the results file it belongs to; the rows still reach stdout.
#[test]
fn a_failed_timeline_leaves_no_results_file_and_the_rows_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // Every name the run may take in the next minute.
    for s in now - 1..now + 60 {
        let o = Command::new("date")
            .args(["-u", "-d", &format!("@{s}"), "+%Y%m%d-%H%M%S"])
            .output()
            .unwrap();
        let stamp = String::from_utf8(o.stdout).unwrap();
        std::fs::create_dir_all(results.join(format!("run-{}-timeline.csv", stamp.trim())))
            .unwrap();
    }
    let before = names(&results);
    let o = cachesim(
        &[
            "run",
            "-s",
            "lru",
            "-c",
            "1,2",
            "--requests",
            "20k",
            "--window",
            "1000",
            "-f",
            "csv",
            "-q",
        ],
        dir.path(),
    );
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("cannot write the timeline"), "{err}");
    assert!(
        err.contains("the 2 run(s) were printed on stdout only"),
        "{err}"
    );
    assert_eq!(parse_csv(&stdout(&o)).1.len(), 2);
    assert_eq!(names(&results), before);
}
