//! Strategy specs: `name` or `name:key=value:key=value`, parsed once, with
//! typed accessors that remember every value so the run can print the
//! canonical spec (defaults included) into the CSV `strategy` column.
//!
//! `:` separates parameters because `,` already separates strategies in
//! `--strategy lru,s3fifo:small=0.1`.

use crate::units::{format_duration, parse_duration};
use thiserror::Error;

/// Errors in a strategy spec. Each message names the strategy and says what is
/// accepted.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SpecError {
    /// No strategy has this name.
    #[error("unknown strategy '{name}'; valid strategies: {valid}")]
    UnknownStrategy {
        /// The name as given.
        name: String,
        /// Every valid strategy name, comma separated.
        valid: String,
    },
    /// The strategy takes no parameter of this name.
    #[error("strategy '{strategy}': unknown parameter '{param}'{hint}")]
    UnknownParam {
        /// The strategy's name.
        strategy: String,
        /// The parameter as given (its key, or a positional value).
        param: String,
        /// The rest of the message: the accepted parameters, or that there are
        /// none.
        hint: String,
    },
    /// A parameter's value is not accepted.
    #[error("strategy '{strategy}': parameter '{param}={value}': {why}")]
    BadValue {
        /// The strategy's name.
        strategy: String,
        /// The parameter's key.
        param: String,
        /// The value as given.
        value: String,
        /// Why it is not accepted, and what is.
        why: String,
    },
    /// The spec is not `NAME` or `NAME:key=value[:key=value...]` (the spec as
    /// given).
    #[error("invalid strategy spec '{0}': expected NAME or NAME:key=value[:key=value...]")]
    Malformed(String),
}

impl SpecError {
    pub(crate) fn unknown_strategy(name: &str) -> SpecError {
        SpecError::UnknownStrategy {
            name: name.to_string(),
            valid: super::strategy_names(),
        }
    }
}

/// A parsed strategy spec.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StrategySpec {
    /// The strategy's name, lowercased.
    pub name: String,
    /// `key=value` pairs, or `(value, "")`-less positional arguments as
    /// `("", value)`, in the order given.
    pub params: Vec<(String, String)>,
}

impl StrategySpec {
    /// Parses `name` or `name:key=value:key=value` (a bare `value` is a
    /// positional parameter). Only the syntax is checked here; names and values
    /// are checked when the strategy is built.
    pub fn parse(s: &str) -> Result<StrategySpec, SpecError> {
        let s = s.trim();
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        if name.is_empty() {
            return Err(SpecError::Malformed(s.to_string()));
        }
        let mut params = Vec::new();
        for p in parts {
            let p = p.trim();
            if p.is_empty() {
                return Err(SpecError::Malformed(s.to_string()));
            }
            match p.split_once('=') {
                Some((k, v)) if !k.trim().is_empty() => {
                    let k = k.trim().to_ascii_lowercase();
                    // Issue 16, item 14: the last one silently won.
                    if let Some((_, first)) = params.iter().find(|(key, _)| *key == k) {
                        return Err(SpecError::BadValue {
                            strategy: name,
                            param: k,
                            value: v.trim().to_string(),
                            why: format!("the parameter is already given ({first}); give it once"),
                        });
                    }
                    params.push((k, v.trim().to_string()))
                }
                Some(_) => return Err(SpecError::Malformed(s.to_string())),
                None => params.push((String::new(), p.to_string())),
            }
        }
        Ok(StrategySpec { name, params })
    }

    /// Parses a comma-separated list of specs.
    pub fn parse_list(s: &str) -> Result<Vec<StrategySpec>, SpecError> {
        s.split(',')
            .filter(|p| !p.trim().is_empty())
            .map(StrategySpec::parse)
            .collect()
    }
}

/// Typed, recording access to a spec's parameters.
pub struct Params<'a> {
    spec: &'a StrategySpec,
    used: Vec<bool>,
    canonical: Vec<String>,
    /// Parameters read but left out of the canonical spec (at their default).
    unspelled: Vec<String>,
}

