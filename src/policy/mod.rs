//! Strategies: what to keep in the cache. One file per strategy, the trait they
//! share, and the registry that maps a strategy spec (`lru`, `ttl:ttl=30s`) to
//! a constructed policy. Each policy's file declares its own facts (name,
//! summary, parameters, kind, constructor: [`Register`]); the one list in
//! [`policy_registry!`] turns them into [`AnyPolicy`], [`dispatch!`],
//! [`POLICIES`] and [`build`], so a new policy is a new file and one line.
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
// memcached's eviction modelled in-process (issue 19).
pub mod memcached_sim;
pub mod none;
pub mod params;
pub mod random;
// Redis's eviction modelled in-process (issue 15).
pub mod sampled_lfu;
pub mod sampled_lru;
pub mod sampled_random;
pub mod ttl;
pub mod wtinylfu;
// Modern eviction policies (issue 8, part A).
pub mod arc;
pub mod clock;
pub mod s3fifo;
pub mod sieve;
pub mod slru;
#[cfg(test)]
pub(crate) mod testkit;
pub mod two_q;

use crate::request::Key;
pub use params::{Params, SpecError, StrategySpec};

/// What the replay loop tells a policy about one access.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Access {
    /// The key requested.
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

    /// Whether no object is resident.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes of heap the policy holds for its metadata (slab, index, lists),
    /// used to report bytes per entry. Policies that do not track it return 0.
    fn heap_bytes(&self) -> usize {
        0
    }

    /// A hint that `key` is requested a few requests from now (the first
    /// of [`Policy::prefetch_ahead`]):
    /// a policy with a key index may fetch the index's slot for it. The
    /// replay loop calls it; it must not change anything the policy
    /// decides (results are the same with or without it).
    #[inline]
    fn prefetch_index(&self, _key: Key) {}

    /// A hint that `key` is requested sooner (the second of
    /// [`Policy::prefetch_ahead`]), after [`Policy::prefetch_index`] of
    /// it: a policy may fetch the entry its index slot names. Same
    /// contract.
    #[inline]
    fn prefetch_entry(&self, _key: Key) {}

    /// A hint, given to an empty policy before its first request, that
    /// every key it will see is below `bound` (the workload's key space).
    /// A policy whose index can use it (see
    /// `common::slab::LinkedSlab::index_keys_below`) may; a key at or
    /// above it must still work. Same contract as the prefetch hints:
    /// results are the same with or without it.
    fn index_keys_below(&mut self, _bound: Key) {}

    /// How many requests ahead the replay loop gives the two prefetch
    /// hints: `(index, entry)`, for [`Policy::prefetch_index`] and
    /// [`Policy::prefetch_entry`]. [`PREFETCH_AHEAD`] unless a policy
    /// measured better with others. No effect on results.
    #[inline]
    fn prefetch_ahead(&self) -> (usize, usize) {
        PREFETCH_AHEAD
    }

    /// Whether the policy reads [`Access::time`]. The replay loop computes
    /// a request's time (a division, for a stream without timestamps)
    /// only for policies that do, or when expiry or versions need it;
    /// the others see `f64::NAN` there.
    #[inline]
    fn reads_time(&self) -> bool {
        true
    }
}

/// The largest key space [`Policy::index_keys_below`] indexes directly.
pub const DIRECT_INDEX_MAX: u64 = common::slab::DIRECT_MAX;

/// How many requests ahead the replay loop calls [`Policy::prefetch_index`]
/// and [`Policy::prefetch_entry`], by default. Measured in stop 34 against
/// the (16, 8) of stop 31, interleaved, 10M Zipf(1.0) requests: LRU,
/// FIFO, CLOCK, SIEVE, TTL, random and 2Q 10-25% faster at 10k objects,
/// within noise to 10% faster at 100k.
pub const PREFETCH_AHEAD: (usize, usize) = (10, 3);

/// The longer distances of the policies with ghost lists (ARC, S3-FIFO),
/// whose slab holds twice their capacity: with [`PREFETCH_AHEAD`] they
/// were 5% faster at 10k objects but 10-15% slower at 100k.
pub const PREFETCH_AHEAD_LONG: (usize, usize) = (16, 8);

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

/// Whether a policy decides from the past alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Sees each request as it comes.
    Online,
    /// Reads the future ([`Access::next_vtime`]): the runner then holds the
    /// workload in memory and computes next uses once (Belady and kin).
    Offline,
}

