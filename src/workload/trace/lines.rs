//! Lines of the line-oriented trace formats (`text`, `csv`, `arc`, `lirs`):
//! [`LineCap`] bounds how long a line may be (so a file with no line breaks
//! is refused after [`MAX_LINE`] bytes instead of being read whole), and
//! [`LineScanner`] hands out each line as a byte slice borrowed straight from
//! the reader's buffer, so parsing a line allocates nothing. Only a line that
//! straddles two buffer fills is copied, into one reused carry buffer.

use std::io::{self, BufRead, Read};

/// The longest line a line-oriented trace may hold, in bytes (without its
/// `\n`): 64 KiB, far beyond any key or CSV row, small enough that a file
/// without line breaks costs no more than this before it is refused.
pub(crate) const MAX_LINE: usize = 64 * 1024;
const _: () = assert!(MAX_LINE == 65536, "LineTooLong::WHAT names the maximum");

/// The error [`LineCap`] reports, inside an [`io::Error`]: line `line` (from
/// 1) is longer than [`MAX_LINE`] bytes. [`LineTooLong::find`] finds it again.
#[derive(Debug)]
pub(crate) struct LineTooLong {
    pub line: u64,
}

impl std::fmt::Display for LineTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {} {}", self.line, LineTooLong::WHAT)
    }
}

impl std::error::Error for LineTooLong {}

impl LineTooLong {
    /// What is wrong, after "line N" or `file:N:`.
    pub(crate) const WHAT: &'static str = "is longer than 65536 bytes (the longest line a text, CSV, ARC or LIRS trace may have); is this a text trace?";

    /// The [`LineTooLong`] inside `err`, if that is what it is.
    pub(crate) fn find(err: &io::Error) -> Option<&LineTooLong> {
        err.get_ref().and_then(|e| e.downcast_ref::<LineTooLong>())
    }
}

/// A [`BufRead`] that fails with [`LineTooLong`] as soon as a line runs past
/// [`MAX_LINE`] bytes, before the reader above it has buffered more than
/// that plus one buffer fill. Counts lines to name the long one.
pub(crate) struct LineCap<R> {
    inner: R,
    /// Bytes consumed since the last `\n`.
    since: usize,
    /// `\n`s consumed.
    newlines: u64,
    /// A line longer than the maximum went by whole inside one consumed
    /// piece: its number, reported by the next `fill_buf`.
    too_long: Option<u64>,
}

impl<R: BufRead> LineCap<R> {
    pub(crate) fn new(inner: R) -> LineCap<R> {
        LineCap {
            inner,
            since: 0,
            newlines: 0,
            too_long: None,
        }
    }

    fn too_long(line: u64) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, LineTooLong { line })
    }
}

impl<R: BufRead> BufRead for LineCap<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if let Some(line) = self.too_long {
            return Err(Self::too_long(line));
        }
        if self.since > MAX_LINE {
            return Err(Self::too_long(self.newlines + 1));
        }
        let room = MAX_LINE - self.since;
        let line = self.newlines + 1;
        let buf = self.inner.fill_buf()?;
        if buf.len() > room && memchr::memchr(b'\n', &buf[..=room]).is_none() {
            return Err(Self::too_long(line));
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let part = &buf[..amt.min(buf.len())];
            let mut start = 0;
            for nl in memchr::memchr_iter(b'\n', part) {
                if self.since + nl - start > MAX_LINE && self.too_long.is_none() {
                    self.too_long = Some(self.newlines + 1);
                }
                self.newlines += 1;
                self.since = 0;
                start = nl + 1;
            }
            self.since += part.len() - start;
        }
        self.inner.consume(amt);
    }
}

impl<R: BufRead> Read for LineCap<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let buf = self.fill_buf()?;
        let n = buf.len().min(out.len());
        out[..n].copy_from_slice(&buf[..n]);
        self.consume(n);
        Ok(n)
    }
}

pub(crate) struct LineScanner {
    input: Box<dyn BufRead + Send>,
    /// Bytes of the input buffer handed out by the last call, consumed at the
    /// start of the next one.
    pending: usize,
    /// A line split across buffer fills.
    carry: Vec<u8>,
    carry_out: bool,
    /// Number of the line last returned (from 1).
    line: u64,
    done: bool,
}

