//! The core's reading of server answers: the real [`Twostep`] (sled state in a temporary
//! directory, a memory key store, reqwest over loopback) against a hostile server that
//! answers each request as the input says — any status, a server-time header and a
//! `Retry-After` that may be absent, extreme or garbage, and a body that is a real answer
//! type with fields swapped for extreme or wrong values, or raw bytes.
//!
//! The input drives both sides: first the client kind and the scripted answers, then the
//! operations the app performs (sign in, submit a code, resend, switch channel, cancel,
//! open a device session, `me`, `devices`, sign out, unregister). Every operation must
//! return (a value or a typed error), the status must stay readable, the authenticator
//! must still compute codes with whatever clock offset the server's header implied, and
//! the data directory must open again afterwards.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{HeaderValue, Response, StatusCode};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use twostep_core::{Channel, ClientKind, ClockSource, Config, MemoryKeyStore, Twostep, UnixTime};
use twostep_proto::*;

use crate::input::{Reader, Writer};

/// The app's clock: fixed, so that the offset depends only on the server-time header.
pub const NOW_MS: u64 = 1_700_000_000_000;
const NOW: u64 = NOW_MS / 1000;

/// An account for the authenticator check at the end.
const ACCOUNT_URI: &str = "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME";

#[derive(Debug)]
struct FixedClock;

impl ClockSource for FixedClock {
    fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(NOW_MS)
    }
}

/// One scripted answer.
#[derive(Debug, Clone)]
struct Scripted {
    status: u16,
    server_time: Option<Vec<u8>>,
    retry_after: Option<Vec<u8>>,
    body: Vec<u8>,
}

/// The hostile server: answers requests from a script, in order.
struct HostileServer {
    runtime: tokio::runtime::Runtime,
    url: String,
    script: Arc<Mutex<VecDeque<Scripted>>>,
    /// One case at a time (the bounded runs use threads).
    case: Mutex<()>,
}

fn server() -> &'static HostileServer {
    static SERVER: OnceLock<HostileServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let script: Arc<Mutex<VecDeque<Scripted>>> = Arc::default();
        let shared = script.clone();
        let handler = move || {
            let next = shared.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
            async move { respond(next) }
        };
        let router = axum::Router::new().fallback(handler);
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().expect("a local address"));
        runtime.spawn(async move { axum::serve(listener, router).await });
        HostileServer { runtime, url, script, case: Mutex::new(()) }
    })
}

fn respond(next: Option<Scripted>) -> Response<Body> {
    let Some(answer) = next else {
        // The script ran out: a bare 503, as from a proxy.
        let mut response = Response::new(Body::empty());
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return response;
    };
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    for (name, value) in
        [(HEADER_SERVER_TIME, answer.server_time), ("retry-after", answer.retry_after)]
    {
        if let Some(value) = value.and_then(|v| HeaderValue::from_bytes(&v).ok()) {
            headers.insert(name, value);
        }
    }
    response
}

/// What the app does.
#[derive(Debug, Clone, Copy)]
enum Op {
    SignIn,
    SubmitCode,
    RecoveryCode,
    Resend,
    Switch(Channel),
    Cancel,
    OpenSession,
    Me,
    Devices,
    SignOut,
    Unregister,
}

