//! A key-value server as the simulator's loop's cache. The replay is the
//! simulator's own loop ([`Driver`], so warm-up, prefill, windows, writes
//! and TTLs, in request time, follow the same rules as every in-process
//! policy) with the server as the cache ([`Remote`]), pipelined by fetching
//! each batch's gets in one round trip before the loop asks for them
//! ([`replay`]); [`Charged`] charges each request its batch's round trip. A
//! restart (`--restart-every`) leaves the server as it is (counted all the
//! same: [`Driver::feed_restarting_outside`]). The server speaks through a
//! [`KvConn`]:
//! memcached's text protocol, Redis's RESP. [`replay_clients`] replays
//! over several connections, the stream split by key (memcached's
//! `--clients`).

use crate::external::clients::{client_of, thread_of};
use crate::policy::{Access, Evictions, Policy};
use crate::request::{Key, Op};
use crate::sim::backend::EngineRun;
use crate::sim::capacity::CapacityKind;
use crate::sim::latency::{new_histogram, LatencySink, LatencySummary, Origin, OriginError};
use crate::sim::phases::{Driver, FreshRun, WindowPoint};
use crate::sim::replay::{ChargeModel, Counters};
use crate::sim::result::RunResult;
use crate::sim::runner::{base_result, for_each_batch, Data, Prepared, RunConfig, RunError};
use crate::workload::Batch;
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Display;
use std::sync::Arc;
use std::time::Instant;

/// The replies to the stores and deletes a round trip carried.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Acks {
    /// Stored (`STORED`, `+OK`).
    pub stored: u64,
    /// A store the server refused: the value was not cached (memcached's
    /// `SERVER_ERROR`, a value over its item size or out of memory with
    /// `-M`; Redis's `-OOM` under `noeviction`).
    pub refused: u64,
    /// Keys a delete removed.
    pub deleted: u64,
}

/// One connection to a key-value server, keys under the run's prefix:
/// stores and deletes are queued and travel ahead of the next gets, in
/// one write.
pub(crate) trait KvConn {
    type Error: Display;
    /// Queues a store of `value` under `key`, expiring after `ttl_ms` on
    /// the server's clock (0: never).
    fn queue_set(&mut self, key: Key, value: &[u8], ttl_ms: u64);
    /// Queues a delete of `key`.
    fn queue_delete(&mut self, key: Key);
    /// Sends what is queued plus a get of `keys` (none: no get), and reads
    /// the replies: the queued commands' into the returned [`Acks`], then
    /// each key found through `found`.
    fn round_trip(&mut self, keys: &[Key], found: impl FnMut(Key)) -> Result<Acks, Self::Error>;
}

/// The server as the loop's cache. A get is answered from the batch's
/// round trip (or, for a key the batch did not fetch, by a round trip of
/// its own); a fill, a write and a removal are queued and travel ahead of
/// the next batch's gets. The loop cannot take an error from a policy, so
/// the first one is kept here and ends the run after the piece it
/// happened in.
pub(crate) struct Remote<C: KvConn> {
    pub(crate) conn: C,
    /// Whether each key of the current batch is on the server, updated
    /// by the fills and removals queued since.
    pub(crate) known: FxHashMap<Key, bool>,
    /// Every key the run wrote, to delete at the end (when tracked).
    pub(crate) written: FxHashSet<Key>,
    track: bool,
    /// `--value-size`, else the request's size.
    value_size: Option<u32>,
    value: Vec<u8>,
    /// The expiry of every store on the server's clock, ms (0: none).
    ttl_ms: u64,
    pub(crate) acks: Acks,
    pub(crate) sets: u64,
    pub(crate) err: Option<C::Error>,
}

