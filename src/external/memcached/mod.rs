//! memcached as a strategy: the run's gets go to a real server, so the hit
//! ratio is the server's own (its slab allocator and segmented LRU) and
//! the latency is the network's.
//!
//! Strategies (see README "memcached"):
//! - `memcached`: the server at `--memcached-url` (default
//!   127.0.0.1:11211, or `$MEMCACHED_URL`). Its capacity and eviction are
//!   its own: the `capacity` column is 0 and `capacity_spec` is `server`.
//!   Every set carries `--redis-key-ttl`'s safety expiry (1 day), so keys a
//!   killed run could not delete expire by themselves.
//! - `memcached-lru`: a private `memcached` started for the run with `-m`
//!   from `--capacity` (bytes, rounded up to whole MiB) and nothing else
//!   changed; gone after the run.
//!
//! The replay is the simulator's own loop ([`crate::sim::phases::Driver`])
//! with the server as the cache, so warm-up, prefill, windows, TTLs (in
//! request time: an expired key is deleted on the server and fetched
//! again), writes and restarts (the server keeps its contents) follow the
//! rules of every in-process policy. A get is `get KEY`; a miss fetches
//! from the origin and `set KEY 0 EXPTIME LEN` with the value (the
//! request's size, or `--value-size`); a delete is `delete KEY`. Keys are
//! `cachesim:<16 hex digits>:<key>` (one length for every run, so an
//! item's slab class does not depend on the run); at the end the run
//! deletes every key it wrote on the shared server unless
//! `--memcached-keep`, and counts those still there (`memory_objects`; a
//! private server's `curr_items`).
//!
//! `--pipeline N`: up to N consecutive gets of distinct keys are fetched
//! with one multi-key `get`, written after the sets and deletes queued
//! before them in the same write; a set or delete in the stream closes a
//! batch, as does a repeated key, so each key's requests keep their order.
//! As with Redis, the gets of a batch see the server before the batch's
//! own fills. Each request is charged its batch's round trip; a miss also
//! its origin time and the round trip that carries its `set`.
//!
//! `--clients N` (N > 1): N connections, the stream split by key
//! (`external::clients`, as Redis's), each replaying its keys' requests in
//! stream order through a loop of its own, driven by at most one thread
//! per core ([`crate::external::remote::replay_clients`]); the counts are
//! summed. The warm-up, windows and restarts, which count positions in the
//! whole stream, are refused with it (`cmd::run`).
//!
//! The files, one job each: `spec.rs` (the specs, the address and the
//! options), `proto.rs` (the text protocol on one connection), `server.rs`
//! (the private server and the key prefix), `engine.rs` (one run through
//! the simulator's loop, `external::remote`, shared with Redis).

mod engine;
mod proto;
mod server;
mod spec;

pub(crate) use engine::MemcachedEngine;
pub use server::KEY_PREFIX_LEN;
pub(crate) use spec::{runs, STRATEGIES};
pub use spec::{MemcachedOptions, MemcachedUrl};
