//! Sweeps: every workload x seed x strategy x capacity of a [`Plan`] as one
//! job, run in parallel across runs (never inside one replay) on a rayon
//! pool, with results in a stable order that does not depend on the number
//! of threads.
//!
//! Order of the rows: workloads as given (the `--workload` presets, then the
//! `--trace` files), then seeds as given, then strategies as given, then
//! capacities as given (ranges expanded in place), then the `--ttl` axis,
//! then the `--on-write` axis; the last varies fastest.
//!
//! Sharing: each workload is prepared once and shared read-only by its runs.
//! A trace does not depend on the seed, so it is decoded once for all seeds
//! (into the compact in-memory [`crate::workload::Batch`]: keys, plus sizes,
//! times or ops only when the trace has them); a synthetic workload is
//! generated once per seed. Runs are handed out in row order from one
//! counter, and a prepared workload is dropped as soon as its last run ends,
//! so a sweep holds at most one prepared workload per thread plus one cache
//! per thread, whatever the number of runs.
//!
//! Determinism: every run is independent (its own policy, seeded from the
//! run's seed), results are stored by row index, and the first failing row
//! (in row order) is the error reported, so the output is byte-identical for
//! any `--threads` except the measured columns
//! ([`super::result::MEASURED_COLUMNS`]) and `threads` itself. Histogram
//! files are numbered by row.
//!
//! Shards ([`super::shard`]): `--shard I/N` runs the runs at positions
//! k with `k mod N + 1 = I` and nothing else (only their workloads are
//! prepared); every row records its run's position in the whole plan
//! (`run_index`), the plan's run count and fingerprint, so
//! `cachesim merge` can rebuild the unsharded rows.

use super::backend::{Engine, Engines, FleetUse};
use super::capacity::Capacity;
use super::fleet::FleetConfig;
use super::latency;
use super::phases::{FreshOptions, FreshRun, TimelineRow};
use super::result::RunResult;
use super::runner::{run_one_timeline, OriginSpec, Prepared, RunConfig, RunError, WorkloadInput};
use super::shard::Shard;
use super::strategy::Strategy;
use super::write::OnWrite;
use crate::files::Outputs;
use crate::policy::{self, StrategySpec};
use crate::workload::trace;
use hdrhistogram::Histogram;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// The most runs one command makes ([`Plan::check_run_count`]).
pub const MAX_RUNS: u64 = 100_000;

/// A whole plan: workloads x seeds x strategies x capacities x TTLs, in that
/// nesting order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The workloads, outermost.
    pub workloads: Vec<WorkloadInput>,
    /// The strategy specs to run on each workload.
    pub strategies: Vec<StrategySpec>,
    /// The capacities to run each strategy at.
    pub capacities: Vec<Capacity>,
    /// Seeds, each a separate set of runs (`--seeds`), at least one.
    pub seeds: Vec<u64>,
    /// The `--ttl` axis: one run per value (for the `ttl` strategy; others
    /// ignore it); empty means one run without `--ttl`.
    pub ttls: Vec<f64>,
    /// The `--on-write` axis, innermost: one run per write policy; empty
    /// means one run with `fresh.on_write`.
    pub on_writes: Vec<OnWrite>,
    /// Record latency against this origin; `None` is `--no-latency`.
    pub latency: Option<OriginSpec>,
    /// Write each run's overall latency histogram (`.hgrm`) here.
    pub histograms: Option<PathBuf>,
    /// Write policy, warm-up, prefill and timeline windows.
    pub fresh: FreshOptions,
    /// Replay over a fleet of application instances instead of one cache.
    pub fleet: Option<FleetConfig>,
    /// `--l1-capacity`: each instance's L1 in a tiered strategy.
    pub l1_capacity: Option<Capacity>,
    /// The engines that run strategies the runner does not build (real
    /// servers), registered by the command.
    pub engines: Engines,
    /// Runs at once; `None` for all cores.
    pub threads: Option<usize>,
}

/// What a plan produced: the rows that finished (see [`Plan::run_keep`]),
/// their timeline rows, the histogram files written, and why it stopped.
pub(crate) struct Outcome {
    pub(crate) results: Vec<RunResult>,
    pub(crate) timeline: Vec<TimelineRow>,
    /// The `.hgrm` files written (and the folder, if this plan created it).
    pub(crate) histograms: Outputs,
    pub(crate) err: Option<RunError>,
}

