//! One run's result: one struct, one CSV row, one JSON object.
//!
//! The field order is the CSV column order and the field names are the column
//! names: a public interface. Add fields at the end; never rename or reorder.

use serde::{Deserialize, Serialize};

/// The result of replaying one workload against one strategy at one capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RunResult {
    /// Preset name (with overridden parameters) or trace file name.
    pub workload: String,
    /// Canonical strategy spec: every parameter spelled out.
    pub strategy: String,
    /// Capacity as resolved for the run, in `capacity_unit`s.
    pub capacity: u64,
    /// Requests replayed (gets + sets + deletes).
    pub requests: u64,
    /// Get requests.
    pub gets: u64,
    /// Gets that hit (`hits + misses = gets`).
    pub hits: u64,
    /// Gets that missed.
    pub misses: u64,
    /// hits / gets.
    pub hit_ratio: f64,
    /// misses / gets.
    pub miss_ratio: f64,
    /// Entries removed to make room.
    pub evictions: u64,
    /// Entries removed because their TTL had passed.
    pub expirations: u64,
    /// Distinct keys requested in the run's workload.
    pub distinct_keys: u64,
    /// Wall time of the replay loop, seconds.
    pub elapsed_s: f64,
    /// Throughput of the replay loop: requests / `elapsed_s`.
    pub requests_per_s: f64,
    /// `--seed`: the seed of the workload and of randomised strategies.
    pub seed: u64,
    /// cachesim version that produced the row.
    pub version: String,
    /// Bytes requested by gets.
    #[serde(default)]
    pub bytes_requested: u64,
    /// Bytes of gets that missed.
    #[serde(default)]
    pub bytes_missed: u64,
    /// 1 - bytes_missed / bytes_requested.
    #[serde(default)]
    pub byte_hit_ratio: f64,
    /// `objects` or `bytes`.
    #[serde(default)]
    pub capacity_unit: String,
    /// The capacity as given (`5%`, `10000`, `64MiB`).
    #[serde(default)]
    pub capacity_spec: String,
    /// Write (`set`) requests.
    #[serde(default)]
    pub sets: u64,
    /// Delete requests.
    #[serde(default)]
    pub deletes: u64,
    /// Mean latency of gets (cache operation, plus the origin fetch on a
    /// miss), microseconds; empty with `--no-latency`.
    #[serde(default)]
    pub lat_mean_us: Option<f64>,
    /// Median latency of gets, microseconds; empty with `--no-latency`.
    #[serde(default)]
    pub lat_p50_us: Option<f64>,
    /// 90th percentile latency of gets, microseconds; empty with `--no-latency`.
    #[serde(default)]
    pub lat_p90_us: Option<f64>,
    /// 99th percentile latency of gets, microseconds; empty with `--no-latency`.
    #[serde(default)]
    pub lat_p99_us: Option<f64>,
    /// 99.9th percentile latency of gets, microseconds; empty with
    /// `--no-latency`.
    #[serde(default)]
    pub lat_p999_us: Option<f64>,
    /// 99.99th percentile latency of gets, microseconds; empty with
    /// `--no-latency`.
    #[serde(default)]
    pub lat_p9999_us: Option<f64>,
    /// Highest latency of a get, microseconds; empty with `--no-latency`.
    #[serde(default)]
    pub lat_max_us: Option<f64>,
    /// Median latency of hits, microseconds; empty when there were none.
    #[serde(default)]
    pub hit_p50_us: Option<f64>,
    /// 99th percentile latency of hits, microseconds; empty when there were
    /// none.
    #[serde(default)]
    pub hit_p99_us: Option<f64>,
    /// Median latency of misses (cache operation plus origin fetch),
    /// microseconds; empty when there were none.
    #[serde(default)]
    pub miss_p50_us: Option<f64>,
    /// 99th percentile latency of misses (cache operation plus origin fetch),
    /// microseconds; empty when there were none.
    #[serde(default)]
    pub miss_p99_us: Option<f64>,
    /// Requests that went to the origin (the load the cache did not take off it).
    #[serde(default)]
    pub origin_requests: u64,
    /// Total origin time, seconds; empty with `--no-latency`.
    #[serde(default)]
    pub origin_time_s: Option<f64>,
    /// The origin: a latency model (`2ms`, `lognormal:2ms,0.8`) or a
    /// database URL without password; empty with `--no-latency`.
    #[serde(default)]
    pub origin: String,
    /// Write (`set`) requests: each changes the key's version at the origin.
    #[serde(default)]
    pub writes: u64,
    /// Hits that served a value older than the origin's (see `--on-write`).
    #[serde(default)]
    pub stale_hits: u64,
    /// stale_hits / gets.
    #[serde(default)]
    pub stale_hit_ratio: f64,
    /// Over stale hits, how long ago the served value changed on average,
    /// seconds; empty without stale hits.
    #[serde(default)]
    pub stale_age_mean_s: Option<f64>,
    /// Over stale hits, how long ago the served value changed at most,
    /// seconds; empty without stale hits.
    #[serde(default)]
    pub stale_age_max_s: Option<f64>,
    /// The run's value on the `--ttl` axis (seconds); empty without `--ttl`.
    #[serde(default)]
    pub ttl_s: Option<f64>,
    /// Application instances (1 unless `--instances`).
    #[serde(default = "one")]
    pub instances: u64,
    /// How requests were spread over instances (empty for one cache).
    #[serde(default)]
    pub balance: String,
    /// Objects cached at the end, summed over the fleet's caches.
    #[serde(default)]
    pub memory_objects: u64,
    /// Hits served by the local tier: all hits of a local strategy, the L1's
    /// of `tiered:*`, none for `redis*`. `hits = l1_hits + l2_hits`.
    #[serde(default)]
    pub l1_hits: u64,
    /// Hits served by Redis (`redis*`, or the L2 of `tiered:*`).
    #[serde(default)]
    pub l2_hits: u64,
    /// Median latency of L1 hits of `tiered:*` runs, microseconds; empty
    /// otherwise.
    #[serde(default)]
    pub l1_hit_p50_us: Option<f64>,
    /// 99th percentile latency of L1 hits of `tiered:*` runs, microseconds;
    /// empty otherwise.
    #[serde(default)]
    pub l1_hit_p99_us: Option<f64>,
    /// Median latency of Redis hits (`redis*`, or the L2 of `tiered:*`,
    /// Redis or disk), microseconds; empty otherwise.
    #[serde(default)]
    pub l2_hit_p50_us: Option<f64>,
    /// 99th percentile latency of Redis hits (`redis*`, or the L2 of
    /// `tiered:*`), microseconds; empty otherwise.
    #[serde(default)]
    pub l2_hit_p99_us: Option<f64>,
    /// Threads the sweep ran on (`--threads`); results other than the timing
    /// columns do not depend on it.
    #[serde(default = "one")]
    pub threads: u64,
    /// Trace reader used (`text`, `csv`, ...); empty for synthetic workloads,
    /// whose parameters are in `workload`.
    #[serde(default)]
    pub trace_format: String,
    /// Requests per second that set the timestamps of requests without one.
    #[serde(default)]
    pub rate: f64,
    /// With `--group-by`, the group whose requests this row counts
    /// (`tenant=7`); empty for a run's total. A group row repeats its run's
    /// identity columns; its counters are the group's.
    #[serde(default)]
    pub group: String,
    /// `--on-write`: what a write did to a cached copy (`invalidate`,
    /// `update` or `none`); empty in files written before the column.
    #[serde(default)]
    pub on_write: String,
    /// `--warmup`: requests replayed before counting began (0 without).
    #[serde(default)]
    pub warmup: u64,
    /// `--prefill` as given (`top:1000`); empty when the cache started empty.
    #[serde(default)]
    pub prefill: String,
    /// The whole latency spectrum of gets, microseconds, from the run's
    /// histogram, so a chart can draw every percentile, not six: 77 values,
    /// space separated, at p = 0 (the fastest get), 2.5%, 5%, ..., 90%, then
    /// at p = 1 - 10^(-x) for x = 1.1, 1.2, ..., 5 (99.999%); empty with
    /// `--no-latency`.
    #[serde(default)]
    pub lat_spectrum_us: String,
    /// `--restart-every`: application instances restarted after the
    /// warm-up (each emptied its in-process caches; a restart of every
    /// instance of a fleet of K counts K). 0 without the option.
    #[serde(default)]
    pub restarts: u64,
    /// `--restart-every` as [`crate::sim::restart::RestartEvery::label`]
    /// writes it (`1h`, `100000`); empty without the option.
    #[serde(default)]
    pub restart_every: String,
    /// `--rolling`: restarts one instance at a time (false without it).
    #[serde(default)]
    pub rolling: bool,
    /// The event mode (`--clients`, `--arrivals`, the defences): fetches
    /// issued for a key that already had one in flight. 0 outside it.
    #[serde(default)]
    pub duplicate_fetches: u64,
    /// The event mode: most fetches at the origin at once (in service or
    /// queued); empty outside it.
    #[serde(default)]
    pub origin_peak_concurrency: Option<u64>,
    /// The event mode: 99th percentile of the time a fetch waited for a
    /// free slot of the origin (`--origin-concurrency`), microseconds.
    #[serde(default)]
    pub origin_queue_p99_us: Option<f64>,
    /// The event mode: the mean of that wait, microseconds.
    #[serde(default)]
    pub origin_queue_mean_us: Option<f64>,
    /// The event mode: hits on an expired value served within
    /// `--stale-while-revalidate`.
    #[serde(default)]
    pub stale_serves: u64,
    /// The event mode: misses that waited for a fetch in flight
    /// (`--coalesce`) instead of sending their own.
    #[serde(default)]
    pub coalesced: u64,
    /// The event mode: XFetch early recomputations (`--xfetch`), counted
    /// as misses.
    #[serde(default)]
    pub early_refreshes: u64,
    /// The event mode: background refreshes of stale-while-revalidate.
    #[serde(default)]
    pub background_refreshes: u64,
    /// The event mode: `trace`, `poisson` or `closed`; empty outside it.
    #[serde(default)]
    pub arrivals: String,
    /// `--clients`: closed-loop clients of the event mode; empty without.
    #[serde(default)]
    pub clients: Option<u64>,
    /// The closed loop's think time (`--think-time`, or its default);
    /// empty otherwise.
    #[serde(default)]
    pub think_time: String,
    /// `--origin-concurrency`; empty when unbounded.
    #[serde(default)]
    pub origin_concurrency: Option<u64>,
    /// `--coalesce`.
    #[serde(default)]
    pub coalesce: bool,
    /// `--stale-while-revalidate`, seconds; empty without.
    #[serde(default)]
    pub stale_while_revalidate_s: Option<f64>,
    /// `--xfetch` (beta); empty without.
    #[serde(default)]
    pub xfetch_beta: Option<f64>,
    /// `--ttl-jitter`; empty without.
    #[serde(default)]
    pub ttl_jitter: Option<f64>,
    /// The event mode's defences as one label (`coalesce+swr:5s`, `none`);
    /// empty outside the mode.
    #[serde(default)]
    pub defences: String,
    /// The sampler of a `zipf` workload: `alias` (an exact table, up to 4M
    /// keys) or `rejection-inversion` (exact too, constant memory, above);
    /// empty for other workloads.
    #[serde(default)]
    pub zipf_sampler: String,
    /// The run's position in its whole sweep, from 1, in the order an
    /// unsharded run writes its rows (`--shard` runs write a subset, and
    /// `cachesim merge` puts them back in this order); a run's group rows
    /// repeat it. 0 in files written before the column.
    #[serde(default)]
    pub run_index: u64,
    /// Runs in the whole sweep (every shard's together).
    #[serde(default)]
    pub runs: u64,
    /// `--shard I/N` that ran this row; empty for a whole sweep (and in the
    /// output of `cachesim merge`).
    #[serde(default)]
    pub shard: String,
    /// Fingerprint of the sweep's plan (its runs and the options that shape
    /// them, not where the output goes or how many threads): the shards of
    /// one sweep share it, so `cachesim merge` can refuse another sweep's.
    #[serde(default)]
    pub sweep_id: String,
    /// The group rows of this run (`--group-by`), written right after it.
    #[serde(skip)]
    pub groups: Vec<RunResult>,
}

