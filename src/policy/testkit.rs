//! Test helpers shared by the policy unit tests: drive a policy through a key
//! stream the way the replay loop does, and random streams for property tests
//! that compare a policy with a deliberately naive reference model.

use super::{Access, Evictions, Policy};
use crate::request::Key;
use proptest::prelude::*;

/// `n` keys below `keys`, skewed towards 0 (a cube of a uniform draw from a
/// fixed seed): a stream with hits at small capacities.
pub(crate) fn skewed(n: usize, keys: u64) -> Vec<Key> {
    let mut rng = crate::rng::SimRng::new(3);
    (0..n)
        .map(|_| (rng.f64().powi(3) * keys as f64) as Key)
        .collect()
}

/// An access of `key` (charge 1, vtime 0) at request time `time` seconds,
/// for policies that read the clock (TTL, Redis's LRU and LFU clocks).
pub(crate) fn at(key: Key, time: f64) -> Access {
    Access {
        time,
        ..Access::simple(key, 0)
    }
}

/// Replays `keys` (charge 1) as gets with demand fill, calling `check` after
/// every request; returns hit (true) or miss per request.
pub(crate) fn run_keys<P: Policy>(p: &mut P, keys: &[Key], mut check: impl FnMut(&P)) -> Vec<bool> {
    let mut ev = Evictions::default();
    keys.iter()
        .enumerate()
        .map(|(t, &k)| {
            let a = Access::simple(k, t as u64);
            let hit = p.get(&a);
            if !hit {
                p.insert(&a, &mut ev);
            }
            check(p);
            hit
        })
        .collect()
}

/// A reference model: answers one get with demand fill.
pub(crate) trait Model {
    fn access(&mut self, key: Key, charge: u64) -> bool;
}

/// Random `(key, charge)` streams: few keys (so there are hits, ghost hits
/// and evictions), charge 1 most of the time and up to 8 otherwise.
pub(crate) fn charged_stream() -> impl Strategy<Value = Vec<(Key, u64)>> {
    prop::collection::vec(
        (0u64..30, prop_oneof![4 => Just(1u64), 1 => 1u64..9]),
        1..400,
    )
    .prop_map(|v| {
        // A key keeps the charge of its first appearance (objects do not
        // change size), as in real traces.
        let mut first = std::collections::HashMap::new();
        v.into_iter()
            .map(|(k, c)| (k, *first.entry(k).or_insert(c)))
            .collect()
    })
}

/// Random unit-charge streams.
pub(crate) fn key_stream() -> impl Strategy<Value = Vec<Key>> {
    prop::collection::vec(0u64..30, 1..400)
}

/// Runs `stream` through `fast` and `model` side by side, asserting that
/// every request gets the same answer; `check` validates `fast` each step.
pub(crate) fn compare<P: Policy, M: Model>(
    fast: &mut P,
    model: &mut M,
    cap: u64,
    stream: &[(Key, u64)],
    mut check: impl FnMut(&P),
) -> Result<(), TestCaseError> {
    let mut ev = Evictions::default();
    for (t, &(key, charge)) in stream.iter().enumerate() {
        let charge = charge.min(cap);
        let a = Access {
            charge,
            ..Access::simple(key, t as u64)
        };
        let hit = fast.get(&a);
        if !hit {
            fast.insert(&a, &mut ev);
        }
        prop_assert_eq!(
            hit,
            model.access(key, charge),
            "request {} (key {})",
            t,
            key
        );
        prop_assert!(fast.used() <= cap);
        check(fast);
    }
    Ok(())
}
