//! Registrations (devices, agents) are long-lived credentials with proof of possession;
//! operators can be unlocked, sign out and have their tokens revoked.

use serde_json::{Value, json};
use twostep_e2e::{Harness, OPERATOR, TestDevice};
use twostep_proto::ClientKind;

const PW: &str = "correct-horse-1";

fn b64(bytes: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(bytes)
}

async fn mobile_sign_in(h: &Harness, user: &str, device: Value) -> (u16, Value) {
    h.call(
        "POST",
        "/v1/signin",
        None,
        Some(json!({"username": user, "password": PW, "client": "mobile", "device": device})),
    )
    .await
}

/// A registration body with an arbitrary public key and a signature by `dev` (which does
/// not hold that key).
async fn foreign_key_registration(h: &Harness, dev: &TestDevice, user: &str, key: &[u8]) -> Value {
    let nonce = TestDevice::nonce(h).await;
    let pk = b64(key);
    let signature = dev.sign_registration(ClientKind::Mobile, user, &pk, &nonce);
    json!({"public_key": pk, "name": "Odd", "nonce": nonce, "signature": signature})
}

#[tokio::test]
async fn weak_and_non_canonical_device_keys_are_refused() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", PW).await;
    let dev = TestDevice::new();
    let p_plus = |k: u8| {
        // p + k, little-endian: a non-canonical encoding of y = k.
        let mut b = [0xffu8; 32];
        b[0] = 0xed + k;
        b[31] = 0x7f;
        b
    };
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let mut negative_zero = identity;
    negative_zero[31] = 0x80;
    let cases: Vec<(&str, [u8; 32])> = vec![
        ("identity (small order)", identity),
        ("y = 0 (order 4)", [0u8; 32]),
        ("non-canonical identity", p_plus(1)),
        ("x = -0", negative_zero),
        ("non-canonical y = 3 (not small order)", p_plus(3)),
    ];
    for (what, key) in cases {
        let body = foreign_key_registration(&h, &dev, "alice", &key).await;
        let (s, v) = mobile_sign_in(&h, "alice", body).await;
        assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_field")), "{what}: {v}");
    }
    assert!(h.user_view("alice").await["devices"].as_array().unwrap().is_empty());

    // Even a weak key already in the store (from before this check) cannot open a session
    // with the constant signature that satisfies every message for it.
    let app = h.app().clone();
    let user = app.user("alice").await.unwrap().unwrap();
    let id = format!("{}.weak", user.id);
    let rec = json!({"id": id, "username": "alice", "user_id": user.id, "name": "old",
        "public_key": b64(&identity), "epoch": user.epoch, "registered_at": 1, "last_seen_at": 1,
        "revoked": false});
    app.repo.put(twostep_server::store::Tree::Devices, id.as_bytes(), &rec).await.unwrap();
    let (s, c) = h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": id}))).await;
    assert_eq!(s, 200, "{c}");
    let mut sig = [0u8; 64];
    sig[0] = 1; // R = identity, S = 0
    let (s, v) = h
        .call(
            "POST",
            "/v1/device/session",
            None,
            Some(json!({"device_id": id, "nonce": c["nonce"], "signature": b64(&sig)})),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("bad_signature")), "{v}");
}

#[tokio::test]
async fn a_registration_must_prove_possession_and_cannot_be_replayed() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "bob", PW).await;
    h.create_user("acme", "eve", PW).await;
    let (dev, other) = (TestDevice::new(), TestDevice::new());
    // Signed by a key other than the one registered.
    let nonce = TestDevice::nonce(&h).await;
    let bad = json!({"public_key": dev.public_key(), "name": "Phone", "nonce": nonce,
        "signature": other.sign_registration(ClientKind::Mobile, "bob", &dev.public_key(), &nonce)});
    let (s, v) = mobile_sign_in(&h, "bob", bad).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("bad_signature")), "{v}");
    // Signed for another account.
    let for_eve = dev.registration(&h, "eve", "Phone").await;
    let (s, v) = mobile_sign_in(&h, "bob", for_eve).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("bad_signature")), "{v}");
    // Signed as an agent registration.
    let as_agent = dev.registration_as(&h, ClientKind::Agent, "bob", "Phone").await;
    let (s, _) = mobile_sign_in(&h, "bob", as_agent).await;
    assert_eq!(s, 401);
    // Without proof at all.
    let (s, v) =
        mobile_sign_in(&h, "bob", json!({"public_key": dev.public_key(), "name": "P"})).await;
    assert_eq!((s, v["error"]["code"].as_str()), (400, Some("invalid_request")), "{v}");
    // An unknown nonce.
    let made_up = "A".repeat(43);
    let body = json!({"public_key": dev.public_key(), "name": "Phone", "nonce": made_up,
        "signature": dev.sign_registration(ClientKind::Mobile, "bob", &dev.public_key(), &made_up)});
    let (s, v) = mobile_sign_in(&h, "bob", body).await;
    assert_eq!((s, v["error"]["code"].as_str()), (410, Some("challenge_expired")), "{v}");
    assert!(h.user_view("bob").await["devices"].as_array().unwrap().is_empty());
    // The real thing works once; the same body again does not (the nonce is spent).
    let good = dev.registration(&h, "bob", "Phone").await;
    let (s, v) = mobile_sign_in(&h, "bob", good.clone()).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = mobile_sign_in(&h, "bob", good).await;
    assert_eq!((s, v["error"]["code"].as_str()), (410, Some("challenge_expired")), "{v}");
    assert_eq!(h.user_view("bob").await["devices"].as_array().unwrap().len(), 1);
}

