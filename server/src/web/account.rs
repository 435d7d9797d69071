//! Account Settings → Two-Step Authentication: status, methods (preferred, remove, add),
//! recovery codes (regenerate, shown once), turning it off where the org allows it, and the
//! registered devices with revoke.

use super::csrf::{Csrf, CsrfForm};
use super::enroll::recovery_codes_page;
use super::messages::{human, notice, status};
use super::page::{Chrome, PageQuery, render, see_other, utc};
use super::session::User;
use super::signin::{ChannelForm, Empty, NoticeQuery};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::service::sessions::Authed;
use crate::service::signin::Origin;
use crate::service::{selfservice, signed_in};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

struct ChannelRow {
    key: &'static str,
    label: &'static str,
    destination: Option<String>,
    confirmed: bool,
    preferred: bool,
}

struct DeviceRow {
    id: String,
    name: String,
    kind: &'static str,
    registered: String,
    last_seen: String,
    revoked: bool,
}

struct SessionRow {
    id: String,
    kind: &'static str,
    since: String,
    current: bool,
}

/// What a client kind is called on the page.
pub fn client_label(c: ClientKind) -> &'static str {
    match c {
        ClientKind::Web => "Web browser",
        ClientKind::Agent => "Desktop agent",
        ClientKind::Outlook => "Outlook add-in",
        ClientKind::Mobile => "Mobile app",
    }
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    c: Chrome,
    username: String,
    org: String,
    enabled: bool,
    forced: bool,
    required: bool,
    channels: Vec<ChannelRow>,
    missing: Vec<(&'static str, &'static str)>,
    recovery_left: u32,
    devices: Vec<DeviceRow>,
    sessions: Vec<SessionRow>,
}

/// A channel's label on the settings page.
pub fn channel_label(c: Channel) -> &'static str {
    match c {
        Channel::Totp => "Authenticator app",
        Channel::Sms => "Text message (SMS)",
        Channel::Email => "Email",
    }
}

async fn overview_page(
    app: &App,
    a: &Authed,
    csrf: &str,
    n: Option<String>,
    e: Option<&ApiError>,
) -> Response {
    let me = selfservice::me(app, a).await;
    let t = me.two_step;
    let channels: Vec<ChannelRow> = t
        .channels
        .iter()
        .map(|s| ChannelRow {
            key: s.channel.as_str(),
            label: channel_label(s.channel),
            destination: s.masked_destination.clone(),
            confirmed: s.confirmed,
            preferred: s.confirmed && t.preferred == Some(s.channel),
        })
        .collect();
    let missing = Channel::ALL
        .into_iter()
        .filter(|c| !t.channels.iter().any(|s| s.channel == *c))
        .map(|c| (c.as_str(), channel_label(c)))
        .collect();
    let devices = match selfservice::list_devices(app, a).await {
        Ok(l) => l
            .devices
            .into_iter()
            .map(|d| DeviceRow {
                id: d.id,
                name: d.name,
                kind: client_label(d.client),
                registered: utc(d.registered_at * 1000),
                last_seen: utc(d.last_seen_at * 1000),
                revoked: d.revoked,
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let sessions = match signed_in::list(app, a, crate::clock::now()).await {
        Ok(l) => l
            .sessions
            .into_iter()
            .map(|s| SessionRow {
                id: s.id,
                kind: client_label(s.client),
                since: utc(s.created_at * 1000),
                current: s.current,
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    let c = Chrome::new(app, csrf, "Account Settings")
        .user(&a.user.username, false)
        .notice(n)
        .error(e.map(human));
    render(
        e.map(status).unwrap_or(StatusCode::OK),
        &AccountPage {
            c,
            username: a.user.username.clone(),
            org: a.user.org.clone(),
            enabled: t.enabled,
            forced: t.origin == Some(TwoStepOrigin::Forced),
            required: t.required_by_org,
            channels,
            missing,
            recovery_left: t.recovery_codes_left,
            devices,
            sessions,
        },
    )
}

/// `GET /account`.
pub async fn overview(
    State(app): S,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    overview_page(&app, &a, &csrf, notice(q.n.as_deref()), None).await
}

/// Redirects with a notice, or shows the page again with the error.
async fn done<T>(app: &App, a: Authed, csrf: &str, r: ApiResult<T>, n: &str) -> Response {
    match r {
        Ok(_) => see_other(&format!("/account?n={n}")),
        Err(e) => {
            let a = super::session::reload(app, a).await;
            overview_page(app, &a, csrf, None, Some(&e)).await
        }
    }
}

fn channel(f: &ChannelForm) -> ApiResult<Channel> {
    Channel::parse(&f.channel).ok_or_else(|| ApiError::field("unknown method"))
}

/// `POST /account/two-step/preferred`.
pub async fn preferred(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<ChannelForm>,
) -> Response {
    let r = match channel(&f) {
        Ok(c) => selfservice::set_preferred(&app, &a, c, o).await,
        Err(e) => Err(e),
    };
    done(&app, a, &csrf, r, "preferred").await
}

/// `POST /account/two-step/remove`.
pub async fn remove(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<ChannelForm>,
) -> Response {
    let r = match channel(&f) {
        Ok(c) => selfservice::remove_channel(&app, &a, c, o).await,
        Err(e) => Err(e),
    };
    done(&app, a, &csrf, r, "removed").await
}

/// `POST /account/two-step/disable`.
pub async fn disable(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let r = selfservice::disable(&app, &a, o).await;
    done(&app, a, &csrf, r, "disabled").await
}

/// `POST /account/two-step/recovery-codes`: new codes, shown once.
pub async fn regenerate(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    match selfservice::regenerate_recovery(&app, &a, o).await {
        Ok(r) => recovery_codes_page(&app, &a, &csrf, r.codes),
        Err(e) => overview_page(&app, &a, &csrf, None, Some(&e)).await,
    }
}

/// The device form.
#[derive(Deserialize)]
pub struct DeviceForm {
    device: String,
}

/// `POST /account/devices/revoke`.
pub async fn revoke_device(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<DeviceForm>,
) -> Response {
    let r = selfservice::revoke_device(&app, &a, &f.device, o).await;
    done(&app, a, &csrf, r, "revoked").await
}

/// The session form.
#[derive(Deserialize)]
pub struct SessionForm {
    session: String,
}

/// `POST /account/sessions/revoke`.
pub async fn revoke_session(
    State(app): S,
    o: Origin,
    User { authed: a }: User,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<SessionForm>,
) -> Response {
    let r = signed_in::revoke(&app, &a, &f.session, o).await;
    done(&app, a, &csrf, r, "revoked").await
}
