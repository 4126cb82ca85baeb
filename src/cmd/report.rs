//! `cachesim report`: one self-contained HTML page from results CSVs
//! (charts, comparison, commands to reproduce), written atomically.

use super::compare::{baseline_error, load_sources};
use super::plot::{load, plot_error};
use super::CliError;
use crate::cli::ReportArgs;
use crate::files::write_atomic;
use crate::report::compare::compare;
use crate::report::html::{render, ReportInput};
use anyhow::Context;

/// Runs `cachesim report`: writes one self-contained HTML page from the
/// results CSVs.
pub fn report(a: ReportArgs) -> Result<(), CliError> {
    let data = load(&a.inputs)?;
    // Timeline CSVs feed the `timeline` chart only, not the comparison.
    let mut results = Vec::new();
    for p in &a.inputs {
        if !crate::plot::is_timeline(p).map_err(|e| CliError::Runtime(anyhow::anyhow!(e)))? {
            results.push(p.clone());
        }
    }
    let sources = load_sources(&results)?;
    let mut notes = Vec::new();
    let comparison = match &a.baseline {
        // Asked for: a missing baseline is an error, as in `compare`.
        Some(b) => Some(compare(&sources, b).map_err(baseline_error)?),
        // Default lru; without lru, the first strategy in the results.
        None => match compare(&sources, "lru") {
            Ok(c) => Some(c),
            Err(_) => {
                let first = data
                    .strategies()
                    .first()
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                notes.push(format!(
                    "No 'lru' run in the results: relative to '{first}' instead."
                ));
                compare(&sources, &first).ok()
            }
        },
    };
    let inputs: Vec<String> = a.inputs.iter().map(|p| p.display().to_string()).collect();
    let html = render(&ReportInput {
        title: &a.title,
        inputs: &inputs,
        data: &data,
        comparison: comparison.as_ref(),
        notes: &notes,
    })
    .map_err(plot_error)?;
    write_atomic(&a.out, |w| w.write_all(html.as_bytes()))
        .with_context(|| format!("cannot write '{}'", a.out.display()))?;
    super::to_stdout(|out| writeln!(out, "{}", a.out.display()))
}
