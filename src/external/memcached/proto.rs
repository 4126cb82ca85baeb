//! memcached's text protocol over one connection: the commands a run
//! needs (`get` of many keys, `set`, `delete`, `stats`, `version`), written
//! into one buffer and sent in one write, so that a batch of gets and the
//! sets and deletes queued before it travel as one pipeline.

use crate::external::net::{io_failure, Stream, ANSWER_TIMEOUT};
use crate::external::remote::{Acks, KvConn};
use crate::external::resp::itoa;
use crate::request::Key;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

/// How long a reply may take once the server has answered.
const REPLY_TIMEOUT: Duration = Duration::from_secs(60);

/// What went wrong on a connection.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum McError {
    /// The connection failed or the server did not answer.
    #[error("{0}")]
    Io(String),
    /// An `ERROR`, `CLIENT_ERROR` or unexpected reply.
    #[error("{0}")]
    Protocol(String),
}

/// What a queued command expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Store,
    Delete,
}

/// One connection: a buffered reader, and the commands queued for the
/// next write.
pub(crate) struct Conn {
    r: BufReader<TcpStream>,
    w: TcpStream,
    out: Vec<u8>,
    pending: Vec<Pending>,
    prefix: Vec<u8>,
    line: Vec<u8>,
}

impl Conn {
    /// Connects to `addr` and checks that a memcached answers (`version`);
    /// keys are `prefix` + the decimal key.
    pub(crate) fn open(host: &str, port: u16, prefix: &[u8]) -> Result<Conn, McError> {
        let s = match Stream::connect(host, port, ANSWER_TIMEOUT) {
            Ok(Stream::Plain(s)) => s,
            Ok(Stream::Tls(_)) => unreachable!("connect makes plain TCP"),
            Err(e) => return Err(McError::Io(format!("cannot connect: {e}"))),
        };
        let r = s
            .try_clone()
            .map_err(|e| McError::Io(format!("cannot use the connection: {e}")))?;
        let mut c = Conn {
            r: BufReader::with_capacity(1 << 16, r),
            w: s,
            out: Vec::with_capacity(1 << 16),
            pending: Vec::new(),
            prefix: prefix.to_vec(),
            line: Vec::new(),
        };
        c.out.extend_from_slice(b"version\r\n");
        c.send(ANSWER_TIMEOUT)?;
        let v = c.read_line(ANSWER_TIMEOUT)?;
        if !v.starts_with(b"VERSION ") {
            return Err(McError::Protocol(format!(
                "the server answered 'version' with '{}': is it a memcached?",
                String::from_utf8_lossy(v)
            )));
        }
        c.w.set_read_timeout(Some(REPLY_TIMEOUT)).ok();
        c.w.set_write_timeout(Some(REPLY_TIMEOUT)).ok();
        Ok(c)
    }

    fn push_key(&mut self, key: Key) {
        let mut d = [0u8; 20];
        self.out.extend_from_slice(&self.prefix);
        self.out.extend_from_slice(itoa(key, &mut d));
    }

    /// Queues `set KEY 0 EXPTIME LEN` and the value.
    pub(crate) fn queue_set(&mut self, key: Key, value: &[u8], exptime: u32) {
        let mut d = [0u8; 20];
        self.out.extend_from_slice(b"set ");
        self.push_key(key);
        self.out.extend_from_slice(b" 0 ");
        self.out.extend_from_slice(itoa(u64::from(exptime), &mut d));
        self.out.push(b' ');
        self.out.extend_from_slice(itoa(value.len() as u64, &mut d));
        self.out.extend_from_slice(b"\r\n");
        self.out.extend_from_slice(value);
        self.out.extend_from_slice(b"\r\n");
        self.pending.push(Pending::Store);
    }

    /// Queues `delete KEY`.
    pub(crate) fn queue_delete(&mut self, key: Key) {
        self.out.extend_from_slice(b"delete ");
        self.push_key(key);
        self.out.extend_from_slice(b"\r\n");
        self.pending.push(Pending::Delete);
    }

