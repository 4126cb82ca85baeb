//! Turns a plan (workloads x strategies x capacities) into results.
//!
//! A workload is prepared once per command: a synthetic stream is generated
//! once and shared by every run; a trace is counted in one streaming pass
//! (requests, distinct keys) and then, when several runs replay it, decoded
//! once into memory and shared; a single run streams it, so memory does not
//! grow with the trace's length.

use super::capacity::{Capacity, CapacityKind};
use super::latency::{
    self, LatencySink, LatencySummary, ModelOrigin, NoLatency, Origin, OriginModel, Timed,
};
use super::replay::{replay_batch_with, ChargeModel, Counters};
use super::result::RunResult;
use crate::dispatch;
use crate::external::postgres::{self, PgConfig, PostgresOrigin};
use crate::external::redis::RedisOptions;
use crate::policy::{self, BuildCtx, SpecError, StrategySpec};
use crate::workload::trace::{self, TraceError, TraceFormat};
use crate::workload::{Batch, Preset};
use indicatif::ProgressBar;
use rustc_hash::FxHashSet;
use std::path::PathBuf;
use std::time::Instant;
use thiserror::Error;

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
    #[error("{0}")]
    Origin(String),
    /// A Redis strategy failed (server unreachable, connection lost...).
    #[error("{0}")]
    Redis(String),
    #[error("cannot write histogram '{path}': {err}")]
    Histogram { path: PathBuf, err: std::io::Error },
}

/// What stands behind the cache, when latency is recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum OriginSpec {
    Model(OriginModel),
    Postgres(PgConfig),
}

