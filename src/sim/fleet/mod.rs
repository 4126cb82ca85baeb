//! Several application instances, each with its own local cache, against one
//! shared cache of the same total memory: the quantitative answer to "when is
//! it time to move to Redis?" (TALK.md, figure 8).
//!
//! The request stream is split over `K` instances by a load balancer:
//! `random` (seeded), `round-robin`, or `key-hash` (sticky routing: a key
//! always goes to the same instance). In local mode each instance has a cache
//! of capacity `c`; in shared mode all instances use one cache of `K x c`.
//!
//! Writes (`set` requests) go to the origin through the instance that handles
//! them and give the key a new version. That instance applies the write
//! policy to its own cache (`invalidate`: delete the entry; `update`: write the
//! new value through; `none`: leave it). The other instances keep their copies
//! (now stale) unless `broadcast` is on, which models pub/sub or Redis
//! client-side-caching invalidation messages: every other instance deletes
//! the key `delay` seconds of request time later (at once with a delay of 0).
//! Every cached value remembers the version it was filled with; a hit on an
//! older version is a **stale hit**, whose age is how long ago (request time)
//! the served value was overwritten. A `delete` request is a write that
//! removes the key.
//!
//! Counting: every instance's counters are summed (in shared mode the one
//! cache's evictions are booked on instance 0); `memory_objects` is the
//! number of objects cached across the fleet at the end.

mod config;
mod counters;
mod tier;

pub(crate) use config::{Balance, FleetConfig};
pub(crate) use counters::{fleet_columns, FleetCounters};

use super::backend::CacheBackend;
use super::expiry::{Deadlines, Expiry};
use super::freshness::{prefill_each, Freshness, StaleStats, Versions};
use super::phases::Phaser;
use super::replay::{ChargeModel, Counters};
use super::restart::Who;
use super::write::{OnWrite, WriteAction};
use crate::policy::{Access, AnyPolicy, Evictions, Policy};
use crate::request::{Key, Op};
use crate::rng::{splitmix, SimRng};
use crate::workload::Batch;
use std::collections::VecDeque;
use tier::Tier;

/// How a fleet rebuilds the in-process caches a restart empties
/// (`--restart-every`): with the makers that built them. `None` for caches
/// that do not restart (a server's).
pub(crate) struct Renew<'a, C> {
    /// Each instance's own cache, in local mode.
    pub local: Option<&'a dyn Fn(u64) -> C>,
    /// Each instance's L1, in a tiered fleet.
    pub l1: Option<&'a dyn Fn(u64) -> AnyPolicy>,
}

impl<C> Renew<'_, C> {
    /// Nothing restarts.
    pub(crate) fn none() -> Self {
        Renew {
            local: None,
            l1: None,
        }
    }
}

/// A fleet in the middle of a replay: feed it batches, then [`Fleet::finish`].
/// `C` is the type of the non-L1 caches (in-process by default).
pub(crate) struct Fleet<C: CacheBackend = AnyPolicy> {
    /// Tiered mode: per-instance L1 caches in front of the shared cache.
    l1: Option<Tier>,
    cfg: FleetConfig,
    charge: ChargeModel,
    /// Capacity of each cache (`K x c` for the shared one).
    cap: u64,
    caches: Vec<C>,
    /// Versions of every copy: copy `j` is `caches[j]`, copy
    /// `caches.len() + i` is instance `i`'s L1.
    versions: Versions,
    /// Deadlines of every copy filled with a TTL, numbered as `versions`.
    deadlines: Vec<Deadlines>,
    /// Broadcast invalidations in flight: (due time, key, sending cache).
    pending: VecDeque<(f64, Key, usize)>,
    rng: SimRng,
    ev: Vec<Evictions>,
    out: FleetCounters,
}

impl<C: CacheBackend> Fleet<C> {
    /// `make(capacity)` builds one cache; local mode calls it `instances`
    /// times with `charge.capacity`, shared mode once with
    /// `instances x charge.capacity`.
    pub(crate) fn new(make: &dyn Fn(u64) -> C, charge: ChargeModel, cfg: &FleetConfig) -> Fleet<C> {
        let k = cfg.instances.max(1);
        let (ncaches, cap) = if cfg.shared {
            (1, charge.capacity.saturating_mul(k as u64))
        } else {
            (k, charge.capacity)
        };
        Fleet::from_caches((0..ncaches).map(|_| make(cap)).collect(), cap, charge, cfg)
    }

