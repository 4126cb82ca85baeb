//! The memcached strategy specs and `cachesim run`'s memcached options,
//! checked before anything connects.

use crate::policy::{SpecError, StrategyInfo, StrategySpec};
use std::path::PathBuf;

/// The strategies the memcached engine runs, as `cachesim list` shows them.
pub(crate) static STRATEGIES: &[StrategyInfo] = &[
    StrategyInfo {
        name: "memcached",
        summary: "a real memcached at --memcached-url: gets and sets over its text protocol, its own memory and eviction (capacity: the server's -m)",
        params: "",
    },
    StrategyInfo {
        name: "memcached-lru",
        summary: "a private memcached started for the run with -m from --capacity (bytes): its slab allocator and segmented LRU",
        params: "",
    },
];

/// Whether `spec` is the memcached engine's.
pub(crate) fn runs(spec: &StrategySpec) -> bool {
    STRATEGIES.iter().any(|s| s.name == spec.name)
}

/// Where the shared server is: `HOST:PORT`, `memcached://HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemcachedUrl {
    /// The host name or address (an IPv6 address without brackets).
    pub host: String,
    /// The port (11211 unless given).
    pub port: u16,
}

/// memcached's port.
pub const DEFAULT_PORT: u16 = 11211;

impl MemcachedUrl {
    /// Parses `HOST[:PORT]` or `memcached://HOST[:PORT]` (IPv6 in brackets).
    pub fn parse(s: &str) -> Result<MemcachedUrl, String> {
        let t = s.trim();
        let rest = t.strip_prefix("memcached://").unwrap_or(t);
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let bad = |why: &str| {
            format!("invalid memcached address '{s}': {why}; expected HOST:PORT or memcached://HOST[:PORT], e.g. 127.0.0.1:11211")
        };
        if rest.contains('/') || rest.contains('@') {
            return Err(bad(
                "memcached has no databases or passwords in its address",
            ));
        }
        let (host, port) =
            crate::external::net::host_port(rest, DEFAULT_PORT).map_err(|e| bad(&e))?;
        if port == 0 {
            return Err(bad("port 0 is not a port"));
        }
        Ok(MemcachedUrl { host, port })
    }

    /// The address to connect to.
    pub(crate) fn addr(&self) -> String {
        crate::external::net::show_host_port(&self.host, self.port)
    }
}

impl std::fmt::Display for MemcachedUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.addr())
    }
}

impl Default for MemcachedUrl {
    fn default() -> MemcachedUrl {
        MemcachedUrl {
            host: "127.0.0.1".into(),
            port: DEFAULT_PORT,
        }
    }
}

/// The memcached options of `cachesim run`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MemcachedOptions {
    /// `--memcached-url`, else `$MEMCACHED_URL`, else 127.0.0.1:11211.
    pub url: MemcachedUrl,
    /// `--memcached-keep`: leave the run's keys on the shared server.
    pub keep: bool,
    /// `--memcached-bin`: the binary `memcached-lru` starts.
    pub bin: Option<PathBuf>,
    /// `--value-size`: bytes per value instead of the request's size.
    pub value_size: Option<u32>,
    /// `--pipeline`: gets per round trip (1: none).
    pub pipeline: usize,
    /// `--clients`: connections, the stream split by key (0 or 1: one).
    pub clients: usize,
    /// The longest a key written to the shared server lives (seconds), so
    /// that keys a killed run could not delete expire by themselves.
    pub key_ttl: u32,
}

/// A checked memcached spec.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MemcachedSpec {
    /// `memcached-lru`: a private server sized from the capacity.
    pub private: bool,
    /// The `strategy` column.
    pub canonical: String,
}

/// Parses `memcached` or `memcached-lru` (they take no parameters).
pub(crate) fn parse_spec(spec: &StrategySpec) -> Result<MemcachedSpec, SpecError> {
    if !runs(spec) {
        return Err(SpecError::unknown_strategy(&spec.name));
    }
    if let Some((k, v)) = spec.params.first() {
        return Err(SpecError::UnknownParam {
            strategy: spec.name.clone(),
            param: if k.is_empty() { v.clone() } else { k.clone() },
            hint: "; it takes no parameters (the server's own settings apply)".into(),
        });
    }
    Ok(MemcachedSpec {
        private: spec.name == "memcached-lru",
        canonical: spec.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses() {
        let u = |s| MemcachedUrl::parse(s);
        assert_eq!(u("127.0.0.1:11211").unwrap(), MemcachedUrl::default());
        assert_eq!(
            u("memcached://localhost").unwrap().addr(),
            "localhost:11211"
        );
        assert_eq!(u("memcached://[::1]:9/").unwrap().addr(), "[::1]:9");
        assert_eq!(u("cache.example:22122").unwrap().port, 22122);
        for bad in [
            "",
            ":11211",
            "h:0",
            "h:99999",
            "h:x",
            "memcached://h/0",
            "[::1",
        ] {
            assert!(u(bad).is_err(), "{bad}");
        }
        assert!(u("h:x").unwrap_err().contains("port 'x' is not a number"));
    }

    #[test]
    fn parses_specs() {
        let s = |x: &str| parse_spec(&StrategySpec::parse(x).unwrap());
        assert!(!s("memcached").unwrap().private);
        assert!(s("memcached-lru").unwrap().private);
        assert!(s("memcached:x=1").is_err());
        assert!(s("memcached-lfu").is_err());
    }
}
