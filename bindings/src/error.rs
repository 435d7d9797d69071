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
//!
//! **The text is the core's.** `Display` (Kotlin's `toString()`, Swift's `description`)
//! converts the error back to the core's and prints the core's text: there is no second
//! copy of the messages here to drift. The waits are computed once, in the core, and come
//! as native types (`retryAfter: Duration`, `nextAttemptAt: Instant` / `Date`), with the
//! methods `retryAfter()` and `nextAttemptAt()` for the variants that carry them.

use std::time::{Duration, SystemTime};
use twostep_core::UnixTime;

use crate::reasons::{AuthenticatorReason, Rejection};
use crate::types::{PasscodeWeakness, count, time};

/// What went wrong, in terms a UI can act on. Messages never contain a secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Error)]
#[uniffi::export(Display)]
pub enum TwostepError {
    /// Username or password is wrong (the server does not say which).
    InvalidCredentials,
    /// The second-step code is wrong.
    InvalidCode {
        /// Tries left for this code (0: ask for a new code or sign in again).
        attempts_left: i32,
    },
    /// The code has expired; ask for a new one (resend).
    CodeExpired,
    /// The sign-in is no longer valid (too old, or too many tries); sign in again.
    ChallengeExpired,
    /// Too many attempts; wait before trying again.
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// A new code was requested before the resend cooldown elapsed.
    ResendTooSoon {
        /// How long to wait.
        retry_after: Duration,
    },
    /// The account is locked; an administrator must unlock it.
    AccountLocked,
    /// The organization requires two-step authentication and the user has not set it up.
    SetupRequired {
        /// What the user must do, from the server.
        detail: String,
    },
    /// The server revoked this device; the local registration was removed and the next
    /// sign-in is a first access.
    DeviceRevoked,
    /// The chosen channel is not configured for this user.
    ChannelNotConfigured,
    /// The server could not deliver the SMS or email; try another channel.
    DeliveryFailed {
        /// From the server.
        detail: String,
    },
    /// The operation needs a session and there is none (or it expired).
    NotSignedIn,
    /// The operation needs a registered device and there is none.
    NotRegistered,
    /// There is no sign-in waiting for a code.
    NoSignInInProgress,
    /// The server could not be reached (no network, refused, DNS, TLS).
    Offline {
        /// What failed, without secrets.
        detail: String,
    },
    /// The server did not answer in time.
    Timeout,
    /// The server's TLS certificate is not trusted: neither the platform (its CA store, user
    /// and MDM-installed CAs, the app's network security config) nor the configured extra CA
    /// vouches for it, or it is expired or for another name. Nothing was sent.
    ServerNotTrusted {
        /// Why, from the TLS library.
        detail: String,
    },
    /// The server failed (5xx) or answered something this client cannot read.
    Server {
        /// HTTP status (0 when the response could not be read).
        status: i32,
        /// From the server or the client.
        detail: String,
    },
    /// The server refused the request for a reason not listed above.
    Rejected {
        /// Why, by kind.
        reason: Rejection,
        /// From the server.
        detail: String,
    },
    /// No server is known: none was configured and this data directory never completed a
    /// sign-in. The passcode and the authenticator work without one.
    NoServer,
    /// Reading or writing the data directory failed (disk full, permissions, in use).
    Storage {
        /// What failed.
        detail: String,
    },
    /// The data directory or a record in it is damaged. Nothing was changed.
    CorruptState {
        /// What is damaged.
        detail: String,
    },
    /// The data directory belongs to something else. Nothing was changed.
    ForeignState {
        /// What was found.
        detail: String,
    },
    /// The data directory was written by a newer version. Nothing was changed.
    NewerState {
        /// The format found on disk.
        version: i32,
    },
    /// The platform key store failed (see [`crate::PlatformKeyError`] for what the
    /// platform reported).
    KeyStore {
        /// What failed.
        detail: String,
    },
    /// The user dismissed the biometric prompt. Nothing changed.
    AuthenticationCancelled,
    /// The biometric prompt could not authenticate the user (no match, too many tries, no
    /// biometrics enrolled). Nothing changed; the passcode still works.
    AuthenticationFailed {
        /// What the platform said, without secrets.
        detail: String,
    },
    /// An argument was rejected before anything was sent or stored.
    InvalidInput {
        /// Which argument.
        field: String,
        /// Why.
        detail: String,
    },
    /// A bug or an unexpected failure (random number generator, a panic in the library).
    Internal {
        /// What failed.
        detail: String,
    },
    /// The account data is locked: unlock with the passcode (PIN) first.
    Locked,
    /// The organization requires a passcode: set one first (and it cannot be removed).
    PasscodeRequired,
    /// There is no passcode to check, change or remove.
    PasscodeNotSet,
    /// Wrong passcode; the attempt was counted.
    PasscodeIncorrect {
        /// Attempts left before the local data is wiped (org policy only).
        attempts_left: Option<i32>,
        /// When the next attempt is allowed, if a delay now runs.
        next_attempt_at: Option<SystemTime>,
        /// How long that delay is.
        retry_after: Option<Duration>,
    },
    /// Too many wrong passcodes: no attempt is accepted before `until`.
    PasscodeLockedOut {
        /// When the next attempt is allowed.
        until: SystemTime,
        /// How long until then.
        retry_after: Duration,
    },
    /// The new passcode was refused; nothing changed.
    PasscodeTooWeak {
        /// Why.
        reason: PasscodeWeakness,
    },
    /// Too many wrong passcodes under the org policy: the local data was wiped; sign in again.
    Wiped,
    /// "Forgot passcode": this password cannot open the local data; unlock with the
    /// passcode or reset the local data.
    LocalDataUnrecoverable,
    /// The authenticator refused an input or operation (malformed otpauth URI or import
    /// file, duplicate or unknown account, wrong or weak export password, ...); nothing
    /// was stored.
    Authenticator {
        /// Why (`InvalidBase32`, `Duplicate`, `InvalidEntries`, `WrongPassword`, ...).
        reason: AuthenticatorReason,
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
            E::RateLimited { retry_after } => Self::RateLimited { retry_after },
            E::ResendTooSoon { retry_after } => Self::ResendTooSoon { retry_after },
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
            E::ServerNotTrusted { message } => Self::ServerNotTrusted { detail: message },
            E::Server { status, message } => {
                Self::Server { status: i32::from(status), detail: message }
            }
            E::Rejected { reason, message } => {
                Self::Rejected { reason: reason.into(), detail: message }
            }
            E::NoServer => Self::NoServer,
            E::Storage { message } => Self::Storage { detail: message },
            E::CorruptState { message } => Self::CorruptState { detail: message },
            E::ForeignState { message } => Self::ForeignState { detail: message },
            E::NewerState { version } => Self::NewerState { version: count(version) },
            E::KeyStore { message } => Self::KeyStore { detail: message },
            E::AuthenticationCancelled => Self::AuthenticationCancelled,
            E::AuthenticationFailed { message } => Self::AuthenticationFailed { detail: message },
            E::InvalidInput { field, message } => Self::InvalidInput { field, detail: message },
            E::Internal { message } => Self::Internal { detail: message },
            E::Locked => Self::Locked,
            E::PasscodeRequired => Self::PasscodeRequired,
            E::PasscodeNotSet => Self::PasscodeNotSet,
            E::PasscodeIncorrect { attempts_left, next_attempt_at, retry_after } => {
                Self::PasscodeIncorrect {
                    attempts_left: attempts_left.map(count),
                    next_attempt_at: next_attempt_at.map(time),
                    retry_after,
                }
            }
            E::PasscodeLockedOut { until, retry_after } => {
                Self::PasscodeLockedOut { until: time(until), retry_after }
            }
            E::PasscodeTooWeak { reason } => Self::PasscodeTooWeak { reason: reason.into() },
            E::Wiped => Self::Wiped,
            E::LocalDataUnrecoverable => Self::LocalDataUnrecoverable,
            E::Authenticator { reason, message, entries } => Self::Authenticator {
                reason: reason.into(),
                detail: message,
                entries: entries.into_iter().map(Into::into).collect(),
            },
        }
    }
}