impl OriginSpec {
    pub fn label(&self) -> String {
        match self {
            OriginSpec::Model(m) => m.label(),
            OriginSpec::Postgres(c) => c.display(),
        }
    }
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

impl Prepared {
    /// Makes sure PostgreSQL's `cachesim_origin` table holds every key of the
    /// workload, with a value of the key's (first) size.
    pub fn populate_postgres(&self, pg: &PgConfig) -> Result<u64, RunError> {
        let mut seen = FxHashSet::default();
        let mut keys = Vec::new();
        let mut add = |b: &Batch| {
            for i in 0..b.len() {
                let r = b.request(i, 0);
                if seen.insert(r.key) {
                    keys.push((r.key, r.size));
                }
            }
        };
        match &self.data {
            Data::Memory(b) => add(b),
            Data::Stream { path, format, rate } => {
                let mut reader = trace::open(path, Some(*format))?;
                let mut b = Batch::new(*rate, 1);
                while reader.next_batch(&mut b, CHUNK)? > 0 {
                    add(&b);
                }
            }
        }
        postgres::populate(pg, keys.into_iter()).map_err(RunError::Origin)
    }
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
    /// Record latency against this origin; `None` is `--no-latency`.
    pub latency: Option<OriginSpec>,
    /// Settings of the Redis strategies.
    pub redis: RedisOptions,
}

/// Latency results of one run.
struct LatencyOut {
    summary: LatencySummary,
    overall: hdrhistogram::Histogram<u64>,
    origin_ns: u64,
}

fn finish_timed<O: Origin>(mut t: Timed<O>) -> LatencyOut {
    t.finish();
    let overall = t.overall();
    LatencyOut {
        summary: LatencySummary::of(&overall, &t.hits, &t.misses),
        overall,
        origin_ns: t.origin_ns,
    }
}

/// Replays `w` against the strategy and capacity of `cfg`.
/// Returns the result and, with latency on, the run's overall histogram.
pub fn run_one(
    w: &Prepared,
    cfg: &RunConfig,
    pb: &ProgressBar,
) -> Result<(RunResult, Option<hdrhistogram::Histogram<u64>>), RunError> {
    if policy::is_external(&cfg.strategy.name) {
        return crate::external::redis::run_one(w, cfg, pb);
    }
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
    pb.set_message(format!(
        "{} {} c={}",
        w.label,
        built.canonical,
        cfg.capacity.label()
    ));
    let mut policy = built.policy;
    let mut c = Counters::default();
    let start = Instant::now();
    let lat = match &cfg.latency {
        None => {
            dispatch!(&mut policy, p => replay_data(p, &w.data, charge, &mut c, pb, &mut NoLatency))?;
            None
        }
        Some(OriginSpec::Model(m)) => {
            let mut t = Timed::new(ModelOrigin::new(m, cfg.seed));
            dispatch!(&mut policy, p => replay_data(p, &w.data, charge, &mut c, pb, &mut t))?;
            Some(finish_timed(t))
        }
        Some(OriginSpec::Postgres(pg)) => {
            let mut t = Timed::new(PostgresOrigin::connect(pg).map_err(RunError::Origin)?);
            dispatch!(&mut policy, p => replay_data(p, &w.data, charge, &mut c, pb, &mut t))?;
            Some(finish_timed(t))
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    let s = lat.as_ref().map(|l| l.summary);
    let result = RunResult {
        workload: w.label.clone(),
        strategy: built.canonical,
        capacity: cap,
        requests: c.requests,
        gets: c.gets,
        hits: c.hits,
        misses: c.misses,
        hit_ratio: c.hit_ratio(),
        miss_ratio: if c.gets == 0 {
            0.0
        } else {
            1.0 - c.hit_ratio()
        },
        evictions: c.evictions,
        expirations: c.expirations,
        distinct_keys: w.distinct,
        elapsed_s: elapsed,
        requests_per_s: if elapsed > 0.0 {
            c.requests as f64 / elapsed
        } else {
            0.0
        },
        seed: cfg.seed,
        version: env!("CARGO_PKG_VERSION").to_string(),
        bytes_requested: c.bytes_requested,
        bytes_missed: c.bytes_missed,
        byte_hit_ratio: c.byte_hit_ratio(),
        capacity_unit: kind.as_str().to_string(),
        capacity_spec: cfg.capacity.label(),
        sets: c.sets,
        deletes: c.deletes,
        lat_mean_us: s.map(|s| s.mean_us),
        lat_p50_us: s.map(|s| s.p50_us),
        lat_p90_us: s.map(|s| s.p90_us),
        lat_p99_us: s.map(|s| s.p99_us),
        lat_p999_us: s.map(|s| s.p999_us),
        lat_p9999_us: s.map(|s| s.p9999_us),
        lat_max_us: s.map(|s| s.max_us),
        hit_p50_us: s.and_then(|s| s.hit_p50_us),
        hit_p99_us: s.and_then(|s| s.hit_p99_us),
        miss_p50_us: s.and_then(|s| s.miss_p50_us),
        miss_p99_us: s.and_then(|s| s.miss_p99_us),
        origin_requests: c.misses,
        origin_time_s: lat.as_ref().map(|l| l.origin_ns as f64 / 1e9),
        origin: cfg.latency.as_ref().map(|o| o.label()).unwrap_or_default(),
        l1_hits: c.hits,
        l2_hits: 0,
        l1_hit_p50_us: None,
        l1_hit_p99_us: None,
        l2_hit_p50_us: None,
        l2_hit_p99_us: None,
    };
    Ok((result, lat.map(|l| l.overall)))
}

fn replay_data<P: policy::Policy, L: LatencySink>(
    p: &mut P,
    data: &Data,
    charge: ChargeModel,
    c: &mut Counters,
    pb: &ProgressBar,
    lat: &mut L,
) -> Result<(), RunError> {
    let origin = |e: latency::OriginError| RunError::Origin(e.0);
    match data {
        Data::Memory(batch) => {
            let mut start = 0;
            while start < batch.len() {
                let end = (start + CHUNK * 16).min(batch.len());
                replay_batch_with(p, batch, start..end, 0, None, charge, c, lat).map_err(origin)?;
                pb.inc((end - start) as u64);
                start = end;
            }
        }
        Data::Stream { path, format, rate } => {
            let mut reader = trace::open(path, Some(*format))?;
            let mut b = Batch::new(*rate, 1);
            let mut vtime = 0u64;
            while reader.next_batch(&mut b, CHUNK)? > 0 {
                replay_batch_with(p, &b, 0..b.len(), vtime, None, charge, c, lat)
                    .map_err(origin)?;
                vtime += b.len() as u64;
                pb.inc(b.len() as u64);
            }
        }
    }
    Ok(())
}

/// A whole plan: every workload x strategy x capacity, in that nesting order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub workloads: Vec<WorkloadInput>,
    pub strategies: Vec<StrategySpec>,
    pub capacities: Vec<Capacity>,
    pub seed: u64,
    pub ttl: Option<f64>,
    /// Record latency against this origin; `None` is `--no-latency`.
    pub latency: Option<OriginSpec>,
    /// Write each run's overall latency histogram (`.hgrm`) here.
    pub histograms: Option<PathBuf>,
    /// Settings of the Redis strategies.
    pub redis: RedisOptions,
}

impl Plan {
    pub fn runs_per_workload(&self) -> usize {
        self.strategies.len() * self.capacities.len()
    }

    /// Runs everything, in a stable order. Stops at the first error: a failed
    /// plan produces no results (so no half-written file).
    pub fn run(&self, quiet: bool) -> Result<Vec<RunResult>, RunError> {
        let (out, err) = self.run_keep(quiet);
        match err {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Like [`Plan::run`], but also returns the runs that finished before
    /// the first error, so a sweep broken by a lost server keeps them.
    pub fn run_keep(&self, quiet: bool) -> (Vec<RunResult>, Option<RunError>) {
        let mut out = Vec::new();
        let err = self.run_into(quiet, &mut out).err();
        (out, err)
    }

    fn run_into(&self, quiet: bool, out: &mut Vec<RunResult>) -> Result<(), RunError> {
        // Reject bad strategy specs before any work.
        for s in &self.strategies {
            policy::validate(s)?;
        }
        // Fail fast (before generating workloads) if a Redis is missing.
        crate::external::redis::preflight(&self.strategies, &self.redis)?;
        for w in &self.workloads {
            let prepared = w.prepare(self.seed, self.runs_per_workload())?;
            if let Some(OriginSpec::Postgres(pg)) = &self.latency {
                prepared.populate_postgres(pg)?;
            }
            let pb =
                crate::progress::bar(prepared.requests * self.runs_per_workload() as u64, quiet);
            for s in &self.strategies {
                for cap in &self.capacities {
                    let cfg = RunConfig {
                        strategy: s.clone(),
                        capacity: *cap,
                        seed: self.seed,
                        ttl: self.ttl,
                        latency: self.latency.clone(),
                        redis: self.redis.clone(),
                    };
                    let (result, hist) = run_one(&prepared, &cfg, &pb)?;
                    if let (Some(dir), Some(h)) = (&self.histograms, hist) {
                        let name = format!(
                            "{:03}-{}-{}-{}.hgrm",
                            out.len() + 1,
                            result.workload,
                            result.strategy,
                            result.capacity_spec
                        );
                        let name: String = name
                            .chars()
                            .map(|ch| {
                                if ch.is_ascii_alphanumeric() || "._-".contains(ch) {
                                    ch
                                } else {
                                    '_'
                                }
                            })
                            .collect();
                        let path = dir.join(name);
                        crate::report::write_atomic(&path, |w| latency::write_hgrm(&h, w))
                            .map_err(|err| RunError::Histogram { path, err })?;
                    }
                    out.push(result);
                }
            }
            pb.finish_and_clear();
        }
        Ok(())
    }
}
