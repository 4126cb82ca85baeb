//! Strategies: what to keep in the cache. One file per strategy, the trait they
//! share, and the registry that maps a strategy spec (`lru`, `ttl:ttl=30s`) to
//! a constructed policy.
//!
//! The replay loop owns counting, timing and demand fill; a policy only answers
//! "is this key here?" ([`Policy::get`]), "keep this key" ([`Policy::insert`])
//! and "forget this key" ([`Policy::remove`]), in the spirit of libCacheSim's
//! `cache_t` and Caffeine's simulator `Policy`.
//!
//! Capacity is in *charge units*: 1 per object for count capacities, the
//! object's size for byte capacities. The loop computes each access's charge,
//! so a policy never needs to know which kind of capacity it runs with.

pub mod belady;
pub mod belady_size;
pub mod common;
pub mod fifo;
pub mod lfu;
pub mod lirs;
pub mod lru;
pub mod none;
pub mod params;
pub mod random;
pub mod ttl;
pub mod wtinylfu;
// Modern eviction policies (issue 8, part A).
pub mod arc;
pub mod clock;
pub mod s3fifo;
pub mod sieve;
pub mod slru;
#[cfg(test)]
mod testkit;
pub mod two_q;

use crate::request::Key;
pub use params::{Params, SpecError, StrategySpec};

/// What the replay loop tells a policy about one access.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Access {
    pub key: Key,
    /// Capacity units this object occupies: 1, or its size in bytes.
    pub charge: u64,
    /// Request time in seconds.
    pub time: f64,
    /// Index of this request in the stream (virtual time).
    pub vtime: u64,
    /// Virtual time of the next request for the same key, `u64::MAX` if there
    /// is none or it is unknown. Only offline policies (Belady) look at it.
    pub next_vtime: u64,
}

impl Access {
    /// An access of `key` with charge 1 at virtual time `vtime` (time = vtime
    /// seconds). Handy in tests.
    pub fn simple(key: Key, vtime: u64) -> Access {
        Access {
            key,
            charge: 1,
            time: vtime as f64,
            vtime,
            next_vtime: u64::MAX,
        }
    }
}

/// Objects that left the cache during one call, reported back to the loop.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Evictions {
    /// Removed to make room.
    pub evicted: u64,
    /// Removed because their time-to-live had passed.
    pub expired: u64,
}

/// A cache replacement policy. See the module documentation for the contract.
pub trait Policy {
    /// Looks `a.key` up. On a hit, updates the policy's metadata (recency,
    /// frequency) and returns `true`. An expired entry is a miss.
    fn get(&mut self, a: &Access) -> bool;

    /// Admits `a.key` after a miss. The loop guarantees `a.charge` is at most
    /// the capacity; the policy evicts until it fits (or declines to admit).
    fn insert(&mut self, a: &Access, ev: &mut Evictions);

    /// A write of `a.key` (write-through): update the entry if present,
    /// otherwise insert it. The default treats an update as a hit (it touches
    /// the entry); policies whose Python counterpart does otherwise override it.
    fn set(&mut self, a: &Access, ev: &mut Evictions) {
        if !self.get(a) {
            self.insert(a, ev);
        }
    }

    /// Removes `key`; returns whether it was resident.
    fn remove(&mut self, key: Key) -> bool;

    /// Number of resident objects.
    fn len(&self) -> usize;

    /// Capacity units in use (objects, or bytes).
    fn used(&self) -> u64;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of heap the policy holds for its metadata (slab, index, lists),
    /// used to report bytes per entry. Policies that do not track it return 0.
    fn heap_bytes(&self) -> usize {
        0
    }
}

/// Everything a policy constructor may need besides its own parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BuildCtx {
    /// Capacity in charge units (objects or bytes).
    pub capacity: u64,
    /// Seed for randomised policies.
    pub seed: u64,
    /// Default time-to-live from `--ttl`, in seconds, for policies that expire.
    pub ttl: Option<f64>,
}

/// One registered strategy, for `cachesim list` and error messages.
pub struct StrategyInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// `key=default` pairs the spec accepts, documented in the policy's file.
    pub params: &'static str,
}

