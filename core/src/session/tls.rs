//! Whom the HTTP client trusts: the platform's decisions, plus an optional extra CA.
//!
//! The server's certificate chain is checked by the operating system through
//! `rustls-platform-verifier`: Android's trust manager (system, user- and MDM-installed CAs,
//! the app's network security config), Apple's Security framework (trust settings,
//! configuration profiles), and on Linux the system store — OpenSSL's usual locations, or
//! only `SSL_CERT_FILE` / `SSL_CERT_DIR` when they are set. No CA list ships inside the
//! library. (Android needs the verifier initialised with the app's `Context` first: the
//! Android layer does that, see `android/README.md`.)
//!
//! The explicit extra CA ([`super::ServerConfig::extra_ca_cert_pem`]) is added on top: a
//! chain the platform refuses because it does not know the issuer is accepted if it leads to
//! that CA (checked by webpki). A platform refusal for any other reason (expired, revoked,
//! wrong name) stands. This is one code path on every platform (the platform verifier
//! takes extra roots on some platforms only), so what the tests here check is what ships.
//!
//! The TLS configuration is built when the first HTTPS request needs it, not when the app
//! opens: reading the platform's store is I/O (on Android a call into the JVM).

use reqwest::Url;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::sync::Arc;

use crate::error::Error;

/// The extra CA certificates from PEM, checked: at least one certificate, each usable as a
/// trust anchor.
pub(crate) fn parse_extra_roots(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let invalid = |message: String| Error::Config { field: "extra_ca_cert_pem", message };
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(format!("not PEM certificates: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no certificate in the PEM text".to_owned()));
    }
    let mut store = RootCertStore::empty();
    for cert in &certs {
        store.add(cert.clone()).map_err(|e| invalid(format!("not a CA certificate: {e}")))?;
    }
    Ok(certs)
}

/// The rustls configuration of the HTTP client: TLS 1.2 and 1.3 with ring, HTTP/1.1, the
/// platform's verifier with `extra_roots` on top.
pub(crate) fn client_config(
    extra_roots: &[CertificateDer<'static>],
) -> Result<rustls::ClientConfig, Error> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = TrustPolicy::new(provider.clone(), extra_roots)?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS configuration: {e}")))?
        .dangerous() // a custom verifier: the platform's, see TrustPolicy
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Whether a base URL needs TLS.
pub(crate) fn is_https(url: &Url) -> bool {
    url.scheme() == "https"
}

/// The platform's verifier, and webpki with the extra CA for the chains whose issuer the
/// platform does not know.
#[derive(Debug)]
struct TrustPolicy {
    platform: rustls_platform_verifier::Verifier,
    extra: Option<Arc<WebPkiServerVerifier>>,
}

impl TrustPolicy {
    fn new(
        provider: Arc<CryptoProvider>,
        extra_roots: &[CertificateDer<'static>],
    ) -> Result<Self, Error> {
        let platform = rustls_platform_verifier::Verifier::new(provider.clone())
            .map_err(|e| Error::Untrusted(format!("the platform's trust store: {e}")))?;
        let extra = match extra_roots {
            [] => None,
            roots => {
                let mut store = RootCertStore::empty();
                for root in roots {
                    store.add(root.clone()).map_err(|e| Error::Config {
                        field: "extra_ca_cert_pem",
                        message: e.to_string(),
                    })?;
                }
                Some(
                    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider)
                        .build()
                        .map_err(|e| Error::Config {
                            field: "extra_ca_cert_pem",
                            message: e.to_string(),
                        })?,
                )
            }
        };
        Ok(Self { platform, extra })
    }
}

impl ServerCertVerifier for TrustPolicy {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let refused = match self.platform.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(verified) => return Ok(verified),
            Err(refused) => refused,
        };
        match (&self.extra, &refused) {
            (Some(extra), rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
                extra
                    .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
                    .map_err(|_| refused)
            }
            _ => Err(refused),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.platform.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.platform.supported_verify_schemes()
    }
}

/// The TLS failure inside a transport error, if the server's certificate was the problem
/// (reqwest wraps rustls's error in hyper's and in an `io::Error`, whose `source()` skips
/// it: the chain is walked through `get_ref` too).
pub(crate) fn certificate_refusal(error: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return matches!(
                tls,
                rustls::Error::InvalidCertificate(_)
                    | rustls::Error::NoCertificatesPresented
                    | rustls::Error::InvalidCertRevocationList(_)
            )
            .then(|| tls.to_string());
        }
        current = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_roots_must_be_ca_certificates_in_pem() {
        for bad in [
            &b""[..],
            b"not pem at all",
            b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        ] {
            assert!(
                matches!(parse_extra_roots(bad), Err(Error::Config { .. })),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_certificate_refusal_is_found_inside_io_errors() {
        let tls = rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        let io = std::io::Error::other(tls);
        let found = certificate_refusal(&io).expect("found through io::Error::get_ref");
        assert!(found.contains("UnknownIssuer"), "{found}");
        let other = std::io::Error::other(rustls::Error::HandshakeNotComplete);
        assert_eq!(certificate_refusal(&other), None, "other TLS failures are not trust");
        let plain = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert_eq!(certificate_refusal(&plain), None);
    }
}
