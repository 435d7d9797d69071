//! The prompt rule of each client kind, org policy on and off, mobile devices.

use serde_json::{Value, json};
use twostep_e2e::{Harness, TestDevice, now, totp_code};

async fn sign_in(
    h: &Harness,
    user: &str,
    pw: &str,
    client: &str,
    device: Option<Value>,
) -> (u16, Value) {
    let mut body = json!({"username": user, "password": pw, "client": client});
    if let Some(d) = device {
        body["device"] = d;
    }
    h.call("POST", "/v1/signin", None, Some(body)).await
}

#[tokio::test]
async fn without_two_step_every_client_gets_a_session_directly() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", "alice-password").await;
    for client in ["web", "agent", "outlook"] {
        let (s, v) = sign_in(&h, "alice", "alice-password", client, None).await;
        assert_eq!(s, 200, "{client}: {v}");
        assert_eq!(v["status"], "session", "{client}");
        assert_eq!(v["scope"], "full");
    }
    let dev = TestDevice::new();
    let (s, v) = sign_in(
        &h,
        "alice",
        "alice-password",
        "mobile",
        Some(dev.registration(&h, "alice", "Pixel").await),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "session");
    assert_eq!(v["device"]["passcode"]["requirement"], "optional");
}

#[tokio::test]
async fn with_two_step_each_client_kind_is_prompted_for_a_code() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "bob", "bob-password-1").await;
    let secret = h.enroll_totp("bob", "bob-password-1").await;
    for client in ["web", "agent", "outlook"] {
        let (s, v) = sign_in(&h, "bob", "bob-password-1", client, None).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["status"], "code_required", "{client} must ask for a code");
        assert_eq!(v["channel"], "totp");
        assert_eq!(v["code_length"], 6);
        assert_eq!(v["attempts_left"], 5);
        assert_eq!(v["recovery_available"], true);
    }
    // A correct code completes the web sign-in; the same code cannot be used twice.
    let (_, v) = sign_in(&h, "bob", "bob-password-1", "web", None).await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = totp_code(&secret, now());
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "session");
    let (_, v) = sign_in(&h, "bob", "bob-password-1", "agent", None).await;
    let id2 = v["challenge_id"].as_str().unwrap().to_owned();
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id2}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 401, "replayed code must fail: {v}");
    assert_eq!(v["error"]["code"], "invalid_code");
    assert_eq!(v["error"]["attempts_left"], 4);
}

