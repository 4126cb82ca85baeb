//! The one-sentence takeaways the report prints under each figure, computed
//! from the rows the figure draws (never written by hand): what a speaker
//! would say about the chart, with the measured numbers.
//!
//! `latency` and `invalidation` keep theirs beside their drawing; the kinds
//! whose files draw several views share the helpers here.

use super::{bars, percent, Dataset, PlotOptions};
use crate::sim::phases::TimelineRow;
use crate::sim::RunResult;

/// Percentage points between two ratios: `+9.7 points`.
fn points(d: f64) -> String {
    format!("{:+.1} points", d * 100.0)
}

/// The hit ratio of `rows` at the capacity the chart is read at: `--capacity`,
/// else `1%` when measured, else the capacity most rows share.
fn at_capacity<'a>(data: &'a Dataset, opts: &PlotOptions) -> Option<Vec<&'a RunResult>> {
    let mut o = opts.clone();
    if o.capacity.is_none() && data.rows.iter().any(|r| r.capacity_spec == "1%") {
        o.capacity = Some("1%".into());
    }
    bars::select(data, &o).ok().filter(|r| !r.is_empty())
}

/// "Which policy": the best online strategy against LRU (or the first
/// strategy) at one capacity, per workload, and the optimum when drawn.
pub(crate) fn policies(data: &Dataset, opts: &PlotOptions) -> Option<String> {
    let rows = at_capacity(data, opts)?;
    let workloads = super::first_seen(rows.iter().map(|r| r.workload.as_str()));
    let strategies = super::first_seen(rows.iter().map(|r| r.strategy.as_str()));
    let labels = super::labels::display_labels(&strategies);
    let label = |s: &str| {
        strategies
            .iter()
            .position(|x| *x == s)
            .map(|i| labels[i].clone())
            .unwrap_or_else(|| s.to_string())
    };
    let y = |r: &RunResult| opts.y.of(r);
    // One strategy over several workloads: how the workload moves it.
    if strategies.len() == 1 && workloads.len() > 1 {
        let parts: Vec<String> = rows
            .iter()
            .map(|r| format!("{} at {}", percent(y(r), 0), r.workload))
            .collect();
        return Some(format!(
            "{} {} at {}: {}.",
            label(strategies[0]),
            opts.y.label().to_lowercase(),
            bars::cap_words(rows[0]),
            parts.join(", ")
        ));
    }
    let mut out = Vec::new();
    for w in &workloads {
        let these: Vec<&&RunResult> = rows.iter().filter(|r| r.workload == *w).collect();
        let base = these
            .iter()
            .find(|r| super::theme::base_name(&r.strategy) == "lru")
            .or(these.first())?;
        let online = these.iter().filter(|r| {
            let n = super::theme::base_name(&r.strategy);
            n != "belady" && n != "none" && !crate::policy::needs_future(n)
        });
        // The best for the reader: highest hit ratio (lowest miss ratio).
        let better = |a: &RunResult, b: &RunResult| match opts.y {
            super::YMetric::Hit => a.hit_ratio > b.hit_ratio,
            super::YMetric::Miss => a.miss_ratio < b.miss_ratio,
        };
        let mut best: Option<&RunResult> = None;
        for r in online {
            if best.is_none_or(|b| better(r, b)) {
                best = Some(r);
            }
        }
        let best = best?;
        let mut s = if best.strategy == base.strategy {
            format!(
                "{}: {} is the best online strategy ({})",
                w,
                label(&base.strategy),
                percent(y(base), 1)
            )
        } else {
            format!(
                "{}: {} {} over {} ({} vs {})",
                w,
                label(&best.strategy),
                points(best.hit_ratio - base.hit_ratio),
                label(&base.strategy),
                percent(y(best), 1),
                percent(y(base), 1)
            )
        };
        if let Some(opt) = these
            .iter()
            .find(|r| crate::policy::needs_future(super::theme::base_name(&r.strategy)))
        {
            s += &format!(
                "; the optimum ({}) {}",
                label(&opt.strategy),
                percent(y(opt), 1)
            );
        }
        out.push(s);
    }
    Some(format!(
        "At {}: {}.",
        bars::cap_words(rows[0]),
        out.join(". ")
    ))
}

