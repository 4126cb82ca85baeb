//! `csv`: delimited text, its columns named by a header row or mapped by
//! number in the spec (`--trace-format csv:key=2,time=1:sep=tab`; the
//! grammar is in [`super::mapping`]).
//!
//! **Header-named** (no column mapped): the first record names the columns,
//! among `key`, `time`, `size`, `key_size`, `value_size`, `op`, `ttl`,
//! `count` or `op_count` (the row stands for that many requests, 1 to
//! [`MAX_COUNT`], as in Meta's KV cache traces), `tenant`, and `offset`,
//! `length`, `volume` for block traces; names are case-insensitive, other
//! columns are ignored, no name may be given twice, and every row has as
//! many fields as the header. A `size` column wins over
//! `key_size`/`value_size`.
//!
//! **Column-mapped**: the spec gives each field's column; `header=1` skips
//! the first record. A row may have more fields than the highest mapped
//! column, not fewer.
//!
//! Keys follow `keys=` (default `auto`: a decimal `u64` as-is, anything else
//! hashed with FNV-1a); several key columns are hashed together. Times are
//! read in `time_unit` (default seconds), TTLs in `ttl_unit` (0 or empty is
//! no TTL). A tenant that is a decimal `u32` is taken as-is, an empty one
//! is 0, any other text is the low 32 bits of its FNV-1a hash. Operation names are those of
//! [`crate::request::OP_NAMES`], or the codes of `ops=`; an unknown one is
//! an error listing the known ones.
//!
//! **Block traces** (`offset` and `length` mapped, in bytes times
//! `sector`): a request becomes one get (read) or set (write) per page of
//! `page` bytes it touches, of size `page`, keyed by the page number
//! `offset / page ..= (offset + length - 1) / page`; a zero length touches
//! the page at its offset. The volume (`volume` columns) is folded into the
//! key's top 24 bits: a decimal volume id below 2^24 as-is, anything else
//! the low 24 bits of its FNV-1a hash; page numbers must stay below 2^40
//! (4 PiB of 4 KiB pages). A request may touch at most
//! [`MAX_PAGES`](super::mapping::MAX_PAGES) pages.
//!
//! Fields are separated by `sep` (default a comma) and trimmed; a field in
//! double quotes may hold the separator, `""` for a quote, and line breaks.
//! Blank lines and lines starting with `#` are skipped. Errors name the
//! line a row starts on, counting every line of the file (issue 16: the csv
//! crate's count skipped comments and blank lines, and its messages named a
//! second line), the column, the value and what was expected.

use super::lines::{parse_u64 as uint, read_line};
use super::mapping::{items, KeyMode, Mapping, Sep, TimeUnit, FIELDS, MAX_PAGES};
use super::text::key_of;
use super::{Claim, Format, TraceError};
use crate::request::{hash_bytes as fnv1a, hash_bytes_from as fnv1a_from, Key, Op};
use crate::workload::{Batch, RequestSource};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `csv` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "csv",
    aliases: &[],
    describe: "CSV with a header naming key and optionally time, size, op, ttl, count, tenant; or columns mapped by number: csv:key=2,time=1:sep=tab (see below)",
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
    params: |p| Mapping::parse(p).map(|_| ()),
    open: |path, input, p| {
        let items = items(p).map_err(|msg| spec_error(path, msg))?;
        Ok(Box::new(CsvReader::new(path, input, &items, &[], true)?))
    },
};

/// A spec the opener refuses (the command line checks it first).
pub(crate) fn spec_error(path: &Path, msg: String) -> TraceError {
    TraceError::Format {
        path: path.to_path_buf(),
        msg,
    }
}

/// Requests of one row, handed out across batches.
#[derive(Clone, Copy)]
struct Pending {
    /// Key of the next request.
    key: Key,
    /// Added to the key after each request: 1 for the pages of a block
    /// request, 0 for a row's repeats.
    step: u64,
    /// Requests still to hand out.
    left: u64,
    time: Option<f64>,
    size: Option<u32>,
    op: Option<Op>,
    ttl: f32,
    tenant: u32,
}

