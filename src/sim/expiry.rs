//! Per-request time-to-live: the expiry a trace gives each object (a
//! Twemcache `ttl` column, an lcs record's TTL, a Redis `SET ... EX`).
//!
//! The replay loop applies it the same way to every strategy, so a policy
//! never needs to know about it: the request that fills an object (a get's
//! demand fill, a set written through) gives it a deadline, its time plus its
//! TTL (none when the TTL is 0); a get at or after the deadline finds the
//! object expired, removes it from the cache, counts an expiration, and is a
//! miss whose fill starts a new deadline. A refill without a TTL clears the
//! deadline. Expiry is lazy, as in memcached and libCacheSim: an expired
//! object keeps its space until it is read again or evicted.
//!
//! An expired copy is never served, so it is never a stale hit; stale-hit
//! accounting ([`super::freshness`]) sees only copies still within their TTL.
//!
//! The loop is generic over [`Expiry`]: a workload without TTLs replays with
//! [`NoExpiry`], whose methods compile to nothing.

use crate::request::Key;
use rustc_hash::FxHashMap;

/// Deadlines as the replay loop sees them: a zero-cost type parameter
/// ([`NoExpiry`] or [`Deadlines`]), like [`super::freshness::Freshness`].
pub trait Expiry {
    /// Whether it reads the requests' times (the replay loop computes them
    /// only if something does).
    #[inline]
    fn reads_time(&self) -> bool {
        true
    }

    /// Whether the cached object of `key` has expired at `time`; its
    /// deadline is forgotten if so.
    fn expired(&mut self, key: Key, time: f64) -> bool;
    /// `key` was filled at `time` by a request with this TTL in seconds (0
    /// for none).
    fn fill(&mut self, key: Key, time: f64, ttl: f32);
}

/// No TTLs: for workloads whose requests carry none.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoExpiry;

impl Expiry for NoExpiry {
    #[inline(always)]
    fn reads_time(&self) -> bool {
        false
    }

    #[inline(always)]
    fn expired(&mut self, _key: Key, _time: f64) -> bool {
        false
    }
    #[inline(always)]
    fn fill(&mut self, _key: Key, _time: f64, _ttl: f32) {}
}

/// The deadline of every key filled with a TTL. Grows with the keys that
/// carry TTLs; an evicted key's deadline stays until its next fill replaces
/// it, which changes nothing, since only a resident object can expire.
#[derive(Debug, Default, Clone)]
pub struct Deadlines {
    at: FxHashMap<Key, f64>,
}

impl Deadlines {
    /// Whether no key has a deadline.
    pub(crate) fn is_empty(&self) -> bool {
        self.at.is_empty()
    }

    /// `key` takes the deadline it has in `from` if it has one there, else
    /// the deadline of a fill at `time` with `ttl`.
    pub(crate) fn copy_or_fill(&mut self, key: Key, from: &Deadlines, time: f64, ttl: f32) {
        match from.at.get(&key) {
            Some(&d) => {
                self.at.insert(key, d);
            }
            None => self.fill(key, time, ttl),
        }
    }

    /// `key` takes the deadline it has in `from` (a copy filled from
    /// another copy keeps that copy's expiry).
    pub(crate) fn copy_from(&mut self, key: Key, from: &Deadlines) {
        match from.at.get(&key) {
            Some(&d) => {
                self.at.insert(key, d);
            }
            None if !self.at.is_empty() => {
                self.at.remove(&key);
            }
            None => {}
        }
    }
}

impl Expiry for Deadlines {
    #[inline]
    fn expired(&mut self, key: Key, time: f64) -> bool {
        if self.at.is_empty() {
            return false;
        }
        match self.at.get(&key) {
            Some(&d) if time >= d => {
                self.at.remove(&key);
                true
            }
            _ => false,
        }
    }

    #[inline]
    fn fill(&mut self, key: Key, time: f64, ttl: f32) {
        if ttl > 0.0 {
            self.at.insert(key, time + f64::from(ttl));
        } else if !self.at.is_empty() {
            self.at.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadline_is_the_fill_time_plus_the_ttl_and_a_refill_moves_it() {
        let mut d = Deadlines::default();
        d.fill(1, 10.0, 5.0);
        assert!(!d.expired(1, 14.999));
        assert!(d.expired(1, 15.0));
        // Forgotten once expired.
        assert!(!d.expired(1, 100.0));
        d.fill(2, 0.0, 1.0);
        d.fill(2, 0.5, 0.0);
        assert!(!d.expired(2, 1e9), "a refill without TTL clears it");
        d.fill(3, 0.0, 1.0);
        d.fill(3, 0.9, 1.0);
        assert!(!d.expired(3, 1.5) && d.expired(3, 1.9));
        assert!(d.is_empty());
        assert!(!NoExpiry.expired(1, f64::MAX));
    }
}
