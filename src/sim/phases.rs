//! The phases of one run around the replay loop: prefill (`--prefill
//! top:K`), warm-up (`--warmup N|P%`), the counted replay, cut into windows
//! (`--window N`) for the hit-ratio-over-time timeline.
//!
//! All of it happens by cutting the request ranges handed to the loop, so the
//! loop itself stays as it is and costs nothing more without these options:
//!
//! - **Prefill** inserts the K most popular keys before the first request, at
//!   its time, without counting anything (see [`super::freshness::prefill`]).
//!   For a synthetic workload they are the K most probable keys of the
//!   generator's distribution (its top ranks through the scramble); for a
//!   trace they come from a counting pass (most requested first, ties broken
//!   by the smaller key).
//! - **Warm-up** follows libCacheSim's warm-up: the first N requests (or P% of
//!   the workload's requests) go through the cache as usual, then every counter
//!   restarts from zero while the cache state is kept. Warm-up requests are not
//!   timed and not in any column (not even `requests`, `evictions` or
//!   `writes`); versions written during warm-up stay.
//! - **Windows** cut the counted requests into windows of N; after each (and
//!   after a last partial one) the timeline records the window's and the
//!   cumulative hit ratio. The windows' gets and hits add up to the run's.
//! - **Restarts** (`--restart-every`, [`super::restart`]) cut the ranges at
//!   each restart point, where the caller empties the in-process caches
//!   ([`Driver::feed_restarting`], the fleet's `feed`); the timeline counts
//!   them per window.

use super::expiry::{Deadlines, NoExpiry};
use super::freshness::{self, NoVersions, OnWrite, StaleStats, Versions};
use super::groups::{GroupBy, Groups};
use super::latency::{LatencySink, NoLatency, OriginError};
use super::replay::{replay_batch_with, ChargeModel, Counters, Rules};
use super::restart::{RestartClock, Restarts, Who};
use super::runner::{Prepared, RunError, WorkloadInput};
use crate::policy::{AnyPolicy, Policy};
use crate::request::Key;
use crate::units::parse_count;
use crate::workload::Batch;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `--warmup`: a number of requests or a share of the workload's requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Warmup {
    /// The first N requests.
    Requests(u64),
    /// The first P% of the workload's requests (0 <= P < 100).
    Percent(f64),
}

impl Warmup {
    pub(crate) fn parse(s: &str) -> Result<Warmup, String> {
        let t = s.trim();
        let accepted = "expected a number of requests (100000, 100k) or a percentage of the workload's requests (10%)";
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("invalid warm-up '{s}': {accepted}"))?;
            if !(0.0..100.0).contains(&v) {
                return Err(format!(
                    "invalid warm-up '{s}': a percentage must be in [0, 100)"
                ));
            }
            return Ok(Warmup::Percent(v));
        }
        parse_count(t)
            .map(Warmup::Requests)
            .map_err(|_| format!("invalid warm-up '{s}': {accepted}"))
    }

    /// The number of warm-up requests out of `total`.
    pub(crate) fn resolve(self, total: u64) -> u64 {
        match self {
            Warmup::Requests(n) => n,
            Warmup::Percent(p) => (p / 100.0 * total as f64).floor() as u64,
        }
    }
}

/// Parses `--prefill top:K`.
pub(crate) fn parse_prefill(s: &str) -> Result<u64, String> {
    let accepted = "expected top:K, the K most popular keys, e.g. top:1000 or top:10k";
    let k = s
        .trim()
        .strip_prefix("top:")
        .ok_or_else(|| format!("invalid prefill '{s}': {accepted}"))?;
    let k = parse_count(k).map_err(|_| format!("invalid prefill '{s}': {accepted}"))?;
    if k == 0 {
        return Err(format!("invalid prefill '{s}': K must be at least 1"));
    }
    Ok(k)
}

/// Parses `--window N`.
pub(crate) fn parse_window(s: &str) -> Result<u64, String> {
    match parse_count(s) {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "invalid window '{s}': expected a number of requests >= 1, e.g. 10000 or 10k"
        )),
    }
}

