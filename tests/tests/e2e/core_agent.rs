//! The desktop agent through the core, against the real server: it registers once (a key and a
//! signed registration, asked for a code only when the user has two-step), later sessions are
//! signed with its key and need no code, and a revocation sends it back to registering. Outlook
//! keeps its prompts: at every new session and after a password change.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user};
use serde_json::json;
use twostep_core::{Access, ClientKind, SignInStep, Twostep, TwostepError};
use twostep_e2e::Harness;

/// Signs `user` in as the agent with `password`, answering the emailed code if one is asked
/// for. Returns whether a code was asked for and the registration's id.
async fn register_agent(
    h: &Harness,
    app: &Twostep,
    user: &str,
    password: &str,
    email: &str,
) -> (bool, String) {
    let session = app.session().unwrap();
    let mut step = session.sign_in(user, password, ClientKind::Agent, now()).await.unwrap();
    let asked = matches!(step, SignInStep::CodeRequired(_));
    if asked {
        let code = h.latest_code_for(email).unwrap();
        step = session.submit_code(&code, now()).await.unwrap();
    }
    let SignInStep::SignedIn(info) = step else {
        panic!("the agent has no passcode step: {step:?}")
    };
    assert_eq!(info.client, ClientKind::Agent);
    let registration = app.status(now()).unwrap().registration.unwrap();
    assert_eq!(registration.client, ClientKind::Agent);
    assert_eq!(info.device_id.as_deref(), Some(registration.device_id.as_str()));
    (asked, registration.device_id)
}

/// A new agent session (a restart of the agent: new process, no live session), which must
/// need no code: `email` receives nothing.
async fn agent_session_without_a_code(h: &Harness, device: &Device, id: &str, email: &str) {
    let sent = h.codes_for(email).len();
    let app = device.open();
    app.session().unwrap().sign_out(now()).await.unwrap();
    assert_eq!(app.status(now()).unwrap().access, Access::Registered);
    let info = app.session().unwrap().open_session(now()).await.unwrap();
    assert_eq!((info.client, info.device_id.as_deref()), (ClientKind::Agent, Some(id)));
    assert_eq!(app.session().unwrap().me(now()).await.unwrap().user.username, info.username);
    assert_eq!(h.codes_for(email).len(), sent, "no code was sent for a later agent session");
}

#[tokio::test]
async fn the_agent_registers_with_a_code_when_two_step_is_on_and_later_sessions_need_none() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "carl").await;
    h.enroll_email("carl", PASSWORD, "carl@example.com").await;
    let device = Device::new(&h, "desktop");
    let (asked, id) =
        register_agent(&h, &device.open(), "carl", PASSWORD, "carl@example.com").await;
    assert!(asked, "the registration asks for a code: the user has two-step");
    for _ in 0..3 {
        agent_session_without_a_code(&h, &device, &id, "carl@example.com").await;
    }
    // The server lists it as an agent.
    let app = device.open();
    let devices = app.session().unwrap().devices(now()).await.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!((devices[0].id.as_str(), devices[0].client), (id.as_str(), ClientKind::Agent));
    assert!(!devices[0].revoked);
}

#[tokio::test]
async fn without_two_step_the_agent_registers_with_the_password_alone_until_two_step_begins() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "dora").await;
    let device = Device::new(&h, "desktop");
    let (asked, first) =
        register_agent(&h, &device.open(), "dora", PASSWORD, "dora@example.com").await;
    assert!(!asked, "no two-step, no code");
    agent_session_without_a_code(&h, &device, &first, "dora@example.com").await;

    // Two-step begins: a registration made with the password alone ends, and the agent
    // registers again, this time with a code.
    h.enroll_email("dora", PASSWORD, "dora@example.com").await;
    let app = device.open();
    let err = app.session().unwrap().open_session(now()).await.unwrap_err();
    assert_eq!(err, TwostepError::DeviceRevoked);
    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.registration.is_none());
    let (asked, second) = register_agent(&h, &app, "dora", PASSWORD, "dora@example.com").await;
    assert!(asked, "now the registration asks for a code");
    assert_ne!(first, second);
    drop(app);
    agent_session_without_a_code(&h, &device, &second, "dora@example.com").await;
}