impl<C: KvConn> Remote<C> {
    /// The cache on `conn`; `track`: remember the keys written (to delete
    /// them at the end).
    pub(crate) fn new(conn: C, value_size: Option<u32>, ttl_ms: u64, track: bool) -> Remote<C> {
        Remote {
            conn,
            known: FxHashMap::default(),
            written: FxHashSet::default(),
            track,
            value_size,
            value: Vec::new(),
            ttl_ms,
            acks: Acks::default(),
            sets: 0,
            err: None,
        }
    }

    /// Sends what is queued and gets `keys`; returns the round trip's
    /// time in ns.
    pub(crate) fn round_trip(&mut self, keys: &[Key]) -> Result<u64, C::Error> {
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

    /// Takes in another connection's keys written, replies counted and
    /// error (this one's first); that connection closes.
    pub(crate) fn absorb(&mut self, o: Remote<C>) {
        self.written.extend(o.written);
        self.acks.stored += o.acks.stored;
        self.acks.refused += o.acks.refused;
        self.acks.deleted += o.acks.deleted;
        self.sets += o.sets;
        if self.err.is_none() {
            self.err = o.err;
        }
    }

    fn queue_set(&mut self, a: &Access) {
        let size = self
            .value_size
            .unwrap_or(a.charge.min(u64::from(u32::MAX)) as u32) as usize;
        if self.value.len() < size {
            self.value.resize(size, b'x');
        }
        self.conn.queue_set(a.key, &self.value[..size], self.ttl_ms);
        self.sets += 1;
        self.known.insert(a.key, true);
        if self.track {
            self.written.insert(a.key);
        }
    }
}

impl<C: KvConn> Policy for Remote<C> {
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
/// carries its store (and whose reply says it was stored).
pub(crate) struct Charged {
    origin: Option<Box<dyn Origin + Send>>,
    /// The current batch's round trip, ns.
    rtt_ns: u64,
    pub(crate) hits: Histogram<u64>,
    pub(crate) misses: Histogram<u64>,
    pub(crate) origin_ns: u64,
    /// Misses waiting for the round trip that carries their stores.
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

    /// A round trip of `ns` has carried the waiting misses' stores.
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

/// What a replay left: the loop's counts, the latency charged, the wall
/// time, the timeline (`--window`) and the restarts counted, and whether
/// the replay and the last stores' round trip went through.
pub(crate) struct Replayed<E> {
    pub(crate) c: Counters,
    pub(crate) lat: Charged,
    pub(crate) elapsed: f64,
    pub(crate) timeline: Vec<WindowPoint>,
    pub(crate) restarts: u64,
    pub(crate) fed: Result<(), RunError>,
    pub(crate) last: Result<(), E>,
}

impl<E> Replayed<E> {
    /// Whether the whole replay went through (the cache kept no error).
    pub(crate) fn ok<C: KvConn>(&self, cache: &Remote<C>) -> bool {
        self.fed.is_ok() && cache.err.is_none() && self.last.is_ok()
    }

    /// Adds another connection's counts, latencies and restarts (of the
    /// same run, no timeline: [`replay_clients`]); keeps this one's
    /// failures first.
    pub(crate) fn absorb(&mut self, o: Replayed<E>) {
        self.c += o.c;
        self.lat.hits.add(&o.lat.hits).expect("same bounds");
        self.lat.misses.add(&o.lat.misses).expect("same bounds");
        self.lat.origin_ns += o.lat.origin_ns;
        self.restarts += o.restarts;
        self.elapsed = self.elapsed.max(o.elapsed);
        if self.fed.is_ok() {
            self.fed = o.fed;
        }
        if self.last.is_ok() {
            self.last = o.last;
        }
    }

