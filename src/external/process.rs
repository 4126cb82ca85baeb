//! A server program a run starts for itself (`redis-lru`'s `redis-server`,
//! `memcached-lru`'s `memcached`): found on `PATH` or at a given path,
//! started on a free loopback port under a watchdog, and gone with the run
//! whatever happens to cachesim, so no run leaves a server behind.

use crate::sim::runner::RunError;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A run id unique on this machine: pid, time, counter.
pub(crate) fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!(
        "{}-{:x}-{}",
        std::process::id(),
        t,
        RUN_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// What a server program is called and how to get it, for messages.
pub(crate) struct Program {
    /// The binary's name on `PATH` (`redis-server`).
    pub name: &'static str,
    /// The option that gives its path (`--redis-server-bin`).
    pub option: &'static str,
    /// How to install it.
    pub install: &'static str,
}

impl Program {
    /// Finds the binary: `given` (the program's option), or on `PATH`.
    pub(crate) fn find(&self, given: Option<&Path>, strategy: &str) -> Result<PathBuf, RunError> {
        let (name, option, install) = (self.name, self.option, self.install);
        if let Some(p) = given {
            use std::os::unix::fs::PermissionsExt;
            let problem = match std::fs::metadata(p) {
                Ok(m) if m.is_dir() => format!("is a directory, not the {name} program"),
                Ok(m) if !m.is_file() => "is not a regular file".into(),
                Ok(m) if m.permissions().mode() & 0o111 == 0 => "is not executable".into(),
                Ok(_) => return Ok(p.to_path_buf()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist".into(),
                Err(_) => "cannot be read".into(),
            };
            return Err(RunError::Backend(format!(
                "strategy '{strategy}' starts a private {name}, but {option} '{}' {problem}; {install} or pass {option} PATH",
                p.display()
            )));
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
        Err(RunError::Backend(format!(
            "strategy '{strategy}' starts a private {name}, but none is on PATH; {install} or pass {option} PATH"
        )))
    }
}

/// A port nothing listens on now, on loopback.
pub(crate) fn free_port() -> Result<u16, RunError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr());
    port.map(|a| a.port())
        .map_err(|e| RunError::Backend(format!("cannot find a free port: {e}")))
}

/// Whether process `pid` has exited (gone or a zombie), on Linux.
pub(crate) fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => Path::new("/proc/self").exists(),
    }
}

/// A server process under a watchdog, with a temporary directory for its
/// files and log, gone when this guard is dropped (on success, on error,
/// on panic unwinding).
///
/// It runs under a small `sh` watchdog whose stdin is a pipe from cachesim:
/// when cachesim exits for any reason (even `SIGKILL`) the pipe closes, the
/// watchdog's `read` returns and it kills the server. The watchdog and the
/// server are a process group of their own, and the watchdog ignores
/// `SIGINT`, `SIGTERM` and `SIGHUP`: Ctrl-C (`SIGINT` to the terminal's
/// whole process group) reaches cachesim only, which stops the run and
/// stops the server itself; were cachesim killed, the watchdog still
/// outlives it to clean up. The directory is removed on drop (or by the
/// watchdog once the server is gone).
pub(crate) struct Watched {
    sh: Child,
    stdin: Option<ChildStdin>,
    pub pid: u32,
    pub dir: PathBuf,
    /// The server's standard error (and log, if it writes one there).
    pub log: PathBuf,
}

const WATCHDOG: &str = r#"bin=$1; shift
"$bin" "$@" </dev/null >/dev/null 2>>"$CACHESIM_SERVER_LOG" &
r=$!
trap '' INT TERM HUP
echo "$r"
read _ignored
kill "$r" 2>/dev/null
wait "$r"
case "$CACHESIM_SERVER_DIR" in */cachesim-*) rm -rf "$CACHESIM_SERVER_DIR" ;; esac
"#;

impl Watched {
    /// A new temporary directory `cachesim-<kind>-<run id>` for a server's
    /// files; [`Watched::spawn`] takes it over.
    pub(crate) fn new_dir(kind: &str) -> Result<PathBuf, RunError> {
        let dir = std::env::temp_dir().join(format!("cachesim-{kind}-{}", run_id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| RunError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        Ok(dir)
    }

    /// Starts `bin args` under its watchdog; its standard error goes to
    /// `log` (in `dir`). The watchdog says the server's pid.
    pub(crate) fn spawn(
        bin: &Path,
        args: &[String],
        dir: PathBuf,
        log: PathBuf,
    ) -> Result<Watched, RunError> {
        let mut sh = Command::new("sh");
        // Its own process group: out of reach of the terminal's Ctrl-C.
        std::os::unix::process::CommandExt::process_group(&mut sh, 0);
        let spawned = sh
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(bin)
            .args(args)
            .env("CACHESIM_SERVER_LOG", &log)
            .env("CACHESIM_SERVER_DIR", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut sh = match spawned {
            Ok(sh) => sh,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(RunError::Backend(format!(
                    "cannot start sh for {}: {e}",
                    bin.display()
                )));
            }
        };
        let stdin = sh.stdin.take();
        let mut line = String::new();
        if let Some(out) = sh.stdout.take() {
            BufReader::new(out).read_line(&mut line).ok();
        }
        let pid: u32 = line.trim().parse().unwrap_or(0);
        Ok(Watched {
            sh,
            stdin,
            pid,
            dir,
            log,
        })
    }

    /// Waits up to 5 s for `ready` to say the server answers (`false` as
    /// soon as the server has exited).
    pub(crate) fn wait_ready(&self, mut ready: impl FnMut() -> bool) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if ready() {
                return true;
            }
            if self.pid == 0 || exited(self.pid) || Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The last `n` lines of the server's log, joined by ` | `.
    pub(crate) fn log_tail(&self, n: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let tail: Vec<&str> = text.lines().rev().take(n).collect();
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    }

    /// Stops the server and removes its directory.
    pub(crate) fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.sh.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        self.stop();
    }
}
