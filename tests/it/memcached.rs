//! The memcached strategies against real servers: private `memcached`s
//! this file starts on free ports (as the "shared" server, so that what
//! a run leaves behind can be listed exactly), the machine's memcached on
//! 127.0.0.1:11211, and the private server `memcached-lru` starts itself.
//! Skips (or fails under CACHESIM_REQUIRE_SERVICES=1) when there is no
//! memcached binary or no server answers.

use crate::common::{self, cachesim, fails_with, free_port, json, u, which, Server};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::Command;

/// A memcached of `mb` MiB on a free port, stopped when dropped.
fn start_memcached(mb: u32) -> Option<(Server, u16)> {
    let bin = which("memcached")?;
    let port = free_port();
    let mut cmd = Command::new(bin);
    cmd.args(["-l", "127.0.0.1", "-U", "0", "-p", &port.to_string()])
        .args(["-m", &mb.to_string()]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        cmd.args(["-u", "root"]);
    }
    let child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let mut s = Server(child);
    let addr = format!("127.0.0.1:{port}");
    common::wait_until(&mut s, || TcpStream::connect(&addr).is_ok()).ok()?;
    Some((s, port))
}

macro_rules! memcached_or_skip {
    ($mb:expr) => {
        match start_memcached($mb) {
            Some(s) => s,
            None => skip_or_fail!(
                "no memcached binary on PATH, or it did not start (apt-get install memcached)"
            ),
        }
    };
}

/// Every key on the server (`lru_crawler metadump all`), URL-decoded.
fn keys_on(port: u16) -> Vec<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"lru_crawler metadump all\r\n").unwrap();
    let mut r = BufReader::new(s);
    let mut keys = Vec::new();
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        let l = l.trim_end();
        if l == "END" || l.is_empty() {
            return keys;
        }
        if let Some(k) = l.strip_prefix("key=") {
            let k = k.split(' ').next().unwrap().replace("%3A", ":");
            keys.push(k);
        }
    }
}

/// How many of `prefix` + 0..`keys` a get finds.
fn present(port: u16, prefix: &str, keys: u64) -> u64 {
    let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut w = s.try_clone().unwrap();
    let mut r = BufReader::new(s);
    let mut found = 0;
    for chunk in (0..keys).collect::<Vec<_>>().chunks(100) {
        let names: Vec<String> = chunk.iter().map(|k| format!("{prefix}{k}")).collect();
        w.write_all(format!("get {}\r\n", names.join(" ")).as_bytes())
            .unwrap();
        loop {
            let mut l = String::new();
            r.read_line(&mut l).unwrap();
            if l.starts_with("END") {
                break;
            }
            if l.starts_with("VALUE ") {
                found += 1;
                let n: usize = l.split_whitespace().nth(3).unwrap().parse().unwrap();
                let mut v = vec![0u8; n + 2];
                std::io::Read::read_exact(&mut r, &mut v).unwrap();
            }
        }
    }
    found
}

fn stat(port: u16, name: &str) -> u64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"stats\r\n").unwrap();
    let mut r = BufReader::new(s);
    loop {
        let mut l = String::new();
        r.read_line(&mut l).unwrap();
        assert_ne!(l.trim_end(), "END", "no stat {name}");
        let p: Vec<&str> = l.split_whitespace().collect();
        if p.len() == 3 && p[1] == name {
            return p[2].parse().unwrap();
        }
    }
}