    /// `K` instances sharing `cache`, whose capacity (in charge units) is
    /// `cap`: a shared fleet whose cache is built elsewhere (a server).
    pub(crate) fn with_shared(
        cache: C,
        cap: u64,
        charge: ChargeModel,
        cfg: &FleetConfig,
    ) -> Fleet<C> {
        Fleet::from_caches(
            vec![cache],
            cap,
            charge,
            &FleetConfig {
                shared: true,
                ..cfg.clone()
            },
        )
    }

    fn from_caches(caches: Vec<C>, cap: u64, charge: ChargeModel, cfg: &FleetConfig) -> Fleet<C> {
        let k = cfg.instances.max(1);
        let n = caches.len();
        Fleet {
            l1: None,
            cfg: FleetConfig {
                instances: k,
                ..cfg.clone()
            },
            charge,
            cap,
            caches,
            versions: Versions::new(n),
            deadlines: vec![Deadlines::default(); n + k],
            pending: VecDeque::new(),
            rng: SimRng::derive(cfg.seed, 0x0ba1_a4ce),
            ev: vec![Evictions::default(); n],
            out: FleetCounters {
                per_instance: vec![Counters::default(); k],
                ..Default::default()
            },
        }
    }

    /// A tiered fleet: every instance has an L1 of `l1_capacity` (built by
    /// `make_l1`) in front of one shared L2 of `charge.capacity` (built by
    /// `make`). A get tries the instance's L1, then the L2 (a hit there fills
    /// the L1 with the L2's copy), then the origin (filling both). A write
    /// applies the write policy to the L2 and to the handling instance's L1;
    /// broadcast invalidations reach the other L1s.
    pub(crate) fn tiered(
        make_l1: &dyn Fn(u64) -> AnyPolicy,
        l1_capacity: u64,
        make: &dyn Fn(u64) -> C,
        charge: ChargeModel,
        cfg: &FleetConfig,
    ) -> Fleet<C> {
        Fleet::tiered_with(make_l1, l1_capacity, make(charge.capacity), charge, cfg)
    }

    /// A tiered fleet over an L2 built elsewhere (a server) of
    /// `charge.capacity`.
    pub(crate) fn tiered_with(
        make_l1: &dyn Fn(u64) -> AnyPolicy,
        l1_capacity: u64,
        l2: C,
        charge: ChargeModel,
        cfg: &FleetConfig,
    ) -> Fleet<C> {
        let k = cfg.instances.max(1);
        let mut f = Fleet::from_caches(
            vec![l2],
            charge.capacity,
            charge,
            &FleetConfig {
                shared: true,
                ..cfg.clone()
            },
        );
        f.l1 = Some(Tier::new(make_l1, l1_capacity, k));
        f.versions = Versions::new(1 + k);
        f
    }

    /// Broadcast invalidation of `key`, sent by instance (or cache) `from`:
    /// every other L1 of a tiered fleet, or every other local cache, drops it.
    fn invalidate_others(&mut self, key: Key, from: usize) {
        let n = match &mut self.l1 {
            Some(t) => t.invalidate_others(key, from),
            None => {
                let mut n = 0;
                for (j, c) in self.caches.iter_mut().enumerate() {
                    n += u64::from(j != from && c.invalidate(key));
                }
                n
            }
        };
        self.out.invalidations += n;
    }

    /// Fills every cache of the fleet (each instance's own, the shared one,
    /// every L1 and the L2) with `keys`, most popular first, at `time`,
    /// counting nothing: each instance warmed its cache the same way.
    pub(crate) fn prefill(&mut self, keys: &[(Key, u32)], time: f64) {
        let mut ev = Evictions::default();
        let charge = ChargeModel {
            bytes: self.charge.bytes,
            capacity: self.cap,
        };
        for c in &mut self.caches {
            prefill_each(keys, time, charge, |a, size| {
                if !c.lookup(a, size) {
                    c.admit(a, size, &mut ev);
                }
            });
        }
        if let Some(t) = &mut self.l1 {
            t.prefill(keys, time, self.charge.bytes);
        }
    }

