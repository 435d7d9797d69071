//! The one place where failures become what Kotlin and Swift see.
//!
//! The core already reduces its detailed internal error to [`twostep_core::TwostepError`],
//! a small set of cases a UI can act on. This module mirrors that enum variant by variant
//! (an exhaustive `match`, so a variant added to the core does not compile here until it is
//! mapped) with FFI-friendly field types, and adds the failures only the bindings have (a
//! panic or a stopped runtime). In Kotlin it arrives as the sealed class
//! `TwostepException` (`TwostepException.InvalidCode(attemptsLeft)`), in Swift as the
//! thrown enum `TwostepError` (`.invalidCode(attemptsLeft:)`).
//!
//! String fields are called `detail`, not `message`: Kotlin exceptions already have a
//! `message` property.

use crate::types::{PasscodeWeakness, count, secs, time};
use std::time::SystemTime;

/// What went wrong, in terms a UI can act on. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum TwostepError {
    /// Username or password is wrong (the server does not say which).
    #[error("wrong username or password")]
    InvalidCredentials,
    /// The second-step code is wrong.
    #[error("wrong code ({attempts_left} attempts left)")]
    InvalidCode {
        /// Tries left for this code (0: ask for a new code or sign in again).
        attempts_left: i32,
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
        retry_after_secs: i64,
    },
    /// A new code was requested before the resend cooldown elapsed.
    #[error("a new code can be sent in {retry_after_secs} s")]
    ResendTooSoon {
        /// Seconds to wait.
        retry_after_secs: i64,
    },
    /// The account is locked; an administrator must unlock it.
    #[error("the account is locked; contact your administrator")]
    AccountLocked,
    /// The organization requires two-step authentication and the user has not set it up.
    #[error("two-step setup required: {detail}")]
    SetupRequired {
        /// What the user must do, from the server.
        detail: String,
    },
    /// The server revoked this device; the local registration was removed and the next
    /// sign-in is a first access.
    #[error("this device was revoked; sign in again to register it")]
    DeviceRevoked,
    /// The chosen channel is not configured for this user.
    #[error("that channel is not configured for this account")]
    ChannelNotConfigured,
    /// The server could not deliver the SMS or email; try another channel.
    #[error("the code could not be delivered: {detail}")]
    DeliveryFailed {
        /// From the server.
        detail: String,
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
    #[error("cannot reach the server: {detail}")]
    Offline {
        /// What failed, without secrets.
        detail: String,
    },
    /// The server did not answer in time.
    #[error("the server did not answer in time")]
    Timeout,
    /// The server failed (5xx) or answered something this client cannot read.
    #[error("server error {status}: {detail}")]
    Server {
        /// HTTP status (0 when the response could not be read).
        status: i32,
        /// From the server or the client.
        detail: String,
    },
    /// The server refused the request for a reason not listed above.
    #[error("the server refused the request ({code}): {detail}")]
    Rejected {
        /// The server's error code (`invalid_field`, `forbidden`, ...).
        code: String,
        /// From the server.
        detail: String,
    },
    /// Reading or writing the data directory failed (disk full, permissions, in use).
    #[error("storage error: {detail}")]
    Storage {
        /// What failed.
        detail: String,
    },
    /// The data directory or a record in it is damaged. Nothing was changed.
    #[error("the local data is damaged: {detail}")]
    CorruptState {
        /// What is damaged.
        detail: String,
    },
    /// The data directory belongs to something else. Nothing was changed.
    #[error("the data directory is not twostep's: {detail}")]
    ForeignState {
        /// What was found.
        detail: String,
    },
    /// The data directory was written by a newer version. Nothing was changed.
    #[error("the data directory has format {version}, newer than this version understands")]
    NewerState {
        /// The format found on disk.
        version: i32,
    },
    /// The platform key store failed (see [`crate::PlatformKeyError`] for what the
    /// platform reported).
    #[error("key store: {detail}")]
    KeyStore {
        /// What failed.
        detail: String,
    },
    /// An argument was rejected before anything was sent or stored.
    #[error("invalid {field}: {detail}")]
    InvalidInput {
        /// Which argument.
        field: String,
        /// Why.
        detail: String,
    },
    /// A bug or an unexpected failure (random number generator, a panic in the library).
    #[error("internal error: {detail}")]
    Internal {
        /// What failed.
        detail: String,
    },
    /// The account data is locked: unlock with the passcode (PIN) first.
    #[error("locked; enter the passcode")]
    Locked,
    /// The organization requires a passcode: set one first (and it cannot be removed).
    #[error("your organization requires a passcode")]
    PasscodeRequired,
    /// There is no passcode to check, change or remove.
    #[error("no passcode is set")]
    PasscodeNotSet,
    /// Wrong passcode; the attempt was counted.
    #[error("wrong passcode")]
    PasscodeIncorrect {
        /// Attempts left before the local data is wiped (org policy only).
        attempts_left: Option<i32>,
        /// When the next attempt is allowed, if a delay now runs.
        locked_until: Option<SystemTime>,
    },
    /// Too many wrong passcodes: no attempt is accepted before `until`.
    #[error("too many wrong passcodes; try again later")]
    PasscodeLockedOut {
        /// When the next attempt is allowed.
        until: SystemTime,
    },
    /// The new passcode was refused; nothing changed.
    #[error("passcode refused")]
    PasscodeTooWeak {
        /// Why.
        reason: PasscodeWeakness,
    },
    /// Too many wrong passcodes under the org policy: the local data was wiped; sign in again.
    #[error("too many wrong passcodes: the local data was wiped; sign in again")]
    Wiped,
    /// "Forgot passcode": this password cannot open the local data; unlock with the
    /// passcode or reset the local data.
    #[error(
        "this password cannot recover the local data; unlock with the passcode or reset the local data"
    )]
    LocalDataUnrecoverable,
    /// The authenticator refused an input or operation (malformed otpauth URI or import
    /// file, duplicate or unknown account, wrong or weak export password, ...); nothing
    /// was stored.
    #[error("{detail}")]
    Authenticator {
        /// Why, as a stable snake_case name (`invalid_base32`, `duplicate`,
        /// `invalid_entries`, `wrong_password`, ...).
        reason: String,
        /// For people; never contains a secret.
        detail: String,
        /// With `invalid_entries`: every invalid entry of the import file.
        entries: Vec<crate::ImportIssue>,
    },
}

