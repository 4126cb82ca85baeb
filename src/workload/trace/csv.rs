//! `csv`: a header row naming the columns, among `time` (seconds, fractional
//! allowed), `key`, `size` (bytes), `op` (`get`, `set`, `delete`; aliases in
//! [`crate::request::OP_NAMES`]) and `op_count` or `count` (the row stands
//! for that many requests, 1 to [`MAX_COUNT`], as in Meta's KV cache
//! traces); names are case-insensitive, other columns
//! are ignored, only `key` is required, and no name may be given twice.
//! Keys follow the text rule: a decimal `u64` as-is, anything else hashed
//! with FNV-1a.
//!
//! Fields are separated by commas and trimmed; a field in double quotes may
//! hold commas, `""` for a quote, and line breaks. Blank lines and lines
//! starting with `#` are skipped. Every row has as many fields as the
//! header. Errors name the line a row starts on, counting every line of
//! the file (issue 16: the csv crate's count skipped comments and blank
//! lines, and its messages named a second line).

use super::lines::read_line;
use super::text::key_of;
use super::{Claim, Format, TraceError};
use crate::request::{Key, Op};
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
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(CsvReader::new(path, input)?)),
};

pub(crate) struct CsvReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    /// Number of the physical line last read, from 1.
    line: u64,
    /// Columns of the header.
    columns: usize,
    key: usize,
    time: Option<usize>,
    size: Option<usize>,
    op: Option<usize>,
    /// `op_count` or `count`: how many times the row's request happens.
    count: Option<usize>,
    /// Requests of the last row still to hand out (its count ran past a
    /// batch).
    pending: Option<(Row, u64)>,
    /// The physical line being read.
    buf: Vec<u8>,
    /// The current record's fields, unquoted and trimmed, back to back.
    fields: Vec<u8>,
    /// End of each field in `fields`.
    ends: Vec<usize>,
}

/// What [`split_record`] leaves when a line ends.
#[derive(PartialEq)]
enum Split {
    /// The record is complete.
    Done,
    /// A quoted field holds a line break: the record goes on on the next
    /// line.
    OpenQuote,
}

