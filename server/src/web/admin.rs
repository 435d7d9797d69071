//! The operators' console: operator sign-in, organizations (the "Require Two-Step
//! Authentication" policy and the passcode settings, reviewed with a preview of what the
//! change does before it is saved), removing policy-made setups, and creating users.

use super::cookies::{self, Cookie};
use super::csrf::{self, Csrf, CsrfForm};
use super::messages::{human, notice, status};
use super::page::{Chrome, PageQuery, render, see_other};
use super::session::Operator;
use super::signin::{Empty, NoticeQuery};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::service::admin::{self as svc, Actor};
use crate::service::signin::Origin;
use crate::service::{directory, operators};
use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

type S = State<Arc<App>>;

/// The acting operator, for the audit log.
pub fn actor(op: &Operator, o: &Origin) -> Actor {
    Actor {
        operator: op.name.clone(),
        address: Some(o.addr.to_string()),
        now: o.now,
        now_ms: o.now_ms,
    }
}

/// Percent-encodes a path segment or query value.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Template)]
#[template(path = "admin_signin.html")]
struct SignInPage {
    c: Chrome,
    username: String,
    first_operator: bool,
}

async fn sign_in_page(app: &App, c: Chrome, username: String, st: StatusCode) -> Response {
    let first_operator = !app.has_operator().await.unwrap_or(true);
    render(st, &SignInPage { c, username, first_operator })
}

#[derive(Template)]
#[template(path = "admin_orgs.html")]
struct OrgsPage {
    c: Chrome,
    orgs: Vec<OrgView>,
    name: String,
}

#[derive(Template)]
#[template(path = "admin_org.html")]
struct OrgPage {
    c: Chrome,
    org: String,
    p: OrgPolicy,
    users: u64,
    forced: u64,
}

