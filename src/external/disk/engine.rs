//! One `disk` run: open the directory, replay the workload through the
//! simulator's own loop ([`Driver`], so warm-up, prefill, writes and TTLs
//! follow the same rules as every in-process policy) with the directory as
//! the cache ([`DiskCache`]), run `reduce_size` every N requests, time
//! every get, and clean up.

use super::spec::{parse_spec, runs, DiskOptions, DiskSpec, STRATEGIES};
use super::store::{check_dir, Store};
use crate::policy::{
    self, Access, AnyPolicy, BuildCtx, Evictions, Policy, SpecError, StrategyInfo, StrategySpec,
};
use crate::request::Key;
use crate::sim::backend::{refuse_fleet, Engine, EngineRun, FleetUse};
use crate::sim::capacity::CapacityKind;
use crate::sim::latency::{new_histogram, LatencySink, LatencySummary, Origin, OriginError};
use crate::sim::phases::{Driver, WindowPoint};
use crate::sim::replay::{ChargeModel, Counters};
use crate::sim::result::RunResult;
use crate::sim::runner::{base_result, for_each_batch, Prepared, RunConfig, RunError};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use std::cell::Cell;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Instant;

/// The `disk` strategy as the runner sees it, registered by the command
/// (`cmd::engines`) with the run's disk options.
pub(crate) struct DiskEngine {
    opts: DiskOptions,
}

impl DiskEngine {
    pub(crate) fn new(opts: DiskOptions) -> DiskEngine {
        DiskEngine { opts }
    }
}

impl Engine for DiskEngine {
    fn strategies(&self) -> &'static [StrategyInfo] {
        STRATEGIES
    }

    fn runs(&self, spec: &StrategySpec) -> bool {
        runs(spec)
    }

    fn validate(&self, spec: &StrategySpec) -> Result<String, SpecError> {
        parse_spec(spec).map(|d| d.canonical)
    }

    /// One cache directory for one process: not the instances' own caches
    /// (`--instances`), nor the one they share (`shared:disk`, `--shared`).
    fn check_fleet(&self, spec: &StrategySpec, fleet: FleetUse) -> Result<(), RunError> {
        let name = parse_spec(spec).map_or_else(|_| spec.name.clone(), |d| d.canonical);
        refuse_fleet(&name, "one cache directory for one process", fleet)
    }

    /// `disk`'s size is its `limit=`; the L1 of `tiered:LOCAL+disk` is
    /// sized by `--capacity` (without `--l1-capacity`).
    fn uses_capacity(&self, spec: &StrategySpec) -> bool {
        spec.name != "disk"
    }

    fn preflight(&self, _specs: &[StrategySpec]) -> Result<(), RunError> {
        match &self.opts.dir {
            Some(d) => check_dir(d).map_err(|e| RunError::Backend(format!("--disk-dir: {e}"))),
            None => Ok(()),
        }
    }

    fn run(&self, w: &Prepared, cfg: &RunConfig, pb: &ProgressBar) -> Result<EngineRun, RunError> {
        run_one(w, cfg, &self.opts, pb)
    }
}

/// The directory as the loop's cache: a get reads the key's file, a fill
/// writes it. The loop cannot take an error from a policy, so the first
/// one is kept here and ends the run after the piece it happened in.
pub(crate) struct DiskCache {
    pub(crate) store: Store,
    /// The in-memory L1 of `tiered:LOCAL+disk`.
    l1: Option<L1>,
    /// Hits found on disk (after an L1 miss, in a tiered run).
    l2_hits: u64,
    /// Whether the last get was answered by the L1, for the latency sink
    /// that times it ([`EveryGet`]).
    l1_answered: Rc<Cell<bool>>,
    /// `--value-size`, else the request's size.
    value_size: Option<u32>,
    /// The first I/O error.
    pub(crate) err: Option<io::Error>,
}

impl DiskCache {
    pub(crate) fn new(store: Store, value_size: Option<u32>) -> DiskCache {
        DiskCache {
            store,
            l1: None,
            l2_hits: 0,
            l1_answered: Rc::default(),
            value_size,
            err: None,
        }
    }

    /// The bytes of a value: the access's charge is the request's size
    /// (the engine charges bytes).
    fn size(&self, a: &Access) -> u32 {
        self.value_size
            .unwrap_or(a.charge.min(u64::from(u32::MAX)) as u32)
    }

    fn keep<T>(&mut self, r: io::Result<T>, default: T) -> T {
        match r {
            Ok(v) => v,
            Err(e) => {
                self.err.get_or_insert(e);
                default
            }
        }
    }
}

