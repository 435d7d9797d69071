//! Errors: a detailed internal [`Error`] and the small public [`TwostepError`].
//!
//! Inside the crate, failures keep their cause (the reqwest error, the sled error, which
//! record failed to open) so that logs can say what happened. A UI cannot act on a reqwest
//! error, though; it needs to know "wrong code, 3 tries left" or "offline". The conversion
//! from one to the other happens here and nowhere else, so that every public function
//! reports the same failure the same way.

use std::path::PathBuf;
use twostep_proto::ErrorCode;

use crate::keystore::KeyStoreError;
use crate::passcode::PasscodeWeakness;
use crate::seal::SealError;

/// The result of every public operation.
pub type Result<T, E = TwostepError> = std::result::Result<T, E>;

/// What went wrong, in terms a UI can act on.
///
/// Messages never contain a secret. Times are in seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TwostepError {
    /// Username or password is wrong (the server does not say which).
    #[error("wrong username or password")]
    InvalidCredentials,
    /// The second-step code is wrong.
    #[error("wrong code ({attempts_left} attempts left)")]
    InvalidCode {
        /// Tries left for this code (0: ask for a new code or sign in again).
        attempts_left: u32,
    },
    /// The code has expired; ask for a new one (resend).
    #[error("the code has expired; request a new one")]
    CodeExpired,
    /// The sign-in is no longer valid (too old, or too many tries); sign in again.
    #[error("the sign-in has expired; sign in again")]
    ChallengeExpired,
    /// Too many attempts; wait before trying again.
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// A new code was requested before the resend cooldown elapsed.
    #[error("a new code can be sent in {retry_after_secs} s")]
    ResendTooSoon {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// The account is locked; an administrator must unlock it.
    #[error("the account is locked; contact your administrator")]
    AccountLocked,
    /// The organization requires two-step authentication and the user has not set it up.
    #[error("two-step setup required: {message}")]
    SetupRequired {
        /// What the user must do, from the server.
        message: String,
    },
    /// The server revoked this device (admin reset, password change); local registration
    /// was removed and the next sign-in is a first access.
    #[error("this device was revoked; sign in again to register it")]
    DeviceRevoked,
    /// The chosen channel is not configured for this user.
    #[error("that channel is not configured for this account")]
    ChannelNotConfigured,
    /// The server could not deliver the SMS or email; try another channel.
    #[error("the code could not be delivered: {message}")]
    DeliveryFailed {
        /// From the server.
        message: String,
    },
    /// The operation needs a session and there is none (or it expired).
    #[error("not signed in")]
    NotSignedIn,
    /// The operation needs a registered device and there is none.
    #[error("this device is not registered")]
    NotRegistered,
    /// There is no sign-in waiting for a code.
    #[error("no sign-in in progress")]
    NoSignInInProgress,
    /// The server could not be reached (no network, refused, DNS, TLS).
    #[error("cannot reach the server: {message}")]
    Offline {
        /// What failed, without secrets.
        message: String,
    },
    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server failed (5xx) or answered something this client cannot read.
    #[error("server error {status}: {message}")]
    Server {
        /// HTTP status (0 when the response could not be read).
        status: u16,
        /// From the server or the client.
        message: String,
    },
    /// The server refused the request for a reason not listed above.
    #[error("the server refused the request ({code}): {message}")]
    Rejected {
        /// The server's error code (`invalid_field`, `forbidden`, ...).
        code: String,
        /// From the server.
        message: String,
    },
    /// Reading or writing the data directory failed (disk full, permissions, in use).
    #[error("storage error: {message}")]
    Storage {
        /// What failed.
        message: String,
    },
    /// The data directory or a record in it is damaged. Nothing was changed.
    #[error("the local data is damaged: {message}")]
    CorruptState {
        /// What is damaged.
        message: String,
    },
    /// The data directory belongs to something else. Nothing was changed.
    #[error("the data directory is not twostep's: {message}")]
    ForeignState {
        /// What was found.
        message: String,
    },
    /// The data directory was written by a newer version. Nothing was changed.
    #[error("the data directory has format {version}, newer than this version understands")]
    NewerState {
        /// The format found on disk.
        version: u32,
    },
    /// The platform key store failed.
    #[error("key store: {message}")]
    KeyStore {
        /// What failed.
        message: String,
    },
    /// An argument was rejected before anything was sent or stored.
    #[error("invalid {field}: {message}")]
    InvalidInput {
        /// Which argument.
        field: String,
        /// Why.
        message: String,
    },
    /// A bug or an unexpected failure (random number generator, key generation).
    #[error("internal error: {message}")]
    Internal {
        /// What failed.
        message: String,
    },
    /// The account data is locked: unlock with the passcode first.
    #[error("locked; enter the passcode")]
    Locked,
    /// The organization requires a passcode: set one before using the app (and it cannot
    /// be removed).
    #[error("your organization requires a passcode")]
    PasscodeRequired,
    /// There is no passcode to check, change or remove.
    #[error("no passcode is set")]
    PasscodeNotSet,
    /// The passcode is wrong. The attempt was counted.
    #[error("wrong passcode{}{}", attempts_left.map(|n| format!(" ({n} attempts left before the local data is wiped)")).unwrap_or_default(), locked_until.map(|t| format!("; next attempt at {t}")).unwrap_or_default())]
    PasscodeIncorrect {
        /// Attempts left before the local data is wiped (org policy only).
        attempts_left: Option<u32>,
        /// When the next attempt is allowed, if a delay now runs (local Unix seconds).
        locked_until: Option<u64>,
    },
    /// Too many wrong passcodes: no attempt is accepted before `until`. Nothing was counted.
    #[error("too many wrong passcodes; try again at {until}")]
    PasscodeLockedOut {
        /// When the next attempt is allowed (local Unix seconds).
        until: u64,
    },
    /// The new passcode was refused. Nothing changed.
    #[error("passcode refused: {reason}")]
    PasscodeTooWeak {
        /// Why.
        reason: PasscodeWeakness,
    },
    /// Too many wrong passcodes under the org policy: the local data was wiped. Sign in
    /// again with password and code.
    #[error("too many wrong passcodes: the local data was wiped; sign in again")]
    Wiped,
    /// "Forgot passcode": the password was right, but it does not open this device's local
    /// data (it changed since, or no recovery was set up). Unlock with the passcode, or
    /// reset the local data and sign in again.
    #[error(
        "this password cannot recover the local data; unlock with the passcode or reset the local data"
    )]
    LocalDataUnrecoverable,
    /// The authenticator refused an input or operation: a malformed otpauth URI or import
    /// file, a duplicate or unknown account, a wrong or weak export password, ... Nothing
    /// was stored.
    #[error("{message}")]
    Authenticator {
        /// Why, as a stable snake_case name (`invalid_base32`, `invalid_digits`,
        /// `duplicate`, `unknown_account`, `invalid_entries`, `wrong_password`, ...; see
        /// `twostep_otp::Error::code`).
        reason: String,
        /// For people; never contains a secret.
        message: String,
        /// With `invalid_entries`: every invalid entry of the import file.
        entries: Vec<twostep_otp::EntryError>,
    },
}

