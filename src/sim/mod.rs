//! The replay engine: the loop that feeds requests to a strategy and counts
//! ([`replay`]), capacities ([`capacity`]), one run's result ([`result`]), and
//! the runner that turns a plan of (workload, strategy, capacity) into results
//! ([`runner`]).

pub mod backend;
pub mod capacity;
pub mod fleet;
pub mod freshness;
pub mod latency;
pub mod phases;
pub mod replay;
pub mod result;
pub mod runner;
pub mod strategy;
pub mod sweep;
pub mod write;

pub use capacity::{Capacity, CapacityKind};
pub use replay::{replay_batch, Counters};
pub use result::RunResult;