impl From<twostep_core::TwostepError> for TwostepError {
    fn from(error: twostep_core::TwostepError) -> Self {
        use twostep_core::TwostepError as E;
        match error {
            E::InvalidCredentials => Self::InvalidCredentials,
            E::InvalidCode { attempts_left } => {
                Self::InvalidCode { attempts_left: count(attempts_left) }
            }
            E::CodeExpired => Self::CodeExpired,
            E::ChallengeExpired => Self::ChallengeExpired,
            E::RateLimited { retry_after_secs } => {
                Self::RateLimited { retry_after_secs: secs(retry_after_secs) }
            }
            E::ResendTooSoon { retry_after_secs } => {
                Self::ResendTooSoon { retry_after_secs: secs(retry_after_secs) }
            }
            E::AccountLocked => Self::AccountLocked,
            E::SetupRequired { message } => Self::SetupRequired { detail: message },
            E::DeviceRevoked => Self::DeviceRevoked,
            E::ChannelNotConfigured => Self::ChannelNotConfigured,
            E::DeliveryFailed { message } => Self::DeliveryFailed { detail: message },
            E::NotSignedIn => Self::NotSignedIn,
            E::NotRegistered => Self::NotRegistered,
            E::NoSignInInProgress => Self::NoSignInInProgress,
            E::Offline { message } => Self::Offline { detail: message },
            E::Timeout => Self::Timeout,
            E::Server { status, message } => {
                Self::Server { status: i32::from(status), detail: message }
            }
            E::Rejected { code, message } => Self::Rejected { code, detail: message },
            E::Storage { message } => Self::Storage { detail: message },
            E::CorruptState { message } => Self::CorruptState { detail: message },
            E::ForeignState { message } => Self::ForeignState { detail: message },
            E::NewerState { version } => Self::NewerState { version: count(version) },
            E::KeyStore { message } => Self::KeyStore { detail: message },
            E::InvalidInput { field, message } => Self::InvalidInput { field, detail: message },
            E::Internal { message } => Self::Internal { detail: message },
            E::Locked => Self::Locked,
            E::PasscodeRequired => Self::PasscodeRequired,
            E::PasscodeNotSet => Self::PasscodeNotSet,
            E::PasscodeIncorrect { attempts_left, locked_until } => Self::PasscodeIncorrect {
                attempts_left: attempts_left.map(count),
                locked_until: locked_until.map(time),
            },
            E::PasscodeLockedOut { until } => Self::PasscodeLockedOut { until: time(until) },
            E::PasscodeTooWeak { reason } => Self::PasscodeTooWeak { reason: reason.into() },
            E::Wiped => Self::Wiped,
            E::LocalDataUnrecoverable => Self::LocalDataUnrecoverable,
            E::Authenticator { reason, message, entries } => Self::Authenticator {
                reason,
                detail: message,
                entries: entries.into_iter().map(Into::into).collect(),
            },
        }
    }
}

