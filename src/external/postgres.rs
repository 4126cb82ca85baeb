//! A real PostgreSQL as the origin behind the cache: each miss runs
//! `SELECT v FROM cachesim_origin WHERE k = $1` (a prepared statement, over
//! one persistent connection per run) and the measured round trip is the
//! miss's origin time.
//!
//! cachesim owns exactly one table, **`cachesim_origin`** (`k bigint primary
//! key, v bytea`): it creates it if absent and adds the workload's keys (a
//! `u64` key is stored as the `bigint` with the same 64 bits) with values of
//! the workload's sizes (`ON CONFLICT DO NOTHING`, so a second run reuses the
//! table and its rows). It never drops or alters any table, its own included.
//!
//! The client is a small synchronous one over `std::net::TcpStream`, built on
//! the `postgres-protocol` message codec (trust, password, md5 and
//! SCRAM-SHA-256 authentication; no TLS): the full `postgres` crate would bring
//! an async runtime for what is a strictly sequential request loop.

use crate::request::Key;
use crate::sim::backend::OriginBackend;
use crate::sim::latency::{Origin, OriginError};
use crate::sim::runner::RunError;
use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use postgres_protocol::message::{backend::Message, frontend};
use postgres_protocol::IsNull;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// The one table cachesim creates and uses.
pub(crate) const TABLE: &str = "cachesim_origin";

/// Connection settings parsed from `postgres://USER[:PASSWORD]@HOST[:PORT]/DB`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// User to log in as (default: `$USER`, else `postgres`).
    pub user: String,
    /// Password, if the URL has one.
    pub password: Option<String>,
    /// Server host name or address.
    pub host: String,
    /// Server port (default 5432).
    pub port: u16,
    /// Database name (default: the user name).
    pub dbname: String,
}

impl PgConfig {
    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (or `postgresql://`);
    /// the error says what is accepted.
    pub fn parse(url: &str) -> Result<PgConfig, String> {
        let accepted = "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE";
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| format!("invalid origin '{url}': {accepted}"))?;
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (hostport, dbname) = hostpart.split_once('/').unwrap_or((hostpart, ""));
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>().map_err(|_| {
                    format!("invalid origin '{url}': port '{p}' is not a number; {accepted}")
                })?,
            ),
            None => (hostport, 5432),
        };
        if host.is_empty() {
            return Err(format!("invalid origin '{url}': no host; {accepted}"));
        }
        let (user, password) = match auth {
            Some(a) => match a.split_once(':') {
                Some((u, p)) => (u.to_string(), Some(p.to_string())),
                None => (a.to_string(), None),
            },
            None => (
                std::env::var("USER").unwrap_or_else(|_| "postgres".into()),
                None,
            ),
        };
        let dbname = dbname.split('?').next().unwrap_or("").to_string();
        Ok(PgConfig {
            dbname: if dbname.is_empty() {
                user.clone()
            } else {
                dbname
            },
            user,
            password,
            host: host.to_string(),
            port,
        })
    }

    /// The URL without the password, for messages and the `origin` column.
    pub(crate) fn display(&self) -> String {
        format!(
            "postgres://{}@{}:{}/{}",
            self.user, self.host, self.port, self.dbname
        )
    }
}

/// One connection.
pub struct PgConn {
    stream: TcpStream,
    read: BytesMut,
    write: BytesMut,
    url: String,
}

type PgResult<T> = Result<T, String>;

