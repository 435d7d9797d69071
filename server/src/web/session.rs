//! Who is signed in, from the cookies: the same session records as API bearer tokens, with
//! the same scopes. A page that needs a full session sends a setup-only session to the
//! forced setup, and anyone without a session to the sign-in page.

use super::cookies::{self, Cookie};
use super::page::see_other;
use crate::app::App;
use crate::service::sessions::{self, Authed};
use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use axum::response::Response;
use std::sync::Arc;
use twostep_proto::SessionScope;

/// The signed-in user with any session scope (the setup pages).
#[derive(Debug)]
pub struct AnyUser {
    pub authed: Authed,
}

/// The signed-in user with a full session.
#[derive(Debug)]
pub struct User {
    pub authed: Authed,
}

/// The signed-in operator.
#[derive(Debug)]
pub struct Operator {
    pub name: String,
    /// The session (for sign-out).
    pub auth: crate::service::operators::OperatorAuth,
}

fn to_sign_in(app: &App, which: Cookie, path: &str) -> Response {
    let mut r = see_other(path);
    r.headers_mut().append(header::SET_COOKIE, cookies::clear(app, which));
    r
}

/// The session of the request, if its cookie names a live one.
pub async fn current(app: &App, headers: &axum::http::HeaderMap) -> Option<Authed> {
    let token = cookies::get(app, headers, Cookie::Session)?;
    sessions::authenticate(app, &token, crate::clock::now()).await.ok()
}

impl FromRequestParts<Arc<App>> for AnyUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        match current(app, &parts.headers).await {
            Some(authed) => Ok(AnyUser { authed }),
            None => Err(to_sign_in(app, Cookie::Session, "/?n=session")),
        }
    }
}

impl FromRequestParts<Arc<App>> for User {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let AnyUser { authed } = AnyUser::from_request_parts(parts, app).await?;
        if authed.session.scope != SessionScope::Full {
            return Err(see_other("/setup"));
        }
        Ok(User { authed })
    }
}

impl FromRequestParts<Arc<App>> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        let token = cookies::get(app, &parts.headers, Cookie::Operator);
        let auth = match token.as_deref() {
            Some(t) => {
                crate::service::operators::authenticate_operator(app, t, crate::clock::now())
                    .await
                    .ok()
            }
            None => None,
        };
        match auth {
            Some(auth) => Ok(Operator { name: auth.name.clone(), auth }),
            None => Err(to_sign_in(app, Cookie::Operator, "/admin?n=session")),
        }
    }
}

/// The same session with the user record read again (after a service changed it).
pub async fn reload(app: &App, a: Authed) -> Authed {
    match app.user(&a.user.username).await {
        Ok(Some(user)) => Authed { user, ..a },
        _ => a,
    }
}