/// What one run produced.
type RunOut = (RunResult, Option<Histogram<u64>>, Vec<TimelineRow>);

/// One run of the plan: indices into the plan's lists.
#[derive(Debug, Clone, Copy)]
struct Job {
    /// Position in the whole plan's row order, from 0.
    index: usize,
    workload: usize,
    seed: usize,
    strategy: usize,
    capacity: usize,
    ttl: Option<f64>,
    on_write: OnWrite,
    slot: usize,
}

/// A prepared workload shared by the runs of one slot (one trace, or one
/// synthetic workload and seed).
#[derive(Default)]
struct Slot {
    prepared: Option<Arc<Prepared>>,
    /// Warm-up, prefill and windows resolved for this workload.
    fresh: FreshRun,
    /// Runs of this slot not finished yet; at 0 the workload is dropped.
    remaining: usize,
    failed: bool,
    /// `trace_format` column: the reader used, empty for synthetic workloads.
    format: String,
}

impl Plan {
    /// Every strategy of the plan, parsed and checked.
    fn parsed(&self) -> Result<Vec<Strategy>, policy::SpecError> {
        let mut out = Vec::new();
        for s in &self.strategies {
            let s = Strategy::parse(s, &self.engines)?;
            s.validate(&self.engines)?;
            out.push(s);
        }
        Ok(out)
    }

    /// The TTL of each run along the `--ttl` axis.
    fn ttl_axis(&self) -> Vec<Option<f64>> {
        if self.ttls.is_empty() {
            vec![None]
        } else {
            self.ttls.iter().map(|&t| Some(t)).collect()
        }
    }

    /// The write policy of each run along the `--on-write` axis.
    fn on_write_axis(&self) -> Vec<OnWrite> {
        if self.on_writes.is_empty() {
            vec![self.fresh.on_write]
        } else {
            self.on_writes.clone()
        }
    }

    /// The number of threads the plan runs on. Runs that talk to a server
    /// (a strategy run by an engine, a real origin) run one at a time, so
    /// they do not compete for the server and their latencies and
    /// throughput stay clean; the others use `threads` (default: all cores),
    /// but never more threads than runs (an idle thread only costs) nor
    /// than [`super::max_threads`].
    pub fn thread_count(&self) -> usize {
        self.threads_for(self.run_count())
    }

    /// [`Plan::thread_count`] for `--shard`: never more threads than the
    /// shard's runs.
    pub fn shard_thread_count(&self, shard: Option<Shard>) -> usize {
        self.threads_for(self.shard_run_count(shard))
    }

    /// The runs of one shard of the plan (all of them without `--shard`).
    pub fn shard_run_count(&self, shard: Option<Shard>) -> usize {
        let runs = self.run_count();
        shard.map_or(runs, |s| s.runs_of(runs))
    }

    fn threads_for(&self, runs: usize) -> usize {
        let uses_server = self.strategies.iter().any(|s| {
            Strategy::parse(s, &self.engines).is_ok_and(|s| s.engine(&self.engines).is_some())
        }) || matches!(self.latency, Some(OriginSpec::Backend(_)));
        if uses_server {
            return 1;
        }
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        self.threads
            .unwrap_or(cores)
            .min(super::max_threads())
            .min(runs)
            .max(1)
    }

    /// The number of runs of the plan (rows of a complete result):
    /// workloads × seeds × strategies × capacities × TTLs (saturating),
    /// without listing them.
    pub fn run_count(&self) -> usize {
        let per_workload = self
            .capacity_runs()
            .iter()
            .fold(0usize, |n, &k| n.saturating_add(k));
        [
            self.workloads.len(),
            self.seeds.len(),
            per_workload,
            self.ttls.len().max(1),
            self.on_writes.len().max(1),
        ]
        .iter()
        .fold(1usize, |n, &k| n.saturating_mul(k))
    }

    /// Whether `--capacity` does not size `spec`'s cache (its engine says
    /// so): such a strategy runs once per other axis, not once per capacity.
    fn capacity_free(&self, spec: &StrategySpec) -> bool {
        Strategy::parse(spec, &self.engines).is_ok_and(|s| {
            s.engine(&self.engines)
                .is_some_and(|e| !e.uses_capacity(&s.spec))
        })
    }

