//! Each client kind's prompt rule, through the core.

#![allow(clippy::unwrap_used)]

use crate::core_support::{Device, PASSWORD, now, org_and_user, submit_totp};
use twostep_core::{Access, ClientKind, SessionScope, SignInStep};
use twostep_e2e::Harness;

#[tokio::test]
async fn without_two_step_web_agent_and_outlook_sign_in_with_the_password_alone() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "alice").await;
    let app = Device::new(&h, "laptop").open();
    for client in [ClientKind::Web, ClientKind::Outlook, ClientKind::Agent] {
        let step = app.session().unwrap().sign_in("alice", PASSWORD, client, now()).await.unwrap();
        let SignInStep::SignedIn(session) = step else { panic!("{client:?}: {step:?}") };
        assert_eq!((session.client, session.scope), (client, SessionScope::Full));
        let registers = client == ClientKind::Agent;
        assert_eq!(session.device_id.is_some(), registers, "{client:?}: only the agent registers");
    }
    let status = app.status(now()).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    assert_eq!(status.registration.unwrap().client, ClientKind::Agent);
}

#[tokio::test]
async fn with_two_step_every_client_kind_is_asked_for_a_code_and_outlook_at_every_session() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "bob").await;
    let secret = h.enroll_totp("bob", PASSWORD).await;
    let app = Device::new(&h, "laptop").open();
    for client in [ClientKind::Web, ClientKind::Agent, ClientKind::Outlook, ClientKind::Mobile] {
        let step = app.session().unwrap().sign_in("bob", PASSWORD, client, now()).await.unwrap();
        assert!(matches!(step, SignInStep::CodeRequired(_)), "{client:?}: {step:?}");
        let pending = app.status(now()).unwrap().pending_sign_in.unwrap();
        assert_eq!(pending.client, client);
    }
    // The last one (mobile) is pending; starting Outlook cancels it.
    let step =
        app.session().unwrap().sign_in("bob", PASSWORD, ClientKind::Outlook, now()).await.unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)));
    let step = submit_totp(&app, &secret).await;
    let SignInStep::SignedIn(session) = step else { panic!("{step:?}") };
    assert_eq!(session.client, ClientKind::Outlook);
    // A new Outlook session asks again, although the last one succeeded.
    let step =
        app.session().unwrap().sign_in("bob", PASSWORD, ClientKind::Outlook, now()).await.unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)), "{step:?}");
}

#[tokio::test]
async fn the_agent_is_prompted_only_once_two_step_is_configured() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "carol").await;
    let app = Device::new(&h, "desktop").open();
    let step =
        app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Agent, now()).await.unwrap();
    assert!(matches!(step, SignInStep::SignedIn(_)), "{step:?}");
    h.enroll_email("carol", PASSWORD, "carol@example.com").await;
    let step =
        app.session().unwrap().sign_in("carol", PASSWORD, ClientKind::Agent, now()).await.unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)), "{step:?}");
    let code = h.latest_code_for("carol@example.com").unwrap();
    let step = app.session().unwrap().submit_code(&code, now()).await.unwrap();
    assert!(
        matches!(step, SignInStep::SignedIn(ref s) if s.client == ClientKind::Agent),
        "{step:?}"
    );
}

#[tokio::test]
async fn under_the_org_policy_web_gets_a_setup_only_session_and_other_clients_nothing() {
    let h = Harness::start().await;
    org_and_user(&h, "strict", true, "dave").await;
    let app = Device::new(&h, "laptop").open();
    for client in [ClientKind::Agent, ClientKind::Outlook, ClientKind::Mobile] {
        let step = app.session().unwrap().sign_in("dave", PASSWORD, client, now()).await.unwrap();
        assert!(
            matches!(step, SignInStep::SetupRequired { session: None, .. }),
            "{client:?}: {step:?}"
        );
    }
    assert_eq!(app.status(now()).unwrap().access, Access::FirstAccess);
    let step =
        app.session().unwrap().sign_in("dave", PASSWORD, ClientKind::Web, now()).await.unwrap();
    let SignInStep::SetupRequired { session: Some(session), .. } = step else { panic!("{step:?}") };
    assert_eq!(session.scope, SessionScope::SetupOnly);
    let status = app.status(now()).unwrap();
    assert_eq!(status.session.unwrap().scope, SessionScope::SetupOnly);
}
