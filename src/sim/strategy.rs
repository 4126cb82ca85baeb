//! A `--strategy` spec parsed once into the kind of run it asks for. The
//! composite names live here and nowhere else:
//!
//! - `NAME[:params]`: one in-process policy (see [`crate::policy`]);
//! - `shared:SPEC`: the instances of a fleet share one cache of `K x c`
//!   (a policy, or a cache an engine runs: `shared:redis-lru`);
//! - `tiered-local:L1+L2`: an in-process L1 per instance in front of one
//!   shared in-process L2 (both online policies);
//! - a name an [`Engine`](super::backend::Engine) runs (`redis`,
//!   `redis-lru`, `tiered:lru+redis`): its own spec grammar is the engine's.
//!
//! The runner, the sweep and the command ask this type, never the names.

use super::backend::{Engine, Engines};
use crate::policy::{self, SpecError, StrategyInfo, StrategySpec};

/// The composite strategies, for `cachesim list` (after the policies).
pub(crate) static COMPOSITES: &[StrategyInfo] = &[StrategyInfo {
    name: "tiered-local",
    summary: "an in-process L1 per instance (--l1-capacity) in front of one shared in-process L2",
    params: "L1+L2, e.g. tiered-local:lru+lru",
}];

/// What a spec asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// One in-process policy.
    Policy,
    /// `tiered-local:L1+L2`: `l1` in front of the shared L2 ([`Strategy::spec`]).
    TieredLocal { l1: StrategySpec },
    /// A strategy an engine runs.
    Engine,
}

/// A parsed strategy.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Strategy {
    /// The cache's spec: the policy, the engine's spec, or the L2 of
    /// `tiered-local`; without `shared:`.
    pub spec: StrategySpec,
    /// One cache shared by a fleet's instances (`shared:`, `tiered-local`).
    pub shared: bool,
    pub kind: Kind,
}

impl Strategy {
    /// Parses `spec` (names only: parameters are checked by
    /// [`Strategy::validate`]).
    pub(crate) fn parse(spec: &StrategySpec, engines: &Engines) -> Result<Strategy, SpecError> {
        let (inner, shared) = split_shared(spec);
        if engines.find(&inner).is_some() {
            return Ok(Strategy {
                spec: inner,
                shared,
                kind: Kind::Engine,
            });
        }
        if let Some((l1, l2)) = split_tiered_local(&inner, engines)? {
            return Ok(Strategy {
                spec: l2,
                shared: true,
                kind: Kind::TieredLocal { l1 },
            });
        }
        Ok(Strategy {
            spec: inner,
            shared,
            kind: Kind::Policy,
        })
    }

    /// The engine that runs it, if it is an engine's.
    pub(crate) fn engine<'e>(&self, engines: &'e Engines) -> Option<&'e dyn Engine> {
        match self.kind {
            Kind::Engine => engines.find(&self.spec),
            _ => None,
        }
    }

    /// Checks every part; returns the canonical form of the cache's spec
    /// (without `shared:`), as the `strategy` column spells it.
    pub(crate) fn validate(&self, engines: &Engines) -> Result<String, SpecError> {
        match &self.kind {
            Kind::Engine => match engines.find(&self.spec) {
                Some(e) => e.validate(&self.spec),
                None => Err(SpecError::unknown_strategy(&self.spec.name)),
            },
            Kind::TieredLocal { l1 } => Ok(format!(
                "tiered-local:{}+{}",
                policy::validate(l1)?,
                policy::validate(&self.spec)?
            )),
            Kind::Policy => policy::validate(&self.spec),
        }
    }

    /// Whether it reads the future of the workload (an offline policy).
    pub(crate) fn needs_future(&self) -> bool {
        self.kind == Kind::Policy && policy::needs_future(&self.spec.name)
    }
}

/// Splits a `shared:<spec>` strategy into its inner spec and `true`; any
/// other spec is returned as is with `false`.
pub(crate) fn split_shared(spec: &StrategySpec) -> (StrategySpec, bool) {
    if spec.name != "shared" {
        return (spec.clone(), false);
    }
    let mut params = spec.params.clone();
    let name = match params.first() {
        Some((k, v)) if k.is_empty() => {
            let v = v.clone();
            params.remove(0);
            v.to_ascii_lowercase()
        }
        _ => String::new(),
    };
    (StrategySpec { name, params }, true)
}

