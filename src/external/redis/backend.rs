//! One server or a cluster behind one interface: every part of a run (the
//! clients, the fleet cache, prefill, counting and cleaning up the run's
//! keys) talks to a [`Backend`] and does not care which it is.

use super::batch::{KeyBuf, Kind, Ops};
use super::cluster::{ClusterClient, CmdBatch};
use super::resp::{self, Conn, Light, RespError};
use super::url::{RedisUrl, Target};
use crate::request::Key;

/// One connection, or one per cluster master.
pub(super) enum Backend {
    Single(Conn),
    Cluster(ClusterClient),
}

impl Backend {
    pub(super) fn connect(url: &RedisUrl) -> Result<Backend, RespError> {
        let (u, p) = (url.user.as_deref(), url.password.as_deref());
        Ok(match &url.target {
            Target::Single { host, port, db } => {
                let mut c = Conn::open(host, *port, url.tls.as_ref())?;
                c.login(u, p, *db)?;
                Backend::Single(c)
            }
            Target::Cluster { nodes } => {
                let tls = url.tls.clone();
                Backend::Cluster(ClusterClient::connect_tls(nodes, u, p, tls)?)
            }
        })
    }

    pub(super) fn ping(&mut self) -> Result<(), RespError> {
        match self {
            Backend::Single(c) => c.cmd(&["PING"]).map(|_| ()),
            Backend::Cluster(cl) => {
                for n in cl.masters() {
                    cl.conn(n).cmd(&["PING"])?;
                }
                Ok(())
            }
        }
    }

    /// Runs a batch (pipelined), one reply per command in `out`.
    #[inline]
    pub(super) fn exec<C: CmdBatch>(
        &mut self,
        cmds: &C,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        self.send(cmds, out)?;
        self.recv(cmds.len(), out)
    }

    /// Runs one command on `key` (pushed on `kb`), its reply in `out`.
    pub(super) fn exec_one(
        &mut self,
        kb: &mut KeyBuf,
        (key, kind): (Key, Kind),
        value: &[u8],
        px: Option<&[u8]>,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        let items = [(kb.push(key), kind)];
        let ops = Ops {
            keys: kb,
            items: &items,
            value,
            px,
        };
        self.exec(&ops, out)
    }

    /// Sends a batch without waiting for its replies, which [`Backend::recv`]
    /// then reads. (A cluster batch is split over masters and may be
    /// redirected, so it runs in full here, and `recv` has nothing to do.)
    #[inline]
    pub(super) fn send<C: CmdBatch>(
        &mut self,
        cmds: &C,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        match self {
            Backend::Single(c) => {
                for i in 0..cmds.len() {
                    cmds.write(i, c);
                }
                c.flush()
            }
            Backend::Cluster(cl) => cl.run(cmds, out),
        }
    }

    /// Reads the `n` replies of the batch sent last into `out`.
    #[inline]
    pub(super) fn recv(
        &mut self,
        n: usize,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        match self {
            Backend::Single(c) => {
                out.clear();
                for _ in 0..n {
                    match c.read_light() {
                        Err(e) if e.is_fatal() => return Err(e),
                        r => out.push(r),
                    }
                }
                Ok(())
            }
            Backend::Cluster(_) => Ok(()),
        }
    }

    /// The sum of an `INFO` field over the server or every master.
    pub(super) fn info_sum(&mut self, section: &str, field: &str) -> Result<i64, RespError> {
        match self {
            Backend::Single(c) => c.info_field(section, field),
            Backend::Cluster(cl) => {
                let mut s = 0;
                for n in cl.masters() {
                    s += cl.conn(n).info_field(section, field)?;
                }
                Ok(s)
            }
        }
    }

    /// The connections to scan: the server, or every master.
    fn conn_ids(&self) -> Vec<usize> {
        match self {
            Backend::Single(_) => vec![0],
            Backend::Cluster(cl) => cl.masters(),
        }
    }

    pub(super) fn conn_at(&mut self, i: usize) -> &mut Conn {
        match self {
            Backend::Single(c) => c,
            Backend::Cluster(cl) => cl.conn(i),
        }
    }

    /// Deletes every key matching `prefix*` (SCAN + UNLINK on each master).
    pub(super) fn delete_prefix(&mut self, prefix: &[u8]) -> Result<u64, RespError> {
        self.scan_prefix(prefix, true)
    }

    /// Counts (`unlink`: deletes, counting what was deleted) every key
    /// matching `prefix*`, by SCAN on each master.
    pub(super) fn scan_prefix(&mut self, prefix: &[u8], unlink: bool) -> Result<u64, RespError> {
        let mut pattern = prefix.to_vec();
        pattern.push(b'*');
        let mut deleted = 0;
        // A key of a slot being imported is only served after `ASKING`
        // (mid-resharding); elsewhere ASKING is a no-op.
        let asking = matches!(self, Backend::Cluster(_));
        for id in self.conn_ids() {
            let c = self.conn_at(id);
            let mut cursor = b"0".to_vec();
            loop {
                let v = c.query(&[b"SCAN", &cursor, b"MATCH", &pattern, b"COUNT", b"1000"])?;
                let resp::Value::Array(mut parts) = v else {
                    return Err(RespError::Protocol("SCAN reply is not an array".into()));
                };
                let keys = match parts.pop() {
                    Some(resp::Value::Array(k)) => k,
                    _ => return Err(RespError::Protocol("SCAN reply has no keys".into())),
                };
                cursor = match parts.pop() {
                    Some(resp::Value::Bulk(b)) => b,
                    _ => return Err(RespError::Protocol("SCAN reply has no cursor".into())),
                };
                for k in keys {
                    if let resp::Value::Bulk(k) = k {
                        // Only ever keys under the run's prefix.
                        if k.starts_with(prefix) {
                            if unlink {
                                if asking {
                                    c.push(&[b"ASKING"]);
                                }
                                c.push(&[b"UNLINK", &k]);
                            } else {
                                deleted += 1;
                            }
                        }
                    }
                }
                let q = c.queued();
                c.flush()?;
                for _ in 0..q {
                    if let Light::Int(d) = c.read_light()? {
                        deleted += d as u64;
                    }
                }
                if cursor == b"0" {
                    break;
                }
            }
        }
        Ok(deleted)
    }
}
