//! Errors: a detailed internal [`Error`] and the small public [`TwostepError`]
//! (`public.rs`).
//!
//! Inside the crate, failures keep their cause (the reqwest error, the sled error, which
//! record failed to open) so that logs can say what happened. A UI cannot act on a reqwest
//! error, though; it needs to know "wrong code, 3 tries left" or "offline". Each internal
//! error is handled here and nowhere else, in two decisions: how it is logged
//! ([`Error::handling`]: an expected outcome is passed through, a failure of the
//! environment is logged, a bug is reported as unexpected) and which public error it
//! becomes (`From<Error> for TwostepError`), so every public function reports the same
//! failure the same way.

mod public;

pub use public::{AuthenticatorReason, Rejection, Result, TwostepError};

use std::path::PathBuf;
use std::time::Duration;
use twostep_otp::UnixTime;
use twostep_proto::ErrorCode;

use crate::keystore::KeyStoreError;
use crate::passcode::PasscodeWeakness;
use crate::seal::SealError;

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
    /// The server's certificate is not trusted (by the platform, nor by the extra CA), or no
    /// trust store could be read.
    #[error("untrusted server: {0}")]
    Untrusted(String),
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
    PasscodeIncorrect {
        attempts_left: Option<u32>,
        next_attempt_at: Option<UnixTime>,
        /// The (effective) time of the attempt, from which the wait is counted.
        now: UnixTime,
    },
    #[error("passcode locked out until {until}")]
    PasscodeLockedOut { until: UnixTime, now: UnixTime },
    #[error("passcode refused: {0}")]
    PasscodeTooWeak(PasscodeWeakness),
    #[error("wiped after too many wrong passcodes")]
    Wiped,
    #[error("the password does not open the recovery wrap")]
    Unrecoverable,
    #[error("authenticator: {0}")]
    Otp(twostep_otp::Error),
    #[error("no server configured")]
    NoServer,
}

/// How an internal error is treated on its way out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Handling {
    /// An expected outcome the user caused or can fix (wrong code, locked, bad input):
    /// passed through, logged at debug level only.
    PassThrough,
    /// The environment failed (network, disk, key store, a damaged data dir): logged as a
    /// warning, reported as such.
    Log,
    /// A bug or an impossible state (the RNG failed, the server broke the contract):
    /// logged as an error.
    Unexpected,
}

impl Error {
    /// How this error is treated: see [`Handling`].
    pub(crate) fn handling(&self) -> Handling {
        match self {
            Self::Api { code: ErrorCode::Internal | ErrorCode::Unknown, .. }
            | Self::Protocol { .. }
            | Self::Seal(_)
            | Self::Internal(_)
            | Self::Otp(twostep_otp::Error::Internal { .. }) => Handling::Unexpected,
            Self::KeyStore(
                KeyStoreError::Cancelled { .. } | KeyStoreError::NotAuthenticated { .. },
            ) => Handling::PassThrough,
            Self::Transport(_)
            | Self::Untrusted(_)
            | Self::Api { code: ErrorCode::Unavailable, .. }
            | Self::Sled(_)
            | Self::Io { .. }
            | Self::Unseal { .. }
            | Self::Corrupt(_)
            | Self::Foreign(_)
            | Self::Newer(_)
            | Self::KeyStore(_)
            | Self::Config { .. }
            | Self::Otp(twostep_otp::Error::CorruptVault { .. }) => Handling::Log,
            Self::Api { .. }
            | Self::InvalidInput { .. }
            | Self::NotSignedIn
            | Self::NotRegistered
            | Self::NoSignInInProgress
            | Self::Locked
            | Self::PasscodeRequired
            | Self::PasscodeNotSet
            | Self::PasscodeIncorrect { .. }
            | Self::PasscodeLockedOut { .. }
            | Self::PasscodeTooWeak(_)
            | Self::Wiped
            | Self::Unrecoverable
            | Self::Otp(_)
            | Self::NoServer => Handling::PassThrough,
        }
    }

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
        match error.handling() {
            Handling::PassThrough => tracing::debug!(%error, "twostep operation refused"),
            Handling::Log => tracing::warn!(%error, "twostep operation failed"),
            Handling::Unexpected => tracing::error!(%error, "twostep: unexpected failure"),
        }
        match error {
            Error::Transport(e) => transport(&e),
            Error::Untrusted(message) => TwostepError::ServerNotTrusted { message },
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
            Error::KeyStore(KeyStoreError::Cancelled { .. }) => {
                TwostepError::AuthenticationCancelled
            }
            Error::KeyStore(KeyStoreError::NotAuthenticated { message }) => {
                TwostepError::AuthenticationFailed { message }
            }
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
            Error::PasscodeIncorrect { attempts_left, next_attempt_at, now } => {
                TwostepError::PasscodeIncorrect {
                    attempts_left,
                    next_attempt_at,
                    retry_after: next_attempt_at.map(|at| now.until(at)),
                }
            }
            Error::PasscodeLockedOut { until, now } => {
                TwostepError::PasscodeLockedOut { until, retry_after: now.until(until) }
            }
            Error::NoServer => TwostepError::NoServer,
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
            TwostepError::Authenticator { reason: e.kind(), message: e.to_string(), entries }
        }
    }
}

