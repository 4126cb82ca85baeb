//! Prepares workloads and runs one (workload, strategy, capacity); the plan
//! of many runs and its parallel execution are in `sweep.rs`.
//!
//! A workload is prepared once per command: a synthetic stream is generated
//! once and shared by every run; a trace is counted in one streaming pass
//! (requests, distinct keys) and then, when several runs replay it, decoded
//! once into memory and shared; a single run streams it, so memory does not
//! grow with the trace's length.

use super::backend::{Engines, OriginBackend};
use super::capacity::{Capacity, CapacityKind};
use super::fleet::{fleet_columns, Fleet, FleetConfig, Renew};
use super::future_file::Future;
use super::latency::{
    LatencySink, LatencySummary, ModelOrigin, NoLatency, Origin, OriginModel, Timed,
};
use super::phases::{Driver, FreshRun, TimelineRow};
use super::reader::StreamCounts;
use super::replay::{ChargeModel, Counters};
use super::result::RunResult;
use super::strategy::{Kind, Strategy};
use crate::dispatch;
use crate::policy::{self, BuildCtx, Policy, SpecError, StrategySpec};
use crate::workload::trace::{self, TraceError, TraceSpec};
use crate::workload::{Batch, Preset};
use indicatif::ProgressBar;
use rustc_hash::FxHashSet;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use thiserror::Error;

/// The plan (workloads x seeds x strategies x capacities) and its parallel
/// execution live in `sweep.rs`.
pub use super::sweep::Plan;

/// Requests handed to the loop between progress updates and, when
/// streaming, read per batch.
const CHUNK: usize = 1 << 16;

/// Why a run (or a whole plan) failed.
#[derive(Debug, Error)]
pub enum RunError {
    /// A trace could not be read.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// A strategy spec is not valid.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The workload or the plan cannot run (a preset, a missing option, a
    /// strategy that cannot replay this workload).
    #[error("{0}")]
    Workload(String),
    /// The origin failed during the run (a database went away).
    #[error("{0}")]
    Origin(String),
    /// A backend failed (a server unreachable, a connection lost...).
    #[error("{0}")]
    Backend(String),
    /// An option (`option`) asks for what a strategy cannot do, found by
    /// the plan before any run (a strategy that does not run in a fleet):
    /// a usage error naming the option.
    #[error("{message}")]
    Usage {
        /// The option the command names (`--instances`).
        option: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A signal (Ctrl-C, `kill`) stopped the run before it finished; see
    /// [`crate::interrupt`].
    #[error("interrupted")]
    Interrupted,
    /// A latency histogram could not be written.
    #[error("cannot write histogram '{path}': {err}")]
    Histogram {
        /// The histogram file.
        path: PathBuf,
        /// The write error.
        err: std::io::Error,
    },
    /// The warm-up covers the whole workload, leaving nothing to count. A
    /// usage error, but only known once a trace has been counted; the
    /// command names its option.
    #[error(
        "{warmup} warm-up requests leave none of the {requests} requests of '{workload}' to count"
    )]
    WarmupTooLong {
        /// Warm-up requests asked for.
        warmup: u64,
        /// Requests in the workload.
        requests: u64,
        /// The workload's label.
        workload: String,
    },
    /// `--window` cuts the runs into more timeline rows than
    /// [`super::phases::MAX_TIMELINE_ROWS`]. A usage error known once the
    /// workload's requests are (the command names its option).
    #[error(
        "{window} cuts the {counted} counted requests of '{workload}' into {windows} windows per run, {rows} timeline rows over the {runs} runs; at most {} are kept (about 300 bytes each): use --window {min} or more",
        super::phases::MAX_TIMELINE_ROWS
    )]
    TooManyWindows {
        /// `--window`.
        window: u64,
        /// Requests counted per run (after the warm-up).
        counted: u64,
        /// Windows per run.
        windows: u64,
        /// Runs in the plan.
        runs: u64,
        /// `windows * runs`.
        rows: u64,
        /// The smallest window that fits, if any does.
        min: u64,
        /// The workload's label.
        workload: String,
    },
}

impl From<crate::interrupt::Interrupted> for RunError {
    fn from(_: crate::interrupt::Interrupted) -> RunError {
        RunError::Interrupted
    }
}

/// What stands behind the cache, when latency is recorded.
#[derive(Clone)]
pub enum OriginSpec {
    /// A modelled origin: each miss's time drawn from a distribution.
    Model(OriginModel),
    /// A real one (a database), reached through its backend.
    Backend(Arc<dyn OriginBackend>),
}

