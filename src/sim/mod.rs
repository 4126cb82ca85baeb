//! The replay engine: the loop that feeds requests to a strategy and counts
//! ([`replay`]), capacities ([`capacity`]), one run's result ([`result`]), and
//! the runner that turns a plan of (workload, strategy, capacity) into results
//! ([`runner`]).

pub mod backend;
pub mod capacity;
pub mod event;
pub mod expiry;
pub mod fleet;
pub mod freshness;
pub mod future_file;
pub mod groups;
pub mod latency;
pub mod phases;
pub mod reader;
pub mod replay;
pub mod restart;
pub mod result;
pub mod runner;
pub mod shard;
pub mod strategy;
pub mod sweep;
pub mod write;

pub use capacity::{Capacity, CapacityKind};
pub use replay::{replay_batch, Counters};
pub use result::RunResult;

/// Threads per core a command may start at most: replays are CPU-bound, so
/// more than a few per core only adds switching (a little over one helps
/// runs that wait on reading a trace).
pub const THREADS_PER_CORE: usize = 4;

/// The most threads a command may start: [`THREADS_PER_CORE`] per core.
pub fn max_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_mul(THREADS_PER_CORE)
}