    /// The capacities each strategy runs at: every one, or the first alone
    /// for a strategy `--capacity` does not size.
    fn capacity_runs(&self) -> Vec<usize> {
        self.strategies
            .iter()
            .map(|s| {
                if self.capacity_free(s) {
                    self.capacities.len().min(1)
                } else {
                    self.capacities.len()
                }
            })
            .collect()
    }

    /// The strategies of a sweep over several capacities that run once
    /// (`--capacity` does not size them), for a note.
    pub fn measured_once(&self) -> Vec<String> {
        if self.capacities.len() < 2 {
            return Vec::new();
        }
        self.strategies
            .iter()
            .filter(|s| self.capacity_free(s))
            .filter_map(|s| {
                let s = Strategy::parse(s, &self.engines).ok()?;
                s.engine(&self.engines)?.validate(&s.spec).ok()
            })
            .collect()
    }

    /// Refuses a plan of more than [`MAX_RUNS`] runs (each keeps its result
    /// row until the results are written), naming the axes to shrink.
    pub fn check_run_count(&self) -> Result<(), String> {
        let n = self.run_count() as u64;
        if n <= MAX_RUNS {
            return Ok(());
        }
        Err(format!(
            "the sweep has {n} runs ({} workloads × {} seeds × {} strategies × {} capacities × {} TTLs × {} write policies); at most {MAX_RUNS} in one command: use fewer --capacity points, --seeds or strategies, or split the sweep",
            self.workloads.len(),
            self.seeds.len(),
            self.strategies.len(),
            self.capacities.len(),
            self.ttls.len().max(1),
            self.on_writes.len().max(1)
        ))
    }

    /// The plan's fingerprint (the `sweep_id` column): a hash of the
    /// cachesim version and of everything that decides the plan's runs and
    /// their results (workloads, seeds, canonical strategies, capacities,
    /// the TTL and write axes, origin, freshness options, fleet, L1), not
    /// of where outputs go or the threads. The shards of one sweep share it.
    pub fn sweep_id(&self) -> String {
        let strategies: Vec<String> = self
            .strategies
            .iter()
            .map(|spec| match Strategy::parse(spec, &self.engines) {
                Ok(s) => {
                    let c = s.validate(&self.engines).unwrap_or_default();
                    format!("{}{c}", if s.shared { "shared:" } else { "" })
                }
                Err(_) => format!("{spec:?}"),
            })
            .collect();
        // What decides the rows, spelled alike however it was given: the
        // warm-up as the requests it skips of each synthetic workload (25%
        // of 80k is 20000), and not `--window` (it adds a timeline, and
        // changes no result).
        let mut fresh = self.fresh.clone();
        fresh.window = None;
        let warmup = fresh.warmup.take();
        let warmups: Vec<String> = self
            .workloads
            .iter()
            .map(|w| match (warmup, w) {
                (Some(wu), WorkloadInput::Preset { preset, .. }) => {
                    wu.resolve(preset.requests).to_string()
                }
                (wu, _) => format!("{wu:?}"),
            })
            .collect();
        let text = format!(
            "{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            env!("CARGO_PKG_VERSION"),
            self.workloads,
            strategies,
            self.capacities,
            self.seeds,
            self.ttl_axis(),
            self.on_write_axis(),
            self.latency,
            fresh,
            warmups,
            self.fleet,
            self.l1_capacity,
        );
        super::shard::fingerprint(&text)
    }

    /// The runs of `shard` (every run without one) in row order, and the
    /// number of those runs per slot (0 for a slot the shard does not use).
    fn jobs(&self, shard: Option<Shard>) -> (Vec<Job>, Vec<usize>) {
        let (mut jobs, mut slot_runs) = self.all_jobs();
        if let Some(shard) = shard {
            jobs.retain(|j| shard.has(j.index));
            slot_runs.iter_mut().for_each(|n| *n = 0);
            for j in &jobs {
                slot_runs[j.slot] += 1;
            }
        }
        (jobs, slot_runs)
    }