impl LineScanner {
    pub(crate) fn new(input: Box<dyn BufRead + Send>) -> LineScanner {
        LineScanner {
            input,
            pending: 0,
            carry: Vec::new(),
            carry_out: false,
            line: 0,
            done: false,
        }
    }

    /// Number of the line last returned by [`next_line`](Self::next_line), from 1.
    #[cfg(test)]
    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// The next line without its `\n` (a trailing `\r` is kept; callers trim),
    /// or `None` at the end of the input.
    #[cfg(test)]
    pub(crate) fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        if self.pending > 0 {
            self.input.consume(self.pending);
            self.pending = 0;
        }
        if self.carry_out {
            self.carry.clear();
            self.carry_out = false;
        }
        if self.done {
            return Ok(None);
        }
        loop {
            let (found, len) = {
                let buf = self.input.fill_buf()?;
                (memchr::memchr(b'\n', buf), buf.len())
            };
            if len == 0 {
                self.done = true;
                if self.carry.is_empty() {
                    return Ok(None);
                }
                self.line += 1;
                self.carry_out = true;
                return Ok(Some(&self.carry));
            }
            match found {
                Some(i) if self.carry.is_empty() => {
                    self.line += 1;
                    self.pending = i + 1;
                    let buf = self.input.fill_buf()?;
                    return Ok(Some(&buf[..i]));
                }
                Some(i) => {
                    let buf = self.input.fill_buf()?;
                    self.carry.extend_from_slice(&buf[..i]);
                    self.input.consume(i + 1);
                    self.line += 1;
                    self.carry_out = true;
                    return Ok(Some(&self.carry));
                }
                None => {
                    let buf = self.input.fill_buf()?;
                    self.carry.extend_from_slice(buf);
                    self.input.consume(len);
                }
            }
        }
    }
}

impl LineScanner {
    /// Calls `f(line, line_number)` for each line from the current position,
    /// straight out of the reader's buffer, until `f` returns `false` (then
    /// returns `Ok(true)`: more may follow) or the input ends (`Ok(false)`).
    /// The fast path of the line readers: no per-line virtual call.
    /// Lines exclude the `\n`; a trailing `\r` is kept.
    pub(crate) fn scan(&mut self, mut f: impl FnMut(&[u8], u64) -> bool) -> io::Result<bool> {
        if self.pending > 0 {
            self.input.consume(self.pending);
            self.pending = 0;
        }
        if self.carry_out {
            self.carry.clear();
            self.carry_out = false;
        }
        if self.done {
            return Ok(false);
        }
        loop {
            let buf = self.input.fill_buf()?;
            if buf.is_empty() {
                self.done = true;
                if !self.carry.is_empty() {
                    self.line += 1;
                    f(&self.carry, self.line);
                    self.carry.clear();
                }
                return Ok(false);
            }
            let mut pos = 0;
            let mut stop = false;
            if !self.carry.is_empty() {
                match memchr::memchr(b'\n', buf) {
                    Some(i) => {
                        self.carry.extend_from_slice(&buf[..i]);
                        self.line += 1;
                        stop = !f(&self.carry, self.line);
                        self.carry.clear();
                        pos = i + 1;
                    }
                    None => {
                        let n = buf.len();
                        self.carry.extend_from_slice(buf);
                        self.input.consume(n);
                        continue;
                    }
                }
            }
            while !stop {
                match memchr::memchr(b'\n', &buf[pos..]) {
                    Some(i) => {
                        self.line += 1;
                        stop = !f(&buf[pos..pos + i], self.line);
                        pos += i + 1;
                    }
                    None => {
                        self.carry.extend_from_slice(&buf[pos..]);
                        pos = buf.len();
                        break;
                    }
                }
            }
            self.input.consume(pos);
            if stop {
                return Ok(true);
            }
        }
    }
}

