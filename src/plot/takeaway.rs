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
        // The parts of the labels that differ (alpha=0.6, ...) name them.
        let (shared, captions) = super::workload_captions(&workloads);
        let parts: Vec<String> = rows
            .iter()
            .map(|r| {
                let i = workloads.iter().position(|w| *w == r.workload).unwrap_or(0);
                format!("{} at {}", percent(y(r), 0), captions[i])
            })
            .collect();
        return Some(format!(
            "{} {} at {}{}: {}.",
            label(strategies[0]),
            opts.y.label().to_lowercase(),
            bars::cap_words(rows[0]),
            shared.map(|s| format!(" of {s}")).unwrap_or_default(),
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
        // The best for the reader: highest hit ratio (lowest miss ratio).
        let better = |a: &RunResult, b: &RunResult| match opts.y {
            super::YMetric::Hit => a.hit_ratio > b.hit_ratio,
            super::YMetric::Miss => a.miss_ratio < b.miss_ratio,
        };
        // The best strategy a real cache could run (not none, not an
        // offline optimum), leaving out `skip`.
        let best_online = |skip: Option<&str>| {
            let mut best: Option<&RunResult> = None;
            for r in these.iter().copied().copied() {
                let n = super::theme::base_name(&r.strategy);
                let online = n != "none" && !crate::policy::needs_future(n);
                if online && skip != Some(r.strategy.as_str()) && best.is_none_or(|b| better(r, b))
                {
                    best = Some(r);
                }
            }
            best
        };
        let best = best_online(None)?;
        let mut s = if best.strategy == base.strategy {
            let mut s = format!(
                "{}: {} is the best online strategy ({})",
                w,
                label(&base.strategy),
                percent(y(base), 1)
            );
            // And how far the next one is behind.
            let second = best_online(Some(&base.strategy));
            if let Some(r) = second {
                s += &format!(
                    ", {} {} ({})",
                    label(&r.strategy),
                    points(r.hit_ratio - base.hit_ratio),
                    percent(y(r), 1)
                );
            }
            s
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
            "; one shared cache of the same total size: {} hits, {}",
            percent(sh.hit_ratio, 0),
            if sh.stale_hits == 0 {
                "none stale".to_string()
            } else {
                format!("{} stale", percent(sh.stale_hit_ratio, 1))
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn row(w: &str, s: &str, cap: &str, hit: f64) -> RunResult {
        RunResult {
            workload: w.into(),
            strategy: s.into(),
            capacity_spec: cap.into(),
            capacity: cap.trim_end_matches('%').parse::<u64>().unwrap_or(1) * 100,
            capacity_unit: "objects".into(),
            hit_ratio: hit,
            miss_ratio: 1.0 - hit,
            instances: 1,
            ..RunResult::default()
        }
    }

    #[test]
    fn policies_name_the_best_online_strategy_against_lru_and_the_optimum() {
        let d = Dataset::from_rows(vec![
            row("zipf", "lru", "1%", 0.485),
            row("zipf", "lfu", "1%", 0.55),
            row("zipf", "belady", "1%", 0.646),
            row("zipf", "lru", "10%", 0.7),
            row("zipf", "lfu", "10%", 0.75),
        ]);
        assert_eq!(
            policies(&d, &PlotOptions::default()).unwrap(),
            "At 1% of keys: zipf: lfu +6.5 points over lru (55.0% vs 48.5%); the optimum (belady) 64.6%."
        );
        // --capacity moves it; lru best: the runner-up is named.
        let d = Dataset::from_rows(vec![
            row("z", "lru", "5%", 0.5),
            row("z", "fifo", "5%", 0.45),
        ]);
        assert_eq!(
            policies(&d, &PlotOptions::default()).unwrap(),
            "At 5% of keys: z: lru is the best online strategy (50.0%), fifo -5.0 points (45.0%)."
        );
        // One strategy over workloads: the parts of the labels that differ.
        let d = Dataset::from_rows(vec![
            row("zipf:keys=1k:alpha=0.6", "lru", "1%", 0.05),
            row("zipf:keys=1k:alpha=1.2", "lru", "1%", 0.74),
        ]);
        assert_eq!(
            policies(&d, &PlotOptions::default()).unwrap(),
            "lru hit ratio at 1% of keys of zipf:keys=1k: 5% at alpha=0.6, 74% at alpha=1.2."
        );
    }

    #[test]
    fn staleness_and_fleet_state_hits_against_stale_reads() {
        let ttl = |t: f64, hit: f64, stale: f64, s: &str| RunResult {
            ttl_s: Some(t),
            stale_hit_ratio: stale,
            stale_hits: (stale * 1000.0) as u64,
            ..row("y", s, "10%", hit)
        };
        let rows = [
            ttl(1.0, 0.39, 0.124, "ttl:ttl=1s"),
            ttl(300.0, 0.62, 0.468, "ttl:ttl=5m"),
            ttl(1.0, 0.62, 0.468, "lru"),
            ttl(300.0, 0.62, 0.468, "lru"),
        ];
        assert_eq!(
            staleness(&rows).unwrap(),
            "ttl with TTL 1s: 39% hits, 12.4% stale; with TTL 5m: 62% hits, 46.8% stale. lru ignores the TTL: 62% hits, 46.8% stale."
        );
        let k = |n: u64, s: &str, hit: f64, stale: f64| RunResult {
            instances: n,
            stale_hit_ratio: stale,
            stale_hits: (stale * 1000.0) as u64,
            ..row("z", s, "1%", hit)
        };
        let rows = [
            k(1, "lru", 0.40, 0.0),
            k(8, "lru", 0.40, 0.273),
            k(8, "shared:lru", 0.59, 0.0),
        ];
        assert_eq!(
            fleet(&rows).unwrap(),
            "8 instances with a local lru each: 40% hits (one instance: 40%), 27.3% of reads stale; one shared cache of the same total size: 59% hits, none stale."
        );
    }

    #[test]
    fn warming_says_how_long_cold_takes_and_where_prefilled_starts() {
        let t = |req: u64, v: f64, prefill: &str| TimelineRow {
            workload: "z".into(),
            strategy: "lru".into(),
            capacity: 10,
            seed: 1,
            request: req,
            time_s: 0.0,
            window_hit_ratio: Some(v),
            cumulative_hit_ratio: Some(v),
            ttl_s: None,
            window_gets: 1,
            window_hits: 1,
            window_stale_hits: 0,
            prefill: prefill.into(),
            on_write: "invalidate".into(),
            restarts: 0,
            restart_every: String::new(),
            rolling: false,
            instances: 1,
            balance: String::new(),

            ..Default::default()
        };
        let cold = [
            t(1000, 0.1, ""),
            t(2000, 0.3, ""),
            t(3000, 0.45, ""),
            t(4000, 0.5, ""),
            t(5000, 0.5, ""),
        ];
        let warm = [
            t(1000, 0.6, "top:10"),
            t(2000, 0.55, "top:10"),
            t(3000, 0.5, "top:10"),
            t(4000, 0.5, "top:10"),
        ];
        let series = vec![
            ("lru · cold".to_string(), cold.iter().collect()),
            ("lru · prefilled 10".to_string(), warm.iter().collect()),
        ];
        assert_eq!(
            timeline(&series).unwrap(),
            "lru · cold needs 3k requests to reach 90% of its steady 50%; lru · prefilled 10 starts at 60% (steady 50%)."
        );
    }
}
