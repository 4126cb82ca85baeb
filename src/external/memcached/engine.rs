//! One memcached run: connect (or start a private server), replay the
//! workload through the simulator's own loop with the server as the cache
//! (`external::remote`: [`Remote`] over this protocol's [`Conn`]; with
//! `--clients N`, N of them driven by their threads, the stream split by
//! key), then count what is resident and delete the run's keys.

use super::proto::{number, Conn, McError};
use super::server::{self, PrivateMemcached};
use super::spec::{parse_spec, runs, MemcachedOptions, MemcachedSpec, STRATEGIES};
use crate::external::clients::client_threads;
use crate::external::remote::{replay, replay_clients, Remote};
use crate::policy::{SpecError, StrategyInfo, StrategySpec};
use crate::request::Key;
use crate::sim::backend::{refuse_fleet, Engine, EngineRun, FleetUse};
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::replay::Counters;
use crate::sim::runner::{Prepared, RunConfig, RunError};
use indicatif::ProgressBar;

/// The memcached strategies as the runner sees them, registered by the
/// command (`cmd::engines`) with the run's memcached options.
pub(crate) struct MemcachedEngine {
    opts: MemcachedOptions,
}

impl MemcachedEngine {
    pub(crate) fn new(opts: MemcachedOptions) -> MemcachedEngine {
        MemcachedEngine { opts }
    }
}

impl Engine for MemcachedEngine {
    fn strategies(&self) -> &'static [StrategyInfo] {
        STRATEGIES
    }

    fn runs(&self, spec: &StrategySpec) -> bool {
        runs(spec)
    }

    fn validate(&self, spec: &StrategySpec) -> Result<String, SpecError> {
        parse_spec(spec).map(|s| s.canonical)
    }

    /// The shared server must answer, and `memcached-lru` needs the
    /// binary, before any run starts.
    fn preflight(&self, specs: &[StrategySpec]) -> Result<(), RunError> {
        if self.opts.clients > 1 {
            client_threads()?;
        }
        for s in specs {
            let spec = parse_spec(s)?;
            if spec.private {
                server::binary(self.opts.bin.as_deref(), &spec.canonical)?;
            } else {
                let u = &self.opts.url;
                Conn::open(&u.host, u.port, b"").map_err(|e| unreachable(&self.opts, &e))?;
            }
        }
        Ok(())
    }

    fn check_fleet(&self, spec: &StrategySpec, fleet: FleetUse) -> Result<(), RunError> {
        refuse_fleet(&spec.name, "one server behind one client", fleet)
    }

    /// `memcached-lru`'s `-m` is in MiB: a capacity in objects cannot
    /// size it (how many items fit in a page depends on their class).
    fn check_capacity(&self, spec: &StrategySpec, cap: &Capacity) -> Result<(), RunError> {
        match parse_spec(spec) {
            Ok(s) if s.private => server::megabytes(cap, &s.canonical).map(|_| ()),
            _ => Ok(()),
        }
    }

    /// The shared server's memory is its own.
    fn uses_capacity(&self, spec: &StrategySpec) -> bool {
        spec.name != "memcached"
    }

    fn run(&self, w: &Prepared, cfg: &RunConfig, pb: &ProgressBar) -> Result<EngineRun, RunError> {
        run_one(w, cfg, &self.opts, pb)
    }
}

fn unreachable(opts: &MemcachedOptions, e: &McError) -> RunError {
    RunError::Backend(format!(
        "memcached at {} (--memcached-url): {e}; start one (apt-get install memcached) or give --memcached-url HOST:PORT",
        opts.url
    ))
}

/// The server of a run: the shared one, or a private one kept alive for
/// the run.
struct Server {
    private: Option<PrivateMemcached>,
    host: String,
    port: u16,
}

