//! The seam between the simulator and the caches it does not own. The core
//! (`sim`, `policy`, `workload`) never names a backend: a cache that lives
//! elsewhere (a server, a directory on disk) implements [`CacheBackend`] for
//! its operations, and a whole run that needs more than cache operations (a
//! private server to start, a pool of connections, its own timing)
//! implements [`Engine`]. Backends register their engines in the
//! composition root (`cmd`), which hands them to the runner as an
//! [`Engines`] table.

use super::capacity::Capacity;
use super::latency::{Origin, OriginError};
use super::result::RunResult;
use super::runner::{Prepared, RunConfig, RunError};
use crate::policy::{Access, AnyPolicy, Evictions, Policy, SpecError, StrategyInfo, StrategySpec};
use crate::request::Key;
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use std::sync::Arc;

/// One cache's operations, as a fleet (or any loop that drives a cache it
/// does not own) sees them: an instance's own cache, the shared one, or a
/// tiered fleet's L2. In-process policies ignore `size` (their charge is in
/// the access); an external cache (a Redis server) stores values of `size`
/// bytes.
pub(crate) trait CacheBackend {
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

impl CacheBackend for AnyPolicy {
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

/// A strategy that runs a whole replay itself rather than answering cache
/// operations: a real server that must be started, calibrated, driven over
/// many connections and cleaned up. The runner hands it the prepared
/// workload and the run's settings, and takes back the run's row.
pub(crate) trait Engine: Send + Sync {
    /// The strategies it runs, for `cachesim list` and error messages.
    fn strategies(&self) -> &'static [StrategyInfo];
    /// Whether it runs `spec` (by its name, or for a composite such as
    /// `tiered:lru+redis`, by its parts).
    fn runs(&self, spec: &StrategySpec) -> bool;
    /// The canonical form of `spec` (its `strategy` column), or what is
    /// wrong with it.
    fn validate(&self, spec: &StrategySpec) -> Result<String, SpecError>;
    /// Checks made once before any run of a plan that uses it (does the
    /// server answer?), so a sweep fails before any work.
    fn preflight(&self, specs: &[StrategySpec]) -> Result<(), RunError>;
    /// Refuses, before any run, a fleet it cannot run `spec` in, with a
    /// [`RunError::Usage`] naming the option; by default any fleet.
    fn check_fleet(&self, _spec: &StrategySpec, _fleet: FleetUse) -> Result<(), RunError> {
        Ok(())
    }
    /// Refuses, before any run, a capacity `spec` cannot be sized by, with
    /// a [`RunError::Usage`] naming `--capacity`; by default any.
    fn check_capacity(&self, _spec: &StrategySpec, _cap: &Capacity) -> Result<(), RunError> {
        Ok(())
    }
    /// Whether `--capacity` sizes `spec`'s cache. When it does not (a cache
    /// sized by its own spec), a plan runs `spec` once rather than once per
    /// capacity.
    fn uses_capacity(&self, _spec: &StrategySpec) -> bool {
        true
    }
    /// Runs one replay of `w` with `cfg`; a fleet's settings are in
    /// `cfg.fleet`.
    fn run(&self, w: &Prepared, cfg: &RunConfig, pb: &ProgressBar) -> Result<EngineRun, RunError>;
}

/// How a plan runs one of an engine's strategies: over how many
/// application instances (`--instances`), and whether as the cache they
/// share (`shared:NAME`, `--shared`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FleetUse {
    /// Application instances: 1 unless `--instances`.
    pub instances: usize,
    /// The shared cache of the fleet.
    pub shared: bool,
}

/// The refusal of an engine that runs `name` as one cache for one process
/// (`what`, e.g. "one cache directory") in `fleet`, naming the option that
/// asked for the fleet; `Ok` outside a fleet.
pub(crate) fn refuse_fleet(name: &str, what: &str, fleet: FleetUse) -> Result<(), RunError> {
    let option = match (fleet.instances > 1, fleet.shared) {
        (false, false) => return Ok(()),
        (true, _) => "--instances",
        (false, true) => "--strategy",
    };
    Err(RunError::Usage {
        option,
        message: format!(
            "strategy '{name}' is {what}; it does not run in a fleet (--instances K, shared:{name}, --shared)"
        ),
    })
}

/// What an engine's run produced: its row, with latency on its overall
/// latency histogram, and with `--window` its timeline's points.
pub(crate) type EngineRun = (
    RunResult,
    Option<Histogram<u64>>,
    Vec<crate::sim::phases::WindowPoint>,
);

/// The engines of one command, registered by the composition root (`cmd`).
/// Runs of an engine's strategies get the machine to themselves: a plan that
/// uses one runs one run at a time.
#[derive(Clone, Default)]
pub struct Engines(Vec<Arc<dyn Engine>>);

impl Engines {
    /// The engines in `list`, in the order `cachesim list` shows them.
    pub(crate) fn new(list: Vec<Arc<dyn Engine>>) -> Engines {
        Engines(list)
    }

    /// The engine that runs `spec`, if any: the first registered that does.
    pub(crate) fn find(&self, spec: &StrategySpec) -> Option<&dyn Engine> {
        self.0.iter().find(|e| e.runs(spec)).map(|e| e.as_ref())
    }

    /// Every engine.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &dyn Engine> {
        self.0.iter().map(|e| e.as_ref())
    }
}

impl std::fmt::Debug for Engines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self
            .iter()
            .flat_map(|e| e.strategies().iter().map(|s| s.name))
            .collect();
        f.debug_tuple("Engines").field(&names).finish()
    }
}

/// A real origin behind the cache (a database): its connections fetch the
/// keys that missed, timed for real. Implemented outside the core.
pub trait OriginBackend: Send + Sync {
    /// How the `origin` column names it (a URL without its password).
    fn label(&self) -> String;
    /// A connection for one run (or one client of a run).
    fn connect(&self) -> Result<Box<dyn Origin + Send>, RunError>;
    /// Makes sure the origin holds every key of `keys` with a value of its
    /// size, before any run replays them. Returns the rows it added.
    fn populate(&self, keys: &mut dyn Iterator<Item = (Key, u32)>) -> Result<u64, RunError>;
}

impl Origin for Box<dyn Origin + Send> {
    #[inline]
    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError> {
        (**self).fetch(key, size)
    }
}