impl TwostepError {
    /// A stable snake_case name for scripts and logs (`invalid_code`, `offline`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidCode { .. } => "invalid_code",
            Self::CodeExpired => "code_expired",
            Self::ChallengeExpired => "challenge_expired",
            Self::RateLimited { .. } => "rate_limited",
            Self::ResendTooSoon { .. } => "resend_too_soon",
            Self::AccountLocked => "account_locked",
            Self::SetupRequired { .. } => "setup_required",
            Self::DeviceRevoked => "device_revoked",
            Self::ChannelNotConfigured => "channel_not_configured",
            Self::DeliveryFailed { .. } => "delivery_failed",
            Self::NotSignedIn => "not_signed_in",
            Self::NotRegistered => "not_registered",
            Self::NoSignInInProgress => "no_sign_in_in_progress",
            Self::Offline { .. } => "offline",
            Self::Timeout => "timeout",
            Self::Server { .. } => "server",
            Self::Rejected { .. } => "rejected",
            Self::Storage { .. } => "storage",
            Self::CorruptState { .. } => "corrupt_state",
            Self::ForeignState { .. } => "foreign_state",
            Self::NewerState { .. } => "newer_state",
            Self::KeyStore { .. } => "key_store",
            Self::InvalidInput { .. } => "invalid_input",
            Self::Internal { .. } => "internal",
            Self::Locked => "locked",
            Self::PasscodeRequired => "passcode_required",
            Self::PasscodeNotSet => "passcode_not_set",
            Self::PasscodeIncorrect { .. } => "passcode_incorrect",
            Self::PasscodeLockedOut { .. } => "passcode_locked_out",
            Self::PasscodeTooWeak { .. } => "passcode_too_weak",
            Self::Wiped => "wiped",
            Self::LocalDataUnrecoverable => "local_data_unrecoverable",
            Self::Authenticator { .. } => "authenticator",
        }
    }

    /// Seconds to wait before retrying, for errors that say so.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            Self::RateLimited { retry_after_secs } | Self::ResendTooSoon { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    /// When a passcode attempt is next allowed (local Unix seconds), for errors that say so.
    pub fn locked_until(&self) -> Option<u64> {
        match self {
            Self::PasscodeLockedOut { until } => Some(*until),
            Self::PasscodeIncorrect { locked_until, .. } => *locked_until,
            _ => None,
        }
    }
}

