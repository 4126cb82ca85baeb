//! Trace readers: one file per format, all streaming (a reader holds one
//! batch, never the whole trace), all reading gzip, zstd and xz files
//! transparently (detected by magic bytes, not by file name).
//!
//! [`open`] picks the reader: `--trace-format` always wins; otherwise the
//! format is detected from the file name and then the content, and when that
//! is ambiguous the error lists the formats to choose from.
//!
//! Each reader's file declares its format's facts as a [`Format`] entry (name,
//! aliases, description, detection by name and by content, opener); the list
//! in `trace_formats!` registers them, so a new format is a new file and one
//! line.
//!
//! Line-oriented formats (text, csv, arc, lirs) are refused when the first
//! 4 KB hold a NUL byte, and a line longer than [`lines::MAX_LINE`] bytes is
//! an error naming it, so no input is read whole by mistake. Pipes, FIFOs
//! and `-` (standard input) are read once into a spool ([`spool`]).

pub mod arc;
pub mod binary;
pub mod csv;
pub mod datasets;
pub mod export;
pub mod lcs;
pub mod lines;
pub mod lirs;
pub mod mapping;
pub mod oracle_general;
pub mod records;
pub mod redis_monitor;
mod spool;
pub(crate) use spool::is_stdin;
pub mod text;
pub mod vscsi;

use super::{Batch, RequestSource};
use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors while reading a trace. Each names the file, and the line or byte
/// offset where that makes sense.
#[derive(Debug, Error)]
pub enum TraceError {
    /// The file could not be opened.
    #[error("cannot open trace '{path}': {err}")]
    Open {
        /// The trace file.
        path: PathBuf,
        /// The error opening it.
        err: io::Error,
    },
    /// Reading the file failed.
    #[error("{path}: read error: {err}")]
    Io {
        /// The trace file.
        path: PathBuf,
        /// The read error.
        err: io::Error,
    },
    /// A line of a text trace is not valid.
    #[error("{path}:{line}: {msg}")]
    Line {
        /// The trace file.
        path: PathBuf,
        /// The line number, from 1.
        line: u64,
        /// What is wrong with the line.
        msg: String,
    },
    /// A binary trace ends inside a record.
    #[error("{path}: truncated record at byte offset {offset}: {msg}")]
    Truncated {
        /// The trace file.
        path: PathBuf,
        /// Byte offset of the incomplete record.
        offset: u64,
        /// What is wrong.
        msg: String,
    },
    /// The trace holds no requests.
    #[error("{path}: the trace holds no requests")]
    Empty {
        /// The trace file.
        path: PathBuf,
    },
    /// The format cannot be detected or does not fit the file.
    #[error("{path}: {msg}")]
    Format {
        /// The trace file.
        path: PathBuf,
        /// What is wrong.
        msg: String,
    },
}

/// One trace format's facts: how `--trace-format` names it, how it is
/// described, detected and opened. Each reader's file declares its own entry,
/// and [`trace_formats!`] below registers it.
pub(crate) struct Format {
    /// The name `--trace-format` takes and `cachesim list` shows.
    pub name: &'static str,
    /// Other spellings `--trace-format` accepts, lowercase.
    pub aliases: &'static [&'static str],
    /// One line for `cachesim list` and the "cannot tell the format" error.
    pub describe: &'static str,
    /// Whether a file name says this format. Gets the name lowercased, with
    /// any `.gz`/`.zst`/`.xz` suffix removed.
    pub by_name: fn(&str) -> bool,
    /// Whether the first bytes of a file look like this format.
    pub by_content: fn(&Head) -> Claim,
    /// Lines of text: the reader sees at most [`lines::MAX_LINE`] bytes per
    /// line, and a file with NUL bytes in its first 4 KB is refused.
    pub lines: bool,
    /// Checks the parameters a spec gives after the name
    /// (`csv:key=2,time=1`: `key=2,time=1`), so that a bad spec is refused
    /// when the command line is read; [`no_params`] for formats that take
    /// none.
    pub params: fn(&str) -> Result<(), String>,
    /// A streaming reader over the file's decompressed bytes.
    pub open: Opener,
}

