//! The seam between the simulator and the caches it does not own. The core
//! (`sim`, `policy`, `workload`) never names a backend: a cache that lives
//! elsewhere (a server, a directory on disk) implements [`CacheBackend`] for
//! its operations, and a whole run that needs more than cache operations (a
//! private server to start, a pool of connections, its own timing)
//! implements [`Engine`]. Backends register their engines in the
//! composition root (`cmd`), which hands them to the runner as an
//! [`Engines`] table.

use crate::policy::{Access, AnyPolicy, Evictions, Policy};
use crate::request::Key;

/// One cache's operations, as a fleet (or any loop that drives a cache it
/// does not own) sees them: an instance's own cache, the shared one, or a
/// tiered fleet's L2. In-process policies ignore `size` (their charge is in
/// the access); an external cache (a Redis server) stores values of `size`
/// bytes.
pub trait CacheBackend {
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
