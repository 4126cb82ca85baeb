//! What a request costs: the cache operation, timed for real, plus on a miss
//! the fetch from the origin (the database behind the cache), modelled or
//! measured, recorded in HDR histograms.
//!
//! **Timing.** Reading the monotonic clock costs about 20 ns, as much as an LRU
//! lookup, so timing every request would distort what it measures. The loop
//! times the cache operations of one get in [`SAMPLE_STRIDE`] (systematic
//! sampling from the first get; and when a hit comes untimed before any
//! hit was timed, every get until one is, and the same for misses); a timed
//! hit's cost stands for itself and the untimed hits since the previous timed
//! one (recorded with that weight), and a miss's cache cost is the most recent
//! timed miss's cost, to which its own origin time is added, so the origin
//! part of every miss is exact. The clock's own cost, calibrated at start, is
//! subtracted from each timed segment.
//!
//! **Origin model.** `--origin-latency` draws each miss's origin time from a
//! seeded distribution (its own random stream, so it never shifts the keys);
//! it is added to the request's latency and never slept.

use crate::request::Key;
use crate::rng::SimRng;
use crate::units::{format_duration, parse_duration};
use hdrhistogram::Histogram;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto};
use std::time::Instant;
use thiserror::Error;

/// One get in this many has its cache operations timed.
pub(crate) const SAMPLE_STRIDE: u32 = 64;

/// Highest latency a histogram records: one hour, in ns (larger values are
/// clamped to it).
pub(crate) const MAX_NS: u64 = 3_600_000_000_000;

/// An origin that failed (a real database went away mid-run).
#[derive(Debug, Error)]
#[error("origin: {0}")]
pub struct OriginError(pub String);

/// The database behind the cache: fetches a key, returns how long it took.
pub trait Origin {
    /// Fetches `key` (a value of `size` bytes); returns how long it took, in
    /// nanoseconds.
    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError>;
}

/// A distribution of origin latencies.
#[derive(Debug, Clone, PartialEq)]
pub enum OriginModel {
    /// Always this many seconds.
    Constant(f64),
    /// Uniform between two bounds (seconds).
    Uniform(f64, f64),
    /// Normal with mean and standard deviation (seconds), truncated at 0.
    Normal(f64, f64),
    /// Log-normal with median (seconds) and sigma (of the log).
    LogNormal(f64, f64),
    /// Exponential with this mean (seconds).
    Exp(f64),
    /// Pareto with scale (the minimum, seconds) and shape alpha.
    Pareto(f64, f64),
}

impl OriginModel {
    pub(crate) const ACCEPTED: &'static str = "expected 2ms (constant), uniform:1ms..5ms, normal:5ms,1ms (mean, sd), lognormal:2ms,0.8 (median, sigma), exp:2ms (mean) or pareto:1ms,1.5 (minimum, shape)";

    /// Parses `2ms` (constant), `uniform:1ms..5ms`, `normal:5ms,1ms`,
    /// `lognormal:2ms,0.8`, `exp:2ms` or `pareto:1ms,1.5`; the error says what
    /// is accepted.
    pub fn parse(s: &str) -> Result<OriginModel, String> {
        let t = s.trim();
        let bad = |why: &str| {
            format!(
                "invalid origin latency '{s}': {why}; {}",
                OriginModel::ACCEPTED
            )
        };
        let dur = |x: &str| {
            parse_duration(x).map_err(|_| bad(&format!("'{}' is not a duration", x.trim())))
        };
        let num = |x: &str| {
            x.trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .ok_or_else(|| bad(&format!("'{}' is not a positive number", x.trim())))
        };
        let two = |rest: &str, sep: &str| -> Result<(String, String), String> {
            rest.split_once(sep)
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .ok_or_else(|| bad(&format!("expected two values separated by '{sep}'")))
        };
        let Some((kind, rest)) = t.split_once(':') else {
            return Ok(OriginModel::Constant(dur(t)?));
        };
        let m = match kind.trim().to_ascii_lowercase().as_str() {
            "constant" | "const" => OriginModel::Constant(dur(rest)?),
            "uniform" => {
                let (a, b) = two(rest, "..")?;
                let (a, b) = (dur(&a)?, dur(&b)?);
                if a > b {
                    return Err(bad("the lower bound exceeds the upper"));
                }
                OriginModel::Uniform(a, b)
            }
            "normal" => {
                let (a, b) = two(rest, ",")?;
                OriginModel::Normal(dur(&a)?, dur(&b)?)
            }
            "lognormal" => {
                let (a, b) = two(rest, ",")?;
                OriginModel::LogNormal(dur(&a)?, num(&b)?)
            }
            "exp" | "exponential" => OriginModel::Exp(dur(rest)?),
            "pareto" => {
                let (a, b) = two(rest, ",")?;
                OriginModel::Pareto(dur(&a)?, num(&b)?)
            }
            other => return Err(bad(&format!("unknown distribution '{other}'"))),
        };
        Ok(m)
    }