impl<'a> Params<'a> {
    pub(crate) fn new(spec: &'a StrategySpec) -> Params<'a> {
        Params {
            spec,
            used: vec![false; spec.params.len()],
            canonical: Vec::new(),
            unspelled: Vec::new(),
        }
    }

    fn raw(&mut self, key: &str) -> Option<String> {
        let i = self.spec.params.iter().rposition(|(k, _)| k == key)?;
        for (j, (k, _)) in self.spec.params.iter().enumerate() {
            if k == key {
                self.used[j] = true;
            }
        }
        Some(self.spec.params[i].1.clone())
    }

    fn bad(&self, key: &str, value: &str, why: impl Into<String>) -> SpecError {
        SpecError::BadValue {
            strategy: self.spec.name.clone(),
            param: key.to_string(),
            value: value.to_string(),
            why: why.into(),
        }
    }

    /// A number in `[min, max]`.
    pub(crate) fn f64_in(
        &mut self,
        key: &str,
        default: f64,
        min: f64,
        max: f64,
    ) -> Result<f64, SpecError> {
        let v = match self.raw(key) {
            None => default,
            Some(s) => {
                let v: f64 = s.parse().map_err(|_| {
                    self.bad(key, &s, format!("expected a number in [{min}, {max}]"))
                })?;
                if !(min..=max).contains(&v) {
                    return Err(self.bad(key, &s, format!("expected a number in [{min}, {max}]")));
                }
                v
            }
        };
        self.canonical.push(format!("{key}={v}"));
        Ok(v)
    }

    /// A whole number in `[min, max]`.
    pub(crate) fn u64_in(
        &mut self,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, SpecError> {
        let v = self.read_u64(key, default, min, max)?;
        self.canonical.push(format!("{key}={v}"));
        Ok(v)
    }

    /// As [`Params::u64_in`], but left out of the canonical spec at its
    /// default, as [`Params::choice`] does, for a parameter added to a policy
    /// whose runs are already named.
    pub(crate) fn u64_in_quiet(
        &mut self,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<u64, SpecError> {
        let v = self.read_u64(key, default, min, max)?;
        self.spell_unless_default(key, &v.to_string(), v == default);
        Ok(v)
    }

    /// The whole number `key` gives (or `default`), checked against `[min,
    /// max]`; not yet spelled in the canonical spec.
    fn read_u64(&mut self, key: &str, default: u64, min: u64, max: u64) -> Result<u64, SpecError> {
        let Some(s) = self.raw(key) else {
            return Ok(default);
        };
        let expected = || format!("expected a whole number in [{min}, {max}]");
        let v = crate::units::parse_count(&s).map_err(|_| self.bad(key, &s, expected()))?;
        if !(min..=max).contains(&v) {
            return Err(self.bad(key, &s, expected()));
        }
        Ok(v)
    }

    /// Records `key=value` in the canonical spec, or, at the parameter's
    /// default, only that it was read (so it is accepted but the runs made
    /// before it existed keep their name).
    fn spell_unless_default(&mut self, key: &str, value: &str, at_default: bool) {
        if at_default {
            self.unspelled.push(key.to_string());
        } else {
            self.canonical.push(format!("{key}={value}"));
        }
    }

    /// A duration (`500ms`, `30s`, `5m`), in seconds, strictly positive.
    pub(crate) fn duration(&mut self, key: &str, default: f64) -> Result<f64, SpecError> {
        let v = match self.raw(key) {
            None => default,
            Some(s) => {
                let v = parse_duration(&s).map_err(|e| self.bad(key, &s, e))?;
                if v <= 0.0 {
                    return Err(self.bad(key, &s, "must be greater than 0"));
                }
                v
            }
        };
        self.canonical.push(format!("{key}={}", format_duration(v)));
        Ok(v)
    }

    /// One of `options`, the first being the default. At its default the
    /// parameter is left out of the canonical spec, so that a parameter added
    /// to an existing policy does not rename the runs made without it
    /// (`lfu` stays `lfu`, `lfu:history=perfect` is spelled out).
    pub(crate) fn choice(
        &mut self,
        key: &str,
        options: &[&'static str],
    ) -> Result<&'static str, SpecError> {
        let v = match self.raw(key) {
            None => options[0],
            Some(s) => match options.iter().find(|o| o.eq_ignore_ascii_case(&s)) {
                Some(o) => o,
                None => {
                    return Err(self.bad(
                        key,
                        &s,
                        format!("expected one of {}", options.join(", ")),
                    ))
                }
            },
        };
        self.spell_unless_default(key, v, v == options[0]);
        Ok(v)
    }

    /// The positional argument (`tiered:lru+redis` has `lru+redis`), if any.
    pub(crate) fn positional(&mut self) -> Option<String> {
        let v = self.raw("")?;
        self.canonical.push(v.clone());
        Some(v)
    }

    /// Rejects parameters the policy did not ask for and returns the
    /// canonical spec.
    pub(crate) fn finish(self) -> Result<String, SpecError> {
        if let Some(j) = self.used.iter().position(|u| !u) {
            let (k, v) = &self.spec.params[j];
            let asked: Vec<&str> = self
                .canonical
                .iter()
                .map(|c| c.split('=').next().unwrap_or(""))
                .chain(self.unspelled.iter().map(String::as_str))
                .collect();
            let hint = if asked.is_empty() {
                " (this strategy takes no parameters)".to_string()
            } else {
                format!("; accepted: {}", asked.join(", "))
            };
            return Err(SpecError::UnknownParam {
                strategy: self.spec.name.clone(),
                param: if k.is_empty() { v.clone() } else { k.clone() },
                hint,
            });
        }
        let mut out = self.spec.name.clone();
        for c in self.canonical {
            out.push(':');
            out.push_str(&c);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_params() {
        let s = StrategySpec::parse("S3FIFO:small=0.1:ghost=0.9").unwrap();
        assert_eq!(s.name, "s3fifo");
        assert_eq!(
            s.params,
            vec![
                ("small".into(), "0.1".into()),
                ("ghost".into(), "0.9".into())
            ]
        );
        let l = StrategySpec::parse_list("lru, ttl:ttl=30s,fifo").unwrap();
        assert_eq!(l.len(), 3);
        assert!(StrategySpec::parse("lru:").is_err());
        assert!(StrategySpec::parse(":x=1").is_err());
    }

    #[test]
    fn a_parameter_given_twice_is_refused() {
        let e = StrategySpec::parse("s3fifo:small=0.1:SMALL=0.2")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "strategy 's3fifo': parameter 'small=0.2': the parameter is already given (0.1); give it once"
        );
        assert!(StrategySpec::parse("s3fifo:small=0.1:ghost=0.9").is_ok());
    }

    #[test]
    fn canonical_spells_out_defaults_and_rejects_unknown() {
        let s = StrategySpec::parse("x:b=2").unwrap();
        let mut p = Params::new(&s);
        assert_eq!(p.f64_in("a", 0.5, 0.0, 1.0).unwrap(), 0.5);
        assert_eq!(p.u64_in("b", 1, 1, 8).unwrap(), 2);
        assert_eq!(p.finish().unwrap(), "x:a=0.5:b=2");

        let s = StrategySpec::parse("x:c=2").unwrap();
        let mut p = Params::new(&s);
        p.f64_in("a", 0.5, 0.0, 1.0).unwrap();
        let e = p.finish().unwrap_err().to_string();
        assert!(
            e.contains("unknown parameter 'c'") && e.contains("accepted: a"),
            "{e}"
        );

        let s = StrategySpec::parse("x:a=7").unwrap();
        let mut p = Params::new(&s);
        let e = p.f64_in("a", 0.5, 0.0, 1.0).unwrap_err().to_string();
        assert!(e.contains("a=7") && e.contains("[0, 1]"), "{e}");
    }

    #[test]
    fn a_choice_at_its_default_is_not_spelled_out() {
        let s = StrategySpec::parse("x").unwrap();
        let mut p = Params::new(&s);
        assert_eq!(p.choice("h", &["cache", "perfect"]).unwrap(), "cache");
        assert_eq!(p.finish().unwrap(), "x");

        let s = StrategySpec::parse("x:h=Perfect").unwrap();
        let mut p = Params::new(&s);
        assert_eq!(p.choice("h", &["cache", "perfect"]).unwrap(), "perfect");
        assert_eq!(p.finish().unwrap(), "x:h=perfect");

        let s = StrategySpec::parse("x:h=lru").unwrap();
        let mut p = Params::new(&s);
        let e = p
            .choice("h", &["cache", "perfect"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("h=lru") && e.contains("cache, perfect"), "{e}");

        // The hint names a parameter left at its default.
        let s = StrategySpec::parse("x:q=1").unwrap();
        let mut p = Params::new(&s);
        p.choice("h", &["cache", "perfect"]).unwrap();
        let e = p.finish().unwrap_err().to_string();
        assert!(e.contains("accepted: h"), "{e}");
    }
}
