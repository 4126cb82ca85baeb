//! A minimal Redis Cluster client on top of [`super::resp`]: enough to spread
//! a run's keys over a cluster's masters and follow it when slots move.
//!
//! - At connect, `CLUSTER SLOTS` from the first seed node that answers gives
//!   the slot map (16384 hash slots, each owned by one master).
//! - A key's slot is CRC16-XMODEM of the key (or of its `{hash tag}`, the
//!   part between the first `{` and the next `}` when non-empty) mod 16384,
//!   as in the Redis Cluster specification.
//! - One connection per master; a batch of commands is split by master, each
//!   part pipelined on its connection, replies put back in request order.
//! - A `-MOVED slot host:port` reply refreshes the slot map and retries the
//!   command on the new owner; `-ASK slot host:port` sends `ASKING` and the
//!   command to that node once (a slot being migrated). At most
//!   [`MAX_REDIRECTS`] redirections per command.

use super::resp::{Conn, Light, RespError, Value};
use crate::external::net::show_host_port;
use crate::external::tls::Tls;

pub(crate) const SLOTS: usize = 16384;
pub(crate) const MAX_REDIRECTS: usize = 5;

/// CRC16-XMODEM (polynomial 0x1021, initial value 0), bit by bit: keys are
/// short and the table would be 512 bytes of constants for little gain.
pub(crate) fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The hash slot of `key`, honouring `{hash tags}`.
pub fn key_slot(key: &[u8]) -> u16 {
    let mut k = key;
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        if let Some(len) = key[open + 1..].iter().position(|&b| b == b'}') {
            if len > 0 {
                k = &key[open + 1..open + 1 + len];
            }
        }
    }
    crc16(k) % SLOTS as u16
}

/// A batch of single-key commands: command `i`'s key, and how to queue it.
pub trait CmdBatch {
    /// Number of commands in the batch.
    fn len(&self) -> usize;
    /// Whether the batch holds no command.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The key of command `i`, which decides the master it goes to.
    fn key(&self, i: usize) -> &[u8];
    /// Queues command `i` on `c`.
    fn write(&self, i: usize, c: &mut Conn);
}

/// A connection to every master of a cluster.
pub struct ClusterClient {
    seeds: Vec<(String, u16)>,
    user: Option<String>,
    password: Option<String>,
    /// TLS for every node (`rediss+cluster://`).
    tls: Option<Tls>,
    /// Index into `nodes` for each slot (`u16::MAX`: unassigned).
    slots: Vec<u16>,
    nodes: Vec<Conn>,
    /// Per node, the batch positions queued on it, in order.
    routed: Vec<Vec<u32>>,
    redirects: Vec<(u32, String)>,
}

fn parse_redirect(msg: &str) -> Option<(bool, String)> {
    let mut it = msg.split_whitespace();
    let kind = it.next()?;
    let _slot = it.next()?;
    let addr = it.next()?.to_string();
    match kind {
        "MOVED" => Some((false, addr)),
        "ASK" => Some((true, addr)),
        _ => None,
    }
}

/// The host and port of a node address: `host:port` (an IPv6 address
/// bare, as in `MOVED` replies, or in brackets, as [`Conn::addr`] has it).
fn split_addr(addr: &str) -> Result<(String, u16), RespError> {
    let (h, p) = addr
        .rsplit_once(':')
        .ok_or_else(|| RespError::Protocol(format!("bad node address '{addr}'")))?;
    let p = p
        .parse()
        .map_err(|_| RespError::Protocol(format!("bad node address '{addr}'")))?;
    let h = h
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(h);
    Ok((h.to_string(), p))
}

impl ClusterClient {
    /// Connects to the cluster: loads the slot map from the first of `seeds`
    /// (host, port) that answers, then opens one connection per master,
    /// authenticating with `user` and `password` when given.
    pub fn connect(
        seeds: &[(String, u16)],
        user: Option<&str>,
        password: Option<&str>,
    ) -> Result<ClusterClient, RespError> {
        ClusterClient::connect_tls(seeds, user, password, None)
    }

