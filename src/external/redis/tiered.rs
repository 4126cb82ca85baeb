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
//! `ttl`).
//!
//! Per-request TTLs (a trace's `ttl` column) expire L1 copies too, by trace
//! time as the in-process loop does ([`crate::sim::expiry`]): a copy filled
//! after a miss gets the request's TTL; a copy promoted from the L2 keeps the
//! deadline this client gave the L2 copy when it wrote it (else the
//! request's TTL); an L1 get past the deadline removes the copy, counts an
//! expiration and goes on to the L2. With `--pipeline`, L1 admissions of a batch happen when the batch's
//! replies are in, so an L1 eviction can land a few requests later than in a
//! sequential run.

use crate::policy::{
    self, Access, AnyPolicy, BuildCtx, Evictions, Policy, SpecError, StrategySpec,
};
use crate::request::Key;
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::expiry::{Deadlines, Expiry};

/// The local tier.
pub(crate) struct L1 {
    policy: AnyPolicy,
    bytes: bool,
    capacity: u64,
    pub ev: Evictions,
    /// Deadlines of the L1's copies filled with a TTL.
    deadlines: Deadlines,
    /// Deadlines of the L2 copies this client wrote with a TTL.
    l2: Deadlines,
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
            deadlines: Deadlines::default(),
            l2: Deadlines::default(),
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

    /// A lookup; a copy past its deadline is removed first (an
    /// expiration) and misses.
    #[inline]
    pub(crate) fn get(&mut self, key: Key, size: u32, time: f64, vtime: u64) -> bool {
        if self.deadlines.expired(key, time) && self.policy.remove(key) {
            self.ev.expired += 1;
        }
        let a = self.access(key, size, time, vtime);
        self.policy.get(&a)
    }

    /// Admits a key read from the L2 (unless larger than the L1): the copy
    /// keeps the L2 copy's deadline when this client wrote it, else takes
    /// the request's `ttl`.
    #[inline]
    pub(crate) fn admit_from_l2(&mut self, key: Key, size: u32, time: f64, vtime: u64, ttl: f32) {
        if self.admit(key, size, time, vtime) {
            self.deadlines.copy_or_fill(key, &self.l2, time, ttl);
        }
    }

    /// Admits a key fetched from the origin and written to the L2 with the
    /// request's `ttl`.
    #[inline]
    pub(crate) fn admit_filled(&mut self, key: Key, size: u32, time: f64, vtime: u64, ttl: f32) {
        self.l2.fill(key, time, ttl);
        if self.admit(key, size, time, vtime) {
            self.deadlines.fill(key, time, ttl);
        }
    }

    /// Inserts unless larger than the L1; whether it was offered.
    fn admit(&mut self, key: Key, size: u32, time: f64, vtime: u64) -> bool {
        let a = self.access(key, size, time, vtime);
        let fits = a.charge <= self.capacity;
        if fits {
            self.policy.insert(&a, &mut self.ev);
        }
        fits
    }

    /// The L2 copy was written through with `ttl` (whether or not the L1
    /// took it).
    pub(crate) fn l2_written(&mut self, key: Key, time: f64, ttl: f32) {
        self.l2.fill(key, time, ttl);
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

    /// A write-through set (of a value that [`L1::fits`]) with `ttl`.
    pub(crate) fn set(&mut self, key: Key, size: u32, time: f64, vtime: u64, ttl: f32) {
        let a = self.access(key, size, time, vtime);
        self.policy.set(&a, &mut self.ev);
        self.deadlines.fill(key, time, ttl);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn l1() -> L1 {
        let spec = StrategySpec::parse("lru").unwrap();
        L1::new(&spec, Capacity::parse("100").unwrap(), 1000, 1, None).unwrap()
    }

    #[test]
    fn l1_copies_expire_by_the_request_ttl_or_the_l2_copy_deadline() {
        let mut l = l1();
        // A miss filled at 0 with TTL 5 (written to the L2 too).
        l.admit_filled(1, 1, 0.0, 0, 5.0);
        assert!(l.get(1, 1, 4.9, 1));
        assert!(!l.get(1, 1, 5.0, 2), "past its deadline");
        assert_eq!(l.ev.expired, 1);
        // Promoted from the L2 at 6: the L2 copy written at 0 is past its
        // deadline too as far as this client knows, so the L1 copy expires
        // at once; a key the client never wrote takes the request's TTL.
        l.admit_from_l2(1, 1, 6.0, 3, 100.0);
        assert!(!l.get(1, 1, 6.5, 4));
        assert_eq!(l.ev.expired, 2);
        l.admit_from_l2(2, 1, 0.0, 5, 2.0);
        assert!(l.get(2, 1, 1.9, 6) && !l.get(2, 1, 2.0, 7));
        // A write-through resets the deadline; without a TTL it clears it.
        l.admit_filled(3, 1, 0.0, 8, 1.0);
        l.set(3, 1, 0.5, 9, 0.0);
        assert!(l.get(3, 1, 1e6, 10));
        assert_eq!(l.ev.expired, 3);
    }
}