impl From<tokio::task::JoinError> for TwostepError {
    fn from(error: tokio::task::JoinError) -> Self {
        let detail = if error.is_panic() {
            let payload = error.into_panic();
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned());
            format!("the library panicked: {}", text.unwrap_or_else(|| "no message".to_owned()))
        } else {
            "the operation was cancelled because the library is shutting down".to_owned()
        };
        Self::Internal { detail }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twostep_core::TwostepError as Core;

    #[test]
    fn every_core_error_keeps_what_the_ui_needs() {
        assert_eq!(
            TwostepError::from(Core::InvalidCode { attempts_left: 4 }),
            TwostepError::InvalidCode { attempts_left: 4 }
        );
        assert_eq!(
            TwostepError::from(Core::RateLimited { retry_after_secs: 30 }),
            TwostepError::RateLimited { retry_after_secs: 30 }
        );
        assert_eq!(
            TwostepError::from(Core::ResendTooSoon { retry_after_secs: 7 }),
            TwostepError::ResendTooSoon { retry_after_secs: 7 }
        );
        assert_eq!(
            TwostepError::from(Core::Offline { message: "refused".into() }),
            TwostepError::Offline { detail: "refused".into() }
        );
        assert_eq!(
            TwostepError::from(Core::Server { status: 503, message: "busy".into() }),
            TwostepError::Server { status: 503, detail: "busy".into() }
        );
        assert_eq!(
            TwostepError::from(Core::InvalidInput {
                field: "code".into(),
                message: "is empty".into()
            }),
            TwostepError::InvalidInput { field: "code".into(), detail: "is empty".into() }
        );
        assert_eq!(TwostepError::from(Core::DeviceRevoked), TwostepError::DeviceRevoked);
        assert_eq!(
            TwostepError::from(Core::NewerState { version: 3 }),
            TwostepError::NewerState { version: 3 }
        );
    }

    #[test]
    fn numbers_out_of_range_saturate_instead_of_wrapping() {
        assert_eq!(
            TwostepError::from(Core::InvalidCode { attempts_left: u32::MAX }),
            TwostepError::InvalidCode { attempts_left: i32::MAX }
        );
        assert_eq!(
            TwostepError::from(Core::RateLimited { retry_after_secs: u64::MAX }),
            TwostepError::RateLimited { retry_after_secs: i64::MAX }
        );
    }

    #[test]
    fn messages_match_the_core_and_carry_no_field_names() {
        let core = Core::InvalidCode { attempts_left: 2 };
        assert_eq!(TwostepError::from(core.clone()).to_string(), core.to_string());
        let core = Core::Rejected { code: "forbidden".into(), message: "no".into() };
        assert_eq!(TwostepError::from(core.clone()).to_string(), core.to_string());
    }

    #[test]
    fn a_panic_in_a_task_becomes_an_internal_error() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let join =
            runtime.block_on(async { tokio::spawn(async { panic!("boom") }).await.unwrap_err() });
        assert!(
            matches!(TwostepError::from(join), TwostepError::Internal { detail } if detail.contains("boom"))
        );
    }
}