    /// The distribution's mean, seconds (a Pareto without one: its
    /// minimum; a normal: its mean before truncation at 0).
    pub(crate) fn mean_s(&self) -> f64 {
        match *self {
            OriginModel::Constant(a) => a,
            OriginModel::Uniform(a, b) => (a + b) / 2.0,
            OriginModel::Normal(m, _) => m,
            OriginModel::LogNormal(med, s) => med * (s * s / 2.0).exp(),
            OriginModel::Exp(m) => m,
            OriginModel::Pareto(x, a) if a > 1.0 => x * a / (a - 1.0),
            OriginModel::Pareto(x, _) => x,
        }
    }

    /// The canonical spelling, for the `origin` column.
    pub(crate) fn label(&self) -> String {
        let d = format_duration;
        match *self {
            OriginModel::Constant(a) => d(a),
            OriginModel::Uniform(a, b) => format!("uniform:{}..{}", d(a), d(b)),
            OriginModel::Normal(a, b) => format!("normal:{},{}", d(a), d(b)),
            OriginModel::LogNormal(a, s) => format!("lognormal:{},{s}", d(a)),
            OriginModel::Exp(a) => format!("exp:{}", d(a)),
            OriginModel::Pareto(a, s) => format!("pareto:{},{s}", d(a)),
        }
    }
}

/// The modelled origin: samples [`OriginModel`] from its own seeded stream.
pub struct ModelOrigin {
    model: Sampler,
    rng: SimRng,
    /// A constant model's one fetch time, ns, worked out once.
    constant_ns: Option<u64>,
}

enum Sampler {
    Constant(f64),
    Uniform(f64, f64),
    Normal(Normal<f64>),
    LogNormal(LogNormal<f64>),
    Exp(Exp<f64>),
    Pareto(Pareto<f64>),
}

impl ModelOrigin {
    /// An origin drawing its latencies from `model`, seeded by `seed` (the same
    /// seed, the same latencies).
    pub fn new(model: &OriginModel, seed: u64) -> ModelOrigin {
        ModelOrigin::on_stream(model, seed, 0x0121_617e)
    }

    /// As [`ModelOrigin::new`], on random stream `stream` of `seed` (for
    /// another distribution of the same run, such as think times).
    pub(crate) fn on_stream(model: &OriginModel, seed: u64, stream: u64) -> ModelOrigin {
        let s = match *model {
            OriginModel::Constant(a) => Sampler::Constant(a),
            OriginModel::Uniform(a, b) => Sampler::Uniform(a, b),
            OriginModel::Normal(m, sd) => Sampler::Normal(Normal::new(m, sd).expect("sd >= 0")),
            OriginModel::LogNormal(med, sigma) => {
                Sampler::LogNormal(LogNormal::new(med.ln(), sigma).expect("sigma > 0"))
            }
            OriginModel::Exp(mean) => Sampler::Exp(Exp::new(1.0 / mean).expect("mean > 0")),
            OriginModel::Pareto(scale, shape) => {
                Sampler::Pareto(Pareto::new(scale, shape).expect("positive"))
            }
        };
        let constant_ns = match &s {
            Sampler::Constant(a) => Some(to_ns(*a)),
            _ => None,
        };
        ModelOrigin {
            model: s,
            rng: SimRng::derive(seed, stream),
            constant_ns,
        }
    }

