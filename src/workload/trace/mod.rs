//! Trace readers: one file per format, all streaming (a reader holds one
//! batch, never the whole trace), all reading gzip, zstd and xz files
//! transparently (detected by magic bytes, not by file name).
//!
//! [`open`] picks the reader: `--trace-format` always wins; otherwise the
//! format is detected from the file name and then the content, and when that
//! is ambiguous the error lists the formats to choose from.

pub mod arc;
pub mod binary;
pub mod csv;
pub mod export;
pub mod lines;
pub mod lirs;
pub mod oracle_general;
pub mod records;
pub mod text;

use super::{Batch, RequestSource};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use thiserror::Error;

/// Errors while reading a trace. Each names the file, and the line or byte
/// offset where that makes sense.
#[derive(Debug, Error)]
pub enum TraceError {
    #[error("cannot open trace '{path}': {err}")]
    Open { path: PathBuf, err: io::Error },
    #[error("{path}: read error: {err}")]
    Io { path: PathBuf, err: io::Error },
    #[error("{path}:{line}: {msg}")]
    Line {
        path: PathBuf,
        line: u64,
        msg: String,
    },
    #[error("{path}: truncated record at byte offset {offset}: {msg}")]
    Truncated {
        path: PathBuf,
        offset: u64,
        msg: String,
    },
    #[error("{path}: the trace holds no requests")]
    Empty { path: PathBuf },
    #[error("{path}: {msg}")]
    Format { path: PathBuf, msg: String },
}

/// The trace formats cachesim reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceFormat {
    /// One key per line.
    Text,
    /// CSV with a header naming `key` and optionally `time`, `size`, `op`.
    Csv,
    /// ARC paper `.lis`: `start n ignore reqno`, expanded to n requests.
    Arc,
    /// LIRS paper traces: one block number per line, `*` lines skipped.
    Lirs,
    /// libCacheSim oracleGeneral: 24-byte little-endian records.
    OracleGeneral,
    /// Raw big-endian 32-bit keys.
    U32Be,
    /// Raw big-endian 64-bit keys.
    I64Be,
}

impl TraceFormat {
    pub const ALL: &'static [TraceFormat] = &[
        TraceFormat::Text,
        TraceFormat::Csv,
        TraceFormat::Arc,
        TraceFormat::Lirs,
        TraceFormat::OracleGeneral,
        TraceFormat::U32Be,
        TraceFormat::I64Be,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Text => "text",
            TraceFormat::Csv => "csv",
            TraceFormat::Arc => "arc",
            TraceFormat::Lirs => "lirs",
            TraceFormat::OracleGeneral => "oracle-general",
            TraceFormat::U32Be => "u32be",
            TraceFormat::I64Be => "i64be",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TraceFormat::Text => "one key per line; decimal integers as-is, other strings hashed (FNV-1a)",
            TraceFormat::Csv => "CSV with a header naming key and optionally time, size, op",
            TraceFormat::Arc => "ARC paper .lis: 'start n ignore reqno' lines, each n consecutive block requests",
            TraceFormat::Lirs => "LIRS paper traces: one block number per line, '*' checkpoint lines skipped",
            TraceFormat::OracleGeneral => {
                "libCacheSim oracleGeneral: 24-byte LE records (u32 time, u64 id, u32 size, i64 next access)"
            }
            TraceFormat::U32Be => "raw big-endian 32-bit keys, one per request (w106, cache2k)",
            TraceFormat::I64Be => "raw big-endian 64-bit keys, one per request (Scarab)",
        }
    }

    pub fn parse(s: &str) -> Result<TraceFormat, String> {
        let want = s.trim().to_ascii_lowercase();
        let want = match want.as_str() {
            "oraclegeneral" | "oracle_general" => "oracle-general",
            "lis" => "arc",
            w => w,
        };
        TraceFormat::ALL
            .iter()
            .copied()
            .find(|f| f.name() == want)
            .ok_or_else(|| {
                format!(
                    "unknown trace format '{s}'; valid formats: {}",
                    format_names()
                )
            })
    }
}

