//! `cachesim run`: replay workloads against strategies and capacities, print
//! the results and save them as CSV.

use super::{inputs, usage, CliError};
use crate::cli::{OutputFormat, RunArgs};
use crate::external::postgres::Postgres;
use crate::external::redis::{RedisOptions, RedisUrl};
use crate::files::Destination;
use crate::policy::StrategySpec;
use crate::report::{self, csv::CsvExporter, json::JsonExporter, table::TableExporter, Exporter};
use crate::sim::capacity::{Capacity, CapacityKind};
use crate::sim::fleet::FleetConfig;
use crate::sim::phases::{self, FreshOptions};
use crate::sim::restart::Restarts;
use crate::sim::runner::{OriginSpec, Plan, RunError, WorkloadInput};
use crate::sim::strategy::split_shared;
use crate::sim::strategy::{Kind, Strategy};
use std::path::Path;

/// Parses and checks every option, so that bad input is reported before any
/// work starts and nothing is written.
pub fn plan_from_args(a: &RunArgs) -> Result<Plan, CliError> {
    let mut strategies = Vec::new();
    for s in &a.strategy {
        strategies.extend(StrategySpec::parse_list(s).map_err(|e| usage("--strategy", e))?);
    }
    // Redis strategies, also as the shared cache of a fleet (`shared:redis`).
    let external: Vec<StrategySpec> = strategies
        .iter()
        .map(|s| split_shared(s).0)
        .filter(|s| crate::external::redis::runs(&s.name) && !crate::external::disk::runs(s))
        .collect();
    let uses_disk = strategies
        .iter()
        .any(|s| crate::external::disk::runs(&split_shared(s).0));
    let uses_memcached = strategies
        .iter()
        .any(|s| crate::external::memcached::runs(&split_shared(s).0));
    if external.is_empty() {
        refuse_redis_options(a, uses_disk, uses_memcached)?;
    }
    let redis = redis_options(a, !external.is_empty())?;
    let disk = disk_options(a, uses_disk)?;
    let memcached = memcached_options(a, uses_memcached)?;
    let engines = super::engines(&redis, &disk, &memcached);
    let mut parsed = Vec::new();
    for spec in &strategies {
        let s = Strategy::parse(spec, &engines).map_err(super::spec_usage)?;
        s.validate(&engines).map_err(super::spec_usage)?;
        parsed.push(s);
    }
    if strategies.is_empty() {
        return Err(usage(
            "--strategy",
            format!(
                "no strategy given; valid strategies: {}",
                super::strategy_names()
            ),
        ));
    }
    let capacities = a.cache.capacity.expand(a.cache.capacity_scale);
    let ttls = a
        .cache
        .ttl
        .as_ref()
        .map(|t| t.0.clone())
        .unwrap_or_default();
    let mut fresh = fresh_options(a)?;
    let mut workloads = inputs::workloads(&a.input)?;
    if let Some(w) = &a.fresh.write_ratio {
        if !workloads
            .iter()
            .any(|wl| matches!(wl, WorkloadInput::Preset { .. }))
        {
            return Err(usage(
                "--write-ratio",
                "only applies to synthetic workloads; a trace's writes are its set requests",
            ));
        }
        for wl in &mut workloads {
            if let WorkloadInput::Preset { preset, label } = wl {
                preset.write_ratio = Some(w.value);
                *label += &format!(":write_ratio={}", w.text);
                preset.validate().map_err(|e| usage("--write-ratio", e))?;
            }
        }
    }
    if let Some(wu) = fresh.warmup {
        for wl in &workloads {
            if let WorkloadInput::Preset { preset, .. } = wl {
                let n = wu.resolve(preset.requests);
                if n >= preset.requests {
                    return Err(usage(
                        "--warmup",
                        format!(
                            "{n} warm-up requests leave none of the workload's {} requests to count",
                            preset.requests
                        ),
                    ));
                }
            }
        }
    }
    let mut origin_trusts_ca = false;
    let latency = if a.latency.no_latency {
        None
    } else if let Some(pg) = &a.latency.origin {
        let mut pg = pg.clone();
        origin_trusts_ca = a.latency.tls_ca.as_deref().is_some_and(|ca| pg.trust(ca));
        Some(OriginSpec::Backend(std::sync::Arc::new(Postgres(pg))))
    } else {
        Some(OriginSpec::Model(a.latency.origin_latency.clone()))
    };
    let redis_trusts_ca =
        !external.is_empty() && redis.url.as_ref().is_some_and(|u| u.tls.is_some());
    if a.latency.tls_ca.is_some() && !origin_trusts_ca && !redis_trusts_ca {
        return Err(usage(
            "--tls-ca",
            "no connection of this run checks a certificate: it is for rediss:// (--redis-url) and --origin with sslmode=require, verify-ca or verify-full",
        ));
    }
    let fl = &a.fleet;
    if fl.instances == 0 || fl.instances > MAX_INSTANCES {
        return Err(usage(
            "--instances",
            format!(
                "{} is not a number of instances from 1 to {MAX_INSTANCES}",
                fl.instances
            ),
        ));
    }
    if fl.shared {
        for s in &mut strategies {
            if s.name != "shared" {
                let mut params = vec![(String::new(), s.name.clone())];
                params.extend(s.params.iter().cloned());
                *s = StrategySpec {
                    name: "shared".into(),
                    params,
                };
            }
        }
    }
    let fleet_mode = fl.instances > 1 || fl.shared || strategies.iter().any(|s| s.name == "shared");
    let fleet = (fl.instances > 1 || fl.shared).then_some(FleetConfig {
        instances: fl.instances as usize,
        balance: fl.balance,
        shared: false,
        on_write: fresh.on_write,
        broadcast: fl.broadcast_invalidation,
        delay: fl.invalidation_delay,
        seed: a.input.seed,
    });
    refuse_loop_options(&external, &fresh, &redis, fleet_mode, &capacities)?;
    fresh.events = event_options(a, &parsed, &engines, &fresh, fleet_mode)?;
    if fleet_mode && !external.is_empty() {
        // A fleet's instances are simulated in one request stream.
        for (set, opt) in [
            (redis.pipeline > 1, "--pipeline"),
            (redis.clients > 1, "--clients"),
            (redis.pace.is_some(), "--redis-pace"),
        ] {
            if set {
                return Err(usage(
                    opt,
                    "is not supported with --instances or --shared (a fleet's instances share one request stream)",
                ));
            }
        }
    }
    for s in &parsed {
        if fleet_mode && s.needs_future() {
            // Issue 16, item 15: found only when the run started, exit 1.
            let opt = match (fl.instances > 1, fl.shared) {
                (true, _) => "--instances",
                (false, true) => "--shared",
                (false, false) => "--strategy",
            };
            return Err(usage(
                opt,
                format!(
                    "strategy '{}' is offline (it needs the future) and cannot run in a fleet",
                    s.spec.name
                ),
            ));
        }
        if s.kind == Kind::Policy && crate::policy::needs_byte_capacity(&s.spec.name) {
            if let Some(c) = capacities
                .iter()
                .find(|c| c.kind() != crate::sim::capacity::CapacityKind::Bytes)
            {
                return Err(usage(
                    "--capacity",
                    format!(
                        "strategy '{}' models memory in bytes and reads each object's size from it: give a byte capacity (e.g. 4MiB), not '{}'",
                        s.spec.name,
                        c.label()
                    ),
                ));
            }
        }
        if matches!(s.kind, Kind::TieredLocal { .. }) && redis.l1_capacity.is_none() {
            return Err(usage(
                "--l1-capacity",
                "tiered-local needs the capacity of each instance's L1 (--capacity sizes the shared L2)",
            ));
        }
    }
    for s in &external {
        crate::external::redis::check_options(s, &redis).map_err(|e| usage("--l1-capacity", e))?;
    }
    Ok(Plan {
        fleet,
        workloads,
        strategies,
        capacities,
        seeds: inputs::seeds(&a.input),
        ttls,
        on_writes: if a.fresh.on_write.len() > 1 {
            a.fresh.on_write.clone()
        } else {
            Vec::new()
        },
        latency,
        histograms: a.latency.histograms.clone(),
        fresh,
        l1_capacity: redis.l1_capacity,
        engines,
        threads: a.threads,
    })
}