#[derive(Template)]
#[template(path = "admin_preview.html")]
struct PreviewPage {
    c: Chrome,
    org: String,
    effects: Vec<String>,
    users: u64,
    without: u64,
    forced: u64,
    chosen: u64,
    hidden: Vec<(&'static str, String)>,
    changed: bool,
}

/// `GET /admin`: the sign-in form, or the console when signed in.
pub async fn home(
    State(app): S,
    headers: HeaderMap,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    let signed_in = match cookies::get(&app, &headers, Cookie::Operator) {
        Some(t) => svc::authenticate_operator(&app, &t, crate::clock::now()).await.is_ok(),
        None => false,
    };
    if signed_in {
        return see_other("/admin/orgs");
    }
    let c = Chrome::new(&app, &csrf, "Operators' console").notice(notice(q.n.as_deref()));
    sign_in_page(&app, c, String::new(), StatusCode::OK).await
}

/// The operator sign-in form.
#[derive(Deserialize)]
pub struct SignInForm {
    username: String,
    password: String,
}

/// `POST /admin/signin`.
pub async fn sign_in(
    State(app): S,
    o: Origin,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<SignInForm>,
) -> Response {
    let req = OperatorSignIn { username: f.username.clone(), password: f.password };
    match svc::operator_sign_in(&app, &req, &o).await {
        Ok(s) => {
            let mut r = see_other("/admin/orgs");
            let ttl = s.expires_at.saturating_sub(o.now);
            r.headers_mut()
                .append(header::SET_COOKIE, cookies::set(&app, Cookie::Operator, &s.token, ttl));
            r.headers_mut().append(header::SET_COOKIE, csrf::rotate(&app));
            r
        }
        Err(e) => {
            let c = Chrome::new(&app, &csrf, "Operators' console").error(Some(human(&e)));
            sign_in_page(&app, c, f.username, status(&e)).await
        }
    }
}

/// The first-operator form.
#[derive(Deserialize)]
pub struct BootstrapForm {
    setup_token: String,
    username: String,
    password: String,
}

/// `POST /admin/bootstrap`: the first operator, with the token printed at start.
pub async fn bootstrap(
    State(app): S,
    o: Origin,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<BootstrapForm>,
) -> Response {
    let a = Actor {
        operator: format!("bootstrap:{}", f.username),
        address: Some(o.addr.to_string()),
        now: o.now,
        now_ms: o.now_ms,
    };
    match svc::bootstrap(&app, &f.setup_token, &f.username, &f.password, &a).await {
        Ok(()) => see_other("/admin?n=operator"),
        Err(e) => {
            let c = Chrome::new(&app, &csrf, "Operators' console").error(Some(human(&e)));
            sign_in_page(&app, c, String::new(), status(&e)).await
        }
    }
}

/// `POST /admin/signout`.
pub async fn sign_out(
    State(app): S,
    o: Origin,
    op: Operator,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    if let Err(e) = operators::sign_out(&app, &op.auth, &actor(&op, &o)).await {
        tracing::warn!(error = %e.message, "operator sign-out");
    }
    let mut r = see_other("/admin?n=signedout");
    r.headers_mut().append(header::SET_COOKIE, cookies::clear(&app, Cookie::Operator));
    r.headers_mut().append(header::SET_COOKIE, csrf::rotate(&app));
    r
}

async fn orgs_page(
    app: &App,
    op: &Operator,
    csrf: &str,
    name: &str,
    n: Option<String>,
    e: Option<&ApiError>,
) -> Response {
    let c = Chrome::new(app, csrf, "Organizations").operator(&op.name, "orgs").notice(n);
    match directory::list_orgs(app).await {
        Ok(l) => render(
            e.map(status).unwrap_or(StatusCode::OK),
            &OrgsPage { c: c.error(e.map(human)), orgs: l.orgs, name: name.to_owned() },
        ),
        Err(e) => render(
            status(&e),
            &OrgsPage { c: c.error(Some(human(&e))), orgs: vec![], name: name.to_owned() },
        ),
    }
}

/// `GET /admin/orgs`.
pub async fn orgs(
    State(app): S,
    op: Operator,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    orgs_page(&app, &op, &csrf, "", notice(q.n.as_deref()), None).await
}

/// The new-organization form.
#[derive(Deserialize)]
pub struct OrgForm {
    name: String,
    require_two_step: Option<String>,
}

/// `POST /admin/orgs`.
pub async fn create_org(
    State(app): S,
    o: Origin,
    op: Operator,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<OrgForm>,
) -> Response {
    let name = f.name.trim().to_owned();
    let req = CreateOrg {
        name: name.clone(),
        policy: Some(PolicyUpdate {
            require_two_step: Some(f.require_two_step.is_some()),
            ..Default::default()
        }),
    };
    match svc::create_org(&app, &req, &actor(&op, &o)).await {
        Ok(v) => see_other(&format!("/admin/orgs/{}?n=created", enc(&v.name))),
        Err(e) => orgs_page(&app, &op, &csrf, &name, None, Some(&e)).await,
    }
}

async fn org_page(
    app: &App,
    op: &Operator,
    csrf: &str,
    org: &str,
    n: Option<String>,
    e: Option<&ApiError>,
) -> Response {
    let c =
        Chrome::new(app, csrf, format!("Organization {org}")).operator(&op.name, "orgs").notice(n);
    let view = svc::get_org(app, org).await;
    let preview = directory::policy_preview(app, org, &PolicyUpdate::default()).await;
    match (view, preview) {
        (Ok(v), Ok(p)) => render(
            e.map(status).unwrap_or(StatusCode::OK),
            &OrgPage {
                c: c.error(e.map(human)),
                org: v.name,
                p: v.policy,
                users: p.users,
                forced: p.forced,
            },
        ),
        (Err(err), _) | (_, Err(err)) => super::page::error_page(
            status(&err),
            c,
            "Organization not found",
            &human(&err),
            ("/admin/orgs", "All organizations"),
        ),
    }
}

/// `GET /admin/orgs/{org}`.
pub async fn org(
    State(app): S,
    op: Operator,
    Path(org): Path<String>,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<NoticeQuery>,
) -> Response {
    org_page(&app, &op, &csrf, &org, notice(q.n.as_deref()), None).await
}

/// The policy form (checkboxes are absent when unticked).
#[derive(Deserialize)]
pub struct PolicyForm {
    require_two_step: Option<String>,
    passcode_min_length: String,
    passcode_alphanumeric: Option<String>,
    passcode_max_attempts: String,
    passcode_lock_timeout_secs: String,
    wipe_vault_on_max_attempts: Option<String>,
    max_messages_per_user_per_day: String,
    max_messages_per_destination_per_day: String,
    max_messages_per_org_per_day: String,
}

fn number<T: std::str::FromStr>(v: &str, what: &str) -> ApiResult<T> {
    v.trim()
        .parse()
        .map_err(|_| ApiError::field(format!("{what} must be a whole number in the range shown")))
}

impl PolicyForm {
    fn update(&self) -> ApiResult<PolicyUpdate> {
        Ok(PolicyUpdate {
            require_two_step: Some(self.require_two_step.is_some()),
            passcode_min_length: Some(number(&self.passcode_min_length, "the minimum length")?),
            passcode_alphanumeric: Some(self.passcode_alphanumeric.is_some()),
            passcode_max_attempts: Some(number(
                &self.passcode_max_attempts,
                "the failed attempts",
            )?),
            passcode_lock_timeout_secs: Some(number(
                &self.passcode_lock_timeout_secs,
                "the lock timeout",
            )?),
            wipe_vault_on_max_attempts: Some(self.wipe_vault_on_max_attempts.is_some()),
            max_messages_per_user_per_day: Some(number(
                &self.max_messages_per_user_per_day,
                "the codes per user per day",
            )?),
            max_messages_per_destination_per_day: Some(number(
                &self.max_messages_per_destination_per_day,
                "the codes per phone number or address per day",
            )?),
            max_messages_per_org_per_day: Some(number(
                &self.max_messages_per_org_per_day,
                "the codes per organization per day",
            )?),
        })
    }
}

/// `1 user`, `2 users`.
fn users(n: u64) -> String {
    format!("{n} user{}", if n == 1 { "" } else { "s" })
}

fn on_off(b: bool) -> &'static str {
    if b { "on" } else { "off" }
}

