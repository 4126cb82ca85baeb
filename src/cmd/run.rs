//! `cachesim run`: replay workloads against strategies and capacities, print
//! the results and save them as CSV.

use super::{inputs, usage, CliError};
use crate::cli::{OutputFormat, RunArgs};
use crate::policy::{self, StrategySpec};
use crate::report::{self, csv::CsvExporter, json::JsonExporter, table::TableExporter, Exporter};
use crate::sim::runner::{Plan, RunError};
use crate::sim::capacity::Scale;
use crate::sim::Capacity;
use crate::units::parse_duration;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Parses and checks every option, so that bad input is reported before any
/// work starts and nothing is written.
pub fn plan_from_args(a: &RunArgs) -> Result<Plan, CliError> {
    let mut strategies = Vec::new();
    for s in &a.strategy {
        for spec in StrategySpec::parse_list(s).map_err(|e| usage("--strategy", e))? {
            policy::validate(&spec).map_err(|e| usage("--strategy", e))?;
            strategies.push(spec);
        }
    }
    if strategies.is_empty() {
        return Err(usage("--strategy", format!("no strategy given; valid strategies: {}", policy::strategy_names())));
    }
    let scale = Scale::parse(&a.capacity_scale).map_err(|e| usage("--capacity-scale", e))?;
    let capacities = Capacity::parse_list_scaled(&a.capacity, scale).map_err(|e| usage("--capacity", e))?;
    let ttl = match &a.ttl {
        Some(t) => {
            let v = parse_duration(t).map_err(|e| usage("--ttl", e))?;
            if v <= 0.0 {
                return Err(usage("--ttl", format!("'{t}' must be greater than 0")));
            }
            Some(v)
        }
        None => None,
    };
    Ok(Plan {
        workloads: inputs::workloads(&a.input)?,
        strategies,
        capacities,
        seeds: inputs::seeds(&a.input)?,
        ttl,
        threads: inputs::threads(&a.threads)?,
    })
}

pub fn run(a: RunArgs) -> Result<(), CliError> {
    let plan = plan_from_args(&a)?;
    let out_path: Option<PathBuf> = if a.no_save {
        None
    } else {
        Some(match &a.out {
            Some(p) => p.clone(),
            None => report::default_result_path(&PathBuf::from("results")),
        })
    };
    let results = plan.run(a.quiet).map_err(|e| match e {
        RunError::Spec(s) => usage("--strategy", s),
        other => CliError::Runtime(anyhow::Error::new(other)),
    })?;

    if let Some(path) = &out_path {
        report::write_atomic(path, |w| CsvExporter.write(&results, w))
            .with_context(|| format!("cannot write results to '{}'", path.display()))?;
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let exporter: &dyn Exporter = match a.format {
        OutputFormat::Table => &TableExporter,
        OutputFormat::Csv => &CsvExporter,
        OutputFormat::Json => &JsonExporter,
    };
    exporter.write(&results, &mut out).context("cannot write to stdout")?;
    out.flush().ok();
    if let (Some(path), false) = (&out_path, a.quiet) {
        eprintln!("saved {} run(s) to {}", results.len(), path.display());
    }
    Ok(())
}
