//! TLS to Redis (`rediss://`) and PostgreSQL (`sslmode=`), against servers
//! the tests start with a CA and a server certificate they make with the
//! `openssl` command (the certificate names `localhost` only, so that
//! connecting to `127.0.0.1` tells full verification from chain-only); and
//! on the same private PostgreSQL, a wrong SCRAM password and an IPv6 host.
//! Skipped with the reason (failed under `CACHESIM_REQUIRE_SERVICES=1`)
//! when `openssl`, a TLS-capable `redis-server`, or PostgreSQL's binaries
//! (and root, to run them as `postgres`) are missing.

use crate::common;

use cachesim::external::postgres::{PgConfig, PgConn};
use common::{json, missing_server, private_redis, run_small as run, stderr, u, which, Server};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// A CA (`ca.crt`) and a server certificate and key (`server.crt`,
/// `server.key`) for `localhost`, signed by it, in `dir`.
fn make_certificates(dir: &Path) -> Option<()> {
    let Some(openssl) = which("openssl") else {
        return missing_server("no openssl on PATH to make a test CA".into());
    };
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"],
            &ec[..],
            &["-keyout", "ca.key", "-out", "ca.crt"],
        ]
        .concat(),
        [
            &["req"],
            &ec[..],
            &["-keyout", "server.key", "-out", "server.csr"],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-extfile",
            "server.ext",
        ],
    ];
    for (i, step) in steps.iter().enumerate() {
        let subject = ["/CN=cachesim test CA", "/CN=localhost", ""][i];
        let mut cmd = Command::new(&openssl);
        cmd.args(step).args(["-days", "2"]).current_dir(dir);
        if !subject.is_empty() {
            cmd.args(["-subj", subject]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "openssl {step:?}: {}", stderr(&o));
    }
    Some(())
}

/// The run failed (exit 1) saying all of `needles`.
fn fails(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(1), "{needles:?}: {err}");
    for n in needles {
        assert!(err.contains(n), "{n}: {err}");
    }
}

/// A private redis-server on `port` that speaks TLS only (certificates of
/// [`make_certificates`] in `dir`, no client certificates), with `extra`
/// arguments; and the CA file's path.
fn tls_redis(dir: &Path, port: u16, extra: &[&str]) -> Option<(Server, String)> {
    make_certificates(dir)?;
    let p = port.to_string();
    let file = |f: &str| dir.join(f).to_str().unwrap().to_string();
    let (crt, key, ca) = (file("server.crt"), file("server.key"), file("ca.crt"));
    let args = [
        "--port",
        "0",
        "--tls-port",
        &p,
        "--bind",
        "127.0.0.1",
        "--tls-cert-file",
        &crt,
        "--tls-key-file",
        &key,
        "--tls-ca-cert-file",
        &ca,
        "--tls-auth-clients",
        "no",
    ];
    let server = private_redis(dir, "127.0.0.1", port, &[&args[..], extra].concat())?;
    Some((server, ca))
}

/// `rediss://` verifies the certificate's chain (to `--tls-ca`, else the
/// system's CAs) and its name; a plain `redis://` to the TLS port fails.
#[test]
fn redis_over_tls_verifies_chain_and_name() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let Some((_server, ca)) = tls_redis(dir.path(), port, &[]) else {
        return;
    };
    let url = |host: &str, scheme: &str| format!("{scheme}://{host}:{port}/0");
    let good = url("localhost", "rediss");
    let o = run(
        dir.path(),
        &["-s", "redis", "--redis-url", &good, "--tls-ca", &ca],
    );
    let r = &json(&o)[0];
    assert_eq!(u(r, "hits"), 2000 - u(r, "distinct_keys"), "{r}");

    // Not the system's CAs' certificate; not 127.0.0.1's; not plaintext.
    let o = run(dir.path(), &["-s", "redis", "--redis-url", &good]);
    fails(&o, &[&good, "invalid peer certificate"]);
    let by_ip = url("127.0.0.1", "rediss");
    let o = run(
        dir.path(),
        &["-s", "redis", "--redis-url", &by_ip, "--tls-ca", &ca],
    );
    fails(&o, &[&by_ip, "not valid for name"]);
    let plain = url("localhost", "redis");
    fails(
        &run(dir.path(), &["-s", "redis", "--redis-url", &plain]),
        &[&plain],
    );
}

/// A free loopback port whose cluster bus port (+10000) is free too.
fn port_with_bus() -> u16 {
    loop {
        let p = common::free_port();
        if p < 55000 && std::net::TcpListener::bind(("127.0.0.1", p + 10000)).is_ok() {
            return p;
        }
    }
}

