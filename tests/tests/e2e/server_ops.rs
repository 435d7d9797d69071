//! Operations: durability across restarts, health, metrics, OpenAPI, audit.

use serde_json::json;
use twostep_e2e::{Harness, now, totp_code};

#[tokio::test]
async fn acknowledged_state_survives_a_restart_including_replay_protection() {
    let mut h = Harness::start().await;
    h.create_org("acme", true).await;
    h.create_user("acme", "alice", "alice-password").await;
    let secret = h.enroll_totp("alice", "alice-password").await;
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "alice", "password": "alice-password", "client": "web"})),
        )
        .await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = totp_code(&secret, now());
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 200);
    let token = v["token"].as_str().unwrap().to_owned();
    h.restart().await;
    let (s, me) = h.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(s, 200, "sessions survive");
    assert_eq!(me["two_step"]["origin"], "forced");
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "alice", "password": "alice-password", "client": "web"})),
        )
        .await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let (s, _) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 401, "the used step is still remembered after the restart");
    let (_, org) = h.admin("GET", "/v1/admin/orgs/acme", None).await;
    assert_eq!(org["policy"]["require_two_step"], true);
}

#[tokio::test]
async fn health_metrics_openapi_and_audit() {
    let h = Harness::start().await;
    let (s, v) = h.call("GET", "/healthz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    let (s, v) = h.call("GET", "/readyz", None, None).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ready")), "the store answers");
    let r = h.send(h.http().get(format!("{}/healthz", h.url()))).await;
    let server_ms: u64 =
        r.headers[twostep_proto::HEADER_SERVER_TIME].to_str().unwrap().parse().unwrap();
    assert!(server_ms / 1000 >= now() - 5 && server_ms / 1000 <= now() + 5);

    h.create_org("acme", false).await;
    h.create_user("acme", "bob", "bob-password-1").await;
    let _ = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "bob", "password": "nope-nope", "client": "agent"})),
        )
        .await;
    let text = h.send(h.http().get(format!("{}/metrics", h.url()))).await.text();
    assert!(text.contains("# TYPE twostep_signin_failures_total counter"));
    assert!(text.contains("twostep_signin_failures_total 1"), "{text}");

    // The OpenAPI document lists every endpoint the router serves and every error code.
    let (_, doc) = h.call("GET", "/openapi.json", None, None).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for ep in twostep_server::http::openapi::ENDPOINTS {
        assert!(doc["paths"][ep.path][ep.method].is_object(), "{} {}", ep.method, ep.path);
        let path = ep.path.replace("{channel}", "totp").replace('{', "x").replace('}', "");
        let (s, v) = h.call(&ep.method.to_uppercase(), &path, None, None).await;
        assert!(
            !(s == 404 && v["error"]["message"] == "route not found"),
            "{} {} is documented but not routed",
            ep.method,
            ep.path
        );
        assert_ne!(s, 405, "{} {}", ep.method, ep.path);
    }
    let enum_codes = doc["components"]["schemas"]["ErrorCode"]["enum"].as_array().unwrap().clone();
    for c in twostep_proto::ErrorCode::ALL {
        assert!(enum_codes.contains(&json!(c.as_str())), "{c} missing");
    }

    // Audit: time, user, client kind and address.
    let (_, page) = h.admin("GET", "/v1/admin/audit?user=bob", None).await;
    let failed = page["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "sign_in_failed")
        .expect("failure audited")
        .clone();
    assert_eq!(failed["client"], "agent");
    assert_eq!(failed["address"], "127.0.0.1");
    assert!(failed["at_ms"].as_u64().unwrap() > 0);
    let (_, page) = h.admin("GET", "/v1/admin/audit?limit=2", None).await;
    assert_eq!(page["events"].as_array().unwrap().len(), 2);
    let after = page["next_after"].as_u64().unwrap();
    let (_, next) = h.admin("GET", &format!("/v1/admin/audit?limit=2&after={after}"), None).await;
    assert!(next["events"][0]["id"].as_u64().unwrap() > after);
}

#[tokio::test]
async fn an_admin_reset_revokes_sessions_and_devices_and_clears_two_step() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "hal", "hal-password").await;
    h.enroll_email("hal", "hal-password", "hal@example.com").await;
    let web = h.web_token("hal", "hal-password").await;
    let dev = twostep_e2e::TestDevice::new();
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "hal", "password": "hal-password", "client": "mobile", "device": dev.registration(&h, "hal", "Phone").await})),
        )
        .await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = h.latest_code_for("hal@example.com").unwrap();
    let (_, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    let device_id = v["device"]["device_id"].as_str().unwrap().to_owned();
    h.admin_reset("hal").await;
    let (s, _) = h.call("GET", "/v1/me", Some(&web), None).await;
    assert_eq!(s, 401, "sessions end with the reset");
    let (s, v) =
        h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": device_id}))).await;
    assert_eq!((s, v["error"]["code"].as_str()), (401, Some("device_revoked")));
    let view = h.user_view("hal").await;
    assert_eq!(view["two_step"]["enabled"], false);
    assert_eq!(view["devices"][0]["revoked"], true);
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "hal", "password": "hal-password", "client": "web"})),
        )
        .await;
    assert_eq!(v["status"], "session", "no code after the reset");
}
