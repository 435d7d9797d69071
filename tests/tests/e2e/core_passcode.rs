//! The local passcode ("PIN" on Android) through the core, against the real server: forced
//! by the org policy, optional under the user's own two-step, escalating delays, offline
//! unlock, the wipe and a new first access, policy changes both ways, "forgot passcode".
//!
//! The passcode itself is local: its operations take made-up times (`T`, `T + 60`, ...) so
//! that delays pass without sleeping; server calls use the real clock.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user};
use serde_json::json;
use std::time::Duration;
use twostep_core::{
    Access, ClientKind, PasscodeRequirement, PasscodeStatus, PasscodeWeakness, SignInStep, Twostep,
    TwostepError, UnixTime, fixtures,
};
use twostep_e2e::Harness;

const PIN: &str = "482915";
const NEW_PIN: &str = "902613";
const WRONG: &str = "111333";

/// Mobile first access with the email code; returns the step that follows.
async fn first_access(h: &Harness, app: &Twostep, user: &str) -> SignInStep {
    let email = format!("{user}@example.com");
    let step =
        app.session().unwrap().sign_in(user, PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let SignInStep::CodeRequired(_) = step else { panic!("a code is required: {step:?}") };
    app.session().unwrap().submit_code(&h.latest_code_for(&email).unwrap(), now()).await.unwrap()
}

fn passcode(app: &Twostep, at: UnixTime) -> PasscodeStatus {
    app.passcode().state(at).unwrap().status
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

use fixtures::{passcode_incorrect as incorrect, passcode_locked_out as locked_out};

#[tokio::test]
async fn under_the_org_policy_the_pin_is_forced_wrong_pins_escalate_and_unlock_works_offline() {
    let mut h = Harness::start().await;
    org_and_user(&h, "strict", true, "alice").await;
    h.enroll_email("alice", PASSWORD, "alice@example.com").await;
    let device = Device::new(&h, "Pixel 8");
    let app = device.open();

    let step = first_access(&h, &app, "alice").await;
    let SignInStep::PasscodeSetup { requirement, policy, .. } = step else { panic!("{step:?}") };
    assert_eq!(
        (requirement, policy.min_length, policy.max_failed_attempts),
        (PasscodeRequirement::Required, 6, 10)
    );
    // Locked until a PIN is set: nothing that needs the account works.
    assert_eq!(app.session().unwrap().me(now()).await.unwrap_err(), TwostepError::PasscodeRequired);
    assert_eq!(app.passcode().state(now()).unwrap().status, PasscodeStatus::NotSet);
    assert_eq!(
        app.passcode().set("123456", now()).unwrap_err(),
        TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::Sequence }
    );
    assert_eq!(
        app.passcode().set("2580", now()).unwrap_err(),
        TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::TooShort { min_length: 6 } }
    );
    app.passcode().set(PIN, now()).unwrap();
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "alice");
    assert_eq!(app.passcode().remove(PIN, now()).unwrap_err(), TwostepError::PasscodeRequired);
    drop(app);

    // The app restarts locked; the launch screen reads the passcode state, nothing else.
    let app = device.open();
    let status = app.status(now()).unwrap();
    assert_eq!((status.access, status.passcode), (Access::Locked, PasscodeStatus::Locked));
    assert!(status.registration.is_none());
    assert_eq!(app.session().unwrap().me(now()).await.unwrap_err(), TwostepError::Locked);
    assert_eq!(app.session().unwrap().open_session(now()).await.unwrap_err(), TwostepError::Locked);

    // Wrong PINs: 1–4 free, the 5th costs a minute, the 6th five.
    let t = now();
    for left in [9, 8, 7, 6] {
        assert_eq!(app.passcode().unlock(WRONG, t).unwrap_err(), incorrect(Some(left), None));
    }
    assert_eq!(
        app.passcode().unlock(WRONG, t).unwrap_err(),
        incorrect(Some(5), Some((t, t + secs(60))))
    );
    assert_eq!(passcode(&app, t + secs(30)), PasscodeStatus::LockedOut { until: t + secs(60) });
    assert_eq!(
        app.passcode().unlock(PIN, t + secs(59)).unwrap_err(),
        locked_out(t + secs(60), t + secs(59))
    );
    assert_eq!(
        app.passcode().unlock(WRONG, t + secs(60)).unwrap_err(),
        incorrect(Some(4), Some((t + secs(60), t + secs(360))))
    );
    // Setting the clock back does not help.
    assert_eq!(
        app.passcode().unlock(PIN, t - secs(3600)).unwrap_err(),
        locked_out(t + secs(360), t + secs(60))
    );

    // The server goes away; the PIN still opens the local data.
    h.stop().await;
    drop(app);
    let app = device.open();
    assert!(!app.passcode().unlock(PIN, t + secs(360)).unwrap().change_required);
    let status = app.status(now()).unwrap();
    assert_eq!((status.access, status.passcode), (Access::SignedIn, PasscodeStatus::Unlocked));
    assert_eq!(status.registration.unwrap().username, "alice");
    assert_eq!(
        app.passcode().state(t + secs(360)).unwrap().attempts_left,
        Some(10),
        "a correct PIN starts the count over"
    );
    assert!(matches!(
        app.session().unwrap().me(now()).await.unwrap_err(),
        TwostepError::Offline { .. }
    ));
}

