//! The end-to-end harness: the real `twostep-server` on 127.0.0.1 with a temporary data
//! dir, an operator signed in over the admin HTTP API, a real SMTP sink (mailin-embedded)
//! and an HTTP receiver standing in for the SMS gateway. Tests drive the server over HTTP
//! exactly as clients do.
//!
//! Every exchange is checked against the server's OpenAPI document ([`contract`]): the
//! harness's own calls ([`Harness::call`], [`Harness::send`], [`contract::Checker::send`])
//! fail their test at the call; clients under test (the core) reach the server through a
//! checking proxy ([`Harness::client_url`]) whose violations fail the test when the harness
//! is dropped.
//!
//! The store comes from `TWOSTEP_TEST_STORE`: unset or `sled` = the embedded store in the
//! data dir; `postgres` = a real PostgreSQL cluster that this test process starts (initdb in
//! a temp dir, random port; removed when the process ends), with a fresh schema per harness.
//! `scripts/test-all.sh` runs the suite once per store.

pub mod contract;
mod proxy;
pub mod tls;

use contract::{Checker, Reply};

use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use twostep_server::{Config, RunningServer};

/// Operator credentials the harness creates.
pub const OPERATOR: (&str, &str) = ("root-operator", "operator-password-1");

/// Where the server keeps its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    /// sled in the data dir.
    Sled,
    /// A schema in this process's throwaway PostgreSQL cluster.
    Postgres,
}

impl StoreKind {
    /// The store `TWOSTEP_TEST_STORE` asks for (`sled` when unset).
    pub fn from_env() -> Self {
        match std::env::var("TWOSTEP_TEST_STORE").as_deref() {
            Ok("postgres") | Ok("postgresql") | Ok("pg") => StoreKind::Postgres,
            Ok("sled") | Ok("") | Err(_) => StoreKind::Sled,
            Ok(other) => panic!("TWOSTEP_TEST_STORE={other}: use sled or postgres"),
        }
    }
}

/// A URL for a fresh, empty schema in this process's throwaway PostgreSQL cluster.
pub fn fresh_database_url() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let cluster = twostep_pgtemp::Cluster::shared().expect("a throwaway PostgreSQL cluster");
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    cluster.schema_url(&format!("e2e_{n}")).expect("a fresh schema")
}

/// What the server delivers through, how it is set up, and where it stores.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// The store; `None` = [`StoreKind::from_env`].
    pub store: Option<StoreKind>,
    /// Send email through a local SMTP sink instead of the outbox.
    pub smtp: bool,
    /// Send SMS through a local HTTP receiver instead of the outbox.
    pub sms: bool,
    /// Leave the server without an operator: the setup token stays unused.
    pub no_operator: bool,
    /// Changes to the configuration before the server starts.
    pub configure: Option<fn(&mut Config)>,
}

/// A message caught by a sink.
#[derive(Debug, Clone)]
pub struct Caught {
    /// Recipient.
    pub to: String,
    /// Raw text (email: the full message; SMS: the text).
    pub text: String,
    /// `Authorization` header the SMS gateway saw.
    pub auth: Option<String>,
}

/// A running server plus everything around it.
pub struct Harness {
    server: Option<RunningServer>,
    proxy: Option<proxy::Proxy>,
    proxy_addr: SocketAddr,
    checker: Checker,
    dir: tempfile::TempDir,
    config: Config,
    http: reqwest::Client,
    op_token: String,
    setup_token: Option<String>,
    /// Mail received by the SMTP sink.
    pub mail: Arc<Mutex<Vec<Caught>>>,
    /// Texts received by the SMS receiver.
    pub texts: Arc<Mutex<Vec<Caught>>>,
    /// What the harness enrolled per user: channel → destination or TOTP secret.
    enrolled: Mutex<std::collections::HashMap<String, Vec<(String, String)>>>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").field("url", &self.url()).finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct SmtpSink {
    mail: Arc<Mutex<Vec<Caught>>>,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl mailin_embedded::Handler for SmtpSink {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.buf.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        if let Ok(mut m) = self.mail.lock() {
            for to in &self.to {
                m.push(Caught { to: to.clone(), text: text.clone(), auth: None });
            }
        }
        mailin_embedded::response::OK
    }
}

