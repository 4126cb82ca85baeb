//! `cachesim mrc`: the LRU miss-ratio curve of a workload in one pass
//! (exact by stack distances, or sampled with SHARDS), and the curves of
//! other policies (`--strategy`) by replays at every capacity: full, or
//! mini-simulations of a key-sampled workload (`--sample`, see
//! `mrc::minisim`). Optionally checked against full replays (`--compare`).
//! Prints a table (or CSV/JSON) and saves CSV atomically under `results/`,
//! like `run`.

use super::{inputs, usage, CliError};
use crate::cli::values::MrcCapacity;
use crate::cli::{MrcArgs, OutputFormat};
use crate::files::Destination;
use crate::mrc::confidence::Verdict;
use crate::mrc::minisim::{scaled_capacity, Sample};
use crate::mrc::{self, Method, MrcRow};
use crate::policy::{self, StrategySpec};
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
    /// Byte capacities, as listed: the LRU curve in bytes.
    Bytes(Vec<Capacity>),
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
    let bytes = caps
        .iter()
        .filter(|c| c.kind() == CapacityKind::Bytes)
        .count();
    if bytes == caps.len() {
        return Ok(Grid::Bytes(caps));
    }
    if bytes > 0 {
        return Err(usage(
            "--capacity",
            format!("'{}' mixes byte budgets with counts: a curve is in objects (1000, 5%) or in bytes (1MiB..1GiB:8), not both", list.text()),
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
        Grid::List(caps) | Grid::Bytes(caps) => caps
            .iter()
            .map(|c| (c.resolve(distinct), c.label()))
            .collect(),
    }
}

/// The rows of LRU's curve for one prepared workload at the sizes of
/// `grid`: in objects (exact or SHARDS), or in bytes for byte capacities
/// (exact, or SHARDS in bytes with `--sample`). A sampled object curve that
/// rests on too few sampled objects prints a warning on stderr (once per
/// curve), one that rests on too few keys is refused (`mrc::confidence`),
/// before any `--compare` replay of `lru` at each size.
pub fn curve_rows(
    w: &Prepared,
    seed: u64,
    method: Method,
    grid: &Grid,
    compare: bool,
    threads: Option<usize>,
    quiet: bool,
) -> Result<Vec<MrcRow>, CliError> {
    let points = resolve_grid(grid, w.distinct);
    let caps: Vec<u64> = points.iter().map(|p| p.0).collect();
    let bytes = matches!(grid, Grid::Bytes(_));
    let pb = crate::progress::bar(w.requests, quiet);
    let curve = if bytes {
        let rate = match method {
            Method::Exact => None,
            Method::FixedRate(r, _) => Some(r),
            Method::FixedSize(_) => {
                return Err(usage(
                    "--sample-size",
                    "curves in bytes sample at a fixed rate: use --sample R",
                ))
            }
        };
        mrc::compute_bytes(w, &caps, rate, &pb)
    } else {
        mrc::compute(w, method, &pb)
    }
    .map_err(super::run_error)?;
    pb.finish_and_clear();
    if !bytes {
        match mrc::confidence::judge(&curve, &caps, w.distinct, &w.label) {
            Verdict::Fine => {}
            Verdict::Warn(msg) => crate::cmd::say!("warning: {msg}"),
            Verdict::Refuse { option, msg } => return Err(usage(option, msg)),
        }
    }
    let lru: Vec<Option<f64>> = if compare {
        let spec = StrategySpec::parse("lru").map_err(|e| super::run_error(e.into()))?;
        let capacity = |c| {
            if bytes {
                Capacity::Bytes(c)
            } else {
                Capacity::Count(c)
            }
        };
        let pb = crate::progress::bar(w.requests * points.len() as u64, quiet);
        let r = pool(threads)?
            .install(|| {
                points
                    .par_iter()
                    .map(|&(c, _)| full_run(w, &spec, capacity(c), seed, &pb).map(Some))
                    .collect::<Result<Vec<_>, _>>()
            })
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
                strategy: "lru".to_string(),
                scaled_capacity: None,
                full_miss_ratio: lru,
                capacity_unit: if bytes { "bytes" } else { "objects" }.into(),
            }
        })
        .collect())
}

/// A thread pool of `threads` threads (default: all cores).
fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, CliError> {
    let mut b = rayon::ThreadPoolBuilder::new();
    if let Some(t) = threads {
        b = b.num_threads(t);
    }
    b.build()
        .map_err(|e| RunError::Workload(format!("cannot start threads: {e}")))
        .map_err(super::run_error)
}

/// The miss ratio of a full replay of `spec` at `c` objects (the runner's,
/// as `run` does it).
fn full_miss_ratio(
    w: &Prepared,
    spec: &StrategySpec,
    c: u64,
    seed: u64,
    pb: &indicatif::ProgressBar,
) -> Result<f64, RunError> {
    full_run(w, spec, Capacity::Count(c), seed, pb)
}