/// How a [`Format`] opens a file: its path (for messages), its decompressed
/// bytes and the spec's parameters (already accepted by [`Format::params`];
/// empty when the spec has none).
pub(crate) type Opener =
    fn(&Path, Box<dyn BufRead + Send>, &str) -> Result<Box<dyn RequestSource + Send>, TraceError>;

/// [`Format::params`] of a format that takes no parameters.
pub(crate) fn no_params(p: &str) -> Result<(), String> {
    if p.is_empty() {
        Ok(())
    } else {
        Err(format!("takes no parameters (got '{p}')"))
    }
}

/// What a format says of a file's first bytes ([`Format::by_content`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Claim {
    /// Not this format.
    No,
    /// This format, unless another one says [`Claim::Yes`].
    Fallback,
    /// This format.
    Yes,
}

impl Claim {
    /// [`Claim::Yes`] if `this`, else [`Claim::No`].
    pub(crate) fn yes_if(this: bool) -> Claim {
        if this {
            Claim::Yes
        } else {
            Claim::No
        }
    }
}

/// The first bytes of a file, decompressed, as [`Format::by_content`] sees
/// them.
pub(crate) struct Head<'a> {
    pub bytes: &'a [u8],
    /// Holds a NUL or a control character other than tab, CR and LF.
    pub binary: bool,
    /// The non-blank lines, trimmed, without a last line the peek may have
    /// cut; empty for binary data.
    pub lines: Vec<&'a str>,
    /// The first of `lines` that does not start with `#`; empty for binary
    /// data.
    pub first: &'a str,
    /// The file name ends in `.trace` (before any compression suffix).
    pub dot_trace: bool,
}

/// The registry of trace formats, one line each (`Variant => entry,`, the
/// entry a [`Format`] in the reader's file), in the order `cachesim list`
/// shows them. Defines [`TraceFormat`] and its link to the entries.
macro_rules! trace_formats {
    ($($variant:ident => $entry:path,)*) => {
        /// The trace formats cachesim reads; each one's facts are in its
        /// [`Format`] entry ([`TraceFormat::entry`]).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum TraceFormat {
            $(
                #[doc = concat!("The format described by `", stringify!($entry), "`.")]
                $variant,
            )*
        }

        impl TraceFormat {
            pub(crate) const ALL: &'static [TraceFormat] = &[$(TraceFormat::$variant,)*];

            /// This format's facts.
            pub(crate) fn entry(self) -> &'static Format {
                match self {
                    $(TraceFormat::$variant => &$entry,)*
                }
            }
        }
    };
}

trace_formats! {
    Text => text::FORMAT,
    Csv => csv::FORMAT,
    Arc => arc::FORMAT,
    Lirs => lirs::FORMAT,
    Lcs => lcs::FORMAT,
    OracleGeneral => oracle_general::FORMAT,
    Vscsi => vscsi::FORMAT,
    U32Be => binary::U32BE,
    I64Be => binary::I64BE,
    RedisMonitor => redis_monitor::FORMAT,
    Twitter => datasets::TWITTER_FORMAT,
    MetaKv => datasets::META_KV_FORMAT,
    MetaCdn => datasets::META_CDN_FORMAT,
    WikiCdn => datasets::WIKI_CDN_FORMAT,
    TencentPhoto => datasets::TENCENT_PHOTO_FORMAT,
    Msr => datasets::MSR_FORMAT,
    AlibabaBlock => datasets::ALIBABA_BLOCK_FORMAT,
    TencentCbs => datasets::TENCENT_CBS_FORMAT,
}

impl TraceFormat {
    pub(crate) fn name(self) -> &'static str {
        self.entry().name
    }

    pub(crate) fn describe(self) -> &'static str {
        self.entry().describe
    }

    /// Every trace format, in the order `cachesim list` shows them.
    pub fn all() -> &'static [TraceFormat] {
        TraceFormat::ALL
    }

    /// The format `--trace-format s` names: a name or an alias, in any case.
    pub fn parse(s: &str) -> Result<TraceFormat, String> {
        let want = s.trim().to_ascii_lowercase();
        TraceFormat::ALL
            .iter()
            .copied()
            .find(|f| f.name() == want || f.entry().aliases.contains(&want.as_str()))
            .ok_or_else(|| {
                format!(
                    "unknown trace format '{s}'; valid formats: {}",
                    format_names()
                )
            })
    }
}

