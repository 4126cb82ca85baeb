//! The vocabulary every module shares: a [`Request`], its [`Op`], keys, and the
//! units of time, size and capacity.
//!
//! Everything upstream (generators, trace readers) produces `Request`s and
//! everything downstream (the replay loop, strategies) consumes them, so these
//! types are deliberately small and `Copy`.

use serde::{Deserialize, Serialize};

/// A cache key. String keys in traces are mapped to a `Key` with [`hash_bytes`].
pub type Key = u64;

/// What a request asks of the cache.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    /// Read the key: a hit if cached, otherwise a miss followed by a demand fill.
    #[default]
    Get,
    /// Write the key: update the cached entry or insert it (write-through).
    Set,
    /// Remove the key from the cache.
    Delete,
}

/// Operation names the trace readers accept, lowercase, and the request
/// each one is. Reads of a value are gets; anything that writes or changes
/// the value (memcached's `add`, `replace`, `cas`, `append`, `prepend`,
/// `incr`, `decr`; Redis's `setex`, `getset`; YCSB's `update`, `insert`,
/// `rmw`) is a set, which `--on-write` turns into an invalidation or an
/// update; removals are deletes. Names are compared without case, and `-`
/// is read as `_` (`get-lease` is `get_lease`).
pub(crate) const OP_NAMES: &[(&str, Op)] = &[
    ("get", Op::Get),
    ("gets", Op::Get),
    ("read", Op::Get),
    ("r", Op::Get),
    ("get_lease", Op::Get),
    ("mget", Op::Get),
    ("getex", Op::Get),
    ("set", Op::Set),
    ("add", Op::Set),
    ("replace", Op::Set),
    ("cas", Op::Set),
    ("append", Op::Set),
    ("prepend", Op::Set),
    ("incr", Op::Set),
    ("decr", Op::Set),
    ("setex", Op::Set),
    ("getset", Op::Set),
    ("set_lease", Op::Set),
    ("write", Op::Set),
    ("w", Op::Set),
    ("update", Op::Set),
    ("insert", Op::Set),
    ("put", Op::Set),
    ("rmw", Op::Set),
    ("delete", Op::Delete),
    ("del", Op::Delete),
    ("remove", Op::Delete),
    ("d", Op::Delete),
];

impl Op {
    /// Parses an operation name of [`OP_NAMES`] (without case; `-` as `_`;
    /// surrounding blanks ignored), without allocating: the CSV reader calls
    /// it for every row.
    pub(crate) fn parse(s: impl AsRef<[u8]>) -> Option<Op> {
        let f = s.as_ref().trim_ascii();
        OP_NAMES
            .iter()
            .find(|(name, _)| {
                name.len() == f.len()
                    && name.bytes().zip(f).all(|(n, &b)| {
                        let b = b.to_ascii_lowercase();
                        n == b || (n == b'_' && b == b'-')
                    })
            })
            .map(|&(_, op)| op)
    }

    /// Every accepted name, grouped by the request it is: for the error
    /// that refuses an unknown one.
    pub(crate) fn known_names() -> String {
        [Op::Get, Op::Set, Op::Delete]
            .iter()
            .map(|&op| {
                let names: Vec<&str> = OP_NAMES
                    .iter()
                    .filter(|(_, o)| *o == op)
                    .map(|(n, _)| *n)
                    .collect();
                format!("{} ({})", op.as_str(), names.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
        }
    }
}

/// One request of a workload.
///
/// `time` is in seconds since the start of the workload (from the trace, or from
/// the generator's request rate); `size` is in bytes, 1 when the workload has no
/// sizes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// Seconds since the start of the workload.
    pub time: f64,
    /// The key requested.
    pub key: Key,
    /// Object size in bytes (1 when the workload has no sizes).
    pub size: u32,
    /// Get, set or delete.
    pub op: Op,
}

impl Request {
    /// A `get` of `key` with size 1 at `time`.
    #[cfg(test)]
    pub(crate) fn get(key: Key, time: f64) -> Request {
        Request {
            time,
            key,
            size: 1,
            op: Op::Get,
        }
    }
}

/// [`hash_bytes`] of a string (tests name keys by their text).
#[cfg(test)]
pub(crate) fn hash_str(s: &str) -> Key {
    hash_bytes(s.as_bytes())
}

/// The one stable hash for string keys: 64-bit FNV-1a over the bytes (the UTF-8 bytes of a string key).
///
/// FNV-1a is chosen because it is trivial to reimplement in any language (so a
/// Python script can map the same strings to the same keys), has no per-process
/// seed, and is good enough to spread keys. Decimal integers in traces are used
/// as-is and never hashed.
pub(crate) fn hash_bytes(bytes: &[u8]) -> Key {
    hash_bytes_from(0xcbf2_9ce4_8422_2325, bytes)
}

/// FNV-1a continued from the state `h` over `bytes`, to hash pieces as if
/// they were one text (`hash_bytes_from(hash_bytes(a), b)` is
/// `hash_bytes(ab)`).
pub(crate) fn hash_bytes_from(mut h: u64, bytes: &[u8]) -> Key {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Parses a key field of a text trace: a decimal integer is the key itself,
/// anything else is hashed with [`hash_str`].
#[cfg(test)]
pub(crate) fn parse_key(s: &str) -> Key {
    s.parse::<u64>().unwrap_or_else(|_| hash_str(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_reference_vectors() {
        // Published FNV-1a 64-bit test vectors.
        assert_eq!(hash_str(""), 0xcbf29ce484222325);
        assert_eq!(hash_str("a"), 0xaf63dc4c8601ec8c);
        assert_eq!(hash_str("foobar"), 0x85944171f73967e8);
    }

    #[test]
    fn decimal_keys_are_used_as_is() {
        assert_eq!(parse_key("42"), 42);
        assert_eq!(parse_key("user:42"), hash_str("user:42"));
        assert_eq!(parse_key("-1"), hash_str("-1"));
    }

    #[test]
    fn op_parse_accepts_aliases_and_rejects_others() {
        assert_eq!(Op::parse("GET"), Some(Op::Get));
        assert_eq!(Op::parse("write"), Some(Op::Set));
        assert_eq!(Op::parse("del"), Some(Op::Delete));
        assert_eq!(Op::parse("GET_LEASE"), Some(Op::Get));
        assert_eq!(Op::parse("get-lease"), Some(Op::Get));
        for w in ["add", "replace", "cas", "append", "prepend", "incr", "decr"] {
            assert_eq!(Op::parse(w), Some(Op::Set), "{w}");
        }
        assert_eq!(Op::parse("touch"), None);
        assert_eq!(Op::parse("scan"), None);
        assert_eq!(Op::parse(""), None);
        // Every name is listed once, under the request it is.
        let known = Op::known_names();
        for (name, op) in OP_NAMES {
            assert_eq!(Op::parse(name), Some(*op));
            assert!(known.contains(name), "{name}");
        }
        let mut names: Vec<&str> = OP_NAMES.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), OP_NAMES.len());
        assert!(known.starts_with("get (get, gets,"), "{known}");
    }
}
