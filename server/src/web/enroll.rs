//! Setting up a method: the forced setup page under the org policy, the authenticator app
//! (QR code and the key for manual entry), text message and email (confirm with the sent
//! code), and the recovery codes shown once after the first method. These pages accept a
//! setup-only session; the services decide what it may do.

use super::csrf::{Csrf, CsrfForm};
use super::messages::{human, notice, status};
use super::page::{Chrome, PageQuery, render, see_other};
use super::session::AnyUser;
use super::signin::{CodeForm, Empty, NoticeQuery};
use crate::app::App;
use crate::error::ApiError;
use crate::service::selfservice;
use crate::service::sessions::Authed;
use crate::service::signin::Origin;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    c: Chrome,
}

struct TotpView {
    uri: String,
    qr_svg: String,
    secret_grouped: String,
}

#[derive(Template)]
#[template(path = "totp.html")]
struct TotpPage {
    c: Chrome,
    enrollment: Option<TotpView>,
    configured: bool,
    account: String,
    back: &'static str,
}

#[derive(Template)]
#[template(path = "sent.html")]
struct SentPage {
    c: Chrome,
    heading: &'static str,
    intro: &'static str,
    what: &'static str,
    message: &'static str,
    base: &'static str,
    field_label: &'static str,
    field_hint: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    input_mode: &'static str,
    pending: Option<String>,
    confirmed: Option<String>,
    value: String,
    resend_at: u64,
    resend_wait: u64,
    now: u64,
    back: &'static str,
}

/// The recovery codes, shown once.
#[derive(Template)]
#[template(path = "recovery_codes.html")]
pub struct RecoveryCodesPage {
    c: Chrome,
    codes: Vec<String>,
    filename: String,
    download_href: String,
}

fn chrome(app: &App, a: &Authed, csrf: &str, title: &str) -> Chrome {
    Chrome::new(app, csrf, title).user(&a.user.username, a.session.scope == SessionScope::SetupOnly)
}

fn back(a: &Authed) -> &'static str {
    if a.session.scope == SessionScope::SetupOnly { "/setup" } else { "/account" }
}

/// Renders freshly issued recovery codes, with a download that needs no second request
/// (a `data:` link: the codes never travel in a URL to the server).
pub fn recovery_codes_page(app: &App, a: &Authed, csrf: &str, codes: Vec<String>) -> Response {
    let mut text = format!(
        "{} recovery codes for {}\nEach code works once. Keep them somewhere safe.\n\n",
        app.config.issuer, a.user.username
    );
    for c in &codes {
        text.push_str(c);
        text.push('\n');
    }
    let mut href = String::from("data:text/plain;charset=utf-8,");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            href.push(b as char);
        } else {
            href.push_str(&format!("%{b:02X}"));
        }
    }
    let c = Chrome::new(app, csrf, "Recovery codes").user(&a.user.username, false);
    render(
        StatusCode::OK,
        &RecoveryCodesPage {
            c,
            codes,
            filename: format!("{}-recovery-codes.txt", a.user.username),
            download_href: href,
        },
    )
}

/// After a method is confirmed: the recovery codes if this was the first, else Account.
fn enrolled(app: &App, a: &Authed, csrf: &str, r: EnrollmentResult) -> Response {
    match r.recovery_codes {
        Some(codes) => recovery_codes_page(app, a, csrf, codes),
        None => see_other("/account?n=enrolled"),
    }
}

/// `GET /setup`: what the org policy asks, and the methods to choose from.
pub async fn setup(State(app): S, AnyUser { authed: a }: AnyUser, Csrf(csrf): Csrf) -> Response {
    if a.session.scope == SessionScope::Full {
        return see_other("/account");
    }
    render(
        StatusCode::OK,
        &SetupPage { c: chrome(&app, &a, &csrf, "Set up two-step authentication") },
    )
}

fn totp_page(
    app: &App,
    a: &Authed,
    csrf: &str,
    e: Option<&ApiError>,
    n: Option<String>,
) -> Response {
    let enrollment = match selfservice::pending_totp(app, a) {
        Ok(v) => v.map(|t| TotpView {
            secret_grouped: t
                .secret
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>()
                .join(" "),
            uri: t.otpauth_uri,
            qr_svg: t.qr_svg,
        }),
        Err(e) => {
            return render(
                status(&e),
                &TotpPage {
                    c: chrome(app, a, csrf, "Authenticator app").error(Some(human(&e))),
                    enrollment: None,
                    configured: false,
                    account: a.user.username.clone(),
                    back: back(a),
                },
            );
        }
    };
    let configured = a.user.two_step.confirmed_channels().contains(&Channel::Totp);
    let c = chrome(app, a, csrf, "Authenticator app").notice(n).error(e.map(human));
    render(
        e.map(status).unwrap_or(StatusCode::OK),
        &TotpPage { c, enrollment, configured, account: a.user.username.clone(), back: back(a) },
    )
}

/// `GET /account/two-step/totp`.
pub async fn totp_page_get(
    State(app): S,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
) -> Response {
    totp_page(&app, &a, &csrf, None, None)
}

/// `POST /account/two-step/totp`: a new key (replaces a pending one).
pub async fn totp_start(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    match selfservice::enroll_totp(&app, &a, o).await {
        Ok(_) => see_other("/account/two-step/totp"),
        Err(e) => totp_page(&app, &a, &csrf, Some(&e), None),
    }
}