pub(crate) struct CsvReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    /// Number of the physical line last read, from 1.
    line: u64,
    m: Mapping,
    /// Header-named: the header's width, which every row must have.
    width: Option<usize>,
    /// Presets: a row may stop before its ttl and tenant columns (read as
    /// none), as Meta's KV traces leave out a get's TTL.
    lenient: bool,
    /// Fields a row needs at least (highest mapped column + 1).
    need: usize,
    /// Line of the first record, when it is read as data with columns
    /// mapped by number (a bad field there may be a header).
    first: Option<u64>,
    /// Requests of the last row still to hand out (they ran past a batch).
    pending: Option<Pending>,
    /// The physical line being read.
    buf: Vec<u8>,
    /// The current record's bytes: the line itself (fields without
    /// quotes), or its fields unquoted and trimmed, back to back.
    fields: Vec<u8>,
    /// Start and end of each field in `fields`.
    spans: Vec<(usize, usize)>,
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
    /// A reader for the spec `items` (see [`super::mapping`]). Without
    /// mapped columns it reads the header: the first line that is neither
    /// blank nor a `#` comment; its names are trimmed, compared without
    /// case and looked up in `aliases` (header name to field name) first.
    /// `strict`: every row has the header's width.
    pub(crate) fn new(
        path: &Path,
        input: Box<dyn BufRead + Send>,
        items: &[(String, String)],
        aliases: &[(&str, &str)],
        strict: bool,
    ) -> Result<CsvReader, TraceError> {
        let m = Mapping::from_items(items).map_err(|msg| spec_error(path, msg))?;
        let mut r = CsvReader {
            path: path.to_path_buf(),
            input,
            line: 0,
            m,
            width: None,
            lenient: !strict,
            need: 0,
            first: None,
            pending: None,
            buf: Vec::with_capacity(256),
            fields: Vec::with_capacity(256),
            spans: Vec::with_capacity(16),
        };
        if r.m.mapped() {
            // Line 0: the first record read will say its line.
            r.first = (!r.m.header).then_some(0);
            if r.m.header && r.next_record()?.is_none() {
                return Err(TraceError::Empty {
                    path: path.to_path_buf(),
                });
            }
        } else {
            r.read_header(aliases, strict)?;
        }
        let (ttl, tenant) = (r.m.ttl, r.m.tenant);
        r.need =
            r.m.all_columns()
                .iter()
                .filter(|(_, c)| !r.lenient || (Some(*c) != ttl && Some(*c) != tenant))
                .map(|(_, c)| c + 1)
                .max()
                .unwrap_or(0);
        Ok(r)
    }

    /// Maps the columns from the header row.
    fn read_header(&mut self, aliases: &[(&str, &str)], strict: bool) -> Result<(), TraceError> {
        let Some(header_line) = self.next_record()? else {
            return Err(TraceError::Empty {
                path: self.path.clone(),
            });
        };
        let names: Vec<String> = (0..self.spans.len())
            .map(|i| {
                String::from_utf8_lossy(self.field(i))
                    .trim_start_matches('\u{feff}')
                    .to_ascii_lowercase()
            })
            .collect();
        let mut items: Vec<(String, String)> = Vec::new();
        for (i, n) in names.iter().enumerate() {
            if let Some(j) = names[..i].iter().position(|m| !n.is_empty() && m == n) {
                return Err(self.err(
                    header_line,
                    format!(
                        "the CSV header names column '{n}' twice (columns {} and {}); which one is meant?",
                        j + 1,
                        i + 1
                    ),
                ));
            }
            let field = aliases
                .iter()
                .find(|(a, _)| a == n)
                .map_or(n.as_str(), |(_, f)| f);
            let field = if field == "op_count" { "count" } else { field };
            if !FIELDS.contains(&field) {
                continue;
            }
            if let Some((_, c)) = items.iter().find(|(f, _)| f == field) {
                let c: usize = c.parse().unwrap_or(0);
                return Err(self.err(
                    header_line,
                    format!(
                        "the CSV header gives {field} twice (columns {c} '{}' and {} '{n}')",
                        names[c - 1],
                        i + 1
                    ),
                ));
            }
            items.push((field.to_string(), (i + 1).to_string()));
        }
        // A size column wins over key_size and value_size.
        if items.iter().any(|(f, _)| f == "size") {
            items.retain(|(f, _)| f != "key_size" && f != "value_size");
        }
        let has = |f: &str| items.iter().any(|(g, _)| g == f);
        if !has("key") && !has("offset") && !has("length") {
            return Err(self.err(
                header_line,
                format!(
                    "the CSV header must name a 'key' column (and optionally time, size, op); found: {}",
                    names.join(", ")
                ),
            ));
        }
        let header = Mapping::from_items(&items).map_err(|e| self.err(header_line, e))?;
        let m = &mut self.m;
        (m.key, m.volume) = (header.key, header.volume);
        (m.time, m.size, m.key_size, m.value_size) =
            (header.time, header.size, header.key_size, header.value_size);
        (m.op, m.ttl, m.count, m.tenant) = (header.op, header.ttl, header.count, header.tenant);
        (m.offset, m.length) = (header.offset, header.length);
        if strict {
            self.width = Some(names.len());
        }
        Ok(())
    }

    fn err(&self, line: u64, msg: String) -> TraceError {
        TraceError::Line {
            path: self.path.clone(),
            line,
            msg,
        }
    }

    /// Field `col` of the current row (read at `line`), named `name` in the
    /// error when the row is too short for it.
    #[inline]
    fn cell(&self, line: u64, col: usize, name: &str) -> Result<&[u8], TraceError> {
        let got = self.spans.len();
        if col < got {
            Ok(self.field(col))
        } else {
            Err(self.err(
                line,
                format!(
                    "missing '{name}' field (column {}; the row has {got} fields)",
                    col + 1
                ),
            ))
        }
    }

    /// Column `col` of the current row parsed by `parse`; `None` when the
    /// trace has no such column. A field that does not parse is an error
    /// naming the line, the column, the value and what it should be
    /// (`want`, built only then).
    #[inline]
    fn column<T>(
        &self,
        line: u64,
        col: Option<usize>,
        name: &str,
        parse: impl FnOnce(&[u8]) -> Option<T>,
        want: impl FnOnce() -> String,
    ) -> Result<Option<T>, TraceError> {
        let Some(i) = col else {
            return Ok(None);
        };
        let f = self.cell(line, i, name)?;
        match parse(f) {
            Some(v) => Ok(Some(v)),
            None => Err(self.bad(line, i, name, f, &want())),
        }
    }

    /// The error for field `f` of column `col` that is not `want`.
    fn bad(&self, line: u64, col: usize, name: &str, f: &[u8], want: &str) -> TraceError {
        let hint = if self.first == Some(line) {
            format!(" (is line {line} a header? add :header=1 to the trace format)")
        } else {
            String::new()
        };
        self.err(
            line,
            format!(
                "{name} '{}' in column {} is not {want}{hint}",
                String::from_utf8_lossy(f),
                col + 1
            ),
        )
    }

    #[inline]
    fn field(&self, i: usize) -> &[u8] {
        let (start, end) = self.spans[i];
        &self.fields[start..end]
    }

    /// The key of the current row: its key columns read per `keys=`.
    fn key(&self, line: u64) -> Result<Key, TraceError> {
        if let [col] = self.m.key[..] {
            let f = self.cell(line, col, "key")?;
            if f.is_empty() {
                return Err(self.err(line, format!("empty key in column {}", col + 1)));
            }
            return match self.m.keys {
                KeyMode::Auto => Ok(key_of(f)),
                KeyMode::Hash => Ok(fnv1a(f)),
                KeyMode::Number => uint(f).ok_or_else(|| {
                    self.bad(
                        line,
                        col,
                        "key",
                        f,
                        "a decimal number from 0 to 18446744073709551615 (keys=number)",
                    )
                }),
            };
        }
        self.joined(line, &self.m.key, "key")
    }

    /// FNV-1a of the fields of `cols` joined by the byte 0x1F.
    fn joined(&self, line: u64, cols: &[usize], name: &str) -> Result<u64, TraceError> {
        let mut h = fnv1a(b"");
        for (i, &c) in cols.iter().enumerate() {
            if i > 0 {
                h = fnv1a_from(h, &[0x1f]);
            }
            h = fnv1a_from(h, self.cell(line, c, name)?);
        }
        Ok(h)
    }

    /// The top 24 bits of a block key: the volume.
    fn volume(&self, line: u64) -> Result<u64, TraceError> {
        let id = match self.m.volume[..] {
            [] => 0,
            [col] => {
                let f = self.cell(line, col, "volume")?;
                match uint(f) {
                    Some(v) if v < 1 << 24 => v,
                    _ => fnv1a(f),
                }
            }
            _ => self.joined(line, &self.m.volume, "volume")?,
        };
        Ok((id & 0xff_ffff) << 40)
    }

    /// Reads the current record into a [`Pending`].
    fn row(&self, line: u64) -> Result<Pending, TraceError> {
        let got = self.spans.len();
        let width = |w| {
            self.err(
                line,
                format!("the row has {got} fields where the header has {w}"),
            )
        };
        if let Some(w) = self.width.filter(|&w| got > w) {
            return Err(width(w));
        }
        if got < self.need {
            // Name the first missing field.
            let (name, col) = self
                .m
                .all_columns()
                .into_iter()
                .filter(|&(_, c)| c >= got)
                .min_by_key(|&(_, c)| c)
                .unwrap_or(("key", got));
            self.cell(line, col, name)?;
        }
        if let Some(w) = self.width.filter(|&w| got < w) {
            return Err(width(w));
        }
        let m = &self.m;
        let time = self.column(
            line,
            m.time,
            "time",
            |f| time_of(f, m.time_unit),
            || match m.time_unit {
                TimeUnit::DateTime => "a date and time YYYYMMDDHHMMSS".into(),
                TimeUnit::Scale(_) => "a number >= 0".into(),
            },
        )?;
        let op = match &m.ops {
            Some(codes) => self.column(
                line,
                m.op,
                "op",
                |f| {
                    codes
                        .iter()
                        .find(|(c, _)| c.as_bytes().eq_ignore_ascii_case(f))
                        .map(|&(_, op)| op)
                },
                || {
                    let known: Vec<String> = codes
                        .iter()
                        .map(|(c, op)| format!("{c} ({})", op.as_str()))
                        .collect();
                    format!("an operation code of ops=; known: {}", known.join(", "))
                },
            )?,
            None => self.column(
                line,
                m.op,
                "op",
                |f| Op::parse(f),
                || format!("an operation cachesim knows; known: {}", Op::known_names()),
            )?,
        };
        // Presets: ttl and tenant columns past the row's end are none.
        let here = |c: Option<usize>| c.filter(|&c| !self.lenient || c < got);
        let ttl = self
            .column(
                line,
                here(m.ttl),
                "ttl",
                |f| {
                    if f.is_empty() {
                        return Some(0.0);
                    }
                    time_of(f, m.ttl_unit).filter(|&t| t <= f64::from(f32::MAX))
                },
                || "a number >= 0 (0 for no TTL)".into(),
            )?
            .unwrap_or(0.0) as f32;
        let tenant = self
            .column(
                line,
                here(m.tenant),
                "tenant",
                |f| Some(tenant_of(f)),
                String::new,
            )?
            .unwrap_or(0);
        if m.block() {
            return self.pages(line, time, op, ttl, tenant);
        }
        let want_bytes = || "a whole number of bytes (0 to 4294967295)".to_string();
        let size = match m.size {
            Some(_) => self.column(line, m.size, "size", u32_of, want_bytes)?,
            None if m.key_size.is_some() || m.value_size.is_some() => {
                let k = self.column(line, m.key_size, "key_size", u32_of, want_bytes)?;
                let v = self.column(line, m.value_size, "value_size", u32_of, want_bytes)?;
                let sum = u64::from(k.unwrap_or(0)) + u64::from(v.unwrap_or(0));
                Some(u32::try_from(sum).map_err(|_| {
                    self.err(
                        line,
                        format!("key_size + value_size = {sum} bytes, more than 4294967295"),
                    )
                })?)
            }
            None => None,
        };
        let left = self
            .column(
                line,
                m.count,
                "count",
                |f| uint(f).filter(|n| (1..=MAX_COUNT).contains(n)),
                || format!("a number of requests from 1 to {MAX_COUNT}"),
            )?
            .unwrap_or(1);
        Ok(Pending {
            key: self.key(line)?,
            step: 0,
            left,
            time,
            size,
            op,
            ttl,
            tenant,
        })
    }

    /// A block request: one request per page it touches.
    fn pages(
        &self,
        line: u64,
        time: Option<f64>,
        op: Option<Op>,
        ttl: f32,
        tenant: u32,
    ) -> Result<Pending, TraceError> {
        let m = &self.m;
        let unit = if m.sector == 1 {
            "bytes".to_string()
        } else {
            format!("sectors of {} bytes", m.sector)
        };
        let want = || format!("a whole number of {unit}");
        let offset = self
            .column(line, m.offset, "offset", uint, want)?
            .unwrap_or(0);
        let length = self
            .column(line, m.length, "length", uint, want)?
            .unwrap_or(0);
        let (off_col, len_col) = (m.offset.unwrap_or(0) + 1, m.length.unwrap_or(0) + 1);
        let (Some(start), Some(len)) = (offset.checked_mul(m.sector), length.checked_mul(m.sector))
        else {
            return Err(self.err(
                line,
                format!("offset {offset} or length {length} (columns {off_col}, {len_col}) is past 2^64 bytes"),
            ));
        };
        let first = start / m.page;
        let last = start
            .checked_add(len.saturating_sub(1))
            .map(|end| end / m.page)
            .unwrap_or(u64::MAX);
        let n = last - first + 1;
        if n > MAX_PAGES {
            return Err(self.err(
                line,
                format!(
                    "length {length} (column {len_col}) touches {n} pages of {} bytes; at most {MAX_PAGES} pages per request",
                    m.page
                ),
            ));
        }
        if last >= 1 << 40 {
            return Err(self.err(
                line,
                format!(
                    "offset {offset} (column {off_col}) is past page 2^40 (pages of {} bytes): a block key holds 40 bits of page number",
                    m.page
                ),
            ));
        }
        Ok(Pending {
            key: self.volume(line)? | first,
            step: 1,
            left: n,
            time,
            size: Some(m.page as u32),
            op: Some(op.unwrap_or(Op::Get)),
            ttl,
            tenant,
        })
    }

    /// Reads the next record into `fields`/`spans`, skipping blank lines and
    /// `#` comments; returns the number of the line it starts on, or
    /// `None` at the end of the input.
    fn next_record(&mut self) -> Result<Option<u64>, TraceError> {
        self.fields.clear();
        self.spans.clear();
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
                match memchr::memchr2(0, b'"', t).map(|i| t[i]) {
                    Some(0) => {
                        return Err(self.err(
                            self.line,
                            "binary data (a NUL byte) in a CSV trace; is this a binary trace? choose its reader with --trace-format".into(),
                        ))
                    }
                    // No quote (nor NUL): the fields are slices of the line.
                    None => {
                        std::mem::swap(&mut self.buf, &mut self.fields);
                        split_plain(&self.fields, self.m.sep, &mut self.spans);
                        return Ok(Some(self.line));
                    }
                    Some(_) => {}
                }
                if memchr::memchr(0, t).is_some() {
                    return Err(self.err(
                        self.line,
                        "binary data (a NUL byte) in a CSV trace; is this a binary trace? choose its reader with --trace-format".into(),
                    ));
                }
            }
            let resumed = start.is_some();
            start.get_or_insert(self.line);
            let split = split_record(
                &self.buf,
                resumed,
                self.m.sep,
                &mut self.fields,
                &mut self.spans,
            );
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

