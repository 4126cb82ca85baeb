//! A small synchronous RESP2 client: the wire protocol of Redis, over one
//! TCP connection, plain or TLS ([`Stream`]).
//!
//! Why not the `redis` crate: with its cluster feature it pulls about sixty
//! crates (url, idna and ICU, a second syn) for what cachesim needs, which is
//! five commands in a strictly sequential (or pipelined) loop. This client
//! writes commands as RESP arrays of bulk strings into a reusable buffer and
//! parses replies out of a reusable read buffer, so the hot path (GET, SET,
//! UNLINK, pipelined or not) allocates nothing per request. Pipelining is
//! "queue N commands, [`Conn::flush`] once, read N replies".
//!
//! Replies read in the hot path are reduced to what the caller needs
//! ([`Light`]: nil or a bulk length, an integer, a status); setup commands
//! (`INFO`, `SCAN`, `CLUSTER SLOTS`) use [`Conn::query`], which returns an
//! owned [`Value`].

use crate::external::net::{self, Stream, ANSWER_TIMEOUT};
use crate::external::tls::Tls;
use std::io::{Read, Write};
use std::time::Duration;
use thiserror::Error;

/// How long a reply may take, once the server has answered once, before
/// the connection counts as lost. (Connecting and the first reply: 2 s,
/// [`ANSWER_TIMEOUT`].)
pub(crate) const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// A failed Redis command or connection.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum RespError {
    /// The connection could not be made, or broke: nothing more can be sent.
    #[error("{0}")]
    Io(String),
    /// The server answered with an error reply (`-ERR ...`, `-MOVED ...`).
    #[error("{0}")]
    Server(String),
    /// The server sent something that is not RESP2.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl RespError {
    /// Whether the connection is unusable after this error.
    pub(crate) fn is_fatal(&self) -> bool {
        !matches!(self, RespError::Server(_))
    }

    /// `-OOM`: a server at its memory limit with `noeviction` refused a
    /// write; the value is simply not cached and the run goes on.
    pub(crate) fn is_oom(&self) -> bool {
        matches!(self, RespError::Server(m) if m.starts_with("OOM"))
    }
}

/// An owned reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A nil reply (a missing key).
    Nil,
    /// A status reply (`+OK`), without its `+`.
    Status(String),
    /// An error reply (`-ERR ...`), without its `-`.
    Error(String),
    /// An integer reply.
    Int(i64),
    /// A bulk string reply.
    Bulk(Vec<u8>),
    /// An array reply.
    Array(Vec<Value>),
}

impl Value {
    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bulk(b) => std::str::from_utf8(b).ok()?.parse().ok(),
            _ => None,
        }
    }

    /// The text of a status or bulk reply.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Status(s) => Some(s.clone()),
            Value::Bulk(b) => Some(String::from_utf8_lossy(b).into_owned()),
            _ => None,
        }
    }
}

/// A reply reduced to its shape, read without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Light {
    /// A nil reply (a missing key).
    Nil,
    /// A status reply (`+OK`).
    Status,
    /// An integer reply.
    Int(i64),
    /// A bulk string of this many bytes (skipped).
    Bulk(usize),
    /// An array of this many elements (skipped).
    Array(usize),
}

/// One connection.
pub struct Conn {
    stream: Stream,
    /// Whether the server has answered yet (until then a reply may take
    /// [`ANSWER_TIMEOUT`], then [`READ_TIMEOUT`]).
    answered: bool,
    rbuf: Vec<u8>,
    start: usize,
    end: usize,
    wbuf: Vec<u8>,
    queued: usize,
    /// `host:port`, for messages.
    pub addr: String,
}

/// Two ASCII digits per value 0..100, for [`itoa`].
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Decimal digits of `v` into `out`, returning the used tail.
#[inline]
pub(crate) fn itoa(v: u64, out: &mut [u8; 20]) -> &[u8] {
    let i = itoa_into(v, out);
    &out[i..]
}

/// The number of decimal digits of `v`.
#[inline]
pub(crate) fn digits(v: u64) -> usize {
    v.checked_ilog10().unwrap_or(0) as usize + 1
}