impl TwostepError {
    /// The core's error this one mirrors, for its text. (Import entries are left out: they
    /// are not part of the text.)
    fn to_core(&self) -> twostep_core::TwostepError {
        use twostep_core::TwostepError as E;
        let unsigned = |n: i32| u32::try_from(n).unwrap_or(0);
        match self.clone() {
            Self::InvalidCredentials => E::InvalidCredentials,
            Self::InvalidCode { attempts_left } => {
                E::InvalidCode { attempts_left: unsigned(attempts_left) }
            }
            Self::CodeExpired => E::CodeExpired,
            Self::ChallengeExpired => E::ChallengeExpired,
            Self::RateLimited { retry_after } => E::RateLimited { retry_after },
            Self::ResendTooSoon { retry_after } => E::ResendTooSoon { retry_after },
            Self::AccountLocked => E::AccountLocked,
            Self::SetupRequired { detail } => E::SetupRequired { message: detail },
            Self::DeviceRevoked => E::DeviceRevoked,
            Self::ChannelNotConfigured => E::ChannelNotConfigured,
            Self::DeliveryFailed { detail } => E::DeliveryFailed { message: detail },
            Self::NotSignedIn => E::NotSignedIn,
            Self::NotRegistered => E::NotRegistered,
            Self::NoSignInInProgress => E::NoSignInInProgress,
            Self::Offline { detail } => E::Offline { message: detail },
            Self::Timeout => E::Timeout,
            Self::ServerNotTrusted { detail } => E::ServerNotTrusted { message: detail },
            Self::Server { status, detail } => {
                E::Server { status: u16::try_from(status).unwrap_or(0), message: detail }
            }
            Self::Rejected { reason, detail } => {
                E::Rejected { reason: reason.into(), message: detail }
            }
            Self::NoServer => E::NoServer,
            Self::Storage { detail } => E::Storage { message: detail },
            Self::CorruptState { detail } => E::CorruptState { message: detail },
            Self::ForeignState { detail } => E::ForeignState { message: detail },
            Self::NewerState { version } => E::NewerState { version: unsigned(version) },
            Self::KeyStore { detail } => E::KeyStore { message: detail },
            Self::AuthenticationCancelled => E::AuthenticationCancelled,
            Self::AuthenticationFailed { detail } => E::AuthenticationFailed { message: detail },
            Self::InvalidInput { field, detail } => E::InvalidInput { field, message: detail },
            Self::Internal { detail } => E::Internal { message: detail },
            Self::Locked => E::Locked,
            Self::PasscodeRequired => E::PasscodeRequired,
            Self::PasscodeNotSet => E::PasscodeNotSet,
            Self::PasscodeIncorrect { attempts_left, next_attempt_at, retry_after } => {
                E::PasscodeIncorrect {
                    attempts_left: attempts_left.map(unsigned),
                    next_attempt_at: next_attempt_at.map(UnixTime::from),
                    retry_after,
                }
            }
            Self::PasscodeLockedOut { until, retry_after } => {
                E::PasscodeLockedOut { until: UnixTime::from(until), retry_after }
            }
            Self::PasscodeTooWeak { reason } => E::PasscodeTooWeak { reason: reason.into() },
            Self::Wiped => E::Wiped,
            Self::LocalDataUnrecoverable => E::LocalDataUnrecoverable,
            Self::Authenticator { reason, detail, .. } => {
                E::Authenticator { reason: reason.into(), message: detail, entries: vec![] }
            }
        }
    }
}

