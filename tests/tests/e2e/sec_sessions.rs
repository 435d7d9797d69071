//! Sessions as capabilities: setup-only and password-only sessions end when two-step begins,
//! a device's sessions end with the device, and a password change is counted, audited and
//! needs a fresh code.

use serde_json::{Value, json};
use twostep_e2e::{Harness, TestDevice, now, totp_code};

const PW: &str = "correct-horse-1";

async fn sign_in(h: &Harness, user: &str, pw: &str, client: &str) -> (u16, Value) {
    h.call(
        "POST",
        "/v1/signin",
        None,
        Some(json!({"username": user, "password": pw, "client": client})),
    )
    .await
}

/// A setup-only session (the org requires two-step, the user has none).
async fn setup_session(h: &Harness, user: &str) -> String {
    let (s, v) = sign_in(h, user, PW, "web").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("setup_required")), "{v}");
    v["session"]["token"].as_str().unwrap().to_owned()
}

async fn audit_kinds(h: &Harness, user: &str) -> Vec<String> {
    let (_, page) = h.admin("GET", &format!("/v1/admin/audit?user={user}&limit=1000"), None).await;
    page["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap().into()).collect()
}

#[tokio::test]
async fn a_setup_only_session_ends_when_the_first_channel_is_confirmed_elsewhere() {
    let h = Harness::start().await;
    h.create_org("strict", true).await;
    h.create_user("strict", "alice", PW).await;
    // Someone who knows the password holds a setup-only session, and starts an SMS enrollment.
    let attacker = setup_session(&h, "alice").await;
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/two-step/sms",
            Some(&attacker),
            Some(json!({"phone": "+4915100000666"})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    // The real user configures an authenticator from their own setup-only session.
    let user = setup_session(&h, "alice").await;
    let (_, e) = h.call("POST", "/v1/me/two-step/totp", Some(&user), None).await;
    let secret = e["secret"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/two-step/totp/confirm",
            Some(&user),
            Some(json!({"code": totp_code(&secret, now())})),
        )
        .await;
    assert_eq!((s, v["session_upgraded"].as_bool()), (200, Some(true)), "{v}");
    // The other setup-only session is over: it can neither confirm its pending phone nor
    // start anything new, and is never upgraded.
    let code = h.latest_code_for("+4915100000666").unwrap();
    let (s, v) = h
        .call("POST", "/v1/me/two-step/sms/confirm", Some(&attacker), Some(json!({"code": code})))
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("unauthorized")), "{v}");
    let (s, _) = h.call("POST", "/v1/me/two-step/totp", Some(&attacker), None).await;
    assert_eq!(s, 401);
    let (s, _) = h.call("GET", "/v1/me", Some(&attacker), None).await;
    assert_eq!(s, 401);
    let view = h.user_view("alice").await;
    assert_eq!(view["two_step"]["channels"].as_array().unwrap().len(), 1, "{view}");
    assert_eq!(view["two_step"]["channels"][0]["channel"], "totp");
    // The user's own (upgraded) session carries on.
    let (s, _) = h.call("GET", "/v1/me/devices", Some(&user), None).await;
    assert_eq!(s, 200);
    assert!(audit_kinds(&h, "alice").await.contains(&"sessions_ended".to_owned()));
}

#[tokio::test]
async fn two_setup_only_sessions_confirming_at_once_upgrade_exactly_one() {
    let h = Harness::start().await;
    h.create_org("strict", true).await;
    h.create_user("strict", "bob", PW).await;
    let a = setup_session(&h, "bob").await;
    let b = setup_session(&h, "bob").await;
    for (t, field, dest, ch) in
        [(&a, "phone", "+4915100000001", "sms"), (&b, "email", "bob@example.com", "email")]
    {
        let (s, v) = h
            .call("POST", &format!("/v1/me/two-step/{ch}"), Some(t), Some(json!({ field: dest })))
            .await;
        assert_eq!(s, 200, "{v}");
    }
    let code_a = h.latest_code_for("+4915100000001").unwrap();
    let code_b = h.latest_code_for("bob@example.com").unwrap();
    let (ra, rb) = tokio::join!(
        h.call("POST", "/v1/me/two-step/sms/confirm", Some(&a), Some(json!({"code": code_a}))),
        h.call("POST", "/v1/me/two-step/email/confirm", Some(&b), Some(json!({"code": code_b}))),
    );
    let wins = [&ra, &rb].iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(
        wins, 1,
        "exactly one setup-only session may configure the first channel: {ra:?} {rb:?}"
    );
    let loser = if ra.0 == 200 { &rb } else { &ra };
    assert!(
        matches!(
            (loser.0, loser.1["error"]["code"].as_str()),
            (403, Some("setup_complete")) | (401, Some("unauthorized"))
        ),
        "{loser:?}"
    );
    let view = h.user_view("bob").await;
    assert_eq!(
        view["two_step"]["channels"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["confirmed"] == true)
            .count(),
        1,
        "{view}"
    );
}

