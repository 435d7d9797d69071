//! The server the HTTP targets talk to: the real axum router in-process
//! (`tower::ServiceExt::oneshot`, no socket) over a real store in a temporary directory,
//! and the credentials that let a fuzzed request reach past authentication — an operator,
//! a user with a session, a user with a pending code challenge, and a browser's CSRF
//! cookie with its token. It is built once, through the same router; when the fuzzer
//! spends it (a password changed, a challenge used up, an account throttled), a fresh pair
//! of users replaces it.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request};
use serde_json::{Value, json};
use tower::ServiceExt;
use twostep_proto::{ErrorBody, ErrorCode};
use twostep_server::{App, Config};

/// The org the world's users belong to.
pub const ORG: &str = "fuzz";
/// The world's users' password (the seeds use it, so that some bodies are right).
pub const PASSWORD: &str = "fuzz-world-password";
/// The world's user with a session: `fuzz-a`, then `fuzz-a-2`, ... after each refresh.
pub const USER_WITH_SESSION: &str = "fuzz-a";
/// The world's user with a pending challenge (TOTP).
pub const USER_WITH_CHALLENGE: &str = "fuzz-b";
/// The operator; not in any seed or dictionary, so the fuzzer cannot lock it out.
const OPERATOR: (&str, &str) = ("op-0c5e1d7a", "operator-password-0c5e1d7a");

/// Fresh users at most this often (each costs a handful of Argon2id hashes).
const REFRESH_EVERY: u32 = 16;

/// The browser's CSRF cookie value (the token for it is read from a page).
pub const CSRF_COOKIE: &str = "fuzz-csrf-cookie-value";

/// What came back.
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The error code, for a JSON error body.
    pub code: Option<ErrorCode>,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The server and the credentials the routes use.
pub(crate) struct World {
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    _app: Arc<App>,
    router: Router,
    pub operator: String,
    pub session: String,
    pub challenge: String,
    /// The user whose sign-in waits for a code.
    pub user_with_challenge: String,
    /// The CSRF token of [`CSRF_COOKIE`], as the pages render it.
    pub csrf_token: String,
    generation: u32,
    pub stale: bool,
    since_refresh: u32,
}

