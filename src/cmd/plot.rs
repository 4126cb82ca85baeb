//! `cachesim plot`: draw the charts the results support (or the one asked
//! for) as PNG and SVG, from CSV files, without rerunning anything.

use super::{usage, CliError};
use crate::cli::{PlotArgs, YAxis};
use crate::files::write_atomic;
use crate::plot::card::{self, FigureCard};
use crate::plot::{self, ChartKind, Dataset, PlotError, PlotOptions, YMetric};
use crate::report::reproduce::shell_word;
use anyhow::Context;
use std::io::Write;
use std::path::PathBuf;

/// Maps a plotting error to a usage error (bad option) or a runtime error.
pub fn plot_error(e: PlotError) -> CliError {
    match e {
        PlotError::Option { option, reason } => usage(option, reason),
        e @ PlotError::MissingColumns { .. } => usage("--kind", e.to_string()),
        other => CliError::Runtime(anyhow::Error::new(other)),
    }
}

/// Reads the inputs into one dataset, printing its warnings on stderr.
pub fn load(inputs: &[PathBuf]) -> Result<Dataset, CliError> {
    let data = Dataset::load(inputs).map_err(|e| CliError::Runtime(anyhow::anyhow!(e)))?;
    for w in &data.warnings {
        crate::cmd::say!("warning: {w}");
    }
    if data.rows.is_empty() && data.timeline.is_empty() {
        return Err(CliError::Runtime(anyhow::anyhow!(
            "no results in {}: nothing to draw",
            inputs
                .iter()
                .map(|p| format!("'{}'", p.display()))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    Ok(data)
}

/// Runs `cachesim plot`: draws every chart kind the data supports (or the
/// one asked for) as PNG and SVG.
pub fn plot(a: PlotArgs) -> Result<(), CliError> {
    let size = plot::parse_size(&a.size).map_err(plot_error)?;
    let kinds: Vec<&dyn ChartKind> = match &a.kind {
        Some(k) => vec![plot::kind(k).map_err(plot_error)?],
        None => plot::KINDS.to_vec(),
    };
    if let Some(n) = &a.name {
        if n.is_empty() || n.contains(['/', '\\']) {
            return Err(usage(
                "--name",
                format!("'{n}' must be a plain file name stem, without '/'"),
            ));
        }
    }
    let opts = PlotOptions {
        y: match a.y {
            YAxis::Hit => YMetric::Hit,
            YAxis::Miss => YMetric::Miss,
        },
        capacity: a.capacity.clone(),
        title: a.title.clone(),
        overlay: a.overlay,
        highlight: a.highlight.clone(),
    };
    if let Some(c) = &opts.capacity {
        crate::sim::Capacity::parse(c).map_err(|e| usage("--capacity", e))?;
    }
    let mut data = load(&a.inputs)?;
    data.retain(&a.strategy, &a.workload).map_err(plot_error)?;
    data.check_highlight(&opts.highlight).map_err(plot_error)?;

    // Which kinds the data supports; with --kind, not supporting it is an error.
    let mut todo = Vec::new();
    for k in kinds {
        match k.check(&data, &opts) {
            Ok(()) => todo.push(k),
            Err(e @ PlotError::Option { .. }) => return Err(plot_error(e)),
            Err(e) if a.kind.is_some() => return Err(plot_error(e)),
            Err(e) => {
                if !a.quiet {
                    crate::cmd::say!("skipped: {e}");
                }
            }
        }
    }
    if todo.is_empty() {
        return Err(CliError::Runtime(anyhow::anyhow!(
            "the results support none of the chart kinds ({})",
            plot::kind_names()
        )));
    }

    let dir = match &a.out {
        Some(d) => d.clone(),
        None => a.inputs[0].parent().map(PathBuf::from).unwrap_or_default(),
    };
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| plot::default_name(&a.inputs[0]));
    let mut out = super::stdout();
    // Render everything first, so a drawing error writes no file at all.
    let mut files = Vec::new();
    for k in todo {
        let svg = plot::render_svg(k, &data, &opts, size).map_err(plot_error)?;
        let png = plot::render_png(k, &data, &opts, size).map_err(plot_error)?;
        files.push((dir.join(format!("{name}-{}.png", k.name())), png));
        files.push((
            dir.join(format!("{name}-{}.svg", k.name())),
            svg.into_bytes(),
        ));
        let card = FigureCard::new(
            k.name(),
            &a.inputs,
            &a.strategy,
            &a.workload,
            &opts,
            &dir,
            plot_command(&a, k.name(), &dir, &name),
        );
        files.push((
            dir.join(format!("{name}-{}{}", k.name(), card::SUFFIX)),
            card.to_json().into_bytes(),
        ));
    }
    for (path, bytes) in &files {
        write_atomic(path, |w| w.write_all(bytes))
            .with_context(|| format!("cannot write '{}'", path.display()))?;
        if !a.quiet {
            writeln!(out, "{}", path.display()).ok();
        }
    }
    Ok(())
}

/// The `cachesim plot` command that draws one kind of `a` again.
fn plot_command(a: &PlotArgs, kind: &str, dir: &std::path::Path, name: &str) -> String {
    let mut c = vec!["cachesim".to_string(), "plot".into()];
    c.extend(
        a.inputs
            .iter()
            .map(|p| shell_word(&p.display().to_string())),
    );
    c.extend(["--kind".into(), kind.to_string()]);
    let list = |opt: &str, v: &[String], c: &mut Vec<String>| {
        if !v.is_empty() {
            c.push(opt.to_string());
            c.push(shell_word(&v.join(",")));
        }
    };
    list("--strategy", &a.strategy, &mut c);
    list("--workload", &a.workload, &mut c);
    if let Some(cap) = &a.capacity {
        c.extend(["--capacity".into(), shell_word(cap)]);
    }
    if a.y == YAxis::Miss {
        c.extend(["--y".into(), "miss".into()]);
    }
    if a.overlay {
        c.push("--overlay".into());
    }
    if let Some(t) = &a.title {
        c.extend(["--title".into(), shell_word(t)]);
    }
    if a.size != "1920x1080" {
        c.extend(["--size".into(), shell_word(&a.size)]);
    }
    c.extend([
        "--out".into(),
        shell_word(&dir.display().to_string()),
        "--name".into(),
        shell_word(name),
    ]);
    c.join(" ")
}