/// The L1 of `tiered:LOCAL+disk`: an in-process policy at
/// `--l1-capacity` (else `--capacity`), as `tiered:LOCAL+redis`'s.
pub(crate) struct L1 {
    policy: AnyPolicy,
    /// What built it, to build it again empty at a restart.
    spec: StrategySpec,
    ctx: BuildCtx,
    bytes: bool,
    capacity: u64,
    hits: u64,
}

impl L1 {
    /// A restart: the process's L1 starts empty (the files stay).
    fn empty(&mut self) {
        if let Ok(b) = policy::build(&self.spec, &self.ctx) {
            self.policy = b.policy;
        }
    }

    /// The access as the L1 charges it (the loop charges bytes).
    fn access(&self, a: &Access) -> Option<Access> {
        let charge = if self.bytes { a.charge } else { 1 };
        (charge <= self.capacity).then_some(Access { charge, ..*a })
    }
}

/// A get: the L1 first, then the file (a disk hit is promoted into the
/// L1); a fill or a write goes to both; a removal from both. L1 evictions
/// are not in `evictions` (which counts files removed).
impl Policy for DiskCache {
    #[inline]
    fn get(&mut self, a: &Access) -> bool {
        if let Some(l1) = &mut self.l1 {
            if let Some(b) = l1.access(a) {
                if l1.policy.get(&b) {
                    l1.hits += 1;
                    self.l1_answered.set(true);
                    return true;
                }
            }
        }
        self.l1_answered.set(false);
        let r = self.store.read(a.key);
        let hit = self.keep(r, false);
        if hit {
            self.l2_hits += 1;
            if let Some(l1) = &mut self.l1 {
                if let Some(b) = l1.access(a) {
                    l1.policy.insert(&b, &mut Evictions::default());
                }
            }
        }
        hit
    }

    #[inline]
    fn insert(&mut self, a: &Access, _ev: &mut Evictions) {
        let size = self.size(a);
        let r = self.store.write(a.key, size);
        self.keep(r, ());
        if let Some(l1) = &mut self.l1 {
            if let Some(b) = l1.access(a) {
                l1.policy.insert(&b, &mut Evictions::default());
            }
        }
    }

    /// A write-through replaces the file (atomically), hit or not, and
    /// the L1's copy.
    fn set(&mut self, a: &Access, _ev: &mut Evictions) {
        let size = self.size(a);
        let r = self.store.write(a.key, size);
        self.keep(r, ());
        if let Some(l1) = &mut self.l1 {
            if let Some(b) = l1.access(a) {
                l1.policy.set(&b, &mut Evictions::default());
            }
        }
    }

    fn remove(&mut self, key: Key) -> bool {
        if let Some(l1) = &mut self.l1 {
            l1.policy.remove(key);
        }
        let r = self.store.remove(key);
        self.keep(r, false)
    }

    fn len(&self) -> usize {
        self.store.len()
    }

    fn used(&self) -> u64 {
        self.store.total()
    }
}

/// Times every get (a file read costs microseconds, ~100 times the
/// clock's cost, so the in-process loop's sampling is not needed): a hit's
/// latency is its lookup, open and read; a miss's its failed lookup, the
/// origin's time and the file's write. In a tiered run, hits are also
/// split by the tier that answered (`tiers`).
struct EveryGet<O: Origin> {
    origin: O,
    hits: Histogram<u64>,
    misses: Histogram<u64>,
    origin_ns: u64,
    tiers: Option<Tiers>,
}

/// The hits of a tiered run by tier, told apart by the cache's flag.
struct Tiers {
    l1_answered: Rc<Cell<bool>>,
    l1: Histogram<u64>,
    l2: Histogram<u64>,
}

impl<O: Origin> EveryGet<O> {
    fn new(origin: O, l1_answered: Option<Rc<Cell<bool>>>) -> EveryGet<O> {
        EveryGet {
            origin,
            hits: new_histogram(),
            misses: new_histogram(),
            origin_ns: 0,
            tiers: l1_answered.map(|l1_answered| Tiers {
                l1_answered,
                l1: new_histogram(),
                l2: new_histogram(),
            }),
        }
    }
}

