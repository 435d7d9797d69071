//! Every malformed input gets a typed 4xx and changes nothing.

use serde_json::{Value, json};
use twostep_e2e::Harness;

async fn raw(
    h: &Harness,
    method: &str,
    path: &str,
    ct: Option<&str>,
    body: Vec<u8>,
    token: Option<&str>,
) -> (u16, Value) {
    let m = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let mut r = h.http().request(m, format!("{}{path}", h.url())).body(body);
    if let Some(c) = ct {
        r = r.header("content-type", c);
    }
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = h.send(r).await;
    (r.status, r.json())
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<no error body>")
}

#[tokio::test]
async fn malformed_requests_get_typed_errors_and_write_nothing() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", "alice-password").await;
    let audit_before = h.admin("GET", "/v1/admin/audit?limit=1000", None).await.1["events"]
        .as_array()
        .unwrap()
        .len();
    let j = Some("application/json");
    let long_path = format!("/v1/signin/{}/code", "a".repeat(300));
    type Case<'a> = (&'a str, &'a str, Option<&'a str>, Vec<u8>, u16, &'a str);
    let cases: Vec<Case> = vec![
        ("POST", "/v1/signin", j, b"{not json".to_vec(), 400, "invalid_request"),
        ("POST", "/v1/signin", j, b"".to_vec(), 400, "invalid_request"),
        (
            "POST",
            "/v1/signin",
            j,
            br#"{"username":"alice","password":"alice-password","client":"web","role":"admin"}"#.to_vec(),
            400,
            "invalid_request",
        ),
        ("POST", "/v1/signin", j, br#"{"username":"alice","password":"alice-password","client":"fax"}"#.to_vec(), 400, "invalid_request"),
        ("POST", "/v1/signin", j, br#"{"username":"alice","password":12345678,"client":"web"}"#.to_vec(), 400, "invalid_request"),
        (
            "POST",
            "/v1/signin",
            j,
            b"{\"username\":\"al\xff\xfeice\",\"password\":\"x\",\"client\":\"web\"}".to_vec(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/signin",
            Some("text/plain"),
            br#"{"username":"alice","password":"alice-password","client":"web"}"#.to_vec(),
            415,
            "unsupported_media_type",
        ),
        (
            "POST",
            "/v1/signin",
            j,
            format!(r#"{{"username":"alice","password":"{}","client":"web"}}"#, "p".repeat(20_000)).into_bytes(),
            413,
            "payload_too_large",
        ),
        (
            "POST",
            "/v1/signin",
            j,
            format!(r#"{{"username":"alice","password":"{}","client":"web"}}"#, "p".repeat(300)).into_bytes(),
            422,
            "invalid_field",
        ),
        ("POST", "/v1/signin", j, br#"{"username":"al ice","password":"alice-password","client":"web"}"#.to_vec(), 422, "invalid_field"),
        (
            "POST",
            "/v1/signin",
            j,
            br#"{"username":"alice","password":"alice-password","client":"web","device":{"public_key":"AAAA","name":"x","nonce":"n","signature":"s"}}"#.to_vec(),
            422,
            "invalid_field",
        ),
        (
            "POST",
            "/v1/signin",
            j,
            br#"{"username":"alice","password":"alice-password","client":"mobile","device":{"public_key":"not-base64!!","name":"x","nonce":"n","signature":"s"}}"#
                .to_vec(),
            422,
            "invalid_field",
        ),
        ("POST", "/v1/signin/nonexistent/code", j, br#"{"code":"123456"}"#.to_vec(), 410, "challenge_expired"),
        ("POST", &long_path, j, br#"{"code":"123456"}"#.to_vec(), 400, "invalid_request"),
        ("POST", "/v1/device/challenge", j, br#"{"device_id":"unknown"}"#.to_vec(), 401, "device_revoked"),
        ("GET", "/v1/nope", None, vec![], 404, "not_found"),
        ("PUT", "/v1/signin", j, b"{}".to_vec(), 405, "method_not_allowed"),
        ("GET", "/v1/me", None, vec![], 401, "unauthorized"),
        ("GET", "/v1/admin/audit?limit=-5", None, vec![], 401, "unauthorized"),
    ];
    for (method, path, ct, body, status, expected) in cases {
        let (s, v) = raw(&h, method, path, ct, body, None).await;
        assert_eq!((s, code(&v)), (status, expected), "{method} {path}: {v}");
        assert!(v["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(!v.to_string().contains("alice-password"), "errors never echo secrets");
    }
    // Operator endpoints: absurd numbers, unknown ids, bad query.
    let op_cases: Vec<(&str, &str, Value, u16, &str)> = vec![
        (
            "PATCH",
            "/v1/admin/orgs/acme/policy",
            json!({"passcode_min_length": 300}),
            400,
            "invalid_request",
        ),
        (
            "PATCH",
            "/v1/admin/orgs/acme/policy",
            json!({"passcode_min_length": 3}),
            422,
            "invalid_field",
        ),
        (
            "PATCH",
            "/v1/admin/orgs/acme/policy",
            json!({"passcode_max_attempts": 0}),
            422,
            "invalid_field",
        ),
        (
            "PATCH",
            "/v1/admin/orgs/acme/policy",
            json!({"passcode_lock_timeout_secs": 99_999_999_999u64}),
            400,
            "invalid_request",
        ),
        (
            "PATCH",
            "/v1/admin/orgs/acme/policy",
            json!({"require_two_step": "yes"}),
            400,
            "invalid_request",
        ),
        (
            "PATCH",
            "/v1/admin/orgs/nowhere/policy",
            json!({"require_two_step": true}),
            404,
            "not_found",
        ),
        ("POST", "/v1/admin/orgs", json!({"name": "Bad Name!"}), 422, "invalid_field"),
        ("POST", "/v1/admin/orgs", json!({"name": "acme"}), 409, "conflict"),
        (
            "POST",
            "/v1/admin/orgs/acme/users",
            json!({"username": "alice", "password": "another-password"}),
            409,
            "conflict",
        ),
        (
            "POST",
            "/v1/admin/orgs/acme/users",
            json!({"username": "zed", "password": "short"}),
            422,
            "invalid_field",
        ),
        (
            "POST",
            "/v1/admin/orgs/ghost/users",
            json!({"username": "zed", "password": "long-enough-pw"}),
            404,
            "not_found",
        ),
        ("GET", "/v1/admin/users/nobody", Value::Null, 404, "not_found"),
        ("POST", "/v1/admin/users/nobody/reset-two-step", Value::Null, 404, "not_found"),
        ("GET", "/v1/admin/audit?limit=-5", Value::Null, 400, "invalid_request"),
        (
            "GET",
            "/v1/admin/audit?after=99999999999999999999999",
            Value::Null,
            400,
            "invalid_request",
        ),
    ];
    for (method, path, body, status, expected) in op_cases {
        let (s, v) =
            h.admin(method, path, if body.is_null() { None } else { Some(body.clone()) }).await;
        assert_eq!((s, code(&v)), (status, expected), "{method} {path} {body}: {v}");
    }
    // Nothing changed: the policy is the default, no user was added, nothing was audited.
    let (_, org) = h.admin("GET", "/v1/admin/orgs/acme", None).await;
    assert_eq!(org["policy"], serde_json::to_value(twostep_proto::OrgPolicy::default()).unwrap());
    assert_eq!(org["users"], 1);
    let audit_after = h.admin("GET", "/v1/admin/audit?limit=1000", None).await.1["events"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after, "bad input leaves no trace but its answer");
    // The user can still sign in normally.
    let (s, _) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "alice", "password": "alice-password", "client": "web"})),
        )
        .await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn self_service_rejects_bad_destinations_and_codes() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "bob", "bob-password-1").await;
    let t = h.web_token("bob", "bob-password-1").await;
    for (path, body, status) in [
        ("/v1/me/two-step/sms", json!({"phone": "0151 1234"}), 422),
        ("/v1/me/two-step/sms", json!({"phone": "+49151abc45678"}), 422),
        ("/v1/me/two-step/email", json!({"email": "not-an-email"}), 422),
        ("/v1/me/two-step/email", json!({"email": "a@b"}), 422),
        ("/v1/me/two-step/totp/confirm", json!({"code": "123456"}), 409),
        ("/v1/me/two-step/email/confirm", json!({"code": "12345x"}), 422),
        ("/v1/me/two-step/verify", json!({"code": "123456"}), 409),
        ("/v1/me/two-step/recovery-codes", Value::Null, 409),
    ] {
        let (s, v) = h
            .call("POST", path, Some(&t), if body.is_null() { None } else { Some(body.clone()) })
            .await;
        assert_eq!(s, status, "{path} {body}: {v}");
    }
    let (s, v) = h.call("DELETE", "/v1/me/two-step/channels/pigeon", Some(&t), None).await;
    assert_eq!((s, code(&v)), (404, "not_found"));
    let (s, v) = h.call("DELETE", "/v1/me/two-step/channels/sms", Some(&t), None).await;
    assert_eq!((s, code(&v)), (409, "channel_not_configured"));
    let (_, me) = h.call("GET", "/v1/me", Some(&t), None).await;
    assert_eq!(me["two_step"]["channels"], json!([]), "no channel was created by bad input");
}
