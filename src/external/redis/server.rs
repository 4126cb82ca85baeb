//! The private `redis-server` of a `redis-lru`, `redis-lfu`, ... run: found,
//! started on a free port under a watchdog, and gone with the run whatever
//! happens to cachesim, so no run leaves a server behind.

use super::resp::Conn;
use crate::sim::runner::RunError;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or pass --redis-server-bin PATH";

static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A run id unique on this machine: pid, time, counter.
pub(super) fn run_id() -> String {
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

/// Finds the `redis-server` binary: `--redis-server-bin`, or on `PATH`.
pub(crate) fn server_binary(given: Option<&Path>, strategy: &str) -> Result<PathBuf, RunError> {
    if let Some(p) = given {
        use std::os::unix::fs::PermissionsExt;
        let problem = match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => "is a directory, not the redis-server program",
            Ok(m) if !m.is_file() => "is not a regular file",
            Ok(m) if m.permissions().mode() & 0o111 == 0 => "is not executable",
            Ok(_) => return Ok(p.to_path_buf()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "does not exist",
            Err(_) => "cannot be read",
        };
        return Err(RunError::Backend(format!(
            "strategy '{strategy}' starts a private redis-server, but --redis-server-bin '{}' {problem}; {INSTALL_HINT}",
            p.display()
        )));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join("redis-server");
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(RunError::Backend(format!(
        "strategy '{strategy}' starts a private redis-server, but none is on PATH; {INSTALL_HINT}"
    )))
}

/// A private `redis-server` on a free loopback port, no persistence, gone
/// when this guard is dropped (on success, on error, on panic unwinding).
///
/// It runs under a small `sh` watchdog whose stdin is a pipe from cachesim:
/// when cachesim exits for any reason (even `SIGKILL`) the pipe closes, the
/// watchdog's `read` returns and it kills the server. The watchdog and the
/// server are a process group of their own, and the watchdog ignores
/// `SIGINT`, `SIGTERM` and `SIGHUP`: Ctrl-C (`SIGINT` to the terminal's
/// whole process group) reaches cachesim only, which stops the run and
/// stops the server itself; were cachesim killed, the watchdog still
/// outlives it to clean up. The server's log and working directory are a
/// temporary directory, removed on drop (or by the watchdog once the server
/// is gone).
pub(crate) struct PrivateServer {
    sh: Child,
    stdin: Option<ChildStdin>,
    pub pid: u32,
    pub port: u16,
    dir: PathBuf,
}

const WATCHDOG: &str = r#"bin=$1; shift
"$bin" "$@" </dev/null >/dev/null 2>>"$CACHESIM_REDIS_LOG" &
r=$!
trap '' INT TERM HUP
echo "$r"
read _ignored
kill "$r" 2>/dev/null
wait "$r"
case "$CACHESIM_REDIS_DIR" in */cachesim-redis-*) rm -rf "$CACHESIM_REDIS_DIR" ;; esac
"#;

/// The major version `bin --version` prints (`Redis server v=7.0.15 ...`),
/// 0 when it says none.
fn major_version(bin: &Path) -> u32 {
    let out = Command::new(bin)
        .arg("--version")
        .stderr(Stdio::null())
        .output();
    let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    text.ok()
        .and_then(|t| {
            let v = t.split_whitespace().find_map(|w| w.strip_prefix("v="))?;
            v.split('.').next()?.parse().ok()
        })
        .unwrap_or(0)
}

/// Settings of Redis 7 and later that keep `used_memory` a function of the
/// keys held, so that a capacity in objects stays one (see
/// `calibration::Trimmer`): Redis 7 allocates a latency histogram of ~25 KB
/// the first time each command name is used (`latency-tracking`), and
/// resizes every client's reply buffer between 1 and 16 KB in its cron
/// (turned off with `DEBUG REPLYBUFFER RESIZING 0`, which needs the debug
/// command, allowed on loopback only). Either moved the limit of a 500-key
/// capacity by hundreds of keys in a short run.
const STEADY_MEMORY: [&str; 4] = [
    "--latency-tracking",
    "no",
    "--enable-debug-command",
    "local",
];

/// The server's command line: loopback only, no persistence, no memory
/// limit yet (it is set once the run's clients are connected), its files and
/// log in `dir`; with `steady`, [`STEADY_MEMORY`].
fn server_args(
    port: u16,
    policy: &str,
    samples: u64,
    dir: &Path,
    log: &Path,
    steady: bool,
) -> Vec<String> {
    let (port, samples) = (port.to_string(), samples.to_string());
    let args: [&str; 22] = [
        "--bind",
        "127.0.0.1",
        "--port",
        &port,
        "--save",
        "",
        "--appendonly",
        "no",
        "--maxmemory-policy",
        policy,
        "--maxmemory-samples",
        &samples,
        "--daemonize",
        "no",
        "--dir",
        dir.to_str().unwrap_or("."),
        "--logfile",
        log.to_str().unwrap_or(""),
        "--maxmemory",
        "0",
        "--protected-mode",
        "yes",
    ];
    let mut args: Vec<String> = args.map(String::from).to_vec();
    if steady {
        args.extend(STEADY_MEMORY.map(String::from));
    }
    args
}

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Whether process `pid` has exited (gone or a zombie), on Linux.
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => Path::new("/proc/self").exists(),
    }
}

