//! `arc`: the ARC paper's `.lis` traces (Megiddo & Modha, FAST 2003), as
//! distributed by IBM and mirrored by moka, Caffeine and BitFaster.
//!
//! Each line is `starting_block number_of_blocks ignore request_number`,
//! fields separated by spaces or tabs; it stands for `number_of_blocks`
//! consecutive page requests `starting_block ..= starting_block +
//! number_of_blocks - 1`, issued in that order. This expansion is how the
//! paper's Table III counts requests and how Caffeine's `ArcTraceReader`
//! reads the files. Only the first two fields are read (the third is to be
//! ignored, the fourth is a line counter); a line with `number_of_blocks = 0`
//! yields no request. Blank lines are skipped and a trailing `\r` is accepted.
//! Every request is a get of size 1 (the pages are 512-byte blocks; give a
//! count capacity in pages). A line that does not start with two
//! non-negative integers, or stands for more than [`MAX_BLOCKS_PER_LINE`]
//! blocks, is an error naming `file:line`.

use super::lines::{parse_u64, LineScanner};
use super::{all_digits, Claim, Format, TraceError};
use crate::workload::{Batch, RequestSource};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `arc` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "arc",
    aliases: &["lis"],
    describe: "ARC paper .lis: 'start n ignore reqno' lines, each n consecutive block requests",
    by_name: |stem| stem.ends_with(".lis"),
    by_content: |h| {
        let fields: Vec<&str> = h.first.split_ascii_whitespace().collect();
        Claim::yes_if(!h.binary && fields.len() == 4 && fields.iter().all(|f| all_digits(f)))
    },
    lines: true,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(ArcReader::new(path, input))),
};

pub(crate) struct ArcReader {
    path: PathBuf,
    lines: LineScanner,
    /// The next block of the line being expanded, and how many remain.
    next: u64,
    remaining: u64,
}

impl ArcReader {
    pub(crate) fn new(path: &Path, input: Box<dyn BufRead + Send>) -> ArcReader {
        ArcReader {
            path: path.to_path_buf(),
            lines: LineScanner::new(input),
            next: 0,
            remaining: 0,
        }
    }
}

/// Splits off the first field (bytes up to a space or tab) after skipping
/// leading blanks.
#[inline]
fn field(s: &[u8]) -> (&[u8], &[u8]) {
    let start = s
        .iter()
        .position(|&b| b != b' ' && b != b'\t')
        .unwrap_or(s.len());
    let s = &s[start..];
    let end = s
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(s.len());
    s.split_at(end)
}

/// Most blocks one line may stand for: 2^20 (a 512 MiB request). The ARC
/// paper's traces have at most 512; a line such as `0 18446744073709551615
/// 0 1` (27 bytes) would otherwise expand without end (issue 16).
pub(crate) const MAX_BLOCKS_PER_LINE: u64 = 1 << 20;

/// Parses one `.lis` line into `(start, n)`; `Ok(None)` for a blank line.
pub(crate) fn parse_line(line: &[u8]) -> Result<Option<(u64, u64)>, String> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let (a, rest) = field(line);
    if a.is_empty() {
        return Ok(None);
    }
    let (b, _) = field(rest);
    match (parse_u64(a), parse_u64(b)) {
        (Some(start), Some(n)) => {
            if n > MAX_BLOCKS_PER_LINE {
                return Err(format!(
                    "number_of_blocks = {n} is more than one line may hold ({MAX_BLOCKS_PER_LINE}: {} of 512-byte blocks; the ARC paper's traces have at most 512)",
                    crate::units::format_bytes(MAX_BLOCKS_PER_LINE * 512)
                ));
            }
            if n > 0 && start.checked_add(n - 1).is_none() {
                return Err(format!("block range {start} + {n} overflows a 64-bit key"));
            }
            Ok(Some((start, n)))
        }
        _ => Err(format!(
            "expected 'starting_block number_of_blocks ignore request_number' (non-negative integers), found '{}'",
            String::from_utf8_lossy(&line[..line.len().min(80)])
        )),
    }
}