/// A policy's facts, declared next to its code through [`Register::INFO`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct PolicyInfo {
    /// The spec name (`--strategy NAME`).
    pub name: &'static str,
    /// One line for `cachesim list`.
    pub summary: &'static str,
    /// `key=default` pairs the spec accepts, as `cachesim list` shows them,
    /// `:`-separated; empty when it takes none.
    pub params: &'static str,
    pub kind: Kind,
}

impl PolicyInfo {
    /// The policy's line of `cachesim list`.
    pub(crate) const fn strategy(&self) -> StrategyInfo {
        StrategyInfo {
            name: self.name,
            summary: self.summary,
            params: self.params,
        }
    }
}

/// What a policy's file implements to be registered: its facts and its
/// constructor. Adding a policy is a new file with this impl plus one line in
/// [`policy_registry!`].
pub(crate) trait Register: Policy + Sized {
    const INFO: PolicyInfo;

    /// Whether the policy needs a byte capacity: it reads object sizes from
    /// the charges, which a count capacity sets to 1 (`memcached-sim`).
    /// The runner refuses a count capacity for it ([`needs_byte_capacity`]).
    const BYTES_ONLY: bool = false;

    /// Builds the policy from the spec's parameters and the run's context.
    /// Read every parameter through `p` (with its default), in the order the
    /// canonical spec should spell them: parameters not read are rejected
    /// afterwards.
    fn build(p: &mut Params, ctx: &BuildCtx) -> Result<Self, SpecError>;
}

/// The registered policies, one line each (`Variant => file::Type,`), in the
/// order `cachesim list` shows them. Everything else about a policy lives in
/// its file ([`Register`]); from this list come [`AnyPolicy`], [`dispatch!`],
/// [`POLICIES`] and the lookup behind [`build`] and [`needs_future`].
///
/// The list is a macro handing itself to `$callback` (after `($args)`)
/// rather than one invocation that defines everything, because `dispatch!`
/// is exported for the benches and tests, and an exported macro defined by
/// another macro cannot be named by path within this crate (`use
/// crate::dispatch`, rust-lang/rust#52234).
#[doc(hidden)]
#[macro_export]
macro_rules! policy_registry {
    ($callback:ident!($($args:tt)*)) => {
        $crate::$callback! { ($($args)*)
            None => none::NoCache,
            Lru => lru::Lru,
            Fifo => fifo::Fifo,
            Lfu => lfu::Lfu,
            Ttl => ttl::TtlCache,
            Random => random::RandomCache,
            Lirs => lirs::Lirs,
            WTinyLfu => wtinylfu::WTinyLfu,
            Belady => belady::Belady,
            BeladySize => belady_size::BeladySize,
            Clock => clock::Clock,
            Slru => slru::Slru,
            TwoQ => two_q::TwoQ,
            Arc => arc::Arc,
            Sieve => sieve::Sieve,
            S3Fifo => s3fifo::S3Fifo,
            SampledLru => sampled_lru::SampledLru,
            SampledLfu => sampled_lfu::SampledLfu,
            SampledRandom => sampled_random::SampledRandom,
            MemcachedSim => memcached_sim::MemcachedSim,
        }
    };
}

/// The items [`policy_registry!`] defines in this module.
#[doc(hidden)]
#[macro_export]
macro_rules! __policy_items {
    (() $($variant:ident => $ty:ty,)*) => {
        /// A constructed policy. An enum rather than `Box<dyn Policy>` so that
        /// the replay loop is monomorphised per policy through [`dispatch!`].
        #[derive(Debug)]
        pub enum AnyPolicy {
            $(
                #[doc = concat!("The `", stringify!($ty), "` policy.")]
                $variant($ty),
            )*
        }

        /// Every registered policy, in the order `cachesim list` shows them.
        pub(crate) static POLICIES: &[PolicyInfo] = &[$(<$ty as Register>::INFO,)*];

        /// Builds the registered policy called `name`; `None` if there is none.
        fn build_registered(
            name: &str,
            p: &mut Params,
            ctx: &BuildCtx,
        ) -> Option<Result<AnyPolicy, SpecError>> {
            $(
                if name == <$ty as Register>::INFO.name {
                    return Some(<$ty as Register>::build(p, ctx).map(AnyPolicy::$variant));
                }
            )*
            None
        }

        /// Whether the registered policy `name` needs a byte capacity.
        fn bytes_only_registered(name: &str) -> bool {
            $(
                if name == <$ty as Register>::INFO.name {
                    return <$ty as Register>::BYTES_ONLY;
                }
            )*
            false
        }
    };
}