    /// Every run in row order, and the number of runs per slot.
    fn all_jobs(&self) -> (Vec<Job>, Vec<usize>) {
        let mut jobs = Vec::new();
        let mut slot_runs = Vec::new();
        let capacity_runs = self.capacity_runs();
        for (wi, w) in self.workloads.iter().enumerate() {
            let shared = matches!(w, WorkloadInput::Trace { .. });
            for si in 0..self.seeds.len() {
                if !shared || si == 0 {
                    slot_runs.push(0);
                }
                let slot = slot_runs.len() - 1;
                for (st, &capacities) in capacity_runs.iter().enumerate() {
                    for ci in 0..capacities {
                        for ttl in self.ttl_axis() {
                            for on_write in self.on_write_axis() {
                                slot_runs[slot] += 1;
                                jobs.push(Job {
                                    index: jobs.len(),
                                    workload: wi,
                                    seed: si,
                                    strategy: st,
                                    capacity: ci,
                                    ttl,
                                    on_write,
                                    slot,
                                });
                            }
                        }
                    }
                }
            }
        }
        (jobs, slot_runs)
    }

    /// Runs everything on [`Plan::thread_count`] threads. Stops handing out
    /// runs at the first error and reports the first failing row: a failed
    /// plan produces no results (so no half-written file, and no histogram).
    pub fn run(&self, quiet: bool) -> Result<Vec<RunResult>, RunError> {
        self.run_full(quiet).map(|(r, _)| r)
    }

    /// [`Plan::run`], also returning every run's timeline rows (`--window`).
    pub(crate) fn run_full(
        &self,
        quiet: bool,
    ) -> Result<(Vec<RunResult>, Vec<TimelineRow>), RunError> {
        let o = self.run_keep(quiet);
        match o.err {
            Some(e) => {
                o.histograms.remove();
                Err(e)
            }
            None => Ok((o.results, o.timeline)),
        }
    }

    /// Like [`Plan::run_full`], but also returns the rows before the first
    /// failing one, so a sweep broken by a lost server keeps its finished
    /// runs; after a signal ([`crate::interrupt`]), every run that finished
    /// (the error is then [`RunError::Interrupted`]). The histograms
    /// written are the caller's to keep or remove.
    pub(crate) fn run_keep(&self, quiet: bool) -> Outcome {
        self.run_shard(quiet, None)
    }

    /// [`Plan::run_keep`] of one shard's runs (`--shard I/N`), or of every
    /// run with `None`.
    pub(crate) fn run_shard(&self, quiet: bool, shard: Option<Shard>) -> Outcome {
        let mut o = Outcome {
            results: Vec::new(),
            timeline: Vec::new(),
            histograms: Outputs::default(),
            err: None,
        };
        o.err = self.run_into(quiet, shard, &mut o).err();
        o
    }