    /// The run's row (`l1_hits` the server's hits), its latency histogram
    /// and its timeline, with `objects` the keys resident at the end.
    pub(crate) fn result(
        &self,
        w: &Prepared,
        cfg: &RunConfig,
        name: String,
        capacity: (u64, CapacityKind, String),
        objects: u64,
    ) -> EngineRun {
        let (c, lat) = (&self.c, &self.lat);
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
            name,
            capacity,
            c,
            self.elapsed,
            cfg,
            summary.as_ref().map(|s| s.0),
        );
        let result = RunResult {
            origin_requests: c.misses + c.sets,
            origin_time_s: cfg.latency.as_ref().map(|_| lat.origin_ns as f64 / 1e9),
            memory_objects: objects,
            l1_hits: c.hits,
            restarts: self.restarts,
            ..base
        };
        (result, summary.map(|s| s.1), self.timeline.clone())
    }
}

/// Replays `w` with `cfg` through `cache`, timed (see [`feed`]), then
/// reads the last stores' replies. `at_warmup_end` runs where the warm-up
/// ends (to read the server's counters from there).
pub(crate) fn replay<C: KvConn>(
    w: &Prepared,
    cfg: &RunConfig,
    pipeline: usize,
    cache: &mut Remote<C>,
    pb: &ProgressBar,
    at_warmup_end: impl FnMut(&mut Remote<C>) -> Result<(), C::Error>,
) -> Result<Replayed<C::Error>, RunError> {
    let origin = match &cfg.latency {
        Some(o) => Some(o.connect(cfg.seed)?),
        None => None,
    };
    let mut lat = Charged::new(origin);
    let mut c = Counters::default();
    let start = Instant::now();
    let mut timeline = (Vec::new(), 0);
    let fed = feed(
        w,
        cfg,
        pipeline,
        cache,
        (&mut c, &mut lat, &mut timeline),
        pb,
        at_warmup_end,
    );
    let (timeline, restarts) = timeline;
    let last = last_round_trip(&fed, cache, &mut lat);
    Ok(Replayed {
        c,
        lat,
        elapsed: start.elapsed().as_secs_f64(),
        timeline,
        restarts,
        fed,
        last,
    })
}

/// The last stores' replies, unless the replay failed.
fn last_round_trip<C: KvConn>(
    fed: &Result<(), RunError>,
    cache: &mut Remote<C>,
    lat: &mut Charged,
) -> Result<(), C::Error> {
    match (fed, &cache.err) {
        (Ok(()), None) => cache.round_trip(&[]).map(|ns| lat.settle(ns)),
        _ => Ok(()),
    }
}

/// Feeds the workload to the loop (see [`Feeder`]).
fn feed<C: KvConn>(
    w: &Prepared,
    cfg: &RunConfig,
    pipeline: usize,
    cache: &mut Remote<C>,
    (c, lat, timeline): (&mut Counters, &mut Charged, &mut (Vec<WindowPoint>, u64)),
    pb: &ProgressBar,
    mut at_warmup_end: impl FnMut(&mut Remote<C>) -> Result<(), C::Error>,
) -> Result<(), RunError> {
    let mut f = Feeder::new(&cfg.fresh, pipeline);
    for_each_batch(&w.data, pb, |b, range, base| {
        f.feed(cache, (c, lat), b, range, base, &mut at_warmup_end)
    })?;
    *timeline = f.finish(c);
    Ok(())
}

/// Bytes are charged (the value's size), against no capacity: the loop
/// admits everything and the server evicts.
const CHARGE: ChargeModel = ChargeModel {
    bytes: true,
    capacity: u64::MAX,
};

/// One connection's way through the loop: its [`Driver`], fed the stream
/// (or the connection's share of it) piece by piece, in order, in batches:
/// up to `pipeline` consecutive gets of distinct keys are fetched in one
/// round trip (after the stores and deletes queued before them), then the
/// loop replays them; a set or delete request goes alone (its command is
/// queued).
struct Feeder<'a> {
    drv: Driver<'a>,
    pipeline: usize,
    warmup: u64,
    keys: Vec<Key>,
    seen: FxHashSet<Key>,
}

impl<'a> Feeder<'a> {
    fn new(fresh: &'a FreshRun, pipeline: usize) -> Feeder<'a> {
        let pipeline = pipeline.max(1);
        Feeder {
            drv: Driver::new(fresh),
            pipeline,
            warmup: fresh.warmup,
            keys: Vec::with_capacity(pipeline),
            seen: FxHashSet::default(),
        }
    }

    /// Feeds `range` of `b`, whose request `i` is stream position
    /// `base + i`, through `cache` into `c` and `lat`.
    fn feed<C: KvConn>(
        &mut self,
        cache: &mut Remote<C>,
        (c, lat): (&mut Counters, &mut Charged),
        b: &Batch,
        range: std::ops::Range<usize>,
        base: u64,
        at_warmup_end: &mut impl FnMut(&mut Remote<C>) -> Result<(), C::Error>,
    ) -> Result<(), RunError> {
        let backend = |e: C::Error| RunError::Backend(e.to_string());
        let (pipeline, warmup) = (self.pipeline, self.warmup);
        let mut i = range.start;
        while i < range.end {
            self.keys.clear();
            self.seen.clear();
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
                if op != Op::Get || !self.seen.insert(b.keys[j]) {
                    break;
                }
                self.keys.push(b.keys[j]);
                j += 1;
            }
            if j == i {
                // A set or delete: alone.
                j += 1;
            } else {
                let ns = cache.round_trip(&self.keys).map_err(backend)?;
                lat.settle(ns);
                lat.rtt_ns = ns;
            }
            // A restart leaves the server as it is (counted all the same).
            self.drv
                .feed_restarting_outside(cache, |_| {}, b, i..j, CHARGE, (base, &mut *c), lat)
                .map_err(|e| RunError::Origin(e.0))?;
            if let Some(e) = &cache.err {
                return Err(RunError::Backend(e.to_string()));
            }
            if base + j as u64 == warmup {
                at_warmup_end(cache).map_err(backend)?;
            }
            i = j;
        }
        Ok(())
    }

