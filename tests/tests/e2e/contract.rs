//! The contract: the served document, the checker catching drift, and one tour through every
//! operation with a successful answer (each exchange checked by the harness).

use serde_json::{Value, json};
use twostep_e2e::contract::{Checker, Contract, Exchange};
use twostep_e2e::{Harness, Options, TestDevice, now, totp_code};

const PW: &str = "tour-password-1";

#[tokio::test]
async fn the_served_document_is_the_generated_one() {
    let h = Harness::start().await;
    let (s, doc) = h.call("GET", "/openapi.json", None, None).await;
    assert_eq!(s, 200);
    assert_eq!(doc, twostep_server::http::openapi::document());
    let c = Contract::new(&doc);
    assert_eq!(c.operations().count(), twostep_server::http::openapi::ENDPOINTS.len());
}

fn exchange<'a>(
    method: &'a str,
    path: &'a str,
    req: &'a [u8],
    status: u16,
    resp: &'a [u8],
) -> Exchange<'a> {
    Exchange {
        method,
        path,
        request_type: (!req.is_empty()).then_some("application/json"),
        request: req,
        status,
        response_type: Some("application/json"),
        response: resp,
    }
}

#[test]
fn the_checker_catches_answers_and_requests_that_drift_from_the_document() {
    let c = Checker::new();
    let session = json!({"status": "session", "token": "a".repeat(43), "expires_at": 1, "scope": "full",
        "user": {"id": "0".repeat(32), "username": "alice", "org": "acme"}});
    let signin = br#"{"username":"alice","password":"alice-password","client":"web"}"#;
    let ok = serde_json::to_vec(&session).unwrap();
    assert_eq!(c.check(&exchange("POST", "/v1/signin", signin, 200, &ok), false), Ok(()));

    let mut missing = session.clone();
    missing.as_object_mut().unwrap().remove("token");
    let mut extra = session.clone();
    extra["admin"] = json!(true);
    let mut bad_pattern = session.clone();
    bad_pattern["user"]["username"] = json!("Alice Smith");
    let error =
        |code: &str| serde_json::to_vec(&json!({"error": {"code": code, "message": "m"}})).unwrap();
    // method, path, request, status, answer, what the failure says
    type Case<'a> = (&'a str, &'a str, Vec<u8>, u16, Vec<u8>, &'a str);
    let drift: Vec<Case> = vec![
        (
            "POST",
            "/v1/signin",
            signin.to_vec(),
            200,
            serde_json::to_vec(&missing).unwrap(),
            "does not match",
        ),
        (
            "POST",
            "/v1/signin",
            signin.to_vec(),
            200,
            serde_json::to_vec(&extra).unwrap(),
            "does not match",
        ),
        (
            "POST",
            "/v1/signin",
            signin.to_vec(),
            200,
            serde_json::to_vec(&bad_pattern).unwrap(),
            "does not match",
        ),
        // A code the operation does not list, under a status it does.
        (
            "POST",
            "/v1/me/two-step/verify",
            br#"{"code":"123456"}"#.to_vec(),
            401,
            error("invalid_credentials"),
            "not documented for it",
        ),
        // A status the operation does not list.
        ("GET", "/healthz", vec![], 401, error("unauthorized"), "status 401 is not documented"),
        // The server accepting what the document rejects.
        (
            "POST",
            "/v1/signin",
            br#"{"username":"a","password":"p","client":"web","role":"admin"}"#.to_vec(),
            200,
            ok.clone(),
            "accepted a request",
        ),
        (
            "POST",
            "/v1/signin",
            br#"{"username":"a","password":"p","client":"fax"}"#.to_vec(),
            200,
            ok.clone(),
            "accepted a request",
        ),
        // The server refusing as malformed what the document accepts.
        (
            "POST",
            "/v1/signin",
            signin.to_vec(),
            400,
            error("invalid_request"),
            "invalid_request to a request",
        ),
        // A route outside the document that answers.
        ("GET", "/v1/secret", vec![], 200, b"{}".to_vec(), "not in the document"),
    ];
    for (method, path, req, status, resp, expected) in &drift {
        let got = c.check(&exchange(method, path, req, *status, resp), false);
        let e = got.expect_err(&format!("{method} {path} {status} must be caught"));
        assert!(e.contains(expected), "{method} {path} {status}: {e}");
        assert!(!e.contains("alice-password"), "failure messages never echo values: {e}");
    }
    // Bad input answered with a documented 4xx is what the tests do on purpose.
    let bad = br#"{"username":"a","password":"p","client":"fax"}"#;
    assert_eq!(
        c.check(&exchange("POST", "/v1/signin", bad, 400, &error("invalid_request")), false),
        Ok(())
    );
    let s = c.stats();
    assert_eq!((s.rejected, s.unrouted), (3, 0), "{s:?}");
    assert_eq!(c.take_violations().len(), drift.len());
}

