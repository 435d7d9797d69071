//! The client side of twostep, shared by the mobile apps (through the bindings) and the
//! `twostep` CLI.
//!
//! One object, [`Twostep`], owns a data directory and talks to one server. It walks the
//! user through sign-in as a state machine ([`SignInStep`]): password, then a second-step
//! code from the user's channel (authenticator, SMS, email) or a recovery code. On mobile,
//! first access registers the device with an Ed25519 key made here; later sessions are a
//! signed challenge, without a code. Everything it keeps lives in sled under the data
//! directory, sealed with AES-256-GCM under data keys that the platform's [`KeyStore`]
//! wraps.
//!
//! On mobile, the account's local data is then protected by a passcode ("PIN" on Android):
//! required under the org policy, optional otherwise, crypto-bound (Argon2id together with
//! the platform key opens the Account key; see [`Twostep::unlock`] and [`PasscodeStatus`]).
//!
//! Two rules shape the API:
//! - **Time is a parameter.** Operations take `now` (Unix seconds) so that expiry, lockouts and
//!   countdowns are testable without sleeping; only the caller (or [`SystemClock`]) reads the
//!   clock. The HTTP layer reads a [`Clock`] only to measure the server's clock offset.
//! - **Errors are few and actionable.** Every failure reaches the caller as one [`TwostepError`]
//!   variant that a UI can act on (wrong code with attempts left, locked out until, offline,
//!   revoked device, ...). The detailed internal error is logged and converted in one place.

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod client;
mod clock;
mod device;
mod error;
mod keys;
pub mod keystore;
mod passcode;
mod seal;
mod signin;
mod state;
mod status;
#[cfg(test)]
mod test_util;
#[doc(hidden)]
pub mod testing;
mod twostep;

pub use client::{ClockOffset, ServerConfig};
pub use clock::{Clock, SystemClock};
pub use error::{Result, TwostepError};
pub use keystore::{FileKeyStore, KeyStore, KeyStoreError, MemoryKeyStore};
pub use passcode::{
    MAX_PASSCODE_CHARS, PasscodeState, PasscodeStatus, PasscodeWeakness, UnlockResult,
    effective_policy,
};
pub use signin::{CodePrompt, SignInStep};
pub use status::{Access, PendingSignIn, Registration, SessionInfo, Status};
pub use twostep::{Config, SignOut, Twostep, Unregistered};

/// The authenticator's types, from the pure `twostep-otp` crate (see
/// [`Twostep::codes`], [`Twostep::add_account_uri`], [`Twostep::import`], ...).
pub mod authenticator {
    pub use twostep_otp::import::detect;
    pub use twostep_otp::{
        AccountCode, AccountFields, AccountId, AccountInfo, Algorithm, ClockCorrection, CodeList,
        Detected, DuplicateEntry, EntryError, HotpCode, ImportFormat, ImportReport, OffsetSource,
        OtpKind,
    };
}
#[cfg(any(test, feature = "test-hooks"))]
pub use twostep::{PAUSE_AFTER_COUNT_ENV, PAUSE_MARKER};
pub use twostep_proto::{
    Channel, ChannelChoice, ChannelStatus, ClientKind, DeviceInfo, MeResponse, PasscodePolicy,
    PasscodeRequirement, SessionScope, TwoStepOrigin, TwoStepSettings, UserSummary,
};