    /// One origin time in seconds.
    pub(crate) fn sample_s(&mut self) -> f64 {
        let r = self.rng.inner();
        match &self.model {
            Sampler::Constant(a) => *a,
            Sampler::Uniform(a, b) => a + (b - a) * self.rng.f64(),
            Sampler::Normal(d) => d.sample(r).max(0.0),
            Sampler::LogNormal(d) => d.sample(r),
            Sampler::Exp(d) => d.sample(r),
            Sampler::Pareto(d) => d.sample(r),
        }
    }
}

impl Origin for ModelOrigin {
    #[inline]
    fn fetch(&mut self, _key: Key, _size: u32) -> Result<u64, OriginError> {
        Ok(match self.constant_ns {
            Some(ns) => ns,
            None => to_ns(self.sample_s()),
        })
    }
}

/// An origin time in seconds as whole nanoseconds, at most [`MAX_NS`].
#[inline]
fn to_ns(s: f64) -> u64 {
    ((s * 1e9).round() as u64).min(MAX_NS)
}

/// A fresh histogram: 1 ns to one hour, 3 significant digits.
pub(crate) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_NS, 3).expect("valid bounds")
}

/// Where the replay loop reports latencies. [`NoLatency`] compiles to
/// nothing; [`Timed`] times and records.
pub trait LatencySink {
    /// Before a get: a start instant if this get is timed.
    fn begin(&mut self) -> Option<Instant>;
    /// An instant if `t0` is (the get is timed), else nothing.
    fn mark(&self, t0: Option<Instant>) -> Option<Instant>;
    /// After a hit: `t0` from [`LatencySink::begin`].
    fn hit(&mut self, t0: Option<Instant>);
    /// Fetches a missed key from the origin; returns its time in ns.
    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError>;
    /// After a miss: `t0` start, `t1` after the lookup, `t2` after the fetch
    /// (the insert follows until now).
    fn miss(
        &mut self,
        t0: Option<Instant>,
        t1: Option<Instant>,
        t2: Option<Instant>,
        origin_ns: u64,
    );
}

/// Latency off (`--no-latency`): every method is a no-op.
pub struct NoLatency;

impl LatencySink for NoLatency {
    #[inline(always)]
    fn begin(&mut self) -> Option<Instant> {
        None
    }
    #[inline(always)]
    fn mark(&self, _t0: Option<Instant>) -> Option<Instant> {
        None
    }
    #[inline(always)]
    fn hit(&mut self, _t0: Option<Instant>) {}
    #[inline(always)]
    fn fetch(&mut self, _key: Key, _size: u32) -> Result<u64, OriginError> {
        Ok(0)
    }
    #[inline(always)]
    fn miss(
        &mut self,
        _t0: Option<Instant>,
        _t1: Option<Instant>,
        _t2: Option<Instant>,
        _origin_ns: u64,
    ) {
    }
}

/// Times a sample of gets, fetches from an origin, records histograms.
pub struct Timed<O: Origin> {
    /// The origin misses are fetched from.
    pub origin: O,
    /// Latency of timed hits (and the untimed ones they stand for), nanoseconds.
    pub hits: Histogram<u64>,
    /// Latency of misses (cache operation plus origin fetch), nanoseconds.
    pub misses: Histogram<u64>,
    /// Fetches sent to the origin.
    pub origin_requests: u64,
    /// Total origin time of those fetches, nanoseconds.
    pub origin_ns: u64,
    counter: u32,
    pending_hits: u64,
    last_hit_ns: Option<u64>,
    last_miss_ns: Option<u64>,
    /// Run-length buffer for miss latencies: `(value, count)` not yet
    /// recorded. With a constant origin most misses repeat the previous
    /// value, and one `record_n` replaces thousands of `record`s.
    miss_run: (u64, u64),
    /// Origin times of untimed misses before any miss was timed, waiting
    /// for a timed miss's cache cost (see [`LatencySink::begin`]).
    early_misses: Vec<u64>,
    clock_ns: u64,
}

/// The cost of reading the clock twice, the minimum over many tries.
pub(crate) fn clock_overhead_ns() -> u64 {
    (0..2000)
        .map(|_| {
            let a = Instant::now();
            let b = Instant::now();
            (b - a).as_nanos() as u64
        })
        .min()
        .unwrap_or(0)
}