/// Every operation answers once with success, its exchanges checked; the checker's record
/// proves the tour reached each one.
#[tokio::test]
async fn every_operation_answers_as_documented() {
    let h = Harness::start_with(Options { smtp: true, sms: true, ..Options::default() }).await;
    let ok = |(s, v): (u16, Value), what: &str| {
        assert!((200..300).contains(&s), "{what}: {s} {v}");
        v
    };
    ok(h.call("GET", "/healthz", None, None).await, "health");
    ok(h.call("GET", "/readyz", None, None).await, "readiness");
    assert!(h.metric("twostep_http_requests_total").await > 0);
    ok(h.call("GET", "/openapi.json", None, None).await, "document");

    // Operators.
    h.create_org("tour", false).await;
    ok(h.admin("GET", "/v1/admin/orgs/tour", None).await, "org");
    ok(h.admin("GET", "/v1/admin/orgs", None).await, "orgs");
    let preview = json!({"require_two_step": true});
    ok(h.admin("POST", "/v1/admin/orgs/tour/policy/preview", Some(preview)).await, "preview");
    h.set_policy("tour", json!({"passcode_min_length": 6})).await;
    h.create_user("tour", "ann", PW).await;
    let second_op = ok(
        h.call(
            "POST",
            "/v1/admin/signin",
            None,
            Some(json!({"username": twostep_e2e::OPERATOR.0, "password": twostep_e2e::OPERATOR.1})),
        )
        .await,
        "operator sign-in",
    )["token"]
        .as_str()
        .unwrap()
        .to_owned();
    ok(h.call("POST", "/v1/admin/signout", Some(&second_op), None).await, "operator sign-out");
    let op = twostep_e2e::OPERATOR.0;
    ok(h.admin("GET", &format!("/v1/admin/operators/{op}"), None).await, "operator status");
    ok(h.admin("POST", &format!("/v1/admin/operators/{op}/unlock"), None).await, "operator unlock");
    ok(h.admin("GET", "/v1/admin/audit?limit=5&user=ann", None).await, "audit");
    ok(h.admin("GET", "/v1/admin/users?org=tour&limit=5", None).await, "users");

    // A user configures every channel.
    let web = h.web_token("ann", PW).await;
    ok(h.call("GET", "/v1/me", Some(&web), None).await, "me");
    // Email first: each enrollment signs in again, with an emailed code (an authenticator
    // code may be used once).
    h.enroll_email("ann", PW, "ann@example.com").await;
    h.enroll_sms("ann", PW, "+4915100000777").await;
    let secret = h.enroll_totp("ann", PW).await;
    let web = h.web_token("ann", PW).await;
    ok(
        h.call("PUT", "/v1/me/two-step/preferred", Some(&web), Some(json!({"channel": "totp"})))
            .await,
        "preferred",
    );
    let codes = ok(
        h.call("POST", "/v1/me/two-step/recovery-codes", Some(&web), None).await,
        "recovery codes",
    )["codes"]
        .as_array()
        .unwrap()
        .clone();
    ok(
        h.call("POST", "/v1/me/two-step/step-up", Some(&web), Some(json!({"channel": "email"})))
            .await,
        "step-up",
    );
    let step_up = h.latest_code_for("ann@example.com").unwrap();
    ok(
        h.call("POST", "/v1/me/two-step/verify", Some(&web), Some(json!({"code": step_up}))).await,
        "verify",
    );
    ok(h.call("GET", "/v1/me/devices", Some(&web), None).await, "devices");
    let none = ok(h.call("GET", "/v1/me/two-step/totp", Some(&web), None).await, "pending");
    assert_eq!(none, Value::Null, "no authenticator enrollment is pending");

    // Sign-in: switch channel, cancel; a recovery code.
    let signin = json!({"username": "ann", "password": PW, "client": "web"});
    let id = |v: Value| v["challenge_id"].as_str().unwrap().to_owned();
    let ch = id(ok(h.call("POST", "/v1/signin", None, Some(signin.clone())).await, "sign-in"));
    ok(h.call("GET", &format!("/v1/signin/{ch}"), None, None).await, "prompt");
    ok(
        h.call(
            "POST",
            &format!("/v1/signin/{ch}/channel"),
            None,
            Some(json!({"channel": "email"})),
        )
        .await,
        "switch",
    );
    ok(h.call("DELETE", &format!("/v1/signin/{ch}"), None, None).await, "cancel");
    let ch = id(ok(h.call("POST", "/v1/signin", None, Some(signin.clone())).await, "sign-in"));
    let code = json!({"code": codes[0]});
    ok(h.call("POST", &format!("/v1/signin/{ch}/recovery"), None, Some(code)).await, "recovery");

    // A mobile device registers with an authenticator code, then opens a session by its key.
    let dev = TestDevice::new();
    let reg = dev.registration(&h, "ann", "Tour phone").await;
    let body = json!({"username": "ann", "password": PW, "client": "mobile", "device": reg});
    let ch = id(ok(h.call("POST", "/v1/signin", None, Some(body)).await, "mobile sign-in"));
    let code = json!({"code": totp_code(&secret, now())});
    let grant =
        ok(h.call("POST", &format!("/v1/signin/{ch}/code"), None, Some(code)).await, "code");
    let device_id = grant["device"]["device_id"].as_str().unwrap().to_owned();
    let device_session = || async {
        let body = json!({"device_id": device_id});
        let nonce = ok(h.call("POST", "/v1/device/challenge", None, Some(body)).await, "challenge")
            ["nonce"]
            .as_str()
            .unwrap()
            .to_owned();
        let sig = dev.sign(&device_id, &nonce);
        let body = json!({"device_id": device_id, "nonce": nonce, "signature": sig});
        ok(h.call("POST", "/v1/device/session", None, Some(body)).await, "device session")["token"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    device_session().await;
    let sessions = ok(h.call("GET", "/v1/me/sessions", Some(&web), None).await, "sessions");
    let first_mobile = sessions["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["client"] == "mobile")
        .expect("the mobile session is listed")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let end = format!("/v1/me/sessions/{first_mobile}");
    ok(h.call("DELETE", &end, Some(&web), None).await, "end a session");
    let mobile = device_session().await;
    ok(h.call("POST", "/v1/signout", Some(&mobile), None).await, "sign-out");
    ok(
        h.call("DELETE", &format!("/v1/me/devices/{device_id}"), Some(&web), None).await,
        "unregister",
    );

    // Removing channels, turning two-step off, the password.
    ok(h.call("DELETE", "/v1/me/two-step/channels/sms", Some(&web), None).await, "remove channel");
    ok(h.call("DELETE", "/v1/me/two-step", Some(&web), None).await, "two-step off");
    let change = json!({"current_password": PW, "new_password": "tour-password-2"});
    ok(h.call("POST", "/v1/me/password", Some(&web), Some(change)).await, "password");

    // Operators again: a second device to revoke one by one and all, resets, forced removal.
    let agent = TestDevice::new();
    let reg = agent.registration_as(&h, twostep_proto::ClientKind::Agent, "ann", "Laptop").await;
    let body =
        json!({"username": "ann", "password": "tour-password-2", "client": "agent", "device": reg});
    ok(h.call("POST", "/v1/signin", None, Some(body)).await, "agent registration");
    let view = h.user_view("ann").await;
    let agent_id = view["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["client"] == "agent" && d["revoked"] == false)
        .expect("the agent is registered")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let one = format!("/v1/admin/users/ann/devices/{agent_id}");
    ok(h.admin("DELETE", &one, None).await, "revoke one");
    h.revoke_devices("ann").await;
    h.admin_reset("ann").await;
    h.unlock("ann").await;
    h.user_view("ann").await;
    ok(h.admin("POST", "/v1/admin/orgs/tour/remove-forced-two-step", None).await, "remove forced");
    ok(
        h.admin("DELETE", &format!("/v1/admin/operators/{op}/sessions"), None).await,
        "revoke operator",
    );

    // Resending waits 30 s, which a test does not: the service's answer is checked instead,
    // as the body of that operation's success.
    let email_user = ("bea", "bea@example.com");
    let mut h = h;
    h.restart().await;
    h.create_user("tour", email_user.0, PW).await;
    h.enroll_email(email_user.0, PW, email_user.1).await;
    let ch = id(ok(
        h.call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "bea", "password": PW, "client": "web"})),
        )
        .await,
        "sign-in",
    ));
    let later = now() + 31;
    let origin = twostep_server::service::signin::Origin {
        addr: std::net::IpAddr::from([127, 0, 0, 1]),
        now: later,
        now_ms: later * 1000,
    };
    let resent = twostep_server::service::signin::resend(h.app(), &ch, None, origin).await.unwrap();
    let answer = serde_json::to_vec(&resent).unwrap();
    let path = format!("/v1/signin/{ch}/resend");
    h.checker().check(&exchange("POST", &path, &[], 200, &answer), false).unwrap();

    let seen = h.checker().stats().seen;
    for op in Contract::served().operations() {
        assert!(
            seen.iter().any(|(o, s, _)| o == op && *s < 300),
            "the tour did not reach {op} with success"
        );
    }
}