    fn run_into(&self, quiet: bool, shard: Option<Shard>, o: &mut Outcome) -> Result<(), RunError> {
        // Reject bad strategy specs before any work.
        let parsed = self.parsed()?;
        if self.seeds.is_empty() {
            return Err(RunError::Workload("no seed given".into()));
        }
        // Refuse, before any work, a fleet an engine cannot run.
        for s in &parsed {
            if let Some(e) = s.engine(&self.engines) {
                let fleet = FleetUse {
                    instances: self.fleet.as_ref().map_or(1, |f| f.instances),
                    shared: s.shared,
                };
                e.check_fleet(&s.spec, fleet)?;
                for c in &self.capacities {
                    e.check_capacity(&s.spec, c)?;
                }
            }
        }
        // Fail fast (before generating workloads) if a server is missing.
        for e in self.engines.iter() {
            let mine: Vec<StrategySpec> = parsed
                .iter()
                // The specs this engine runs (not another registered
                // before it).
                .filter(|s| {
                    s.engine(&self.engines).is_some_and(|f| {
                        std::ptr::addr_eq(f as *const dyn Engine, e as *const dyn Engine)
                    })
                })
                .map(|s| s.spec.clone())
                .collect();
            if !mine.is_empty() {
                e.preflight(&mine)?;
            }
        }
        let threads = self.shard_thread_count(shard);
        let (jobs, slot_runs) = self.jobs(shard);
        let plan_runs = self.run_count();
        let (sweep_id, shard_label) = (self.sweep_id(), shard.map(|s| s.to_string()));
        let slots: Vec<Mutex<Slot>> = slot_runs
            .iter()
            .map(|&n| {
                Mutex::new(Slot {
                    remaining: n,
                    ..Slot::default()
                })
            })
            .collect();
        let results: Vec<Mutex<Option<Result<RunOut, RunError>>>> =
            jobs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let abort = AtomicBool::new(false);
        // Requests are added to the bar's length as workloads are prepared.
        let pb = crate::progress::bar(0, quiet);
        pb.set_prefix(format!("0/{} runs", jobs.len()));

        let work = || loop {
            if abort.load(Ordering::Relaxed) || crate::interrupt::interrupted() {
                break;
            }
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(j) else { break };
            let r = self.run_job(job, plan_runs, &slots, &pb, threads);
            if r.is_err() {
                abort.store(true, Ordering::Relaxed);
            }
            *results[j].lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
            let d = done.fetch_add(1, Ordering::Relaxed) + 1;
            pb.set_prefix(format!("{d}/{} runs", jobs.len()));
        };
        if threads == 1 {
            work();
        } else {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .map_err(|e| RunError::Workload(format!("cannot start {threads} threads: {e}")))?;
            pool.scope(|s| {
                for _ in 0..threads {
                    s.spawn(|_| work());
                }
            });
        }
        pb.finish_and_clear();

        // Rows in order, up to the first that failed or did not run (rows
        // are handed out in order, so every row before it ran); after a
        // signal, every row that finished (the others were stopped or never
        // started).
        let stopped = crate::interrupt::interrupted();
        let mut finished = 0;
        for (r, job) in results.into_iter().zip(&jobs) {
            match r.into_inner().unwrap_or_else(|e| e.into_inner()) {
                Some(Ok((mut result, hist, mut tl))) => {
                    // Where the row goes in the whole sweep (`--shard`).
                    let stamp = |r: &mut RunResult| {
                        r.run_index = job.index as u64 + 1;
                        r.runs = plan_runs as u64;
                        r.shard = shard_label.clone().unwrap_or_default();
                        r.sweep_id = sweep_id.clone();
                    };
                    stamp(&mut result);
                    result.groups.iter_mut().for_each(stamp);
                    for t in &mut tl {
                        t.run_index = job.index as u64 + 1;
                    }
                    if let (Some(dir), Some(h)) = (&self.histograms, hist) {
                        let row = o.results.len() + 1;
                        write_histogram(dir, row, &result, &h, &mut o.histograms)?;
                    }
                    o.timeline.extend(tl);
                    // A run's group rows (`--group-by`) follow its total.
                    let groups = std::mem::take(&mut result.groups);
                    o.results.push(result);
                    o.results.extend(groups);
                    finished += 1;
                }
                Some(Err(_)) | None if stopped => {}
                Some(Err(e)) => return Err(e),
                None => break,
            }
        }
        if finished != jobs.len() {
            return Err(if stopped {
                RunError::Interrupted
            } else {
                RunError::Workload("a run did not complete".into())
            });
        }
        Ok(())
    }

    /// Whether something needs a trace's requests or distinct keys before
    /// its replay: a capacity given as a share of the distinct keys, the
    /// warm-up, the windows and the prefill (resolved against the counts),
    /// a real origin (populated first) or an engine's run. Otherwise a
    /// single run's replay counts them as it reads the trace (one pass).
    fn needs_counts_first(&self) -> bool {
        let share = |c: &Capacity| matches!(c, Capacity::Percent(_));
        let fresh = &self.fresh;
        self.capacities.iter().any(share)
            || self.l1_capacity.as_ref().is_some_and(share)
            || fresh.warmup.is_some()
            || fresh.window.is_some()
            || fresh.prefill.is_some()
            || matches!(self.latency, Some(OriginSpec::Backend(_)))
            || self.strategies.iter().any(|s| {
                Strategy::parse(s, &self.engines)
                    .map_or(true, |s| s.shared || s.engine(&self.engines).is_some())
            })
    }

