//! HTTPS in front of the real server, for the tests of whom clients trust.
//!
//! The server speaks plain HTTP (deployments terminate TLS in front of it); a
//! [`TlsTerminator`] does that here: it accepts TLS on 127.0.0.1 with a certificate for
//! `127.0.0.1` and `localhost` issued by a [`TestCa`] made at test time (rcgen), and copies
//! the bytes to and from the server. A client trusts it only if the test CA is in its trust
//! store (`SSL_CERT_FILE` on Linux) or given as its extra CA.

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A certificate authority made for one test run.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestCa")
    }
}

impl TestCa {
    /// A fresh CA named `name`.
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        Self { issuer: CertifiedIssuer::self_signed(params, key).expect("CA certificate") }
    }

    /// The CA certificate, PEM: what a trust store holds.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// Writes [`TestCa::pem`] to `path`.
    pub fn write_pem(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.pem())
    }

    /// A server certificate for `127.0.0.1` and `localhost`, and its key.
    fn server_identity(&self) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().expect("server key");
        let params = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server params");
        let cert = params.signed_by(&key, &self.issuer).expect("server certificate");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        (vec![cert.der().clone()], key)
    }
}

/// Accepts TLS on 127.0.0.1 and forwards every connection to a plain-HTTP upstream.
#[derive(Debug)]
pub struct TlsTerminator {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl TlsTerminator {
    /// Listens on a fresh port of 127.0.0.1 with a certificate from `ca`, forwarding to
    /// `upstream` (`127.0.0.1:PORT`).
    pub async fn start(ca: &TestCa, upstream: SocketAddr) -> std::io::Result<Self> {
        let (chain, key) = ca.server_identity();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key))
            .map_err(std::io::Error::other)?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A refused handshake (the client does not trust us) just ends here.
                    let Ok(mut tls) = acceptor.accept(client).await else { return };
                    let Ok(mut server) = TcpStream::connect(upstream).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for TlsTerminator {
    fn drop(&mut self) {
        self.task.abort();
    }
}