/// What `--trace-format` says: a format and its parameters, as written
/// after the name (`csv:key=2,time=1:header=0`). The `trace_format` column
/// records it as written, parameters included.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TraceSpec {
    /// The reader.
    pub format: TraceFormat,
    /// Everything after the first `:`, trimmed; empty for none.
    pub params: String,
}

impl TraceSpec {
    /// Parses `NAME[:PARAMS]`: the name as [`TraceFormat::parse`] takes it,
    /// the parameters checked by the format.
    pub fn parse(s: &str) -> Result<TraceSpec, String> {
        let (name, params) = match s.split_once(':') {
            Some((n, p)) => (n, p.trim()),
            None => (s, ""),
        };
        let format = TraceFormat::parse(name)?;
        (format.entry().params)(params).map_err(|e| format!("trace format '{}': {e}", s.trim()))?;
        Ok(TraceSpec {
            format,
            params: params.to_string(),
        })
    }
}

impl From<TraceFormat> for TraceSpec {
    fn from(format: TraceFormat) -> TraceSpec {
        TraceSpec {
            format,
            params: String::new(),
        }
    }
}

impl fmt::Display for TraceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.params.is_empty() {
            write!(f, "{}", self.format)
        } else {
            write!(f, "{}:{}", self.format, self.params)
        }
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `text, csv, ...` for messages.
pub(crate) fn format_names() -> String {
    TraceFormat::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compression, detected from the first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    pub(crate) fn sniff(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Compression::Xz
        } else {
            Compression::None
        }
    }
}

impl TraceError {
    /// A read error in `path`: [`TraceError::Line`] for a line past
    /// [`lines::MAX_LINE`], else [`TraceError::Io`].
    pub(crate) fn read(path: &Path, err: io::Error) -> TraceError {
        match lines::LineTooLong::find(&err) {
            Some(long) => TraceError::Line {
                path: path.to_path_buf(),
                line: long.line,
                msg: format!("the line {}", lines::LineTooLong::WHAT),
            },
            None => TraceError::Io {
                path: path.to_path_buf(),
                err,
            },
        }
    }
}

/// Opens `path` (`-` is standard input; a pipe is spooled, see [`spool`])
/// and returns a buffered reader over its decompressed bytes.
pub(crate) fn open_decompressed(path: &Path) -> Result<Box<dyn BufRead + Send>, TraceError> {
    let open_err = |err| TraceError::Open {
        path: path.to_path_buf(),
        err,
    };
    let file = spool::open(path).map_err(open_err)?;
    let mut buf = BufReader::with_capacity(1 << 16, file);
    let head = buf.fill_buf().map_err(open_err)?.to_vec();
    let cap = 1 << 16;
    Ok(match Compression::sniff(&head) {
        Compression::None => Box::new(buf),
        Compression::Gzip => Box::new(BufReader::with_capacity(
            cap,
            flate2::bufread::MultiGzDecoder::new(buf),
        )),
        Compression::Zstd => Box::new(BufReader::with_capacity(
            cap,
            zstd::stream::read::Decoder::with_buffer(buf).map_err(open_err)?,
        )),
        Compression::Xz => Box::new(BufReader::with_capacity(
            cap,
            xz2::bufread::XzDecoder::new_multi_decoder(buf),
        )),
    })
}

/// Reads up to `n` decompressed bytes from the start of `path` (for detection).
pub(crate) fn peek(path: &Path, n: usize) -> Result<Vec<u8>, TraceError> {
    let mut r = open_decompressed(path)?;
    let mut out = Vec::with_capacity(n);
    (&mut r)
        .take(n as u64)
        .read_to_end(&mut out)
        .map_err(|err| TraceError::read(path, err))?;
    Ok(out)
}

