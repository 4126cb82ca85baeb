//! Writers for run results: one small trait, one file per format. The replay
//! produces [`RunResult`]s; these only format them.

pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod markdown;
pub mod reproduce;
pub mod table;

use crate::sim::RunResult;
use std::io::{self, Write};

/// Formats results onto a writer.
pub(crate) trait Exporter {
    fn write(&self, results: &[RunResult], out: &mut dyn Write) -> io::Result<()>;
}

/// `YYYYMMDD-HHMMSS` (UTC) now, for the names of fresh results files.
pub(crate) fn utc_stamp_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    utc_stamp(secs)
}

/// `YYYYMMDD-HHMMSS` for a Unix time (proleptic Gregorian, UTC).
pub(crate) fn utc_stamp(secs: u64) -> String {
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}{m:02}{d:02}-{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_are_civil_dates() {
        assert_eq!(utc_stamp(0), "19700101-000000");
        assert_eq!(utc_stamp(1_709_251_199), "20240229-235959");
        assert_eq!(utc_stamp(1_796_083_200), "20261201-000000");
    }
}