/// Every strategy cachesim knows, in the order `cachesim list` shows them.
pub static STRATEGIES: &[StrategyInfo] = &[
    StrategyInfo {
        name: "none",
        summary: "no cache: every get is a miss (the baseline)",
        params: "",
    },
    StrategyInfo {
        name: "lru",
        summary: "least recently used = functools.lru_cache = cachetools.LRUCache",
        params: "",
    },
    StrategyInfo {
        name: "fifo",
        summary: "first in, first out = cachetools.FIFOCache (a hit does not reorder)",
        params: "",
    },
    StrategyInfo {
        name: "lfu",
        summary: "least frequently used = cachetools.LFUCache (ties: longest at that count)",
        params: "",
    },
    StrategyInfo {
        name: "ttl",
        summary: "LRU with per-entry expiry = cachetools.TTLCache (reads do not extend)",
        params: "ttl=--ttl or 60s",
    },
    StrategyInfo {
        name: "random",
        summary: "random replacement = cachetools.RRCache, seeded",
        params: "",
    },
    StrategyInfo {
        name: "lirs",
        summary: "LIRS (Jiang & Zhang 2002): LIR/HIR sets, stack S with pruning, queue Q",
        params: "hir=0.01:ghost=2",
    },
    StrategyInfo {
        name: "wtinylfu",
        summary: "W-TinyLFU (Einziger et al. 2017): window LRU + SLRU main, count-min admission",
        params: "window=0.01:protected=0.8",
    },
    StrategyInfo {
        name: "belady",
        summary: "Belady's MIN, offline optimum: evict the furthest next use (needs the future)",
        params: "",
    },
    StrategyInfo {
        name: "belady-size",
        summary: "offline, size-aware: evict the largest next-use distance x size (sampled)",
        params: "samples=128",
    },
    StrategyInfo {
        name: "clock",
        summary: "CLOCK second chance (k-bit counter optional)",
        params: "bits=1",
    },
    StrategyInfo {
        name: "slru",
        summary: "segmented LRU, probation + protected (Karedla et al. 1994)",
        params: "protected=0.8",
    },
    StrategyInfo {
        name: "2q",
        summary: "2Q full version: A1in FIFO, A1out ghosts, Am LRU (Johnson & Shasha 1994)",
        params: "kin=0.25:kout=0.5",
    },
    StrategyInfo {
        name: "arc",
        summary: "adaptive replacement cache (Megiddo & Modha, FAST 2003)",
        params: "",
    },
    StrategyInfo {
        name: "sieve",
        summary: "SIEVE: visited bit, hand from old to new (Zhang et al., NSDI 2024)",
        params: "",
    },
    StrategyInfo {
        name: "s3fifo",
        summary: "S3-FIFO: small + main FIFO, ghost queue (Yang et al., SOSP 2023)",
        params: "small=0.1:ghost=0.9",
    },
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
        name: "tiered-local",
        summary:
            "an in-process L1 per instance (--l1-capacity) in front of one shared in-process L2",
        params: "L1+L2, e.g. tiered-local:lru+lru",
    },
    StrategyInfo {
        name: "tiered",
        summary: "local L1 (--l1-capacity) in front of Redis L2: tiered:lru+redis",
        params: "LOCAL+redis[-lru|-lfu|-random|-ttl]",
    },
];

/// Whether strategy `name` reads the future ([`Access::next_vtime`]): the
/// runner then holds the workload in memory and computes next uses once.
pub fn needs_future(name: &str) -> bool {
    matches!(name, "belady" | "belady-size")
}

/// Whether `name` is a strategy that talks to a server (`redis*`,
/// `tiered`): run by [`crate::external::redis`], not built here.
pub fn is_external(name: &str) -> bool {
    name == "redis" || name.starts_with("redis-") || name == "tiered"
}