/// Writes the decimal digits of `v` at the end of `out` (two per division),
/// returning where they start; `out` must have room for them.
#[inline(always)]
pub(crate) fn itoa_into(mut v: u64, out: &mut [u8]) -> usize {
    let mut i = out.len();
    while v >= 100 {
        let d = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        out[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    }
    if v >= 10 {
        let d = v as usize * 2;
        i -= 2;
        out[i..i + 2].copy_from_slice(&DIGIT_PAIRS[d..d + 2]);
    } else {
        i -= 1;
        out[i] = b'0' + v as u8;
    }
    i
}

/// Appends a RESP length line: `t`, the decimal `n`, CRLF. Lengths below
/// 100 (argument counts, keys, small values) take one fixed-size store.
#[inline]
fn put_len(w: &mut Vec<u8>, t: u8, n: usize) {
    if n < 10 {
        w.extend_from_slice(&[t, b'0' + n as u8, b'\r', b'\n']);
    } else if n < 100 {
        let (a, b) = (n / 10, n % 10);
        w.extend_from_slice(&[t, b'0' + a as u8, b'0' + b as u8, b'\r', b'\n']);
    } else {
        let mut d = [0u8; 20];
        w.push(t);
        w.extend_from_slice(itoa(n as u64, &mut d));
        w.extend_from_slice(b"\r\n");
    }
}

fn parse_i64(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        _ => (false, b),
    };
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if neg { -v } else { v })
}

impl Conn {
    /// Connects to `host:port` (plain TCP), trying each address for at most
    /// [`ANSWER_TIMEOUT`].
    pub fn connect(host: &str, port: u16) -> Result<Conn, RespError> {
        Conn::open(host, port, None)
    }

    /// Connects to `host:port`, with TLS when `tls` is given; connecting,
    /// the handshake and the first reply each get [`ANSWER_TIMEOUT`].
    pub(crate) fn open(host: &str, port: u16, tls: Option<&Tls>) -> Result<Conn, RespError> {
        let addr = net::show_host_port(host, port);
        let fail = |e: String| RespError::Io(format!("cannot connect to {addr}: {e}"));
        let stream = Stream::connect(host, port, ANSWER_TIMEOUT).map_err(fail)?;
        let stream = match (tls, stream) {
            (Some(t), Stream::Plain(tcp)) => {
                Stream::Tls(Box::new(t.handshake(tcp, host).map_err(fail)?))
            }
            (_, s) => s,
        };
        Ok(Conn {
            stream,
            answered: false,
            rbuf: vec![0; 16 * 1024],
            start: 0,
            end: 0,
            wbuf: Vec::with_capacity(16 * 1024),
            queued: 0,
            addr,
        })
    }

    /// Queues a command (not sent until [`Conn::flush`]).
    #[inline]
    pub fn push(&mut self, args: &[&[u8]]) {
        let w = &mut self.wbuf;
        // One reservation: every length line is at most 23 bytes.
        w.reserve(23 + args.iter().map(|a| a.len() + 25).sum::<usize>());
        put_len(w, b'*', args.len());
        for a in args {
            put_len(w, b'$', a.len());
            w.extend_from_slice(a);
            w.extend_from_slice(b"\r\n");
        }
        self.queued += 1;
    }

    /// Queues `n` commands already encoded as RESP in `cmds`.
    #[inline]
    pub(crate) fn push_encoded(&mut self, cmds: &[u8], n: usize) {
        self.wbuf.extend_from_slice(cmds);
        self.queued += n;
    }

    /// Commands queued since the last flush.
    pub(crate) fn queued(&self) -> usize {
        self.queued
    }

    /// Sends every queued command.
    pub fn flush(&mut self) -> Result<(), RespError> {
        if !self.wbuf.is_empty() {
            let r = self.stream.write_all(&self.wbuf);
            self.wbuf.clear();
            self.queued = 0;
            r.map_err(|e| self.lost(e))?;
        }
        Ok(())
    }

    fn lost(&self, e: std::io::Error) -> RespError {
        let waited = if self.answered {
            READ_TIMEOUT
        } else {
            ANSWER_TIMEOUT
        };
        RespError::Io(format!("{}: {}", self.addr, net::io_failure(&e, waited)))
    }

