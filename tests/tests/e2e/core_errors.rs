//! Every failure the UI must handle arrives as its own typed error, and none of them
//! damages the local state.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user};
use std::sync::Arc;
use std::time::Duration;
use twostep_core::{Access, ClientKind, Config, MemoryKeyStore, SignInStep, Twostep, TwostepError};
use twostep_e2e::{Harness, totp_code};

#[tokio::test]
async fn a_wrong_password_and_an_unknown_user_look_the_same() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "alice").await;
    let app = Device::new(&h, "Pixel").open();
    for (user, password) in [("alice", "wrong-password-1"), ("nobody", PASSWORD)] {
        let err = app
            .session()
            .unwrap()
            .sign_in(user, password, ClientKind::Mobile, now())
            .await
            .unwrap_err();
        assert_eq!(err, TwostepError::InvalidCredentials, "{user}");
    }
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
}

#[tokio::test]
async fn too_many_wrong_codes_close_the_sign_in_and_then_the_account_is_rate_limited() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "bob").await;
    let secret = h.enroll_totp("bob", PASSWORD).await;
    let app = Device::new(&h, "Pixel").open();
    app.session().unwrap().sign_in("bob", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let good = totp_code(&secret, now().as_secs());
    let wrong = if good == "123456" { "654321" } else { "123456" };
    for left in (1..=4).rev() {
        let err = app.session().unwrap().submit_code(wrong, now()).await.unwrap_err();
        assert_eq!(err, TwostepError::InvalidCode { attempts_left: left });
    }
    // The fifth wrong authenticator code closes the sign-in; the core forgets it.
    assert_eq!(
        app.session().unwrap().submit_code(wrong, now()).await.unwrap_err(),
        TwostepError::ChallengeExpired
    );
    assert!(app.status(now()).unwrap().pending_sign_in.is_none());
    assert_eq!(
        app.session().unwrap().submit_code(&good, now()).await.unwrap_err(),
        TwostepError::NoSignInInProgress
    );

    // Five failures in a row: the account must wait before the next try (429).
    let err = app
        .session()
        .unwrap()
        .sign_in("bob", PASSWORD, ClientKind::Mobile, now())
        .await
        .unwrap_err();
    let TwostepError::RateLimited { retry_after } = err else { panic!("{err:?}") };
    assert!((1..=30).contains(&retry_after.as_secs()), "{retry_after:?}");
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
}

#[tokio::test]
async fn a_code_in_the_wrong_format_is_refused_without_losing_the_sign_in() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "carol").await;
    h.enroll_email("carol", PASSWORD, "carol@example.com").await;
    let app = Device::new(&h, "Pixel").open();
    app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let err = app.session().unwrap().submit_code("12345", now()).await.unwrap_err();
    assert!(
        matches!(err, TwostepError::Rejected { reason: twostep_core::Rejection::BadRequest, .. }),
        "{err:?}"
    );
    let err = app.session().unwrap().submit_code("12;34", now()).await.unwrap_err();
    assert!(matches!(err, TwostepError::InvalidInput { .. }), "{err:?}");
    let code = h.latest_code_for("carol@example.com").unwrap();
    assert!(matches!(
        app.session().unwrap().submit_code(&code, now()).await.unwrap(),
        SignInStep::PasscodeSetup { .. }
    ));
}

#[tokio::test]
async fn a_server_that_is_down_is_offline_and_local_state_still_reads() {
    let mut h = Harness::start().await;
    org_and_user(&h, "acme", false, "dave").await;
    let device = Device::new(&h, "Pixel");
    let app = device.open();
    app.session().unwrap().sign_in("dave", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    h.stop().await;

    let err = app.session().unwrap().open_session(now()).await.unwrap_err();
    assert!(matches!(err, TwostepError::Offline { .. }), "{err:?}");
    let err = app
        .session()
        .unwrap()
        .sign_in("dave", PASSWORD, ClientKind::Mobile, now())
        .await
        .unwrap_err();
    assert!(matches!(err, TwostepError::Offline { .. }), "{err:?}");
    assert!(matches!(
        app.session()
            .unwrap()
            .unregister(now() + std::time::Duration::from_secs(86_400 * 2))
            .await
            .unwrap_err(),
        TwostepError::Offline { .. }
    ));
    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::SignedIn, "nothing was lost while offline");
    assert!(status.registration.is_some());

    // Signing out offline ends the session here; the server is not told.
    let out = app.session().unwrap().sign_out(now()).await.unwrap();
    assert!(out.was_signed_in && !out.server_confirmed);
    assert_eq!(app.status(now()).unwrap().access, Access::Registered);
}

#[tokio::test]
async fn a_server_that_does_not_answer_is_a_timeout() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accept connections and never answer.
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path(), url);
    config.server.request_timeout = Duration::from_millis(500);
    let app = Twostep::open(config, Arc::new(MemoryKeyStore::new())).unwrap();
    let err = app
        .session()
        .unwrap()
        .sign_in("erin", PASSWORD, ClientKind::Mobile, now())
        .await
        .unwrap_err();
    assert_eq!(err, TwostepError::Timeout);
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
    holder.abort();
}

#[tokio::test]
async fn an_unreachable_port_is_offline() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let dir = tempfile::tempdir().unwrap();
    let app = Twostep::open(Config::new(dir.path(), url), Arc::new(MemoryKeyStore::new())).unwrap();
    let err =
        app.session().unwrap().sign_in("erin", PASSWORD, ClientKind::Web, now()).await.unwrap_err();
    assert!(matches!(err, TwostepError::Offline { .. }), "{err:?}");
}
