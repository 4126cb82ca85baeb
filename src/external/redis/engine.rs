//! One Redis run from start to end, as the steps it takes: resolve the spec
//! and options, start and size the server, connect, prefill, replay over the
//! clients, collect the counts, clean up, build the result. [`run_one`] is
//! the list of steps; each step is a function below it.

use super::backend::Backend;
use super::batch::{check, KeyBuf, Kind, Ops};
use super::calibration::{calibrate, client_memory, sample_keys, Trimmer, MAX_CALIBRATION_KEYS};
use super::client::{AnyOrigin, Client, Fail, Shared, Stats};
use super::fleet_cache;
use super::kv::RedisKv;
use super::replay::replay;
use super::resp::{self, Conn, RespError};
use super::server::{run_id, server_binary, PrivateServer};
use super::spec::{
    parse_spec, runs, ExternalSpec, RedisOptions, DEFAULT_KEY_TTL_S, DEFAULT_VOLATILE_TTL_S, L2,
    STRATEGIES,
};
use super::tiered::L1;
use super::url::RedisUrl;
use crate::external::clients::{client_of, client_threads, thread_of};
use crate::external::remote::{self, Remote};
use crate::policy::{SpecError, StrategyInfo, StrategySpec};
use crate::request::Key;
use crate::sim::backend::{Engine, EngineRun};
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::fleet::{fleet_columns, FleetConfig, FleetCounters};
use crate::sim::latency::LatencySummary;
use crate::sim::phases::FreshOptions;
use crate::sim::result::RunResult;
use crate::sim::runner::{base_result, named_origin_error, Data, Prepared, RunConfig, RunError};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The Redis strategies as the runner sees them: an [`Engine`] registered
/// by the command (`cmd::engines`) with the run's Redis options.
pub(crate) struct RedisEngine {
    opts: RedisOptions,
}

impl RedisEngine {
    pub(crate) fn new(opts: RedisOptions) -> RedisEngine {
        RedisEngine { opts }
    }
}

impl Engine for RedisEngine {
    fn strategies(&self) -> &'static [StrategyInfo] {
        STRATEGIES
    }

    fn runs(&self, spec: &StrategySpec) -> bool {
        runs(&spec.name)
    }

    fn validate(&self, spec: &StrategySpec) -> Result<String, SpecError> {
        parse_spec(spec).map(|e| e.canonical)
    }

    fn preflight(&self, specs: &[StrategySpec]) -> Result<(), RunError> {
        preflight(specs, &self.opts)
    }

    fn run(&self, w: &Prepared, cfg: &RunConfig, pb: &ProgressBar) -> Result<EngineRun, RunError> {
        run_one(w, cfg, &self.opts, pb)
    }
}

/// Whether a run goes through the simulator's loop with the server as its
/// cache (`external::remote`) rather than the Redis replay of `client.rs`:
/// with `--warmup`, `--window` or `--restart-every`, which the replay does
/// not cut its stream for. Only `redis` and `redis-*` (with a byte
/// capacity) on one connection take it; `cmd::run` refuses the rest.
pub(crate) fn in_loop(f: &FreshOptions) -> bool {
    f.warmup.is_some() || f.window.is_some() || f.restart.is_some()
}

