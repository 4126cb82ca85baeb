//! clap value parsers for the options of `run` and `mrc`: each turns one
//! option's text into a typed value, or into a message saying what is
//! accepted, which clap prints naming the option and quoting the value
//! (exit 2). The checks that involve several options stay in `cmd/`.

use crate::external::postgres::PgConfig;
use crate::external::redis::RedisUrl;
use crate::sim::capacity::{Capacity, CapacityList};
use crate::units::{parse_bytes, parse_count, parse_duration};

/// A value and its text as written, for the options that name a workload's
/// label (`zipf:requests=10k`) exactly as the user typed them.
#[derive(Debug, Clone, PartialEq)]
pub struct Written<T> {
    /// The parsed value.
    pub value: T,
    /// The option's text exactly as written.
    pub text: String,
}

impl<T> Written<T> {
    fn new(value: T, s: &str) -> Written<T> {
        Written {
            value,
            text: s.to_string(),
        }
    }
}

/// `--ttl`: one or more durations, each above 0.
#[derive(Debug, Clone, PartialEq)]
pub struct Ttls(pub Vec<f64>);

/// `--seeds`: the seeds in the order written, duplicates dropped.
#[derive(Debug, Clone, PartialEq)]
pub struct Seeds(pub Vec<u64>);

/// `mrc --capacity`: `all`, or a capacity list.
#[derive(Debug, Clone, PartialEq)]
pub enum MrcCapacity {
    /// `all`: every capacity from 1 to the working set.
    All,
    /// The capacities listed, as for `run --capacity`.
    List(CapacityList),
}

/// `run --capacity`: a comma-separated list of capacities and ranges.
pub fn capacities(s: &str) -> Result<CapacityList, String> {
    CapacityList::parse(s)
}

/// `mrc --capacity`: `all` (any case), or a capacity list.
pub fn mrc_capacities(s: &str) -> Result<MrcCapacity, String> {
    if s.trim().eq_ignore_ascii_case("all") {
        return Ok(MrcCapacity::All);
    }
    CapacityList::parse(s).map(MrcCapacity::List)
}

/// A single capacity (`--l1-capacity`): objects, a percentage or bytes.
pub fn capacity(s: &str) -> Result<Capacity, String> {
    Capacity::parse(s)
}

/// `--ttl`: comma-separated durations, each above 0 seconds.
pub fn ttls(s: &str) -> Result<Ttls, String> {
    let mut v = Vec::new();
    for t in s.split(',') {
        let d = parse_duration(t)?;
        if d <= 0.0 {
            return Err(format!("'{t}' must be greater than 0"));
        }
        v.push(d);
    }
    Ok(Ttls(v))
}

/// A duration in seconds (`--invalidation-delay`).
pub fn duration(s: &str) -> Result<f64, String> {
    parse_duration(s)
}

/// `--redis-key-ttl`: a duration of at least one second.
pub fn key_ttl(s: &str) -> Result<f64, String> {
    let d = parse_duration(s)?;
    if d < 1.0 {
        return Err(format!("'{s}' is shorter than 1s"));
    }
    Ok(d)
}

/// `--write-ratio`: a fraction from 0 to 1.
pub fn write_ratio(s: &str) -> Result<Written<f64>, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(Written::new(v, s)),
        _ => Err(format!("'{s}' is not a fraction from 0 to 1, e.g. 0.05")),
    }
}

/// `--threads`: a whole number from 1 (lowered later to what the plan
/// can use).
pub fn threads(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "'{s}' is not a whole number of threads from 1 up, e.g. 2"
        )),
    }
}

/// `--shard`: `I/N`, 1 <= I <= N.
pub fn shard(s: &str) -> Result<crate::sim::shard::Shard, String> {
    crate::sim::shard::Shard::parse(s)
}

/// `--origin`: a PostgreSQL URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
pub fn origin(s: &str) -> Result<PgConfig, String> {
    PgConfig::parse(s)
}

/// `--redis-url`: `redis://` (one server) or `redis+cluster://` (a cluster).
pub fn redis_url(s: &str) -> Result<RedisUrl, String> {
    RedisUrl::parse(s)
}

/// `--memcached-url`: `HOST[:PORT]` or `memcached://HOST[:PORT]`.
pub fn memcached_url(s: &str) -> Result<crate::external::memcached::MemcachedUrl, String> {
    crate::external::memcached::MemcachedUrl::parse(s)
}

/// `--tls-ca`: a readable PEM file of CA certificates.
pub fn tls_ca(s: &str) -> Result<std::path::PathBuf, String> {
    crate::external::tls::ca_file(s)
}

/// `--value-size`: bytes (64KiB) or a count, at most Redis's limit.
pub fn value_size(s: &str) -> Result<u32, String> {
    let v = match parse_bytes(s.trim()) {
        Some(r) => r?,
        None => parse_count(s)?,
    };
    if v > 512 << 20 {
        return Err(format!("'{s}' exceeds Redis's 512MiB limit for a value"));
    }
    Ok(v as u32)
}

/// A count from 1 to `max`.
fn count_up_to(s: &str, max: u64) -> Result<usize, String> {
    let n = parse_count(s)?;
    if n == 0 || n > max {
        return Err(format!("'{s}' must be between 1 and {max}"));
    }
    Ok(n as usize)
}

