//! SMS over an HTTP gateway, email over SMTP, TOTP enrollment, recovery codes, resend rules.

use serde_json::json;
use twostep_e2e::{Harness, Options, now, totp_code};
use twostep_proto::{Channel, CodeSubmission};
use twostep_server::service::signin::{self, Origin};

fn origin(at: u64) -> Origin {
    Origin { addr: "127.0.0.1".parse().unwrap(), now: at, now_ms: at * 1000 }
}

#[tokio::test]
async fn email_codes_travel_through_a_real_smtp_server() {
    let h = Harness::start_with(Options { smtp: true, ..Options::default() }).await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", "alice-password").await;
    let recovery = h.enroll_email("alice", "alice-password", "alice@example.com").await;
    assert_eq!(recovery.len(), 10);
    let mail = h.mail.lock().unwrap().clone();
    assert_eq!(mail.len(), 1, "the confirmation went through SMTP");
    assert!(mail[0].text.contains("Subject: twostep verification code"));
    assert!(!h.data_dir().join("outbox").exists(), "nothing in the outbox when SMTP is configured");

    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "alice", "password": "alice-password", "client": "web"})),
        )
        .await;
    assert_eq!(v["channel"], "email");
    assert_eq!(v["masked_destination"], "a•••@example.com");
    assert!(!v.to_string().contains("alice@example.com"), "destination is masked everywhere");
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    // Resend before 30 s is refused with the wait.
    let (s, v) = h.call("POST", &format!("/v1/signin/{id}/resend"), None, None).await;
    assert_eq!(s, 429);
    assert_eq!(v["error"]["code"], "resend_too_soon");
    assert!(v["error"]["retry_after_secs"].as_u64().unwrap() <= 30);
    let code = h.latest_code_for("alice@example.com").unwrap();
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(h.mail.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn resend_invalidates_the_previous_code_and_codes_expire_and_run_out_of_tries() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "bob", "bob-password-1").await;
    h.enroll_email("bob", "bob-password-1", "bob@example.com").await;
    let app = h.app().clone();
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "bob", "password": "bob-password-1", "client": "agent"})),
        )
        .await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let first = h.latest_code_for("bob@example.com").unwrap();
    // 31 s later a resend is allowed and the first code stops working.
    let t = now() + 31;
    let c = signin::resend(&app, &id, None, origin(t)).await.expect("resend allowed after 30 s");
    assert_eq!(c.attempts_left, 5);
    let second = h.latest_code_for("bob@example.com").unwrap();
    if first != second {
        let e =
            signin::submit_code(&app, &id, CodeSubmission { code: first.clone() }, origin(t + 1))
                .await
                .unwrap_err();
        assert_eq!(e.code, twostep_proto::ErrorCode::InvalidCode);
        assert_eq!(e.attempts_left, Some(4));
    }
    // Five minutes later the code has expired.
    let e =
        signin::submit_code(&app, &id, CodeSubmission { code: second.clone() }, origin(t + 301))
            .await
            .unwrap_err();
    assert_eq!(e.code, twostep_proto::ErrorCode::CodeExpired);

    // At most five tries per code.
    h.unlock("bob").await;
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "bob", "password": "bob-password-1", "client": "web"})),
        )
        .await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let good = h.latest_code_for("bob@example.com").unwrap();
    let wrong = if good == "000000" { "111111" } else { "000000" };
    for left in (0..5).rev() {
        let (s, v) = h
            .call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": wrong})))
            .await;
        assert_eq!(s, 401);
        assert_eq!(v["error"]["attempts_left"], left);
    }
    h.unlock("bob").await; // the account throttle would answer 429 first
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": good}))).await;
    assert_eq!(s, 410, "the right code is dead after five wrong tries: {v}");
    assert_eq!(v["error"]["code"], "code_expired");
}