/// Runs one memcached replay of `w` with `cfg`.
pub(crate) fn run_one(
    w: &Prepared,
    cfg: &RunConfig,
    opts: &MemcachedOptions,
    pb: &ProgressBar,
) -> Result<EngineRun, RunError> {
    let spec = parse_spec(&cfg.strategy)?;
    let (server, capacity) = start(&spec, cfg, opts)?;
    let where_ = match &server.private {
        Some(s) => format!("the private memcached on port {}", s.port),
        None => format!("memcached at {}", opts.url),
    };
    let broken = |e: &McError| {
        RunError::Backend(format!(
            "run {} on {} failed: {where_}: {e}",
            spec.canonical, w.label
        ))
    };
    let prefix = format!("cachesim:{}:", server::key_prefix_id());
    let open = || {
        Conn::open(&server.host, server.port, prefix.as_bytes()).map_err(|e| {
            if server.private.is_some() {
                broken(&e)
            } else {
                unreachable(opts, &e)
            }
        })
    };
    let conn = open()?;
    pb.set_message(format!("{} {}", w.label, spec.canonical));
    let ttl_ms = if spec.private {
        0
    } else {
        u64::from(opts.key_ttl) * 1000
    };
    let remote = |conn| Remote::new(conn, opts.value_size, ttl_ms, !spec.private);
    let mut evicted_before = 0;
    let (mut cache, mut r, threads) = if opts.clients > 1 {
        // `--clients N`: N connections, the stream split by key; the
        // warm-up (hence `evicted_before`) is refused (`cmd::run`).
        let mut caches = vec![remote(conn)];
        for _ in 1..opts.clients {
            caches.push(remote(open()?));
        }
        let threads = opts.clients.min(client_threads()?);
        let (cache, r) = replay_clients(w, cfg, opts.pipeline, caches, threads, pb)?;
        (cache, r, threads)
    } else {
        let mut cache = remote(conn);
        let r = replay(w, cfg, opts.pipeline, &mut cache, pb, |cache| {
            if spec.private {
                // Evictions restart with the loop's counters.
                cache.round_trip(&[])?;
                evicted_before = cache.conn.stat("evictions")?;
            }
            Ok(())
        })?;
        (cache, r, 1)
    };
    let counted = match (r.ok(&cache), spec.private, opts.keep) {
        (false, _, _) => Ok(0),
        (true, true, _) => private_counts(&mut cache, evicted_before, &mut r.c),
        (true, false, true) => resident(&mut cache),
        // Counted by the deletes below.
        (true, false, false) => Ok(0),
    };
    // Delete the run's keys on the shared server, whatever happened.
    let cleaned = match (spec.private, opts.keep) {
        (false, false) => clean_up(&mut cache, &server, prefix.as_bytes()),
        _ => Ok(0),
    };
    std::mem::replace(&mut r.fed, Ok(()))?;
    if let Some(e) = &cache.err {
        return Err(broken(e));
    }
    std::mem::replace(&mut r.last, Ok(())).map_err(|e| broken(&e))?;
    let objects = counted.map_err(|e| broken(&e))? + cleaned.map_err(|e| broken(&e))?;
    if cache.acks.refused > 0 {
        pb.suspend(|| {
            eprintln!(
                "warning: run {} on {}: {where_} refused {} of {} sets with SERVER_ERROR (a value larger than its item size limit, -I, or out of memory with -M): those values were not cached",
                spec.canonical, w.label, cache.acks.refused, cache.sets
            )
        });
    }
    let mut out = r.result(w, cfg, spec.canonical.clone(), capacity, objects);
    out.0.threads = threads as u64;
    drop(server);
    Ok(out)
}

/// The shared server, or a private one sized from the capacity; the
/// `capacity`, its kind and `capacity_spec` columns.
fn start(
    spec: &MemcachedSpec,
    cfg: &RunConfig,
    opts: &MemcachedOptions,
) -> Result<(Server, (u64, CapacityKind, String)), RunError> {
    if !spec.private {
        let u = &opts.url;
        let s = Server {
            private: None,
            host: u.host.clone(),
            port: u.port,
        };
        return Ok((s, (0, CapacityKind::Bytes, "server".to_string())));
    }
    let mb = server::megabytes(&cfg.capacity, &spec.canonical)?;
    let bin = server::binary(opts.bin.as_deref(), &spec.canonical)?;
    let p = PrivateMemcached::start(&bin, mb)?;
    let port = p.port;
    let columns = (
        mb << 20,
        CapacityKind::Bytes,
        format!("{} (-m {mb})", cfg.capacity.label()),
    );
    let s = Server {
        private: Some(p),
        host: "127.0.0.1".into(),
        port,
    };
    Ok((s, columns))
}

/// A private server's items, and its evictions since the warm-up (into
/// `c`).
fn private_counts(cache: &mut Remote<Conn>, before: u64, c: &mut Counters) -> Result<u64, McError> {
    let stats = cache.conn.stats("")?;
    c.evictions = number(&stats, "evictions")?.saturating_sub(before);
    number(&stats, "curr_items")
}

/// The run's keys still on the shared server: those a get finds.
fn resident(cache: &mut Remote<Conn>) -> Result<u64, McError> {
    let keys: Vec<Key> = cache.written.iter().copied().collect();
    let mut n = 0;
    for chunk in keys.chunks(100) {
        cache.round_trip(chunk)?;
        n += cache.known.values().filter(|&&h| h).count() as u64;
    }
    Ok(n)
}

/// Deletes every key the run wrote on the shared server, in pipelines of
/// 1000, on a new connection (the run's may have failed mid-reply);
/// returns how many were still there.
fn clean_up(cache: &mut Remote<Conn>, server: &Server, prefix: &[u8]) -> Result<u64, McError> {
    let mut conn = Conn::open(&server.host, server.port, prefix)?;
    let keys: Vec<Key> = cache.written.drain().collect();
    let mut deleted = 0;
    for chunk in keys.chunks(1000) {
        for &k in chunk {
            conn.queue_delete(k);
        }
        deleted += conn.round_trip(&[], |_| {})?.deleted;
    }
    Ok(deleted)
}