fn one() -> u64 {
    1
}

/// The CSV header, in order. Kept next to the struct so a test can pin it.
pub const COLUMNS: &[&str] = &[
    "workload",
    "strategy",
    "capacity",
    "requests",
    "gets",
    "hits",
    "misses",
    "hit_ratio",
    "miss_ratio",
    "evictions",
    "expirations",
    "distinct_keys",
    "elapsed_s",
    "requests_per_s",
    "seed",
    "version",
    "bytes_requested",
    "bytes_missed",
    "byte_hit_ratio",
    "capacity_unit",
    "capacity_spec",
    "sets",
    "deletes",
    "lat_mean_us",
    "lat_p50_us",
    "lat_p90_us",
    "lat_p99_us",
    "lat_p999_us",
    "lat_p9999_us",
    "lat_max_us",
    "hit_p50_us",
    "hit_p99_us",
    "miss_p50_us",
    "miss_p99_us",
    "origin_requests",
    "origin_time_s",
    "origin",
    "writes",
    "stale_hits",
    "stale_hit_ratio",
    "stale_age_mean_s",
    "stale_age_max_s",
    "ttl_s",
    "instances",
    "balance",
    "memory_objects",
    "l1_hits",
    "l2_hits",
    "l1_hit_p50_us",
    "l1_hit_p99_us",
    "l2_hit_p50_us",
    "l2_hit_p99_us",
    "threads",
    "trace_format",
    "rate",
    "group",
    "on_write",
    "warmup",
    "prefill",
    "lat_spectrum_us",
    "restarts",
    "restart_every",
    "rolling",
    "duplicate_fetches",
    "origin_peak_concurrency",
    "origin_queue_p99_us",
    "origin_queue_mean_us",
    "stale_serves",
    "coalesced",
    "early_refreshes",
    "background_refreshes",
    "arrivals",
    "clients",
    "think_time",
    "origin_concurrency",
    "coalesce",
    "stale_while_revalidate_s",
    "xfetch_beta",
    "ttl_jitter",
    "defences",
    "zipf_sampler",
    "run_index",
    "runs",
    "shard",
    "sweep_id",
];

