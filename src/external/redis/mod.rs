//! Redis as a strategy: the run's gets go to a real server, so the hit ratio
//! is the server's own and the latency is the network's.
//!
//! Strategies (see README "Redis"):
//! - `redis`: the server at `--redis-url` (default
//!   `redis://127.0.0.1:6379/0`, or `$REDIS_URL`). Its capacity and eviction
//!   are its own: the `capacity` column is 0 and `capacity_spec` is `server`.
//! - `redis-lru`, `redis-lfu`, `redis-random`, `redis-ttl`: a private
//!   `redis-server` started for the run ([`PrivateServer`]) with
//!   `maxmemory-policy` allkeys-lru / allkeys-lfu / allkeys-random /
//!   volatile-ttl and `maxmemory` from the capacity (bytes directly; a count
//!   through a calibrated bytes-per-key, see [`calibrate`], then trimmed
//!   during the run so the resident keys stay at the capacity); `:samples=N` sets
//!   `maxmemory-samples` (Redis's default 5).
//! - `tiered:<local>+<redis...>`: see [`tiered`].
//!
//! A get is `GET key`; a miss fetches from the origin (model or PostgreSQL,
//! through [`crate::sim::latency::Origin`]) and `SET key value [PX ttl]`, the value being as many
//! bytes as the request's size (or `--value-size`), `PX` from `--ttl` (for
//! `redis-ttl`, `--ttl` or 1 hour: volatile-ttl only evicts keys that have a
//! TTL). A set in a trace is a `SET`, a delete an `UNLINK`. Keys are
//! `cachesim:<run id>:<key>`; at the end the run deletes its own keys (`SCAN
//! MATCH cachesim:<run id>:*` + `UNLINK`) unless `--redis-keep`. cachesim never
//! flushes a database and never touches a key outside its prefix.
//!
//! `--pipeline N`: up to N consecutive gets of distinct keys are sent as one
//! pipeline of `GET`s; the misses' `SET`s go out ahead of the next batch's
//! `GET`s, in the same write (for `tiered:*` and a cluster, as a pipeline of
//! their own, awaited). A batch is closed early by a repeated key or a
//! set/delete, so hit counts equal the sequential run's. Each request of a
//! batch is charged its batch's whole round trip (no reply is seen before
//! the batch's replies arrive): hits the `GET` pipeline's, misses that plus
//! their own origin time plus that of the round trip carrying their `SET`s.
//! Pipelining thus raises throughput and the per-request latency.
//!
//! `--clients N`: N connections, each with its own origin (and L1), the
//! stream split by a hash of the key (so each key's requests keep their
//! order); counters are summed and histograms added. The connections are
//! driven by at most one thread per core (`$CACHESIM_REDIS_THREADS`): a
//! thread with several sends a connection's batch and reads its replies only
//! when that connection's next batch is ready (or its next request needs the
//! L1), so every connection keeps a batch in flight, as redis-benchmark's
//! event loop does. A request's latency then includes the time the thread
//! spent on its other connections before reading the reply. See [`client`].
//!
//! `--warmup`, `--window`, `--restart-every`: `redis` and `redis-*` (a
//! byte capacity) replay through the simulator's own loop instead, with
//! the server as the cache (`external::remote`, shared with memcached;
//! [`engine::in_loop`]), one connection, `kv.rs` speaking RESP to it; a
//! restart leaves the server as it is.
//!
//! Every network call is timed (a round trip is ~10^4 times the clock's
//! cost, so the sampling of local runs is unnecessary).
//!
//! The files, one job each:
//! - `url.rs`: where the server is ([`RedisUrl`], [`Target`]).
//! - `spec.rs`: the strategy specs and `cachesim run`'s Redis options
//!   ([`parse_spec`], [`check_options`], [`RedisOptions`]).
//! - `server.rs`: the private `redis-server` ([`PrivateServer`]) and its
//!   watchdog; `calibration.rs`: bytes per key for a capacity in objects.
//! - `resp.rs`: the RESP protocol over one connection; `cluster.rs`: the
//!   cluster client (slots, `MOVED`/`ASK`); `backend.rs`: one server or a
//!   cluster behind one interface.
//! - `batch.rs`: the pre-encoded commands of a batch; `client.rs`: one
//!   connection's replay (L1, pipelining, origin, counters); `replay.rs`:
//!   `--clients` over threads.
//! - `tiered.rs`: the local L1 of `tiered:*`; `fleet_cache.rs`: the Redis
//!   cache of a fleet (`--instances`).
//! - `kv.rs`: one connection as the simulator's loop's cache
//!   (`SET`/`UNLINK` queued, then `GET`s, one write).
//! - `engine.rs`: one run as a list of steps ([`run_one`]), and the check
//!   before a plan runs ([`preflight`]).

mod backend;
mod batch;
mod calibration;
mod client;
pub mod cluster;
mod engine;
pub mod fleet_cache;
mod kv;
mod replay;
pub mod resp;
mod server;
mod spec;
pub mod tiered;
mod url;

pub(crate) use engine::{in_loop, RedisEngine};
pub(crate) use spec::{check_options, runs, RedisOptions, STRATEGIES};
pub(crate) use url::RedisUrl;