/// The article's rules, applied to this organization's numbers.
fn effects(p: &PolicyPreview) -> Vec<String> {
    let (cur, new) = (&p.current, &p.proposed);
    let mut out = Vec::new();
    let with = p.forced + p.chosen;
    match (cur.require_two_step, new.require_two_step) {
        (false, true) => {
            out.push(format!(
                "Require Two-Step Authentication turns on. {} of {} {} not set it up: the \
                 next time they sign in to the web portal they must set it up before they can \
                 do anything else, and until then they cannot register the agent, the Outlook \
                 add-in or a mobile app.",
                p.without_two_step,
                users(p.users),
                if p.without_two_step == 1 { "has" } else { "have" },
            ));
            out.push(format!(
                "{} who already {} two-step authentication {} their settings.",
                users(with),
                if with == 1 { "uses" } else { "use" },
                if with == 1 { "keeps" } else { "keep" }
            ));
            out.push("Mobile apps will require a passcode (a PIN on Android).".into());
        }
        (true, false) => {
            out.push(format!(
                "Require Two-Step Authentication turns off. Users keep their two-step settings: \
                 each user must turn it off individually in Account Settings. {} set it up \
                 because of the policy; after saving you can remove those setups in one step.",
                users(p.forced)
            ));
            out.push(
                "Users without two-step authentication are no longer asked to set it up.".into(),
            );
            out.push("The mobile app passcode becomes optional.".into());
        }
        (on, _) => out.push(format!("Require Two-Step Authentication stays {}.", on_off(on))),
    }
    let mut num = |label: &str, a: String, b: String| {
        if a != b {
            out.push(format!("{label}: {a} → {b}."));
        }
    };
    num(
        "Minimum passcode length",
        cur.passcode_min_length.to_string(),
        new.passcode_min_length.to_string(),
    );
    num(
        "Letters allowed in passcodes",
        on_off(cur.passcode_alphanumeric).into(),
        on_off(new.passcode_alphanumeric).into(),
    );
    num(
        "Failed passcode attempts before the app's data is wiped",
        cur.passcode_max_attempts.to_string(),
        new.passcode_max_attempts.to_string(),
    );
    num(
        "Background lock timeout (seconds)",
        cur.passcode_lock_timeout_secs.to_string(),
        new.passcode_lock_timeout_secs.to_string(),
    );
    num(
        "The wipe also removes the authenticator's accounts",
        on_off(cur.wipe_vault_on_max_attempts).into(),
        on_off(new.wipe_vault_on_max_attempts).into(),
    );
    let passcode_changed = (
        cur.passcode_min_length,
        cur.passcode_alphanumeric,
        cur.passcode_max_attempts,
        cur.passcode_lock_timeout_secs,
        cur.wipe_vault_on_max_attempts,
    ) != (
        new.passcode_min_length,
        new.passcode_alphanumeric,
        new.passcode_max_attempts,
        new.passcode_lock_timeout_secs,
        new.wipe_vault_on_max_attempts,
    );
    num(
        "Codes one user may be sent per day",
        cur.max_messages_per_user_per_day.to_string(),
        new.max_messages_per_user_per_day.to_string(),
    );
    num(
        "Codes one phone number or email address may receive per day",
        cur.max_messages_per_destination_per_day.to_string(),
        new.max_messages_per_destination_per_day.to_string(),
    );
    num(
        "Codes the organization may send per day",
        cur.max_messages_per_org_per_day.to_string(),
        new.max_messages_per_org_per_day.to_string(),
    );
    if passcode_changed {
        out.push("Mobile apps pick up the passcode settings at their next sign-in.".into());
    }
    if cur == new {
        out.push("Nothing changes.".into());
    }
    out
}

