//! The server: the real axum router in-process (`tower::ServiceExt::oneshot`, no socket)
//! over a real store in a temporary directory, and the stored password hash parser.
//!
//! [`server_routes`] sends arbitrary bodies to every route that reads one (and arbitrary
//! query strings to the one that reads a query) with valid credentials, so that the body
//! is what decides the answer. Each answer must be typed: a 2xx with JSON, or an error
//! body whose code matches the status; never a 500, never a panic; the server-time header
//! on every answer; `Retry-After` on every 429; no secret from the input in the answer.
//!
//! The world behind the routes (an operator, a user with a session, a user with a pending
//! code challenge) is built once through the same router; when the fuzzer spends it (a
//! password changed, a challenge used up, an account throttled), a fresh pair of users
//! replaces it.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};
use tower::ServiceExt;
use twostep_proto::{ErrorBody, ErrorCode, HEADER_SERVER_TIME};
use twostep_server::http::openapi::{Auth, ENDPOINTS, Endpoint};
use twostep_server::{App, Config};

use super::secrets::assert_no_secret;

/// The stored password hash (PHC string) parser.
pub fn stored_hash(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some((cost, _salt, hash)) = twostep_server::passwords::parse_phc(text) {
        assert_eq!(hash.len(), 32, "a stored hash of the wrong length was accepted");
        // Costs a hostile record could use to exhaust the server are refused; costs
        // Argon2 cannot run (m=0) are left to the verifier, which fails them.
        assert!(
            cost.memory_kib <= 1024 * 1024
                && (1..=64).contains(&cost.iterations)
                && (1..=16).contains(&cost.parallelism),
            "a stored cost that is unsafe to run was accepted: {cost:?}"
        );
    }
}

/// Every endpoint that reads input (a JSON body or a query string), in the order of the
/// server's own endpoint table (the one the OpenAPI document and its router test use), so a
/// new route is fuzzed without anyone listing it here. The first input byte picks one.
pub fn routes() -> Vec<&'static Endpoint> {
    ENDPOINTS.iter().filter(|e| e.request.is_some() || e.query.is_some()).collect()
}

/// The input byte that selects the endpoint `method path` (for the seed corpus).
pub fn route_selector(method: &str, path: &str) -> Option<u8> {
    let index = routes().iter().position(|e| e.method == method && e.path == path)?;
    u8::try_from(index).ok()
}

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

/// One input: which route, how to send it, and the body.
///
/// Byte 0 picks the route; byte 1's low two bits: 0 or 1 send it normally, 2 without a
/// content type, 3 with a bearer token that does not exist. The rest is the body (or the
/// query string).
pub fn server_routes(data: &[u8]) {
    let [selector, flags, body @ ..] = data else { return };
    let routes = routes();
    let route = routes[usize::from(*selector) % routes.len()];
    let world = world();
    let mut world = world.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    world.since_refresh += 1;
    if world.stale && world.since_refresh >= REFRESH_EVERY {
        world.refresh();
    }
    let Some(request) = world.request(route, *flags, body) else { return };
    let answer = world.send(request);
    check_answer(route, &answer);
    let shown = String::from_utf8_lossy(&answer.body).into_owned();
    let what = format!("{} {} answered {}", route.method, route.path, answer.status);
    assert_no_secret(body, &shown, &what, |body| match world.request(route, *flags, body) {
        Some(request) => String::from_utf8_lossy(&world.send(request).body).into_owned(),
        None => String::new(),
    });

    // Spent credentials: refresh before the world stops reaching past authentication.
    let challenge_route = route.path.starts_with("/v1/signin/{id}");
    let spent = match (route.auth, answer.code) {
        (Auth::None, Some(ErrorCode::ChallengeExpired)) => challenge_route,
        (Auth::None, _) => false,
        (_, Some(ErrorCode::Unauthorized | ErrorCode::Forbidden)) => flags & 3 != 3,
        (Auth::Operator, _) => false,
        (_, Some(ErrorCode::AccountLocked | ErrorCode::RateLimited)) => true,
        _ => false,
    };
    world.stale |= spent;
}

/// What came back.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    server_time: Option<String>,
    body: Vec<u8>,
    code: Option<ErrorCode>,
}