/// The Redis options. `$REDIS_URL` only matters (and is only checked)
/// when a strategy uses Redis.
fn redis_options(a: &RunArgs, uses_redis: bool) -> Result<RedisOptions, CliError> {
    let r = &a.redis;
    let mut url = match &r.redis_url {
        Some(u) => Some(u.clone()),
        None => match std::env::var("REDIS_URL") {
            Ok(u) if uses_redis && !u.trim().is_empty() => {
                Some(RedisUrl::parse(u.trim()).map_err(|e| usage("$REDIS_URL", e))?)
            }
            _ => None,
        },
    };
    if let (Some(u), Some(ca)) = (&mut url, &a.latency.tls_ca) {
        u.trust(ca);
    }
    Ok(RedisOptions {
        url,
        keep: r.redis_keep,
        key_ttl: r.redis_key_ttl,
        server_bin: r.redis_server_bin.clone(),
        value_size: r.value_size,
        pipeline: r.pipeline.unwrap_or(1),
        clients: a.events.clients.unwrap_or(1),
        l1_capacity: r.l1_capacity,
        pace: r.redis_pace,
        quiet: a.output.quiet,
    })
}

/// The memcached strategies' options. `$MEMCACHED_URL` only matters (and
/// is only checked) when a strategy uses memcached; the memcached options
/// without one would be ignored, so they are refused.
fn memcached_options(
    a: &RunArgs,
    uses: bool,
) -> Result<crate::external::memcached::MemcachedOptions, CliError> {
    use crate::external::memcached::{MemcachedOptions, MemcachedUrl};
    let m = &a.memcached;
    if !uses {
        let given = [
            (m.memcached_url.is_some(), "--memcached-url"),
            (m.memcached_keep, "--memcached-keep"),
            (m.memcached_bin.is_some(), "--memcached-bin"),
        ];
        if let Some((_, opt)) = given.iter().find(|(set, _)| *set) {
            return Err(usage(
                opt,
                "only applies to the memcached strategies (memcached, memcached-lru), and none of --strategy uses them",
            ));
        }
        return Ok(MemcachedOptions::default());
    }
    let url = match &m.memcached_url {
        Some(u) => u.clone(),
        None => match std::env::var("MEMCACHED_URL") {
            Ok(u) if !u.trim().is_empty() => {
                MemcachedUrl::parse(u.trim()).map_err(|e| usage("$MEMCACHED_URL", e))?
            }
            _ => MemcachedUrl::default(),
        },
    };
    let clients = a.events.clients.unwrap_or(1);
    let f = &a.fresh;
    let positional = [
        (f.warmup.is_some(), "--warmup"),
        (f.window.is_some(), "--window"),
        (f.restart_every.is_some(), "--restart-every"),
    ];
    if let (true, Some((_, opt))) = (clients > 1, positional.iter().find(|g| g.0)) {
        return Err(usage(
            opt,
            format!(
                "is not supported with the memcached strategies over --clients {clients}: each connection replays its keys' share of the stream through a loop of its own, and {opt} counts positions in the whole stream; drop --clients to replay through one connection"
            ),
        ));
    }
    Ok(MemcachedOptions {
        url,
        keep: m.memcached_keep,
        bin: m.memcached_bin.clone(),
        value_size: a.redis.value_size,
        pipeline: a.redis.pipeline.unwrap_or(1),
        clients,
        key_ttl: 86_400,
    })
}

