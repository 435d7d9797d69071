//! The sign-in flow against the mock server (`crate::mock_server`): each test says what
//! each route answers and checks what the core shows, sends and stores. The real server is
//! exercised end to end in `tests/`.

use std::sync::Arc;
use std::time::Duration;
use twostep_proto::{Channel, ClientKind, ErrorCode, PasscodeRequirement, SessionScope};

use crate::mock_server::{
    MockServer, NOW, REGISTRATION_NONCE, Reply, code_required, device_challenge, grant,
    setup_required, signed_in,
};
use crate::{
    Access, ClockSource, Config, MemoryKeyStore, Rejection, SignInStep, SignOut, Twostep,
    TwostepError, UnixTime, Unregistered,
};

const SIGN_IN: &str = "/v1/signin";

/// A local clock stopped at `NOW`, so that the measured offset is the mock's 5 s.
#[derive(Debug)]
struct StoppedClock;

impl ClockSource for StoppedClock {
    fn now(&self) -> std::time::SystemTime {
        NOW.to_system_time()
    }
}

fn open(dir: &std::path::Path, keys: &Arc<MemoryKeyStore>, url: &str) -> Twostep {
    let mut config = Config::new(dir, url);
    config.device_name = "Test phone".into();
    config.server.request_timeout = Duration::from_secs(5);
    Twostep::open_with_clock(config, keys.clone(), Arc::new(StoppedClock)).unwrap()
}

fn at(secs_after_now: u64) -> UnixTime {
    NOW.saturating_add(Duration::from_secs(secs_after_now))
}

fn fresh(url: &str) -> (tempfile::TempDir, Twostep) {
    let dir = tempfile::tempdir().unwrap();
    let app = open(dir.path(), &Arc::new(MemoryKeyStore::new()), url);
    (dir, app)
}

#[tokio::test]
async fn a_fresh_data_dir_is_a_first_access() {
    let (_dir, app) = fresh("http://127.0.0.1:9");
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(
        status.registration.is_none()
            && status.session.is_none()
            && status.pending_sign_in.is_none()
    );
    assert_eq!(status.server_url.as_deref(), Some("http://127.0.0.1:9/"));
}

#[tokio::test]
async fn mobile_first_access_with_an_email_code_registers_the_device_and_survives_a_restart() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [code_required(Channel::Email, 5)]);
    server.on(
        "POST",
        "/v1/signin/ch-1/code",
        [
            Reply::error_with(ErrorCode::InvalidCode, None, Some(4)),
            signed_in(Some(PasscodeRequirement::Required)),
        ],
    );
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    {
        let app = open(dir.path(), &keys, &server.url);
        let session = app.session().unwrap();
        let step = session.sign_in(" Alice ", "correct horse", ClientKind::Mobile, NOW).await;
        let SignInStep::CodeRequired(prompt) = step.unwrap() else { panic!() };
        assert_eq!(prompt.channel, Channel::Email);
        assert_eq!(prompt.masked_destination.as_deref(), Some("a•••@example.com"));
        assert_eq!(prompt.attempts_left, 5);
        assert!(prompt.recovery_available);
        // The server clock runs 5 s ahead of the stopped local clock: times are corrected.
        let offset = app.clock_offset().unwrap().unwrap();
        assert_eq!(offset.offset_ms, 5_000);
        assert_eq!(prompt.resend_after, Some(at(30)));
        assert_eq!(prompt.expires_at, at(300));
        assert_eq!(prompt.resend_in(NOW), Some(Duration::from_secs(30)));

        let err = session.submit_code("000000", NOW).await.unwrap_err();
        assert_eq!(err, TwostepError::InvalidCode { attempts_left: 4 });
        let pending = app.status(NOW).unwrap().pending_sign_in.unwrap();
        assert_eq!(pending.prompt.attempts_left, 4);
        assert_eq!(pending.username, "alice");
    }
    // The app was killed while the user read the email: the sign-in is still pending.
    let app = open(dir.path(), &keys, &server.url);
    assert_eq!(app.status(NOW).unwrap().pending_sign_in.unwrap().client, ClientKind::Mobile);
    let step = app.session().unwrap().submit_code("123 456", NOW).await.unwrap();
    let SignInStep::PasscodeSetup { requirement, policy, session } = step else {
        panic!("{step:?}")
    };
    assert_eq!(requirement, PasscodeRequirement::Required);
    assert_eq!(policy.min_length, 6);
    assert_eq!(session.device_id.as_deref(), Some("dev-1"));

    let sign_in = &server.requests("POST", SIGN_IN)[0];
    assert_eq!(sign_in.body["username"], "alice");
    assert_eq!(sign_in.body["client"], "mobile");
    assert_eq!(sign_in.body["device"]["name"], "Test phone");
    let public_key = sign_in.body["device"]["public_key"].as_str().unwrap().to_owned();
    assert_eq!(public_key.len(), 43, "32 bytes, base64url without padding");
    assert_eq!(sign_in.body["device"]["nonce"], REGISTRATION_NONCE);
    let signature = base64_decode(sign_in.body["device"]["signature"].as_str().unwrap());
    let message = twostep_proto::device_registration_message(
        ClientKind::Mobile,
        "alice",
        &public_key,
        REGISTRATION_NONCE,
    );
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, base64_decode(&public_key))
        .verify(&message, &signature)
        .expect("the registration is signed by the registered key");
    let codes = server.requests("POST", "/v1/signin/ch-1/code");
    assert_eq!(codes[1].body["code"], "123 456");
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
    assert_eq!(app.status(at(7200)).unwrap().access, Access::Registered);
}

