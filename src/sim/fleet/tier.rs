//! The local level of a tiered fleet: one L1 cache per instance in front of
//! the shared cache.

use crate::policy::{AnyPolicy, Evictions, Policy};
use crate::request::Key;
use crate::sim::freshness::prefill;
use crate::sim::replay::ChargeModel;

/// One in-process L1 per instance.
pub(super) struct Tier {
    pub(super) caches: Vec<AnyPolicy>,
    pub(super) ev: Vec<Evictions>,
    /// Capacity of each L1, in charge units.
    pub(super) cap: u64,
}

impl Tier {
    /// `k` L1s of `cap` built by `make`.
    pub(super) fn new(make: &dyn Fn(u64) -> AnyPolicy, cap: u64, k: usize) -> Tier {
        Tier {
            caches: (0..k).map(|_| make(cap)).collect(),
            ev: vec![Evictions::default(); k],
            cap,
        }
    }

    /// Every L1 but `from`'s drops `key`; returns how many held it.
    pub(super) fn invalidate_others(&mut self, key: Key, from: usize) -> u64 {
        let mut n = 0;
        for (j, c) in self.caches.iter_mut().enumerate() {
            n += u64::from(j != from && c.remove(key));
        }
        n
    }

    /// Fills every L1 with `keys` (most popular first) at `time`.
    pub(super) fn prefill(&mut self, keys: &[(Key, u32)], time: f64, bytes: bool) {
        let charge = ChargeModel {
            bytes,
            capacity: self.cap,
        };
        for c in &mut self.caches {
            prefill(c, keys, time, charge);
        }
    }
}
