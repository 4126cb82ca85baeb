//! A fleet's settings: how many instances, how requests are spread over
//! them, local or shared caches, and how writes reach the other instances.

use crate::sim::write::OnWrite;

/// How requests are spread over instances.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Balance {
    Random,
    RoundRobin,
    KeyHash,
}

impl Balance {
    pub(crate) fn parse(s: &str) -> Result<Balance, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "random" => Ok(Balance::Random),
            "round-robin" | "roundrobin" | "rr" => Ok(Balance::RoundRobin),
            "key-hash" | "keyhash" | "sticky" => Ok(Balance::KeyHash),
            _ => Err(format!(
                "unknown balancing '{s}'; valid: random, round-robin, key-hash"
            )),
        }
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Balance::Random => "random",
            Balance::RoundRobin => "round-robin",
            Balance::KeyHash => "key-hash",
        }
    }
}

/// A fleet's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetConfig {
    pub instances: usize,
    pub balance: Balance,
    /// One cache of `instances x capacity` instead of one per instance.
    pub shared: bool,
    pub on_write: OnWrite,
    /// Invalidate other instances' copies on a write.
    pub broadcast: bool,
    /// Seconds of request time before a broadcast invalidation lands.
    pub delay: f64,
    pub seed: u64,
}

impl FleetConfig {
    /// One instance on a shared cache: a `shared:` strategy without
    /// `--instances`.
    pub(crate) fn single_shared(on_write: OnWrite, seed: u64) -> FleetConfig {
        FleetConfig {
            instances: 1,
            balance: Balance::Random,
            shared: true,
            on_write,
            broadcast: false,
            delay: 0.0,
            seed,
        }
    }
}
