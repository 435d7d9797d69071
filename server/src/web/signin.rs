//! Sign-in: username and password, then the code prompt (resend with its cooldown, switch
//! to another configured channel, or a recovery code), or the forced setup under the org
//! policy. The pending sign-in's id lives in an `HttpOnly` cookie, never in a URL.

use super::cookies::{self, Cookie};
use super::csrf::{self, Csrf, CsrfForm};
use super::messages::{human, notice, status};
use super::page::{Chrome, PageQuery, render, see_other};
use super::session;
use crate::app::App;
use crate::error::ApiError;
use crate::service::selfservice;
use crate::service::signin::{self as svc, Origin};
use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

/// `?n=notice`.
#[derive(Debug, Deserialize)]
pub struct NoticeQuery {
    pub n: Option<String>,
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    c: Chrome,
    username: String,
}

#[derive(Template)]
#[template(path = "code.html")]
struct CodePage {
    c: Chrome,
    instruction: String,
    code_label: String,
    attempts_left: u32,
    sent: bool,
    resend_at: u64,
    resend_wait: u64,
    now: u64,
    others: Vec<(String, String)>,
    recovery_available: bool,
}

#[derive(Template)]
#[template(path = "recovery.html")]
struct RecoveryPage {
    c: Chrome,
}

/// The name of a channel in a sentence.
pub fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Totp => "authenticator app",
        Channel::Sms => "text message",
        Channel::Email => "email",
    }
}

fn sign_in_page(app: &App, csrf: &str, username: &str, e: Option<&ApiError>) -> Response {
    let c = Chrome::new(app, csrf, "Sign in").error(e.map(human));
    let st = e.map(status).unwrap_or(StatusCode::OK);
    render(st, &SignInPage { c, username: username.to_owned() })
}

/// `GET /`: the sign-in form (or the account, when already signed in).
pub async fn start(
    State(app): S,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    if let Some(a) = session::current(&app, &headers).await {
        return see_other(if a.session.scope == SessionScope::Full {
            "/account"
        } else {
            "/setup"
        });
    }
    let c = Chrome::new(&app, &csrf, "Sign in").notice(notice(q.n.as_deref()));
    render(StatusCode::OK, &SignInPage { c, username: String::new() })
}

/// Sets the session cookie (and a new CSRF value), forgets the pending sign-in, goes on.
fn signed_in(app: &App, grant: &SessionGrant, now: u64, to: &str) -> Response {
    let mut r = see_other(to);
    let h = r.headers_mut();
    let ttl = grant.expires_at.saturating_sub(now);
    h.append(header::SET_COOKIE, cookies::set(app, Cookie::Session, &grant.token, ttl));
    h.append(header::SET_COOKIE, cookies::clear(app, Cookie::SignIn));
    h.append(header::SET_COOKIE, csrf::rotate(app));
    r
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    username: String,
    password: String,
}

