//! The console's users: search by name and organization, each user's two-step state
//! (forced by the policy or chosen), reset, unlock and device revocation.

use super::admin::{actor, enc};
use super::csrf::{Csrf, CsrfForm};
use super::messages::{human, notice, status};
use super::page::{Chrome, PageQuery, error_page, render, see_other, utc};
use super::session::Operator;
use super::signin::{Empty, NoticeQuery};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::service::admin as svc;
use crate::service::directory::{self, UserQuery};
use crate::service::signin::Origin;
use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

/// Users per page.
const PAGE: usize = 50;

struct UserRow {
    username: String,
    org: String,
    state: &'static str,
    channels: String,
    locked: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    q: String,
    org: String,
    orgs: Vec<String>,
    users: Vec<UserRow>,
    first: bool,
    first_href: String,
    next_href: Option<String>,
}

struct DeviceRow {
    id: String,
    name: String,
    kind: &'static str,
    registered: String,
    last_seen: String,
    revoked: bool,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
struct UserPage {
    c: Chrome,
    username: String,
    org: String,
    state: &'static str,
    required: bool,
    methods: String,
    recovery_left: u32,
    locked: bool,
    failures: u32,
    devices: Vec<DeviceRow>,
}

/// `forced`, `chosen` or `off`.
fn state(enabled: bool, origin: Option<TwoStepOrigin>) -> &'static str {
    match (enabled, origin) {
        (false, _) => "off",
        (true, Some(TwoStepOrigin::Forced)) => "forced",
        (true, _) => "chosen",
    }
}

fn channel_list(cs: impl Iterator<Item = Channel>) -> String {
    cs.map(super::account::channel_label).collect::<Vec<_>>().join(", ")
}

/// `GET /admin/users` query.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    q: Option<String>,
    org: Option<String>,
    after: Option<String>,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// `GET /admin/users`.
pub async fn list(
    State(app): S,
    op: Operator,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<ListQuery>,
) -> Response {
    let text = non_empty(&q.q);
    let org = non_empty(&q.org);
    let query =
        UserQuery { text: text.clone(), org: org.clone(), after: non_empty(&q.after), limit: PAGE };
    let c = Chrome::new(&app, &csrf, "Users").operator(&op.name, "users");
    let orgs = directory::list_orgs(&app)
        .await
        .map(|l| l.orgs.into_iter().map(|o| o.name).collect())
        .unwrap_or_default();
    let href = |after: Option<&str>| {
        let mut h = format!(
            "/admin/users?q={}&org={}",
            enc(text.as_deref().unwrap_or("")),
            enc(org.as_deref().unwrap_or(""))
        );
        if let Some(a) = after {
            h.push_str(&format!("&after={}", enc(a)));
        }
        h
    };
    let (users, next, err) = match directory::list_users(&app, &query).await {
        Ok(l) => (l.users, l.next_after, None),
        Err(e) => (vec![], None, Some(e)),
    };
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            state: state(u.two_step_enabled, u.origin),
            channels: channel_list(u.channels.into_iter()),
            username: u.user.username,
            org: u.user.org,
            locked: u.locked,
        })
        .collect();
    render(
        err.as_ref().map(status).unwrap_or(StatusCode::OK),
        &UsersPage {
            c: c.error(err.as_ref().map(human)),
            q: text.clone().unwrap_or_default(),
            org: org.clone().unwrap_or_default(),
            orgs,
            users: rows,
            first: query.after.is_none(),
            first_href: href(None),
            next_href: next.as_deref().map(|a| href(Some(a))),
        },
    )
}

async fn user_page(
    app: &App,
    op: &Operator,
    csrf: &str,
    username: &str,
    n: Option<String>,
    e: Option<&ApiError>,
) -> Response {
    let c =
        Chrome::new(app, csrf, format!("User {username}")).operator(&op.name, "users").notice(n);
    let v = match svc::user_view(app, username).await {
        Ok(v) => v,
        Err(err) => {
            return error_page(
                status(&err),
                c,
                "User not found",
                &human(&err),
                ("/admin/users", "All users"),
            );
        }
    };
    let t = &v.two_step;
    let devices = v
        .devices
        .iter()
        .map(|d| DeviceRow {
            id: d.id.clone(),
            name: d.name.clone(),
            kind: super::account::client_label(d.client),
            registered: utc(d.registered_at * 1000),
            last_seen: utc(d.last_seen_at * 1000),
            revoked: d.revoked,
        })
        .collect();
    render(
        e.map(status).unwrap_or(StatusCode::OK),
        &UserPage {
            c: c.error(e.map(human)),
            username: v.user.username.clone(),
            org: v.user.org.clone(),
            state: state(t.enabled, t.origin),
            required: t.required_by_org,
            methods: channel_list(t.channels.iter().filter(|s| s.confirmed).map(|s| s.channel)),
            recovery_left: t.recovery_codes_left,
            locked: v.locked,
            failures: v.consecutive_failures,
            devices,
        },
    )
}

/// `GET /admin/users/{username}`.
pub async fn detail(
    State(app): S,
    op: Operator,
    Path(u): Path<String>,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    user_page(&app, &op, &csrf, &u, notice(q.n.as_deref()), None).await
}

async fn done<T>(
    app: &App,
    op: &Operator,
    csrf: &str,
    u: &str,
    r: ApiResult<T>,
    n: &str,
) -> Response {
    match r {
        Ok(_) => see_other(&format!("/admin/users/{}?n={n}", enc(u))),
        Err(e) => user_page(app, op, csrf, u, None, Some(&e)).await,
    }
}

/// `POST /admin/users/{username}/reset`.
pub async fn reset(
    State(app): S,
    o: Origin,
    op: Operator,
    Path(u): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let r = svc::reset_two_step(&app, &u, &actor(&op, &o)).await;
    done(&app, &op, &csrf, &u, r, "reset").await
}

/// `POST /admin/users/{username}/unlock`.
pub async fn unlock(
    State(app): S,
    o: Origin,
    op: Operator,
    Path(u): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    let r = svc::unlock(&app, &u, &actor(&op, &o)).await;
    done(&app, &op, &csrf, &u, r, "unlocked").await
}

/// The device form: an id, or `all`.
#[derive(Deserialize)]
pub struct DeviceForm {
    device: String,
}

/// `POST /admin/users/{username}/revoke`.
pub async fn revoke(
    State(app): S,
    o: Origin,
    op: Operator,
    Path(u): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<DeviceForm>,
) -> Response {
    let id = (f.device != "all").then_some(f.device.as_str());
    let r = svc::revoke_devices(&app, &u, id, &actor(&op, &o)).await;
    done(&app, &op, &csrf, &u, r, "revoked").await
}
