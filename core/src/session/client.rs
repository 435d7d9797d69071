//! HTTP client for the twostep server: one method per route, every failure typed.
//!
//! reqwest with rustls on tokio; whom it trusts is `tls.rs` (the platform's verifier, plus an
//! optional extra CA). Each response's `x-twostep-server-time` header updates the
//! measured clock offset (server minus local, taken at the midpoint of the round trip),
//! which keeps countdowns honest on a device whose clock is off and which the
//! authenticator uses later. Bodies are read up to a bound, so a misbehaving server cannot
//! make the app allocate without limit.

use reqwest::{Method, StatusCode, Url};
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use twostep_otp::UnixTime;
use twostep_proto::{
    Channel, ChannelSwitch, CodeChallenge, CodeSubmission, DeviceChallenge, DeviceChallengeRequest,
    DeviceList, DeviceSessionRequest, ErrorBody, ErrorCode, HEADER_SERVER_TIME, MeResponse,
    SessionGrant, SignInRequest, SignInResponse,
};
use zeroize::Zeroizing;

use super::tls;
use crate::clock::{ClockOffset, ClockSource};
use crate::error::Error;

/// The largest response body read, in bytes.
const MAX_RESPONSE_BYTES: usize = 256 * 1024;

/// Where the server is and how patient to be with it.
#[derive(Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Base URL, `https://host[:port][/prefix]` (`http` is accepted for local servers).
    /// `None`: the server of the data dir's last completed sign-in, if any.
    pub url: Option<String>,
    /// Time allowed to establish a connection.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, connection included.
    pub request_timeout: Duration,
    /// Extra trusted CA certificates (PEM), for servers with a private CA that the platform
    /// does not trust; added on top of the platform's trust decisions.
    pub extra_ca_cert_pem: Option<Vec<u8>>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("url", &self.url)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("extra_ca_cert_pem", &self.extra_ca_cert_pem.as_ref().map(|pem| pem.len()))
            .finish()
    }
}

impl ServerConfig {
    /// `url` with the defaults: 10 s to connect, 30 s per request, the platform's trust.
    pub fn new(url: impl Into<String>) -> Self {
        Self { url: Some(url.into()), ..Self::default() }
    }
}

impl Default for ServerConfig {
    /// No URL, and the defaults of [`ServerConfig::new`].
    fn default() -> Self {
        Self {
            url: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            extra_ca_cert_pem: None,
        }
    }
}

/// Calls the server's routes.
pub(crate) struct ApiClient {
    base: Url,
    config: ServerConfig,
    extra_roots: Vec<CertificateDer<'static>>,
    http: OnceLock<reqwest::Client>,
    clock: Arc<dyn ClockSource>,
    offset: Mutex<Option<ClockOffset>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("base", &self.base.as_str()).finish_non_exhaustive()
    }
}

/// A body to send: JSON serialized into a buffer that is zeroized if it held a secret.
type Body = Zeroizing<Vec<u8>>;

fn json_body<T: Serialize>(value: &T) -> Result<Body, Error> {
    serde_json::to_vec(value)
        .map(Zeroizing::new)
        .map_err(|e| Error::Internal(format!("encoding a request: {e}")))
}

impl ApiClient {
    /// Checks the configuration (an extra CA certificate is parsed and checked now, so that
    /// a bad one is reported when the app opens). The HTTP client itself, and with it the
    /// platform's trust store, is built on first use.
    pub(crate) fn new(config: &ServerConfig, clock: Arc<dyn ClockSource>) -> Result<Self, Error> {
        let base = parse_base_url(config.url.as_deref().unwrap_or(""))?;
        let extra_roots = match &config.extra_ca_cert_pem {
            None => vec![],
            Some(pem) => tls::parse_extra_roots(pem)?,
        };
        Ok(Self {
            base,
            config: config.clone(),
            extra_roots,
            http: OnceLock::new(),
            clock,
            offset: Mutex::new(None),
        })
    }

    /// The base URL as given, normalized.
    pub(crate) fn base_url(&self) -> &str {
        self.base.as_str()
    }

    /// The most recent clock offset measurement.
    pub(crate) fn clock_offset(&self) -> Option<ClockOffset> {
        *self.offset.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn http(&self) -> Result<&reqwest::Client, Error> {
        if let Some(client) = self.http.get() {
            return Ok(client);
        }
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.config.connect_timeout)
            .timeout(self.config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("twostep-core/", env!("CARGO_PKG_VERSION")))
            .https_only(tls::is_https(&self.base));
        if tls::is_https(&self.base) {
            builder = builder.use_preconfigured_tls(tls::client_config(&self.extra_roots)?);
        }
        let client = builder
            .build()
            .map_err(|e| Error::Config { field: "server", message: e.to_string() })?;
        Ok(self.http.get_or_init(|| client))
    }