/// `POST /account/two-step/totp/confirm`.
pub async fn totp_confirm(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    match selfservice::confirm_totp(&app, &a, CodeSubmission { code: f.code }, o).await {
        Ok(r) => enrolled(&app, &a, &csrf, r),
        Err(e) => {
            // The user record changed only if the code was right; reload for the page.
            let a = crate::web::session::reload(&app, a).await;
            totp_page(&app, &a, &csrf, Some(&e), None)
        }
    }
}

struct SentText {
    heading: &'static str,
    intro: &'static str,
    what: &'static str,
    message: &'static str,
    base: &'static str,
    field_label: &'static str,
    field_hint: &'static str,
    input_type: &'static str,
    autocomplete: &'static str,
    input_mode: &'static str,
}

fn sent_text(channel: Channel) -> SentText {
    match channel {
        Channel::Sms => SentText {
            heading: "Text message (SMS)",
            intro: "We text a 6-digit code to your phone each time you sign in. Enter your \
                    mobile number; we send a code to confirm it.",
            what: "phone number",
            message: "text message",
            base: "/account/two-step/sms",
            field_label: "Mobile phone number",
            field_hint: "In international format, starting with + and the country code, \
                         e.g. +4915112345678.",
            input_type: "tel",
            autocomplete: "tel",
            input_mode: "tel",
        },
        _ => SentText {
            heading: "Email",
            intro: "We email a 6-digit code to you each time you sign in. Enter your email \
                    address; we send a code to confirm it.",
            what: "email address",
            message: "email",
            base: "/account/two-step/email",
            field_label: "Email address",
            field_hint: "Where the codes should go.",
            input_type: "email",
            autocomplete: "email",
            input_mode: "email",
        },
    }
}

fn sent_page(
    app: &App,
    a: &Authed,
    csrf: &str,
    channel: Channel,
    now: u64,
    value: &str,
    (n, e): (Option<String>, Option<&ApiError>),
) -> Response {
    let t = sent_text(channel);
    let pending = selfservice::pending_sent(a, channel);
    let confirmed = a
        .user
        .two_step
        .confirmed_channels()
        .contains(&channel)
        .then(|| crate::service::views::masked(&a.user, channel))
        .flatten();
    let resend_at = pending.as_ref().map(|p| p.resend_after).unwrap_or(0);
    let c = chrome(app, a, csrf, t.heading).notice(n).error(e.map(human));
    render(
        e.map(status).unwrap_or(StatusCode::OK),
        &SentPage {
            c,
            heading: t.heading,
            intro: t.intro,
            what: t.what,
            message: t.message,
            base: t.base,
            field_label: t.field_label,
            field_hint: t.field_hint,
            input_type: t.input_type,
            autocomplete: t.autocomplete,
            input_mode: t.input_mode,
            pending: pending.map(|p| p.masked_destination),
            confirmed,
            value: value.to_owned(),
            resend_at,
            resend_wait: resend_at.saturating_sub(now),
            now,
            back: back(a),
        },
    )
}

/// The destination form.
#[derive(Deserialize)]
pub struct DestinationForm {
    destination: String,
}

async fn start_sent(
    app: &App,
    a: Authed,
    csrf: &str,
    channel: Channel,
    o: Origin,
    dest: &str,
) -> Response {
    match selfservice::enroll_sent(app, &a, channel, dest, o).await {
        Ok(_) => see_other(&format!("{}?n=sent", sent_text(channel).base)),
        Err(e) => sent_page(app, &a, csrf, channel, o.now, dest, (None, Some(&e))),
    }
}

async fn confirm_sent(
    app: &App,
    a: Authed,
    csrf: &str,
    channel: Channel,
    o: Origin,
    code: String,
) -> Response {
    match selfservice::confirm_sent(app, &a, channel, CodeSubmission { code }, o).await {
        Ok(r) => enrolled(app, &a, csrf, r),
        Err(e) => {
            let a = crate::web::session::reload(app, a).await;
            sent_page(app, &a, csrf, channel, o.now, "", (None, Some(&e)))
        }
    }
}

/// `GET /account/two-step/sms`.
pub async fn sms_page(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    sent_page(&app, &a, &csrf, Channel::Sms, o.now, "", (notice(q.n.as_deref()), None))
}

/// `POST /account/two-step/sms`.
pub async fn sms_start(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<DestinationForm>,
) -> Response {
    start_sent(&app, a, &csrf, Channel::Sms, o, &f.destination).await
}

/// `POST /account/two-step/sms/confirm`.
pub async fn sms_confirm(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    confirm_sent(&app, a, &csrf, Channel::Sms, o, f.code).await
}

/// `GET /account/two-step/email`.
pub async fn email_page(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    sent_page(&app, &a, &csrf, Channel::Email, o.now, "", (notice(q.n.as_deref()), None))
}

/// `POST /account/two-step/email`.
pub async fn email_start(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<DestinationForm>,
) -> Response {
    start_sent(&app, a, &csrf, Channel::Email, o, &f.destination).await
}

/// `POST /account/two-step/email/confirm`.
pub async fn email_confirm(
    State(app): S,
    o: Origin,
    AnyUser { authed: a }: AnyUser,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Response {
    confirm_sent(&app, a, &csrf, Channel::Email, o, f.code).await
}