/// The miss ratio of a full replay of `spec` at `capacity`.
fn full_run(
    w: &Prepared,
    spec: &StrategySpec,
    capacity: Capacity,
    seed: u64,
    pb: &indicatif::ProgressBar,
) -> Result<f64, RunError> {
    let cfg = RunConfig {
        strategy: spec.clone(),
        capacity,
        seed,
        ttl: None,
        latency: None,
        fresh: Default::default(),
        fleet: None,
        l1_capacity: None,
        engines: Default::default(),
    };
    Ok(run_one(w, &cfg, pb)?.0.miss_ratio)
}

/// A policy of `--strategy`: its spec and canonical form.
#[derive(Debug, Clone)]
pub struct Policy {
    /// As parsed.
    pub spec: StrategySpec,
    /// Every parameter spelled out (the `strategy` column).
    pub canonical: String,
}

/// The policies of `--strategy`, checked: in-process policies that count
/// objects (a curve is in objects; backends and fleets have none).
fn policies(a: &MrcArgs) -> Result<Vec<Policy>, CliError> {
    let mut out = Vec::new();
    for s in &a.strategy {
        for spec in StrategySpec::parse_list(s).map_err(|e| usage("--strategy", e))? {
            if !policy::is_policy(&spec.name) {
                return Err(usage(
                    "--strategy",
                    format!(
                        "'{}' is not an in-process policy; miss-ratio curves replay one of: {}",
                        spec.name,
                        curve_policies()
                    ),
                ));
            }
            if policy::needs_byte_capacity(&spec.name) {
                return Err(usage(
                    "--strategy",
                    format!(
                        "'{}' models memory in bytes, and miss-ratio curves are in objects; use one of: {}",
                        spec.name,
                        curve_policies()
                    ),
                ));
            }
            let canonical = policy::validate(&spec).map_err(super::spec_usage)?;
            out.push(Policy { spec, canonical });
        }
    }
    if out.is_empty() {
        return Err(usage(
            "--strategy",
            format!("no strategy given; use one of: {}", curve_policies()),
        ));
    }
    Ok(out)
}