/// The freshness and warm-up options of a plan (the same for every run).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FreshOptions {
    /// `--on-write`: what a write does to a cached copy.
    pub on_write: OnWrite,
    /// `--warmup`; `None` counts every request.
    pub warmup: Option<Warmup>,
    /// `--prefill top:K`.
    pub prefill: Option<u64>,
    /// `--window N`.
    pub window: Option<u64>,
    /// `--group-by`: rows of counts per group beside the total.
    pub group_by: Option<GroupBy>,
    /// `--restart-every` (and `--rolling`): in-process caches emptied on a
    /// schedule; `None` never restarts.
    pub restart: Option<Restarts>,
    /// The event mode (`--clients`, `--arrivals`, the defences); `None`
    /// replays through the plain loop.
    pub events: Option<super::event::EventOptions>,
}

/// [`FreshOptions`] resolved for one workload.
#[derive(Debug, Clone, Default)]
pub struct FreshRun {
    /// The options as given.
    pub opts: FreshOptions,
    /// Warm-up requests.
    pub warmup: u64,
    /// Keys to prefill with their sizes, most popular first.
    pub prefill_keys: Option<Arc<Vec<(Key, u32)>>>,
}

/// One point of the timeline: the end of a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WindowPoint {
    /// Stream position after the window's last request (warm-up included).
    pub request: u64,
    /// Time of the window's last request, seconds.
    pub time_s: f64,
    /// Gets counted in the window.
    pub window_gets: u64,
    /// Hits counted in the window.
    pub window_hits: u64,
    /// Stale hits counted in the window.
    pub window_stale_hits: u64,
    /// Gets counted since the end of the warm-up.
    pub cumulative_gets: u64,
    /// Hits counted since the end of the warm-up.
    pub cumulative_hits: u64,
    /// Instance restarts (`--restart-every`) within the window.
    pub restarts: u64,
    /// The event mode's origin in the window: fetches issued, most
    /// fetches waiting, most at the origin; `None` outside the mode.
    pub origin: Option<[u64; 3]>,
}

/// One row of `<results>-timeline.csv`. Column order is a public interface.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// As in the results: preset name (with overridden parameters) or trace
    /// file name.
    pub workload: String,
    /// As in the results: the canonical strategy spec.
    pub strategy: String,
    /// As in the results: the capacity as resolved for the run.
    pub capacity: u64,
    /// As in the results: `--seed`.
    pub seed: u64,
    /// Stream position after the window's last request (warm-up included).
    pub request: u64,
    /// Time of the window's last request, seconds.
    pub time_s: f64,
    /// Hits / gets within the window; empty for a window without gets.
    pub window_hit_ratio: Option<f64>,
    /// Hits / gets since the end of the warm-up.
    pub cumulative_hit_ratio: Option<f64>,
    /// The run's `--ttl` axis value; empty without `--ttl`.
    pub ttl_s: Option<f64>,
    /// Gets in the window; the windows' counts add up to the run's.
    pub window_gets: u64,
    /// Hits in the window.
    pub window_hits: u64,
    /// Stale hits in the window.
    pub window_stale_hits: u64,
    /// As in the results: `--prefill` as given (`top:1000`), empty when the
    /// cache started empty.
    #[serde(default)]
    pub prefill: String,
    /// As in the results: the run's write policy (`--on-write`).
    #[serde(default)]
    pub on_write: String,
    /// Instance restarts (`--restart-every`) within the window: a restart
    /// at the window's first request belongs to it. 0 without the option.
    #[serde(default)]
    pub restarts: u64,
    /// As in the results: `--restart-every` (`1h`, `100000`); empty
    /// without the option.
    #[serde(default)]
    pub restart_every: String,
    /// As in the results: `--rolling`.
    #[serde(default)]
    pub rolling: bool,
    /// As in the results: application instances (1 unless `--instances`).
    #[serde(default = "one")]
    pub instances: u64,
    /// As in the results: how requests were spread over instances (empty
    /// for one cache).
    #[serde(default)]
    pub balance: String,
    /// The event mode: fetches sent to the origin in the window; empty
    /// outside the mode.
    #[serde(default)]
    pub window_origin_requests: Option<u64>,
    /// The event mode: most fetches waiting for a slot of the origin
    /// during the window.
    #[serde(default)]
    pub origin_queue_max: Option<u64>,
    /// The event mode: most fetches at the origin (in service or waiting)
    /// during the window.
    #[serde(default)]
    pub origin_outstanding_max: Option<u64>,
    /// As in the results: the event mode's defences (`coalesce`, `none`);
    /// empty outside the mode.
    #[serde(default)]
    pub defences: String,
    /// As in the results: the event mode's arrivals; empty outside it.
    #[serde(default)]
    pub arrivals: String,
    /// As in the results: `--clients` of the event mode.
    #[serde(default)]
    pub clients: Option<u64>,
    /// As in the results: the closed loop's think time.
    #[serde(default)]
    pub think_time: String,
    /// As in the results: `--origin-concurrency`.
    #[serde(default)]
    pub origin_concurrency: Option<u64>,
    /// As in the results: `--coalesce`.
    #[serde(default)]
    pub coalesce: bool,
    /// As in the results: `--stale-while-revalidate`, seconds.
    #[serde(default)]
    pub stale_while_revalidate_s: Option<f64>,
    /// As in the results: `--xfetch`.
    #[serde(default)]
    pub xfetch_beta: Option<f64>,
    /// As in the results: `--ttl-jitter`.
    #[serde(default)]
    pub ttl_jitter: Option<f64>,
    /// As in the results: the origin's latency model or URL (empty with
    /// --no-latency).
    #[serde(default)]
    pub origin: String,
    /// As in the results: requests per second of a synthetic workload
    /// (the event mode's arrivals); 0 in older timelines.
    #[serde(default)]
    pub rate: f64,
    /// As in the results: the run's position in its whole sweep, from 1
    /// (what `cachesim merge` orders shards' timelines by); 0 in older
    /// timelines.
    #[serde(default)]
    pub run_index: u64,
}

