//! `csv`: a header row naming the columns, among `time` (seconds, fractional
//! allowed), `key`, `size` (bytes) and `op` (`get`, `set`, `delete`; aliases in
//! [`crate::request::Op::parse`]); names are case-insensitive, other columns
//! are ignored, only `key` is required. Keys follow the text rule: a decimal
//! `u64` as-is, anything else hashed with FNV-1a.

use super::text::key_of;
use super::{Claim, Format, TraceError};
use crate::request::Op;
use crate::workload::{Batch, RequestSource};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `csv` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "csv",
    aliases: &[],
    describe: "CSV with a header naming key and optionally time, size, op",
    by_name: |stem| stem.ends_with(".csv"),
    by_content: |h| {
        Claim::yes_if(
            !h.binary
                && h.first.contains(',')
                && h.first
                    .to_ascii_lowercase()
                    .split(',')
                    .any(|c| c.trim() == "key"),
        )
    },
    lines: true,
    open: |path, input| Ok(Box::new(CsvReader::new(path, input)?)),
};

pub(crate) struct CsvReader {
    path: PathBuf,
    rdr: csv::Reader<Box<dyn BufRead + Send>>,
    key: usize,
    time: Option<usize>,
    size: Option<usize>,
    op: Option<usize>,
    record: csv::ByteRecord,
}

impl CsvReader {
    pub(crate) fn new(
        path: &Path,
        input: Box<dyn BufRead + Send>,
    ) -> Result<CsvReader, TraceError> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .comment(Some(b'#'))
            .from_reader(input);
        let headers = rdr
            .headers()
            .map_err(|e| csv_error(path, 1, "cannot read the CSV header", &e))?
            .clone();
        let find = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        let key = find("key").ok_or_else(|| TraceError::Line {
            path: path.to_path_buf(),
            line: 1,
            msg: format!(
                "the CSV header must name a 'key' column (and optionally time, size, op); found: {}",
                headers.iter().collect::<Vec<_>>().join(", ")
            ),
        })?;
        Ok(CsvReader {
            path: path.to_path_buf(),
            key,
            time: find("time"),
            size: find("size"),
            op: find("op"),
            rdr,
            record: csv::ByteRecord::new(),
        })
    }

    fn err(&self, line: u64, msg: String) -> TraceError {
        TraceError::Line {
            path: self.path.clone(),
            line,
            msg,
        }
    }
}

/// A CSV error at `line` of `path`, as `what: error`; a line past
/// [`super::lines::MAX_LINE`] is named as such, with its own line number.
fn csv_error(path: &Path, line: u64, what: &str, e: &csv::Error) -> TraceError {
    let (line, msg) = match e.kind() {
        csv::ErrorKind::Io(io) => match super::lines::LineTooLong::find(io) {
            Some(long) => (
                long.line,
                format!("the line {}", super::lines::LineTooLong::WHAT),
            ),
            None => (line, format!("{what}: {e}")),
        },
        _ => (line, format!("{what}: {e}")),
    };
    TraceError::Line {
        path: path.to_path_buf(),
        line,
        msg,
    }
}

impl RequestSource for CsvReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        while batch.len() < max {
            let more = self.rdr.read_byte_record(&mut self.record).map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                csv_error(&self.path, line, "malformed CSV", &e)
            })?;
            if !more {
                break;
            }
            let line = self.record.position().map(|p| p.line()).unwrap_or(0);
            let field = |i: usize, name: &str| {
                self.record.get(i).ok_or_else(|| {
                    self.err(
                        line,
                        format!(
                            "missing '{name}' field (the row has {} fields)",
                            self.record.len()
                        ),
                    )
                })
            };
            let kf = field(self.key, "key")?;
            if kf.is_empty() {
                return Err(self.err(line, "empty key".into()));
            }
            batch.keys.push(key_of(kf));
            if let Some(i) = self.time {
                let f = field(i, "time")?;
                let t = std::str::from_utf8(f)
                    .ok()
                    .and_then(|s| s.parse::<f64>().ok())
                    .filter(|t| t.is_finite() && *t >= 0.0)
                    .ok_or_else(|| {
                        self.err(
                            line,
                            format!(
                                "time '{}' is not a number of seconds >= 0",
                                String::from_utf8_lossy(f)
                            ),
                        )
                    })?;
                batch.times.push(t);
            }
            if let Some(i) = self.size {
                let f = field(i, "size")?;
                let s = std::str::from_utf8(f)
                    .ok()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| {
                        self.err(
                            line,
                            format!(
                                "size '{}' is not a whole number of bytes (0 to 4294967295)",
                                String::from_utf8_lossy(f)
                            ),
                        )
                    })?;
                batch.sizes.push(s);
            }
            if let Some(i) = self.op {
                let f = field(i, "op")?;
                let op = std::str::from_utf8(f)
                    .ok()
                    .and_then(Op::parse)
                    .ok_or_else(|| {
                        self.err(
                            line,
                            format!(
                                "op '{}' is not one of get, set, delete",
                                String::from_utf8_lossy(f)
                            ),
                        )
                    })?;
                batch.ops.push(op);
            }
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::hash_str;

    fn read(text: &str) -> Result<Batch, TraceError> {
        let input: Box<dyn BufRead + Send> =
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let mut r = CsvReader::new(Path::new("t.csv"), input)?;
        let mut all = Batch::new(1.0, 1);
        let mut b = Batch::new(1.0, 1);
        while r.next_batch(&mut b, 2)? > 0 {
            crate::workload::trace::append(&mut all, &b);
        }
        Ok(all)
    }

    #[test]
    fn reads_named_columns_in_any_order() {
        let b = read("op,extra,Key,time,size\nget,x,1,0.5,100\nset,y,abc,1.25,7\ndelete,z,1,2,0\n")
            .unwrap();
        assert_eq!(b.keys, vec![1, hash_str("abc"), 1]);
        assert_eq!(b.times, vec![0.5, 1.25, 2.0]);
        assert_eq!(b.sizes, vec![100, 7, 0]);
        assert_eq!(b.ops, vec![Op::Get, Op::Set, Op::Delete]);
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = read("key,time\n1,0\n2,soon\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3:") && e.contains("soon"), "{e}");
        let e = read("key,op\n1,scan\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:2:") && e.contains("get, set, delete"),
            "{e}"
        );
        let e = read("id,time\n1,0\n").unwrap_err().to_string();
        assert!(e.contains("'key' column") && e.contains("id, time"), "{e}");
        let e = read("key,size\n1\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:2:") && e.contains("missing 'size'"),
            "{e}"
        );
    }
}
