//! `tiered:<local>+<redis>`: a local L1 cache (any registered policy) in
//! front of a Redis L2, the way applications grow from an in-process cache to
//! an external one.
//!
//! Semantics of a get: the L1 is looked up first (an L1 hit never reaches
//! Redis); on an L1 miss the key is read from Redis (`GET`); an L2 hit is
//! promoted into the L1; an L2 miss fetches from the origin, `SET`s the value
//! in Redis and admits it into the L1. A set does to both tiers what
//! `--on-write` says (`sim::write`: delete the copies by default, write
//! through with `update`, leave them with `none`); a delete removes from
//! both. `hits = l1_hits + l2_hits`.
//!
//! The L1's capacity is `--l1-capacity` (objects, a percentage of the
//! distinct keys, or bytes), or else the run's `--capacity` when the L2 is the
//! shared server (`redis`), whose capacity is its own. With a private L2
//! (`tiered:lru+redis-lru`) `--capacity` sizes the L2 and `--l1-capacity` is
//! required. The local policy is named without parameters (`--ttl` applies to
//! `ttl`). With `--pipeline`, L1 admissions of a batch happen when the batch's
//! replies are in, so an L1 eviction can land a few requests later than in a
//! sequential run.

use crate::policy::{
    self, Access, AnyPolicy, BuildCtx, Evictions, Policy, SpecError, StrategySpec,
};
use crate::request::Key;
use crate::sim::capacity::{Capacity, CapacityKind};

/// The local tier.
pub(crate) struct L1 {
    policy: AnyPolicy,
    bytes: bool,
    capacity: u64,
    pub ev: Evictions,
}

impl L1 {
    /// Builds the local policy `local` at `cap`, resolved against `distinct`.
    pub(crate) fn new(
        local: &StrategySpec,
        cap: Capacity,
        distinct: u64,
        seed: u64,
        ttl: Option<f64>,
    ) -> Result<L1, SpecError> {
        let capacity = cap.resolve(distinct);
        let built = policy::build(
            local,
            &BuildCtx {
                capacity,
                seed,
                ttl,
            },
        )?;
        Ok(L1 {
            policy: built.policy,
            bytes: cap.kind() == CapacityKind::Bytes,
            capacity,
            ev: Evictions::default(),
        })
    }

    fn charge(&self, size: u32) -> u64 {
        if self.bytes {
            u64::from(size)
        } else {
            1
        }
    }

    /// Whether a value of `size` bytes fits the L1 at all.
    pub(crate) fn fits(&self, size: u32) -> bool {
        self.charge(size) <= self.capacity
    }

    fn access(&self, key: Key, size: u32, time: f64, vtime: u64) -> Access {
        Access {
            key,
            charge: self.charge(size),
            time,
            vtime,
            next_vtime: u64::MAX,
        }
    }

    #[inline]
    pub(crate) fn get(&mut self, key: Key, size: u32, time: f64, vtime: u64) -> bool {
        let a = self.access(key, size, time, vtime);
        self.policy.get(&a)
    }

    /// Admits a key read from L2 or the origin (unless larger than the L1).
    #[inline]
    pub(crate) fn admit(&mut self, key: Key, size: u32, time: f64, vtime: u64) {
        let a = self.access(key, size, time, vtime);
        if a.charge <= self.capacity {
            self.policy.insert(&a, &mut self.ev);
        }
    }

    /// `--prefill`: admits `keys` (most popular first) before the run,
    /// counting no eviction.
    pub(crate) fn prefill(&mut self, keys: &[(Key, u32)]) {
        let charge = crate::sim::replay::ChargeModel {
            bytes: self.bytes,
            capacity: self.capacity,
        };
        crate::sim::freshness::prefill(&mut self.policy, keys, 0.0, charge);
    }

    /// A write-through set (of a value that [`L1::fits`]).
    pub(crate) fn set(&mut self, key: Key, size: u32, time: f64, vtime: u64) {
        let a = self.access(key, size, time, vtime);
        self.policy.set(&a, &mut self.ev);
    }

    pub(crate) fn remove(&mut self, key: Key) {
        self.policy.remove(key);
    }
}

/// Splits `tiered`'s positional argument `local+l2` and checks the local
/// half names a local policy.
pub(crate) fn split(strategy: &str, arg: &str) -> Result<(StrategySpec, String), SpecError> {
    let bad = |why: &str| SpecError::BadValue {
        strategy: strategy.to_string(),
        param: "L1+L2".into(),
        value: arg.to_string(),
        why: why.to_string(),
    };
    let (local, l2) = arg
        .split_once('+')
        .ok_or_else(|| bad("expected LOCAL+REDIS, e.g. tiered:lru+redis"))?;
    let local = StrategySpec::parse(local)?;
    if super::spec::runs(&local.name) {
        return Err(bad("the L1 must be a local policy (lru, lfu, fifo, ...)"));
    }
    policy::validate(&local).map_err(|e| bad(&e.to_string()))?;
    let l2 = l2.trim().to_ascii_lowercase();
    if !(l2 == "redis" || l2.starts_with("redis-")) {
        return Err(bad(
            "the L2 must be redis, redis-lru, redis-lfu, redis-random or redis-ttl",
        ));
    }
    Ok((local, l2))
}