#[inline]
fn u32_of(f: &[u8]) -> Option<u32> {
    uint(f).and_then(|v| u32::try_from(v).ok())
}

/// A number >= 0: digits fast, anything else as a float.
#[inline]
fn number(f: &[u8]) -> Option<f64> {
    if let Some(v) = uint(f).filter(|&v| v < 1 << 53) {
        return Some(v as f64);
    }
    std::str::from_utf8(f)
        .ok()?
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite() && *t >= 0.0)
}

/// A time in `unit`, as seconds.
#[inline]
fn time_of(f: &[u8], unit: TimeUnit) -> Option<f64> {
    match unit {
        TimeUnit::Scale(s) => number(f).map(|v| v * s),
        TimeUnit::DateTime => datetime(f),
    }
}

/// `YYYYMMDDHHMMSS` (UTC) as Unix seconds; years 1970 to 9999.
fn datetime(f: &[u8]) -> Option<f64> {
    if f.len() != 14 {
        return None;
    }
    let n = |a: usize, b: usize| uint(&f[a..b]).map(|v| v as i64);
    let (y, mo, d) = (n(0, 4)?, n(4, 6)?, n(6, 8)?);
    let (h, mi, s) = (n(8, 10)?, n(10, 12)?, n(12, 14)?);
    let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
    let days_in = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if y < 1970 || !(1..=12).contains(&mo) || d < 1 || d > days_in[mo as usize - 1] {
        return None;
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    // Days since 1970-01-01 of a proleptic Gregorian date (Howard
    // Hinnant's days_from_civil).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s) as f64)
}

/// A tenant: a decimal `u32` as-is, empty 0, else the low 32 bits of
/// FNV-1a.
fn tenant_of(f: &[u8]) -> u32 {
    if f.is_empty() {
        return 0;
    }
    u32_of(f).unwrap_or(fnv1a(f) as u32)
}

/// Splits a line without quotes at `sep` into `spans` of `line`, each
/// trimmed of ASCII whitespace (the line's `\r\n` too).
fn split_plain(line: &[u8], sep: Sep, spans: &mut Vec<(usize, usize)>) {
    let trimmed = |mut a: usize, mut b: usize| {
        while a < b && line[a].is_ascii_whitespace() {
            a += 1;
        }
        while b > a && line[b - 1].is_ascii_whitespace() {
            b -= 1;
        }
        (a, b)
    };
    match sep {
        Sep::Byte(c) => {
            let mut from = 0;
            for at in memchr::memchr_iter(c, line) {
                spans.push(trimmed(from, at));
                from = at + 1;
            }
            spans.push(trimmed(from, line.len()));
        }
        Sep::Blanks => {
            let mut i = 0;
            let n = line.len();
            loop {
                while i < n && line[i].is_ascii_whitespace() {
                    i += 1;
                }
                if i == n {
                    break;
                }
                let from = i;
                while i < n && !line[i].is_ascii_whitespace() {
                    i += 1;
                }
                spans.push((from, i));
            }
        }
    }
}

/// Splits one physical line of a record at `sep` into `fields`/`spans`.
/// Fields are trimmed of spaces and tabs; a field that starts with `"` is
/// quoted: `""` inside stands for `"`, and it may hold the separator and
/// line breaks. `resumed`: the line continues a quoted field of the
/// previous line (whose line break belongs to the field). A trailing
/// `\r\n` or `\n` ends the record. [`Sep::Blanks`] takes a run of spaces
/// and tabs as one separator, and ignores them at both ends of the line.
fn split_record(
    line: &[u8],
    resumed: bool,
    sep: Sep,
    fields: &mut Vec<u8>,
    spans: &mut Vec<(usize, usize)>,
) -> Split {
    let mut body = line.strip_suffix(b"\n").unwrap_or(line);
    let mut i = 0;
    let mut quoted = resumed;
    if resumed {
        fields.push(b'\n');
    } else {
        fields.clear();
        spans.clear();
    }
    let blanks = sep == Sep::Blanks;
    if blanks {
        body = body.trim_ascii_end();
        if !resumed {
            while matches!(body.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
        }
    }
    // The end of the field that starts at `from`: the next separator.
    let next = |from: usize| -> usize {
        let rest = &body[from..];
        let at = match sep {
            Sep::Byte(b) => memchr::memchr(b, rest),
            Sep::Blanks => memchr::memchr2(b' ', b'\t', rest),
        };
        at.map_or(body.len(), |j| from + j)
    };
    // Past the separator at `end`.
    let skip = |mut end: usize| -> usize {
        end += 1;
        if blanks {
            while matches!(body.get(end), Some(b' ' | b'\t')) {
                end += 1;
            }
        }
        end
    };
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
            // Anything between the closing quote and the separator is kept.
            let rest = next(i);
            fields.extend_from_slice(body[i..rest].trim_ascii());
            spans.push((field_start(spans), fields.len()));
            if rest == body.len() {
                return Split::Done;
            }
            i = skip(rest);
            continue;
        }
        let from = i;
        while matches!(body.get(i), Some(&c) if (c == b' ' || c == b'\t') && sep != Sep::Byte(c)) {
            i += 1;
        }
        if body.get(i) == Some(&b'"') {
            quoted = true;
            i += 1;
            continue;
        }
        let end = next(from);
        let start = fields.len();
        fields.extend_from_slice(body[from..end].trim_ascii());
        spans.push((start, fields.len()));
        if end == body.len() {
            return Split::Done;
        }
        i = skip(end);
    }
}

