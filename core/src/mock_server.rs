//! A mock of the twostep server for the core's unit tests: HTTP on loopback, answers keyed
//! by method and path, fixtures built from the `twostep-proto` types.
//!
//! A test says what each route answers (`server.on("POST", "/v1/signin", ...)`); the
//! answers of one route are given in turn and its last one repeats, so adding a request to
//! a flow does not shift the answers of the others. A route nobody set answers `404
//! not_found`; the registration challenge every mobile sign-in asks for is set from the
//! start. Every request is recorded for the test to check. The real server is exercised end
//! to end in `tests/`.

use serde::Serialize;
use serde_json::Value;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use twostep_otp::UnixTime;
use twostep_proto::{
    ChannelChoice, CodeChallenge, DeviceChallenge, DeviceGrant, ErrorBody, ErrorCode, ErrorDetail,
    PasscodePolicy, PasscodeRequirement, SessionGrant, SessionScope, SetupRequired, SignInResponse,
    UserSummary,
};

/// The local time the tests' clock is stopped at.
pub(crate) const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

/// The nonce the mock hands out for device registrations.
pub(crate) const REGISTRATION_NONCE: &str = "registration-nonce";

/// The server's clock runs this far ahead of the tests' (`x-twostep-server-time`).
pub(crate) const SERVER_AHEAD_SECS: u64 = 5;

/// A request as the mock saw it.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub method: String,
    pub path: String,
    pub body: Value,
    pub bearer: Option<String>,
}

/// One answer: a status and a JSON body (none for 204).
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    status: u16,
    body: Option<Value>,
}

impl Reply {
    /// `200` with `value` as its body.
    pub fn ok(value: &impl Serialize) -> Self {
        Self { status: 200, body: Some(serde_json::to_value(value).unwrap()) }
    }

    /// `204`, no body.
    pub fn no_content() -> Self {
        Self { status: 204, body: None }
    }

    /// The server's error body for `code`, with its usual status.
    pub fn error(code: ErrorCode) -> Self {
        Self::error_with(code, None, None)
    }

    /// [`Reply::error`] with `retry_after_secs` and `attempts_left`.
    pub fn error_with(code: ErrorCode, retry: Option<u64>, attempts_left: Option<u32>) -> Self {
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message: "from the mock".into(),
                retry_after_secs: retry,
                attempts_left,
            },
        };
        Self { status: code.http_status(), body: Some(serde_json::to_value(body).unwrap()) }
    }

    /// Any status with any JSON (a proxy's page, an answer from a newer server).
    pub fn raw(status: u16, body: Value) -> Self {
        Self { status, body: Some(body) }
    }
}

type Routes = HashMap<(String, String), VecDeque<Reply>>;

/// The mock server.
pub(crate) struct MockServer {
    pub url: String,
    routes: Arc<Mutex<Routes>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl MockServer {
    /// Listens on 127.0.0.1 (a free port) until dropped with the test's runtime.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut table = Routes::new();
        // Every mobile sign-in first asks for the nonce its registration signs.
        table.insert(
            ("POST".to_owned(), "/v1/device/registration-challenge".to_owned()),
            VecDeque::from([device_challenge(REGISTRATION_NONCE)]),
        );
        let routes = Arc::new(Mutex::new(table));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (table, log) = (routes.clone(), seen.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(answer(socket, table.clone(), log.clone()));
            }
        });
        Self { url, routes, seen }
    }

    /// Adds answers for `method path`, given in turn; the last one repeats.
    pub fn on(&self, method: &str, path: &str, replies: impl IntoIterator<Item = Reply>) {
        self.routes
            .lock()
            .unwrap()
            .entry((method.to_owned(), path.to_owned()))
            .or_default()
            .extend(replies);
    }

    /// Every request so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The requests to `method path`, in order.
    pub fn requests(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.method == method && s.path == path).collect()
    }
}

