//! Miss-ratio curves: the LRU hit ratio at every cache size from one pass
//! over a workload, instead of one replay per size.
//!
//! - [`mattson`]: exact stack distances (Mattson et al. 1970) with a Fenwick
//!   tree, O(log n) per request, memory O(distinct keys).
//! - [`shards`]: SHARDS sampling (Waldspurger et al., FAST 2015), fixed rate
//!   or fixed size, for large traces in a fraction of the time and memory.
//!
//! - [`minisim`]: any policy's curve from replays of a key-sampled
//!   workload at scaled capacities (Waldspurger et al., ATC 2017).
//!
//! - [`confidence`]: when a sampled curve rests on too few sampled objects
//!   to be trusted (warnings) or on too few keys to mean anything (refused).
//!
//! Curves are in objects (every object charges 1), over gets, with the
//! replay loop's semantics for sets (a use) and deletes (a removal).

pub mod bytes;
pub mod confidence;
pub mod mattson;
pub mod minisim;
pub mod shards;

use crate::request::Op;
use crate::sim::runner::{Data, Prepared, RunError};
use crate::workload::Batch;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

/// How to compute the curve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Method {
    /// Every request, exact.
    Exact,
    /// SHARDS at a fixed sampling rate in (0, 1], with SHARDS-adj when
    /// the flag is set.
    FixedRate(f64, bool),
    /// SHARDS tracking at most this many keys.
    FixedSize(usize),
}

impl Method {
    /// The `method` column.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Method::Exact => "exact",
            Method::FixedRate(_, true) => "shards",
            Method::FixedRate(_, false) => "shards-noadj",
            Method::FixedSize(_) => "shards-fixed-size",
        }
    }
}

/// The LRU curve in bytes of `w` at `caps` (bytes): exact, or SHARDS in
/// bytes at a fixed rate ([`bytes`]). Gets use their sizes; sets are uses
/// and deletes removals, as in the object curve.
pub(crate) fn compute_bytes(
    w: &Prepared,
    caps: &[u64],
    rate: Option<f64>,
    pb: &ProgressBar,
) -> Result<Curve, RunError> {
    let mut c = bytes::ByteCurve::new(caps, rate);
    for_each_chunk(&w.data, pb, |b, r| {
        for i in r {
            let q = b.request(i, 0);
            match q.op {
                Op::Get => c.get(q.key, q.size),
                Op::Set => c.set(q.key, q.size),
                Op::Delete => c.delete(q.key),
            }
        }
    })?;
    Ok(c.curve())
}

/// A computed curve: hit ratio as a function of capacity (in objects).
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// (distance, cumulative weight of gets at distance <= it), ascending.
    steps: Vec<(f64, f64)>,
    /// Weight counted as hits at every capacity >= 1 (SHARDS-adj).
    adjust: f64,
    /// Denominator: all gets (or their sampled estimate).
    total: f64,
    /// How the curve was computed: `exact`, `shards` or `shards-fixed-size`.
    pub method: &'static str,
    /// 1 for exact; the (final) sampling rate for SHARDS.
    pub sample_rate: f64,
    /// Gets in the workload.
    pub gets: u64,
    /// Keys the computation tracked at the end (memory).
    pub tracked_keys: u64,
    /// Distinct keys in the sample (the `sampled_keys` column): every
    /// distinct key for an exact curve; for SHARDS the keys that passed the
    /// (final) threshold. See [`confidence`].
    pub sampled_keys: u64,
}

impl Curve {
    /// The exact curve of a stack-distance histogram.
    pub fn from_histogram(h: &mattson::Histogram, tracked: usize) -> Curve {
        let mut steps = Vec::new();
        let mut cum = 0u64;
        for (d, &n) in h.hist.iter().enumerate() {
            if n > 0 {
                cum += n;
                steps.push((d as f64, cum as f64));
            }
        }
        let gets = h.gets();
        Curve {
            steps,
            adjust: 0.0,
            total: gets as f64,
            method: Method::Exact.name(),
            sample_rate: 1.0,
            gets,
            tracked_keys: tracked as u64,
            sampled_keys: h.cold,
        }
    }

    /// Hit ratio of an LRU cache of `c` objects, clamped to [0, 1].
    pub fn hit_ratio(&self, c: u64) -> f64 {
        if self.total <= 0.0 || c == 0 {
            return 0.0;
        }
        // Distances are compared with a relative tolerance, as scaled
        // distances d / R are not always exact in floating point.
        let limit = c as f64 * (1.0 + 1e-9);
        let i = self.steps.partition_point(|&(d, _)| d <= limit);
        let hits = if i == 0 { 0.0 } else { self.steps[i - 1].1 };
        ((hits + self.adjust) / self.total).clamp(0.0, 1.0)
    }

