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
    summary: "joblib-style Memory: one file per key in --disk-dir, hits read the file; evicts only with limit=; tiered:lru+disk puts an in-memory L1 in front",
    params: "limit=none:every=1000",
}];

/// Whether `spec` is the disk engine's: `disk[:...]`, or
/// `tiered:LOCAL+disk[:...]`.
pub(crate) fn runs(spec: &StrategySpec) -> bool {
    spec.name == "disk" || (spec.name == "tiered" && tiered_local(spec).is_some())
}

/// The `LOCAL` of `tiered:LOCAL+disk`, as given.
fn tiered_local(spec: &StrategySpec) -> Option<String> {
    let (_, v) = spec.params.iter().find(|(k, _)| k.is_empty())?;
    let (local, l2) = v.split_once('+')?;
    l2.trim()
        .eq_ignore_ascii_case("disk")
        .then(|| local.trim().to_string())
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
    /// The in-memory L1 of `tiered:LOCAL+disk`.
    pub l1: Option<StrategySpec>,
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
    if !runs(spec) {
        return Err(SpecError::unknown_strategy(&spec.name));
    }
    let bad = |param: &str, value: &str, why: &str| SpecError::BadValue {
        strategy: spec.name.clone(),
        param: param.to_string(),
        value: value.to_string(),
        why: why.to_string(),
    };
    let (mut limit, mut every) = (None, None);
    let mut l1 = None;
    if spec.name == "tiered" {
        let local = tiered_local(spec).unwrap_or_default();
        let why = "the L1 must be a local policy (lru, lfu, fifo, ...), e.g. tiered:lru+disk";
        let l = StrategySpec::parse(&local).map_err(|_| bad("L1+L2", &local, why))?;
        crate::policy::validate(&l).map_err(|e| bad("L1+L2", &local, &format!("{why}: {e}")))?;
        if crate::policy::needs_future(&l.name) {
            return Err(bad("L1+L2", &local, why));
        }
        l1 = Some(l);
    }
    for (k, v) in &spec.params {
        match k.as_str() {
            "" if l1.is_some() => {}
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
    let mut canonical = match limit {
        None => "disk".to_string(),
        Some(l) => format!("disk:limit={}:every={every}", format_bytes(l)),
    };
    if let Some(l) = &l1 {
        let local = crate::policy::validate(l)?;
        canonical = format!("tiered:{local}+{canonical}");
    }
    Ok(DiskSpec {
        l1,
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
        let t = s("tiered:lru+disk:limit=1MiB").unwrap();
        assert_eq!(t.canonical, "tiered:lru+disk:limit=1MiB:every=1000");
        assert_eq!(t.l1.unwrap().name, "lru");
        assert_eq!(s("tiered:lru+disk").unwrap().canonical, "tiered:lru+disk");
        assert!(s("tiered:belady+disk").is_err());
        assert!(s("tiered:nope+disk").is_err());
        assert!(!runs(&StrategySpec::parse("tiered:lru+redis").unwrap()));
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