impl<O: Origin> Timed<O> {
    /// Times gets against `origin`, with empty histograms and the clock's own
    /// cost calibrated.
    pub fn new(origin: O) -> Timed<O> {
        Timed {
            origin,
            hits: new_histogram(),
            misses: new_histogram(),
            origin_requests: 0,
            origin_ns: 0,
            // The first get is timed.
            counter: SAMPLE_STRIDE - 1,
            pending_hits: 0,
            last_hit_ns: None,
            last_miss_ns: None,
            miss_run: (0, 0),
            early_misses: Vec::new(),
            clock_ns: clock_overhead_ns(),
        }
    }

    #[inline]
    fn since(&self, t: Instant) -> u64 {
        (t.elapsed().as_nanos() as u64).saturating_sub(self.clock_ns)
    }

    /// Records hits still waiting for a timed one and buffered misses; call
    /// once after the run.
    pub fn finish(&mut self) {
        // No miss was timed after them: their cache part is unknown, 0.
        for origin_ns in std::mem::take(&mut self.early_misses) {
            self.record_miss(origin_ns.clamp(1, MAX_NS));
        }
        self.flush_misses();
        if self.pending_hits > 0 {
            let v = self.last_hit_ns.unwrap_or(0);
            self.hits.saturating_record_n(v.max(1), self.pending_hits);
            self.pending_hits = 0;
        }
    }

    /// Records one miss of `v` ns, into the run of equal values.
    #[inline]
    fn record_miss(&mut self, v: u64) {
        if self.miss_run.0 == v {
            self.miss_run.1 += 1;
        } else {
            self.flush_misses();
            self.miss_run = (v, 1);
        }
    }

    fn flush_misses(&mut self) {
        let (v, n) = self.miss_run;
        if n > 0 {
            self.misses.saturating_record_n(v, n);
            self.miss_run = (0, 0);
        }
    }

    /// Hits and misses together.
    pub(crate) fn overall(&self) -> Histogram<u64> {
        let mut h = self.hits.clone();
        h.add(&self.misses).expect("same bounds");
        h
    }
}

impl<O: Origin> LatencySink for Timed<O> {
    #[inline]
    fn begin(&mut self) -> Option<Instant> {
        self.counter += 1;
        // The first get, then one in SAMPLE_STRIDE; and from an untimed
        // hit (miss) until a hit (miss) is timed, every get, so that every
        // hit and miss has a timed cost to stand for it. (Timing every get
        // until a hit and a miss had been timed timed all of them for
        // `none`, which never hits, and for a cache prefilled with every
        // key, which never misses: 10x slower.)
        if self.counter >= SAMPLE_STRIDE
            || !self.early_misses.is_empty()
            || (self.pending_hits > 0 && self.last_hit_ns.is_none())
        {
            self.counter = 0;
            Some(Instant::now())
        } else {
            None
        }
    }

    #[inline]
    fn mark(&self, t0: Option<Instant>) -> Option<Instant> {
        t0.map(|_| Instant::now())
    }

    #[inline]
    fn hit(&mut self, t0: Option<Instant>) {
        match t0 {
            Some(t0) => {
                let ns = self.since(t0).max(1);
                self.hits.saturating_record_n(ns, self.pending_hits + 1);
                self.pending_hits = 0;
                self.last_hit_ns = Some(ns);
            }
            None => self.pending_hits += 1,
        }
    }

    #[inline]
    fn fetch(&mut self, key: Key, size: u32) -> Result<u64, OriginError> {
        let ns = self.origin.fetch(key, size)?;
        self.origin_requests += 1;
        self.origin_ns += ns;
        Ok(ns)
    }

    #[inline]
    fn miss(
        &mut self,
        t0: Option<Instant>,
        t1: Option<Instant>,
        t2: Option<Instant>,
        origin_ns: u64,
    ) {
        let cache_ns = match (t0, t1, t2) {
            (Some(t0), Some(t1), Some(t2)) => {
                let lookup = ((t1 - t0).as_nanos() as u64).saturating_sub(self.clock_ns);
                let ns = lookup + self.since(t2);
                self.last_miss_ns = Some(ns);
                for early in std::mem::take(&mut self.early_misses) {
                    self.record_miss((ns + early).clamp(1, MAX_NS));
                }
                ns
            }
            _ => match self.last_miss_ns {
                Some(ns) => ns,
                None => {
                    self.early_misses.push(origin_ns);
                    return;
                }
            },
        };
        self.record_miss((cache_ns + origin_ns).clamp(1, MAX_NS));
    }
}

