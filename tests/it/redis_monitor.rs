//! Capture from a live Redis, end to end (issue 17 item 5): a scripted
//! cache-aside client works a private Redis while `redis-cli MONITOR`
//! records it; the capture is replayed with the `redis` strategy against a
//! second, fresh private Redis, and with the in-process `lru`; every replay
//! counts the hits the first server counted (`keyspace_hits`).
//!
//! What makes the equality exact:
//! - the client fills every miss it reads (cache-aside), as a replay's
//!   demand fill does, and the replay writes sets through
//!   (`--on-write update`), so both caches hold the same keys;
//! - expiry is wall-clock on a server: the `redis` replay runs at the
//!   capture's pace (`--redis-pace 1`), and the script works in short
//!   bursts every [`PERIOD_MS`] whose keys all expire in the middle of a
//!   gap ([`TTLS_MS`] are 200 ms past a multiple of the period), so a
//!   few tens of milliseconds of lag on either side decide nothing;
//! - the in-process `lru` expires by the capture's times (see
//!   `sim::expiry`), which the same margins keep clear of every read.

use crate::common::{self, cachesim, free_port, json, private_redis, stderr, u, which, Server};
use cachesim::external::resp::{Conn, Value};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A burst of commands starts every this many milliseconds.
const PERIOD_MS: u64 = 400;
/// The TTLs the script gives, each 200 ms past a multiple of the period:
/// a key set during a burst expires mid-gap.
const TTLS_MS: [u64; 3] = [200, 600, 1000];
const BURSTS: u64 = 12;
const KEYS: u64 = 200;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A key, the low ones far more often (squared uniform).
    fn key(&mut self) -> String {
        let x = self.below(1000) as f64 / 1000.0;
        format!("user:{}", (x * x * KEYS as f64) as u64)
    }
}

fn info(c: &mut Conn, field: &str) -> u64 {
    c.info_field("stats", field).unwrap() as u64
}

/// A private Redis on a free port, its log in `dir`; `None` (the test
/// skips) when it does not start.
fn server(dir: &Path) -> Option<(Server, u16)> {
    std::fs::create_dir_all(dir).unwrap();
    let port = free_port();
    let p = port.to_string();
    let args = ["--port", &p, "--bind", "127.0.0.1"];
    private_redis(dir, "127.0.0.1", port, &args).map(|s| (s, port))
}

/// Fills `key` after a miss, with a TTL (or none) as `rng` picks.
fn fill(c: &mut Conn, rng: &mut Rng, key: &str, written: &mut Vec<String>) {
    let v = format!("value-of-{key}-{}", rng.below(1000));
    let ttl = TTLS_MS[rng.below(3) as usize];
    let ms = ttl.to_string();
    let args: Vec<&str> = match rng.below(7) {
        0 => vec!["SET", key, &v],
        1 => vec!["SET", key, &v, "PX", &ms],
        2 => vec!["SET", key, &v, "EX", "1"],
        3 => vec!["SETEX", key, "1", &v],
        4 => vec!["PSETEX", key, &ms, &v],
        5 => vec!["SET", key, &v, "NX", "PX", &ms],
        _ => vec!["SET", key, &v, "PX", &ms, "NX"],
    };
    c.cmd(&args).unwrap();
    written.push(key.to_string());
}

