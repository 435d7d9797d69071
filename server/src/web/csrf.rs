//! CSRF protection for every form: a signed double-submit token.
//!
//! Each browser gets a random value in an `HttpOnly`, `SameSite=Strict` cookie; the token
//! in its forms is an HMAC of that value under a server key, so another site can neither
//! read nor forge it. A `POST` whose token does not match its cookie (or has none) is
//! refused with a page that says so, before the handler runs. Requests a browser marks as
//! cross-site (`Sec-Fetch-Site`) are refused too. The value is replaced at every sign-in.

use super::cookies::{self, Cookie};
use super::page::{Chrome, error_page};
use crate::app::App;
use crate::crypto::{constant_time_eq, random_token};
use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// Lifetime of the CSRF cookie.
pub const COOKIE_SECS: u64 = 24 * 3600;

/// The token for this request's forms (from the cookie, or a fresh one).
#[derive(Debug, Clone)]
pub struct Csrf(pub String);

/// The token derived from a cookie value.
pub fn token_for(app: &App, cookie_value: &str) -> String {
    app.keys.code_mac("web-csrf", cookie_value)
}

/// Gives every request a CSRF cookie value (setting the cookie when it had none) and puts
/// the derived token into the request for the page's forms.
pub async fn ensure_cookie(State(app): State<Arc<App>>, mut req: Request, next: Next) -> Response {
    let (value, fresh) = match cookies::get(&app, req.headers(), Cookie::Csrf) {
        Some(v) => (v, false),
        None => (random_token(), true),
    };
    req.extensions_mut().insert(Csrf(token_for(&app, &value)));
    let mut resp = next.run(req).await;
    let name = format!("{}=", Cookie::Csrf.name(&app));
    let rotated = resp
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.starts_with(&name)));
    if fresh && !rotated {
        resp.headers_mut()
            .append(header::SET_COOKIE, cookies::set(&app, Cookie::Csrf, &value, COOKIE_SECS));
    }
    resp
}

/// A `Set-Cookie` that gives the browser a new CSRF value (at sign-in and sign-out).
pub fn rotate(app: &App) -> axum::http::HeaderValue {
    cookies::set(app, Cookie::Csrf, &random_token(), COOKIE_SECS)
}

impl<S: Send + Sync> FromRequestParts<S> for Csrf {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Csrf>().cloned().unwrap_or(Csrf(String::new())))
    }
}

/// A form post whose CSRF token was checked; `T` gets the other fields.
#[derive(Debug)]
pub struct CsrfForm<T>(pub T);

#[derive(serde::Deserialize)]
struct TokenField {
    csrf: Option<String>,
}

/// Whether `headers` prove the post came from one of this site's pages.
fn cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site" || v == "same-site")
}

fn refused(app: &App, csrf: &str) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        Chrome::new(app, csrf, "Form refused"),
        "This form could not be accepted",
        "It did not carry this site's security token — it may have expired, or it was \
         sent from another site. Nothing was changed. Go back, reload the page and try again.",
        ("/", "Start again"),
    )
}

fn bad_form(app: &App, csrf: &str, why: &str) -> Response {
    error_page(
        StatusCode::BAD_REQUEST,
        Chrome::new(app, csrf, "Form not understood"),
        "This form could not be read",
        why,
        ("/", "Start again"),
    )
}

impl<T: DeserializeOwned> FromRequest<Arc<App>> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<App>) -> Result<Self, Self::Rejection> {
        let page_token = req.extensions().get::<Csrf>().map(|c| c.0.clone()).unwrap_or_default();
        let cookie = cookies::get(app, req.headers(), Cookie::Csrf);
        if cross_site(req.headers()) {
            return Err(refused(app, &page_token));
        }
        let ct =
            req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !ct.starts_with("application/x-www-form-urlencoded") {
            return Err(bad_form(app, &page_token, "The form was not sent as a web form."));
        }
        let bytes = axum::body::Bytes::from_request(req, app).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                bad_form(app, &page_token, "The form was too large.")
            } else {
                e.into_response()
            }
        })?;
        let sent = serde_urlencoded::from_bytes::<TokenField>(&bytes).ok().and_then(|t| t.csrf);
        let ok = match (cookie, sent) {
            (Some(c), Some(s)) => constant_time_eq(token_for(app, &c).as_bytes(), s.as_bytes()),
            _ => false,
        };
        if !ok {
            tracing::warn!("web form refused: missing or wrong CSRF token");
            return Err(refused(app, &page_token));
        }
        serde_urlencoded::from_bytes::<T>(&bytes)
            .map(CsrfForm)
            .map_err(|_| bad_form(app, &page_token, "A field was missing or had a wrong value."))
    }
}
