//! What is in a trace: the numbers `cachesim trace stats` prints. Computed in
//! one streaming pass over any [`RequestSource`], exactly, with memory
//! proportional to the number of distinct keys only (about 80 bytes per
//! distinct key; none per request): per key its count, size and latest
//! position; a Fenwick tree over the latest positions that is compacted
//! (renumbered) whenever it holds more than twice as many positions as keys;
//! and a histogram of reuse distances, which are always below the number of
//! distinct keys. (Before issue 16 the tree covered every request and every
//! distance was kept: 1.5 GB for 100M requests.)
//!
//! Definitions:
//! - *distinct bytes*: the sum over distinct keys of the size of each key's
//!   first request (libCacheSim's working-set size in bytes).
//! - *one-hit wonders*: keys requested exactly once, as a share of the
//!   distinct keys.
//! - *Zipf alpha*: minus the slope of the least-squares line through
//!   `(ln rank, ln count)` for the keys ranked by request count, over ranks
//!   `1..=R` where `R` is the number of keys requested at least twice (the
//!   flat tail of one-hit wonders would bias the slope), or all keys when fewer
//!   than two keys repeat. The range used is reported.
//! - *reuse distance* (Mattson's LRU stack distance): for each request of a key
//!   seen before, the number of distinct other keys requested since its
//!   previous request. An LRU cache of `c` objects hits exactly the requests
//!   whose reuse distance is below `c`. Percentiles are over these re-requests
//!   only (first requests have no reuse distance), nearest-rank.

use super::{Batch, RequestSource};
use crate::request::{Key, Op};
use crate::workload::trace::TraceError;
use rustc_hash::FxHashMap;
use serde::Serialize;

