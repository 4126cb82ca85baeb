//! The subcommands: each turns parsed arguments into library calls and
//! output. Errors carry whether they are usage errors (exit 2) or runtime
//! errors (exit 1).

pub mod compare;
pub mod inputs;
pub mod list;
pub mod merge;
pub mod mrc;
pub mod plot;
pub mod report;
pub mod run;
pub mod trace;
pub mod workload;

use crate::sim::backend::Engines;
use std::fmt;
use std::sync::Arc;

/// The engines a command can run strategies on: the composition root is
/// the one place that names every backend.
pub fn engines(
    redis: &crate::external::redis::RedisOptions,
    disk: &crate::external::disk::DiskOptions,
    memcached: &crate::external::memcached::MemcachedOptions,
) -> Engines {
    // Disk first: it takes `tiered:LOCAL+disk`, Redis every other `tiered:`.
    Engines::new(vec![
        Arc::new(crate::external::disk::DiskEngine::new(disk.clone())),
        Arc::new(crate::external::memcached::MemcachedEngine::new(
            memcached.clone(),
        )),
        Arc::new(crate::external::redis::RedisEngine::new(redis.clone())),
    ])
}

/// The names of all strategies, comma separated, for error messages.
pub fn strategy_names() -> String {
    crate::cli::strategies()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A spec error for the command line: an unknown name lists every strategy,
/// the backends' included (the library lists the in-process ones).
pub fn spec_usage(e: crate::policy::SpecError) -> CliError {
    let e = match e {
        crate::policy::SpecError::UnknownStrategy { name, .. } => {
            crate::policy::SpecError::UnknownStrategy {
                name,
                valid: strategy_names(),
            }
        }
        e => e,
    };
    usage("--strategy", e)
}

/// A run's error for the command line: the errors that come from the
/// options (a bad strategy spec, a warm-up longer than a trace) are usage
/// errors naming the option; everything else failed at run time.
pub fn run_error(e: crate::sim::runner::RunError) -> CliError {
    use crate::sim::runner::RunError;
    match e {
        RunError::Spec(s) => spec_usage(s),
        e @ RunError::WarmupTooLong { .. } => usage("--warmup", e),
        e @ RunError::TooManyWindows { .. } => usage("--window", e),
        RunError::Usage { option, message } => usage(option, message),
        e => CliError::Runtime(anyhow::Error::new(e)),
    }
}

/// An error with its exit status: 2 for bad usage, 1 for a failure at run time.
#[derive(Debug)]
pub enum CliError {
    /// Bad usage (an option's value, a combination of options): exit 2. The
    /// message names the option.
    Usage(String),
    /// A failure at run time (a file, a server, a write): exit 1.
    Runtime(anyhow::Error),
    /// Stopped by a signal after saving what had finished (`interrupted: N
    /// of M runs finished; saved to ...`): exit 128 + the signal.
    Interrupted {
        /// `SIGINT` (2) or `SIGTERM` (15).
        signal: i32,
        /// What was finished and where it was saved.
        message: String,
    },
}

impl CliError {
    /// The process exit status for this error: 2 for usage, 1 for runtime.
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
            CliError::Interrupted { signal, .. } => 128 + signal,
        }
    }

    /// Whether the command was stopped by a signal (its message is not an
    /// error's: it says what was saved).
    pub fn is_interrupt(&self) -> bool {
        matches!(self, CliError::Interrupted { .. })
    }

    /// Whether the error is stdout closed by its reader (`cachesim list |
    /// head -1`): the reader has what it wanted, so, as ripgrep does, the
    /// binary exits 0 quietly instead of reporting a failure.
    pub fn is_broken_pipe(&self) -> bool {
        match self {
            CliError::Usage(_) | CliError::Interrupted { .. } => false,
            CliError::Runtime(e) => e.chain().any(broken_pipe),
        }
    }
}

/// Whether `e`, or an error it wraps, is a broken pipe. An `io::Error`
/// wrapping another error (the CSV writer's) hides it from `source()`, so
/// the wrapped one is looked into as well, and so is a CSV error's own.
fn broken_pipe(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                if broken_pipe(inner) {
                    return true;
                }
            }
        }
        // The csv crate's errors do not expose their `io::Error` as a source.
        if let Some(csv::ErrorKind::Io(io)) = e.downcast_ref::<csv::Error>().map(|c| c.kind()) {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        next = e.source();
    }
    false
}

/// Writes a command's output to the locked stdout through `f` and flushes
/// it. Errors keep their `io::Error`, so that [`CliError::is_broken_pipe`]
/// recognises a closed pipe; `print!` would panic there instead.
pub fn to_stdout(
    f: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<(), CliError> {
    use anyhow::Context;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    f(&mut out)
        .and_then(|()| std::io::Write::flush(&mut out))
        .context("cannot write to stdout")?;
    Ok(())
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => f.write_str(m),
            CliError::Runtime(e) => write!(f, "{e:#}"),
            CliError::Interrupted { message, .. } => f.write_str(message),
        }
    }
}

impl From<anyhow::Error> for CliError {
    fn from(e: anyhow::Error) -> Self {
        CliError::Runtime(e)
    }
}

/// Shorthand for a usage error naming an option.
pub fn usage(option: &str, msg: impl fmt::Display) -> CliError {
    CliError::Usage(format!("invalid value for '{option}': {msg}"))
}

/// Runs the parsed command line.
pub fn dispatch(cli: crate::cli::Cli) -> Result<(), CliError> {
    match cli.command {
        crate::cli::Command::Run(a) => run::run(a),
        crate::cli::Command::List(a) => list::list(a),
        crate::cli::Command::Trace(c) => trace::trace(c),
        crate::cli::Command::Workload(c) => workload::workload(c),
        crate::cli::Command::Plot(a) => plot::plot(a),
        crate::cli::Command::Compare(a) => compare::compare(a),
        crate::cli::Command::Report(a) => report::report(a),
        crate::cli::Command::Mrc(a) => mrc::mrc(a),
        crate::cli::Command::Merge(a) => merge::merge(a),
    }
}
