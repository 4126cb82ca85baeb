//! Where a Redis server is: `redis://`, `rediss://` (TLS) and
//! `redis+cluster://` URLs, parsed with messages that say what is accepted,
//! and shown without the password (every error of a Redis run names the
//! server this way).

use crate::external::net::{host_port, show_host_port};
use crate::external::tls::{Roots, Tls};
use std::path::Path;

pub(crate) const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Single { host: String, port: u16, db: u32 },
    Cluster { nodes: Vec<(String, u16)> },
}

/// A parsed `redis[s]://[[user]:password@]host[:port][/db]` or
/// `redis[s]+cluster://[[user]:password@]host:port,host:port,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub target: Target,
    pub user: Option<String>,
    pub password: Option<String>,
    /// TLS (`rediss://`): the certificate must name the host and chain to
    /// `--tls-ca`, or to the system's CAs.
    pub tls: Option<Tls>,
}

impl RedisUrl {
    pub(crate) const ACCEPTED: &'static str =
        "expected redis[s]://[:PASSWORD@]HOST[:PORT][/DB] or redis[s]+cluster://HOST:PORT,HOST:PORT,...";

    pub(crate) fn parse(url: &str) -> Result<RedisUrl, String> {
        let bad = |why: &str| format!("invalid Redis URL '{url}': {why}; {}", RedisUrl::ACCEPTED);
        let (scheme, rest) = url.split_once("://").ok_or_else(|| bad("unknown scheme"))?;
        let (cluster, tls) = match scheme {
            "redis" => (false, false),
            "rediss" => (false, true),
            "redis+cluster" => (true, false),
            "rediss+cluster" => (true, true),
            _ => return Err(bad("unknown scheme")),
        };
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        if let Some(p) = query.split('&').find(|p| !p.is_empty()) {
            let name = p.split_once('=').map_or(p, |(n, _)| n);
            return Err(bad(&format!(
                "unknown parameter '{name}' (a Redis URL takes none; the CA file of rediss:// is --tls-ca)"
            )));
        }
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (user, password) = credentials(auth);
        let (hosts, db) = match hostpart.split_once('/') {
            Some((h, d)) if !d.is_empty() => (
                h,
                d.parse::<u32>()
                    .map_err(|_| bad(&format!("database '{d}' is not a number")))?,
            ),
            Some((h, _)) => (h, 0),
            None => (hostpart, 0),
        };
        let mut nodes = Vec::new();
        for hp in hosts.split(',') {
            nodes.push(host_port(hp, 6379).map_err(|e| bad(&e))?);
        }
        let target = if cluster {
            if db != 0 {
                return Err(bad("a cluster has only database 0"));
            }
            Target::Cluster { nodes }
        } else {
            if nodes.len() != 1 {
                return Err(bad("several hosts need redis+cluster://"));
            }
            let (host, port) = nodes.pop().expect("one node");
            Target::Single { host, port, db }
        };
        Ok(RedisUrl {
            target,
            user,
            password,
            tls: tls.then(|| Tls::full(None)),
        })
    }

    /// Trusts the CAs of PEM file `ca` (`--tls-ca`) instead of the
    /// system's; `false` when the URL has no TLS.
    pub(crate) fn trust(&mut self, ca: &Path) -> bool {
        match &mut self.tls {
            Some(t) => {
                t.roots = Roots::File(ca.to_path_buf());
                true
            }
            None => false,
        }
    }

    /// The URL without the password.
    /// Whether it names a cluster (`redis+cluster://`).
    pub(crate) fn is_cluster(&self) -> bool {
        matches!(self.target, Target::Cluster { .. })
    }

    pub(crate) fn display(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let s = if self.tls.is_some() { "s" } else { "" };
        match &self.target {
            Target::Single { host, port, db } => {
                format!("redis{s}://{user}{}/{db}", show_host_port(host, *port))
            }
            Target::Cluster { nodes } => format!(
                "redis{s}+cluster://{user}{}",
                nodes
                    .iter()
                    .map(|(h, p)| show_host_port(h, *p))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        }
    }

    pub(super) fn private(port: u16) -> RedisUrl {
        RedisUrl {
            target: Target::Single {
                host: "127.0.0.1".into(),
                port,
                db: 0,
            },
            user: None,
            password: None,
            tls: None,
        }
    }
}

/// The user and password of `[[user]:password@]`.
fn credentials(auth: Option<&str>) -> (Option<String>, Option<String>) {
    match auth {
        None => (None, None),
        Some(a) => match a.split_once(':') {
            Some((u, p)) => ((!u.is_empty()).then(|| u.to_string()), Some(p.to_string())),
            None => (None, Some(a.to_string())),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let u = RedisUrl::parse("redis://:pw@db.local:6380/9").unwrap();
        assert_eq!(
            u.target,
            Target::Single {
                host: "db.local".into(),
                port: 6380,
                db: 9
            }
        );
        assert_eq!(
            (u.user.as_deref(), u.password.as_deref()),
            (None, Some("pw"))
        );
        assert_eq!(u.display(), "redis://db.local:6380/9");
        let u = RedisUrl::parse("redis://127.0.0.1").unwrap();
        assert_eq!(u.display(), "redis://127.0.0.1:6379/0");
        let u = RedisUrl::parse("redis+cluster://127.0.0.1:7000,127.0.0.1:7001").unwrap();
        assert_eq!(
            u.target,
            Target::Cluster {
                nodes: vec![("127.0.0.1".into(), 7000), ("127.0.0.1".into(), 7001)]
            }
        );
        for bad in [
            "http://x",
            "redis://h:port/0",
            "redis://h/x",
            "redis://a:1,b:2",
            "redis+cluster://a:1/3",
            "redis://::1:6379/0",
            "redis://[::1/0",
            "rediss://h:6379/0?foo=1",
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("redis[s]://"), "{e}");
        }
    }

    /// `rediss://` is TLS with full verification (system CAs until
    /// `--tls-ca`), IPv6 hosts are written in brackets, and a parameter is
    /// refused by name.
    #[test]
    fn parses_tls_ipv6_and_refuses_parameters() {
        let mut u = RedisUrl::parse("rediss://:pw@[::1]:6390/2").unwrap();
        assert_eq!(
            u.target,
            Target::Single {
                host: "::1".into(),
                port: 6390,
                db: 2
            }
        );
        assert_eq!(u.tls, Some(Tls::full(None)));
        assert_eq!(u.display(), "rediss://[::1]:6390/2");
        assert!(u.trust(Path::new("ca.pem")));
        assert_eq!(u.tls, Some(Tls::full(Some(Path::new("ca.pem")))));
        let mut plain = RedisUrl::parse("redis://[::1]").unwrap();
        assert_eq!(plain.display(), "redis://[::1]:6379/0");
        assert!(!plain.trust(Path::new("ca.pem")) && plain.tls.is_none());
        let c = RedisUrl::parse("rediss+cluster://[::1]:7000,h:7001").unwrap();
        assert!(c.tls.is_some());
        assert_eq!(c.display(), "rediss+cluster://[::1]:7000,h:7001");
        let e = RedisUrl::parse("redis://h/0?foo=1&bar=2").unwrap_err();
        assert!(e.contains("unknown parameter 'foo'"), "{e}");
    }
}
