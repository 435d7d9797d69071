//! Two stateless replicas on one PostgreSQL database (each its own port, data dir and
//! memory): every security property holds across them. These tests always run on
//! PostgreSQL, whatever `TWOSTEP_TEST_STORE` says.

use futures::future::join_all;
use serde_json::{Value, json};
use twostep_e2e::{Harness, Options, Replica, StoreKind, TestDevice, now, totp_code};

async fn two_replicas() -> (Harness, Replica) {
    two_replicas_with(Options::default()).await
}

async fn two_replicas_with(opts: Options) -> (Harness, Replica) {
    let h = Harness::start_with(Options { store: Some(StoreKind::Postgres), ..opts }).await;
    let b = h.start_replica().await;
    assert_ne!(h.url(), b.url());
    (h, b)
}

fn sign_in_body(user: &str, password: &str, client: &str) -> Option<Value> {
    Some(json!({"username": user, "password": password, "client": client}))
}

#[tokio::test]
async fn one_totp_code_sent_to_both_replicas_at_once_succeeds_exactly_once() {
    let (h, b) = two_replicas().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", "alice-password").await;
    let secret = h.enroll_totp("alice", "alice-password").await;
    // Six open sign-ins on each replica; one code goes to all twelve at once.
    let mut targets = Vec::new();
    for base in [h.url(), b.url()] {
        for _ in 0..6 {
            let (s, v) = h
                .call_at(
                    &base,
                    "POST",
                    "/v1/signin",
                    None,
                    sign_in_body("alice", "alice-password", "web"),
                )
                .await;
            assert_eq!(s, 200, "{v}");
            targets.push(format!("{base}/v1/signin/{}/code", v["challenge_id"].as_str().unwrap()));
        }
    }
    let code = totp_code(&secret, now());
    let tasks: Vec<_> = targets
        .into_iter()
        .map(|url| {
            let (http, code) = (h.http().clone(), code.clone());
            tokio::spawn(async move {
                let r = http.post(&url).json(&json!({"code": code})).send().await.unwrap();
                (url, r.status().as_u16())
            })
        })
        .collect();
    let mut wins = Vec::new();
    for t in tasks {
        let (url, status) = t.await.unwrap();
        // Losers are wrong answers (401) or, once their failures add up, throttled (429).
        assert!([200, 401, 429].contains(&status), "{url}: {status}");
        if status == 200 {
            wins.push(url);
        }
    }
    assert_eq!(wins.len(), 1, "one code, one success across replicas: {wins:?}");
}

