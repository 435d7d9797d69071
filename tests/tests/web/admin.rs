//! Operators: the console's sign-in, the policy switch with its preview, users, audit.

use crate::browser::Browser;
use crate::signin::{device_alive, register_phone, sign_in};
use serde_json::json;
use twostep_e2e::{Harness, OPERATOR};

async fn operator_sign_in(b: &Browser, base: &str) {
    b.goto(&format!("{base}/admin")).await;
    b.fill("#username", OPERATOR.0).await;
    b.fill("#password", OPERATOR.1).await;
    b.click_text("Sign in").await;
    assert_eq!(b.path().await, "/admin/orgs");
}

/// The operator reviews and saves "Require Two-Step Authentication"; the preview states
/// the article's rules with this org's numbers; a user without two-step is then forced to
/// set it up at the next web sign-in.
pub async fn operator_turns_the_policy_on_and_the_user_is_forced(b: &Browser) {
    let mut h = Harness::start().await;
    let base = h.url();
    h.create_org("acme", false).await;
    h.create_user("acme", "dave", "dave-password-1").await;
    h.create_user("acme", "erin", "erin-password-1").await;
    h.enroll_email("erin", "erin-password-1", "erin@example.com").await;
    b.forget_cookies(&base).await;

    b.goto(&format!("{base}/admin")).await;
    b.page("admin-signin", false).await;
    b.fill("#username", OPERATOR.0).await;
    b.fill("#password", "not-the-password").await;
    b.click_text("Sign in").await;
    assert!(b.text("#form-error").await.contains("incorrect"));
    operator_sign_in(b, &base).await;
    b.page("admin-orgs", false).await;

    b.click("a[href='/admin/orgs/acme']").await;
    assert_eq!(b.attr("#require_two_step", "checked").await, None);
    b.page("admin-org", true).await;
    b.toggle("#require_two_step").await;
    b.fill("#passcode_min_length", "8").await;
    b.click_text("Review changes").await;
    let effects = b.text("#effects").await;
    assert!(effects.contains("Require Two-Step Authentication turns on"), "{effects}");
    assert!(effects.contains("1 of 2 users has not set it up"), "{effects}");
    assert!(effects.contains("cannot register the agent, the Outlook add-in or a mobile app"));
    assert!(
        effects.contains("1 user who already uses two-step authentication keeps their settings")
    );
    assert!(effects.contains("Minimum passcode length: 6 → 8."));
    b.page("admin-preview", false).await;
    // Nothing is saved by the preview.
    assert_eq!(
        h.admin("GET", "/v1/admin/orgs/acme", None).await.1["policy"]["require_two_step"],
        json!(false)
    );
    b.click_text("Save").await;
    assert_eq!(b.path().await, "/admin/orgs/acme?n=saved");
    assert_eq!(b.attr("#require_two_step", "checked").await.as_deref(), Some("true"));
    let org = h.admin("GET", "/v1/admin/orgs/acme", None).await.1;
    assert_eq!(org["policy"]["require_two_step"], json!(true));
    assert_eq!(org["policy"]["passcode_min_length"], json!(8));

    // The user without two-step is now forced to set it up.
    sign_in(b, &base, "dave", "dave-password-1").await;
    assert_eq!(b.path().await, "/setup");

    // Turning it off again: the preview says users keep their settings.
    b.goto(&format!("{base}/admin/orgs/acme")).await;
    b.toggle("#require_two_step").await;
    b.click_text("Review changes").await;
    let effects = b.text("#effects").await;
    assert!(effects.contains("Users keep their two-step settings"), "{effects}");
    b.page("admin-preview-off", false).await;
    h.stop().await;
}

