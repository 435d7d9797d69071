//! The product's own authenticator against the server: the core's vault takes the server's
//! enrollment URI (what the QR code shows), and its codes confirm the enrollment and then
//! complete a sign-in. Both ends use `twostep-otp`, but they meet only through the URI and
//! the typed codes, as an app and a server of different versions would.

use serde_json::json;
use twostep_core::{ClientKind, Config, SignInStep, Twostep, TwostepError};
use twostep_e2e::Harness;

use crate::core_support::{Device, PASSWORD, now, org_and_user};

#[tokio::test]
async fn the_apps_authenticator_enrolls_with_the_servers_uri_and_signs_in_with_its_codes() {
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "alice").await;
    let token = h.web_token("alice", PASSWORD).await;
    let (status, enrollment) = h.call("POST", "/v1/me/two-step/totp", Some(&token), None).await;
    assert_eq!(status, 200, "{enrollment}");
    let uri = enrollment["otpauth_uri"].as_str().unwrap();

    // The phone scans the QR code: its authenticator needs no server.
    let phone = Device::new(&h, "Pixel");
    let app = Twostep::open(Config::local(&phone.dir), phone.keys.clone()).unwrap();
    let account = app.authenticator().add_uri(uri).unwrap();
    assert_eq!(account.name, "alice");
    assert!(account.issuer.is_some() && account.warnings.is_empty(), "{account:?}");
    assert_eq!((account.digits, account.period), (6, Some(30)));

    let t = now();
    let list = app.authenticator().codes(t).unwrap();
    let line = list.codes.iter().find(|c| c.id == account.id).unwrap();
    let (code, next) = (line.code.clone().unwrap(), line.next_code.clone().unwrap());
    let (status, confirmed) = h
        .call("POST", "/v1/me/two-step/totp/confirm", Some(&token), Some(json!({"code": code})))
        .await;
    assert_eq!(status, 200, "the app's code confirms the enrollment: {confirmed}");

    // A sign-in asks for the authenticator's code; the one spent on the confirmation is a
    // replay, the next period's code signs in.
    let laptop = Device::new(&h, "laptop").open();
    let session = laptop.session().unwrap();
    let step = session.sign_in("alice", PASSWORD, ClientKind::Web, t).await.unwrap();
    let SignInStep::CodeRequired(prompt) = step else { panic!("{step:?}") };
    assert_eq!(prompt.channel, twostep_core::Channel::Totp);
    let replay = session.submit_code(&code, t).await.unwrap_err();
    assert!(matches!(replay, TwostepError::InvalidCode { .. }), "{replay:?}");
    let step = session.submit_code(&next, t).await.unwrap();
    let SignInStep::SignedIn(signed_in) = step else { panic!("{step:?}") };
    assert_eq!(signed_in.username, "alice");
}
