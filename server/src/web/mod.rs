//! The web pages, served by the server itself: sign-in with the code prompt, Account
//! Settings → Two-Step Authentication (with the forced setup under the org policy), and
//! the operators' console at `/admin`.
//!
//! Pages are rendered on the server from askama templates (`templates/`, compiled into the
//! binary) and call the same service functions as the JSON API, so the rules, throttles and
//! audit records are the API's. This module only translates: forms in, pages and redirects
//! out. Browser concerns live here: cookie sessions (`cookies.rs`, `session.rs`), CSRF
//! tokens on every form (`csrf.rs`), security headers (`headers.rs`) and the embedded CSS
//! and tiny optional script (`assets.rs`). Pages work without JavaScript.

mod account;
mod admin;
mod admin_audit;
mod admin_users;
mod assets;
mod cookies;
mod csrf;
mod enroll;
mod headers;
mod messages;
mod page;
mod password;
mod session;
mod signin;

use crate::app::App;
use axum::Router;
use axum::routing::{get, post};
use std::sync::Arc;

/// Every page route; merged into the API router by `http::routes::router`.
pub fn router(app: Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/", get(signin::start))
        .route("/signin", post(signin::password))
        .route("/signin/code", get(signin::code_get).post(signin::submit_code))
        .route("/signin/resend", post(signin::resend))
        .route("/signin/channel", post(signin::switch_channel))
        .route("/signin/recovery", get(signin::recovery_page).post(signin::recovery))
        .route("/signin/cancel", post(signin::cancel))
        .route("/signout", post(signin::sign_out))
        .route("/setup", get(enroll::setup))
        .route("/account", get(account::overview))
        .route("/account/two-step/totp", get(enroll::totp_page_get).post(enroll::totp_start))
        .route("/account/two-step/totp/confirm", post(enroll::totp_confirm))
        .route("/account/two-step/sms", get(enroll::sms_page).post(enroll::sms_start))
        .route("/account/two-step/sms/confirm", post(enroll::sms_confirm))
        .route("/account/two-step/email", get(enroll::email_page).post(enroll::email_start))
        .route("/account/two-step/email/confirm", post(enroll::email_confirm))
        .route("/account/two-step/preferred", post(account::preferred))
        .route("/account/two-step/remove", post(account::remove))
        .route("/account/two-step/disable", post(account::disable))
        .route("/account/two-step/recovery-codes", post(account::regenerate))
        .route("/account/password", get(password::form).post(password::change))
        .route("/account/password/code", post(password::send_code))
        .route("/account/devices/revoke", post(account::revoke_device))
        .route("/account/sessions/revoke", post(account::revoke_session))
        .route("/admin", get(admin::home))
        .route("/admin/bootstrap", post(admin::bootstrap))
        .route("/admin/signin", post(admin::sign_in))
        .route("/admin/signout", post(admin::sign_out))
        .route("/admin/orgs", get(admin::orgs).post(admin::create_org))
        .route("/admin/orgs/{org}", get(admin::org))
        .route("/admin/orgs/{org}/policy/preview", post(admin::preview))
        .route("/admin/orgs/{org}/policy", post(admin::save_policy))
        .route("/admin/orgs/{org}/remove-forced", post(admin::remove_forced))
        .route("/admin/orgs/{org}/users", post(admin::create_user))
        .route("/admin/users", get(admin_users::list))
        .route("/admin/users/{username}", get(admin_users::detail))
        .route("/admin/users/{username}/reset", post(admin_users::reset))
        .route("/admin/users/{username}/unlock", post(admin_users::unlock))
        .route("/admin/users/{username}/revoke", post(admin_users::revoke))
        .route("/admin/audit", get(admin_audit::page))
        .route("/account/{*rest}", get(page::not_found))
        .route("/admin/{*rest}", get(page::not_found))
        .route("/signin/{*rest}", get(page::not_found))
        .route(assets::CSS_PATH, get(assets::css))
        .route(assets::JS_PATH, get(assets::js))
        .layer(axum::middleware::from_fn_with_state(app, csrf::ensure_cookie))
        .layer(axum::middleware::from_fn(headers::security))
}
