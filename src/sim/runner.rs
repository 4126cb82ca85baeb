//! Prepares workloads and runs one (workload, strategy, capacity); the plan
//! of many runs and its parallel execution are in `sweep.rs`.
//!
//! A workload is prepared once per command: a synthetic stream is generated
//! once and shared by every run; a trace is counted in one streaming pass
//! (requests, distinct keys) and then, when several runs replay it, decoded
//! once into memory and shared; a single run streams it, so memory does not
//! grow with the trace's length.

use super::capacity::{Capacity, CapacityKind};
use super::replay::{replay_batch, ChargeModel, Counters};
use super::result::RunResult;
use crate::dispatch;
use crate::policy::{self, BuildCtx, SpecError, StrategySpec};
use crate::workload::trace::{self, TraceError, TraceFormat};
use crate::workload::{Batch, Preset};
use indicatif::ProgressBar;
use rustc_hash::FxHashSet;
use std::path::PathBuf;
use std::time::Instant;
use thiserror::Error;

/// The plan (workloads x seeds x strategies x capacities) and its parallel
/// execution live in `sweep.rs`.
pub use super::sweep::Plan;

/// Requests handed to the loop between progress updates and, when
/// streaming, read per batch.
const CHUNK: usize = 1 << 16;

#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    Trace(#[from] TraceError),
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error("{0}")]
    Workload(String),
}

/// Where a workload's requests come from.
#[derive(Debug, Clone)]
pub enum WorkloadInput {
    /// A synthetic preset (with command-line overrides already applied) and
    /// the label for the `workload` column.
    Preset { preset: Preset, label: String },
    /// A trace file.
    Trace {
        path: PathBuf,
        format: Option<TraceFormat>,
        /// Requests per second for requests without timestamps.
        rate: f64,
    },
}

impl WorkloadInput {
    pub fn label(&self) -> String {
        match self {
            WorkloadInput::Preset { label, .. } => label.clone(),
            WorkloadInput::Trace { path, .. } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        }
    }

    /// Generates or counts the workload. `runs` is how many runs will replay
    /// it: with more than one, a trace is kept in memory.
    pub fn prepare(&self, seed: u64, runs: usize) -> Result<Prepared, RunError> {
        let label = self.label();
        match self {
            WorkloadInput::Preset { preset, .. } => {
                let batch = preset.generate(seed);
                let distinct = batch.distinct_keys();
                Ok(Prepared {
                    label,
                    requests: batch.len() as u64,
                    distinct,
                    data: Data::Memory(batch),
                })
            }
            WorkloadInput::Trace { path, format, rate } => {
                let format = match format {
                    Some(f) => *f,
                    None => trace::detect(path)?,
                };
                if runs > 1 {
                    let batch = trace::read_all(path, Some(format), *rate)?;
                    let distinct = batch.distinct_keys();
                    return Ok(Prepared {
                        label,
                        requests: batch.len() as u64,
                        distinct,
                        data: Data::Memory(batch),
                    });
                }
                // One run: a counting pass now, the replay streams later.
                let mut reader = trace::open(path, Some(format))?;
                let mut b = Batch::new(*rate, 1);
                let mut seen = FxHashSet::default();
                let mut requests = 0u64;
                while reader.next_batch(&mut b, CHUNK)? > 0 {
                    requests += b.len() as u64;
                    seen.extend(b.keys.iter().copied());
                }
                if requests == 0 {
                    return Err(TraceError::Empty { path: path.clone() }.into());
                }
                Ok(Prepared {
                    label,
                    requests,
                    distinct: seen.len() as u64,
                    data: Data::Stream {
                        path: path.clone(),
                        format,
                        rate: *rate,
                    },
                })
            }
        }
    }
}

/// A workload ready to replay.
#[derive(Debug)]
pub struct Prepared {
    pub label: String,
    pub requests: u64,
    pub distinct: u64,
    pub data: Data,
}

#[derive(Debug)]
pub enum Data {
    Memory(Batch),
    Stream {
        path: PathBuf,
        format: TraceFormat,
        rate: f64,
    },
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub strategy: StrategySpec,
    pub capacity: Capacity,
    pub seed: u64,
    pub ttl: Option<f64>,
}

/// Replays `w` against the strategy and capacity of `cfg`.
pub fn run_one(w: &Prepared, cfg: &RunConfig, pb: &ProgressBar) -> Result<RunResult, RunError> {
    let cap = cfg.capacity.resolve(w.distinct);
    let kind = cfg.capacity.kind();
    let built = policy::build(
        &cfg.strategy,
        &BuildCtx {
            capacity: cap,
            seed: cfg.seed,
            ttl: cfg.ttl,
        },
    )?;
    let charge = ChargeModel {
        bytes: kind == CapacityKind::Bytes,
        capacity: cap,
    };
    pb.set_message(format!("{} {} c={}", w.label, built.canonical, cfg.capacity.label()));
    let mut policy = built.policy;
    let mut c = Counters::default();
    let start = Instant::now();
    dispatch!(&mut policy, p => replay_data(p, &w.data, charge, &mut c, pb))?;
    let elapsed = start.elapsed().as_secs_f64();
    Ok(RunResult {
        workload: w.label.clone(),
        strategy: built.canonical,
        capacity: cap,
        requests: c.requests,
        gets: c.gets,
        hits: c.hits,
        misses: c.misses,
        hit_ratio: c.hit_ratio(),
        miss_ratio: if c.gets == 0 { 0.0 } else { 1.0 - c.hit_ratio() },
        evictions: c.evictions,
        expirations: c.expirations,
        distinct_keys: w.distinct,
        elapsed_s: elapsed,
        requests_per_s: if elapsed > 0.0 { c.requests as f64 / elapsed } else { 0.0 },
        seed: cfg.seed,
        version: env!("CARGO_PKG_VERSION").to_string(),
        bytes_requested: c.bytes_requested,
        bytes_missed: c.bytes_missed,
        byte_hit_ratio: c.byte_hit_ratio(),
        capacity_unit: kind.as_str().to_string(),
        capacity_spec: cfg.capacity.label(),
        sets: c.sets,
        deletes: c.deletes,
        // A single run; a sweep sets the threads it ran on and the reader.
        threads: 1,
        trace_format: String::new(),
        rate: match &w.data {
            Data::Memory(b) => b.rate,
            Data::Stream { rate, .. } => *rate,
        },
    })
}

fn replay_data<P: policy::Policy>(
    p: &mut P,
    data: &Data,
    charge: ChargeModel,
    c: &mut Counters,
    pb: &ProgressBar,
) -> Result<(), RunError> {
    match data {
        Data::Memory(batch) => {
            let mut start = 0;
            while start < batch.len() {
                let end = (start + CHUNK * 16).min(batch.len());
                replay_batch(p, batch, start..end, 0, None, charge, c);
                pb.inc((end - start) as u64);
                start = end;
            }
        }
        Data::Stream { path, format, rate } => {
            let mut reader = trace::open(path, Some(*format))?;
            let mut b = Batch::new(*rate, 1);
            let mut vtime = 0u64;
            while reader.next_batch(&mut b, CHUNK)? > 0 {
                replay_batch(p, &b, 0..b.len(), vtime, None, charge, c);
                vtime += b.len() as u64;
                pb.inc(b.len() as u64);
            }
        }
    }
    Ok(())
}
