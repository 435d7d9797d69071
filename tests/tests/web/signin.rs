//! Users: sign-in with each kind of code, enrollment, recovery codes, forced setup.

use crate::browser::{Browser, read_qr};
use serde_json::json;
use twostep_e2e::{Harness, Options, now};
use twostep_proto::ClientKind;

/// Keys WebDriver sends for Tab and Enter.
const TAB: &str = "\u{E004}";
const ENTER: &str = "\u{E007}";

/// Signs in with the form (by clicking).
pub async fn sign_in(b: &Browser, base: &str, user: &str, password: &str) {
    b.goto(&format!("{base}/")).await;
    b.fill("#username", user).await;
    b.fill("#password", password).await;
    b.click("form[action='/signin'] button[type=submit]").await;
}

/// Waits until `dest` has received more than `seen` codes; returns the newest.
pub async fn next_code(h: &Harness, dest: &str, seen: usize) -> String {
    for _ in 0..300 {
        let codes = h.codes_for(dest);
        if codes.len() > seen {
            return codes.last().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no new code for {dest}");
}

/// Registers a mobile device for a user whose codes go to `dest` (as the app would: password,
/// then the sent code); returns the device id.
pub async fn register_phone(
    h: &Harness,
    user: &str,
    password: &str,
    dest: &str,
    name: &str,
) -> String {
    register(h, ClientKind::Mobile, user, password, dest, name).await.0
}

/// Registers a mobile device or a desktop agent (key and proof, then the sent code);
/// returns the registration id and the session token.
pub async fn register(
    h: &Harness,
    kind: ClientKind,
    user: &str,
    password: &str,
    dest: &str,
    name: &str,
) -> (String, String) {
    let dev = twostep_e2e::TestDevice::new();
    let registration = dev.registration_as(h, kind, user, name).await;
    let seen = h.codes_for(dest).len();
    let body = json!({"username": user, "password": password, "client": kind.as_str(), "device": registration});
    let (s, v) = h.call("POST", "/v1/signin", None, Some(body)).await;
    assert_eq!(s, 200, "{v}");
    let id = v["challenge_id"].as_str().unwrap().to_owned();
    let code = next_code(h, dest, seen).await;
    let (s, v) =
        h.call("POST", &format!("/v1/signin/{id}/code"), None, Some(json!({"code": code}))).await;
    assert_eq!(s, 200, "{v}");
    (v["device"]["device_id"].as_str().unwrap().to_owned(), v["token"].as_str().unwrap().to_owned())
}

/// Whether the device may still open sessions.
pub async fn device_alive(h: &Harness, device_id: &str) -> bool {
    let (s, _) =
        h.call("POST", "/v1/device/challenge", None, Some(json!({"device_id": device_id}))).await;
    s == 200
}

/// Unix seconds now, at least 3 s before the next 30 s step begins, so that a code computed
/// now is checked by the server in the same step.
async fn now_inside_step() -> u64 {
    let ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    };
    let into_step = ms() % 30_000;
    if into_step > 27_000 {
        tokio::time::sleep(std::time::Duration::from_millis(30_000 - into_step + 200)).await;
    }
    ms() / 1000
}

/// A 6-digit code that the authenticator does not show around now.
fn wrong_code(otp: &twostep_otp::Otp) -> String {
    let t = now();
    let near: Vec<String> = (0..5)
        .filter_map(|i| otp.code_at(twostep_otp::UnixTime::from_secs(t + i * 30 - 60)))
        .collect();
    (0..).map(|i| format!("{:06}", 123_456 + i)).find(|c| !near.contains(c)).unwrap()
}

async fn status_text(b: &Browser) -> String {
    b.text("#two-step-status").await
}

/// Enrolls the authenticator app from the QR code as a phone would read it, then signs in
/// with a code from twostep-otp (keyboard only), and once with a recovery code.
pub async fn totp_from_the_enrollment_qr_code(b: &Browser) {
    let mut h = Harness::start().await;
    let base = h.url();
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", "alice-password-1").await;
    b.forget_cookies(&base).await;

    // Keyboard only: the username field has focus; Tab to the password; Enter submits.
    b.goto(&format!("{base}/")).await;
    b.page("signin", true).await;
    let focused = || async { b.client.active_element().await.unwrap().attr("id").await.unwrap() };
    assert_eq!(focused().await.as_deref(), Some("username"));
    b.keys(&format!("alice{TAB}"), false).await;
    assert_eq!(focused().await.as_deref(), Some("password"));
    b.keys(&format!("alice-password-1{ENTER}"), true).await;
    assert_eq!(b.path().await, "/account");
    assert!(status_text(b).await.contains("Off"));
    b.page("account-off", false).await;

    b.click("a[href='/account/two-step/totp']").await;
    b.page("totp-start", false).await;
    b.click_text("Set up an authenticator app").await;
    assert_eq!(b.path().await, "/account/two-step/totp");

    // The QR code, as rendered, decodes to the page's otpauth URI; the manual-entry key is
    // the same secret.
    let uri = b.attr("#qr", "data-otpauth-uri").await.unwrap();
    let scanned = read_qr(&b.element_png("#qr svg").await);
    assert_eq!(scanned, uri);
    let account = twostep_otp::uri::parse(&scanned).unwrap();
    assert_eq!(account.name, "alice");
    let key = b.text("#secret").await.replace(' ', "");
    assert_eq!(account.otp.secret().to_base32().as_str(), key);
    b.page("totp-enroll", true).await;

    b.fill("#code", &wrong_code(&account.otp)).await;
    b.click_text("Turn on").await;
    assert!(b.text("#form-error").await.contains("not correct"), "wrong code refused");
    assert_eq!(b.attr("#qr", "data-otpauth-uri").await.unwrap(), uri, "same key shown again");

    // The previous step's code, so that the current one is still unused for sign-in.
    b.fill(
        "#code",
        &account
            .otp
            .code_at(twostep_otp::UnixTime::from_secs(now_inside_step().await - 30))
            .unwrap(),
    )
    .await;
    b.click_text("Turn on").await;
    let codes = b
        .js("return [...document.querySelectorAll('#recovery-codes li')].map(l => l.textContent.trim())")
        .await;
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10);
    let href = b.attr("#download", "href").await.unwrap();
    let text = percent_decode(href.strip_prefix("data:text/plain;charset=utf-8,").unwrap());
    assert!(codes.iter().all(|c| text.contains(c.as_str())), "download has every code");
    b.page("recovery-codes", false).await;
    b.click_text("I have saved them").await;
    assert_eq!(b.path().await, "/account");
    assert!(status_text(b).await.contains("Set up by you"));

    // Sign in again: the code prompt for the authenticator app.
    b.click_text("Sign out").await;
    assert_eq!(b.path().await, "/?n=signedout");
    sign_in(b, &base, "alice", "alice-password-1").await;
    assert_eq!(b.path().await, "/signin/code");
    assert!(b.text("#code-help").await.contains("authenticator app"));
    assert!(!b.has("[data-resend-at]").await, "authenticator codes are not sent");
    b.page("code-totp", false).await;
    b.fill("#code", &wrong_code(&account.otp)).await;
    b.click_text("Verify").await;
    assert_eq!(b.text("#form-error").await, "That code is not correct. 4 tries left.");
    b.page("code-wrong", false).await;
    b.fill(
        "#code",
        &account.otp.code_at(twostep_otp::UnixTime::from_secs(now_inside_step().await)).unwrap(),
    )
    .await;
    b.click_text("Verify").await;
    assert_eq!(b.path().await, "/account");

    // And with a recovery code, which then is used up.
    b.click_text("Sign out").await;
    sign_in(b, &base, "alice", "alice-password-1").await;
    b.click_text("Use a recovery code").await;
    b.page("recovery-signin", false).await;
    b.fill("#code", &codes[3]).await;
    b.click_text("Sign in").await;
    assert_eq!(b.path().await, "/account");
    assert!(b.text("#recovery").await.contains("Recovery codes"));
    assert!(
        b.js("return document.body.textContent.includes('9 unused recovery codes left')").await
            == json!(true)
    );
    h.stop().await;
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Email and SMS enrolled on the pages (codes from the SMTP sink and the SMS receiver);
/// the email prompt with its resend cooldown, switching to SMS, and a sign-in completed
/// with the email code from the SMTP sink; then preferred channel and removal.
pub async fn email_code_from_the_smtp_sink_with_resend_and_switch(b: &Browser) {
    let mut h = Harness::start_with(Options { smtp: true, sms: true, ..Options::default() }).await;
    let base = h.url();
    let (email, phone) = ("bob@example.com", "+4915112345678");
    h.create_org("acme", false).await;
    h.create_user("acme", "bob", "bob-password-12").await;
    b.forget_cookies(&base).await;
    sign_in(b, &base, "bob", "bob-password-12").await;

    b.click("a[href='/account/two-step/email']").await;
    b.page("email-enroll", false).await;
    b.fill("#destination", email).await;
    b.click_text("Send code").await;
    assert_eq!(b.path().await, "/account/two-step/email?n=sent");
    assert!(b.text("#code-help").await.contains("b•••@example.com"));
    b.page("email-confirm", false).await;
    b.fill("#code", &next_code(&h, email, 0).await).await;
    b.click_text("Confirm").await;
    assert!(b.has("#recovery-codes").await);
    b.click_text("I have saved them").await;

    b.click("a[href='/account/two-step/sms']").await;
    b.fill("#destination", phone).await;
    b.click_text("Send code").await;
    b.fill("#code", &next_code(&h, phone, 0).await).await;
    b.click_text("Confirm").await;
    assert_eq!(b.path().await, "/account?n=enrolled", "no new recovery codes for a second method");
    let methods = b.text("#methods").await;
    assert!(methods.contains("Email") && methods.contains("Text message"), "{methods}");
    assert!(methods.contains("Preferred"));
    b.page("account-on", true).await;

    // The email prompt: the resend cooldown is shown (and enforced by the server).
    b.click_text("Sign out").await;
    let mails = h.codes_for(email).len();
    sign_in(b, &base, "bob", "bob-password-12").await;
    assert_eq!(b.path().await, "/signin/code");
    assert!(b.text("#code-help").await.contains("by email to b•••@example.com"));
    let _ = next_code(&h, email, mails).await;
    assert!(b.text("[data-countdown]").await.contains("You can request a new code in"));
    assert_eq!(
        b.js("return document.querySelector('[data-resend-at] button').disabled").await,
        json!(true)
    );
    b.page("code-email", true).await;
    b.js("document.querySelector('[data-resend-at] button').disabled = false").await;
    b.click_text("Send a new code").await;
    assert!(b.text("#form-error").await.starts_with("A new code can be sent in"));

    // Switch to SMS and finish with the texted code.
    let texts = h.codes_for(phone).len();
    b.click_text("Send a code by text message").await;
    assert_eq!(b.path().await, "/signin/code?n=switched");
    assert!(b.text("#code-help").await.contains("text message"));
    b.fill("#code", &next_code(&h, phone, texts).await).await;
    b.click_text("Verify").await;
    assert_eq!(b.path().await, "/account");

    // Sign in with the email code from the SMTP sink.
    b.click_text("Sign out").await;
    let mails = h.codes_for(email).len();
    sign_in(b, &base, "bob", "bob-password-12").await;
    let code = next_code(&h, email, mails).await;
    b.fill("#code", &code).await;
    b.click_text("Verify").await;
    assert_eq!(b.path().await, "/account");

    // A phone registered with the mobile app shows up; revoking it here ends it.
    let phone_id = register_phone(&h, "bob", "bob-password-12", email, "Bob Pixel").await;
    b.goto(&format!("{base}/account")).await;
    assert!(b.text("#devices-list").await.contains("Bob Pixel"));
    assert!(device_alive(&h, &phone_id).await);
    b.click_text("Revoke Bob Pixel").await;
    assert_eq!(b.path().await, "/account?n=revoked");
    assert!(b.text("#devices-list").await.contains("Revoked"));
    assert!(!device_alive(&h, &phone_id).await, "the revoked device cannot open a session");

    // The desktop agent registered with a code is listed twice: where bob is signed in, and
    // as a registration. Ending its session signs it out; revoking it ends the registration.
    let (agent_id, agent) =
        register(&h, ClientKind::Agent, "bob", "bob-password-12", email, "Bob laptop").await;
    b.goto(&format!("{base}/account")).await;
    let signed_in = b.text("#sessions-list").await;
    assert!(
        signed_in.contains("Desktop agent") && signed_in.contains("This browser"),
        "{signed_in}"
    );
    assert!(b.text("#devices-list").await.contains("Bob laptop Desktop agent"));
    b.page("account-devices", true).await;
    b.click_text("End session Desktop agent").await;
    assert_eq!(b.path().await, "/account?n=revoked");
    assert!(!b.text("#sessions-list").await.contains("Desktop agent"));
    assert_eq!(h.call("GET", "/v1/me", Some(&agent), None).await.0, 401, "the agent is signed out");
    assert!(device_alive(&h, &agent_id).await, "its registration stays until revoked");
    b.click_text("Revoke Bob laptop").await;
    assert!(!device_alive(&h, &agent_id).await, "the revoked agent cannot open a session");

    // Preferred channel, remove a channel, new recovery codes.
    b.click_text("Make preferred").await;
    assert_eq!(b.path().await, "/account?n=preferred");
    let preferred = b
        .js("return [...document.querySelectorAll('#methods li')].filter(l => l.textContent.includes('Preferred')).map(l => l.textContent.includes('Text message'))")
        .await;
    assert_eq!(preferred, json!([true]), "SMS is the one preferred method");
    b.click_text("Remove Email").await;
    assert!(!b.text("#methods").await.contains("Email"));
    b.click_text("Generate new codes").await;
    assert_eq!(
        b.js("return document.querySelectorAll('#recovery-codes li').length").await,
        json!(10)
    );

    // Change the password: with two-step it takes a fresh code (here a step-up code by
    // SMS); then every session ends and the new password signs in.
    b.goto(&format!("{base}/account")).await;
    b.click_text("Change password").await;
    b.page("password", true).await;
    let texts = h.codes_for(phone).len();
    b.click_text("Send a code by text message").await;
    assert_eq!(b.path().await, "/account/password?n=sent");
    let code = next_code(&h, phone, texts).await;
    b.fill("#current_password", "not-my-password").await;
    b.fill("#new_password", "bob-new-password-3").await;
    b.fill("#repeat_password", "bob-new-password-3").await;
    b.fill("#code", &code).await;
    b.click_text("Change password").await;
    assert_eq!(b.text("#form-error").await, "The username or password is incorrect.");
    b.fill("#current_password", "bob-password-12").await;
    b.fill("#new_password", "bob-new-password-3").await;
    b.fill("#repeat_password", "bob-new-password-3").await;
    b.fill("#code", &code).await;
    b.click_text("Change password").await;
    assert_eq!(b.path().await, "/?n=password");
    b.goto(&format!("{base}/account")).await;
    assert_eq!(b.path().await, "/?n=session", "the old session ended");
    let texts = h.codes_for(phone).len();
    sign_in(b, &base, "bob", "bob-new-password-3").await;
    b.fill("#code", &next_code(&h, phone, texts).await).await;
    b.click_text("Verify").await;
    assert_eq!(b.path().await, "/account");
    h.stop().await;
}

/// Under the org policy a user without two-step lands on the setup page, can reach
/// nothing else (pages or API), and gets a full session once a method is confirmed; the
/// account then explains why two-step cannot be turned off.
pub async fn forced_setup_under_the_org_policy(b: &Browser) {
    let mut h = Harness::start_with(Options { smtp: true, ..Options::default() }).await;
    let base = h.url();
    h.create_org("corp", true).await;
    h.create_user("corp", "carol", "carol-password-1").await;
    b.forget_cookies(&base).await;
    sign_in(b, &base, "carol", "carol-password-1").await;
    assert_eq!(b.path().await, "/setup");
    assert!(b.text("main").await.contains("Your organization requires two-step authentication"));
    assert!(!b.has("a[href='/account']").await, "no way out but setup and sign-out");
    b.page("setup", true).await;

    // The cookie session has the API session's scope: setup only.
    let cookies = b.client.get_all_cookies().await.unwrap();
    let token = cookies.iter().find(|c| c.name() == "twostep_session").unwrap().value().to_owned();
    let (s, v) = h.call("GET", "/v1/me/devices", Some(&token), None).await;
    assert_eq!((s, v["error"]["code"].as_str()), (403, Some("forbidden")));
    b.goto(&format!("{base}/account")).await;
    assert_eq!(b.path().await, "/setup");

    b.click("a[href='/account/two-step/email']").await;
    b.fill("#destination", "carol@example.com").await;
    b.click_text("Send code").await;
    b.fill("#code", &next_code(&h, "carol@example.com", 0).await).await;
    b.click_text("Confirm").await;
    assert!(b.has("#recovery-codes").await);
    b.click_text("I have saved them").await;
    assert_eq!(b.path().await, "/account");
    assert!(status_text(b).await.contains("because your organization requires it"));
    assert!(b.text("#cannot-disable").await.contains("requires two-step authentication"));
    assert!(!b.has("form[action='/account/two-step/disable']").await);
    let (s, _) = h.call("GET", "/v1/me/devices", Some(&token), None).await;
    assert_eq!(s, 200, "the same session is now full");

    // Removing the only method is refused, with the reason.
    b.click_text("Remove Email").await;
    assert!(b.text("#form-error").await.contains("requires two-step"));
    assert!(b.text("#methods").await.contains("Email"));
    b.page("account-forced", false).await;
    h.stop().await;
}

/// The pages go through the API's throttles and audit: after the free failures the sign-in
/// page says how long to wait, and the audit log has the failures as web sign-ins.
pub async fn throttled_sign_in_says_how_long_to_wait(b: &Browser) {
    let mut h = Harness::start().await;
    let base = h.url();
    h.create_org("acme", false).await;
    h.create_user("acme", "mallory", "mallory-password-1").await;
    b.forget_cookies(&base).await;
    for _ in 0..5 {
        sign_in(b, &base, "mallory", "wrong-password").await;
        assert_eq!(b.text("#form-error").await, "The username or password is incorrect.");
    }
    sign_in(b, &base, "mallory", "mallory-password-1").await;
    let e = b.text("#form-error").await;
    assert!(e.starts_with("Too many attempts. Try again in ") && e.contains("second"), "{e}");
    assert_eq!(b.attr("#username", "value").await.as_deref(), Some("mallory"), "username kept");
    b.page("signin-throttled", false).await;
    let (_, page) = h.admin("GET", "/v1/admin/audit?user=mallory&kind=sign_in_failed", None).await;
    let events = page["events"].as_array().unwrap();
    assert_eq!(events.len(), 5);
    assert!(events.iter().all(|e| e["client"] == "web" && e["address"] == "127.0.0.1"));
    h.stop().await;
}
