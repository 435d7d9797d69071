//! The cookies the pages use, all `HttpOnly` and `SameSite=Strict` on `Path=/`, and
//! `Secure` with the `__Host-` prefix when the server is configured for HTTPS
//! (`secure_cookies`). Their values are the same opaque tokens the API uses as bearer
//! tokens; nothing else about a user is kept in the browser.

use crate::app::App;
use axum::http::{HeaderMap, HeaderValue, header};

/// A cookie the pages set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cookie {
    /// The user session token (same scopes as API sessions: full or setup-only).
    Session,
    /// The id of the sign-in waiting for its code (a capability, so never in a URL).
    SignIn,
    /// The operator session token.
    Operator,
    /// The random value the CSRF tokens of this browser are derived from.
    Csrf,
}

impl Cookie {
    fn base(self) -> &'static str {
        match self {
            Self::Session => "twostep_session",
            Self::SignIn => "twostep_signin",
            Self::Operator => "twostep_operator",
            Self::Csrf => "twostep_csrf",
        }
    }

    /// The name, with `__Host-` when cookies are secure.
    pub fn name(self, app: &App) -> String {
        if app.config.secure_cookies {
            format!("__Host-{}", self.base())
        } else {
            self.base().to_owned()
        }
    }
}

/// Reads a cookie from the request headers.
pub fn get(app: &App, headers: &HeaderMap, which: Cookie) -> Option<String> {
    let name = which.name(app);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// A `Set-Cookie` value; `max_age_secs` 0 deletes the cookie.
pub fn set(app: &App, which: Cookie, value: &str, max_age_secs: u64) -> HeaderValue {
    let secure = if app.config.secure_cookies { "; Secure" } else { "" };
    let v = format!(
        "{}={value}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}",
        which.name(app)
    );
    // Values are base64url tokens or hex ids, always valid header text.
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("x=; Max-Age=0"))
}

/// A `Set-Cookie` value that deletes the cookie.
pub fn clear(app: &App, which: Cookie) -> HeaderValue {
    set(app, which, "", 0)
}