    /// Restarts every counter (the end of a warm-up); caches, versions and
    /// invalidations in flight stay.
    pub(crate) fn reset_counters(&mut self) {
        let k = self.cfg.instances;
        self.out = FleetCounters {
            per_instance: vec![Counters::default(); k],
            ..Default::default()
        };
        self.versions.stale = StaleStats::default();
        self.ev.iter_mut().for_each(|e| *e = Evictions::default());
        if let Some(t) = &mut self.l1 {
            t.ev.iter_mut().for_each(|e| *e = Evictions::default());
        }
    }

    /// Cumulative (gets, hits, stale hits) since the last reset.
    fn cumulative(&self) -> (u64, u64, u64) {
        let (g, h) = self
            .out
            .per_instance
            .iter()
            .fold((0, 0), |(g, h), c| (g + c.gets, h + c.hits));
        (g, h, self.versions.stale.stale_hits)
    }

    /// Replays `range` of `batch` through the run's phases: the prefill
    /// (taken from `prefill` before the first request), the warm-up (then
    /// every counter restarts), the timeline's windows, and the restarts
    /// (`--restart-every`), which rebuild the in-process caches through
    /// `renew`.
    pub(crate) fn feed(
        &mut self,
        phases: &mut Phaser,
        prefill: &mut Option<&[(Key, u32)]>,
        renew: &Renew<'_, C>,
        batch: &Batch,
        range: std::ops::Range<usize>,
        vtime_base: u64,
    ) {
        let mut i = range.start;
        if i < range.end {
            if let Some(keys) = prefill.take() {
                self.prefill(keys, batch.request(i, vtime_base + i as u64).time);
            }
        }
        while i < range.end {
            let cut = phases.restart_cut(batch, i, range.end, vtime_base);
            while i < cut {
                let (end, warmup) = phases.next(i, cut);
                self.replay(batch, i..end, vtime_base);
                if warmup {
                    self.reset_counters();
                }
                let last = batch.request(end - 1, vtime_base + (end - 1) as u64).time;
                if phases.advance((end - i) as u64, warmup, last) {
                    let (g, h, s) = self.cumulative();
                    phases.point(g, h, s);
                }
                i = end;
            }
            if cut < range.end {
                phases.restart_fire(batch, cut, vtime_base, |w| self.restart(w, renew));
            }
        }
    }

    /// Restarts `who`: each instance's in-process caches (its own cache in
    /// local mode, its L1 in a tiered fleet) start over empty, built as at
    /// the start, with their deadlines dropped. The shared cache (or L2) is
    /// outside the instances and keeps its contents; so do the origin's
    /// versions and broadcast invalidations in flight (for a restarted
    /// instance they find nothing to drop).
    fn restart(&mut self, who: Who, renew: &Renew<'_, C>) {
        let k = self.cfg.instances;
        let (from, to) = match who {
            Who::All => (0, k),
            Who::Instance(i) => (i, i + 1),
        };
        let n = self.caches.len();
        for i in from..to.min(k) {
            if let Some(t) = &mut self.l1 {
                if let Some(make) = renew.l1 {
                    t.caches[i] = make(t.cap);
                    self.deadlines[n + i] = Deadlines::default();
                }
            } else if !self.cfg.shared {
                if let Some(make) = renew.local {
                    self.caches[i] = make(self.cap);
                    self.deadlines[i] = Deadlines::default();
                }
            }
        }
    }

    /// The shared cache (or the first local one).
    pub(crate) fn shared_cache(&mut self) -> &mut C {
        &mut self.caches[0]
    }

    /// The instance that serves request number `vtime` for `key`.
    #[inline]
    fn route(&mut self, key: Key, vtime: u64) -> usize {
        let k = self.cfg.instances;
        match self.cfg.balance {
            _ if k == 1 => 0,
            Balance::Random => self.rng.below(k as u64) as usize,
            Balance::RoundRobin => (vtime % k as u64) as usize,
            Balance::KeyHash => (splitmix(key) % k as u64) as usize,
        }
    }

