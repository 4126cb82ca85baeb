//! TLS for the connections to Redis (`rediss://`) and PostgreSQL
//! (`sslmode=`), with rustls on its `ring` provider.
//!
//! What a connection checks of the server's certificate ([`Verify`]) follows
//! libpq's `sslmode`: nothing (encryption only), that it chains to a trusted
//! CA, or that and that it names the host. The trusted CAs ([`Roots`]) are a
//! PEM file (`--tls-ca`, or PostgreSQL's `sslrootcert=`), or else the
//! system's bundle: `$SSL_CERT_FILE`, or the first of the usual bundle files
//! that exists (Debian's `/etc/ssl/certs/ca-certificates.crt`, ...). Read
//! from the file the system keeps up to date rather than compiled in, so
//! no crate of root certificates is needed. Client certificates are not
//! supported.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::{
    CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct, Error, RootCertStore,
    SignatureScheme, StreamOwned,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// What a connection checks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verify {
    /// Nothing: the connection is encrypted, but any certificate is taken
    /// (libpq's `sslmode=require` without a CA, and `prefer`).
    Nothing,
    /// That it chains to a trusted CA, whatever host it names (`verify-ca`).
    Chain,
    /// That it chains to a trusted CA and names the host (`verify-full`,
    /// and `rediss://`).
    Full,
}

/// Where the trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The system's bundle (see the module's doc).
    System,
    /// A PEM file of CA certificates.
    File(PathBuf),
}

/// How a connection uses TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// What is checked of the server's certificate.
    pub verify: Verify,
    /// The trusted CAs (unused with [`Verify::Nothing`]).
    pub roots: Roots,
}

/// A TLS connection over TCP.
pub(crate) type TlsStream = StreamOwned<ClientConnection, TcpStream>;

/// The usual places of the system's CA bundle (Debian and Ubuntu, Fedora
/// and RHEL, Alpine and macOS, openSUSE).
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/etc/ssl/ca-bundle.pem",
];

impl Tls {
    /// Full verification against `ca`, or the system's CAs.
    pub(crate) fn full(ca: Option<&Path>) -> Tls {
        Tls {
            verify: Verify::Full,
            roots: ca.map_or(Roots::System, |p| Roots::File(p.to_path_buf())),
        }
    }

    /// Runs the TLS handshake over `tcp` with the server `host` (a name or
    /// an address), within the socket's timeouts.
    pub(crate) fn handshake(&self, mut tcp: TcpStream, host: &str) -> Result<TlsStream, String> {
        let name = ServerName::try_from(host.to_string())
            .map_err(|_| format!("'{host}' is not a host name TLS can check"))?;
        let mut conn =
            ClientConnection::new(self.config()?, name).map_err(|e| format!("TLS: {e}"))?;
        while conn.is_handshaking() {
            if let Err(e) = conn.complete_io(&mut tcp) {
                return Err(if super::net::timed_out(&e) {
                    format!(
                        "the server did not answer the TLS handshake within {} s",
                        super::net::ANSWER_TIMEOUT.as_secs()
                    )
                } else {
                    format!("TLS handshake failed: {e} (does the server speak TLS, with a certificate for '{host}'?)")
                });
            }
        }
        Ok(StreamOwned::new(conn, tcp))
    }

    /// The client configuration, built once per setting and shared by the
    /// connections that use it (reading the CAs costs milliseconds).
    fn config(&self) -> Result<Arc<ClientConfig>, String> {
        static BUILT: Mutex<Vec<(Tls, Arc<ClientConfig>)>> = Mutex::new(Vec::new());
        let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = built.iter().find(|(t, _)| t == self) {
            return Ok(c.clone());
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let webpki = match self.verify {
            Verify::Nothing => None,
            _ => {
                let roots = Arc::new(root_store(&self.roots)?);
                let webpki = WebPkiServerVerifier::builder_with_provider(roots, provider.clone());
                Some(webpki.build().map_err(|e| format!("TLS: {e}"))?)
            }
        };
        let verifier: Arc<dyn ServerCertVerifier> = match (self.verify, webpki) {
            (Verify::Full, Some(webpki)) => webpki,
            (_, webpki) => Arc::new(Relaxed {
                webpki,
                algorithms: provider.signature_verification_algorithms,
            }),
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        let config = Arc::new(config);
        built.push((self.clone(), config.clone()));
        Ok(config)
    }
}

/// The certificates of PEM file `path`: at least one, or an error naming
/// the file.
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs: Result<Vec<_>, _> = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read '{shown}': {e}"))?
        .collect();
    let certs = certs.map_err(|e| format!("'{shown}' is not a PEM file of certificates: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "'{shown}' holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(certs)
}

/// The trusted CAs of `roots`.
fn root_store(roots: &Roots) -> Result<RootCertStore, String> {
    let mut store = RootCertStore::empty();
    match roots {
        Roots::File(path) => {
            for (i, c) in read_certs(path)?.into_iter().enumerate() {
                store.add(c).map_err(|e| {
                    format!(
                        "certificate {} of '{}' cannot be a CA: {e}",
                        i + 1,
                        path.display()
                    )
                })?;
            }
        }
        Roots::System => {
            let env = std::env::var_os("SSL_CERT_FILE").map(PathBuf::from);
            let bundle = env
                .into_iter()
                .chain(SYSTEM_BUNDLES.iter().map(PathBuf::from))
                .find(|p| p.is_file())
                .ok_or_else(|| {
                    format!(
                        "no system CA bundle ($SSL_CERT_FILE, {}); pass --tls-ca FILE",
                        SYSTEM_BUNDLES.join(", ")
                    )
                })?;
            store.add_parsable_certificates(read_certs(&bundle)?);
        }
    }
    Ok(store)
}

/// Checks a CA file given on the command line: readable PEM, every
/// certificate usable as a CA. Returns its path.
pub(crate) fn ca_file(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    root_store(&Roots::File(path.clone()))?;
    Ok(path)
}

/// [`Verify::Nothing`] (no `webpki`): any certificate is taken; and
/// [`Verify::Chain`]: webpki's verification less the host name (checked
/// last, once the chain is valid). The handshake's signatures are checked
/// either way, so the connection is encrypted to whoever holds the
/// certificate's key.
#[derive(Debug)]
struct Relaxed {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Relaxed {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            r => r,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, Error> {
        verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_file_names_the_file_and_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("none.pem");
        let e = ca_file(missing.to_str().unwrap()).unwrap_err();
        assert!(e.contains("cannot read") && e.contains("none.pem"), "{e}");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = ca_file(empty.to_str().unwrap()).unwrap_err();
        assert!(
            e.contains("no PEM certificate") && e.contains("empty.pem"),
            "{e}"
        );
        let junk = dir.path().join("junk.pem");
        std::fs::write(
            &junk,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = ca_file(junk.to_str().unwrap()).unwrap_err();
        assert!(
            e.contains("junk.pem") && e.contains("cannot be a CA"),
            "{e}"
        );
    }
}
