//! The web pages' forms: arbitrary `application/x-www-form-urlencoded` bodies posted to
//! every form route (and arbitrary query strings to the pages that read one), through the
//! real router (see [`super::world`]) with the cookies a signed-in browser has and a valid
//! CSRF token, so that the form is what decides the answer.
//!
//! Every answer must be a page or a redirect: never a 5xx, never a panic; the security
//! headers (`Content-Security-Policy`, `nosniff`) on every answer, error pages included; a
//! redirect only to a path of this site (no open redirect); no secret from the form in
//! the page.

use axum::body::Body;
use axum::http::Request;

use super::secrets::assert_no_secret;
use super::world::{Answer, CSRF_COOKIE, ORG, World, world};

/// Every form route of `server/src/web/mod.rs` (`POST`), then the pages that read a query
/// (`GET`), in the order the first input byte selects them. A test checks the list
/// against the source.
pub const FORMS: &[(&str, &str)] = &[
    ("POST", "/signin"),
    ("POST", "/signin/code"),
    ("POST", "/signin/resend"),
    ("POST", "/signin/channel"),
    ("POST", "/signin/recovery"),
    ("POST", "/signin/cancel"),
    ("POST", "/signout"),
    ("POST", "/account/two-step/totp"),
    ("POST", "/account/two-step/totp/confirm"),
    ("POST", "/account/two-step/sms"),
    ("POST", "/account/two-step/sms/confirm"),
    ("POST", "/account/two-step/email"),
    ("POST", "/account/two-step/email/confirm"),
    ("POST", "/account/two-step/preferred"),
    ("POST", "/account/two-step/remove"),
    ("POST", "/account/two-step/disable"),
    ("POST", "/account/two-step/recovery-codes"),
    ("POST", "/account/password"),
    ("POST", "/account/password/code"),
    ("POST", "/account/devices/revoke"),
    ("POST", "/account/sessions/revoke"),
    ("POST", "/admin/bootstrap"),
    ("POST", "/admin/signin"),
    ("POST", "/admin/signout"),
    ("POST", "/admin/orgs"),
    ("POST", "/admin/orgs/{org}/policy/preview"),
    ("POST", "/admin/orgs/{org}/policy"),
    ("POST", "/admin/orgs/{org}/remove-forced"),
    ("POST", "/admin/orgs/{org}/users"),
    ("POST", "/admin/users/{username}/reset"),
    ("POST", "/admin/users/{username}/unlock"),
    ("POST", "/admin/users/{username}/revoke"),
    ("GET", "/admin/users"),
    ("GET", "/admin/audit"),
    ("GET", "/"),
    ("GET", "/account"),
    ("GET", "/admin"),
    ("GET", "/account/password"),
];

/// One input: byte 0 picks the route; byte 1's low two bits: 0 or 1 send the form with the
/// CSRF token, 2 without it, 3 as `text/plain`. The rest is the form (or the query).
pub fn web_forms(data: &[u8]) {
    let [selector, flags, form @ ..] = data else { return };
    let (method, path) = FORMS[usize::from(*selector) % FORMS.len()];
    let mut world = world();
    let Some(request) = form_request(&world, method, path, *flags, form) else { return };
    let answer = world.send(request);
    let what = format!("{method} {path} answered {}", answer.status);
    check_page(&what, &answer);
    assert_no_secret(form, &answer.text(), &what, |form| {
        match form_request(&world, method, path, *flags, form) {
            Some(request) => world.send(request).text(),
            None => String::new(),
        }
    });
    // Signed out, a password changed, a user reset: the credentials may be spent.
    if !world.stale && (answer.status == 303 || answer.status >= 400) {
        world.stale = world.credentials_spent();
    }
}

fn check_page(what: &str, answer: &Answer) {
    assert!(answer.status < 500, "{what}: a server error for a form: {}", answer.text());
    assert!(
        answer.header("content-security-policy").is_some_and(|p| p.contains("default-src 'none'")),
        "{what}: no Content-Security-Policy"
    );
    assert_eq!(answer.header("x-content-type-options"), Some("nosniff"), "{what}");
    if (300..400).contains(&answer.status) {
        let location = answer.header("location").unwrap_or_default();
        assert!(
            location.starts_with('/') && !location.starts_with("//") && !location.contains('\\'),
            "{what}: a redirect off the site: {location:?}"
        );
    } else {
        let html = answer.header("content-type").is_some_and(|t| t.starts_with("text/html"));
        assert!(html && !answer.body.is_empty(), "{what}: not a page");
    }
}

/// The fuzzed form: `method path` with a signed-in browser's cookies, sent as `flags` say.
fn form_request(
    world: &World,
    method: &str,
    path: &str,
    flags: u8,
    form: &[u8],
) -> Option<Request<Body>> {
    let path = path.replace("{org}", ORG).replace("{username}", &world.user_with_challenge);
    let cookies = format!(
        "twostep_csrf={CSRF_COOKIE}; twostep_session={}; twostep_operator={}; twostep_signin={}",
        world.session, world.operator, world.challenge
    );
    let request = Request::builder().method(method).header("cookie", cookies);
    if method == "GET" {
        let query: String = String::from_utf8_lossy(form).chars().filter(|c| *c != '#').collect();
        let uri = format!("{path}?{query}").parse::<axum::http::Uri>().ok()?;
        return request.uri(uri).body(Body::empty()).ok();
    }
    let content_type =
        if flags & 3 == 3 { "text/plain" } else { "application/x-www-form-urlencoded" };
    let mut body = form.to_vec();
    if flags & 3 != 2 {
        body.extend_from_slice(format!("&csrf={}", world.csrf_token).as_bytes());
    }
    request.uri(path).header("content-type", content_type).body(Body::from(body)).ok()
}
