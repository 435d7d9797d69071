//! The operator listings, the policy preview, audit filters, the open challenge and the
//! pending authenticator enrollment over the JSON API (the web pages use the same services).

use serde_json::json;
use twostep_e2e::Harness;

#[tokio::test]
async fn orgs_users_preview_and_audit_filters() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_org("beta", false).await;
    h.create_user("acme", "anna", "anna-password-1").await;
    h.create_user("acme", "bert", "bert-password-1").await;
    h.create_user("beta", "anton", "anton-password-1").await;
    h.enroll_email("bert", "bert-password-1", "bert@example.com").await;

    let (s, v) = h.admin("GET", "/v1/admin/orgs", None).await;
    assert_eq!(s, 200);
    let names: Vec<&str> =
        v["orgs"].as_array().unwrap().iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme", "beta"]);

    let (_, v) = h.admin("GET", "/v1/admin/users?q=AN", None).await;
    let names: Vec<&str> = v["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user"]["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["anna", "anton"]);
    let (_, v) = h.admin("GET", "/v1/admin/users?org=acme&limit=1", None).await;
    assert_eq!(v["users"][0]["user"]["username"], "anna");
    assert_eq!(v["next_after"], "anna");
    let (_, v) = h.admin("GET", "/v1/admin/users?org=acme&after=anna", None).await;
    assert_eq!(v["users"][0]["user"]["username"], "bert");
    assert_eq!(v["users"][0]["two_step_enabled"], true);
    assert_eq!(v["users"][0]["origin"], "chosen");
    assert_eq!(v["next_after"], json!(null));
    let (s, v) = h.admin("GET", "/v1/admin/users?org=nope", None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));

    // The preview validates like saving and changes nothing.
    let (s, v) = h
        .admin(
            "POST",
            "/v1/admin/orgs/acme/policy/preview",
            Some(json!({"require_two_step": true})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["users"].as_u64(), v["without_two_step"].as_u64(), v["chosen"].as_u64()),
        (Some(2), Some(1), Some(1))
    );
    assert_eq!(v["current"]["require_two_step"], false);
    assert_eq!(v["proposed"]["require_two_step"], true);
    let (s, v) = h
        .admin(
            "POST",
            "/v1/admin/orgs/acme/policy/preview",
            Some(json!({"passcode_min_length": 2})),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (422, Some("invalid_field")));
    let (_, org) = h.admin("GET", "/v1/admin/orgs/acme", None).await;
    assert_eq!(org["policy"]["require_two_step"], false);

    // Audit by event and time.
    let (_, v) = h.admin("GET", "/v1/admin/audit?kind=user_created", None).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 3);
    let (_, v) = h.admin("GET", "/v1/admin/audit?kind=user_created&user=anton", None).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 1);
    let (_, v) =
        h.admin("GET", "/v1/admin/audit?kind=user_created&from_ms=99999999999999", None).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 0);
    let (_, v) = h.admin("GET", "/v1/admin/audit?kind=user_created&to_ms=1", None).await;
    assert_eq!(v["events"].as_array().unwrap().len(), 0);
    let (s, _) = h.admin("GET", "/v1/admin/audit?kind=nonsense", None).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn open_challenge_pending_enrollment_and_operator_sign_out() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "cora", "cora-password-1").await;
    h.enroll_email("cora", "cora-password-1", "cora@example.com").await;
    let body = json!({"username": "cora", "password": "cora-password-1", "client": "web"});
    let (_, v) = h.call("POST", "/v1/signin", None, Some(body)).await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let sent = h.codes_for("cora@example.com").len();
    let (s, c) = h.call("GET", &format!("/v1/signin/{id}"), None, None).await;
    assert_eq!(s, 200);
    assert_eq!((c["channel"].as_str(), c["attempts_left"].as_u64()), (Some("email"), Some(5)));
    assert_eq!(h.codes_for("cora@example.com").len(), sent, "reading the challenge sends nothing");
    let (s, v) = h.call("GET", "/v1/signin/unknown", None, None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (410, Some("challenge_expired")));

    let token = h.web_token("cora", "cora-password-1").await;
    let (s, v) = h.call("GET", "/v1/me/two-step/totp", Some(&token), None).await;
    assert_eq!((s, v.clone()), (200, json!(null)), "nothing pending");
    let (_, started) = h.call("POST", "/v1/me/two-step/totp", Some(&token), None).await;
    let (s, again) = h.call("GET", "/v1/me/two-step/totp", Some(&token), None).await;
    assert_eq!(s, 200);
    assert_eq!(again["secret"], started["secret"]);
    assert_eq!(again["otpauth_uri"], started["otpauth_uri"]);

    // Where cora is signed in: this web session and an agent; she ends the agent's.
    let seen = h.codes_for("cora@example.com").len();
    let body = json!({"username": "cora", "password": "cora-password-1", "client": "agent"});
    let (_, v) = h.call("POST", "/v1/signin", None, Some(body)).await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    assert_eq!(h.codes_for("cora@example.com").len(), seen + 1);
    let code = h.latest_code_for("cora@example.com").unwrap();
    let (_, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    let agent = v["token"].as_str().unwrap().to_owned();
    let (s, list) = h.call("GET", "/v1/me/sessions", Some(&token), None).await;
    assert_eq!(s, 200);
    let sessions = list["sessions"].as_array().unwrap();
    let mine: Vec<(&str, bool)> = sessions
        .iter()
        .map(|s| (s["client"].as_str().unwrap(), s["current"].as_bool().unwrap()))
        .collect();
    assert!(mine.contains(&("web", true)) && mine.contains(&("agent", false)), "{mine:?}");
    assert!(!list.to_string().contains(&agent), "no token in the listing");
    let agent_id =
        sessions.iter().find(|s| s["client"] == "agent").unwrap()["id"].as_str().unwrap();
    let (s, _) = h.call("DELETE", &format!("/v1/me/sessions/{agent_id}"), Some(&token), None).await;
    assert_eq!(s, 204);
    assert_eq!(h.call("GET", "/v1/me", Some(&agent), None).await.0, 401);
    let (s, _) = h.call("DELETE", &format!("/v1/me/sessions/{agent_id}"), Some(&token), None).await;
    assert_eq!(s, 404);

    let (_, op) = h
        .call(
            "POST",
            "/v1/admin/signin",
            None,
            Some(json!({"username": twostep_e2e::OPERATOR.0, "password": twostep_e2e::OPERATOR.1})),
        )
        .await;
    let op = op["token"].as_str().unwrap().to_owned();
    let (s, _) = h.call("POST", "/v1/admin/signout", Some(&op), None).await;
    assert_eq!(s, 204);
    let (s, _) = h.call("GET", "/v1/admin/orgs", Some(&op), None).await;
    assert_eq!(s, 401, "the operator session ended");
}