/// Reads one line, its `\n` included, into `buf` (cleared first) for the
/// readers that need the line whole (`text`, `csv`); returns its length, 0
/// at the end of the input. A read error names `path` (and a line past
/// [`MAX_LINE`] its number, see [`super::TraceError::read`]).
pub(crate) fn read_line(
    input: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    path: &std::path::Path,
) -> Result<usize, super::TraceError> {
    buf.clear();
    input
        .read_until(b'\n', buf)
        .map_err(|err| super::TraceError::read(path, err))
}

/// Parses a non-empty run of ASCII digits as a `u64`; `None` on anything else
/// or on overflow.
#[inline]
pub(crate) fn parse_u64(field: &[u8]) -> Option<u64> {
    if field.is_empty() || field.len() > 20 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in field {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(u64::from(d))?;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(data: &[u8], cap: usize) -> Vec<(u64, Vec<u8>)> {
        let input = io::BufReader::with_capacity(cap, io::Cursor::new(data.to_vec()));
        let mut s = LineScanner::new(Box::new(input));
        let mut out = vec![];
        while let Some(l) = s.next_line().unwrap() {
            let l = l.to_vec();
            out.push((s.line(), l));
        }
        out
    }

    #[test]
    fn lines_across_tiny_buffers_and_without_final_newline() {
        let data = b"12 3\r\n\nabcdefgh\nlast";
        for cap in [1, 2, 3, 5, 64] {
            let got = lines(data, cap);
            let want: Vec<(u64, Vec<u8>)> = vec![
                (1, b"12 3\r".to_vec()),
                (2, b"".to_vec()),
                (3, b"abcdefgh".to_vec()),
                (4, b"last".to_vec()),
            ];
            assert_eq!(got, want, "buffer capacity {cap}");
        }
        assert!(lines(b"", 8).is_empty());
        assert_eq!(lines(b"x\n", 8), vec![(1, b"x".to_vec())]);
    }

    #[test]
    fn scan_sees_the_same_lines_and_stops_when_asked() {
        let data = b"12 3\r\n\nabcdefgh\nlast";
        for cap in [1, 2, 3, 5, 64] {
            for stop_every in [1, 2, 100] {
                let input = io::BufReader::with_capacity(cap, io::Cursor::new(data.to_vec()));
                let mut s = LineScanner::new(Box::new(input));
                let mut got = vec![];
                let mut n = 0;
                loop {
                    let more = s
                        .scan(|l, no| {
                            got.push((no, l.to_vec()));
                            n += 1;
                            n % stop_every != 0
                        })
                        .unwrap();
                    if !more {
                        break;
                    }
                }
                assert_eq!(got, lines(data, cap), "cap {cap} stop {stop_every}");
            }
        }
    }

    #[test]
    fn line_cap_passes_lines_up_to_the_maximum_and_names_the_first_longer_one() {
        let ok = [vec![b'7'; MAX_LINE], b"\n".to_vec(), vec![b'8'; MAX_LINE]].concat();
        for cap in [1, 1000, 1 << 16, 1 << 20] {
            let mut r = LineCap::new(io::BufReader::with_capacity(
                cap,
                io::Cursor::new(ok.clone()),
            ));
            let mut out = vec![];
            r.read_to_end(&mut out).unwrap();
            assert_eq!(out, ok, "buffer capacity {cap}");
        }
        let long = [b"1\n2\n".to_vec(), vec![b'x'; MAX_LINE + 1], b"\n".to_vec()].concat();
        for cap in [1, 1000, 1 << 16, 1 << 20] {
            let mut r = LineCap::new(io::BufReader::with_capacity(
                cap,
                io::Cursor::new(long.clone()),
            ));
            let mut line = vec![];
            let mut err = None;
            for _ in 0..4 {
                line.clear();
                if let Err(e) = r.read_until(b'\n', &mut line) {
                    err = Some(e);
                    break;
                }
            }
            let err = err.expect("a line past the maximum is refused");
            assert_eq!(
                LineTooLong::find(&err).map(|l| l.line),
                Some(3),
                "cap {cap}"
            );
            assert!(
                line.len() <= MAX_LINE + cap,
                "buffered {} bytes",
                line.len()
            );
        }
    }

    #[test]
    fn parse_u64_rejects_non_digits_and_overflow() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"1a"), None);
    }
}