/// Splits `tiered-local:L1+L2` into its two specs; `None` for any other
/// strategy.
fn split_tiered_local(
    spec: &StrategySpec,
    engines: &Engines,
) -> Result<Option<(StrategySpec, StrategySpec)>, SpecError> {
    if spec.name != "tiered-local" {
        return Ok(None);
    }
    let bad = |why: &str| SpecError::BadValue {
        strategy: "tiered-local".into(),
        param: "L1+L2".into(),
        value: spec
            .params
            .iter()
            .map(|(k, v)| {
                if k.is_empty() {
                    v.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect::<Vec<_>>()
            .join(":"),
        why: why.into(),
    };
    let usage = "expected tiered-local:L1+L2 with two local policies, e.g. tiered-local:lru+lru";
    let arg = match spec.params.as_slice() {
        [(k, v)] if k.is_empty() => v.clone(),
        _ => return Err(bad(usage)),
    };
    let Some((a, b)) = arg.split_once('+') else {
        return Err(bad(usage));
    };
    let (l1, l2) = (StrategySpec::parse(a)?, StrategySpec::parse(b)?);
    // A known strategy that is not an online policy is refused first; a
    // name nobody knows is an unknown strategy.
    let not_local = |s: &StrategySpec| {
        let name = s.name.as_str();
        engines.find(s).is_some()
            || COMPOSITES.iter().any(|c| c.name == name)
            || name == "shared"
            || policy::needs_future(name)
    };
    if not_local(&l1) || not_local(&l2) {
        return Err(bad(
            "both levels must be local online policies (lru, lfu, s3fifo, ...)",
        ));
    }
    for p in [&l1, &l2] {
        if !policy::is_policy(&p.name) {
            return Err(SpecError::unknown_strategy(&p.name));
        }
    }
    Ok(Some((l1, l2)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Strategy, SpecError> {
        Strategy::parse(&StrategySpec::parse(s).unwrap(), &Engines::default())
    }

    #[test]
    fn composites_are_parsed_into_their_kind() {
        let s = parse("shared:s3fifo:small=0.2").unwrap();
        assert_eq!(
            (s.spec.name.as_str(), s.shared, &s.kind),
            ("s3fifo", true, &Kind::Policy)
        );
        assert_eq!(s.spec.params, vec![("small".into(), "0.2".into())]);
        let s = parse("tiered-local:lru+sieve").unwrap();
        assert_eq!(s.spec.name, "sieve");
        assert!(s.shared);
        assert_eq!(
            s.kind,
            Kind::TieredLocal {
                l1: StrategySpec::parse("lru").unwrap()
            }
        );
        assert_eq!(
            s.validate(&Engines::default()).unwrap(),
            "tiered-local:lru+sieve"
        );
        let s = parse("belady").unwrap();
        assert!(s.needs_future() && !s.shared);
    }

    #[test]
    fn composites_are_not_policies() {
        for s in COMPOSITES {
            let spec = StrategySpec::parse(s.name).unwrap();
            assert!(
                policy::validate(&spec).is_err(),
                "{} is not a policy",
                s.name
            );
            assert!(!policy::is_policy(s.name));
        }
    }

    #[test]
    fn bad_composites_say_what_is_expected() {
        let e = parse("tiered-local:lru").unwrap_err().to_string();
        assert!(e.contains("e.g. tiered-local:lru+lru"), "{e}");
        let e = parse("tiered-local:lru+belady").unwrap_err().to_string();
        assert!(e.contains("local online policies"), "{e}");
        let e = parse("tiered-local:lru+tiered-local")
            .unwrap_err()
            .to_string();
        assert!(e.contains("local online policies"), "{e}");
        let e = parse("tiered-local:lru+foo").unwrap_err().to_string();
        assert!(e.contains("unknown strategy 'foo'"), "{e}");
    }
}
