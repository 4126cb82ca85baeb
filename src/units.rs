//! Parsing and printing of the units users type: durations (`500ms`, `30s`,
//! `5m`, `1h`, bare seconds), counts (`1000`, `10k`, `1M`) and byte sizes
//! (`64MiB`, `1GB`).
//!
//! Every parser returns a message that says what is accepted, so the CLI can
//! put it straight behind the option's name.

/// Parses a duration into seconds: `500ms`, `30s`, `5m`, `1h`, `1.5s`, `250us`,
/// or bare (fractional) seconds. Must be finite and non-negative.
pub(crate) fn parse_duration(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let accepted = "expected a duration such as 500ms, 30s, 5m, 1h or bare seconds";
    let split = t
        .find(|c: char| c.is_ascii_alphabetic() || c == 'µ')
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .trim()
        .parse()
        .map_err(|_| format!("invalid duration '{s}': {accepted}"))?;
    let mult = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1.0,
        "ms" => 1e-3,
        "us" | "µs" => 1e-6,
        "ns" => 1e-9,
        "m" | "min" | "mins" => 60.0,
        "h" | "hr" | "hours" => 3600.0,
        "d" | "days" => 86400.0,
        other => {
            return Err(format!(
                "invalid duration '{s}': unknown unit '{other}'; {accepted}"
            ))
        }
    };
    let secs = v * mult;
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("invalid duration '{s}': must be finite and >= 0"));
    }
    if secs > 0.0 && secs < 1e-9 {
        // Labels and the CSV would print 0 (issue 16, item 17).
        return Err(format!(
            "invalid duration '{s}': below 1ns, the finest duration cachesim tells apart"
        ));
    }
    Ok(secs)
}

/// Prints a number as Rust does, or in exponent form (`1e-300`) when it is
/// below 1e-4 or from 1e16 up, as Python's `repr` does: labels stay short
/// whatever was typed (issue 16: `--rate 1e-300` made a 300-character
/// label).
pub(crate) fn format_number(v: f64) -> String {
    let a = v.abs();
    if a != 0.0 && a.is_finite() && !(1e-4..1e16).contains(&a) {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// Prints seconds the way a user would type them: `500ms`, `30s`, `5m`, `1h`.
pub(crate) fn format_duration(secs: f64) -> String {
    let fmt = |v: f64, unit: &str| {
        let r = (v * 1000.0).round() / 1000.0;
        format!("{}{unit}", format_number(r))
    };
    if secs == 0.0 {
        "0s".into()
    } else if secs < 1e-6 {
        fmt(secs * 1e9, "ns")
    } else if secs < 1e-3 {
        fmt(secs * 1e6, "us")
    } else if secs < 1.0 {
        fmt(secs * 1e3, "ms")
    } else if secs >= 3600.0 && (secs / 3600.0).fract() == 0.0 {
        fmt(secs / 3600.0, "h")
    } else if secs >= 60.0 && (secs / 60.0).fract() == 0.0 {
        fmt(secs / 60.0, "m")
    } else {
        fmt(secs, "s")
    }
}

/// Parses a count: `1000`, `10k`, `1.5M`, `2G` (powers of ten), `1_000_000`.
pub(crate) fn parse_count(s: &str) -> Result<u64, String> {
    let t: String = s.trim().chars().filter(|&c| c != '_').collect();
    let accepted = "expected a whole number such as 1000, 10k or 1M";
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1e3),
        Some('m' | 'M') => (&t[..t.len() - 1], 1e6),
        Some('g' | 'G' | 'b' | 'B') => (&t[..t.len() - 1], 1e9),
        _ => (t.as_str(), 1.0),
    };
    if mult == 1.0 {
        return num
            .parse::<u64>()
            .map_err(|_| format!("invalid count '{s}': {accepted}"));
    }
    let v: f64 = num
        .parse()
        .map_err(|_| format!("invalid count '{s}': {accepted}"))?;
    let n = v * mult;
    if !n.is_finite() || n < 0.0 || n.fract() != 0.0 || n > u64::MAX as f64 {
        return Err(format!("invalid count '{s}': {accepted}"));
    }
    Ok(n as u64)
}

