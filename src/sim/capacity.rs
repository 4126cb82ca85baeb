//! Cache capacities as the user writes them (`1000`, `10k`, `5%`, `64MiB`) and
//! as a run uses them (a number of objects or of bytes).
//!
//! A percentage is of the workload's working set: the distinct keys actually
//! requested (counted on the generated stream or in a pass over the trace),
//! rounded to the nearest whole object, at least 1.
//!
//! A list may mix single values and ranges `START..END:POINTS` (both ends of
//! the same kind, inclusive): `0.1%..50%:12`, `100..100k:10`, `1MiB..1GiB:8`.
//! Points are log-spaced by default ([`Scale::Log`]: each point the previous
//! times a constant factor, as cache-size sweeps are read on a log axis) or
//! evenly spaced ([`Scale::Linear`]). Count and byte points are rounded to
//! whole numbers and percentages to 4 significant digits; a point equal to
//! the one before it after rounding is dropped, so `1..10:20` gives 1..=10
//! once each.

use crate::units::{format_bytes, parse_bytes, parse_count};
use serde::{Deserialize, Serialize};

/// Whether capacity counts objects or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CapacityKind {
    /// The capacity is a number of objects (each charged 1).
    Objects,
    /// The capacity is a byte budget (each object charged its size).
    Bytes,
}

impl CapacityKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CapacityKind::Objects => "objects",
            CapacityKind::Bytes => "bytes",
        }
    }
}

/// Most points one range may ask for.
pub(crate) const MAX_POINTS: usize = 100_000;

/// How the points of a capacity range are spaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scale {
    /// A constant ratio between neighbours (the default).
    #[default]
    Log,
    /// A constant difference between neighbours.
    Linear,
}

impl Scale {
    pub(crate) fn parse(s: &str) -> Result<Scale, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "log" => Ok(Scale::Log),
            "linear" | "lin" => Ok(Scale::Linear),
            _ => Err(format!("unknown scale '{s}'; valid scales: log, linear")),
        }
    }
}

/// `x` rounded to `digits` significant decimal digits.
fn round_sig(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let mag = x.abs().log10().floor() as i32;
    let f = 10f64.powi(digits - 1 - mag);
    // Printing through a string avoids artefacts such as 0.30000000000000004.
    let r = (x * f).round() / f;
    format!("{r:.*}", (digits - 1 - mag).max(0) as usize)
        .parse()
        .unwrap_or(r)
}

/// A capacity as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Capacity {
    /// A number of objects.
    Count(u64),
    /// A share of the distinct keys, in percent.
    Percent(f64),
    /// A byte budget.
    Bytes(u64),
}

impl Capacity {
    /// Parses one capacity. Accepted: `1000`, `10k`, `1M` (objects), `5%` or
    /// `0.5%` (of the distinct keys), `64KiB`/`64MiB`/`1GiB` (powers of two)
    /// and `64KB`/`64MB`/`1GB` (powers of ten) for byte budgets.
    pub fn parse(s: &str) -> Result<Capacity, String> {
        let t = s.trim();
        let accepted = "expected a count (1000, 10k, 1M), a percentage of the distinct keys (5%), or a byte size (64MiB, 1GB)";
        if let Some(p) = t.strip_suffix('%') {
            let v: f64 = p
                .trim()
                .parse()
                .map_err(|_| format!("invalid capacity '{s}': {accepted}"))?;
            if !(v > 0.0 && v <= 100.0) {
                return Err(format!(
                    "invalid capacity '{s}': a percentage must be in (0, 100]"
                ));
            }
            return Ok(Capacity::Percent(v));
        }
        if let Some(b) = parse_bytes(t) {
            let b = b.map_err(|e| format!("invalid capacity '{s}': {e}"))?;
            if b == 0 {
                return Err(format!("invalid capacity '{s}': must be at least 1 byte (use --strategy none to run without a cache)"));
            }
            return Ok(Capacity::Bytes(b));
        }
        let n = parse_count(t).map_err(|_| format!("invalid capacity '{s}': {accepted}"))?;
        if n == 0 {
            return Err(format!(
                "invalid capacity '{s}': must be at least 1 (use --strategy none to run without a cache)"
            ));
        }
        Ok(Capacity::Count(n))
    }

    /// Parses a comma-separated list of values and ranges, ranges
    /// log-spaced.
    pub fn parse_list(s: &str) -> Result<Vec<Capacity>, String> {
        Capacity::parse_list_scaled(s, Scale::Log)
    }

    /// Parses a comma-separated list of values and `START..END:POINTS`
    /// ranges, spacing range points by `scale`. The order is as written.
    pub fn parse_list_scaled(s: &str, scale: Scale) -> Result<Vec<Capacity>, String> {
        Ok(CapacityList::parse(s)?.expand(scale))
    }