impl PgConn {
    /// Connects and authenticates, giving up after `timeout` per step.
    pub fn connect(cfg: &PgConfig, timeout: Duration) -> PgResult<PgConn> {
        let url = cfg.display();
        let fail = |what: String| format!("cannot connect to PostgreSQL at {url}: {what}");
        let addrs: Vec<_> = (cfg.host.as_str(), cfg.port)
            .to_socket_addrs()
            .map_err(|e| fail(e.to_string()))?
            .collect();
        let mut last = String::from("no address");
        let mut stream = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e.to_string(),
            }
        }
        let stream = stream.ok_or_else(|| fail(last))?;
        stream.set_nodelay(true).ok();
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok();
        let mut c = PgConn {
            stream,
            read: BytesMut::with_capacity(8192),
            write: BytesMut::with_capacity(1024),
            url: url.clone(),
        };
        let params = [
            ("user", cfg.user.as_str()),
            ("database", cfg.dbname.as_str()),
            ("client_encoding", "UTF8"),
        ];
        frontend::startup_message(params.iter().copied(), &mut c.write)
            .map_err(|e| fail(e.to_string()))?;
        c.flush().map_err(fail)?;
        loop {
            match c.next().map_err(fail)? {
                Message::AuthenticationOk => {}
                Message::AuthenticationCleartextPassword => {
                    let pw = cfg.password.as_deref().ok_or_else(|| fail("the server asks for a password; put it in the URL".into()))?;
                    frontend::password_message(pw.as_bytes(), &mut c.write).map_err(|e| fail(e.to_string()))?;
                    c.flush().map_err(fail)?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let pw = cfg.password.as_deref().ok_or_else(|| fail("the server asks for a password; put it in the URL".into()))?;
                    let hash = postgres_protocol::authentication::md5_hash(cfg.user.as_bytes(), pw.as_bytes(), body.salt());
                    frontend::password_message(hash.as_bytes(), &mut c.write).map_err(|e| fail(e.to_string()))?;
                    c.flush().map_err(fail)?;
                }
                Message::AuthenticationSasl(_) => {
                    let pw = cfg.password.as_deref().ok_or_else(|| fail("the server asks for a password; put it in the URL".into()))?;
                    let mut scram = ScramSha256::new(pw.as_bytes(), ChannelBinding::unsupported());
                    frontend::sasl_initial_response("SCRAM-SHA-256", scram.message(), &mut c.write)
                        .map_err(|e| fail(e.to_string()))?;
                    c.flush().map_err(fail)?;
                    let Message::AuthenticationSaslContinue(body) = c.next().map_err(fail)? else {
                        return Err(fail("unexpected message during SCRAM authentication".into()));
                    };
                    scram.update(body.data()).map_err(|e| fail(e.to_string()))?;
                    frontend::sasl_response(scram.message(), &mut c.write).map_err(|e| fail(e.to_string()))?;
                    c.flush().map_err(fail)?;
                    let Message::AuthenticationSaslFinal(body) = c.next().map_err(fail)? else {
                        return Err(fail("unexpected message during SCRAM authentication".into()));
                    };
                    scram.finish(body.data()).map_err(|e| fail(e.to_string()))?;
                }
                Message::ReadyForQuery(_) => return Ok(c),
                Message::ErrorResponse(e) => return Err(fail(error_text(&e))),
                Message::ParameterStatus(_) | Message::BackendKeyData(_) | Message::NoticeResponse(_) => {}
                _ => return Err(fail("unsupported authentication method (cachesim supports trust, password, md5, SCRAM-SHA-256)".into())),
            }
        }
    }

    fn flush(&mut self) -> PgResult<()> {
        self.stream
            .write_all(&self.write)
            .map_err(|e| format!("PostgreSQL at {}: connection lost: {e}", self.url))?;
        self.write.clear();
        Ok(())
    }

    fn next(&mut self) -> PgResult<Message> {
        loop {
            if let Some(m) = Message::parse(&mut self.read)
                .map_err(|e| format!("PostgreSQL at {}: {e}", self.url))?
            {
                return Ok(m);
            }
            let mut chunk = [0u8; 8192];
            let n = self
                .stream
                .read(&mut chunk)
                .map_err(|e| format!("PostgreSQL at {}: connection lost: {e}", self.url))?;
            if n == 0 {
                return Err(format!(
                    "PostgreSQL at {}: connection closed by the server",
                    self.url
                ));
            }
            self.read.extend_from_slice(&chunk[..n]);
        }
    }

    /// Runs SQL with the simple query protocol; returns the first column of
    /// each row of the last result, as text.
    pub fn simple(&mut self, sql: &str) -> PgResult<Vec<Option<String>>> {
        frontend::query(sql, &mut self.write).map_err(|e| e.to_string())?;
        self.flush()?;
        let mut rows = Vec::new();
        let mut err = None;
        loop {
            match self.next()? {
                Message::DataRow(r) => {
                    let buf = r.buffer();
                    let first = r.ranges().next().map_err(|e| e.to_string())?.flatten();
                    rows.push(first.map(|rg| String::from_utf8_lossy(&buf[rg]).into_owned()));
                }
                Message::ErrorResponse(e) => err = Some(error_text(&e)),
                Message::ReadyForQuery(_) => break,
                _ => {}
            }
        }
        match err {
            Some(e) => Err(format!(
                "PostgreSQL at {}: {e} (in: {})",
                self.url,
                truncate(sql, 80)
            )),
            None => Ok(rows),
        }
    }

    /// Prepares the origin's lookup statement.
    fn prepare_lookup(&mut self) -> PgResult<()> {
        frontend::parse(
            "cachesim_get",
            &format!("SELECT v FROM {TABLE} WHERE k = $1"),
            [20u32],
            &mut self.write,
        )
        .map_err(|e| e.to_string())?;
        frontend::sync(&mut self.write);
        self.flush()?;
        self.wait_ready()
    }

    fn wait_ready(&mut self) -> PgResult<()> {
        let mut err = None;
        loop {
            match self.next()? {
                Message::ErrorResponse(e) => err = Some(error_text(&e)),
                Message::ReadyForQuery(_) => break,
                _ => {}
            }
        }
        err.map_or(Ok(()), |e| Err(format!("PostgreSQL at {}: {e}", self.url)))
    }

    /// Runs the lookup for `key`; returns the number of value bytes read.
    pub(crate) fn lookup(&mut self, key: Key) -> PgResult<usize> {
        let k = key as i64;
        frontend::bind(
            "",
            "cachesim_get",
            [1i16],
            [k],
            |v, buf| {
                buf.extend_from_slice(&v.to_be_bytes());
                Ok(IsNull::No)
            },
            [1i16],
            &mut self.write,
        )
        .map_err(|_| "cannot encode the lookup".to_string())?;
        frontend::execute("", 0, &mut self.write).map_err(|e| e.to_string())?;
        frontend::sync(&mut self.write);
        self.flush()?;
        let mut bytes = 0;
        let mut err = None;
        loop {
            match self.next()? {
                Message::DataRow(r) => bytes += r.buffer().len(),
                Message::ErrorResponse(e) => err = Some(error_text(&e)),
                Message::ReadyForQuery(_) => break,
                _ => {}
            }
        }
        err.map_or(Ok(bytes), |e| {
            Err(format!("PostgreSQL at {}: {e}", self.url))
        })
    }
}

