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

use super::phases::Phaser;
use super::replay::{ChargeModel, Counters};
use crate::policy::{Access, AnyPolicy, Evictions, Policy};
use crate::request::{Key, Op};
use crate::rng::{splitmix, SimRng};
use crate::workload::Batch;
use rustc_hash::FxHashMap;
use std::collections::VecDeque;

/// How requests are spread over instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    Random,
    RoundRobin,
    KeyHash,
}

impl Balance {
    pub fn parse(s: &str) -> Result<Balance, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "random" => Ok(Balance::Random),
            "round-robin" | "roundrobin" | "rr" => Ok(Balance::RoundRobin),
            "key-hash" | "keyhash" | "sticky" => Ok(Balance::KeyHash),
            _ => Err(format!(
                "unknown balancing '{s}'; valid: random, round-robin, key-hash"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Balance::Random => "random",
            Balance::RoundRobin => "round-robin",
            Balance::KeyHash => "key-hash",
        }
    }
}

/// What the instance handling a write does to its own cached copy: the
/// run's `--on-write` policy.
pub use super::freshness::OnWrite as WritePolicy;

/// A fleet's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    pub instances: usize,
    pub balance: Balance,
    /// One cache of `instances x capacity` instead of one per instance.
    pub shared: bool,
    pub on_write: WritePolicy,
    /// Invalidate other instances' copies on a write.
    pub broadcast: bool,
    /// Seconds of request time before a broadcast invalidation lands.
    pub delay: f64,
    pub seed: u64,
}

impl FleetConfig {
    /// One instance on a shared cache: a `shared:` strategy without
    /// `--instances`.
    pub fn single_shared(on_write: WritePolicy, seed: u64) -> FleetConfig {
        FleetConfig {
            instances: 1,
            balance: Balance::Random,
            shared: true,
            on_write,
            broadcast: false,
            delay: 0.0,
            seed,
        }
    }
}

/// What a fleet replay counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetCounters {
    /// Summed over instances.
    pub total: Counters,
    pub per_instance: Vec<Counters>,
    pub writes: u64,
    pub stale_hits: u64,
    pub stale_age_sum_s: f64,
    pub stale_age_max_s: f64,
    pub memory_objects: u64,
    /// Invalidation messages delivered to other instances.
    pub invalidations: u64,
    /// Tiered fleets: hits served by an instance's L1, and by the shared L2.
    pub l1_hits: u64,
    pub l2_hits: u64,
}

impl FleetCounters {
    /// The staleness counters in the single-cache form.
    pub fn stale(&self) -> super::freshness::StaleStats {
        super::freshness::StaleStats {
            stale_hits: self.stale_hits,
            stale_age_sum_s: self.stale_age_sum_s,
            stale_age_max_s: self.stale_age_max_s,
        }
    }
}

/// A run's fleet and staleness columns on top of `r`: `instances` (1
/// without a fleet), `balance` (empty for one instance), `memory_objects`,
/// and the stale-hit columns over the run's `gets`. Every kind of run
/// (one cache, a fleet, Redis) fills them through here.
pub fn fleet_columns(
    r: crate::sim::result::RunResult,
    fleet: Option<&FleetConfig>,
    memory_objects: u64,
    stale: &super::freshness::StaleStats,
    gets: u64,
) -> crate::sim::result::RunResult {
    crate::sim::result::RunResult {
        instances: fleet.map_or(1, |f| f.instances as u64),
        balance: fleet
            .filter(|f| f.instances > 1)
            .map(|f| f.balance.as_str().to_string())
            .unwrap_or_default(),
        memory_objects,
        stale_hits: stale.stale_hits,
        stale_hit_ratio: if gets == 0 {
            0.0
        } else {
            stale.stale_hits as f64 / gets as f64
        },
        stale_age_mean_s: stale.mean_age_s(),
        stale_age_max_s: stale.max_age_s(),
        ..r
    }
}