/// The policies `mrc` can replay, for error messages.
fn curve_policies() -> String {
    policy::STRATEGIES
        .iter()
        .map(|s| s.name)
        .filter(|n| !policy::needs_byte_capacity(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How [`simulated_rows`] replays.
#[derive(Debug, Clone, Copy)]
pub struct Replays<'a> {
    /// The workload's seed (and the policies').
    pub seed: u64,
    /// `--sample`: mini-simulations at this rate; `None`: full replays.
    pub rate: Option<f64>,
    /// `--sample-adj`: see [`Sample::miss_ratio`].
    pub adj: bool,
    /// The capacities.
    pub grid: &'a Grid,
    /// `--compare`: full replays next to mini-simulations.
    pub compare: bool,
    /// `-j`.
    pub threads: Option<usize>,
    /// No progress bar.
    pub quiet: bool,
}

/// The rows of policies computed by replays at every capacity of `o.grid`:
/// mini-simulations of a sample at `o.rate`, or full replays without one,
/// in parallel over (policy, capacity); with `o.compare`, full replays next
/// to mini-simulations. Rows are grouped by policy, in `policies`' order.
pub fn simulated_rows(
    w: &Prepared,
    policies: &[&Policy],
    o: Replays,
) -> Result<Vec<MrcRow>, CliError> {
    let Replays {
        seed,
        rate,
        adj,
        grid,
        compare,
        threads,
        quiet,
    } = o;
    let points = resolve_grid(grid, w.distinct);
    let sample = match rate {
        Some(r) => {
            let pb = crate::progress::bar(w.requests, quiet);
            let s = Sample::of_data(&w.data, r, &pb).map_err(super::run_error)?;
            pb.finish_and_clear();
            let caps: Vec<u64> = points.iter().map(|p| p.0).collect();
            match mrc::confidence::judge_minisim(s.rate, s.keys, &caps, w.distinct, &w.label) {
                Verdict::Fine => {}
                Verdict::Warn(msg) => crate::cmd::say!("warning: {msg}"),
                Verdict::Refuse { option, msg } => return Err(usage(option, msg)),
            }
            let future = policies.iter().any(|p| policy::needs_future(&p.spec.name));
            Some(if future { s.with_future() } else { s })
        }
        None => None,
    };
    let jobs: Vec<(&Policy, &(u64, String))> = policies
        .iter()
        .flat_map(|&p| points.iter().map(move |pt| (p, pt)))
        .collect();
    let full_runs = sample.is_none() || compare;
    let per_job = sample.as_ref().map_or(0, |s| s.batch.len() as u64)
        + if full_runs { w.requests } else { 0 };
    let pb = crate::progress::bar(per_job * jobs.len() as u64, quiet);
    let one = |&(p, &(c, _)): &(&Policy, &(u64, String))| -> Result<(f64, Option<f64>), RunError> {
        let Some(s) = &sample else {
            let miss = full_miss_ratio(w, &p.spec, c, seed, &pb)?;
            return Ok((miss, compare.then_some(miss)));
        };
        let n = s.simulate(&p.spec, c, seed)?;
        pb.inc(s.batch.len() as u64);
        let miss = s.miss_ratio(&n, adj);
        let full = match compare {
            true => Some(full_miss_ratio(w, &p.spec, c, seed, &pb)?),
            false => None,
        };
        Ok((miss, full))
    };
    let results = pool(threads)?
        .install(|| jobs.par_iter().map(one).collect::<Result<Vec<_>, _>>())
        .map_err(super::run_error)?;
    pb.finish_and_clear();
    Ok(jobs
        .iter()
        .zip(results)
        .map(|(&(p, (c, spec)), (miss, full))| MrcRow {
            capacity: *c,
            hit_ratio: 1.0 - miss,
            miss_ratio: miss,
            method: match (&sample, adj) {
                (None, _) => "simulation",
                (Some(_), true) => "minisim",
                (Some(_), false) => "minisim-noadj",
            }
            .to_string(),
            sample_rate: sample.as_ref().map_or(1.0, |s| s.rate),
            workload: w.label.clone(),
            seed,
            capacity_spec: spec.clone(),
            requests: w.requests,
            distinct_keys: w.distinct,
            lru_miss_ratio: full.filter(|_| p.spec.name == "lru"),
            abs_error: full.map(|f| (miss - f).abs()),
            sampled_keys: sample.as_ref().map_or(w.distinct, |s| s.keys),
            strategy: p.canonical.clone(),
            scaled_capacity: sample.as_ref().map(|s| scaled_capacity(*c, s.rate)),
            full_miss_ratio: full,
            capacity_unit: "objects".into(),
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
    let compare = rows.iter().any(|r| r.full_miss_ratio.is_some());
    // LRU alone keeps the table it always had.
    let policies = rows.iter().any(|r| r.strategy != "lru");
    let scaled = rows.iter().any(|r| r.scaled_capacity.is_some());
    let mut header = vec!["workload"];
    if policies {
        header.push("strategy");
    }
    header.extend(["method", "capacity"]);
    if scaled {
        header.push("scaled");
    }
    header.extend(["hit ratio", "miss ratio"]);
    if compare {
        header.push(if policies {
            "full miss ratio"
        } else {
            "lru miss ratio"
        });
        header.push("abs error");
    }
    let left = if policies { 3 } else { 2 };
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
            let mut v = vec![r.workload.clone()];
            if policies {
                v.push(r.strategy.clone());
            }
            v.extend([method, cap]);
            if scaled {
                v.push(r.scaled_capacity.map(|c| c.to_string()).unwrap_or_default());
            }
            v.extend([
                format!("{:.2}%", r.hit_ratio * 100.0),
                format!("{:.2}%", r.miss_ratio * 100.0),
            ]);
            if compare {
                v.push(
                    r.full_miss_ratio
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
                if i < left {
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
    let policies = policies(&a)?;
    // `lru` is the one-pass curve unless --minisim asks for replays.
    let by_curve = |p: &Policy| p.spec.name == "lru" && !a.minisim;
    let simulated: Vec<&Policy> = policies.iter().filter(|p| !by_curve(p)).collect();
    if let (Grid::Bytes(_), Some(p)) = (&grid, simulated.first()) {
        return Err(usage(
            "--capacity",
            format!(
                "curves in bytes are LRU's (byte-weighted stack distances); '{}' runs by mini-simulation in objects: give counts or percentages, or use lru",
                p.canonical
            ),
        ));
    }
    if !simulated.is_empty() && a.sample_size.is_some() {
        return Err(usage(
            "--sample-size",
            "mini-simulations (--strategy other than lru, or --minisim) sample at a fixed rate: use --sample R",
        ));
    }
    // Full replays read the workload once per capacity: held in memory,
    // with next uses for an offline policy. Mini-simulations read it once.
    let full_runs = a.compare || (!simulated.is_empty() && a.sample.is_none());
    let future = full_runs && simulated.iter().any(|p| policy::needs_future(&p.spec.name));
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
                .prepare_for(seed, if full_runs { 2 } else { 1 }, future)
                .map_err(super::run_error)?;
            let mut sims = if simulated.is_empty() {
                Vec::new()
            } else {
                simulated_rows(
                    &prepared,
                    &simulated,
                    Replays {
                        seed,
                        rate: a.sample,
                        adj: a.sample_adj,
                        grid: &grid,
                        compare: a.compare,
                        threads,
                        quiet: a.quiet,
                    },
                )?
            };
            // In --strategy's order: the sampled rows come grouped by policy.
            let per_policy = sims.len() / simulated.len().max(1);
            for p in &policies {
                if by_curve(p) || matches!(grid, Grid::Bytes(_)) {
                    rows.extend(curve_rows(
                        &prepared, seed, method, &grid, a.compare, threads, a.quiet,
                    )?);
                } else {
                    rows.extend(sims.drain(..per_policy));
                }
            }
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
        crate::cmd::say!("saved {} point(s) to {}", rows.len(), path.display());
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