    /// Commands queued and not yet answered.
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        self.pending.len()
    }

    /// Sends what is queued plus `get` of `keys` (none: no get), and reads
    /// the replies: the queued commands' into the returned [`Acks`], then
    /// each key found through `found`.
    pub(crate) fn round_trip(
        &mut self,
        keys: &[Key],
        mut found: impl FnMut(Key),
    ) -> Result<Acks, McError> {
        if !keys.is_empty() {
            self.out.extend_from_slice(b"get");
            for &k in keys {
                self.out.push(b' ');
                self.push_key(k);
            }
            self.out.extend_from_slice(b"\r\n");
        }
        self.send(REPLY_TIMEOUT)?;
        let acks = self.read_acks()?;
        if !keys.is_empty() {
            self.read_values(&mut found)?;
        }
        Ok(acks)
    }

    fn send(&mut self, waited: Duration) -> Result<(), McError> {
        let r = self.w.write_all(&self.out).and_then(|_| self.w.flush());
        self.out.clear();
        r.map_err(|e| McError::Io(io_failure(&e, waited)))
    }

    fn read_line(&mut self, waited: Duration) -> Result<&[u8], McError> {
        self.line.clear();
        match self.r.read_until(b'\n', &mut self.line) {
            Ok(0) => Err(McError::Io("connection closed by the server".into())),
            Ok(_) if self.line.ends_with(b"\r\n") => Ok(&self.line[..self.line.len() - 2]),
            Ok(_) => Err(McError::Io(
                "connection closed in the middle of a reply".into(),
            )),
            Err(e) => Err(McError::Io(io_failure(&e, waited))),
        }
    }

    fn read_acks(&mut self) -> Result<Acks, McError> {
        let mut acks = Acks::default();
        let pending = std::mem::take(&mut self.pending);
        for p in &pending {
            let l = self.read_line(REPLY_TIMEOUT)?;
            match (p, l) {
                (Pending::Store, b"STORED") => acks.stored += 1,
                (Pending::Store, l) if l.starts_with(b"SERVER_ERROR") => acks.refused += 1,
                (Pending::Delete, b"DELETED") => acks.deleted += 1,
                (Pending::Delete, b"NOT_FOUND") => {}
                (p, l) => {
                    return Err(McError::Protocol(format!(
                        "unexpected reply '{}' to a {}",
                        String::from_utf8_lossy(l),
                        if *p == Pending::Store {
                            "set"
                        } else {
                            "delete"
                        }
                    )))
                }
            }
        }
        self.pending = pending;
        self.pending.clear();
        Ok(acks)
    }

    /// Reads `VALUE KEY FLAGS LEN` + data ... `END`.
    fn read_values(&mut self, found: &mut impl FnMut(Key)) -> Result<(), McError> {
        loop {
            let plen = self.prefix.len();
            let l = self.read_line(REPLY_TIMEOUT)?;
            if l == b"END" {
                return Ok(());
            }
            let bad = |l: &[u8]| {
                McError::Protocol(format!(
                    "unexpected reply '{}' to a get",
                    String::from_utf8_lossy(l)
                ))
            };
            let mut parts = l.split(|&b| b == b' ');
            let (Some(b"VALUE"), Some(name), Some(_flags), Some(len)) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(bad(l));
            };
            let key = name
                .get(plen..)
                .and_then(|d| std::str::from_utf8(d).ok())
                .and_then(|d| d.parse::<Key>().ok());
            let len = std::str::from_utf8(len)
                .ok()
                .and_then(|n| n.parse::<usize>().ok());
            let (Some(key), Some(len)) = (key, len) else {
                return Err(bad(l));
            };
            found(key);
            self.skip(len + 2)?;
        }
    }

    fn skip(&mut self, mut n: usize) -> Result<(), McError> {
        while n > 0 {
            let buf = self
                .r
                .fill_buf()
                .map_err(|e| McError::Io(io_failure(&e, REPLY_TIMEOUT)))?;
            if buf.is_empty() {
                return Err(McError::Io(
                    "connection closed in the middle of a value".into(),
                ));
            }
            let k = buf.len().min(n);
            self.r.consume(k);
            n -= k;
        }
        Ok(())
    }

    /// `stats` (or `stats ARG`): every `STAT NAME VALUE`.
    pub(crate) fn stats(&mut self, arg: &str) -> Result<Vec<(String, String)>, McError> {
        if !self.pending.is_empty() {
            self.round_trip(&[], |_| {})?;
        }
        self.out.extend_from_slice(b"stats");
        if !arg.is_empty() {
            self.out.push(b' ');
            self.out.extend_from_slice(arg.as_bytes());
        }
        self.out.extend_from_slice(b"\r\n");
        self.send(REPLY_TIMEOUT)?;
        let mut out = Vec::new();
        loop {
            let l = self.read_line(REPLY_TIMEOUT)?;
            if l == b"END" {
                return Ok(out);
            }
            let t = String::from_utf8_lossy(l);
            let mut p = t.splitn(3, ' ');
            match (p.next(), p.next(), p.next()) {
                (Some("STAT"), Some(k), Some(v)) => out.push((k.to_string(), v.to_string())),
                _ => {
                    return Err(McError::Protocol(format!(
                        "unexpected reply '{t}' to stats"
                    )))
                }
            }
        }
    }

    /// One number of `stats`.
    pub(crate) fn stat(&mut self, name: &str) -> Result<u64, McError> {
        number(&self.stats("")?, name)
    }
}