    /// Parses one range `START..END:POINTS` into its points.
    pub fn parse_range(s: &str, scale: Scale) -> Result<Vec<Capacity>, String> {
        Ok(Range::parse(s)?.points(scale))
    }

    /// Whether this capacity counts objects (a count or a percentage) or
    /// bytes.
    pub fn kind(&self) -> CapacityKind {
        match self {
            Capacity::Bytes(_) => CapacityKind::Bytes,
            _ => CapacityKind::Objects,
        }
    }

    /// The capacity in objects or bytes for a workload with `distinct` keys.
    pub fn resolve(&self, distinct: u64) -> u64 {
        match *self {
            Capacity::Count(n) => n,
            Capacity::Bytes(b) => b,
            Capacity::Percent(p) => ((distinct as f64 * p / 100.0).round() as u64).max(1),
        }
    }

    /// How the user wrote it, normalised (`5%`, `10000`, `64MiB`).
    pub fn label(&self) -> String {
        match *self {
            Capacity::Count(n) => n.to_string(),
            Capacity::Percent(p) => format!("{p}%"),
            Capacity::Bytes(b) => format_bytes(b),
        }
    }
}

/// A capacity list as written (`--capacity`): values and ranges, checked,
/// with the ranges' points not yet placed, since their spacing is another
/// option (`--capacity-scale`).
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityList {
    parts: Vec<Part>,
    text: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    One(Capacity),
    Range(Range),
}

/// A range `START..END:POINTS`, checked: both ends of one kind, END above
/// START.
#[derive(Debug, Clone, PartialEq)]
struct Range {
    lo: Capacity,
    x0: f64,
    x1: f64,
    points: usize,
}

impl CapacityList {
    /// Parses a comma-separated list of values and `START..END:POINTS`
    /// ranges.
    pub fn parse(s: &str) -> Result<CapacityList, String> {
        let mut parts = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            parts.push(if part.contains("..") {
                Part::Range(Range::parse(part)?)
            } else {
                Part::One(Capacity::parse(part)?)
            });
        }
        if parts.is_empty() {
            return Err(format!("invalid capacity '{s}': no value given"));
        }
        Ok(CapacityList {
            parts,
            text: s.to_string(),
        })
    }

    /// The list as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The capacities in the order written, range points spaced by `scale`.
    pub fn expand(&self, scale: Scale) -> Vec<Capacity> {
        let mut v = Vec::new();
        for p in &self.parts {
            match p {
                Part::One(c) => v.push(*c),
                Part::Range(r) => v.extend(r.points(scale)),
            }
        }
        v
    }
}

impl Range {
    fn parse(s: &str) -> Result<Range, String> {
        let t = s.trim();
        let form = "a range is START..END:POINTS with both ends of the same kind, e.g. 0.1%..50%:12, 100..100k:10 or 1MiB..1GiB:8";
        let (ends, points) = t
            .rsplit_once(':')
            .ok_or_else(|| format!("invalid capacity range '{t}': missing ':POINTS'; {form}"))?;
        let (a, b) = ends
            .split_once("..")
            .ok_or_else(|| format!("invalid capacity range '{t}': {form}"))?;
        let n: usize = points
            .trim()
            .parse()
            .map_err(|_| format!("invalid capacity range '{t}': POINTS '{points}' must be a whole number from 2 to {MAX_POINTS}"))?;
        if !(2..=MAX_POINTS).contains(&n) {
            return Err(format!(
                "invalid capacity range '{t}': POINTS must be from 2 to {MAX_POINTS}, got {n}"
            ));
        }
        let lo = Capacity::parse(a).map_err(|e| format!("in range '{t}': {e}"))?;
        let hi = Capacity::parse(b).map_err(|e| format!("in range '{t}': {e}"))?;
        let (x0, x1) = match (lo, hi) {
            (Capacity::Count(x), Capacity::Count(y)) | (Capacity::Bytes(x), Capacity::Bytes(y)) => (x as f64, y as f64),
            (Capacity::Percent(x), Capacity::Percent(y)) => (x, y),
            _ => {
                return Err(format!(
                    "invalid capacity range '{t}': both ends must be of the same kind (two counts, two percentages or two byte sizes)"
                ))
            }
        };
        if x1 <= x0 {
            return Err(format!(
                "invalid capacity range '{t}': END must be greater than START"
            ));
        }
        Ok(Range {
            lo,
            x0,
            x1,
            points: n,
        })
    }