/// Users with search and state, reset and unlock; the audit log with filters and paging.
pub async fn operator_console_users_and_audit(b: &Browser) {
    let mut h = Harness::start().await;
    let base = h.url();
    h.create_org("acme", true).await;
    h.create_org("beta", false).await;
    h.create_user("acme", "frank", "frank-password-1").await;
    h.create_user("acme", "grace", "grace-password-1").await;
    h.create_user("beta", "heidi", "heidi-password-1").await;
    h.enroll_email("frank", "frank-password-1", "frank@example.com").await;
    h.enroll_email("heidi", "heidi-password-1", "heidi@example.com").await;
    for _ in 0..3 {
        let (s, _) = h
            .call(
                "POST",
                "/v1/signin",
                None,
                Some(json!({"username": "grace", "password": "wrong-password", "client": "web"})),
            )
            .await;
        assert_eq!(s, 401);
    }
    // Enough events of one kind for two pages.
    for _ in 0..55 {
        h.unlock("heidi").await;
    }
    b.forget_cookies(&base).await;
    operator_sign_in(b, &base).await;

    b.click_text("Users").await;
    let rows = b.text("#users tbody").await;
    assert!(rows.contains("frank") && rows.contains("grace") && rows.contains("heidi"));
    assert!(
        b.text("#users tbody tr:nth-child(1)").await.contains("On · forced"),
        "frank set up under the policy"
    );
    assert!(b.text("#users tbody tr:nth-child(2)").await.contains("Off"));
    assert!(b.text("#users tbody tr:nth-child(3)").await.contains("On · chosen"));
    b.page("admin-users", true).await;
    b.fill("#q", "RAC").await;
    b.click_text("Search").await;
    assert_eq!(b.js("return document.querySelectorAll('#users tbody tr').length").await, json!(1));
    assert!(b.text("#users").await.contains("grace"));

    b.click("a[href='/admin/users/grace']").await;
    assert!(b.text("main").await.contains("3 consecutive failed attempts"));
    b.page("admin-user", false).await;
    b.click_text("Unlock and clear failed attempts").await;
    assert_eq!(b.path().await, "/admin/users/grace?n=unlocked");
    assert!(b.text("main").await.contains("0 consecutive failed attempts"));

    // The operator revokes heidi's phone.
    let phone =
        register_phone(&h, "heidi", "heidi-password-1", "heidi@example.com", "Heidi iPhone").await;
    b.goto(&format!("{base}/admin/users/heidi")).await;
    assert!(b.text("main").await.contains("Heidi iPhone"));
    b.click_text("Revoke Heidi iPhone").await;
    assert_eq!(b.path().await, "/admin/users/heidi?n=revoked");
    assert!(b.text("main").await.contains("Revoked"));
    assert!(!device_alive(&h, &phone).await, "the revoked device cannot open a session");

    b.goto(&format!("{base}/admin/users/frank")).await;
    b.click_text("Reset two-step authentication").await;
    assert_eq!(b.path().await, "/admin/users/frank?n=reset");
    assert!(b.text("dl.facts").await.contains("Off"));
    assert_eq!(h.user_view("frank").await["two_step"]["enabled"], json!(false));

    // Audit: by event, by user, by time, paged.
    b.click_text("Audit log").await;
    b.el("#kind").await.select_by_value("admin_unlock").await.unwrap();
    b.click_text("Filter").await;
    assert_eq!(b.js("return document.querySelectorAll('#audit tbody tr').length").await, json!(50));
    b.click("#next-page").await;
    // 55 for heidi and one for grace.
    assert_eq!(b.js("return document.querySelectorAll('#audit tbody tr').length").await, json!(6));
    b.page("admin-audit", false).await;
    assert!(!b.has("#next-page").await);
    b.goto(&format!("{base}/admin/audit?user=frank&kind=admin_reset_two_step")).await;
    assert_eq!(b.js("return document.querySelectorAll('#audit tbody tr').length").await, json!(1));
    assert!(b.text("#audit").await.contains(OPERATOR.0));
    b.goto(&format!("{base}/admin/audit?from=2999-01-01T00:00")).await;
    assert!(b.text("main").await.contains("No event matches."));
    b.goto(&format!("{base}/admin/audit?from=yesterday")).await;
    assert!(b.text("#form-error").await.contains("date and time"));
    h.stop().await;
}

/// A fresh server has no operator: the console creates the first one with the one-time
/// setup token the server printed.
pub async fn first_operator_from_the_setup_token(b: &Browser) {
    let dir = tempfile::tempdir().unwrap();
    let config = twostep_server::Config {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: dir.path().join("server"),
        hash_threads: Some(2),
        ..twostep_server::Config::default()
    };
    let server = twostep_server::start(config).await.unwrap();
    let token = server.setup_token().unwrap().to_owned();
    let base = server.url();
    b.forget_cookies(&base).await;
    b.goto(&format!("{base}/admin")).await;
    b.fill("#setup_token", "not-the-token").await;
    b.fill("#new_name", "olga").await;
    b.fill("#new_password", "olga-password-1").await;
    b.click_text("Create operator").await;
    assert!(b.text("#form-error").await.contains("setup token is invalid"));
    b.fill("#setup_token", &token).await;
    b.fill("#new_name", "olga").await;
    b.fill("#new_password", "olga-password-1").await;
    b.click_text("Create operator").await;
    assert_eq!(b.path().await, "/admin?n=operator");
    assert!(!b.has("#setup_token").await, "only while no operator exists");
    b.fill("#username", "olga").await;
    b.fill("#password", "olga-password-1").await;
    b.click_text("Sign in").await;
    assert_eq!(b.path().await, "/admin/orgs");
    server.shutdown().await;
}