impl OriginSpec {
    pub(crate) fn label(&self) -> String {
        match self {
            OriginSpec::Model(m) => m.label(),
            OriginSpec::Backend(b) => b.label(),
        }
    }

    /// A connection to the origin for one run (or one client of a run),
    /// boxed: for the runs that do not compile one loop per origin.
    pub(crate) fn connect(&self, seed: u64) -> Result<Box<dyn Origin + Send>, RunError> {
        match self {
            OriginSpec::Model(m) => Ok(Box::new(ModelOrigin::new(m, seed))),
            OriginSpec::Backend(b) => b.connect(),
        }
    }
}

impl std::fmt::Debug for OriginSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("OriginSpec").field(&self.label()).finish()
    }
}

/// Where a workload's requests come from.
// Built once per workload: the size of the preset variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum WorkloadInput {
    /// A synthetic preset (with command-line overrides already applied) and
    /// the label for the `workload` column.
    Preset {
        /// The preset, overrides applied.
        preset: Preset,
        /// The `workload` column's label.
        label: String,
    },
    /// A trace file.
    Trace {
        /// The trace file.
        path: PathBuf,
        /// Its reader; `None` detects it from the file.
        format: Option<TraceSpec>,
        /// Requests per second for requests without timestamps.
        rate: f64,
    },
}

impl WorkloadInput {
    pub(crate) fn label(&self) -> String {
        match self {
            WorkloadInput::Preset { label, .. } => label.clone(),
            // `-` is standard input, labelled as `/dev/stdin` is.
            WorkloadInput::Trace { path, .. } if trace::is_stdin(path) => "stdin".to_string(),
            WorkloadInput::Trace { path, .. } => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| path.display().to_string()),
        }
    }

    /// Generates or counts the workload. `runs` is how many runs will replay
    /// it: with more than one, a trace is kept in memory.
    pub fn prepare(&self, seed: u64, runs: usize) -> Result<Prepared, RunError> {
        self.prepare_for(seed, runs, false)
    }

    /// As [`WorkloadInput::prepare`]; with `future`, the workload is held in
    /// memory and its next-use array computed once for offline strategies.
    pub(crate) fn prepare_for(
        &self,
        seed: u64,
        runs: usize,
        future: bool,
    ) -> Result<Prepared, RunError> {
        self.prepare_with(seed, runs, future, true)
    }

    /// As [`WorkloadInput::prepare_for`]; without `count_first`, a trace
    /// one run streams is not counted before the replay: its requests and
    /// distinct keys are counted by the replay's own pass (on the reader
    /// thread), and `requests` and `distinct` stay 0 until then (see
    /// [`Prepared::distinct_keys`]). The plan asks for it when nothing
    /// needs the counts before the replay.
    pub(crate) fn prepare_with(
        &self,
        seed: u64,
        runs: usize,
        future: bool,
        count_first: bool,
    ) -> Result<Prepared, RunError> {
        if future {
            if let WorkloadInput::Trace { path, rate, .. } = self {
                // The counting pass tells how long the trace is. A trace
                // longer than a synthetic stream is held keeps streaming,
                // its future spilled to a temporary file; a shorter one is
                // read into memory, its counts kept.
                let mut p = self.prepare_inner(seed, 1, true)?;
                if p.requests > generate_in_pieces_above() {
                    let spilled = super::future_file::SpilledNextUse::build(&p.data, p.requests)?;
                    p.next_use_file = Some(spilled);
                } else if let Data::Stream { format, .. } = &p.data {
                    let batch = trace::read_all(path, Some(format), *rate)?;
                    p.next_use = Some(crate::workload::future::next_use(&batch.keys));
                    p.data = Data::Memory(batch);
                }
                return Ok(p);
            }
        }
        let runs = if future { runs.max(2) } else { runs };
        let mut p = self.prepare_inner(seed, runs, count_first)?;
        if let (true, Data::Memory(b)) = (future, &p.data) {
            p.next_use = Some(crate::workload::future::next_use(&b.keys));
        }
        Ok(p)
    }

    fn prepare_inner(
        &self,
        seed: u64,
        runs: usize,
        count_first: bool,
    ) -> Result<Prepared, RunError> {
        let label = self.label();
        match self {
            WorkloadInput::Preset { preset, .. } => {
                let zipf_sampler = preset.zipf_sampler();
                if preset.streams() && preset.requests > generate_in_pieces_above() {
                    // Drawn in pieces: one pass counts the distinct keys
                    // (all below the key count: a bitmap of it).
                    let data = Data::Generated {
                        preset: Box::new(preset.clone()),
                        seed,
                    };
                    let mut seen = vec![0u64; preset.keys.div_ceil(64) as usize];
                    data.for_each_chunk(CHUNK * 16, |b, range, _| -> Result<(), RunError> {
                        for &k in &b.keys[range] {
                            seen[(k / 64) as usize] |= 1 << (k % 64);
                        }
                        Ok(())
                    })?;
                    return Ok(Prepared {
                        label,
                        requests: preset.requests,
                        distinct: seen.iter().map(|w| u64::from(w.count_ones())).sum(),
                        data,
                        next_use: None,
                        zipf_sampler,
                        next_use_file: None,
                        key_space: OnceLock::new(),
                    });
                }
                let batch = preset.generate(seed);
                let distinct = batch.distinct_keys();
                Ok(Prepared {
                    label,
                    requests: batch.len() as u64,
                    distinct,
                    data: Data::Memory(batch),
                    next_use: None,
                    zipf_sampler,
                    next_use_file: None,
                    key_space: OnceLock::new(),
                })
            }
            WorkloadInput::Trace { path, format, rate } => {
                let format = match format {
                    Some(f) => f.clone(),
                    None => TraceSpec::from(trace::detect(path)?),
                };
                if runs > 1 {
                    let batch = trace::read_all(path, Some(&format), *rate)?;
                    let distinct = batch.distinct_keys();
                    return Ok(Prepared {
                        label,
                        requests: batch.len() as u64,
                        distinct,
                        data: Data::Memory(batch),
                        next_use: None,
                        zipf_sampler: "",
                        next_use_file: None,
                        key_space: OnceLock::new(),
                    });
                }
                if !count_first {
                    // One run, counted by its replay: one pass.
                    return Ok(Prepared {
                        label,
                        requests: 0,
                        distinct: 0,
                        data: Data::Stream {
                            path: path.clone(),
                            format,
                            rate: *rate,
                            counts: Some(Arc::default()),
                        },
                        next_use: None,
                        zipf_sampler: "",
                        next_use_file: None,
                        key_space: OnceLock::new(),
                    });
                }
                // One run: a counting pass now, the replay streams later.
                let mut reader = trace::open(path, Some(&format))?;
                let mut b = Batch::new(*rate, 1);
                let mut seen = crate::workload::distinct::DistinctKeys::new();
                let mut requests = 0u64;
                while reader.next_batch(&mut b, CHUNK)? > 0 {
                    requests += b.len() as u64;
                    seen.extend(&b.keys);
                }
                if requests == 0 {
                    return Err(TraceError::Empty { path: path.clone() }.into());
                }
                Ok(Prepared {
                    label,
                    requests,
                    distinct: seen.len(),
                    data: Data::Stream {
                        path: path.clone(),
                        format,
                        rate: *rate,
                        counts: None,
                    },
                    next_use: None,
                    zipf_sampler: "",
                    next_use_file: None,
                    key_space: OnceLock::new(),
                })
            }
        }
    }
}

