//! Mobile first access through the core: a code from each channel registers the device,
//! and the passcode answer follows the org policy.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user, submit_totp};
use twostep_core::{Access, Channel, ClientKind, PasscodeRequirement, SignInStep};
use twostep_e2e::Harness;

#[tokio::test]
async fn an_email_code_registers_the_device_and_the_users_own_two_step_makes_the_passcode_optional()
{
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "alice").await;
    h.enroll_email("alice", PASSWORD, "alice@example.com").await;
    let device = Device::new(&h, "Pixel 8");
    let app = device.open();

    let step =
        app.session().unwrap().sign_in("alice", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let SignInStep::CodeRequired(prompt) = step else { panic!("{step:?}") };
    assert_eq!(prompt.channel, Channel::Email);
    let masked = prompt.masked_destination.clone().unwrap();
    assert!(masked.ends_with("example.com") && !masked.contains("alice@"), "{masked}");
    assert_eq!((prompt.code_length, prompt.attempts_left), (6, 5));
    assert!(!prompt.resend_in(now()).unwrap().is_zero(), "a resend is not allowed at once");
    assert!(prompt.recovery_available);
    assert!(!prompt.is_expired(now()));

    let code = h.latest_code_for("alice@example.com").expect("the sign-in code was sent");
    let step = app.session().unwrap().submit_code(&code, now()).await.unwrap();
    let SignInStep::PasscodeSetup { requirement, policy, session } = step else {
        panic!("{step:?}")
    };
    assert_eq!(requirement, PasscodeRequirement::Optional);
    assert_eq!(policy.min_length, 6);
    assert_eq!((session.username.as_str(), session.client), ("alice", ClientKind::Mobile));

    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    let registration = status.registration.unwrap();
    assert_eq!(session.device_id.as_deref(), Some(registration.device_id.as_str()));
    let devices = h.user_view("alice").await["devices"].clone();
    assert_eq!(devices.as_array().unwrap().len(), 1);
    assert_eq!(devices[0]["name"], "Pixel 8");
    assert_eq!(devices[0]["id"], registration.device_id.as_str());
    assert!(status.clock_offset.unwrap().offset_ms.abs() < 5_000, "same machine, same clock");
}

#[tokio::test]
async fn an_sms_code_registers_the_device() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "bob").await;
    h.enroll_sms("bob", PASSWORD, "+4915112345678").await;
    let app = Device::new(&h, "iPhone").open();

    let SignInStep::CodeRequired(prompt) =
        app.session().unwrap().sign_in("bob", PASSWORD, ClientKind::Mobile, now()).await.unwrap()
    else {
        panic!("a code is required")
    };
    assert_eq!(prompt.channel, Channel::Sms);
    let masked = prompt.masked_destination.unwrap();
    assert!(
        masked.starts_with("+49") && masked.ends_with("78") && !masked.contains("15112345"),
        "{masked}"
    );
    let code = h.latest_code_for("+4915112345678").unwrap();
    let step = app.session().unwrap().submit_code(&code, now()).await.unwrap();
    assert!(matches!(
        step,
        SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Optional, .. }
    ));
}

#[tokio::test]
async fn an_authenticator_code_registers_the_device() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "dave").await;
    let secret = h.enroll_totp("dave", PASSWORD).await;
    let app = Device::new(&h, "Tablet").open();

    let SignInStep::CodeRequired(prompt) =
        app.session().unwrap().sign_in("dave", PASSWORD, ClientKind::Mobile, now()).await.unwrap()
    else {
        panic!("a code is required")
    };
    assert_eq!(prompt.channel, Channel::Totp);
    assert_eq!(prompt.masked_destination, None);
    assert_eq!(prompt.resend_after, None, "nothing to resend for an authenticator");
    let step = submit_totp(&app, &secret).await;
    assert!(matches!(step, SignInStep::PasscodeSetup { .. }));
    assert_eq!(app.status(now()).unwrap().access, Access::SignedIn);
}

#[tokio::test]
async fn under_the_org_policy_registration_needs_setup_first_and_then_the_passcode_is_required() {
    let h = Harness::start().await;
    org_and_user(&h, "strict", true, "carol").await;
    let app = Device::new(&h, "Pixel").open();

    let step =
        app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let SignInStep::SetupRequired { message, session } = step else { panic!("{step:?}") };
    assert!(!message.is_empty());
    assert_eq!(session, None, "no device session before two-step is set up");
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);

    h.enroll_email("carol", PASSWORD, "carol@example.com").await;
    let step =
        app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    assert!(
        matches!(step, SignInStep::CodeRequired(ref p) if p.channel == Channel::Email),
        "{step:?}"
    );
    let code = h.latest_code_for("carol@example.com").unwrap();
    let step = app.session().unwrap().submit_code(&code, now()).await.unwrap();
    let SignInStep::PasscodeSetup { requirement, .. } = step else { panic!("{step:?}") };
    assert_eq!(requirement, PasscodeRequirement::Required);
    let policy = app.status(now()).unwrap().registration.unwrap().passcode_policy.unwrap();
    assert_eq!(policy.requirement, PasscodeRequirement::Required);
}

#[tokio::test]
async fn without_two_step_the_device_registers_without_a_code() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "erin").await;
    let app = Device::new(&h, "Pixel").open();
    let step =
        app.session().unwrap().sign_in("erin", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    assert!(
        matches!(
            step,
            SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Optional, .. }
        ),
        "{step:?}"
    );
}

#[tokio::test]
async fn the_cached_passcode_policy_follows_the_org_policy_at_the_next_device_session() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "frank").await;
    h.enroll_email("frank", PASSWORD, "frank@example.com").await;
    let app = Device::new(&h, "Pixel").open();
    app.session().unwrap().sign_in("frank", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    app.session()
        .unwrap()
        .submit_code(&h.latest_code_for("frank@example.com").unwrap(), now())
        .await
        .unwrap();
    let requirement = |app: &twostep_core::Twostep| {
        app.status(now()).unwrap().registration.unwrap().passcode_policy.unwrap().requirement
    };
    assert_eq!(requirement(&app), PasscodeRequirement::Optional);

    h.set_policy("acme", serde_json::json!({"require_two_step": true, "passcode_min_length": 8}))
        .await;
    app.session().unwrap().open_session(now()).await.unwrap();
    assert_eq!(requirement(&app), PasscodeRequirement::Required);
    let policy = app.status(now()).unwrap().registration.unwrap().passcode_policy.unwrap();
    assert_eq!(policy.min_length, 8);
}