    /// Replays requests `range` of `batch`; request `i` is number
    /// `vtime_base + i` of the stream.
    pub(crate) fn replay(&mut self, batch: &Batch, range: std::ops::Range<usize>, vtime_base: u64) {
        for i in range {
            let vtime = vtime_base + i as u64;
            let r = batch.request(i, vtime);
            // Deliver invalidations that are due.
            while let Some(&(due, key, from)) = self.pending.front() {
                if due > r.time {
                    break;
                }
                self.pending.pop_front();
                self.invalidate_others(key, from);
            }
            let inst = self.route(r.key, vtime);
            let a = Access {
                key: r.key,
                charge: self.charge.of(r.size),
                time: r.time,
                vtime,
                next_vtime: u64::MAX,
            };
            self.out.per_instance[inst].requests += 1;
            let ttl = batch.ttl(i);
            match r.op {
                Op::Get => self.get(inst, &a, r.size, ttl),
                op @ (Op::Set | Op::Delete) => self.write(inst, op, &a, r.size, ttl),
            }
        }
    }

    /// A get by instance `inst`: its L1 (tiered), then its cache or the
    /// shared one, then the origin. A copy past its deadline is removed
    /// first (an expiration); the fills take the request's `ttl`.
    #[inline]
    fn get(&mut self, inst: usize, a: &Access, size: u32, ttl: f32) {
        let ci = if self.cfg.shared { 0 } else { inst };
        let n = self.caches.len();
        let cnt = &mut self.out.per_instance[inst];
        cnt.gets += 1;
        cnt.bytes_requested += u64::from(size);
        if let Some(t) = &mut self.l1 {
            if self.deadlines[n + inst].expired(a.key, a.time) && t.caches[inst].remove(a.key) {
                cnt.expirations += 1;
            }
        }
        if self.deadlines[ci].expired(a.key, a.time) && self.caches[ci].invalidate(a.key) {
            cnt.expirations += 1;
        }
        if let Some(t) = &mut self.l1 {
            if t.caches[inst].get(a) {
                cnt.hits += 1;
                self.out.l1_hits += 1;
                self.versions.hit(a.key, a.time, n + inst);
                return;
            }
        }
        if self.caches[ci].lookup(a, size) {
            cnt.hits += 1;
            if let Some(t) = &mut self.l1 {
                // Served by the L2: the L1 takes the L2's copy.
                self.out.l2_hits += 1;
                if a.charge <= t.cap {
                    t.caches[inst].insert(a, &mut t.ev[inst]);
                    self.versions.fill_from(a.key, n + inst, ci);
                    let (l2, l1) = self.deadlines.split_at_mut(n);
                    l1[inst].copy_from(a.key, &l2[ci]);
                }
            }
            self.versions.hit(a.key, a.time, ci);
        } else {
            cnt.misses += 1;
            cnt.bytes_missed += u64::from(size);
            if a.charge <= self.cap {
                self.caches[ci].admit(a, size, &mut self.ev[ci]);
                self.versions.fill(a.key, ci);
                self.deadlines[ci].fill(a.key, a.time, ttl);
            }
            if let Some(t) = &mut self.l1 {
                if a.charge <= t.cap {
                    t.caches[inst].insert(a, &mut t.ev[inst]);
                    self.versions.fill(a.key, n + inst);
                    self.deadlines[n + inst].fill(a.key, a.time, ttl);
                }
            }
        }
    }