#[tokio::test]
async fn a_data_dir_opened_without_a_url_uses_the_server_it_signed_in_to() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [signed_in(None)]);
    server.on("POST", "/v1/signout", [Reply::no_content()]);
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    let local_only = Twostep::open(Config::local(dir.path()), keys.clone()).unwrap();
    assert_eq!(local_only.session().unwrap_err(), TwostepError::NoServer);
    assert_eq!(local_only.status(NOW).unwrap().server_url, None);
    drop(local_only);

    let app = open(dir.path(), &keys, &server.url);
    app.session().unwrap().sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap();
    drop(app);
    let app = Twostep::open(Config::local(dir.path()), keys).unwrap();
    assert_eq!(app.server_url(), Some(format!("{}/", server.url).as_str()));
    let out = app.session().unwrap().sign_out(NOW).await.unwrap();
    assert_eq!(out, SignOut { was_signed_in: true, server_confirmed: true });
    assert_eq!(server.requests("POST", "/v1/signout").len(), 1);
}

#[tokio::test]
async fn later_sessions_are_a_signed_challenge_and_revocation_returns_to_first_access() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [signed_in(Some(PasscodeRequirement::Optional))]);
    server.on(
        "POST",
        "/v1/device/challenge",
        [device_challenge("nonce-1"), Reply::error(ErrorCode::DeviceRevoked)],
    );
    server.on(
        "POST",
        "/v1/device/session",
        [Reply::ok(&grant(Some(PasscodeRequirement::Optional)))],
    );
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    let step = session.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert!(matches!(
        step,
        SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Optional, .. }
    ));

    let info = session.open_session(at(7200)).await.unwrap();
    assert_eq!(info.username, "alice");
    assert_eq!(server.requests("POST", "/v1/device/challenge")[0].body["device_id"], "dev-1");
    let device_session = &server.requests("POST", "/v1/device/session")[0];
    assert_eq!(device_session.body["nonce"], "nonce-1");
    // The signature verifies with the key registered at first access.
    let sign_in = &server.requests("POST", SIGN_IN)[0];
    let public_key = base64_decode(sign_in.body["device"]["public_key"].as_str().unwrap());
    let signature = base64_decode(device_session.body["signature"].as_str().unwrap());
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &public_key)
        .verify(&twostep_proto::device_session_message("dev-1", "nonce-1"), &signature)
        .unwrap();

    assert_eq!(session.open_session(at(7200)).await.unwrap_err(), TwostepError::DeviceRevoked);
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.registration.is_none());
    assert_eq!(session.open_session(NOW).await.unwrap_err(), TwostepError::NotRegistered);
}