/// The `disk` strategy's options. A `--disk-dir` that is not empty and not
/// a disk cache is refused here, before any work, and left untouched;
/// `--disk-keep` and `--disk-cold` without a disk strategy would be
/// ignored, so they are refused too.
fn disk_options(
    a: &RunArgs,
    uses_disk: bool,
) -> Result<crate::external::disk::DiskOptions, CliError> {
    let d = &a.disk;
    if !uses_disk {
        let given = [
            (d.disk_dir.is_some(), "--disk-dir"),
            (d.disk_keep, "--disk-keep"),
            (d.disk_cold, "--disk-cold"),
        ];
        if let Some((_, opt)) = given.iter().find(|(set, _)| *set) {
            return Err(usage(
                opt,
                "only applies to the disk strategy, and none of --strategy uses it",
            ));
        }
    }
    if let Some(dir) = &d.disk_dir {
        use crate::external::disk::DirError;
        match crate::external::disk::check_dir(dir) {
            Err(e @ (DirError::Foreign(_) | DirError::NotADir(_))) => {
                return Err(usage("--disk-dir", e))
            }
            Err(e) => return Err(CliError::Runtime(anyhow::anyhow!("--disk-dir: {e}"))),
            Ok(()) => {}
        }
    }
    Ok(crate::external::disk::DiskOptions {
        dir: d.disk_dir.clone(),
        keep: d.disk_keep,
        cold: d.disk_cold,
        value_size: a.redis.value_size,
    })
}