policy_registry!(__policy_items!());

/// Runs `$body` with `$p` bound to the concrete policy inside an [`AnyPolicy`],
/// so generic code (the replay loop) is compiled once per policy.
#[macro_export]
macro_rules! dispatch {
    ($any:expr, $p:ident => $body:expr) => {
        $crate::policy_registry!(__dispatch_match!($any, $p, $body))
    };
}

/// The `match` of [`dispatch!`], one arm per registered policy.
#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_match {
    (($any:expr, $p:ident, $body:expr) $($variant:ident => $ty:ty,)*) => {
        match $any {
            $($crate::policy::AnyPolicy::$variant($p) => $body,)*
        }
    };
}

/// One line of `cachesim list`: a policy's, a composite's
/// (`crate::sim::strategy`), or a strategy a backend runs.
#[derive(Debug, Clone, Copy)]
pub struct StrategyInfo {
    /// The name `--strategy` takes (`lru`, `s3fifo`).
    pub name: &'static str,
    /// What the strategy does, in one line.
    pub summary: &'static str,
    /// `key=default` pairs the spec accepts, documented in the strategy's file.
    pub params: &'static str,
}

/// Every policy's line of `cachesim list`, in its order. (Composites such
/// as `tiered-local` are the fleet's to list, strategies that run on a
/// server their backends'.)
pub static STRATEGIES: &[StrategyInfo] = &all_strategies::<{ POLICIES.len() }>();

const fn all_strategies<const N: usize>() -> [StrategyInfo; N] {
    let mut out = [StrategyInfo {
        name: "",
        summary: "",
        params: "",
    }; N];
    let mut i = 0;
    while i < N {
        out[i] = POLICIES[i].strategy();
        i += 1;
    }
    out
}

/// Whether strategy `name` reads the future ([`Access::next_vtime`]): the
/// runner then holds the workload in memory and computes next uses once.
pub fn needs_future(name: &str) -> bool {
    POLICIES
        .iter()
        .any(|p| p.name == name && p.kind == Kind::Offline)
}

/// Whether policy `name` needs a byte capacity (it reads object sizes from
/// the charges): runs with a count capacity are refused.
pub fn needs_byte_capacity(name: &str) -> bool {
    bytes_only_registered(name)
}

/// Whether `name` is a registered policy (not a composite, not a strategy a
/// backend runs).
pub fn is_policy(name: &str) -> bool {
    POLICIES.iter().any(|p| p.name == name)
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
    fn prefetch_index(&self, key: Key) {
        dispatch!(self, p => p.prefetch_index(key))
    }
    fn prefetch_entry(&self, key: Key) {
        dispatch!(self, p => p.prefetch_entry(key))
    }
    fn index_keys_below(&mut self, bound: Key) {
        dispatch!(self, p => p.index_keys_below(bound))
    }
    fn reads_time(&self) -> bool {
        dispatch!(self, p => p.reads_time())
    }
    fn prefetch_ahead(&self) -> (usize, usize) {
        dispatch!(self, p => p.prefetch_ahead())
    }
}

/// A policy built from a spec, with the spec's canonical form (every parameter
/// spelled out, defaults included) for the CSV `strategy` column.
#[derive(Debug)]
pub struct Built {
    /// The policy, ready to replay.
    pub policy: AnyPolicy,
    /// The spec's canonical form: every parameter spelled out, defaults
    /// included.
    pub canonical: String,
}

/// A builder of `spec` at any capacity, for runs that make several caches
/// (a fleet's instances, its L1s). The spec must have been validated.
pub(crate) fn maker(
    spec: &StrategySpec,
    seed: u64,
    ttl: Option<f64>,
) -> impl Fn(u64) -> AnyPolicy + '_ {
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
    let policy = match build_registered(&spec.name, &mut p, ctx) {
        Some(policy) => policy?,
        None => return Err(SpecError::unknown_strategy(&spec.name)),
    };
    let canonical = p.finish()?;
    Ok(Built { policy, canonical })
}