/// A workload ready to replay.
#[derive(Debug)]
pub struct Prepared {
    /// The `workload` column's label.
    pub label: String,
    /// Requests in the workload (0 for a trace counted by its replay, see
    /// [`WorkloadInput::prepare_with`]).
    pub requests: u64,
    /// Distinct keys in the workload (0 for a trace counted by its
    /// replay: [`Prepared::distinct_keys`] after the replay).
    pub distinct: u64,
    /// The requests.
    pub data: Data,
    /// Next use of every request ([`crate::workload::future::next_use`]), when an
    /// offline strategy (Belady) will replay the workload.
    pub next_use: Option<Vec<u64>>,
    /// The Zipf sampler of a `zipf` preset (`alias`, `rejection-inversion`;
    /// the `zipf_sampler` column); empty otherwise.
    pub zipf_sampler: &'static str,
    /// The next uses of a trace too long to hold, on disk (instead of
    /// `next_use`).
    pub next_use_file: Option<super::future_file::SpilledNextUse>,
    /// One more than the largest key, once asked ([`Prepared::key_space`]).
    key_space: OnceLock<Option<u64>>,
}

impl Prepared {
    /// Whether the workload's counts wait for its replay's pass.
    pub(crate) fn counted_by_replay(&self) -> bool {
        self.data.counted_by_replay()
    }