/// Splits a `shared:<spec>` strategy into its inner spec and `true`; any
/// other spec is returned as is with `false`.
pub fn split_shared(spec: &crate::policy::StrategySpec) -> (crate::policy::StrategySpec, bool) {
    if spec.name != "shared" {
        return (spec.clone(), false);
    }
    let mut params = spec.params.clone();
    let name = match params.first() {
        Some((k, v)) if k.is_empty() => {
            let v = v.clone();
            params.remove(0);
            v.to_ascii_lowercase()
        }
        _ => String::new(),
    };
    (crate::policy::StrategySpec { name, params }, true)
}

/// A cache in a fleet: an instance's own, the shared one, or a tiered
/// fleet's L2. In-process policies ignore `size` (their charge is in the
/// access); an external cache (a Redis server, see
/// `crate::external::redis_fleet`) stores values of `size` bytes.
pub trait FleetCache {
    /// A get: `true` on a hit.
    fn lookup(&mut self, a: &Access, size: u32) -> bool;
    /// Fills the cache after a miss.
    fn admit(&mut self, a: &Access, size: u32, ev: &mut Evictions);
    /// A write-through of a new value.
    fn write(&mut self, a: &Access, size: u32, ev: &mut Evictions);
    /// Drops the key; `true` if it was cached.
    fn invalidate(&mut self, key: Key) -> bool;
    /// Objects cached now.
    fn objects(&self) -> u64;
}

impl FleetCache for AnyPolicy {
    #[inline]
    fn lookup(&mut self, a: &Access, _size: u32) -> bool {
        self.get(a)
    }
    #[inline]
    fn admit(&mut self, a: &Access, _size: u32, ev: &mut Evictions) {
        self.insert(a, ev)
    }
    #[inline]
    fn write(&mut self, a: &Access, _size: u32, ev: &mut Evictions) {
        self.set(a, ev)
    }
    #[inline]
    fn invalidate(&mut self, key: Key) -> bool {
        self.remove(key)
    }
    fn objects(&self) -> u64 {
        self.len() as u64
    }
}

/// The local level of a tiered fleet: one L1 cache per instance in front of
/// the shared cache.
struct Tier {
    caches: Vec<AnyPolicy>,
    /// Version each L1 entry was filled with.
    filled: Vec<FxHashMap<Key, u32>>,
    ev: Vec<Evictions>,
    cap: u64,
}

/// A fleet in the middle of a replay: feed it batches, then [`Fleet::finish`].
/// `C` is the type of the non-L1 caches (in-process by default).
pub struct Fleet<C: FleetCache = AnyPolicy> {
    /// Tiered mode: per-instance L1 caches in front of the shared cache.
    l1: Option<Tier>,
    cfg: FleetConfig,
    charge: ChargeModel,
    /// Capacity of each cache (`K x c` for the shared one).
    cap: u64,
    caches: Vec<C>,
    /// Version each cache's entry was filled with.
    filled: Vec<FxHashMap<Key, u32>>,
    /// Write times per key: the key's version is the number of writes.
    writes: FxHashMap<Key, Vec<f64>>,
    /// Broadcast invalidations in flight: (due time, key, sending cache).
    pending: VecDeque<(f64, Key, usize)>,
    rng: SimRng,
    ev: Vec<Evictions>,
    out: FleetCounters,
}

impl<C: FleetCache> Fleet<C> {
    /// `make(capacity)` builds one cache; local mode calls it `instances`
    /// times with `charge.capacity`, shared mode once with
    /// `instances x charge.capacity`.
    pub fn new(make: &dyn Fn(u64) -> C, charge: ChargeModel, cfg: &FleetConfig) -> Fleet<C> {
        let k = cfg.instances.max(1);
        let (ncaches, cap) = if cfg.shared {
            (1, charge.capacity.saturating_mul(k as u64))
        } else {
            (k, charge.capacity)
        };
        Fleet::from_caches((0..ncaches).map(|_| make(cap)).collect(), cap, charge, cfg)
    }

