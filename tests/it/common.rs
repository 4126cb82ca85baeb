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