/// Checks a policy's spec without building anything big (capacity 1), so
/// a bad name or parameter is reported before any run starts. Returns its
/// canonical form.
pub fn validate(spec: &StrategySpec) -> Result<String, SpecError> {
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

/// The names of the policies, comma separated, for error messages.
pub(crate) fn strategy_names() -> String {
    STRATEGIES
        .iter()
        .map(|s| s.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The keys of `a=1:b=2` (or of a canonical spec, its name first).
    fn param_keys(s: &str) -> Vec<&str> {
        s.split(':')
            .filter(|kv| !kv.is_empty())
            .map(|kv| kv.split('=').next().unwrap())
            .collect()
    }

    #[test]
    fn every_registered_policy_builds_at_small_capacities() {
        for info in POLICIES {
            let spec = StrategySpec::parse(info.name).unwrap();
            // A byte-only policy's capacity is memory: it is tested in its
            // file at capacities of megabytes.
            let bytes_only = needs_byte_capacity(info.name);
            for capacity in 1..=3 {
                let ctx = BuildCtx {
                    capacity,
                    seed: 1,
                    ttl: None,
                };
                let built = build(&spec, &ctx).unwrap_or_else(|e| panic!("{}: {e}", info.name));
                // The canonical spec spells out the parameters `cachesim list`
                // shows, in that order, with the defaults it shows; a choice
                // at its default may be left out (`Params::choice`), but
                // then giving the listed default changes nothing.
                let canonical = built.canonical.as_str();
                let listed_keys = param_keys(info.params);
                let keys = param_keys(canonical)[1..].to_vec();
                let mut rest = listed_keys.iter();
                assert!(
                    keys.iter().all(|k| rest.any(|l| l == k)),
                    "{canonical} vs [{}]",
                    info.params
                );
                if !info.params.contains(' ') {
                    if !info.params.is_empty() {
                        let explicit =
                            StrategySpec::parse(&format!("{}:{}", info.name, info.params)).unwrap();
                        let again = build(&explicit, &ctx).unwrap();
                        assert_eq!(again.canonical, canonical, "{}", info.params);
                    } else {
                        assert_eq!(canonical, info.name);
                    }
                }
                if bytes_only {
                    continue;
                }
                let mut p = built.policy;
                let mut ev = Evictions::default();
                for v in 0..12u64 {
                    let a = Access::simple(v % 5, v);
                    if !p.get(&a) {
                        p.insert(&a, &mut ev);
                    }
                    assert!(p.used() <= capacity, "{} c={capacity}", info.name);
                }
            }
        }
    }

    /// Hits, evictions and final state of `p` over a skewed stream of
    /// 30k gets (misses filled) and removals, over keys 0..400; `time`
    /// says whether accesses carry their time or NaN.
    fn trace_of(mut p: AnyPolicy, time: bool) -> (Vec<bool>, u64, usize, u64) {
        let mut ev = Evictions::default();
        let mut hits = Vec::new();
        let mut x: u64 = 0x9E37_79B9;
        for v in 0..30_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Skewed: a small hot set and a long tail.
            let key = if x % 3 == 0 { x % 400 } else { x % 40 };
            if v % 11 == 0 {
                p.remove(key);
                continue;
            }
            let mut a = Access::simple(key, v);
            if !time {
                a.time = f64::NAN;
            }
            let hit = p.get(&a);
            if !hit {
                p.insert(&a, &mut ev);
            }
            hits.push(hit);
        }
        (hits, ev.evicted + ev.expired, p.len(), p.used())
    }

    #[test]
    fn the_key_space_hint_and_a_skipped_time_change_no_result() {
        for info in POLICIES {
            if needs_byte_capacity(info.name) {
                continue;
            }
            let spec = StrategySpec::parse(info.name).unwrap();
            let make = || {
                build(
                    &spec,
                    &BuildCtx {
                        capacity: 50,
                        seed: 3,
                        ttl: Some(500.0),
                    },
                )
                .unwrap()
                .policy
            };
            let plain = trace_of(make(), true);
            if info.name != "none" {
                assert!(plain.0.iter().any(|&h| h) && plain.1 > 0, "{}", info.name);
            }
            // A true bound (keys 0..400), and one the tail breaks (the slab
            // goes back to hashing mid-stream).
            for bound in [400, 1000, 64] {
                let mut p = make();
                p.index_keys_below(bound);
                assert_eq!(trace_of(p, true), plain, "{} below {bound}", info.name);
            }
            if !make().reads_time() {
                assert_eq!(
                    trace_of(make(), false),
                    plain,
                    "{} reads the time",
                    info.name
                );
            }
        }
    }

    #[test]
    fn names_are_unique_and_kinds_match_needs_future() {
        let mut names: Vec<&str> = STRATEGIES.iter().map(|s| s.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            STRATEGIES.len(),
            "a strategy name is taken twice"
        );
        for info in POLICIES {
            assert_eq!(needs_future(info.name), info.kind == Kind::Offline);
            assert!(is_policy(info.name), "{}", info.name);
        }
    }
}
