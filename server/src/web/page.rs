//! What every page shares: the frame around it ([`Chrome`]), rendering, redirects, the
//! error page, and formatting of times and waits.

use crate::app::App;
use askama::Template;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use std::sync::Arc;

/// The frame of a page: title, who is signed in, the CSRF token for its forms, and one
/// notice or error line.
#[derive(Debug, Clone, Default)]
pub struct Chrome {
    /// Product name in the header (the configured issuer).
    pub brand: String,
    pub title: String,
    /// The CSRF token every form on the page carries.
    pub csrf: String,
    /// A signed-in user (shows the sign-out button).
    pub user: Option<String>,
    /// A setup-only session: no links except sign-out.
    pub setup_only: bool,
    /// A signed-in operator (shows the console navigation).
    pub operator: Option<String>,
    /// Which console section is current.
    pub section: &'static str,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Chrome {
    /// A page frame.
    pub fn new(app: &App, csrf: &str, title: impl Into<String>) -> Self {
        Self {
            brand: app.config.issuer.clone(),
            title: title.into(),
            csrf: csrf.to_owned(),
            ..Self::default()
        }
    }

    /// Shows the signed-in user.
    pub fn user(mut self, name: &str, setup_only: bool) -> Self {
        self.user = Some(name.to_owned());
        self.setup_only = setup_only;
        self
    }

    /// Shows the operator console navigation.
    pub fn operator(mut self, name: &str, section: &'static str) -> Self {
        self.operator = Some(name.to_owned());
        self.section = section;
        self
    }

    /// A status line.
    pub fn notice(mut self, n: Option<String>) -> Self {
        self.notice = n;
        self
    }

    /// An error line.
    pub fn error(mut self, e: Option<String>) -> Self {
        self.error = e;
        self
    }
}

/// Renders a template as an HTML response.
pub fn render(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))],
            html,
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "page template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

/// `303 See Other` to a path of this site.
pub fn see_other(path: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(path) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A page that only explains what went wrong.
#[derive(Debug, Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub c: Chrome,
    pub heading: String,
    pub text: String,
    pub back_href: String,
    pub back_label: String,
}

/// Renders [`ErrorPage`].
pub fn error_page(
    status: StatusCode,
    c: Chrome,
    heading: &str,
    text: &str,
    back: (&str, &str),
) -> Response {
    render(
        status,
        &ErrorPage {
            c,
            heading: heading.into(),
            text: text.into(),
            back_href: back.0.into(),
            back_label: back.1.into(),
        },
    )
}

/// A page's query parameters. A query that does not parse (a repeated or mistyped
/// parameter) gets the error page, like a form that does not: axum's own rejection is a
/// plain-text answer that quotes the parser's message.
#[derive(Debug)]
pub struct PageQuery<T>(pub T);

impl<T: DeserializeOwned> FromRequestParts<Arc<App>> for PageQuery<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, Response> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or_default()).map(PageQuery).map_err(
            |_| {
                let csrf = parts.extensions.get::<super::csrf::Csrf>();
                let csrf = csrf.map(|c| c.0.as_str()).unwrap_or_default();
                error_page(
                    StatusCode::BAD_REQUEST,
                    Chrome::new(app, csrf, "Address not understood"),
                    "This address could not be read",
                    "A parameter in the address was repeated or had a wrong value.",
                    ("/", "Start again"),
                )
            },
        )
    }
}

/// A page address under `/account`, `/admin` or `/signin` that does not exist.
pub async fn not_found(
    axum::extract::State(app): axum::extract::State<std::sync::Arc<App>>,
    super::csrf::Csrf(csrf): super::csrf::Csrf,
) -> Response {
    error_page(
        StatusCode::NOT_FOUND,
        Chrome::new(&app, &csrf, "Page not found"),
        "Page not found",
        "There is no page at this address.",
        ("/", "Go to the start page"),
    )
}

/// `2026-03-01 14:02:31 UTC` from Unix milliseconds.
pub fn utc(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", t / 3600, t / 60 % 60, t % 60)
}

/// `2026-03-01T14:02` (a `datetime-local` value, UTC) from Unix milliseconds.
pub fn datetime_local(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let t = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}", t / 3600, t / 60 % 60)
}

/// Parses a `datetime-local` value (`YYYY-MM-DDTHH:MM[:SS]`, read as UTC) to Unix ms.
pub fn parse_datetime_local(s: &str) -> Option<u64> {
    let (date, time) = s.trim().split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut t = time.splitn(3, ':').map(|p| p.parse::<u64>().ok());
    let (hh, mm) = (t.next()??, t.next()??);
    let ss = t.next().flatten().unwrap_or(0);
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    if hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let days = u64::try_from(days_from_civil(y, m, day)).ok()?;
    Some(((days * 86_400) + hh * 3600 + mm * 60 + ss) * 1000)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// `45 seconds`, `3 minutes`, `1 hour`: a wait as people say it (rounded up).
pub fn wait(secs: u64) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match secs {
        0..=90 => plural(secs.max(1), "second"),
        91..=5400 => plural(secs.div_ceil(60), "minute"),
        _ => plural(secs.div_ceil(3600), "hour"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_709_301_751_000), "2024-03-01 14:02:31 UTC");
        assert_eq!(parse_datetime_local("2024-03-01T14:02"), Some(1_709_301_720_000));
        assert_eq!(
            parse_datetime_local(&datetime_local(1_709_301_720_000)),
            Some(1_709_301_720_000)
        );
        assert_eq!(parse_datetime_local("2024-02-29T23:59:59"), Some(1_709_251_199_000));
        for bad in ["", "2024-13-01T00:00", "2024-01-01", "x-1-1T00:00", "2024-01-01T24:00"] {
            assert_eq!(parse_datetime_local(bad), None, "{bad}");
        }
    }

    #[test]
    fn waits_read_like_speech() {
        assert_eq!(wait(0), "1 second");
        assert_eq!(wait(30), "30 seconds");
        assert_eq!(wait(120), "2 minutes");
        assert_eq!(wait(3600), "60 minutes");
        assert_eq!(wait(7200), "2 hours");
    }
}
