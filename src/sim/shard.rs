//! Sweeps split over machines: `--shard I/N` runs a deterministic 1/N of a
//! plan's runs, and [`merge`] puts the shards' rows back together in the
//! order of the unsharded sweep.
//!
//! Assignment: the run at position k (from 0) of the plan's row order goes
//! to shard `k mod N + 1`. Shards differ by at most one run, and, since
//! neighbouring runs differ by the fastest axes (capacity, TTL, write
//! policy), every shard gets a similar mix of strategies and capacities, so
//! similar work, whatever the number of threads of each.
//!
//! Every row records what merging needs ([`super::RunResult`]): `run_index`
//! (its run's position in the whole sweep, from 1), `runs` (the sweep's run
//! count), `shard` (`I/N`, empty for a whole sweep) and `sweep_id` (a
//! fingerprint of the plan, the same in every shard of one sweep).

use super::phases::TimelineRow;
use super::RunResult;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// `--shard I/N`: shard `index` (from 1) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// From 1 to `count`.
    pub index: usize,
    /// Shards of the sweep, at least 1.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with 1 <= I <= N.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let bad = || format!("'{s}' is not I/N with 1 <= I <= N (shard I of N, e.g. 2/8)");
        let (i, n) = s.trim().split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether the run at position `k` (from 0) of the plan belongs here.
    pub fn has(&self, k: usize) -> bool {
        k % self.count + 1 == self.index
    }

    /// This shard's share of a plan of `runs` runs.
    pub fn runs_of(&self, runs: usize) -> usize {
        (runs + self.count - self.index) / self.count
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A 64-bit FNV-1a hash of `text` as 16 hex digits: stable across builds,
/// machines and processes (unlike std's `DefaultHasher`).
pub(crate) fn fingerprint(text: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{h:016x}")
}

/// One shard's results file, read back.
pub struct ShardFile {
    /// The file, for messages.
    pub path: PathBuf,
    /// Its rows, in file order.
    pub rows: Vec<RunResult>,
    /// Its timeline rows (`<stem>-timeline.csv`), if it has one.
    pub timeline: Option<(PathBuf, Vec<TimelineRow>)>,
}

/// What [`merge`] produced: the rows of the whole sweep in its order, and
/// the timeline when the shards had one.
#[derive(Debug)]
pub struct Merged {
    /// Every row of the sweep, in the unsharded order, `shard` emptied.
    pub rows: Vec<RunResult>,
    /// Every timeline row, ordered by run (each run's own order kept).
    pub timeline: Option<Vec<TimelineRow>>,
}

/// The run a row belongs to, for messages.
fn describe(r: &RunResult) -> String {
    format!(
        "run {} ({} c={} on {}, seed {})",
        r.run_index, r.strategy, r.capacity_spec, r.workload, r.seed
    )
}

/// Joins shards' results into the rows of the whole sweep, in the order an
/// unsharded run writes them. Refuses, naming the file: a file with no
/// rows, rows without `run_index` (written before the column), shards of
/// different sweeps, a run given twice, runs (shards) missing, and a
/// timeline present for some shards only or holding another file's runs.
pub fn merge(files: Vec<ShardFile>) -> Result<Merged, String> {
    let Some(first) = files.first() else {
        return Err("no shard given".into());
    };
    let first_path = first.path.clone();
    let Some(head) = first.rows.first().cloned() else {
        return Err(format!("'{}' holds no runs", first_path.display()));
    };
    // The runs seen so far: run_index -> file that holds it.
    let mut owner: BTreeMap<u64, &Path> = BTreeMap::new();
    let mut shards: BTreeMap<String, &Path> = BTreeMap::new();
    for f in &files {
        let shown = f.path.display();
        let Some(r0) = f.rows.first() else {
            return Err(format!("'{shown}' holds no runs"));
        };
        for r in &f.rows {
            if r.run_index == 0 || r.sweep_id.is_empty() {
                return Err(format!(
                    "'{shown}' has rows without run_index and sweep_id (written by a cachesim before --shard): rerun it"
                ));
            }
            if r.sweep_id != head.sweep_id || r.runs != head.runs {
                return Err(format!(
                    "'{shown}' is from a different sweep than '{}' (sweep_id {} of {} runs, not {} of {}): the shards of a sweep must be run with the same options, except --shard, --out, --threads, --quiet, --format and --histograms",
                    first_path.display(),
                    r.sweep_id,
                    r.runs,
                    head.sweep_id,
                    head.runs
                ));
            }
            if r.shard != r0.shard {
                return Err(format!(
                    "'{shown}' mixes rows of shard '{}' and '{}'",
                    r0.shard, r.shard
                ));
            }
            if r.run_index > r.runs {
                return Err(format!(
                    "'{shown}': run_index {} is beyond the sweep's {} runs",
                    r.run_index, r.runs
                ));
            }
        }
        if !r0.shard.is_empty() {
            if let Some(other) = shards.insert(r0.shard.clone(), &f.path) {
                return Err(format!(
                    "shard {} is given twice: '{}' and '{shown}'",
                    r0.shard,
                    other.display()
                ));
            }
        }
        // A run's rows (its total, then its groups) are contiguous in
        // their file; a run_index met again later is a duplicate.
        let mut last = None;
        for r in &f.rows {
            if last == Some(r.run_index) {
                continue;
            }
            last = Some(r.run_index);
            if let Some(other) = owner.insert(r.run_index, &f.path) {
                return Err(if other == f.path {
                    format!("'{shown}' holds {} twice", describe(r))
                } else {
                    format!(
                        "{} is in both '{}' and '{shown}'",
                        describe(r),
                        other.display()
                    )
                });
            }
        }
    }
    let missing: Vec<u64> = (1..=head.runs).filter(|k| !owner.contains_key(k)).collect();
    if !missing.is_empty() {
        return Err(missing_message(&files, &missing, head.runs));
    }
    let timeline = merge_timelines(&files)?;
    let mut rows: Vec<RunResult> = files.into_iter().flat_map(|f| f.rows).collect();
    // Stable: a run's total stays before its group rows.
    rows.sort_by_key(|r| r.run_index);
    for r in &mut rows {
        r.shard.clear();
    }
    Ok(Merged { rows, timeline })
}

/// Which shards (or runs) are missing, for the error.
fn missing_message(files: &[ShardFile], missing: &[u64], runs: u64) -> String {
    let shown: Vec<String> = missing.iter().take(10).map(u64::to_string).collect();
    let more = if missing.len() > 10 { ", ..." } else { "" };
    let runs_text = format!(
        "{} of the sweep's {runs} runs are missing (run_index {}{more})",
        missing.len(),
        shown.join(", ")
    );
    // With shards of one N, name the shards that are missing.
    let parsed: Vec<Option<Shard>> = files
        .iter()
        .map(|f| f.rows.first().and_then(|r| Shard::parse(&r.shard).ok()))
        .collect();
    let count = parsed.first().copied().flatten().map(|s| s.count);
    if let Some(n) = count.filter(|&n| parsed.iter().all(|s| s.is_some_and(|s| s.count == n))) {
        let given: Vec<usize> = parsed.iter().flatten().map(|s| s.index).collect();
        let absent: Vec<String> = (1..=n)
            .filter(|i| !given.contains(i))
            .map(|i| format!("{i}/{n}"))
            .collect();
        if !absent.is_empty() {
            return format!(
                "shard {} missing: {runs_text}; give every shard's file",
                absent.join(", ")
            );
        }
    }
    format!("{runs_text}; give every shard's file")
}

/// The shards' timelines merged, if any shard has one: then every shard
/// must, and each holds only its own file's runs.
fn merge_timelines(files: &[ShardFile]) -> Result<Option<Vec<TimelineRow>>, String> {
    let Some(with) = files.iter().find(|f| f.timeline.is_some()) else {
        return Ok(None);
    };
    let mut all = Vec::new();
    for f in files {
        let Some((tp, rows)) = &f.timeline else {
            return Err(format!(
                "'{}' has no timeline next to it ({}), but '{}' has one: give every shard's timeline (run each with the same --window) or none",
                f.path.display(),
                super::phases::timeline_path(&f.path).display(),
                with.path.display()
            ));
        };
        let mine: std::collections::BTreeSet<u64> = f.rows.iter().map(|r| r.run_index).collect();
        if let Some(t) = rows.iter().find(|t| !mine.contains(&t.run_index)) {
            return Err(format!(
                "'{}' has a row of run {} ({} c={} on {}), which is not in '{}': the timeline belongs to another results file",
                tp.display(),
                t.run_index,
                t.strategy,
                t.capacity,
                t.workload,
                f.path.display()
            ));
        }
        all.extend(rows.iter().cloned());
    }
    all.sort_by_key(|t| t.run_index);
    Ok(Some(all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse() {
        assert_eq!(Shard::parse("2/3"), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(Shard::parse("1/1"), Ok(Shard { index: 1, count: 1 }));
        for bad in ["0/3", "4/3", "1/0", "x", "1/", "/3", "-1/3", "1/3/4", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_run_goes_to_exactly_one_shard_and_shards_are_balanced() {
        for runs in 0..40 {
            for n in 1..9 {
                let mut seen = vec![0; runs];
                let mut sizes = Vec::new();
                for i in 1..=n {
                    let s = Shard { index: i, count: n };
                    let mine: Vec<usize> = (0..runs).filter(|&k| s.has(k)).collect();
                    assert_eq!(mine.len(), s.runs_of(runs));
                    sizes.push(mine.len());
                    for k in mine {
                        seen[k] += 1;
                    }
                }
                assert!(seen.iter().all(|&c| c == 1));
                let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
                assert!(hi.unwrap() - lo.unwrap() <= 1);
            }
        }
    }

    #[test]
    fn fingerprints_are_fnv1a() {
        assert_eq!(fingerprint(""), "cbf29ce484222325");
        assert_eq!(fingerprint("a"), "af63dc4c8601ec8c");
    }
}