/// The world, built on first use; one request at a time.
pub(crate) fn world() -> std::sync::MutexGuard<'static, World> {
    static WORLD: OnceLock<Mutex<World>> = OnceLock::new();
    let world = WORLD.get_or_init(|| Mutex::new(World::start()));
    let mut world = world.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    world.since_refresh += 1;
    if world.stale && world.since_refresh >= REFRESH_EVERY {
        world.refresh();
    }
    world
}
impl World {
    fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let dir = super::scratch_dir();
        let config = Config {
            data_dir: dir.path().join("data"),
            hash_threads: Some(1),
            // Per-address throttling would answer every request with 429 after a few
            // failures; the per-account one stays on.
            address_failures_per_minute: u32::MAX,
            ..Config::default()
        };
        let (app, setup_token) = runtime.block_on(async {
            let app = App::open(config).await.expect("the server opens");
            let token =
                app.issue_setup_token(twostep_server::clock::now()).await.expect("a setup token");
            (app, token.expect("no operator exists yet"))
        });
        let router = twostep_server::http::routes::router(app.clone());
        let mut world = Self {
            runtime,
            _dir: dir,
            _app: app,
            router,
            operator: String::new(),
            session: String::new(),
            challenge: String::new(),
            user_with_challenge: String::new(),
            csrf_token: String::new(),
            generation: 0,
            stale: false,
            since_refresh: 0,
        };
        let (user, password) = OPERATOR;
        let body = json!({"setup_token": setup_token, "username": user, "password": password});
        world.call(Method::POST, "/v1/admin/bootstrap", None, body);
        world.operator = world.operator_session();
        let operator = world.operator.clone();
        world.call(Method::POST, "/v1/admin/orgs", Some(&operator), json!({"name": ORG}));
        world.csrf_token = world.page_csrf_token();
        world.refresh();
        world
    }

    /// Whether the session, the operator or the pending challenge stopped working (three
    /// cheap reads; no password hashing).
    pub fn credentials_spent(&self) -> bool {
        let works = |path: String, token: Option<&str>| {
            let mut request = Request::builder().uri(path);
            if let Some(token) = token {
                request = request.header("authorization", format!("Bearer {token}"));
            }
            let request = request.body(Body::empty()).expect("a request");
            (200..300).contains(&self.send(request).status)
        };
        !(works("/v1/me".into(), Some(&self.session))
            && works(format!("/v1/admin/orgs/{ORG}"), Some(&self.operator))
            && works(format!("/v1/signin/{}", self.challenge), None))
    }

    /// The token the sign-in page renders for [`CSRF_COOKIE`].
    fn page_csrf_token(&self) -> String {
        let request = Request::builder()
            .uri("/")
            .header("cookie", format!("twostep_csrf={CSRF_COOKIE}"))
            .body(Body::empty())
            .expect("a request");
        let page = self.send(request).text();
        let marker = "name=\"csrf\" value=\"";
        let at = page.find(marker).expect("the sign-in page has a CSRF field") + marker.len();
        page[at..].split('"').next().unwrap_or_default().to_owned()
    }

    /// New users: one signed in, one with TOTP and a pending challenge.
    pub fn refresh(&mut self) {
        self.generation += 1;
        let suffix = match self.generation {
            1 => String::new(),
            n => format!("-{n}"),
        };
        let a = format!("{USER_WITH_SESSION}{suffix}");
        let b = format!("{USER_WITH_CHALLENGE}{suffix}");
        if self.generation > 1 {
            // The web target may have signed the operator out.
            self.operator = self.operator_session();
        }
        let operator = self.operator.clone();
        let op = Some(operator.as_str());
        let policy = json!({"require_two_step": false});
        self.call(Method::PATCH, &format!("/v1/admin/orgs/{ORG}/policy"), op, policy);
        for user in [&a, &b] {
            let body = json!({"username": user, "password": PASSWORD});
            self.call(Method::POST, &format!("/v1/admin/orgs/{ORG}/users"), op, body);
        }
        self.session = self.web_session(&a);

        // b: TOTP confirmed, then a sign-in that waits for the code.
        let b_session = self.web_session(&b);
        let b_token = Some(b_session.as_str());
        let enrollment = self.call(Method::POST, "/v1/me/two-step/totp", b_token, json!({}));
        let uri = field(&enrollment, "otpauth_uri");
        let otp = twostep_otp::uri::parse(&uri).expect("the server's otpauth URI parses").otp;
        let now = twostep_otp::UnixTime::from_secs(twostep_server::clock::now());
        let code = otp.code_at(now).expect("a TOTP code");
        let confirm = json!({"code": code});
        self.call(Method::POST, "/v1/me/two-step/totp/confirm", b_token, confirm);
        let body = json!({"username": b, "password": PASSWORD, "client": "web"});
        self.challenge = field(&self.call(Method::POST, "/v1/signin", None, body), "challenge_id");
        self.user_with_challenge = b;
        self.stale = false;
        self.since_refresh = 0;
    }

    fn operator_session(&mut self) -> String {
        let (user, password) = OPERATOR;
        let body = json!({"username": user, "password": password});
        field(&self.call(Method::POST, "/v1/admin/signin", None, body), "token")
    }

    fn web_session(&mut self, user: &str) -> String {
        let body = json!({"username": user, "password": PASSWORD, "client": "web"});
        field(&self.call(Method::POST, "/v1/signin", None, body), "token")
    }

    /// A request the world needs; it must succeed.
    fn call(&mut self, method: Method, path: &str, token: Option<&str>, body: Value) -> Value {
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body(Body::from(body.to_string())).expect("a request");
        let answer = self.send(request);
        let text = answer.text();
        assert!((200..300).contains(&answer.status), "{method} {path}: {} {text}", answer.status);
        serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
    }

    /// Sends a request through the router.
    pub fn send(&self, request: Request<Body>) -> Answer {
        let router = self.router.clone();
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("the router is infallible");
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("an answer body")
                .to_vec();
            let code = serde_json::from_slice::<ErrorBody>(&body).ok().map(|e| e.error.code);
            Answer { status, headers, body, code }
        })
    }
}

fn field(value: &Value, name: &str) -> String {
    let found = value.get(name).and_then(Value::as_str);
    found.unwrap_or_else(|| panic!("no `{name}` in {value}")).to_owned()
}