    /// A write (`set` or `delete`) through instance `inst`: the write rule
    /// on its cache (or the shared one) and its L1, then the broadcast.
    #[inline]
    fn write(&mut self, inst: usize, op: Op, a: &Access, size: u32, ttl: f32) {
        let ci = if self.cfg.shared { 0 } else { inst };
        let n = self.caches.len();
        let cnt = &mut self.out.per_instance[inst];
        if op == Op::Set {
            cnt.sets += 1;
        } else {
            cnt.deletes += 1;
        }
        self.versions.write(a.key, a.time);
        let on_write = self.cfg.on_write;
        match on_write.action(op, a.charge <= self.cap) {
            WriteAction::Update => {
                self.caches[ci].write(a, size, &mut self.ev[ci]);
                self.versions.fill(a.key, ci);
                self.deadlines[ci].fill(a.key, a.time, ttl);
            }
            WriteAction::Keep => {}
            WriteAction::Drop => {
                self.caches[ci].invalidate(a.key);
            }
        }
        if let Some(t) = &mut self.l1 {
            match on_write.action(op, a.charge <= t.cap) {
                WriteAction::Update => {
                    t.caches[inst].set(a, &mut t.ev[inst]);
                    self.versions.fill(a.key, n + inst);
                    self.deadlines[n + inst].fill(a.key, a.time, ttl);
                }
                WriteAction::Keep => {}
                WriteAction::Drop => {
                    t.caches[inst].remove(a.key);
                }
            }
        }
        // Other instances' local copies: the L1s of a tiered fleet, or the
        // caches of a local one.
        let local = self.l1.is_some() || !self.cfg.shared;
        let from = if self.l1.is_some() { inst } else { ci };
        if self.cfg.broadcast && local && self.cfg.instances > 1 && on_write != OnWrite::None {
            if self.cfg.delay <= 0.0 {
                self.invalidate_others(a.key, from);
            } else {
                self.pending
                    .push_back((a.time + self.cfg.delay, a.key, from));
            }
        }
    }

    /// The counters, with evictions attributed and totals summed.
    pub(crate) fn finish(mut self) -> FleetCounters {
        if let Some(t) = &self.l1 {
            for (j, c) in t.caches.iter().enumerate() {
                self.out.memory_objects += c.len() as u64;
                self.out.per_instance[j] += t.ev[j];
            }
        } else {
            self.out.l1_hits = self.out.per_instance.iter().map(|c| c.hits).sum();
        }
        for (j, c) in self.caches.iter().enumerate() {
            self.out.memory_objects += c.objects();
            self.out.per_instance[j] += self.ev[j];
        }
        let mut t = Counters::default();
        for c in &self.out.per_instance {
            t += *c;
        }
        self.out.total = t;
        self.out.stale = self.versions.stale;
        self.out
    }
}