fn ns(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

impl<O: Origin> LatencySink for EveryGet<O> {
    #[inline]
    fn begin(&mut self) -> Option<Instant> {
        Some(Instant::now())
    }
    #[inline]
    fn mark(&self, _t0: Option<Instant>) -> Option<Instant> {
        Some(Instant::now())
    }
    #[inline]
    fn hit(&mut self, t0: Option<Instant>) {
        if let Some(t0) = t0 {
            let v = ns(t0).max(1);
            self.hits.saturating_record(v);
            if let Some(t) = &mut self.tiers {
                let tier = if t.l1_answered.get() {
                    &mut t.l1
                } else {
                    &mut t.l2
                };
                tier.saturating_record(v);
            }
        }
    }
    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError> {
        let t = self.origin.fetch(key, size)?;
        self.origin_ns += t;
        Ok(t)
    }
    fn miss(
        &mut self,
        t0: Option<Instant>,
        t1: Option<Instant>,
        t2: Option<Instant>,
        origin_ns: u64,
    ) {
        if let (Some(t0), Some(t1), Some(t2)) = (t0, t1, t2) {
            let cache = (t1 - t0).as_nanos() as u64 + ns(t2);
            self.misses.saturating_record((cache + origin_ns).max(1));
        }
    }
}

/// Where a run's directory is, and whether the run made it.
struct RunDir {
    path: PathBuf,
    /// A fresh directory under the system temp dir.
    made: bool,
}

impl RunDir {
    fn new(opts: &DiskOptions) -> RunDir {
        match &opts.dir {
            Some(d) => RunDir {
                path: d.clone(),
                made: false,
            },
            None => {
                static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
                let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos())
                    .unwrap_or(0);
                let name = format!("cachesim-disk-{}-{t}-{n}", std::process::id());
                RunDir {
                    path: std::env::temp_dir().join(name),
                    made: true,
                }
            }
        }
    }
}

/// Runs one `disk` replay of `w` with `cfg`.
pub(crate) fn run_one(
    w: &Prepared,
    cfg: &RunConfig,
    opts: &DiskOptions,
    pb: &ProgressBar,
) -> Result<EngineRun, RunError> {
    let spec = parse_spec(&cfg.strategy)?;
    if cfg.fleet.is_some() {
        return Err(RunError::Workload(format!(
            "strategy '{}' is one cache directory; it does not run in a fleet (--instances, --shared, shared:)",
            spec.canonical
        )));
    }
    let dir = RunDir::new(opts);
    let broken = |e: String| {
        RunError::Backend(format!(
            "run {} on {} failed: disk cache at {}: {e}",
            spec.canonical,
            w.label,
            dir.path.display()
        ))
    };
    let store = Store::open(&dir.path, opts.cold).map_err(|e| broken(e.to_string()))?;
    pb.set_message(format!("{} {}", w.label, spec.canonical));
    let mut cache = DiskCache::new(store, opts.value_size);
    let l1_cap = cfg.l1_capacity.unwrap_or(cfg.capacity);
    if let Some(local) = &spec.l1 {
        let capacity = l1_cap.resolve(w.distinct);
        let ctx = BuildCtx {
            capacity,
            seed: cfg.seed,
            ttl: cfg.ttl,
        };
        cache.l1 = Some(L1 {
            policy: policy::build(local, &ctx)?.policy,
            spec: local.clone(),
            ctx,
            bytes: l1_cap.kind() == CapacityKind::Bytes,
            capacity,
            hits: 0,
        });
    }
    let replayed = replay(w, cfg, &spec, &mut cache, pb);
    let failed = replayed.is_err() || cache.err.is_some();
    let cleaned = clean_up(cache.store, &dir, opts.keep, failed);
    let (c, elapsed, objects, lat, (timeline, restarts)) = replayed?;
    if let Some(e) = cache.err {
        return Err(broken(e.to_string()));
    }
    cleaned.map_err(|e| broken(format!("cannot remove the run's files: {e}")))?;
    let summary = lat
        .as_ref()
        .map(|l| LatencySummary::of(&l.overall, &l.hits, &l.misses));
    let limit = spec.limit.unwrap_or(0);
    let columns = match &cache.l1 {
        None => (limit, CapacityKind::Bytes, spec.capacity_spec()),
        Some(l1) => (
            l1.capacity,
            l1_cap.kind(),
            format!("l1={}+{}", l1_cap.label(), spec.capacity_spec()),
        ),
    };
    let tiers = cache.l1.as_ref().map(|l1| (l1.hits, cache.l2_hits));
    // A tier's hit latency, microseconds: empty without hits there.
    let by_tier = lat.as_ref().and_then(|l| l.tiers.as_ref());
    let q = |h: Option<&Histogram<u64>>, p: f64| {
        h.filter(|h| !h.is_empty())
            .map(|h| h.value_at_quantile(p) as f64 / 1000.0)
    };
    let (l1_lat, l2_lat) = (by_tier.map(|t| &t.0), by_tier.map(|t| &t.1));
    let base = base_result(
        w,
        spec.canonical.clone(),
        columns,
        &c,
        elapsed,
        cfg,
        summary,
    );
    let result = RunResult {
        origin_requests: c.misses + c.sets,
        origin_time_s: lat.as_ref().map(|l| l.origin_ns as f64 / 1e9),
        memory_objects: objects,
        l1_hits: tiers.map_or(c.hits, |t| t.0),
        l2_hits: tiers.map_or(0, |t| t.1),
        restarts,
        l1_hit_p50_us: q(l1_lat, 0.5),
        l1_hit_p99_us: q(l1_lat, 0.99),
        l2_hit_p50_us: q(l2_lat, 0.5),
        l2_hit_p99_us: q(l2_lat, 0.99),
        ..base
    };
    Ok((result, lat.map(|l| l.overall), timeline))
}