#[tokio::test]
async fn the_agent_registers_once_with_a_code_and_later_sessions_are_signed_until_revoked() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [code_required(Channel::Email, 5)]);
    // The agent's grant carries its registration (and the org's passcode policy, which is
    // the mobile app's business).
    server.on("POST", "/v1/signin/ch-1/code", [signed_in(Some(PasscodeRequirement::Required))]);
    server.on(
        "POST",
        "/v1/device/challenge",
        [device_challenge("nonce-1"), Reply::error(ErrorCode::DeviceRevoked)],
    );
    server.on(
        "POST",
        "/v1/device/session",
        [Reply::ok(&grant(Some(PasscodeRequirement::Required)))],
    );
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    {
        let app = open(dir.path(), &keys, &server.url);
        let step = app.session().unwrap().sign_in("carl", "pw", ClientKind::Agent, NOW).await;
        assert!(matches!(step.unwrap(), SignInStep::CodeRequired(_)));
    }
    // Restarted while the user read the email: the pending registration resumes.
    let app = open(dir.path(), &keys, &server.url);
    let session = app.session().unwrap();
    let step = session.submit_code("123456", NOW).await.unwrap();
    let SignInStep::SignedIn(info) = step else {
        panic!("no passcode step for the agent: {step:?}")
    };
    assert_eq!((info.client, info.device_id.as_deref()), (ClientKind::Agent, Some("dev-1")));

    let sign_in = &server.requests("POST", SIGN_IN)[0];
    assert_eq!(sign_in.body["client"], "agent");
    let public_key = sign_in.body["device"]["public_key"].as_str().unwrap().to_owned();
    let signature = base64_decode(sign_in.body["device"]["signature"].as_str().unwrap());
    let verify = |kind| {
        let message = twostep_proto::device_registration_message(
            kind,
            "carl",
            &public_key,
            REGISTRATION_NONCE,
        );
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ED25519,
            base64_decode(&public_key),
        )
        .verify(&message, &signature)
    };
    assert!(verify(ClientKind::Agent).is_ok(), "signed as an agent registration");
    assert!(verify(ClientKind::Mobile).is_err(), "bound to its kind");

    let status = app.status(NOW).unwrap();
    let registration = status.registration.unwrap();
    assert_eq!(
        (registration.client, registration.device_id.as_str()),
        (ClientKind::Agent, "dev-1")
    );
    assert_eq!(registration.passcode_policy, None, "the agent caches no passcode policy");
    assert_eq!(
        app.passcode().state(NOW).unwrap().policy.requirement,
        PasscodeRequirement::Optional
    );
    assert!(status.pending_sign_in.is_none());

    // Later: a signed challenge, no password, no code.
    let info = session.open_session(at(7200)).await.unwrap();
    assert_eq!((info.client, info.device_id.as_deref()), (ClientKind::Agent, Some("dev-1")));
    assert_eq!(server.requests("POST", "/v1/device/session").len(), 1);
    assert_eq!(app.status(NOW).unwrap().session.unwrap().client, ClientKind::Agent);
    assert_eq!(server.requests("POST", SIGN_IN).len(), 1);

    // Revoked: back to the start.
    assert_eq!(session.open_session(at(7200)).await.unwrap_err(), TwostepError::DeviceRevoked);
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.registration.is_none());
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).unwrap()
}

#[tokio::test]
async fn resend_switch_and_recovery_codes_follow_the_server() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [code_required(Channel::Sms, 5)]);
    server.on(
        "POST",
        "/v1/signin/ch-1/resend",
        [
            Reply::error_with(ErrorCode::ResendTooSoon, Some(25), None),
            Reply::ok(&crate::mock_server::challenge(Channel::Sms, 5)),
        ],
    );
    server.on(
        "POST",
        "/v1/signin/ch-1/channel",
        [Reply::ok(&crate::mock_server::challenge(Channel::Totp, 5))],
    );
    server.on("POST", "/v1/signin/ch-1/recovery", [signed_in(None)]);
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    session.sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap();
    let too_soon = session.resend_code(NOW).await.unwrap_err();
    assert_eq!(too_soon, TwostepError::ResendTooSoon { retry_after: Duration::from_secs(25) });
    assert_eq!(too_soon.to_string(), "a new code can be sent in 25 s");
    let prompt = session.resend_code(at(30)).await.unwrap();
    assert_eq!(prompt.channel, Channel::Sms);
    let prompt = session.switch_channel(Channel::Totp, at(30)).await.unwrap();
    assert_eq!((prompt.channel, prompt.resend_after), (Channel::Totp, None));
    let step = session.use_recovery_code("abcd-efgh-ij", at(30)).await.unwrap();
    let SignInStep::SignedIn(info) = step else { panic!("{step:?}") };
    assert_eq!((info.client, info.device_id), (ClientKind::Web, None));

    assert_eq!(server.requests("POST", "/v1/signin/ch-1/channel")[0].body["channel"], "totp");
    assert_eq!(server.requests("POST", "/v1/signin/ch-1/recovery")[0].body["code"], "abcd-efgh-ij");
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    assert!(status.registration.is_none(), "a web sign-in registers nothing");
}