fn check_answer(route: &Endpoint, answer: &Answer) {
    let what = format!("{} {} answered {}", route.method, route.path, answer.status);
    let text = String::from_utf8_lossy(&answer.body);
    assert!(
        answer.status < 500 || answer.code == Some(ErrorCode::Unavailable),
        "{what}: a server error for a client's input: {text}"
    );
    let server_time = answer.server_time.as_deref().and_then(|t| t.parse::<u64>().ok());
    assert!(server_time.is_some(), "{what}: no valid {HEADER_SERVER_TIME} header");
    if (200..300).contains(&answer.status) {
        assert!(
            answer.body.is_empty() || serde_json::from_slice::<Value>(&answer.body).is_ok(),
            "{what}: a success that is not JSON: {text}"
        );
    } else {
        let error: ErrorBody = serde_json::from_slice(&answer.body)
            .unwrap_or_else(|e| panic!("{what}: not an error body ({e}): {text}"));
        let code = error.error.code;
        assert_ne!(code, ErrorCode::Unknown, "{what}");
        assert_eq!(code.http_status(), answer.status, "{what}: {code} with another status");
        assert!(!error.error.message.is_empty(), "{what}: an empty message");
        if answer.status == 429 {
            let header = answer.retry_after.as_deref().and_then(|r| r.parse::<u64>().ok());
            assert!(header.is_some_and(|s| s >= 1), "{what}: 429 without Retry-After");
            assert_eq!(header, error.error.retry_after_secs, "{what}: Retry-After disagrees");
        }
    }
}

/// The server and the credentials the routes use.
struct World {
    runtime: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    _app: Arc<App>,
    router: Router,
    operator: String,
    session: String,
    challenge: String,
    generation: u32,
    stale: bool,
    since_refresh: u32,
}

fn world() -> &'static Mutex<World> {
    static WORLD: OnceLock<Mutex<World>> = OnceLock::new();
    WORLD.get_or_init(|| Mutex::new(World::start()))
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
            generation: 0,
            stale: false,
            since_refresh: 0,
        };
        let (user, password) = OPERATOR;
        let body = json!({"setup_token": setup_token, "username": user, "password": password});
        world.call(Method::POST, "/v1/admin/bootstrap", None, body);
        let body = json!({"username": user, "password": password});
        world.operator = field(&world.call(Method::POST, "/v1/admin/signin", None, body), "token");
        let operator = world.operator.clone();
        world.call(Method::POST, "/v1/admin/orgs", Some(&operator), json!({"name": ORG}));
        world.refresh();
        world
    }

    /// New users: one signed in, one with TOTP and a pending challenge.
    fn refresh(&mut self) {
        self.generation += 1;
        let suffix = match self.generation {
            1 => String::new(),
            n => format!("-{n}"),
        };
        let a = format!("{USER_WITH_SESSION}{suffix}");
        let b = format!("{USER_WITH_CHALLENGE}{suffix}");
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
        self.stale = false;
        self.since_refresh = 0;
    }

    fn web_session(&mut self, user: &str) -> String {
        let body = json!({"username": user, "password": PASSWORD, "client": "web"});
        field(&self.call(Method::POST, "/v1/signin", None, body), "token")
    }

    /// The fuzzed request: `route` with the world's credentials, sent as `flags` say.
    fn request(&self, route: &Endpoint, flags: u8, body: &[u8]) -> Option<Request<Body>> {
        // Path parameters: the world's challenge and org; any other is a name that does
        // not exist (the route must still answer with a typed error).
        let path = route.path.replace("{id}", &self.challenge).replace("{org}", ORG);
        let path = path.replace("{name}", "nobody").replace("{username}", "nobody");
        let method = Method::from_bytes(route.method.to_ascii_uppercase().as_bytes()).ok()?;
        let query = route.request.is_none();
        let mut request = Request::builder().method(method);
        request = if query {
            let query: String =
                String::from_utf8_lossy(body).chars().filter(|c| *c != '#').collect();
            // Not a URI a client could send: nothing to test.
            request.uri(format!("{path}?{query}").parse::<axum::http::Uri>().ok()?)
        } else {
            request.uri(path)
        };
        if flags & 3 != 2 {
            request = request.header("content-type", "application/json");
        }
        let token = match (route.auth, flags & 3) {
            (Auth::None, _) => None,
            (_, 3) => Some("not-a-token"),
            (Auth::AnySession | Auth::Session, _) => Some(self.session.as_str()),
            (Auth::Operator, _) => Some(self.operator.as_str()),
        };
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let payload = if query { Vec::new() } else { body.to_vec() };
        request.body(Body::from(payload)).ok()
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
        let text = String::from_utf8_lossy(&answer.body);
        assert!((200..300).contains(&answer.status), "{method} {path}: {} {text}", answer.status);
        serde_json::from_slice(&answer.body).unwrap_or(Value::Null)
    }

    fn send(&self, request: Request<Body>) -> Answer {
        let router = self.router.clone();
        self.runtime.block_on(async move {
            let response = router.oneshot(request).await.expect("the router is infallible");
            let header = |name: &str| {
                response.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
            };
            let status = response.status().as_u16();
            let retry_after = header("retry-after");
            let server_time = header(HEADER_SERVER_TIME);
            let body = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .expect("an answer body")
                .to_vec();
            let code = serde_json::from_slice::<ErrorBody>(&body).ok().map(|e| e.error.code);
            Answer { status, retry_after, server_time, body, code }
        })
    }
}

fn field(value: &Value, name: &str) -> String {
    let found = value.get(name).and_then(Value::as_str);
    found.unwrap_or_else(|| panic!("no `{name}` in {value}")).to_owned()
}