/// `rediss+cluster://`: a one-master cluster over TLS (every slot on it,
/// announced by host name, as a TLS cluster's certificates name its
/// nodes), verified like `rediss://`.
#[test]
fn redis_cluster_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let Some(cli) = which("redis-cli") else {
        missing_server::<()>("no redis-cli on PATH".into());
        return;
    };
    let port = port_with_bus();
    let p = port.to_string();
    let nodes = dir.path().join("nodes.conf");
    let args = [
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        nodes.to_str().unwrap(),
        "--tls-cluster",
        "yes",
        "--cluster-announce-hostname",
        "localhost",
        "--cluster-preferred-endpoint-type",
        "hostname",
    ];
    let Some((mut server, ca)) = tls_redis(dir.path(), port, &args) else {
        return;
    };
    let redis_cli = |cmd: &[&str]| {
        let tls = ["--tls", "--cacert", &ca, "-h", "localhost", "-p", &p];
        let o = Command::new(&cli).args(tls).args(cmd).output().unwrap();
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    redis_cli(&["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]);
    let ok = || redis_cli(&["CLUSTER", "INFO"]).contains("cluster_state:ok");
    common::wait_until(&mut server, ok).unwrap();
    let url = format!("rediss+cluster://localhost:{port}");
    let o = run(
        dir.path(),
        &["-s", "redis", "--redis-url", &url, "--tls-ca", &ca],
    );
    let r = &json(&o)[0];
    assert_eq!(u(r, "hits"), 2000 - u(r, "distinct_keys"), "{r}");
    let o = run(dir.path(), &["-s", "redis", "--redis-url", &url]);
    fails(&o, &[&url, "invalid peer certificate"]);
}

/// The PostgreSQL binaries' folder (the newest version installed).
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| Some(e.ok()?.path().join("bin")))
        .filter(|b| b.join("initdb").is_file() && b.join("postgres").is_file())
        .collect();
    versions.sort_by_key(|b| {
        let v = b
            .parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str());
        v.and_then(|v| v.parse::<u32>().ok()).unwrap_or(0)
    });
    versions.pop()
}

