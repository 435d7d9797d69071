//! The flow against a scripted HTTP server on loopback: each test lists the answers the
//! "server" gives, in order, and checks what the core shows and stores. The real server
//! is exercised end to end in `tests/`.

use super::*;
use crate::TwostepError;
use crate::keystore::MemoryKeyStore;
use serde_json::{Value, json};
use std::sync::Mutex;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use twostep_proto::{PasscodeRequirement, SessionScope};

const NOW: u64 = 1_800_000_000;

/// A request as the scripted server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    body: Value,
    bearer: Option<String>,
}

/// Answers requests with scripted (status, body) pairs, one per request, and records them.
struct Scripted {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Scripted {
    async fn start(answers: Vec<(u16, Value)>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            let mut answers = answers.into_iter().peekable();
            while answers.peek().is_some() {
                let (mut socket, _) = listener.accept().await.unwrap();
                let request = read_request(&mut socket).await;
                // Registration nonces are answered on the side, outside the script.
                let (status, body) = if request.path == "/v1/device/registration-challenge" {
                    (200, json!({"nonce": "registration-nonce", "expires_at": NOW + 120}))
                } else {
                    log.lock().unwrap().push(request);
                    answers.next().unwrap()
                };
                let body = if status == 204 { String::new() } else { body.to_string() };
                let response = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                     x-twostep-server-time: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len(),
                    (NOW + 5) * 1000,
                );
                socket.write_all(response.as_bytes()).await.unwrap();
                socket.shutdown().await.ok();
            }
        });
        Self { url, seen }
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

async fn read_request(socket: &mut tokio::net::TcpStream) -> Seen {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.unwrap();
        buffer.extend_from_slice(&chunk[..n]);
        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        assert!(n > 0, "connection closed mid-request");
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.lines();
    let mut first = lines.next().unwrap().split(' ');
    let (method, path) = (first.next().unwrap().to_owned(), first.next().unwrap().to_owned());
    let mut length = 0;
    let mut bearer = None;
    for line in lines {
        let (name, value) = line.split_once(':').unwrap_or((line, ""));
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap(),
            "authorization" => bearer = value.trim().strip_prefix("Bearer ").map(str::to_owned),
            _ => {}
        }
    }
    while buffer.len() < head_end + length {
        let n = socket.read(&mut chunk).await.unwrap();
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = serde_json::from_slice(&buffer[head_end..head_end + length]).unwrap_or(Value::Null);
    Seen { method, path, body, bearer }
}

fn challenge(channel: &str, attempts_left: u32) -> Value {
    json!({
        "status": "code_required",
        "challenge_id": "ch-1",
        "channel": channel,
        "masked_destination": "a•••@example.com",
        "code_length": 6,
        "resend_after": NOW + 35,
        "expires_at": NOW + 305,
        "attempts_left": attempts_left,
        "other_channels": [{"channel": "totp"}],
        "recovery_available": true,
    })
}

fn grant(device: bool, requirement: &str) -> Value {
    let mut grant = json!({
        "status": "session",
        "token": "token-1",
        "expires_at": NOW + 3600,
        "scope": "full",
        "user": {"id": "u-1", "username": "alice", "org": "acme"},
    });
    if device {
        grant["device"] = json!({
            "device_id": "dev-1",
            "passcode": {
                "requirement": requirement,
                "min_length": 6,
                "alphanumeric": false,
                "max_failed_attempts": 10,
                "lock_timeout_secs": 300,
                "wipe_vault": false,
            },
        });
    }
    grant
}

fn untagged(mut value: Value) -> Value {
    value.as_object_mut().unwrap().remove("status");
    value
}

fn error(code: &str, extra: Value) -> Value {
    let mut detail = json!({"code": code, "message": "scripted"});
    detail.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    json!({ "error": detail })
}

/// A local clock stopped at `NOW`, so that the measured offset is the scripted 5 s.
#[derive(Debug)]
struct StoppedClock;

impl Clock for StoppedClock {
    fn now_unix_ms(&self) -> u64 {
        NOW * 1000
    }
}

fn open(dir: &std::path::Path, keys: &Arc<MemoryKeyStore>, url: &str) -> Twostep {
    let mut config = Config::new(dir, url);
    config.device_name = "Test phone".into();
    config.server.request_timeout = Duration::from_secs(5);
    Twostep::open_with_clock(config, keys.clone(), Arc::new(StoppedClock)).unwrap()
}

#[tokio::test]
async fn a_fresh_data_dir_is_a_first_access() {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), "http://127.0.0.1:9");
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(
        status.registration.is_none()
            && status.session.is_none()
            && status.pending_sign_in.is_none()
    );
    assert_eq!(status.server_url, "http://127.0.0.1:9/");
}

