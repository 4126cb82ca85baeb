//! What a Redis strategy asks for, checked before anything connects: the
//! `redis`, `redis-*` and `tiered:*` specs (which L2, which L1) and the Redis
//! options of `cachesim run`, so a bad spec or a missing `--l1-capacity` is
//! a usage error rather than a failed run.

use super::tiered;
use super::url::{RedisUrl, DEFAULT_URL};
use crate::policy::StrategyInfo;
use crate::policy::{Params, SpecError, StrategySpec};
use crate::sim::capacity::Capacity;
use std::path::PathBuf;

/// `maxmemory-samples` when `:samples` is not given (Redis's default).
pub(crate) const DEFAULT_SAMPLES: u64 = 5;
/// TTL given to keys under `redis-ttl` when `--ttl` is absent.
pub(crate) const DEFAULT_VOLATILE_TTL_S: f64 = 3600.0;
/// The longest TTL of a key on the shared server (`--redis-key-ttl`): a
/// day, far longer than a run's keys are read, short enough that keys a
/// killed run left behind do not stay.
pub(crate) const DEFAULT_KEY_TTL_S: f64 = 86400.0;

/// The Redis options of `cachesim run`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RedisOptions {
    /// `--redis-url` or `$REDIS_URL`; `None` is [`DEFAULT_URL`].
    pub url: Option<RedisUrl>,
    /// `--redis-keep`: leave the run's keys on the server.
    pub keep: bool,
    /// `--redis-key-ttl`: the longest TTL of a key on the shared server,
    /// seconds; `None` is [`DEFAULT_KEY_TTL_S`].
    pub key_ttl: Option<f64>,
    /// `--redis-server-bin`: the binary for private servers.
    pub server_bin: Option<PathBuf>,
    /// `--value-size`: bytes per value instead of the request's size.
    pub value_size: Option<u32>,
    /// `--pipeline`: gets per pipeline (0 or 1: none).
    pub pipeline: usize,
    /// `--clients`: connections on threads (0 or 1: one).
    pub clients: usize,
    /// `--l1-capacity` for `tiered`.
    pub l1_capacity: Option<Capacity>,
    /// `--redis-pace`: send each request at its time (since the first
    /// request's) divided by this, its TTL divided by it too; `None`: as
    /// fast as the server answers.
    pub pace: Option<f64>,
    /// Say nothing on stderr (the private server's pid and memory limit).
    pub quiet: bool,
}

impl RedisOptions {
    pub(crate) fn url(&self) -> RedisUrl {
        self.url
            .clone()
            .unwrap_or_else(|| RedisUrl::parse(DEFAULT_URL).expect("valid default"))
    }
}

/// Which server the L2 is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum L2 {
    /// The server at `--redis-url`.
    Server,
    /// A private server with this `maxmemory-policy` and samples.
    Private { policy: &'static str, samples: u64 },
}

/// The strategies the Redis engine runs, as `cachesim list` shows them.
pub(crate) static STRATEGIES: &[StrategyInfo] = &[
    StrategyInfo {
        name: "redis",
        summary: "a real Redis at --redis-url (its own memory and eviction)",
        params: "",
    },
    StrategyInfo {
        name: "redis-lru",
        summary: "private redis-server, maxmemory-policy allkeys-lru (sampled LRU)",
        params: "samples=5",
    },
    StrategyInfo {
        name: "redis-lfu",
        summary: "private redis-server, maxmemory-policy allkeys-lfu (sampled LFU)",
        params: "samples=5",
    },
    StrategyInfo {
        name: "redis-random",
        summary: "private redis-server, maxmemory-policy allkeys-random",
        params: "samples=5",
    },
    StrategyInfo {
        name: "redis-ttl",
        summary: "private redis-server, maxmemory-policy volatile-ttl (TTL: --ttl or 1h)",
        params: "samples=5",
    },
    StrategyInfo {
        name: "tiered",
        summary: "local L1 (--l1-capacity) in front of Redis L2: tiered:lru+redis",
        params: "LOCAL+redis[-lru|-lfu|-random|-ttl]",
    },
];

/// Whether `name` is a Redis strategy: `redis`, `redis-*` or `tiered`.
pub(crate) fn runs(name: &str) -> bool {
    name == "redis" || name.starts_with("redis-") || name == "tiered"
}

/// An external strategy spec, checked.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ExternalSpec {
    pub l1: Option<StrategySpec>,
    pub l2: L2,
    pub canonical: String,
}

fn private_policy(name: &str) -> Option<&'static str> {
    Some(match name {
        "redis-lru" => "allkeys-lru",
        "redis-lfu" => "allkeys-lfu",
        "redis-random" => "allkeys-random",
        "redis-ttl" => "volatile-ttl",
        _ => return None,
    })
}

/// Parses and checks `redis`, `redis-*` and `tiered:*` specs.
pub(crate) fn parse_spec(spec: &StrategySpec) -> Result<ExternalSpec, SpecError> {
    let mut p = Params::new(spec);
    let (l1, l2_name) = if spec.name == "tiered" {
        let arg = p.positional().ok_or_else(|| SpecError::BadValue {
            strategy: "tiered".into(),
            param: "L1+L2".into(),
            value: String::new(),
            why: "expected tiered:LOCAL+REDIS, e.g. tiered:lru+redis".into(),
        })?;
        let (local, l2) = tiered::split("tiered", &arg)?;
        (Some(local), l2)
    } else {
        (None, spec.name.clone())
    };
    let l2 = if l2_name == "redis" {
        L2::Server
    } else if let Some(policy) = private_policy(&l2_name) {
        L2::Private {
            policy,
            samples: p.u64_in("samples", DEFAULT_SAMPLES, 1, 64)?,
        }
    } else {
        return Err(SpecError::unknown_strategy(&l2_name));
    };
    let canonical = p.finish()?;
    Ok(ExternalSpec { l1, l2, canonical })
}

/// Checks the options a spec needs: a tiered run over a private L2 needs
/// `--l1-capacity` (its `--capacity` sizes the L2).
pub(crate) fn check_options(spec: &StrategySpec, opts: &RedisOptions) -> Result<(), String> {
    let e = parse_spec(spec).map_err(|e| e.to_string())?;
    if e.l1.is_some() && matches!(e.l2, L2::Private { .. }) && opts.l1_capacity.is_none() {
        return Err(format!(
            "strategy '{}' needs --l1-capacity (--capacity sizes its private L2)",
            e.canonical
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs() {
        let s = |x: &str| parse_spec(&StrategySpec::parse(x).unwrap());
        assert_eq!(s("redis").unwrap().l2, L2::Server);
        let e = s("redis-lru:samples=10").unwrap();
        assert_eq!(
            e.l2,
            L2::Private {
                policy: "allkeys-lru",
                samples: 10
            }
        );
        assert_eq!(e.canonical, "redis-lru:samples=10");
        assert_eq!(s("redis-ttl").unwrap().canonical, "redis-ttl:samples=5");
        let t = s("tiered:lru+redis").unwrap();
        assert_eq!(t.canonical, "tiered:lru+redis");
        assert_eq!(t.l1.unwrap().name, "lru");
        assert!(s("redis:samples=3").is_err());
        assert!(s("redis-lru:samples=0").is_err());
        assert!(s("tiered:lru").is_err());
        assert!(s("tiered:redis+redis").is_err());
        assert!(s("tiered:nope+redis").is_err());
        assert!(s("tiered:lru+memcached").is_err());
        assert!(s("redis-arc").is_err());
    }
}