/// The common case, in one pass: `digits blank digits` then a blank, `\r`
/// or the end. `None` sends the line to [`parse_line`].
#[inline(always)]
fn parse_fast(line: &[u8]) -> Option<(u64, u64)> {
    let mut i = 0;
    let num = |i: &mut usize| -> Option<u64> {
        let start = *i;
        let mut v: u64 = 0;
        while *i < line.len() {
            let d = line[*i].wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            v = v.checked_mul(10)?.checked_add(u64::from(d))?;
            *i += 1;
        }
        (*i > start).then_some(v)
    };
    let start = num(&mut i)?;
    if i >= line.len() || line[i] != b' ' {
        return None;
    }
    i += 1;
    let n = num(&mut i)?;
    if i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r') {
        return None;
    }
    if n > MAX_BLOCKS_PER_LINE || (n > 0 && start.checked_add(n - 1).is_none()) {
        return None;
    }
    Some((start, n))
}

impl RequestSource for ArcReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        let max = max.max(1);
        let mut error: Option<(u64, String)> = None;
        loop {
            if self.remaining > 0 {
                let room = (max - batch.len()) as u64;
                let take = self.remaining.min(room);
                let first = self.next;
                batch.keys.extend((0..take).map(|i| first + i));
                // `next` may reach 2^64 only once the line is done.
                self.next = self.next.wrapping_add(take);
                self.remaining -= take;
                if batch.len() == max {
                    break;
                }
            }
            let (next, remaining) = (&mut self.next, &mut self.remaining);
            let more = self
                .lines
                .scan(|line, no| {
                    let parsed = match parse_fast(line) {
                        Some(p) => Some(p),
                        None => match parse_line(line) {
                            Ok(p) => p,
                            Err(msg) => {
                                error = Some((no, msg));
                                return false;
                            }
                        },
                    };
                    if let Some((start, n)) = parsed {
                        let room = (max - batch.len()) as u64;
                        if n <= room {
                            batch.keys.extend((0..n).map(|i| start + i));
                            return batch.len() < max;
                        }
                        *next = start;
                        *remaining = n;
                        return false;
                    }
                    true
                })
                .map_err(|err| TraceError::read(&self.path, err))?;
            if let Some((line, msg)) = error.take() {
                return Err(TraceError::Line {
                    path: self.path.clone(),
                    line,
                    msg,
                });
            }
            if !more && self.remaining == 0 {
                break;
            }
            if batch.len() == max {
                break;
            }
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str, max: usize) -> Result<Vec<u64>, TraceError> {
        let input = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut r = ArcReader::new(Path::new("t.lis"), input);
        let mut b = Batch::new(1.0, 1);
        let mut out = vec![];
        while r.next_batch(&mut b, max)? > 0 {
            assert!(b.len() <= max);
            out.extend_from_slice(&b.keys);
        }
        Ok(out)
    }

    #[test]
    fn lines_expand_to_consecutive_blocks_across_batches() {
        let text = "110765 3 0 0\r\n\n7 1 0 1\n5\t0\t0\t2\n20 2 0 3";
        for max in [1, 2, 4, 100] {
            assert_eq!(
                read(text, max).unwrap(),
                vec![110765, 110766, 110767, 7, 20, 21],
                "max {max}"
            );
        }
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let e = read("1 1 0 0\n2 x 0 1\n", 8).unwrap_err().to_string();
        assert!(e.starts_with("t.lis:2:") && e.contains("'2 x 0 1'"), "{e}");
        let e = read("1 1 0 0\n-3 1 0 1\n", 8).unwrap_err().to_string();
        assert!(e.starts_with("t.lis:2:"), "{e}");
        let e = read("18446744073709551615 2 0 0\n", 8)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.lis:1:") && e.contains("overflows"), "{e}");
        assert_eq!(
            read("18446744073709551615 1 0 0\n", 8).unwrap(),
            vec![u64::MAX]
        );
        let e = read("5\n", 8).unwrap_err().to_string();
        assert!(e.starts_with("t.lis:1:"), "{e}");
    }

    #[test]
    fn a_line_of_more_blocks_than_the_bound_is_refused_before_expanding() {
        // 27 bytes that once expanded without end (issue 16).
        let e = read("1 1 0 0\n0 18446744073709551615 0 1\n", 8)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.lis:2:") && e.contains("number_of_blocks"),
            "{e}"
        );
        let over = format!("0 {} 0 0\n", MAX_BLOCKS_PER_LINE + 1);
        assert!(read(&over, 8).is_err());
        let at = format!("0 {} 0 0\n", MAX_BLOCKS_PER_LINE);
        assert_eq!(read(&at, 4096).unwrap().len() as u64, MAX_BLOCKS_PER_LINE);
    }
}