/// Where the field being closed starts in the fields of [`split_record`]:
/// where the last one ended (a quoted field may have begun on an earlier
/// line, so its start is not known when it closes).
fn field_start(spans: &[(usize, usize)]) -> usize {
    spans.last().map_or(0, |&(_, end)| end)
}

/// Most requests one row may stand for (`op_count`/`count`).
pub(crate) const MAX_COUNT: u64 = 1_000_000;

impl CsvReader {
    /// Appends the pending row's requests to `batch`, up to `max` in all;
    /// what does not fit stays pending for the next batch.
    fn hand_out(&mut self, batch: &mut Batch, max: usize) {
        let Some(mut p) = self.pending.take() else {
            return;
        };
        let start = batch.len();
        let now = p.left.min(max.saturating_sub(start) as u64);
        let n = now as usize;
        if p.step == 0 {
            batch.keys.extend(std::iter::repeat_n(p.key, n));
        } else {
            batch.keys.extend((0..now).map(|i| p.key + i));
        }
        if let Some(t) = p.time {
            batch.times.extend(std::iter::repeat_n(t, n));
        }
        if let Some(s) = p.size {
            batch.sizes.extend(std::iter::repeat_n(s, n));
        }
        if let Some(o) = p.op {
            batch.ops.extend(std::iter::repeat_n(o, n));
        }
        // TTLs and tenants: materialised the first time one is not 0.
        if p.ttl != 0.0 || !batch.ttls.is_empty() {
            batch.ttls.resize(start, 0.0);
            batch.ttls.extend(std::iter::repeat_n(p.ttl, n));
        }
        if p.tenant != 0 || !batch.tenants.is_empty() {
            batch.tenants.resize(start, 0);
            batch.tenants.extend(std::iter::repeat_n(p.tenant, n));
        }
        if p.left > now {
            p.left -= now;
            p.key = p.key.wrapping_add(p.step * now);
            self.pending = Some(p);
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
            if self.first == Some(0) {
                self.first = Some(line);
            }
            self.pending = Some(self.row(line)?);
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
        read_as("", text)
    }

    /// Reads `text` with the spec `spec`, two requests a batch.
    fn read_as(spec: &str, text: &str) -> Result<Batch, TraceError> {
        let input: Box<dyn BufRead + Send> =
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec()));
        let items = items(spec).map_err(|msg| spec_error(Path::new("t.csv"), msg))?;
        let mut r = CsvReader::new(Path::new("t.csv"), input, &items, &[], true)?;
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