/// The target.
pub fn core_answers(data: &[u8]) {
    let case = decode(&mut Reader::new(data));
    let server = server();
    let _one_at_a_time = server.case.lock().unwrap_or_else(|p| p.into_inner());
    *server.script.lock().unwrap_or_else(|p| p.into_inner()) = case.answers.into();

    let dir = super::scratch_dir();
    let mut config = Config::new(dir.path(), server.url.as_str());
    config.server.request_timeout = std::time::Duration::from_secs(5);
    let keys = Arc::new(MemoryKeyStore::new());
    let app = Twostep::open_with_clock(config.clone(), keys.clone(), Arc::new(FixedClock))
        .expect("a fresh data dir opens");
    let at = |secs: u64| UnixTime::from_secs(NOW + secs);
    let session = app.session().expect("a server is configured");
    server.runtime.block_on(async {
        // The first sign-in makes the rest meaningful (a pending challenge, a session).
        let _ = session.sign_in("alice", "alice-password", case.client, at(0)).await;
        for (i, op) in case.ops.iter().enumerate() {
            let now = at(1 + i as u64);
            let _ = match *op {
                Op::SignIn => {
                    session.sign_in("alice", "alice-password", case.client, now).await.map(drop)
                }
                Op::SubmitCode => session.submit_code("123456", now).await.map(drop),
                Op::RecoveryCode => session.use_recovery_code("abcde-fghij", now).await.map(drop),
                Op::Resend => session.resend_code(now).await.map(drop),
                Op::Switch(channel) => session.switch_channel(channel, now).await.map(drop),
                Op::Cancel => session.cancel_sign_in().await,
                Op::OpenSession => session.open_session(now).await.map(drop),
                Op::Me => session.me(now).await.map(drop),
                Op::Devices => session.devices(now).await.map(drop),
                Op::SignOut => session.sign_out(now).await.map(drop),
                Op::Unregister => session.unregister(now).await.map(drop),
            };
            app.status(now).expect("the status stays readable after any answer");
        }
    });
    // Whatever clock offset the answers implied, the authenticator computes codes.
    let authenticator = app.authenticator();
    if authenticator.add_uri(ACCOUNT_URI).is_ok() {
        let codes = authenticator.codes(at(100)).expect("codes after adding an account");
        assert_eq!(codes.codes.len(), 1);
    }
    let _ = app.clock_offset().expect("the clock offset reads back");
    drop(app);
    let reopened = Twostep::open_with_clock(config, keys, Arc::new(FixedClock))
        .expect("the data dir opens again after any answers");
    reopened.status(at(200)).expect("the reopened status reads");
}

struct Case {
    client: ClientKind,
    answers: Vec<Scripted>,
    ops: Vec<Op>,
}

const OPS: usize = 13;

fn decode(r: &mut Reader<'_>) -> Case {
    let client = ClientKind::ALL[r.below(ClientKind::ALL.len())];
    let answers = (0..1 + r.below(8)).map(|_| answer(r)).collect();
    let ops = (0..r.below(7)).map(|_| op(r)).collect();
    Case { client, answers, ops }
}

fn op(r: &mut Reader<'_>) -> Op {
    match r.below(OPS) {
        0 => Op::SignIn,
        1 => Op::SubmitCode,
        2 => Op::RecoveryCode,
        3 => Op::Resend,
        4 => Op::Switch(Channel::Totp),
        5 => Op::Switch(Channel::Sms),
        6 => Op::Switch(Channel::Email),
        7 => Op::Cancel,
        8 => Op::OpenSession,
        9 => Op::Me,
        10 => Op::Devices,
        11 => Op::SignOut,
        _ => Op::Unregister,
    }
}

const STATUSES: &[u16] =
    &[200, 201, 204, 400, 401, 403, 404, 409, 410, 413, 422, 423, 429, 500, 502, 503];

const EXTREME_U64: &[u64] = &[
    0,
    1,
    NOW_MS,
    NOW_MS - 1,
    i64::MAX as u64,
    i64::MAX as u64 + 1,
    i64::MAX as u64 + NOW_MS,
    u64::MAX,
    u32::MAX as u64,
];

fn answer(r: &mut Reader<'_>) -> Scripted {
    let status = match r.below(2) {
        0 => STATUSES[r.below(STATUSES.len())],
        _ => 200 + (r.u64() % 400) as u16,
    };
    let server_time = header(r, NOW_MS);
    let retry_after = header(r, 30);
    let body = match r.below(4) {
        0 => r.bytes().to_vec(),
        1 => Vec::new(),
        _ => {
            let mut value = template(r.below(TEMPLATES));
            for _ in 0..r.below(4) {
                edit(r, &mut value);
            }
            serde_json::to_vec(&value).unwrap_or_default()
        }
    };
    Scripted { status, server_time, retry_after, body }
}

/// A header value: absent, plausible, extreme, any number, or any bytes.
fn header(r: &mut Reader<'_>, plausible: u64) -> Option<Vec<u8>> {
    match r.below(6) {
        0 => None,
        1 => Some(plausible.to_string().into_bytes()),
        2 => Some(EXTREME_U64[r.below(EXTREME_U64.len())].to_string().into_bytes()),
        3 => Some(r.u64().to_string().into_bytes()),
        4 => Some((r.u64() as i64).to_string().into_bytes()),
        _ => Some(r.bytes().to_vec()),
    }
}