/// `--pipeline`: gets per batch, 1 to 65536.
pub fn pipeline(s: &str) -> Result<usize, String> {
    count_up_to(s, 1 << 16)
}

/// `--clients`: connections, 1 to 1024.
pub fn clients(s: &str) -> Result<usize, String> {
    count_up_to(s, 1024)
}

/// A count (`--requests`, `--keys`); the preset checks its range.
pub fn count(s: &str) -> Result<Written<u64>, String> {
    parse_count(s).map(|n| Written::new(n, s))
}

/// `--alpha`: a number (the preset checks that it is from 0 to 10).
pub fn alpha(s: &str) -> Result<Written<f64>, String> {
    s.trim()
        .parse()
        .map(|v| Written::new(v, s))
        .map_err(|_| format!("'{s}' is not a number; expected a skew from 0 to 10, e.g. 0.99"))
}

/// `--rate`: requests per second, above 0.
pub fn rate(s: &str) -> Result<f64, String> {
    let v: f64 = s.trim().parse().map_err(|_| {
        format!("'{s}' is not a number; expected requests per second > 0, e.g. 1000")
    })?;
    if !(v.is_finite() && v > 0.0) {
        return Err(format!(
            "'{s}' must be a positive number of requests per second"
        ));
    }
    Ok(v)
}

/// `--redis-pace`: a speed-up factor above 0.
pub fn pace(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "'{s}' is not a positive number; expected a speed-up factor, e.g. 1 (real time) or 10"
        )),
    }
}

/// Most seeds one command may ask for.
pub const MAX_SEEDS: usize = 10_000;

/// `--seeds`: a range `1..5` (inclusive), a list `1,2,7`, or both.
pub fn seeds(s: &str) -> Result<Seeds, String> {
    parse_seeds(s).map(Seeds)
}

/// Parses `1..5`, `1,2,7` or `1..3,10`.
pub fn parse_seeds(s: &str) -> Result<Vec<u64>, String> {
    let accepted = "expected a range such as 1..5 (inclusive) or a list such as 1,2,7";
    let num = |t: &str| -> Result<u64, String> {
        t.trim()
            .parse::<u64>()
            .map_err(|_| format!("'{}' is not a whole number; {accepted}", t.trim()))
    };
    let mut out: Vec<u64> = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = match part.split_once("..") {
            Some((a, b)) => (num(a)?, num(b.strip_prefix('=').unwrap_or(b))?),
            None => {
                let v = num(part)?;
                (v, v)
            }
        };
        if hi < lo {
            return Err(format!(
                "range '{part}' is empty: END must be at least START; {accepted}"
            ));
        }
        if hi - lo >= MAX_SEEDS as u64 || out.len() + (hi - lo) as usize >= MAX_SEEDS {
            return Err(format!("'{s}' asks for more than {MAX_SEEDS} seeds"));
        }
        for v in lo..=hi {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("no seed given; {accepted}"));
    }
    Ok(out)
}

/// `--sample-adj`: on or off.
pub fn on_off(s: &str) -> Result<bool, String> {
    match s.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        _ => Err(format!("'{s}' is not on or off")),
    }
}

/// `--sample-size`: a number of keys from 1 up.
pub fn sample_size(s: &str) -> Result<usize, String> {
    let n = parse_count(s)?;
    if n == 0 || n > u32::MAX as u64 {
        return Err(format!("'{s}' must be a number of keys from 1 up, e.g. 8k"));
    }
    Ok(n as usize)
}

/// Parses `--sample`: a rate in (0, 1] as `0.01` or `1%`.
pub fn sample_rate(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let bad = || {
        format!("'{s}' is not a sampling rate; expected a number in (0, 1] such as 0.01, or a percentage such as 1%")
    };
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map_err(|_| bad())? / 100.0,
        None => t.parse::<f64>().map_err(|_| bad())?,
    };
    if !(v > 0.0 && v <= 1.0) {
        return Err(bad());
    }
    if v * (crate::mrc::shards::P as f64) < 1.0 {
        return Err(format!(
            "'{s}' is below the smallest rate, 1/{}",
            crate::mrc::shards::P
        ));
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_ranges_and_lists() {
        assert_eq!(parse_seeds("1..5").unwrap(), vec![1, 2, 3, 4, 5]);
        assert_eq!(parse_seeds("7,2,7").unwrap(), vec![7, 2]);
        assert_eq!(parse_seeds("1..3,10").unwrap(), vec![1, 2, 3, 10]);
        assert!(parse_seeds("5..1").unwrap_err().contains("empty"));
        assert!(parse_seeds("a..3")
            .unwrap_err()
            .contains("not a whole number"));
        assert!(parse_seeds("0..100000").unwrap_err().contains("more than"));
        assert!(parse_seeds(",").unwrap_err().contains("no seed"));
    }

    #[test]
    fn sample_rates() {
        assert_eq!(sample_rate("1%").unwrap(), 0.01);
        assert_eq!(sample_rate("0.1").unwrap(), 0.1);
        assert!(sample_rate("0").is_err());
        assert!(sample_rate("150%").is_err());
        assert!(sample_rate("often").unwrap_err().contains("(0, 1]"));
    }
}