#[tokio::test]
async fn an_expired_challenge_is_forgotten_and_cancel_tells_the_server() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [code_required(Channel::Email, 5)]);
    server.on("POST", "/v1/signin/ch-1/code", [Reply::error(ErrorCode::ChallengeExpired)]);
    server.on("DELETE", "/v1/signin/ch-1", [Reply::no_content()]);
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    session.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert_eq!(
        session.submit_code("123456", NOW).await.unwrap_err(),
        TwostepError::ChallengeExpired
    );
    assert!(app.status(NOW).unwrap().pending_sign_in.is_none());
    assert_eq!(
        session.submit_code("123456", NOW).await.unwrap_err(),
        TwostepError::NoSignInInProgress
    );

    session.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    session.cancel_sign_in().await.unwrap();
    assert!(app.status(NOW).unwrap().pending_sign_in.is_none());
    assert_eq!(server.requests("DELETE", "/v1/signin/ch-1").len(), 1);
    // Nothing pending: cancelling again is a no-op that needs no server.
    session.cancel_sign_in().await.unwrap();
    assert_eq!(server.requests("DELETE", "/v1/signin/ch-1").len(), 1);
}

#[tokio::test]
async fn setup_required_gives_web_a_setup_only_session_and_mobile_nothing() {
    let mut setup_session = grant(None);
    setup_session.scope = SessionScope::SetupOnly;
    setup_session.token = "setup-token".into();
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [setup_required(None), setup_required(Some(setup_session))]);
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    let step = session.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert_eq!(
        step,
        SignInStep::SetupRequired { message: "configure two-step".into(), session: None }
    );
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);

    let step = session.sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap();
    let SignInStep::SetupRequired { session: Some(info), .. } = step else { panic!("{step:?}") };
    assert_eq!(info.scope, SessionScope::SetupOnly);
}

#[tokio::test]
async fn sign_out_ends_the_session_and_keeps_the_registration() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [signed_in(Some(PasscodeRequirement::Optional))]);
    server.on("POST", "/v1/signout", [Reply::no_content()]);
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    session.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    let out = session.sign_out(NOW).await.unwrap();
    assert_eq!(out, SignOut { was_signed_in: true, server_confirmed: true });
    assert_eq!(server.requests("POST", "/v1/signout")[0].bearer.as_deref(), Some("token-1"));
    assert_eq!(app.status(NOW).unwrap().access, Access::Registered);
    assert_eq!(
        session.sign_out(NOW).await.unwrap(),
        SignOut { was_signed_in: false, server_confirmed: false }
    );
}

#[tokio::test]
async fn unregister_deletes_the_device_on_the_server_then_locally() {
    let server = MockServer::start().await;
    server.on("POST", SIGN_IN, [signed_in(Some(PasscodeRequirement::Optional))]);
    server.on("DELETE", "/v1/me/devices/dev-1", [Reply::no_content()]);
    server.on("POST", "/v1/signout", [Reply::no_content()]);
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    session.sign_in("alice", "pw", ClientKind::Mobile, NOW).await.unwrap();
    assert_eq!(session.unregister(NOW).await.unwrap(), Unregistered { already_revoked: false });
    let deleted = server.requests("DELETE", "/v1/me/devices/dev-1");
    assert_eq!(deleted[0].bearer.as_deref(), Some("token-1"));
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);
    assert_eq!(session.unregister(NOW).await.unwrap_err(), TwostepError::NotRegistered);
}

