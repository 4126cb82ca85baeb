//! The private `redis-server` of a `redis-lru`, `redis-lfu`, ... run: found,
//! started on a free port under a watchdog, and gone with the run whatever
//! happens to cachesim, so no run leaves a server behind.

use super::resp::Conn;
use crate::external::process::{free_port, Program, Watched};
use crate::sim::runner::RunError;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(super) use crate::external::process::run_id;

const REDIS_SERVER: Program = Program {
    name: "redis-server",
    option: "--redis-server-bin",
    install: "install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis)",
};

/// Finds the `redis-server` binary: `--redis-server-bin`, or on `PATH`.
pub(crate) fn server_binary(given: Option<&Path>, strategy: &str) -> Result<PathBuf, RunError> {
    REDIS_SERVER.find(given, strategy)
}

/// A private `redis-server` on a free loopback port, no persistence, gone
/// when this guard is dropped, under a watchdog ([`Watched`]). Its log and
/// working directory are a temporary directory, removed with it.
pub(crate) struct PrivateServer {
    proc: Watched,
    pub port: u16,
}

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

impl PrivateServer {
    /// Starts a server with `maxmemory-policy` `policy` and `samples`, and
    /// waits until it answers; a port taken meanwhile is retried (5 times).
    pub(crate) fn start(bin: &Path, policy: &str, samples: u64) -> Result<PrivateServer, RunError> {
        let mut last = String::new();
        let steady = major_version(bin) >= 7;
        for _attempt in 0..5 {
            let dir = Watched::new_dir("redis")?;
            let log = dir.join("redis.log");
            let port = free_port()?;
            let args = server_args(port, policy, samples, &dir, &log, steady);
            let server = PrivateServer {
                proc: Watched::spawn(bin, &args, dir, log)?,
                port,
            };
            let answers = server.proc.wait_ready(|| {
                Conn::connect("127.0.0.1", port).is_ok_and(|mut c| c.cmd(&["PING"]).is_ok())
            });
            if answers {
                if steady {
                    server.fix_reply_buffers()?;
                }
                return Ok(server);
            }
            last = server.proc.log_tail(5);
            if !last.contains("Address already in use") {
                break;
            }
        }
        Err(RunError::Backend(format!(
            "the private redis-server ({}) did not start: {last}",
            bin.display(),
        )))
    }

    /// The server's pid.
    pub(crate) fn pid(&self) -> u32 {
        self.proc.pid
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
}
