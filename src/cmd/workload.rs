//! `cachesim workload export`: writes a synthetic workload's request stream
//! as a trace file, so exactly the stream `cachesim run --workload ...`
//! replays can be replayed by other tools (Python's caches, libCacheSim).
//!
//! The options are parsed by `cachesim run`'s own parser
//! ([`super::run::plan_from_args`]), so presets, overrides, labels and error
//! messages are the same as for `run`, and the same seed gives the same keys.

use super::{run::plan_from_args, trace::out_format, CliError};
use crate::cli::{Cli, Command, TraceOutFormat, WorkloadCommand, WorkloadExportArgs};
use crate::sim::runner::WorkloadInput;
use crate::workload::trace::{export, TraceFormat};
use anyhow::Context;
use clap::Parser;

/// Runs `cachesim workload export`.
pub fn workload(c: WorkloadCommand) -> Result<(), CliError> {
    match c {
        WorkloadCommand::Export(a) => export_cmd(a),
    }
}

/// The output format: `--to`, else from the file name.
fn format_for(a: &WorkloadExportArgs) -> TraceFormat {
    if let Some(t) = a.to {
        return out_format(t);
    }
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if name.ends_with(".csv") {
        out_format(TraceOutFormat::Csv)
    } else if name.contains("oraclegeneral") {
        out_format(TraceOutFormat::OracleGeneral)
    } else if name.ends_with(".lcs") {
        out_format(TraceOutFormat::Lcs)
    } else {
        out_format(TraceOutFormat::Text)
    }
}

fn export_cmd(a: WorkloadExportArgs) -> Result<(), CliError> {
    // Reuse `run`'s option parsing and validation.
    let mut argv: Vec<String> = vec![
        "cachesim".into(),
        "run".into(),
        "--workload".into(),
        a.workload.clone(),
    ];
    for (flag, v) in [
        ("--requests", &a.requests),
        ("--keys", &a.keys),
        ("--alpha", &a.alpha),
        ("--rate", &a.rate),
    ] {
        if let Some(v) = v {
            argv.push(flag.into());
            argv.push(v.clone());
        }
    }
    argv.extend(["--seed".into(), a.seed.to_string(), "--no-save".into()]);
    let cli = Cli::try_parse_from(&argv).map_err(|e| CliError::Usage(e.to_string()))?;
    let Command::Run(run_args) = cli.command else {
        unreachable!("argv names the run subcommand")
    };
    let plan = plan_from_args(&run_args)?;
    let Some(WorkloadInput::Preset { preset, label }) = plan.workloads.first() else {
        unreachable!("no --trace was given")
    };
    let batch = preset.generate(a.seed);
    let to = format_for(&a);
    crate::files::write_atomic(&a.out, |w| export::write(&batch, to, w))
        .with_context(|| format!("cannot write '{}'", a.out.display()))?;
    crate::cmd::say!(
        "wrote {} requests of {label} (seed {}) to {} ({})",
        batch.len(),
        a.seed,
        a.out.display(),
        to.name()
    );
    Ok(())
}
