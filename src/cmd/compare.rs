//! `cachesim compare`: results lined up by (workload, capacity), each
//! strategy against a baseline, printed as a table and optionally exported
//! as Markdown for slides.

use super::{usage, CliError};
use crate::cli::CompareArgs;
use crate::files::write_atomic;
use crate::report::compare::{compare as build, flat_table, CompareError, Comparison};
use crate::report::markdown;
use anyhow::Context;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Reads each input as one source, named by its file stem (by its path when
/// two stems collide).
pub fn load_sources(
    inputs: &[PathBuf],
) -> Result<Vec<(String, Vec<crate::sim::RunResult>)>, CliError> {
    let stem = |p: &Path| {
        p.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for p in inputs {
        // Runs are compared by their totals, not their `--group-by` rows.
        let mut rows = crate::sim::result::read_results(p)
            .map_err(|e| CliError::Runtime(anyhow::anyhow!(e)))?;
        rows.retain(|r| r.group.is_empty());
        let clash = inputs.iter().filter(|q| stem(q) == stem(p)).count() > 1;
        let name = if clash {
            p.display().to_string()
        } else {
            stem(p)
        };
        out.push((name, rows));
    }
    if out.iter().all(|(_, r)| r.is_empty()) {
        return Err(CliError::Runtime(anyhow::anyhow!(
            "no results in the input file(s): nothing to compare"
        )));
    }
    Ok(out)
}

/// Maps a comparison error to a usage error on `--baseline` (exit 2).
pub fn baseline_error(e: CompareError) -> CliError {
    let msg = match &e {
        CompareError::MissingBaseline { baseline, present } => format!(
            "strategy '{baseline}' is not in the results; strategies present: {} (pick one with --baseline)",
            present.join(", ")
        ),
        CompareError::Ambiguous { .. } => e.to_string(),
    };
    usage("--baseline", msg)
}

/// The comparison for a terminal: one block per (workload, capacity).
pub fn write_terminal(c: &Comparison, out: &mut dyn Write) -> std::io::Result<()> {
    let (header, rows) = flat_table(c);
    // Drop workload and capacity from the columns: they head each block.
    let header = &header[2..];
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, cell) in width.iter_mut().zip(&r[2..]) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i == 0 {
                    format!("{c:<w$}", w = width[i])
                } else {
                    format!("{c:>w$}", w = width[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let mut i = 0;
    for (n, g) in c.groups.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        writeln!(out, "{} at {}", g.workload, g.capacity_label())?;
        writeln!(out, "  {}", line(header))?;
        for _ in &g.lines {
            writeln!(out, "  {}", line(&rows[i][2..]))?;
            i += 1;
        }
    }
    for n in &c.notes {
        writeln!(out, "\nnote: {n}")?;
    }
    Ok(())
}

/// Runs `cachesim compare`: prints the comparison table and, with
/// `--export-markdown`, writes it as Markdown.
pub fn compare(a: CompareArgs) -> Result<(), CliError> {
    let sources = load_sources(&a.inputs)?;
    let c = build(&sources, &a.baseline).map_err(baseline_error)?;
    if let Some(path) = &a.export_markdown {
        write_atomic(path, |w| markdown::write_comparison(&c, w))
            .with_context(|| format!("cannot write '{}'", path.display()))?;
    }
    super::to_stdout(|out| write_terminal(&c, out))
}