#[tokio::test]
async fn password_only_sessions_end_when_the_user_turns_two_step_on() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "carol", PW).await;
    let (_, v) = sign_in(&h, "carol", PW, "outlook").await;
    let stolen = v["token"].as_str().unwrap().to_owned();
    // A device registered with the password alone, too.
    let dev = TestDevice::new();
    let (device_id, device_token) = mobile(&h, "carol", &dev).await;
    let own = h.web_token("carol", PW).await;
    let (s, _) = h
        .call(
            "POST",
            "/v1/me/two-step/email",
            Some(&own),
            Some(json!({"email": "carol@example.com"})),
        )
        .await;
    assert_eq!(s, 200);
    let code = h.latest_code_for("carol@example.com").unwrap();
    let (s, v) = h
        .call("POST", "/v1/me/two-step/email/confirm", Some(&own), Some(json!({"code": code})))
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, _) = h.call("GET", "/v1/me", Some(&stolen), None).await;
    assert_eq!(s, 401, "a session opened with the password alone ends when two-step begins");
    let (s, _) = h.call("GET", "/v1/me", Some(&own), None).await;
    assert_eq!(s, 200, "the session that proved the new channel carries on");
    // The password-only registration ends with its sessions: the device must register again,
    // now with a code.
    let (s, v) = h.call("GET", "/v1/me", Some(&device_token), None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("device_revoked")), "{v}");
    let (s, v) =
        h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": device_id}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("device_revoked")), "{v}");
}

/// A mobile device registered for `user` (no two-step): its id and first session token.
async fn mobile(h: &Harness, user: &str, dev: &TestDevice) -> (String, String) {
    let (s, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": user, "password": PW, "client": "mobile",
                        "device": dev.registration(h, user, "Phone").await})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    (v["device"]["device_id"].as_str().unwrap().to_owned(), v["token"].as_str().unwrap().to_owned())
}

async fn device_session(h: &Harness, dev: &TestDevice, id: &str) -> String {
    let (_, c) = h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": id}))).await;
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call(
            "POST",
            "/v1/device/session",
            None,
            Some(json!({"device_id": id, "nonce": nonce, "signature": dev.sign(id, &nonce)})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    v["token"].as_str().unwrap().to_owned()
}

async fn assert_revoked(h: &Harness, token: &str, what: &str) {
    let (s, v) = h.call("GET", "/v1/me", Some(token), None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("device_revoked")), "{what}: {v}");
}

#[tokio::test]
async fn revoking_a_device_ends_its_sessions_at_once() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "dora", PW).await;
    let (d1, d2, d3) = (TestDevice::new(), TestDevice::new(), TestDevice::new());
    let (id1, t1) = mobile(&h, "dora", &d1).await;
    let (id2, t2) = mobile(&h, "dora", &d2).await;
    let (id3, t3) = mobile(&h, "dora", &d3).await;
    let t3b = device_session(&h, &d3, &id3).await;
    let web = h.web_token("dora", PW).await;
    // By the user, one device.
    let (s, _) = h.call("DELETE", &format!("/v1/me/devices/{id1}"), Some(&web), None).await;
    assert_eq!(s, 204);
    assert_revoked(&h, &t1, "user revoked device 1").await;
    let (s, _) = h.call("GET", "/v1/me", Some(&t2), None).await;
    assert_eq!(s, 200, "other devices keep working");
    // By an operator, one device.
    let (s, _) = h.admin("DELETE", &format!("/v1/admin/users/dora/devices/{id2}"), None).await;
    assert_eq!(s, 200);
    assert_revoked(&h, &t2, "operator revoked device 2").await;
    // By an operator, all devices: every session of every device.
    h.revoke_devices("dora").await;
    assert_revoked(&h, &t3, "operator revoked all").await;
    assert_revoked(&h, &t3b, "the second session of device 3").await;
    let (s, _) = h.call("GET", "/v1/me", Some(&web), None).await;
    assert_eq!(s, 200, "the web session is not a device's");
}