/// `POST /signin`.
pub async fn password(
    State(app): S,
    o: Origin,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Response {
    let req = SignInRequest {
        username: f.username.clone(),
        password: f.password,
        client: ClientKind::Web,
        device: None,
    };
    match svc::sign_in(&app, req, o).await {
        Ok(SignInResponse::Session(g)) => signed_in(&app, &g, o.now, "/account"),
        Ok(SignInResponse::SetupRequired(SetupRequired { session: Some(g), .. })) => {
            signed_in(&app, &g, o.now, "/setup")
        }
        Ok(SignInResponse::SetupRequired(s)) => sign_in_page(
            &app,
            &csrf,
            &f.username,
            Some(&ApiError::new(ErrorCode::SetupRequired, s.message)),
        ),
        Ok(SignInResponse::CodeRequired(ch)) => {
            let mut r = see_other("/signin/code");
            r.headers_mut().append(
                header::SET_COOKIE,
                cookies::set(&app, Cookie::SignIn, &ch.challenge_id, CHALLENGE_TTL_SECS),
            );
            r
        }
        Err(e) => sign_in_page(&app, &csrf, &f.username, Some(&e)),
    }
}

/// The sign-in is over (expired, too many wrong codes): back to the start, with why.
fn restart(app: &App, csrf: &str, e: Option<&ApiError>) -> Response {
    let mut r = match e {
        Some(e) => sign_in_page(app, csrf, "", Some(e)),
        None => see_other("/?n=expired"),
    };
    r.headers_mut().append(header::SET_COOKIE, cookies::clear(app, Cookie::SignIn));
    r
}

async fn code_page(
    app: &App,
    csrf: &str,
    id: &str,
    o: &Origin,
    msg: (Option<String>, Option<&ApiError>),
) -> Response {
    let ch = match svc::challenge(app, id, o.now).await {
        Ok(ch) => ch,
        Err(_) => return restart(app, csrf, None),
    };
    let (instruction, code_label) = match (ch.channel, &ch.masked_destination) {
        (Channel::Totp, _) => (
            "Open your authenticator app and enter the 6-digit code it shows for this account."
                .to_owned(),
            "Code from your authenticator app".to_owned(),
        ),
        (Channel::Sms, Some(d)) => (
            format!("We sent a 6-digit code by text message to {d}."),
            "Code from the text message".into(),
        ),
        (_, d) => (
            format!("We sent a 6-digit code by email to {}.", d.as_deref().unwrap_or("you")),
            "Code from the email".into(),
        ),
    };
    let others = ch
        .other_channels
        .iter()
        .map(|o| {
            let label = match &o.masked_destination {
                Some(d) => format!("Send a code by {} to {d}", channel_name(o.channel)),
                None => format!("Use your {} instead", channel_name(o.channel)),
            };
            (o.channel.as_str().to_owned(), label)
        })
        .collect();
    let resend_at = ch.resend_after.unwrap_or(0);
    let (notice, err) = msg;
    let c = Chrome::new(app, csrf, "Enter your code").notice(notice).error(err.map(human));
    render(
        err.map(status).unwrap_or(StatusCode::OK),
        &CodePage {
            c,
            instruction,
            code_label,
            attempts_left: ch.attempts_left,
            sent: ch.channel != Channel::Totp,
            resend_at,
            resend_wait: resend_at.saturating_sub(o.now),
            now: o.now,
            others,
            recovery_available: ch.recovery_available,
        },
    )
}

fn pending_id(app: &App, headers: &HeaderMap) -> Option<String> {
    cookies::get(app, headers, Cookie::SignIn)
}

/// `GET /signin/code`.
pub async fn code_get(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    match pending_id(&app, &headers) {
        Some(id) => code_page(&app, &csrf, &id, &o, (notice(q.n.as_deref()), None)).await,
        None => see_other("/?n=expired"),
    }
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

/// A code form.
#[derive(Deserialize)]
pub struct CodeForm {
    pub code: String,
}

/// The end of a code or recovery-code step: signed in, back to the start, or the error
/// for the same page again.
fn finish(
    app: &App,
    csrf: &str,
    o: &Origin,
    r: Result<SignInResponse, ApiError>,
) -> Result<Response, ApiError> {
    match r {
        Ok(SignInResponse::Session(g)) => Ok(signed_in(app, &g, o.now, "/account")),
        Ok(_) => Ok(restart(app, csrf, None)),
        Err(e) if e.code == ErrorCode::ChallengeExpired => Ok(restart(app, csrf, Some(&e))),
        Err(e) => Err(e),
    }
}

/// `POST /signin/code`.
pub async fn submit_code(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    let Some(id) = pending_id(&app, &headers) else { return see_other("/?n=expired") };
    let r = svc::submit_code(&app, &id, CodeSubmission { code: f.code }, o).await;
    match finish(&app, &csrf, &o, r) {
        Ok(page) => page,
        Err(e) => code_page(&app, &csrf, &id, &o, (None, Some(&e))).await,
    }
}

/// `POST /signin/resend`.
pub async fn resend(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let Some(id) = pending_id(&app, &headers) else { return see_other("/?n=expired") };
    match svc::resend(&app, &id, None, o).await {
        Ok(_) => see_other("/signin/code?n=sent"),
        Err(e) if e.code == ErrorCode::ChallengeExpired => restart(&app, &csrf, Some(&e)),
        Err(e) => code_page(&app, &csrf, &id, &o, (None, Some(&e))).await,
    }
}

/// The channel-switch form.
#[derive(Deserialize)]
pub struct ChannelForm {
    pub channel: String,
}

/// `POST /signin/channel`.
pub async fn switch_channel(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<ChannelForm>,
) -> Response {
    let Some(id) = pending_id(&app, &headers) else { return see_other("/?n=expired") };
    let Some(channel) = Channel::parse(&f.channel) else {
        let e = ApiError::field("unknown method");
        return code_page(&app, &csrf, &id, &o, (None, Some(&e))).await;
    };
    match svc::resend(&app, &id, Some(channel), o).await {
        Ok(_) => see_other("/signin/code?n=switched"),
        Err(e) if e.code == ErrorCode::ChallengeExpired => restart(&app, &csrf, Some(&e)),
        Err(e) => code_page(&app, &csrf, &id, &o, (None, Some(&e))).await,
    }
}

fn recovery_retry(app: &App, csrf: &str, e: &ApiError) -> Response {
    let c = Chrome::new(app, csrf, "Use a recovery code").error(Some(human(e)));
    render(status(e), &RecoveryPage { c })
}

/// `GET /signin/recovery`.
pub async fn recovery_page(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
) -> Response {
    let open = match pending_id(&app, &headers) {
        Some(id) => svc::challenge(&app, &id, o.now).await.is_ok(),
        None => false,
    };
    match open {
        true => render(
            StatusCode::OK,
            &RecoveryPage { c: Chrome::new(&app, &csrf, "Use a recovery code") },
        ),
        false => restart(&app, &csrf, None),
    }
}

/// `POST /signin/recovery`.
pub async fn recovery(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    let Some(id) = pending_id(&app, &headers) else { return see_other("/?n=expired") };
    let r = svc::use_recovery(&app, &id, CodeSubmission { code: f.code }, o).await;
    finish(&app, &csrf, &o, r).unwrap_or_else(|e| recovery_retry(&app, &csrf, &e))
}

/// `POST /signin/cancel`.
pub async fn cancel(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Some(id) = pending_id(&app, &headers) {
        // Already gone is as good as cancelled.
        let _ = svc::cancel(&app, &id, o).await;
    }
    let mut r = see_other("/");
    r.headers_mut().append(header::SET_COOKIE, cookies::clear(&app, Cookie::SignIn));
    r
}

/// `POST /signout`.
pub async fn sign_out(
    State(app): S,
    o: Origin,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Some(a) = session::current(&app, &headers).await
        && let Err(e) = selfservice::sign_out(&app, &a, o).await
    {
        tracing::warn!(error = %e.message, "web sign-out");
    }
    let mut r = see_other("/?n=signedout");
    r.headers_mut().append(header::SET_COOKIE, cookies::clear(&app, Cookie::Session));
    r.headers_mut().append(header::SET_COOKIE, csrf::rotate(&app));
    r
}