/// The uid and gid of user `postgres`.
fn postgres_user() -> Option<(u32, u32)> {
    let id = |flag: &str| {
        let o = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse::<u32>()
            .ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// A private PostgreSQL on `port` with TLS on (the certificates of
/// [`make_certificates`] in `dir`), listening on 127.0.0.1 (and ::1 when
/// `v6`), running as `postgres` from a cluster initdb made in `dir`. Its
/// `pg_hba.conf` takes TLS connections only: trust, except user `scram`
/// (SCRAM-SHA-256).
fn private_postgres(dir: &Path, port: u16, v6: bool) -> Option<Server> {
    let Some(bin) = postgres_bin() else {
        return missing_server("no PostgreSQL binaries under /usr/lib/postgresql".into());
    };
    let root = Command::new("id").arg("-u").output().ok()?.stdout == b"0\n";
    let (Some((uid, gid)), true) = (postgres_user(), root) else {
        return missing_server("a private PostgreSQL needs root and a user 'postgres'".into());
    };
    let as_postgres = |cmd: &mut Command| {
        cmd.uid(uid).gid(gid).current_dir(dir).env("HOME", dir);
    };
    for f in ["", "server.crt", "server.key"] {
        std::os::unix::fs::chown(dir.join(f), Some(uid), Some(gid)).unwrap();
    }
    let data = dir.join("data");
    let mut initdb = Command::new(bin.join("initdb"));
    as_postgres(&mut initdb);
    let o = initdb
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "initdb: {}", stderr(&o));
    let mut hba = String::from("local all all trust\n");
    for net in ["127.0.0.1/32", "::1/128"] {
        hba += &format!("hostssl all scram {net} scram-sha-256\nhostssl all all {net} trust\n");
    }
    std::fs::write(data.join("pg_hba.conf"), hba).unwrap();
    let listen = if v6 { "127.0.0.1,::1" } else { "127.0.0.1" };
    let mut postgres = Command::new(bin.join("postgres"));
    as_postgres(&mut postgres);
    let child = postgres
        .arg("-D")
        .arg(&data)
        .args([
            "-c",
            &format!("port={port}"),
            "-c",
            &format!("listen_addresses={listen}"),
        ])
        .args(["-c", &format!("unix_socket_directories={}", dir.display())])
        .args(["-c", "ssl=on", "-c", "ssl_cert_file=../server.crt"])
        .args(["-c", "ssl_key_file=../server.key", "-c", "fsync=off"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("postgres.log")).unwrap())
        .spawn()
        .unwrap();
    let mut server = Server(child);
    let cfg = PgConfig::parse(&format!(
        "postgres://postgres@127.0.0.1:{port}/postgres?sslmode=require"
    ))
    .unwrap();
    if let Err(e) = common::wait_until(&mut server, || PgConn::connect(&cfg).is_ok()) {
        let log = std::fs::read_to_string(dir.join("postgres.log")).unwrap_or_default();
        panic!("the private PostgreSQL did not start: {e}\n{log}");
    }
    // SCRAM is PostgreSQL's default password_encryption since 14.
    let mut c = PgConn::connect(&cfg).unwrap();
    c.simple("SET password_encryption = 'scram-sha-256'")
        .unwrap();
    c.simple("CREATE ROLE scram LOGIN SUPERUSER PASSWORD 'right'")
        .unwrap();
    Some(server)
}

/// One private PostgreSQL serves every check (initdb costs seconds): each
/// `sslmode`, `--tls-ca` and `sslrootcert=`, a wrong SCRAM password (the
/// server's own reason is shown), and `[::1]`. Its `pg_hba.conf` takes TLS
/// connections only, so a run that works used TLS.
#[test]
fn postgres_sslmodes_scram_refusal_and_ipv6_on_a_private_server() {
    let dir = tempfile::tempdir().unwrap();
    if make_certificates(dir.path()).is_none() {
        return;
    }
    let port = common::free_port();
    let v6 = std::net::TcpListener::bind("[::1]:0").is_ok();
    let Some(_server) = private_postgres(dir.path(), port, v6) else {
        return;
    };
    let ca = dir.path().join("ca.crt");
    let ca = ca.to_str().unwrap();
    let url = |user: &str, host: &str, query: &str| {
        format!("postgres://{user}@{host}:{port}/postgres{query}")
    };
    let origin =
        |to: &str, extra: &[&str]| run(dir.path(), &[&["--origin", to][..], extra].concat());
    let works = |to: &str, extra: &[&str]| {
        let o = origin(to, extra);
        let r = &json(&o)[0];
        assert_eq!(r["origin"], url("postgres", "localhost", ""), "{to}");
        assert!(u(r, "misses") > 0 && r["origin_time_s"].as_f64().unwrap() > 0.0);
    };
    // TLS with full verification, the CA from --tls-ca or the URL.
    works(
        &url("postgres", "localhost", "?sslmode=verify-full"),
        &["--tls-ca", ca],
    );
    works(
        &url(
            "postgres",
            "localhost",
            &format!("?sslmode=verify-full&sslrootcert={ca}"),
        ),
        &[],
    );
    // Encryption only: require, and prefer (the default) with a TLS server.
    works(&url("postgres", "localhost", "?sslmode=require"), &[]);
    works(&url("postgres", "localhost", ""), &[]);
    // Plaintext is refused by the server (hostssl only), in its words.
    let plain = url("postgres", "localhost", "?sslmode=disable");
    let o = origin(&plain, &[]);
    fails(
        &o,
        &[
            &url("postgres", "localhost", ""),
            "no pg_hba.conf entry",
            "no encryption",
        ],
    );
    // Not the system's CAs' certificate; not 127.0.0.1's, unless only the
    // chain is checked (verify-ca, or require with a CA).
    let o = origin(&url("postgres", "localhost", "?sslmode=verify-full"), &[]);
    fails(&o, &["invalid peer certificate"]);
    let o = origin(
        &url("postgres", "127.0.0.1", "?sslmode=verify-full"),
        &["--tls-ca", ca],
    );
    fails(
        &o,
        &[&url("postgres", "127.0.0.1", ""), "not valid for name"],
    );
    for mode in ["verify-ca", "require"] {
        let u = url("postgres", "127.0.0.1", &format!("?sslmode={mode}"));
        let o = origin(&u, &["--tls-ca", ca]);
        assert!(o.status.success(), "{mode}: {}", stderr(&o));
    }
    // A wrong SCRAM password: the server's reason; the right one works.
    let o = origin(&url("scram:wrong", "localhost", "?sslmode=require"), &[]);
    fails(&o, &["password authentication failed for user \"scram\""]);
    let o = origin(&url("scram:right", "localhost", "?sslmode=require"), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    if v6 {
        let o = origin(&url("postgres", "[::1]", "?sslmode=require"), &[]);
        let r = &json(&o)[0];
        assert_eq!(r["origin"], url("postgres", "[::1]", ""));
    } else {
        eprintln!("skipped (the IPv6 part): the IPv6 loopback ::1 is not available here");
    }
}
