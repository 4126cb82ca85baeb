//! How cachesim reaches a server: `HOST[:PORT]` as URLs write it (an IPv6
//! address in brackets, `[::1]:6379`), a TCP connection made within a
//! timeout, and the [`Stream`] the protocol clients read and write, plain or
//! TLS ([`super::tls`]), so their reading and writing code is the same for
//! both.

use super::tls::TlsStream;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long connecting, and the server's first reply on a new connection
/// (a TLS handshake, PostgreSQL's startup, the first Redis reply), may take.
pub(crate) const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// Splits `HOST[:PORT]` (`[V6ADDR][:PORT]` for an IPv6 address) into the
/// host, without brackets, and the port (`default` when none is written).
pub(crate) fn host_port(s: &str, default: u16) -> Result<(String, u16), String> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("'{s}' has no ']' after the IPv6 address"))?;
        match after {
            "" => (h, None),
            p => match p.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return Err(format!("'{after}' after ']' is not ':PORT'")),
            },
        }
    } else {
        match s.rsplit_once(':') {
            Some((h, _)) if h.contains(':') => {
                return Err(format!(
                    "'{s}' has several ':'; write an IPv6 address in brackets, [::1]:PORT"
                ))
            }
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("port '{p}' is not a number"))?,
        None => default,
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    Ok((host.to_string(), port))
}

/// `host:port` as a URL writes it: an IPv6 address in brackets.
pub(crate) fn show_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// A connection to a server: plain TCP, or TLS over it.
pub(crate) enum Stream {
    /// Plain TCP.
    Plain(TcpStream),
    /// TLS over TCP (boxed: the TLS state is large).
    Tls(Box<TlsStream>),
}

impl Stream {
    /// Connects to `host:port`, trying each of its addresses for at most
    /// `timeout`; reads and writes time out after [`ANSWER_TIMEOUT`] until
    /// [`Stream::answered`].
    pub(crate) fn connect(host: &str, port: u16, timeout: Duration) -> Result<Stream, String> {
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve {}: {e}", show_host_port(host, port)))?
            .collect();
        let mut last = String::from("no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    s.set_nodelay(true).ok();
                    s.set_read_timeout(Some(ANSWER_TIMEOUT)).ok();
                    s.set_write_timeout(Some(ANSWER_TIMEOUT)).ok();
                    return Ok(Stream::Plain(s));
                }
                Err(e) => last = e.to_string(),
            }
        }
        Err(last)
    }

    /// The TCP connection underneath.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(t) => t.get_ref(),
        }
    }

    /// The server has answered: from now on a reply may take `timeout`.
    pub(crate) fn answered(&self, timeout: Duration) {
        let s = self.tcp();
        s.set_read_timeout(Some(timeout)).ok();
        s.set_write_timeout(Some(timeout)).ok();
    }
}

/// Whether `e` is a read or write that timed out (the server said nothing).
pub(crate) fn timed_out(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// What a failed read or write means: a timeout after `waited` says the
/// server did not answer.
pub(crate) fn io_failure(e: &io::Error, waited: Duration) -> String {
    if timed_out(e) {
        format!("the server did not answer within {} s", waited.as_secs())
    } else {
        format!("connection lost: {e}")
    }
}

impl Read for Stream {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(t) => t.read(buf),
        }
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(t) => t.write(buf),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(buf),
            // rustls buffers the records; flushing sends them.
            Stream::Tls(t) => {
                t.write_all(buf)?;
                t.flush()
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(t) => t.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_takes_bracketed_ipv6() {
        let ok = |s: &str| host_port(s, 7).unwrap();
        assert_eq!(ok("db.local:6380"), ("db.local".into(), 6380));
        assert_eq!(ok("db.local"), ("db.local".into(), 7));
        assert_eq!(ok("[::1]:6380"), ("::1".into(), 6380));
        assert_eq!(ok("[::1]"), ("::1".into(), 7));
        assert_eq!(ok("[fe80::1%lo]:1"), ("fe80::1%lo".into(), 1));
        for (bad, why) in [
            ("[::1", "no ']'"),
            ("[::1]x", "not ':PORT'"),
            ("::1:6379", "in brackets"),
            ("h:port", "port 'port'"),
            (":6379", "no host"),
            ("[]:1", "no host"),
        ] {
            let e = host_port(bad, 7).unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert_eq!(show_host_port("::1", 5), "[::1]:5");
        assert_eq!(show_host_port("h", 5), "h:5");
    }
}
