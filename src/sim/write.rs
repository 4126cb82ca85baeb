//! What a write does to a cached copy: the one rule every replay (the loop
//! of one cache, a fleet's instances and tiers, a real server's client)
//! applies to `set` and `delete` requests, so they cannot disagree.
//!
//! The write policy is `--on-write`:
//! - `invalidate` (default): the cached entry is deleted (look-aside caching
//!   with delete-on-write, as memcached users do); the next read misses and
//!   fetches the new version. Never a stale hit.
//! - `update`: write-through: the cache is updated with the new value (the
//!   policy's `set`: update in place, or insert when absent). An object too
//!   large for the cache is deleted instead, so no old copy stays. Never a
//!   stale hit.
//! - `none`: the cache is left alone: the old value is served until it is
//!   evicted or expires (a TTL is the only cure).
//!
//! A `delete` request always removes the cached copy, whatever the policy.

use crate::request::Op;

/// What a write does to the cached copy. See the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnWrite {
    /// Delete the cached copy (the default).
    #[default]
    Invalidate,
    /// Write the new value through.
    Update,
    /// Leave the cached copy, stale until evicted or expired.
    None,
}

impl OnWrite {
    pub(crate) const ACCEPTED: &'static str = "expected invalidate, update or none";

    pub(crate) fn parse(s: &str) -> Result<OnWrite, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "invalidate" | "delete" => Ok(OnWrite::Invalidate),
            "update" | "write-through" => Ok(OnWrite::Update),
            "none" => Ok(OnWrite::None),
            _ => Err(format!("unknown write policy '{s}'; {}", OnWrite::ACCEPTED)),
        }
    }

    /// The name written in the `on_write` column (what `parse` reads back).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OnWrite::Invalidate => "invalidate",
            OnWrite::Update => "update",
            OnWrite::None => "none",
        }
    }

    /// What a request `op` (a `set` or a `delete`) does to a cached copy of
    /// its key; `fits` is whether the new value fits the cache at all.
    #[inline]
    pub(crate) fn action(self, op: Op, fits: bool) -> WriteAction {
        match (op, self) {
            (Op::Set, OnWrite::Update) if fits => WriteAction::Update,
            (Op::Set, OnWrite::None) => WriteAction::Keep,
            _ => WriteAction::Drop,
        }
    }
}

/// The effect of one write on a cached copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteAction {
    /// Remove the cached copy (invalidation, a delete, or an update too
    /// large to cache).
    Drop,
    /// Write the new value through (insert it when absent).
    Update,
    /// Leave the cached copy as it is (now stale).
    Keep,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rule_for_every_write() {
        use WriteAction::{Drop, Keep};
        let cases = [
            (Op::Set, OnWrite::Invalidate, true, Drop),
            (Op::Set, OnWrite::Update, true, WriteAction::Update),
            (Op::Set, OnWrite::Update, false, Drop),
            (Op::Set, OnWrite::None, true, Keep),
            (Op::Set, OnWrite::None, false, Keep),
            (Op::Delete, OnWrite::Invalidate, true, Drop),
            (Op::Delete, OnWrite::Update, true, Drop),
            (Op::Delete, OnWrite::None, true, Drop),
        ];
        for (op, w, fits, want) in cases {
            assert_eq!(w.action(op, fits), want, "{op:?} {w:?} fits={fits}");
        }
    }

    #[test]
    fn parse_names_what_is_accepted() {
        assert_eq!(OnWrite::parse("Update").unwrap(), OnWrite::Update);
        let e = OnWrite::parse("sometimes").unwrap_err();
        assert!(e.contains("'sometimes'") && e.contains("invalidate, update or none"));
    }
}