#[tokio::test]
async fn password_change_guesses_are_counted_and_audited() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "erin", PW).await;
    let t = h.web_token("erin", PW).await;
    for _ in 0..5 {
        let (s, v) = h
            .call(
                "POST",
                "/v1/me/password",
                Some(&t),
                Some(json!({"current_password": "guess-guess", "new_password": "new-password-1"})),
            )
            .await;
        assert_eq!((s, v["error"]["code"].as_str()), (401, Some("invalid_credentials")), "{v}");
    }
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/password",
            Some(&t),
            Some(json!({"current_password": PW, "new_password": "new-password-1"})),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (429, Some("rate_limited")), "{v}");
    assert_eq!(h.user_view("erin").await["consecutive_failures"], 5);
    let kinds = audit_kinds(&h, "erin").await;
    assert_eq!(kinds.iter().filter(|k| *k == "password_change_failed").count(), 5, "{kinds:?}");
    // The same account throttle guards the sign-in.
    let (s, _) = sign_in(&h, "erin", PW, "web").await;
    assert_eq!(s, 429);
}

#[tokio::test]
async fn password_change_needs_a_fresh_code_from_the_users_channel() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "fred", PW).await;
    h.enroll_sms("fred", PW, "+4915100000777").await;
    let t = h.web_token("fred", PW).await;
    let change = |code: Option<String>| {
        let mut body = json!({"current_password": PW, "new_password": "fred-password-2"});
        if let Some(c) = code {
            body["code"] = json!(c);
        }
        body
    };
    let (s, v) = h.call("POST", "/v1/me/password", Some(&t), Some(change(None))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("step_up_required")), "{v}");
    // Only SMS is configured: the step-up code comes by SMS.
    let sent = h.codes_for("+4915100000777").len();
    let (s, v) =
        h.call("POST", "/v1/me/two-step/step-up", Some(&t), Some(json!({"channel": "sms"}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["masked_destination"], "+49•••••••••77");
    assert_eq!(h.codes_for("+4915100000777").len(), sent + 1);
    let code = h.latest_code_for("+4915100000777").unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (s, v) =
        h.call("POST", "/v1/me/password", Some(&t), Some(change(Some(wrong.into())))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("invalid_code")), "{v}");
    let (s, v) =
        h.call("POST", "/v1/me/password", Some(&t), Some(change(Some(code.clone())))).await;
    assert_eq!(s, 204, "{v}");
    let (s, _) = h.call("GET", "/v1/me", Some(&t), None).await;
    assert_eq!(s, 401, "the change ends every session");
    // A step-up code by email works through the verify endpoint too, once.
    h.create_user("acme", "gail", PW).await;
    h.enroll_email("gail", PW, "gail@example.com").await;
    let t = h.web_token("gail", PW).await;
    let (s, _) = h
        .call("POST", "/v1/me/two-step/step-up", Some(&t), Some(json!({"channel": "email"})))
        .await;
    assert_eq!(s, 200);
    let code = h.latest_code_for("gail@example.com").unwrap();
    let (s, v) =
        h.call("POST", "/v1/me/two-step/verify", Some(&t), Some(json!({"code": code}))).await;
    assert_eq!((s, v["channel"].as_str()), (200, Some("email")), "{v}");
    let (s, v) =
        h.call("POST", "/v1/me/two-step/verify", Some(&t), Some(json!({"code": code}))).await;
    let answer = (s, v["error"]["code"].as_str());
    assert_eq!(answer, (409, Some("channel_not_configured")), "a step-up code works once: {v}");
    // An authenticator user steps up with a TOTP code in the request itself.
    h.create_user("acme", "hank", PW).await;
    let secret = h.enroll_totp("hank", PW).await;
    let t = h.web_token("hank", PW).await;
    let code = totp_code(&secret, now() + 30);
    let (s, v) = h.call("POST", "/v1/me/password", Some(&t), Some(change(Some(code)))).await;
    assert_eq!(s, 204, "{v}");
}