const WORDS: &[&str] = &[
    "code_required",
    "session",
    "setup_required",
    "full",
    "setup_only",
    "mobile",
    "required",
    "optional",
    "totp",
    "sms",
    "email",
    "invalid_code",
    "challenge_expired",
    "device_revoked",
    "unauthorized",
    "rate_limited",
    "something_new",
];

/// Replaces one node of `value` with an extreme or wrong-typed value.
fn edit(r: &mut Reader<'_>, value: &mut Value) {
    let mut paths = Vec::new();
    crate::mutate::json_paths(value, &mut String::new(), &mut paths);
    let path = paths[r.below(paths.len())].clone();
    let replacement = match r.below(8) {
        0 => Value::from(EXTREME_U64[r.below(EXTREME_U64.len())]),
        1 => Value::from(r.u64() as i64),
        2 => Value::from(r.byte()),
        3 => Value::Null,
        4 => Value::from("x".repeat(r.u64() as usize % 70_000)),
        5 => Value::from(String::from_utf8_lossy(r.bytes()).into_owned()),
        6 => Value::from(WORDS[r.below(WORDS.len())]),
        _ => Value::Array(vec![]),
    };
    if let Some(node) = value.pointer_mut(&path) {
        *node = replacement;
    }
}

/// A header in a seed script.
enum H {
    Absent,
    Plausible,
    Number(u64),
}

/// A body in a seed script.
enum B<'a> {
    Template(usize),
    Raw(&'a [u8]),
    Empty,
}

/// Writes one answer as [`answer`] reads it.
fn put(w: &mut Writer, status: u16, time: H, retry: H, body: B<'_>) {
    w.choose(0).choose(STATUSES.iter().position(|s| *s == status).unwrap_or(0));
    for h in [time, retry] {
        match h {
            H::Absent => w.choose(0),
            H::Plausible => w.choose(1),
            H::Number(n) => w.choose(3).u64(n),
        };
    }
    match body {
        B::Template(t) => w.choose(2).choose(t).choose(0),
        B::Raw(bytes) => w.choose(0).bytes(bytes),
        B::Empty => w.choose(1),
    };
}