/// Parses a byte size with a unit: `512B`, `64KiB`, `64MiB`, `1GiB` (powers of
/// two) or `64KB`, `64MB`, `1GB` (powers of ten). Returns `None` when `s` has
/// no byte unit (so the caller can try a count instead).
pub(crate) fn parse_bytes(s: &str) -> Option<Result<u64, String>> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let units: [(&str, f64); 8] = [
        ("kib", 1024.0),
        ("mib", 1024.0 * 1024.0),
        ("gib", 1024.0 * 1024.0 * 1024.0),
        ("tib", 1024f64.powi(4)),
        ("kb", 1e3),
        ("mb", 1e6),
        ("gb", 1e9),
        ("tb", 1e12),
    ];
    let (num, mult) = units
        .iter()
        .find(|(u, _)| lower.ends_with(u))
        .map(|(u, m)| (&t[..t.len() - u.len()], *m))
        .or_else(|| {
            (lower.ends_with('b') && !lower.ends_with("kb")).then(|| (&t[..t.len() - 1], 1.0))
        })?;
    let accepted = "expected a byte size such as 512B, 64KiB, 64MiB, 1GiB, 64KB, 64MB or 1GB";
    let v: Result<f64, _> = num.trim().parse::<f64>();
    Some(match v {
        Ok(v) if v.is_finite() && v >= 0.0 => {
            let n = (v * mult).round();
            // 2^64 itself does not fit (it used to saturate silently).
            if n >= 18_446_744_073_709_551_616.0 {
                Err(format!("invalid byte size '{s}': too large"))
            } else {
                Ok(n as u64)
            }
        }
        _ => Err(format!("invalid byte size '{s}': {accepted}")),
    })
}

/// Prints a byte count with a binary unit: `64MiB`, `1.5GiB`, `512B`.
pub(crate) fn format_bytes(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut u = 0;
    while v >= 1024.0 && u < units.len() - 1 && (v / 1024.0).fract() == 0.0
        || v >= 1024.0 * 1024.0 && u < units.len() - 1
    {
        v /= 1024.0;
        u += 1;
    }
    let r = (v * 100.0).round() / 100.0;
    format!("{r}{}", units[u])
}