#[tokio::test]
async fn failures_sessions_policy_and_revocation_are_shared_by_the_replicas() {
    let (h, b) = two_replicas().await;
    let b_url = b.url();
    h.create_org("acme", false).await;

    // Failures on A count on B: five wrong passwords on A, then B makes the account wait.
    h.create_user("acme", "bob", "bob-password-1").await;
    for _ in 0..5 {
        let (s, _) =
            h.call("POST", "/v1/signin", None, sign_in_body("bob", "wrong-password", "web")).await;
        assert_eq!(s, 401);
    }
    let (s, v) = h
        .call_at(&b_url, "POST", "/v1/signin", None, sign_in_body("bob", "bob-password-1", "web"))
        .await;
    assert_eq!(s, 429, "the fifth failure on A delays the account on B: {v}");
    let (s, v) =
        h.call_at(&b_url, "GET", "/v1/admin/users/bob", Some(h.operator_token()), None).await;
    assert_eq!(s, 200, "the operator session from A works on B: {v}");
    assert_eq!(v["consecutive_failures"], 5);

    // Wrong codes on A use up the challenge's tries on B.
    h.create_user("acme", "carol", "carol-password").await;
    let secret = h.enroll_totp("carol", "carol-password").await;
    let (_, v) =
        h.call("POST", "/v1/signin", None, sign_in_body("carol", "carol-password", "agent")).await;
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let wrong =
        format!("{:06}", (totp_code(&secret, now()).parse::<u32>().unwrap() + 1) % 1_000_000);
    for left in [4, 3] {
        let (s, v) = h
            .call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": wrong})))
            .await;
        assert_eq!((s, v["error"]["attempts_left"].as_u64()), (401, Some(left)), "{v}");
    }
    let (s, v) = h
        .call_at(
            &b_url,
            "POST",
            &format!("/v1/signin/{id}/code"),
            None,
            Some(json!({"code": wrong})),
        )
        .await;
    assert_eq!((s, v["error"]["attempts_left"].as_u64()), (401, Some(2)), "{v}");
    // ...and the right code on B completes the sign-in that A started.
    let (s, v) = h
        .call_at(
            &b_url,
            "POST",
            &format!("/v1/signin/{id}/code"),
            None,
            Some(json!({"code": totp_code(&secret, now())})),
        )
        .await;
    assert_eq!(s, 200, "{v}");

    // A session from A works on B, and signing out on B ends it on A.
    h.create_user("acme", "dave", "dave-password").await;
    let token = h.web_token("dave", "dave-password").await;
    let (s, me) = h.call_at(&b_url, "GET", "/v1/me", Some(&token), None).await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(me["user"]["username"], "dave");
    let (s, _) = h.call_at(&b_url, "POST", "/v1/signout", Some(&token), None).await;
    assert_eq!(s, 204);
    let (s, _) = h.call("GET", "/v1/me", Some(&token), None).await;
    assert_eq!(s, 401, "signed out on B, gone on A");

    // A policy change on A applies at once on B.
    let (s, v) = h
        .call_at(&b_url, "POST", "/v1/signin", None, sign_in_body("dave", "dave-password", "agent"))
        .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("session")), "{v}");
    h.set_require_two_step("acme", true).await;
    let (s, v) = h
        .call_at(&b_url, "POST", "/v1/signin", None, sign_in_body("dave", "dave-password", "agent"))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "setup_required", "the policy set on A holds on B: {v}");
    assert!(v["session"].is_null(), "an agent gets no session: {v}");
    h.set_require_two_step("acme", false).await;

    // A device registered on A opens sessions on B until it is revoked on A.
    let dev = TestDevice::new();
    let registration = dev.registration(&h, "dave", "Pixel 8").await;
    let (s, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "dave", "password": "dave-password", "client": "mobile", "device": registration})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let device_id = v["device"]["device_id"].as_str().unwrap().to_owned();
    let device_session = |base: String| {
        let (h, dev, device_id) = (&h, &dev, device_id.clone());
        async move {
            let (s, c) = h
                .call_at(
                    &base,
                    "POST",
                    "/v1/device/challenge",
                    None,
                    Some(json!({"device_id": device_id})),
                )
                .await;
            if s != 200 {
                return (s, c);
            }
            let nonce = c["nonce"].as_str().unwrap().to_owned();
            let sig = dev.sign(&device_id, &nonce);
            h.call_at(
                &base,
                "POST",
                "/v1/device/session",
                None,
                Some(json!({"device_id": device_id, "nonce": nonce, "signature": sig})),
            )
            .await
        }
    };
    let (s, v) = device_session(b_url.clone()).await;
    assert_eq!(s, 200, "a device registered on A works on B: {v}");
    h.revoke_devices("dave").await;
    let (s, v) = device_session(b_url.clone()).await;
    assert_eq!(s, 401, "revoked on A, refused on B: {v}");
    assert_eq!(v["error"]["code"], "device_revoked");
}

/// Sends `n` requests at once, alternately to A and B; returns the statuses.
async fn burst_both(
    h: &Harness,
    b: &Replica,
    n: usize,
    path: &str,
    body: impl Fn(usize) -> Value,
) -> Vec<u16> {
    let calls = (0..n).map(|i| {
        let base = if i % 2 == 0 { h.url() } else { b.url() };
        let req = h.http().post(format!("{base}{path}")).json(&body(i));
        async move { req.send().await.unwrap().status().as_u16() }
    });
    join_all(calls).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn the_per_address_budget_holds_across_replicas() {
    let (h, b) = two_replicas().await;
    // 40 wrong sign-ins from one address at once, half on each replica: the budget of 30 is
    // reserved in the shared store, so exactly 30 are tried and 10 refused.
    let statuses = burst_both(
        &h,
        &b,
        40,
        "/v1/signin",
        |i| json!({"username": format!("ghost{i}"), "password": "wrong-password", "client": "web"}),
    )
    .await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (30, 10), "{statuses:?}");
}

#[tokio::test]
async fn the_setup_token_creates_one_operator_across_replicas() {
    let (h, b) = two_replicas_with(Options { no_operator: true, ..Options::default() }).await;
    // The token of the replica that started last is the one in the store; it works on
    // either replica, once.
    let token = b.setup_token().expect("no operator yet: B printed a token").to_owned();
    let stale = h.setup_token().unwrap().to_owned();
    let (s, _) = h
        .call(
            "POST",
            "/v1/admin/bootstrap",
            None,
            Some(
                json!({"setup_token": stale, "username": "old", "password": "operator-password-1"}),
            ),
        )
        .await;
    assert_eq!(s, 401, "A's token was replaced when B started");
    let statuses = burst_both(&h, &b, 20, "/v1/admin/bootstrap", |i| {
        json!({"setup_token": token, "username": format!("op{i}"), "password": "operator-password-1"})
    })
    .await;
    assert_eq!((count(&statuses, 201), count(&statuses, 401)), (1, 19), "{statuses:?}");
}

#[tokio::test]
async fn a_replica_with_another_master_key_refuses_to_start() {
    let (h, _b) = two_replicas().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("server")).unwrap();
    let config = twostep_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("server"),
        ..h.config().clone()
    };
    // No key in its data dir: it makes a fresh one, which the database does not know.
    let err = twostep_server::start(config).await.map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("master key differs"), "{err}");
}
