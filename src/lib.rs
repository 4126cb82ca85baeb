//! cachesim: which caching strategy should I use for this workload, and what
//! does it buy me?
//!
//! The flow, one module per box:
//! `workload` (generators, trace readers) -> `Batch` of `Request`s -> `sim`
//! (the replay loop, driving a `policy`) -> `RunResult` -> `report`
//! (table, CSV, JSON). `main.rs` only maps errors to exit codes.

#![warn(missing_docs)]

pub mod cli;
pub mod cmd;
pub mod external;
pub mod files;
pub mod interrupt;
mod memory;
pub mod mrc;
pub mod plot;
pub mod policy;
mod prefetch;
pub mod progress;
pub mod report;
pub mod request;
pub mod rng;
pub mod sim;
pub mod units;
pub mod workload;

pub use request::{Key, Op, Request};