#[tokio::test]
async fn a_revoked_agent_loses_its_session_and_goes_back_to_registering() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "erin").await;
    h.enroll_email("erin", PASSWORD, "erin@example.com").await;
    let device = Device::new(&h, "desktop");
    let app = device.open();
    let (_, id) = register_agent(&h, &app, "erin", PASSWORD, "erin@example.com").await;

    // The user revokes it from the web.
    let web = h.web_token("erin", PASSWORD).await;
    let (s, v) = h.call("DELETE", &format!("/v1/me/devices/{id}"), Some(&web), None).await;
    assert_eq!(s, 204, "{v}");
    // Its live session ends at once, and the core forgets the registration.
    assert_eq!(app.session().unwrap().me(now()).await.unwrap_err(), TwostepError::DeviceRevoked);
    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::FirstAccess);
    assert!(status.registration.is_none() && status.session.is_none());
    let err = app.session().unwrap().open_session(now()).await.unwrap_err();
    assert_eq!(err, TwostepError::NotRegistered);
    // Registering again asks for a code.
    let step =
        app.session().unwrap().sign_in("erin", PASSWORD, ClientKind::Agent, now()).await.unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)), "{step:?}");
}

#[tokio::test]
async fn outlook_is_asked_at_every_session_and_after_a_password_change_and_the_agent_is_not() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "finn").await;
    let email = "finn@example.com";
    h.enroll_email("finn", PASSWORD, email).await;
    let agent = Device::new(&h, "desktop");
    let (_, id) = register_agent(&h, &agent.open(), "finn", PASSWORD, email).await;

    // Outlook: a code at its registration and at every new session; it registers nothing.
    let outlook = Device::new(&h, "outlook").open();
    let session = outlook.session().unwrap();
    for round in 0..2 {
        let step = session.sign_in("finn", PASSWORD, ClientKind::Outlook, now()).await.unwrap();
        assert!(matches!(step, SignInStep::CodeRequired(_)), "round {round}: {step:?}");
        let code = h.latest_code_for(email).unwrap();
        let step = session.submit_code(&code, now()).await.unwrap();
        let SignInStep::SignedIn(info) = step else { panic!("{step:?}") };
        assert_eq!((info.client, info.device_id), (ClientKind::Outlook, None));
        assert!(outlook.status(now()).unwrap().registration.is_none());
    }
    // Meanwhile the agent opens sessions without a code.
    agent_session_without_a_code(&h, &agent, &id, email).await;

    // A password change (with a step-up code) ends every session and registration.
    let web = h.web_token("finn", PASSWORD).await;
    let (s, v) = h
        .call("POST", "/v1/me/two-step/step-up", Some(&web), Some(json!({"channel": "email"})))
        .await;
    assert_eq!(s, 200, "{v}");
    let new_password = "finn-password-2";
    let change = json!({
        "current_password": PASSWORD,
        "new_password": new_password,
        "code": h.latest_code_for(email).unwrap(),
    });
    let (s, v) = h.call("POST", "/v1/me/password", Some(&web), Some(change)).await;
    assert_eq!(s, 204, "{v}");

    // Outlook is asked again; the agent registers again, with a code, once.
    let step = session.sign_in("finn", new_password, ClientKind::Outlook, now()).await.unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)), "{step:?}");
    let app = agent.open();
    let err = app.session().unwrap().open_session(now()).await.unwrap_err();
    assert_eq!(err, TwostepError::DeviceRevoked);
    let (asked, id) = register_agent(&h, &app, "finn", new_password, email).await;
    assert!(asked);
    drop(app);
    agent_session_without_a_code(&h, &agent, &id, email).await;
}