/// Expiry: the shortest and longest TTL of each TTL-driven line, in hits and
/// stale hits, and the strategies that ignore the TTL as the baseline.
pub(crate) fn staleness(rows: &[RunResult]) -> Option<String> {
    let mut ttls: Vec<f64> = rows.iter().filter_map(|r| r.ttl_s).collect();
    ttls.sort_by(f64::total_cmp);
    ttls.dedup();
    let (lo, hi) = (*ttls.first()?, *ttls.last()?);
    let lines = super::first_seen(
        rows.iter()
            .map(|r| r.strategy.as_str())
            .collect::<Vec<_>>()
            .into_iter(),
    );
    let mut parts = Vec::new();
    let mut done: Vec<String> = Vec::new();
    for s in lines {
        let line = super::staleness::line_of(s);
        if done.contains(&line) {
            continue;
        }
        done.push(line.clone());
        let of = |t: f64| {
            rows.iter()
                .find(|r| super::staleness::line_of(&r.strategy) == line && r.ttl_s == Some(t))
        };
        let (Some(a), Some(b)) = (of(lo), of(hi)) else {
            continue;
        };
        let name = super::labels::display_labels(&[&line]).remove(0);
        if (a.hit_ratio - b.hit_ratio).abs() < 1e-9 && a.stale_hits == b.stale_hits {
            parts.push(format!(
                "{name} ignores the TTL: {} hits, {} stale",
                percent(a.hit_ratio, 0),
                percent(a.stale_hit_ratio, 1)
            ));
        } else {
            parts.push(format!(
                "{name} with TTL {}: {} hits, {} stale; with TTL {}: {} hits, {} stale",
                super::format_duration(lo),
                percent(a.hit_ratio, 0),
                percent(a.stale_hit_ratio, 1),
                super::format_duration(hi),
                percent(b.hit_ratio, 0),
                percent(b.stale_hit_ratio, 1)
            ));
        }
    }
    (!parts.is_empty()).then(|| format!("{}.", parts.join(". ")))
}

/// A fleet: local caches at the largest K against the shared cache, and
/// what writes leave stale.
pub(crate) fn fleet(rows: &[RunResult]) -> Option<String> {
    let k = rows.iter().map(|r| r.instances).max()?;
    let at_k: Vec<&RunResult> = rows.iter().filter(|r| r.instances == k).collect();
    let local = at_k
        .iter()
        .find(|r| !r.strategy.starts_with("shared:") && !r.strategy.starts_with("redis"))?;
    let one = rows
        .iter()
        .find(|r| r.instances == 1 && r.strategy == local.strategy);
    let shared = at_k
        .iter()
        .find(|r| r.strategy.starts_with("shared:") || r.strategy.starts_with("redis"));
    let name = super::labels::display_labels(&[&local.strategy]).remove(0);
    let mut s = format!(
        "{k} instances with a local {name} each: {} hits",
        percent(local.hit_ratio, 0)
    );
    if let Some(o) = one {
        s += &format!(" (one instance: {})", percent(o.hit_ratio, 0));
    }
    if local.stale_hits > 0 {
        s += &format!(", {} of reads stale", percent(local.stale_hit_ratio, 1));
    }
    if let Some(sh) = shared {
        s += &format!(
            "; one shared cache of the same total size: {} hits, {} stale",
            percent(sh.hit_ratio, 0),
            percent(sh.stale_hit_ratio, 1)
        );
    }
    Some(s + ".")
}

/// Warming: how long each cold series takes to reach 90% of its steady hit
/// ratio (the mean of its last quarter), and where prefilled ones start.
pub(crate) fn timeline(series: &[(String, Vec<&TimelineRow>)]) -> Option<String> {
    let mut parts = Vec::new();
    for (label, pts) in series {
        let vals: Vec<(u64, f64)> = pts
            .iter()
            .filter_map(|t| t.window_hit_ratio.map(|v| (t.request, v)))
            .collect();
        if vals.len() < 4 {
            continue;
        }
        let tail = &vals[vals.len() * 3 / 4..];
        let steady = tail.iter().map(|v| v.1).sum::<f64>() / tail.len() as f64;
        let first = vals[0];
        let prefilled = pts.first().is_some_and(|t| !t.prefill.is_empty());
        if prefilled || first.1 >= 0.9 * steady {
            parts.push(format!(
                "{label} starts at {} (steady {})",
                percent(first.1, 0),
                percent(steady, 0)
            ));
        } else {
            let reach = vals.iter().find(|v| v.1 >= 0.9 * steady).map(|v| v.0);
            if let Some(n) = reach {
                parts.push(format!(
                    "{label} needs {} requests to reach 90% of its steady {}",
                    super::format_capacity(n as f64, "objects"),
                    percent(steady, 0)
                ));
            }
        }
    }
    (!parts.is_empty()).then(|| format!("{}.", parts.join("; ")))
}
