//! One memcached run: connect (or start a private server), replay the
//! workload through the simulator's own loop ([`Driver`], so warm-up,
//! prefill, windows, writes and TTLs follow the same rules as every
//! in-process policy) with the server as the cache ([`Remote`]), pipelined
//! by fetching each batch's gets in one round trip before the loop asks
//! for them, then count what is resident and delete the run's keys.

use super::proto::{number, Acks, Conn, McError};
use super::server::{self, PrivateMemcached};
use super::spec::{parse_spec, runs, MemcachedOptions, MemcachedSpec, STRATEGIES};
use crate::policy::{Access, Evictions, Policy, SpecError, StrategyInfo, StrategySpec};
use crate::request::{Key, Op};
use crate::sim::backend::{refuse_fleet, Engine, EngineRun, FleetUse};
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::latency::{new_histogram, LatencySink, LatencySummary, Origin, OriginError};
use crate::sim::phases::{Driver, WindowPoint};
use crate::sim::replay::{ChargeModel, Counters};
use crate::sim::result::RunResult;
use crate::sim::runner::{base_result, for_each_batch, Prepared, RunConfig, RunError};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use rustc_hash::{FxHashMap, FxHashSet};
use std::time::Instant;

/// The memcached strategies as the runner sees them, registered by the
/// command (`cmd::engines`) with the run's memcached options.
pub(crate) struct MemcachedEngine {
    opts: MemcachedOptions,
}

impl MemcachedEngine {
    pub(crate) fn new(opts: MemcachedOptions) -> MemcachedEngine {
        MemcachedEngine { opts }
    }
}