/// Guesses the format of `path` from its name, then its content.
///
/// The first format in [`TraceFormat::ALL`] whose [`Format::by_name`]
/// accepts the name wins: `.csv` is csv, `.txt` and `.keys` are text, `.lis`
/// is arc, a name containing `oracleGeneral` is oracle-general (after a
/// `.gz`/`.zst`/`.xz` suffix). Otherwise the content decides
/// ([`detect_content`]). Raw binary key streams (`u32be`, `i64be`) cannot be
/// told apart by content: they need `--trace-format`.
pub fn detect(path: &Path) -> Result<TraceFormat, TraceError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name
        .trim_end_matches(".gz")
        .trim_end_matches(".zst")
        .trim_end_matches(".xz");
    if let Some(f) = TraceFormat::ALL
        .iter()
        .copied()
        .find(|f| (f.entry().by_name)(stem))
    {
        return Ok(f);
    }
    let head = peek(path, 4096)?;
    if head.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    detect_content(&head, stem.ends_with(".trace")).ok_or_else(|| TraceError::Format {
        path: path.to_path_buf(),
        msg: format!(
            "cannot tell the trace format from the name or content{}; pass --trace-format with one of: {}",
            if is_binary(&head) {
                " (binary data that is not oracleGeneral: raw key streams need --trace-format u32be or i64be)"
            } else {
                ""
            },
            TraceFormat::ALL
                .iter()
                .map(|f| format!("{} ({})", f.name(), f.describe()))
                .collect::<Vec<_>>()
                .join("; ")
        ),
    })
}