#[tokio::test]
async fn sms_goes_through_the_http_gateway_and_users_switch_channels() {
    let h = Harness::start_with(Options { smtp: true, sms: true, ..Options::default() }).await;
    h.create_org("acme", false).await;
    h.create_user("acme", "carol", "carol-password").await;
    h.enroll_sms("carol", "carol-password", "+4915112345678").await;
    h.enroll_email("carol", "carol-password", "carol@example.com").await;
    let secret = h.enroll_totp("carol", "carol-password").await;
    {
        let texts = h.texts.lock().unwrap();
        assert!(!texts.is_empty());
        assert!(texts.iter().all(
            |t| t.auth.as_deref() == Some("Bearer gateway-secret") && t.to == "+4915112345678"
        ));
    }
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "carol", "password": "carol-password", "client": "web"})),
        )
        .await;
    assert_eq!(v["channel"], "sms", "the first configured channel is preferred");
    let others: Vec<_> = v["other_channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["channel"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(others, vec!["totp", "email"]);
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call("POST", &format!("/v1/signin/{id}/channel"), None, Some(json!({"channel": "email"})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["channel"], "email");
    let (s, v) = h
        .call("POST", &format!("/v1/signin/{id}/channel"), None, Some(json!({"channel": "totp"})))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["channel"], "totp");
    assert!(v["masked_destination"].is_null());
    let (s, v) = h
        .call(
            "POST",
            &format!("/v1/signin/{id}/code"),
            None,
            Some(json!({"code": totp_code(&secret, now())})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // Preferred channel.
    let t = v["token"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call("PUT", "/v1/me/two-step/preferred", Some(&t), Some(json!({"channel": "email"})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["preferred"], "email");
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "carol", "password": "carol-password", "client": "agent"})),
        )
        .await;
    assert_eq!(v["channel"], "email");
    let _ = Channel::Email;
}

#[tokio::test]
async fn totp_enrollment_needs_a_correct_code_and_gives_uri_and_qr() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "dan@example.com", "dan-password").await;
    let t = h.web_token("dan@example.com", "dan-password").await;
    let (s, v) = h.call("POST", "/v1/me/two-step/totp", Some(&t), None).await;
    assert_eq!(s, 200);
    let secret = v["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).unwrap().len(),
        20,
        "160-bit secret"
    );
    assert_eq!(
        v["otpauth_uri"],
        format!(
            "otpauth://totp/twostep:dan%40example.com?secret={secret}&issuer=twostep&algorithm=SHA1&digits=6&period=30"
        )
    );
    assert!(v["qr_svg"].as_str().unwrap().starts_with("<svg"));
    // Not active until confirmed.
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(
                json!({"username": "dan@example.com", "password": "dan-password", "client": "web"}),
            ),
        )
        .await;
    assert_eq!(v["status"], "session");
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/two-step/totp/confirm",
            Some(&t),
            Some(json!({"code": totp_code(&secret, now() + 300)})),
        )
        .await;
    assert_eq!(s, 401, "{v}");
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/two-step/totp/confirm",
            Some(&t),
            Some(json!({"code": totp_code(&secret, now())})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["two_step"]["origin"], "chosen");
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(
                json!({"username": "dan@example.com", "password": "dan-password", "client": "web"}),
            ),
        )
        .await;
    assert_eq!(v["status"], "code_required");
}

#[tokio::test]
async fn recovery_codes_are_single_use_and_regeneration_kills_the_old_set() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "erin", "erin-password").await;
    let codes = h.enroll_email("erin", "erin-password", "erin@example.com").await;
    assert_eq!(codes.len(), 10);
    let id = erin_challenge(&h).await;
    let (s, v) = h
        .call(
            "POST",
            &format!("/v1/signin/{id}/recovery"),
            None,
            Some(json!({"code": codes[0].to_uppercase()})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let t = v["token"].as_str().unwrap().to_owned();
    let (_, me) = h.call("GET", "/v1/me", Some(&t), None).await;
    assert_eq!(me["two_step"]["recovery_codes_left"], 9);
    let id = erin_challenge(&h).await;
    let (s, _) = h
        .call("POST", &format!("/v1/signin/{id}/recovery"), None, Some(json!({"code": codes[0]})))
        .await;
    assert_eq!(s, 401, "a recovery code works once");
    let (s, v) = h.call("POST", "/v1/me/two-step/recovery-codes", Some(&t), None).await;
    assert_eq!(s, 200);
    let fresh: Vec<String> =
        v["codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(fresh.len(), 10);
    let (s, _) = h
        .call("POST", &format!("/v1/signin/{id}/recovery"), None, Some(json!({"code": codes[1]})))
        .await;
    assert_eq!(s, 401, "the old set stopped working");
    let (s, _) = h
        .call("POST", &format!("/v1/signin/{id}/recovery"), None, Some(json!({"code": fresh[3]})))
        .await;
    assert_eq!(s, 200);
}

async fn erin_challenge(h: &Harness) -> String {
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "erin", "password": "erin-password", "client": "web"})),
        )
        .await;
    v["challenge_id"].as_str().unwrap().to_owned()
}