fn run(args: &[&str]) -> std::process::Output {
    cachesim(args, Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// `run` with `CACHESIM_REDIS_THREADS=threads` (the most threads
/// `--clients` uses).
fn run_threads(threads: usize, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .env("CACHESIM_REDIS_THREADS", threads.to_string())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// The columns a split over connections must leave as they were on a
/// server that evicts nothing.
const SAME: [&str; 8] = [
    "requests",
    "gets",
    "hits",
    "misses",
    "sets",
    "deletes",
    "expirations",
    "memory_objects",
];

const SMALL: [&str; 12] = [
    "--workload",
    "zipf",
    "--requests",
    "40k",
    "--keys",
    "4k",
    "--seed",
    "7",
    "--no-save",
    "--format",
    "json",
    "--no-latency",
];

/// Plain gets, writes (invalidate and update) and TTL expiry in request
/// time: what the loop's rules decide.
const LOOP_RULES: [&[&str]; 3] = [
    &[],
    &["--write-ratio", "0.1", "--ttl", "3s"],
    &["--write-ratio", "0.2", "--on-write", "update"],
];

#[test]
fn unbounded_hits_equal_an_unbounded_local_cache_exactly() {
    let (_s, port) = memcached_or_skip!(64);
    let url = format!("127.0.0.1:{port}");
    // Plain gets; then writes (invalidate and update), TTL expiry in
    // request time, warm-up and windows: the loop's rules, unchanged.
    for extra in LOOP_RULES.into_iter().chain([&["--warmup", "5k"][..]]) {
        for pipeline in ["1", "32"] {
            let mut args = vec!["run", "-s", "memcached,lru", "-c", "100%"];
            args.extend(SMALL);
            args.extend(["--memcached-url", &url, "--pipeline", pipeline]);
            args.extend(extra);
            let rows = json(&run(&args));
            let (m, l) = (&rows[0], &rows[1]);
            assert_eq!(m["strategy"], "memcached");
            for col in ["gets", "hits", "misses", "sets", "expirations", "requests"] {
                assert_eq!(
                    u(m, col),
                    u(l, col),
                    "{col} with {extra:?}, pipeline {pipeline}"
                );
            }
            assert!(u(m, "hits") > 0);
            assert_eq!(m["capacity_spec"], "server");
        }
    }
    // Every run deleted its keys.
    assert_eq!(keys_on(port), Vec::<String>::new());
}

#[test]
fn the_run_counts_and_deletes_its_keys_or_keeps_them() {
    let (_s, port) = memcached_or_skip!(64);
    let url = format!("127.0.0.1:{port}");
    let mut args = vec!["run", "-s", "memcached", "-c", "100%"];
    args.extend(SMALL);
    args.extend(["--memcached-url", &url, "--pipeline", "8"]);
    let rows = json(&run(&args));
    let distinct = u(&rows[0], "distinct_keys");
    assert_eq!(u(&rows[0], "memory_objects"), distinct);
    assert!(keys_on(port).is_empty());
    args.push("--memcached-keep");
    let rows = json(&run(&args));
    assert_eq!(u(&rows[0], "memory_objects"), distinct);
    // The crawler's listing may lag the LRU maintainer's moves: it finds
    // the prefix; gets over the key space count what is there.
    let keys = keys_on(port);
    assert!(!keys.is_empty());
    let prefix = &keys[0][..26];
    assert_eq!(present(port, prefix, 4000), distinct);
    // Only under the run's prefix: cachesim:<16 hex>:<key>.
    assert!(
        prefix.starts_with("cachesim:") && prefix.ends_with(':'),
        "{prefix}"
    );
    assert!(keys.iter().all(|k| k.starts_with(prefix)));
    assert!(keys.iter().all(|k| k[26..].parse::<u64>().is_ok()));
}

/// `memcached-lru` of `capacities` under 200k requests over 100k keys of
/// 100 bytes each: more than 2 or 4 MiB hold.
fn evicting_lru(capacities: &str) -> Vec<&str> {
    let mut args = vec!["run", "-s", "memcached-lru", "-c", capacities];
    args.extend(SMALL);
    args.extend(["--requests", "200k", "--keys", "100k"]);
    args.extend(["--value-size", "100"]);
    args
}

/// `r`, a run of [`evicting_lru`] on `pages` MiB, filled them, and what
/// it wrote and is not resident was evicted.
fn assert_full_of_evictions(r: &serde_json::Value, pages: u64) {
    // 100-byte values under 27-31-byte keys are 185-190-byte items, in
    // the 192-byte class: 5461 per 1 MiB page (as `stats slabs` says).
    // At most the pages' chunks; a busy machine's run may end while
    // memcached still frees a few (seen: 21,798 of 21,844 at load 5.5).
    let items = u(r, "memory_objects");
    assert!(
        items <= pages * 5461 && items * 100 >= pages * 5461 * 98,
        "{r}"
    );
    // Everything written was stored; what is not resident was evicted.
    assert_eq!(u(r, "evictions"), u(r, "misses") - items, "{r}");
}

#[test]
fn memcached_lru_runs_a_private_server_of_the_capacity() {
    if which("memcached").is_none() {
        skip_or_fail!("no memcached binary on PATH (apt-get install memcached)");
    }
    let mut args = evicting_lru("2MiB,4MiB");
    args.extend(["--pipeline", "16"]);
    let rows = json(&run(&args));
    for (r, pages) in rows.iter().zip([2, 4]) {
        assert_eq!(u(r, "capacity"), pages << 20);
        assert_eq!(r["capacity_spec"], format!("{pages}MiB (-m {pages})"));
        assert_full_of_evictions(r, pages);
    }
    assert!(u(&rows[1], "hits") > u(&rows[0], "hits"));
    // A capacity in objects cannot size -m.
    let o = run(&["run", "-s", "memcached-lru", "-c", "1000", "--no-save"]);
    fails_with(&o, 2, "give a capacity in bytes", "count capacity");
    let o = run(&["run", "-s", "memcached", "--instances", "2", "--no-save"]);
    fails_with(&o, 2, "--instances", "fleet");
    let o = run(&["run", "-s", "shared:memcached", "--no-save"]);
    fails_with(&o, 2, "does not run in a fleet", "shared");
}

#[test]
fn the_machines_memcached_answers_on_its_port() {
    if TcpStream::connect("127.0.0.1:11211").is_err() {
        skip_or_fail!("no memcached answers on 127.0.0.1:11211");
    }
    let mut args = vec!["run", "-s", "memcached,lru", "-c", "100%"];
    args.extend(SMALL);
    args.extend(["--pipeline", "64"]);
    let rows = json(&run(&args));
    assert_eq!(u(&rows[0], "hits"), u(&rows[1], "hits"));
    let _ = stat(11211, "curr_items");
}

#[test]
fn restarts_leave_memcached_full() {
    let (_s, port) = memcached_or_skip!(64);
    let url = format!("127.0.0.1:{port}");
    let mut args = vec!["run", "-s", "memcached,lru", "-c", "100%"];
    args.extend(SMALL);
    args.extend(["--memcached-url", &url]);
    let plain = json(&run(&args));
    args.extend(["--restart-every", "10000"]);
    let restarted = json(&run(&args));
    // The server keeps its contents across deploys; the process's LRU does not.
    assert_eq!(u(&restarted[0], "hits"), u(&plain[0], "hits"));
    assert!(u(&restarted[1], "hits") < u(&plain[1], "hits"));
    assert_eq!(u(&restarted[1], "restarts"), 3);
    // The application restarted all the same.
    assert_eq!(u(&restarted[0], "restarts"), 3);
}

#[test]
fn bad_addresses_and_options_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.csv");
    let out_s = out.to_str().unwrap();
    let o = run(&[
        "run",
        "-s",
        "memcached",
        "--memcached-url",
        "127.0.0.1:1",
        "-o",
        out_s,
    ]);
    fails_with(
        &o,
        1,
        "memcached at 127.0.0.1:1 (--memcached-url)",
        "unreachable",
    );
    assert!(!out.exists(), "no half-written result file");
    let o = run(&["run", "-s", "memcached", "--memcached-url", "h:x"]);
    fails_with(&o, 2, "--memcached-url", "bad port");
    let o = run(&["run", "-s", "lru", "--memcached-keep", "--no-save"]);
    fails_with(&o, 2, "--memcached-keep", "option without the strategy");
    let o = run(&["run", "-s", "memcached:m=1", "--no-save"]);
    fails_with(&o, 2, "takes no parameters", "parameter");
    let o = run(&[
        "run",
        "-s",
        "memcached-lru",
        "-c",
        "1MiB",
        "--memcached-bin",
        "/nonexistent",
        "--no-save",
    ]);
    fails_with(
        &o,
        1,
        "--memcached-bin '/nonexistent' does not exist",
        "binary",
    );
}

/// A seeded Zipf(`alpha`) stream of `n` requests over `keys` keys as a
/// `key,size` CSV, each key's value 100, 400 or 1500 bytes (by key).
fn zipf_trace(path: &Path, n: usize, keys: u64, alpha: f64) {
    let mut cdf = Vec::with_capacity(keys as usize);
    let mut total = 0.0;
    for r in 1..=keys {
        total += 1.0 / (r as f64).powf(alpha);
        cdf.push(total);
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut out = String::from("key,size\n");
    for _ in 0..n {
        // splitmix64
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        let u = (z >> 11) as f64 / (1u64 << 53) as f64 * total;
        let rank = cdf.partition_point(|&c| c < u) as u64;
        // Scatter ranks over the key space so popularity is not key order.
        let key = rank.wrapping_mul(7919) % keys;
        let size = [100, 400, 1500][(key % 3) as usize];
        out += &format!("{key},{size}\n");
    }
    std::fs::write(path, out).unwrap();
}

/// `memcached-sim` against the real server at three memory sizes: the hit
/// ratio within 0.01 and the resident items within 2% (the model's clock
/// runs at the server run's measured rate: its LRU maintainer moves items
/// by age in seconds).
#[test]
fn memcached_sim_matches_the_real_server() {
    if which("memcached").is_none() {
        skip_or_fail!("no memcached binary on PATH (apt-get install memcached)");
    }
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("zipf.csv");
    zipf_trace(&trace, 300_000, 100_000, 0.9);
    let t = trace.to_str().unwrap();
    for mb in ["2MiB", "4MiB", "8MiB"] {
        let base = [
            "run",
            "-t",
            t,
            "-c",
            mb,
            "--no-latency",
            "--no-save",
            "-f",
            "json",
        ];
        // Pipelined (16 gets a round trip) for speed: the model follows
        // the server either way.
        let mut args = base.to_vec();
        args.extend(["-s", "memcached-lru", "--pipeline", "16"]);
        let real = json(&run(&args));
        let rate = format!("{:.0}", real[0]["requests_per_s"].as_f64().unwrap());
        let mut args = base.to_vec();
        args.extend(["-s", "memcached-sim", "--rate", &rate]);
        let model = json(&run(&args));
        let (r, m) = (&real[0], &model[0]);
        let hr = |v: &serde_json::Value| v["hit_ratio"].as_f64().unwrap();
        let (ri, mi) = (u(r, "memory_objects"), u(m, "memory_objects"));
        eprintln!(
            "{mb} at {rate} req/s: server {:.4} {ri} items, model {:.4} {mi} items",
            hr(r),
            hr(m)
        );
        assert!(
            (hr(r) - hr(m)).abs() <= 0.01,
            "{mb}: hit ratio {} vs {}",
            hr(r),
            hr(m)
        );
        let off = (mi as f64 - ri as f64).abs() / ri as f64;
        assert!(off <= 0.02, "{mb}: items {ri} vs {mi}");
    }
}

/// The timeline of a server run: with `--window`, memcached and disk (both
/// unbounded) write the same windows as an unbounded LRU, across deploys
/// that empty the LRU only when it restarts.
#[test]
fn servers_and_disk_write_their_timelines() {
    let (_s, port) = memcached_or_skip!(64);
    let url = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t.csv");
    let o = run(&[
        "run",
        "-s",
        "lru,memcached,disk",
        "-c",
        "100%",
        "-w",
        "zipf",
        "--requests",
        "30k",
        "--keys",
        "3k",
        "--window",
        "5k",
        "--no-latency",
        "-q",
        "--memcached-url",
        &url,
        "-o",
        out.to_str().unwrap(),
        "--restart-every",
        "10000",
        "-f",
        "csv",
    ]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    let text = std::fs::read_to_string(dir.path().join("t-timeline.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let mut by: std::collections::BTreeMap<String, Vec<(u64, u64, u64)>> = Default::default();
    for rec in r.records() {
        let rec = rec.unwrap();
        let n = |c: &str| rec[col(c)].parse::<u64>().unwrap();
        by.entry(rec[col("strategy")].to_string())
            .or_default()
            .push((n("request"), n("window_gets"), n("window_hits")));
    }
    assert_eq!(by.len(), 3, "{by:?}");
    assert_eq!(by["memcached"].len(), 6);
    assert_eq!(by["memcached"], by["disk"]);
    // The LRU restarts empty at 10k and 20k: fewer hits in those windows.
    let (l, m) = (&by["lru"], &by["memcached"]);
    assert_eq!(l[0], m[0]);
    assert!(l[2].2 < m[2].2 && l[4].2 < m[4].2, "{l:?} {m:?}");
}

#[test]
fn clients_split_the_stream_and_count_what_one_connection_counts() {
    let (_s, port) = memcached_or_skip!(64);
    let url = format!("127.0.0.1:{port}");
    // Plain gets, pipelined, writes and TTL expiry in request time, a
    // prefill split by key: each key's requests keep their order on their
    // connection, so a server that never evicts answers them as one would.
    let more: [&[&str]; 3] = [
        &["--pipeline", "16"],
        &["--write-ratio", "0.2", "--pipeline", "8"],
        &["--prefill", "top:500"],
    ];
    for extra in LOOP_RULES.into_iter().chain(more) {
        let mut args = vec!["run", "-s", "memcached"];
        args.extend(SMALL);
        args.extend(["--memcached-url", &url]);
        args.extend(extra);
        let one = json(&run(&args));
        args.extend(["--clients", "4"]);
        // 4 connections on 3 threads: one thread drives two.
        let four = json(&run_threads(3, &args));
        for col in SAME {
            assert_eq!(u(&four[0], col), u(&one[0], col), "{col} with {extra:?}");
        }
        assert!(u(&four[0], "hits") > 0);
        assert_eq!(u(&one[0], "threads"), 1);
        assert_eq!(u(&four[0], "threads"), 3, "{extra:?}");
        // Every connection's keys were deleted.
        assert_eq!(keys_on(port), Vec::<String>::new(), "{extra:?}");
    }
    // The prefill was split, not repeated: it hits as one connection's.
    let mut args = vec!["run", "-s", "memcached", "--clients", "2"];
    args.extend(SMALL);
    args.extend(["--memcached-url", &url, "--prefill", "top:4k"]);
    let all = json(&run_threads(2, &args));
    assert_eq!(u(&all[0], "misses"), 0, "every key prefilled");
    assert_eq!(u(&all[0], "threads"), 2);
    // Each of the 4000 keys once, requested or not.
    assert_eq!(u(&all[0], "memory_objects"), 4000);
    // Kept keys are counted across the connections.
    args.push("--memcached-keep");
    let kept = json(&run_threads(2, &args));
    assert_eq!(u(&kept[0], "memory_objects"), 4000);
    assert_eq!(
        stat(port, "curr_items"),
        4000,
        "the run's keys, left on the server"
    );
}

#[test]
fn memcached_lru_runs_over_several_clients() {
    if which("memcached").is_none() {
        skip_or_fail!("no memcached binary on PATH (apt-get install memcached)");
    }
    let mut args = vec!["run", "-s", "memcached-lru", "-c", "64MiB"];
    args.extend(SMALL);
    args.extend(["--pipeline", "4"]);
    let one = json(&run(&args));
    args.extend(["--clients", "4"]);
    let four = json(&run_threads(2, &args));
    for col in SAME {
        assert_eq!(u(&four[0], col), u(&one[0], col), "{col}");
    }
    assert_eq!(u(&four[0], "evictions"), 0);
    assert_eq!(u(&four[0], "memory_objects"), u(&four[0], "distinct_keys"));
    assert_eq!(u(&four[0], "threads"), 2);
    assert_eq!(four[0]["capacity_spec"], "64MiB (-m 64)");
    // A small one evicts, whichever connection filled it; what is not
    // resident was evicted.
    let mut args = evicting_lru("2MiB");
    args.extend(["--clients", "4"]);
    let small = json(&run_threads(2, &args));
    assert!(u(&small[0], "evictions") > 0 && u(&small[0], "hits") > 0);
    assert_full_of_evictions(&small[0], 2);
}

#[test]
fn clients_refuse_what_counts_positions_in_the_whole_stream() {
    // Refused before any connection: no server needed.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.csv");
    let out_s = out.to_str().unwrap();
    for (strategy, extra, opt) in [
        ("memcached", &["--warmup", "100"][..], "--warmup"),
        ("memcached", &["--window", "1k"][..], "--window"),
        (
            "memcached",
            &["--restart-every", "500"][..],
            "--restart-every",
        ),
        ("memcached-lru", &["--warmup", "10%"][..], "--warmup"),
        ("lru,memcached", &["--window", "1k"][..], "--window"),
    ] {
        let mut args = vec!["run", "-s", strategy, "-c", "4MiB", "--clients", "3"];
        args.extend(["--memcached-url", "127.0.0.1:1", "-o", out_s]);
        args.extend(extra);
        let o = run(&args);
        fails_with(&o, 2, opt, &format!("{strategy} {extra:?}"));
        fails_with(&o, 2, "over --clients 3", &format!("{strategy} {extra:?}"));
        assert!(!out.exists(), "{extra:?}");
    }
    // The disk still replays through one connection.
    let o = run(&["run", "-s", "disk", "--clients", "2", "-o", out_s]);
    fails_with(&o, 2, "'disk' replays through one connection", "disk");
    // One client is the one-connection replay: the options apply.
    let mut args = vec![
        "run",
        "-s",
        "memcached",
        "--clients",
        "1",
        "--warmup",
        "100",
    ];
    args.extend(["--memcached-url", "127.0.0.1:1", "-o", out_s]);
    fails_with(&run(&args), 1, "memcached at 127.0.0.1:1", "one client");
}
