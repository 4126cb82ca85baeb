//! What a fleet counts, and the fleet and staleness columns every kind of
//! run (one cache, a fleet, a real server) fills the same way.

use super::FleetConfig;
use crate::sim::freshness::StaleStats;
use crate::sim::replay::Counters;
use crate::sim::result::RunResult;

/// What a fleet replay counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct FleetCounters {
    /// Summed over instances.
    pub total: Counters,
    pub per_instance: Vec<Counters>,
    /// Stale hits over every instance's caches.
    pub stale: StaleStats,
    pub memory_objects: u64,
    /// Invalidation messages delivered to other instances.
    pub invalidations: u64,
    /// Tiered fleets: hits served by an instance's L1, and by the shared L2.
    pub l1_hits: u64,
    pub l2_hits: u64,
}

impl FleetCounters {
    /// The staleness counters.
    pub(crate) fn stale(&self) -> StaleStats {
        self.stale
    }
}

/// A run's fleet and staleness columns on top of `r`: `instances` (1
/// without a fleet), `balance` (empty for one instance), `memory_objects`,
/// and the stale-hit columns over the run's `gets`. Every kind of run
/// (one cache, a fleet, Redis) fills them through here.
pub(crate) fn fleet_columns(
    r: RunResult,
    fleet: Option<&FleetConfig>,
    memory_objects: u64,
    stale: &StaleStats,
    gets: u64,
) -> RunResult {
    RunResult {
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