impl Engine for MemcachedEngine {
    fn strategies(&self) -> &'static [StrategyInfo] {
        STRATEGIES
    }

    fn runs(&self, spec: &StrategySpec) -> bool {
        runs(spec)
    }

    fn validate(&self, spec: &StrategySpec) -> Result<String, SpecError> {
        parse_spec(spec).map(|s| s.canonical)
    }

    /// The shared server must answer, and `memcached-lru` needs the
    /// binary, before any run starts.
    fn preflight(&self, specs: &[StrategySpec]) -> Result<(), RunError> {
        for s in specs {
            let spec = parse_spec(s)?;
            if spec.private {
                server::binary(self.opts.bin.as_deref(), &spec.canonical)?;
            } else {
                let u = &self.opts.url;
                Conn::open(&u.host, u.port, b"").map_err(|e| unreachable(&self.opts, &e))?;
            }
        }
        Ok(())
    }

    fn check_fleet(&self, spec: &StrategySpec, fleet: FleetUse) -> Result<(), RunError> {
        refuse_fleet(&spec.name, "one server behind one client", fleet)
    }

    /// `memcached-lru`'s `-m` is in MiB: a capacity in objects cannot
    /// size it (how many items fit in a page depends on their class).
    fn check_capacity(&self, spec: &StrategySpec, cap: &Capacity) -> Result<(), RunError> {
        match parse_spec(spec) {
            Ok(s) if s.private => server::megabytes(cap, &s.canonical).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The shared server's memory is its own.
    fn uses_capacity(&self, spec: &StrategySpec) -> bool {
        spec.name != "memcached"
    }

    fn run(&self, w: &Prepared, cfg: &RunConfig, pb: &ProgressBar) -> Result<EngineRun, RunError> {
        run_one(w, cfg, &self.opts, pb)
    }
}

fn unreachable(opts: &MemcachedOptions, e: &McError) -> RunError {
    RunError::Backend(format!(
        "memcached at {} (--memcached-url): {e}; start one (apt-get install memcached) or give --memcached-url HOST:PORT",
        opts.url
    ))
}

/// The server as the loop's cache. A get is answered from the batch's
/// round trip (or, for a key the batch did not fetch, by a round trip of
/// its own); a fill, a write and a removal are queued and travel ahead of
/// the next batch's gets. The loop cannot take an error from a policy, so
/// the first one is kept here and ends the run after the piece it
/// happened in.
pub(crate) struct Remote {
    conn: Conn,
    /// Whether each key of the current batch is on the server, updated
    /// by the fills and removals queued since.
    known: FxHashMap<Key, bool>,
    /// Every key the run wrote, to delete at the end (shared server).
    written: FxHashSet<Key>,
    track: bool,
    /// `--value-size`, else the request's size.
    value_size: Option<u32>,
    value: Vec<u8>,
    /// `exptime` of every set: 0, or the shared server's safety TTL.
    exptime: u32,
    acks: Acks,
    sets: u64,
    pub(crate) err: Option<McError>,
}

impl Remote {
    fn new(conn: Conn, opts: &MemcachedOptions, private: bool) -> Remote {
        Remote {
            conn,
            known: FxHashMap::default(),
            written: FxHashSet::default(),
            track: !private,
            value_size: opts.value_size,
            value: Vec::new(),
            exptime: if private { 0 } else { opts.key_ttl },
            acks: Acks::default(),
            sets: 0,
            err: None,
        }
    }

    /// Sends what is queued and gets `keys`; returns the round trip's
    /// time in ns.
    fn round_trip(&mut self, keys: &[Key]) -> Result<u64, McError> {
        self.known.clear();
        for &k in keys {
            self.known.insert(k, false);
        }
        let t = Instant::now();
        let known = &mut self.known;
        let acks = self.conn.round_trip(keys, |k| {
            known.insert(k, true);
        })?;
        let ns = t.elapsed().as_nanos() as u64;
        self.acks.stored += acks.stored;
        self.acks.refused += acks.refused;
        self.acks.deleted += acks.deleted;
        Ok(ns)
    }

    fn queue_set(&mut self, a: &Access) {
        let size = self
            .value_size
            .unwrap_or(a.charge.min(u64::from(u32::MAX)) as u32) as usize;
        if self.value.len() < size {
            self.value.resize(size, b'x');
        }
        self.conn
            .queue_set(a.key, &self.value[..size], self.exptime);
        self.sets += 1;
        self.known.insert(a.key, true);
        if self.track {
            self.written.insert(a.key);
        }
    }
}

impl Policy for Remote {
    fn get(&mut self, a: &Access) -> bool {
        if let Some(&h) = self.known.get(&a.key) {
            return h;
        }
        match self.round_trip(&[a.key]) {
            Ok(_) => self.known.get(&a.key).copied().unwrap_or(false),
            Err(e) => {
                self.err.get_or_insert(e);
                false
            }
        }
    }

    fn insert(&mut self, a: &Access, _ev: &mut Evictions) {
        self.queue_set(a);
    }

    /// A write-through replaces the value, hit or not.
    fn set(&mut self, a: &Access, _ev: &mut Evictions) {
        self.queue_set(a);
    }

    fn remove(&mut self, key: Key) -> bool {
        self.conn.queue_delete(key);
        self.known.insert(key, false).unwrap_or(false)
    }

    /// Not known during the run (the server evicts on its own); counted
    /// at the end.
    fn len(&self) -> usize {
        0
    }

    fn used(&self) -> u64 {
        0
    }
}

/// Charges each get its batch's round trip (no reply is seen before the
/// batch's replies arrive): a hit that round trip plus the loop's own
/// time; a miss that, its origin time and the next round trip, which
/// carries its `set` (and whose reply says it was stored).
struct Charged {
    origin: Option<Box<dyn Origin + Send>>,
    /// The current batch's round trip, ns.
    rtt_ns: u64,
    hits: Histogram<u64>,
    misses: Histogram<u64>,
    origin_ns: u64,
    /// Misses waiting for the round trip that carries their sets.
    waiting: Vec<u64>,
}

impl Charged {
    fn new(origin: Option<Box<dyn Origin + Send>>) -> Charged {
        Charged {
            origin,
            rtt_ns: 0,
            hits: new_histogram(),
            misses: new_histogram(),
            origin_ns: 0,
            waiting: Vec::new(),
        }
    }

    /// A round trip of `ns` has carried the waiting misses' sets.
    fn settle(&mut self, ns: u64) {
        for w in self.waiting.drain(..) {
            self.misses.saturating_record((w + ns).max(1));
        }
    }
}

fn ns(t: Instant) -> u64 {
    t.elapsed().as_nanos() as u64
}

impl LatencySink for Charged {
    #[inline]
    fn begin(&mut self) -> Option<Instant> {
        self.origin.is_some().then(Instant::now)
    }
    #[inline]
    fn mark(&self, t0: Option<Instant>) -> Option<Instant> {
        t0.map(|_| Instant::now())
    }
    #[inline]
    fn hit(&mut self, t0: Option<Instant>) {
        if let Some(t0) = t0 {
            self.hits.saturating_record((ns(t0) + self.rtt_ns).max(1));
        }
    }
    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError> {
        match &mut self.origin {
            Some(o) => {
                let t = o.fetch(key, size)?;
                self.origin_ns += t;
                Ok(t)
            }
            None => Ok(0),
        }
    }
    fn miss(
        &mut self,
        t0: Option<Instant>,
        t1: Option<Instant>,
        t2: Option<Instant>,
        origin_ns: u64,
    ) {
        if let (Some(t0), Some(t1), Some(t2)) = (t0, t1, t2) {
            let local = (t1 - t0).as_nanos() as u64 + ns(t2);
            self.waiting.push(local + self.rtt_ns + origin_ns);
        }
    }
}

/// The server of a run: the shared one, or a private one kept alive for
/// the run.
struct Server {
    private: Option<PrivateMemcached>,
    host: String,
    port: u16,
}

/// Runs one memcached replay of `w` with `cfg`.
pub(crate) fn run_one(
    w: &Prepared,
    cfg: &RunConfig,
    opts: &MemcachedOptions,
    pb: &ProgressBar,
) -> Result<EngineRun, RunError> {
    let spec = parse_spec(&cfg.strategy)?;
    let (server, capacity) = start(&spec, cfg, opts)?;
    let where_ = match &server.private {
        Some(s) => format!("the private memcached on port {}", s.port),
        None => format!("memcached at {}", opts.url),
    };
    let broken = |e: &McError| {
        RunError::Backend(format!(
            "run {} on {} failed: {where_}: {e}",
            spec.canonical, w.label
        ))
    };
    let prefix = format!("cachesim:{}:", server::key_prefix_id());
    let conn = Conn::open(&server.host, server.port, prefix.as_bytes()).map_err(|e| {
        if server.private.is_some() {
            broken(&e)
        } else {
            unreachable(opts, &e)
        }
    })?;
    pb.set_message(format!("{} {}", w.label, spec.canonical));
    let mut cache = Remote::new(conn, opts, spec.private);
    let origin = match &cfg.latency {
        Some(o) => Some(o.connect(cfg.seed)?),
        None => None,
    };
    let mut lat = Charged::new(origin);
    let mut c = Counters::default();
    let start = Instant::now();
    let mut evicted_before = 0;
    let replayed = feed(
        w,
        cfg,
        (opts.pipeline, spec.private),
        &mut evicted_before,
        &mut cache,
        &mut c,
        &mut lat,
        pb,
    );
    // The last sets' replies.
    let last = match (&replayed, &cache.err) {
        (Ok(_), None) => cache.round_trip(&[]).map(|ns| lat.settle(ns)),
        _ => Ok(()),
    };
    let elapsed = start.elapsed().as_secs_f64();
    let ok = replayed.is_ok() && cache.err.is_none() && last.is_ok();
    let counted = match (ok, spec.private, opts.keep) {
        (false, _, _) => Ok(0),
        (true, true, _) => private_counts(&mut cache, evicted_before, &mut c),
        (true, false, true) => resident(&mut cache),
        // Counted by the deletes below.
        (true, false, false) => Ok(0),
    };
    // Delete the run's keys on the shared server, whatever happened.
    let cleaned = match (spec.private, opts.keep) {
        (false, false) => clean_up(&mut cache, &server, prefix.as_bytes()),
        _ => Ok(0),
    };
    let (timeline, restarts) = replayed?;
    if let Some(e) = &cache.err {
        return Err(broken(e));
    }
    last.map_err(|e| broken(&e))?;
    let objects = counted.map_err(|e| broken(&e))? + cleaned.map_err(|e| broken(&e))?;
    if cache.acks.refused > 0 {
        pb.suspend(|| {
            eprintln!(
                "warning: run {} on {}: {where_} refused {} of {} sets with SERVER_ERROR (a value larger than its item size limit, -I, or out of memory with -M): those values were not cached",
                spec.canonical, w.label, cache.acks.refused, cache.sets
            )
        });
    }
    let summary = (cfg.latency.is_some()).then(|| {
        let mut overall = lat.hits.clone();
        overall.add(&lat.misses).expect("same bounds");
        (
            LatencySummary::of(&overall, &lat.hits, &lat.misses),
            overall,
        )
    });
    let base = base_result(
        w,
        spec.canonical.clone(),
        capacity,
        &c,
        elapsed,
        cfg,
        summary.as_ref().map(|s| s.0),
    );
    let result = RunResult {
        origin_requests: c.misses + c.sets,
        origin_time_s: cfg.latency.as_ref().map(|_| lat.origin_ns as f64 / 1e9),
        memory_objects: objects,
        l1_hits: c.hits,
        restarts,
        ..base
    };
    drop(server);
    Ok((result, summary.map(|s| s.1), timeline))
}

/// The shared server, or a private one sized from the capacity; the
/// `capacity`, its kind and `capacity_spec` columns.
fn start(
    spec: &MemcachedSpec,
    cfg: &RunConfig,
    opts: &MemcachedOptions,
) -> Result<(Server, (u64, CapacityKind, String)), RunError> {
    if !spec.private {
        let u = &opts.url;
        let s = Server {
            private: None,
            host: u.host.clone(),
            port: u.port,
        };
        return Ok((s, (0, CapacityKind::Bytes, "server".to_string())));
    }
    let mb = server::megabytes(&cfg.capacity, &spec.canonical)?;
    let bin = server::binary(opts.bin.as_deref(), &spec.canonical)?;
    let p = PrivateMemcached::start(&bin, mb)?;
    let port = p.port;
    let columns = (
        mb << 20,
        CapacityKind::Bytes,
        format!("{} (-m {mb})", cfg.capacity.label()),
    );
    let s = Server {
        private: Some(p),
        host: "127.0.0.1".into(),
        port,
    };
    Ok((s, columns))
}

/// Feeds the workload to the loop in batches: up to `pipeline`
/// consecutive gets of distinct keys are fetched in one round trip (after
/// the sets and deletes queued before them), then the loop replays them;
/// a set or delete request goes alone (its command is queued).
#[allow(clippy::too_many_arguments)]
fn feed(
    w: &Prepared,
    cfg: &RunConfig,
    (pipeline, private): (usize, bool),
    evicted_before: &mut u64,
    cache: &mut Remote,
    c: &mut Counters,
    lat: &mut Charged,
    pb: &ProgressBar,
) -> Result<(Vec<WindowPoint>, u64), RunError> {
    let mut drv = Driver::new(&cfg.fresh);
    // Bytes are charged (the value's size), against no capacity: the loop
    // admits everything and the server evicts.
    let charge = ChargeModel {
        bytes: true,
        capacity: u64::MAX,
    };
    let pipeline = pipeline.max(1);
    let warmup = cfg.fresh.warmup;
    let mut keys: Vec<Key> = Vec::with_capacity(pipeline);
    let mut seen: FxHashSet<Key> = FxHashSet::default();
    for_each_batch(&w.data, pb, |b, range, base| {
        let mut i = range.start;
        while i < range.end {
            keys.clear();
            seen.clear();
            let mut j = i;
            // A batch also ends where the warm-up does.
            let pos = base + i as u64;
            let stop = if pos < warmup {
                range.end.min((warmup - base) as usize)
            } else {
                range.end
            };
            while j < stop && j - i < pipeline {
                let op = b.ops.get(j).copied().unwrap_or(Op::Get);
                if op != Op::Get || !seen.insert(b.keys[j]) {
                    break;
                }
                keys.push(b.keys[j]);
                j += 1;
            }
            if j == i {
                // A set or delete: alone.
                j += 1;
            } else {
                let ns = cache
                    .round_trip(&keys)
                    .map_err(|e| RunError::Backend(e.to_string()))?;
                lat.settle(ns);
                lat.rtt_ns = ns;
            }
            // A restart leaves the server as it is (counted all the same).
            drv.feed_restarting_outside(cache, |_| {}, b, i..j, charge, (base, c), lat)
                .map_err(|e| RunError::Origin(e.0))?;
            if let Some(e) = &cache.err {
                return Err(RunError::Backend(e.to_string()));
            }
            if base + j as u64 == warmup && private {
                // Evictions restart with the loop's counters.
                cache
                    .round_trip(&[])
                    .map_err(|e| RunError::Backend(e.to_string()))?;
                *evicted_before = cache
                    .conn
                    .stat("evictions")
                    .map_err(|e| RunError::Backend(e.to_string()))?;
            }
            i = j;
        }
        Ok(())
    })?;
    drv.phases.finish(c.gets, c.hits, drv.stale().stale_hits);
    Ok((drv.phases.timeline.clone(), drv.phases.restarts()))
}

/// A private server's items, and its evictions since the warm-up (into
/// `c`).
fn private_counts(cache: &mut Remote, before: u64, c: &mut Counters) -> Result<u64, McError> {
    let stats = cache.conn.stats("")?;
    c.evictions = number(&stats, "evictions")?.saturating_sub(before);
    number(&stats, "curr_items")
}

/// The run's keys still on the shared server: those a get finds.
fn resident(cache: &mut Remote) -> Result<u64, McError> {
    let keys: Vec<Key> = cache.written.iter().copied().collect();
    let mut n = 0;
    for chunk in keys.chunks(100) {
        cache.round_trip(chunk)?;
        n += cache.known.values().filter(|&&h| h).count() as u64;
    }
    Ok(n)
}

/// Deletes every key the run wrote on the shared server, in pipelines of
/// 1000, on a new connection (the run's may have failed mid-reply);
/// returns how many were still there.
fn clean_up(cache: &mut Remote, server: &Server, prefix: &[u8]) -> Result<u64, McError> {
    let mut conn = Conn::open(&server.host, server.port, prefix)?;
    let keys: Vec<Key> = cache.written.drain().collect();
    let mut deleted = 0;
    for chunk in keys.chunks(1000) {
        for &k in chunk {
            conn.queue_delete(k);
        }
        deleted += conn.round_trip(&[], |_| {})?.deleted;
    }
    Ok(deleted)
}
