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
use std::cell::RefCell;
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
    let mut out = stdout();
    f(&mut out)
        .and_then(|()| std::io::Write::flush(&mut out))
        .context("cannot write to stdout")?;
    Ok(())
}

/// What a command run by [`run_args`] printed: its stdout, and its notes
/// for stderr (see [`note`]).
#[derive(Default)]
struct Collected {
    out: Vec<u8>,
    notes: String,
}

thread_local! {
    /// What commands on this thread print, while [`run_args`] collects it.
    static COLLECTED: RefCell<Option<Collected>> = const { RefCell::new(None) };
    /// The notes of this thread's last [`run_args`], for [`take_notes`].
    static LAST_NOTES: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Collects this thread's output while alive; when dropped (a panic
/// included) puts back what was collected before and leaves the notes for
/// [`take_notes`].
struct Collecting(Option<Collected>);

impl Collecting {
    fn start() -> Collecting {
        Collecting(COLLECTED.replace(Some(Collected::default())))
    }

    /// The stdout collected so far, taken.
    fn take_out(&self) -> Vec<u8> {
        COLLECTED
            .with_borrow_mut(|c| c.as_mut().map(|c| std::mem::take(&mut c.out)))
            .unwrap_or_default()
    }
}

impl Drop for Collecting {
    fn drop(&mut self) {
        let mine = COLLECTED.replace(self.0.take());
        LAST_NOTES.set(mine.map(|c| c.notes).unwrap_or_default());
    }
}

/// Prints a command's note (a warning, `saved N run(s) to FILE`) on stderr,
/// or keeps it for the host while [`run_args`] runs the command on this
/// thread: a notebook shows the process's stderr in the kernel's log, not
/// under the cell. Written through [`say!`].
pub(crate) fn note(line: fmt::Arguments<'_>) {
    let kept = COLLECTED.with_borrow_mut(|c| match c {
        Some(c) => {
            use fmt::Write;
            let _ = writeln!(c.notes, "{line}");
            true
        }
        None => false,
    });
    if !kept {
        eprintln!("{line}");
    }
}

/// `eprintln!` for a command's notes (see [`note`]).
macro_rules! say {
    ($($t:tt)*) => {
        $crate::cmd::note(format_args!($($t)*))
    };
}
pub(crate) use say;

/// The notes (one per line) the last [`run_args`] on this thread printed
/// instead of writing them on stderr, whether it succeeded or not; taken,
/// so a second call returns nothing.
pub fn take_notes() -> String {
    LAST_NOTES.take()
}

/// A command's standard output: the process's, or the buffer of
/// [`run_args`] when this thread runs a command for a host.
pub(crate) enum Stdout {
    /// Appended to this thread's [`COLLECTED`] buffer.
    Collected,
    /// The process's stdout, locked.
    Process(std::io::StdoutLock<'static>),
}

/// The standard output commands write to (see [`Stdout`]).
pub(crate) fn stdout() -> Stdout {
    if COLLECTED.with_borrow(Option::is_some) {
        Stdout::Collected
    } else {
        Stdout::Process(std::io::stdout().lock())
    }
}

impl std::io::Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stdout::Collected => {
                COLLECTED.with_borrow_mut(|c| c.get_or_insert_default().out.extend_from_slice(buf));
                Ok(buf.len())
            }
            Stdout::Process(out) => out.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stdout::Collected => Ok(()),
            Stdout::Process(out) => out.flush(),
        }
    }
}

/// Runs the command line `args` (without the program's name) as the binary
/// does, and returns what it printed on stdout instead of printing it: the
/// entry of hosts that take the CLI's options (the Python binding), so that
/// options, defaults and error messages are the binary's own. A parse
/// error is a [`CliError::Usage`] with clap's message, without its
/// `error: ` and `--help` lines. Its notes on stderr (warnings, `saved
/// ...`) are kept for [`take_notes`]. No signal handler is installed: the host
/// stops a run with [`crate::interrupt::request_stop`].
pub fn run_args<I, T>(args: I) -> Result<Vec<u8>, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::Parser;
    let argv = std::iter::once(std::ffi::OsString::from("cachesim"))
        .chain(args.into_iter().map(Into::into));
    let cli = crate::cli::Cli::try_parse_from(argv).map_err(|e| {
        let text = e.render().to_string();
        let text = text.strip_prefix("error: ").unwrap_or(&text);
        let text = text
            .split("\n\nFor more information")
            .next()
            .unwrap_or(text);
        CliError::Usage(text.trim_end().to_string())
    })?;
    let collecting = Collecting::start();
    let result = dispatch(cli);
    result.map(|()| collecting.take_out())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_args_returns_what_the_command_prints() {
        let out = run_args(["list"]).expect("list runs");
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("lru") && text.contains("s3fifo"), "{text}");
        // Collection ends with the command: this thread prints again.
        assert!(matches!(stdout(), Stdout::Process(_)));
    }

    #[test]
    fn run_args_keeps_the_notes_for_the_host() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("w.txt");
        let path = out.to_str().unwrap();
        run_args(["workload", "export", "--requests", "10", "-o", path]).expect("export runs");
        let notes = take_notes();
        assert!(notes.starts_with("wrote 10 requests"), "{notes}");
        assert!(notes.contains(path) && notes.ends_with('\n'), "{notes}");
        assert_eq!(take_notes(), "", "taken once");
        // Outside run_args nothing is kept: notes go to stderr again.
        note(format_args!("to stderr"));
        assert_eq!(take_notes(), "");
        assert!(COLLECTED.with_borrow(Option::is_none));
    }

    #[test]
    fn run_args_errors_are_the_binary_s_messages() {
        let e = run_args(["run", "--strategy", "nope", "--no-save"]).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string()
                .starts_with("invalid value for '--strategy': unknown strategy 'nope'"),
            "{e}"
        );
        // clap's own errors: without its `error: ` prefix and `--help` line.
        let e = run_args(["run", "--requests", "many"]).unwrap_err();
        let msg = e.to_string();
        assert_eq!(e.exit_code(), 2);
        assert!(
            msg.starts_with("invalid value 'many' for '--requests"),
            "{msg}"
        );
        assert!(!msg.contains("For more information"), "{msg}");
        assert!(matches!(stdout(), Stdout::Process(_)));
    }
}
