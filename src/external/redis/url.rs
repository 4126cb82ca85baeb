//! Where a Redis server is: `redis://` and `redis+cluster://` URLs, parsed
//! with messages that say what is accepted, and shown without the password
//! (every error of a Redis run names the server this way).

pub(crate) const DEFAULT_URL: &str = "redis://127.0.0.1:6379/0";

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Single { host: String, port: u16, db: u32 },
    Cluster { nodes: Vec<(String, u16)> },
}

/// A parsed `redis://[[user]:password@]host[:port][/db]` or
/// `redis+cluster://[[user]:password@]host:port,host:port,...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub target: Target,
    pub user: Option<String>,
    pub password: Option<String>,
}

impl RedisUrl {
    pub(crate) const ACCEPTED: &'static str =
        "expected redis://[:PASSWORD@]HOST[:PORT][/DB] or redis+cluster://HOST:PORT,HOST:PORT,...";

    pub(crate) fn parse(url: &str) -> Result<RedisUrl, String> {
        let bad = |why: &str| format!("invalid Redis URL '{url}': {why}; {}", RedisUrl::ACCEPTED);
        let (cluster, rest) = if let Some(r) = url.strip_prefix("redis+cluster://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("redis://") {
            (false, r)
        } else {
            return Err(bad("unknown scheme"));
        };
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
        let mut nodes = nodes(hosts, &bad)?;
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
        })
    }

    /// The URL without the password.
    pub(crate) fn display(&self) -> String {
        let user = self
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        match &self.target {
            Target::Single { host, port, db } => format!("redis://{user}{host}:{port}/{db}"),
            Target::Cluster { nodes } => format!(
                "redis+cluster://{user}{}",
                nodes
                    .iter()
                    .map(|(h, p)| format!("{h}:{p}"))
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

/// The `host[:port]` list of `hosts`, comma-separated (`bad` words an
/// error).
fn nodes(hosts: &str, bad: &dyn Fn(&str) -> String) -> Result<Vec<(String, u16)>, String> {
    let mut nodes = Vec::new();
    for hp in hosts.split(',') {
        let (h, p) = match hp.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| bad(&format!("port '{p}' is not a number")))?,
            ),
            None => (hp, 6379),
        };
        if h.is_empty() {
            return Err(bad("no host"));
        }
        nodes.push((h.to_string(), p));
    }
    Ok(nodes)
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
        ] {
            let e = RedisUrl::parse(bad).unwrap_err();
            assert!(e.contains(bad) && e.contains("redis://"), "{e}");
        }
    }
}
