//! `text`: one key per line. A decimal integer that fits in a `u64` is the key
//! itself; any other string is hashed with FNV-1a ([`crate::request::hash_bytes`]).
//! Surrounding whitespace and a trailing `\r` are stripped; blank lines and
//! lines starting with `#` are skipped. Every request is a get of size 1.

use super::{Claim, Format, TraceError};
use crate::request::{hash_bytes, Key};
use crate::workload::{Batch, RequestSource};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// `text` in the table of trace formats.
pub(crate) static FORMAT: Format = Format {
    name: "text",
    aliases: &[],
    describe: "one key per line; decimal integers as-is, other strings hashed (FNV-1a)",
    by_name: |stem| stem.ends_with(".txt") || stem.ends_with(".keys"),
    by_content: |h| {
        // Anything textual, unless a comma makes it a CSV without a key column.
        if h.binary || h.first.contains(',') {
            Claim::No
        } else {
            Claim::Fallback
        }
    },
    lines: true,
    params: super::no_params,
    open: |path, input, _| Ok(Box::new(TextReader::new(path, input))),
};

pub(crate) struct TextReader {
    path: PathBuf,
    input: Box<dyn BufRead + Send>,
    line: u64,
    buf: Vec<u8>,
}

impl TextReader {
    pub(crate) fn new(path: &Path, input: Box<dyn BufRead + Send>) -> TextReader {
        TextReader {
            path: path.to_path_buf(),
            input,
            line: 0,
            buf: Vec::with_capacity(64),
        }
    }
}

/// Parses a key field: decimal `u64` as-is, anything else hashed.
pub(crate) fn key_of(field: &[u8]) -> Key {
    if !field.is_empty() && field.len() <= 20 && field.iter().all(u8::is_ascii_digit) {
        let mut v: u64 = 0;
        let mut ok = true;
        for &b in field {
            match v
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(b - b'0')))
            {
                Some(n) => v = n,
                None => {
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            return v;
        }
    }
    hash_bytes(field)
}

impl RequestSource for TextReader {
    fn next_batch(&mut self, batch: &mut Batch, max: usize) -> Result<usize, TraceError> {
        batch.clear();
        while batch.len() < max {
            let n = super::lines::read_line(&mut self.input, &mut self.buf, &self.path)?;
            if n == 0 {
                break;
            }
            self.line += 1;
            let field = self.buf.trim_ascii();
            if field.is_empty() || field[0] == b'#' {
                continue;
            }
            if field.contains(&0) {
                return Err(TraceError::Line {
                    path: self.path.clone(),
                    line: self.line,
                    msg: "binary data (a NUL byte) in a text trace; is this a binary trace? choose its reader with --trace-format".into(),
                });
            }
            batch.keys.push(key_of(field));
        }
        Ok(batch.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::hash_str;

    fn read(text: &str) -> Result<Vec<Key>, TraceError> {
        let mut r = TextReader::new(
            Path::new("t.txt"),
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
        );
        let mut b = Batch::new(1.0, 1);
        let mut out = vec![];
        while r.next_batch(&mut b, 2)? > 0 {
            out.extend_from_slice(&b.keys);
        }
        Ok(out)
    }

    #[test]
    fn integers_as_is_strings_hashed_comments_skipped() {
        let keys = read("# header\n1\r\n\n  42 \nuser:7\n18446744073709551616\n").unwrap();
        assert_eq!(
            keys,
            vec![1, 42, hash_str("user:7"), hash_str("18446744073709551616")]
        );
    }

    #[test]
    fn nul_byte_names_the_line() {
        let e = read("1\n2\n\0\0\n").unwrap_err().to_string();
        assert!(e.starts_with("t.txt:3:"), "{e}");
    }
}
