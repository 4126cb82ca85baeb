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
    unavailable("trace", reason)
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

/// A small `cachesim run` (2000 requests over 300 keys, JSON on stdout,
/// nothing saved) with `args`, in `cwd`.
pub fn run_small(cwd: &Path, args: &[&str]) -> Output {
    let base = [
        "run",
        "--requests",
        "2000",
        "--keys",
        "300",
        "--no-save",
        "-f",
        "json",
        "-q",
    ];
    cachesim(&[&base[..], args].concat(), cwd)
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

/// Asserts that `o` exited with `code` (not a panic or a signal) and that
/// its stderr contains `needle`; `what` names the case in the failure.
pub fn fails_with(o: &Output, code: i32, needle: &str, what: &str) {
    let e = stderr(o);
    assert_eq!(o.status.code(), Some(code), "{what}: {e}");
    assert!(e.contains(needle), "{what}: wanted '{needle}' in: {e}");
}

/// Runs the cachesim binary in `cwd` with the arguments of `line`, split on
/// whitespace (for argument lists without spaces inside an argument).
pub fn cachesim_line(line: &str, cwd: &Path) -> Output {
    let args: Vec<&str> = line.split_whitespace().collect();
    cachesim(&args, cwd)
}

/// Waits for `child` at most `secs` seconds (killing it and failing the test
/// after that, naming `what`: a hung process must not hang the suite);
/// returns its exit status and its stderr (when piped).
pub fn wait_within(
    mut child: std::process::Child,
    secs: u64,
    what: &str,
) -> (std::process::ExitStatus, String) {
    let start = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > std::time::Duration::from_secs(secs) {
            child.kill().ok();
            child.wait().ok();
            panic!("{what} did not finish within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut err = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut err).ok();
    }
    (status, err)
}

/// A seeded source of random and mutated inputs for the fuzz-style tests
/// (`fuzz_readers`, `fuzz_specs`): splitmix64, so a failing case is found
/// again from its seed.
pub struct Fuzz(u64);

impl Fuzz {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Fuzz {
        Fuzz(seed)
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// One of `items`.
    pub fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }

    /// `input` with one to four random edits: a byte changed, a piece of
    /// `alphabet` inserted, a byte deleted, a piece duplicated, or the end cut.
    pub fn mutate(&mut self, input: &[u8], alphabet: &[&[u8]]) -> Vec<u8> {
        let mut v = input.to_vec();
        for _ in 0..1 + self.below(4) {
            let at = if v.is_empty() {
                0
            } else {
                self.below(v.len() + 1)
            };
            match self.below(5) {
                0 if at < v.len() => v[at] = self.next() as u8,
                1 => {
                    let piece = alphabet[self.below(alphabet.len())];
                    v.splice(at..at, piece.iter().copied());
                }
                2 if at < v.len() => {
                    v.remove(at);
                }
                3 if at < v.len() => {
                    let end = (at + 1 + self.below(16)).min(v.len());
                    let piece = v[at..end].to_vec();
                    v.splice(at..at, piece);
                }
                _ => v.truncate(at),
            }
        }
        v
    }
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

/// A free TCP port on the loopback (another process may take it before it
/// is used; the servers the tests start are given it at once).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A server process the test started, stopped when dropped (also when an
/// assertion fails): `SIGINT` first (PostgreSQL's fast shutdown, Redis's
/// shutdown), then `SIGKILL` after 5 s.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits up to 10 s for `ready` (polled every 50 ms) while the server runs;
/// `Err` with its exit status if it stopped.
pub fn wait_until(server: &mut Server, ready: impl Fn() -> bool) -> Result<(), String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if ready() {
            return Ok(());
        }
        if let Ok(Some(st)) = server.0.try_wait() {
            return Err(format!("the server exited ({st})"));
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    Err("the server did not start within 10 s".into())
}

/// A private `redis-server` (no persistence, log in `dir`) with `args`
/// added, once something connects to `host:port`; `None` (after printing
/// why, or panicking under `CACHESIM_REQUIRE_SERVICES=1`) without
/// `redis-server` or when it does not start.
pub fn private_redis(dir: &Path, host: &str, port: u16, args: &[&str]) -> Option<Server> {
    let Some(bin) = which("redis-server") else {
        return missing_server("no redis-server on PATH".into());
    };
    let log = dir.join("redis.log");
    let child = Command::new(bin)
        .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
        .arg("--dir")
        .arg(dir)
        .arg("--logfile")
        .arg(&log)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let addr = format!(
        "{}:{port}",
        if host.contains(':') {
            format!("[{host}]")
        } else {
            host.into()
        }
    );
    let up = wait_until(&mut server, || std::net::TcpStream::connect(&addr).is_ok());
    match up {
        Ok(()) => Some(server),
        Err(e) => {
            let log = std::fs::read_to_string(&log).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(3).collect();
            missing_server(format!(
                "the private redis-server did not start: {e}: {tail:?}"
            ))
        }
    }
}

/// Prints why a server is missing and gives `None`, or panics when services
/// are required.
pub fn missing_server<T>(reason: String) -> Option<T> {
    unavailable("service", reason)
}

/// Prints why a `kind` (trace, service) is missing and gives `None`, or
/// panics when services (and the traces) are required.
fn unavailable<T>(kind: &str, reason: String) -> Option<T> {
    if services_required() {
        panic!("required {kind} missing: {reason}");
    }
    eprintln!("skipped: {reason}");
    None
}

/// Starts the cachesim binary with `args` in `cwd`, stdout discarded and
/// stderr piped (for [`wait_within`]).
pub fn spawn_cachesim(args: &[&str], cwd: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_cachesim"))
        .args(args)
        .current_dir(cwd)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("binary runs")
}

/// The header and rows of a CSV file.
pub fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    parse_csv(&text)
}

/// `rows` without the measured columns
/// ([`cachesim::sim::result::MEASURED_COLUMNS`]: timing and `threads`),
/// the only ones two runs of one sweep may differ in.
pub fn without_measured(header: &[String], rows: &[Vec<String>]) -> Vec<Vec<String>> {
    let measured = |i: usize| cachesim::sim::result::MEASURED_COLUMNS.contains(&header[i].as_str());
    rows.iter()
        .map(|r| {
            (0..r.len())
                .filter(|&i| !measured(i))
                .map(|i| r[i].clone())
                .collect()
        })
        .collect()
}

/// The commands that reproduce a report's runs: the lines of its
/// `<pre id="commands">` block.
pub fn report_commands(html: &str) -> Vec<String> {
    let open = "<pre id=\"commands\">";
    let start = html.find(open).expect("the report lists its commands") + open.len();
    let end = start + html[start..].find("</pre>").expect("a closed block");
    html[start..end]
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