impl std::fmt::Display for TwostepError {
    /// The core's text for this error.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_core().fmt(f)
    }
}

impl std::error::Error for TwostepError {}

#[uniffi::export]
impl TwostepError {
    /// A stable snake_case name for logs and analytics (`invalid_code`, `offline`, ...).
    pub fn code(&self) -> String {
        self.to_core().code().to_owned()
    }

    /// How long to wait before trying again (from the moment of the error), for rate limits,
    /// the resend cooldown and passcode delays.
    pub fn retry_after(&self) -> Option<Duration> {
        self.to_core().retry_after()
    }

    /// When the next passcode attempt is allowed, for passcode errors that say so.
    pub fn next_attempt_at(&self) -> Option<SystemTime> {
        self.to_core().next_attempt_at().map(time)
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
        let wait = Duration::from_secs(30);
        assert_eq!(
            TwostepError::from(Core::RateLimited { retry_after: wait }),
            TwostepError::RateLimited { retry_after: wait }
        );
        assert_eq!(
            TwostepError::from(Core::ResendTooSoon { retry_after: wait }).retry_after(),
            Some(wait)
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
            TwostepError::from(Core::NewerState { version: u32::MAX }),
            TwostepError::NewerState { version: i32::MAX }
        );
    }

    /// One of each core error, with values in every field.
    fn every_core_error() -> Vec<Core> {
        let at = UnixTime::from_secs(1_700_000_060);
        let wait = Duration::from_secs(60);
        let text = || "text".to_owned();
        vec![
            Core::InvalidCredentials,
            Core::InvalidCode { attempts_left: 2 },
            Core::CodeExpired,
            Core::ChallengeExpired,
            Core::RateLimited { retry_after: wait },
            Core::ResendTooSoon { retry_after: wait },
            Core::AccountLocked,
            Core::SetupRequired { message: text() },
            Core::DeviceRevoked,
            Core::ChannelNotConfigured,
            Core::DeliveryFailed { message: text() },
            Core::NotSignedIn,
            Core::NotRegistered,
            Core::NoSignInInProgress,
            Core::Offline { message: text() },
            Core::Timeout,
            Core::ServerNotTrusted { message: text() },
            Core::Server { status: 503, message: text() },
            Core::Rejected { reason: twostep_core::Rejection::Conflict, message: text() },
            Core::NoServer,
            Core::Storage { message: text() },
            Core::CorruptState { message: text() },
            Core::ForeignState { message: text() },
            Core::NewerState { version: 3 },
            Core::KeyStore { message: text() },
            Core::AuthenticationCancelled,
            Core::AuthenticationFailed { message: text() },
            Core::InvalidInput { field: "code".into(), message: text() },
            Core::Internal { message: text() },
            Core::Locked,
            Core::PasscodeRequired,
            Core::PasscodeNotSet,
            Core::PasscodeIncorrect {
                attempts_left: Some(3),
                next_attempt_at: Some(at),
                retry_after: Some(wait),
            },
            Core::PasscodeLockedOut { until: at, retry_after: wait },
            Core::PasscodeTooWeak { reason: twostep_core::PasscodeWeakness::Common },
            Core::Wiped,
            Core::LocalDataUnrecoverable,
            Core::Authenticator {
                reason: twostep_core::AuthenticatorReason::InvalidBase32,
                message: text(),
                entries: vec![],
            },
        ]
    }

    #[test]
    fn the_text_and_the_waits_are_the_cores_for_every_error() {
        for core in every_core_error() {
            let ffi = TwostepError::from(core.clone());
            assert_eq!(ffi.to_string(), core.to_string(), "{core:?}");
            assert_eq!(ffi.code(), core.code());
            assert_eq!(ffi.retry_after(), core.retry_after(), "{core:?}");
            assert_eq!(ffi.next_attempt_at(), core.next_attempt_at().map(time), "{core:?}");
            assert_eq!(ffi.to_core(), core, "mirrored both ways");
        }
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
