//! `lirs`: the LIRS paper's traces (Jiang & Zhang, SIGMETRICS 2002) as kept by
//! Caffeine's simulator: one block number (a non-negative decimal integer) per
//! line, one request each. A line holding only `*` is a checkpoint marker of
//! the authors' simulator, not a request, and is skipped, as are blank lines
//! (Caffeine's `LirsTraceReader` does the same); CRLF line endings are
//! accepted. Every request is a get of size 1. Any other line is an error
//! naming `file:line` (use the `text` format for arbitrary string keys).

use super::lines::{parse_u64, LineScanner};
use super::{all_digits, Claim, Format, TraceError};
use crate::workload::{Batch, RequestSource};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `lirs` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "lirs",
    aliases: &[],
    describe: "LIRS paper traces: one block number per line, '*' checkpoint lines skipped",
    by_name: |_| false,
    by_content: |h| {
        // Plain numbers are as much text as lirs: they need a `*` marker or
        // the `.trace` name the LIRS traces carry. A `*` line is LIRS's own
        // marker, so it decides alone (as the README says): a line that is
        // no block number is then an error naming it, not a hashed key
        // (issue 16, item 17).
        let numeric = h.lines.iter().all(|l| *l == "*" || all_digits(l));
        Claim::yes_if(!h.binary && (h.lines.contains(&"*") || (h.dot_trace && numeric)))
    },
    lines: true,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(LirsReader::new(path, input))),
};

pub(crate) struct LirsReader {
    path: PathBuf,
    lines: LineScanner,
}

impl LirsReader {
    pub(crate) fn new(path: &Path, input: Box<dyn BufRead + Send>) -> LirsReader {
        LirsReader {
            path: path.to_path_buf(),
            lines: LineScanner::new(input),
        }
    }
}

impl RequestSource for LirsReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        if max == 0 {
            return Ok(0);
        }
        let mut error: Option<(u64, String)> = None;
        self.lines
            .scan(|line, no| {
                let field = line.trim_ascii();
                if field.is_empty() || field == b"*" {
                    return true;
                }
                match parse_u64(field) {
                    Some(k) => {
                        batch.keys.push(k);
                        batch.len() < max
                    }
                    None => {
                        error = Some((
                            no,
                            format!(
                                "expected a block number (a non-negative integer) or '*', found '{}'",
                                String::from_utf8_lossy(&field[..field.len().min(80)])
                            ),
                        ));
                        false
                    }
                }
            })
            .map_err(|err| TraceError::read(&self.path, err))?;
        if let Some((line, msg)) = error {
            return Err(TraceError::Line {
                path: self.path.clone(),
                line,
                msg,
            });
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Result<Vec<u64>, TraceError> {
        let input = Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut r = LirsReader::new(Path::new("t.trace"), input);
        let mut b = Batch::new(1.0, 1);
        let mut out = vec![];
        while r.next_batch(&mut b, 2)? > 0 {
            out.extend_from_slice(&b.keys);
        }
        Ok(out)
    }

    #[test]
    fn skips_checkpoints_blank_lines_and_crlf() {
        assert_eq!(read("1\r\n*\r\n2\n\n  3 \n*\n4").unwrap(), vec![1, 2, 3, 4]);
        assert_eq!(read("").unwrap(), Vec::<u64>::new());
    }

    #[test]
    fn other_lines_are_errors_naming_the_line() {
        let e = read("1\n*\nabc\n").unwrap_err().to_string();
        assert!(e.starts_with("t.trace:3:") && e.contains("'abc'"), "{e}");
        let e = read("1\n-2\n").unwrap_err().to_string();
        assert!(e.starts_with("t.trace:2:"), "{e}");
    }
}