fn one() -> u64 {
    1
}

/// The columns of `<results>-timeline.csv`, in order (the fields of
/// [`TimelineRow`]).
pub const TIMELINE_COLUMNS: &[&str] = &[
    "workload",
    "strategy",
    "capacity",
    "seed",
    "request",
    "time_s",
    "window_hit_ratio",
    "cumulative_hit_ratio",
    "ttl_s",
    "window_gets",
    "window_hits",
    "window_stale_hits",
    "prefill",
    "on_write",
    "restarts",
    "restart_every",
    "rolling",
    "instances",
    "balance",
    "window_origin_requests",
    "origin_queue_max",
    "origin_outstanding_max",
    "defences",
    "arrivals",
    "clients",
    "think_time",
    "origin_concurrency",
    "coalesce",
    "stale_while_revalidate_s",
    "xfetch_beta",
    "ttl_jitter",
    "origin",
    "rate",
    "run_index",
];

fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl TimelineRow {
    pub(crate) fn new(r: &super::RunResult, p: &WindowPoint, ttl_s: Option<f64>) -> TimelineRow {
        TimelineRow {
            workload: r.workload.clone(),
            strategy: r.strategy.clone(),
            capacity: r.capacity,
            seed: r.seed,
            request: p.request,
            time_s: p.time_s,
            window_hit_ratio: ratio(p.window_hits, p.window_gets),
            cumulative_hit_ratio: ratio(p.cumulative_hits, p.cumulative_gets),
            ttl_s,
            window_gets: p.window_gets,
            window_hits: p.window_hits,
            window_stale_hits: p.window_stale_hits,
            prefill: r.prefill.clone(),
            on_write: r.on_write.clone(),
            restarts: p.restarts,
            restart_every: r.restart_every.clone(),
            rolling: r.rolling,
            instances: r.instances,
            balance: r.balance.clone(),
            window_origin_requests: p.origin.map(|o| o[0]),
            origin_queue_max: p.origin.map(|o| o[1]),
            origin_outstanding_max: p.origin.map(|o| o[2]),
            defences: r.defences.clone(),
            arrivals: r.arrivals.clone(),
            clients: r.clients,
            think_time: r.think_time.clone(),
            origin_concurrency: r.origin_concurrency,
            coalesce: r.coalesce,
            stale_while_revalidate_s: r.stale_while_revalidate_s,
            xfetch_beta: r.xfetch_beta,
            ttl_jitter: r.ttl_jitter,
            origin: r.origin.clone(),
            rate: r.rate,
            run_index: r.run_index,
        }
    }
}

