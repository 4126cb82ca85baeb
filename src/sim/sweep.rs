//! Sweeps: every workload x seed x strategy x capacity of a [`Plan`] as one
//! job, run in parallel across runs (never inside one replay) on a rayon
//! pool, with results in a stable order that does not depend on the number
//! of threads.
//!
//! Order of the rows: workloads as given (the `--workload` presets, then the
//! `--trace` files), then seeds as given, then strategies as given, then
//! capacities as given (ranges expanded in place); the last varies fastest.
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
//! any `--threads` except the timing columns (`elapsed_s`, `requests_per_s`)
//! and `threads` itself.

use super::capacity::Capacity;
use super::result::RunResult;
use super::runner::{run_one, Prepared, RunConfig, RunError, WorkloadInput};
use crate::policy::{self, StrategySpec};
use crate::workload::trace;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A whole plan: workloads x seeds x strategies x capacities, in that
/// nesting order.
#[derive(Debug, Clone)]
pub struct Plan {
    pub workloads: Vec<WorkloadInput>,
    pub strategies: Vec<StrategySpec>,
    pub capacities: Vec<Capacity>,
    /// Seeds, each a separate set of runs (`--seeds`), at least one.
    pub seeds: Vec<u64>,
    pub ttl: Option<f64>,
    /// Runs at once; `None` for all cores.
    pub threads: Option<usize>,
}

/// One run of the plan: indices into the plan's lists.
#[derive(Debug, Clone, Copy)]
struct Job {
    workload: usize,
    seed: usize,
    strategy: usize,
    capacity: usize,
    slot: usize,
}

/// A prepared workload shared by the runs of one slot (one trace, or one
/// synthetic workload and seed).
#[derive(Default)]
struct Slot {
    prepared: Option<Arc<Prepared>>,
    /// Runs of this slot not finished yet; at 0 the workload is dropped.
    remaining: usize,
    failed: bool,
    /// `trace_format` column: the reader used, empty for synthetic workloads.
    format: String,
}

impl Plan {
    pub fn runs_per_workload(&self) -> usize {
        self.strategies.len() * self.capacities.len()
    }

    /// The number of threads the plan runs on.
    pub fn thread_count(&self) -> usize {
        self.threads
            .unwrap_or_else(|| {
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            })
            .max(1)
    }

    /// Every run in row order, and the number of runs per slot.
    fn jobs(&self) -> (Vec<Job>, Vec<usize>) {
        let mut jobs = Vec::new();
        let mut slot_runs = Vec::new();
        for (wi, w) in self.workloads.iter().enumerate() {
            let shared = matches!(w, WorkloadInput::Trace { .. });
            for si in 0..self.seeds.len() {
                if !shared || si == 0 {
                    slot_runs.push(0);
                }
                let slot = slot_runs.len() - 1;
                for st in 0..self.strategies.len() {
                    for ci in 0..self.capacities.len() {
                        slot_runs[slot] += 1;
                        jobs.push(Job {
                            workload: wi,
                            seed: si,
                            strategy: st,
                            capacity: ci,
                            slot,
                        });
                    }
                }
            }
        }
        (jobs, slot_runs)
    }

    /// Runs everything on [`Plan::thread_count`] threads. Stops handing out
    /// runs at the first error and reports the first failing row: a failed
    /// plan produces no results (so no half-written file).
    pub fn run(&self, quiet: bool) -> Result<Vec<RunResult>, RunError> {
        // Reject bad strategy specs before any work.
        for s in &self.strategies {
            policy::validate(s)?;
        }
        if self.seeds.is_empty() {
            return Err(RunError::Workload("no seed given".into()));
        }
        let threads = self.thread_count();
        let (jobs, slot_runs) = self.jobs();
        let slots: Vec<Mutex<Slot>> = slot_runs
            .iter()
            .map(|&n| {
                Mutex::new(Slot {
                    remaining: n,
                    ..Slot::default()
                })
            })
            .collect();
        let results: Vec<Mutex<Option<Result<RunResult, RunError>>>> =
            jobs.iter().map(|_| Mutex::new(None)).collect();
        let next = AtomicUsize::new(0);
        let done = AtomicUsize::new(0);
        let abort = AtomicBool::new(false);
        // Requests are added to the bar's length as workloads are prepared.
        let pb = crate::progress::bar(0, quiet);
        pb.set_prefix(format!("0/{} runs", jobs.len()));

        let work = || loop {
            if abort.load(Ordering::Relaxed) {
                break;
            }
            let j = next.fetch_add(1, Ordering::Relaxed);
            let Some(job) = jobs.get(j) else { break };
            let r = self.run_job(job, &slots, &pb, threads);
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

        let mut out = Vec::with_capacity(jobs.len());
        for r in results {
            match r.into_inner().unwrap_or_else(|e| e.into_inner()) {
                Some(Ok(r)) => out.push(r),
                Some(Err(e)) => return Err(e),
                // Not run: some row failed and stopped the hand-out. Rows
                // are handed out in order, so every row before the first
                // failure ran; keep scanning to report that failure.
                None => continue,
            }
        }
        if out.len() != jobs.len() {
            return Err(RunError::Workload("a run did not complete".into()));
        }
        Ok(out)
    }

    /// Prepares (or shares) the job's workload, replays it, and releases the
    /// workload after its slot's last run.
    fn run_job(
        &self,
        job: &Job,
        slots: &[Mutex<Slot>],
        pb: &indicatif::ProgressBar,
        threads: usize,
    ) -> Result<RunResult, RunError> {
        let input = &self.workloads[job.workload];
        let seed = self.seeds[job.seed];
        let (prepared, format) = {
            let mut slot = slots[job.slot].lock().unwrap_or_else(|e| e.into_inner());
            if slot.failed {
                return Err(RunError::Workload("workload failed to load".into()));
            }
            if slot.prepared.is_none() {
                let runs = slot.remaining;
                let made = (|| -> Result<(Prepared, String), RunError> {
                    let format = match input {
                        WorkloadInput::Trace { path, format, .. } => match format {
                            Some(f) => f.name().to_string(),
                            None => trace::detect(path)?.name().to_string(),
                        },
                        WorkloadInput::Preset { .. } => String::new(),
                    };
                    Ok((input.prepare(seed, runs)?, format))
                })();
                match made {
                    Ok((p, f)) => {
                        pb.inc_length(p.requests * runs as u64);
                        slot.prepared = Some(Arc::new(p));
                        slot.format = f;
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
            )
        };
        let cfg = RunConfig {
            strategy: self.strategies[job.strategy].clone(),
            capacity: self.capacities[job.capacity],
            seed,
            ttl: self.ttl,
        };
        let r = run_one(&prepared, &cfg, pb);
        drop(prepared);
        {
            let mut slot = slots[job.slot].lock().unwrap_or_else(|e| e.into_inner());
            slot.remaining -= 1;
            if slot.remaining == 0 {
                slot.prepared = None;
            }
        }
        let mut r = r?;
        r.threads = threads as u64;
        r.trace_format = format;
        Ok(r)
    }
}