/// Columns that are measurements of this machine (wall time, timed cache
/// operations) rather than results of the simulation: the only ones that may
/// differ between two runs with the same seed.
pub const MEASURED_COLUMNS: &[&str] = &[
    "elapsed_s",
    "requests_per_s",
    "lat_mean_us",
    "lat_p50_us",
    "lat_p90_us",
    "lat_p99_us",
    "lat_p999_us",
    "lat_p9999_us",
    "lat_max_us",
    "hit_p50_us",
    "hit_p99_us",
    "miss_p50_us",
    "miss_p99_us",
    "l1_hit_p50_us",
    "l1_hit_p99_us",
    "l2_hit_p50_us",
    "l2_hit_p99_us",
    "threads",
    "lat_spectrum_us",
];
/// The first line of a CSV input (results or timeline), from its first 4
/// KB alone; a directory or binary data is an error saying so (issue 16: a
/// directory read as "no results", a 2 GiB file of something else was read
/// whole before "no results").
pub(crate) fn csv_first_line(path: &std::path::Path) -> Result<String, String> {
    use std::io::Read;
    let shown = path.display();
    if path.is_dir() {
        return Err(format!(
            "'{shown}' is a directory; give the CSV files in it (e.g. {shown}/*.csv)"
        ));
    }
    let mut head = Vec::with_capacity(4096);
    std::fs::File::open(path)
        .and_then(|f| f.take(4096).read_to_end(&mut head))
        .map_err(|e| format!("cannot read '{shown}': {e}"))?;
    if head.contains(&0) {
        return Err(format!("'{shown}' holds binary data, not a cachesim CSV"));
    }
    let text = String::from_utf8_lossy(&head);
    Ok(text.lines().next().unwrap_or("").trim().to_string())
}