/// Writes timeline rows as CSV with a header (serde writes it from the field
/// names, which a test pins to [`TIMELINE_COLUMNS`]).
pub(crate) fn write_timeline(
    rows: &[TimelineRow],
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    if rows.is_empty() {
        w.write_record(TIMELINE_COLUMNS)?;
    }
    for r in rows {
        w.serialize(r)?;
    }
    w.flush()
}

/// `results/run-X.csv` -> `results/run-X-timeline.csv`.
pub(crate) fn timeline_path(results: &std::path::Path) -> std::path::PathBuf {
    let stem = results
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "results".into());
    results.with_file_name(format!("{stem}-timeline.csv"))
}

/// Where a run's stream is: in the warm-up, or counting requests cut into
/// windows. It cuts the ranges handed to a replay loop (a single cache's
/// [`Driver`], or a fleet's) and records the timeline.
#[derive(Debug, Clone, Default)]
pub struct Phaser {
    warmup_left: u64,
    window: Option<u64>,
    /// Requests replayed, warm-up included.
    pos: u64,
    /// Requests counted (after the warm-up).
    counted: u64,
    last_time: f64,
    /// Cumulative (gets, hits, stale hits) at the last window's end.
    mark: (u64, u64, u64),
    /// The windows closed so far, in order.
    pub timeline: Vec<WindowPoint>,
    /// `--restart-every`: the schedule, and the instances it restarts.
    restart: Option<(Restarts, RestartClock)>,
    instances: u64,
    /// Instance restarts after the warm-up, in all and at the last
    /// window's end.
    restarts: u64,
    restarts_mark: u64,
}

impl Phaser {
    /// The phases of a run with the options of `f`.
    pub fn new(f: &FreshRun) -> Phaser {
        Phaser {
            warmup_left: f.warmup,
            window: f.opts.window,
            restart: f.opts.restart.map(|r| (r, RestartClock::new(r, 1))),
            instances: 1,
            ..Phaser::default()
        }
    }

    /// The restart schedule of a fleet of `k` instances (one instance at a
    /// time with `--rolling`).
    pub(crate) fn for_instances(mut self, k: usize) -> Phaser {
        self.instances = k.max(1) as u64;
        if let Some((r, _)) = self.restart {
            self.restart = Some((r, RestartClock::new(r, k)));
        }
        self
    }

    /// Instance restarts counted after the warm-up (the `restarts` column).
    pub fn restarts(&self) -> u64 {
        self.restarts
    }

    /// The first index of `i..end` before which a restart is due, or `end`
    /// (always `end` without `--restart-every`).
    #[inline]
    pub(crate) fn restart_cut(
        &mut self,
        batch: &Batch,
        i: usize,
        end: usize,
        vtime_base: u64,
    ) -> usize {
        match &mut self.restart {
            None => end,
            Some((_, c)) => c.cut(batch, i, end, vtime_base),
        }
    }

    /// Performs the restarts due before request `j` of `batch` (where
    /// [`Phaser::restart_cut`] stopped): `restart` empties who each names.
    pub(crate) fn restart_fire(
        &mut self,
        batch: &Batch,
        j: usize,
        vtime_base: u64,
        mut restart: impl FnMut(Who),
    ) {
        let Some((_, c)) = &mut self.restart else {
            return;
        };
        let pos = vtime_base + j as u64;
        let time = batch.request(j, pos).time;
        let mut n = 0;
        let k = self.instances;
        c.fire(pos, time, |w| {
            n += if w == Who::All { k } else { 1 };
            restart(w)
        });
        if self.warmup_left == 0 {
            self.restarts += n;
        }
    }

