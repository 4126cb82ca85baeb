//! `cachesim mrc`: the LRU miss-ratio curve of a workload in one pass
//! (exact by stack distances, or sampled with SHARDS), optionally checked
//! against real LRU replays (`--compare`). Prints a table (or CSV/JSON) and
//! saves CSV atomically under `results/`, like `run`.

use super::{inputs, usage, CliError};
use crate::cli::values::MrcCapacity;
use crate::cli::{MrcArgs, OutputFormat};
use crate::files::Destination;
use crate::mrc::confidence::Verdict;
use crate::mrc::{self, Method, MrcRow};
use crate::policy::StrategySpec;
use crate::report;
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::runner::{run_one, Prepared, RunConfig, RunError, WorkloadInput};
use anyhow::Context;
use rayon::prelude::*;
use std::io::Write;
use std::path::Path;

/// Points of the default grid: log-spaced from 1 to the working set.
pub const DEFAULT_POINTS: usize = 64;

/// Which capacities to report.
#[derive(Debug, Clone, PartialEq)]
pub enum Grid {
    /// `DEFAULT_POINTS` log-spaced sizes from 1 to the working set.
    Default,
    /// Every size from 1 to the working set.
    All,
    /// As listed.
    List(Vec<Capacity>),
}

/// The grid `--capacity` asks for; byte capacities have no place in a
/// curve counted in objects.
fn grid(a: &MrcArgs) -> Result<Grid, CliError> {
    let list = match &a.capacity {
        None => return Ok(Grid::Default),
        Some(MrcCapacity::All) => return Ok(Grid::All),
        Some(MrcCapacity::List(l)) => l,
    };
    let caps = list.expand(a.capacity_scale);
    if caps.iter().any(|c| c.kind() == CapacityKind::Bytes) {
        return Err(usage(
            "--capacity",
            format!("'{}': miss-ratio curves are in objects; use counts (1000, 10k), percentages (5%) or ranges of them", list.text()),
        ));
    }
    Ok(Grid::List(caps))
}

/// The (capacity in objects, as written) points of `grid` for a workload.
pub fn resolve_grid(grid: &Grid, distinct: u64) -> Vec<(u64, String)> {
    let distinct = distinct.max(1);
    match grid {
        Grid::All => (1..=distinct).map(|c| (c, c.to_string())).collect(),
        Grid::Default => {
            let mut v: Vec<(u64, String)> = Vec::new();
            for i in 0..DEFAULT_POINTS {
                let f = i as f64 / (DEFAULT_POINTS - 1) as f64;
                let c = ((distinct as f64).powf(f).round() as u64).clamp(1, distinct);
                if v.last().map(|l| l.0) != Some(c) {
                    v.push((c, c.to_string()));
                }
            }
            v
        }
        Grid::List(caps) => caps
            .iter()
            .map(|c| (c.resolve(distinct), c.label()))
            .collect(),
    }
}

/// The rows for one prepared workload. A sampled curve that rests on too
/// few sampled objects prints a warning on stderr (once per curve), one
/// that rests on too few keys is refused (`mrc::confidence`), before any
/// `--compare` replay.
pub fn curve_rows(
    w: &Prepared,
    seed: u64,
    method: Method,
    grid: &Grid,
    compare: bool,
    threads: Option<usize>,
    quiet: bool,
) -> Result<Vec<MrcRow>, CliError> {
    let pb = crate::progress::bar(w.requests, quiet);
    let curve = mrc::compute(w, method, &pb).map_err(super::run_error)?;
    pb.finish_and_clear();
    let points = resolve_grid(grid, w.distinct);
    let caps: Vec<u64> = points.iter().map(|p| p.0).collect();
    match mrc::confidence::judge(&curve, &caps, w.distinct, &w.label) {
        Verdict::Fine => {}
        Verdict::Warn(msg) => eprintln!("warning: {msg}"),
        Verdict::Refuse { option, msg } => return Err(usage(option, msg)),
    }
    let lru: Vec<Option<f64>> = if compare {
        let spec = StrategySpec::parse("lru").map_err(|e| super::run_error(e.into()))?;
        let pb = crate::progress::bar(w.requests * points.len() as u64, quiet);
        let one = |&(c, _): &(u64, String)| -> Result<Option<f64>, RunError> {
            let cfg = RunConfig {
                strategy: spec.clone(),
                capacity: Capacity::Count(c),
                seed,
                ttl: None,
                latency: None,
                fresh: Default::default(),
                fleet: None,
                l1_capacity: None,
                engines: Default::default(),
            };
            Ok(Some(run_one(w, &cfg, &pb)?.0.miss_ratio))
        };
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(t) = threads {
            b = b.num_threads(t);
        }
        let pool = b
            .build()
            .map_err(|e| RunError::Workload(format!("cannot start threads: {e}")))
            .map_err(super::run_error)?;
        let r = pool
            .install(|| points.par_iter().map(one).collect::<Result<Vec<_>, _>>())
            .map_err(super::run_error)?;
        pb.finish_and_clear();
        r
    } else {
        vec![None; points.len()]
    };
    Ok(points
        .into_iter()
        .zip(lru)
        .map(|((c, spec), lru)| {
            let hit = curve.hit_ratio(c);
            let miss = 1.0 - hit;
            MrcRow {
                capacity: c,
                hit_ratio: hit,
                miss_ratio: miss,
                method: curve.method.to_string(),
                sample_rate: curve.sample_rate,
                workload: w.label.clone(),
                seed,
                capacity_spec: spec,
                requests: w.requests,
                distinct_keys: w.distinct,
                lru_miss_ratio: lru,
                abs_error: lru.map(|l| (miss - l).abs()),
                sampled_keys: curve.sampled_keys,
            }
        })
        .collect())
}