#[tokio::test]
async fn org_policy_on_requires_setup_and_forbids_everything_else() {
    let h = Harness::start().await;
    h.create_org("strict", true).await;
    h.create_user("strict", "carol", "carol-password").await;
    for client in ["agent", "outlook"] {
        let (s, v) = sign_in(&h, "carol", "carol-password", client, None).await;
        assert_eq!(s, 200);
        assert_eq!(v["status"], "setup_required", "{client}");
        assert!(v["session"].is_null(), "{client} gets no session");
    }
    let (_, v) = sign_in(
        &h,
        "carol",
        "carol-password",
        "mobile",
        Some(TestDevice::new().registration(&h, "carol", "iPhone").await),
    )
    .await;
    assert_eq!(v["status"], "setup_required");
    assert!(v["session"].is_null(), "no device registration before setup");
    assert!(h.user_view("carol").await["devices"].as_array().unwrap().is_empty());

    let (_, v) = sign_in(&h, "carol", "carol-password", "web", None).await;
    assert_eq!(v["status"], "setup_required");
    assert_eq!(v["session"]["scope"], "setup_only");
    let t = v["session"]["token"].as_str().unwrap().to_owned();
    let (s, v) = h.call("GET", "/v1/me/devices", Some(&t), None).await;
    assert_eq!(s, 403, "setup-only session cannot do other things: {v}");
    assert_eq!(v["error"]["code"], "forbidden");
    let (s, v) = h.call("DELETE", "/v1/me/two-step", Some(&t), None).await;
    assert_eq!(s, 403, "{v}");
    // Configure TOTP with the setup session: it becomes a full session, enrollment is "forced".
    let (_, e) = h.call("POST", "/v1/me/two-step/totp", Some(&t), None).await;
    let secret = e["secret"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/two-step/totp/confirm",
            Some(&t),
            Some(json!({"code": totp_code(&secret, now())})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["session_upgraded"], true);
    assert_eq!(v["two_step"]["origin"], "forced");
    assert_eq!(v["recovery_codes"].as_array().unwrap().len(), 10);
    let (s, _) = h.call("GET", "/v1/me/devices", Some(&t), None).await;
    assert_eq!(s, 200);
    // Turning two-step off is refused while the org requires it.
    let (s, v) = h.call("DELETE", "/v1/me/two-step", Some(&t), None).await;
    assert_eq!(s, 409);
    assert_eq!(v["error"]["code"], "policy_requires_two_step");
    let (s, v) = h.call("DELETE", "/v1/me/two-step/channels/totp", Some(&t), None).await;
    assert_eq!(s, 409, "cannot remove the last channel: {v}");

    // Mobile first access now asks for a code, and the passcode is required.
    let dev = TestDevice::new();
    let (_, v) = sign_in(
        &h,
        "carol",
        "carol-password",
        "mobile",
        Some(dev.registration(&h, "carol", "iPhone").await),
    )
    .await;
    assert_eq!(v["status"], "code_required");
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call(
            "POST",
            &format!("/v1/signin/{id}/code"),
            None,
            Some(json!({"code": totp_code(&secret, now() + 30)})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["device"]["passcode"]["requirement"], "required");
    assert_eq!(v["device"]["passcode"]["min_length"], 6);
    assert_eq!(v["device"]["passcode"]["max_failed_attempts"], 10);
    assert_eq!(v["device"]["passcode"]["lock_timeout_secs"], 300);
}

#[tokio::test]
async fn policy_off_keeps_enrollments_until_removed_and_forced_ones_can_be_cleared() {
    let h = Harness::start().await;
    h.create_org("org1", true).await;
    h.create_user("org1", "dave", "dave-password").await;
    h.create_user("org1", "erin", "erin-password").await;
    h.enroll_email("dave", "dave-password", "dave@example.com").await;
    assert_eq!(h.user_view("dave").await["two_step"]["origin"], "forced");
    // Erin chose two-step herself before the policy... simulate: policy off, she enrolls.
    h.set_require_two_step("org1", false).await;
    h.enroll_email("erin", "erin-password", "erin@example.com").await;
    assert_eq!(h.user_view("erin").await["two_step"]["origin"], "chosen");
    // Policy off: Dave keeps his configuration (the article's rule).
    let (_, v) = sign_in(&h, "dave", "dave-password", "web", None).await;
    assert_eq!(v["status"], "code_required");
    // Passcode becomes optional with the policy off.
    let dev = TestDevice::new();
    let (_, v) = sign_in(
        &h,
        "erin",
        "erin-password",
        "mobile",
        Some(dev.registration(&h, "erin", "Tab").await),
    )
    .await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = h.latest_code_for("erin@example.com").unwrap();
    let (_, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(v["device"]["passcode"]["requirement"], "optional");
    // Removing forced enrollments is refused while the policy is on, then clears only Dave.
    h.set_require_two_step("org1", true).await;
    let (s, _) = h.admin("POST", "/v1/admin/orgs/org1/remove-forced-two-step", None).await;
    assert_eq!(s, 409);
    h.set_require_two_step("org1", false).await;
    let (s, v) = h.admin("POST", "/v1/admin/orgs/org1/remove-forced-two-step", None).await;
    assert_eq!(s, 200);
    assert_eq!(v["removed"], 1);
    assert_eq!(h.user_view("dave").await["two_step"]["enabled"], false);
    assert_eq!(h.user_view("erin").await["two_step"]["enabled"], true);
    let (_, v) = sign_in(&h, "dave", "dave-password", "web", None).await;
    assert_eq!(v["status"], "session");
    // A user who chose two-step may turn it off when the org does not require it.
    let t = h.web_token("dave", "dave-password").await;
    let (s, _) = h.call("DELETE", "/v1/me/two-step", Some(&t), None).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn outlook_asks_again_after_a_password_change_and_old_sessions_die() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "frank", "frank-password").await;
    h.enroll_email("frank", "frank-password", "frank@example.com").await;
    let (_, v) = sign_in(&h, "frank", "frank-password", "outlook", None).await;
    assert_eq!(v["status"], "code_required");
    assert_eq!(v["masked_destination"], "f•••@example.com");
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = h.latest_code_for("frank@example.com").unwrap();
    let (_, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    let outlook_token = v["token"].as_str().unwrap().to_owned();
    let (s, _) = h.call("GET", "/v1/me", Some(&outlook_token), None).await;
    assert_eq!(s, 200);
    // Password change (from another session) revokes the Outlook session.
    let (_, v) = sign_in(&h, "frank", "frank-password", "web", None).await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = h.latest_code_for("frank@example.com").unwrap();
    let (_, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    let web = v["token"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call("POST", "/v1/me/two-step/step-up", Some(&web), Some(json!({"channel": "email"})))
        .await;
    assert_eq!(s, 200, "{v}");
    let code = h.latest_code_for("frank@example.com").unwrap();
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/password",
            Some(&web),
            Some(json!({"current_password": "wrong-password", "new_password": "frank-password-2", "code": code})),
        )
        .await;
    assert_eq!(s, 401, "{v}");
    let (s, v) = h
        .call(
            "POST",
            "/v1/me/password",
            Some(&web),
            Some(json!({"current_password": "frank-password", "new_password": "frank-password-2", "code": code})),
        )
        .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = h.call("GET", "/v1/me", Some(&outlook_token), None).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "unauthorized");
    let (_, v) = sign_in(&h, "frank", "frank-password-2", "outlook", None).await;
    assert_eq!(v["status"], "code_required", "a code again after the credential change");
}

#[tokio::test]
async fn mobile_device_sessions_use_a_signed_challenge_until_revoked() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "gina", "gina-password").await;
    h.enroll_sms("gina", "gina-password", "+4915112345678").await;
    let dev = TestDevice::new();
    let (s, v) = sign_in(&h, "gina", "gina-password", "mobile", None).await;
    assert_eq!(s, 422, "mobile must register a device: {v}");
    let (_, v) = sign_in(
        &h,
        "gina",
        "gina-password",
        "mobile",
        Some(dev.registration(&h, "gina", "Pixel 8").await),
    )
    .await;
    assert_eq!(v["masked_destination"], "+49•••••••••78");
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = h.latest_code_for("+4915112345678").unwrap();
    let (_, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    let device_id = v["device"]["device_id"].as_str().unwrap().to_owned();
    let sent_before = h.codes_for("+4915112345678").len();
    // Later sessions: no code, no password.
    let (_, c) =
        h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": device_id}))).await;
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    let sig = dev.sign(&device_id, &nonce);
    let (s, v) = h
        .call(
            "POST",
            "/v1/device/session",
            None,
            Some(json!({"device_id": device_id, "nonce": nonce, "signature": sig})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["scope"], "full");
    assert_eq!(v["device"]["device_id"], device_id.as_str());
    assert_eq!(h.codes_for("+4915112345678").len(), sent_before, "no code was sent");
    // The nonce is single use.
    let (s, v) = h
        .call(
            "POST",
            "/v1/device/session",
            None,
            Some(json!({"device_id": device_id, "nonce": nonce, "signature": sig})),
        )
        .await;
    assert_eq!(s, 410, "{v}");
    // Another key cannot sign for this device.
    let (_, c) =
        h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": device_id}))).await;
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    let (s, v) = h
        .call(
            "POST",
            "/v1/device/session",
            None,
            Some(json!({"device_id": device_id, "nonce": nonce, "signature": TestDevice::new().sign(&device_id, &nonce)})),
        )
        .await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "bad_signature");
    // Revoked by an operator: the device must register again.
    h.revoke_devices("gina").await;
    let (s, v) =
        h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": device_id}))).await;
    assert_eq!(s, 401);
    assert_eq!(v["error"]["code"], "device_revoked");
}