/// The latency figures of one run, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LatencySummary {
    pub mean_us: f64,
    pub p50_us: f64,
    pub p90_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub p9999_us: f64,
    pub max_us: f64,
    pub hit_p50_us: Option<f64>,
    pub hit_p99_us: Option<f64>,
    pub miss_p50_us: Option<f64>,
    pub miss_p99_us: Option<f64>,
    /// The latency at the percentiles of [`spectrum_quantile`],
    /// microseconds (the `lat_spectrum_us` column).
    pub spectrum_us: [f64; SPECTRUM_POINTS],
}

/// Points of the latency spectrum: p = 0, 2.5%, ..., 90% (37 points, where
/// the hits and the step to the misses usually are), then p = 1 - 10^(-x)
/// for x = 1.1, 1.2, ..., 5 (40 points, the tail up to 99.999%).
pub const SPECTRUM_POINTS: usize = 77;

/// The percentile of spectrum point `i` (see [`SPECTRUM_POINTS`]).
pub fn spectrum_quantile(i: usize) -> f64 {
    if i <= 36 {
        i as f64 * 0.025
    } else {
        1.0 - 10f64.powf(-(1.0 + (i - 36) as f64 / 10.0))
    }
}

/// The `lat_spectrum_us` cell: every value with 4 significant digits, space
/// separated.
pub(crate) fn format_spectrum(v: &[f64]) -> String {
    v.iter()
        .map(|x| {
            let s = format!("{:.3e}", x);
            // 1.234e3 -> 1234, 1.200e-2 -> 0.012: parse back for the shortest
            // plain form.
            s.parse::<f64>().map(|f| f.to_string()).unwrap_or(s)
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads a `lat_spectrum_us` cell back; `None` when empty or malformed.
pub fn parse_spectrum(s: &str) -> Option<Vec<f64>> {
    let v: Vec<f64> = s
        .split_whitespace()
        .map(|x| x.parse::<f64>())
        .collect::<Result<_, _>>()
        .ok()?;
    (v.len() == SPECTRUM_POINTS).then_some(v)
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

impl LatencySummary {
    pub(crate) fn of(
        overall: &Histogram<u64>,
        hits: &Histogram<u64>,
        misses: &Histogram<u64>,
    ) -> LatencySummary {
        let q = |h: &Histogram<u64>, p: f64| us(h.value_at_quantile(p));
        let opt = |h: &Histogram<u64>, p: f64| (!h.is_empty()).then(|| q(h, p));
        LatencySummary {
            mean_us: overall.mean() / 1000.0,
            p50_us: q(overall, 0.5),
            p90_us: q(overall, 0.9),
            p99_us: q(overall, 0.99),
            p999_us: q(overall, 0.999),
            p9999_us: q(overall, 0.9999),
            max_us: us(overall.max()),
            hit_p50_us: opt(hits, 0.5),
            hit_p99_us: opt(hits, 0.99),
            miss_p50_us: opt(misses, 0.5),
            miss_p99_us: opt(misses, 0.99),
            spectrum_us: std::array::from_fn(|i| {
                if i == 0 {
                    us(overall.min())
                } else {
                    q(overall, spectrum_quantile(i))
                }
            }),
        }
    }
}

/// Sub-buckets per bucket at 3 significant digits (the smallest power of two
/// at least 2 x 10^3), as HdrHistogram reports it.
const SUB_BUCKETS: u32 = 2048;

/// Writes `h` (values in ns) in HdrHistogram's percentile-distribution text
/// format (as `outputPercentileDistribution` prints it with 5 ticks per half
/// distance and values scaled to microseconds), which HdrHistogram plotters read.
pub(crate) fn write_hgrm(h: &Histogram<u64>, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let scale = 1000.0;
    writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    )?;
    let mut count = 0u64;
    for v in h.iter_quantiles(5) {
        let value = v.value_iterated_to() as f64 / scale;
        let p = v.quantile_iterated_to();
        count += v.count_since_last_iteration();
        if p < 1.0 {
            writeln!(
                out,
                "{value:12.3} {p:2.12} {count:10} {:14.2}",
                1.0 / (1.0 - p)
            )?;
        } else {
            writeln!(out, "{value:12.3} {p:2.12} {count:10}")?;
        }
    }
    writeln!(
        out,
        "#[Mean    = {:12.3}, StdDeviation   = {:12.3}]",
        h.mean() / scale,
        h.stdev() / scale
    )?;
    writeln!(
        out,
        "#[Max     = {:12.3}, Total count    = {:12}]",
        h.max() as f64 / scale,
        h.len()
    )?;
    writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        SUB_BUCKETS
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_model_and_rejects_bad_ones() {
        assert_eq!(
            OriginModel::parse("2ms").unwrap(),
            OriginModel::Constant(0.002)
        );
        assert_eq!(
            OriginModel::parse("uniform:1ms..5ms").unwrap(),
            OriginModel::Uniform(0.001, 0.005)
        );
        assert_eq!(
            OriginModel::parse("normal:5ms,1ms").unwrap(),
            OriginModel::Normal(0.005, 0.001)
        );
        assert_eq!(
            OriginModel::parse("lognormal:2ms,0.8").unwrap(),
            OriginModel::LogNormal(0.002, 0.8)
        );
        assert_eq!(
            OriginModel::parse("exp:2ms").unwrap(),
            OriginModel::Exp(0.002)
        );
        assert_eq!(
            OriginModel::parse("pareto:1ms,1.5").unwrap(),
            OriginModel::Pareto(0.001, 1.5)
        );
        for bad in [
            "fast",
            "uniform:5ms..1ms",
            "normal:5ms",
            "lognormal:2ms,-1",
            "gamma:1ms",
            "uniform:1ms-5ms",
        ] {
            let e = OriginModel::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("lognormal:2ms,0.8"), "{e}");
        }
        for s in [
            "2ms",
            "uniform:1ms..5ms",
            "normal:5ms,1ms",
            "lognormal:2ms,0.8",
            "exp:2ms",
            "pareto:1ms,1.5",
        ] {
            assert_eq!(OriginModel::parse(s).unwrap().label(), s);
        }
    }

    fn median_and_mean(model: &str, n: usize) -> (f64, f64) {
        let mut o = ModelOrigin::new(&OriginModel::parse(model).unwrap(), 9);
        let mut v: Vec<f64> = (0..n).map(|_| o.sample_s()).collect();
        v.sort_by(f64::total_cmp);
        (v[n / 2], v.iter().sum::<f64>() / n as f64)
    }

    #[test]
    fn distributions_have_their_median_and_spread() {
        let n = 200_000;
        let (med, mean) = median_and_mean("uniform:1ms..5ms", n);
        assert!((med - 0.003).abs() < 0.00005 && (mean - 0.003).abs() < 0.00005);
        let (med, _) = median_and_mean("normal:5ms,1ms", n);
        assert!((med - 0.005).abs() < 0.00003, "{med}");
        let (med, mean) = median_and_mean("lognormal:2ms,0.8", n);
        assert!((med - 0.002).abs() < 0.00003, "{med}");
        // mean of a log-normal = median * exp(sigma^2 / 2)
        assert!((mean - 0.002 * (0.32f64).exp()).abs() < 0.00005, "{mean}");
        let (med, mean) = median_and_mean("exp:2ms", n);
        assert!((mean - 0.002).abs() < 0.00003 && (med - 0.002 * 2f64.ln()).abs() < 0.00003);
        let (med, _) = median_and_mean("pareto:1ms,1.5", n);
        // median of Pareto = scale * 2^(1/shape)
        assert!(
            (med - 0.001 * 2f64.powf(1.0 / 1.5)).abs() < 0.00003,
            "{med}"
        );
        let (med, mean) = median_and_mean("7ms", 10);
        assert!(med == 0.007 && (mean - 0.007).abs() < 1e-15);
    }

    #[test]
    fn a_constant_origin_fetches_its_rounded_time_and_misses_are_all_recorded() {
        // 2,000,000.4 ns rounds down, 2,000,000.6 ns up.
        for (s, ns) in [(0.002_000_000_4, 2_000_000), (0.002_000_000_6, 2_000_001)] {
            let mut o = ModelOrigin::new(&OriginModel::Constant(s), 1);
            assert_eq!(o.fetch(1, 1).unwrap(), ns, "{s}");
        }
        // Untimed misses repeat the last timed one's cache time: runs of
        // one value, recorded at once, and the changes between them.
        let mut t = Timed::new(ModelOrigin::new(&OriginModel::Constant(0.002), 1));
        let origin = t.fetch(1, 1).unwrap();
        t.miss(None, None, None, origin);
        t.miss(None, None, None, origin);
        t.last_miss_ns = Some(1_000_000);
        for _ in 0..3 {
            t.miss(None, None, None, origin);
        }
        t.miss(None, None, None, 7);
        t.finish();
        assert_eq!(t.misses.len(), 6);
        let at = |v: u64| t.misses.count_at(v);
        assert_eq!(
            (at(2_000_000), at(3_000_000), at(1_000_007)),
            (2, 3, 1),
            "the values and their counts"
        );
    }

    #[test]
    fn a_cache_that_never_hits_is_timed_one_get_in_64_and_an_untimed_hit_forces_a_timed_one() {
        let mut t = Timed::new(ModelOrigin::new(&OriginModel::Constant(0.002), 1));
        let mut timed = 0;
        for _ in 0..64_000 {
            let t0 = t.begin();
            timed += usize::from(t0.is_some());
            let t1 = t.mark(t0);
            let origin = t.fetch(1, 1).unwrap();
            let t2 = t.mark(t0);
            t.miss(t0, t1, t2, origin);
        }
        // The first get, then every 64th (`none` timed them all).
        assert!((1000..=1001).contains(&timed), "{timed} gets timed");
        // Hits now, the first off the stride: it is untimed; then gets
        // are timed until a hit is, and sampled after.
        let stride = t.begin();
        assert!(stride.is_some(), "the 64,001st get is on the stride");
        t.miss(stride, stride, stride, 0);
        let t0 = t.begin();
        assert!(t0.is_none());
        t.hit(t0);
        assert_eq!(t.last_hit_ns, None);
        let forced = t.begin();
        assert!(
            forced.is_some(),
            "the get after an untimed first hit is timed"
        );
        t.hit(forced);
        assert!(t.last_hit_ns.is_some());
        assert!(t.begin().is_none(), "then one get in 64 again");
    }

    #[test]
    fn a_cache_that_never_misses_is_timed_one_get_in_64_and_an_untimed_miss_waits_for_a_timed_one()
    {
        let mut t = Timed::new(ModelOrigin::new(&OriginModel::Constant(0.002), 1));
        let mut timed = 0;
        for _ in 0..64_000 {
            let t0 = t.begin();
            timed += usize::from(t0.is_some());
            t.hit(t0);
        }
        // A cache prefilled with every key: it timed them all.
        assert!((1000..=1001).contains(&timed), "{timed} gets timed");
        assert_eq!(t.last_miss_ns, None);
        // A first miss off the stride: untimed, it waits; the get after
        // it is timed, and the second miss's timed cache cost is the
        // first's too.
        let stride = t.begin();
        assert!(stride.is_some());
        t.hit(stride);
        let t0 = t.begin();
        assert!(t0.is_none());
        let origin = t.fetch(1, 1).unwrap();
        t.miss(t0, None, None, origin);
        assert_eq!(
            t.misses.len(),
            0,
            "not recorded before its cache cost is known"
        );
        let t0 = t.begin();
        assert!(t0.is_some(), "the get after an untimed first miss is timed");
        let t1 = t.mark(t0);
        let t2 = t.mark(t0);
        t.miss(t0, t1, t2, origin);
        let cache = t.last_miss_ns.expect("a timed miss");
        assert!(t.begin().is_none(), "then one get in 64 again");
        t.finish();
        assert_eq!(t.misses.count_at(origin + cache), 2);
    }

    #[test]
    fn same_seed_same_samples() {
        let m = OriginModel::parse("lognormal:2ms,0.8").unwrap();
        let mut a = ModelOrigin::new(&m, 3);
        let mut b = ModelOrigin::new(&m, 3);
        for _ in 0..100 {
            assert_eq!(a.fetch(1, 1).unwrap(), b.fetch(1, 1).unwrap());
        }
    }
}