    /// One more than the workload's largest key, when it is known before
    /// the replay: counted once over requests held in memory, the key
    /// count of a synthetic stream drawn in pieces; `None` for a trace
    /// streamed from its file.
    pub(crate) fn key_space(&self) -> Option<u64> {
        *self.key_space.get_or_init(|| match &self.data {
            Data::Memory(b) => b.keys.iter().max().map(|&k| k.saturating_add(1)),
            Data::Generated { preset, .. } => Some(preset.keys),
            Data::Stream { .. } => None,
        })
    }

    /// The key-space hint for a policy replaying this workload
    /// ([`policy::Policy::index_keys_below`]): its key space when known;
    /// for a streamed trace, a guess that its keys fit a direct index,
    /// which the first larger key undoes.
    pub(crate) fn key_space_hint(&self) -> u64 {
        self.key_space().unwrap_or(policy::DIRECT_INDEX_MAX)
    }

    /// Distinct keys in the workload (the `distinct_keys` column): counted
    /// before the replay, or by the replay's pass once it has read the
    /// whole trace (0 before that).
    pub(crate) fn distinct_keys(&self) -> u64 {
        match &self.data {
            Data::Stream {
                counts: Some(c), ..
            } => c.get().map_or(0, |c| c.distinct),
            _ => self.distinct,
        }
    }

    /// Makes sure a real origin holds every key of the workload, with a
    /// value of the key's (first) size.
    pub(crate) fn populate(&self, origin: &dyn OriginBackend) -> Result<u64, RunError> {
        let mut seen = FxHashSet::default();
        let mut keys = Vec::new();
        self.data
            .for_each_chunk(CHUNK, |b, range, _| -> Result<(), RunError> {
                for i in range {
                    let r = b.request(i, 0);
                    if seen.insert(r.key) {
                        keys.push((r.key, r.size));
                    }
                }
                Ok(())
            })?;
        origin.populate(&mut keys.into_iter())
    }
}

/// A workload's requests: in memory (generated, or a trace several runs
/// share), or a trace read again for each pass.
#[derive(Debug)]
pub enum Data {
    /// Requests held in memory.
    Memory(Batch),
    /// A trace file, read again for each pass (on a second thread, see
    /// [`super::reader`]).
    Stream {
        /// The trace file.
        path: PathBuf,
        /// Its reader.
        format: TraceSpec,
        /// Requests per second for requests without timestamps.
        rate: f64,
        /// For a trace prepared without a counting pass: its requests and
        /// distinct keys, set by the first whole pass (the replay).
        counts: Option<Arc<OnceLock<StreamCounts>>>,
    },
    /// A synthetic stream drawn again for each pass, in pieces: longer
    /// than [`generate_in_pieces_above`] requests, it is never held whole.
    Generated {
        /// The preset (overrides applied).
        preset: Box<Preset>,
        /// The run's seed.
        seed: u64,
    },
}

/// Synthetic workloads longer than this many requests (of a generator
/// that draws requests independently: `zipf`, `uniform`) are drawn in
/// pieces for each pass instead of held in memory, so a run's memory does
/// not grow with its length: `$CACHESIM_GENERATE_IN_PIECES_ABOVE`, else 64M
/// (512 MB of keys).
pub fn generate_in_pieces_above() -> u64 {
    std::env::var("CACHESIM_GENERATE_IN_PIECES_ABOVE")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(64_000_000)
}

impl Data {
    /// Whether this is a trace prepared without a counting pass, whose
    /// requests and distinct keys its replay counts.
    pub(crate) fn counted_by_replay(&self) -> bool {
        matches!(
            self,
            Data::Stream {
                counts: Some(_),
                ..
            }
        )
    }

    /// Requests per second of requests without a timestamp.
    pub(crate) fn rate(&self) -> f64 {
        match self {
            Data::Memory(b) => b.rate,
            Data::Stream { rate, .. } => *rate,
            Data::Generated { preset, .. } => preset.rate(),
        }
    }

