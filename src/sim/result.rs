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
    #[serde(default)]
    pub sets: u64,
    #[serde(default)]
    pub deletes: u64,
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
];
