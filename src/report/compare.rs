//! Lines results up by (workload, capacity) and puts each strategy next to a
//! baseline strategy, like hyperfine's "relative" column: the numbers for a
//! slide. Used by `cachesim compare` (terminal, Markdown) and the HTML report.
//!
//! Relative columns are plain ratios of columns the runs hold:
//! `relative hits` = hit ratio / the baseline's hit ratio, `relative misses`
//! = miss ratio / the baseline's (0.80 means 20% fewer trips to the origin).

use crate::plot::{strategy_matches, unit_of};
use crate::sim::RunResult;
use rustc_hash::FxHashMap;

/// One strategy's line in a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The strategy spec, followed by `(source)` when several inputs hold it.
    pub label: String,
    /// The strategy spec, as in the `strategy` column.
    pub strategy: String,
    /// Whether this is the baseline's line.
    pub is_baseline: bool,
    /// hits / gets.
    pub hit_ratio: f64,
    /// misses / gets.
    pub miss_ratio: f64,
    /// Throughput of the replay loop, requests per second.
    pub requests_per_s: f64,
    /// hit ratio / baseline hit ratio; `None` without a baseline in the
    /// group or when the baseline's ratio is 0.
    pub rel_hits: Option<f64>,
    /// miss ratio / baseline miss ratio; `None` likewise.
    pub rel_misses: Option<f64>,
}

/// The rows of one (workload, capacity).
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The `workload` column shared by the group's rows.
    pub workload: String,
    /// Capacity as resolved for the runs, in `unit`s.
    pub capacity: u64,
    /// `objects` or `bytes`.
    pub unit: String,
    /// The capacity as given (`1%`), when the rows agree on it.
    pub capacity_spec: String,
    /// Whether the baseline strategy has a line in this group.
    pub has_baseline: bool,
    /// One line per strategy, in first-seen order.
    pub lines: Vec<Line>,
}

impl Group {
    /// `168 objects (1%)`, `64 MiB`.
    pub(crate) fn capacity_label(&self) -> String {
        let base = if self.unit == "bytes" {
            crate::units::format_bytes(self.capacity)
        } else {
            format!("{} objects", self.capacity)
        };
        if self.capacity_spec.ends_with('%') {
            format!("{base} ({})", self.capacity_spec)
        } else {
            base
        }
    }
}

/// Results lined up by (workload, capacity), each strategy against a
/// baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The baseline's full strategy spec.
    pub baseline: String,
    /// One group per (workload, capacity), in first-seen order.
    pub groups: Vec<Group>,
    /// Things the reader should know (groups without the baseline, ...).
    pub notes: Vec<String>,
}

/// Why no comparison could be made.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CompareError {
    /// No strategy in the results matches the baseline.
    #[error("baseline strategy '{baseline}' is not in the results; strategies present: {}", present.join(", "))]
    MissingBaseline {
        /// The baseline as asked for.
        baseline: String,
        /// The strategies the results hold.
        present: Vec<String>,
    },
    /// The baseline, given by name, matches several specs.
    #[error("baseline '{baseline}' matches several strategies ({}); give one in full", matches.join(", "))]
    Ambiguous {
        /// The baseline as asked for.
        baseline: String,
        /// The specs it matches.
        matches: Vec<String>,
    },
}

type Key = (String, String, u64);

fn group_key(r: &RunResult) -> Key {
    (r.workload.clone(), unit_of(r).to_string(), r.capacity)
}