    /// Reads more bytes into the buffer (at least one).
    fn fill(&mut self) -> Result<(), RespError> {
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        } else if self.end == self.rbuf.len() {
            if self.start > 0 {
                self.rbuf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            } else {
                let n = self.rbuf.len() * 2;
                self.rbuf.resize(n, 0);
            }
        }
        let n = self
            .stream
            .read(&mut self.rbuf[self.end..])
            .map_err(|e| self.lost(e))?;
        if n == 0 {
            return Err(RespError::Io(format!(
                "connection to {} closed by the server",
                self.addr
            )));
        }
        self.end += n;
        if !self.answered {
            self.answered = true;
            self.stream.answered(READ_TIMEOUT);
        }
        Ok(())
    }

    /// The next line (without CRLF) as a range of `rbuf`, consumed.
    fn line(&mut self) -> Result<std::ops::Range<usize>, RespError> {
        let mut from = self.start;
        loop {
            if let Some(p) = self.rbuf[from..self.end].iter().position(|&b| b == b'\n') {
                let nl = from + p;
                if nl == self.start || self.rbuf[nl - 1] != b'\r' {
                    return Err(RespError::Protocol("line not ended by CRLF".into()));
                }
                let r = self.start..nl - 1;
                self.start = nl + 1;
                return Ok(r);
            }
            from = self.end;
            let before = self.start;
            self.fill()?;
            // fill may move the data to the front of the buffer
            from = from - before + self.start;
        }
    }

    /// Skips `n` bytes of payload.
    fn skip(&mut self, mut n: usize) -> Result<(), RespError> {
        loop {
            let avail = self.end - self.start;
            if avail >= n {
                self.start += n;
                return Ok(());
            }
            n -= avail;
            self.start = self.end;
            self.fill()?;
        }
    }

    /// Takes `n` bytes of payload.
    fn take(&mut self, n: usize) -> Result<Vec<u8>, RespError> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            if self.start == self.end {
                self.fill()?;
            }
            let k = (n - out.len()).min(self.end - self.start);
            out.extend_from_slice(&self.rbuf[self.start..self.start + k]);
            self.start += k;
        }
        Ok(out)
    }

    fn header(&mut self) -> Result<(u8, std::ops::Range<usize>), RespError> {
        let r = self.line()?;
        if r.is_empty() {
            return Err(RespError::Protocol("empty reply line".into()));
        }
        Ok((self.rbuf[r.start], r.start + 1..r.end))
    }

    fn int_at(&self, r: std::ops::Range<usize>) -> Result<i64, RespError> {
        parse_i64(&self.rbuf[r.clone()]).ok_or_else(|| {
            RespError::Protocol(format!(
                "bad number '{}'",
                String::from_utf8_lossy(&self.rbuf[r])
            ))
        })
    }

    /// The reply at `start` when it begins with a whole `<type><integer>\r\n`
    /// line: (type byte, integer, line length). `None` when more bytes are
    /// needed or the line has another shape; the general path then decides.
    #[inline]
    fn quick_header(&self) -> Option<(u8, i64, usize)> {
        let b = &self.rbuf[self.start..self.end];
        let t = *b.first()?;
        let neg = b.get(1) == Some(&b'-');
        let from = 1 + usize::from(neg);
        let mut i = from;
        let mut v: i64 = 0;
        // At most 18 digits: no overflow; longer numbers take the general path.
        while i < b.len() && i - from < 18 && b[i].is_ascii_digit() {
            v = v * 10 + i64::from(b[i] - b'0');
            i += 1;
        }
        if i == from || b.get(i) != Some(&b'\r') || b.get(i + 1) != Some(&b'\n') {
            return None;
        }
        Some((t, if neg { -v } else { v }, i + 2))
    }

    /// Reads one reply, keeping only its shape. An error reply is returned
    /// as [`RespError::Server`] (after consuming it).
    ///
    /// The replies of the hot path (a bulk string, nil, an integer) are read
    /// in one pass when they are whole in the buffer.
    #[inline]
    pub(crate) fn read_light(&mut self) -> Result<Light, RespError> {
        if self.start == self.end {
            self.fill()?;
        }
        if let Some((t, n, line)) = self.quick_header() {
            match t {
                b'$' if n < 0 => {
                    self.start += line;
                    return Ok(Light::Nil);
                }
                b'$' if self.end - self.start >= line + n as usize + 2 => {
                    self.start += line + n as usize + 2;
                    return Ok(Light::Bulk(n as usize));
                }
                b':' => {
                    self.start += line;
                    return Ok(Light::Int(n));
                }
                _ => {}
            }
        }
        self.read_light_general()
    }

    /// [`Conn::read_light`] for any reply, reading more bytes as needed.
    #[inline(never)]
    fn read_light_general(&mut self) -> Result<Light, RespError> {
        let (t, r) = self.header()?;
        match t {
            b'+' => Ok(Light::Status),
            b'-' => Err(RespError::Server(
                String::from_utf8_lossy(&self.rbuf[r]).into_owned(),
            )),
            b':' => Ok(Light::Int(self.int_at(r)?)),
            b'$' => {
                let n = self.int_at(r)?;
                if n < 0 {
                    return Ok(Light::Nil);
                }
                self.skip(n as usize + 2)?;
                Ok(Light::Bulk(n as usize))
            }
            b'*' => {
                let n = self.int_at(r)?;
                if n < 0 {
                    return Ok(Light::Nil);
                }
                for _ in 0..n {
                    match self.read_light() {
                        Ok(_) | Err(RespError::Server(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(Light::Array(n as usize))
            }
            other => Err(RespError::Protocol(format!(
                "unexpected reply type byte 0x{other:02x}"
            ))),
        }
    }

    /// Reads one reply in full.
    pub fn read_value(&mut self) -> Result<Value, RespError> {
        let (t, r) = self.header()?;
        let text =
            |c: &Conn, r: std::ops::Range<usize>| String::from_utf8_lossy(&c.rbuf[r]).into_owned();
        match t {
            b'+' => Ok(Value::Status(text(self, r))),
            b'-' => Ok(Value::Error(text(self, r))),
            b':' => Ok(Value::Int(self.int_at(r)?)),
            b'$' => {
                let n = self.int_at(r)?;
                if n < 0 {
                    return Ok(Value::Nil);
                }
                let v = self.take(n as usize)?;
                self.skip(2)?;
                Ok(Value::Bulk(v))
            }
            b'*' => {
                let n = self.int_at(r)?;
                if n < 0 {
                    return Ok(Value::Nil);
                }
                let mut v = Vec::with_capacity(n.min(1024) as usize);
                for _ in 0..n {
                    v.push(self.read_value()?);
                }
                Ok(Value::Array(v))
            }
            other => Err(RespError::Protocol(format!(
                "unexpected reply type byte 0x{other:02x}"
            ))),
        }
    }

    /// Sends one command and reads its reply; an error reply is an `Err`.
    pub fn query(&mut self, args: &[&[u8]]) -> Result<Value, RespError> {
        self.push(args);
        self.flush()?;
        match self.read_value()? {
            Value::Error(e) => Err(RespError::Server(e)),
            v => Ok(v),
        }
    }

    /// `query` with string arguments.
    pub fn cmd(&mut self, args: &[&str]) -> Result<Value, RespError> {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.query(&a)
    }

    /// `AUTH` (with a user name when given) and `SELECT` as needed.
    pub fn login(
        &mut self,
        user: Option<&str>,
        password: Option<&str>,
        db: u32,
    ) -> Result<(), RespError> {
        if let Some(pw) = password {
            match user {
                Some(u) => self.cmd(&["AUTH", u, pw])?,
                None => self.cmd(&["AUTH", pw])?,
            };
        }
        if db != 0 {
            self.cmd(&["SELECT", &db.to_string()])?;
        }
        Ok(())
    }

    /// One field of `INFO <section>` as an integer.
    pub fn info_field(&mut self, section: &str, field: &str) -> Result<i64, RespError> {
        let v = self.cmd(&["INFO", section])?;
        let text = v.text().unwrap_or_default();
        text.lines()
            .find_map(|l| {
                l.strip_prefix(field)?
                    .strip_prefix(':')?
                    .trim()
                    .parse()
                    .ok()
            })
            .ok_or_else(|| RespError::Protocol(format!("INFO {section} has no field {field}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn itoa_and_parse() {
        let mut d = [0u8; 20];
        assert_eq!(itoa(0, &mut d), b"0");
        assert_eq!(itoa(u64::MAX, &mut d), b"18446744073709551615");
        for v in [
            0,
            9,
            10,
            99,
            100,
            12345,
            10u64.pow(19) - 1,
            10u64.pow(19),
            u64::MAX,
        ] {
            assert_eq!(itoa(v, &mut d), v.to_string().as_bytes());
            assert_eq!(digits(v), v.to_string().len());
        }
        assert_eq!(parse_i64(b"-1"), Some(-1));
        assert_eq!(parse_i64(b"12x"), None);
        assert_eq!(parse_i64(b""), None);
    }

    /// Commands are RESP arrays of bulk strings, whatever the lengths.
    #[test]
    fn push_encodes_arrays_of_bulk_strings() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let _server = std::thread::spawn(move || l.accept());
        let mut c = Conn::connect("127.0.0.1", port).unwrap();
        let mut want = Vec::new();
        let args: Vec<Vec<u8>> = [0, 1, 9, 10, 99, 100, 12345]
            .iter()
            .map(|&n| vec![b'x'; n])
            .collect();
        for k in 1..=args.len() {
            let a: Vec<&[u8]> = args[..k].iter().map(|v| v.as_slice()).collect();
            c.push(&a);
            want.extend_from_slice(format!("*{k}\r\n").as_bytes());
            for v in &a {
                want.extend_from_slice(format!("${}\r\n", v.len()).as_bytes());
                want.extend_from_slice(v);
                want.extend_from_slice(b"\r\n");
            }
        }
        let many: Vec<&[u8]> = vec![b"a"; 12];
        c.push(&many);
        want.extend_from_slice(b"*12\r\n");
        for _ in 0..12 {
            want.extend_from_slice(b"$1\r\na\r\n");
        }
        c.push_encoded(b"*1\r\n$4\r\nPING\r\n", 1);
        want.extend_from_slice(b"*1\r\n$4\r\nPING\r\n");
        assert_eq!(c.wbuf, want);
        assert_eq!(c.queued(), args.len() + 2);
    }

    /// A fake server that answers with fixed bytes, split across writes.
    #[test]
    fn reads_every_reply_kind_split_across_packets() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 64];
            let n = s.read(&mut buf).unwrap();
            assert_eq!(&buf[..n], b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
            let big = vec![b'v'; 40_000];
            let mut reply =
                b"+OK\r\n-MOVED 1 h:1\r\n:42\r\n$-1\r\n$3\r\nabc\r\n*2\r\n:1\r\n$2\r\nxy\r\n"
                    .to_vec();
            reply.extend_from_slice(b"$40000\r\n");
            reply.extend_from_slice(&big);
            reply.extend_from_slice(b"\r\n+PONG\r\n");
            for c in reply.chunks(7) {
                s.write_all(c).unwrap();
                s.flush().unwrap();
            }
        });
        let mut c = Conn::connect("127.0.0.1", port).unwrap();
        c.push(&[b"GET", b"k"]);
        assert_eq!(c.queued(), 1);
        c.flush().unwrap();
        assert_eq!(c.read_light().unwrap(), Light::Status);
        assert_eq!(
            c.read_light().unwrap_err(),
            RespError::Server("MOVED 1 h:1".into())
        );
        assert_eq!(c.read_light().unwrap(), Light::Int(42));
        assert_eq!(c.read_light().unwrap(), Light::Nil);
        assert_eq!(c.read_value().unwrap(), Value::Bulk(b"abc".to_vec()));
        assert_eq!(
            c.read_value().unwrap(),
            Value::Array(vec![Value::Int(1), Value::Bulk(b"xy".to_vec())])
        );
        assert_eq!(c.read_light().unwrap(), Light::Bulk(40_000));
        assert_eq!(c.read_value().unwrap(), Value::Status("PONG".into()));
        server.join().unwrap();
        let e = c.read_light().unwrap_err();
        assert!(e.is_fatal() && e.to_string().contains("closed"), "{e}");
    }
}