    /// The one walk over a workload's requests: calls `f(batch, range,
    /// vtime_base)` on pieces of at most `chunk` requests, in stream order
    /// (request `i` of `batch` is number `vtime_base + i` of the stream). A
    /// trace is read as it goes, one batch in memory. Stops with
    /// [`crate::interrupt::Interrupted`] at the first piece after a signal
    /// (every replay walks the workload here, so every replay stops).
    pub(crate) fn for_each_chunk<E: From<TraceError> + From<crate::interrupt::Interrupted>>(
        &self,
        chunk: usize,
        mut f: impl FnMut(&Batch, std::ops::Range<usize>, u64) -> Result<(), E>,
    ) -> Result<(), E> {
        match self {
            Data::Memory(batch) => {
                let mut start = 0;
                while start < batch.len() {
                    crate::interrupt::check()?;
                    let end = (start + chunk).min(batch.len());
                    f(batch, start..end, 0)?;
                    start = end;
                }
            }
            Data::Stream {
                path,
                format,
                rate,
                counts,
            } => {
                super::reader::for_each_read(path, format, *rate, chunk, counts.as_deref(), f)?;
            }
            Data::Generated { preset, seed } => {
                let mut s = preset.stream(*seed).expect("a streamed generator");
                let mut b = s.batch();
                let mut vtime = 0u64;
                while s.next_batch(&mut b, chunk) > 0 {
                    crate::interrupt::check()?;
                    f(&b, 0..b.len(), vtime)?;
                    vtime += b.len() as u64;
                }
            }
        }
        Ok(())
    }
}

/// One run's settings.
#[derive(Debug, Clone)]
pub struct RunConfig {
    /// The strategy spec to build.
    pub strategy: StrategySpec,
    /// The capacity as given, resolved against the workload.
    pub capacity: Capacity,
    /// The run's seed (the `seed` column), for randomised strategies and the
    /// origin latency model.
    pub seed: u64,
    /// The run's value on the `--ttl` axis, seconds; `None` without `--ttl`.
    pub ttl: Option<f64>,
    /// Record latency against this origin; `None` is `--no-latency`.
    pub latency: Option<OriginSpec>,
    /// Replay over a fleet of application instances instead of one cache.
    pub fleet: Option<FleetConfig>,
    /// Write policy, warm-up, prefill and timeline windows.
    pub fresh: FreshRun,
    /// `--l1-capacity`: each instance's L1 in a tiered strategy.
    pub l1_capacity: Option<Capacity>,
    /// The engines that run strategies the runner does not build.
    pub engines: Engines,
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
    run_one_timeline(w, cfg, pb).map(|(r, h, _)| (r, h))
}

/// [`run_one`], also returning the run's timeline (with `--window`).
#[allow(clippy::type_complexity)]
pub(crate) fn run_one_timeline(
    w: &Prepared,
    cfg: &RunConfig,
    pb: &ProgressBar,
) -> Result<
    (
        RunResult,
        Option<hdrhistogram::Histogram<u64>>,
        Vec<TimelineRow>,
    ),
    RunError,