fn start_smtp_sink(mail: Arc<Mutex<Vec<Caught>>>) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind smtp sink");
    let port = listener.local_addr().expect("addr").port();
    let mut server = mailin_embedded::Server::new(SmtpSink { mail, to: vec![], buf: vec![] });
    server.with_name("sink.test").with_num_threads(2).with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    port
}

async fn start_sms_receiver(texts: Arc<Mutex<Vec<Caught>>>) -> SocketAddr {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sms receiver");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route(
        "/send",
        post(move |headers: axum::http::HeaderMap, axum::Json(body): axum::Json<Value>| {
            let texts = texts.clone();
            async move {
                let auth =
                    headers.get("authorization").and_then(|v| v.to_str().ok()).map(str::to_owned);
                let c = Caught {
                    to: body["to"].as_str().unwrap_or_default().into(),
                    text: body["text"].as_str().unwrap_or_default().into(),
                    auth,
                };
                if let Ok(mut t) = texts.lock() {
                    t.push(c);
                }
                axum::Json(json!({"queued": true}))
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// The first run of `digits` consecutive ASCII digits in `text` after "code is".
pub fn extract_code(text: &str, digits: usize) -> Option<String> {
    let start = text.find("code is").map(|i| i + 7).unwrap_or(0);
    let b = &text.as_bytes()[start..];
    let mut i = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let j = (i..b.len()).find(|&j| !b[j].is_ascii_digit()).unwrap_or(b.len());
            if j - i == digits {
                return Some(text[start + i..start + j].to_owned());
            }
            i = j;
        } else {
            i += 1;
        }
    }
    None
}

/// The TOTP code (SHA-1, 6 digits, 30 s) of a base32 secret at a Unix time, from
/// `twostep-otp`: the tests check the server with the authenticator's implementation, not
/// with the server's own code.
pub fn totp_code(secret_b32: &str, unix_secs: u64) -> String {
    let secret = twostep_otp::Secret::from_base32(secret_b32).expect("base32 secret");
    let time = twostep_otp::UnixTime::from_secs(unix_secs);
    twostep_otp::algorithm::totp(twostep_otp::Algorithm::Sha1, &secret, time, 30, 6)
}

/// Unix seconds now.
pub fn now() -> u64 {
    twostep_server::clock::now()
}

impl Harness {
    /// A server whose SMS and email land in the outbox directory.
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    /// A server with the given delivery options.
    pub async fn start_with(opts: Options) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mail = Arc::new(Mutex::new(Vec::new()));
        let texts = Arc::new(Mutex::new(Vec::new()));
        let mut config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: dir.path().join("server"),
            ..Config::default()
        };
        if opts.store.unwrap_or_else(StoreKind::from_env) == StoreKind::Postgres {
            config.database_url = Some(twostep_server::config::DatabaseUrl(fresh_database_url()));
            config.database_pool_size = 4;
        }
        config.hash_threads = Some(2);
        if opts.smtp {
            let port = start_smtp_sink(mail.clone());
            config.smtp = Some(twostep_server::config::SmtpConfig {
                host: "127.0.0.1".into(),
                port,
                username: None,
                password: None,
                tls: twostep_server::config::SmtpTls::None,
                from: "twostep@sink.test".into(),
                timeout_secs: 5,
            });
        }
        if opts.sms {
            let addr = start_sms_receiver(texts.clone()).await;
            config.sms = Some(twostep_server::config::SmsConfig {
                url: format!("http://{addr}/send"),
                auth_header: Some("Bearer gateway-secret".into()),
                from: Some("twostep".into()),
                timeout_secs: 5,
            });
        }
        if let Some(f) = opts.configure {
            f(&mut config);
        }
        let server = twostep_server::start(config.clone()).await.expect("server starts");
        let token = server.setup_token().expect("fresh server has a setup token").to_owned();
        let http = reqwest::Client::new();
        let url = server.url();
        config.listen = server.addr();
        let checker = Checker::new();
        let proxy = proxy::Proxy::start(
            SocketAddr::from(([127, 0, 0, 1], 0)),
            url.clone(),
            checker.clone(),
        )
        .await
        .expect("checking proxy starts");
        let mut h = Self {
            server: Some(server),
            proxy_addr: proxy.addr(),
            proxy: Some(proxy),
            checker,
            dir,
            config,
            http,
            op_token: String::new(),
            setup_token: Some(token.clone()),
            mail,
            texts,
            enrolled: Default::default(),
        };
        if opts.no_operator {
            return h;
        }
        let r = h
            .send(h.http.post(format!("{url}/v1/admin/bootstrap")).json(
                &json!({"setup_token": token, "username": OPERATOR.0, "password": OPERATOR.1}),
            ))
            .await;
        assert_eq!(r.status, 201, "bootstrap operator");
        h.setup_token = None;
        h.operator_sign_in().await;
        h
    }

    /// The unused setup token of a server started with [`Options::no_operator`].
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }

    /// The current value of a Prometheus counter or gauge at `/metrics` (`twostep_` prefix
    /// included in `name`).
    pub async fn metric(&self, name: &str) -> u64 {
        let text = self.send(self.http.get(format!("{}/metrics", self.url()))).await.text();
        text.lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("metric {name} not found"))
    }

    /// The server's configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    async fn operator_sign_in(&mut self) {
        let v = self
            .send(
                self.http
                    .post(format!("{}/v1/admin/signin", self.url()))
                    .json(&json!({"username": OPERATOR.0, "password": OPERATOR.1})),
            )
            .await
            .json();
        self.op_token = v["token"].as_str().expect("token").to_owned();
    }

    /// `http://127.0.0.1:PORT` (stable across restarts).
    pub fn url(&self) -> String {
        format!("http://{}", self.config.listen)
    }

    /// The URL for clients under test (the core): the checking proxy in front of the server,
    /// stable across restarts.
    pub fn client_url(&self) -> String {
        format!("http://{}", self.proxy_addr)
    }

    /// Where [`Harness::client_url`] listens: the upstream of a [`tls::TlsTerminator`].
    pub fn client_addr(&self) -> SocketAddr {
        self.proxy_addr
    }

    /// The contract checker of this harness (clone it into spawned tasks and send through
    /// [`Checker::send`]).
    pub fn checker(&self) -> Checker {
        self.checker.clone()
    }

    /// Sends a request built on [`Harness::http`] and checks the exchange against the
    /// document; a violation fails the test here.
    pub async fn send(&self, rb: reqwest::RequestBuilder) -> Reply {
        self.fail_on_proxied_violations();
        self.checker.send(rb).await
    }

    fn fail_on_proxied_violations(&self) {
        let v = self.checker.take_violations();
        assert!(v.is_empty(), "{}", v.join("\n"));
    }

    /// The server's data dir.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The store this harness runs on.
    pub fn store_kind(&self) -> StoreKind {
        if self.config.database_url.is_some() { StoreKind::Postgres } else { StoreKind::Sled }
    }

    /// Every directory where the server's records end up on disk: the data dir, and with
    /// PostgreSQL the cluster's directory (tables and write-ahead log).
    pub fn storage_dirs(&self) -> Vec<PathBuf> {
        let mut dirs = vec![self.config.data_dir.clone()];
        if self.store_kind() == StoreKind::Postgres {
            dirs.push(twostep_pgtemp::Cluster::shared().expect("cluster").dir().to_owned());
        }
        dirs
    }

    /// A scratch directory that lives as long as the harness (for client data dirs).
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(&p).expect("scratch dir");
        p
    }

    /// The running server's state.
    pub fn app(&self) -> &Arc<twostep_server::App> {
        self.server.as_ref().expect("server running").app()
    }

    /// An HTTP client. Requests sent with it directly are not checked against the document:
    /// send them through [`Harness::send`] unless they test the transport itself.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Stops the server (clients then see it as down).
    pub async fn stop(&mut self) {
        if let Some(p) = self.proxy.take() {
            p.stop().await;
        }
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }

    /// Stops and starts the server on the same port and data dir.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut last = None;
        for _ in 0..50 {
            match twostep_server::start(self.config.clone()).await {
                Ok(s) => {
                    self.server = Some(s);
                    self.start_proxy_again().await;
                    if !self.op_token.is_empty() {
                        self.operator_sign_in().await;
                    }
                    return;
                }
                Err(e) => {
                    last = Some(e.to_string());
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
        }
        panic!("server did not restart: {last:?}");
    }

    async fn start_proxy_again(&mut self) {
        for _ in 0..50 {
            let started =
                proxy::Proxy::start(self.proxy_addr, self.url(), self.checker.clone()).await;
            if let Ok(p) = started {
                self.proxy = Some(p);
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the checking proxy did not restart on {}", self.proxy_addr);
    }

    /// Any JSON call, checked against the document; returns status and body (`Value::Null`
    /// when empty).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        self.call_at(&self.url(), method, path, token, body).await
    }

    /// A JSON call to another server (a replica) at `base` (`http://127.0.0.1:PORT`).
    pub async fn call_at(
        &self,
        base: &str,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, format!("{base}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = self.send(req).await;
        (r.status, r.json())
    }

    /// A call as the operator.
    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        self.call(method, path, Some(&self.op_token), body).await
    }

    /// The operator's bearer token (operator sessions live in the store, so it works on
    /// every replica).
    pub fn operator_token(&self) -> &str {
        &self.op_token
    }

    /// Starts another replica of this server on the same PostgreSQL database: its own port,
    /// its own data dir (with a copy of the master key, as operators deploy it) and its own
    /// memory. Panics on the embedded store, which one process owns.
    pub async fn start_replica(&self) -> Replica {
        assert_eq!(self.store_kind(), StoreKind::Postgres, "replicas share PostgreSQL");
        let dir = tempfile::tempdir().expect("tempdir");
        let data_dir = dir.path().join("server");
        std::fs::create_dir_all(&data_dir).expect("replica data dir");
        std::fs::copy(self.config.data_dir.join("server.key"), data_dir.join("server.key"))
            .expect("copy the master key");
        let config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir,
            ..self.config.clone()
        };
        let server = twostep_server::start(config).await.expect("replica starts");
        Replica { server: Some(server), _dir: dir }
    }

    /// Creates an organization.
    pub async fn create_org(&self, name: &str, require_two_step: bool) {
        let (s, v) = self
            .admin(
                "POST",
                "/v1/admin/orgs",
                Some(json!({"name": name, "policy": {"require_two_step": require_two_step}})),
            )
            .await;
        assert_eq!(s, 201, "create org: {v}");
    }

    /// Turns "Require Two-Step Authentication" on or off.
    pub async fn set_require_two_step(&self, org: &str, on: bool) {
        self.set_policy(org, json!({"require_two_step": on})).await;
    }

    /// Changes policy fields (a `PolicyUpdate` as JSON).
    pub async fn set_policy(&self, org: &str, update: Value) {
        let (s, v) =
            self.admin("PATCH", &format!("/v1/admin/orgs/{org}/policy"), Some(update)).await;
        assert_eq!(s, 200, "set policy: {v}");
    }

    /// Creates a user.
    pub async fn create_user(&self, org: &str, username: &str, password: &str) {
        let (s, v) = self
            .admin(
                "POST",
                &format!("/v1/admin/orgs/{org}/users"),
                Some(json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(s, 201, "create user: {v}");
    }

    /// Signs in on the web and returns the token: a full session, a setup-only session
    /// under the org policy, or — for users the harness enrolled — a session completed with
    /// a code from the sink or the authenticator secret.
    pub async fn web_token(&self, username: &str, password: &str) -> String {
        let (s, v) = self
            .call(
                "POST",
                "/v1/signin",
                None,
                Some(json!({"username": username, "password": password, "client": "web"})),
            )
            .await;
        assert_eq!(s, 200, "web sign-in: {v}");
        match v["status"].as_str() {
            Some("session") => v["token"].as_str().expect("token").to_owned(),
            Some("setup_required") => {
                v["session"]["token"].as_str().expect("setup token").to_owned()
            }
            _ => {
                let id = v["challenge_id"].as_str().expect("challenge").to_owned();
                let channel = v["channel"].as_str().expect("channel").to_owned();
                let known =
                    self.enrolled.lock().expect("lock").get(username).cloned().unwrap_or_default();
                let (_, dest) = known.iter().find(|(c, _)| *c == channel).unwrap_or_else(|| {
                    panic!("{username} has {channel} the harness did not enroll")
                });
                let candidates = if channel == "totp" {
                    vec![totp_code(dest, now()), totp_code(dest, now() + 30)]
                } else {
                    self.latest_code_for(dest).into_iter().collect()
                };
                for code in candidates {
                    let (s, v) = self
                        .call(
                            "POST",
                            &format!("/v1/signin/{id}/code"),
                            None,
                            Some(json!({"code": code})),
                        )
                        .await;
                    if s == 200 {
                        return v["token"].as_str().expect("token").to_owned();
                    }
                }
                panic!("could not complete the sign-in of {username}");
            }
        }
    }

    fn remember(&self, username: &str, channel: &str, value: &str) {
        self.enrolled
            .lock()
            .expect("lock")
            .entry(username.to_owned())
            .or_default()
            .push((channel.to_owned(), value.to_owned()));
    }

    /// Enrolls an authenticator app and returns its base32 secret. The enrollment is
    /// confirmed with the code of the previous step, so codes for now and now+30 s still work.
    pub async fn enroll_totp(&self, username: &str, password: &str) -> String {
        let t = self.web_token(username, password).await;
        let (s, v) = self.call("POST", "/v1/me/two-step/totp", Some(&t), None).await;
        assert_eq!(s, 200, "enroll totp: {v}");
        let secret = v["secret"].as_str().expect("secret").to_owned();
        let code = totp_code(&secret, now() - 30);
        let (s, v) = self
            .call("POST", "/v1/me/two-step/totp/confirm", Some(&t), Some(json!({"code": code})))
            .await;
        assert_eq!(s, 200, "confirm totp: {v}");
        self.remember(username, "totp", &secret);
        secret
    }

    /// Enrolls email; returns the recovery codes (if this was the first channel).
    pub async fn enroll_email(&self, username: &str, password: &str, email: &str) -> Vec<String> {
        self.enroll_sent(username, password, "email", "email", email).await
    }

    /// Enrolls SMS; returns the recovery codes (if this was the first channel).
    pub async fn enroll_sms(&self, username: &str, password: &str, phone: &str) -> Vec<String> {
        self.enroll_sent(username, password, "sms", "phone", phone).await
    }

    async fn enroll_sent(
        &self,
        username: &str,
        password: &str,
        channel: &str,
        field: &str,
        dest: &str,
    ) -> Vec<String> {
        let t = self.web_token(username, password).await;
        let (s, v) = self
            .call(
                "POST",
                &format!("/v1/me/two-step/{channel}"),
                Some(&t),
                Some(json!({ field: dest })),
            )
            .await;
        assert_eq!(s, 200, "enroll {channel}: {v}");
        let code = self.latest_code_for(dest).expect("confirmation code delivered");
        let (s, v) = self
            .call(
                "POST",
                &format!("/v1/me/two-step/{channel}/confirm"),
                Some(&t),
                Some(json!({"code": code})),
            )
            .await;
        assert_eq!(s, 200, "confirm {channel}: {v}");
        self.remember(username, channel, dest);
        v["recovery_codes"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    /// Every code sent to `destination`, oldest first: from the SMTP sink, the SMS
    /// receiver, or the outbox directory.
    pub fn codes_for(&self, destination: &str) -> Vec<String> {
        let mut out = Vec::new();
        for sink in [&self.mail, &self.texts] {
            if let Ok(m) = sink.lock() {
                out.extend(
                    m.iter()
                        .filter(|c| c.to == destination)
                        .filter_map(|c| extract_code(&c.text, 6)),
                );
            }
        }
        let outbox = self.config.data_dir.join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&outbox)
            .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.retain(|p| p.extension().is_some_and(|e| e == "json"));
        files.sort();
        for f in files {
            if let Ok(v) = serde_json::from_slice::<Value>(&std::fs::read(&f).unwrap_or_default())
                && v["to"] == destination
                && let Some(c) = v["code"].as_str()
            {
                out.push(c.to_owned());
            }
        }
        out
    }

    /// The newest code sent to `destination`.
    pub fn latest_code_for(&self, destination: &str) -> Option<String> {
        self.codes_for(destination).pop()
    }

    /// Operator: clears the user's two-step and revokes sessions and devices.
    pub async fn admin_reset(&self, username: &str) {
        let (s, v) =
            self.admin("POST", &format!("/v1/admin/users/{username}/reset-two-step"), None).await;
        assert_eq!(s, 200, "reset: {v}");
    }

    /// Operator: revokes all devices of a user.
    pub async fn revoke_devices(&self, username: &str) {
        let (s, v) =
            self.admin("DELETE", &format!("/v1/admin/users/{username}/devices"), None).await;
        assert_eq!(s, 200, "revoke devices: {v}");
    }

    /// Operator: unlocks a user.
    pub async fn unlock(&self, username: &str) {
        let (s, v) = self.admin("POST", &format!("/v1/admin/users/{username}/unlock"), None).await;
        assert_eq!(s, 200, "unlock: {v}");
    }

    /// Operator: the user as operators see it.
    pub async fn user_view(&self, username: &str) -> Value {
        let (s, v) = self.admin("GET", &format!("/v1/admin/users/{username}"), None).await;
        assert_eq!(s, 200, "user view: {v}");
        v
    }
}

impl Drop for Harness {
    /// Reports what the checker saw and fails the test with violations not reported yet
    /// (those of the checking proxy).
    fn drop(&mut self) {
        self.checker.report();
        let v = self.checker.take_violations();
        if !v.is_empty() && !std::thread::panicking() {
            panic!("{}", v.join("\n"));
        }
    }
}

/// A second server on the harness's database; see [`Harness::start_replica`].
#[derive(Debug)]
pub struct Replica {
    server: Option<RunningServer>,
    _dir: tempfile::TempDir,
}

impl Replica {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.server.as_ref().expect("replica running").url()
    }

    /// The setup token it printed (only while no operator exists).
    pub fn setup_token(&self) -> Option<&str> {
        self.server.as_ref().and_then(|s| s.setup_token())
    }

    /// Stops it.
    pub async fn stop(&mut self) {
        if let Some(s) = self.server.take() {
            s.shutdown().await;
        }
    }
}

/// An Ed25519 device key for tests that play a mobile device by hand.
pub struct TestDevice {
    key: ring::signature::Ed25519KeyPair,
}

impl std::fmt::Debug for TestDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TestDevice")
    }
}

