//! The code step through the core: wrong codes, switching channel, resend, recovery codes
//! and cancelling.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user};
use twostep_core::{Channel, ClientKind, SignInStep, TwostepError};
use twostep_e2e::Harness;

#[tokio::test]
async fn a_wrong_code_reports_the_tries_left_and_keeps_the_sign_in() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "alice").await;
    h.enroll_email("alice", PASSWORD, "alice@example.com").await;
    let app = Device::new(&h, "Pixel").open();
    app.session().unwrap().sign_in("alice", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let code = h.latest_code_for("alice@example.com").unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert_eq!(
        app.session().unwrap().submit_code(wrong, now()).await.unwrap_err(),
        TwostepError::InvalidCode { attempts_left: 4 }
    );
    assert_eq!(
        app.session().unwrap().submit_code(wrong, now()).await.unwrap_err(),
        TwostepError::InvalidCode { attempts_left: 3 }
    );
    let pending = app.status(now()).unwrap().pending_sign_in.unwrap();
    assert_eq!(pending.prompt.attempts_left, 3);
    let step = app.session().unwrap().submit_code(&code, now()).await.unwrap();
    assert!(matches!(step, SignInStep::PasscodeSetup { .. }), "{step:?}");
    assert!(app.status(now()).unwrap().pending_sign_in.is_none());
}

#[tokio::test]
async fn switching_channel_sends_a_code_there_and_resending_too_soon_is_refused() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "bob").await;
    h.enroll_email("bob", PASSWORD, "bob@example.com").await;
    h.enroll_sms("bob", PASSWORD, "+4915112345678").await;
    let app = Device::new(&h, "Pixel").open();
    let SignInStep::CodeRequired(first) =
        app.session().unwrap().sign_in("bob", PASSWORD, ClientKind::Web, now()).await.unwrap()
    else {
        panic!("a code is required")
    };
    let other = if first.channel == Channel::Email { Channel::Sms } else { Channel::Email };
    assert!(first.other_channels.iter().any(|c| c.channel == other), "{first:?}");

    let err = app.session().unwrap().resend_code(now()).await.unwrap_err();
    let TwostepError::ResendTooSoon { retry_after } = err else { panic!("{err:?}") };
    assert!((1..=30).contains(&retry_after.as_secs()));

    let prompt = app.session().unwrap().switch_channel(other, now()).await.unwrap();
    assert_eq!(prompt.channel, other);
    assert!(prompt.masked_destination.is_some());
    let destination = if other == Channel::Sms { "+4915112345678" } else { "bob@example.com" };
    let code = h.latest_code_for(destination).unwrap();
    let step = app.session().unwrap().submit_code(&code, now()).await.unwrap();
    assert!(matches!(step, SignInStep::SignedIn(_)), "{step:?}");

    let err = app.session().unwrap().switch_channel(Channel::Totp, now()).await.unwrap_err();
    assert_eq!(err, TwostepError::NoSignInInProgress);
}

#[tokio::test]
async fn switching_to_a_channel_that_is_not_configured_is_a_typed_error() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "carol").await;
    h.enroll_email("carol", PASSWORD, "carol@example.com").await;
    let app = Device::new(&h, "Pixel").open();
    app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Web, now()).await.unwrap();
    assert_eq!(
        app.session().unwrap().switch_channel(Channel::Sms, now()).await.unwrap_err(),
        TwostepError::ChannelNotConfigured
    );
    assert!(app.status(now()).unwrap().pending_sign_in.is_some(), "the sign-in goes on");
}

#[tokio::test]
async fn a_recovery_code_completes_the_sign_in_once() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "dave").await;
    let recovery = h.enroll_email("dave", PASSWORD, "dave@example.com").await;
    assert_eq!(recovery.len(), 10);
    let app = Device::new(&h, "Pixel").open();
    let SignInStep::CodeRequired(prompt) =
        app.session().unwrap().sign_in("dave", PASSWORD, ClientKind::Mobile, now()).await.unwrap()
    else {
        panic!("a code is required")
    };
    assert!(prompt.recovery_available);
    let step = app.session().unwrap().use_recovery_code(&recovery[0], now()).await.unwrap();
    assert!(matches!(step, SignInStep::PasscodeSetup { .. }), "{step:?}");

    app.session().unwrap().sign_in("dave", PASSWORD, ClientKind::Web, now()).await.unwrap();
    let err = app.session().unwrap().use_recovery_code(&recovery[0], now()).await.unwrap_err();
    assert!(matches!(err, TwostepError::InvalidCode { .. }), "a used recovery code fails: {err:?}");
    let step = app.session().unwrap().use_recovery_code(&recovery[1], now()).await.unwrap();
    assert!(matches!(step, SignInStep::SignedIn(_)), "{step:?}");
}

#[tokio::test]
async fn cancelling_forgets_the_sign_in_here_and_on_the_server() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "erin").await;
    h.enroll_email("erin", PASSWORD, "erin@example.com").await;
    let app = Device::new(&h, "Pixel").open();
    app.session().unwrap().sign_in("erin", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let code = h.latest_code_for("erin@example.com").unwrap();
    app.session().unwrap().cancel_sign_in().await.unwrap();
    assert!(app.status(now()).unwrap().pending_sign_in.is_none());
    assert_eq!(
        app.session().unwrap().submit_code(&code, now()).await.unwrap_err(),
        TwostepError::NoSignInInProgress
    );
    assert_eq!(app.status(now()).unwrap().access, twostep_core::Access::FirstAccess);
}