    /// The next segment of `i..end`: up to the end of the warm-up (`true`),
    /// or counted requests up to the end of the current window.
    pub(crate) fn next(&self, i: usize, end: usize) -> (usize, bool) {
        if self.warmup_left > 0 {
            let n = self.warmup_left.min((end - i) as u64) as usize;
            return (i + n, true);
        }
        match self.window {
            Some(w) => (end.min(i + (w - self.counted % w) as usize), false),
            None => (end, false),
        }
    }

    /// Records a replayed segment of `n` requests (the last at `last_time`);
    /// `true` when it closed a window: call [`Phaser::point`] then.
    pub(crate) fn advance(&mut self, n: u64, warmup: bool, last_time: f64) -> bool {
        self.pos += n;
        if warmup {
            self.warmup_left -= n;
            return false;
        }
        self.counted += n;
        self.last_time = last_time;
        self.window.is_some_and(|w| self.counted % w == 0)
    }

    /// Ends a window at the cumulative counts `(gets, hits, stale hits)`.
    pub(crate) fn point(&mut self, gets: u64, hits: u64, stale: u64) {
        let (g, h, s) = self.mark;
        self.timeline.push(WindowPoint {
            request: self.pos,
            time_s: self.last_time,
            window_gets: gets - g,
            window_hits: hits - h,
            window_stale_hits: stale - s,
            cumulative_gets: gets,
            cumulative_hits: hits,
            restarts: self.restarts - self.restarts_mark,
            origin: None,
        });
        self.mark = (gets, hits, stale);
        self.restarts_mark = self.restarts;
    }

    /// Call once after the last batch: records the last, partial window.
    pub(crate) fn finish(&mut self, gets: u64, hits: u64, stale: u64) {
        if let Some(w) = self.window {
            if self.counted % w != 0 {
                self.point(gets, hits, stale);
            }
        }
    }
}

/// Drives one run's replay through its phases. Feed it the workload's
/// batches in order.
pub struct Driver<'a> {
    on_write: OnWrite,
    prefill: Option<&'a [(Key, u32)]>,
    /// Versions of written keys, and the stale hits counted after the
    /// warm-up.
    versions: Versions,
    /// Deadlines of objects filled with a TTL.
    deadlines: Deadlines,
    /// Counts per group after the warm-up, with `--group-by`.
    groups: Option<Groups>,
    /// The warm-up and the windows of the run.
    pub phases: Phaser,
}