    fn url(&self, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::Config {
                field: "server url",
                message: "cannot be a base URL".to_owned(),
            })?
            .pop_if_empty()
            .extend(segments);
        Ok(url)
    }

    /// Sends one request and returns the body of a 2xx response.
    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        token: Option<&str>,
        body: Option<Body>,
    ) -> Result<Vec<u8>, Error> {
        let mut request = self.http()?.request(method, self.url(segments)?);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }
        let sent_at = self.clock.now();
        let mut response = request.send().await.map_err(|e| Error::Transport(e.without_url()))?;
        let received_at = self.clock.now();
        self.record_server_time(&response, sent_at, received_at);

        let status = response.status();
        let retry_after = header_u64(&response, reqwest::header::RETRY_AFTER.as_str());
        let mut bytes = Vec::new();
        while let Some(chunk) =
            response.chunk().await.map_err(|e| Error::Transport(e.without_url()))?
        {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(Error::Protocol {
                    status: status.as_u16(),
                    message: format!("response larger than {MAX_RESPONSE_BYTES} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        if status.is_success() {
            Ok(bytes)
        } else {
            Err(error_from_response(status, retry_after, &bytes))
        }
    }

    fn record_server_time(
        &self,
        response: &reqwest::Response,
        sent_at: SystemTime,
        received_at: SystemTime,
    ) {
        let Some(server_ms) = header_u64(response, HEADER_SERVER_TIME) else { return };
        let millis = |t: SystemTime| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let local_mid = millis(sent_at) / 2 + millis(received_at) / 2;
        let offset_ms = i64::try_from(i128::from(server_ms) - local_mid as i128).unwrap_or(0);
        let measured = ClockOffset { offset_ms, measured_at: UnixTime::from(received_at) };
        *self.offset.lock().unwrap_or_else(|e| e.into_inner()) = Some(measured);
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        segments: &[&str],
        token: Option<&str>,
        body: Option<Body>,
    ) -> Result<T, Error> {
        let bytes = self.send(method, segments, token, body).await?;
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol {
            status: 200,
            message: format!("unexpected response to {}: {e}", segments.join("/")),
        })
    }

    /// `POST /v1/signin`.
    pub(crate) async fn sign_in(&self, request: &SignInRequest) -> Result<SignInResponse, Error> {
        self.call(Method::POST, &["v1", "signin"], None, Some(json_body(request)?)).await
    }

    /// `POST /v1/signin/{id}/code`.
    pub(crate) async fn submit_code(
        &self,
        challenge_id: &str,
        code: &str,
    ) -> Result<SignInResponse, Error> {
        let body = json_body(&CodeSubmission { code: code.to_owned() })?;
        self.call(Method::POST, &["v1", "signin", challenge_id, "code"], None, Some(body)).await
    }

    /// `POST /v1/signin/{id}/recovery`.
    pub(crate) async fn submit_recovery_code(
        &self,
        challenge_id: &str,
        code: &str,
    ) -> Result<SignInResponse, Error> {
        let body = json_body(&CodeSubmission { code: code.to_owned() })?;
        self.call(Method::POST, &["v1", "signin", challenge_id, "recovery"], None, Some(body)).await
    }

    /// `POST /v1/signin/{id}/resend`.
    pub(crate) async fn resend(&self, challenge_id: &str) -> Result<CodeChallenge, Error> {
        self.call(Method::POST, &["v1", "signin", challenge_id, "resend"], None, None).await
    }

    /// `POST /v1/signin/{id}/channel`.
    pub(crate) async fn switch_channel(
        &self,
        challenge_id: &str,
        channel: Channel,
    ) -> Result<CodeChallenge, Error> {
        let body = json_body(&ChannelSwitch { channel })?;
        self.call(Method::POST, &["v1", "signin", challenge_id, "channel"], None, Some(body)).await
    }

    /// `DELETE /v1/signin/{id}`.
    pub(crate) async fn cancel(&self, challenge_id: &str) -> Result<(), Error> {
        self.send(Method::DELETE, &["v1", "signin", challenge_id], None, None).await.map(drop)
    }

    /// `POST /v1/device/challenge`.
    pub(crate) async fn device_challenge(&self, device_id: &str) -> Result<DeviceChallenge, Error> {
        let body = json_body(&DeviceChallengeRequest { device_id: device_id.to_owned() })?;
        self.call(Method::POST, &["v1", "device", "challenge"], None, Some(body)).await
    }

    /// `POST /v1/device/registration-challenge`: the nonce a new registration signs.
    pub(crate) async fn registration_challenge(&self) -> Result<DeviceChallenge, Error> {
        self.call(Method::POST, &["v1", "device", "registration-challenge"], None, None).await
    }

    /// `POST /v1/device/session`.
    pub(crate) async fn device_session(
        &self,
        request: &DeviceSessionRequest,
    ) -> Result<SessionGrant, Error> {
        self.call(Method::POST, &["v1", "device", "session"], None, Some(json_body(request)?)).await
    }

    /// `POST /v1/signout`.
    pub(crate) async fn sign_out(&self, token: &str) -> Result<(), Error> {
        self.send(Method::POST, &["v1", "signout"], Some(token), None).await.map(drop)
    }

    /// `GET /v1/me`.
    pub(crate) async fn me(&self, token: &str) -> Result<MeResponse, Error> {
        self.call(Method::GET, &["v1", "me"], Some(token), None).await
    }

    /// `GET /v1/me/devices`.
    pub(crate) async fn devices(&self, token: &str) -> Result<DeviceList, Error> {
        self.call(Method::GET, &["v1", "me", "devices"], Some(token), None).await
    }

    /// `DELETE /v1/me/devices/{id}`.
    pub(crate) async fn delete_device(&self, token: &str, device_id: &str) -> Result<(), Error> {
        self.send(Method::DELETE, &["v1", "me", "devices", device_id], Some(token), None)
            .await
            .map(drop)
    }
}