    fn err(spec: &str, text: &str) -> String {
        read_as(spec, text).unwrap_err().to_string()
    }

    #[test]
    fn header_names_ttl_tenant_and_key_plus_value_size() {
        let b =
            read("key,ttl,tenant,key_size,value_size\n1,30,7,10,90\n2,0,web,5,0\n3,1.5,7,1,1\n")
                .unwrap();
        assert_eq!(b.keys, vec![1, 2, 3]);
        assert_eq!(b.ttls, vec![30.0, 0.0, 1.5]);
        assert_eq!(b.tenants, vec![7, hash_str("web") as u32, 7]);
        assert_eq!(b.sizes, vec![100, 5, 2]);
        // Without a TTL or tenant other than 0 the columns stay empty.
        let b = read("key,ttl,tenant\n1,0,0\n2,0,0\n").unwrap();
        assert!(b.ttls.is_empty() && b.tenants.is_empty());
    }

    #[test]
    fn mapped_columns_with_every_separator() {
        for (spec, text) in [
            ("key=2,time=1,size=3", "1.5,a,10\n2,7,20\n"),
            ("key=2,time=1,size=3:sep=tab", "1.5\ta\t10\n2\t7\t20\n"),
            (
                "key=2,time=1,size=3:sep=space",
                "  1.5   a \t 10  \n2 7 20\n",
            ),
            ("key=2,time=1,size=3:sep=semicolon", "1.5;a;10\n2;7;20\n"),
            ("key=2,time=1,size=3:sep=pipe", "1.5|a|10\n2|7|20\n"),
            ("key=2,time=1,size=3:sep=/", "1.5/a/10\n2/7/20\n"),
            ("key=2,time=1,size=3:sep=colon", "1.5:a:10\n2:7:20\n"),
            ("key=2,time=1,size=3:header=1", "t,k,s\n1.5,a,10\n2,7,20\n"),
        ] {
            let b = read_as(spec, text).unwrap_or_else(|e| panic!("{spec}: {e}"));
            assert_eq!(b.keys, vec![hash_str("a"), 7], "{spec}");
            assert_eq!(b.times, vec![1.5, 2.0], "{spec}");
            assert_eq!(b.sizes, vec![10, 20], "{spec}");
        }
        // A tab separator keeps empty fields; quotes hold the separator.
        let b = read_as("key=3,size=1:sep=tab", "5\t\t\"x\ty\"\n").unwrap();
        assert_eq!((b.keys[0], b.sizes[0]), (hash_str("x\ty"), 5));
        // Extra columns are fine; a row too short names the field and column.
        assert_eq!(read_as("key=1", "4,x,y\n").unwrap().keys, vec![4]);
        let e = err("key=1,size=3", "4,x,9\n5,y\n");
        assert!(
            e.starts_with("t.csv:2: missing 'size' field (column 3; the row has 2 fields)"),
            "{e}"
        );
    }