impl<'a> Driver<'a> {
    /// A driver for a run with the options of `f`.
    pub fn new(f: &'a FreshRun) -> Driver<'a> {
        Driver {
            on_write: f.opts.on_write,
            prefill: f.prefill_keys.as_ref().map(|k| k.as_slice()),
            versions: Versions::default(),
            deadlines: Deadlines::default(),
            groups: f.opts.group_by.map(|_| Groups::default()),
            phases: Phaser::new(f),
        }
    }

    /// Whether the run restarts (`--restart-every`): then feed it with
    /// [`Driver::feed_restarting`].
    pub fn restarts_on(&self) -> bool {
        self.phases.restart.is_some()
    }

    /// Stale reads counted after the warm-up.
    pub(crate) fn stale(&self) -> StaleStats {
        self.versions.stale
    }

    /// Counts per group after the warm-up; `None` without `--group-by`.
    pub(crate) fn groups(&self) -> Option<&Groups> {
        self.groups.as_ref()
    }

    /// Replays `range` of `batch` (whose request `i` is stream position
    /// `vtime_base + i`) into `c`.
    #[allow(clippy::too_many_arguments)]
    pub fn feed<P: Policy + ?Sized, L: LatencySink>(
        &mut self,
        p: &mut P,
        batch: &Batch,
        range: std::ops::Range<usize>,
        vtime_base: u64,
        next_use: Option<&[u64]>,
        charge: ChargeModel,
        c: &mut Counters,
        lat: &mut L,
    ) -> Result<(), OriginError> {
        let rules = Rules::new(charge, self.on_write);
        let mut i = range.start;
        if i < range.end {
            if let Some(keys) = self.prefill.take() {
                let t = batch.request(i, vtime_base + i as u64).time;
                freshness::prefill(p, keys, t, charge);
            }
        }
        while i < range.end {
            let (end, warmup) = self.phases.next(i, range.end);
            if warmup {
                // Replayed as usual, but nothing is counted: scratch
                // counters, no timing, stale hits put back.
                let stale = self.versions.stale;
                self.segment(
                    p,
                    batch,
                    i..end,
                    vtime_base,
                    next_use,
                    rules,
                    &mut Counters::default(),
                    &mut NoLatency,
                )?;
                self.versions.stale = stale;
            } else if let Some(mut groups) = self.groups.take() {
                // Counted by tenant: runs of one tenant's requests each.
                let done = groups.split(batch, i..end, c, |r, g| {
                    self.segment(p, batch, r, vtime_base, next_use, rules, g, lat)
                });
                self.groups = Some(groups);
                done?;
            } else {
                self.segment(p, batch, i..end, vtime_base, next_use, rules, c, lat)?;
            }
            let last = batch.request(end - 1, vtime_base + (end - 1) as u64).time;
            if self.phases.advance((end - i) as u64, warmup, last) {
                self.phases
                    .point(c.gets, c.hits, self.versions.stale.stale_hits);
            }
            i = end;
        }
        Ok(())
    }

    /// [`Driver::feed`] with the run's restarts (`--restart-every`): the
    /// range is cut at each restart, where `policy` is replaced by `make()`,
    /// the same constructor as a cold cache's, and the deadlines of the
    /// copies it held are dropped. The origin's versions stay (a restart
    /// loses copies, not writes; a copy's version is set again when it is
    /// filled). The policy is dispatched once per piece, not per request.
    #[allow(clippy::too_many_arguments)]
    pub fn feed_restarting<L: LatencySink>(
        &mut self,
        policy: &mut AnyPolicy,
        make: &dyn Fn() -> AnyPolicy,
        batch: &Batch,
        range: std::ops::Range<usize>,
        vtime_base: u64,
        next_use: Option<&[u64]>,
        charge: ChargeModel,
        c: &mut Counters,
        lat: &mut L,
    ) -> Result<(), OriginError> {
        self.cut_at_restarts(
            policy,
            batch,
            range,
            vtime_base,
            |d, policy, r| {
                crate::dispatch!(&mut *policy, p => d.feed(p, batch, r, vtime_base, next_use, charge, c, lat))
            },
            |d, policy| {
                *policy = make();
                d.deadlines = Deadlines::default();
            },
        )
    }

    /// [`Driver::feed`] with the run's restarts for a cache that is not
    /// all in the process (a disk, a server, an L1 in front of either):
    /// at each restart `emptied` empties what the process held (an L1),
    /// and what lives outside it stays, with the deadlines of its copies.
    /// The restarts are counted as for an in-process cache.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn feed_restarting_outside<P: Policy + ?Sized, L: LatencySink>(
        &mut self,
        p: &mut P,
        emptied: impl FnMut(&mut P),
        batch: &Batch,
        range: std::ops::Range<usize>,
        charge: ChargeModel,
        (vtime_base, c): (u64, &mut Counters),
        lat: &mut L,
    ) -> Result<(), OriginError> {
        let mut emptied = emptied;
        self.cut_at_restarts(
            p,
            batch,
            range,
            vtime_base,
            |d, p, r| d.feed(p, batch, r, vtime_base, None, charge, c, lat),
            |_, p| emptied(p),
        )
    }

    /// Cuts `range` at each restart: `piece` replays the parts between,
    /// `restart` empties the process's caches where a restart does.
    fn cut_at_restarts<S: ?Sized>(
        &mut self,
        state: &mut S,
        batch: &Batch,
        range: std::ops::Range<usize>,
        vtime_base: u64,
        mut piece: impl FnMut(&mut Self, &mut S, std::ops::Range<usize>) -> Result<(), OriginError>,
        mut restart: impl FnMut(&mut Self, &mut S),
    ) -> Result<(), OriginError> {
        let mut i = range.start;
        while i < range.end {
            let j = self.phases.restart_cut(batch, i, range.end, vtime_base);
            if j > i {
                piece(self, state, i..j)?;
            }
            if j < range.end {
                let mut emptied = false;
                self.phases
                    .restart_fire(batch, j, vtime_base, |_| emptied = true);
                if emptied {
                    restart(self, state);
                }
            }
            i = j;
        }
        Ok(())
    }

