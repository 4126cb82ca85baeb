//! The `disk` strategy spec and `cachesim run`'s disk options, checked
//! before anything touches a directory.

use crate::policy::{SpecError, StrategyInfo, StrategySpec};
use crate::units::{format_bytes, parse_bytes};
use std::path::PathBuf;

/// How often `reduce_size` runs when `limit=` is given without `every=`.
pub(crate) const DEFAULT_EVERY: u64 = 1000;

/// The strategies the disk engine runs, as `cachesim list` shows them.
pub(crate) static STRATEGIES: &[StrategyInfo] = &[StrategyInfo {
    name: "disk",
    summary: "joblib-style Memory: one file per key in --disk-dir, hits read the file; evicts only with limit=",
    params: "limit=none:every=1000",
}];

/// Whether `name` is the disk engine's.
pub(crate) fn runs(name: &str) -> bool {
    name == "disk"
}

/// The disk options of `cachesim run`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DiskOptions {
    /// `--disk-dir`; `None` is a fresh directory under the system temp dir.
    pub dir: Option<PathBuf>,
    /// `--disk-keep`: leave the files after the run.
    pub keep: bool,
    /// `--disk-cold`: drop each file from the page cache before reading it.
    pub cold: bool,
    /// `--value-size`: bytes per value instead of the request's size.
    pub value_size: Option<u32>,
}

/// A checked `disk` spec.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiskSpec {
    /// `limit=`: joblib's `bytes_limit`; `None` never evicts.
    pub limit: Option<u64>,
    /// `every=`: requests between two `reduce_size` calls.
    pub every: u64,
    /// The `strategy` column.
    pub canonical: String,
}

impl DiskSpec {
    /// The `capacity_spec` column: `disk` (unbounded) or `limit=1GiB`.
    pub(crate) fn capacity_spec(&self) -> String {
        match self.limit {
            None => "disk".to_string(),
            Some(l) => format!("limit={}", format_bytes(l)),
        }
    }
}

/// Parses `disk[:limit=SIZE][:every=N]`.
pub(crate) fn parse_spec(spec: &StrategySpec) -> Result<DiskSpec, SpecError> {
    if !runs(&spec.name) {
        return Err(SpecError::unknown_strategy(&spec.name));
    }
    let bad = |param: &str, value: &str, why: &str| SpecError::BadValue {
        strategy: spec.name.clone(),
        param: param.to_string(),
        value: value.to_string(),
        why: why.to_string(),
    };
    let (mut limit, mut every) = (None, None);
    for (k, v) in &spec.params {
        match k.as_str() {
            "limit" => {
                let why = "expected a byte size such as 64MiB or 1GiB, or none";
                limit = match v.trim() {
                    "none" => None,
                    t => match parse_bytes(t) {
                        Some(Ok(n)) => Some(n),
                        _ => return Err(bad("limit", v, why)),
                    },
                };
            }
            "every" => {
                let why = "expected a number of requests >= 1, e.g. 1000 or 10k";
                every = match crate::units::parse_count(v) {
                    Ok(n) if n >= 1 => Some(n),
                    _ => return Err(bad("every", v, why)),
                };
            }
            _ => {
                return Err(SpecError::UnknownParam {
                    strategy: spec.name.clone(),
                    param: if k.is_empty() { v.clone() } else { k.clone() },
                    hint: "; accepted: limit, every".into(),
                })
            }
        }
    }
    if limit.is_none() && every.is_some() {
        return Err(bad(
            "every",
            &every.unwrap_or(0).to_string(),
            "reduce_size only runs with a limit: add limit=SIZE",
        ));
    }
    let every = every.unwrap_or(DEFAULT_EVERY);
    let canonical = match limit {
        None => "disk".to_string(),
        Some(l) => format!("disk:limit={}:every={every}", format_bytes(l)),
    };
    Ok(DiskSpec {
        limit,
        every,
        canonical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: &str) -> Result<DiskSpec, SpecError> {
        parse_spec(&StrategySpec::parse(x).unwrap())
    }

    #[test]
    fn parses_disk_specs() {
        let d = s("disk").unwrap();
        assert_eq!((d.limit, d.canonical.as_str()), (None, "disk"));
        assert_eq!(d.capacity_spec(), "disk");
        let d = s("disk:limit=1GiB:every=500").unwrap();
        assert_eq!(d.limit, Some(1 << 30));
        assert_eq!(d.every, 500);
        assert_eq!(d.canonical, "disk:limit=1GiB:every=500");
        assert_eq!(d.capacity_spec(), "limit=1GiB");
        assert_eq!(s("disk:limit=64KiB").unwrap().every, DEFAULT_EVERY);
        for bad in [
            "disk:limit=lots",
            "disk:limit=-1MiB",
            "disk:limit=1GiB:every=0",
            "disk:every=10",
            "disk:size=1",
            "disk:foo",
        ] {
            let e = s(bad).unwrap_err().to_string();
            assert!(e.contains("strategy 'disk'"), "{bad}: {e}");
        }
    }
}