    /// [`ClusterClient::connect`], with TLS to every node when `tls` is
    /// given.
    pub(crate) fn connect_tls(
        seeds: &[(String, u16)],
        user: Option<&str>,
        password: Option<&str>,
        tls: Option<Tls>,
    ) -> Result<ClusterClient, RespError> {
        let mut c = ClusterClient {
            seeds: seeds.to_vec(),
            user: user.map(str::to_string),
            password: password.map(str::to_string),
            tls,
            slots: vec![u16::MAX; SLOTS],
            nodes: Vec::new(),
            routed: Vec::new(),
            redirects: Vec::new(),
        };
        c.refresh()?;
        Ok(c)
    }

    fn open(&self, host: &str, port: u16) -> Result<Conn, RespError> {
        let mut c = Conn::open(host, port, self.tls.as_ref())?;
        c.login(self.user.as_deref(), self.password.as_deref(), 0)?;
        Ok(c)
    }

    /// Index of the node at `host:port`, connecting if new.
    fn node(&mut self, host: &str, port: u16) -> Result<usize, RespError> {
        let addr = show_host_port(host, port);
        if let Some(i) = self.nodes.iter().position(|n| n.addr == addr) {
            return Ok(i);
        }
        let c = self.open(host, port)?;
        self.nodes.push(c);
        self.routed.push(Vec::new());
        Ok(self.nodes.len() - 1)
    }