    /// `K` instances sharing `cache`, whose capacity (in charge units) is
    /// `cap`: a shared fleet whose cache is built elsewhere (a Redis server).
    pub fn with_shared(cache: C, cap: u64, charge: ChargeModel, cfg: &FleetConfig) -> Fleet<C> {
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
            filled: vec![FxHashMap::default(); n],
            writes: FxHashMap::default(),
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
    pub fn tiered(
        make_l1: &dyn Fn(u64) -> AnyPolicy,
        l1_capacity: u64,
        make: &dyn Fn(u64) -> C,
        charge: ChargeModel,
        cfg: &FleetConfig,
    ) -> Fleet<C> {
        Fleet::tiered_with(make_l1, l1_capacity, make(charge.capacity), charge, cfg)
    }

    /// A tiered fleet over an L2 built elsewhere (a Redis server) of
    /// `charge.capacity`.
    pub fn tiered_with(
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
        f.l1 = Some(Tier {
            caches: (0..k).map(|_| make_l1(l1_capacity)).collect(),
            filled: vec![FxHashMap::default(); k],
            ev: vec![Evictions::default(); k],
            cap: l1_capacity,
        });
        f
    }

    /// Broadcast invalidation of `key`, sent by instance (or cache) `from`:
    /// every other L1 of a tiered fleet, or every other local cache, drops it.
    fn invalidate_others(&mut self, key: Key, from: usize) {
        let mut n = 0;
        match &mut self.l1 {
            Some(t) => {
                for (j, c) in t.caches.iter_mut().enumerate() {
                    n += u64::from(j != from && c.remove(key));
                }
            }
            None => {
                for (j, c) in self.caches.iter_mut().enumerate() {
                    n += u64::from(j != from && c.invalidate(key));
                }
            }
        }
        self.out.invalidations += n;
    }

    /// Fills every cache of the fleet (each instance's own, the shared one,
    /// every L1 and the L2) with `keys`, most popular first, at `time`,
    /// counting nothing: each instance warmed its cache the same way.
    pub fn prefill(&mut self, keys: &[(Key, u32)], time: f64) {
        let mut ev = Evictions::default();
        let charge = ChargeModel {
            bytes: self.charge.bytes,
            capacity: self.cap,
        };
        for c in &mut self.caches {
            super::freshness::prefill_each(keys, time, charge, |a, size| {
                if !c.lookup(a, size) {
                    c.admit(a, size, &mut ev);
                }
            });
        }
        if let Some(t) = &mut self.l1 {
            let charge = ChargeModel {
                bytes: self.charge.bytes,
                capacity: t.cap,
            };
            for c in &mut t.caches {
                super::freshness::prefill(c, keys, time, charge);
            }
        }
    }

    /// Restarts every counter (the end of a warm-up); caches, versions and
    /// invalidations in flight stay.
    pub fn reset_counters(&mut self) {
        let k = self.cfg.instances;
        self.out = FleetCounters {
            per_instance: vec![Counters::default(); k],
            ..Default::default()
        };
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
        (g, h, self.out.stale_hits)
    }

    /// Replays `range` of `batch` through the run's phases: the prefill
    /// (taken from `prefill` before the first request), the warm-up (then
    /// every counter restarts) and the timeline's windows.
    pub fn feed(
        &mut self,
        phases: &mut Phaser,
        prefill: &mut Option<&[(Key, u32)]>,
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
            let (end, warmup) = phases.next(i, range.end);
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
    }

    /// The shared cache (or the first local one).
    pub fn shared_cache(&mut self) -> &mut C {
        &mut self.caches[0]
    }

    /// Replays requests `range` of `batch`; request `i` is number
    /// `vtime_base + i` of the stream.
    pub fn replay(&mut self, batch: &Batch, range: std::ops::Range<usize>, vtime_base: u64) {
        let k = self.cfg.instances;
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
            let inst = match self.cfg.balance {
                _ if k == 1 => 0,
                Balance::Random => self.rng.below(k as u64) as usize,
                Balance::RoundRobin => (vtime % k as u64) as usize,
                Balance::KeyHash => (splitmix(r.key) % k as u64) as usize,
            };
            let ci = if self.cfg.shared { 0 } else { inst };
            let a = Access {
                key: r.key,
                charge: if self.charge.bytes {
                    u64::from(r.size)
                } else {
                    1
                },
                time: r.time,
                vtime,
                next_vtime: u64::MAX,
            };
            let fits = a.charge <= self.cap;
            let cnt = &mut self.out.per_instance[inst];
            cnt.requests += 1;
            match r.op {
                Op::Get => {
                    cnt.gets += 1;
                    cnt.bytes_requested += u64::from(r.size);
                    let version = self.writes.get(&r.key).map_or(0, |w| w.len() as u32);
                    if let Some(t) = &mut self.l1 {
                        if t.caches[inst].get(&a) {
                            cnt.hits += 1;
                            self.out.l1_hits += 1;
                            let have = t.filled[inst].get(&r.key).copied().unwrap_or(0);
                            if have < version {
                                let age = r.time - self.writes[&r.key][have as usize];
                                self.out.stale_hits += 1;
                                self.out.stale_age_sum_s += age;
                                self.out.stale_age_max_s = self.out.stale_age_max_s.max(age);
                            }
                            continue;
                        }
                    }
                    if self.caches[ci].lookup(&a, r.size) {
                        cnt.hits += 1;
                        if let Some(t) = &mut self.l1 {
                            // Served by the L2: the L1 takes the L2's copy.
                            self.out.l2_hits += 1;
                            if a.charge <= t.cap {
                                t.caches[inst].insert(&a, &mut t.ev[inst]);
                                let v = self.filled[ci].get(&r.key).copied().unwrap_or(0);
                                t.filled[inst].insert(r.key, v);
                            }
                        }
                        let have = self.filled[ci].get(&r.key).copied().unwrap_or(0);
                        if have < version {
                            let changed = self.writes[&r.key][have as usize];
                            let age = r.time - changed;
                            self.out.stale_hits += 1;
                            self.out.stale_age_sum_s += age;
                            self.out.stale_age_max_s = self.out.stale_age_max_s.max(age);
                        }
                    } else {
                        cnt.misses += 1;
                        cnt.bytes_missed += u64::from(r.size);
                        if fits {
                            self.caches[ci].admit(&a, r.size, &mut self.ev[ci]);
                            self.filled[ci].insert(r.key, version);
                        }
                        if let Some(t) = &mut self.l1 {
                            if a.charge <= t.cap {
                                t.caches[inst].insert(&a, &mut t.ev[inst]);
                                t.filled[inst].insert(r.key, version);
                            }
                        }
                    }
                }
                Op::Set | Op::Delete => {
                    if r.op == Op::Set {
                        cnt.sets += 1;
                    } else {
                        cnt.deletes += 1;
                    }
                    self.out.writes += 1;
                    let w = self.writes.entry(r.key).or_default();
                    w.push(r.time);
                    let version = w.len() as u32;
                    match (r.op, self.cfg.on_write) {
                        (Op::Set, WritePolicy::Update) if fits => {
                            self.caches[ci].write(&a, r.size, &mut self.ev[ci]);
                            self.filled[ci].insert(r.key, version);
                        }
                        (Op::Set, WritePolicy::None) => {}
                        _ => {
                            self.caches[ci].invalidate(r.key);
                        }
                    }
                    if let Some(t) = &mut self.l1 {
                        match (r.op, self.cfg.on_write) {
                            (Op::Set, WritePolicy::Update) if a.charge <= t.cap => {
                                t.caches[inst].set(&a, &mut t.ev[inst]);
                                t.filled[inst].insert(r.key, version);
                            }
                            (Op::Set, WritePolicy::None) => {}
                            _ => {
                                t.caches[inst].remove(r.key);
                            }
                        }
                    }
                    // Other instances' local copies: the L1s of a tiered
                    // fleet, or the caches of a local one.
                    let local = self.l1.is_some() || !self.cfg.shared;
                    let from = if self.l1.is_some() { inst } else { ci };
                    if self.cfg.broadcast
                        && local
                        && k > 1
                        && self.cfg.on_write != WritePolicy::None
                    {
                        if self.cfg.delay <= 0.0 {
                            self.invalidate_others(r.key, from);
                        } else {
                            self.pending
                                .push_back((r.time + self.cfg.delay, r.key, from));
                        }
                    }
                }
            }
        }
    }