/// Percentiles reported for reuse distances.
pub(crate) const PERCENTILES: &[f64] = &[10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 100.0];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct ZipfFit {
    pub alpha: f64,
    /// The ranks fitted, inclusive: `[1, R]`.
    pub rank_from: u64,
    pub rank_to: u64,
    /// Coefficient of determination of the log-log fit.
    pub r_squared: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Percentile {
    pub p: f64,
    pub value: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct KeyCount {
    pub key: Key,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct TraceStats {
    pub requests: u64,
    pub distinct_keys: u64,
    pub total_bytes: u64,
    pub distinct_bytes: u64,
    pub one_hit_wonders: u64,
    pub one_hit_wonder_fraction: f64,
    /// `None` when fewer than two distinct keys.
    pub zipf: Option<ZipfFit>,
    /// Requests of a key seen before (= requests - distinct keys).
    pub reuses: u64,
    pub reuse_distance: Vec<Percentile>,
    pub top_keys: Vec<KeyCount>,
    /// Requests by operation: what the trace's op column said (all gets
    /// without one).
    pub gets: u64,
    pub sets: u64,
    pub deletes: u64,
    /// Requests that give their object a TTL, and the least and greatest
    /// TTL given (seconds; `None` without any).
    pub with_ttl: u64,
    pub ttl_min_s: Option<f64>,
    pub ttl_max_s: Option<f64>,
    /// Distinct tenants (1 without a tenant column: everyone is tenant 0).
    pub tenants: u64,
    /// Times of the first and last request, seconds.
    pub first_time_s: Option<f64>,
    pub last_time_s: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
struct KeyInfo {
    count: u64,
    last: u64,
    size: u32,
}

/// A growable Fenwick tree over request positions: position `v` holds 1 while
/// request `v` is the latest request of its key.
#[derive(Default)]
struct Fenwick {
    t: Vec<u32>, // 1-based: t[0] unused
}

impl Fenwick {
    fn prefix(&self, mut i: usize) -> u64 {
        // Sum of positions 1..=i.
        let mut s = 0u64;
        while i > 0 {
            s += u64::from(self.t[i]);
            i &= i - 1;
        }
        s
    }

    /// Appends position `len + 1` with value `v`.
    fn push(&mut self, v: u32) {
        if self.t.is_empty() {
            self.t.push(0);
        }
        let i = self.t.len();
        let low = i & i.wrapping_neg();
        let node = self.prefix(i - 1) - self.prefix(i - low) + u64::from(v);
        self.t.push(node as u32);
    }

    fn sub_one(&mut self, mut i: usize) {
        while i < self.t.len() {
            self.t[i] -= 1;
            i += i & i.wrapping_neg();
        }
    }
}

impl Fenwick {
    /// A tree of `n` positions that all hold 1: node `i` covers the
    /// `i & -i` positions ending at `i`.
    fn ones(n: usize) -> Fenwick {
        Fenwick {
            t: (0..=n).map(|i| (i & i.wrapping_neg()) as u32).collect(),
        }
    }
}

/// The tree is compacted when it holds more than twice the distinct keys'
/// positions plus this many.
const COMPACT_SLACK: u64 = 1 << 16;

/// Accumulates statistics batch by batch; [`finish`](Self::finish) computes them.
#[derive(Default)]
pub(crate) struct StatsBuilder {
    keys: FxHashMap<Key, KeyInfo>,
    requests: u64,
    total_bytes: u64,
    /// Position of the next request in `tree` (requests since the last
    /// compaction plus the keys it kept).
    pos: u64,
    tree: Fenwick,
    /// `hist[d]`: re-requests with reuse distance `d`.
    hist: Vec<u64>,
    reuses: u64,
    /// Gets, sets, deletes.
    ops: [u64; 3],
    with_ttl: u64,
    ttl_range: Option<(f32, f32)>,
    tenants: rustc_hash::FxHashSet<u32>,
    times: Option<(f64, f64)>,
}

impl StatsBuilder {
    pub(crate) fn new() -> StatsBuilder {
        StatsBuilder::default()
    }

    pub(crate) fn push_batch(&mut self, b: &Batch) {
        let first = self.requests;
        for i in 0..b.len() {
            let r = b.request(i, first + i as u64);
            self.ops[r.op as usize] += 1;
            let ttl = b.ttl(i);
            if ttl > 0.0 {
                self.with_ttl += 1;
                let (lo, hi) = self.ttl_range.get_or_insert((ttl, ttl));
                *lo = lo.min(ttl);
                *hi = hi.max(ttl);
            }
            self.tenants.insert(b.tenant(i));
            let (t0, t1) = self.times.get_or_insert((r.time, r.time));
            *t0 = t0.min(r.time);
            *t1 = t1.max(r.time);
        }
        for i in 0..b.len() {
            let size = if b.sizes.is_empty() {
                b.unit_size
            } else {
                b.sizes[i]
            };
            self.push(b.keys[i], size);
        }
    }

    pub(crate) fn push(&mut self, key: Key, size: u32) {
        if self.pos >= 2 * self.keys.len() as u64 + COMPACT_SLACK {
            self.compact();
        }
        let v = self.pos; // 0-based position; tree position v + 1
        self.pos += 1;
        self.requests += 1;
        self.total_bytes += u64::from(size);
        match self.keys.get_mut(&key) {
            Some(info) => {
                info.count += 1;
                let prev = info.last as usize + 1;
                // Distinct keys whose latest request lies strictly between.
                let d = (self.tree.prefix(v as usize) - self.tree.prefix(prev)) as usize;
                if d >= self.hist.len() {
                    self.hist.resize(d + 1, 0);
                }
                self.hist[d] += 1;
                self.reuses += 1;
                self.tree.sub_one(prev);
                info.last = v;
            }
            None => {
                self.keys.insert(
                    key,
                    KeyInfo {
                        count: 1,
                        last: v,
                        size,
                    },
                );
            }
        }
        self.tree.push(1);
    }

    /// Renumbers the keys' latest positions `0..keys` in stream order and
    /// rebuilds the tree over them alone: the distinct keys between two
    /// positions, all that a reuse distance counts, stay the same.
    fn compact(&mut self) {
        // rank[p]: live positions before p (a prefix sum over the marks).
        let mut rank = vec![0u32; self.pos as usize];
        for info in self.keys.values() {
            rank[info.last as usize] = 1;
        }
        let mut live = 0u32;
        for r in rank.iter_mut() {
            let mark = *r;
            *r = live;
            live += mark;
        }
        for info in self.keys.values_mut() {
            info.last = u64::from(rank[info.last as usize]);
        }
        self.tree = Fenwick::ones(live as usize);
        self.pos = u64::from(live);
    }

    pub(crate) fn finish(self) -> TraceStats {
        let distinct = self.keys.len() as u64;
        let mut counts: Vec<(u64, Key)> = self.keys.iter().map(|(&k, i)| (i.count, k)).collect();
        let distinct_bytes = self.keys.values().map(|i| u64::from(i.size)).sum();
        let one_hit = counts.iter().filter(|(c, _)| *c == 1).count() as u64;
        // Most requested first; ties by key, so the order is deterministic.
        counts.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let top_keys = counts
            .iter()
            .take(10)
            .map(|&(count, key)| KeyCount { key, count })
            .collect();
        let repeated = counts.iter().take_while(|(c, _)| *c >= 2).count();
        let fit_to = if repeated >= 2 {
            repeated
        } else {
            counts.len()
        };
        let zipf = fit_zipf(&counts[..fit_to]);
        let reuse_distance = if self.reuses == 0 {
            vec![]
        } else {
            PERCENTILES
                .iter()
                .map(|&p| Percentile {
                    p,
                    value: nearest_rank(&self.hist, self.reuses, p),
                })
                .collect()
        };
        TraceStats {
            requests: self.requests,
            distinct_keys: distinct,
            total_bytes: self.total_bytes,
            distinct_bytes,
            one_hit_wonders: one_hit,
            one_hit_wonder_fraction: if distinct == 0 {
                0.0
            } else {
                one_hit as f64 / distinct as f64
            },
            zipf,
            reuses: self.reuses,
            reuse_distance,
            top_keys,
            gets: self.ops[Op::Get as usize],
            sets: self.ops[Op::Set as usize],
            deletes: self.ops[Op::Delete as usize],
            with_ttl: self.with_ttl,
            ttl_min_s: self.ttl_range.map(|r| f64::from(r.0)),
            ttl_max_s: self.ttl_range.map(|r| f64::from(r.1)),
            tenants: self.tenants.len() as u64,
            first_time_s: self.times.map(|t| t.0),
            last_time_s: self.times.map(|t| t.1),
        }
    }

    /// Number of re-requests whose reuse distance is below `c`: the hits of
    /// an LRU cache of `c` objects. Available before [`finish`](Self::finish).
    #[cfg(test)]
    pub(crate) fn lru_hits(&self, c: u64) -> u64 {
        self.hist.iter().take(c as usize).sum()
    }
}

/// Nearest-rank percentile of the `n` values that histogram `hist` counts
/// (`hist[v]`: how many equal `v`): the value of rank `ceil(p% of n)` in
/// sorted order.
fn nearest_rank(hist: &[u64], n: u64, p: f64) -> u64 {
    let rank = ((p / 100.0) * n as f64).ceil().clamp(1.0, n as f64) as u64;
    let mut seen = 0;
    for (v, &c) in hist.iter().enumerate() {
        seen += c;
        if seen >= rank {
            return v as u64;
        }
    }
    hist.len().saturating_sub(1) as u64
}

/// Least squares of ln(count) on ln(rank) for ranks 1..=counts.len().
fn fit_zipf(counts: &[(u64, Key)]) -> Option<ZipfFit> {
    let n = counts.len();
    if n < 2 {
        return None;
    }
    let (mut sx, mut sy, mut sxx, mut sxy, mut syy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (i, &(c, _)) in counts.iter().enumerate() {
        let x = ((i + 1) as f64).ln();
        let y = (c as f64).ln();
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
        syy += y * y;
    }
    let nf = n as f64;
    let vx = sxx - sx * sx / nf;
    let vy = syy - sy * sy / nf;
    let cov = sxy - sx * sy / nf;
    let slope = cov / vx;
    let r_squared = if vy > 0.0 { cov * cov / (vx * vy) } else { 1.0 };
    Some(ZipfFit {
        alpha: -slope,
        rank_from: 1,
        rank_to: n as u64,
        r_squared,
    })
}

/// Streams `source` to the end and returns its statistics. An empty source
/// is an error (there is nothing to describe).
pub(crate) fn compute(
    source: &mut dyn RequestSource,
    path: &std::path::Path,
) -> Result<TraceStats, TraceError> {
    let mut b = Batch::new(1.0, 1);
    let mut s = StatsBuilder::new();
    while source.next_batch(&mut b, 1 << 16)? > 0 {
        s.push_batch(&b);
    }
    if s.requests == 0 {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(s.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{lru::Lru, Access, Evictions, Policy};

    fn stats_of(keys: &[Key]) -> (StatsBuilder, TraceStats) {
        let mut s = StatsBuilder::new();
        for &k in keys {
            s.push(k, 10);
        }
        let mut s2 = StatsBuilder::new();
        for &k in keys {
            s2.push(k, 10);
        }
        (s, s2.finish())
    }

    #[test]
    fn hand_worked_distances_counts_and_bytes() {
        // a b c a b b d a: distances a:2, b:2, b:0, a:2
        let (_, st) = stats_of(&[1, 2, 3, 1, 2, 2, 4, 1]);
        assert_eq!((st.requests, st.distinct_keys, st.reuses), (8, 4, 4));
        assert_eq!((st.total_bytes, st.distinct_bytes), (80, 40));
        assert_eq!(st.one_hit_wonders, 2);
        assert_eq!(st.one_hit_wonder_fraction, 0.5);
        let p: Vec<u64> = st.reuse_distance.iter().map(|p| p.value).collect();
        // sorted distances 0 2 2 2
        assert_eq!(p, vec![0, 0, 2, 2, 2, 2, 2, 2]);
        assert_eq!(st.top_keys[0], KeyCount { key: 1, count: 3 });
        assert_eq!(st.top_keys[1], KeyCount { key: 2, count: 3 });
        assert_eq!(st.top_keys.len(), 4);
    }

    #[test]
    fn operations_ttls_tenants_and_time_span_are_counted() {
        let mut b = Batch::new(1.0, 1);
        for (v, (key, time, op, ttl, tenant)) in [
            (1, 2.0, Op::Get, 0.0, 0),
            (2, 3.0, Op::Set, 30.0, 4),
            (1, 2.5, Op::Get, 0.5, 4),
            (3, 9.0, Op::Delete, 0.0, 9),
        ]
        .into_iter()
        .enumerate()
        {
            b.push(
                &crate::request::Request {
                    time,
                    key,
                    size: 1,
                    op,
                },
                v as u64,
            );
            b.set_last_ttl(ttl);
            b.set_last_tenant(tenant);
        }
        let mut sb = StatsBuilder::new();
        sb.push_batch(&b);
        let st = sb.finish();
        assert_eq!((st.gets, st.sets, st.deletes), (2, 1, 1));
        assert_eq!(
            (st.with_ttl, st.ttl_min_s, st.ttl_max_s),
            (2, Some(0.5), Some(30.0))
        );
        assert_eq!(st.tenants, 3);
        assert_eq!((st.first_time_s, st.last_time_s), (Some(2.0), Some(9.0)));
        // Without those columns: all gets, no TTL, one tenant.
        let mut b = Batch::new(1.0, 1);
        b.keys = vec![5, 6, 5];
        let mut sb = StatsBuilder::new();
        sb.push_batch(&b);
        let st = sb.finish();
        assert_eq!((st.gets, st.sets, st.with_ttl, st.tenants), (3, 0, 0, 1));
        assert_eq!((st.first_time_s, st.last_time_s), (Some(0.0), Some(2.0)));
    }

    #[test]
    fn reuse_distance_predicts_lru_hits() {
        let keys = crate::workload::zipf::generate(500, 0.8, 20_000, 3);
        let (s, _) = stats_of(&keys);
        for c in [1u64, 7, 50, 200, 499] {
            let mut lru = Lru::new(c);
            let mut ev = Evictions::default();
            let mut hits = 0;
            for (v, &k) in keys.iter().enumerate() {
                let a = Access::simple(k, v as u64);
                if lru.get(&a) {
                    hits += 1;
                } else {
                    lru.insert(&a, &mut ev);
                }
            }
            assert_eq!(s.lru_hits(c), hits, "c = {c}");
        }
    }

    #[test]
    fn zipf_fit_recovers_an_exact_power_law() {
        // Key r requested round(10000 / r^1.2) times.
        let mut keys = vec![];
        for r in 1..=200u64 {
            let n = (10000.0 / (r as f64).powf(1.2)).round() as u64;
            keys.extend(std::iter::repeat_n(r, n as usize));
        }
        let (_, st) = stats_of(&keys);
        let z = st.zipf.unwrap();
        assert!((z.alpha - 1.2).abs() < 0.02, "{z:?}");
        assert_eq!((z.rank_from, z.rank_to), (1, 200));
        assert!(z.r_squared > 0.99);
    }

    #[test]
    fn compaction_keeps_every_distance_and_bounds_the_tree() {
        // 300k requests over 1000 keys: the tree is compacted many times.
        let keys = crate::workload::zipf::generate(1000, 0.7, 300_000, 5);
        let (s, st) = stats_of(&keys);
        assert!(s.tree.t.len() as u64 <= 2 * 1000 + COMPACT_SLACK + 1);
        // The distances by brute force: a key's depth in an LRU stack.
        let mut want = vec![0u64; 1000];
        let mut stack: Vec<Key> = vec![];
        for &k in &keys {
            if let Some(d) = stack.iter().rev().position(|&x| x == k) {
                want[d] += 1;
                stack.remove(stack.len() - 1 - d);
            }
            stack.push(k);
        }
        assert_eq!(&want[..s.hist.len()], &s.hist[..]);
        assert!(want[s.hist.len()..].iter().all(|&c| c == 0));
        assert_eq!(st.reuses, 300_000 - st.distinct_keys);
    }

    #[test]
    fn nearest_rank_of_a_histogram_is_that_of_the_sorted_values() {
        let values = [5u64, 0, 2, 2, 9, 2, 7, 0, 1];
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let mut hist = vec![0u64; 10];
        for &v in &values {
            hist[v as usize] += 1;
        }
        for p in [0.0, 10.0, 25.0, 50.0, 75.0, 90.0, 99.0, 100.0] {
            let rank = ((p / 100.0) * 9.0_f64).ceil() as usize;
            assert_eq!(
                nearest_rank(&hist, 9, p),
                sorted[rank.clamp(1, 9) - 1],
                "p{p}"
            );
        }
    }

    #[test]
    fn fenwick_ones_is_a_tree_of_ones() {
        let f = Fenwick::ones(37);
        for i in 0..=37 {
            assert_eq!(f.prefix(i), i as u64);
        }
    }

    #[test]
    fn fenwick_push_builds_the_same_tree_as_updates() {
        let mut f = Fenwick::default();
        for i in 0..100u32 {
            f.push(i % 3);
        }
        for i in 0..=100usize {
            let want: u64 = (0..i as u32).map(|v| u64::from(v % 3)).sum();
            assert_eq!(f.prefix(i), want);
        }
    }
}