#[tokio::test]
async fn under_a_user_policy_the_pin_can_be_skipped_set_changed_and_removed() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "bob").await;
    h.enroll_email("bob", PASSWORD, "bob@example.com").await;
    let device = Device::new(&h, "Pixel 8");
    let app = device.open();
    let step = first_access(&h, &app, "bob").await;
    assert!(
        matches!(
            step,
            SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Optional, .. }
        ),
        "{step:?}"
    );

    // Skipped: the app works, and opens unlocked after a restart.
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "bob");
    drop(app);
    let app = device.open();
    let status = app.status(now()).unwrap();
    assert_eq!((status.access, status.passcode), (Access::SignedIn, PasscodeStatus::NotSet));
    assert_eq!(app.passcode().unlock(PIN, now()).unwrap_err(), TwostepError::PasscodeNotSet);

    // Set, then changed, then removed.
    app.passcode().set(PIN, now()).unwrap();
    drop(app);
    let app = device.open();
    assert_eq!(app.status(now()).unwrap().access, Access::Locked);
    assert_eq!(
        app.passcode().unlock(WRONG, now()).unwrap_err(),
        incorrect(None, None),
        "no wipe under a user policy"
    );
    app.passcode().change(PIN, NEW_PIN, now()).unwrap();
    app.passcode().lock().unwrap();
    assert_eq!(app.passcode().unlock(PIN, now()).unwrap_err(), incorrect(None, None));
    app.passcode().unlock(NEW_PIN, now()).unwrap();
    app.passcode().remove(NEW_PIN, now()).unwrap();
    drop(app);
    let app = device.open();
    assert_eq!(app.status(now()).unwrap().passcode, PasscodeStatus::NotSet);
    assert_eq!(app.session().unwrap().devices(now()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_requirement_follows_the_org_policy_both_ways_at_the_next_device_session() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "carol").await;
    h.enroll_email("carol", PASSWORD, "carol@example.com").await;
    let app = Device::new(&h, "Pixel 8").open();
    first_access(&h, &app, "carol").await;
    assert_eq!(
        app.session().unwrap().me(now()).await.unwrap().user.username,
        "carol",
        "optional: skipped"
    );

    // user → org: the next device session brings the new policy; now a PIN is required.
    h.set_policy(
        "acme",
        json!({"require_two_step": true, "passcode_min_length": 8, "passcode_alphanumeric": true}),
    )
    .await;
    app.session().unwrap().open_session(now()).await.unwrap();
    let state = app.passcode().state(now()).unwrap();
    assert_eq!(
        (state.status, state.policy.requirement, state.policy.min_length),
        (PasscodeStatus::NotSet, PasscodeRequirement::Required, 8)
    );
    assert_eq!(app.session().unwrap().me(now()).await.unwrap_err(), TwostepError::PasscodeRequired);
    assert_eq!(
        app.passcode().set(PIN, now()).unwrap_err(),
        TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::TooShort { min_length: 8 } }
    );
    app.passcode().set("tr0mb0ne", now()).unwrap();
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "carol");
    assert_eq!(
        app.passcode().remove("tr0mb0ne", now()).unwrap_err(),
        TwostepError::PasscodeRequired
    );

    // org → user: the PIN may go again.
    h.set_policy("acme", json!({"require_two_step": false})).await;
    app.session().unwrap().open_session(now()).await.unwrap();
    assert_eq!(
        app.passcode().state(now()).unwrap().policy.requirement,
        PasscodeRequirement::Optional
    );
    app.passcode().remove("tr0mb0ne", now()).unwrap();
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "carol");
}