fn write_csv(rows: &[MrcRow], out: &mut dyn Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    if rows.is_empty() {
        w.write_record(mrc::COLUMNS)?;
    }
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()
}

fn write_table(rows: &[MrcRow], out: &mut dyn Write) -> std::io::Result<()> {
    let compare = rows.iter().any(|r| r.lru_miss_ratio.is_some());
    let mut header = vec!["workload", "method", "capacity", "hit ratio", "miss ratio"];
    if compare {
        header.extend(["lru miss ratio", "abs error"]);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let cap = if r.capacity_spec.ends_with('%') {
                format!("{} ({})", r.capacity, r.capacity_spec)
            } else {
                r.capacity.to_string()
            };
            let method = if r.sample_rate < 1.0 {
                format!("{} R={}", r.method, r.sample_rate)
            } else {
                r.method.clone()
            };
            let mut v = vec![
                r.workload.clone(),
                method,
                cap,
                format!("{:.2}%", r.hit_ratio * 100.0),
                format!("{:.2}%", r.miss_ratio * 100.0),
            ];
            if compare {
                v.push(
                    r.lru_miss_ratio
                        .map(|x| format!("{:.2}%", x * 100.0))
                        .unwrap_or_default(),
                );
                v.push(r.abs_error.map(|x| format!("{x:.4}")).unwrap_or_default());
            }
            v
        })
        .collect();
    let mut width: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &cells {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if i < 2 {
                    format!("{c:<w$}", w = width[i])
                } else {
                    format!("{c:>w$}", w = width[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    };
    let h: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    writeln!(out, "{}", line(&h))?;
    writeln!(
        out,
        "{}",
        width
            .iter()
            .map(|w| "-".repeat(*w))
            .collect::<Vec<_>>()
            .join("  ")
    )?;
    for row in &cells {
        writeln!(out, "{}", line(row))?;
    }
    Ok(())
}

/// Runs `cachesim mrc`: computes the curve of each workload and seed,
/// prints it and saves it as CSV (unless `--no-save`).
pub fn mrc(a: MrcArgs) -> Result<(), CliError> {
    let workloads = inputs::workloads(&a.input)?;
    let seeds = inputs::seeds(&a.input);
    let threads = a.threads.map(|asked| {
        let used = asked.min(crate::sim::max_threads());
        let why = format!("at most {} per core", crate::sim::THREADS_PER_CORE);
        inputs::note_threads(asked, used, &why, a.quiet);
        used
    });
    let grid = grid(&a)?;
    let method = match (a.sample, a.sample_size) {
        (Some(r), _) => Method::FixedRate(r, a.sample_adj),
        (None, Some(n)) => Method::FixedSize(n),
        (None, None) => Method::Exact,
    };
    let destination = if a.no_save {
        None
    } else {
        Some(match &a.out {
            Some(p) => Destination::Given(p.clone()),
            None => Destination::fresh(Path::new("results"), "mrc", &report::utc_stamp_now()),
        })
    };
    // Before the curves are computed, not after.
    if let Some(dest) = &destination {
        dest.check().map_err(|e| usage("--out", e))?;
    }
    let mut rows = Vec::new();
    for w in &workloads {
        // A trace's curve does not depend on the seed: computed once.
        let seeds_here: &[u64] = match w {
            WorkloadInput::Trace { .. } => &seeds[..1],
            WorkloadInput::Preset { .. } => &seeds,
        };
        for &seed in seeds_here {
            let prepared = w
                .prepare(seed, if a.compare { 2 } else { 1 })
                .map_err(super::run_error)?;
            rows.extend(curve_rows(
                &prepared, seed, method, &grid, a.compare, threads, a.quiet,
            )?);
        }
    }
    let out_path = match &destination {
        Some(dest) => Some(
            dest.write(|w| write_csv(&rows, w))
                .with_context(|| format!("cannot write results to '{}'", dest.display()))?,
        ),
        None => None,
    };
    super::to_stdout(|out| match a.format {
        OutputFormat::Table => write_table(&rows, out),
        OutputFormat::Csv => write_csv(&rows, out),
        OutputFormat::Json => serde_json::to_writer_pretty(&mut *out, &rows)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
    })?;
    if let (Some(path), false) = (&out_path, a.quiet) {
        eprintln!("saved {} point(s) to {}", rows.len(), path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids() {
        let g = resolve_grid(&Grid::Default, 1000);
        assert_eq!(g.first().unwrap().0, 1);
        assert_eq!(g.last().unwrap().0, 1000);
        assert!(g.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(resolve_grid(&Grid::All, 5).len(), 5);
        let l = resolve_grid(
            &Grid::List(vec![Capacity::Percent(10.0), Capacity::Count(7)]),
            1000,
        );
        assert_eq!(l, vec![(100, "10%".to_string()), (7, "7".to_string())]);
    }
}
