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
//! through [`Origin`]) and `SET key value [PX ttl]`, the value being as many
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
//! spent on its other connections before reading the reply. See [`Client`].
//!
//! Every network call is timed (a round trip is ~10^4 times the clock's
//! cost, so the sampling of local runs is unnecessary).

pub mod cluster;
pub mod fleet_cache;
pub mod resp;
pub mod tiered;

use crate::external::postgres::PostgresOrigin;
use crate::policy::{Params, SpecError, StrategySpec};
use crate::request::{Key, Op, Request};
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::freshness::OnWrite;
use crate::sim::latency::{
    new_histogram, LatencySummary, ModelOrigin, Origin, OriginError, MAX_NS,
};
use crate::sim::replay::Counters;
use crate::sim::result::RunResult;
use crate::sim::runner::{Data, OriginSpec, Prepared, RunConfig, RunError};
use crate::workload::trace;
use crate::workload::Batch;
use cluster::{ClusterClient, CmdBatch};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use resp::{digits, itoa, itoa_into, Conn, Light, RespError};
use rustc_hash::FxHashSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tiered::L1;

pub const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";
/// `maxmemory-samples` when `:samples` is not given (Redis's default).
pub const DEFAULT_SAMPLES: u64 = 5;
/// TTL given to keys under `redis-ttl` when `--ttl` is absent.
pub const DEFAULT_VOLATILE_TTL_S: f64 = 3600.0;
/// Most keys written to calibrate bytes per key.
pub const MAX_CALIBRATION_KEYS: u64 = 1_000_000;
const INSTALL_HINT: &str = "install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) or pass --redis-server-bin PATH";

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Single { host: String, port: u16, db: u32 },
    Cluster { nodes: Vec<(String, u16)> },
}