/// A run's latency histograms.
struct Lat {
    hits: Histogram<u64>,
    misses: Histogram<u64>,
    overall: Histogram<u64>,
    origin_ns: u64,
    /// A tiered run's hits of the L1 and of the disk.
    tiers: Option<(Histogram<u64>, Histogram<u64>)>,
}

type Replayed = (Counters, f64, u64, Option<Lat>, (Vec<WindowPoint>, u64));

/// The timed replay: the counters, the wall time, the objects left, the
/// latency and the timeline's points.
fn replay(
    w: &Prepared,
    cfg: &RunConfig,
    spec: &DiskSpec,
    cache: &mut DiskCache,
    pb: &ProgressBar,
) -> Result<Replayed, RunError> {
    let mut c = Counters::default();
    let start = Instant::now();
    let points;
    let lat = match &cfg.latency {
        None => {
            points = feed(
                w,
                cfg,
                spec,
                cache,
                &mut c,
                &mut crate::sim::latency::NoLatency,
                pb,
            )?;
            None
        }
        Some(o) => {
            let tiered = cache.l1.is_some().then(|| cache.l1_answered.clone());
            let mut t = EveryGet::new(o.connect(cfg.seed)?, tiered);
            points = feed(w, cfg, spec, cache, &mut c, &mut t, pb)?;
            let mut overall = t.hits.clone();
            overall.add(&t.misses).expect("same bounds");
            Some(Lat {
                hits: t.hits,
                misses: t.misses,
                overall,
                origin_ns: t.origin_ns,
                tiers: t.tiers.map(|t| (t.l1, t.l2)),
            })
        }
    };
    let elapsed = start.elapsed().as_secs_f64();
    Ok((c, elapsed, cache.store.len() as u64, lat, points))
}

/// Feeds the workload to the loop in pieces that end where `reduce_size`
/// is due (every `spec.every` requests, by stream position), stopping at
/// the first I/O error. Evictions after the warm-up are counted.
fn feed<L: LatencySink>(
    w: &Prepared,
    cfg: &RunConfig,
    spec: &DiskSpec,
    cache: &mut DiskCache,
    c: &mut Counters,
    lat: &mut L,
    pb: &ProgressBar,
) -> Result<(Vec<WindowPoint>, u64), RunError> {
    let mut drv = Driver::new(&cfg.fresh);
    // Bytes are charged, against no capacity: the loop admits everything.
    let charge = ChargeModel {
        bytes: true,
        capacity: u64::MAX,
    };
    let every = spec.limit.map_or(u64::MAX, |_| spec.every);
    let warmup = cfg.fresh.warmup;
    for_each_batch(&w.data, pb, |b, range, base| {
        let mut i = range.start;
        while i < range.end {
            let pos = base + i as u64;
            let due = (pos / every + 1).saturating_mul(every);
            // A piece also ends where the warm-up does.
            let cut = if pos < warmup { due.min(warmup) } else { due };
            let end = range.end.min((cut - base) as usize);
            // A restart empties the L1 of a tiered run; the files stay.
            let emptied = |d: &mut DiskCache| {
                if let Some(l1) = &mut d.l1 {
                    l1.empty();
                }
            };
            drv.feed_restarting_outside(cache, emptied, b, i..end, charge, (base, c), lat)
                .map_err(|e| RunError::Origin(e.0))?;
            if let Some(e) = &cache.err {
                return Err(RunError::Backend(e.to_string()));
            }
            let done = base + end as u64;
            if done == warmup {
                // The tiers' hits restart with the loop's counters.
                cache.l2_hits = 0;
                if let Some(l1) = &mut cache.l1 {
                    l1.hits = 0;
                }
            }
            if let (Some(limit), true) = (spec.limit, done == due) {
                let n = cache.store.reduce_size(limit);
                let n = n.map_err(|e| RunError::Backend(e.to_string()))?;
                if done > warmup {
                    c.evictions += n;
                }
            }
            i = end;
        }
        Ok(())
    })?;
    drv.phases.finish(c.gets, c.hits, drv.stale().stale_hits);
    Ok((
        std::mem::take(&mut drv.phases.timeline),
        drv.phases.restarts(),
    ))
}

/// Removes the run's files unless `keep` (or the run failed with a fresh
/// directory: then it is removed anyway, there is nothing to look at).
fn clean_up(store: Store, dir: &RunDir, keep: bool, failed: bool) -> io::Result<()> {
    match (keep && !failed, dir.made) {
        (true, _) => Ok(()),
        (false, true) => store.destroy(),
        (false, false) => store.clear(),
    }
}
