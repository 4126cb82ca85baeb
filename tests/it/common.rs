//! Helpers shared by the integration tests: where the real traces are, and
//! how a test that needs something absent skips (or, in CI, fails).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The folder of real traces: `$CACHESIM_TRACE_DIR`, else `../shared/traces`
/// relative to the repository root. `None` (after printing why) when neither
/// exists, so the project's own tests pass on a fresh clone; under
/// `CACHESIM_REQUIRE_SERVICES=1` (CI) a missing folder fails the test, so a
/// conformance test cannot pass by checking nothing.
pub fn trace_dir() -> Option<PathBuf> {
    if let Ok(d) = std::env::var("CACHESIM_TRACE_DIR") {
        let p = PathBuf::from(d);
        if p.is_dir() {
            return Some(p);
        }
        return missing(format!(
            "CACHESIM_TRACE_DIR={} is not a directory",
            p.display()
        ));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces");
    if p.is_dir() {
        return Some(p);
    }
    missing(format!(
        "no trace folder (set CACHESIM_TRACE_DIR or put the traces at {})",
        p.display()
    ))
}

/// A trace file under the trace folder, or `None` (printing why) when absent
/// (a failure under `CACHESIM_REQUIRE_SERVICES=1`, as in [`trace_dir`]).
pub fn trace(rel: &str) -> Option<PathBuf> {
    let p = trace_dir()?.join(rel);
    if p.is_file() {
        Some(p)
    } else {
        missing(format!("trace {} not found", p.display()))
    }
}

/// Prints why a trace is missing and gives `None`, or panics when services
/// (and the traces) are required.
fn missing(reason: String) -> Option<PathBuf> {
    if services_required() {
        panic!("required trace missing: {reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

/// Whether CI demands that service-backed tests run (`CACHESIM_REQUIRE_SERVICES=1`,
/// set by `.ci/run`): then a missing server is a failure, not a skip.
pub fn services_required() -> bool {
    std::env::var("CACHESIM_REQUIRE_SERVICES").is_ok_and(|v| v == "1")
}

/// The program `name` on `PATH`, if any (`redis-server`, `redis-cli`).
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Skips (prints `reason`, returns) or, when services are required, panics.
#[macro_export]
macro_rules! skip_or_fail {
    ($($arg:tt)*) => {{
        let reason = format!($($arg)*);
        if $crate::common::services_required() {
            panic!("required service missing: {reason}");
        }
        eprintln!("skipped: {reason}");
        return;
    }};
}

/// Runs the cachesim binary with `args` in `cwd`.
pub fn cachesim(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses CSV text into (header, rows).
pub fn parse_csv(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|x| x.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

/// The index of column `name`.
pub fn col(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The rows of a successful `-f json` run (panics with its stderr otherwise).
pub fn json(o: &Output) -> Vec<serde_json::Value> {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice::<serde_json::Value>(&o.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// An unsigned column of a JSON row.
pub fn u(v: &serde_json::Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or_else(|| panic!("{k} in {v}"))
}

/// A TCP proxy to `127.0.0.1:target` on a free port (returned) that cuts
/// its `cut`-th connection (from 1) once it has forwarded 4 KB from the
/// client: a server lost in the middle of a run.
pub fn proxy(target: u16, cut: usize) -> u16 {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let n = AtomicUsize::new(0);
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(client) = s else { return };
            let i = n.fetch_add(1, Ordering::SeqCst) + 1;
            let server = TcpStream::connect(("127.0.0.1", target)).unwrap();
            let (mut c2, mut s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
            std::thread::spawn(move || {
                let _ = std::io::copy(&mut s2, &mut c2);
            });
            let (mut c, mut s) = (client, server);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let mut total = 0;
                while let Ok(k) = c.read(&mut buf) {
                    if k == 0 || s.write_all(&buf[..k]).is_err() {
                        break;
                    }
                    total += k;
                    if i == cut && total > 4096 {
                        break;
                    }
                }
                let _ = c.shutdown(std::net::Shutdown::Both);
                let _ = s.shutdown(std::net::Shutdown::Both);
            });
        }
    });
    port
}

/// The PostgreSQL of the origin tests: `$CACHESIM_PG_URL`, else the local
/// server's `test` database.
pub fn pg_url() -> String {
    std::env::var("CACHESIM_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}