/// Refuses the options that shape what is measured against Redis when no
/// strategy uses Redis: they would be ignored, and a user who typed
/// `--pipeline 16` expects it to matter. Where the server is and what to
/// do with it (`--redis-url`, `--redis-keep`, `--redis-server-bin`) are
/// settings, like `$REDIS_URL`, and may be given to every run of a script.
/// `--warmup`, `--window` and `--restart-every` run `redis` and `redis-*`
/// through the simulator's loop (`external::remote`): one connection to one
/// server, a private one sized in bytes. A fleet, `tiered:*`, a cluster,
/// `--clients`, `--redis-pace` and a capacity in objects for `redis-*` are
/// refused, naming the option.
fn refuse_loop_options(
    external: &[StrategySpec],
    fresh: &FreshOptions,
    redis: &RedisOptions,
    fleet_mode: bool,
    capacities: &[Capacity],
) -> Result<(), CliError> {
    if !crate::external::redis::in_loop(fresh) {
        return Ok(());
    }
    let given = [
        (fresh.warmup.is_some(), "--warmup"),
        (fresh.window.is_some(), "--window"),
        (fresh.restart.is_some(), "--restart-every"),
    ];
    let opt = given.iter().find(|g| g.0).map_or("--warmup", |g| g.1);
    for s in external {
        let spelled = spelled(s);
        let tiered = s.name == "tiered";
        if opt == "--restart-every" && (tiered || fleet_mode) {
            // Redis keeps its contents across a restart; the in-process L1s of
            // `tiered:X+redis` would restart, but the Redis replay does not
            // cut its stream at restarts yet.
            return Err(usage(
                opt,
                format!(
                    "is not supported with Redis strategies ('{spelled}') yet: Redis would keep its contents, but restarting the in-process tiers of a Redis run is not implemented; use an in-process strategy (tiered-local:L1+L2 models an L2 that survives restarts)"
                ),
            ));
        }
        let why = if fleet_mode {
            Some("in a fleet (--instances, --shared)".to_string())
        } else if tiered {
            Some("with a local L1".to_string())
        } else if redis.url().is_cluster() && s.name == "redis" {
            Some("on a cluster (--redis-url redis+cluster://)".to_string())
        } else if redis.clients > 1 {
            Some(format!("over --clients {}", redis.clients))
        } else if redis.pace.is_some() {
            Some("paced (--redis-pace)".to_string())
        } else {
            None
        };
        if let Some(why) = why {
            return Err(usage(
                opt,
                format!(
                    "is not supported with Redis strategies ('{spelled}') {why} yet: only redis and redis-* on one connection (no --clients, --redis-pace, cluster, L1 or fleet) replay through the simulator's loop"
                ),
            ));
        }
        if s.name != "redis" {
            if let Some(c) = capacities.iter().find(|c| c.kind() != CapacityKind::Bytes) {
                return Err(usage(
                    "--capacity",
                    format!(
                        "strategy '{spelled}' with {opt} needs a byte capacity (e.g. 4MiB), not '{}': its private server is sized by maxmemory in the simulator's loop",
                        c.label()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `name:params` as the user wrote it.
fn spelled(s: &StrategySpec) -> String {
    std::iter::once(s.name.clone())
        .chain(s.params.iter().map(|(k, v)| {
            if k.is_empty() {
                v.clone()
            } else {
                format!("{k}={v}")
            }
        }))
        .collect::<Vec<_>>()
        .join(":")
}

fn refuse_redis_options(
    a: &RunArgs,
    uses_disk: bool,
    uses_memcached: bool,
) -> Result<(), CliError> {
    let r = &a.redis;
    let given = [
        (
            r.value_size.is_some() && !uses_disk && !uses_memcached,
            "--value-size",
        ),
        (r.pipeline.is_some() && !uses_memcached, "--pipeline"),
        (r.redis_pace.is_some(), "--redis-pace"),
    ];
    match given.iter().find(|(set, _)| *set) {
        Some((_, opt)) => Err(usage(
            opt,
            format!(
                "only applies to the strategies that use Redis ({}), and none of --strategy does",
                crate::external::redis::STRATEGIES
                    .iter()
                    .map(|s| s.name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// `--on-write`, `--warmup`, `--prefill`, `--window`.
fn fresh_options(a: &RunArgs) -> Result<FreshOptions, CliError> {
    let f = &a.fresh;
    if f.window.is_some() && a.output.no_save {
        return Err(usage(
            "--window",
            "the timeline is written next to the results file; drop --no-save",
        ));
    }
    if f.group_by.is_some() && a.input.trace.is_empty() {
        return Err(usage(
            "--group-by",
            "groups requests by the tenant a trace gives them; it needs --trace FILE (synthetic workloads have no tenants)",
        ));
    }
    if f.rolling && f.restart_every.is_none() {
        return Err(usage(
            "--rolling",
            "restarts one instance at a time; it needs --restart-every DURATION|N",
        ));
    }
    if f.rolling && a.fleet.instances < 2 {
        return Err(usage(
            "--rolling",
            "restarts one instance of a fleet at a time; it needs --instances K (K >= 2)",
        ));
    }
    let mut seen = Vec::new();
    for w in &f.on_write {
        if seen.contains(w) {
            return Err(usage(
                "--on-write",
                format!("'{}' is given twice; give each policy once", w.as_str()),
            ));
        }
        seen.push(*w);
    }
    Ok(FreshOptions {
        on_write: f.on_write.first().copied().unwrap_or_default(),
        warmup: f.warmup,
        prefill: f.prefill,
        window: f.window,
        group_by: f.group_by,
        restart: f.restart_every.map(|every| Restarts {
            every,
            rolling: f.rolling,
        }),
        events: None,
    })
}

/// The event mode's options: `None` unless `--clients` (with an in-process
/// strategy), `--arrivals`, `--origin-concurrency` or a defence asks for
/// it. What the mode cannot do is refused here, naming the option.
fn event_options(
    a: &RunArgs,
    parsed: &[Strategy],
    engines: &crate::sim::backend::Engines,
    fresh: &FreshOptions,
    fleet_mode: bool,
) -> Result<Option<crate::sim::event::EventOptions>, CliError> {
    use crate::sim::event::{Arrivals, EventOptions};
    let e = &a.events;
    let in_process = |s: &&Strategy| s.engine(engines).is_none();
    let simulated = parsed.iter().any(|s| in_process(&s));
    let given = [
        (e.arrivals.is_some(), "--arrivals"),
        (e.origin_concurrency.is_some(), "--origin-concurrency"),
        (e.coalesce, "--coalesce"),
        (
            e.stale_while_revalidate.is_some(),
            "--stale-while-revalidate",
        ),
        (e.xfetch.is_some(), "--xfetch"),
        (e.ttl_jitter.is_some(), "--ttl-jitter"),
        (e.think_time.is_some(), "--think-time"),
    ];
    let named = given.iter().find(|g| g.0).map(|g| g.1);
    let opt = match (named, e.clients.is_some() && simulated) {
        (Some(o), _) => o,
        (None, true) => "--clients",
        (None, false) => {
            if let (Some(_), Some(s)) =
                (e.clients, parsed.iter().find(|s| !runs_clients(s, engines)))
            {
                return Err(usage(
                    "--clients",
                    format!("'{}' replays through one connection; --clients applies to in-process strategies (simulated clients), Redis and memcached (connections)", s.spec.name),
                ));
            }
            return Ok(None);
        }
    };
    if let Some(s) = parsed.iter().find(|s| !in_process(s)) {
        if named.is_some() || !runs_clients(s, engines) {
            return Err(usage(
                opt,
                format!(
                    "the event mode simulates clients, an origin and in-process caches; '{}' is a real server or disk (--clients gives Redis and memcached N connections, and nothing else applies to them)",
                    s.spec.name
                ),
            ));
        }
    }
    let refused = [
        (fleet_mode, "--instances", "a fleet"),
        (fresh.restart.is_some(), "--restart-every", "restarts"),
        (fresh.group_by.is_some(), "--group-by", "tenant rows"),
        (a.latency.no_latency, "--no-latency", "no latency"),
    ];
    if let Some((_, o, what)) = refused.iter().find(|r| r.0) {
        return Err(usage(
            o,
            format!("the event mode ({opt}) simulates one cache and what requests wait for; it does not run {what} yet"),
        ));
    }
    if let Some(s) = parsed.iter().find(|s| s.spec.name == "ttl") {
        return Err(usage(
            "--strategy",
            format!(
                "'{}' expires entries itself; in the event mode ({opt}) --ttl gives every strategy's fills their TTL, so use lru with --ttl (the ttl strategy is LRU with a TTL)",
                s.spec.name
            ),
        ));
    }
    let arrivals = match (e.clients, e.arrivals) {
        (Some(n), _) => Arrivals::Closed { clients: n as u64 },
        (None, Some(a)) => a,
        (None, None) => Arrivals::Trace,
    };
    Ok(Some(EventOptions {
        arrivals,
        think: e.think_time.clone(),
        origin_concurrency: e.origin_concurrency,
        coalesce: e.coalesce,
        swr: e.stale_while_revalidate,
        xfetch: e.xfetch,
        ttl_jitter: e.ttl_jitter,
    }))
}

/// Whether `s` takes `--clients`: an in-process strategy (simulated
/// clients), a Redis or a memcached one (connections); not `disk`.
fn runs_clients(s: &Strategy, engines: &crate::sim::backend::Engines) -> bool {
    s.engine(engines).is_none()
        || crate::external::redis::runs(&s.spec.name)
        || crate::external::memcached::runs(&s.spec)
}

/// Most application instances of a fleet: each holds its own cache and
/// counters from the start (issue 16: 2^32 instances aborted on a 1 TB
/// allocation).
const MAX_INSTANCES: u64 = 100_000;

/// Runs `cachesim run`: replays the plan, prints the results and saves them
/// as CSV unless `--no-save` (and the timeline and histograms when asked).
///
/// Every output location is checked before the first run. A sweep broken
/// by a lost server (Redis, the PostgreSQL origin) or stopped by a signal
/// saves and prints the runs that finished; any other failure leaves none
/// of the command's outputs.
pub fn run(a: RunArgs) -> Result<(), CliError> {
    let quiet = a.output.quiet;
    let plan = plan_from_args(&a)?;
    plan.check_run_count().map_err(CliError::Usage)?;
    let shard = a.shard;
    if let Some(s) = shard.filter(|s| s.count > plan.run_count()) {
        return Err(usage(
            "--shard",
            format!(
                "'{s}' splits a sweep of {n} run(s) into more shards than runs (some would run nothing): use at most {n} shards",
                n = plan.run_count()
            ),
        ));
    }
    let once = plan.measured_once();
    if !(once.is_empty() || quiet) {
        crate::cmd::say!(
            "note: --capacity does not size {} (measured once, not once per capacity)",
            once.join(", ")
        );
    }
    if let Some(asked) = plan.threads {
        let why = format!(
            "at most one per run and {} per core; runs on a server run one at a time",
            crate::sim::THREADS_PER_CORE
        );
        inputs::note_threads(asked, plan.shard_thread_count(shard), &why, quiet);
    }
    let destination = if a.output.no_save {
        None
    } else {
        Some(match &a.output.out {
            Some(p) => Destination::Given(p.clone()),
            None => Destination::fresh(Path::new("results"), "run", &report::utc_stamp_now()),
        })
    };
    check_outputs(&plan, destination.as_ref())?;
    let outcome = plan.run_shard(quiet, shard);
    let written = outcome.histograms;
    let (results, timeline) = (outcome.results, outcome.timeline);
    // A sweep broken by a lost server or a signal keeps the runs that
    // finished; any other failure writes nothing.
    let stop = match outcome.err {
        None => None,
        Some(RunError::Interrupted) => Some(Stop::Signal),
        Some(RunError::Backend(msg) | RunError::Origin(msg)) if !results.is_empty() => {
            Some(Stop::Broken(msg))
        }
        // A warm-up longer than a trace is only known once it is counted.
        Some(other) => {
            written.remove();
            return Err(super::run_error(other));
        }
    };

    let saved = match (&destination, results.is_empty()) {
        (Some(dest), false) => {
            let timeline = plan.fresh.window.map(|_| timeline.as_slice());
            Some(save(dest, &results, timeline, written))
        }
        _ => None,
    };
    let exporter: &dyn Exporter = match a.output.format {
        OutputFormat::Table => &TableExporter,
        OutputFormat::Csv => &CsvExporter,
        OutputFormat::Json => &JsonExporter,
    };
    // Printed even when they could not be saved (a disk that filled up
    // during the runs): the work is not lost.
    if !results.is_empty() {
        super::to_stdout(|out| exporter.write(&results, out))?;
    }
    let (out_path, timeline_path) = match saved {
        None => (None, None),
        Some(Ok((p, tp))) => (Some(p), tp),
        Some(Err(e)) => {
            let n = results.len();
            return Err(e
                .context(format!("the {n} run(s) were printed on stdout only"))
                .into());
        }
    };
    match stop {
        None => {}
        Some(Stop::Broken(msg)) => {
            let saved = match &out_path {
                Some(p) => format!(
                    "; the {} finished run(s) were saved to {}",
                    results.len(),
                    p.display()
                ),
                None => format!("; {} run(s) had finished", results.len()),
            };
            return Err(CliError::Runtime(anyhow::anyhow!("{msg}{saved}")));
        }
        Some(Stop::Signal) => {
            let saved = match &out_path {
                Some(p) => format!("saved to {}", p.display()),
                None if results.is_empty() => "nothing saved".into(),
                None => "not saved (--no-save)".into(),
            };
            return Err(CliError::Interrupted {
                signal: crate::interrupt::signal().unwrap_or(libc::SIGINT),
                message: format!(
                    "interrupted: {} of {} runs finished; {saved}",
                    results.len(),
                    plan.shard_run_count(shard)
                ),
            });
        }
    }
    if let (Some(path), false) = (&out_path, quiet) {
        crate::cmd::say!("saved {} run(s) to {}", results.len(), path.display());
        if let Some(tp) = &timeline_path {
            crate::cmd::say!(
                "saved the timeline ({} windows) to {}",
                timeline.len(),
                tp.display()
            );
        }
    }
    Ok(())
}

/// Saves the results at `dest` and, with `--window`, the `timeline` next to
/// it; returns their paths. On a failure removes every output of the
/// command (`written`: the histograms, then the results file).
fn save(
    dest: &Destination,
    results: &[crate::sim::result::RunResult],
    timeline: Option<&[phases::TimelineRow]>,
    mut written: crate::files::Outputs,
) -> anyhow::Result<(std::path::PathBuf, Option<std::path::PathBuf>)> {
    let path = match dest.write(|w| CsvExporter.write(results, w)) {
        Ok(p) => p,
        Err(e) => {
            written.remove();
            let what = format!("cannot write results to '{}'", dest.display());
            return Err(anyhow::Error::new(e).context(what));
        }
    };
    written.file(path.clone());
    let Some(timeline) = timeline else {
        return Ok((path, None));
    };
    // Named after the results file, so as fresh as it is.
    let tp = phases::timeline_path(&path);
    match crate::files::write_atomic(&tp, |w| phases::write_timeline(timeline, w)) {
        Ok(()) => Ok((path, Some(tp))),
        Err(e) => {
            written.remove();
            let what = format!("cannot write the timeline to '{}'", tp.display());
            Err(anyhow::Error::new(e).context(what))
        }
    }
}

/// Why a sweep stopped early with runs to keep.
enum Stop {
    /// A server was lost (the message names the run).
    Broken(String),
    /// `SIGINT` or `SIGTERM`.
    Signal,
}

/// Checks, before any run, that every output can be written: the results
/// file (`--out`, or a fresh name under `results/`), the timeline next to
/// it (`--window`) and the `--histograms` folder.
fn check_outputs(plan: &Plan, destination: Option<&Destination>) -> Result<(), CliError> {
    if let Some(dest) = destination {
        dest.check().map_err(|e| usage("--out", e))?;
        if let (Destination::Given(p), Some(_)) = (dest, plan.fresh.window) {
            let tp = phases::timeline_path(p);
            crate::files::check_file(&tp)
                .map_err(|e| usage("--window", format!("the timeline: {e}")))?;
        }
    }
    if let Some(dir) = &plan.histograms {
        crate::files::check_dir(dir).map_err(|e| usage("--histograms", e))?;
    }
    Ok(())
}