    /// Prepares (or shares) the job's workload, replays it, and releases the
    /// workload after its slot's last run. `total_runs`: the whole plan's
    /// runs (a shard checks `--window` as the unsharded sweep does).
    fn run_job(
        &self,
        job: &Job,
        total_runs: usize,
        slots: &[Mutex<Slot>],
        pb: &indicatif::ProgressBar,
        threads: usize,
    ) -> Result<RunOut, RunError> {
        let input = &self.workloads[job.workload];
        let seed = self.seeds[job.seed];
        let (prepared, format, fresh) = {
            let mut slot = slots[job.slot].lock().unwrap_or_else(|e| e.into_inner());
            if slot.failed {
                return Err(RunError::Workload("workload failed to load".into()));
            }
            if slot.prepared.is_none() {
                let runs = slot.remaining;
                let made = (|| -> Result<(Prepared, String, FreshRun), RunError> {
                    let format = match input {
                        WorkloadInput::Trace { path, format, .. } => match format {
                            Some(f) => f.to_string(),
                            None => trace::detect(path)?.name().to_string(),
                        },
                        WorkloadInput::Preset { .. } => String::new(),
                    };
                    let future = self
                        .strategies
                        .iter()
                        .any(|s| Strategy::parse(s, &self.engines).is_ok_and(|s| s.needs_future()));
                    let count_first = future || self.needs_counts_first();
                    let prepared = input.prepare_with(seed, runs, future, count_first)?;
                    if let Some(OriginSpec::Backend(origin)) = &self.latency {
                        prepared.populate(origin.as_ref())?;
                    }
                    let fresh = super::phases::resolve(&self.fresh, input, &prepared, total_runs)?;
                    Ok((prepared, format, fresh))
                })();
                match made {
                    Ok((p, f, fresh)) => {
                        pb.inc_length(p.requests * runs as u64);
                        let p = Arc::new(p);
                        #[cfg(test)]
                        tests::record_copy(&p);
                        slot.prepared = Some(p);
                        slot.format = f;
                        slot.fresh = fresh;
                    }
                    Err(e) => {
                        slot.failed = true;
                        return Err(e);
                    }
                }
            }
            (
                slot.prepared.clone().expect("prepared above"),
                slot.format.clone(),
                slot.fresh.clone(),
            )
        };
        let mut fresh = fresh;
        fresh.opts.on_write = job.on_write;
        let cfg = RunConfig {
            strategy: self.strategies[job.strategy].clone(),
            capacity: self.capacities[job.capacity],
            seed,
            ttl: job.ttl,
            latency: self.latency.clone(),
            fresh,
            fleet: self.fleet.clone().map(|f| FleetConfig {
                on_write: job.on_write,
                ..f
            }),
            l1_capacity: self.l1_capacity,
            engines: self.engines.clone(),
        };
        let r = run_one_timeline(&prepared, &cfg, pb);
        drop(prepared);
        {
            let mut slot = slots[job.slot].lock().unwrap_or_else(|e| e.into_inner());
            slot.remaining -= 1;
            if slot.remaining == 0 {
                slot.prepared = None;
            }
        }
        let (mut r, h, tl) = r?;
        // Kept until every run ends only when written (~100 KB each).
        let h = h.filter(|_| self.histograms.is_some());
        // A run's own threads (memcached's `--clients`) when it has more.
        r.threads = r.threads.max(threads as u64);
        for g in &mut r.groups {
            g.threads = r.threads;
            g.trace_format = format.clone();
        }
        r.trace_format = format;
        Ok((r, h, tl))
    }
}

