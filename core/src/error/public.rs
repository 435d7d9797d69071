//! [`TwostepError`]: what went wrong, in terms a UI can act on. Its text (`Display`) is the
//! one English description of each failure: the CLI prints it, and the bindings show the
//! same text in Kotlin and Swift (they format through this type rather than keep a copy).

use std::time::Duration;
use twostep_otp::{HumanDuration, UnixTime};

use crate::passcode::PasscodeWeakness;

pub use twostep_otp::ErrorKind as AuthenticatorReason;

/// The result of every public operation.
pub type Result<T, E = TwostepError> = std::result::Result<T, E>;

/// What went wrong, in terms a UI can act on.
///
/// Messages never contain a secret. Waits are computed here, once: `retry_after` is how
/// long from the moment of the error, `next_attempt_at` / `until` when (local time).
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
    #[error("too many attempts; retry in {}", HumanDuration(*retry_after))]
    RateLimited {
        /// How long to wait.
        retry_after: Duration,
    },
    /// A new code was requested before the resend cooldown elapsed.
    #[error("a new code can be sent in {}", HumanDuration(*retry_after))]
    ResendTooSoon {
        /// How long to wait.
        retry_after: Duration,
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
    /// The server's TLS certificate is not trusted: neither the platform (its CA store, user
    /// and MDM-installed CAs, the app's network security config) nor the configured extra CA
    /// vouches for it, or it is expired or for another name. Nothing was sent.
    #[error("the server's certificate is not trusted: {message}")]
    ServerNotTrusted {
        /// Why, from the TLS library.
        message: String,
    },
    /// The server failed (5xx) or answered something this client cannot read.
    #[error("server error {status}: {message}")]
    Server {
        /// HTTP status (0 when the response could not be read).
        status: u16,
        /// From the server or the client.
        message: String,
    },
    /// The server refused the request for a reason not listed above.
    #[error("the server refused the request ({}): {message}", reason.as_str())]
    Rejected {
        /// Why, by kind.
        reason: Rejection,
        /// From the server.
        message: String,
    },
    /// No server is known: none was configured, and this data directory never completed a
    /// sign-in. The authenticator and the passcode work without one.
    #[error("no server is configured; give the server's URL")]
    NoServer,
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
    /// The user dismissed the biometric prompt. Nothing changed.
    #[error("authentication was cancelled")]
    AuthenticationCancelled,
    /// The biometric prompt could not authenticate the user (no match, too many tries, no
    /// biometrics enrolled). Nothing changed; the passcode still works.
    #[error("authentication failed: {message}; use the passcode")]
    AuthenticationFailed {
        /// What the platform said, without secrets.
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
    #[error("wrong passcode{}{}", attempts_left.map(|n| format!(" ({n} attempts left before the local data is wiped)")).unwrap_or_default(), retry_after.map(|d| format!("; try again in {}", HumanDuration(d))).unwrap_or_default())]
    PasscodeIncorrect {
        /// Attempts left before the local data is wiped (org policy only).
        attempts_left: Option<u32>,
        /// When the next attempt is allowed, if a delay now runs (local time).
        next_attempt_at: Option<UnixTime>,
        /// How long that delay is.
        retry_after: Option<Duration>,
    },
    /// Too many wrong passcodes: no attempt is accepted before `until`. Nothing was counted.
    #[error("too many wrong passcodes; try again in {}", HumanDuration(*retry_after))]
    PasscodeLockedOut {
        /// When the next attempt is allowed (local time).
        until: UnixTime,
        /// How long until then.
        retry_after: Duration,
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
        /// Why (`InvalidBase32`, `Duplicate`, `InvalidEntries`, `WrongPassword`, ...; its
        /// `as_str()` is the stable snake_case name).
        reason: AuthenticatorReason,
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
            Self::ServerNotTrusted { .. } => "server_not_trusted",
            Self::Server { .. } => "server",
            Self::Rejected { .. } => "rejected",
            Self::NoServer => "no_server",
            Self::Storage { .. } => "storage",
            Self::CorruptState { .. } => "corrupt_state",
            Self::ForeignState { .. } => "foreign_state",
            Self::NewerState { .. } => "newer_state",
            Self::KeyStore { .. } => "key_store",
            Self::AuthenticationCancelled => "authentication_cancelled",
            Self::AuthenticationFailed { .. } => "authentication_failed",
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

    /// How long to wait before trying again (from the moment of the error), for errors
    /// that say so: rate limits, the resend cooldown, passcode delays.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after }
            | Self::ResendTooSoon { retry_after }
            | Self::PasscodeLockedOut { retry_after, .. } => Some(*retry_after),
            Self::PasscodeIncorrect { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// When a passcode attempt is next allowed (local time), for errors that say so.
    pub fn next_attempt_at(&self) -> Option<UnixTime> {
        match self {
            Self::PasscodeLockedOut { until, .. } => Some(*until),
            Self::PasscodeIncorrect { next_attempt_at, .. } => *next_attempt_at,
            _ => None,
        }
    }
}

/// Calls the macro `$callback` with the list of [`Rejection`]s, `#[doc = "..."] Variant =
/// "snake_case_name",` each: the enum is made from it here and the bindings' mirror from the
/// same list.
#[doc(hidden)]
#[macro_export]
macro_rules! with_rejections {
    ($callback:ident) => {
        $callback! {
            #[doc = "The request was malformed or a field invalid (a client bug, or an old client)."]
            BadRequest = "bad_request",
            #[doc = "What the request named does not exist (anymore)."]
            NotFound = "not_found",
            #[doc = "The session may not do this (a setup-only session, say)."]
            Forbidden = "forbidden",
            #[doc = "The device's signature did not verify."]
            BadSignature = "bad_signature",
            #[doc = "The organization's policy requires two-step, which forbids this change."]
            PolicyRequiresTwoStep = "policy_requires_two_step",
            #[doc = "The request conflicts with the current state."]
            Conflict = "conflict",
            #[doc = "A code this version does not know."]
            Other = "other",
        }
    };
}

macro_rules! define_rejection {
    ($( #[doc = $doc:literal] $variant:ident = $name:literal, )*) => {
        /// Why the server refused a request, when no more specific [`TwostepError`] applies.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Rejection {
            $( #[doc = $doc] $variant, )*
        }

        impl Rejection {
            /// A stable snake_case name.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }
        }
    };
}

with_rejections!(define_rejection);