> {
    let strategy = Strategy::parse(&cfg.strategy, &cfg.engines)?;
    if let Some(g) = cfg.fresh.opts.group_by {
        if strategy.engine(&cfg.engines).is_some() || strategy.shared || cfg.fleet.is_some() {
            return Err(RunError::Workload(format!(
                "--group-by {g} counts one in-process cache; '{}' runs a fleet or a server",
                cfg.strategy.name
            )));
        }
    }
    if let Some(out) = run_engine(&strategy, w, cfg, pb)? {
        let timeline = out
            .2
            .iter()
            .map(|p| TimelineRow::new(&out.0, p, cfg.ttl))
            .collect();
        return Ok((out.0, out.1, timeline));
    }
    if w.counted_by_replay()
        && (matches!(cfg.capacity, Capacity::Percent(_))
            || matches!(cfg.l1_capacity, Some(Capacity::Percent(_))))
    {
        return Err(RunError::Workload(format!(
            "a capacity given as a share of the distinct keys needs '{}' counted before its replay",
            w.label
        )));
    }
    let cap = cfg.capacity.resolve(w.distinct);
    let kind = cfg.capacity.kind();
    if policy::needs_byte_capacity(&strategy.spec.name) && kind != CapacityKind::Bytes {
        return Err(RunError::Workload(format!(
            "strategy '{}' models memory in bytes and reads each object's size from it: give a byte capacity (e.g. 4MiB)",
            strategy.spec.name
        )));
    }
    // `shared:<spec>` runs the fleet against one shared cache;
    // `tiered-local:L1+L2` puts an L1 per instance in front of it.
    let (spec, shared) = (&strategy.spec, strategy.shared);
    let fleet = match (&cfg.fleet, shared) {
        (Some(f), true) => Some(FleetConfig {
            shared: true,
            ..f.clone()
        }),
        (None, true) => Some(FleetConfig::single_shared(
            cfg.fresh.opts.on_write,
            cfg.seed,
        )),
        (f, false) => f.clone(),
    };
    let mut built = policy::build(
        spec,
        &BuildCtx {
            capacity: cap,
            seed: cfg.seed,
            ttl: cfg.ttl,
        },
    )?;
    // The L1 of `tiered-local`: its spec, canonical form and capacity.
    let l1 = match &strategy.kind {
        Kind::TieredLocal { l1 } => {
            let l1_cap = cfg.l1_capacity.ok_or_else(|| {
                RunError::Workload(format!(
                    "strategy '{}' needs --l1-capacity (the L1 of each instance; --capacity sizes the shared L2)",
                    cfg.strategy.name
                ))
            })?;
            let canonical = policy::validate(l1)?;
            Some((l1.clone(), canonical, l1_cap.resolve(w.distinct)))
        }
        _ => None,
    };
    match &l1 {
        Some((_, l1_canon, _)) => {
            built.canonical = format!("tiered-local:{l1_canon}+{}", built.canonical)
        }
        None if shared => built.canonical = format!("shared:{}", built.canonical),
        None => {}
    }
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
    // Every cache of the run is told the workload's key space.
    let hinted = |mut p: policy::AnyPolicy| {
        p.index_keys_below(w.key_space_hint());
        p
    };
    let mut policy = hinted(built.policy);
    // A restart (`--restart-every`) rebuilds the policy as it was built.
    let make_cold = || hinted(policy::maker(spec, cfg.seed, cfg.ttl)(cap));
    let mut c = Counters::default();
    let mut drv = Driver::new(&cfg.fresh);
    // Where an offline policy's next uses come from: the array, or the
    // file of a trace too long to hold.
    let mut future = match (strategy.needs_future(), &w.next_use, &w.next_use_file) {
        (false, _, _) => Future::Memory(None),
        (true, Some(n), _) => Future::Memory(Some(n.as_slice())),
        (true, None, Some(f)) => Future::File(f.reader()),
        (true, None, None) => {
            return Err(RunError::Workload(format!(
                "strategy '{}' needs the future of the workload; prepare it with prepare_for(.., future = true)",
                spec.name
            )))
        }
    };
    if strategy.needs_future() && fleet.is_some() {
        return Err(RunError::Workload(format!(
            "strategy '{}' is offline (it needs the future) and cannot run in a fleet",
            spec.name
        )));
    }
    if let Some(ev) = &cfg.fresh.opts.events {
        if fleet.is_some() || l1.is_some() {
            return Err(RunError::Workload(format!(
                "the event mode (--clients, --arrivals, the stampede defences) simulates one cache; '{}' runs a fleet",
                cfg.strategy.name
            )));
        }
        let Future::Memory(next_use) = future else {
            return Err(RunError::Workload(format!(
                "strategy '{}' on a trace whose future is on disk does not run in the event mode",
                spec.name
            )));
        };
        let b = super::event::run::Built {
            policy,
            canonical: built.canonical,
            charge,
            kind,
            next_use,
        };
        let (r, h, points) = super::event::run::run(w, cfg, ev, b, pb)?;
        let timeline = points
            .iter()
            .map(|p| TimelineRow::new(&r, p, cfg.ttl))
            .collect();
        return Ok((r, h, timeline));
    }
    let start = Instant::now();
    let mut memory_objects = 0;
    let mut tier_hits = None;
    let mut fleet_stale = None;
    let lat = match (&cfg.latency, &fleet) {
        (_, Some(fleet)) => {
            // A fleet of caches; latency is not recorded for fleets.
            let make = policy::maker(spec, cfg.seed, cfg.ttl);
            let fcfg = FleetConfig {
                seed: cfg.seed,
                on_write: cfg.fresh.opts.on_write,
                ..fleet.clone()
            };
            let make_l1 = l1
                .as_ref()
                .map(|(l1_spec, _, _)| policy::maker(l1_spec, cfg.seed, cfg.ttl));
            let mut f = match (&l1, &make_l1) {
                (Some((_, _, l1_cap)), Some(make_l1)) => {
                    Fleet::tiered(make_l1, *l1_cap, &make, charge, &fcfg)
                }
                _ => Fleet::new(&make, charge, &fcfg),
            };
            // A restart rebuilds the caches in the instances: their own
            // (local mode) or their L1s; a shared cache stays.
            let renew = Renew {
                local: Some(&make),
                l1: make_l1
                    .as_ref()
                    .map(|m| m as &dyn Fn(u64) -> policy::AnyPolicy),
            };
            drv.phases = std::mem::take(&mut drv.phases).for_instances(fcfg.instances.max(1));
            let mut prefill = cfg.fresh.prefill_keys.as_ref().map(|k| k.as_slice());
            for_each_batch(&w.data, pb, |b, range, base| {
                f.feed(&mut drv.phases, &mut prefill, &renew, b, range, base);
                Ok(())
            })?;
            let out = f.finish();
            c = out.total;
            memory_objects = out.memory_objects;
            tier_hits = Some((out.l1_hits, out.l2_hits));
            fleet_stale = Some(out.stale);
            None
        }
        (None, None) => {
            replay_cache(
                &mut policy,
                &make_cold,
                &w.data,
                &mut future,
                charge,
                &mut c,
                pb,
                &mut NoLatency,
                &mut drv,
            )?;
            None
        }
        (Some(OriginSpec::Model(m)), None) => {
            let mut t = Timed::new(ModelOrigin::new(m, cfg.seed));
            replay_cache(
                &mut policy,
                &make_cold,
                &w.data,
                &mut future,
                charge,
                &mut c,
                pb,
                &mut t,
                &mut drv,
            )?;
            Some(finish_timed(t))
        }
        (Some(OriginSpec::Backend(b)), None) => {
            // A lost origin names the run it broke, as a lost Redis does.
            let named = |e| named_origin_error(e, &built.canonical, &cfg.capacity, &w.label);
            let mut t = Timed::new(b.connect().map_err(named)?);
            replay_cache(
                &mut policy,
                &make_cold,
                &w.data,
                &mut future,
                charge,
                &mut c,
                pb,
                &mut t,
                &mut drv,
            )
            .map_err(named)?;
            Some(finish_timed(t))
        }
    };
    // A fleet counted its own stale hits; one cache's are the driver's.
    let stale = fleet_stale.unwrap_or_else(|| drv.stale());
    drv.phases.finish(c.gets, c.hits, stale.stale_hits);
    let elapsed = start.elapsed().as_secs_f64();
    if fleet.is_none() {
        memory_objects = policy::Policy::len(&policy) as u64;
    }
    let base = base_result(
        w,
        built.canonical,
        (cap, kind, cfg.capacity.label()),
        &c,
        elapsed,
        cfg,
        lat.as_ref().map(|l| l.summary),
    );
    let origin = if fleet.is_some() {
        String::new()
    } else {
        base.origin.clone()
    };
    let groups = match (cfg.fresh.opts.group_by, drv.groups()) {
        (Some(by), Some(g)) => g
            .rows()
            .map(|(t, gc)| RunResult {
                group: by.label(t),
                origin_requests: gc.misses + gc.sets,
                memory_objects,
                ..base_result(
                    w,
                    base.strategy.clone(),
                    (cap, kind, cfg.capacity.label()),
                    gc,
                    elapsed,
                    cfg,
                    None,
                )
            })
            .collect(),
        _ => Vec::new(),
    };
    let result = RunResult {
        groups,
        origin_requests: c.misses + c.sets,
        origin_time_s: lat.as_ref().map(|l| l.origin_ns as f64 / 1e9),
        origin,
        l1_hits: tier_hits.map_or(c.hits, |t| t.0),
        l2_hits: tier_hits.map_or(0, |t| t.1),
        restarts: drv.phases.restarts(),
        ..fleet_columns(base, fleet.as_ref(), memory_objects, &stale, c.gets)
    };
    let timeline = drv
        .phases
        .timeline
        .iter()
        .map(|p| TimelineRow::new(&result, p, cfg.ttl))
        .collect();
    Ok((result, lat.map(|l| l.overall), timeline))
}