    /// The largest distance with a hit: beyond it the curve is flat.
    #[cfg(test)]
    pub(crate) fn max_distance(&self) -> u64 {
        self.steps.last().map(|s| s.0.ceil() as u64).unwrap_or(0)
    }
}

/// Calls `f` on every chunk of the workload's requests in order, advancing
/// the progress bar: the runner's walk, without stream positions.
pub(crate) fn for_each_chunk(
    data: &Data,
    pb: &ProgressBar,
    mut f: impl FnMut(&Batch, std::ops::Range<usize>),
) -> Result<(), RunError> {
    crate::sim::runner::for_each_batch(data, pb, |b, range, _| {
        f(b, range);
        Ok(())
    })
}

/// Feeds every request of `batch[range]` to `get`/`set`/`delete`.
#[inline]
fn feed(batch: &Batch, range: std::ops::Range<usize>, mut on: impl FnMut(Op, u64)) {
    if batch.ops.is_empty() {
        for &k in &batch.keys[range] {
            on(Op::Get, k);
        }
    } else {
        for i in range {
            on(batch.ops[i], batch.keys[i]);
        }
    }
}

/// Computes the curve of a prepared workload in one pass.
pub(crate) fn compute(w: &Prepared, method: Method, pb: &ProgressBar) -> Result<Curve, RunError> {
    match method {
        Method::Exact => {
            let mut s = mattson::StackDistances::new();
            let mut h = mattson::Histogram::default();
            for_each_chunk(&w.data, pb, |b, r| {
                if b.ops.is_empty() {
                    s.access_all(&b.keys[r], |d| h.record(d));
                    return;
                }
                for i in r {
                    let k = b.keys[i];
                    match b.ops[i] {
                        Op::Get => h.record(s.access(k)),
                        Op::Set => {
                            s.access(k);
                        }
                        Op::Delete => {
                            s.remove(k);
                        }
                    }
                }
            })?;
            Ok(Curve {
                sampled_keys: w.distinct,
                ..Curve::from_histogram(&h, s.len())
            })
        }
        Method::FixedRate(rate, adj) => {
            let mut s = shards::ShardsFixedRate::new(rate);
            for_each_chunk(&w.data, pb, |b, r| {
                if b.ops.is_empty() {
                    s.get_all(&b.keys[r]);
                    return;
                }
                feed(b, r, |op, k| match op {
                    Op::Get => s.get(k),
                    Op::Set => s.set(k),
                    Op::Delete => s.delete(k),
                })
            })?;
            Ok(fixed_rate_curve(&s, adj))
        }
        Method::FixedSize(n) => {
            let mut s = shards::ShardsFixedSize::new(n);
            for_each_chunk(&w.data, pb, |b, r| {
                feed(b, r, |op, k| match op {
                    Op::Get => s.get(k),
                    Op::Set => s.set(k),
                    Op::Delete => s.delete(k),
                })
            })?;
            Ok(fixed_size_curve(&s))
        }
    }
}

/// Fixed-rate SHARDS, with SHARDS-adj when `adj` (see [`shards`]);
/// without it the total is the sampled gets.
pub fn fixed_rate_curve(s: &shards::ShardsFixedRate, adj: bool) -> Curve {
    Curve {
        sampled_keys: s.sampled_keys,
        ..sampled_curve(&s.hist, s.gets, s.rate(), s.tracked(), adj)
    }
}

/// The fixed-rate SHARDS curve of a histogram of sampled stack distances
/// `h` (in sampled units) taken at rate `r` from a workload of `gets` gets,
/// whatever chose the sample; `tracked` is reported as the keys tracked,
/// and the sample's cold gets as its keys.
pub fn sampled_curve(
    h: &mattson::Histogram,
    gets: u64,
    r: f64,
    tracked: usize,
    adj: bool,
) -> Curve {
    let mut steps = Vec::new();
    let mut cum = 0u64;
    for (d, &n) in h.hist.iter().enumerate() {
        if n > 0 {
            cum += n;
            steps.push((shards::scale_distance(d as u64, r), cum as f64));
        }
    }
    let sampled = h.gets() as f64;
    let expected = gets as f64 * r;
    Curve {
        steps,
        adjust: if adj { expected - sampled } else { 0.0 },
        total: if adj { expected } else { sampled },
        method: Method::FixedRate(r, adj).name(),
        sample_rate: r,
        gets,
        tracked_keys: tracked as u64,
        sampled_keys: h.cold,
    }
}

