//! One run's result: one struct, one CSV row, one JSON object.
//!
//! The field order is the CSV column order and the field names are the column
//! names: a public interface. Add fields at the end; never rename or reorder.

use serde::{Deserialize, Serialize};

/// The result of replaying one workload against one strategy at one capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// Preset name (with overridden parameters) or trace file name.
    pub workload: String,
    /// Canonical strategy spec: every parameter spelled out.
    pub strategy: String,
    /// Capacity as resolved for the run, in `capacity_unit`s.
    pub capacity: u64,
    pub requests: u64,
    pub gets: u64,
    pub hits: u64,
    pub misses: u64,
    /// hits / gets.
    pub hit_ratio: f64,
    /// misses / gets.
    pub miss_ratio: f64,
    pub evictions: u64,
    pub expirations: u64,
    /// Distinct keys requested in the run's workload.
    pub distinct_keys: u64,
    /// Wall time of the replay loop, seconds.
    pub elapsed_s: f64,
    pub requests_per_s: f64,
    pub seed: u64,
    /// cachesim version that produced the row.
    pub version: String,
    /// Bytes requested by gets.
    pub bytes_requested: u64,
    /// Bytes of gets that missed.
    pub bytes_missed: u64,
    /// 1 - bytes_missed / bytes_requested.
    pub byte_hit_ratio: f64,
    /// `objects` or `bytes`.
    pub capacity_unit: String,
    /// The capacity as given (`5%`, `10000`, `64MiB`).
    pub capacity_spec: String,
    pub sets: u64,
    pub deletes: u64,
    /// Threads the sweep ran on (`--threads`); results other than the timing
    /// columns do not depend on it.
    pub threads: u64,
    /// Trace reader used (`text`, `csv`, ...); empty for synthetic workloads,
    /// whose parameters are in `workload`.
    pub trace_format: String,
    /// Requests per second that set the timestamps of requests without one.
    pub rate: f64,
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
    "threads",
    "trace_format",
    "rate",
];