/// A constructed policy. An enum rather than `Box<dyn Policy>` so that the
/// replay loop is monomorphised per policy through [`dispatch!`].
#[derive(Debug)]
pub enum AnyPolicy {
    None(none::NoCache),
    Lru(lru::Lru),
    Fifo(fifo::Fifo),
    Lfu(lfu::Lfu),
    Ttl(ttl::TtlCache),
    Random(random::RandomCache),
    Lirs(lirs::Lirs),
    WTinyLfu(wtinylfu::WTinyLfu),
    Belady(belady::Belady),
    BeladySize(belady_size::BeladySize),
    Clock(clock::Clock),
    Slru(slru::Slru),
    TwoQ(two_q::TwoQ),
    Arc(arc::Arc),
    Sieve(sieve::Sieve),
    S3Fifo(s3fifo::S3Fifo),
}

/// Runs `$body` with `$p` bound to the concrete policy inside an [`AnyPolicy`],
/// so generic code (the replay loop) is compiled once per policy.
#[macro_export]
macro_rules! dispatch {
    ($any:expr, $p:ident => $body:expr) => {
        match $any {
            $crate::policy::AnyPolicy::None($p) => $body,
            $crate::policy::AnyPolicy::Lru($p) => $body,
            $crate::policy::AnyPolicy::Fifo($p) => $body,
            $crate::policy::AnyPolicy::Lfu($p) => $body,
            $crate::policy::AnyPolicy::Ttl($p) => $body,
            $crate::policy::AnyPolicy::Random($p) => $body,
            $crate::policy::AnyPolicy::Lirs($p) => $body,
            $crate::policy::AnyPolicy::WTinyLfu($p) => $body,
            $crate::policy::AnyPolicy::Belady($p) => $body,
            $crate::policy::AnyPolicy::BeladySize($p) => $body,
            $crate::policy::AnyPolicy::Clock($p) => $body,
            $crate::policy::AnyPolicy::Slru($p) => $body,
            $crate::policy::AnyPolicy::TwoQ($p) => $body,
            $crate::policy::AnyPolicy::Arc($p) => $body,
            $crate::policy::AnyPolicy::Sieve($p) => $body,
            $crate::policy::AnyPolicy::S3Fifo($p) => $body,
        }
    };
}

impl Policy for AnyPolicy {
    fn get(&mut self, a: &Access) -> bool {
        dispatch!(self, p => p.get(a))
    }
    fn insert(&mut self, a: &Access, ev: &mut Evictions) {
        dispatch!(self, p => p.insert(a, ev))
    }
    fn set(&mut self, a: &Access, ev: &mut Evictions) {
        dispatch!(self, p => p.set(a, ev))
    }
    fn remove(&mut self, key: Key) -> bool {
        dispatch!(self, p => p.remove(key))
    }
    fn len(&self) -> usize {
        dispatch!(self, p => p.len())
    }
    fn used(&self) -> u64 {
        dispatch!(self, p => p.used())
    }
    fn heap_bytes(&self) -> usize {
        dispatch!(self, p => p.heap_bytes())
    }
}

/// A policy built from a spec, with the spec's canonical form (every parameter
/// spelled out, defaults included) for the CSV `strategy` column.
#[derive(Debug)]
pub struct Built {
    pub policy: AnyPolicy,
    pub canonical: String,
}

/// A builder of `spec` at any capacity, for runs that make several caches
/// (a fleet's instances, its L1s). The spec must have been validated.
pub fn maker(spec: &StrategySpec, seed: u64, ttl: Option<f64>) -> impl Fn(u64) -> AnyPolicy + '_ {
    move |capacity| {
        build(
            spec,
            &BuildCtx {
                capacity,
                seed,
                ttl,
            },
        )
        .expect("spec validated before the run")
        .policy
    }
}

