//! One run in the event mode: connects the origin (a model, or a real
//! database with one connection per client), drives [`super::sim::Sim`]
//! over the workload and turns its outcome into a result row and timeline.

use super::sim::{Service, Setup, Sim};
use super::EventOptions;
use crate::dispatch;
use crate::policy::{self, AnyPolicy};
use crate::sim::capacity::CapacityKind;
use crate::sim::fleet::fleet_columns;
use crate::sim::latency::{LatencySummary, ModelOrigin};
use crate::sim::phases::Phaser;
use crate::sim::replay::{ChargeModel, Rules};
use crate::sim::result::RunResult;
use crate::sim::runner::{
    base_result, for_each_batch, named_origin_error, OriginSpec, Prepared, RunConfig, RunError,
};
use indicatif::ProgressBar;
use std::time::Instant;

/// What [`run`] needs of the runner: the built policy, its canonical name,
/// how objects are charged, and the next uses of an offline policy.
pub(crate) struct Built<'a> {
    pub policy: AnyPolicy,
    pub canonical: String,
    pub charge: ChargeModel,
    pub kind: CapacityKind,
    pub next_use: Option<&'a [u64]>,
}

/// Replays `w` in the event mode `ev` against the policy of `b`.
pub(crate) fn run(
    w: &Prepared,
    cfg: &RunConfig,
    ev: &EventOptions,
    b: Built,
    pb: &ProgressBar,
) -> Result<crate::sim::backend::EngineRun, RunError> {
    let origin = cfg.latency.as_ref().ok_or_else(|| {
        RunError::Workload(
            "the event mode (--clients, --arrivals, the stampede defences) simulates what requests wait for; it cannot run with --no-latency".into(),
        )
    })?;
    let rate = w.data.rate();
    let named = |e| named_origin_error(e, &b.canonical, &cfg.capacity, &w.label);
    let (service, prefill_delta) = match origin {
        OriginSpec::Model(m) => (Service::Model(ModelOrigin::new(m, cfg.seed)), m.mean_s()),
        OriginSpec::Backend(_) => {
            let n = ev.clients().unwrap_or(1);
            let conns = (0..n)
                .map(|_| origin.connect(cfg.seed))
                .collect::<Result<Vec<_>, _>>()
                .map_err(named)?;
            (Service::Real(conns), 0.0)
        }
    };
    let setup = Setup {
        opts: ev,
        rules: Rules::new(b.charge, cfg.fresh.opts.on_write),
        ttl: cfg.ttl,
        rate,
        seed: cfg.seed,
        prefill: cfg.fresh.prefill_keys.as_ref().map(|k| k.as_slice()),
        prefill_delta,
    };
    let mut sim = Sim::new(setup, service, Phaser::new(&cfg.fresh));
    let mut policy = b.policy;
    let next_use = b.next_use;
    let start = Instant::now();
    let origin_err = |e: crate::sim::latency::OriginError| named(RunError::Origin(e.0));
    dispatch!(&mut policy, p => {
        for_each_batch(&w.data, pb, |batch, range, base| {
            sim.feed(p, batch, range, base, next_use).map_err(origin_err)
        })?;
        sim.finish(p).map_err(origin_err)?;
    });
    let elapsed = start.elapsed().as_secs_f64();
    let out = sim.outcome();
    let mut overall = out.hits.clone();
    overall.add(&out.misses).expect("same bounds");
    let summary = LatencySummary::of(&overall, &out.hits, &out.misses);
    let c = out.counters;
    let memory_objects = policy::Policy::len(&policy) as u64;
    let base = base_result(
        w,
        b.canonical,
        (b.charge.capacity, b.kind, cfg.capacity.label()),
        &c,
        elapsed,
        cfg,
        Some(summary),
    );
    let waits = &out.origin.waits;
    let us = |ns: f64| ns / 1000.0;
    let result = RunResult {
        origin_requests: out.origin.requests + c.sets,
        origin_time_s: Some(out.origin.service_ns as f64 / 1e9),
        duplicate_fetches: out.stats.duplicate_fetches,
        origin_peak_concurrency: Some(out.origin.peak),
        origin_queue_p99_us: Some(us(waits.value_at_quantile(0.99) as f64)),
        origin_queue_mean_us: Some(if waits.is_empty() {
            0.0
        } else {
            out.origin.wait_total_s * 1e6 / waits.len() as f64
        }),
        stale_serves: out.stats.stale_serves,
        coalesced: out.stats.coalesced,
        early_refreshes: out.stats.early_refreshes,
        background_refreshes: out.stats.background_refreshes,
        arrivals: ev.arrivals.label().into(),
        clients: ev.clients(),
        think_time: ev.think_label(rate),
        origin_concurrency: ev.origin_concurrency,
        coalesce: ev.coalesce,
        stale_while_revalidate_s: ev.swr,
        xfetch_beta: ev.xfetch,
        ttl_jitter: ev.ttl_jitter,
        defences: ev.defences(),
        ..fleet_columns(base, None, memory_objects, &out.stale, c.gets)
    };
    let timeline = out.phases.timeline;
    Ok((result, Some(overall), timeline))
}