    /// After the last piece: the last, partial window; the timeline and
    /// the restarts.
    fn finish(mut self, c: &Counters) -> (Vec<WindowPoint>, u64) {
        let stale = self.drv.stale().stale_hits;
        self.drv.phases.finish(c.gets, c.hits, stale);
        (
            std::mem::take(&mut self.drv.phases.timeline),
            self.drv.phases.restarts(),
        )
    }
}

/// `--clients N` (N > 1): `caches[c]`, client `c`'s connection, replays the
/// requests whose key is client `c`'s ([`client_of`]) in stream order,
/// through a loop of its own ([`Feeder`]) with an origin of its own (seeded
/// `seed + c`) and its share of `--prefill`'s keys; `threads` threads drive
/// the connections ([`thread_of`]), each reading the workload itself. The
/// counts are summed and the histograms added into the first connection's
/// (see [`Remote::absorb`], [`Replayed::absorb`]); the elapsed time is the
/// whole replay's. The warm-up, windows and restarts, which count
/// positions in the whole stream, are refused before any run
/// (`cmd::run`).
pub(crate) fn replay_clients<C>(
    w: &Prepared,
    cfg: &RunConfig,
    pipeline: usize,
    caches: Vec<Remote<C>>,
    threads: usize,
    pb: &ProgressBar,
) -> Result<(Remote<C>, Replayed<C::Error>), RunError>
where
    C: KvConn + Send,
    C::Error: Send,
{
    let clients = caches.len();
    let threads = threads.clamp(1, clients.max(1));
    let fresh: Vec<FreshRun> = (0..clients)
        .map(|c| FreshRun {
            prefill_keys: cfg.fresh.prefill_keys.as_ref().map(|keys| {
                let mine = keys.iter().filter(|k| client_of(k.0, clients) == c);
                Arc::new(mine.copied().collect())
            }),
            ..cfg.fresh.clone()
        })
        .collect();
    let mut per_thread: Vec<Vec<Client<C>>> = (0..threads).map(|_| Vec::new()).collect();
    for (c, cache) in caches.into_iter().enumerate() {
        let origin = match &cfg.latency {
            Some(o) => Some(o.connect(cfg.seed.wrapping_add(c as u64))?),
            None => None,
        };
        per_thread[thread_of(c, threads).0].push(Client {
            c,
            cache,
            feeder: Feeder::new(&fresh[c], pipeline),
            counts: Counters::default(),
            lat: Charged::new(origin),
            share: Batch::new(1.0, 1),
            done: 0,
        });
    }
    let start = Instant::now();
    let joined: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = per_thread
            .into_iter()
            .enumerate()
            .map(|(me, mine)| scope.spawn(move || drive(me, mine, (clients, threads), &w.data, pb)))
            .collect();
        handles.into_iter().map(|h| h.join()).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let mut done = Vec::with_capacity(clients);
    for j in joined {
        match j {
            Ok(d) => done.extend(d),
            Err(_) => return Err(RunError::Backend("a client thread panicked".into())),
        }
    }
    done.sort_by_key(|d| d.0);
    let mut done = done.into_iter().map(|d| (d.1, d.2));
    let (mut cache, mut r) = done.next().expect("at least one client");
    for (other, o) in done {
        cache.absorb(other);
        r.absorb(o);
    }
    r.elapsed = elapsed;
    Ok((cache, r))
}

/// One connection of [`replay_clients`] on its thread.
struct Client<'a, C: KvConn> {
    /// Which client it is (`client_of`).
    c: usize,
    cache: Remote<C>,
    feeder: Feeder<'a>,
    counts: Counters,
    lat: Charged,
    /// Its requests of the current piece of the workload.
    share: Batch,
    /// Its requests fed so far: the positions in its share of the stream.
    done: u64,
}

