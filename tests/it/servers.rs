//! Servers that misbehave or are written unusually (issue 16, items 13 and
//! 15): one that accepts and never answers, a Redis that refuses every
//! `SET` (noeviction at its memory limit), URLs with parameters cachesim
//! does not understand or without a database, and IPv6 hosts in brackets.
//! The Redis servers are private ones the tests start (never the shared
//! one reconfigured).

use crate::common;

use common::{cachesim, json, private_redis, run_small, stderr, u};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A server that accepts every connection and never says a word (the
/// connections stay open until the test process ends).
fn silent_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in l.incoming() {
            held.push(s);
        }
    });
    port
}

/// Connecting and the first reply get 2 s: the message names the URL and
/// says the server did not answer, for Redis and PostgreSQL, and no
/// result file is left.
#[test]
fn silent_redis_and_postgres_fail_within_two_seconds_naming_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let port = silent_server();
    let redis = format!("redis://127.0.0.1:{port}/0");
    let pg = format!("postgres://root@127.0.0.1:{port}/test");
    // Through TLS too: the handshake gets the same 2 s.
    let rediss = format!("rediss://127.0.0.1:{port}/0");
    let pg_tls = format!("postgres://root@127.0.0.1:{port}/test?sslmode=require");
    for args in [
        ["-s", "redis", "--redis-url", &redis],
        ["-s", "lru", "--origin", &pg],
        ["-s", "redis", "--redis-url", &rediss],
        ["-s", "lru", "--origin", &pg_tls],
    ] {
        let t = Instant::now();
        let o = cachesim(
            &[&["run", "--requests", "1000", "-o", "r.csv"], &args[..]].concat(),
            dir.path(),
        );
        let took = t.elapsed();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let shown = args[3].split('?').next().unwrap();
        assert!(
            err.contains(shown) && err.contains("did not answer") && err.contains("within 2 s"),
            "{args:?}: {err}"
        );
        assert!(took < Duration::from_secs(5), "{args:?}: took {took:?}");
        assert!(!dir.path().join("r.csv").exists());
    }
}

/// A `noeviction` server at its memory limit refuses `SET`s with `-OOM`:
/// the run goes on (the server's real behaviour) but says so on stderr,
/// with the count, even under `-q`.
#[test]
fn redis_refusing_sets_with_oom_is_warned() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let p = port.to_string();
    let args = [
        "--port",
        &p,
        "--bind",
        "127.0.0.1",
        "--maxmemory",
        "1mb",
        "--maxmemory-policy",
        "noeviction",
    ];
    let Some(_server) = private_redis(dir.path(), "127.0.0.1", port, &args) else {
        return;
    };
    let url = format!("redis://127.0.0.1:{port}/0");
    // One client, and a fleet's shared cache (another code path).
    for fleet in [&[][..], &["--instances", "2"]] {
        let redis = ["-s", "redis", "--redis-url", &url, "--value-size", "8KiB"];
        let o = run_small(dir.path(), &[&redis[..], fleet].concat());
        let r = &json(&o)[0];
        let err = stderr(&o);
        assert!(
            err.contains("warning:") && err.contains("refused") && err.contains("OOM"),
            "{fleet:?}: {err}"
        );
        assert!(err.contains(&url), "{err}");
        // 1 MB holds at most ~120 values of 8 KiB: most misses stay misses.
        assert!(u(r, "hits") < 1000, "{fleet:?}: {r}");
    }
}

/// URL parameters cachesim does not understand, a PostgreSQL URL without
/// a database, and a `--tls-ca` no connection uses are usage errors naming
/// the option.
#[test]
fn url_parameters_missing_databases_and_unused_ca_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "no certificate here\n").unwrap();
    let ca = ca.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["-s", "redis", "--redis-url", "redis://127.0.0.1:1/0?foo=1"],
            &["--redis-url", "unknown parameter 'foo'"],
        ),
        (
            &[
                "--origin",
                "postgres://u@127.0.0.1:1/d?sslmode=require&foo=1",
            ],
            &["--origin", "unknown parameter 'foo'"],
        ),
        (
            &["--origin", "postgres://root@host:5432/"],
            &["--origin", "the URL names no database", "/DBNAME"],
        ),
        (
            &["--origin", "postgres://u@127.0.0.1:1/d?sslmode=sometimes"],
            &["--origin", "sslmode 'sometimes'"],
        ),
        (&["--tls-ca", ca], &["--tls-ca", "no PEM certificate"]),
        (
            &["-s", "redis", "--redis-url", "redis://[::1/0"],
            &["--redis-url", "']'"],
        ),
    ];
    for (args, needles) in cases {
        let o = cachesim(
            &[&["run", "--requests", "100", "-o", "r.csv"], *args].concat(),
            dir.path(),
        );
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        for n in *needles {
            assert!(err.contains(n), "{args:?}: {err}");
        }
        assert!(!dir.path().join("r.csv").exists());
    }
}

/// Whether the IPv6 loopback can be bound here.
fn ipv6_loopback() -> bool {
    TcpListener::bind("[::1]:0").is_ok()
}

/// `redis://[::1]:PORT/0` reaches a redis-server bound to `::1` only.
#[test]
fn bracketed_ipv6_redis_url_connects() {
    if !ipv6_loopback() {
        eprintln!("skipped: the IPv6 loopback ::1 is not available here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let p = port.to_string();
    let Some(_server) = private_redis(dir.path(), "::1", port, &["--port", &p, "--bind", "::1"])
    else {
        return;
    };
    let url = format!("redis://[::1]:{port}/0");
    let o = run_small(dir.path(), &["-s", "redis", "--redis-url", &url]);
    let r = &json(&o)[0];
    assert_eq!(u(r, "hits"), 2000 - u(r, "distinct_keys"), "{r}");
}