/// Checks, before any workload is generated, that the servers the plan
/// needs are there: the shared server answers `PING` (within 2 s), and a
/// private server's binary exists. `strategies` are Redis specs (the sweep
/// hands an engine its own, `shared:` already taken off).
pub(crate) fn preflight(strategies: &[StrategySpec], opts: &RedisOptions) -> Result<(), RunError> {
    let mut pinged = false;
    let mut found = false;
    for s in strategies {
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
    RunError::Backend(format!(
        "cannot use Redis at {}: {e} ({hint})",
        url.display()
    ))
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
            items.push((kb.push(key), Kind::Set(value_size.unwrap_or(size), 0)));
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

/// Runs one Redis strategy (`redis*`, `tiered:*`) with `opts`: what the
/// [`RedisEngine`] does for the runner.
pub(crate) fn run_one(
    w: &Prepared,
    cfg: &RunConfig,
    opts: &RedisOptions,
    pb: &ProgressBar,
) -> Result<EngineRun, RunError> {
    let run = Run::resolve(w, cfg, opts)?;
    if in_loop(&cfg.fresh.opts) {
        return run.through_loop(pb);
    }
    let mut l2 = run.start_l2()?;
    let l1_cap = run.l1_capacity()?;
    pb.set_message(format!("{} {}", w.label, run.label));
    let mut conns = run.connect(&l2.url)?;
    let trimmer = run.size_private(&l2, &mut conns.admin, pb)?;
    // Each thread drives its share of the connections (see `replay`).
    let clients = conns.clients.len();
    let fanout = Fanout {
        clients,
        threads: clients.min(client_threads()?),
        l1_cap,
    };
    let sh = run.shared();
    run.prefill(&mut conns.admin)?;
    let backends = std::mem::take(&mut conns.clients);
    let replayed = run.replay_all(backends, fanout, &l2, trimmer, &sh, pb);
    let (mut st, fail) = collect(replayed.results);
    let (evicted, expired) = conns.server_counts();
    run.report_resident(&l2, &mut conns.admin, fail.is_some(), pb);
    run.clean_up(&l2, fail.is_some())?;
    // A private server goes now.
    drop(l2.private.take());
    if let Some(f) = fail {
        return Err(run.failure(f, &l2.url));
    }
    st.c.evictions += evicted;
    st.c.expirations += expired;
    run.warn_refused((st.sets_refused, st.sets_sent), &l2.url, pb);
    let (row, h) = run.result(&st, replayed.elapsed, l1_cap, &l2, replayed.fleet.as_ref());
    Ok((row, h, Vec::new()))
}

/// What a run resolved from its spec and options before it touches a server.
struct Run<'a> {
    w: &'a Prepared,
    cfg: &'a RunConfig,
    opts: &'a RedisOptions,
    spec: ExternalSpec,
    /// The fleet the run replays over (see `fleet_cache`).
    fleet: Option<&'a FleetConfig>,
    /// How many `--capacity`s a private server holds: K for a fleet of K
    /// instances sharing it, as K local caches would.
    per_server: u64,
    /// `strategy c=capacity`, for messages.
    label: String,
    /// The `PX` of every `SET`.
    px: Option<Vec<u8>>,
    /// `cachesim:<run id>:`, the prefix of the run's keys.
    prefix: Vec<u8>,
    /// A request's size when the workload has none.
    unit: u32,
}

/// The L2 of a run: the shared server, or a private one sized from the
/// capacity.
struct L2Server {
    url: RedisUrl,
    /// The private server (stopped when dropped).
    private: Option<PrivateServer>,
    /// The private server's capacity.
    size: Option<L2Size>,
}

struct L2Size {
    /// The capacity resolved against the workload (one instance's share).
    resolved: u64,
    cap: Capacity,
    /// A capacity in objects: bytes per key, and the keys it was measured on.
    per_key: Option<(f64, u64)>,
}

/// The connections of a run, all open before a private server's memory
/// limit is set, so the baseline includes their buffers (~20-40 KB each).
struct Conns {
    /// Reads the server's counters, sets its limit, prefills it.
    admin: Backend,
    /// One per client (one for a fleet).
    clients: Vec<Backend>,
    /// The server's evicted and expired keys when the run connected.
    evicted0: i64,
    expired0: i64,
}

impl Conns {
    /// The keys the server evicted and expired since the run connected.
    fn server_counts(&mut self) -> (u64, u64) {
        let since = |now: Result<i64, RespError>, then: i64| {
            now.map(|v| v - then).unwrap_or(0).max(0) as u64
        };
        let evicted = self.admin.info_sum("stats", "evicted_keys");
        let evicted = since(evicted, self.evicted0);
        let expired = self.admin.info_sum("stats", "expired_keys");
        (evicted, since(expired, self.expired0))
    }
}

/// How the replay is spread: `clients` connections over `threads` threads,
/// each client with an L1 of `l1_cap` in a tiered run.
#[derive(Clone, Copy)]
struct Fanout {
    clients: usize,
    threads: usize,
    l1_cap: Option<Capacity>,
}

/// What the replay left: each thread's counts (or why it stopped), the
/// wall time, and a fleet's counters.
struct Replayed {
    results: Vec<Result<Stats, Fail>>,
    elapsed: f64,
    fleet: Option<FleetCounters>,
}

impl<'a> Run<'a> {
    /// Checks the spec and works out what the run needs from it.
    fn resolve(
        w: &'a Prepared,
        cfg: &'a RunConfig,
        opts: &'a RedisOptions,
    ) -> Result<Run<'a>, RunError> {
        let spec = parse_spec(&cfg.strategy)?;
        let fleet = cfg.fleet.as_ref();
        let per_server = match (fleet, &spec.l1) {
            (Some(f), None) => f.instances.max(1) as u64,
            _ => 1,
        };
        let label = format!("{} c={}", spec.canonical, cfg.capacity.label());
        let px = px(&spec.l2, cfg.ttl, opts.key_ttl.unwrap_or(DEFAULT_KEY_TTL_S));
        let prefix = format!("cachesim:{}:", run_id()).into_bytes();
        let unit = match &w.data {
            Data::Memory(b) => b.unit_size,
            Data::Stream { .. } => 1,
            Data::Generated { preset, .. } => preset.size.unwrap_or(1),
        };
        Ok(Run {
            w,
            cfg,
            opts,
            spec,
            fleet,
            per_server,
            label,
            px,
            prefix,
            unit,
        })
    }

    /// The error of a run that broke, naming the run.
    fn broken(&self, e: String) -> RunError {
        let w = &self.w.label;
        RunError::Backend(format!("run {} on {w} failed: {e}", self.label))
    }

    /// An origin's error naming the run, as [`Run::broken`] does.
    fn origin_broken(&self, e: RunError) -> RunError {
        let (name, cap) = (&self.spec.canonical, &self.cfg.capacity);
        named_origin_error(e, name, cap, &self.w.label)
    }

    /// Starts a private server (sized in [`Run::size_private`] once the
    /// clients are connected), or takes the shared one.
    fn start_l2(&self) -> Result<L2Server, RunError> {
        let L2::Private { policy, samples } = &self.spec.l2 else {
            return Ok(L2Server {
                url: self.opts.url(),
                private: None,
                size: None,
            });
        };
        let bin = server_binary(self.opts.server_bin.as_deref(), &self.cfg.strategy.name)?;
        let s = PrivateServer::start(&bin, policy, *samples)?;
        let url = RedisUrl::private(s.port);
        let c = Conn::connect("127.0.0.1", s.port).map_err(|e| self.broken(e.to_string()))?;
        let cap = self.cfg.capacity;
        let resolved = cap.resolve(self.w.distinct);
        let per_key = match cap.kind() {
            CapacityKind::Bytes => None,
            CapacityKind::Objects => Some(self.calibrate(c, resolved)?),
        };
        Ok(L2Server {
            url,
            private: Some(s),
            size: Some(L2Size {
                resolved,
                cap,
                per_key,
            }),
        })
    }

    /// Bytes per key on the private server behind `c`, measured on as many
    /// of the workload's keys as the server will hold (see [`calibrate`]),
    /// and that number of keys.
    fn calibrate(&self, mut c: Conn, resolved: u64) -> Result<(f64, u64), RunError> {
        let n = (resolved * self.per_server).min(MAX_CALIBRATION_KEYS);
        let keys = sample_keys(&self.w.data, n, self.opts.value_size, self.unit);
        let (_, per_key) = calibrate(&mut c, &self.prefix, &keys, self.px.as_deref())
            .map_err(|e| self.broken(e.to_string()))?;
        Ok((per_key, n))
    }

    /// The capacity of a tiered run's L1.
    fn l1_capacity(&self) -> Result<Option<Capacity>, RunError> {
        let opts = self.opts;
        Ok(match (&self.spec.l1, &self.spec.l2) {
            (None, _) => None,
            (Some(_), L2::Server) => Some(opts.l1_capacity.unwrap_or(self.cfg.capacity)),
            (Some(_), L2::Private { .. }) => Some(opts.l1_capacity.ok_or_else(|| {
                RunError::Workload(format!(
                    "strategy '{}' needs --l1-capacity (--capacity sizes the private L2)",
                    self.spec.canonical
                ))
            })?),
        })
    }

    /// Opens the run's connections to `url`.
    fn connect(&self, url: &RedisUrl) -> Result<Conns, RunError> {
        let mut admin = Backend::connect(url).map_err(|e| unreachable(url, &e))?;
        let evicted0 = admin.info_sum("stats", "evicted_keys").unwrap_or(0);
        let expired0 = admin.info_sum("stats", "expired_keys").unwrap_or(0);
        let n = match self.fleet {
            Some(_) => 1,
            None => self.opts.clients.max(1),
        };
        let mut clients = Vec::with_capacity(n);
        for _ in 0..n {
            let mut b = Backend::connect(url).map_err(|e| unreachable(url, &e))?;
            b.ping().map_err(|e| unreachable(url, &e))?;
            clients.push(b);
        }
        Ok(Conns {
            admin,
            clients,
            evicted0,
            expired0,
        })
    }

    /// Sets a private server's `maxmemory` from the capacity (says so unless
    /// quiet); for a capacity in objects, returns the [`Trimmer`] that keeps
    /// it there during the run.
    fn size_private(
        &self,
        l2: &L2Server,
        admin: &mut Backend,
        pb: &ProgressBar,
    ) -> Result<Option<Trimmer>, RunError> {
        let (Some(s), Some(size)) = (&l2.private, &l2.size) else {
            return Ok(None);
        };
        let broken = |e: RespError| self.broken(e.to_string());
        let resolved = size.resolved * self.per_server;
        let mut trimmer = None;
        let (maxmemory, note) = match size.per_key {
            None => (resolved, String::new()),
            Some((per_key, n)) => {
                let mut monitor = Conn::connect("127.0.0.1", s.port).map_err(broken)?;
                let base = admin.info_sum("memory", "used_memory").map_err(broken)?;
                let clients = client_memory(&mut monitor).map_err(broken)?;
                let keys =
                    (base as f64 - clients as f64 + resolved as f64 * per_key).round() as i64;
                let limit = keys + clients;
                let cap = resolved as i64;
                trimmer = Some(Trimmer {
                    monitor,
                    limit,
                    keys,
                    cap,
                    per_key,
                });
                let how = format!("{per_key:.1} bytes/key calibrated on {n} keys");
                (
                    limit as u64,
                    format!(" at start ({how}, baseline {base} bytes)"),
                )
            }
        };
        let limit = maxmemory.to_string();
        let set = admin
            .conn_at(0)
            .cmd(&["CONFIG", "SET", "maxmemory", &limit]);
        set.map_err(broken)?;
        if !self.opts.quiet {
            let (name, pid, port) = (&self.spec.canonical, s.pid(), s.port);
            pb.suspend(|| {
                eprintln!("{name}: private redis-server pid {pid} on 127.0.0.1:{port}, maxmemory {maxmemory} bytes{note}")
            });
        }
        Ok(trimmer)
    }

    /// What every client of the run shares.
    fn shared(&self) -> Shared<'_> {
        Shared {
            prefix: &self.prefix,
            value_size: self.opts.value_size,
            px: self.px.as_deref(),
            px_ms: self
                .px
                .as_deref()
                .and_then(|p| std::str::from_utf8(p).ok()?.parse().ok()),
            pace: self.opts.pace,
            pipeline: self.opts.pipeline.max(1),
            on_write: self.cfg.fresh.opts.on_write,
            timed: self.cfg.latency.is_some(),
        }
    }

    /// `--prefill top:K`: the K most popular keys, most popular first.
    fn prefill_keys(&self) -> Option<&'a [(Key, u32)]> {
        self.cfg.fresh.prefill_keys.as_deref().map(|k| k.as_slice())
    }

    /// Puts the top keys into Redis before the clock starts (a fleet fills
    /// its caches itself, see `fleet_cache`; the L1s in [`Run::client`]).
    fn prefill(&self, admin: &mut Backend) -> Result<(), RunError> {
        if let (Some(keys), None) = (self.prefill_keys(), self.fleet) {
            prefill_server(
                admin,
                &self.prefix,
                keys,
                self.opts.value_size,
                self.px.as_deref(),
            )
            .map_err(|e| self.broken(format!("prefill: {e}")))?;
        }
        Ok(())
    }

    /// Replays the workload, timed: over a fleet, or over the clients on
    /// their threads; `trimmer` keeps a private server's limit meanwhile.
    fn replay_all(
        &self,
        backends: Vec<Backend>,
        fanout: Fanout,
        l2: &L2Server,
        trimmer: Option<Trimmer>,
        sh: &Shared,
        pb: &ProgressBar,
    ) -> Replayed {
        let start = Instant::now();
        let done = AtomicBool::new(false);
        let (results, fleet) = std::thread::scope(|scope| {
            if let Some(t) = trimmer {
                let done = &done;
                scope.spawn(move || t.run(done));
            }
            let r = match self.fleet {
                Some(fc) => {
                    let (r, o) = self.replay_fleet(fc, backends, fanout.l1_cap, l2, pb);
                    (vec![r], o)
                }
                None => (self.replay_clients(backends, fanout, sh, pb), None),
            };
            done.store(true, Ordering::Relaxed);
            r
        });
        let elapsed = start.elapsed().as_secs_f64();
        Replayed {
            results,
            elapsed,
            fleet,
        }
    }

    /// A fleet's replay (see `fleet_cache`): its one connection is the cache
    /// the instances share (or their L2).
    fn replay_fleet(
        &self,
        fc: &FleetConfig,
        mut backends: Vec<Backend>,
        l1_cap: Option<Capacity>,
        l2: &L2Server,
        pb: &ProgressBar,
    ) -> (Result<Stats, Fail>, Option<FleetCounters>) {
        let be = backends.pop().expect("one connection");
        let (value_size, px) = (self.opts.value_size, self.px.clone());
        let cache = fleet_cache::RedisCache::new(be, self.prefix.clone(), value_size, px);
        let (units, bytes) = match &l2.size {
            Some(s) => (
                s.resolved * self.per_server,
                s.cap.kind() == CapacityKind::Bytes,
            ),
            None => (u64::MAX, false),
        };
        let l1 = self.spec.l1.as_ref().zip(l1_cap);
        let (w, cfg) = (self.w, self.cfg);
        match fleet_cache::replay(w, cfg, fc, cache, units, bytes, l1, pb) {
            Err(f) => (Err(f), None),
            Ok((o, (sent, refused))) => {
                let mut st = Stats::new();
                st.c = o.total;
                st.sets_sent = sent;
                st.sets_refused = refused;
                if l1.is_some() {
                    st.l1_hits = o.l1_hits;
                    st.l2_hits = o.l2_hits;
                } else {
                    st.l2_hits = o.total.hits;
                }
                (Ok(st), Some(o))
            }
        }
    }

    /// The clients' replay: each thread drives its share of the connections
    /// (see `replay`); a thread that panicked counts as a failure.
    fn replay_clients(
        &self,
        backends: Vec<Backend>,
        fanout: Fanout,
        sh: &Shared,
        pb: &ProgressBar,
    ) -> Vec<Result<Stats, Fail>> {
        let threads = fanout.threads;
        let mut per_thread: Vec<Vec<(usize, Backend)>> = (0..threads).map(|_| Vec::new()).collect();
        for (c, be) in backends.into_iter().enumerate() {
            per_thread[thread_of(c, threads).0].push((c, be));
        }
        let panicked = || {
            Err(Fail::Run(RunError::Backend(
                "a client thread panicked".into(),
            )))
        };
        std::thread::scope(|scope| {
            let handles: Vec<_> = per_thread
                .into_iter()
                .enumerate()
                .map(|(me, bes)| scope.spawn(move || self.replay_thread(me, bes, fanout, sh, pb)))
                .collect();
            let joined = handles.into_iter().map(|h| h.join());
            joined.map(|r| r.unwrap_or_else(|_| panicked())).collect()
        })
    }

    /// Thread `me`'s work: its connections `bes` become clients and replay
    /// their share of the stream; their L1s' evictions are counted.
    fn replay_thread(
        &self,
        me: usize,
        bes: Vec<(usize, Backend)>,
        fanout: Fanout,
        sh: &Shared,
        pb: &ProgressBar,
    ) -> Result<Stats, Fail> {
        let defer = bes.len() > 1;
        let mut cls = Vec::with_capacity(bes.len());
        for (c, be) in bes {
            let mut cl = self.client(c, be, fanout, sh)?;
            cl.defer = defer;
            cls.push(cl);
        }
        let local: Vec<usize> = (0..fanout.clients)
            .map(|c| match thread_of(c, fanout.threads) {
                (t, i) if t == me => i,
                _ => usize::MAX,
            })
            .collect();
        let mut st = Stats::new();
        replay(&mut cls, &local, sh, &mut st, &self.w.data, pb)?;
        for l1 in cls.iter().filter_map(|cl| cl.l1.as_ref()) {
            st.c.evictions += l1.ev.evicted;
            st.c.expirations += l1.ev.expired;
        }
        Ok(st)
    }

    /// Client `c` on connection `be`, with its own origin and, in a tiered
    /// run, its own L1 holding its share of the prefilled keys.
    fn client(&self, c: usize, be: Backend, fanout: Fanout, sh: &Shared) -> Result<Client, Fail> {
        let (w, cfg, clients) = (self.w, self.cfg, fanout.clients);
        let seed = cfg.seed.wrapping_add(c as u64);
        let origin = AnyOrigin::new(&cfg.latency, seed).map_err(Fail::Run)?;
        let mut l1 = match (&self.spec.l1, fanout.l1_cap) {
            (Some(local), Some(cap)) => Some(
                L1::new(local, cap, w.distinct, cfg.seed, cfg.ttl)
                    .map_err(|e| Fail::Run(e.into()))?,
            ),
            _ => None,
        };
        if let (Some(l1), Some(keys)) = (&mut l1, self.prefill_keys()) {
            // This connection's share of the top keys.
            let mine: Vec<(Key, u32)> = keys
                .iter()
                .filter(|k| clients == 1 || client_of(k.0, clients) == c)
                .copied()
                .collect();
            l1.prefill(&mine);
        }
        let value = self.opts.value_size.unwrap_or(self.unit);
        Ok(Client::new(be, origin, l1, value, sh))
    }

    /// Says how many keys a private server holds at the end (unless quiet,
    /// or the run `failed`).
    fn report_resident(&self, l2: &L2Server, admin: &mut Backend, failed: bool, pb: &ProgressBar) {
        let (Some(_), Some(size), false, false) = (&l2.private, &l2.size, self.opts.quiet, failed)
        else {
            return;
        };
        if let Ok(resp::Value::Int(n)) = admin.conn_at(0).cmd(&["DBSIZE"]) {
            let (name, cap, resolved) = (&self.spec.canonical, size.cap.label(), size.resolved);
            pb.suspend(|| {
                eprintln!("{name}: {n} keys resident at the end (capacity {cap} = {resolved})")
            });
        }
    }

    /// Warns (even when quiet: the result is not what it seems) when the
    /// server refused `SET`s with `-OOM`: at its memory limit under
    /// `maxmemory-policy noeviction`, it cached none of those values, and
    /// the hit ratio is that of a full server that evicts nothing.
    fn warn_refused(&self, (refused, sent): (u64, u64), url: &RedisUrl, pb: &ProgressBar) {
        if refused == 0 {
            return;
        }
        let (w, url) = (&self.w.label, url.display());
        pb.suspend(|| {
            eprintln!(
                "warning: run {} on {w}: Redis at {url} refused {refused} of {sent} SETs with OOM (its maxmemory is reached and its maxmemory-policy evicts nothing, e.g. noeviction): those values were not cached, so the hit ratio is that of a full server that evicts nothing",
                self.label
            )
        });
    }

    /// Deletes the run's keys on a shared server (a private one just goes)
    /// unless `--redis-keep`; returns how many there were. Failing to is
    /// the run's error if it had none.
    fn clean_up(&self, l2: &L2Server, failed: bool) -> Result<u64, RunError> {
        if l2.private.is_some() || self.opts.keep {
            return Ok(0);
        }
        let cleaned = Backend::connect(&l2.url).and_then(|mut b| b.delete_prefix(&self.prefix));
        match (cleaned, failed) {
            (Err(e), false) => Err(self.broken(format!(
                "cannot delete the run's keys ({}*): {e}",
                String::from_utf8_lossy(&self.prefix)
            ))),
            (r, _) => Ok(r.unwrap_or(0)),
        }
    }

    /// The run through the simulator's loop ([`in_loop`]): the shared
    /// server or a private one sized in bytes, one connection as the
    /// loop's cache (`external::remote`), `SET`s with the run's `PX`.
    /// Evictions are the server's since the warm-up; `memory_objects` the
    /// run's keys at the end (a private server's `DBSIZE`).
    fn through_loop(&self, pb: &ProgressBar) -> Result<EngineRun, RunError> {
        let mut l2 = self.start_l2()?;
        pb.set_message(format!("{} {}", self.w.label, self.label));
        let mut conns = self.connect(&l2.url)?;
        // A byte capacity: no trimmer.
        self.size_private(&l2, &mut conns.admin, pb)?;
        let Some(Backend::Single(conn)) = conns.clients.pop() else {
            return Err(self.broken(format!(
                "{} runs through the simulator's loop on one server, not a cluster",
                self.spec.canonical
            )));
        };
        let px_ms = self
            .px
            .as_deref()
            .and_then(|p| std::str::from_utf8(p).ok()?.parse().ok())
            .unwrap_or(0);
        let kv = RedisKv::new(conn, &self.prefix);
        let mut cache = Remote::new(kv, self.opts.value_size, px_ms, false);
        let admin = &mut conns.admin;
        let mut evicted0 = conns.evicted0;
        let pipeline = self.opts.pipeline;
        let r = remote::replay(self.w, self.cfg, pipeline, &mut cache, pb, |cache| {
            // Evictions restart with the loop's counters.
            cache.round_trip(&[])?;
            evicted0 = admin.info_sum("stats", "evicted_keys")?;
            Ok(())
        });
        let ok = r.as_ref().is_ok_and(|r| r.ok(&cache));
        let evicted = match ok {
            true => admin
                .info_sum("stats", "evicted_keys")
                .map(|n| n - evicted0),
            false => Ok(0),
        };
        let resident = match (ok, l2.private.is_some(), self.opts.keep) {
            (true, true, _) => match admin.conn_at(0).cmd(&["DBSIZE"]) {
                Ok(v) => Ok(v.as_int().unwrap_or(0).max(0) as u64),
                Err(e) => Err(e),
            },
            (true, false, true) => admin.scan_prefix(&self.prefix, false),
            // Counted by the clean-up.
            _ => Ok(0),
        };
        let cleaned = self.clean_up(&l2, !ok);
        drop(l2.private.take());
        let url = &l2.url;
        let named = |e: RunError| match e {
            RunError::Backend(m) => self.broken(format!("Redis at {}: {m}", url.display())),
            e => self.origin_broken(e),
        };
        let mut r = r.map_err(&named)?;
        std::mem::replace(&mut r.fed, Ok(())).map_err(&named)?;
        let redis = |e: RespError| self.failure(Fail::Redis(e), url);
        if let Some(e) = cache.err.take() {
            return Err(redis(e));
        }
        std::mem::replace(&mut r.last, Ok(())).map_err(redis)?;
        let objects = resident.map_err(redis)? + cleaned?;
        r.c.evictions += evicted.map_err(redis)?.max(0) as u64;
        self.warn_refused((cache.acks.refused, cache.sets), url, pb);
        let columns = capacity_columns(None, &l2, self.w.distinct);
        let name = self.spec.canonical.clone();
        let (row, h, timeline) = r.result(self.w, self.cfg, name, columns, objects);
        let timed = self.cfg.latency.is_some();
        let q = |p: f64| {
            let h = &r.lat.hits;
            (timed && !h.is_empty()).then(|| h.value_at_quantile(p) as f64 / 1000.0)
        };
        let row = RunResult {
            l1_hits: 0,
            l2_hits: row.hits,
            l2_hit_p50_us: q(0.5),
            l2_hit_p99_us: q(0.99),
            ..row
        };
        Ok((row, h, timeline))
    }

    /// The error of a run a client stopped.
    fn failure(&self, f: Fail, url: &RedisUrl) -> RunError {
        match f {
            Fail::Redis(e) => self.broken(format!("Redis at {}: {e}", url.display())),
            Fail::Origin(e) => self.origin_broken(RunError::Origin(e.0)),
            Fail::Run(e) => self.origin_broken(e),
        }
    }

    /// The run's result from the summed counts `st`, and its latency
    /// histogram (none for fleets, as for in-process ones).
    fn result(
        &self,
        st: &Stats,
        elapsed: f64,
        l1_cap: Option<Capacity>,
        l2: &L2Server,
        fleet_out: Option<&FleetCounters>,
    ) -> (RunResult, Option<Histogram<u64>>) {
        let timed = self.cfg.latency.is_some() && self.fleet.is_none();
        let lat = timed.then(|| latency(st));
        let q = |h: &Histogram<u64>, p: f64| {
            (timed && !h.is_empty()).then(|| h.value_at_quantile(p) as f64 / 1000.0)
        };
        let columns = capacity_columns(l1_cap, l2, self.w.distinct);
        let name = self.spec.canonical.clone();
        let summary = lat.as_ref().map(|l| l.0);
        let base = base_result(self.w, name, columns, &st.c, elapsed, self.cfg, summary);
        let base = match (self.fleet, fleet_out) {
            (Some(fc), Some(o)) => {
                fleet_columns(base, Some(fc), o.memory_objects, &o.stale(), st.c.gets)
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
        (result, lat.map(|l| l.1))
    }
}

/// The `PX` of every `SET`. On the shared server, `--ttl` or `key_ttl`
/// (`--redis-key-ttl`), whichever is shorter: every key a run writes there
/// expires even if the run cannot delete it (killed, or the connection
/// lost). On a private server, `--ttl`, else for `redis-ttl` an hour
/// (volatile-ttl only evicts keys that have a TTL), else none: its
/// allkeys-* policies pick victims among all keys whatever their TTL, a
/// TTL would only cost memory per key (and so move a capacity in
/// objects), and the server and its keys go with the run.
fn px(l2: &L2, ttl: Option<f64>, key_ttl: f64) -> Option<Vec<u8>> {
    let ttl = match (l2, ttl) {
        (L2::Server, t) => Some(t.map_or(key_ttl, |t| t.min(key_ttl))),
        (_, Some(t)) => Some(t),
        (L2::Private { policy, .. }, None) if *policy == "volatile-ttl" => {
            Some(DEFAULT_VOLATILE_TTL_S)
        }
        _ => None,
    };
    ttl.map(|t| {
        ((t * 1000.0).round().max(1.0) as u64)
            .to_string()
            .into_bytes()
    })
}

/// The threads' counts summed, and the first reason one of them stopped.
fn collect(results: Vec<Result<Stats, Fail>>) -> (Stats, Option<Fail>) {
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
    (st, fail)
}

/// The latency summary and the histogram of every request: hits (L1 and
/// L2) and misses.
fn latency(st: &Stats) -> (LatencySummary, Histogram<u64>) {
    let mut hits = st.l1.clone();
    hits.add(&st.l2).expect("same bounds");
    let mut overall = hits.clone();
    overall.add(&st.misses).expect("same bounds");
    (LatencySummary::of(&overall, &hits, &st.misses), overall)
}

/// The `capacity`, its kind and `capacity_spec`: the L1's in a tiered run
/// (with the L2's in the spec), else a private server's, else none (the
/// shared server's capacity is its own).
fn capacity_columns(
    l1_cap: Option<Capacity>,
    l2: &L2Server,
    distinct: u64,
) -> (u64, CapacityKind, String) {
    match (&l1_cap, &l2.size) {
        (Some(l1), Some(s)) => {
            let spec = format!("l1={}+l2={}", l1.label(), s.cap.label());
            (l1.resolve(distinct), l1.kind(), spec)
        }
        (Some(l1), None) => {
            let spec = format!("l1={}+server", l1.label());
            (l1.resolve(distinct), l1.kind(), spec)
        }
        (None, Some(s)) => (s.resolved, s.cap.kind(), s.cap.label()),
        (None, None) => (0, CapacityKind::Bytes, "server".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_shared_server_gets_the_safety_ttl() {
        let px = |l2: &L2, ttl| px(l2, ttl, 86400.0).map(|v| String::from_utf8(v).unwrap());
        let lru = L2::Private {
            policy: "allkeys-lru",
            samples: 5,
        };
        let vttl = L2::Private {
            policy: "volatile-ttl",
            samples: 5,
        };
        assert_eq!(px(&L2::Server, None).as_deref(), Some("86400000"));
        assert_eq!(px(&L2::Server, Some(30.0)).as_deref(), Some("30000"));
        assert_eq!(px(&L2::Server, Some(1e7)).as_deref(), Some("86400000"));
        assert_eq!(px(&lru, None), None);
        assert_eq!(px(&lru, Some(30.0)).as_deref(), Some("30000"));
        assert_eq!(px(&vttl, None).as_deref(), Some("3600000"));
    }
}
