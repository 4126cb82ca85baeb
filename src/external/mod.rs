//! Strategies and origins that talk to real servers or disks. Each file or
//! folder is one kind; everything here fails with a message that names the URL.

pub(crate) mod clients;
pub mod disk;
pub mod memcached;
pub(crate) mod net;
pub mod postgres;
pub(crate) mod process;
pub mod redis;
pub(crate) mod remote;
pub(crate) mod tls;

// The Redis protocol and cluster client, by the paths they had before the
// Redis backend became a folder.
pub use redis::{cluster as redis_cluster, resp};

/// The strategies the backends run, in the order `cachesim list` shows them
/// (after the in-process ones): every backend that brings strategies adds
/// its table here.
pub(crate) fn strategies() -> impl Iterator<Item = &'static crate::policy::StrategyInfo> {
    redis::STRATEGIES
        .iter()
        .chain(memcached::STRATEGIES)
        .chain(disk::STRATEGIES)
}