impl fmt::Display for TraceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `text, csv, ...` for messages.
pub fn format_names() -> String {
    TraceFormat::ALL
        .iter()
        .map(|f| f.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compression, detected from the first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
    Xz,
}

impl Compression {
    pub fn sniff(head: &[u8]) -> Compression {
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

/// Opens `path` and returns a buffered reader over its decompressed bytes.
pub fn open_decompressed(path: &Path) -> Result<Box<dyn BufRead + Send>, TraceError> {
    let open_err = |err| TraceError::Open {
        path: path.to_path_buf(),
        err,
    };
    let file = File::open(path).map_err(open_err)?;
    if file.metadata().map(|m| m.is_dir()).unwrap_or(false) {
        return Err(open_err(io::Error::other("is a directory")));
    }
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
pub fn peek(path: &Path, n: usize) -> Result<Vec<u8>, TraceError> {
    let mut r = open_decompressed(path)?;
    let mut out = Vec::with_capacity(n);
    (&mut r)
        .take(n as u64)
        .read_to_end(&mut out)
        .map_err(|err| TraceError::Io {
            path: path.to_path_buf(),
            err,
        })?;
    Ok(out)
}

/// Guesses the format of `path` from its name, then its content.
///
/// By name (after a `.gz`/`.zst`/`.xz` suffix): `.csv` is csv, `.txt` and
/// `.keys` are text, `.lis` is arc, a name containing `oracleGeneral` is
/// oracle-general. Otherwise by content: oracleGeneral-shaped binary records,
/// `.lis`-shaped lines (four integers), LIRS-shaped lines (block numbers and
/// `*` markers; a `.trace` file of plain numbers is read as lirs), a CSV
/// header naming `key`, else text. Raw binary key streams (`u32be`, `i64be`)
/// cannot be told apart by content: they need `--trace-format`.
pub fn detect(path: &Path) -> Result<TraceFormat, TraceError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let stem = name
        .trim_end_matches(".gz")
        .trim_end_matches(".zst")
        .trim_end_matches(".xz");
    if stem.ends_with(".csv") {
        return Ok(TraceFormat::Csv);
    }
    if stem.ends_with(".txt") || stem.ends_with(".keys") {
        return Ok(TraceFormat::Text);
    }
    if stem.ends_with(".lis") {
        return Ok(TraceFormat::Arc);
    }
    if stem.contains("oraclegeneral") {
        return Ok(TraceFormat::OracleGeneral);
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

/// Detection by content (see [`detect`]); `None` when ambiguous.
/// `dot_trace`: the file name ends in `.trace`.
pub fn detect_content(head: &[u8], dot_trace: bool) -> Option<TraceFormat> {
    if is_binary(head) {
        return oracle_general::looks_like(head).then_some(TraceFormat::OracleGeneral);
    }
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if !text.ends_with('\n') && lines.len() > 1 {
        lines.pop(); // possibly cut by the peek
    }
    let first = *lines.iter().find(|l| !l.starts_with('#'))?;
    let digits = |f: &str| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit());
    let fields: Vec<&str> = first.split_ascii_whitespace().collect();
    if fields.len() == 4 && fields.iter().all(|f| digits(f)) {
        return Some(TraceFormat::Arc);
    }
    let lirs_like = lines.iter().all(|l| *l == "*" || digits(l));
    if lirs_like && (dot_trace || lines.contains(&"*")) {
        return Some(TraceFormat::Lirs);
    }
    if first.contains(',') {
        return first
            .to_ascii_lowercase()
            .split(',')
            .any(|c| c.trim() == "key")
            .then_some(TraceFormat::Csv);
    }
    Some(TraceFormat::Text)
}

/// Opens a streaming reader for `path` in `format` (detected when `None`).
/// Requests without timestamps get theirs from the batch's `rate`.
pub fn open(
    path: &Path,
    format: Option<TraceFormat>,
) -> Result<Box<dyn RequestSource + Send>, TraceError> {
    let format = match format {
        Some(f) => f,
        None => detect(path)?,
    };
    let input = open_decompressed(path)?;
    Ok(match format {
        TraceFormat::Text => Box::new(text::TextReader::new(path, input)),
        TraceFormat::Csv => Box::new(csv::CsvReader::new(path, input)?),
        TraceFormat::Arc => Box::new(arc::ArcReader::new(path, input)),
        TraceFormat::Lirs => Box::new(lirs::LirsReader::new(path, input)),
        TraceFormat::OracleGeneral => {
            Box::new(oracle_general::OracleGeneralReader::new(path, input))
        }
        TraceFormat::U32Be => Box::new(binary::BinaryKeyReader::new(
            path,
            input,
            binary::Width::U32,
        )),
        TraceFormat::I64Be => Box::new(binary::BinaryKeyReader::new(
            path,
            input,
            binary::Width::I64,
        )),
    })
}

/// Reads a whole trace into one batch (for several runs over one trace, and
/// for counting distinct keys). Errors on an empty trace.
pub fn read_all(path: &Path, format: Option<TraceFormat>, rate: f64) -> Result<Batch, TraceError> {
    let mut reader = open(path, format)?;
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
pub fn append(a: &mut Batch, b: &Batch) {
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
    a.keys.extend_from_slice(&b.keys);
}
