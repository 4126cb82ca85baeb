//! A joblib-style cache on disk (issue 19): joblib's `Memory` caches
//! function results in files, one per call, that survive a restart; a hit
//! costs a file read, and nothing is evicted unless the user calls
//! `reduce_size(bytes_limit)`, which removes the least recently accessed
//! files first.
//!
//! Strategy (see README "disk"): `disk[:limit=SIZE[:every=N]]`.
//! - The cache is a real directory: `--disk-dir DIR`, or a fresh one under
//!   the system temp dir, removed after the run unless `--disk-keep`. One
//!   file per key holds the value's bytes (the request's size, or
//!   `--value-size`), written atomically on a miss (temporary name, then
//!   rename) and read whole on a hit.
//! - `limit=SIZE` runs `reduce_size(SIZE)` every `every` requests (1000 by
//!   default); without it nothing is evicted. Evictions are counted.
//! - `--disk-cold` drops each file from the page cache
//!   (`posix_fadvise(POSIX_FADV_DONTNEED)`, after `fdatasync` on write) so
//!   that hits read the device, not RAM.
//! - `tiered:LOCAL+disk[:limit=..]`: an in-process L1 (`--l1-capacity`,
//!   else `--capacity`) in front of the files, `lru_cache` over joblib; the
//!   engine claims the `tiered:` specs whose L2 is `disk`.
//! - `--capacity` does not apply: the `capacity` column is the limit in
//!   bytes (0: none) and `capacity_spec` is `disk` or `limit=1GiB`; a
//!   sweep over capacities runs `disk` once (`Engine::uses_capacity`).
//! - One directory for one process: a fleet (`--instances`, `shared:disk`)
//!   is refused before any run (`Engine::check_fleet`).
//!
//! The files, one job each: `spec.rs` (the spec and options), `store.rs`
//! (the directory: marker, atomic writes, reads, `reduce_size`),
//! `engine.rs` (one run through the simulator's loop, timed).

mod engine;
mod spec;
mod store;

pub(crate) use engine::DiskEngine;
pub use spec::DiskOptions;
pub(crate) use spec::{runs, STRATEGIES};
pub(crate) use store::{check_dir, DirError};
