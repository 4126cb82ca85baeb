//! The private `memcached` of a `memcached-lru` run: its memory (`-m`, in
//! MiB) from the capacity, started on a free loopback port under a watchdog
//! ([`Watched`]), gone with the run; and the run's key prefix.

use super::proto::Conn;
use crate::external::process::{free_port, run_id, Program, Watched};
use crate::sim::capacity::Capacity;
use crate::sim::runner::RunError;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

const MEMCACHED: Program = Program {
    name: "memcached",
    option: "--memcached-bin",
    install: "install it (Debian/Ubuntu: apt-get install memcached; macOS: brew install memcached)",
};

/// Finds the `memcached` binary: `--memcached-bin`, or on `PATH`.
pub(crate) fn binary(given: Option<&Path>, strategy: &str) -> Result<PathBuf, RunError> {
    MEMCACHED.find(given, strategy)
}

/// The run's part of its keys' prefix (`cachesim:<this>:`): 16 hex digits
/// from the run id, so that every run's keys have the same length (an
/// item's size, hence its slab class, depends on its key's length).
pub(crate) fn key_prefix_id() -> String {
    let mut h = rustc_hash::FxHasher::default();
    run_id().hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The length of the prefix of every key a run writes:
/// `cachesim:` + 16 hex digits + `:`.
pub const KEY_PREFIX_LEN: usize = 26;

/// `-m` for a byte capacity: rounded up to whole MiB (memcached's unit),
/// at least 2 (memcached refuses 1 with its default 1 MiB item size).
/// Counts are refused before any run (`Engine::check_capacity`).
pub(crate) fn megabytes(cap: &Capacity, strategy: &str) -> Result<u64, RunError> {
    match cap {
        Capacity::Bytes(b) => Ok(b.div_ceil(1 << 20).max(2)),
        other => Err(RunError::Usage {
            option: "--capacity",
            message: format!(
                "strategy '{strategy}' sizes a memcached by its memory (-m, in MiB): give a capacity in bytes (e.g. 4MiB), not '{}'",
                other.label()
            ),
        }),
    }
}

/// A private memcached with `-m MB`, no other settings changed.
pub(crate) struct PrivateMemcached {
    _proc: Watched,
    pub port: u16,
}

impl PrivateMemcached {
    /// Starts it and waits until it answers; a port taken meanwhile is
    /// retried (5 times).
    pub(crate) fn start(bin: &Path, mb: u64) -> Result<PrivateMemcached, RunError> {
        let mut last = String::new();
        for _attempt in 0..5 {
            let dir = Watched::new_dir("memcached")?;
            let log = dir.join("memcached.log");
            let port = free_port()?;
            let mut args: Vec<String> = [
                "-l",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-U",
                "0",
                "-m",
                &mb.to_string(),
            ]
            .map(String::from)
            .to_vec();
            // memcached refuses to run as root without -u.
            // SAFETY: geteuid has no preconditions and cannot fail.
            if unsafe { libc::geteuid() } == 0 {
                args.extend(["-u".to_string(), "root".to_string()]);
            }
            let proc = Watched::spawn(bin, &args, dir, log)?;
            if proc.wait_ready(|| Conn::open("127.0.0.1", port, b"").is_ok()) {
                return Ok(PrivateMemcached { _proc: proc, port });
            }
            last = proc.log_tail(5);
            if !last.contains("Address already in use") {
                break;
            }
        }
        Err(RunError::Backend(format!(
            "the private memcached ({}) did not start: {last}",
            bin.display()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_have_one_length() {
        for _ in 0..100 {
            let p = format!("cachesim:{}:", key_prefix_id());
            assert_eq!(p.len(), KEY_PREFIX_LEN, "{p}");
        }
        assert_ne!(key_prefix_id(), key_prefix_id());
    }
}
