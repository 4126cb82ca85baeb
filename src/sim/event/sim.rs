//! The discrete-event simulation of the event mode (see the module above for
//! the model): one cache, its clients, and the origin behind it, in request
//! time.
//!
//! Events live in one binary heap ordered by time; at equal times a fetch's
//! arrival comes before a client's next request, so a zero-latency fetch
//! fills the cache before anything that happens at the same instant (what
//! makes the mode count exactly as the plain loop then). Open-loop arrivals
//! are not in the heap: each request's time is known in stream order, and
//! the events due by then are run first.
//!
//! A fetch knows everything its fill needs (the request's key, size, TTL and
//! stream position), so the stream can be fed batch by batch and forgotten.
//! Keys with fetches in flight have a [`Flight`]: the newest fetch (which a
//! coalesced get joins), how many are out, and whether the key may be
//! resident. A demand fetch is issued after a miss, so its fill inserts
//! unless another fill of the key came first, in which case it writes
//! through (the policy's `set`); refreshes always write through.

use super::origin::OriginQueue;
use super::{Arrivals, EventOptions};
use crate::policy::{Access, Evictions, Policy};
use crate::request::{Key, Op, Request};
use crate::rng::SimRng;
use crate::sim::freshness::{Freshness, StaleStats, Versions};
use crate::sim::latency::{new_histogram, ModelOrigin, Origin, OriginError, MAX_NS};
use crate::sim::phases::Phaser;
use crate::sim::replay::{Counters, Rules};
use crate::sim::write::WriteAction;
use crate::workload::Batch;
use hdrhistogram::Histogram;
use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

const NIL: u32 = u32::MAX;

/// Where the origin's service times come from.
pub enum Service {
    /// Drawn from `--origin-latency`.
    Model(ModelOrigin),
    /// Measured on a real origin: one connection per client (one in an
    /// open loop); a fetch runs on its client's connection.
    Real(Vec<Box<dyn Origin + Send>>),
}

/// One event: a fetch arriving from the origin (class 0) or a client
/// ready to send its next request (class 1).
#[derive(Debug, Clone, Copy)]
struct Ev {
    t: f64,
    class: u8,
    seq: u64,
    what: u32,
}