/// An origin's error `e` naming the run it broke (`run lru c=10% on zipf
/// failed: ...`); other errors as they are.
pub(crate) fn named_origin_error(
    e: RunError,
    strategy: &str,
    capacity: &Capacity,
    workload: &str,
) -> RunError {
    match e {
        RunError::Origin(msg) => RunError::Origin(format!(
            "run {strategy} c={} on {workload} failed: origin: {msg}",
            capacity.label()
        )),
        e => e,
    }
}

/// Runs `cfg` on the engine of its strategy (or of the shared cache of
/// `shared:NAME`), if an engine runs it; `None` for in-process strategies.
fn run_engine(
    strategy: &Strategy,
    w: &Prepared,
    cfg: &RunConfig,
    pb: &ProgressBar,
) -> Result<Option<super::backend::EngineRun>, RunError> {
    let Some(e) = strategy.engine(&cfg.engines) else {
        return Ok(None);
    };
    if !strategy.shared {
        return e.run(w, cfg, pb).map(Some);
    }
    // `shared:NAME`: the engine's cache is the shared cache of the fleet.
    let cfg = RunConfig {
        strategy: strategy.spec.clone(),
        fleet: Some(FleetConfig {
            shared: true,
            ..cfg
                .fleet
                .clone()
                .unwrap_or_else(|| FleetConfig::single_shared(cfg.fresh.opts.on_write, cfg.seed))
        }),
        ..cfg.clone()
    };
    e.run(w, &cfg, pb).map(Some)
}