/// Realistic scripts for the seed corpus: each flow the core knows, answered as the real
/// server would, plus the error answers and clock jumps it must handle.
pub fn seed_scripts() -> Vec<Vec<u8>> {
    use H::{Absent, Number, Plausible};
    // Templates: 0 code required, 1 web session, 2 mobile session, 3 setup required,
    // 4 challenge, 5 device challenge, 6 me, 7 devices, 8 error (invalid code), 9 device
    // session.
    let script = |client: ClientKind, answers: &[(u16, H, H, B<'_>)], ops: &[usize]| {
        let mut w = Writer::new();
        w.choose(ClientKind::ALL.iter().position(|c| *c == client).unwrap_or(0));
        w.choose(answers.len() - 1);
        for (status, time, retry, body) in answers {
            let copy = |h: &H| match h {
                Absent => Absent,
                Plausible => Plausible,
                Number(n) => Number(*n),
            };
            let body = match body {
                B::Template(t) => B::Template(*t),
                B::Raw(b) => B::Raw(b),
                B::Empty => B::Empty,
            };
            put(&mut w, *status, copy(time), copy(retry), body);
        }
        w.choose(ops.len());
        for op in ops {
            w.choose(*op);
        }
        w.finish()
    };
    let t = B::Template;
    let expired: &[u8] = br#"{"error":{"code":"challenge_expired","message":"sign in again"}}"#;
    let limited: &[u8] =
        br#"{"error":{"code":"rate_limited","message":"wait","retry_after_secs":30}}"#;
    let revoked: &[u8] = br#"{"error":{"code":"device_revoked","message":"register again"}}"#;
    vec![
        // Web: a code, then the session; me, devices, sign out.
        script(
            ClientKind::Web,
            &[
                (200, Plausible, Absent, t(0)),
                (200, Plausible, Absent, t(1)),
                (200, Plausible, Absent, t(6)),
                (200, Plausible, Absent, t(7)),
                (204, Plausible, Absent, B::Empty),
            ],
            &[1, 9, 10, 11],
        ),
        // Web: a wrong code, a resend, a switch, then the challenge expired.
        script(
            ClientKind::Web,
            &[
                (200, Plausible, Absent, t(0)),
                (401, Plausible, Absent, t(8)),
                (200, Plausible, Absent, t(4)),
                (200, Plausible, Absent, t(4)),
                (410, Plausible, Absent, B::Raw(expired)),
            ],
            &[1, 3, 6, 1],
        ),
        // Mobile: a code, the session with its device, a device session, me, unregister.
        script(
            ClientKind::Mobile,
            &[
                (200, Plausible, Absent, t(0)),
                (200, Plausible, Absent, t(2)),
                (200, Plausible, Absent, t(5)),
                (200, Plausible, Absent, t(9)),
                (200, Plausible, Absent, t(6)),
                (204, Plausible, Absent, B::Empty),
                (204, Plausible, Absent, B::Empty),
            ],
            &[1, 8, 9, 12],
        ),
        // Setup required with a setup-only session.
        script(ClientKind::Web, &[(200, Plausible, Absent, t(3))], &[9]),
        // Rate limited with Retry-After, then a device the server revoked.
        script(
            ClientKind::Mobile,
            &[
                (429, Plausible, Number(30), B::Raw(limited)),
                (200, Plausible, Absent, t(2)),
                (401, Plausible, Absent, B::Raw(revoked)),
            ],
            &[0, 8],
        ),
        // The server's clock far ahead, then at the epoch (offsets are stored and compared).
        script(
            ClientKind::Web,
            &[
                (200, Number(i64::MAX as u64), Absent, t(1)),
                (200, Number(0), Absent, t(6)),
                (200, Number(u64::MAX), Absent, t(6)),
            ],
            &[9, 9],
        ),
    ]
}

const TEMPLATES: usize = 10;

/// Real answers of every type the core reads, built from the protocol types so that they
/// cannot drift from them.
fn template(index: usize) -> Value {
    let user = UserSummary { id: "u-1".into(), username: "alice".into(), org: "acme".into() };
    let policy = PasscodePolicy {
        requirement: PasscodeRequirement::Optional,
        min_length: 6,
        alphanumeric: false,
        max_failed_attempts: 10,
        lock_timeout_secs: 300,
        wipe_vault: false,
    };
    let challenge = CodeChallenge {
        challenge_id: "c-1".into(),
        channel: Channel::Email,
        masked_destination: Some("a•••@example.com".into()),
        code_length: 6,
        resend_after: Some(NOW + 30),
        expires_at: NOW + 300,
        attempts_left: 5,
        other_channels: vec![ChannelChoice { channel: Channel::Totp, masked_destination: None }],
        recovery_available: true,
    };
    let grant = |device: bool| SessionGrant {
        token: "session-token-1".into(),
        expires_at: NOW + 3600,
        scope: SessionScope::Full,
        user: user.clone(),
        device: device.then(|| DeviceGrant { device_id: "d-1".into(), passcode: policy.clone() }),
    };
    let value = match index {
        0 => serde_json::to_value(SignInResponse::CodeRequired(challenge)),
        1 => serde_json::to_value(SignInResponse::Session(grant(false))),
        2 => serde_json::to_value(SignInResponse::Session(grant(true))),
        3 => serde_json::to_value(SignInResponse::SetupRequired(SetupRequired {
            session: Some(grant(false)),
            message: "set up two-step".into(),
        })),
        4 => serde_json::to_value(challenge),
        5 => {
            serde_json::to_value(DeviceChallenge { nonce: "bm9uY2U".into(), expires_at: NOW + 60 })
        }
        6 => serde_json::to_value(MeResponse {
            user: user.clone(),
            two_step: TwoStepSettings {
                enabled: true,
                origin: Some(TwoStepOrigin::Chosen),
                preferred: Some(Channel::Totp),
                channels: vec![ChannelStatus {
                    channel: Channel::Totp,
                    masked_destination: None,
                    confirmed: true,
                }],
                recovery_codes_left: 10,
                required_by_org: false,
            },
        }),
        7 => serde_json::to_value(DeviceList {
            devices: vec![DeviceInfo {
                id: "d-1".into(),
                name: "phone".into(),
                registered_at: NOW,
                last_seen_at: NOW,
                revoked: false,
                client: ClientKind::Mobile,
            }],
        }),
        8 => serde_json::to_value(ErrorBody {
            error: ErrorDetail {
                code: ErrorCode::InvalidCode,
                message: "the code is incorrect".into(),
                retry_after_secs: Some(30),
                attempts_left: Some(2),
            },
        }),
        _ => serde_json::to_value(grant(true)),
    };
    value.expect("protocol types serialize")
}