pub(crate) fn parse_base_url(raw: &str) -> Result<Url, Error> {
    let invalid =
        |message: &str| Error::Config { field: "server url", message: message.to_owned() };
    let url = Url::parse(raw.trim()).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("must start with https:// or http://"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(invalid("must name a host"));
    }
    if url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
        || url.password().is_some()
    {
        return Err(invalid("must not carry credentials, a query or a fragment"));
    }
    Ok(url)
}

fn header_u64(response: &reqwest::Response, name: &str) -> Option<u64> {
    response.headers().get(name)?.to_str().ok()?.trim().parse().ok()
}

fn error_from_response(status: StatusCode, retry_after: Option<u64>, body: &[u8]) -> Error {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => Error::Api {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
            retry_after_secs: error.retry_after_secs.or(retry_after),
            attempts_left: error.attempts_left,
        },
        Err(_) if status == StatusCode::TOO_MANY_REQUESTS => Error::Api {
            status: 429,
            code: ErrorCode::RateLimited,
            message: "too many requests".to_owned(),
            retry_after_secs: retry_after,
            attempts_left: None,
        },
        Err(_) => Error::Protocol {
            status: status.as_u16(),
            message: format!("HTTP {status} without a twostep error body"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn client(url: &str) -> Result<ApiClient, Error> {
        ApiClient::new(&ServerConfig::new(url), Arc::new(SystemClock))
    }

    #[test]
    fn routes_are_joined_under_the_base_path_with_escaping() {
        let api = client("https://example.com/prefix/").unwrap();
        assert_eq!(
            api.url(&["v1", "signin", "a/b"]).unwrap().as_str(),
            "https://example.com/prefix/v1/signin/a%2Fb"
        );
        let api = client("http://127.0.0.1:8080").unwrap();
        assert_eq!(api.url(&["v1", "me"]).unwrap().as_str(), "http://127.0.0.1:8080/v1/me");
    }

    #[test]
    fn bad_urls_and_certificates_are_rejected_up_front() {
        for bad in [
            "",
            "example.com",
            "ftp://example.com",
            "https://u:p@example.com",
            "https://e.com/?q=1",
            "mailto:x",
        ] {
            assert!(matches!(client(bad), Err(Error::Config { .. })), "{bad}");
        }
        let mut config = ServerConfig::new("https://example.com");
        config.extra_ca_cert_pem =
            Some(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n".to_vec());
        assert!(ApiClient::new(&config, Arc::new(SystemClock)).is_err());
    }

    #[test]
    fn error_bodies_become_api_errors_and_bare_429s_rate_limits() {
        let body = br#"{"error":{"code":"invalid_code","message":"wrong","attempts_left":2}}"#;
        match error_from_response(StatusCode::UNAUTHORIZED, None, body) {
            Error::Api { code: ErrorCode::InvalidCode, attempts_left: Some(2), .. } => {}
            other => panic!("{other:?}"),
        }
        match error_from_response(StatusCode::TOO_MANY_REQUESTS, Some(30), b"slow down") {
            Error::Api { code: ErrorCode::RateLimited, retry_after_secs: Some(30), .. } => {}
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            error_from_response(StatusCode::BAD_GATEWAY, None, b"<html>"),
            Error::Protocol { status: 502, .. }
        ));
    }
}
