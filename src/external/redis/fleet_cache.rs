//! A fleet of application instances against a real Redis: `--instances K`
//! with `redis`, `redis-lru`, ... (one shared server for all K instances) and
//! with `tiered:<local>+redis...` (K local L1 caches in front of one Redis
//! L2). The fleet logic (balancing, write policy, broadcast invalidation,
//! stale hits) is [`crate::sim::fleet::Fleet`]'s; this file is its cache
//! that lives in Redis.
//!
//! Redis is a shared cache by nature, so a Redis strategy in a fleet is
//! always the shared cache: a private server is sized `K x capacity`
//! (the same total memory as K local caches of `capacity`), the server at
//! `--redis-url` keeps its own capacity. In a tiered fleet `--capacity`
//! sizes the private L2 as it is and `--l1-capacity` each instance's L1.
//!
//! Each cache operation is one round trip, in stream order (a fleet's
//! instances are simulated in one request stream, so `--pipeline` and
//! `--clients` do not apply). Values are `--value-size` bytes, else the
//! request's size. Keys carry the run's prefix like every Redis run. No
//! latency is recorded for fleets, as for in-process ones.

use super::backend::Backend;
use super::batch::{KeyBuf, Kind};
use super::client::Fail;
use super::resp::{Light, RespError};
use crate::policy::{self, Access, Evictions, StrategySpec};
use crate::request::Key;
use crate::sim::backend::CacheBackend;
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::fleet::{Fleet, FleetConfig, FleetCounters, Renew};
use crate::sim::phases::Phaser;
use crate::sim::replay::ChargeModel;
use crate::sim::runner::{for_each_batch, Prepared, RunConfig, RunError};
use indicatif::ProgressBar;

/// Replays the workload over a fleet of `fc.instances` instances sharing
/// `cache` (capacity `l2_units` in `bytes` or objects, `u64::MAX` for the
/// server's own), each with an L1 of `l1` in a tiered fleet. Returns the
/// fleet's counters and the `SET`s sent and refused ([`RedisCache::sets`]).
#[allow(clippy::too_many_arguments)]
pub(super) fn replay(
    w: &Prepared,
    cfg: &RunConfig,
    fc: &FleetConfig,
    cache: RedisCache,
    l2_units: u64,
    bytes: bool,
    l1: Option<(&StrategySpec, Capacity)>,
    pb: &ProgressBar,
) -> Result<(FleetCounters, (u64, u64)), Fail> {
    let fcfg = FleetConfig {
        seed: cfg.seed,
        on_write: cfg.fresh.opts.on_write,
        shared: true,
        ..fc.clone()
    };
    let charge = |bytes| ChargeModel {
        bytes,
        capacity: l2_units,
    };
    let mut f = match l1 {
        None => Fleet::with_shared(cache, l2_units, charge(bytes), &fcfg),
        Some((spec, cap)) => {
            let make_l1 = policy::maker(spec, cfg.seed, cfg.ttl);
            let l1_units = cap.resolve(w.distinct);
            let bytes = cap.kind() == CapacityKind::Bytes;
            Fleet::tiered_with(&make_l1, l1_units, cache, charge(bytes), &fcfg)
        }
    };
    let mut lost = None;
    let mut prefill = cfg.fresh.prefill_keys.as_deref().map(|k| k.as_slice());
    // Warm-up, windows and restarts are refused for Redis runs (see
    // `cmd::run`).
    let mut phases = Phaser::default();
    let r = for_each_batch(&w.data, pb, |b, range, base| {
        f.feed(&mut phases, &mut prefill, &Renew::none(), b, range, base);
        match f.shared_cache().take_error() {
            None => Ok(()),
            Some(e) => {
                lost = Some(e);
                Err(RunError::Backend(String::new()))
            }
        }
    });
    match (r, lost) {
        (_, Some(e)) => return Err(Fail::Redis(e)),
        (Err(e), None) => return Err(Fail::Run(e)),
        (Ok(()), None) => {}
    }
    f.shared_cache().count().map_err(Fail::Redis)?;
    let sets = f.shared_cache().sets();
    Ok((f.finish(), sets))
}

/// The shared cache (or tiered L2) of a fleet, in Redis.
pub(crate) struct RedisCache {
    be: Backend,
    prefix: Vec<u8>,
    kb: KeyBuf,
    out: Vec<Result<Light, RespError>>,
    value: Vec<u8>,
    value_size: Option<u32>,
    px: Option<Vec<u8>>,
    /// The first error; every later operation does nothing.
    err: Option<RespError>,
    /// Keys under the prefix, as last counted by [`RedisCache::count`].
    objects: u64,
    /// `SET`s sent, and those refused with `-OOM`.
    sets_sent: u64,
    sets_refused: u64,
}

impl RedisCache {
    pub(super) fn new(
        be: Backend,
        prefix: Vec<u8>,
        value_size: Option<u32>,
        px: Option<Vec<u8>>,
    ) -> RedisCache {
        RedisCache {
            be,
            kb: KeyBuf::new(&prefix),
            prefix,
            out: Vec::with_capacity(1),
            value: Vec::new(),
            value_size,
            px,
            err: None,
            objects: 0,
            sets_sent: 0,
            sets_refused: 0,
        }
    }

    /// The `SET`s sent, and those the server refused with `-OOM`.
    pub(crate) fn sets(&self) -> (u64, u64) {
        (self.sets_sent, self.sets_refused)
    }

    /// The first error met, if any (the run is broken).
    pub(crate) fn take_error(&mut self) -> Option<RespError> {
        self.err.take()
    }

    /// Counts the run's keys on the server (SCAN over the prefix), for
    /// [`CacheBackend::objects`].
    pub(crate) fn count(&mut self) -> Result<u64, RespError> {
        self.objects = self.be.scan_prefix(&self.prefix, false)?;
        Ok(self.objects)
    }

    /// Sends one command; `None` after an error (recorded) or an `-OOM`.
    fn one(&mut self, key: Key, kind: Kind) -> Option<Light> {
        if self.err.is_some() {
            return None;
        }
        self.kb.clear();
        if let Kind::Set(size, _) = kind {
            if self.value.len() < size as usize {
                self.value.resize(size as usize, b'x');
            }
            self.sets_sent += 1;
        }
        let (kb, px) = (&mut self.kb, self.px.as_deref());
        if let Err(e) = self
            .be
            .exec_one(kb, (key, kind), &self.value, px, &mut self.out)
        {
            self.err = Some(e);
            return None;
        }
        match self.out.pop() {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) if e.is_oom() => {
                self.sets_refused += 1;
                None
            }
            Some(Err(e)) => {
                self.err = Some(e);
                None
            }
            None => {
                self.err = Some(RespError::Protocol("no reply".into()));
                None
            }
        }
    }

    fn size(&self, size: u32) -> u32 {
        self.value_size.unwrap_or(size)
    }
}

impl CacheBackend for RedisCache {
    fn lookup(&mut self, a: &Access, _size: u32) -> bool {
        matches!(self.one(a.key, Kind::Get), Some(Light::Bulk(_)))
    }

    fn admit(&mut self, a: &Access, size: u32, _ev: &mut Evictions) {
        let s = self.size(size);
        self.one(a.key, Kind::Set(s, 0));
    }

    fn write(&mut self, a: &Access, size: u32, _ev: &mut Evictions) {
        let s = self.size(size);
        self.one(a.key, Kind::Set(s, 0));
    }

    fn invalidate(&mut self, key: Key) -> bool {
        matches!(self.one(key, Kind::Del), Some(Light::Int(n)) if n > 0)
    }

    fn objects(&self) -> u64 {
        self.objects
    }
}