#[tokio::test]
async fn max_wrong_pins_wipe_the_local_data_and_the_next_sign_in_is_a_first_access() {
    let h = Harness::start().await;
    org_and_user(&h, "strict", true, "dave").await;
    h.set_policy("strict", json!({"passcode_max_attempts": 3, "wipe_vault_on_max_attempts": true}))
        .await;
    h.enroll_email("dave", PASSWORD, "dave@example.com").await;
    let device = Device::new(&h, "Pixel 8");
    let app = device.open();
    first_access(&h, &app, "dave").await;
    app.passcode().set(PIN, now()).unwrap();
    fixtures::put_vault_record(&app, "github", b"totp secret").unwrap();
    let old_device = app.status(now()).unwrap().registration.unwrap().device_id;
    drop(app);

    let app = device.open();
    let t = now();
    assert_eq!(app.passcode().unlock(WRONG, t).unwrap_err(), incorrect(Some(2), None));
    assert_eq!(app.passcode().unlock(WRONG, t).unwrap_err(), incorrect(Some(1), None));
    assert_eq!(app.passcode().unlock(WRONG, t).unwrap_err(), TwostepError::Wiped);
    let status = app.status(now()).unwrap();
    assert_eq!((status.access, status.passcode), (Access::FirstAccess, PasscodeStatus::Wiped));
    assert!(
        fixtures::vault_record_ids(&app).unwrap().is_empty(),
        "the policy says: wipe the vault too"
    );
    assert_eq!(app.passcode().unlock(PIN, t).unwrap_err(), TwostepError::Wiped);
    drop(app);

    // Still wiped after a restart; a new first access registers a new device.
    let app = device.open();
    assert_eq!(app.status(now()).unwrap().passcode, PasscodeStatus::Wiped);
    let step = first_access(&h, &app, "dave").await;
    let SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Required, session, .. } =
        step
    else {
        panic!("{step:?}")
    };
    assert_ne!(session.device_id.as_deref(), Some(old_device.as_str()));
    assert_eq!(app.status(now()).unwrap().passcode, PasscodeStatus::NotSet);
    assert_eq!(app.session().unwrap().me(now()).await.unwrap_err(), TwostepError::PasscodeRequired);
    app.passcode().set(NEW_PIN, now()).unwrap();
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "dave");
}

#[tokio::test]
async fn a_wipe_that_keeps_the_vault_lets_the_next_password_sign_in_bring_it_back() {
    let h = Harness::start().await;
    org_and_user(&h, "strict", true, "erin").await;
    h.set_policy("strict", json!({"passcode_max_attempts": 2})).await;
    h.enroll_email("erin", PASSWORD, "erin@example.com").await;
    let device = Device::new(&h, "Pixel 8");
    let app = device.open();
    first_access(&h, &app, "erin").await;
    // Set in the same run as the sign-in: the password can recover what the PIN protects.
    app.passcode().set(PIN, now()).unwrap();
    fixtures::put_vault_record(&app, "github", b"totp secret").unwrap();
    drop(app);

    let app = device.open();
    app.passcode().unlock(WRONG, now()).unwrap_err();
    assert_eq!(app.passcode().unlock(WRONG, now()).unwrap_err(), TwostepError::Wiped);
    assert_eq!(fixtures::vault_record_ids(&app).unwrap(), ["github"], "kept, sealed");
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
    drop(app);

    let app = device.open();
    assert_eq!(
        app.session()
            .unwrap()
            .sign_in("erin", "wrong-password-1", ClientKind::Mobile, now())
            .await
            .unwrap_err(),
        TwostepError::InvalidCredentials
    );
    let step = first_access(&h, &app, "erin").await;
    assert!(
        matches!(
            step,
            SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Required, .. }
        ),
        "{step:?}"
    );
    assert_eq!(fixtures::read_vault_record(&app, "github").unwrap().unwrap(), b"totp secret");
    let status = app.status(now()).unwrap();
    assert_eq!((status.access, status.passcode), (Access::SignedIn, PasscodeStatus::NotSet));
    app.passcode().set(NEW_PIN, now()).unwrap();
    drop(app);
    let app = device.open();
    app.passcode().unlock(NEW_PIN, now()).unwrap();
    assert_eq!(fixtures::read_vault_record(&app, "github").unwrap().unwrap(), b"totp secret");
}

