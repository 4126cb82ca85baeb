//! `cachesim list`: every strategy and workload preset, one line each.

use super::CliError;
use crate::cli::ListArgs;
use crate::policy::STRATEGIES;
use crate::workload::trace::TraceFormat;
use crate::workload::{Preset, PRESETS};

pub fn list(_args: ListArgs) -> Result<(), CliError> {
    let mut out = String::new();
    out += "Strategies (--strategy NAME[:key=value...]):\n";
    let w = STRATEGIES.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in STRATEGIES {
        out += &format!("  {:<w$}  {}", s.name, s.summary);
        if !s.params.is_empty() {
            out += &format!(" [{}]", s.params);
        }
        out += "\n";
    }
    out += "\nWorkload presets (--workload NAME):\n";
    let w = PRESETS.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, _) in PRESETS {
        let p = Preset::load(name).map_err(CliError::Usage)?;
        out += &format!("  {:<w$}  {} ({})\n", name, p.description, p.summary());
    }
    out += "\nTrace formats (--trace FILE [--trace-format NAME]):\n";
    let w = TraceFormat::ALL
        .iter()
        .map(|f| f.name().len())
        .max()
        .unwrap_or(0);
    for f in TraceFormat::ALL {
        out += &format!("  {:<w$}  {}\n", f.name(), f.describe());
    }
    print!("{out}");
    Ok(())
}