/// Refuses `path` unless its first line has a results CSV's `strategy` and
/// `hit_ratio` columns.
fn sniff_results(path: &std::path::Path) -> Result<(), String> {
    let first = csv_first_line(path)?;
    let columns: Vec<&str> = first.split(',').map(str::trim).collect();
    if !(columns.contains(&"strategy") && columns.contains(&"hit_ratio")) {
        let shown_line: String = first.chars().take(80).collect();
        return Err(format!(
            "'{}' is not a cachesim results CSV: its first line has no 'strategy' and 'hit_ratio' columns ('{shown_line}')",
            path.display()
        ));
    }
    Ok(())
}

/// Reads results back from a CSV file written by cachesim (so charts and
/// comparisons never need a rerun), each row checked ([`read_rows`]).
pub fn read_results(path: &std::path::Path) -> Result<Vec<RunResult>, String> {
    sniff_results(path)?;
    read_rows(path)
}

/// Reads the rows of a CSV cachesim wrote (results, timelines). Every row
/// is checked: ratios are numbers from 0 to 1, times, latencies and rates
/// finite and not negative (issue 16: NaN, infinite or negative ratios
/// were drawn and compared as if measured). Errors name `file:line` once,
/// the line of the row's first byte.
pub(crate) fn read_rows<T: serde::de::DeserializeOwned>(
    path: &std::path::Path,
) -> Result<Vec<T>, String> {
    let shown = path.display();
    let mut rdr =
        csv::Reader::from_path(path).map_err(|e| format!("cannot read '{shown}': {e}"))?;
    let headers = rdr
        .headers()
        .map_err(|e| format!("{shown}:1: {}", csv_error_text(&e, None)))?
        .clone();
    let mut out = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        let more = rdr.read_record(&mut row).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            format!("{shown}:{line}: {}", csv_error_text(&e, None))
        })?;
        if !more {
            break;
        }
        let line = row.position().map_or(0, |p| p.line());
        check_numbers(&headers, &row).map_err(|e| format!("{shown}:{line}: {e}"))?;
        let r: T = row.deserialize(Some(&headers)).map_err(|e| {
            format!(
                "{shown}:{line}: {}",
                csv_error_text(&e, Some((&headers, &row)))
            )
        })?;
        out.push(r);
    }
    Ok(out)
}