    /// Reloads the slot map with `CLUSTER SLOTS` from a known node or a seed.
    pub(crate) fn refresh(&mut self) -> Result<(), RespError> {
        let mut candidates: Vec<(String, u16)> = Vec::new();
        for n in &self.nodes {
            if let Ok(a) = split_addr(&n.addr) {
                candidates.push(a);
            }
        }
        candidates.extend(self.seeds.iter().cloned());
        let mut last = RespError::Io("no seed node".into());
        for (h, p) in candidates {
            let reply = match self.node(&h, p) {
                Ok(i) => self.nodes[i].cmd(&["CLUSTER", "SLOTS"]),
                Err(e) => Err(e),
            };
            match reply {
                Ok(Value::Array(ranges)) => return self.load(&ranges, &h),
                Ok(other) => last = RespError::Protocol(format!("CLUSTER SLOTS: {other:?}")),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn load(&mut self, ranges: &[Value], via_host: &str) -> Result<(), RespError> {
        let mut slots = vec![u16::MAX; SLOTS];
        for r in ranges {
            let Value::Array(f) = r else { continue };
            let (Some(a), Some(b), Some(Value::Array(master))) = (
                f.first().and_then(Value::as_int),
                f.get(1).and_then(Value::as_int),
                f.get(2),
            ) else {
                return Err(RespError::Protocol("malformed CLUSTER SLOTS entry".into()));
            };
            let host = master.first().and_then(Value::text).unwrap_or_default();
            // An empty host means "the node you asked".
            let host = if host.is_empty() || host == "?" {
                via_host.to_string()
            } else {
                host
            };
            let port = master.get(1).and_then(Value::as_int).unwrap_or(0) as u16;
            let idx = self.node(&host, port)? as u16;
            let (lo, hi) = (a.max(0) as usize, (b.max(0) as usize).min(SLOTS - 1));
            if lo <= hi {
                slots[lo..=hi].fill(idx);
            }
        }
        if let Some(s) = slots.iter().position(|&n| n == u16::MAX) {
            return Err(RespError::Server(format!(
                "the cluster does not cover every hash slot (slot {s} has no master)"
            )));
        }
        self.slots = slots;
        Ok(())
    }

    /// Addresses of the masters that own slots.
    pub(crate) fn masters(&self) -> Vec<usize> {
        let mut v: Vec<usize> = self.slots.iter().map(|&n| n as usize).collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Points every slot at node `i`, as a stale map would: for tests of
    /// the `MOVED` path.
    #[doc(hidden)]
    pub fn route_all_to(&mut self, i: usize) {
        self.slots.fill(i as u16);
    }

    /// The node that owns `key`'s slot, as `host:port`.
    pub fn owner(&self, key: &[u8]) -> &str {
        &self.nodes[self.slots[key_slot(key) as usize] as usize].addr
    }

    /// The connection to node `i`.
    pub(crate) fn conn(&mut self, i: usize) -> &mut Conn {
        &mut self.nodes[i]
    }

    /// Runs `cmds` (pipelined per master) and puts each reply in `out`
    /// (`out[i]` for `cmds[i]`), following redirections.
    pub fn run<C: CmdBatch + ?Sized>(
        &mut self,
        cmds: &C,
        out: &mut Vec<Result<Light, RespError>>,
    ) -> Result<(), RespError> {
        out.clear();
        out.resize(cmds.len(), Ok(Light::Nil));
        for r in &mut self.routed {
            r.clear();
        }
        for i in 0..cmds.len() {
            let n = self.slots[key_slot(cmds.key(i)) as usize] as usize;
            cmds.write(i, &mut self.nodes[n]);
            self.routed[n].push(i as u32);
        }
        for n in 0..self.nodes.len() {
            if !self.routed[n].is_empty() {
                self.nodes[n].flush()?;
            }
        }
        self.redirects.clear();
        for n in 0..self.nodes.len() {
            for j in 0..self.routed[n].len() {
                let i = self.routed[n][j];
                match self.nodes[n].read_light() {
                    Ok(l) => out[i as usize] = Ok(l),
                    Err(RespError::Server(m)) => {
                        if m.starts_with("MOVED ") || m.starts_with("ASK ") {
                            self.redirects.push((i, m));
                        } else {
                            out[i as usize] = Err(RespError::Server(m));
                        }
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        if self.redirects.is_empty() {
            return Ok(());
        }
        let redirects = std::mem::take(&mut self.redirects);
        if redirects.iter().any(|(_, m)| m.starts_with("MOVED ")) {
            self.refresh()?;
        }
        for (i, msg) in &redirects {
            out[*i as usize] = self.one(cmds, *i as usize, msg.clone());
            if let Err(e) = &out[*i as usize] {
                if e.is_fatal() {
                    return Err(e.clone());
                }
            }
        }
        self.redirects = redirects;
        Ok(())
    }

    /// Retries one redirected command.
    fn one<C: CmdBatch + ?Sized>(
        &mut self,
        cmds: &C,
        i: usize,
        mut msg: String,
    ) -> Result<Light, RespError> {
        for _ in 0..MAX_REDIRECTS {
            let (ask, addr) = parse_redirect(&msg)
                .ok_or_else(|| RespError::Protocol(format!("bad redirection '{msg}'")))?;
            let (h, p) = split_addr(&addr)?;
            let n = self.node(&h, p)?;
            let conn = &mut self.nodes[n];
            if ask {
                conn.push(&[b"ASKING"]);
            }
            cmds.write(i, conn);
            conn.flush()?;
            if ask {
                conn.read_light()?;
            }
            match conn.read_light() {
                Err(RespError::Server(m)) if m.starts_with("MOVED ") || m.starts_with("ASK ") => {
                    if m.starts_with("MOVED ") {
                        self.refresh()?;
                    }
                    msg = m;
                }
                r => return r,
            }
        }
        Err(RespError::Server(format!(
            "too many cluster redirections (last: {msg})"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_match_the_cluster_specification() {
        // The specification's check value for CRC16-XMODEM.
        assert_eq!(crc16(b"123456789"), 0x31c3);
        // Values `CLUSTER KEYSLOT` returns.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b"{user1000}.following"), key_slot(b"user1000"));
        assert_eq!(key_slot(b"{user1000}.followers"), key_slot(b"user1000"));
        // An empty tag does not count: the whole key is hashed.
        assert_eq!(key_slot(b"foo{}{bar}"), crc16(b"foo{}{bar}") % 16384);
        assert_eq!(key_slot(b"foo{{bar}}zap"), key_slot(b"{bar"));
    }

    #[test]
    fn parses_redirections() {
        assert_eq!(
            parse_redirect("MOVED 3999 127.0.0.1:6381"),
            Some((false, "127.0.0.1:6381".into()))
        );
        assert_eq!(
            parse_redirect("ASK 3999 127.0.0.1:6381"),
            Some((true, "127.0.0.1:6381".into()))
        );
        assert_eq!(parse_redirect("ERR wrong"), None);
    }
}