/// A parsed `redis://[[user]:password@]host[:port][/db]` or
/// `redis+cluster://[[user]:password@]host:port,host:port,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub target: Target,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl RedisUrl {
    pub const ACCEPTED: &'static str =
        "expected redis://[:PASSWORD@]HOST[:PORT][/DB] or redis+cluster://HOST:PORT,HOST:PORT,...";

    pub fn parse(url: &str) -> Result<RedisUrl, String> {
        let bad = |why: &str| format!("invalid Redis URL '{url}': {why}; {}", RedisUrl::ACCEPTED);
        let (cluster, rest) = if let Some(r) = url.strip_prefix("redis+cluster://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("redis://") {
            (false, r)
        } else {
            return Err(bad("unknown scheme"));
        };
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (user, password) = match auth {
            None => (None, None),
            Some(a) => match a.split_once(':') {
                Some((u, p)) => ((!u.is_empty()).then(|| u.to_string()), Some(p.to_string())),
                None => (None, Some(a.to_string())),
            },
        };
        let (hosts, db) = match hostpart.split_once('/') {
            Some((h, d)) if !d.is_empty() => (
                h,
                d.parse::<u32>()
                    .map_err(|_| bad(&format!("database '{d}' is not a number")))?,
            ),
            Some((h, _)) => (h, 0),
            None => (hostpart, 0),
        };
        let mut nodes = Vec::new();
        for hp in hosts.split(',') {
            let (h, p) = match hp.rsplit_once(':') {
                Some((h, p)) => (
                    h,
                    p.parse::<u16>()
                        .map_err(|_| bad(&format!("port '{p}' is not a number")))?,
                ),
                None => (hp, 6379),
            };
            if h.is_empty() {
                return Err(bad("no host"));
            }
            nodes.push((h.to_string(), p));
        }
        let target = if cluster {
            if db != 0 {
                return Err(bad("a cluster has only database 0"));
            }
            Target::Cluster { nodes }
        } else {
            if nodes.len() != 1 {
                return Err(bad("several hosts need redis+cluster://"));
            }
            let (host, port) = nodes.pop().expect("one node");
            Target::Single { host, port, db }
        };
        Ok(RedisUrl {
            target,
            user,
            password,
        })
    }

    /// The URL without the password.
    pub fn display(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        match &self.target {
            Target::Single { host, port, db } => format!("redis://{user}{host}:{port}/{db}"),
            Target::Cluster { nodes } => format!(
                "redis+cluster://{user}{}",
                nodes
                    .iter()
                    .map(|(h, p)| format!("{h}:{p}"))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    fn private(port: u16) -> RedisUrl {
        RedisUrl {
            target: Target::Single {
                host: "127.0.0.1".into(),
                port,
                db: 0,
            },
            user: None,
            password: None,
        }
    }
}

/// The Redis options of `cachesim run`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RedisOptions {
    /// `--redis-url` or `$REDIS_URL`; `None` is [`DEFAULT_URL`].
    pub url: Option<RedisUrl>,
    /// `--redis-keep`: leave the run's keys on the server.
    pub keep: bool,
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
    /// Say nothing on stderr (the private server's pid and memory limit).
    pub quiet: bool,
}

impl RedisOptions {
    pub fn url(&self) -> RedisUrl {
        self.url
            .clone()
            .unwrap_or_else(|| RedisUrl::parse(DEFAULT_URL).expect("valid default"))
    }
}

/// Which server the L2 is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L2 {
    /// The server at `--redis-url`.
    Server,
    /// A private server with this `maxmemory-policy` and samples.
    Private { policy: &'static str, samples: u64 },
}

/// An external strategy spec, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ExternalSpec {
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
pub fn parse_spec(spec: &StrategySpec) -> Result<ExternalSpec, SpecError> {
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
pub fn check_options(spec: &StrategySpec, opts: &RedisOptions) -> Result<(), String> {
    let e = parse_spec(spec).map_err(|e| e.to_string())?;
    if e.l1.is_some() && matches!(e.l2, L2::Private { .. }) && opts.l1_capacity.is_none() {
        return Err(format!(
            "strategy '{}' needs --l1-capacity (--capacity sizes its private L2)",
            e.canonical
        ));
    }
    Ok(())
}

/// Checks, before any workload is generated, that the servers the plan
/// needs are there: the shared server answers `PING` (within 2 s), and a
/// private server's binary exists.
pub fn preflight(strategies: &[StrategySpec], opts: &RedisOptions) -> Result<(), RunError> {
    let mut pinged = false;
    let mut found = false;
    for s in strategies {
        let s = &crate::sim::fleet::split_shared(s).0;
        if !crate::policy::is_external(&s.name) {
            continue;
        }
        client_threads()?;
        match parse_spec(s)?.l2 {
            L2::Server if !pinged => {
                let url = opts.url();
                let mut b = Backend::connect(&url).map_err(|e| unreachable(&url, &e))?;
                b.ping().map_err(|e| unreachable(&url, &e))?;
                pinged = true;
            }
            L2::Private { .. } if !found => {
                server_binary(opts.server_bin.as_deref(), &s.name)?;
                found = true;
            }
            _ => {}
        }
    }
    Ok(())
}

fn unreachable(url: &RedisUrl, e: &RespError) -> RunError {
    let hint = match e {
        // The server answered: a password, user or database problem.
        RespError::Server(_) => "check the user, password and database in --redis-url / $REDIS_URL",
        _ => "start a server, or point --redis-url / $REDIS_URL at one",
    };
    RunError::Redis(format!(
        "cannot use Redis at {}: {e} ({hint})",
        url.display()
    ))
}

/// One connection, or one per cluster master.
pub(super) enum Backend {
    Single(Conn),
    Cluster(ClusterClient),
}

impl Backend {
    fn connect(url: &RedisUrl) -> Result<Backend, RespError> {
        let (u, p) = (url.user.as_deref(), url.password.as_deref());
        Ok(match &url.target {
            Target::Single { host, port, db } => {
                let mut c = Conn::connect(host, *port)?;
                c.login(u, p, *db)?;
                Backend::Single(c)
            }
            Target::Cluster { nodes } => Backend::Cluster(ClusterClient::connect(nodes, u, p)?),
        })
    }

    fn ping(&mut self) -> Result<(), RespError> {
        match self {
            Backend::Single(c) => c.cmd(&["PING"]).map(|_| ()),
            Backend::Cluster(cl) => {
                for n in cl.masters() {
                    cl.conn(n).cmd(&["PING"])?;
                }
                Ok(())
            }
        }
    }

    /// Runs a batch (pipelined), one reply per command in `out`.
    #[inline]
    pub(super) fn exec<C: CmdBatch>(
        &mut self,
        cmds: &C,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        self.send(cmds, out)?;
        self.recv(cmds.len(), out)
    }

    /// Sends a batch without waiting for its replies, which [`Backend::recv`]
    /// then reads. (A cluster batch is split over masters and may be
    /// redirected, so it runs in full here, and `recv` has nothing to do.)
    #[inline]
    fn send<C: CmdBatch>(
        &mut self,
        cmds: &C,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        match self {
            Backend::Single(c) => {
                for i in 0..cmds.len() {
                    cmds.write(i, c);
                }
                c.flush()
            }
            Backend::Cluster(cl) => cl.run(cmds, out),
        }
    }

    /// Reads the `n` replies of the batch sent last into `out`.
    #[inline]
    fn recv(&mut self, n: usize, out: &mut Vec<Result<Light, RespError>>) -> Result<(), RespError> {
        match self {
            Backend::Single(c) => {
                out.clear();
                for _ in 0..n {
                    match c.read_light() {
                        Err(e) if e.is_fatal() => return Err(e),
                        r => out.push(r),
                    }
                }
                Ok(())
            }
            Backend::Cluster(_) => Ok(()),
        }
    }

    /// The sum of an `INFO` field over the server or every master.
    fn info_sum(&mut self, section: &str, field: &str) -> Result<i64, RespError> {
        match self {
            Backend::Single(c) => c.info_field(section, field),
            Backend::Cluster(cl) => {
                let mut s = 0;
                for n in cl.masters() {
                    s += cl.conn(n).info_field(section, field)?;
                }
                Ok(s)
            }
        }
    }

    /// The connections to scan: the server, or every master.
    fn conn_ids(&self) -> Vec<usize> {
        match self {
            Backend::Single(_) => vec![0],
            Backend::Cluster(cl) => cl.masters(),
        }
    }

    fn conn_at(&mut self, i: usize) -> &mut Conn {
        match self {
            Backend::Single(c) => c,
            Backend::Cluster(cl) => cl.conn(i),
        }
    }

    /// Deletes every key matching `prefix*` (SCAN + UNLINK on each master).
    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<u64, RespError> {
        self.scan_prefix(prefix, true)
    }

    /// Counts (`unlink`: deletes, counting what was deleted) every key
    /// matching `prefix*`, by SCAN on each master.
    pub(super) fn scan_prefix(&mut self, prefix: &[u8], unlink: bool) -> Result<u64, RespError> {
        let mut pattern = prefix.to_vec();
        pattern.push(b'*');
        let mut deleted = 0;
        // A key of a slot being imported is only served after `ASKING`
        // (mid-resharding); elsewhere ASKING is a no-op.
        let asking = matches!(self, Backend::Cluster(_));
        for id in self.conn_ids() {
            let c = self.conn_at(id);
            let mut cursor = b"0".to_vec();
            loop {
                let v = c.query(&[b"SCAN", &cursor, b"MATCH", &pattern, b"COUNT", b"1000"])?;
                let resp::Value::Array(mut parts) = v else {
                    return Err(RespError::Protocol("SCAN reply is not an array".into()));
                };
                let keys = match parts.pop() {
                    Some(resp::Value::Array(k)) => k,
                    _ => return Err(RespError::Protocol("SCAN reply has no keys".into())),
                };
                cursor = match parts.pop() {
                    Some(resp::Value::Bulk(b)) => b,
                    _ => return Err(RespError::Protocol("SCAN reply has no cursor".into())),
                };
                for k in keys {
                    if let resp::Value::Bulk(k) = k {
                        // Only ever keys under the run's prefix.
                        if k.starts_with(prefix) {
                            if unlink {
                                if asking {
                                    c.push(&[b"ASKING"]);
                                }
                                c.push(&[b"UNLINK", &k]);
                            } else {
                                deleted += 1;
                            }
                        }
                    }
                }
                let q = c.queued();
                c.flush()?;
                for _ in 0..q {
                    if let Light::Int(d) = c.read_light()? {
                        deleted += d as u64;
                    }
                }
                if cursor == b"0" {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}

/// What a batch command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Get,
    Set(u32),
    Del,
}

/// The keys of a batch, `prefix` + decimal key, in one buffer, each stored
/// inside its RESP-encoded `GET` (`*2\r\n$3\r\nGET\r\n$<length>\r\n<key>\r\n`):
/// a batch of gets is then the buffer as it is, one copy for the whole
/// pipeline.
pub(super) struct KeyBuf {
    /// The command up to the key's digits for keys of `d` digits, at index
    /// `d`, zero-padded to at least [`HEAD_COPY`] bytes.
    heads: Vec<Vec<u8>>,
    head_lens: Vec<usize>,
    prefix_len: usize,
    /// `buf[..len]` holds the commands; the rest is room to write ahead.
    buf: Vec<u8>,
    len: usize,
    /// Per key: where its command starts, where the key starts, where the
    /// command ends.
    spans: Vec<(usize, usize, usize)>,
}

/// A command's head is copied as this many bytes (a fixed-size copy is a
/// few vector moves, a call to `memcpy` costs more than the copy).
const HEAD_COPY: usize = 64;

impl KeyBuf {
    pub(super) fn new(prefix: &[u8]) -> KeyBuf {
        let mut heads = Vec::new();
        let mut head_lens = Vec::new();
        for d in 0..=20 {
            let mut h = format!("*2\r\n$3\r\nGET\r\n${}\r\n", prefix.len() + d).into_bytes();
            h.extend_from_slice(prefix);
            head_lens.push(h.len());
            h.resize(h.len().max(HEAD_COPY), 0);
            heads.push(h);
        }
        KeyBuf {
            heads,
            head_lens,
            prefix_len: prefix.len(),
            buf: Vec::new(),
            len: 0,
            spans: Vec::new(),
        }
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.spans.clear();
    }

    #[inline]
    pub(super) fn push(&mut self, key: Key) -> u32 {
        let n = digits(key);
        let (head, head_len) = (&self.heads[n], self.head_lens[n]);
        let start = self.len;
        let copy = head.len();
        if self.buf.len() < start + copy + 22 {
            self.buf.resize((start + copy + 22) * 2, 0);
        }
        // The head with its padding; the digits then overwrite the padding.
        if copy == HEAD_COPY {
            self.buf[start..start + HEAD_COPY].copy_from_slice(&head[..HEAD_COPY]);
        } else {
            self.buf[start..start + copy].copy_from_slice(head);
        }
        let k = start + head_len;
        itoa_into(key, &mut self.buf[k..k + n]);
        self.buf[k + n..k + n + 2].copy_from_slice(b"\r\n");
        self.len = k + n + 2;
        self.spans.push((start, k - self.prefix_len, self.len));
        (self.spans.len() - 1) as u32
    }

    /// The commands, one `GET` per key.
    fn cmds(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Key `i`.
    #[inline]
    fn get(&self, i: u32) -> &[u8] {
        let (_, k, e) = self.spans[i as usize];
        &self.buf[k..e - 2]
    }

    /// `GET` of key `i`, RESP-encoded.
    #[inline]
    fn get_cmd(&self, i: u32) -> &[u8] {
        let (s, _, e) = self.spans[i as usize];
        &self.buf[s..e]
    }
}

/// A batch of commands over a [`KeyBuf`].
pub(super) struct Ops<'a> {
    pub keys: &'a KeyBuf,
    pub items: &'a [(u32, Kind)],
    pub value: &'a [u8],
    pub px: Option<&'a [u8]>,
}

impl CmdBatch for Ops<'_> {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn key(&self, i: usize) -> &[u8] {
        self.keys.get(self.items[i].0)
    }
    #[inline]
    fn write(&self, i: usize, c: &mut Conn) {
        let (k, kind) = self.items[i];
        match kind {
            Kind::Get => c.push_encoded(self.keys.get_cmd(k), 1),
            Kind::Set(size) => {
                let key = self.keys.get(k);
                let v = &self.value[..size as usize];
                match self.px {
                    Some(px) => c.push(&[b"SET", key, v, b"PX", px]),
                    None => c.push(&[b"SET", key, v]),
                }
            }
            Kind::Del => c.push(&[b"UNLINK", self.keys.get(k)]),
        }
    }
}

/// The origin of one client.
enum AnyOrigin {
    None,
    Model(ModelOrigin),
    Pg(PostgresOrigin),
}

impl AnyOrigin {
    fn new(spec: &Option<OriginSpec>, seed: u64) -> Result<AnyOrigin, RunError> {
        Ok(match spec {
            None => AnyOrigin::None,
            Some(OriginSpec::Model(m)) => AnyOrigin::Model(ModelOrigin::new(m, seed)),
            Some(OriginSpec::Postgres(pg)) => {
                AnyOrigin::Pg(PostgresOrigin::connect(pg).map_err(RunError::Origin)?)
            }
        })
    }

    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError> {
        match self {
            AnyOrigin::None => Ok(0),
            AnyOrigin::Model(m) => m.fetch(key, size),
            AnyOrigin::Pg(p) => p.fetch(key, size),
        }
    }
}

/// What one client counted.
struct Stats {
    c: Counters,
    l1_hits: u64,
    l2_hits: u64,
    misses: Histogram<u64>,
    /// Hit latencies by tier; all hits are both (added at the end).
    l1: Histogram<u64>,
    l2: Histogram<u64>,
    origin_ns: u64,
}

impl Stats {
    fn new() -> Stats {
        Stats {
            c: Counters::default(),
            l1_hits: 0,
            l2_hits: 0,
            misses: new_histogram(),
            l1: new_histogram(),
            l2: new_histogram(),
            origin_ns: 0,
        }
    }

    fn add(&mut self, o: &Stats) {
        let (a, b) = (&mut self.c, &o.c);
        a.requests += b.requests;
        a.gets += b.gets;
        a.hits += b.hits;
        a.misses += b.misses;
        a.sets += b.sets;
        a.deletes += b.deletes;
        a.evictions += b.evictions;
        a.expirations += b.expirations;
        a.bytes_requested += b.bytes_requested;
        a.bytes_missed += b.bytes_missed;
        self.l1_hits += o.l1_hits;
        self.l2_hits += o.l2_hits;
        for (x, y) in [
            (&mut self.misses, &o.misses),
            (&mut self.l1, &o.l1),
            (&mut self.l2, &o.l2),
        ] {
            x.add(y).expect("same bounds");
        }
        self.origin_ns += o.origin_ns;
    }
}

/// Why a client stopped.
pub(super) enum Fail {
    Redis(RespError),
    Origin(OriginError),
    Run(RunError),
}

impl From<RespError> for Fail {
    fn from(e: RespError) -> Fail {
        Fail::Redis(e)
    }
}

struct Pending {
    key: Key,
    size: u32,
    time: f64,
    vtime: u64,
    kidx: u32,
}

/// Up to this many gets per pipeline a repeated key is found by scanning the
/// batch (cheaper than hashing every key); longer pipelines keep a set.
const SCAN_MAX: usize = 32;

/// What every client of a run shares.
struct Shared<'a> {
    prefix: &'a [u8],
    value_size: Option<u32>,
    px: Option<&'a [u8]>,
    pipeline: usize,
    /// What a `set` request does to the cached copy (`--on-write`).
    on_write: OnWrite,
    timed: bool,
}

/// One connection's replay state. Its counters go to its thread's [`Stats`].
///
/// Gets gather in `pending` (keys in `kb`) until the batch is full or closed
/// by a repeated key; then it is sent and becomes the batch in `flight`
/// (keys in `fkb`), whose replies [`Client::complete`] reads, counting the
/// hits and setting the misses. Alone on its thread, a client completes
/// each batch at once. When a thread drives several connections (`defer`),
/// a batch stays in flight while the client gathers the next one, and is
/// completed just before that one is sent: the server works on some
/// connections while the thread fills the others, and each key's requests
/// still reach the server in order (a miss's `SET` goes before the next
/// batch). With an L1 the in-flight batch is completed before the client's
/// next request, since that request looks at the L1 first. The misses'
/// `SET`s of a pipelined run go out with the next batch
/// ([`Client::sets_ride_along`]).
struct Client {
    be: Backend,
    origin: AnyOrigin,
    l1: Option<L1>,
    value: Vec<u8>,
    defer: bool,
    kb: KeyBuf,
    pending: Vec<Pending>,
    fkb: KeyBuf,
    flight: Vec<Pending>,
    /// When the batch in flight was sent (timed runs).
    sent_at: Option<Instant>,
    /// `SET`s of misses sent (or queued) and not yet answered: left so when
    /// they ride along with the next batch ([`Client::sets_ride_along`]),
    /// whose replies come after theirs.
    sets: usize,
    sets_at: Instant,
    /// Per miss waiting for its `SET`: its get round trip + origin time.
    set_wait: Vec<u64>,
    in_batch: FxHashSet<Key>,
    items: Vec<(u32, Kind)>,
    out: Vec<Result<Light, RespError>>,
}

#[inline]
fn ns(d: Duration) -> u64 {
    (d.as_nanos() as u64).clamp(1, MAX_NS)
}

/// The first error reply in `out` that ends the run (`-OOM` does not: the
/// value is simply not cached).
fn check(out: &[Result<Light, RespError>]) -> Result<(), RespError> {
    match out
        .iter()
        .find_map(|r| r.as_ref().err().filter(|e| !e.is_oom()))
    {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

impl Client {
    fn new(be: Backend, origin: AnyOrigin, l1: Option<L1>, value_size: u32, sh: &Shared) -> Client {
        Client {
            be,
            origin,
            l1,
            value: vec![b'x'; value_size as usize],
            defer: false,
            kb: KeyBuf::new(sh.prefix),
            pending: Vec::with_capacity(sh.pipeline),
            fkb: KeyBuf::new(sh.prefix),
            flight: Vec::with_capacity(sh.pipeline),
            sent_at: None,
            sets: 0,
            sets_at: Instant::now(),
            set_wait: Vec::new(),
            in_batch: FxHashSet::default(),
            items: Vec::new(),
            out: Vec::new(),
        }
    }

    fn ensure_value(&mut self, size: u32) {
        if self.value.len() < size as usize {
            self.value.resize(size as usize, b'x');
        }
    }

    /// Replays request `r` (the `vtime`-th of the stream).
    #[inline]
    fn request(&mut self, sh: &Shared, st: &mut Stats, r: Request, vtime: u64) -> Result<(), Fail> {
        if self.l1.is_some() && !self.flight.is_empty() {
            self.complete(sh, st)?;
        }
        let Request { key, op, time, .. } = r;
        let size = sh.value_size.unwrap_or(r.size);
        st.c.requests += 1;
        match op {
            Op::Get => {
                st.c.gets += 1;
                st.c.bytes_requested += u64::from(size);
                if let Some(l1) = &mut self.l1 {
                    let t = sh.timed.then(Instant::now);
                    if l1.get(key, size, time, vtime) {
                        st.c.hits += 1;
                        st.l1_hits += 1;
                        if let Some(t) = t {
                            let v = ns(t.elapsed());
                            st.l1.saturating_record(v);
                        }
                        return Ok(());
                    }
                }
                let repeated = if sh.pipeline <= SCAN_MAX {
                    self.pending.iter().any(|p| p.key == key)
                } else {
                    !self.in_batch.insert(key)
                };
                if repeated {
                    self.close(sh, st)?;
                    if sh.pipeline > SCAN_MAX {
                        self.in_batch.insert(key);
                    }
                }
                let kidx = self.kb.push(key);
                self.pending.push(Pending {
                    key,
                    size,
                    time,
                    vtime,
                    kidx,
                });
                if self.pending.len() >= sh.pipeline {
                    self.close(sh, st)?;
                }
            }
            Op::Set if sh.on_write == OnWrite::None => {
                // The write goes to the origin only; cached copies stay.
                st.c.sets += 1;
            }
            Op::Set | Op::Delete => {
                self.flush(sh, st)?;
                self.ensure_value(size);
                let kidx = self.kb.push(key);
                let kind = if op == Op::Set && sh.on_write == OnWrite::Update {
                    st.c.sets += 1;
                    if let Some(l1) = &mut self.l1 {
                        l1.set(key, size, time, vtime);
                    }
                    Kind::Set(size)
                } else if op == Op::Set {
                    // --on-write invalidate: the write deletes the cached copies.
                    st.c.sets += 1;
                    if let Some(l1) = &mut self.l1 {
                        l1.remove(key);
                    }
                    Kind::Del
                } else {
                    st.c.deletes += 1;
                    if let Some(l1) = &mut self.l1 {
                        l1.remove(key);
                    }
                    Kind::Del
                };
                self.items.clear();
                self.items.push((kidx, kind));
                let ops = Ops {
                    keys: &self.kb,
                    items: &self.items,
                    value: &self.value,
                    px: sh.px,
                };
                self.be.exec(&ops, &mut self.out)?;
                check(&self.out)?;
                self.kb.clear();
            }
        }
        Ok(())
    }

    /// Ends the pending batch: sends it, and either waits for it or (when
    /// deferring) leaves it in flight.
    #[inline]
    fn close(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        if !self.flight.is_empty() {
            self.complete(sh, st)?;
        }
        self.send(sh)?;
        if !self.defer {
            self.complete(sh, st)?;
        }
        Ok(())
    }

    /// Completes the batch in flight and sends and completes the pending
    /// one: nothing is left on the wire.
    fn flush(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        if !self.flight.is_empty() {
            self.complete(sh, st)?;
        }
        if !self.pending.is_empty() {
            self.send(sh)?;
            self.complete(sh, st)?;
        }
        self.sets_done(sh, st)
    }

    /// Sends the pending gets as one pipeline; they become the batch in
    /// flight. (The previous one must be complete.)
    fn send(&mut self, sh: &Shared) -> Result<(), Fail> {
        debug_assert!(self.flight.is_empty());
        std::mem::swap(&mut self.kb, &mut self.fkb);
        std::mem::swap(&mut self.pending, &mut self.flight);
        self.in_batch.clear();
        self.sent_at = sh.timed.then(Instant::now);
        if let Backend::Single(c) = &mut self.be {
            // The key buffer holds exactly the batch's gets, in order.
            debug_assert_eq!(self.fkb.spans.len(), self.flight.len());
            c.push_encoded(self.fkb.cmds(), self.flight.len());
            c.flush()?;
        } else {
            self.items.clear();
            self.items
                .extend(self.flight.iter().map(|p| (p.kidx, Kind::Get)));
            let ops = Ops {
                keys: &self.fkb,
                items: &self.items,
                value: &self.value,
                px: sh.px,
            };
            self.be.send(&ops, &mut self.out)?;
        }
        Ok(())
    }

    /// Reads the replies of the batch in flight and counts them; the misses
    /// fetch from the origin and are `SET` as a second pipeline, whose
    /// replies are awaited unless the `SET`s ride along with the next batch.
    fn complete(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        self.sets_done(sh, st)?;
        self.be.recv(self.flight.len(), &mut self.out)?;
        let get_ns = self.sent_at.map_or(0, |t| ns(t.elapsed()));
        check(&self.out)?;
        self.items.clear();
        let mut hits = 0;
        for (p, r) in self.flight.iter().zip(&self.out) {
            if matches!(r, Ok(Light::Bulk(_))) {
                hits += 1;
                if let Some(l1) = &mut self.l1 {
                    l1.admit(p.key, p.size, p.time, p.vtime);
                }
            } else {
                st.c.misses += 1;
                st.c.bytes_missed += u64::from(p.size);
                let o = self.origin.fetch(p.key, p.size).map_err(Fail::Origin)?;
                st.origin_ns += o;
                self.set_wait.push(get_ns + o);
                self.items.push((p.kidx, Kind::Set(p.size)));
            }
        }
        st.c.hits += hits;
        st.l2_hits += hits;
        if sh.timed && hits > 0 {
            // Every hit of the batch waited the same round trip.
            st.l2.saturating_record_n(get_ns, hits);
        }
        if !self.items.is_empty() {
            let max = self.items.iter().map(|(_, k)| match k {
                Kind::Set(s) => *s,
                _ => 0,
            });
            let max = max.max().unwrap_or(0);
            self.ensure_value(max);
            self.sets_at = Instant::now();
            let ops = Ops {
                keys: &self.fkb,
                items: &self.items,
                value: &self.value,
                px: sh.px,
            };
            self.sets = self.items.len();
            let ride_along = self.sets_ride_along(sh);
            match &mut self.be {
                // Queued only: they go out with the next batch's gets (or
                // when `sets_done` needs their replies).
                Backend::Single(c) if ride_along => {
                    for i in 0..ops.len() {
                        ops.write(i, c);
                    }
                }
                be => {
                    be.send(&ops, &mut self.out)?;
                    self.sets_done(sh, st)?;
                }
            }
            if let Some(l1) = &mut self.l1 {
                // (With an L1 the sets were awaited above.)
                let mut j = 0;
                for p in &self.flight {
                    if j < self.items.len() && self.items[j].0 == p.kidx {
                        l1.admit(p.key, p.size, p.time, p.vtime);
                        j += 1;
                    }
                }
            }
        }
        self.flight.clear();
        self.fkb.clear();
        Ok(())
    }

    /// Whether the misses' `SET`s go out with the next batch's gets rather
    /// than in a round trip of their own: when the run pipelines (or a
    /// thread drives several connections), on a single server, without an
    /// L1 (which admits a miss only once its `SET` is answered). One round
    /// trip fewer per batch with misses; each key's commands still reach
    /// the server in order, so the hits are the same.
    fn sets_ride_along(&self, sh: &Shared) -> bool {
        (sh.pipeline > 1 || self.defer)
            && self.l1.is_none()
            && matches!(self.be, Backend::Single(_))
    }

    /// Reads the replies of the `SET`s in flight and records their misses'
    /// latency: get round trip + origin + the round trip that carried the
    /// `SET`s.
    fn sets_done(&mut self, sh: &Shared, st: &mut Stats) -> Result<(), Fail> {
        if self.sets == 0 {
            return Ok(());
        }
        if let Backend::Single(c) = &mut self.be {
            c.flush()?;
        }
        self.be.recv(self.sets, &mut self.out)?;
        check(&self.out)?;
        let set_ns = ns(self.sets_at.elapsed());
        if sh.timed {
            for w in &self.set_wait {
                st.misses.saturating_record((w + set_ns).min(MAX_NS));
            }
        }
        self.sets = 0;
        self.set_wait.clear();
        Ok(())
    }
}

/// Environment variable: the most threads `--clients` uses.
pub const THREADS_ENV: &str = "CACHESIM_REDIS_THREADS";

/// The most threads the clients of a run use: `$CACHESIM_REDIS_THREADS`, or
/// the number of cores.
fn client_threads() -> Result<usize, RunError> {
    match std::env::var(THREADS_ENV) {
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(RunError::Workload(format!(
                "{THREADS_ENV}='{v}' is not a positive number of threads"
            ))),
        },
        Err(_) => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
    }
}

/// Writes `keys` (most popular first) to the server, least popular first so
/// that an LRU-like server keeps the most popular when they do not all fit;
/// pipelined 1000 at a time.
fn prefill_server(
    be: &mut Backend,
    prefix: &[u8],
    keys: &[(Key, u32)],
    value_size: Option<u32>,
    px: Option<&[u8]>,
) -> Result<(), RespError> {
    let largest = keys.iter().map(|k| value_size.unwrap_or(k.1)).max();
    let value = vec![b'x'; largest.unwrap_or(0) as usize];
    let mut kb = KeyBuf::new(prefix);
    let mut items = Vec::new();
    let mut out = Vec::new();
    let rev: Vec<&(Key, u32)> = keys.iter().rev().collect();
    for chunk in rev.chunks(1000) {
        kb.clear();
        items.clear();
        for &&(key, size) in chunk {
            items.push((kb.push(key), Kind::Set(value_size.unwrap_or(size))));
        }
        let ops = Ops {
            keys: &kb,
            items: &items,
            value: &value,
            px,
        };
        be.exec(&ops, &mut out)?;
        check(&out)?;
    }
    Ok(())
}

/// Which of `clients` clients serves `key`.
#[inline]
fn client_of(key: Key, clients: usize) -> usize {
    ((key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % clients as u64) as usize
}

/// How `clients` connections are spread over `threads` threads: client `c`
/// (the keys with `client_of(key, clients) == c`) is driven by thread
/// `c % threads`, as its `c / threads`-th connection.
fn thread_of(c: usize, threads: usize) -> (usize, usize) {
    (c % threads, c / threads)
}

/// Replays the requests of `data` that belong to the clients of thread `me`
/// (`local[c]`: client `c`'s index in `cls`, or `usize::MAX` for another
/// thread's client).
fn replay(
    cls: &mut [Client],
    local: &[usize],
    sh: &Shared,
    st: &mut Stats,
    data: &Data,
    pb: &ProgressBar,
) -> Result<(), Fail> {
    let clients = local.len();
    let mut run = |b: &Batch, range: std::ops::Range<usize>, base: u64| -> Result<(), Fail> {
        let mut n = 0;
        for i in range {
            let key = b.keys[i];
            let c = if clients > 1 {
                local[client_of(key, clients)]
            } else {
                0
            };
            let Some(cl) = cls.get_mut(c) else { continue };
            let r = b.request(i, base + i as u64);
            cl.request(sh, st, r, base + i as u64)?;
            n += 1;
        }
        pb.inc(n);
        Ok(())
    };
    const CHUNK: usize = 1 << 14;
    match data {
        Data::Memory(b) => {
            let mut s = 0;
            while s < b.len() {
                let e = (s + CHUNK).min(b.len());
                run(b, s..e, 0)?;
                s = e;
            }
        }
        Data::Stream { path, format, rate } => {
            let mut reader = trace::open(path, Some(*format)).map_err(|e| Fail::Run(e.into()))?;
            let mut b = Batch::new(*rate, 1);
            let mut base = 0u64;
            while reader
                .next_batch(&mut b, CHUNK)
                .map_err(|e| Fail::Run(e.into()))?
                > 0
            {
                run(&b, 0..b.len(), base)?;
                base += b.len() as u64;
            }
        }
    }
    for cl in cls.iter_mut() {
        cl.flush(sh, st)?;
    }
    Ok(())
}

static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A run id unique on this machine: pid, time, counter.
fn run_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros())
        .unwrap_or(0);
    format!(
        "{}-{:x}-{}",
        std::process::id(),
        t,
        RUN_COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Finds the `redis-server` binary: `--redis-server-bin`, or on `PATH`.
pub fn server_binary(given: Option<&Path>, strategy: &str) -> Result<PathBuf, RunError> {
    if let Some(p) = given {
        if p.is_file() {
            return Ok(p.to_path_buf());
        }
        return Err(RunError::Redis(format!(
            "strategy '{strategy}' starts a private redis-server, but --redis-server-bin '{}' does not exist; {INSTALL_HINT}",
            p.display()
        )));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let p = dir.join("redis-server");
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(RunError::Redis(format!(
        "strategy '{strategy}' starts a private redis-server, but none is on PATH; {INSTALL_HINT}"
    )))
}

/// A private `redis-server` on a free loopback port, no persistence, gone
/// when this guard is dropped (on success, on error, on panic unwinding).
///
/// It runs under a small `sh` watchdog whose stdin is a pipe from cachesim:
/// when cachesim exits for any reason (even `SIGKILL`) the pipe closes, the
/// watchdog's `read` returns and it kills the server. On Ctrl-C the terminal
/// sends `SIGINT` to the whole process group, which Redis handles as a
/// shutdown. The server's log and working directory are a temporary
/// directory, removed on drop (or by the watchdog once the server is gone).
pub struct PrivateServer {
    sh: Child,
    stdin: Option<ChildStdin>,
    pub pid: u32,
    pub port: u16,
    dir: PathBuf,
}

const WATCHDOG: &str = r#"bin=$1; shift
"$bin" "$@" </dev/null >/dev/null 2>>"$CACHESIM_REDIS_LOG" &
r=$!
echo "$r"
read _ignored
kill "$r" 2>/dev/null
wait "$r"
case "$CACHESIM_REDIS_DIR" in */cachesim-redis-*) rm -rf "$CACHESIM_REDIS_DIR" ;; esac
"#;

fn free_port() -> std::io::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// Whether process `pid` has exited (gone or a zombie), on Linux.
fn exited(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s
            .rsplit_once(')')
            .map(|(_, rest)| rest.trim_start().starts_with('Z'))
            .unwrap_or(false),
        Err(_) => Path::new("/proc/self").exists(),
    }
}

impl PrivateServer {
    pub fn start(bin: &Path, policy: &str, samples: u64) -> Result<PrivateServer, RunError> {
        let mut last = String::new();
        for _attempt in 0..5 {
            let dir = std::env::temp_dir().join(format!("cachesim-redis-{}", run_id()));
            std::fs::create_dir_all(&dir)
                .map_err(|e| RunError::Redis(format!("cannot create {}: {e}", dir.display())))?;
            let log = dir.join("redis.log");
            let port = free_port()
                .map_err(|e| RunError::Redis(format!("cannot find a free port: {e}")))?;
            let port_s = port.to_string();
            let samples_s = samples.to_string();
            let args: [&str; 22] = [
                "--bind",
                "127.0.0.1",
                "--port",
                &port_s,
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxmemory-policy",
                policy,
                "--maxmemory-samples",
                &samples_s,
                "--daemonize",
                "no",
                "--dir",
                dir.to_str().unwrap_or("."),
                "--logfile",
                log.to_str().unwrap_or(""),
                "--maxmemory",
                "0",
                "--protected-mode",
                "yes",
            ];
            let mut sh = Command::new("sh")
                .arg("-c")
                .arg(WATCHDOG)
                .arg("sh")
                .arg(bin)
                .args(args)
                .env("CACHESIM_REDIS_LOG", &log)
                .env("CACHESIM_REDIS_DIR", &dir)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| RunError::Redis(format!("cannot start sh for redis-server: {e}")))?;
            let stdin = sh.stdin.take();
            let mut line = String::new();
            if let Some(out) = sh.stdout.take() {
                BufReader::new(out).read_line(&mut line).ok();
            }
            let pid: u32 = line.trim().parse().unwrap_or(0);
            let mut server = PrivateServer {
                sh,
                stdin,
                pid,
                port,
                dir,
            };
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                if let Ok(mut c) = Conn::connect("127.0.0.1", port) {
                    if c.cmd(&["PING"]).is_ok() {
                        return Ok(server);
                    }
                }
                if pid == 0 || exited(pid) || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            last = std::fs::read_to_string(server.dir.join("redis.log")).unwrap_or_default();
            let in_use = last.contains("Address already in use");
            server.stop();
            if !in_use {
                break;
            }
        }
        let tail: Vec<&str> = last.lines().rev().take(5).collect();
        Err(RunError::Redis(format!(
            "the private redis-server ({}) did not start: {}",
            bin.display(),
            tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
        )))
    }

    fn stop(&mut self) {
        drop(self.stdin.take());
        let _ = self.sh.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Bytes per key of this run's keys and values on the (empty) private
/// server behind `c`: writes `n` keys (`SET` with the run's value sizes and
/// TTL, in pipelines of 50 so the connection's query buffer does not grow),
/// reads `used_memory` from `INFO memory` before and after, divides the
/// difference by `n`, and deletes the keys again. With `n` = the capacity (up
/// to [`MAX_CALIBRATION_KEYS`]) the hash table's size at that count is part
/// of the figure. Returns (used_memory before, bytes per key).
pub fn calibrate(
    c: &mut Conn,
    prefix: &[u8],
    keys: &[(Key, u32)],
    px: Option<&[u8]>,
) -> Result<(i64, f64), RespError> {
    let before = c.info_field("memory", "used_memory")?;
    let max = keys.iter().map(|k| k.1).max().unwrap_or(0) as usize;
    let value = vec![b'x'; max];
    let mut kb = KeyBuf::new(prefix);
    let mut items = Vec::new();
    for chunk in keys.chunks(50) {
        kb.clear();
        items.clear();
        for &(k, s) in chunk {
            let i = kb.push(k);
            items.push((i, Kind::Set(s)));
        }
        let ops = Ops {
            keys: &kb,
            items: &items,
            value: &value,
            px,
        };
        for i in 0..ops.len() {
            ops.write(i, c);
        }
        c.flush()?;
        for _ in 0..ops.len() {
            c.read_light()?;
        }
    }
    let after = c.info_field("memory", "used_memory")?;
    for chunk in keys.chunks(1000) {
        let mut d = [0u8; 20];
        for &(k, _) in chunk {
            let mut key = prefix.to_vec();
            key.extend_from_slice(itoa(k, &mut d));
            c.push(&[b"DEL", &key]);
        }
        let q = c.queued();
        c.flush()?;
        for _ in 0..q {
            c.read_light()?;
        }
    }
    let per_key = (after - before).max(1) as f64 / keys.len().max(1) as f64;
    Ok((before, per_key))
}

/// Up to `n` distinct keys of the workload with their sizes, padded with
/// synthetic keys (from `u64::MAX` down) when the workload has fewer.
fn sample_keys(data: &Data, n: u64, value_size: Option<u32>, unit: u32) -> Vec<(Key, u32)> {
    let mut seen = FxHashSet::default();
    let mut out = Vec::new();
    if let Data::Memory(b) = data {
        for i in 0..b.len() {
            if out.len() as u64 >= n {
                break;
            }
            let r = b.request(i, i as u64);
            if seen.insert(r.key) {
                out.push((r.key, value_size.unwrap_or(r.size)));
            }
        }
    }
    let mut k = u64::MAX;
    while (out.len() as u64) < n {
        if seen.insert(k) {
            out.push((k, value_size.unwrap_or(unit)));
        }
        k -= 1;
    }
    out
}

/// Runs one external strategy: the branch of [`crate::sim::runner::run_one`]
/// for `redis*` and `tiered:*`.
pub fn run_one(
    w: &Prepared,
    cfg: &RunConfig,
    pb: &ProgressBar,
) -> Result<(RunResult, Option<Histogram<u64>>), RunError> {
    let spec = parse_spec(&cfg.strategy)?;
    let opts = &cfg.redis;
    // A fleet of instances shares the server (see `fleet_cache`): a
    // private one holds K x capacity, as K local caches would.
    let fleet = cfg.fleet.as_ref();
    let per_server = match (fleet, &spec.l1) {
        (Some(f), None) => f.instances.max(1) as u64,
        _ => 1,
    };
    let label = format!("{} c={}", spec.canonical, cfg.capacity.label());
    let broken = |e: String| RunError::Redis(format!("run {label} on {} failed: {e}", w.label));
    let ttl = match (&spec.l2, cfg.ttl) {
        (_, Some(t)) => Some(t),
        (L2::Private { policy, .. }, None) if *policy == "volatile-ttl" => {
            Some(DEFAULT_VOLATILE_TTL_S)
        }
        _ => None,
    };
    let px: Option<Vec<u8>> = ttl.map(|t| {
        ((t * 1000.0).round().max(1.0) as u64)
            .to_string()
            .into_bytes()
    });
    let run = run_id();
    let prefix = format!("cachesim:{run}:").into_bytes();
    let unit = match &w.data {
        Data::Memory(b) => b.unit_size,
        Data::Stream { .. } => 1,
    };

    // The L2: the shared server, or a private one sized from the capacity.
    let mut server = None;
    let (url, l2_capacity) = match &spec.l2 {
        L2::Server => (opts.url(), None),
        L2::Private { policy, samples } => {
            let bin = server_binary(opts.server_bin.as_deref(), &cfg.strategy.name)?;
            let s = PrivateServer::start(&bin, policy, *samples)?;
            let url = RedisUrl::private(s.port);
            let mut c = Conn::connect("127.0.0.1", s.port).map_err(|e| broken(e.to_string()))?;
            let cap = cfg.capacity;
            let resolved = cap.resolve(w.distinct);
            let per_key = match cap.kind() {
                CapacityKind::Bytes => None,
                CapacityKind::Objects => {
                    let n = (resolved * per_server).min(MAX_CALIBRATION_KEYS);
                    let keys = sample_keys(&w.data, n, opts.value_size, unit);
                    let (_, per_key) = calibrate(&mut c, &prefix, &keys, px.as_deref())
                        .map_err(|e| broken(e.to_string()))?;
                    Some((per_key, n))
                }
            };
            server = Some(s);
            (url, Some((resolved, cap, per_key)))
        }
    };

    // The L1 of a tiered run.
    let l1_cap = match (&spec.l1, &spec.l2) {
        (None, _) => None,
        (Some(_), L2::Server) => Some(opts.l1_capacity.unwrap_or(cfg.capacity)),
        (Some(_), L2::Private { .. }) => Some(opts.l1_capacity.ok_or_else(|| {
            RunError::Workload(format!(
                "strategy '{}' needs --l1-capacity (--capacity sizes the private L2)",
                spec.canonical
            ))
        })?),
    };

    pb.set_message(format!("{} {label}", w.label));
    let mut before = Backend::connect(&url).map_err(|e| unreachable(&url, &e))?;
    let evicted0 = before.info_sum("stats", "evicted_keys").unwrap_or(0);
    let expired0 = before.info_sum("stats", "expired_keys").unwrap_or(0);

    // Every client's connection is open before a private server's memory
    // limit is set, so the baseline includes their buffers (~20-40 KB each).
    let clients = if fleet.is_some() {
        1
    } else {
        opts.clients.max(1)
    };
    let mut backends = Vec::with_capacity(clients);
    for _ in 0..clients {
        let mut b = Backend::connect(&url).map_err(|e| unreachable(&url, &e))?;
        b.ping().map_err(|e| unreachable(&url, &e))?;
        backends.push(b);
    }
    // A count capacity's limit starts at used_memory with every connection
    // open + capacity x bytes per key. Redis counts its clients' buffers in
    // used_memory and resizes them as it goes (10-40 KB each, as much as
    // hundreds of small keys), so a monitor then trims the limit every 100 ms
    // once the server is full, by half of (capacity - resident keys) x
    // bytes per key, keeping the resident keys at the capacity.
    let mut sizing = None;
    if let (Some(s), Some((resolved, _, per_key))) = (&server, &l2_capacity) {
        let resolved = &(resolved * per_server);
        let (maxmemory, note) = match per_key {
            None => (*resolved, String::new()),
            Some((per_key, n)) => {
                let monitor =
                    Conn::connect("127.0.0.1", s.port).map_err(|e| broken(e.to_string()))?;
                let base = before
                    .info_sum("memory", "used_memory")
                    .map_err(|e| broken(e.to_string()))?;
                let limit = (base as f64 + *resolved as f64 * per_key).round() as i64;
                sizing = Some((monitor, limit, *resolved as i64, *per_key));
                (
                    limit as u64,
                    format!(
                        " at start ({per_key:.1} bytes/key calibrated on {n} keys, baseline {base} bytes)"
                    ),
                )
            }
        };
        before
            .conn_at(0)
            .cmd(&["CONFIG", "SET", "maxmemory", &maxmemory.to_string()])
            .map_err(|e| broken(e.to_string()))?;
        if !opts.quiet {
            pb.suspend(|| {
                eprintln!(
                    "{}: private redis-server pid {} on 127.0.0.1:{}, maxmemory {maxmemory} bytes{note}",
                    spec.canonical, s.pid, s.port
                )
            });
        }
    }

    // Each thread drives its share of the connections (see `replay`).
    let threads = clients.min(client_threads()?);
    let sh = Shared {
        prefix: &prefix,
        value_size: opts.value_size,
        px: px.as_deref(),
        pipeline: opts.pipeline.max(1),
        on_write: cfg.fresh.opts.on_write,
        timed: cfg.latency.is_some(),
    };
    // `--prefill top:K`: the K most popular keys go into Redis before the
    // clock starts (a fleet fills its caches itself, see `redis_fleet`).
    let prefill = cfg.fresh.prefill_keys.as_deref().map(|k| k.as_slice());
    if let (Some(keys), None) = (prefill, fleet) {
        prefill_server(&mut before, &prefix, keys, opts.value_size, px.as_deref())
            .map_err(|e| broken(format!("prefill: {e}")))?;
    }
    let start = Instant::now();
    let done = AtomicBool::new(false);
    let fleet_out = std::sync::OnceLock::new();
    let results: Vec<Result<Stats, Fail>> = std::thread::scope(|scope| {
        if let Some((mut monitor, mut limit, cap, per_key)) = sizing.take() {
            let done = &done;
            scope.spawn(move || {
                let mut evicted = 0;
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    let (Ok(resp::Value::Int(n)), Ok(e), Ok(used)) = (
                        monitor.cmd(&["DBSIZE"]),
                        monitor.info_field("stats", "evicted_keys"),
                        monitor.info_field("memory", "used_memory"),
                    ) else {
                        return;
                    };
                    // At the limit: evicting, refusing writes, or over capacity.
                    let full = e > evicted || used >= limit || n > cap;
                    evicted = e;
                    // Half the gap per step: the clients' buffers move too.
                    let step = ((cap - n) as f64 * per_key / 2.0).round() as i64;
                    if full && step != 0 {
                        limit = (limit + step).max(1);
                        let v = limit.to_string();
                        if monitor.cmd(&["CONFIG", "SET", "maxmemory", &v]).is_err() {
                            return;
                        }
                    }
                }
            });
        }
        if let Some(fc) = fleet {
            let be = backends.pop().expect("one connection");
            let cache =
                fleet_cache::RedisCache::new(be, prefix.clone(), opts.value_size, px.clone());
            let (units, bytes) = match &l2_capacity {
                Some((resolved, cap, _)) => {
                    (resolved * per_server, cap.kind() == CapacityKind::Bytes)
                }
                None => (u64::MAX, false),
            };
            let l1 = spec.l1.as_ref().zip(l1_cap);
            let r = fleet_cache::replay(w, cfg, fc, cache, units, bytes, l1, pb).map(|o| {
                let mut st = Stats::new();
                st.c = o.total;
                if l1.is_some() {
                    st.l1_hits = o.l1_hits;
                    st.l2_hits = o.l2_hits;
                } else {
                    st.l2_hits = o.total.hits;
                }
                let _ = fleet_out.set(o);
                st
            });
            done.store(true, Ordering::Relaxed);
            return vec![r];
        }
        let mut per_thread: Vec<Vec<(usize, Backend)>> = (0..threads).map(|_| Vec::new()).collect();
        for (c, be) in backends.into_iter().enumerate() {
            per_thread[thread_of(c, threads).0].push((c, be));
        }
        let handles: Vec<_> = per_thread
            .into_iter()
            .enumerate()
            .map(|(me, bes)| {
                let (sh, spec) = (&sh, &spec);
                scope.spawn(move || -> Result<Stats, Fail> {
                    let defer = bes.len() > 1;
                    let mut cls = Vec::with_capacity(bes.len());
                    for (c, be) in bes {
                        let origin = AnyOrigin::new(&cfg.latency, cfg.seed.wrapping_add(c as u64))
                            .map_err(Fail::Run)?;
                        let mut l1 = match (&spec.l1, l1_cap) {
                            (Some(local), Some(cap)) => Some(
                                L1::new(local, cap, w.distinct, cfg.seed, cfg.ttl)
                                    .map_err(|e| Fail::Run(e.into()))?,
                            ),
                            _ => None,
                        };
                        if let (Some(l1), Some(keys)) = (&mut l1, prefill) {
                            // This connection's share of the top keys.
                            let mine: Vec<(Key, u32)> = keys
                                .iter()
                                .filter(|k| clients == 1 || client_of(k.0, clients) == c)
                                .copied()
                                .collect();
                            l1.prefill(&mine);
                        }
                        let value = opts.value_size.unwrap_or(unit);
                        let mut cl = Client::new(be, origin, l1, value, sh);
                        cl.defer = defer;
                        cls.push(cl);
                    }
                    let local: Vec<usize> = (0..clients)
                        .map(|c| match thread_of(c, threads) {
                            (t, i) if t == me => i,
                            _ => usize::MAX,
                        })
                        .collect();
                    let mut st = Stats::new();
                    replay(&mut cls, &local, sh, &mut st, &w.data, pb)?;
                    for l1 in cls.iter().filter_map(|cl| cl.l1.as_ref()) {
                        st.c.evictions += l1.ev.evicted;
                        st.c.expirations += l1.ev.expired;
                    }
                    Ok(st)
                })
            })
            .collect();
        let r = handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(Fail::Run(RunError::Redis(
                        "a client thread panicked".into(),
                    )))
                })
            })
            .collect();
        done.store(true, Ordering::Relaxed);
        r
    });
    let elapsed = start.elapsed().as_secs_f64();

    let mut st = Stats::new();
    let mut fail = None;
    for r in results {
        match r {
            Ok(s) => st.add(&s),
            Err(f) => {
                fail.get_or_insert(f);
            }
        }
    }
    let server_evicted = before
        .info_sum("stats", "evicted_keys")
        .map(|v| v - evicted0);
    let server_expired = before
        .info_sum("stats", "expired_keys")
        .map(|v| v - expired0);
    if let (Some(_), Some((resolved, cap, _)), false, None) =
        (&server, &l2_capacity, opts.quiet, &fail)
    {
        if let Ok(resp::Value::Int(n)) = before.conn_at(0).cmd(&["DBSIZE"]) {
            pb.suspend(|| {
                eprintln!(
                    "{}: {n} keys resident at the end (capacity {} = {resolved})",
                    spec.canonical,
                    cap.label()
                )
            });
        }
    }

    // Clean up the run's keys on a shared server (a private one just goes).
    if server.is_none() && !opts.keep {
        let cleaned = Backend::connect(&url).and_then(|mut b| b.delete_prefix(&prefix));
        if let (Err(e), None) = (&cleaned, &fail) {
            return Err(broken(format!(
                "cannot delete the run's keys ({}*): {e}",
                String::from_utf8_lossy(&prefix)
            )));
        }
    }
    drop(server);
    if let Some(f) = fail {
        return Err(match f {
            Fail::Redis(e) => broken(format!("Redis at {}: {e}", url.display())),
            Fail::Origin(e) => RunError::Origin(e.0),
            Fail::Run(e) => e,
        });
    }
    st.c.evictions += server_evicted.unwrap_or(0).max(0) as u64;
    st.c.expirations += server_expired.unwrap_or(0).max(0) as u64;

    let c = st.c;
    // No latency is recorded for fleets (as for in-process ones).
    let timed = cfg.latency.is_some() && fleet.is_none();
    let lat = timed.then(|| {
        let mut hits = st.l1.clone();
        hits.add(&st.l2).expect("same bounds");
        let mut overall = hits.clone();
        overall.add(&st.misses).expect("same bounds");
        (LatencySummary::of(&overall, &hits, &st.misses), overall)
    });
    let s = lat.as_ref().map(|l| l.0);
    let q = |h: &Histogram<u64>, p: f64| {
        (timed && !h.is_empty()).then(|| h.value_at_quantile(p) as f64 / 1000.0)
    };
    let (capacity, kind, cap_spec) = match (&l1_cap, &l2_capacity) {
        (Some(l1), _) => (
            l1.resolve(w.distinct),
            l1.kind(),
            match l2_capacity {
                Some((_, l2, _)) => format!("l1={}+l2={}", l1.label(), l2.label()),
                None => format!("l1={}+server", l1.label()),
            },
        ),
        (None, Some((resolved, cap, _))) => (*resolved, cap.kind(), cap.label()),
        (None, None) => (0, CapacityKind::Bytes, "server".to_string()),
    };
    let base = crate::sim::runner::base_result(
        w,
        spec.canonical.clone(),
        (capacity, kind, cap_spec),
        &c,
        elapsed,
        cfg,
        s,
    );
    let base = match (fleet, fleet_out.get()) {
        (Some(fc), Some(o)) => {
            crate::sim::fleet::fleet_columns(base, Some(fc), o.memory_objects, &o.stale(), c.gets)
        }
        _ => base,
    };
    let result = RunResult {
        origin_time_s: timed.then(|| st.origin_ns as f64 / 1e9),
        l1_hits: st.l1_hits,
        l2_hits: st.l2_hits,
        l1_hit_p50_us: q(&st.l1, 0.5),
        l1_hit_p99_us: q(&st.l1, 0.99),
        l2_hit_p50_us: q(&st.l2, 0.5),
        l2_hit_p99_us: q(&st.l2, 0.99),
        ..base
    };
    Ok((result, lat.map(|l| l.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = RedisUrl::parse("redis://:pw@db.local:6380/9").unwrap();
        assert_eq!(
            u.target,
            Target::Single {
                host: "db.local".into(),
                port: 6380,
                db: 9
            }
        );
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (None, Some("pw"))
        );
        assert_eq!(u.display(), "redis://db.local:6380/9");
        let u = RedisUrl::parse("redis://127.0.0.1").unwrap();
        assert_eq!(u.display(), "redis://127.0.0.1:6379/0");
        let u = RedisUrl::parse("redis+cluster://127.0.0.1:7000,127.0.0.1:7001").unwrap();
        assert_eq!(
            u.target,
            Target::Cluster {
                nodes: vec![("127.0.0.1".into(), 7000), ("127.0.0.1".into(), 7001)]
            }
        );
        for bad in [
            "http://x",
            "redis://h:port/0",
            "redis://h/x",
            "redis://a:1,b:2",
            "redis+cluster://a:1/3",
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("redis://"), "{e}");
        }
    }

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

    #[test]
    fn keys_carry_the_prefix_and_clients_split_keys() {
        let mut kb = KeyBuf::new(b"cachesim:r:");
        assert_eq!(kb.push(42), 0);
        assert_eq!(kb.push(7), 1);
        assert_eq!(kb.push(u64::MAX), 2);
        assert_eq!(kb.get(0), b"cachesim:r:42");
        assert_eq!(kb.get(1), b"cachesim:r:7");
        assert_eq!(kb.get(2), b"cachesim:r:18446744073709551615");
        assert_eq!(kb.get_cmd(1), b"*2\r\n$3\r\nGET\r\n$12\r\ncachesim:r:7\r\n");
        // The buffer is the batch's pipeline of GETs.
        let mut pipeline = String::new();
        for k in [42u64, 7, u64::MAX] {
            let key = format!("cachesim:r:{k}");
            pipeline += &format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len());
        }
        assert_eq!(kb.cmds(), pipeline.as_bytes());
        let mut per = [0u32; 4];
        for k in 0..4000u64 {
            per[client_of(k, 4)] += 1;
        }
        assert!(per.iter().all(|&n| n > 800), "{per:?}");
    }
}
