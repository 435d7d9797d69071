//! Confirming the first channel is two writes: the user record (which ends every session
//! opened with the password alone) and then the confirming session's upgrade. A crash
//! between the two must not end the session that confirmed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::config::Config;
use crate::model::{OrgRecord, SessionRecord};
use sessions::Basis;
use twostep_otp::{Algorithm, Otp, Secret, UnixTime};

const NOW: u64 = 1_800_000_000;

async fn user_without_two_step(app: &App) -> UserRecord {
    let org = OrgRecord { name: "o".into(), policy: OrgPolicy::default(), created_at: NOW };
    app.repo.put(Tree::Orgs, b"o", &org).await.unwrap();
    let u = UserRecord {
        id: format!("{:032x}", 1),
        username: "ann".into(),
        org: "o".into(),
        password_hash: String::new(),
        created_at: NOW,
        epoch: 0,
        second_step_epoch: 0,
        second_step_confirmed_by: None,
        two_step: TwoStepRecord::default(),
    };
    app.repo.put(Tree::Users, b"ann", &u).await.unwrap();
    u
}

#[tokio::test]
async fn the_confirming_session_survives_a_crash_between_the_user_write_and_its_upgrade() {
    let dir = tempfile::tempdir().unwrap();
    let config = Config { data_dir: dir.path().to_path_buf(), ..Default::default() };
    let app = App::open(config).await.unwrap();
    let u = user_without_two_step(&app).await;
    let issue =
        |scope| sessions::issue(&app, &u, ClientKind::Web, scope, None, Basis::Password, NOW);
    let confirming = issue(SessionScope::SetupOnly).await.unwrap().token;
    let other = issue(SessionScope::Full).await.unwrap().token;
    let o = Origin { addr: "127.0.0.1".parse().unwrap(), now: NOW, now_ms: NOW * 1000 };
    let a = sessions::authenticate(&app, &confirming, NOW).await.unwrap();
    let enrollment = enroll_totp(&app, &a, o).await.unwrap();
    let secret = Secret::from_base32(&enrollment.secret).unwrap();
    let otp = Otp::totp(secret, Algorithm::Sha1, 6, 30).unwrap();
    let code = otp.code_at(UnixTime::from_secs(NOW)).unwrap();

    // The first write of the confirmation, then the crash: the session was not upgraded.
    let a = sessions::authenticate(&app, &confirming, NOW).await.unwrap();
    let (_, recovery) = confirm_totp_write(&app, &a, CodeSubmission { code }, &o).await.unwrap();
    assert!(recovery.is_some(), "the first channel");
    let key = crate::crypto::sha256_hex(confirming.as_bytes());
    let stored: SessionRecord =
        app.repo.get(Tree::Sessions, key.as_bytes()).await.unwrap().unwrap();
    assert!(stored.password_only && stored.scope == SessionScope::SetupOnly);

    // After the restart: the confirming session stands, as the full session it was to become.
    let after = sessions::authenticate(&app, &confirming, NOW + 1).await.expect("it stands");
    assert_eq!(after.session.scope, SessionScope::Full);
    assert!(!after.session.password_only);
    assert_eq!(after.session.second_step_epoch, after.user.second_step_epoch);
    let stored: SessionRecord =
        app.repo.get(Tree::Sessions, key.as_bytes()).await.unwrap().unwrap();
    assert_eq!(stored.scope, SessionScope::Full, "the upgrade was written");
    // Every other session opened with the password alone ended, as without the crash.
    let e = sessions::authenticate(&app, &other, NOW + 1).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized);
}