async fn answer(mut socket: TcpStream, routes: Arc<Mutex<Routes>>, seen: Arc<Mutex<Vec<Seen>>>) {
    let Some(request) = read_request(&mut socket).await else { return };
    let reply = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&(request.method.clone(), request.path.clone())) {
            Some(queue) if queue.len() > 1 => queue.pop_front(),
            Some(queue) => queue.front().cloned(),
            None => None,
        }
    }
    .unwrap_or_else(|| Reply::error(ErrorCode::NotFound));
    seen.lock().unwrap().push(request);
    let body = reply.body.map(|b| b.to_string()).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 {} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-twostep-server-time: {}\r\nconnection: close\r\n\r\n{body}",
        reply.status,
        body.len(),
        (NOW.as_secs() + SERVER_AHEAD_SECS) * 1000,
    );
    socket.write_all(response.as_bytes()).await.ok();
    socket.shutdown().await.ok();
}

async fn read_request(socket: &mut TcpStream) -> Option<Seen> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next()?.split(' ');
    let (method, path) = (first.next()?.to_owned(), first.next()?.to_owned());
    let mut length = 0;
    let mut bearer = None;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "authorization" => bearer = value.trim().strip_prefix("Bearer ").map(str::to_owned),
            _ => {}
        }
    }
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    Some(Seen { method, path, body, bearer })
}

// ---- fixtures, in server time ------------------------------------------------------------

/// Server time `secs` after the tests' `NOW` (as the server's clock reads it).
fn server_time(secs: u64) -> u64 {
    NOW.as_secs() + SERVER_AHEAD_SECS + secs
}

/// A code challenge `ch-1` for `channel` with `attempts_left` tries.
pub(crate) fn challenge(channel: twostep_proto::Channel, attempts_left: u32) -> CodeChallenge {
    let sent = !matches!(channel, twostep_proto::Channel::Totp);
    CodeChallenge {
        challenge_id: "ch-1".into(),
        channel,
        masked_destination: sent.then(|| "a•••@example.com".into()),
        code_length: 6,
        resend_after: sent.then(|| server_time(30)),
        expires_at: server_time(300),
        attempts_left,
        other_channels: vec![ChannelChoice {
            channel: twostep_proto::Channel::Totp,
            masked_destination: None,
        }],
        recovery_available: true,
    }
}

/// The passcode policy a device grant carries.
pub(crate) fn policy(requirement: PasscodeRequirement) -> PasscodePolicy {
    PasscodePolicy {
        requirement,
        min_length: 6,
        alphanumeric: false,
        max_failed_attempts: 10,
        lock_timeout_secs: 300,
        wipe_vault: false,
    }
}

/// A full session for alice (`token-1`, an hour), registering `dev-1` when `device` says.
pub(crate) fn grant(device: Option<PasscodeRequirement>) -> SessionGrant {
    SessionGrant {
        token: "token-1".into(),
        expires_at: server_time(3600),
        scope: SessionScope::Full,
        user: UserSummary { id: "u-1".into(), username: "alice".into(), org: "acme".into() },
        device: device.map(|r| DeviceGrant { device_id: "dev-1".into(), passcode: policy(r) }),
    }
}

/// The answer "signed in" to a sign-in step.
pub(crate) fn signed_in(device: Option<PasscodeRequirement>) -> Reply {
    Reply::ok(&SignInResponse::Session(grant(device)))
}

/// The answer "a code is needed" to a sign-in step.
pub(crate) fn code_required(channel: twostep_proto::Channel, attempts_left: u32) -> Reply {
    Reply::ok(&SignInResponse::CodeRequired(challenge(channel, attempts_left)))
}

/// The answer "set up two-step first", with a setup-only session or none.
pub(crate) fn setup_required(session: Option<SessionGrant>) -> Reply {
    Reply::ok(&SignInResponse::SetupRequired(SetupRequired {
        session,
        message: "configure two-step".into(),
    }))
}

/// A device challenge with `nonce`.
pub(crate) fn device_challenge(nonce: &str) -> Reply {
    Reply::ok(&DeviceChallenge { nonce: nonce.into(), expires_at: server_time(60) })
}