async fn agent_session(h: &Harness, dev: &TestDevice, id: &str) -> (u16, Value) {
    let (s, c) = h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": id}))).await;
    if s != 200 {
        return (s, c);
    }
    let nonce = c["nonce"].as_str().unwrap().to_owned();
    h.call(
        "POST",
        "/v1/device/session",
        None,
        Some(json!({"device_id": id, "nonce": nonce, "signature": dev.sign(id, &nonce)})),
    )
    .await
}

#[tokio::test]
async fn an_agent_registers_once_and_later_sessions_need_no_code_until_revoked() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "carl", PW).await;
    h.enroll_email("carl", PW, "carl@example.com").await;
    let agent = TestDevice::new();
    let reg = agent.registration_as(&h, ClientKind::Agent, "carl", "Desktop sync").await;
    let (s, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "carl", "password": PW, "client": "agent", "device": reg})),
        )
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("code_required")), "registration asks: {v}");
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = h.latest_code_for("carl@example.com").unwrap();
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 200, "{v}");
    let reg_id = v["device"]["device_id"].as_str().unwrap().to_owned();
    let first = v["token"].as_str().unwrap().to_owned();
    // Later agent sessions: no code, not even a password.
    let sent = h.codes_for("carl@example.com").len();
    for _ in 0..2 {
        let (s, v) = agent_session(&h, &agent, &reg_id).await;
        assert_eq!(s, 200, "{v}");
    }
    assert_eq!(h.codes_for("carl@example.com").len(), sent, "no code was sent");
    let web = h.web_token("carl", PW).await;
    let (_, list) = h.call("GET", "/v1/me/devices", Some(&web), None).await;
    assert_eq!(list["devices"][0]["client"], "agent", "{list}");
    // Outlook still asks at every new session; an unregistered agent still asks too.
    for client in ["outlook", "outlook", "agent"] {
        let (_, v) = h
            .call(
                "POST",
                "/v1/signin",
                None,
                Some(json!({"username": "carl", "password": PW, "client": client})),
            )
            .await;
        assert_eq!(v["status"], "code_required", "{client}");
    }
    // Revoked: its sessions end and it cannot open new ones.
    let (s, _) = h.call("DELETE", &format!("/v1/me/devices/{reg_id}"), Some(&web), None).await;
    assert_eq!(s, 204);
    let (s, v) = h.call("GET", "/v1/me", Some(&first), None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("device_revoked")));
    let (s, v) = agent_session(&h, &agent, &reg_id).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("device_revoked")));
}

#[tokio::test]
async fn operators_can_be_unlocked_sign_out_and_have_their_tokens_revoked() {
    let h = Harness::start().await;
    let app = h.app().clone();
    let actor = twostep_server::service::admin::Actor {
        operator: "test".into(),
        address: None,
        now: twostep_e2e::now(),
        now_ms: twostep_e2e::now() * 1000,
    };
    twostep_server::service::admin::create_operator(&app, "op2", "op2-password-1", &actor)
        .await
        .unwrap();
    // 99 failures long ago, then the 100th over HTTP: locked.
    for i in 0..99u64 {
        twostep_server::throttle::account_failure(
            &app.repo,
            "operator:op2",
            twostep_e2e::now() - 200_000 + i,
        )
        .await
        .unwrap();
    }
    let signin = |pw: &'static str| {
        h.call("POST", "/v1/admin/signin", None, Some(json!({"username": "op2", "password": pw})))
    };
    assert_eq!(signin("wrong-password").await.0, 401);
    let (s, v) = signin("op2-password-1").await;
    assert_eq!((s, v["error"]["code"].as_str()), (423, Some("account_locked")), "{v}");
    let (s, v) = h.admin("POST", "/v1/admin/operators/op2/unlock", None).await;
    assert_eq!((s, v["locked"].as_bool()), (200, Some(false)), "{v}");
    let (s, v) = signin("op2-password-1").await;
    assert_eq!(s, 200, "{v}");
    let t2 = v["token"].as_str().unwrap().to_owned();
    assert_eq!(h.call("GET", "/v1/admin/audit", Some(&t2), None).await.0, 200);
    // Sign-out ends that token.
    assert_eq!(h.call("POST", "/v1/admin/signout", Some(&t2), None).await.0, 204);
    assert_eq!(h.call("GET", "/v1/admin/audit", Some(&t2), None).await.0, 401);
    // Revocation ends every token of an operator, and only theirs.
    let t3 = signin("op2-password-1").await.1["token"].as_str().unwrap().to_owned();
    let t4 = signin("op2-password-1").await.1["token"].as_str().unwrap().to_owned();
    let (s, v) = h.admin("DELETE", "/v1/admin/operators/op2/sessions", None).await;
    assert_eq!(s, 204, "{v}");
    for t in [&t3, &t4] {
        assert_eq!(h.call("GET", "/v1/admin/audit", Some(t), None).await.0, 401);
    }
    let (s, page) = h.admin("GET", "/v1/admin/audit?limit=1000", None).await;
    assert_eq!(s, 200, "the revoking operator's token still works");
    let kinds: Vec<&str> =
        page["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in ["operator_unlocked", "operator_signed_out", "operator_sessions_revoked"] {
        assert!(kinds.contains(&k), "{k} audited: {kinds:?}");
    }
    let (s, _) = h.admin("GET", &format!("/v1/admin/operators/{}", OPERATOR.0), None).await;
    assert_eq!(s, 200);
}
