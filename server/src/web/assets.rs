//! The stylesheet and the optional script, compiled into the binary.

use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;

/// Where the stylesheet is served.
pub const CSS_PATH: &str = "/assets/app.css";
/// Where the script is served.
pub const JS_PATH: &str = "/assets/app.js";

const CSS: &str = include_str!("assets/app.css");
/// Counts the resend cooldown down; every page works without it.
const JS: &str = include_str!("assets/app.js");

/// `GET /assets/app.css`.
pub async fn css() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/css; charset=utf-8"))], CSS)
}

/// `GET /assets/app.js`.
pub async fn js() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"))], JS)
}
