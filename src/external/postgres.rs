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
//! The client is a small synchronous one over TCP, built on the
//! `postgres-protocol` message codec (trust, password, md5 and
//! SCRAM-SHA-256 authentication; TLS as libpq's `sslmode`, see [`SslMode`]):
//! the full `postgres` crate would bring an async runtime for what is a
//! strictly sequential request loop.

use crate::external::net::{self, host_port, show_host_port, Stream, ANSWER_TIMEOUT};
use crate::external::tls::{Roots, Tls, Verify};
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
use std::path::Path;
use std::time::{Duration, Instant};

/// How long a reply may take once the server has answered (connecting
/// and the startup: 2 s, [`ANSWER_TIMEOUT`]).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The one table cachesim creates and uses.
pub(crate) const TABLE: &str = "cachesim_origin";

/// `sslmode=`: whether the connection uses TLS and what it checks of the
/// server's certificate, as libpq's (`allow` is not supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS if the server offers it, plaintext otherwise; the certificate is
    /// not checked (libpq's default, and cachesim's).
    Prefer,
    /// TLS or no connection; the certificate is not checked, unless a CA
    /// is given (`sslrootcert=` or `--tls-ca`): then as `verify-ca`.
    Require,
    /// TLS; the certificate must chain to a trusted CA.
    VerifyCa,
    /// TLS; the certificate must chain to a trusted CA and name the host.
    VerifyFull,
}

impl SslMode {
    const ACCEPTED: &'static str = "disable, prefer, require, verify-ca or verify-full";

    fn parse(s: &str) -> Option<SslMode> {
        Some(match s {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => return None,
        })
    }
}

/// Connection settings parsed from
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=MODE&sslrootcert=FILE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgConfig {
    /// User to log in as (default: `$USER`, else `postgres`).
    pub user: String,
    /// Password, if the URL has one.
    pub password: Option<String>,
    /// Server host name or address (an IPv6 address without brackets).
    pub host: String,
    /// Server port (default 5432).
    pub port: u16,
    /// Database name.
    pub dbname: String,
    /// `sslmode=` (default `prefer`).
    pub sslmode: SslMode,
    /// `sslrootcert=`: the CAs that `verify-ca` and `verify-full` trust
    /// (`system`: the system's; none: `--tls-ca`, else the system's).
    pub sslrootcert: Option<Roots>,
}

impl PgConfig {
    /// Parses `postgres://USER[:PASSWORD]@HOST[:PORT]/DB` (or
    /// `postgresql://`), with the parameters `sslmode` and `sslrootcert`;
    /// the error says what is accepted.
    pub fn parse(url: &str) -> Result<PgConfig, String> {
        let accepted =
            "expected postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?sslmode=MODE&sslrootcert=FILE]";
        let bad = |why: String| format!("invalid origin '{url}': {why}; {accepted}");
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| format!("invalid origin '{url}': {accepted}"))?;
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (auth, hostpart) = match rest.rsplit_once('@') {
            Some((a, h)) => (Some(a), h),
            None => (None, rest),
        };
        let (hostport, dbname) = hostpart.split_once('/').unwrap_or((hostpart, ""));
        let (host, port) = host_port(hostport, 5432).map_err(bad)?;
        if dbname.is_empty() {
            return Err(format!(
                "the URL names no database ({}/DBNAME)",
                url.split('?').next().unwrap_or(url).trim_end_matches('/')
            ));
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
        let mut cfg = PgConfig {
            user,
            password,
            host,
            port,
            dbname: dbname.to_string(),
            sslmode: SslMode::Prefer,
            sslrootcert: None,
        };
        for p in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = p.split_once('=').unwrap_or((p, ""));
            match name {
                "sslmode" => {
                    cfg.sslmode = SslMode::parse(value).ok_or_else(|| {
                        bad(format!(
                            "sslmode '{value}' is not one of {}",
                            SslMode::ACCEPTED
                        ))
                    })?;
                }
                "sslrootcert" if value == "system" => cfg.sslrootcert = Some(Roots::System),
                "sslrootcert" => {
                    let path = crate::external::tls::ca_file(value)
                        .map_err(|e| bad(format!("sslrootcert: {e}")))?;
                    cfg.sslrootcert = Some(Roots::File(path));
                }
                _ => {
                    return Err(bad(format!(
                        "unknown parameter '{name}' (cachesim understands sslmode and sslrootcert)"
                    )))
                }
            }
        }
        Ok(cfg)
    }

    /// Trusts the CAs of PEM file `ca` (`--tls-ca`) unless the URL names
    /// its own (`sslrootcert=`); `false` when the connection checks no
    /// certificate (`sslmode` `disable` or `prefer`).
    pub(crate) fn trust(&mut self, ca: &Path) -> bool {
        if self.sslrootcert.is_none() {
            self.sslrootcert = Some(Roots::File(ca.to_path_buf()));
        }
        matches!(
            self.sslmode,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        )
    }

    /// How the connection uses TLS, if at all.
    fn tls(&self) -> Option<Tls> {
        let roots = self.sslrootcert.clone();
        let verify = match self.sslmode {
            SslMode::Disable => return None,
            SslMode::Prefer => Verify::Nothing,
            SslMode::Require if roots.is_none() => Verify::Nothing,
            SslMode::Require | SslMode::VerifyCa => Verify::Chain,
            SslMode::VerifyFull => Verify::Full,
        };
        Some(Tls {
            verify,
            roots: roots.unwrap_or(Roots::System),
        })
    }

    /// The URL without the password, for messages and the `origin` column.
    pub(crate) fn display(&self) -> String {
        format!(
            "postgres://{}@{}/{}",
            self.user,
            show_host_port(&self.host, self.port),
            self.dbname
        )
    }
}