/// Builds the policy named by `spec` with `ctx`'s capacity.
pub fn build(spec: &StrategySpec, ctx: &BuildCtx) -> Result<Built, SpecError> {
    let mut p = Params::new(spec);
    let policy = match spec.name.as_str() {
        "none" => AnyPolicy::None(none::NoCache),
        "lru" => AnyPolicy::Lru(lru::Lru::new(ctx.capacity)),
        "fifo" => AnyPolicy::Fifo(fifo::Fifo::new(ctx.capacity)),
        "lfu" => AnyPolicy::Lfu(lfu::Lfu::new(ctx.capacity)),
        "ttl" => {
            let ttl = p.duration("ttl", ctx.ttl.unwrap_or(60.0))?;
            AnyPolicy::Ttl(ttl::TtlCache::new(ctx.capacity, ttl))
        }
        "random" => AnyPolicy::Random(random::RandomCache::new(ctx.capacity, ctx.seed)),
        "lirs" => AnyPolicy::Lirs(lirs::Lirs::from_params(&mut p, ctx.capacity)?),
        "wtinylfu" => AnyPolicy::WTinyLfu(wtinylfu::WTinyLfu::from_params(&mut p, ctx.capacity)?),
        "belady" => AnyPolicy::Belady(belady::Belady::new(ctx.capacity)),
        "belady-size" => {
            let samples = p.u64_in("samples", 128, 1, 1 << 20)? as usize;
            AnyPolicy::BeladySize(belady_size::BeladySize::new(
                ctx.capacity,
                samples,
                ctx.seed,
            ))
        }
        "clock" => AnyPolicy::Clock(clock::Clock::new(
            ctx.capacity,
            p.u64_in("bits", 1, 1, 8)? as u32,
        )),
        "slru" => AnyPolicy::Slru(slru::Slru::new(
            ctx.capacity,
            p.f64_in("protected", 0.8, 0.0, 1.0)?,
        )),
        "2q" => AnyPolicy::TwoQ(two_q::TwoQ::from_params(ctx.capacity, &mut p)?),
        "arc" => AnyPolicy::Arc(arc::Arc::new(ctx.capacity)),
        "sieve" => AnyPolicy::Sieve(sieve::Sieve::new(ctx.capacity)),
        "s3fifo" => AnyPolicy::S3Fifo(s3fifo::S3Fifo::from_params(ctx.capacity, &mut p)?),
        other if is_external(other) => return Err(SpecError::External(other.to_string())),
        other => return Err(SpecError::unknown_strategy(other)),
    };
    let canonical = p.finish()?;
    Ok(Built { policy, canonical })
}

/// Checks a spec without building anything big (capacity 1), so a bad name or
/// parameter is reported before any run starts.
pub fn validate(spec: &StrategySpec) -> Result<String, SpecError> {
    if let Some((l1, l2)) = split_tiered_local(spec)? {
        return Ok(format!(
            "tiered-local:{}+{}",
            validate(&l1)?,
            validate(&l2)?
        ));
    }
    if is_external(&spec.name) {
        return crate::external::redis::parse_spec(spec).map(|e| e.canonical);
    }
    build(
        spec,
        &BuildCtx {
            capacity: 1,
            seed: 0,
            ttl: None,
        },
    )
    .map(|b| b.canonical)
}

/// Splits `tiered-local:L1+L2` (a local L1 per instance in front of one
/// shared in-process L2, both local policies) into its two specs; `None` for
/// any other strategy.
pub fn split_tiered_local(
    spec: &StrategySpec,
) -> Result<Option<(StrategySpec, StrategySpec)>, SpecError> {
    if spec.name != "tiered-local" {
        return Ok(None);
    }
    let bad = |why: &str| SpecError::BadValue {
        strategy: "tiered-local".into(),
        param: "L1+L2".into(),
        value: spec
            .params
            .iter()
            .map(|(k, v)| {
                if k.is_empty() {
                    v.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(":"),
        why: why.into(),
    };
    let arg =
        match spec.params.as_slice() {
            [(k, v)] if k.is_empty() => v.clone(),
            _ => return Err(bad(
                "expected tiered-local:L1+L2 with two local policies, e.g. tiered-local:lru+lru",
            )),
        };
    let Some((a, b)) = arg.split_once('+') else {
        return Err(bad(
            "expected tiered-local:L1+L2 with two local policies, e.g. tiered-local:lru+lru",
        ));
    };
    let (l1, l2) = (StrategySpec::parse(a)?, StrategySpec::parse(b)?);
    for p in [&l1, &l2] {
        if is_external(&p.name)
            || p.name == "tiered-local"
            || p.name == "shared"
            || needs_future(&p.name)
        {
            return Err(bad(
                "both levels must be local online policies (lru, lfu, s3fifo, ...)",
            ));
        }
    }
    Ok(Some((l1, l2)))
}

/// The names of all strategies, comma separated, for error messages.
pub fn strategy_names() -> String {
    STRATEGIES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}
