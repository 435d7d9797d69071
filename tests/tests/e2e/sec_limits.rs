//! Abuse resistance under concurrency: attempts are counted in the store before the work, so
//! N concurrent attempts cost what N sequential ones cost; the setup token is single use;
//! message cooldowns and daily caps hold; device challenges are rate-limited.

use futures::future::join_all;
use serde_json::{Value, json};
use twostep_e2e::{Harness, OPERATOR, Options, TestDevice, now, totp_code};

const PW: &str = "correct-horse-1";

/// Posts the same kind of request `n` times at once; returns the statuses.
async fn burst(h: &Harness, n: usize, path: &str, body: impl Fn(usize) -> Value) -> Vec<u16> {
    let calls = (0..n).map(|i| {
        let req = h.http().post(format!("{}{path}", h.url())).json(&body(i));
        async move { h.send(req).await.status }
    });
    join_all(calls).await
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

#[tokio::test]
async fn concurrent_wrong_passwords_are_limited_like_sequential_ones() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "bob", PW).await;
    let hashes = h.metric("twostep_password_hashes_total").await;
    let statuses = burst(
        &h,
        40,
        "/v1/signin",
        |_| json!({"username": "bob", "password": "wrong-password", "client": "web"}),
    )
    .await;
    // Sequentially: four free failures, the fifth starts a 30 s wait, the sixth waits.
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (5, 35), "{statuses:?}");
    assert_eq!(h.metric("twostep_password_hashes_total").await - hashes, 5, "only 5 hashes ran");
    assert_eq!(h.user_view("bob").await["consecutive_failures"], 5);
}

#[tokio::test]
async fn concurrent_wrong_operator_passwords_are_limited_like_sequential_ones() {
    let h = Harness::start().await;
    let statuses = burst(
        &h,
        40,
        "/v1/admin/signin",
        |_| json!({"username": OPERATOR.0, "password": "wrong-password"}),
    )
    .await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (5, 35), "{statuses:?}");
    let (s, v) = h.admin("GET", &format!("/v1/admin/operators/{}", OPERATOR.0), None).await;
    assert_eq!((s, v["consecutive_failures"].as_u64()), (200, Some(5)), "{v}");
}

#[tokio::test]
async fn concurrent_failures_from_one_address_are_limited_exactly() {
    let h = Harness::start().await;
    let hashes = h.metric("twostep_password_hashes_total").await;
    let statuses = burst(
        &h,
        40,
        "/v1/signin",
        |i| json!({"username": format!("ghost{i}"), "password": "wrong-password", "client": "web"}),
    )
    .await;
    assert_eq!((count(&statuses, 401), count(&statuses, 429)), (30, 10), "{statuses:?}");
    assert_eq!(h.metric("twostep_password_hashes_total").await - hashes, 30);
}