impl PrivateServer {
    /// Starts a server with `maxmemory-policy` `policy` and `samples`, and
    /// waits until it answers; a port taken meanwhile is retried (5 times).
    pub(crate) fn start(bin: &Path, policy: &str, samples: u64) -> Result<PrivateServer, RunError> {
        let mut last = String::new();
        let steady = major_version(bin) >= 7;
        for _attempt in 0..5 {
            let mut server = PrivateServer::spawn(bin, policy, samples, steady)?;
            if server.answers() {
                if steady {
                    server.fix_reply_buffers()?;
                }
                return Ok(server);
            }
            last = std::fs::read_to_string(server.dir.join("redis.log")).unwrap_or_default();
            let in_use = last.contains("Address already in use");
            server.stop();
            if !in_use {
                break;
            }
        }
        let tail: Vec<&str> = last.lines().rev().take(5).collect();
        Err(RunError::Backend(format!(
            "the private redis-server ({}) did not start: {}",
            bin.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )))
    }

    /// Starts the server under its watchdog, on a free port, with a new
    /// temporary directory; the watchdog says the server's pid.
    fn spawn(
        bin: &Path,
        policy: &str,
        samples: u64,
        steady: bool,
    ) -> Result<PrivateServer, RunError> {
        let dir = std::env::temp_dir().join(format!("cachesim-redis-{}", run_id()));
        std::fs::create_dir_all(&dir)
            .map_err(|e| RunError::Backend(format!("cannot create {}: {e}", dir.display())))?;
        let log = dir.join("redis.log");
        let port =
            free_port().map_err(|e| RunError::Backend(format!("cannot find a free port: {e}")))?;
        let mut sh = Command::new("sh");
        // Its own process group: out of reach of the terminal's Ctrl-C.
        std::os::unix::process::CommandExt::process_group(&mut sh, 0);
        let mut sh = sh
            .arg("-c")
            .arg(WATCHDOG)
            .arg("sh")
            .arg(bin)
            .args(server_args(port, policy, samples, &dir, &log, steady))
            .env("CACHESIM_REDIS_LOG", &log)
            .env("CACHESIM_REDIS_DIR", &dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| RunError::Backend(format!("cannot start sh for redis-server: {e}")))?;
        let stdin = sh.stdin.take();
        let mut line = String::new();
        if let Some(out) = sh.stdout.take() {
            BufReader::new(out).read_line(&mut line).ok();
        }
        let pid: u32 = line.trim().parse().unwrap_or(0);
        Ok(PrivateServer {
            sh,
            stdin,
            pid,
            port,
            dir,
        })
    }

    /// Whether the server answers `PING` within 5 s (`false` as soon as it
    /// has exited).
    fn answers(&self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Ok(mut c) = Conn::connect("127.0.0.1", self.port) {
                if c.cmd(&["PING"]).is_ok() {
                    return true;
                }
            }
            if self.pid == 0 || exited(self.pid) || Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Keeps every client's reply buffer at its size (see [`STEADY_MEMORY`]).
    fn fix_reply_buffers(&self) -> Result<(), RunError> {
        let fixed = Conn::connect("127.0.0.1", self.port)
            .and_then(|mut c| c.cmd(&["DEBUG", "REPLYBUFFER", "RESIZING", "0"]));
        fixed.map(|_| ()).map_err(|e| {
            RunError::Backend(format!(
                "the private redis-server on port {} refused DEBUG REPLYBUFFER RESIZING 0: {e}",
                self.port
            ))
        })
    }

    fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.sh.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop();
    }
}