/// One cache-aside step: a read (filled on a miss) or a write.
fn step(c: &mut Conn, rng: &mut Rng, written: &mut Vec<String>) {
    let k = rng.key();
    match rng.below(20) {
        0..=7 => {
            if c.cmd(&["GET", &k]).unwrap() == Value::Nil {
                fill(c, rng, &k, written);
            }
        }
        8..=9 => {
            // Distinct keys: Redis reads a key named twice before the
            // client can fill it (two misses), a replay fills the first
            // miss (a miss and a hit).
            let mut keys = vec![k.clone()];
            while keys.len() < 3 {
                let k = rng.key();
                if !keys.contains(&k) {
                    keys.push(k);
                }
            }
            let Value::Array(vals) = c.cmd(&["MGET", &keys[0], &keys[1], &keys[2]]).unwrap() else {
                panic!("MGET")
            };
            for (key, v) in keys.iter().zip(vals) {
                if v == Value::Nil {
                    fill(c, rng, key, written);
                }
            }
        }
        10 => {
            if c.cmd(&["GETEX", &k, "EX", "1"]).unwrap() == Value::Nil {
                fill(c, rng, &k, written);
            }
        }
        11 => {
            c.cmd(&["DEL", &k, &rng.key()]).unwrap();
        }
        12 => {
            c.cmd(&["UNLINK", &k]).unwrap();
        }
        13 if !written.is_empty() => {
            // Only keys the client wrote: a key the capture never saw
            // written is taken to exist (it was there before the capture).
            let w = written[rng.below(written.len() as u64) as usize].clone();
            let ttl = TTLS_MS[rng.below(3) as usize].to_string();
            match rng.below(3) {
                0 => c.cmd(&["EXPIRE", &w, "1"]).unwrap(),
                1 => c.cmd(&["PEXPIRE", &w, &ttl]).unwrap(),
                _ => c.cmd(&["PERSIST", &w]).unwrap(),
            };
        }
        14 => {
            c.cmd(&["SET", &k, "overwritten", "KEEPTTL"]).unwrap();
            written.push(k);
        }
        15 => {
            c.cmd(&["GETDEL", &k]).unwrap();
        }
        16 => {
            c.cmd(&["SET", &k, "new", "GET", "PX", "600"]).unwrap();
            written.push(k);
        }
        17 => {
            c.cmd(&["APPEND", &k, "+"]).unwrap();
            written.push(k);
        }
        18 => {
            let ctr = format!("ctr:{}", rng.below(5));
            c.cmd(&["INCR", &ctr]).unwrap();
            if c.cmd(&["GET", &ctr]).unwrap() == Value::Nil {
                panic!("INCR made the counter");
            }
        }
        _ => {
            // A miss is filled by the GETSET itself.
            c.cmd(&["GETSET", &k, "swapped"]).unwrap();
            written.push(k);
        }
    }
}

/// Runs the script against the server on `port`: [`BURSTS`] bursts of
/// steps, one every [`PERIOD_MS`].
fn script(port: u16) {
    let mut c = Conn::connect("127.0.0.1", port).unwrap();
    let mut rng = Rng(17);
    let mut written = Vec::new();
    let start = Instant::now();
    for b in 0..BURSTS {
        let due = start + Duration::from_millis(b * PERIOD_MS);
        if let Some(w) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(w);
        }
        for _ in 0..40 {
            step(&mut c, &mut rng, &mut written);
        }
        let took = due.elapsed();
        assert!(
            took < Duration::from_millis(100),
            "a burst took {took:?}: the machine is too busy for the TTL margins"
        );
    }
    c.cmd(&["PING"]).unwrap();
}

/// `cachesim run` of `strategy` on `trace` (then `extra`), writes through
/// (`--on-write update`): its one JSON result.
fn replay(strategy: &[&str], trace: &Path, extra: &[&str], cwd: &Path) -> serde_json::Value {
    let base = [
        "run",
        "--on-write",
        "update",
        "--no-save",
        "-f",
        "json",
        "-q",
    ];
    let t = ["--trace", trace.to_str().unwrap()];
    let args = [&base[..], strategy, &t, extra].concat();
    json(&cachesim_ok(&args, cwd))[0].clone()
}

fn cachesim_ok(args: &[&str], cwd: &Path) -> std::process::Output {
    let o = cachesim(args, cwd);
    assert!(o.status.success(), "cachesim {args:?}: {}", stderr(&o));
    o
}