    /// One segment through the loop: with versions when the batch carries
    /// operations (writes), without when it holds gets only; with deadlines
    /// when it carries TTLs or an object filled earlier has one.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn segment<P: Policy + ?Sized, L: LatencySink>(
        &mut self,
        p: &mut P,
        batch: &Batch,
        range: std::ops::Range<usize>,
        vtime_base: u64,
        next_use: Option<&[u64]>,
        rules: Rules,
        c: &mut Counters,
        lat: &mut L,
    ) -> Result<(), OriginError> {
        let ttls = !batch.ttls.is_empty() || !self.deadlines.is_empty();
        macro_rules! replay {
            ($fresh:expr, $exp:expr) => {
                replay_batch_with(
                    p, batch, range, vtime_base, next_use, rules, c, lat, $fresh, $exp,
                )
            };
        }
        match (batch.ops.is_empty(), ttls) {
            (true, false) => replay!(&mut NoVersions, &mut NoExpiry),
            (false, false) => replay!(&mut self.versions, &mut NoExpiry),
            (true, true) => replay!(&mut NoVersions, &mut self.deadlines),
            (false, true) => replay!(&mut self.versions, &mut self.deadlines),
        }
    }

    /// Call once after the last batch: records the last, partial window.
    #[cfg(test)]
    pub(crate) fn finish(&mut self, c: &Counters) {
        self.phases
            .finish(c.gets, c.hits, self.versions.stale.stale_hits);
    }
}

/// Reads a timeline CSV back (for charts), each row checked as results are
/// ([`crate::sim::result::read_rows`]).
pub fn read_timeline(path: &std::path::Path) -> Result<Vec<TimelineRow>, String> {
    crate::sim::result::read_rows(path)
}

/// The most timeline rows (`--window`) a command keeps, over all its runs:
/// each run holds its rows until the results are written, ~300 bytes each,
/// so this bounds the timeline at ~300 MB.
pub const MAX_TIMELINE_ROWS: u64 = 1_000_000;

/// Checks that `--window` cuts `runs` runs of `counted` requests each into at
/// most [`MAX_TIMELINE_ROWS`] rows. Every workload of a plan is checked
/// against all the plan's runs, so the plan's rows stay within the bound
/// whatever mix of workloads its runs replay.
fn check_windows(window: u64, counted: u64, runs: u64, workload: &str) -> Result<(), RunError> {
    let windows = counted.div_ceil(window);
    let rows = windows.saturating_mul(runs);
    if rows <= MAX_TIMELINE_ROWS {
        return Ok(());
    }
    let per_run = (MAX_TIMELINE_ROWS / runs.max(1)).max(1);
    Err(RunError::TooManyWindows {
        window,
        counted,
        windows,
        runs,
        rows,
        min: counted.div_ceil(per_run),
        workload: workload.to_string(),
    })
}

/// Resolves `opts` for one prepared workload: the warm-up length (an error
/// if it leaves no request to count), the windows (an error past
/// [`MAX_TIMELINE_ROWS`] over the plan's `runs`) and the keys to
/// prefill (from the preset's distribution, or a counting pass over a trace).
pub fn resolve(
    opts: &FreshOptions,
    w: &WorkloadInput,
    prepared: &Prepared,
    runs: usize,
) -> Result<FreshRun, RunError> {
    let warmup = opts
        .warmup
        .map(|x| x.resolve(prepared.requests))
        .unwrap_or(0);
    if warmup >= prepared.requests && opts.warmup.is_some() {
        return Err(RunError::WarmupTooLong {
            warmup,
            requests: prepared.requests,
            workload: prepared.label.clone(),
        });
    }
    if let Some(window) = opts.window {
        check_windows(
            window,
            prepared.requests - warmup,
            runs as u64,
            &prepared.label,
        )?;
    }
    let prefill_keys = match opts.prefill {
        None => None,
        Some(k) => Some(Arc::new(match w {
            WorkloadInput::Preset { preset, .. } => {
                let size = preset.size.unwrap_or(1);
                preset
                    .popular_keys(k)
                    .into_iter()
                    .map(|key| (key, size))
                    .collect()
            }
            WorkloadInput::Trace { .. } => {
                let mut counts = rustc_hash::FxHashMap::default();
                prepared
                    .data
                    .for_each_chunk(1 << 16, |b, range, _| -> Result<(), RunError> {
                        count_keys(b, range, &mut counts);
                        Ok(())
                    })?;
                top_keys(counts, k)
            }
        })),
    };
    Ok(FreshRun {
        opts: opts.clone(),
        warmup,
        prefill_keys,
    })
}

