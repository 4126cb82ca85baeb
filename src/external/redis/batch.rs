//! The commands of a batch, encoded once: the run's keys (prefix + decimal
//! key) written inside their RESP `GET`s, so that a pipeline of gets goes to
//! the socket as one copy of one buffer; and the one rule for which error
//! replies end a run.

use super::cluster::CmdBatch;
use super::resp::{digits, itoa, itoa_into, Conn, Light, RespError};
use crate::request::Key;

/// What a batch command does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Get,
    /// `SET` of a value of this many bytes, with this `PX` in milliseconds
    /// (0: the run's, [`Ops::px`]).
    Set(u32, u64),
    Del,
}

/// The keys of a batch, `prefix` + decimal key, in one buffer, each stored
/// inside its RESP-encoded `GET` (`*2\r\n$3\r\nGET\r\n$<length>\r\n<key>\r\n`):
/// a batch of gets is then the buffer as it is, one copy for the whole
/// pipeline.
pub(super) struct KeyBuf {
    /// The command up to the key's digits for keys of `d` digits, at index
    /// `d`, zero-padded to at least [`HEAD_COPY`] bytes.
    heads: Vec<Vec<u8>>,
    head_lens: Vec<usize>,
    prefix_len: usize,
    /// `buf[..len]` holds the commands; the rest is room to write ahead.
    buf: Vec<u8>,
    len: usize,
    /// Per key: where its command starts, where the key starts, where the
    /// command ends.
    pub(super) spans: Vec<(usize, usize, usize)>,
}

/// A command's head is copied as this many bytes (a fixed-size copy is a
/// few vector moves, a call to `memcpy` costs more than the copy).
const HEAD_COPY: usize = 64;

impl KeyBuf {
    pub(super) fn new(prefix: &[u8]) -> KeyBuf {
        let mut heads = Vec::new();
        let mut head_lens = Vec::new();
        for d in 0..=20 {
            let mut h = format!("*2\r\n$3\r\nGET\r\n${}\r\n", prefix.len() + d).into_bytes();
            h.extend_from_slice(prefix);
            head_lens.push(h.len());
            h.resize(h.len().max(HEAD_COPY), 0);
            heads.push(h);
        }
        KeyBuf {
            heads,
            head_lens,
            prefix_len: prefix.len(),
            buf: Vec::new(),
            len: 0,
            spans: Vec::new(),
        }
    }

    pub(super) fn clear(&mut self) {
        self.len = 0;
        self.spans.clear();
    }

    #[inline]
    pub(super) fn push(&mut self, key: Key) -> u32 {
        let n = digits(key);
        let (head, head_len) = (&self.heads[n], self.head_lens[n]);
        let start = self.len;
        let copy = head.len();
        if self.buf.len() < start + copy + 22 {
            self.buf.resize((start + copy + 22) * 2, 0);
        }
        // The head with its padding; the digits then overwrite the padding.
        if copy == HEAD_COPY {
            self.buf[start..start + HEAD_COPY].copy_from_slice(&head[..HEAD_COPY]);
        } else {
            self.buf[start..start + copy].copy_from_slice(head);
        }
        let k = start + head_len;
        itoa_into(key, &mut self.buf[k..k + n]);
        self.buf[k + n..k + n + 2].copy_from_slice(b"\r\n");
        self.len = k + n + 2;
        self.spans.push((start, k - self.prefix_len, self.len));
        (self.spans.len() - 1) as u32
    }

    /// The commands, one `GET` per key.
    pub(super) fn cmds(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Key `i`.
    #[inline]
    pub(super) fn get(&self, i: u32) -> &[u8] {
        let (_, k, e) = self.spans[i as usize];
        &self.buf[k..e - 2]
    }

    /// `GET` of key `i`, RESP-encoded.
    #[inline]
    pub(super) fn get_cmd(&self, i: u32) -> &[u8] {
        let (s, _, e) = self.spans[i as usize];
        &self.buf[s..e]
    }
}

/// A batch of commands over a [`KeyBuf`].
pub(super) struct Ops<'a> {
    pub keys: &'a KeyBuf,
    pub items: &'a [(u32, Kind)],
    pub value: &'a [u8],
    pub px: Option<&'a [u8]>,
}

impl CmdBatch for Ops<'_> {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn key(&self, i: usize) -> &[u8] {
        self.keys.get(self.items[i].0)
    }
    #[inline]
    fn write(&self, i: usize, c: &mut Conn) {
        let (k, kind) = self.items[i];
        match kind {
            Kind::Get => c.push_encoded(self.keys.get_cmd(k), 1),
            Kind::Set(size, px_ms) => {
                let key = self.keys.get(k);
                let v = &self.value[..size as usize];
                let mut digits = [0u8; 20];
                let px = match px_ms {
                    0 => self.px,
                    ms => Some(itoa(ms, &mut digits)),
                };
                match px {
                    Some(px) => c.push(&[b"SET", key, v, b"PX", px]),
                    None => c.push(&[b"SET", key, v]),
                }
            }
            Kind::Del => c.push(&[b"UNLINK", self.keys.get(k)]),
        }
    }
}

/// How many replies of `out` are `-OOM`: writes the server refused.
pub(super) fn refused(out: &[Result<Light, RespError>]) -> u64 {
    out.iter()
        .filter(|r| r.as_ref().is_err_and(RespError::is_oom))
        .count() as u64
}

/// The first error reply in `out` that ends the run (`-OOM` does not: the
/// value is simply not cached).
pub(super) fn check(out: &[Result<Light, RespError>]) -> Result<(), RespError> {
    match out
        .iter()
        .find_map(|r| r.as_ref().err().filter(|e| !e.is_oom()))
    {
        Some(e) => Err(e.clone()),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_prefix() {
        let mut kb = KeyBuf::new(b"cachesim:r:");
        assert_eq!(kb.push(42), 0);
        assert_eq!(kb.push(7), 1);
        assert_eq!(kb.push(u64::MAX), 2);
        assert_eq!(kb.get(0), b"cachesim:r:42");
        assert_eq!(kb.get(1), b"cachesim:r:7");
        assert_eq!(kb.get(2), b"cachesim:r:18446744073709551615");
        assert_eq!(kb.get_cmd(1), b"*2\r\n$3\r\nGET\r\n$12\r\ncachesim:r:7\r\n");
        // The buffer is the batch's pipeline of GETs.
        let mut pipeline = String::new();
        for k in [42u64, 7, u64::MAX] {
            let key = format!("cachesim:r:{k}");
            pipeline += &format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len());
        }
        assert_eq!(kb.cmds(), pipeline.as_bytes());
    }
}