/// A CSV error without the crate's own "record N (line: L, byte: B)"
/// position, which the caller gives as `file:line`; a field that does not
/// parse is named by its column and value when `row` is given.
fn csv_error_text(e: &csv::Error, row: Option<(&csv::StringRecord, &csv::StringRecord)>) -> String {
    match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match (err.field(), row) {
            (Some(i), Some((headers, row))) => format!(
                "{} is '{}': {}",
                headers.get(i as usize).unwrap_or("?"),
                row.get(i as usize).unwrap_or(""),
                err.kind()
            ),
            (Some(i), None) => format!("column {}: {}", i + 1, err.kind()),
            (None, _) => err.kind().to_string(),
        },
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("the row has {len} fields where the header has {expected_len}"),
        csv::ErrorKind::Utf8 { err, .. } => format!("invalid UTF-8 in field {}", err.field() + 1),
        csv::ErrorKind::Io(err) => err.to_string(),
        _ => e.to_string(),
    }
}

/// The numeric columns a row may not hold NaN, infinite or negative values
/// in, by their names' suffixes: `*_ratio` from 0 to 1; times (`*_s`),
/// latencies (`*_us`) and `rate` finite and at least 0. Empty is allowed
/// (no measurement).
fn check_numbers(headers: &csv::StringRecord, row: &csv::StringRecord) -> Result<(), String> {
    for (name, field) in headers.iter().zip(row.iter()) {
        let ratio = name.ends_with("_ratio");
        let measure = name.ends_with("_s") || name.ends_with("_us") || name == "rate";
        if !(ratio || measure) || field.trim().is_empty() {
            continue;
        }
        let Ok(v) = field.trim().parse::<f64>() else {
            continue; // named by the typed read that follows
        };
        if !v.is_finite() || v < 0.0 || (ratio && v > 1.0) {
            let want = if ratio {
                "a ratio from 0 to 1"
            } else {
                "a finite number >= 0"
            };
            return Err(format!("{name} is '{field}', not {want}"));
        }
    }
    Ok(())
}