/// Replays all of `batch` over a new fleet. See [`Fleet::new`].
#[cfg(test)]
pub(crate) fn replay_fleet(
    make: &dyn Fn(u64) -> AnyPolicy,
    batch: &Batch,
    charge: ChargeModel,
    cfg: &FleetConfig,
) -> FleetCounters {
    let mut f = Fleet::new(make, charge, cfg);
    f.replay(batch, 0..batch.len(), 0);
    f.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{build, BuildCtx, StrategySpec};
    use crate::request::Request;
    use crate::sim::replay::{replay_batch, Rules};
    use crate::workload::zipf;

    fn maker(name: &'static str) -> impl Fn(u64) -> AnyPolicy {
        move |cap| {
            build(
                &StrategySpec::parse(name).unwrap(),
                &BuildCtx {
                    capacity: cap,
                    seed: 5,
                    ttl: Some(10.0),
                },
            )
            .unwrap()
            .policy
        }
    }

    fn cfg(k: usize, balance: Balance, shared: bool) -> FleetConfig {
        FleetConfig {
            instances: k,
            balance,
            shared,
            on_write: OnWrite::Invalidate,
            broadcast: false,
            delay: 0.0,
            seed: 3,
        }
    }

    /// Zipf gets with a share of writes (sets) mixed in, deterministic.
    fn stream(n: u64, keys: u64, write_every: u64) -> Batch {
        let mut b = Batch::new(100.0, 1);
        for (i, k) in zipf::generate(keys, 0.9, n, 8).into_iter().enumerate() {
            let op = if write_every > 0 && (i as u64) % write_every == write_every - 1 {
                Op::Set
            } else {
                Op::Get
            };
            b.push(
                &Request {
                    time: i as f64 / 100.0,
                    key: k,
                    size: 1,
                    op,
                },
                i as u64,
            );
        }
        b
    }

    fn single(name: &'static str, b: &Batch, cap: u64) -> Counters {
        let mut p = maker(name)(cap);
        let mut c = Counters::default();
        replay_batch(
            &mut p,
            b,
            0..b.len(),
            0,
            None,
            Rules::new(
                ChargeModel {
                    bytes: false,
                    capacity: cap,
                },
                OnWrite::Update,
            ),
            &mut c,
        );
        c
    }

    #[test]
    fn one_instance_expires_per_request_ttls_as_the_single_cache_run() {
        // Every request fills with a TTL of 0.3 s, 1 s or none; writes too.
        let mut b = stream(20_000, 500, 5);
        b.ttls = (0..b.len()).map(|i| [0.3, 1.0, 0.0][i % 3]).collect();
        let charge = ChargeModel {
            bytes: false,
            capacity: 50,
        };
        for on_write in [OnWrite::Update, OnWrite::Invalidate] {
            for name in ["lru", "fifo", "ttl"] {
                let mut p = maker(name)(50);
                let mut want = Counters::default();
                crate::sim::replay::replay_batch_with(
                    &mut p,
                    &b,
                    0..b.len(),
                    0,
                    None,
                    Rules::new(charge, on_write),
                    &mut want,
                    &mut crate::sim::latency::NoLatency,
                    &mut crate::sim::freshness::NoVersions,
                    &mut Deadlines::default(),
                )
                .unwrap();
                assert!(want.expirations > 100, "{name}: {want:?}");
                for shared in [false, true] {
                    let mut c = cfg(1, Balance::KeyHash, shared);
                    c.on_write = on_write;
                    let got = replay_fleet(&maker(name), &b, charge, &c);
                    assert_eq!(got.total, want, "{name} {on_write:?} shared={shared}");
                }
            }
        }
    }

    #[test]
    fn one_instance_equals_the_single_cache_run_in_every_mode() {
        let b = stream(20_000, 500, 0);
        let charge = ChargeModel {
            bytes: false,
            capacity: 50,
        };
        for name in ["lru", "lfu", "fifo", "random", "ttl"] {
            let want = single(name, &b, 50);
            for balance in [Balance::Random, Balance::RoundRobin, Balance::KeyHash] {
                for shared in [false, true] {
                    let got = replay_fleet(&maker(name), &b, charge, &cfg(1, balance, shared));
                    assert_eq!(got.total, want, "{name} {balance:?} shared={shared}");
                }
            }
        }
        // With writes, the write-through policy is the single run's `set`.
        let b = stream(20_000, 500, 7);
        let mut c = cfg(1, Balance::KeyHash, false);
        c.on_write = OnWrite::Update;
        let got = replay_fleet(&maker("lru"), &b, charge, &c);
        assert_eq!(got.total, single("lru", &b, 50));
        assert_eq!(got.stale.stale_hits, 0);
    }

    /// Warm-up, prefill and windows cut a one-instance fleet's stream exactly
    /// as they cut the single cache's ([`crate::sim::phases::Driver`]).
    #[test]
    fn one_instance_fleet_has_the_single_runs_warmup_prefill_and_timeline() {
        use crate::sim::latency::NoLatency;
        use crate::sim::phases::{Driver, FreshOptions, FreshRun, Phaser};
        let b = stream(20_000, 500, 9);
        let charge = ChargeModel {
            bytes: false,
            capacity: 50,
        };
        let keys: Vec<(Key, u32)> = (0..80).map(|k| (k, 1)).collect();
        let fresh = FreshRun {
            opts: FreshOptions {
                window: Some(3_000),
                ..FreshOptions::default()
            },
            warmup: 4_500,
            prefill_keys: Some(std::sync::Arc::new(keys.clone())),
        };
        let mut p = maker("lru")(50);
        let mut c = Counters::default();
        let mut d = Driver::new(&fresh);
        for s in (0..b.len()).step_by(1_700) {
            let e = (s + 1_700).min(b.len());
            d.feed(&mut p, &b, s..e, 0, None, charge, &mut c, &mut NoLatency)
                .unwrap();
        }
        d.finish(&c);
        assert_eq!(c.requests, 20_000 - 4_500);
        for shared in [false, true] {
            let mut f = Fleet::new(&maker("lru"), charge, &cfg(1, Balance::Random, shared));
            let mut ph = Phaser::new(&fresh);
            let mut pre = Some(keys.as_slice());
            for s in (0..b.len()).step_by(1_300) {
                f.feed(
                    &mut ph,
                    &mut pre,
                    &Renew::none(),
                    &b,
                    s..(s + 1_300).min(b.len()),
                    0,
                );
            }
            let (g, h, st) = f.cumulative();
            ph.finish(g, h, st);
            let out = f.finish();
            assert_eq!(out.total, c, "shared={shared}");
            assert_eq!(out.stale.stale_hits, d.stale().stale_hits);
            assert_eq!(ph.timeline, d.phases.timeline, "shared={shared}");
        }
        assert_eq!(d.phases.timeline.len(), 6);
    }

    #[test]
    fn key_hash_fleet_equals_caches_over_key_partitions() {
        let b = stream(30_000, 2_000, 0);
        let k = 4;
        let got = replay_fleet(
            &maker("lru"),
            &b,
            ChargeModel {
                bytes: false,
                capacity: 40,
            },
            &cfg(k, Balance::KeyHash, false),
        );
        // Reference: split the stream by the same key hash, one cache each.
        let mut hits = 0;
        for part in 0..k as u64 {
            let mut sub = Batch::new(100.0, 1);
            sub.keys = b
                .keys
                .iter()
                .copied()
                .filter(|&key| splitmix(key) % k as u64 == part)
                .collect();
            hits += single("lru", &sub, 40).hits;
        }
        assert_eq!(got.total.hits, hits);
        assert!(got.memory_objects <= 4 * 40);
    }

    #[test]
    fn random_balancing_costs_k_times_the_memory_for_one_caches_hit_ratio() {
        // IRM: each instance sees an IRM stream with the same popularity, so
        // K caches of c behave like one cache of c; one shared cache of K x c
        // does far better.
        let b = stream(400_000, 5_000, 0);
        let charge = ChargeModel {
            bytes: false,
            capacity: 100,
        };
        let local = replay_fleet(&maker("lru"), &b, charge, &cfg(4, Balance::Random, false));
        let one = single("lru", &b, 100);
        let shared = replay_fleet(&maker("lru"), &b, charge, &cfg(4, Balance::Random, true));
        let (l, o, s) = (
            local.total.hit_ratio(),
            one.hit_ratio(),
            shared.total.hit_ratio(),
        );
        assert!((l - o).abs() < 0.01, "local {l} vs one cache of c {o}");
        assert!(s > l + 0.05, "shared {s} vs local {l}");
        assert_eq!(local.memory_objects, 400);
        assert_eq!(shared.memory_objects, 400);
    }

    #[test]
    fn broadcast_without_delay_leaves_nothing_stale_and_without_it_staleness_grows_with_k() {
        let b = stream(60_000, 300, 10);
        let charge = ChargeModel {
            bytes: false,
            capacity: 100,
        };
        let mut stale = vec![];
        for k in [1, 2, 4, 8] {
            let mut c = cfg(k, Balance::RoundRobin, false);
            let silent = replay_fleet(&maker("lru"), &b, charge, &c);
            stale.push(silent.stale.stale_hits);
            c.broadcast = true;
            let told = replay_fleet(&maker("lru"), &b, charge, &c);
            assert_eq!(told.stale.stale_hits, 0, "k={k}");
            if k > 1 {
                assert!(told.invalidations > 0);
            }
        }
        assert_eq!(stale[0], 0, "one instance invalidates its own copy");
        assert!(
            stale[1] > 0 && stale[1] < stale[2] && stale[2] < stale[3],
            "{stale:?}"
        );
    }

    #[test]
    fn delayed_invalidation_leaves_a_window_of_staleness() {
        let b = stream(60_000, 300, 10);
        let charge = ChargeModel {
            bytes: false,
            capacity: 100,
        };
        let mut c = cfg(4, Balance::RoundRobin, false);
        c.broadcast = true;
        let mut last = 0;
        for delay in [0.0, 0.05, 0.5, 5.0] {
            c.delay = delay;
            let got = replay_fleet(&maker("lru"), &b, charge, &c);
            assert!(
                got.stale.stale_hits >= last,
                "delay {delay}: {} < {last}",
                got.stale.stale_hits
            );
            if delay > 0.0 {
                assert!(
                    got.stale.stale_age_max_s <= delay + 1e-9,
                    "no stale read outlives the delay"
                );
            }
            last = got.stale.stale_hits;
        }
        assert!(last > 0);
    }

    #[test]
    fn stale_age_is_time_since_the_value_changed() {
        // Instance 0 caches k at t=0; instance 1 writes k at t=1 (no
        // broadcast); instance 0 reads at t=3: stale by 2 s.
        let mut b = Batch::new(1.0, 1);
        for (t, op) in [
            (0.0, Op::Get),
            (1.0, Op::Set),
            (2.0, Op::Get),
            (3.0, Op::Get),
        ] {
            b.push(
                &Request {
                    time: t,
                    key: 9,
                    size: 1,
                    op,
                },
                t as u64,
            );
        }
        let got = replay_fleet(
            &maker("lru"),
            &b,
            ChargeModel {
                bytes: false,
                capacity: 10,
            },
            &cfg(2, Balance::RoundRobin, false),
        );
        // Requests 0 and 2 go to instance 0, 1 and 3 to instance 1.
        // t=2: instance 0 hits its t=0 copy, overwritten at t=1: age 1.
        // t=3: instance 1 invalidated its own copy (it had none): miss.
        assert_eq!((got.total.hits, got.stale.stale_hits), (1, 1));
        assert_eq!(got.stale.stale_age_max_s, 1.0);
    }

    #[test]
    fn tiered_fleet_counts_both_tiers_and_its_l1_is_an_lru() {
        // One instance: the L1 sees every request and is filled on every L1
        // miss, so its hits are exactly those of a plain LRU of its size.
        let b = stream(30_000, 2_000, 0);
        let charge = ChargeModel {
            bytes: false,
            capacity: 200,
        };
        let mk = maker("lru");
        let mut f = Fleet::tiered(&mk, 20, &mk, charge, &cfg(1, Balance::RoundRobin, false));
        f.replay(&b, 0..b.len(), 0);
        let got = f.finish();
        assert_eq!(got.l1_hits, single("lru", &b, 20).hits);
        assert_eq!(got.l1_hits + got.l2_hits, got.total.hits);
        assert!(got.l2_hits > 0);
        // The L2 sees exactly the L1's misses: its hits are those of an LRU of
        // its size over the L1's miss stream.
        let mut l1 = mk(20);
        let mut misses = Batch::new(100.0, 1);
        let mut ev = Evictions::default();
        for (v, &key) in b.keys.iter().enumerate() {
            let a = Access::simple(key, v as u64);
            if !l1.get(&a) {
                l1.insert(&a, &mut ev);
                misses.keys.push(key);
            }
        }
        assert_eq!(got.l2_hits, single("lru", &misses, 200).hits);
        assert_eq!(got.memory_objects, 20 + 200);
    }

    #[test]
    fn tiered_fleet_staleness_lives_in_the_l1s() {
        let b = stream(60_000, 300, 10);
        let charge = ChargeModel {
            bytes: false,
            capacity: 100,
        };
        let mk = maker("lru");
        let run = |k: usize, broadcast: bool| {
            let mut c = cfg(k, Balance::RoundRobin, false);
            c.broadcast = broadcast;
            let mut f = Fleet::tiered(&mk, 30, &mk, charge, &c);
            f.replay(&b, 0..b.len(), 0);
            f.finish()
        };
        assert_eq!(
            run(1, false).stale.stale_hits,
            0,
            "one instance invalidates its L1 and the L2"
        );
        let silent = run(4, false);
        assert!(silent.stale.stale_hits > 0);
        assert_eq!(silent.l1_hits + silent.l2_hits, silent.total.hits);
        assert_eq!(
            run(4, true).stale.stale_hits,
            0,
            "broadcast reaches every L1"
        );
    }
}