/// Results inside the crate.
pub(crate) type InternalResult<T> = std::result::Result<T, Error>;

/// The detailed error used inside the crate.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The request did not complete (connect, TLS, timeout, broken connection).
    #[error("HTTP transport failed: {0}")]
    Transport(#[source] reqwest::Error),
    /// The server answered with an error body.
    #[error("server answered {status} {code}: {message}")]
    Api {
        status: u16,
        code: ErrorCode,
        message: String,
        retry_after_secs: Option<u64>,
        attempts_left: Option<u32>,
    },
    /// The server answered something this client does not understand.
    #[error("unexpected response (HTTP {status}): {message}")]
    Protocol { status: u16, message: String },
    /// The HTTP client could not be configured (bad URL, bad CA certificate).
    #[error("invalid server configuration: {field}: {message}")]
    Config { field: &'static str, message: String },
    #[error("sled: {0}")]
    Sled(#[from] sled::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A sealed record did not open: tampered, truncated or sealed under another key.
    #[error("record {record} did not open: {source}")]
    Unseal {
        record: &'static str,
        #[source]
        source: SealError,
    },
    /// Sealing failed (only when the random number generator does).
    #[error("sealing failed: {0}")]
    Seal(#[source] SealError),
    #[error("corrupt state: {0}")]
    Corrupt(String),
    #[error("foreign state: {0}")]
    Foreign(String),
    #[error("state format {0} is newer than this version")]
    Newer(u32),
    #[error("key store: {0}")]
    KeyStore(#[from] KeyStoreError),
    #[error("invalid {field}: {message}")]
    InvalidInput { field: &'static str, message: String },
    #[error("not signed in")]
    NotSignedIn,
    #[error("not registered")]
    NotRegistered,
    #[error("no sign-in in progress")]
    NoSignInInProgress,
    #[error("internal: {0}")]
    Internal(String),
    #[error("locked")]
    Locked,
    #[error("a passcode is required")]
    PasscodeRequired,
    #[error("no passcode is set")]
    PasscodeNotSet,
    #[error("wrong passcode")]
    PasscodeIncorrect { attempts_left: Option<u32>, locked_until: Option<u64> },
    #[error("passcode locked out until {0}")]
    PasscodeLockedOut(u64),
    #[error("passcode refused: {0}")]
    PasscodeTooWeak(PasscodeWeakness),
    #[error("wiped after too many wrong passcodes")]
    Wiped,
    #[error("the password does not open the recovery wrap")]
    Unrecoverable,
    #[error("authenticator: {0}")]
    Otp(twostep_otp::Error),
}

impl Error {
    /// The server's error code, when the server answered with one.
    pub(crate) fn api_code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

impl From<Error> for TwostepError {
    fn from(error: Error) -> Self {
        tracing::debug!(%error, "twostep operation failed");
        match error {
            Error::Transport(e) => transport(&e),
            Error::Api { status, code, message, retry_after_secs, attempts_left } => {
                api(status, code, message, retry_after_secs, attempts_left)
            }
            Error::Protocol { status, message } => TwostepError::Server { status, message },
            Error::Config { field, message } => {
                TwostepError::InvalidInput { field: field.to_owned(), message }
            }
            Error::Sled(e) => sled_error(e),
            Error::Io { path, source } => {
                TwostepError::Storage { message: format!("{}: {source}", path.display()) }
            }
            Error::Unseal { record, source } => TwostepError::CorruptState {
                message: format!("record {record} does not open ({source})"),
            },
            Error::Seal(e) => TwostepError::Internal { message: e.to_string() },
            Error::Corrupt(message) => TwostepError::CorruptState { message },
            Error::Foreign(message) => TwostepError::ForeignState { message },
            Error::Newer(version) => TwostepError::NewerState { version },
            Error::KeyStore(e) => TwostepError::KeyStore { message: e.to_string() },
            Error::InvalidInput { field, message } => {
                TwostepError::InvalidInput { field: field.to_owned(), message }
            }
            Error::NotSignedIn => TwostepError::NotSignedIn,
            Error::NotRegistered => TwostepError::NotRegistered,
            Error::NoSignInInProgress => TwostepError::NoSignInInProgress,
            Error::Internal(message) => TwostepError::Internal { message },
            Error::Locked => TwostepError::Locked,
            Error::PasscodeRequired => TwostepError::PasscodeRequired,
            Error::PasscodeNotSet => TwostepError::PasscodeNotSet,
            Error::PasscodeIncorrect { attempts_left, locked_until } => {
                TwostepError::PasscodeIncorrect { attempts_left, locked_until }
            }
            Error::PasscodeLockedOut(until) => TwostepError::PasscodeLockedOut { until },
            Error::PasscodeTooWeak(reason) => TwostepError::PasscodeTooWeak { reason },
            Error::Wiped => TwostepError::Wiped,
            Error::Unrecoverable => TwostepError::LocalDataUnrecoverable,
            Error::Otp(e) => authenticator(e),
        }
    }
}

fn authenticator(e: twostep_otp::Error) -> TwostepError {
    match e {
        twostep_otp::Error::Internal { reason } => {
            TwostepError::Internal { message: reason.to_owned() }
        }
        twostep_otp::Error::CorruptVault { reason } => {
            TwostepError::CorruptState { message: format!("authenticator vault: {reason}") }
        }
        e => {
            let entries = match &e {
                twostep_otp::Error::InvalidEntries { errors } => errors.clone(),
                _ => vec![],
            };
            TwostepError::Authenticator {
                reason: e.code().to_owned(),
                message: e.to_string(),
                entries,
            }
        }
    }
}

fn transport(e: &reqwest::Error) -> TwostepError {
    if e.is_timeout() {
        return TwostepError::Timeout;
    }
    // Walk the source chain for the most specific message (connection refused, DNS, TLS),
    // leaving out the URL, which may carry a challenge id.
    let mut message =
        String::from(if e.is_connect() { "connection failed" } else { "request failed" });
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message = cause.to_string();
        source = cause.source();
    }
    TwostepError::Offline { message }
}

fn api(
    status: u16,
    code: ErrorCode,
    message: String,
    retry_after_secs: Option<u64>,
    attempts_left: Option<u32>,
) -> TwostepError {
    match code {
        ErrorCode::InvalidCredentials => TwostepError::InvalidCredentials,
        ErrorCode::InvalidCode => {
            TwostepError::InvalidCode { attempts_left: attempts_left.unwrap_or(0) }
        }
        ErrorCode::CodeExpired => TwostepError::CodeExpired,
        ErrorCode::ChallengeExpired => TwostepError::ChallengeExpired,
        ErrorCode::RateLimited => {
            TwostepError::RateLimited { retry_after_secs: retry_after_secs.unwrap_or(1) }
        }
        ErrorCode::ResendTooSoon => {
            TwostepError::ResendTooSoon { retry_after_secs: retry_after_secs.unwrap_or(1) }
        }
        ErrorCode::AccountLocked => TwostepError::AccountLocked,
        ErrorCode::SetupRequired => TwostepError::SetupRequired { message },
        ErrorCode::DeviceRevoked => TwostepError::DeviceRevoked,
        ErrorCode::Unauthorized => TwostepError::NotSignedIn,
        ErrorCode::ChannelNotConfigured => TwostepError::ChannelNotConfigured,
        ErrorCode::DeliveryFailed => TwostepError::DeliveryFailed { message },
        ErrorCode::Internal | ErrorCode::Unavailable => TwostepError::Server { status, message },
        _ if status == 429 => {
            TwostepError::RateLimited { retry_after_secs: retry_after_secs.unwrap_or(1) }
        }
        _ if status >= 500 => TwostepError::Server { status, message },
        other => TwostepError::Rejected { code: other.as_str().to_owned(), message },
    }
}

/// Whether sled failed because another handle holds the database's lock.
pub(crate) fn is_lock_conflict(e: &sled::Error) -> bool {
    // sled reports a held lock as an `Other` error with this text.
    matches!(e, sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock"))
}

fn sled_error(e: sled::Error) -> TwostepError {
    match e {
        e if is_lock_conflict(&e) => TwostepError::Storage {
            message: "the data directory is in use (by another process or another open instance)"
                .to_owned(),
        },
        sled::Error::Io(io) => TwostepError::Storage { message: io.to_string() },
        sled::Error::Corruption { .. } => {
            TwostepError::CorruptState { message: "the database is corrupt".to_owned() }
        }
        sled::Error::Unsupported(message) => TwostepError::CorruptState { message },
        other => TwostepError::Storage { message: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: ErrorCode, retry: Option<u64>, left: Option<u32>) -> TwostepError {
        Error::Api {
            status: code.http_status(),
            code,
            message: "m".into(),
            retry_after_secs: retry,
            attempts_left: left,
        }
        .into()
    }

    #[test]
    fn server_codes_become_actionable_errors() {
        assert_eq!(
            api_error(ErrorCode::InvalidCredentials, None, None),
            TwostepError::InvalidCredentials
        );
        assert_eq!(
            api_error(ErrorCode::InvalidCode, None, Some(3)),
            TwostepError::InvalidCode { attempts_left: 3 }
        );
        assert_eq!(
            api_error(ErrorCode::RateLimited, Some(42), None),
            TwostepError::RateLimited { retry_after_secs: 42 }
        );
        assert_eq!(api_error(ErrorCode::DeviceRevoked, None, None), TwostepError::DeviceRevoked);
        assert_eq!(api_error(ErrorCode::Unauthorized, None, None), TwostepError::NotSignedIn);
        assert!(matches!(
            api_error(ErrorCode::Unavailable, None, None),
            TwostepError::Server { status: 503, .. }
        ));
        assert!(matches!(
            api_error(ErrorCode::Forbidden, None, None),
            TwostepError::Rejected { ref code, .. } if code == "forbidden"
        ));
        assert!(matches!(
            api_error(ErrorCode::Unknown, None, None),
            TwostepError::Server { status: 500, .. }
        ));
    }

    #[test]
    fn every_public_error_has_a_code_and_a_message() {
        let e = TwostepError::RateLimited { retry_after_secs: 9 };
        assert_eq!(e.code(), "rate_limited");
        assert_eq!(e.retry_after_secs(), Some(9));
        assert!(e.to_string().contains('9'));
    }

    #[test]
    fn passcode_failures_keep_their_details() {
        let e = TwostepError::from(Error::PasscodeIncorrect {
            attempts_left: Some(3),
            locked_until: Some(60),
        });
        assert_eq!(
            e,
            TwostepError::PasscodeIncorrect { attempts_left: Some(3), locked_until: Some(60) }
        );
        assert_eq!((e.code(), e.locked_until()), ("passcode_incorrect", Some(60)));
        assert!(e.to_string().contains("3 attempts left"), "{e}");
        let e = TwostepError::from(Error::PasscodeLockedOut(99));
        assert_eq!((e.code(), e.locked_until()), ("passcode_locked_out", Some(99)));
        let e = TwostepError::from(Error::PasscodeTooWeak(PasscodeWeakness::Sequence));
        assert_eq!(e, TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::Sequence });
        assert!(e.to_string().contains("1234"), "{e}");
        for (internal, code) in [
            (Error::Locked, "locked"),
            (Error::PasscodeRequired, "passcode_required"),
            (Error::PasscodeNotSet, "passcode_not_set"),
            (Error::Wiped, "wiped"),
            (Error::Unrecoverable, "local_data_unrecoverable"),
        ] {
            assert_eq!(TwostepError::from(internal).code(), code);
        }
    }

    #[test]
    fn storage_failures_say_what_happened() {
        let busy = sled::Error::Io(std::io::Error::new(std::io::ErrorKind::WouldBlock, "lock"));
        assert!(
            matches!(TwostepError::from(Error::Sled(busy)), TwostepError::Storage { message } if message.contains("in use"))
        );
        assert!(matches!(
            TwostepError::from(Error::Newer(7)),
            TwostepError::NewerState { version: 7 }
        ));
    }
}