impl CsvReader {
    /// Reads the header: the first line that is neither blank nor a `#`
    /// comment. Its names are trimmed and compared without case; a name
    /// given twice is an error, as is a header without `key`.
    pub(crate) fn new(
        path: &Path,
        input: Box<dyn BufRead + Send>,
    ) -> Result<CsvReader, TraceError> {
        let mut r = CsvReader {
            path: path.to_path_buf(),
            input,
            line: 0,
            columns: 0,
            key: 0,
            time: None,
            size: None,
            op: None,
            count: None,
            pending: None,
            buf: Vec::with_capacity(256),
            fields: Vec::with_capacity(256),
            ends: Vec::with_capacity(16),
        };
        let Some(header_line) = r.next_record()? else {
            return Err(TraceError::Empty {
                path: path.to_path_buf(),
            });
        };
        let names: Vec<String> = (0..r.ends.len())
            .map(|i| {
                String::from_utf8_lossy(r.field(i))
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect();
        for (i, n) in names.iter().enumerate() {
            if let Some(j) = names[..i].iter().position(|m| !n.is_empty() && m == n) {
                return Err(r.err(
                    header_line,
                    format!(
                        "the CSV header names column '{n}' twice (columns {} and {}); which one is meant?",
                        j + 1,
                        i + 1
                    ),
                ));
            }
        }
        let find = |name: &str| names.iter().position(|h| h == name);
        r.key = find("key").ok_or_else(|| {
            r.err(
                header_line,
                format!(
                    "the CSV header must name a 'key' column (and optionally time, size, op); found: {}",
                    names.join(", ")
                ),
            )
        })?;
        r.time = find("time");
        r.size = find("size");
        r.op = find("op");
        r.count = find("op_count").or_else(|| find("count"));
        r.columns = names.len();
        Ok(r)
    }

    fn err(&self, line: u64, msg: String) -> TraceError {
        TraceError::Line {
            path: self.path.clone(),
            line,
            msg,
        }
    }

    /// Field `i` of the current row (read at `line`), named `name` in the
    /// error when the row is too short for it.
    fn cell(&self, line: u64, i: usize, name: &str) -> Result<&[u8], TraceError> {
        let got = self.ends.len();
        if i < got {
            Ok(self.field(i))
        } else {
            Err(self.err(
                line,
                format!("missing '{name}' field (the row has {got} fields)"),
            ))
        }
    }

    /// Column `col` of the current row parsed by `parse`; `None` when the
    /// trace has no such column. A field that does not parse is an error
    /// naming the line, the column, the value and what it should be
    /// (`want`, built only then).
    fn column<T>(
        &self,
        line: u64,
        col: Option<usize>,
        name: &str,
        parse: impl FnOnce(&str) -> Option<T>,
        want: impl FnOnce() -> String,
    ) -> Result<Option<T>, TraceError> {
        let Some(i) = col else {
            return Ok(None);
        };
        let f = self.cell(line, i, name)?;
        match std::str::from_utf8(f).ok().and_then(parse) {
            Some(v) => Ok(Some(v)),
            None => Err(self.err(
                line,
                format!("{name} '{}' is not {}", String::from_utf8_lossy(f), want()),
            )),
        }
    }

    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.fields[start..self.ends[i]]
    }

    /// Reads the next record into `fields`/`ends`, skipping blank lines and
    /// `#` comments; returns the number of the line it starts on, or
    /// `None` at the end of the input.
    fn next_record(&mut self) -> Result<Option<u64>, TraceError> {
        self.fields.clear();
        self.ends.clear();
        let mut start = None;
        loop {
            let n = read_line(&mut self.input, &mut self.buf, &self.path)?;
            if n == 0 {
                return match start {
                    None => Ok(None),
                    Some(l) => Err(self.err(
                        l,
                        "a quoted field is not closed before the end of the file".into(),
                    )),
                };
            }
            self.line += 1;
            if start.is_none() {
                let t = self.buf.trim_ascii();
                if t.is_empty() || t[0] == b'#' {
                    continue;
                }
                if t.contains(&0) {
                    return Err(self.err(
                        self.line,
                        "binary data (a NUL byte) in a CSV trace; is this a binary trace? choose its reader with --trace-format".into(),
                    ));
                }
            }
            let resumed = start.is_some();
            start.get_or_insert(self.line);
            let line = std::mem::take(&mut self.buf);
            let split = split_record(&line, resumed, &mut self.fields, &mut self.ends);
            self.buf = line;
            if split == Split::Done {
                return Ok(start);
            }
            // A quoted field may span lines; the record as a whole is held
            // to the length of a line, or an unclosed quote reads on forever.
            if self.fields.len() > super::lines::MAX_LINE {
                return Err(self.err(
                    start.unwrap_or(self.line),
                    format!(
                        "a record longer than {} bytes: a quoted field is not closed?",
                        super::lines::MAX_LINE
                    ),
                ));
            }
        }
    }
}

/// Splits one physical line of a record at commas into `fields`/`ends`.
/// Fields are trimmed of spaces and tabs; a field that starts with `"` is
/// quoted: `""` inside stands for `"`, and it may hold commas and line
/// breaks. `resumed`: the line continues a quoted field of the previous
/// line (whose line break belongs to the field). A trailing `\r\n` or
/// `\n` ends the record.
fn split_record(line: &[u8], resumed: bool, fields: &mut Vec<u8>, ends: &mut Vec<usize>) -> Split {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let mut i = 0;
    let mut quoted = resumed;
    if resumed {
        fields.push(b'\n');
    } else {
        fields.clear();
        ends.clear();
    }
    loop {
        if quoted {
            // Inside quotes: up to the closing quote, `""` an escaped quote.
            loop {
                match body.get(i) {
                    None => return Split::OpenQuote,
                    Some(b'"') if body.get(i + 1) == Some(&b'"') => {
                        fields.push(b'"');
                        i += 2;
                    }
                    Some(b'"') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        fields.push(b);
                        i += 1;
                    }
                }
            }
            quoted = false;
            // Anything between the closing quote and the comma is kept.
            let rest = memchr::memchr(b',', &body[i..]).map_or(body.len(), |j| i + j);
            fields.extend_from_slice(body[i..rest].trim_ascii());
            ends.push(fields.len());
            if rest == body.len() {
                return Split::Done;
            }
            i = rest + 1;
            continue;
        }
        let from = i;
        while matches!(body.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if body.get(i) == Some(&b'"') {
            quoted = true;
            i += 1;
            continue;
        }
        let end = memchr::memchr(b',', &body[from..]).map_or(body.len(), |j| from + j);
        fields.extend_from_slice(body[from..end].trim_ascii());
        ends.push(fields.len());
        if end == body.len() {
            return Split::Done;
        }
        i = end + 1;
    }
}

/// Most requests one row may stand for (`op_count`/`count`).
pub(crate) const MAX_COUNT: u64 = 1_000_000;

/// One row's request: key, and time, size and op when the trace has them.
type Row = (Key, Option<f64>, Option<u32>, Option<Op>);

impl CsvReader {
    /// Appends the pending row's requests to `batch`, up to `max` in all;
    /// what does not fit stays pending for the next batch.
    fn hand_out(&mut self, batch: &mut Batch, max: usize) {
        let Some(((key, time, size, op), left)) = self.pending.take() else {
            return;
        };
        let now = left.min(max.saturating_sub(batch.len()) as u64);
        for _ in 0..now {
            batch.keys.push(key);
            batch.times.extend(time);
            batch.sizes.extend(size);
            batch.ops.extend(op);
        }
        if left > now {
            self.pending = Some(((key, time, size, op), left - now));
        }
    }
}

impl RequestSource for CsvReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        self.hand_out(batch, max);
        while batch.len() < max {
            let Some(line) = self.next_record()? else {
                break;
            };
            let got = self.ends.len();
            let width = || {
                self.err(
                    line,
                    format!(
                        "the row has {got} fields where the header has {}",
                        self.columns
                    ),
                )
            };
            if got > self.columns {
                return Err(width());
            }
            let kf = self.cell(line, self.key, "key")?;
            if kf.is_empty() {
                return Err(self.err(line, "empty key".into()));
            }
            let key = key_of(kf);
            let time = self.column(
                line,
                self.time,
                "time",
                |s| s.parse::<f64>().ok().filter(|t| t.is_finite() && *t >= 0.0),
                || "a number of seconds >= 0".into(),
            )?;
            let size = self.column(
                line,
                self.size,
                "size",
                |s| s.parse::<u32>().ok(),
                || "a whole number of bytes (0 to 4294967295)".into(),
            )?;
            let op = self.column(line, self.op, "op", Op::parse, || {
                format!("an operation cachesim knows; known: {}", Op::known_names())
            })?;
            if got < self.columns {
                return Err(width());
            }
            let count = self
                .column(
                    line,
                    self.count,
                    "count",
                    |s| {
                        s.parse::<u64>()
                            .ok()
                            .filter(|n| (1..=MAX_COUNT).contains(n))
                    },
                    || format!("a number of requests from 1 to {MAX_COUNT}"),
                )?
                .unwrap_or(1);
            self.pending = Some(((key, time, size, op), count));
            self.hand_out(batch, max);
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
    fn quotes_comments_and_blank_lines() {
        let b = read("# made by hand\n\nKEY , time\n\"a,b\",1\n# gap\n\n  \"say \"\"hi\"\"\" , 2\r\n\"two\nlines\",3\n7,4").unwrap();
        assert_eq!(
            b.keys,
            vec![
                hash_str("a,b"),
                hash_str("say \"hi\""),
                hash_str("two\nlines"),
                7
            ]
        );
        assert_eq!(b.times, vec![1.0, 2.0, 3.0, 4.0]);
    }

    #[test]
    fn lines_are_counted_across_comments_blanks_and_quoted_breaks() {
        for (text, line) in [
            ("key,time\n1,2\n# c\n\n4,x\n", 5),
            ("# a\n# b\nkey,time\n1,2\n\n\n4,x\n", 7),
            ("key,time\n\"a\nb\n\",1\n4,x\n", 5),
        ] {
            let e = read(text).unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("t.csv:{line}: time 'x'")),
                "{text:?}: {e}"
            );
        }
        let e = read("# a\nfoo,bar\n1,2\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:2: ") && e.contains("foo, bar"), "{e}");
        let e = read("key,time\n1,2\n\"open,3\n4,5\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("t.csv:3: ") && e.contains("not closed"),
            "{e}"
        );
    }

    #[test]
    fn duplicate_columns_and_extra_or_missing_fields_are_errors() {
        let e = read("key,time,Key\n1,2,3\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:1: ") && e.contains("'key' twice (columns 1 and 3)"),
            "{e}"
        );
        let e = read("key,time\n1,2\n4,5,6\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:3: ") && e.contains("3 fields where the header has 2"),
            "{e}"
        );
        let e = read("key,time,note\n1,2,a\n4,5\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:3: ") && e.contains("2 fields where the header has 3"),
            "{e}"
        );
        // Empty names are no names: two of them are not a duplicate.
        assert_eq!(read("key,,\n1,,\n").unwrap().keys, vec![1]);
        // A byte order mark is not part of the first name.
        assert_eq!(read("\u{feff}key\n5\n").unwrap().keys, vec![5]);
    }

    #[test]
    fn a_count_repeats_the_request_across_batches() {
        // Meta KV 2022's layout: op_count requests per row.
        let b =
            read("key,op,size,op_count,key_size\n7,GET,100,3,10\n8,SET,50,1,10\n7,GET,100,2,10\n")
                .unwrap();
        assert_eq!(b.keys, vec![7, 7, 7, 8, 7, 7]);
        assert_eq!(
            b.ops,
            vec![Op::Get, Op::Get, Op::Get, Op::Set, Op::Get, Op::Get]
        );
        assert_eq!(b.sizes, vec![100, 100, 100, 50, 100, 100]);
        let b = read("time,key,count\n1,5,4\n2,6,1\n").unwrap();
        assert_eq!(b.keys, vec![5, 5, 5, 5, 6]);
        assert_eq!(b.times, vec![1.0, 1.0, 1.0, 1.0, 2.0]);
        for bad in ["0", "-1", "x", "1000001"] {
            let e = read(&format!("key,count\n1,2\n3,{bad}\n"))
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("t.csv:3: count") && e.contains("1 to 1000000"),
                "{e}"
            );
        }
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = read("key,time\n1,0\n2,soon\n").unwrap_err().to_string();
        assert!(e.starts_with("t.csv:3:") && e.contains("soon"), "{e}");
        let e = read("key,op\n1,touch\n").unwrap_err().to_string();
        assert!(
            e.starts_with("t.csv:2:")
                && e.contains("op 'touch'")
                && e.contains("set (set, add, replace, cas"),
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