#[tokio::test]
async fn mobile_first_access_with_an_email_code_registers_the_device_and_survives_a_restart() {
    let server = Scripted::start(vec![
        (200, challenge("email", 5)),
        (401, error("invalid_code", json!({"attempts_left": 4}))),
        (200, grant(true, "required")),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    {
        let app = open(dir.path(), &keys, &server.url);
        let step = app.sign_in(" Alice ", "correct horse", ClientKind::Mobile, NOW).await.unwrap();
        let SignInStep::CodeRequired(prompt) = step else { panic!("{step:?}") };
        assert_eq!(prompt.channel, Channel::Email);
        assert_eq!(prompt.masked_destination.as_deref(), Some("a•••@example.com"));
        assert_eq!(prompt.attempts_left, 5);
        assert!(prompt.recovery_available);
        // The server clock runs 5 s ahead of the scripted local time: times are corrected.
        let offset = app.clock_offset().unwrap().unwrap();
        assert_eq!(offset.offset_ms, 5_000);
        assert_eq!(prompt.resend_after, Some(NOW + 30));
        assert_eq!(prompt.expires_at, NOW + 300);

        let err = app.submit_code("000000", NOW).await.unwrap_err();
        assert_eq!(err, TwostepError::InvalidCode { attempts_left: 4 });
        let pending = app.status(NOW).unwrap().pending_sign_in.unwrap();
        assert_eq!(pending.prompt.attempts_left, 4);
        assert_eq!(pending.username, "alice");
    }
    // The app was killed while the user read the email: the sign-in is still pending.
    let app = open(dir.path(), &keys, &server.url);
    assert_eq!(app.status(NOW).unwrap().pending_sign_in.unwrap().client, ClientKind::Mobile);
    let step = app.submit_code("123 456", NOW).await.unwrap();
    let SignInStep::PasscodeSetup { requirement, policy, session } = step else {
        panic!("{step:?}")
    };
    assert_eq!(requirement, PasscodeRequirement::Required);
    assert_eq!(policy.min_length, 6);
    assert_eq!(session.device_id.as_deref(), Some("dev-1"));

    let seen = server.seen();
    assert_eq!(seen[0].path, "/v1/signin");
    assert_eq!(seen[0].body["username"], "alice");
    assert_eq!(seen[0].body["client"], "mobile");
    assert_eq!(seen[0].body["device"]["name"], "Test phone");
    let public_key = seen[0].body["device"]["public_key"].as_str().unwrap().to_owned();
    assert_eq!(seen[0].body["device"]["nonce"], "registration-nonce");
    let signature = base64_decode(seen[0].body["device"]["signature"].as_str().unwrap());
    let message = twostep_proto::device_registration_message(
        ClientKind::Mobile,
        "alice",
        &public_key,
        "registration-nonce",
    );
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, base64_decode(&public_key))
        .verify(&message, &signature)
        .expect("the registration is signed by the registered key");
    assert_eq!(public_key.len(), 43, "32 bytes, base64url without padding");
    assert_eq!(seen[1].path, "/v1/signin/ch-1/code");
    assert_eq!(seen[2].body["code"], "123 456");
    drop(app);

    let app = open(dir.path(), &keys, &server.url);
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    let registration = status.registration.clone().unwrap();
    assert_eq!(
        (registration.device_id.as_str(), registration.username.as_str()),
        ("dev-1", "alice")
    );
    assert_eq!(registration.passcode_policy.unwrap().requirement, PasscodeRequirement::Required);
    assert!(status.pending_sign_in.is_none());
    let shown = format!("{app:?} {status:?}");
    assert!(!shown.contains("token-1") && !shown.contains("ch-1"), "no secrets in Debug: {shown}");
    // After the session expires, the device is still registered.
    assert_eq!(app.status(NOW + 7200).unwrap().access, Access::Registered);
}

#[tokio::test]
async fn later_sessions_are_a_signed_challenge_and_revocation_returns_to_first_access() {
    let server = Scripted::start(vec![
        (200, grant(true, "optional")),
        (200, json!({"nonce": "nonce-1", "expires_at": NOW + 60})),
        (200, untagged(grant(true, "optional"))),
        (200, json!({"nonce": "nonce-2", "expires_at": NOW + 60})),
        (401, error("device_revoked", json!({}))),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    let app = open(dir.path(), &keys, &server.url);
    let step = app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert!(matches!(
        step,
        SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Optional, .. }
    ));

    let session = app.open_session(NOW + 7200).await.unwrap();
    assert_eq!(session.username, "alice");
    let seen = server.seen();
    assert_eq!(seen[1].body, json!({"device_id": "dev-1"}));
    assert_eq!(seen[2].path, "/v1/device/session");
    assert_eq!(seen[2].body["nonce"], "nonce-1");
    // The signature verifies with the key registered at first access.
    let public_key = base64_decode(seen[0].body["device"]["public_key"].as_str().unwrap());
    let signature = base64_decode(seen[2].body["signature"].as_str().unwrap());
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public_key)
        .verify(&twostep_proto::device_session_message("dev-1", "nonce-1"), &signature)
        .unwrap();

    assert_eq!(app.open_session(NOW + 7200).await.unwrap_err(), TwostepError::DeviceRevoked);
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.registration.is_none());
    assert_eq!(app.open_session(NOW).await.unwrap_err(), TwostepError::NotRegistered);
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

#[tokio::test]
async fn resend_switch_and_recovery_codes_follow_the_server() {
    let mut switched = untagged(challenge("totp", 5));
    switched["masked_destination"] = Value::Null;
    switched["resend_after"] = Value::Null;
    let server = Scripted::start(vec![
        (200, challenge("sms", 5)),
        (429, error("resend_too_soon", json!({"retry_after_secs": 25}))),
        (200, untagged(challenge("sms", 5))),
        (200, switched),
        (200, grant(false, "")),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &server.url);
    app.sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap();
    assert_eq!(
        app.resend_code(NOW).await.unwrap_err(),
        TwostepError::ResendTooSoon { retry_after_secs: 25 }
    );
    let prompt = app.resend_code(NOW + 30).await.unwrap();
    assert_eq!(prompt.channel, Channel::Sms);
    let prompt = app.switch_channel(Channel::Totp, NOW + 30).await.unwrap();
    assert_eq!((prompt.channel, prompt.resend_after), (Channel::Totp, None));
    let step = app.use_recovery_code("abcd-efgh-ij", NOW + 30).await.unwrap();
    let SignInStep::SignedIn(session) = step else { panic!("{step:?}") };
    assert_eq!((session.client, session.device_id), (ClientKind::Web, None));

    let seen = server.seen();
    assert_eq!(seen[1].path, "/v1/signin/ch-1/resend");
    assert_eq!(seen[3].body, json!({"channel": "totp"}));
    assert_eq!(seen[4].path, "/v1/signin/ch-1/recovery");
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    assert!(status.registration.is_none(), "only mobile registers a device");
}

#[tokio::test]
async fn an_expired_challenge_is_forgotten_and_cancel_tells_the_server() {
    let server = Scripted::start(vec![
        (200, challenge("email", 5)),
        (410, error("challenge_expired", json!({}))),
        (200, challenge("email", 5)),
        (204, Value::Null),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &server.url);
    app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert_eq!(app.submit_code("123456", NOW).await.unwrap_err(), TwostepError::ChallengeExpired);
    assert!(app.status(NOW).unwrap().pending_sign_in.is_none());
    assert_eq!(app.submit_code("123456", NOW).await.unwrap_err(), TwostepError::NoSignInInProgress);

    app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    app.cancel_sign_in().await.unwrap();
    assert!(app.status(NOW).unwrap().pending_sign_in.is_none());
    let seen = server.seen();
    assert_eq!((seen[3].method.as_str(), seen[3].path.as_str()), ("DELETE", "/v1/signin/ch-1"));
    // Nothing pending: cancelling again is a no-op that needs no server.
    app.cancel_sign_in().await.unwrap();
}

#[tokio::test]
async fn setup_required_gives_web_a_setup_only_session_and_mobile_nothing() {
    let setup_with_session = json!({
        "status": "setup_required",
        "message": "configure two-step",
        "session": { "token": "setup-token", "expires_at": NOW + 600, "scope": "setup_only",
                     "user": {"id": "u-1", "username": "alice", "org": "acme"} },
    });
    let server = Scripted::start(vec![
        (200, json!({"status": "setup_required", "message": "configure two-step"})),
        (200, setup_with_session),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &server.url);
    let step = app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert_eq!(
        step,
        SignInStep::SetupRequired { message: "configure two-step".into(), session: None }
    );
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);

    let step = app.sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap();
    let SignInStep::SetupRequired { session: Some(session), .. } = step else { panic!("{step:?}") };
    assert_eq!(session.scope, SessionScope::SetupOnly);
}

#[tokio::test]
async fn sign_out_ends_the_session_and_keeps_the_registration() {
    let server = Scripted::start(vec![(200, grant(true, "optional")), (204, Value::Null)]).await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &server.url);
    app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    let out = app.sign_out(NOW).await.unwrap();
    assert_eq!(out, SignOut { was_signed_in: true, server_confirmed: true });
    assert_eq!(server.seen()[1].bearer.as_deref(), Some("token-1"));
    assert_eq!(app.status(NOW).unwrap().access, Access::Registered);
    assert_eq!(
        app.sign_out(NOW).await.unwrap(),
        SignOut { was_signed_in: false, server_confirmed: false }
    );
}

#[tokio::test]
async fn unregister_deletes_the_device_on_the_server_then_locally() {
    let server = Scripted::start(vec![
        (200, grant(true, "optional")),
        (204, Value::Null),
        (204, Value::Null),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &server.url);
    app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert_eq!(app.unregister(NOW).await.unwrap(), Unregistered { already_revoked: false });
    let seen = server.seen();
    assert_eq!(
        (seen[1].method.as_str(), seen[1].path.as_str()),
        ("DELETE", "/v1/me/devices/dev-1")
    );
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);
    assert_eq!(app.unregister(NOW).await.unwrap_err(), TwostepError::NotRegistered);
}

#[tokio::test]
async fn server_errors_are_typed() {
    let server = Scripted::start(vec![
        (401, error("invalid_credentials", json!({}))),
        (429, error("rate_limited", json!({"retry_after_secs": 60}))),
        (423, error("account_locked", json!({}))),
        (503, error("unavailable", json!({}))),
        (502, json!("a proxy page")),
        (200, json!({"status": "something_new"})),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &server.url);
    let next = async || app.sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap_err();
    assert_eq!(next().await, TwostepError::InvalidCredentials);
    assert_eq!(next().await, TwostepError::RateLimited { retry_after_secs: 60 });
    assert_eq!(next().await, TwostepError::AccountLocked);
    assert!(matches!(next().await, TwostepError::Server { status: 503, .. }));
    assert!(matches!(next().await, TwostepError::Server { status: 502, .. }));
    assert!(matches!(next().await, TwostepError::Server { .. }));
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);
}

#[tokio::test]
async fn a_server_that_is_down_is_offline_and_one_that_hangs_is_a_timeout() {
    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), &url);
    let err = app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap_err();
    assert!(matches!(err, TwostepError::Offline { .. }), "{err:?}");
    assert!(
        !format!("{err:?} {err}").contains("/v1/"),
        "no URL (with challenge ids) in errors: {err:?}"
    );

    let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path(), format!("http://{}", silent.local_addr().unwrap()));
    config.server.request_timeout = Duration::from_millis(300);
    let app = Twostep::open(config, Arc::new(MemoryKeyStore::new())).unwrap();
    let err = app.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap_err();
    assert_eq!(err, TwostepError::Timeout);
    drop(silent);
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent_or_stored() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    let app = open(dir.path(), &keys, "http://127.0.0.1:9");
    for (user, password) in [("", "pw"), ("a b", "pw"), ("alice", ""), ("alice", &"p".repeat(300))]
    {
        let err = app.sign_in(user, password, ClientKind::Web, NOW).await.unwrap_err();
        assert!(matches!(err, TwostepError::InvalidInput { .. }), "{user:?}: {err:?}");
    }
    assert!(matches!(app.submit_code("", NOW).await, Err(TwostepError::InvalidInput { .. })));
    assert_eq!(app.submit_code("123456", NOW).await.unwrap_err(), TwostepError::NoSignInInProgress);
    assert_eq!(app.resend_code(NOW).await.unwrap_err(), TwostepError::NoSignInInProgress);
    assert_eq!(
        app.switch_channel(Channel::Sms, NOW).await.unwrap_err(),
        TwostepError::NoSignInInProgress
    );
    assert_eq!(app.me(NOW).await.unwrap_err(), TwostepError::NotSignedIn);
    drop(app);

    let mut config = Config::new(dir.path(), "http://127.0.0.1:9");
    config.device_name = " ".into();
    assert!(matches!(Twostep::open(config, keys.clone()), Err(TwostepError::InvalidInput { .. })));
    assert!(matches!(
        Twostep::open(Config::new(dir.path(), "not a url"), keys.clone()),
        Err(TwostepError::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn a_seeded_state_restores_as_signed_in_and_forget_local_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    crate::testing::seed_signed_in_state(dir.path(), keys.as_ref(), "http://127.0.0.1:9", NOW)
        .unwrap();
    let app = open(dir.path(), &keys, "http://127.0.0.1:9");
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    assert_eq!(status.clock_offset.unwrap().offset_ms, 0);
    app.forget_local().unwrap();
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.clock_offset.is_some(), "the clock offset is not account data");
}

#[tokio::test]
async fn the_wrong_key_store_cannot_restore_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    crate::testing::seed_signed_in_state(dir.path(), keys.as_ref(), "http://127.0.0.1:9", NOW)
        .unwrap();
    let err = Twostep::open(
        Config::new(dir.path(), "http://127.0.0.1:9"),
        Arc::new(MemoryKeyStore::new()),
    );
    assert!(matches!(err, Err(TwostepError::KeyStore { .. })), "{err:?}");
}
