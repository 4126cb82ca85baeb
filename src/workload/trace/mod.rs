//! Trace readers: one file per format, all streaming (a reader holds one
//! batch, never the whole trace), all reading gzip, zstd and xz files
//! transparently (detected by magic bytes, not by file name).
//!
//! [`open`] picks the reader: `--trace-format` always wins; otherwise the
//! format is detected from the file name and then the content, and when that
//! is ambiguous the error lists the formats to choose from.

pub mod csv;
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
}

impl TraceFormat {
    pub const ALL: &'static [TraceFormat] = &[TraceFormat::Text, TraceFormat::Csv];

    pub fn name(self) -> &'static str {
        match self {
            TraceFormat::Text => "text",
            TraceFormat::Csv => "csv",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            TraceFormat::Text => {
                "one key per line; decimal integers as-is, other strings hashed (FNV-1a)"
            }
            TraceFormat::Csv => "CSV with a header naming key and optionally time, size, op",
        }
    }

    pub fn parse(s: &str) -> Result<TraceFormat, String> {
        TraceFormat::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s.trim().to_ascii_lowercase())
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
    let head = peek(path, 4096)?;
    if head.is_empty() {
        return Err(TraceError::Empty {
            path: path.to_path_buf(),
        });
    }
    let ambiguous = || {
        TraceError::Format {
        path: path.to_path_buf(),
        msg: format!(
            "cannot tell the trace format from the name or content; pass --trace-format with one of: {}",
            format_names()
        ),
    }
    };
    if head.contains(&0) {
        return Err(ambiguous());
    }
    let text = String::from_utf8_lossy(&head);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with('#'));
    match first {
        Some(l)
            if l.contains(',') && l.to_ascii_lowercase().split(',').any(|c| c.trim() == "key") =>
        {
            Ok(TraceFormat::Csv)
        }
        Some(l) if !l.contains(',') => Ok(TraceFormat::Text),
        _ => Err(ambiguous()),
    }
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
