//! The subcommands: each turns parsed arguments into library calls and
//! output. Errors carry whether they are usage errors (exit 2) or runtime
//! errors (exit 1).

pub mod compare;
pub mod inputs;
pub mod list;
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
pub fn engines(redis: &crate::external::redis::RedisOptions) -> Engines {
    Engines::new(vec![Arc::new(crate::external::redis::RedisEngine::new(
        redis.clone(),
    ))])
}

/// Every strategy, as `cachesim list` shows them: the in-process ones, then
/// those the backends run.
pub fn strategies() -> impl Iterator<Item = &'static crate::policy::StrategyInfo> {
    crate::policy::STRATEGIES
        .iter()
        .chain(crate::sim::strategy::COMPOSITES)
        .chain(crate::external::strategies())
}

/// The names of all strategies, comma separated, for error messages.
pub fn strategy_names() -> String {
    strategies().map(|s| s.name).collect::<Vec<_>>().join(", ")
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

/// An error with its exit status: 2 for bad usage, 1 for a failure at run time.
#[derive(Debug)]
pub enum CliError {
    Usage(String),
    Runtime(anyhow::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Runtime(_) => 1,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Usage(m) => f.write_str(m),
            CliError::Runtime(e) => write!(f, "{e:#}"),
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
    }
}
