//! The options shared by `run` and `mrc` (`WorkloadArgs`) turned into
//! workloads and seeds, with the checks that involve several options, so
//! both commands accept the same input and report bad values with the same
//! messages (single values are parsed by `cli::values`).

use super::{usage, CliError};
use crate::cli::WorkloadArgs;
use crate::sim::runner::WorkloadInput;
use crate::workload::preset::DEFAULT_RATE;
use crate::workload::trace::{datasets, TraceSpec};
use crate::workload::Preset;

/// The workloads named by `a`, in order: the `--workload` presets as
/// written, then the `--trace` files as written. With neither, `zipf`.
pub fn workloads(a: &WorkloadArgs) -> Result<Vec<WorkloadInput>, CliError> {
    let rate = a.rate;
    if a.trace_format.is_some() && a.trace.is_empty() {
        return Err(usage("--trace-format", "only applies with --trace FILE"));
    }
    let format = &page_size(a.trace_format.clone(), &a.page_size)?;
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
    if presets.is_empty() {
        // Only traces: their length and key space are their own.
        for (given, opt) in [
            (a.requests.is_some(), "--requests"),
            (a.keys.is_some(), "--keys"),
        ] {
            if given {
                return Err(usage(
                    opt,
                    "only applies to synthetic workloads (--workload); a --trace is replayed as it is (shorten it with `head`, or use --warmup)",
                ));
            }
        }
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
            p.requests = r.value;
            label += &format!(":requests={}", r.text);
        }
        if let Some(k) = &a.keys {
            p.keys = k.value;
            label += &format!(":keys={}", k.text);
        }
        if let (Some(al), true) = (&a.alpha, skewed(&p.generator)) {
            p.alpha = Some(al.value);
            label += &format!(":alpha={}", al.text);
        }
        if let Some(r) = rate {
            p.rate = Some(r);
            label += &format!(":rate={}", crate::units::format_number(r));
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
        fits_in_memory(&p, a)?;
        out.push(WorkloadInput::Preset { preset: p, label });
    }
    for path in &a.trace {
        out.push(WorkloadInput::Trace {
            path: path.clone(),
            format: format.clone(),
            rate: rate.unwrap_or(DEFAULT_RATE),
        });
    }
    Ok(out)
}

/// `spec` with `--page-size` folded in as `:page=SIZE` (so the
/// `trace_format` column records it); refused without a block trace format.
pub fn page_size(
    spec: Option<TraceSpec>,
    page_size: &Option<String>,
) -> Result<Option<TraceSpec>, CliError> {
    let Some(size) = page_size else {
        return Ok(spec);
    };
    let Some(spec) = spec else {
        return Err(usage(
            "--page-size",
            "only applies to block traces, named with --trace-format (msr, alibaba-block, tencent-cbs, or csv with offset= and length= columns)",
        ));
    };
    datasets::with_page_size(&spec, size)
        .map(Some)
        .map_err(|e| usage("--page-size", e))
}

/// Bytes a synthetic workload holds while it runs, roughly: its key per
/// request (8 bytes; more for timestamps, operations and the future
/// index that offline strategies build) and the generator's tables per key.
const BYTES_PER_REQUEST: u64 = 16;
const BYTES_PER_KEY: u64 = 64;

/// Refuses a synthetic workload whose stream would not fit in the memory
/// this process may still take (it is generated whole, before the first
/// request): an error naming the option now, instead of an abort or the
/// OOM killer later (issue 16, item 2).
fn fits_in_memory(p: &Preset, a: &WorkloadArgs) -> Result<(), CliError> {
    let Some(free) = crate::memory::available() else {
        return Ok(());
    };
    // `zipf` and `uniform` beyond a length are drawn in pieces (nothing held
    // per request; a bitmap of the keys counts the distinct ones), and
    // neither keeps a table per key above 4M keys (rejection-inversion).
    let streamed = p.streams() && p.requests > crate::sim::runner::generate_in_pieces_above();
    let by_requests = if streamed {
        0
    } else {
        p.requests.saturating_mul(BYTES_PER_REQUEST)
    };
    let tableless = p.generator == "uniform"
        || (p.generator == "zipf" && p.keys > crate::workload::zipf::FLAT_ABOVE);
    let by_keys = match (tableless, streamed) {
        (true, true) => p.keys / 8,
        (true, false) => p.keys.min(p.requests).saturating_mul(BYTES_PER_KEY / 2),
        (false, _) => p.keys.saturating_mul(BYTES_PER_KEY),
    };
    let need = by_requests.saturating_add(by_keys);
    if need <= free {
        return Ok(());
    }
    let opt = if by_keys > by_requests && a.keys.is_some() {
        "--keys"
    } else if a.requests.is_some() {
        "--requests"
    } else {
        "--workload"
    };
    Err(usage(
        opt,
        format!(
            "'{}' with {} requests over {} keys is generated in memory and needs about {}; this process may take {} (free memory, ulimit -v, cgroup limit). Use fewer, or replay a file with --trace, which is read as it goes",
            p.name,
            p.requests,
            p.keys,
            crate::memory::show(need),
            crate::memory::show(free)
        ),
    ))
}

/// The seeds: `--seeds` (ranges `1..5` inclusive and single values, comma
/// separated, in the order written, duplicates dropped) or `--seed`.
pub fn seeds(a: &WorkloadArgs) -> Vec<u64> {
    match &a.seeds {
        None => vec![a.seed],
        Some(s) => s.0.clone(),
    }
}

/// Says on stderr (unless `quiet`) that `--threads asked` was lowered to
/// `used`, and `why`, so a user who asked for 8000 threads knows why fewer
/// ran.
pub fn note_threads(asked: usize, used: usize, why: &str, quiet: bool) {
    if used < asked && !quiet {
        crate::cmd::say!("note: --threads {asked} lowered to {used} ({why})");
    }
}
