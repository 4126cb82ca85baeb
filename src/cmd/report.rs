//! `cachesim report`: one self-contained HTML page from results CSVs and
//! figure cards (charts, comparison, commands to reproduce), written
//! atomically.
//!
//! Each input is one section, in the order given: a figure card
//! (`NAME-KIND.figure.json`, written by `cachesim plot`) is that one figure,
//! redrawn from its inputs with its options; a results CSV is every chart
//! kind its rows support; a timeline CSV is its timeline.

use super::compare::{baseline_error, load_sources};
use super::plot::{load, plot_error};
use super::CliError;
use crate::cli::ReportArgs;
use crate::files::write_atomic;
use crate::plot::card::{is_card, FigureCard};
use crate::plot::{self, Dataset, PlotOptions};
use crate::report::compare::compare;
use crate::report::html::{render, Figure, ReportInput};
use anyhow::Context;
use std::path::PathBuf;

fn runtime(e: String) -> CliError {
    CliError::Runtime(anyhow::anyhow!(e))
}

/// The figures of the inputs, in order, every CSV they read (each once),
/// and why a chart a CSV's rows nearly support was not drawn.
type Figures = (Vec<Figure>, Vec<PathBuf>, Vec<String>);

fn figures(inputs: &[PathBuf]) -> Result<Figures, CliError> {
    let mut figures = Vec::new();
    let mut skipped = Vec::new();
    let mut csvs: Vec<PathBuf> = Vec::new();
    let add_csv = |p: &PathBuf, csvs: &mut Vec<PathBuf>| {
        if !csvs.contains(p) {
            csvs.push(p.clone());
        }
    };
    for p in inputs {
        if is_card(p) {
            let card = FigureCard::read(p).map_err(runtime)?;
            let kind = plot::kind(&card.kind)
                .map_err(|e| runtime(format!("figure card '{}': {e}", p.display())))?;
            let paths = card.input_paths(p);
            let mut data = load(&paths)?;
            data.retain(&card.strategy, &card.workload)
                .map_err(|e| runtime(format!("figure card '{}': {e}", p.display())))?;
            let opts = card.options();
            kind.check(&data, &opts)
                .map_err(|e| runtime(format!("figure card '{}': {e}", p.display())))?;
            for c in &paths {
                add_csv(c, &mut csvs);
            }
            figures.push(Figure {
                kind,
                data,
                opts,
                plot_command: Some(card.command.clone()),
                source: paths
                    .iter()
                    .map(|c| c.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        } else {
            add_csv(p, &mut csvs);
            let data = load(std::slice::from_ref(p))?;
            let opts = PlotOptions::default();
            for kind in plot::KINDS {
                match kind.check(&data, &opts) {
                    Ok(()) => figures.push(Figure {
                        kind: *kind,
                        data: data.clone(),
                        opts: opts.clone(),
                        plot_command: None,
                        source: p.display().to_string(),
                    }),
                    // The rows are of the kind's sort but lack something
                    // (a curve needs two capacities): say so. A kind whose
                    // columns the file does not have at all is not news.
                    Err(e @ plot::PlotError::Unsupported { .. }) => {
                        skipped.push(format!("{}: {e}", p.display()))
                    }
                    Err(_) => {}
                }
            }
        }
    }
    Ok((figures, csvs, skipped))
}

/// Runs `cachesim report`: writes one self-contained HTML page from the
/// results CSVs and figure cards.
pub fn report(a: ReportArgs) -> Result<(), CliError> {
    let (figures, csvs, skipped) = figures(&a.inputs)?;
    // Timeline CSVs feed the `timeline` chart only, not the comparison.
    let mut results = Vec::new();
    for p in &csvs {
        if !crate::plot::is_timeline(p).map_err(runtime)? {
            results.push(p.clone());
        }
    }
    // Every run of every figure, for the tables: two figures may draw the
    // same runs (the skew and the policy figures share lru on Zipf 1.0), so
    // the rows read twice are dropped without a warning.
    let data = Dataset::load(&results).map_err(runtime)?;
    // Timeline figures alone (a `timeline` or `stampede` card) have no
    // results to compare.
    let sources = if results.is_empty() {
        Vec::new()
    } else {
        load_sources(&results)?
    };
    let mut notes = Vec::new();
    let comparison = if results.is_empty() {
        notes.push("The inputs are timelines only: no results rows to compare.".to_string());
        None
    } else {
        match &a.baseline {
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
        }
    };
    let inputs: Vec<String> = a.inputs.iter().map(|p| p.display().to_string()).collect();
    let html = render(&ReportInput {
        title: &a.title,
        inputs: &inputs,
        data: &data,
        figures: &figures,
        skipped: &skipped,
        comparison: comparison.as_ref(),
        notes: &notes,
    })
    .map_err(plot_error)?;
    write_atomic(&a.out, |w| w.write_all(html.as_bytes()))
        .with_context(|| format!("cannot write '{}'", a.out.display()))?;
    super::to_stdout(|out| writeln!(out, "{}", a.out.display()))
}
