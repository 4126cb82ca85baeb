//! One RESP connection as the simulator's loop's cache speaks to it
//! (`external::remote`): the queued `SET key value [PX ms]` and `UNLINK
//! key` commands, then a batch of `GET`s, in one write; the replies read
//! in order. Keys are the run's prefix + the decimal key.

use super::resp::{itoa, Conn, Light, RespError};
use crate::external::remote::{Acks, KvConn};
use crate::request::Key;

/// What a queued command expects back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Set,
    Unlink,
}

/// A connection and the run's key prefix.
pub(super) struct RedisKv {
    pub(super) conn: Conn,
    prefix: Vec<u8>,
    key: Vec<u8>,
    pending: Vec<Pending>,
}

impl RedisKv {
    pub(super) fn new(conn: Conn, prefix: &[u8]) -> RedisKv {
        RedisKv {
            conn,
            prefix: prefix.to_vec(),
            key: Vec::with_capacity(prefix.len() + 20),
            pending: Vec::new(),
        }
    }

    /// `key` under the prefix, in `self.key`.
    fn name(&mut self, key: Key) {
        let mut d = [0u8; 20];
        self.key.clear();
        self.key.extend_from_slice(&self.prefix);
        self.key.extend_from_slice(itoa(key, &mut d));
    }
}

impl KvConn for RedisKv {
    type Error = RespError;

    fn queue_set(&mut self, key: Key, value: &[u8], ttl_ms: u64) {
        self.name(key);
        if ttl_ms == 0 {
            self.conn.push(&[b"SET", &self.key, value]);
        } else {
            let mut d = [0u8; 20];
            let px = itoa(ttl_ms, &mut d);
            self.conn.push(&[b"SET", &self.key, value, b"PX", px]);
        }
        self.pending.push(Pending::Set);
    }

    fn queue_delete(&mut self, key: Key) {
        self.name(key);
        self.conn.push(&[b"UNLINK", &self.key]);
        self.pending.push(Pending::Unlink);
    }

    /// A `SET` refused with `-OOM` (a full server under `noeviction`) is
    /// counted as refused; any other error reply ends the run.
    fn round_trip(&mut self, keys: &[Key], mut found: impl FnMut(Key)) -> Result<Acks, RespError> {
        for &k in keys {
            self.name(k);
            self.conn.push(&[b"GET", &self.key]);
        }
        self.conn.flush()?;
        let mut acks = Acks::default();
        let pending = std::mem::take(&mut self.pending);
        for p in &pending {
            match (p, self.conn.read_light()) {
                (Pending::Set, Ok(Light::Status)) => acks.stored += 1,
                (Pending::Set, Err(e)) if e.is_oom() => acks.refused += 1,
                (Pending::Unlink, Ok(Light::Int(n))) => acks.deleted += n.max(0) as u64,
                (_, Err(e)) => return Err(e),
                (p, Ok(r)) => {
                    return Err(RespError::Protocol(format!(
                        "unexpected reply {r:?} to {}",
                        if *p == Pending::Set { "SET" } else { "UNLINK" }
                    )))
                }
            }
        }
        self.pending = pending;
        self.pending.clear();
        for &k in keys {
            match self.conn.read_light()? {
                Light::Bulk(_) => found(k),
                Light::Nil => {}
                r => {
                    return Err(RespError::Protocol(format!(
                        "unexpected reply {r:?} to GET"
                    )))
                }
            }
        }
        Ok(acks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    #[test]
    fn queued_writes_go_before_the_gets_and_replies_are_read_in_order() {
        let expect: &[u8] =
            b"*5\r\n$3\r\nSET\r\n$3\r\np:7\r\n$3\r\nabc\r\n$2\r\nPX\r\n$4\r\n1500\r\n\
*2\r\n$6\r\nUNLINK\r\n$3\r\np:8\r\n\
*3\r\n$3\r\nSET\r\n$3\r\np:9\r\n$1\r\nz\r\n\
*2\r\n$3\r\nGET\r\n$3\r\np:1\r\n*2\r\n$3\r\nGET\r\n$4\r\np:22\r\n";
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = vec![0u8; expect.len()];
            s.read_exact(&mut got).unwrap();
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(expect)
            );
            s.write_all(b"+OK\r\n:1\r\n-OOM command not allowed\r\n$-1\r\n$2\r\nhi\r\n")
                .unwrap();
        });
        let mut kv = RedisKv::new(Conn::connect("127.0.0.1", port).unwrap(), b"p:");
        kv.queue_set(7, b"abc", 1500);
        kv.queue_delete(8);
        kv.queue_set(9, b"z", 0);
        let mut hits = Vec::new();
        let acks = kv.round_trip(&[1, 22], |k| hits.push(k)).unwrap();
        assert_eq!(hits, vec![22]);
        assert_eq!(
            acks,
            Acks {
                stored: 1,
                refused: 1,
                deleted: 1
            }
        );
        assert!(kv.pending.is_empty());
        h.join().unwrap();
    }
}