/// A latency given in microseconds, as a person reads it: `12ns`, `1.9µs`,
/// `250µs`, `2.0ms`, `1.2s`. One decimal below 10 of a unit, whole numbers
/// from 10 to 999, so at most three digits; a value that rounds to 1000 of a
/// unit is written in the next (`999.96µs` is `1.0ms`). With `trim`, a `.0`
/// is dropped (`2ms`): for axis ticks, which sit on round values; the run
/// table keeps it, so a column reads at one precision.
pub(crate) fn format_us(us: f64, trim: bool) -> String {
    const UNITS: [(&str, f64); 4] = [("ns", 1e-3), ("\u{b5}s", 1.0), ("ms", 1e3), ("s", 1e6)];
    let us = us.max(0.0);
    let mut i = UNITS
        .iter()
        .rposition(|&(_, scale)| us >= scale)
        .unwrap_or(0);
    loop {
        let (name, scale) = UNITS[i];
        let x = us / scale;
        let tenths = (x * 10.0).round();
        if tenths < 100.0 {
            return if tenths == 0.0 || trim && tenths % 10.0 == 0.0 {
                format!("{:.0}{name}", tenths / 10.0)
            } else {
                format!("{:.1}{name}", tenths / 10.0)
            };
        }
        if x.round() >= 1000.0 && i + 1 < UNITS.len() {
            i += 1;
            continue;
        }
        return format!("{:.0}{name}", x.round());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), 0.5);
        assert_eq!(parse_duration("30s").unwrap(), 30.0);
        assert_eq!(parse_duration("5m").unwrap(), 300.0);
        assert_eq!(parse_duration("1h").unwrap(), 3600.0);
        assert_eq!(parse_duration("2.5").unwrap(), 2.5);
        assert!(parse_duration("5 parsecs")
            .unwrap_err()
            .contains("unknown unit"));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("abc").unwrap_err().contains("500ms"));
        for s in ["500ms", "30s", "5m", "1h", "1.5s", "250us", "20ns"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
        // Issue 16, item 17: no duration is labelled 0 unless it is 0.
        assert!(parse_duration("0.0000001ms").unwrap_err().contains("1ns"));
        assert_eq!(format_duration(parse_duration("1ns").unwrap()), "1ns");
        assert!(
            format_duration(1e300).len() < 30,
            "{}",
            format_duration(1e300)
        );
    }

    #[test]
    fn latencies_read_with_units_and_three_digits_at_most() {
        let table = |us| format_us(us, false);
        assert_eq!(table(0.012), "12ns");
        assert_eq!(table(0.0004), "0.4ns");
        assert_eq!(table(0.0), "0ns");
        assert_eq!(table(0.999), "999ns");
        assert_eq!(table(1.0), "1.0\u{b5}s");
        assert_eq!(table(1.94), "1.9\u{b5}s");
        assert_eq!(table(9.96), "10\u{b5}s");
        assert_eq!(table(250.4), "250\u{b5}s");
        assert_eq!(table(999.4), "999\u{b5}s");
        // Rounds to 1000µs: the next unit instead.
        assert_eq!(table(999.96), "1.0ms");
        assert_eq!(table(2000.0), "2.0ms");
        assert_eq!(table(2000.3855), "2.0ms");
        assert_eq!(table(817.98), "818\u{b5}s");
        assert_eq!(table(12_345.0), "12ms");
        assert_eq!(table(1.2e6), "1.2s");
        assert_eq!(table(3.6e9), "3600s");
        // Axis ticks drop the `.0` of round values, keep the rest.
        assert_eq!(format_us(0.05, true), "50ns");
        assert_eq!(format_us(2000.0, true), "2ms");
        assert_eq!(format_us(1.5, true), "1.5\u{b5}s");
        assert_eq!(format_us(1e6, true), "1s");
        assert_eq!(format_us(0.0, true), "0ns");
    }

    #[test]
    fn numbers_stay_short() {
        assert_eq!(format_number(1000.0), "1000");
        assert_eq!(format_number(0.25), "0.25");
        assert_eq!(format_number(1e-300), "1e-300");
        assert_eq!(format_number(1e300), "1e300");
        assert_eq!(format_number(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(format_number(0.0), "0");
    }

    #[test]
    fn counts() {
        assert_eq!(parse_count("1000").unwrap(), 1000);
        assert_eq!(parse_count("10k").unwrap(), 10_000);
        assert_eq!(parse_count("1M").unwrap(), 1_000_000);
        assert_eq!(parse_count("1.5M").unwrap(), 1_500_000);
        assert_eq!(parse_count("1_000").unwrap(), 1000);
        assert!(parse_count("1.5").is_err());
        assert!(parse_count("ten").is_err());
    }

    #[test]
    fn bytes() {
        assert_eq!(parse_bytes("64MiB").unwrap().unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1GB").unwrap().unwrap(), 1_000_000_000);
        assert_eq!(parse_bytes("512B").unwrap().unwrap(), 512);
        assert_eq!(parse_bytes("4kb").unwrap().unwrap(), 4000);
        assert!(parse_bytes("1000").is_none());
        assert!(parse_bytes("xMiB").unwrap().is_err());
        assert_eq!(format_bytes(64 << 20), "64MiB");
        assert_eq!(format_bytes(512), "512B");
        // Issue 16, item 17: 2^64 bytes is too large, as 2^64 + 1 GiB is.
        assert!(parse_bytes("18446744073709551616B")
            .unwrap()
            .unwrap_err()
            .contains("too large"));
        assert_eq!(
            parse_bytes("17179869183GiB").unwrap().unwrap(),
            17179869183 << 30
        );
    }
}
