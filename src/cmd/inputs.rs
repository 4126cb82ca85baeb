//! Parsing of the options shared by `run` and `mrc` (`WorkloadArgs`):
//! workloads, traces, seeds and thread counts, so both commands accept the
//! same input and report bad values with the same messages.

use super::{usage, CliError};
use crate::cli::WorkloadArgs;
use crate::sim::runner::WorkloadInput;
use crate::units::parse_count;
use crate::workload::preset::DEFAULT_RATE;
use crate::workload::trace::TraceFormat;
use crate::workload::Preset;

/// Most seeds one command may ask for.
pub const MAX_SEEDS: usize = 10_000;

/// The workloads named by `a`, in order: the `--workload` presets as
/// written, then the `--trace` files as written. With neither, `zipf`.
pub fn workloads(a: &WorkloadArgs) -> Result<Vec<WorkloadInput>, CliError> {
    let rate = match &a.rate {
        Some(r) => {
            let v: f64 = r.trim().parse().map_err(|_| {
                usage(
                    "--rate",
                    format!("'{r}' is not a number; expected requests per second > 0, e.g. 1000"),
                )
            })?;
            if !(v.is_finite() && v > 0.0) {
                return Err(usage(
                    "--rate",
                    format!("'{r}' must be a positive number of requests per second"),
                ));
            }
            Some(v)
        }
        None => None,
    };
    let format = match &a.trace_format {
        Some(f) => {
            if a.trace.is_empty() {
                return Err(usage("--trace-format", "only applies with --trace FILE"));
            }
            Some(TraceFormat::parse(f).map_err(|e| usage("--trace-format", e))?)
        }
        None => None,
    };
    let mut names: Vec<&str> = a
        .workload
        .iter()
        .flat_map(|w| w.split(','))
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .collect();
    if names.is_empty() && !a.workload.is_empty() {
        return Err(usage(
            "--workload",
            "no workload given; valid workloads: see `cachesim list` (or a .toml file)",
        ));
    }
    if names.is_empty() && a.trace.is_empty() {
        names.push("zipf");
    }
    let mut presets = Vec::new();
    for n in &names {
        presets.push(Preset::load(n).map_err(|e| usage("--workload", e))?);
    }
    let skewed = |g: &str| ["zipf", "zipf-shift", "zipf-scan", "ycsb"].contains(&g);
    if a.alpha.is_some() && !presets.iter().any(|p| skewed(&p.generator)) {
        let g = presets
            .first()
            .map(|p| p.generator.clone())
            .unwrap_or_else(|| "a trace".into());
        return Err(usage(
            "--alpha",
            format!("only applies to zipf workloads, not '{g}'"),
        ));
    }
    let mut out = Vec::new();
    for mut p in presets {
        let mut label = p.name.clone();
        if let Some(r) = &a.requests {
            p.requests = parse_count(r).map_err(|e| usage("--requests", e))?;
            label += &format!(":requests={r}");
        }
        if let Some(k) = &a.keys {
            p.keys = parse_count(k).map_err(|e| usage("--keys", e))?;
            label += &format!(":keys={k}");
        }
        if let (Some(al), true) = (&a.alpha, skewed(&p.generator)) {
            let v: f64 = al.trim().parse().map_err(|_| {
                usage(
                    "--alpha",
                    format!("'{al}' is not a number; expected a skew from 0 to 10, e.g. 0.99"),
                )
            })?;
            p.alpha = Some(v);
            label += &format!(":alpha={al}");
        }
        if let Some(r) = rate {
            p.rate = Some(r);
            label += &format!(":rate={r}");
        }
        p.validate().map_err(|e| {
            let opt = if e.starts_with("alpha") {
                "--alpha"
            } else if e.starts_with("keys") {
                "--keys"
            } else if e.starts_with("requests") {
                "--requests"
            } else {
                "--workload"
            };
            usage(opt, e)
        })?;
        out.push(WorkloadInput::Preset { preset: p, label });
    }
    for path in &a.trace {
        out.push(WorkloadInput::Trace {
            path: path.clone(),
            format,
            rate: rate.unwrap_or(DEFAULT_RATE),
        });
    }
    Ok(out)
}

/// The seeds: `--seeds` (ranges `1..5` inclusive and single values, comma
/// separated, in the order written, duplicates dropped) or `--seed`.
pub fn seeds(a: &WorkloadArgs) -> Result<Vec<u64>, CliError> {
    match &a.seeds {
        None => Ok(vec![a.seed]),
        Some(s) => parse_seeds(s).map_err(|e| usage("--seeds", e)),
    }
}

/// Parses `1..5`, `1,2,7` or `1..3,10`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let accepted = "expected a range such as 1..5 (inclusive) or a list such as 1,2,7";
    let num = |t: &str| -> Result<u64, String> {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("'{}' is not a whole number; {accepted}", t.trim()))
    };
    let mut out: Vec<u64> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once("..") {
            Some((a, b)) => (num(a)?, num(b.strip_prefix('=').unwrap_or(b))?),
            None => {
                let v = num(part)?;
                (v, v)
            }
        };
        if hi < lo {
            return Err(format!(
                "range '{part}' is empty: END must be at least START; {accepted}"
            ));
        }
        if hi - lo >= MAX_SEEDS as u64 || out.len() + (hi - lo) as usize >= MAX_SEEDS {
            return Err(format!("'{s}' asks for more than {MAX_SEEDS} seeds"));
        }
        for v in lo..=hi {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no seed given; {accepted}"));
    }
    Ok(out)
}

/// `--threads`: a whole number from 1, or `None` for all cores.
pub fn threads(t: &Option<String>) -> Result<Option<usize>, CliError> {
    match t {
        None => Ok(None),
        Some(s) => match s.trim().parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(usage(
                "--threads",
                format!("'{s}' is not a whole number of threads from 1 up, e.g. 2"),
            )),
        },
    }
}

/// Says on stderr (unless `quiet`) that `--threads asked` was lowered to
/// `used`, and `why`, so a user who asked for 8000 threads knows why fewer
/// ran.
pub fn note_threads(asked: usize, used: usize, why: &str, quiet: bool) {
    if used < asked && !quiet {
        eprintln!("note: --threads {asked} lowered to {used} ({why})");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_ranges_and_lists() {
        assert_eq!(parse_seeds("1..5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("7,2,7").unwrap(), vec![7, 2]);
        assert_eq!(parse_seeds("1..3,10").unwrap(), vec![1, 2, 3, 10]);
        assert!(parse_seeds("5..1").unwrap_err().contains("empty"));
        assert!(parse_seeds("a..3")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse_seeds("0..100000").unwrap_err().contains("more than"));
        assert!(parse_seeds(",").unwrap_err().contains("no seed"));
    }
}