#[tokio::test]
async fn server_errors_are_typed() {
    let server = MockServer::start().await;
    server.on(
        "POST",
        SIGN_IN,
        [
            Reply::error(ErrorCode::InvalidCredentials),
            Reply::error_with(ErrorCode::RateLimited, Some(60), None),
            Reply::error(ErrorCode::AccountLocked),
            Reply::error(ErrorCode::Unavailable),
            Reply::raw(502, serde_json::json!("a proxy page")),
            Reply::raw(200, serde_json::json!({"status": "something_new"})),
            Reply::error(ErrorCode::Forbidden),
        ],
    );
    let (_dir, app) = fresh(&server.url);
    let session = app.session().unwrap();
    let next = async || session.sign_in("alice", "pw", ClientKind::Web, NOW).await.unwrap_err();
    assert_eq!(next().await, TwostepError::InvalidCredentials);
    assert_eq!(next().await, TwostepError::RateLimited { retry_after: Duration::from_secs(60) });
    assert_eq!(next().await, TwostepError::AccountLocked);
    assert!(matches!(next().await, TwostepError::Server { status: 503, .. }));
    assert!(matches!(next().await, TwostepError::Server { status: 502, .. }));
    assert!(matches!(next().await, TwostepError::Server { .. }));
    assert!(matches!(next().await, TwostepError::Rejected { reason: Rejection::Forbidden, .. }));
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);
}

#[tokio::test]
async fn a_server_that_is_down_is_offline_and_one_that_hangs_is_a_timeout() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (_dir, app) = fresh(&url);
    let err = app.session().unwrap().sign_in("alice", "pw", ClientKind::Mobile, NOW).await;
    let err = err.unwrap_err();
    assert!(matches!(err, TwostepError::Offline { .. }), "{err:?}");
    assert!(
        !format!("{err:?} {err}").contains("/v1/"),
        "no URL (with challenge ids) in errors: {err:?}"
    );

    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path(), format!("http://{}", silent.local_addr().unwrap()));
    config.server.request_timeout = Duration::from_millis(300);
    let app = Twostep::open(config, Arc::new(MemoryKeyStore::new())).unwrap();
    let err = app.session().unwrap().sign_in("alice", "pw", ClientKind::Mobile, NOW).await;
    assert_eq!(err.unwrap_err(), TwostepError::Timeout);
    drop(silent);
}

#[tokio::test]
async fn bad_input_is_refused_before_anything_is_sent_or_stored() {
    let server = MockServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    let app = open(dir.path(), &keys, &server.url);
    let session = app.session().unwrap();
    for (user, password) in [("", "pw"), ("a b", "pw"), ("alice", ""), ("alice", &"p".repeat(300))]
    {
        let err = session.sign_in(user, password, ClientKind::Web, NOW).await.unwrap_err();
        assert!(matches!(err, TwostepError::InvalidInput { .. }), "{user:?}: {err:?}");
    }
    assert!(matches!(session.submit_code("", NOW).await, Err(TwostepError::InvalidInput { .. })));
    assert_eq!(
        session.submit_code("123456", NOW).await.unwrap_err(),
        TwostepError::NoSignInInProgress
    );
    assert_eq!(session.resend_code(NOW).await.unwrap_err(), TwostepError::NoSignInInProgress);
    assert_eq!(
        session.switch_channel(Channel::Sms, NOW).await.unwrap_err(),
        TwostepError::NoSignInInProgress
    );
    assert_eq!(session.me(NOW).await.unwrap_err(), TwostepError::NotSignedIn);
    assert!(server.seen().is_empty(), "nothing was sent");
    drop(app);

    let mut config = Config::new(dir.path(), &server.url);
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
    crate::fixtures::seed_signed_in_state(dir.path(), keys.as_ref(), "http://127.0.0.1:9", NOW)
        .unwrap();
    let app = Twostep::open(Config::local(dir.path()), keys).unwrap();
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    assert_eq!(status.server_url.as_deref(), Some("http://127.0.0.1:9/"), "the stored server");
    assert_eq!(status.clock_offset.unwrap().offset_ms, 0);
    app.session().unwrap().forget_local().unwrap();
    let status = app.status(NOW).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.clock_offset.is_some(), "the clock offset is not account data");
}

#[tokio::test]
async fn the_wrong_key_store_cannot_restore_the_state() {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    crate::fixtures::seed_signed_in_state(dir.path(), keys.as_ref(), "http://127.0.0.1:9", NOW)
        .unwrap();
    let err = Twostep::open(
        Config::new(dir.path(), "http://127.0.0.1:9"),
        Arc::new(MemoryKeyStore::new()),
    );
    assert!(matches!(err, Err(TwostepError::KeyStore { .. })), "{err:?}");
}