#[tokio::test]
async fn forgot_passcode_is_a_new_sign_in_with_password_and_code_that_keeps_the_local_data() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "frank").await;
    h.enroll_email("frank", PASSWORD, "frank@example.com").await;
    let device = Device::new(&h, "Pixel 8");
    let app = device.open();
    first_access(&h, &app, "frank").await;
    app.passcode().set(PIN, now()).unwrap();
    fixtures::put_vault_record(&app, "github", b"totp secret").unwrap();
    drop(app);

    let app = device.open();
    assert_eq!(app.status(now()).unwrap().access, Access::Locked);
    // Forgot: password first (the server checks it), then the code; locked until done.
    let step =
        app.session().unwrap().sign_in("frank", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)), "{step:?}");
    assert_eq!(app.status(now()).unwrap().access, Access::Locked);
    assert_eq!(app.session().unwrap().me(now()).await.unwrap_err(), TwostepError::Locked);
    let step = app
        .session()
        .unwrap()
        .submit_code(&h.latest_code_for("frank@example.com").unwrap(), now())
        .await
        .unwrap();
    assert!(
        matches!(
            step,
            SignInStep::PasscodeSetup { requirement: PasscodeRequirement::Optional, .. }
        ),
        "{step:?}"
    );
    let status = app.status(now()).unwrap();
    assert_eq!((status.access, status.passcode), (Access::SignedIn, PasscodeStatus::NotSet));
    assert_eq!(
        fixtures::read_vault_record(&app, "github").unwrap().unwrap(),
        b"totp secret",
        "local data kept"
    );
    app.passcode().set(NEW_PIN, now()).unwrap();
    drop(app);

    let app = device.open();
    assert_eq!(app.passcode().unlock(PIN, now()).unwrap_err(), incorrect(None, None));
    app.passcode().unlock(NEW_PIN, now()).unwrap();
    assert_eq!(fixtures::read_vault_record(&app, "github").unwrap().unwrap(), b"totp secret");
    assert_eq!(
        app.session().unwrap().devices(now()).await.unwrap().iter().filter(|d| !d.revoked).count(),
        1,
        "the old registration was retired"
    );
}

#[tokio::test]
async fn forgot_passcode_without_a_usable_recovery_changes_nothing_until_the_user_resets() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "gina").await;
    let device = Device::new(&h, "Pixel 8");
    {
        let app = device.open();
        app.session().unwrap().sign_in("gina", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    }
    // The PIN is set in a later run: the password key of the sign-in is gone, so the
    // password cannot recover what the PIN protects.
    {
        let app = device.open();
        app.passcode().set(PIN, now()).unwrap();
        fixtures::put_vault_record(&app, "github", b"totp secret").unwrap();
    }
    let app = device.open();
    assert_eq!(
        app.session()
            .unwrap()
            .sign_in("gina", PASSWORD, ClientKind::Mobile, now())
            .await
            .unwrap_err(),
        TwostepError::LocalDataUnrecoverable
    );
    assert_eq!(app.status(now()).unwrap().access, Access::Locked, "nothing changed");
    assert_eq!(fixtures::vault_record_ids(&app).unwrap(), ["github"]);
    let devices = h.user_view("gina").await["devices"].clone();
    let active = devices.as_array().unwrap().iter().filter(|d| d["revoked"] == false).count();
    assert_eq!(active, 1, "the device the failed recovery registered was removed again: {devices}");
    // The user may still remember it... or reset and start over.
    app.passcode().reset_local_data().unwrap();
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
    let step =
        app.session().unwrap().sign_in("gina", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    assert!(matches!(step, SignInStep::PasscodeSetup { .. }), "{step:?}");
    assert!(fixtures::vault_record_ids(&app).unwrap().is_empty());
}
