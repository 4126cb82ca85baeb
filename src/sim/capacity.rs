//! Cache capacities as the user writes them (`1000`, `10k`, `5%`, `64MiB`) and
//! as a run uses them (a number of objects or of bytes).
//!
//! A percentage is of the workload's working set: the distinct keys actually
//! requested (counted on the generated stream or in a pass over the trace),
//! rounded to the nearest whole object, at least 1.

use crate::units::{format_bytes, parse_bytes, parse_count};
use serde::{Deserialize, Serialize};

/// Whether capacity counts objects or bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CapacityKind {
    Objects,
    Bytes,
}

impl CapacityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CapacityKind::Objects => "objects",
            CapacityKind::Bytes => "bytes",
        }
    }
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

    /// Parses a comma-separated list.
    pub fn parse_list(s: &str) -> Result<Vec<Capacity>, String> {
        let v: Vec<Capacity> = s
            .split(',')
            .filter(|p| !p.trim().is_empty())
            .map(Capacity::parse)
            .collect::<Result<_, _>>()?;
        if v.is_empty() {
            return Err(format!("invalid capacity '{s}': no value given"));
        }
        Ok(v)
    }

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
    fn percent_resolves_against_distinct_keys() {
        assert_eq!(Capacity::Percent(5.0).resolve(1000), 50);
        assert_eq!(Capacity::Percent(0.01).resolve(1000), 1);
        assert_eq!(Capacity::Count(7).resolve(1000), 7);
    }
}