fn is_binary(head: &[u8]) -> bool {
    head.iter()
        .any(|&b| b == 0 || (b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t')))
}

/// Detection by content (see [`detect`]): the first format in
/// [`TraceFormat::ALL`] that claims `head` ([`Claim::Yes`]), else the first
/// that falls back to it; `None` when ambiguous, or when text holds no line
/// but `#` comments. `dot_trace`: the file name ends in `.trace`.
///
/// The rules: binary data is oracle-general when it is shaped so, else
/// ambiguous; text whose first line is four integers is arc; lines of block
/// numbers with a `*` marker (or any in a `.trace` file) are lirs; a first
/// line with commas is csv when it names a `key` column, else ambiguous;
/// any other text is text.
pub(crate) fn detect_content(head: &[u8], dot_trace: bool) -> Option<TraceFormat> {
    let text = String::from_utf8_lossy(head);
    let h = if is_binary(head) {
        Head {
            bytes: head,
            binary: true,
            lines: Vec::new(),
            first: "",
            dot_trace,
        }
    } else {
        let mut lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        if !text.ends_with('\n') && lines.len() > 1 {
            lines.pop(); // possibly cut by the peek
        }
        let first = *lines.iter().find(|l| !l.starts_with('#'))?;
        Head {
            bytes: head,
            binary: false,
            lines,
            first,
            dot_trace,
        }
    };
    let claims: Vec<Claim> = TraceFormat::ALL
        .iter()
        .map(|f| (f.entry().by_content)(&h))
        .collect();
    [Claim::Yes, Claim::Fallback]
        .iter()
        .find_map(|want| claims.iter().position(|c| c == want))
        .map(|i| TraceFormat::ALL[i])
}

/// Whether `field` is a non-negative decimal integer (a block number).
pub(crate) fn all_digits(field: &str) -> bool {
    !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit())
}

/// Opens a streaming reader for `path` in `format` (detected when `None`).
/// Requests without timestamps get theirs from the batch's `rate`.
pub fn open(
    path: &Path,
    spec: Option<&TraceSpec>,
) -> Result<Box<dyn RequestSource + Send>, TraceError> {
    let (format, params) = match spec {
        Some(s) => (s.format, s.params.as_str()),
        None => (detect(path)?, ""),
    };
    let entry = format.entry();
    if !entry.lines {
        return (entry.open)(path, open_decompressed(path)?, params);
    }
    let head = peek(path, 4096)?;
    if let Some(at) = memchr::memchr(0, &head) {
        return Err(TraceError::Format {
            path: path.to_path_buf(),
            msg: format!(
                "holds binary data (a NUL byte at offset {at} of the first 4 KB), not a {format} trace; for a binary trace choose its reader with --trace-format ({})",
                TraceFormat::ALL
                    .iter()
                    .filter(|f| !f.entry().lines)
                    .map(|f| f.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let input = Box::new(lines::LineCap::new(open_decompressed(path)?));
    (entry.open)(path, input, params)
}

/// Reads a whole trace into one batch (for several runs over one trace, and
/// for counting distinct keys). Errors on an empty trace.
pub fn read_all(path: &Path, spec: Option<&TraceSpec>, rate: f64) -> Result<Batch, TraceError> {
    read_rest(open(path, spec)?.as_mut(), path, rate)
}

/// Reads what is left of `reader` (a trace of `path`) into one batch.
/// Errors on an empty trace.
pub(crate) fn read_rest(
    reader: &mut dyn RequestSource,
    path: &Path,
    rate: f64,
) -> Result<Batch, TraceError> {
    let mut all = Batch::new(rate, 1);
    let mut chunk = Batch::new(rate, 1);
    loop {
        let n = reader.next_batch(&mut chunk, 1 << 16)?;
        if n == 0 {
            break;
        }
        append(&mut all, &chunk);
    }
    if all.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(all)
}

/// Appends `b` to `a`, materialising columns as needed.
pub(crate) fn append(a: &mut Batch, b: &Batch) {
    let n = a.len();
    let col = |have_a: bool, have_b: bool| have_a || have_b;
    if col(!a.times.is_empty(), !b.times.is_empty()) {
        if a.times.is_empty() {
            a.times = (0..n as u64).map(|v| v as f64 / a.rate).collect();
        }
        if b.times.is_empty() {
            a.times
                .extend((0..b.len() as u64).map(|i| (n as u64 + i) as f64 / a.rate));
        } else {
            a.times.extend_from_slice(&b.times);
        }
    }
    if col(!a.sizes.is_empty(), !b.sizes.is_empty()) {
        if a.sizes.is_empty() {
            a.sizes = vec![a.unit_size; n];
        }
        if b.sizes.is_empty() {
            a.sizes.extend(std::iter::repeat_n(b.unit_size, b.len()));
        } else {
            a.sizes.extend_from_slice(&b.sizes);
        }
    }
    if col(!a.ops.is_empty(), !b.ops.is_empty()) {
        if a.ops.is_empty() {
            a.ops = vec![crate::request::Op::Get; n];
        }
        if b.ops.is_empty() {
            a.ops
                .extend(std::iter::repeat_n(crate::request::Op::Get, b.len()));
        } else {
            a.ops.extend_from_slice(&b.ops);
        }
    }
    if col(!a.ttls.is_empty(), !b.ttls.is_empty()) {
        a.ttls.resize(n, 0.0);
        a.ttls.extend((0..b.len()).map(|i| b.ttl(i)));
    }
    if col(!a.tenants.is_empty(), !b.tenants.is_empty()) {
        a.tenants.resize(n, 0);
        a.tenants.extend((0..b.len()).map(|i| b.tenant(i)));
    }
    a.keys.extend_from_slice(&b.keys);
}

/// Test helper: opens a reader over `data` (read through a buffer of `cap`
/// bytes) and reads it whole in batches of at most `max`.
#[cfg(test)]
pub(crate) fn read_bytes<R: RequestSource>(
    data: Vec<u8>,
    cap: usize,
    max: usize,
    open: impl FnOnce(Box<dyn BufRead + Send>) -> Result<R, TraceError>,
) -> Result<Batch, TraceError> {
    let mut r = open(Box::new(BufReader::with_capacity(
        cap,
        io::Cursor::new(data),
    )))?;
    let mut all = Batch::new(1.0, 1);
    let mut b = Batch::new(1.0, 1);
    while r.next_batch(&mut b, max)? > 0 {
        append(&mut all, &b);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips_its_name() {
        for &f in TraceFormat::ALL {
            assert_eq!(TraceFormat::parse(f.name()), Ok(f));
            assert_eq!(TraceFormat::parse(&f.to_string()), Ok(f));
            assert_eq!(
                TraceFormat::parse(&format!(" {} ", f.name().to_uppercase())),
                Ok(f)
            );
            for a in f.entry().aliases {
                assert_eq!(TraceFormat::parse(a), Ok(f), "alias {a}");
            }
        }
        let mut all: Vec<&str> = TraceFormat::ALL
            .iter()
            .flat_map(|f| std::iter::once(f.name()).chain(f.entry().aliases.iter().copied()))
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a trace format name or alias is taken twice");
        assert!(TraceFormat::parse("nope")
            .unwrap_err()
            .ends_with(&format!("valid formats: {}", format_names())));
    }
}