    /// The counters, with evictions attributed and totals summed.
    pub fn finish(mut self) -> FleetCounters {
        if let Some(t) = &self.l1 {
            for (j, c) in t.caches.iter().enumerate() {
                self.out.memory_objects += c.len() as u64;
                self.out.per_instance[j].evictions += t.ev[j].evicted;
                self.out.per_instance[j].expirations += t.ev[j].expired;
            }
        } else {
            self.out.l1_hits = self.out.per_instance.iter().map(|c| c.hits).sum();
        }
        for (j, c) in self.caches.iter().enumerate() {
            self.out.memory_objects += c.objects();
            self.out.per_instance[j].evictions += self.ev[j].evicted;
            self.out.per_instance[j].expirations += self.ev[j].expired;
        }
        let mut t = Counters::default();
        for c in &self.out.per_instance {
            t.requests += c.requests;
            t.gets += c.gets;
            t.hits += c.hits;
            t.misses += c.misses;
            t.sets += c.sets;
            t.deletes += c.deletes;
            t.evictions += c.evictions;
            t.expirations += c.expirations;
            t.bytes_requested += c.bytes_requested;
            t.bytes_missed += c.bytes_missed;
        }
        self.out.total = t;
        self.out
    }
}

/// Replays all of `batch` over a new fleet. See [`Fleet::new`].
pub fn replay_fleet(
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
    use crate::sim::replay::replay_batch;
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
            on_write: WritePolicy::Invalidate,
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
            ChargeModel {
                bytes: false,
                capacity: cap,
            },
            &mut c,
        );
        c
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
        c.on_write = WritePolicy::Update;
        let got = replay_fleet(&maker("lru"), &b, charge, &c);
        assert_eq!(got.total, single("lru", &b, 50));
        assert_eq!(got.stale_hits, 0);
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
                f.feed(&mut ph, &mut pre, &b, s..(s + 1_300).min(b.len()), 0);
            }
            let (g, h, st) = f.cumulative();
            ph.finish(g, h, st);
            let out = f.finish();
            assert_eq!(out.total, c, "shared={shared}");
            assert_eq!(out.stale_hits, d.stale.stale_hits);
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
            stale.push(silent.stale_hits);
            c.broadcast = true;
            let told = replay_fleet(&maker("lru"), &b, charge, &c);
            assert_eq!(told.stale_hits, 0, "k={k}");
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
                got.stale_hits >= last,
                "delay {delay}: {} < {last}",
                got.stale_hits
            );
            if delay > 0.0 {
                assert!(
                    got.stale_age_max_s <= delay + 1e-9,
                    "no stale read outlives the delay"
                );
            }
            last = got.stale_hits;
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
        assert_eq!((got.total.hits, got.stale_hits), (1, 1));
        assert_eq!(got.stale_age_max_s, 1.0);
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
            run(1, false).stale_hits,
            0,
            "one instance invalidates its L1 and the L2"
        );
        let silent = run(4, false);
        assert!(silent.stale_hits > 0);
        assert_eq!(silent.l1_hits + silent.l2_hits, silent.total.hits);
        assert_eq!(run(4, true).stale_hits, 0, "broadcast reaches every L1");
    }
}