/// Builds the comparison. `sources` are (name, rows) per input file, in
/// order; a strategy found in several sources for the same group appears
/// once per source, labelled with the source's name, and the first source's
/// line is the baseline.
pub(crate) fn compare(
    sources: &[(String, Vec<RunResult>)],
    baseline: &str,
) -> Result<Comparison, CompareError> {
    let all = || sources.iter().flat_map(|(_, rows)| rows.iter());
    let present = crate::plot::first_seen(all().map(|r| r.strategy.as_str()));
    let matches: Vec<&str> = present
        .iter()
        .copied()
        .filter(|s| strategy_matches(s, baseline))
        .collect();
    let base_spec = match matches.as_slice() {
        [] => {
            return Err(CompareError::MissingBaseline {
                baseline: baseline.to_string(),
                present: present.iter().map(|s| s.to_string()).collect(),
            })
        }
        [one] => one.to_string(),
        many => {
            return Err(CompareError::Ambiguous {
                baseline: baseline.to_string(),
                matches: many.iter().map(|s| s.to_string()).collect(),
            })
        }
    };

    // (group, strategy) -> sources holding it, to know when to label lines.
    let mut holders: FxHashMap<(Key, String), Vec<usize>> = FxHashMap::default();
    for (i, (_, rows)) in sources.iter().enumerate() {
        for r in rows {
            let h = holders
                .entry((group_key(r), r.strategy.clone()))
                .or_default();
            if !h.contains(&i) {
                h.push(i);
            }
        }
    }

    let mut order: Vec<Key> = Vec::new();
    let mut groups: FxHashMap<Key, Group> = FxHashMap::default();
    for (name, rows) in sources {
        for r in rows {
            let k = group_key(r);
            let g = groups.entry(k.clone()).or_insert_with(|| {
                order.push(k.clone());
                Group {
                    workload: r.workload.clone(),
                    capacity: r.capacity,
                    unit: unit_of(r).to_string(),
                    capacity_spec: r.capacity_spec.clone(),
                    has_baseline: false,
                    lines: Vec::new(),
                }
            });
            if g.capacity_spec != r.capacity_spec {
                g.capacity_spec.clear();
            }
            let several = holders[&(k, r.strategy.clone())].len() > 1;
            let label = if several {
                format!("{} ({name})", r.strategy)
            } else {
                r.strategy.clone()
            };
            let line = Line {
                label,
                strategy: r.strategy.clone(),
                is_baseline: false,
                hit_ratio: r.hit_ratio,
                miss_ratio: r.miss_ratio,
                requests_per_s: r.requests_per_s,
                rel_hits: None,
                rel_misses: None,
            };
            // The same strategy twice in one source: the last row read wins.
            match g.lines.iter_mut().find(|l| l.label == line.label) {
                Some(l) => *l = line,
                None => g.lines.push(line),
            }
        }
    }

    // Order: groups by workload (first seen) then capacity; in each group
    // the baseline first, then strategies in first-seen order.
    let workloads = crate::plot::first_seen(order.iter().map(|k| k.0.as_str()));
    let mut keys = order.clone();
    keys.sort_by_key(|k| (workloads.iter().position(|w| *w == k.0), k.1.clone(), k.2));
    let mut out = Vec::new();
    let mut without = Vec::new();
    for k in keys {
        let mut g = groups.remove(&k).expect("group exists");
        g.lines.sort_by_key(|l| {
            (
                l.strategy != base_spec,
                present.iter().position(|s| *s == l.strategy),
            )
        });
        let base = g.lines.iter().position(|l| l.strategy == base_spec);
        if let Some(b) = base {
            g.has_baseline = true;
            g.lines[b].is_baseline = true;
            let (bh, bm) = (g.lines[b].hit_ratio, g.lines[b].miss_ratio);
            for l in &mut g.lines {
                l.rel_hits = (bh > 0.0).then(|| l.hit_ratio / bh);
                l.rel_misses = (bm > 0.0).then(|| l.miss_ratio / bm);
            }
        } else {
            without.push(format!("{} at {}", g.workload, g.capacity_label()));
        }
        out.push(g);
    }
    let mut notes = Vec::new();
    if !without.is_empty() {
        notes.push(format!(
            "no '{base_spec}' run for {}: no relative values there",
            without.join("; ")
        ));
    }
    Ok(Comparison {
        baseline: base_spec,
        groups: out,
        notes,
    })
}

/// A relative value for a table: `1.00`, `0.87`, or `n/a`.
pub(crate) fn fmt_relative(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{x:.2}"),
        None => "n/a".to_string(),
    }
}

/// Requests per second, short: `4.33M`.
pub(crate) fn fmt_rate(v: f64) -> String {
    if v >= 1e9 {
        format!("{:.2}G", v / 1e9)
    } else if v >= 1e6 {
        format!("{:.2}M", v / 1e6)
    } else if v >= 1e3 {
        format!("{:.1}k", v / 1e3)
    } else {
        format!("{v:.0}")
    }
}

