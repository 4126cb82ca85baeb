//! A hint that memory will be read soon, so a loop can fetch the hash-table
//! slots of the keys a little ahead while it works on the current one:
//! their cache misses then overlap instead of coming one after the other
//! (the technique of batched hash-join probes). The replay loop does it
//! for the policies' indexes, the distinct-key count for its set.
//!
//! The prefetch instruction is only
//! reachable through an intrinsic marked unsafe. It reads and writes nothing
//! the program can observe and never faults, whatever the address; here the
//! address is always that of a live reference besides. On other
//! architectures the hint does nothing.

/// Asks the processor to bring the cache line holding `*r` into all cache
/// levels. No effect on results.
#[inline(always)]
pub(crate) fn prefetch<T>(r: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `prefetcht0` is a hint: it never faults and has no effect the
    // program can observe (no read result, no write, no exception, whatever
    // the address). The pointer comes from a live reference anyway, and SSE,
    // which the intrinsic is declared with, is part of the x86_64 baseline.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(
            (r as *const T).cast::<i8>(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = r;
}