#[test]
fn a_capture_replayed_against_redis_counts_the_hits_redis_counted() {
    let (Some(_), Some(cli)) = (which("redis-server"), which("redis-cli")) else {
        skip_or_fail!("redis-server or redis-cli is not on PATH");
    };
    let dir = tempfile::tempdir().unwrap();
    let Some((_a, port_a)) = server(&dir.path().join("a")) else {
        return;
    };
    let pa = port_a.to_string();

    // MONITOR into a file, from its OK on.
    let capture = dir.path().join("capture.log");
    let out = std::fs::File::create(&capture).unwrap();
    let monitor = Server(
        Command::new(cli)
            .args(["-p", &pa, "MONITOR"])
            .stdout(out)
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let read = || std::fs::read_to_string(&capture).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read().starts_with("OK") {
        assert!(Instant::now() < deadline, "MONITOR did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    script(port_a);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !read().contains("\"PING\"") {
        assert!(Instant::now() < deadline, "PING not captured");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(monitor);
    let mut ca = Conn::connect("127.0.0.1", port_a).unwrap();
    let (hits, misses) = (
        info(&mut ca, "keyspace_hits"),
        info(&mut ca, "keyspace_misses"),
    );
    let expired = info(&mut ca, "expired_keys");
    assert!(hits > 100 && misses > 100, "hits {hits}, misses {misses}");
    assert!(
        expired > 10,
        "only {expired} keys expired: the TTLs are not exercised"
    );

    // The in-process replay, by the capture's times.
    let lru = |trace: &Path, format: &[&str]| {
        replay(&["-s", "lru", "-c", "100000"], trace, format, dir.path())
    };
    let direct = lru(&capture, &["--trace-format", "redis-monitor"]);
    assert_eq!((u(&direct, "hits"), u(&direct, "misses")), (hits, misses));
    assert!(u(&direct, "expirations") > 0);

    // The import: a csv with the same requests, and what was skipped.
    let csv = dir.path().join("capture.csv");
    let o = cachesim_ok(
        &[
            "trace",
            "import",
            "redis-monitor",
            capture.to_str().unwrap(),
            "-o",
            csv.to_str().unwrap(),
        ],
        dir.path(),
    );
    let err = stderr(&o);
    assert!(err.contains("skipped 1 command: PING 1"), "{err}");
    assert!(
        err.contains(&format!("wrote {} requests", u(&direct, "requests"))),
        "{err}"
    );
    let imported = lru(&csv, &[]);
    for col in ["requests", "gets", "sets", "deletes"] {
        assert_eq!(u(&imported, col), u(&direct, col), "{col}");
    }
    // The csv keeps the TTLs: it replays alike.
    assert_eq!(u(&imported, "hits"), hits);
    assert_eq!(u(&imported, "expirations"), u(&direct, "expirations"));

    // The redis strategy, at the capture's pace, against a fresh server.
    let Some((_b, port_b)) = server(&dir.path().join("b")) else {
        return;
    };
    let mut cb = Conn::connect("127.0.0.1", port_b).unwrap();
    let url = format!("redis://127.0.0.1:{port_b}/0");
    // In real time, one connection; and twice as fast (TTLs halved too),
    // pipelined over two connections (each flushes before it waits).
    let paced: [&[&str]; 2] = [
        &["--redis-pace", "1"],
        &["--redis-pace", "2", "--pipeline", "8", "--clients", "2"],
    ];
    for pace in paced {
        let before = info(&mut cb, "keyspace_hits");
        let r = &replay(
            &["-s", "redis", "--redis-url", &url],
            &capture,
            pace,
            dir.path(),
        );
        let server_hits = info(&mut cb, "keyspace_hits") - before;
        assert_eq!(
            u(r, "hits"),
            server_hits,
            "{pace:?}: the run and its server disagree"
        );
        assert_eq!((u(r, "hits"), u(r, "misses")), (hits, misses), "{pace:?}");
        assert!(
            u(r, "expirations") > 0,
            "{pace:?}: no key expired on the server"
        );
    }
}

#[test]
fn trace_import_writes_the_requests_and_refuses_a_bad_line_writing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("c.log");
    std::fs::write(
        &capture,
        "OK\n\
         100.000000 [0 127.0.0.1:1] \"PING\"\n\
         100.250000 [0 127.0.0.1:1] \"SET\" \"a\" \"hello\" \"EX\" \"30\"\n\
         101.500000 [0 unix:/tmp/r.sock] \"MGET\" \"a\" \"7\"\n\
         102.000000 [0 lua] \"DEL\" \"a\"\n",
    )
    .unwrap();
    let out = dir.path().join("out.csv");
    let (c, o) = (capture.to_str().unwrap(), out.to_str().unwrap());
    let r = cachesim_ok(
        &["trace", "import", "redis-monitor", c, "-o", o],
        dir.path(),
    );
    let err = stderr(&r);
    assert!(err.contains("skipped 1 command: PING 1"), "{err}");
    assert!(
        err.contains("wrote 4 requests (2 gets, 1 sets, 1 deletes; 1 with a TTL)"),
        "{err}"
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows[0], "time,key,size,op,ttl");
    let ha = format!("{}", fnv("a"));
    assert_eq!(
        &rows[1..],
        [
            format!("0.25,{ha},5,set,30"),
            format!("1.5,{ha},5,get,0"),
            "1.5,7,1,get,0".to_string(),
            format!("2,{ha},1,delete,0"),
        ]
    );
    assert!(!err.contains("does not keep"), "{err}");

    // A bad line: an error naming it, exit 1, and no file.
    std::fs::write(
        &capture,
        "OK\n1.0 [0 c] \"GET\" \"a\"\n2.0 [0 c] \"GET\" \"b\n",
    )
    .unwrap();
    std::fs::remove_file(&out).unwrap();
    let r = cachesim(
        &["trace", "import", "redis-monitor", c, "-o", o],
        dir.path(),
    );
    common::fails_with(
        &r,
        1,
        "c.log:3: the line ends inside a quoted argument",
        "a bad line",
    );
    assert!(!out.exists());
}

/// FNV-1a 64, the hash of string keys.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