/// The flat table every writer shows: header and one row of cells per line.
pub(crate) fn flat_table(c: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let b = crate::plot::theme::base_name(&c.baseline).to_string();
    let header = vec![
        "workload".to_string(),
        "capacity".to_string(),
        "strategy".to_string(),
        "hit ratio".to_string(),
        "miss ratio".to_string(),
        "requests/s".to_string(),
        format!("hits vs {b}"),
        format!("misses vs {b}"),
    ];
    let mut rows = Vec::new();
    for g in &c.groups {
        for l in &g.lines {
            rows.push(vec![
                g.workload.clone(),
                g.capacity_label(),
                l.label.clone(),
                format!("{:.2}%", l.hit_ratio * 100.0),
                format!("{:.2}%", l.miss_ratio * 100.0),
                fmt_rate(l.requests_per_s),
                fmt_relative(l.rel_hits),
                fmt_relative(l.rel_misses),
            ]);
        }
    }
    (header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(w: &str, s: &str, cap: u64, hit: f64) -> RunResult {
        RunResult {
            workload: w.into(),
            strategy: s.into(),
            capacity: cap,
            requests: 100,
            gets: 100,
            hits: (hit * 100.0) as u64,
            misses: 100 - (hit * 100.0) as u64,
            hit_ratio: hit,
            miss_ratio: 1.0 - hit,
            evictions: 0,
            expirations: 0,
            distinct_keys: 10,
            elapsed_s: 1.0,
            requests_per_s: 100.0,
            seed: 1,
            version: "t".into(),
            bytes_requested: 100,
            bytes_missed: 0,
            byte_hit_ratio: 0.0,
            capacity_unit: "objects".into(),
            capacity_spec: cap.to_string(),
            sets: 0,
            deletes: 0,
            instances: 1,
            ..RunResult::default()
        }
    }

    #[test]
    fn relative_to_baseline_per_group() {
        let rows = vec![
            row("z", "lfu", 10, 0.6),
            row("z", "lru", 10, 0.5),
            row("z", "lru", 20, 0.8),
            row("z", "lfu", 20, 0.6),
        ];
        let c = compare(&[("a".into(), rows)], "lru").unwrap();
        assert_eq!(c.groups.len(), 2);
        let g = &c.groups[0];
        assert_eq!(g.capacity, 10);
        assert_eq!(g.lines[0].strategy, "lru");
        assert!(g.lines[0].is_baseline);
        assert_eq!(g.lines[0].rel_hits, Some(1.0));
        assert!((g.lines[1].rel_hits.unwrap() - 1.2).abs() < 1e-12);
        assert!((g.lines[1].rel_misses.unwrap() - 0.8).abs() < 1e-12);
        let g = &c.groups[1];
        assert!((g.lines[1].rel_hits.unwrap() - 0.75).abs() < 1e-12);
        assert!((g.lines[1].rel_misses.unwrap() - 2.0).abs() < 1e-12);
    }

    #[test]
    fn missing_and_ambiguous_baselines_are_errors() {
        let rows = vec![
            row("z", "lfu", 10, 0.6),
            row("z", "ttl:ttl=1s", 10, 0.1),
            row("z", "ttl:ttl=9s", 10, 0.3),
        ];
        let src = [("a".to_string(), rows)];
        let e = compare(&src, "lru").unwrap_err();
        assert_eq!(e.to_string(), "baseline strategy 'lru' is not in the results; strategies present: lfu, ttl:ttl=1s, ttl:ttl=9s");
        let e = compare(&src, "ttl").unwrap_err();
        assert!(matches!(e, CompareError::Ambiguous { .. }), "{e}");
        assert_eq!(compare(&src, "ttl:ttl=9s").unwrap().baseline, "ttl:ttl=9s");
    }

    #[test]
    fn same_strategy_in_two_sources_is_labelled() {
        let a = vec![row("z", "lru", 10, 0.5)];
        let b = vec![row("z", "lru", 10, 0.5), row("z", "lfu", 10, 0.55)];
        let c = compare(&[("old".into(), a), ("new".into(), b)], "lru").unwrap();
        let labels: Vec<&str> = c.groups[0].lines.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(labels, ["lru (old)", "lru (new)", "lfu"]);
        assert!(c.groups[0].lines[0].is_baseline && !c.groups[0].lines[1].is_baseline);
    }

    #[test]
    fn zero_baseline_gives_no_ratio_and_groups_without_baseline_are_noted() {
        let rows = vec![
            row("z", "lru", 10, 0.0),
            row("z", "lfu", 10, 0.2),
            row("y", "lfu", 10, 0.2),
        ];
        let c = compare(&[("a".into(), rows)], "lru").unwrap();
        assert_eq!(c.groups[0].lines[1].rel_hits, None);
        assert!(c.groups[0].lines[1].rel_misses.is_some());
        assert!(!c.groups[1].has_baseline);
        assert_eq!(c.notes.len(), 1);
        assert!(c.notes[0].contains("y at 10 objects"), "{}", c.notes[0]);
    }
}