impl Default for TestDevice {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDevice {
    /// A fresh key pair.
    pub fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).expect("keygen");
        Self { key: ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key") }
    }

    /// The public key, base64url without padding.
    pub fn public_key(&self) -> String {
        use ring::signature::KeyPair;
        data_encoding::BASE64URL_NOPAD.encode(self.key.public_key().as_ref())
    }

    /// A fresh registration nonce from the server.
    pub async fn nonce(h: &Harness) -> String {
        let (s, v) = h.call("POST", "/v1/device/registration-challenge", None, None).await;
        assert_eq!(s, 200, "registration challenge: {v}");
        v["nonce"].as_str().expect("nonce").to_owned()
    }

    /// The mobile registration body part for `username`: key, name, a fresh server nonce and
    /// the signature over them.
    pub async fn registration(&self, h: &Harness, username: &str, name: &str) -> Value {
        self.registration_as(h, twostep_proto::ClientKind::Mobile, username, name).await
    }

    /// The registration body part for a client kind (mobile or agent).
    pub async fn registration_as(
        &self,
        h: &Harness,
        client: twostep_proto::ClientKind,
        username: &str,
        name: &str,
    ) -> Value {
        let nonce = Self::nonce(h).await;
        let public_key = self.public_key();
        let signature = self.sign_registration(client, username, &public_key, &nonce);
        json!({"public_key": public_key, "name": name, "nonce": nonce, "signature": signature})
    }

    /// Signs a registration message (for tests that tamper with one part).
    pub fn sign_registration(
        &self,
        client: twostep_proto::ClientKind,
        username: &str,
        public_key: &str,
        nonce: &str,
    ) -> String {
        let msg = twostep_proto::device_registration_message(client, username, public_key, nonce);
        data_encoding::BASE64URL_NOPAD.encode(self.key.sign(&msg).as_ref())
    }

    /// Signs a device-session nonce.
    pub fn sign(&self, device_id: &str, nonce: &str) -> String {
        data_encoding::BASE64URL_NOPAD.encode(
            self.key.sign(&twostep_proto::device_session_message(device_id, nonce)).as_ref(),
        )
    }
}