impl PartialEq for Ev {
    fn eq(&self, o: &Ev) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Ev {}
impl PartialOrd for Ev {
    fn partial_cmp(&self, o: &Ev) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ev {
    /// Reversed: the heap's top is the earliest event.
    fn cmp(&self, o: &Ev) -> Ordering {
        o.t.total_cmp(&self.t)
            .then(o.class.cmp(&self.class))
            .then(o.seq.cmp(&self.seq))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// After a miss: the requester waits.
    Demand,
    /// An XFetch early recomputation: the requester waits.
    Early,
    /// A stale-while-revalidate background refresh: nobody waits.
    Refresh,
}

#[derive(Debug, Clone, Copy)]
struct Fetch {
    key: Key,
    size: u32,
    ttl: f32,
    counted: bool,
    client: u32,
    vtime: u64,
    next_vtime: u64,
    issued: f64,
    /// Head of its waiters' list.
    waiters: u32,
}

#[derive(Debug, Clone, Copy)]
struct Waiter {
    t: f64,
    client: u32,
    counted: bool,
    next: u32,
}

/// The fetches in flight for one key.
#[derive(Debug, Clone, Copy)]
struct Flight {
    /// The newest fetch, which a coalesced get joins; `NIL` once it
    /// arrived while older ones are still out.
    newest: u32,
    outstanding: u32,
    /// Whether the key may be resident (a fill or a write-through since
    /// the last miss): its next fill writes through instead of inserting.
    resident: bool,
}

/// What the event mode counts beyond [`Counters`].
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct EventStats {
    /// Fetches issued for a key that already had one in flight.
    pub duplicate_fetches: u64,
    /// Gets that waited for a fetch in flight (`--coalesce`).
    pub coalesced: u64,
    /// Hits on an expired value within `--stale-while-revalidate`.
    pub stale_serves: u64,
    /// XFetch early recomputations.
    pub early_refreshes: u64,
    /// Stale-while-revalidate background refreshes.
    pub background_refreshes: u64,
}

/// Everything one run of the event mode measured.
pub struct Outcome {
    /// The loop's counters.
    pub counters: Counters,
    /// The event mode's own counts.
    pub stats: EventStats,
    /// The origin's queue statistics.
    pub origin: OriginQueue,
    /// Latency of hits, ns (simulated: 0).
    pub hits: Histogram<u64>,
    /// Latency of gets answered by the origin, ns, queueing included.
    pub misses: Histogram<u64>,
    /// Stale reads (writes).
    pub(crate) stale: StaleStats,
    /// The warm-up, windows and timeline.
    pub phases: Phaser,
}

/// The settings of one simulation.
pub struct Setup<'a> {
    /// The event mode's options.
    pub opts: &'a EventOptions,
    /// The loop's rules (charges, writes).
    pub rules: Rules,
    /// `--ttl`: every fill's TTL unless its request has one.
    pub ttl: Option<f64>,
    /// Requests per second (Poisson arrivals, the default think time).
    pub rate: f64,
    /// The run's seed.
    pub seed: u64,
    /// Keys to load before the first request, most popular first.
    pub prefill: Option<&'a [(Key, u32)]>,
    /// The delta XFetch assumes for prefilled keys (the origin's mean).
    pub prefill_delta: f64,
}

/// The simulation. Feed it the stream's batches in order, then
/// [`Sim::finish`].
pub struct Sim<'a> {
    setup: Setup<'a>,
    service: Service,
    think: Option<ModelOrigin>,
    heap: BinaryHeap<Ev>,
    seq: u64,
    now: f64,
    started: bool,
    counting: bool,
    next_arrival: f64,
    fetches: Vec<Fetch>,
    free_fetches: Vec<u32>,
    waiters: Vec<Waiter>,
    free_waiters: Vec<u32>,
    flights: FxHashMap<Key, Flight>,
    /// Deadline and the last fetch's duration (XFetch's delta) of each
    /// key filled with a TTL.
    expiry: FxHashMap<Key, (f64, f64)>,
    jitter_rng: SimRng,
    xfetch_rng: SimRng,
    arrival_rng: SimRng,
    versions: Versions,
    /// Whether the stream has carried writes (versions are kept then).
    writes: bool,
    ev: Evictions,
    c: Counters,
    stats: EventStats,
    origin: OriginQueue,
    hits: Histogram<u64>,
    misses: Histogram<u64>,
    phases: Phaser,
}

fn ns(s: f64) -> u64 {
    ((s * 1e9).round().max(0.0) as u64).min(MAX_NS)
}

impl<'a> Sim<'a> {
    /// A simulation of `setup` against `service`, its warm-up and windows
    /// cut by `phases`.
    pub fn new(setup: Setup<'a>, service: Service, phases: Phaser) -> Sim<'a> {
        let think = setup.opts.clients().map(|n| {
            let model = setup
                .opts
                .think
                .clone()
                .unwrap_or(crate::sim::latency::OriginModel::Exp(n as f64 / setup.rate));
            ModelOrigin::on_stream(&model, setup.seed, 0x7417_c0de)
        });
        let seed = setup.seed;
        Sim {
            origin: OriginQueue::new(setup.opts.origin_concurrency),
            setup,
            service,
            think,
            heap: BinaryHeap::new(),
            seq: 0,
            now: f64::NEG_INFINITY,
            started: false,
            counting: false,
            next_arrival: 0.0,
            fetches: Vec::new(),
            free_fetches: Vec::new(),
            waiters: Vec::new(),
            free_waiters: Vec::new(),
            flights: FxHashMap::default(),
            expiry: FxHashMap::default(),
            jitter_rng: SimRng::derive(seed, 0x717e_f11e),
            xfetch_rng: SimRng::derive(seed, 0x0e4f_e7c4),
            arrival_rng: SimRng::derive(seed, 0x0a22_1fa1),
            versions: Versions::default(),
            writes: false,
            ev: Evictions::default(),
            c: Counters::default(),
            stats: EventStats::default(),
            hits: new_histogram(),
            misses: new_histogram(),
            phases,
        }
    }

    fn push(&mut self, t: f64, class: u8, what: u32) {
        self.seq += 1;
        self.heap.push(Ev {
            t,
            class,
            seq: self.seq,
            what,
        });
    }

    /// Before the first request (at `t0`): the prefill, the clients'
    /// first requests, the first Poisson arrival.
    fn start<P: Policy + ?Sized>(&mut self, p: &mut P, t0: f64) {
        self.started = true;
        self.now = t0;
        self.next_arrival = t0;
        if let Some(keys) = self.setup.prefill {
            let charge = self.setup.rules.charge;
            let mut ev = Evictions::default();
            let delta = self.setup.prefill_delta;
            let mut filled = Vec::with_capacity(keys.len());
            crate::sim::freshness::prefill_each(keys, t0, charge, |a, _| {
                if !p.get(a) {
                    p.insert(a, &mut ev);
                }
                filled.push(a.key);
            });
            for key in filled {
                self.set_deadline(key, t0, 0.0, delta);
            }
        }
        if let Some(n) = self.setup.opts.clients() {
            for client in 0..n as u32 {
                let t = t0 + self.think_s();
                self.push(t, 1, client);
            }
        }
    }

    fn think_s(&mut self) -> f64 {
        self.think.as_mut().map_or(0.0, |m| m.sample_s())
    }

    /// The fill TTL of a request whose own TTL is `ttl` (0: none), with
    /// `--ttl` as the default and `--ttl-jitter` applied.
    fn fill_ttl(&mut self, ttl: f32) -> f64 {
        let base = if ttl > 0.0 {
            f64::from(ttl)
        } else {
            self.setup.ttl.unwrap_or(0.0)
        };
        match self.setup.opts.ttl_jitter {
            Some(f) if base > 0.0 && f > 0.0 => base * (1.0 - f * self.jitter_rng.f64()),
            _ => base,
        }
    }

    /// `key` was filled at `t` by a request with TTL `ttl` (0: the
    /// default), its fetch having taken `delta` seconds.
    fn set_deadline(&mut self, key: Key, t: f64, ttl: f32, delta: f64) {
        let ttl = self.fill_ttl(ttl);
        if ttl > 0.0 {
            self.expiry.insert(key, (t + ttl, delta));
        } else if !self.expiry.is_empty() {
            self.expiry.remove(&key);
        }
    }

    /// Replays `range` of `batch` (request `i` is stream position
    /// `vtime_base + i`); `next_use` holds next uses for offline policies.
    pub fn feed<P: Policy + ?Sized>(
        &mut self,
        p: &mut P,
        batch: &Batch,
        range: std::ops::Range<usize>,
        vtime_base: u64,
        next_use: Option<&[u64]>,
    ) -> Result<(), OriginError> {
        let mut i = range.start;
        if i < range.end && !self.started {
            let t0 = batch.request(i, vtime_base + i as u64).time;
            self.start(p, t0);
        }
        self.writes |= !batch.ops.is_empty();
        let writes = self.writes;
        while i < range.end {
            let (end, warmup) = self.phases.next(i, range.end);
            let mut last = self.now;
            for j in i..end {
                let v = vtime_base + j as u64;
                let r = batch.request(j, v);
                let (t, client) = self.arrival(p, r.time)?;
                if !warmup && !self.counting {
                    self.begin_counting();
                }
                let next = next_use.map_or(u64::MAX, |n| n[j]);
                let req = Req {
                    r,
                    ttl: batch.ttl(j),
                    vtime: v,
                    next,
                    t,
                    client,
                    counted: !warmup,
                };
                self.arrive(p, &req, writes)?;
                last = t;
            }
            if self.phases.advance((end - i) as u64, warmup, last) {
                self.close_window();
            }
            i = end;
        }
        Ok(())
    }

    fn close_window(&mut self) {
        self.phases
            .point(self.c.gets, self.c.hits, self.versions.stale.stale_hits);
        self.stamp_window();
    }

    /// Gives the window just closed the origin's counts over it, and
    /// starts the origin's next window.
    fn stamp_window(&mut self) {
        if let Some(pt) = self.phases.timeline.last_mut() {
            pt.origin = Some(self.origin.window);
        }
        self.origin.next_window();
    }

    /// The end of the warm-up: every counter starts from zero; the cache,
    /// the fetches in flight and the queue stay.
    fn begin_counting(&mut self) {
        self.counting = true;
        self.c = Counters::default();
        self.ev = Evictions::default();
        self.stats = EventStats::default();
        self.versions.stale = StaleStats::default();
        self.origin.reset_stats();
        self.hits.reset();
        self.misses.reset();
    }

    /// The time and client of the next request (its own time `own` in an
    /// open loop at the trace's pace), after running every event due
    /// before it.
    fn arrival<P: Policy + ?Sized>(
        &mut self,
        p: &mut P,
        own: f64,
    ) -> Result<(f64, u32), OriginError> {
        let t = match self.setup.opts.arrivals {
            Arrivals::Trace => own.max(self.now),
            Arrivals::Poisson => {
                let t = self.next_arrival;
                let u = 1.0 - self.arrival_rng.f64();
                self.next_arrival = t - u.ln() / self.setup.rate;
                t
            }
            Arrivals::Closed { .. } => loop {
                let e = self
                    .heap
                    .pop()
                    .expect("every client is ready or waiting for a fetch");
                self.now = e.t;
                if e.class == 0 {
                    self.complete(p, e.what)?;
                } else {
                    return Ok((e.t, e.what));
                }
            },
        };
        while self.heap.peek().is_some_and(|e| e.t <= t) {
            let e = self.heap.pop().expect("peeked");
            self.now = e.t;
            self.complete(p, e.what)?;
        }
        self.now = t;
        Ok((t, NIL))
    }

    /// Client `client` got its answer at `t`.
    fn answered(&mut self, client: u32, t: f64) {
        if client != NIL {
            let t = t + self.think_s();
            self.push(t, 1, client);
        }
    }

    fn arrive<P: Policy + ?Sized>(
        &mut self,
        p: &mut P,
        q: &Req,
        writes: bool,
    ) -> Result<(), OriginError> {
        let charge = self.setup.rules.charge;
        let a = Access {
            key: q.r.key,
            charge: charge.of(q.r.size),
            time: q.t,
            vtime: q.vtime,
            next_vtime: q.next,
        };
        match q.r.op {
            Op::Get => self.get(p, q, &a, writes),
            op @ (Op::Set | Op::Delete) => {
                if op == Op::Set {
                    self.c.sets += 1;
                } else {
                    self.c.deletes += 1;
                }
                if writes {
                    self.versions.write(a.key, q.t);
                }
                let fits = a.charge <= charge.capacity;
                match self.setup.rules.on_write.action(op, fits) {
                    WriteAction::Drop => {
                        p.remove(a.key);
                        if let Some(f) = self.flights.get_mut(&a.key) {
                            f.resident = false;
                        }
                    }
                    WriteAction::Update => {
                        p.set(&a, &mut self.ev);
                        self.versions.fill(a.key, 0);
                        let delta = self.expiry.get(&a.key).map_or(0.0, |e| e.1);
                        self.set_deadline(a.key, q.t, q.ttl, delta);
                        if let Some(f) = self.flights.get_mut(&a.key) {
                            f.resident = true;
                        }
                    }
                    WriteAction::Keep => {}
                }
                self.answered(q.client, q.t);
                Ok(())
            }
        }
    }

    fn get<P: Policy + ?Sized>(
        &mut self,
        p: &mut P,
        q: &Req,
        a: &Access,
        writes: bool,
    ) -> Result<(), OriginError> {
        let (t, key, size) = (q.t, a.key, q.r.size);
        self.c.gets += 1;
        self.c.bytes_requested += u64::from(size);
        let mut stale = false;
        let mut early = false;
        if !self.expiry.is_empty() {
            if let Some(&(d, delta)) = self.expiry.get(&key) {
                if t >= d {
                    if self.setup.opts.swr.is_some_and(|w| t < d + w) {
                        stale = true;
                    } else {
                        self.expiry.remove(&key);
                        if p.remove(key) {
                            self.c.expirations += 1;
                        }
                    }
                } else if let Some(beta) = self.setup.opts.xfetch {
                    if delta > 0.0 {
                        let u = 1.0 - self.xfetch_rng.f64();
                        early = t - delta * beta * u.ln() >= d;
                    }
                }
            }
        }
        if p.get(a) {
            if early {
                self.c.misses += 1;
                self.c.bytes_missed += u64::from(size);
                if q.counted {
                    self.stats.early_refreshes += 1;
                }
                return self.fetch_or_join(q, Kind::Early);
            }
            self.c.hits += 1;
            if writes {
                self.versions.hit(key, t, 0);
            }
            if stale {
                if q.counted {
                    self.stats.stale_serves += 1;
                }
                if !self.flights.contains_key(&key) {
                    if q.counted {
                        self.stats.background_refreshes += 1;
                    }
                    self.issue(q, Kind::Refresh, NIL)?;
                }
            }
            if q.counted {
                self.hits.saturating_record(0);
            }
            self.answered(q.client, t);
            return Ok(());
        }
        if stale {
            // Evicted while it was stale.
            self.expiry.remove(&key);
        }
        self.c.misses += 1;
        self.c.bytes_missed += u64::from(size);
        self.fetch_or_join(q, Kind::Demand)
    }

    /// A get answered by the origin: joins the fetch in flight for its key
    /// (`--coalesce`), or issues one (a duplicate if another is out).
    fn fetch_or_join(&mut self, q: &Req, kind: Kind) -> Result<(), OriginError> {
        let w = self.waiter(q);
        if let Some(f) = self.flights.get(&q.r.key) {
            if f.newest != NIL && self.setup.opts.coalesce {
                let head = &mut self.fetches[f.newest as usize].waiters;
                self.waiters[w as usize].next = *head;
                *head = w;
                if q.counted {
                    self.stats.coalesced += 1;
                }
                return Ok(());
            }
            if q.counted {
                self.stats.duplicate_fetches += 1;
            }
        }
        self.issue(q, kind, w)
    }

    fn waiter(&mut self, q: &Req) -> u32 {
        let w = Waiter {
            t: q.t,
            client: q.client,
            counted: q.counted,
            next: NIL,
        };
        match self.free_waiters.pop() {
            Some(i) => {
                self.waiters[i as usize] = w;
                i
            }
            None => {
                self.waiters.push(w);
                (self.waiters.len() - 1) as u32
            }
        }
    }

    /// Sends a fetch of `q`'s key to the origin (its waiter `w`, or `NIL`).
    fn issue(&mut self, q: &Req, kind: Kind, w: u32) -> Result<(), OriginError> {
        let f = Fetch {
            key: q.r.key,
            size: q.r.size,
            ttl: q.ttl,
            counted: q.counted,
            client: q.client,
            vtime: q.vtime,
            next_vtime: q.next,
            issued: q.t,
            waiters: w,
        };
        let id = match self.free_fetches.pop() {
            Some(i) => {
                self.fetches[i as usize] = f;
                i
            }
            None => {
                self.fetches.push(f);
                (self.fetches.len() - 1) as u32
            }
        };
        let fl = self.flights.entry(q.r.key).or_insert(Flight {
            newest: NIL,
            outstanding: 0,
            resident: true,
        });
        fl.newest = id;
        fl.outstanding += 1;
        if kind == Kind::Demand {
            fl.resident = false;
        }
        if self.origin.arrive(id, q.counted) {
            self.serve(id, q.t)?;
        }
        Ok(())
    }

    /// Fetch `id` starts its service at `t`.
    fn serve(&mut self, id: u32, t: f64) -> Result<(), OriginError> {
        let f = self.fetches[id as usize];
        let (s, service_ns) = match &mut self.service {
            Service::Model(m) => {
                let s = m.sample_s();
                (s, ns(s))
            }
            Service::Real(conns) => {
                let c = if f.client == NIL {
                    0
                } else {
                    f.client as usize % conns.len()
                };
                let n = conns[c].fetch(f.key, f.size)?;
                (n as f64 / 1e9, n)
            }
        };
        if f.counted {
            self.origin.served(t - f.issued, service_ns);
        }
        self.push(t + s, 0, id);
        Ok(())
    }

    /// Fetch `id` arrives now: the next waiting fetch starts, the value
    /// fills the cache, its waiters are answered.
    fn complete<P: Policy + ?Sized>(&mut self, p: &mut P, id: u32) -> Result<(), OriginError> {
        let now = self.now;
        if let Some(next) = self.origin.depart() {
            self.serve(next, now)?;
        }
        let f = self.fetches[id as usize];
        let charge = self.setup.rules.charge;
        let a = Access {
            key: f.key,
            charge: charge.of(f.size),
            time: now,
            vtime: f.vtime,
            next_vtime: f.next_vtime,
        };
        let fits = a.charge <= charge.capacity;
        let fl = self
            .flights
            .get_mut(&f.key)
            .expect("a fetch in flight has its flight");
        fl.outstanding -= 1;
        if fl.newest == id {
            fl.newest = NIL;
        }
        let resident = fl.resident;
        fl.resident |= fits;
        if fl.outstanding == 0 {
            self.flights.remove(&f.key);
        }
        if fits {
            if resident {
                p.set(&a, &mut self.ev);
            } else {
                p.insert(&a, &mut self.ev);
            }
            if self.writes {
                self.versions.fill(f.key, 0);
            }
            self.set_deadline(f.key, now, f.ttl, now - f.issued);
        }
        let mut w = f.waiters;
        while w != NIL {
            let x = self.waiters[w as usize];
            if x.counted {
                self.misses.saturating_record(ns(now - x.t));
            }
            self.answered(x.client, now);
            self.free_waiters.push(w);
            w = x.next;
        }
        self.free_fetches.push(id);
        Ok(())
    }

    /// Runs the fetches still in flight; call once after the last batch.
    pub fn finish<P: Policy + ?Sized>(&mut self, p: &mut P) -> Result<(), OriginError> {
        while let Some(e) = self.heap.pop() {
            if e.class == 0 {
                self.now = e.t;
                self.complete(p, e.what)?;
            }
        }
        let n = self.phases.timeline.len();
        self.phases
            .finish(self.c.gets, self.c.hits, self.versions.stale.stale_hits);
        if self.phases.timeline.len() > n {
            self.stamp_window();
        }
        Ok(())
    }

    /// What the run measured.
    pub fn outcome(self) -> Outcome {
        let mut c = self.c;
        c += self.ev;
        c.requests = c.gets + c.sets + c.deletes;
        Outcome {
            counters: c,
            stats: self.stats,
            origin: self.origin,
            hits: self.hits,
            misses: self.misses,
            stale: self.versions.stale,
            phases: self.phases,
        }
    }
}

/// One request as it arrives.
struct Req {
    r: Request,
    ttl: f32,
    vtime: u64,
    next: u64,
    t: f64,
    client: u32,
    counted: bool,
}