fn hidden_fields(p: &OrgPolicy) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("passcode_min_length", p.passcode_min_length.to_string()),
        ("passcode_max_attempts", p.passcode_max_attempts.to_string()),
        ("passcode_lock_timeout_secs", p.passcode_lock_timeout_secs.to_string()),
        ("max_messages_per_user_per_day", p.max_messages_per_user_per_day.to_string()),
        (
            "max_messages_per_destination_per_day",
            p.max_messages_per_destination_per_day.to_string(),
        ),
        ("max_messages_per_org_per_day", p.max_messages_per_org_per_day.to_string()),
    ];
    for (name, on) in [
        ("require_two_step", p.require_two_step),
        ("passcode_alphanumeric", p.passcode_alphanumeric),
        ("wipe_vault_on_max_attempts", p.wipe_vault_on_max_attempts),
    ] {
        if on {
            v.push((name, "on".into()));
        }
    }
    v
}

/// `POST /admin/orgs/{org}/policy/preview`: what the change does, with a Save button.
pub async fn preview(
    State(app): S,
    op: Operator,
    Path(org): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<PolicyForm>,
) -> Response {
    let r = match f.update() {
        Ok(u) => directory::policy_preview(&app, &org, &u).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(p) => {
            let c = Chrome::new(&app, &csrf, format!("Review policy change for {org}"))
                .operator(&op.name, "orgs");
            render(
                StatusCode::OK,
                &PreviewPage {
                    c,
                    effects: effects(&p),
                    users: p.users,
                    without: p.without_two_step,
                    forced: p.forced,
                    chosen: p.chosen,
                    hidden: hidden_fields(&p.proposed),
                    changed: p.current != p.proposed,
                    org: p.org,
                },
            )
        }
        Err(e) => org_page(&app, &op, &csrf, &org, None, Some(&e)).await,
    }
}

/// `POST /admin/orgs/{org}/policy`: saves the reviewed policy.
pub async fn save_policy(
    State(app): S,
    o: Origin,
    op: Operator,
    Path(org): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<PolicyForm>,
) -> Response {
    let r = match f.update() {
        Ok(u) => svc::update_policy(&app, &org, &u, &actor(&op, &o)).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(v) => see_other(&format!("/admin/orgs/{}?n=saved", enc(&v.name))),
        Err(e) => org_page(&app, &op, &csrf, &org, None, Some(&e)).await,
    }
}

/// `POST /admin/orgs/{org}/remove-forced`.
pub async fn remove_forced(
    State(app): S,
    o: Origin,
    op: Operator,
    Path(org): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(_): CsrfForm<Empty>,
) -> Response {
    match svc::remove_forced(&app, &org, &actor(&op, &o)).await {
        Ok(_) => see_other(&format!("/admin/orgs/{}?n=forced_removed", enc(&org))),
        Err(e) => org_page(&app, &op, &csrf, &org, None, Some(&e)).await,
    }
}

/// The new-user form.
#[derive(Deserialize)]
pub struct UserForm {
    username: String,
    password: String,
}

/// `POST /admin/orgs/{org}/users`.
pub async fn create_user(
    State(app): S,
    o: Origin,
    op: Operator,
    Path(org): Path<String>,
    Csrf(csrf): Csrf,
    CsrfForm(f): CsrfForm<UserForm>,
) -> Response {
    let req = CreateUser { username: f.username, password: f.password };
    match svc::create_user(&app, &org, &req, &actor(&op, &o)).await {
        Ok(v) => see_other(&format!("/admin/users/{}?n=created", enc(&v.user.username))),
        Err(e) => org_page(&app, &op, &csrf, &org, None, Some(&e)).await,
    }
}