/// Writes a run's overall latency histogram as `DIR/NNN-workload-strategy-capacity.hgrm`
/// (NNN the row number), atomically, and records it in `written`.
fn write_histogram(
    dir: &std::path::Path,
    row: usize,
    r: &RunResult,
    h: &Histogram<u64>,
    written: &mut Outputs,
) -> Result<(), RunError> {
    let name = format!(
        "{row:03}-{}-{}-{}.hgrm",
        r.workload, r.strategy, r.capacity_spec
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
    written.dir(dir);
    crate::files::write_atomic(&path, |w| latency::write_hgrm(h, w)).map_err(|err| {
        RunError::Histogram {
            path: path.clone(),
            err,
        }
    })?;
    written.file(path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Preset;
    use std::sync::Weak;

    /// Every workload copy a sweep prepared: its label, a weak handle
    /// (is it gone?), and the labels of the copies still alive when it was
    /// made.
    type Copy = (String, Weak<Prepared>, Vec<String>);
    static COPIES: Mutex<Vec<Copy>> = Mutex::new(Vec::new());

    pub(super) fn record_copy(p: &Arc<Prepared>) {
        let mut c = COPIES.lock().unwrap_or_else(|e| e.into_inner());
        let alive = c
            .iter()
            .filter(|(_, w, _)| w.strong_count() > 0)
            .map(|(l, _, _)| l.clone())
            .collect();
        c.push((p.label.clone(), Arc::downgrade(p), alive));
    }

    /// Sweeps two traces (`stem-a.csv`, `stem-b.csv`) x 3 strategies x 4
    /// capacities on `threads` threads; for each trace, how many copies
    /// were made of it and how many of the other's were alive meanwhile.
    fn sweep_two_traces(stem: &str, threads: usize) -> Vec<(usize, usize)> {
        let dir = std::env::temp_dir().join(format!("cachesim-{stem}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let names = [format!("{stem}-a.csv"), format!("{stem}-b.csv")];
        for (n, name) in names.iter().enumerate() {
            let mut text = String::from("key,time,size\n");
            for i in 0..5_000u64 {
                text += &format!("{},{},100\n", (i * 7919 + n as u64) % 613, i);
            }
            std::fs::write(dir.join(name), text).unwrap();
        }
        let plan = Plan {
            workloads: names
                .iter()
                .map(|n| WorkloadInput::Trace {
                    path: dir.join(n),
                    format: None,
                    rate: 1.0,
                })
                .collect(),
            strategies: ["lru", "fifo", "sieve"]
                .iter()
                .map(|s| StrategySpec::parse(s).unwrap())
                .collect(),
            threads: Some(threads),
            ..plan(4, None)
        };
        assert_eq!(plan.run_count(), 24);
        let rows = plan.run(true).unwrap();
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(rows.len(), 24);
        assert!(rows.iter().all(|r| r.requests == 5_000));
        let copies = COPIES.lock().unwrap_or_else(|e| e.into_inner());
        names
            .iter()
            .map(|name| {
                let mine: Vec<&Copy> = copies.iter().filter(|(l, _, _)| l == name).collect();
                let others_alive = mine
                    .iter()
                    .map(|(_, _, alive)| alive.iter().filter(|l| names.contains(l)).count())
                    .max()
                    .unwrap_or(0);
                (mine.len(), others_alive)
            })
            .collect()
    }

    #[test]
    fn a_sweep_decodes_each_trace_once_and_frees_it_after_its_last_run() {
        // More runs (24) than threads: each trace is decoded once for its
        // 12 runs. One thread finishes the first trace's runs, and frees
        // its copy, before it decodes the second.
        assert_eq!(sweep_two_traces("one-thread", 1), [(1, 0), (1, 0)]);
        // Two threads: still one copy per trace, and at most one other
        // alive beside it (the other thread's).
        let two = sweep_two_traces("two-threads", 2);
        assert!(
            two.iter()
                .all(|&(copies, others)| copies == 1 && others <= 1),
            "{two:?}"
        );
    }

    fn plan(runs: usize, threads: Option<usize>) -> Plan {
        Plan {
            workloads: vec![WorkloadInput::Preset {
                preset: Preset::load("zipf").unwrap(),
                label: "zipf".into(),
            }],
            strategies: vec![StrategySpec::parse("lru").unwrap()],
            capacities: (1..=runs as u64).map(Capacity::Count).collect(),
            seeds: vec![1],
            ttls: Vec::new(),
            on_writes: Vec::new(),
            latency: None,
            histograms: None,
            fresh: FreshOptions::default(),
            fleet: None,
            l1_capacity: None,
            engines: Engines::default(),
            threads,
        }
    }

    #[test]
    fn threads_are_clamped_to_the_runs_and_the_cores() {
        assert_eq!(plan(2, Some(8000)).thread_count(), 2);
        assert_eq!(plan(3, Some(usize::MAX)).thread_count(), 3);
        assert_eq!(plan(1, None).thread_count(), 1);
        assert_eq!(plan(2, Some(1)).thread_count(), 1);
        let many = 10 * crate::sim::max_threads();
        assert_eq!(
            plan(many, Some(usize::MAX)).thread_count(),
            crate::sim::max_threads()
        );
    }
}
