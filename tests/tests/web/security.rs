//! Browser security: CSRF tokens, headers, cookie attributes.

use crate::browser::Browser;
use crate::signin::{next_code, sign_in};
use serde_json::json;
use twostep_e2e::{Harness, Options};

/// A form post without this site's token is refused with a page saying so, and changes
/// nothing: once with the token removed from the page, once from another origin.
pub async fn form_without_csrf_token_is_refused(b: &Browser) {
    let mut h = Harness::start().await;
    let base = h.url();
    h.create_org("acme", false).await;
    h.create_user("acme", "ivan", "ivan-password-1").await;
    h.enroll_email("ivan", "ivan-password-1", "ivan@example.com").await;
    b.forget_cookies(&base).await;
    let seen = h.codes_for("ivan@example.com").len();
    sign_in(b, &base, "ivan", "ivan-password-1").await;
    b.fill("#code", &next_code(&h, "ivan@example.com", seen).await).await;
    b.click_text("Verify").await;
    assert_eq!(b.path().await, "/account");

    // The page's own form, its token removed.
    b.js("document.querySelector('form[action=\"/account/two-step/disable\"] input[name=csrf]').remove()").await;
    b.click_text("Turn off two-step authentication").await;
    assert_eq!(b.text("h1").await, "This form could not be accepted");
    assert!(b.text("main").await.contains("Nothing was changed"));
    b.page("csrf-refused", false).await;
    assert_eq!(h.user_view("ivan").await["two_step"]["enabled"], json!(true));

    // Another origin's page posting to this site (the browser sends the cookies: a
    // different port is the same site for SameSite).
    let evil = evil_site(&base).await;
    b.goto(&format!("http://{evil}/")).await;
    b.click("button").await;
    assert_eq!(b.text("h1").await, "This form could not be accepted");
    assert_eq!(h.user_view("ivan").await["two_step"]["enabled"], json!(true));

    // With the token, the same form works.
    b.goto(&format!("{base}/account")).await;
    b.click_text("Turn off two-step authentication").await;
    assert_eq!(b.path().await, "/account?n=disabled");
    assert_eq!(h.user_view("ivan").await["two_step"]["enabled"], json!(false));
    h.stop().await;
}

/// Every `Set-Cookie` of an answer.
fn set_cookies(r: &reqwest::Response) -> Vec<String> {
    r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

/// The cookie whose header starts with `prefix`, checked to be `HttpOnly`, `SameSite=Strict`
/// and `Secure` exactly when the site is behind HTTPS.
fn hardened_cookie<'a>(set: &'a [String], prefix: &str, secure: bool) -> &'a String {
    let cookie = set.iter().find(|c| c.starts_with(prefix)).expect(prefix);
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    assert_eq!(cookie.contains("; Secure"), secure, "{cookie}");
    cookie
}

async fn evil_site(base: &str) -> std::net::SocketAddr {
    let html = format!(
        "<!doctype html><title>prize</title><form method=post action=\"{base}/account/two-step/disable\">\
         <input type=hidden name=csrf value=guessed><button>Claim your prize</button></form>"
    );
    let app = axum::Router::new()
        .route("/", axum::routing::get(move || async move { axum::response::Html(html) }));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    addr
}

fn behind_https(c: &mut twostep_server::Config) {
    c.secure_cookies = true;
}

/// Headers on every page, cookie attributes (plain and behind HTTPS), nothing secret in
/// a URL.
pub async fn headers_and_cookies(b: &Browser) {
    let _ = b;
    for secure in [false, true] {
        let mut h = Harness::start_with(Options {
            configure: secure.then_some(behind_https),
            ..Options::default()
        })
        .await;
        let base = h.url();
        h.create_org("acme", false).await;
        h.create_user("acme", "judy", "judy-password-1").await;
        h.enroll_email("judy", "judy-password-1", "judy@example.com").await;
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = http.get(format!("{base}/")).send().await.unwrap();
        let hd = r.headers();
        let csp = hd["content-security-policy"].to_str().unwrap();
        for part in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(part), "{csp}");
        }
        assert!(!csp.contains("unsafe-inline"));
        assert_eq!(hd["x-frame-options"], "DENY");
        assert_eq!(hd["x-content-type-options"], "nosniff");
        assert_eq!(hd["referrer-policy"], "no-referrer");
        assert_eq!(hd["cache-control"], "no-store");
        let set = hd["set-cookie"].to_str().unwrap().to_owned();
        let prefix = if secure { "__Host-" } else { "" };
        assert!(set.starts_with(&format!("{prefix}twostep_csrf=")), "{set}");
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/")
        );
        assert_eq!(set.contains("; Secure"), secure, "{set}");
        let csrf_cookie = set.split(';').next().unwrap().to_owned();
        // Unknown page addresses get a page, unknown API routes keep their JSON error.
        let missing = http.get(format!("{base}/account/nope")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let csp = missing.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("frame-ancestors"));
        assert!(missing.text().await.unwrap().contains("Page not found"));
        let (s, v) = h.call("GET", "/v1/nope", None, None).await;
        assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
        let page = r.text().await.unwrap();
        let token = page
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_owned();

        // Password step: the pending sign-in lives in a cookie; the redirect names no secret.
        let r = http
            .post(format!("{base}/signin"))
            .header("cookie", &csrf_cookie)
            .form(&[
                ("csrf", token.as_str()),
                ("username", "judy"),
                ("password", "judy-password-1"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/signin/code");
        let set = set_cookies(&r);
        let signin = hardened_cookie(&set, &format!("{prefix}twostep_signin="), secure);
        let pending = signin.split(';').next().unwrap().to_owned();
        let code = h.latest_code_for("judy@example.com").unwrap();
        let r = http
            .post(format!("{base}/signin/code"))
            .header("cookie", format!("{csrf_cookie}; {pending}"))
            .form(&[("csrf", token.as_str()), ("code", code.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "/account");
        let set = set_cookies(&r);
        let session = hardened_cookie(&set, &format!("{prefix}twostep_session="), secure);
        assert!(
            set.iter().any(|c| c.starts_with(&format!("{prefix}twostep_csrf="))
                && !c.starts_with(&csrf_cookie)),
            "CSRF value rotated at sign-in"
        );
        // The cookie is the API's session: the same token works as a bearer token.
        let token_value = session.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
        let (s, me) = h.call("GET", "/v1/me", Some(&token_value), None).await;
        assert_eq!((s, me["user"]["username"].as_str()), (200, Some("judy")));
        // A post without a token, with the cookies, is refused.
        let r = http
            .post(format!("{base}/account/two-step/disable"))
            .header("cookie", format!("{csrf_cookie}; {}", session.split(';').next().unwrap()))
            .form(&[("x", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("This form could not be accepted"));
        h.stop().await;
    }
}