/// Thread `me`'s work in [`replay_clients`]: reads the workload, gives each
/// of its connections its share of each piece, and reads each connection's
/// last replies; returns each connection with what it replayed.
#[allow(clippy::type_complexity)]
fn drive<C: KvConn>(
    me: usize,
    mut mine: Vec<Client<'_, C>>,
    (clients, threads): (usize, usize),
    data: &Data,
    pb: &ProgressBar,
) -> Vec<(usize, Remote<C>, Replayed<C::Error>)> {
    let mut no_warmup = |_: &mut Remote<C>| Ok(());
    let fed = data.for_each_chunk(CHUNK, |b, range, base| -> Result<(), RunError> {
        for cl in mine.iter_mut() {
            cl.share.clear();
            cl.share.rate = b.rate;
            cl.share.unit_size = b.unit_size;
        }
        for i in range {
            match thread_of(client_of(b.keys[i], clients), threads) {
                (t, l) if t == me => mine[l].share.push_from(b, i, base + i as u64),
                _ => {}
            }
        }
        for cl in mine.iter_mut() {
            let n = cl.share.len();
            let (counts, lat) = (&mut cl.counts, &mut cl.lat);
            let (share, base) = (&cl.share, cl.done);
            cl.feeder.feed(
                &mut cl.cache,
                (counts, lat),
                share,
                0..n,
                base,
                &mut no_warmup,
            )?;
            cl.done += n as u64;
            pb.inc(n as u64);
        }
        Ok(())
    });
    // The thread's failure is its first connection's.
    let mut fed = Some(fed);
    mine.into_iter()
        .map(|mut cl| {
            let fed = fed.take().unwrap_or(Ok(()));
            let (timeline, restarts) = cl.feeder.finish(&cl.counts);
            let last = last_round_trip(&fed, &mut cl.cache, &mut cl.lat);
            let r = Replayed {
                c: cl.counts,
                lat: cl.lat,
                elapsed: 0.0,
                timeline,
                restarts,
                fed,
                last,
            };
            (cl.c, cl.cache, r)
        })
        .collect()
}

/// Requests per piece each thread of [`replay_clients`] reads at a time.
const CHUNK: usize = 1 << 14;