/// Fixed-size SHARDS: the rescaled histogram over its total.
pub fn fixed_size_curve(s: &shards::ShardsFixedSize) -> Curve {
    let (h, cold) = s.histogram();
    let mut steps = Vec::with_capacity(h.len());
    let mut cum = 0.0;
    for (d, w) in h {
        cum += w;
        steps.push((d as f64, cum));
    }
    Curve {
        steps,
        adjust: 0.0,
        total: cum + cold,
        method: Method::FixedSize(0).name(),
        sample_rate: s.rate(),
        gets: s.gets,
        tracked_keys: s.tracked() as u64,
        sampled_keys: s.tracked() as u64,
    }
}

/// One row of `cachesim mrc` output (CSV column order = field order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MrcRow {
    /// Cache size in objects.
    pub capacity: u64,
    /// Share of gets that hit a cache of `capacity` objects (LRU, or
    /// `strategy`).
    pub hit_ratio: f64,
    /// 1 - `hit_ratio`.
    pub miss_ratio: f64,
    /// `exact`, `shards` (fixed rate), `shards-noadj`,
    /// `shards-fixed-size`, `minisim` (a replay of the sample) or
    /// `simulation` (a replay of the whole workload).
    pub method: String,
    /// 1 for exact, else the sampling rate (the final one for fixed size).
    pub sample_rate: f64,
    /// Preset name (with overridden parameters) or trace file name, as in
    /// `run`'s `workload` column.
    pub workload: String,
    /// The workload's seed.
    pub seed: u64,
    /// The capacity as given (`5%`, `1000`).
    pub capacity_spec: String,
    /// Requests in the workload.
    pub requests: u64,
    /// Distinct keys in the workload.
    pub distinct_keys: u64,
    /// With `--compare`: the miss ratio of a real LRU replay at `capacity`.
    pub lru_miss_ratio: Option<f64>,
    /// With `--compare`: |miss_ratio - full_miss_ratio|.
    pub abs_error: Option<f64>,
    /// Distinct keys the curve rests on: `distinct_keys` for an exact
    /// curve, the keys in the sample for SHARDS (see [`confidence`]).
    /// Absent from files written before it existed (read as 0).
    #[serde(default)]
    pub sampled_keys: u64,
    /// The policy (canonical spec): `lru` for the LRU curve. Absent from
    /// files written before `--strategy` (read as empty: LRU).
    #[serde(default)]
    pub strategy: String,
    /// Mini-simulation: the capacity the sampled replay ran at,
    /// `max(1, round(capacity * sample_rate))`; empty otherwise.
    #[serde(default)]
    pub scaled_capacity: Option<u64>,
    /// With `--compare`: the miss ratio of a full replay of `strategy` at
    /// `capacity` (for LRU, `lru_miss_ratio`).
    #[serde(default)]
    pub full_miss_ratio: Option<f64>,
    /// `objects`, or `bytes` for a curve in bytes (`--capacity 1MiB..1GiB`,
    /// LRU only). Empty in files written before it (objects).
    #[serde(default)]
    pub capacity_unit: String,
}

/// The CSV header of [`MrcRow`], in order.
pub const COLUMNS: &[&str] = &[
    "capacity",
    "hit_ratio",
    "miss_ratio",
    "method",
    "sample_rate",
    "workload",
    "seed",
    "capacity_spec",
    "requests",
    "distinct_keys",
    "lru_miss_ratio",
    "abs_error",
    "sampled_keys",
    "strategy",
    "scaled_capacity",
    "full_miss_ratio",
    "capacity_unit",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_counts_hits_at_or_below_capacity() {
        let mut h = mattson::Histogram::default();
        let mut s = mattson::StackDistances::new();
        for k in [1u64, 2, 1, 3, 2, 2] {
            h.record(s.access(k));
        }
        let c = Curve::from_histogram(&h, s.len());
        // distances: -, -, 2, -, 3, 1
        assert_eq!(c.hit_ratio(1), 1.0 / 6.0);
        assert_eq!(c.hit_ratio(2), 2.0 / 6.0);
        assert_eq!(c.hit_ratio(3), 3.0 / 6.0);
        assert_eq!(c.hit_ratio(100), 3.0 / 6.0);
        assert_eq!(c.max_distance(), 3);
    }
}
