//! Short strategy labels for legends and direct labels.
//!
//! Results hold canonical specs with every default spelled out
//! (`wtinylfu:window=0.01:protected=0.8`, `ttl:ttl=1m`): right for the CSV,
//! too long for a slide read from the back of a room. A chart shows the
//! strategy's name, and a parameter only where it says something: its value
//! differs from the strategy's default, or it differs between the lines of
//! the same strategy on the chart (`ttl:ttl=1s` next to `ttl:ttl=1m`).

use crate::policy::StrategySpec;

/// One spec taken apart: the name as written, its `key=value` parameters
/// (canonical when the policy validates it) and its positional ones.
struct Parts {
    name: String,
    /// `(key, value)`, keys lowercased; positional parameters have key "".
    params: Vec<(String, String)>,
    /// The strategy's defaults, `None` when they cannot be computed
    /// (composites, server strategies, unknown names).
    defaults: Option<Vec<(String, String)>>,
}

/// The parameters of a canonical spec (`name:k=v:k=v`).
fn params_of(spec: &StrategySpec) -> Vec<(String, String)> {
    spec.params.clone()
}

fn parts(spec: &str) -> Option<Parts> {
    let parsed = StrategySpec::parse(spec).ok()?;
    let name = spec.split(':').next().unwrap_or(spec).trim().to_string();
    // Compare canonical forms when the policy knows the spec (values
    // written the same way as the defaults: `ttl=60s` is `ttl=1m`).
    let params = match crate::policy::validate(&parsed)
        .ok()
        .and_then(|c| StrategySpec::parse(&c).ok())
    {
        Some(canonical) => params_of(&canonical),
        None => params_of(&parsed),
    };
    let defaults = StrategySpec::parse(&parsed.name)
        .ok()
        .and_then(|bare| crate::policy::validate(&bare).ok())
        .and_then(|c| StrategySpec::parse(&c).ok())
        .map(|c| params_of(&c));
    Some(Parts {
        name,
        params,
        defaults,
    })
}

fn value<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The label each spec is shown with, in the same order: the strategy's
/// name, plus the parameters that differ from its default or differ between
/// the specs of the same name in `specs`. Positional parameters
/// (`shared:lru`, `tiered:lru+redis`) are always kept. When a strategy's
/// defaults cannot be computed (composites, server strategies), the
/// parameters that differ between its lines are kept, and a strategy with
/// one line on the chart keeps its whole spec. A spec that does not parse
/// is shown whole.
pub(crate) fn display_labels(specs: &[&str]) -> Vec<String> {
    let all: Vec<Option<Parts>> = specs.iter().map(|s| parts(s)).collect();
    specs
        .iter()
        .zip(&all)
        .map(|(spec, p)| {
            let Some(p) = p else {
                return spec.to_string();
            };
            let same: Vec<&Parts> = all
                .iter()
                .flatten()
                .filter(|q| q.name.eq_ignore_ascii_case(&p.name))
                .collect();
            // A key differs between lines when some line of the same name
            // has another value for it, or lacks it.
            let differs = |key: &str| {
                let mine = value(&p.params, key);
                same.iter().any(|q| value(&q.params, key) != mine)
            };
            if p.defaults.is_none() && same.len() < 2 {
                return spec.to_string();
            }
            let mut label = p.name.clone();
            for (k, v) in &p.params {
                let keep = if k.is_empty() {
                    true
                } else {
                    differs(k)
                        || p.defaults
                            .as_ref()
                            .is_some_and(|d| value(d, k) != Some(v.as_str()))
                };
                if !keep {
                    continue;
                }
                label.push(':');
                if !k.is_empty() {
                    label.push_str(k);
                    label.push('=');
                }
                label.push_str(v);
            }
            label
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::display_labels;

    #[test]
    fn defaults_are_dropped() {
        assert_eq!(
            display_labels(&[
                "wtinylfu:window=0.01:protected=0.8",
                "ttl:ttl=1m",
                "s3fifo:small=0.1:ghost=0.9",
                "lru",
                "clock:bits=1",
                "lirs:hir=0.01:ghost=2",
            ]),
            ["wtinylfu", "ttl", "s3fifo", "lru", "clock", "lirs"]
        );
    }

    #[test]
    fn non_defaults_and_differences_between_lines_are_kept() {
        assert_eq!(
            display_labels(&["s3fifo:small=0.2:ghost=0.9", "lru"]),
            ["s3fifo:small=0.2", "lru"]
        );
        // Two ttl lines: each shows its ttl, the default one too.
        assert_eq!(
            display_labels(&["ttl:ttl=1m", "ttl:ttl=10s", "lru"]),
            ["ttl:ttl=1m", "ttl:ttl=10s", "lru"]
        );
        // Only the parameter that differs between the wtinylfu lines.
        assert_eq!(
            display_labels(&[
                "wtinylfu:window=0.01:protected=0.8",
                "wtinylfu:window=0.2:protected=0.8"
            ]),
            ["wtinylfu:window=0.01", "wtinylfu:window=0.2"]
        );
        // A value written another way than the default is still the default.
        assert_eq!(display_labels(&["ttl:ttl=60s"]), ["ttl"]);
    }

    #[test]
    fn composites_and_servers_do_not_break() {
        assert_eq!(
            display_labels(&["lru", "shared:lru", "redis", "tiered:lru+redis"]),
            ["lru", "shared:lru", "redis", "tiered:lru+redis"]
        );
        // No default known: the whole spec alone, the differences in a group.
        assert_eq!(
            display_labels(&["redis-lru:samples=5"]),
            ["redis-lru:samples=5"]
        );
        assert_eq!(
            display_labels(&["redis-lru:samples=5", "redis-lru:samples=10"]),
            ["redis-lru:samples=5", "redis-lru:samples=10"]
        );
        assert_eq!(
            display_labels(&["::bad", "my-policy:k=2"]),
            ["::bad", "my-policy:k=2"]
        );
        assert!(display_labels(&[]).is_empty());
    }
}
