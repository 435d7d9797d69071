//! Device sessions, restarts, revocation and unregistering, through the core.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user, submit_totp};
use twostep_core::{Access, ClientKind, SignInStep, TwostepError};
use twostep_e2e::Harness;

/// Registers `device` for `user` (who has no two-step) and returns the device id.
async fn registered(user: &str, device: &Device) -> String {
    let app = device.open();
    let step =
        app.session().unwrap().sign_in(user, PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let SignInStep::PasscodeSetup { session, .. } = step else { panic!("{step:?}") };
    session.device_id.unwrap()
}

#[tokio::test]
async fn the_state_survives_an_app_restart_and_a_server_restart() {
    let mut h = Harness::start().await;
    org_and_user(&h, "acme", false, "alice").await;
    let device = Device::new(&h, "Pixel");
    let device_id = registered("alice", &device).await;

    // The app is killed and started again: everything is restored from the data dir.
    let app = device.open();
    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    assert_eq!(status.registration.as_ref().unwrap().device_id, device_id);
    assert_eq!(status.session.as_ref().unwrap().username, "alice");
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "alice");
    drop(app);

    // The server restarts too; the restored device key still opens sessions, no code.
    h.restart().await;
    let app = device.open();
    let session = app.session().unwrap().open_session(now()).await.unwrap();
    assert_eq!(session.device_id.as_deref(), Some(device_id.as_str()));
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, "alice");
}

#[tokio::test]
async fn later_sessions_use_the_device_key_without_a_code() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "bob").await;
    let secret = h.enroll_totp("bob", PASSWORD).await;
    let device = Device::new(&h, "Pixel");
    let app = device.open();
    app.session().unwrap().sign_in("bob", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    submit_totp(&app, &secret).await;

    let out = app.session().unwrap().sign_out(now()).await.unwrap();
    assert!(out.was_signed_in && out.server_confirmed);
    assert_eq!(app.status(now()).unwrap().access, Access::Registered);
    let session = app.session().unwrap().open_session(now()).await.unwrap();
    assert_eq!(session.username, "bob");
    assert_eq!(app.status(now()).unwrap().access, Access::SignedIn);
    // Without a session, an authenticated call opens one with the device key.
    app.session().unwrap().sign_out(now()).await.unwrap();
    assert_eq!(app.session().unwrap().devices(now()).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_revoked_device_returns_to_first_access_and_can_register_again() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "carol").await;
    let device = Device::new(&h, "Pixel");
    let first_id = registered("carol", &device).await;
    let app = device.open();

    h.revoke_devices("carol").await;
    assert_eq!(
        app.session().unwrap().open_session(now()).await.unwrap_err(),
        TwostepError::DeviceRevoked
    );
    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.registration.is_none() && status.session.is_none());
    assert_eq!(
        app.session().unwrap().open_session(now()).await.unwrap_err(),
        TwostepError::NotRegistered
    );

    let step =
        app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Mobile, now()).await.unwrap();
    let SignInStep::PasscodeSetup { session, .. } = step else { panic!("{step:?}") };
    assert_ne!(session.device_id.as_deref(), Some(first_id.as_str()), "a new registration");
}

#[tokio::test]
async fn an_admin_reset_revokes_the_device_and_a_live_session_notices_too() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "dave").await;
    let device = Device::new(&h, "Pixel");
    registered("dave", &device).await;
    let app = device.open();
    h.admin_reset("dave").await;
    // The stored session was revoked with the device: the call renews with the device
    // key, which the server refuses, and the core forgets the registration.
    let err = app.session().unwrap().me(now()).await.unwrap_err();
    assert_eq!(err, TwostepError::DeviceRevoked);
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
}

#[tokio::test]
async fn unregistering_removes_the_device_on_the_server_and_here() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "erin").await;
    let phone = Device::new(&h, "Phone");
    let tablet = Device::new(&h, "Tablet");
    let phone_id = registered("erin", &phone).await;
    let tablet_id = registered("erin", &tablet).await;

    let app = phone.open();
    let result = app.session().unwrap().unregister(now()).await.unwrap();
    assert!(!result.already_revoked);
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
    let devices = h.user_view("erin").await["devices"].as_array().unwrap().clone();
    let revoked = |id: &str| devices.iter().find(|d| d["id"] == id).map(|d| d["revoked"] == true);
    assert_eq!(revoked(&phone_id), Some(true));
    assert_eq!(revoked(&tablet_id), Some(false));
    // The other device is unaffected.
    tablet.open().session().unwrap().open_session(now()).await.unwrap();
}

#[tokio::test]
async fn registering_again_on_the_same_device_retires_the_previous_registration() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "frank").await;
    let device = Device::new(&h, "Phone");
    let first = registered("frank", &device).await;
    let second = registered("frank", &device).await;
    assert_ne!(first, second);
    let devices = h.user_view("frank").await["devices"].as_array().unwrap().clone();
    let active: Vec<_> =
        devices.iter().filter(|d| d["revoked"] == false).map(|d| d["id"].clone()).collect();
    assert_eq!(active, vec![serde_json::json!(second)]);
}