fn transport(e: &reqwest::Error) -> TwostepError {
    if e.is_timeout() {
        return TwostepError::Timeout;
    }
    if let Some(message) = crate::session::certificate_refusal(e) {
        return TwostepError::ServerNotTrusted { message };
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
    // A server that asks for no wait (or says nothing) still gets a second.
    let retry_after = Duration::from_secs(retry_after_secs.unwrap_or(1).max(1));
    match code {
        ErrorCode::InvalidCredentials => TwostepError::InvalidCredentials,
        ErrorCode::InvalidCode => {
            TwostepError::InvalidCode { attempts_left: attempts_left.unwrap_or(0) }
        }
        ErrorCode::CodeExpired => TwostepError::CodeExpired,
        ErrorCode::ChallengeExpired => TwostepError::ChallengeExpired,
        ErrorCode::RateLimited => TwostepError::RateLimited { retry_after },
        ErrorCode::ResendTooSoon => TwostepError::ResendTooSoon { retry_after },
        ErrorCode::AccountLocked => TwostepError::AccountLocked,
        ErrorCode::SetupRequired => TwostepError::SetupRequired { message },
        ErrorCode::DeviceRevoked => TwostepError::DeviceRevoked,
        ErrorCode::Unauthorized => TwostepError::NotSignedIn,
        ErrorCode::ChannelNotConfigured => TwostepError::ChannelNotConfigured,
        ErrorCode::DeliveryFailed => TwostepError::DeliveryFailed { message },
        ErrorCode::Internal | ErrorCode::Unavailable => TwostepError::Server { status, message },
        _ if status == 429 => TwostepError::RateLimited { retry_after },
        _ if status >= 500 => TwostepError::Server { status, message },
        other => TwostepError::Rejected { reason: rejection(other), message },
    }
}

/// The kind of a refusal no more specific error covers.
fn rejection(code: ErrorCode) -> Rejection {
    match code {
        ErrorCode::InvalidRequest
        | ErrorCode::InvalidField
        | ErrorCode::PayloadTooLarge
        | ErrorCode::UnsupportedMediaType
        | ErrorCode::MethodNotAllowed => Rejection::BadRequest,
        ErrorCode::NotFound => Rejection::NotFound,
        ErrorCode::Forbidden => Rejection::Forbidden,
        ErrorCode::BadSignature => Rejection::BadSignature,
        ErrorCode::PolicyRequiresTwoStep => Rejection::PolicyRequiresTwoStep,
        ErrorCode::Conflict => Rejection::Conflict,
        _ => Rejection::Other,
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
            TwostepError::RateLimited { retry_after: Duration::from_secs(42) }
        );
        assert_eq!(
            api_error(ErrorCode::ResendTooSoon, Some(0), None),
            TwostepError::ResendTooSoon { retry_after: Duration::from_secs(1) },
            "never zero"
        );
        assert_eq!(api_error(ErrorCode::DeviceRevoked, None, None), TwostepError::DeviceRevoked);
        assert_eq!(api_error(ErrorCode::Unauthorized, None, None), TwostepError::NotSignedIn);
        assert!(matches!(
            api_error(ErrorCode::Unavailable, None, None),
            TwostepError::Server { status: 503, .. }
        ));
        assert!(matches!(
            api_error(ErrorCode::Forbidden, None, None),
            TwostepError::Rejected { reason: Rejection::Forbidden, .. }
        ));
        assert!(matches!(
            api_error(ErrorCode::Unknown, None, None),
            TwostepError::Server { status: 500, .. }
        ));
    }

    #[test]
    fn every_public_error_has_a_code_and_a_message() {
        let e = TwostepError::RateLimited { retry_after: Duration::from_secs(9) };
        assert_eq!(e.code(), "rate_limited");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(9)));
        assert_eq!(e.to_string(), "too many attempts; retry in 9 s");
    }

    #[test]
    fn passcode_failures_keep_their_details() {
        let at = UnixTime::from_secs;
        let e = TwostepError::from(Error::PasscodeIncorrect {
            attempts_left: Some(3),
            next_attempt_at: Some(at(1_060)),
            now: at(1_000),
        });
        assert_eq!(
            e,
            TwostepError::PasscodeIncorrect {
                attempts_left: Some(3),
                next_attempt_at: Some(at(1_060)),
                retry_after: Some(Duration::from_secs(60)),
            }
        );
        assert_eq!((e.code(), e.next_attempt_at()), ("passcode_incorrect", Some(at(1_060))));
        assert_eq!(
            e.to_string(),
            "wrong passcode (3 attempts left before the local data is wiped); try again in 60 s"
        );
        let e = TwostepError::from(Error::PasscodeLockedOut { until: at(1_300), now: at(1_000) });
        assert_eq!((e.code(), e.next_attempt_at()), ("passcode_locked_out", Some(at(1_300))));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(300)));
        assert_eq!(e.to_string(), "too many wrong passcodes; try again in 5 min");
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
    fn each_internal_error_is_handled_by_kind() {
        assert_eq!(Error::Internal("x".into()).handling(), Handling::Unexpected);
        assert_eq!(Error::Corrupt("x".into()).handling(), Handling::Log);
        assert_eq!(Error::Locked.handling(), Handling::PassThrough);
        let server_bug = Error::Api {
            status: 500,
            code: ErrorCode::Internal,
            message: "m".into(),
            retry_after_secs: None,
            attempts_left: None,
        };
        assert_eq!(server_bug.handling(), Handling::Unexpected);
        assert_eq!(TwostepError::from(Error::NoServer).code(), "no_server");
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
