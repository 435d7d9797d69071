//! The API error: a code from the closed list in `twostep-proto`, a message, and the
//! numbers a UI needs. Internal failures are logged with detail and answered with a bare
//! `internal`, so nothing about storage or secrets leaks to clients.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use twostep_proto::{ErrorBody, ErrorCode, ErrorDetail};

/// An error answered to a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub retry_after_secs: Option<u64>,
    pub attempts_left: Option<u32>,
}

/// Result alias for handlers and services.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), retry_after_secs: None, attempts_left: None }
    }

    /// A field failed validation.
    pub fn field(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidField, message)
    }

    /// The request is malformed.
    pub fn request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    /// `429`/`423`-style waits.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(ErrorCode::RateLimited, "too many attempts; try again later")
        }
    }

    /// Wrong credentials (the one answer for unknown user and wrong password).
    pub fn credentials() -> Self {
        Self::new(ErrorCode::InvalidCredentials, "username or password is incorrect")
    }

    /// Wrong code.
    pub fn wrong_code(attempts_left: u32) -> Self {
        Self {
            attempts_left: Some(attempts_left),
            ..Self::new(ErrorCode::InvalidCode, "the code is incorrect")
        }
    }

    /// Not found.
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// Internal failure; `detail` is logged, not returned.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        Self::new(ErrorCode::Internal, "internal error; nothing was changed")
    }

    /// Sets the retry delay.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        Self::internal(e)
    }
}

impl From<crate::passwords::HashError> for ApiError {
    fn from(_: crate::passwords::HashError) -> Self {
        Self::new(ErrorCode::Unavailable, "the server is busy; try again shortly")
            .with_retry_after(1)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code.http_status())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let retry = self.retry_after_secs;
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                retry_after_secs: self.retry_after_secs,
                attempts_left: self.attempts_left,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if let Some(r) = retry
            && let Ok(v) = HeaderValue::from_str(&r.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, v);
        }
        resp
    }
}