    #[test]
    fn key_modes_units_ops_and_counts() {
        let b = read_as("key=1:keys=hash", "12\nab\n").unwrap();
        assert_eq!(b.keys, vec![hash_str("12"), hash_str("ab")]);
        let e = err("key=1:keys=number", "12\nab\n");
        assert!(
            e.starts_with("t.csv:2: key 'ab' in column 1 is not a decimal number"),
            "{e}"
        );
        // Joined key columns: their texts joined by 0x1F, hashed.
        let b = read_as("key=1+3", "a,9,b\n").unwrap();
        assert_eq!(b.keys, vec![hash_str("a\u{1f}b")]);
        for (unit, raw, secs) in [
            ("s", "2", 2.0),
            ("ms", "2500", 2.5),
            ("us", "2500000", 2.5),
            ("µs", "1500000", 1.5),
            ("ns", "3000000000", 3.0),
            ("filetime", "25000000", 2.5),
            ("yyyymmddhhmmss", "20160201000001", 1_454_284_801.0),
            ("yyyymmddhhmmss", "19700101000000", 0.0),
            ("yyyymmddhhmmss", "20000301120000", 951_912_000.0),
        ] {
            let b = read_as(
                &format!("key=1,time=2:time_unit={unit}"),
                &format!("1,{raw}\n"),
            )
            .unwrap();
            assert!(
                (b.times[0] - secs).abs() < 1e-9,
                "{unit} {raw}: {}",
                b.times[0]
            );
        }
        let e = err(
            "key=1,time=2:time_unit=yyyymmddhhmmss",
            "1,20160230000000\n",
        );
        assert!(
            e.contains("time '20160230000000' in column 2 is not a date and time"),
            "{e}"
        );
        let b = read_as("key=1,ttl=2:ttl_unit=ms", "1,1500\n2,0\n").unwrap();
        assert_eq!(b.ttls, vec![1.5, 0.0]);
        let b = read_as(
            "key=1,op=2",
            "1,GET\n1,gets\n1,Set\n1,add\n1,CAS\n1,incr\n1,get-lease\n1,SET_LEASE\n1,delete\n",
        )
        .unwrap();
        use Op::*;
        assert_eq!(b.ops, vec![Get, Get, Set, Set, Set, Set, Get, Set, Delete]);
        let b = read_as("key=1,op=2:ops=R/W/D", "1,r\n1,W\n1,D\n").unwrap();
        assert_eq!(b.ops, vec![Get, Set, Delete]);
        let e = err("key=1,op=2:ops=0/1", "1,0\n1,2\n");
        assert!(
            e.starts_with("t.csv:2: op '2' in column 2 is not an operation code of ops=; known: 0 (get), 1 (set)"),
            "{e}"
        );
        let e = err("key=1,op=2", "1,get\n1,touch\n");
        assert!(
            e.starts_with("t.csv:2: op 'touch' in column 2") && e.contains(&Op::known_names()),
            "{e}"
        );
        // A count of N is N requests, across batches of 2.
        let b = read_as("key=1,count=2,size=3", "7,3,10\n8,1,20\n9,2,30\n").unwrap();
        assert_eq!(b.keys, vec![7, 7, 7, 8, 9, 9]);
        assert_eq!(b.sizes, vec![10, 10, 10, 20, 30, 30]);
        let e = err("key=1,count=2", "7,0\n");
        assert!(
            e.starts_with(
                "t.csv:1: count '0' in column 2 is not a number of requests from 1 to 1000000"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_header_read_as_data_is_pointed_out() {
        let e = err("key=2,time=1", "# made by hand\ntimestamp,key\n1,2\n");
        assert!(
            e.starts_with("t.csv:2: time 'timestamp' in column 1 is not a number >= 0 (is line 2 a header? add :header=1"),
            "{e}"
        );
        // Only the first record gets the hint.
        let e = err("key=2,time=1", "1,2\nx,3\n");
        assert!(e.starts_with("t.csv:2: ") && !e.contains("header"), "{e}");
    }

    #[test]
    fn block_requests_become_pages() {
        // 4 KiB pages: bytes 4095..=8192 touch pages 0, 1 and 2.
        let b = read_as(
            "offset=1,length=2,op=3,time=4",
            "4095,4098,Read,1\n8192,4096,Write,2\n100,0,Read,3\n",
        )
        .unwrap();
        assert_eq!(b.keys, vec![0, 1, 2, 2, 0]);
        assert_eq!(b.sizes, vec![4096; 5]);
        assert_eq!(b.ops, vec![Op::Get, Op::Get, Op::Get, Op::Set, Op::Get]);
        assert_eq!(b.times, vec![1.0, 1.0, 1.0, 2.0, 3.0]);
        // Page and sector sizes; the volume in the top 24 bits.
        let b = read_as(
            "volume=1,offset=2,length=3:sector=512:page=8KiB",
            "3,16,17\nsda,0,1\n",
        )
        .unwrap();
        assert_eq!(
            b.keys,
            vec![
                3 << 40 | 1,
                3 << 40 | 2,
                (hash_str("sda") & 0xff_ffff) << 40
            ]
        );
        assert_eq!(b.sizes, vec![8192; 3]);
        let e = err("offset=1,length=2", "0,1\n0,4294967296000\n");
        assert!(
            e.starts_with("t.csv:2: length 4294967296000 (column 2) touches 1048576000 pages of 4096 bytes; at most 1048576"),
            "{e}"
        );
        let e = err("offset=1,length=2", "4503599627370496,1\n");
        assert!(
            e.starts_with("t.csv:1: offset 4503599627370496 (column 1) is past page 2^40"),
            "{e}"
        );
        let e = err("offset=1,length=2", "0,-1\n");
        assert!(
            e.starts_with("t.csv:1: length '-1' in column 2 is not a whole number of bytes"),
            "{e}"
        );
    }
}