/// One connection.
pub struct PgConn {
    stream: Stream,
    /// Whether the startup is done (see [`READ_TIMEOUT`]).
    answered: bool,
    read: BytesMut,
    write: BytesMut,
    url: String,
}

type PgResult<T> = Result<T, String>;

impl PgConn {
    /// Connects, starts TLS as `sslmode` says, and authenticates, giving
    /// up when the server does not answer within [`ANSWER_TIMEOUT`].
    pub fn connect(cfg: &PgConfig) -> PgResult<PgConn> {
        let url = cfg.display();
        let fail = |what: String| format!("cannot connect to PostgreSQL at {url}: {what}");
        let mut stream = Stream::connect(&cfg.host, cfg.port, ANSWER_TIMEOUT).map_err(fail)?;
        if let Some(tls) = cfg.tls() {
            stream = start_tls(stream, &tls, cfg).map_err(fail)?;
        }
        let mut c = PgConn {
            stream,
            answered: false,
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
        let password = || {
            cfg.password
                .as_deref()
                .ok_or_else(|| fail("the server asks for a password; put it in the URL".into()))
        };
        loop {
            match c.next().map_err(fail)? {
                Message::AuthenticationOk => {}
                Message::AuthenticationCleartextPassword => {
                    frontend::password_message(password()?.as_bytes(), &mut c.write).map_err(|e| fail(e.to_string()))?;
                    c.flush().map_err(fail)?;
                }
                Message::AuthenticationMd5Password(body) => {
                    let hash = postgres_protocol::authentication::md5_hash(cfg.user.as_bytes(), password()?.as_bytes(), body.salt());
                    frontend::password_message(hash.as_bytes(), &mut c.write).map_err(|e| fail(e.to_string()))?;
                    c.flush().map_err(fail)?;
                }
                Message::AuthenticationSasl(_) => c.scram(password()?).map_err(fail)?,
                Message::ReadyForQuery(_) => {
                    c.answered = true;
                    c.stream.answered(READ_TIMEOUT);
                    return Ok(c);
                }
                Message::ErrorResponse(e) => return Err(fail(error_text(&e))),
                Message::ParameterStatus(_) | Message::BackendKeyData(_) | Message::NoticeResponse(_) => {}
                _ => return Err(fail("unsupported authentication method (cachesim supports trust, password, md5, SCRAM-SHA-256)".into())),
            }
        }
    }

    /// SCRAM-SHA-256 with `password` (without channel binding); a refusal
    /// is the server's own message ("password authentication failed for
    /// user ...").
    fn scram(&mut self, password: &str) -> PgResult<()> {
        let mut scram = ScramSha256::new(password.as_bytes(), ChannelBinding::unsupported());
        frontend::sasl_initial_response("SCRAM-SHA-256", scram.message(), &mut self.write)
            .map_err(|e| e.to_string())?;
        self.flush()?;
        let data = self.sasl_reply(false)?;
        scram.update(&data).map_err(|e| e.to_string())?;
        frontend::sasl_response(scram.message(), &mut self.write).map_err(|e| e.to_string())?;
        self.flush()?;
        let data = self.sasl_reply(true)?;
        scram.finish(&data).map_err(|e| e.to_string())
    }

    /// The data of the server's next SASL message (`AuthenticationSASLFinal`
    /// when `last`, else `AuthenticationSASLContinue`); an `ErrorResponse`
    /// is the error, in the server's words.
    fn sasl_reply(&mut self, last: bool) -> PgResult<Vec<u8>> {
        match self.next()? {
            Message::AuthenticationSaslContinue(b) if !last => Ok(b.data().to_vec()),
            Message::AuthenticationSaslFinal(b) if last => Ok(b.data().to_vec()),
            Message::ErrorResponse(e) => Err(error_text(&e)),
            _ => Err("unexpected message during SCRAM authentication".into()),
        }
    }

    /// `what` went wrong, naming the server once the connection is made
    /// (until then [`PgConn::connect`] names it).
    fn named(&self, what: String) -> String {
        if self.answered {
            format!("PostgreSQL at {}: {what}", self.url)
        } else {
            what
        }
    }

    /// The message of a failed read or write: a timeout says the server did
    /// not answer.
    fn lost(&self, e: std::io::Error) -> String {
        let waited = if self.answered {
            READ_TIMEOUT
        } else {
            ANSWER_TIMEOUT
        };
        self.named(net::io_failure(&e, waited))
    }

    fn flush(&mut self) -> PgResult<()> {
        let r = self.stream.write_all(&self.write);
        self.write.clear();
        r.map_err(|e| self.lost(e))?;
        Ok(())
    }

    fn next(&mut self) -> PgResult<Message> {
        loop {
            if let Some(m) =
                Message::parse(&mut self.read).map_err(|e| self.named(e.to_string()))?
            {
                return Ok(m);
            }
            let mut chunk = [0u8; 8192];
            let n = self.stream.read(&mut chunk).map_err(|e| self.lost(e))?;
            if n == 0 {
                return Err(self.named("connection closed by the server".into()));
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

/// Asks the server for TLS (`SSLRequest`) and runs the handshake; a server
/// that declines is used in plaintext only under `prefer`.
fn start_tls(mut stream: Stream, tls: &Tls, cfg: &PgConfig) -> PgResult<Stream> {
    let mut request = BytesMut::new();
    frontend::ssl_request(&mut request);
    let mut answer = [0u8; 1];
    stream
        .write_all(&request)
        .and_then(|_| stream.read_exact(&mut answer))
        .map_err(|e| net::io_failure(&e, ANSWER_TIMEOUT))?;
    match answer[0] {
        b'S' => {}
        b'N' if cfg.sslmode == SslMode::Prefer => return Ok(stream),
        b'N' => {
            return Err(
                "the server does not accept TLS connections (only sslmode=disable or prefer connect in plaintext)"
                    .into(),
            )
        }
        other => return Err(format!("unexpected answer 0x{other:02x} to the TLS request")),
    }
    match stream {
        Stream::Plain(tcp) => Ok(Stream::Tls(Box::new(tls.handshake(tcp, &cfg.host)?))),
        tls_already => Ok(tls_already),
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
    let mut c = PgConn::connect(cfg)?;
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
        let mut conn = PgConn::connect(cfg)?;
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
                dbname: "test".into(),
                sslmode: SslMode::Prefer,
                sslrootcert: None,
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
        let c = PgConfig::parse("postgres://u@[::1]:5433/d").unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 5433));
        assert_eq!(c.display(), "postgres://u@[::1]:5433/d");
    }

    /// A URL without a database is refused (it used to mean a database
    /// named after the user), and so is every parameter but `sslmode` and
    /// `sslrootcert`.
    #[test]
    fn refuses_no_database_and_unknown_parameters() {
        for url in [
            "postgres://root@host:5432/",
            "postgres://root@host:5432",
            "postgres://root@host/?sslmode=require",
        ] {
            let e = PgConfig::parse(url).unwrap_err();
            assert!(e.contains("the URL names no database"), "{url}: {e}");
            assert!(e.contains("/DBNAME)"), "{url}: {e}");
        }
        let e = PgConfig::parse("postgres://u@h/d?sslmode=require&foo=1").unwrap_err();
        assert!(e.contains("unknown parameter 'foo'"), "{e}");
        let e = PgConfig::parse("postgres://u@h/d?sslmode=allow").unwrap_err();
        assert!(
            e.contains("sslmode 'allow'") && e.contains("verify-full"),
            "{e}"
        );
        let e = PgConfig::parse("postgres://u@h/d?sslrootcert=/nonexistent.pem").unwrap_err();
        assert!(
            e.contains("sslrootcert") && e.contains("/nonexistent.pem"),
            "{e}"
        );
    }

    /// What each `sslmode` checks, and where `--tls-ca` applies.
    #[test]
    fn sslmodes_map_to_tls_settings() {
        let tls = |q: &str| {
            PgConfig::parse(&format!("postgres://u@h/d{q}"))
                .unwrap()
                .tls()
        };
        let v = |q: &str| tls(q).map(|t| t.verify);
        assert_eq!(v(""), Some(Verify::Nothing));
        assert_eq!(v("?sslmode=disable"), None);
        assert_eq!(v("?sslmode=prefer"), Some(Verify::Nothing));
        assert_eq!(v("?sslmode=require"), Some(Verify::Nothing));
        assert_eq!(
            v("?sslmode=require&sslrootcert=system"),
            Some(Verify::Chain)
        );
        assert_eq!(v("?sslmode=verify-ca"), Some(Verify::Chain));
        assert_eq!(v("?sslmode=verify-full"), Some(Verify::Full));
        assert_eq!(tls("?sslmode=verify-full").unwrap().roots, Roots::System);
        let mut c = PgConfig::parse("postgres://u@h/d?sslmode=require").unwrap();
        assert!(c.trust(Path::new("ca.pem")));
        assert_eq!(
            c.tls().unwrap(),
            Tls {
                verify: Verify::Chain,
                roots: Roots::File("ca.pem".into())
            }
        );
        let mut c =
            PgConfig::parse("postgres://u@h/d?sslmode=verify-full&sslrootcert=system").unwrap();
        assert!(c.trust(Path::new("ca.pem")));
        assert_eq!(c.tls().unwrap().roots, Roots::System, "the URL's own wins");
        let mut c = PgConfig::parse("postgres://u@h/d").unwrap();
        assert!(!c.trust(Path::new("ca.pem")), "prefer checks nothing");
    }

    /// A fake server: accepts, and answers the startup with `script`
    /// (after reading what the client sends), then holds the connection.
    fn fake_server(script: Vec<Vec<u8>>) -> (u16, std::thread::JoinHandle<()>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            for reply in script {
                let _ = s.read(&mut buf);
                let _ = s.write_all(&reply);
            }
            std::thread::sleep(Duration::from_secs(3));
        });
        (port, h)
    }

    /// A backend message: type byte, length, body.
    fn msg(t: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![t];
        m.extend_from_slice(&(body.len() as u32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    fn cfg(port: u16, q: &str) -> PgConfig {
        PgConfig::parse(&format!("postgres://x:wrong@127.0.0.1:{port}/d{q}")).unwrap()
    }

    /// A wrong password under SCRAM: the server's `ErrorResponse` after the
    /// first SASL message is what the user reads.
    #[test]
    fn scram_refusal_shows_the_servers_reason() {
        let sasl = msg(b'R', b"\0\0\0\x0aSCRAM-SHA-256\0\0");
        let error = msg(
            b'E',
            b"SFATAL\0C28P01\0Mpassword authentication failed for user \"x\"\0\0",
        );
        let (port, h) = fake_server(vec![sasl, error]);
        let e = PgConn::connect(&cfg(port, "?sslmode=disable"))
            .err()
            .unwrap();
        assert!(
            e.contains("password authentication failed for user \"x\"")
                && e.contains(&format!("postgres://x@127.0.0.1:{port}/d")),
            "{e}"
        );
        h.join().unwrap();
    }

    /// A server that accepts and never answers fails in about 2 s, saying
    /// so and naming the URL; one that declines TLS fails under `require`.
    #[test]
    fn silent_server_and_declined_tls_are_named() {
        let (port, h) = fake_server(vec![]);
        let t = Instant::now();
        let e = PgConn::connect(&cfg(port, "?sslmode=disable"))
            .err()
            .unwrap();
        assert!(
            t.elapsed() < Duration::from_millis(2900),
            "{:?}",
            t.elapsed()
        );
        assert!(
            e.contains("did not answer within 2 s") && e.contains(&format!("127.0.0.1:{port}/d")),
            "{e}"
        );
        h.join().unwrap();
        let (port, h) = fake_server(vec![b"N".to_vec()]);
        let e = PgConn::connect(&cfg(port, "?sslmode=require"))
            .err()
            .unwrap();
        assert!(e.contains("does not accept TLS"), "{e}");
        h.join().unwrap();
    }
}