/// Counts requests per key in `range` of `batch` into `counts` (with each
/// key's first size).
pub(crate) fn count_keys(
    batch: &Batch,
    range: std::ops::Range<usize>,
    counts: &mut rustc_hash::FxHashMap<Key, (u64, u32)>,
) {
    for i in range {
        let r = batch.request(i, 0);
        counts.entry(r.key).or_insert((0, r.size)).0 += 1;
    }
}

/// The top `k` of `counts`, most requested first (ties: smaller key first).
pub(crate) fn top_keys(counts: rustc_hash::FxHashMap<Key, (u64, u32)>, k: u64) -> Vec<(Key, u32)> {
    let mut v: Vec<(Key, u64, u32)> = counts.into_iter().map(|(k, (n, s))| (k, n, s)).collect();
    v.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k.min(v.len() as u64) as usize);
    v.into_iter().map(|(k, _, s)| (k, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::lru::Lru;

    #[test]
    fn parsers_name_what_is_accepted() {
        assert_eq!(Warmup::parse("10k").unwrap(), Warmup::Requests(10_000));
        assert_eq!(Warmup::parse("5%").unwrap().resolve(1000), 50);
        assert!(Warmup::parse("100%").unwrap_err().contains("[0, 100)"));
        assert!(Warmup::parse("soon").unwrap_err().contains("100k"));
        assert_eq!(parse_prefill("top:1k").unwrap(), 1000);
        assert!(parse_prefill("1000").unwrap_err().contains("top:K"));
        assert!(parse_prefill("top:0").is_err());
        assert_eq!(parse_window("10k").unwrap(), 10_000);
        assert!(parse_window("0").is_err());
    }

    #[test]
    fn warmup_and_windows_cut_the_ranges_exactly() {
        let mut b = Batch::new(1.0, 1);
        b.keys = (0..1000u64).map(|i| i % 7).collect();
        let f = FreshRun {
            opts: FreshOptions {
                window: Some(100),
                ..Default::default()
            },
            warmup: 250,
            prefill_keys: None,
        };
        let mut d = Driver::new(&f);
        let mut lru = Lru::new(10);
        let mut c = Counters::default();
        let charge = ChargeModel {
            bytes: false,
            capacity: 10,
        };
        // Fed in uneven pieces, as a streamed trace would be.
        for (s, e) in [(0, 30), (30, 333), (333, 1000)] {
            d.feed(&mut lru, &b, s..e, 0, None, charge, &mut c, &mut NoLatency)
                .unwrap();
        }
        d.finish(&c);
        assert_eq!(c.requests, 750);
        // Warmed up: every counted request hits.
        assert_eq!(c.hits, 750);
        let ends: Vec<u64> = d.phases.timeline.iter().map(|p| p.request).collect();
        assert_eq!(ends, vec![350, 450, 550, 650, 750, 850, 950, 1000]);
        assert_eq!(
            d.phases.timeline.iter().map(|p| p.window_gets).sum::<u64>(),
            750
        );
        assert_eq!(d.phases.timeline.last().unwrap().time_s, 999.0);
    }

    #[test]
    fn top_keys_orders_by_count_then_key() {
        let mut b = Batch::new(1.0, 1);
        b.keys = vec![5, 3, 3, 9, 9, 1];
        let mut m = Default::default();
        count_keys(&b, 0..b.len(), &mut m);
        assert_eq!(top_keys(m, 3), vec![(3, 1), (9, 1), (1, 1)]);
    }
}
