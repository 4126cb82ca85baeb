//! One Redis run from start to end, as the steps it takes: resolve the spec
//! and options, start and size the server, connect, prefill, replay over the
//! clients, collect the counts, clean up, build the result. [`run_one`] is
//! the list of steps; each step is a function below it.

use super::backend::Backend;
use super::batch::{check, KeyBuf, Kind, Ops};
use super::calibration::{calibrate, sample_keys, MAX_CALIBRATION_KEYS};
use super::client::{AnyOrigin, Client, Fail, Shared, Stats};
use super::fleet_cache;
use super::replay::{client_of, client_threads, replay, thread_of};
use super::resp::{self, Conn, RespError};
use super::server::{run_id, server_binary, PrivateServer};
use super::spec::{parse_spec, RedisOptions, DEFAULT_VOLATILE_TTL_S, L2};
use super::tiered::L1;
use super::url::RedisUrl;
use crate::policy::StrategySpec;
use crate::request::Key;
use crate::sim::capacity::CapacityKind;
use crate::sim::latency::LatencySummary;
use crate::sim::result::RunResult;
use crate::sim::runner::{Data, Prepared, RunConfig, RunError};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

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
