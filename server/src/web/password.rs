//! Changing the password: the current password and, with two-step, a fresh code — from the
//! authenticator app, or a step-up code sent to this session by text message or email. The
//! service revokes every session and registration; the browser then signs in again.

use super::cookies::{self, Cookie};
use super::csrf::{self, Csrf, CsrfForm};
use super::messages::{human, notice, status};
use super::page::{Chrome, PageQuery, render, see_other};
use super::session::User;
use super::signin::{ChannelForm, NoticeQuery, channel_name};
use crate::app::App;
use crate::error::ApiError;
use crate::service::sessions::Authed;
use crate::service::signin::Origin;
use crate::service::{stepup, views};
use askama::Template;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    c: Chrome,
    two_step: bool,
    code_label: &'static str,
    code_hint: &'static str,
    senders: Vec<(&'static str, String)>,
}

fn page(app: &App, a: &Authed, csrf: &str, n: Option<String>, e: Option<&ApiError>) -> Response {
    let channels = a.user.two_step.confirmed_channels();
    let totp = channels.contains(&Channel::Totp);
    let senders = channels
        .iter()
        .filter(|c| **c != Channel::Totp)
        .map(|c| {
            let to = views::masked(&a.user, *c).unwrap_or_default();
            (c.as_str(), format!("Send a code by {} to {to}", channel_name(*c)))
        })
        .collect();
    let (code_label, code_hint) = if totp {
        ("Code from your authenticator app", "Or send yourself a code below and enter that one.")
    } else {
        ("Code we sent you", "Send yourself a code below first.")
    };
    let c = Chrome::new(app, csrf, "Change password")
        .user(&a.user.username, false)
        .notice(n)
        .error(e.map(human));
    render(
        e.map(status).unwrap_or(StatusCode::OK),
        &PasswordPage { c, two_step: !channels.is_empty(), code_label, code_hint, senders },
    )
}

/// `GET /account/password`.
pub async fn form(
    State(app): S,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    page(&app, &a, &csrf, notice(q.n.as_deref()), None)
}

/// `POST /account/password/code`: a step-up code by SMS or email.
pub async fn send_code(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<ChannelForm>,
) -> Response {
    let r = match Channel::parse(&f.channel) {
        Some(channel) => stepup::send(&app, &a, &StepUpRequest { channel }, o).await,
        None => Err(ApiError::field("unknown method")),
    };
    match r {
        Ok(_) => see_other("/account/password?n=sent"),
        Err(e) => page(&app, &a, &csrf, None, Some(&e)),
    }
}

/// The password form.
#[derive(Deserialize)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    repeat_password: String,
    code: Option<String>,
}

/// `POST /account/password`.
pub async fn change(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<PasswordForm>,
) -> Response {
    if f.new_password != f.repeat_password {
        let e = ApiError::field("the two new passwords are not the same");
        return page(&app, &a, &csrf, None, Some(&e));
    }
    let req = PasswordChange {
        current_password: f.current_password,
        new_password: f.new_password,
        code: f.code.filter(|c| !c.trim().is_empty()),
    };
    match stepup::change_password(&app, &a, req, o).await {
        Ok(()) => {
            let mut r = see_other("/?n=password");
            r.headers_mut().append(header::SET_COOKIE, cookies::clear(&app, Cookie::Session));
            r.headers_mut().append(header::SET_COOKIE, csrf::rotate(&app));
            r
        }
        Err(e) => {
            let a = super::session::reload(&app, a).await;
            page(&app, &a, &csrf, None, Some(&e))
        }
    }
}