/// The protocol as the loop's cache speaks it (`external::remote`): a
/// store's expiry in whole seconds (`exptime`).
impl KvConn for Conn {
    type Error = McError;
    fn queue_set(&mut self, key: Key, value: &[u8], ttl_ms: u64) {
        let exptime = ttl_ms.div_ceil(1000).min(u64::from(u32::MAX)) as u32;
        Conn::queue_set(self, key, value, exptime);
    }
    fn queue_delete(&mut self, key: Key) {
        Conn::queue_delete(self, key);
    }
    fn round_trip(&mut self, keys: &[Key], found: impl FnMut(Key)) -> Result<Acks, McError> {
        Conn::round_trip(self, keys, found)
    }
}

/// The number `name` of a `stats` reply.
pub(crate) fn number(stats: &[(String, String)], name: &str) -> Result<u64, McError> {
    stats
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
        .ok_or_else(|| McError::Protocol(format!("stats has no number '{name}'")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;

    /// A fake server answering `version` with `version`, then, once it
    /// has read `expect` (what the client must send next), with `script`.
    fn fake_as(
        version: &'static [u8],
        expect: &'static [u8],
        script: &'static [u8],
    ) -> (u16, std::thread::JoinHandle<()>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut v = [0u8; 9];
            s.read_exact(&mut v).unwrap();
            assert_eq!(&v, b"version\r\n");
            s.write_all(version).unwrap();
            let mut got = vec![0u8; expect.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(expect)
            );
            s.write_all(script).unwrap();
        });
        (port, h)
    }

    fn fake(expect: &'static [u8], script: &'static [u8]) -> (u16, std::thread::JoinHandle<()>) {
        fake_as(b"VERSION 1.6.18\r\n", expect, script)
    }

    #[test]
    fn pipelines_stores_before_gets_and_reads_both() {
        let (port, h) = fake(
            b"set p:7 0 0 3\r\nabc\r\ndelete p:8\r\nset p:9 0 5 1\r\nz\r\nget p:1 p:22 p:3\r\n",
            b"STORED\r\nDELETED\r\nSERVER_ERROR object too large for cache\r\nVALUE p:22 0 2\r\nhi\r\nVALUE p:3 0 0\r\n\r\nEND\r\n",
        );
        let mut c = Conn::open("127.0.0.1", port, b"p:").unwrap();
        c.queue_set(7, b"abc", 0);
        c.queue_delete(8);
        c.queue_set(9, b"z", 5);
        assert_eq!(c.queued(), 3);
        let mut hits = Vec::new();
        let acks = c.round_trip(&[1, 22, 3], |k| hits.push(k)).unwrap();
        assert_eq!(hits, vec![22, 3]);
        assert_eq!(
            acks,
            Acks {
                stored: 1,
                refused: 1,
                deleted: 1
            }
        );
        assert_eq!(c.queued(), 0);
        h.join().unwrap();
    }

    #[test]
    fn unexpected_replies_are_errors() {
        let (port, h) = fake(b"get p:1\r\n", b"ERROR\r\n");
        let mut c = Conn::open("127.0.0.1", port, b"p:").unwrap();
        let e = c.round_trip(&[1], |_| {}).unwrap_err();
        assert!(
            e.to_string().contains("unexpected reply 'ERROR' to a get"),
            "{e}"
        );
        h.join().unwrap();
        let (port, h) = fake(b"get p:1\r\n", b"VALUE p:1 0 10\r\nshort");
        let mut c = Conn::open("127.0.0.1", port, b"p:").unwrap();
        let e = c.round_trip(&[1], |_| {}).unwrap_err();
        h.join().unwrap();
        assert!(
            e.to_string().contains("closed in the middle of a value"),
            "{e}"
        );
    }

    #[test]
    fn a_server_that_is_not_memcached_is_named() {
        let (port, h) = fake_as(b"-ERR unknown command 'version'\r\n", b"", b"");
        let e = Conn::open("127.0.0.1", port, b"p:").err().unwrap();
        assert!(e.to_string().contains("is it a memcached?"), "{e}");
        h.join().unwrap();
    }
}