/// Replays the workload through one in-process cache: monomorphised for
/// the policy as a whole without restarts; with `--restart-every`, the
/// driver cuts the workload at the restarts and rebuilds the policy with
/// `make` there (dispatched once per piece).
#[allow(clippy::too_many_arguments)]
fn replay_cache<L: LatencySink>(
    policy: &mut policy::AnyPolicy,
    make: &dyn Fn() -> policy::AnyPolicy,
    data: &Data,
    future: &mut Future,
    charge: ChargeModel,
    c: &mut Counters,
    pb: &ProgressBar,
    lat: &mut L,
    drv: &mut Driver,
) -> Result<(), RunError> {
    if drv.restarts_on() {
        return for_each_batch(data, pb, |b, range, base| {
            let next_use = future.slice(base, b.len())?;
            drv.feed_restarting(policy, make, b, range, base, next_use, charge, c, lat)
                .map_err(|e| RunError::Origin(e.0))
        });
    }
    dispatch!(policy, p => replay_data(p, data, future, charge, c, pb, lat, drv))
}

#[allow(clippy::too_many_arguments)]
fn replay_data<P: policy::Policy, L: LatencySink>(
    p: &mut P,
    data: &Data,
    future: &mut Future,
    charge: ChargeModel,
    c: &mut Counters,
    pb: &ProgressBar,
    lat: &mut L,
    drv: &mut Driver,
) -> Result<(), RunError> {
    for_each_batch(data, pb, |b, range, base| {
        let next_use = future.slice(base, b.len())?;
        drv.feed(p, b, range, base, next_use, charge, c, lat)
            .map_err(|e| RunError::Origin(e.0))
    })
}

/// The columns every kind of run fills the same way: identity, counters and
/// their ratios, timing, and the latency summary. Callers override the
/// columns specific to them with struct update syntax.
pub(crate) fn base_result(
    w: &Prepared,
    strategy: String,
    (capacity, kind, capacity_spec): (u64, CapacityKind, String),
    c: &Counters,
    elapsed: f64,
    cfg: &RunConfig,
    s: Option<LatencySummary>,
) -> RunResult {
    RunResult {
        workload: w.label.clone(),
        strategy,
        capacity,
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
        distinct_keys: w.distinct_keys(),
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
        capacity_spec,
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
        lat_spectrum_us: s
            .map(|s| super::latency::format_spectrum(&s.spectrum_us))
            .unwrap_or_default(),
        on_write: cfg.fresh.opts.on_write.as_str().to_string(),
        warmup: cfg.fresh.warmup,
        prefill: cfg
            .fresh
            .opts
            .prefill
            .map(|k| format!("top:{k}"))
            .unwrap_or_default(),
        restart_every: cfg
            .fresh
            .opts
            .restart
            .map(|r| r.every.label())
            .unwrap_or_default(),
        rolling: cfg.fresh.opts.restart.is_some_and(|r| r.rolling),
        origin_requests: c.misses,
        origin: cfg.latency.as_ref().map(|o| o.label()).unwrap_or_default(),
        writes: c.sets,
        ttl_s: cfg.ttl,
        instances: 1,
        l1_hits: c.hits,
        // A single run; a sweep sets the threads it ran on and the reader.
        threads: 1,
        rate: w.data.rate(),
        zipf_sampler: w.zipf_sampler.to_string(),
        ..RunResult::default()
    }
}

/// Calls `f(batch, range, vtime_base)` over the workload's requests in
/// chunks, advancing the progress bar.
pub(crate) fn for_each_batch(
    data: &Data,
    pb: &ProgressBar,
    mut f: impl FnMut(&Batch, std::ops::Range<usize>, u64) -> Result<(), RunError>,
) -> Result<(), RunError> {
    // In memory, bigger pieces: fewer progress updates, same results.
    let chunk = match data {
        Data::Memory(_) | Data::Generated { .. } => CHUNK * 16,
        Data::Stream { .. } => CHUNK,
    };
    // A trace not counted before its replay grows the bar as it is read.
    let uncounted = data.counted_by_replay();
    data.for_each_chunk(chunk, |b, range, base| {
        let n = range.len() as u64;
        f(b, range, base)?;
        if uncounted {
            pb.inc_length(n);
        }
        pb.inc(n);
        Ok(())
    })
}
