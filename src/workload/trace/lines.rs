//! A line scanner for the line-oriented trace readers (`arc`, `lirs`): hands
//! out each line as a byte slice borrowed straight from the reader's buffer,
//! so parsing a line allocates nothing. Only a line that straddles two buffer
//! fills is copied, into one reused carry buffer.

use std::io::{self, BufRead};

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
/// at the end of the input. A read error names `path`.
pub(crate) fn read_line(
    input: &mut dyn BufRead,
    buf: &mut Vec<u8>,
    path: &std::path::Path,
) -> Result<usize, super::TraceError> {
    buf.clear();
    input
        .read_until(b'\n', buf)
        .map_err(|err| super::TraceError::Io {
            path: path.to_path_buf(),
            err,
        })
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
    fn parse_u64_rejects_non_digits_and_overflow() {
        assert_eq!(parse_u64(b"0"), Some(0));
        assert_eq!(parse_u64(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_u64(b"18446744073709551616"), None);
        assert_eq!(parse_u64(b""), None);
        assert_eq!(parse_u64(b"-1"), None);
        assert_eq!(parse_u64(b"1a"), None);
    }
}