#[tokio::test]
async fn the_setup_token_creates_exactly_one_operator_under_concurrency() {
    let h = Harness::start_with(Options { no_operator: true, ..Options::default() }).await;
    let token = h.setup_token().unwrap().to_owned();
    let statuses = burst(&h, 40, "/v1/admin/bootstrap", |i| {
        json!({"setup_token": token, "username": format!("op{i}"), "password": "operator-password-1"})
    })
    .await;
    assert_eq!(count(&statuses, 201), 1, "{statuses:?}");
    assert_eq!(count(&statuses, 401), 39, "{statuses:?}");
    let winner = statuses.iter().position(|s| *s == 201).unwrap();
    let ops = h.app().repo.store().scan(twostep_server::store::Tree::Operators, b"", None, 100);
    assert_eq!(ops.await.unwrap().len(), 1, "one operator exists");
    let (s, _) = h
        .call(
            "POST",
            "/v1/admin/signin",
            None,
            Some(json!({"username": format!("op{winner}"), "password": "operator-password-1"})),
        )
        .await;
    assert_eq!(s, 200);
    // Used up: even the right token cannot create another operator.
    let (s, _) = h
        .call(
            "POST",
            "/v1/admin/bootstrap",
            None,
            Some(json!({"setup_token": token, "username": "late", "password": "operator-password-1"})),
        )
        .await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn parallel_enrollments_send_one_code_per_cooldown_and_daily_caps_hold() {
    let h = Harness::start().await;
    h.create_org("strict", true).await;
    h.create_user("strict", "alice", PW).await;
    // A setup-only session is subject to the limits too.
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "alice", "password": PW, "client": "web"})),
        )
        .await;
    let t = v["session"]["token"].as_str().unwrap().to_owned();
    let calls = (0..20).map(|_| {
        let req = h
            .http()
            .post(format!("{}/v1/me/two-step/sms", h.url()))
            .bearer_auth(&t)
            .json(&json!({"phone": "+4915100000123"}));
        let h = &h;
        async move {
            let r = h.send(req).await;
            (r.status, r.json()["error"]["code"].as_str().unwrap_or("").to_owned())
        }
    });
    let answers = join_all(calls).await;
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    assert_eq!(ok, 1, "one code per 30 s cooldown: {answers:?}");
    assert!(answers.iter().all(|(s, c)| *s == 200 || (*s == 429 && c == "resend_too_soon")));
    assert_eq!(h.codes_for("+4915100000123").len(), 1, "exactly one text went out");

    // Daily caps, operator-settable: per destination 3, per user 5, per org 7.
    h.set_policy(
        "strict",
        json!({"max_messages_per_destination_per_day": 3, "max_messages_per_user_per_day": 5,
               "max_messages_per_org_per_day": 7}),
    )
    .await;
    let app = h.app().clone();
    // The sends below run at later times (beyond each 30 s cooldown) within one UTC day.
    let day_left = 86_400 - now() % 86_400;
    let base = if day_left > 2_000 { now() } else { now() + day_left + 10 };
    let mut clock = base;
    let mut send = |user_token: String, dest: &'static str| {
        clock += 31;
        let (app, at) = (app.clone(), clock);
        async move {
            let a = twostep_server::service::sessions::authenticate(&app, &user_token, at)
                .await
                .expect("session");
            let o = twostep_server::service::signin::Origin {
                addr: "127.0.0.1".parse().unwrap(),
                now: at,
                now_ms: at * 1000,
            };
            twostep_server::service::selfservice::enroll_sent(
                &app,
                &a,
                twostep_proto::Channel::Sms,
                dest,
                o,
            )
            .await
        }
    };
    let limited = |r: Result<twostep_proto::PendingDelivery, twostep_server::error::ApiError>| {
        let e = r.expect_err("over the cap");
        assert_eq!(e.code, twostep_proto::ErrorCode::SendLimitReached, "{e:?}");
        let wait = e.retry_after_secs.unwrap();
        assert!((1..=86_400).contains(&wait), "{wait}");
    };
    send(t.clone(), "+4915100000123").await.unwrap();
    send(t.clone(), "+4915100000123").await.unwrap();
    limited(send(t.clone(), "+4915100000123").await); // the destination's 4th
    send(t.clone(), "+4915100000124").await.unwrap();
    send(t.clone(), "+4915100000124").await.unwrap();
    limited(send(t.clone(), "+4915100000125").await); // the user's 6th
    h.create_user("strict", "bob", PW).await;
    let (_, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "bob", "password": PW, "client": "web"})),
        )
        .await;
    let bob = v["session"]["token"].as_str().unwrap().to_owned();
    send(bob.clone(), "+4915100000126").await.unwrap();
    send(bob.clone(), "+4915100000126").await.unwrap();
    limited(send(bob.clone(), "+4915100000127").await); // the org's 8th
    assert_eq!(h.codes_for("+4915100000125").len() + h.codes_for("+4915100000127").len(), 0);
    let (_, page) = h.admin("GET", "/v1/admin/audit?limit=1000", None).await;
    let limited_events =
        page["events"].as_array().unwrap().iter().filter(|e| e["kind"] == "send_limited").count();
    assert_eq!(limited_events, 3);
}

#[tokio::test]
async fn step_up_failures_count_toward_the_address_limit() {
    let h = Harness::start_with(Options {
        configure: Some(|c| c.address_failures_per_minute = 4),
        ..Options::default()
    })
    .await;
    h.create_org("acme", false).await;
    h.create_user("acme", "ivan", PW).await;
    let secret = h.enroll_totp("ivan", PW).await;
    let t = h.web_token("ivan", PW).await;
    let valid: Vec<String> =
        [-30i64, 0, 30].iter().map(|d| totp_code(&secret, (now() as i64 + d) as u64)).collect();
    let wrong =
        (0..10).map(|i| format!("{i}{i}{i}{i}{i}{i}")).find(|c| !valid.contains(c)).unwrap();
    for _ in 0..4 {
        let (s, v) =
            h.call("POST", "/v1/me/two-step/verify", Some(&t), Some(json!({"code": wrong}))).await;
        assert_eq!(s, 401, "{v}");
    }
    let (s, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "nobody", "password": "wrong-password", "client": "web"})),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (429, Some("rate_limited")), "{v}");
}

#[tokio::test]
async fn device_challenges_are_rate_limited_per_device() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "judy", PW).await;
    let dev = TestDevice::new();
    let (s, v) = h
        .call(
            "POST",
            "/v1/signin",
            None,
            Some(json!({"username": "judy", "password": PW, "client": "mobile",
                        "device": dev.registration(&h, "judy", "Phone").await})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let id = v["device"]["device_id"].as_str().unwrap().to_owned();
    let statuses = burst(&h, 40, "/v1/device/challenge", |_| json!({"device_id": id})).await;
    let per_minute = h.config().device_challenges_per_minute as usize;
    assert_eq!(
        (count(&statuses, 200), count(&statuses, 429)),
        (per_minute, 40 - per_minute),
        "{statuses:?}"
    );
}
