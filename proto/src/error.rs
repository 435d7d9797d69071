//! The error body every 4xx/5xx carries, and the closed list of codes a client can act on.

use serde::{Deserialize, Serialize};

/// `{"error": {...}}`: the body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorDetail,
}

/// What went wrong, in a form a UI can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ErrorDetail {
    /// Machine-readable code.
    pub code: ErrorCode,
    /// Human-readable explanation; never contains a secret.
    pub message: String,
    /// Seconds to wait before retrying (also sent as `Retry-After`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Remaining tries for the current code or challenge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u32>,
}

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = ($name:literal, $status:literal) ),* $(,)?) => {
        /// Every error code the API returns.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
            /// A code this client version does not know.
            #[serde(other)]
            Unknown,
        }

        impl ErrorCode {
            /// Every code the server can send.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// Wire name.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $name,)* ErrorCode::Unknown => "unknown" }
            }

            /// HTTP status the server answers with.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status,)* ErrorCode::Unknown => 500 }
            }

            /// One-line description for the OpenAPI document.
            pub fn description(self) -> &'static str {
                match self { $(ErrorCode::$variant => concat!($($doc),*).trim_ascii(),)* ErrorCode::Unknown => "unknown" }
            }
        }
    };
}

error_codes! {
    /// The request is malformed: invalid JSON, unknown or missing fields, wrong types, invalid UTF-8.
    InvalidRequest = ("invalid_request", 400),
    /// A field has a value outside its allowed range or format.
    InvalidField = ("invalid_field", 422),
    /// The request body is larger than the server accepts.
    PayloadTooLarge = ("payload_too_large", 413),
    /// The request body did not arrive within the server's body timeout.
    RequestTimeout = ("request_timeout", 408),
    /// The request body is not `application/json`.
    UnsupportedMediaType = ("unsupported_media_type", 415),
    /// No such resource or route.
    NotFound = ("not_found", 404),
    /// The HTTP method is not allowed on this route.
    MethodNotAllowed = ("method_not_allowed", 405),
    /// Username or password is wrong (the two are indistinguishable).
    InvalidCredentials = ("invalid_credentials", 401),
    /// The second-step code is wrong; `attempts_left` says how many tries remain.
    InvalidCode = ("invalid_code", 401),
    /// The code has expired; ask for a new one.
    CodeExpired = ("code_expired", 410),
    /// The sign-in challenge is unknown, used up or expired; sign in again.
    ChallengeExpired = ("challenge_expired", 410),
    /// Too many attempts; wait `retry_after_secs`.
    RateLimited = ("rate_limited", 429),
    /// The account is locked after too many failures; an operator must unlock it.
    AccountLocked = ("account_locked", 423),
    /// The organization requires two-step authentication and the user has not configured it.
    SetupRequired = ("setup_required", 403),
    /// Missing, invalid or expired bearer token.
    Unauthorized = ("unauthorized", 401),
    /// The session may not do this (for example a setup-only session).
    Forbidden = ("forbidden", 403),
    /// The device was revoked (admin reset, password change or sign-out); register it again.
    DeviceRevoked = ("device_revoked", 401),
    /// The device signature did not verify.
    BadSignature = ("bad_signature", 401),
    /// Two-step is configured now: a setup-only session can no longer change it; sign in again.
    SetupComplete = ("setup_complete", 403),
    /// This change needs a fresh second-step code: send `code` (TOTP, or a step-up code sent by
    /// SMS or email).
    StepUpRequired = ("step_up_required", 403),
    /// The daily number of SMS or email codes (per user, destination or organization) is used
    /// up; see `retry_after_secs`.
    SendLimitReached = ("send_limit_reached", 429),
    /// Two-step cannot be turned off while the organization requires it.
    PolicyRequiresTwoStep = ("policy_requires_two_step", 409),
    /// The channel is not configured for this user.
    ChannelNotConfigured = ("channel_not_configured", 409),
    /// A new code was requested before the resend cooldown elapsed; see `retry_after_secs`.
    ResendTooSoon = ("resend_too_soon", 429),
    /// The resource already exists or the request conflicts with its state.
    Conflict = ("conflict", 409),
    /// The SMS or email could not be delivered.
    DeliveryFailed = ("delivery_failed", 502),
    /// The server failed; nothing was changed.
    Internal = ("internal", 500),
    /// The server is shutting down or overloaded; retry later.
    Unavailable = ("unavailable", 503),
}

/// The codes the server sends (`Unknown` exists only on the client side, for codes it
/// does not know yet).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for ErrorCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ErrorCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = Self::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({
            "type": "string",
            "enum": codes,
            "description": "Machine-readable error code; `info.x-error-codes` describes each.",
        })
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_to_their_wire_names_and_unknown_codes_parse() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            assert!(!code.description().is_empty());
            assert!((400..600).contains(&code.http_status()));
        }
        let future: ErrorCode = serde_json::from_str("\"something_new\"").unwrap();
        assert_eq!(future, ErrorCode::Unknown);
    }
}