    /// The range's points, spaced by `scale`, the ends exactly as written
    /// (neighbours that round to the same capacity appear once).
    fn points(&self, scale: Scale) -> Vec<Capacity> {
        let (lo, x0, x1, n) = (self.lo, self.x0, self.x1, self.points);
        let mut out: Vec<Capacity> = Vec::with_capacity(n);
        for i in 0..n {
            let f = i as f64 / (n - 1) as f64;
            let x = match scale {
                Scale::Log => x0 * (x1 / x0).powf(f),
                Scale::Linear => x0 + (x1 - x0) * f,
            };
            // The ends are exactly as written.
            let x = if i == 0 {
                x0
            } else if i == n - 1 {
                x1
            } else {
                x
            };
            let c = match lo {
                Capacity::Count(_) => Capacity::Count((x.round() as u64).max(1)),
                Capacity::Bytes(_) => Capacity::Bytes((x.round() as u64).max(1)),
                Capacity::Percent(_) => {
                    Capacity::Percent(round_sig(x, 4).clamp(f64::MIN_POSITIVE, 100.0))
                }
            };
            if out.last() != Some(&c) {
                out.push(c);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(Capacity::parse("1000").unwrap(), Capacity::Count(1000));
        assert_eq!(Capacity::parse("10k").unwrap(), Capacity::Count(10_000));
        assert_eq!(Capacity::parse("5%").unwrap(), Capacity::Percent(5.0));
        assert_eq!(Capacity::parse("64MiB").unwrap(), Capacity::Bytes(64 << 20));
        assert_eq!(
            Capacity::parse("1GB").unwrap(),
            Capacity::Bytes(1_000_000_000)
        );
        assert_eq!(Capacity::parse_list("1%,5%, 100").unwrap().len(), 3);
    }

    #[test]
    fn rejects_with_reasons() {
        assert!(Capacity::parse("0").unwrap_err().contains("at least 1"));
        assert!(Capacity::parse("150%").unwrap_err().contains("(0, 100]"));
        assert!(Capacity::parse("lots")
            .unwrap_err()
            .contains("expected a count"));
        assert!(Capacity::parse("-5").is_err());
    }

    #[test]
    fn ranges_log_linear_and_mixed() {
        let v = Capacity::parse_list("100..100k:4").unwrap();
        assert_eq!(v, [100, 1000, 10_000, 100_000].map(Capacity::Count));
        let v = Capacity::parse_list_scaled("0..10:3", Scale::Linear);
        assert!(v.unwrap_err().contains("at least 1"));
        let v = Capacity::parse_list_scaled("10..30:3", Scale::Linear).unwrap();
        assert_eq!(v, [10, 20, 30].map(Capacity::Count));
        let v = Capacity::parse_list("0.1%..50%:12").unwrap();
        assert_eq!(v.len(), 12);
        assert_eq!(v[0], Capacity::Percent(0.1));
        assert_eq!(v[11], Capacity::Percent(50.0));
        assert_eq!(v[1].label(), "0.1759%");
        let v = Capacity::parse_list("1MiB..1GiB:8").unwrap();
        assert_eq!(v.len(), 8);
        assert_eq!(v[0], Capacity::Bytes(1 << 20));
        assert_eq!(v[7], Capacity::Bytes(1 << 30));
        // Mixed with single values, in the order written; duplicates after
        // rounding are dropped.
        let v = Capacity::parse_list("5,1..10:20,1%").unwrap();
        assert_eq!(v.len(), 1 + 10 + 1);
        assert_eq!(v[0], Capacity::Count(5));
        assert_eq!(v[11], Capacity::Percent(1.0));
    }

    #[test]
    fn a_list_is_spaced_by_the_scale_it_is_expanded_with() {
        let l = CapacityList::parse(" 5,10..100:4 ").unwrap();
        assert_eq!(l.text(), " 5,10..100:4 ");
        let log = l.expand(Scale::Log);
        let lin = l.expand(Scale::Linear);
        assert_eq!(log[1..], [10, 22, 46, 100].map(Capacity::Count));
        assert_eq!(lin[1..], [10, 40, 70, 100].map(Capacity::Count));
        assert_eq!(log[0], Capacity::Count(5));
    }

    #[test]
    fn bad_ranges_say_why() {
        assert!(Capacity::parse_list("1..10")
            .unwrap_err()
            .contains("missing ':POINTS'"));
        assert!(Capacity::parse_list("10..1:5")
            .unwrap_err()
            .contains("greater than START"));
        assert!(Capacity::parse_list("1%..10:5")
            .unwrap_err()
            .contains("same kind"));
        assert!(Capacity::parse_list("1..10:1")
            .unwrap_err()
            .contains("from 2"));
        assert!(Capacity::parse_list("1..10:x")
            .unwrap_err()
            .contains("whole number"));
        assert!(Capacity::parse_list("1..lots:3")
            .unwrap_err()
            .contains("in range"));
        assert!(Scale::parse("cubic").unwrap_err().contains("log, linear"));
    }

    #[test]
    fn percent_resolves_against_distinct_keys() {
        assert_eq!(Capacity::Percent(5.0).resolve(1000), 50);
        assert_eq!(Capacity::Percent(0.01).resolve(1000), 1);
        assert_eq!(Capacity::Count(7).resolve(1000), 7);
    }
}