impl Drop for PgConn {
    fn drop(&mut self) {
        frontend::terminate(&mut self.write);
        let _ = self.stream.write_all(&self.write);
    }
}

fn error_text(e: &postgres_protocol::message::backend::ErrorResponseBody) -> String {
    let mut fields = e.fields();
    let mut msg = String::new();
    while let Ok(Some(f)) = fields.next() {
        if f.type_() == b'M' {
            msg = String::from_utf8_lossy(f.value_bytes()).into_owned();
        }
    }
    if msg.is_empty() {
        "server error".into()
    } else {
        msg
    }
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Creates `cachesim_origin` if absent and adds the given keys with values of
/// the given sizes (existing rows are kept). Returns the number of rows added.
pub(crate) fn populate(cfg: &PgConfig, keys: impl Iterator<Item = (Key, u32)>) -> PgResult<u64> {
    let mut c = PgConn::connect(cfg, Duration::from_secs(2))?;
    c.simple(&format!(
        "CREATE TABLE IF NOT EXISTS {TABLE} (k bigint PRIMARY KEY, v bytea NOT NULL)"
    ))?;
    let mut added = 0u64;
    let mut sql = String::new();
    let mut n = 0;
    let flush = |c: &mut PgConn, sql: &mut String, n: &mut usize| -> PgResult<u64> {
        if *n == 0 {
            return Ok(0);
        }
        sql.push_str(" ON CONFLICT (k) DO NOTHING RETURNING 1");
        let rows = c.simple(sql)?.len() as u64;
        sql.clear();
        *n = 0;
        Ok(rows)
    };
    for (k, size) in keys {
        if n == 0 {
            sql.push_str(&format!("INSERT INTO {TABLE} (k, v) VALUES "));
        } else {
            sql.push(',');
        }
        sql.push_str(&format!("({},repeat('x',{size})::bytea)", k as i64));
        n += 1;
        if n == 1000 {
            added += flush(&mut c, &mut sql, &mut n)?;
        }
    }
    added += flush(&mut c, &mut sql, &mut n)?;
    Ok(added)
}

/// The origin of one run: a connection with the lookup prepared.
pub(crate) struct PostgresOrigin {
    conn: PgConn,
}

impl PostgresOrigin {
    pub(crate) fn connect(cfg: &PgConfig) -> PgResult<PostgresOrigin> {
        let mut conn = PgConn::connect(cfg, Duration::from_secs(2))?;
        conn.prepare_lookup()?;
        Ok(PostgresOrigin { conn })
    }
}

impl Origin for PostgresOrigin {
    fn fetch(&mut self, key: Key, _size: u32) -> Result<u64, OriginError> {
        let t = Instant::now();
        self.conn.lookup(key).map_err(OriginError)?;
        Ok(t.elapsed().as_nanos() as u64)
    }
}

/// `--origin postgres://...`: the origin backend the runner sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postgres(pub PgConfig);

impl OriginBackend for Postgres {
    fn label(&self) -> String {
        self.0.display()
    }

    fn connect(&self) -> Result<Box<dyn Origin + Send>, RunError> {
        match PostgresOrigin::connect(&self.0) {
            Ok(o) => Ok(Box::new(o)),
            Err(e) => Err(RunError::Origin(e)),
        }
    }

    fn populate(&self, keys: &mut dyn Iterator<Item = (Key, u32)>) -> Result<u64, RunError> {
        populate(&self.0, keys).map_err(RunError::Origin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_urls() {
        let c = PgConfig::parse("postgres://alice:pw@db.local:6543/test").unwrap();
        assert_eq!(
            c,
            PgConfig {
                user: "alice".into(),
                password: Some("pw".into()),
                host: "db.local".into(),
                port: 6543,
                dbname: "test".into()
            }
        );
        assert_eq!(c.display(), "postgres://alice@db.local:6543/test");
        let c = PgConfig::parse("postgresql://root@127.0.0.1/test").unwrap();
        assert_eq!((c.port, c.password), (5432, None));
        assert!(PgConfig::parse("mysql://x@y/z")
            .unwrap_err()
            .contains("postgres://USER"));
        assert!(PgConfig::parse("postgres://u@h:abc/d")
            .unwrap_err()
            .contains("port 'abc'"));
    }
}
