//! The client side of twostep, shared by the mobile apps (through the bindings) and the
//! `twostep` CLI.
//!
//! [`Twostep`] owns a data directory and hands out its parts, each in a module of its own:
//! - [`Session`] (`twostep.session()?`): the server part. It walks the user through sign-in as a
//!   state machine ([`SignInStep`]): password, then a second-step code from the user's channel
//!   (authenticator, SMS, email) or a recovery code. On mobile, first access registers the device
//!   with an Ed25519 key made here, and the desktop agent registers the same way; later sessions
//!   are a signed challenge, without a code.
//! - [`Passcode`] (`twostep.passcode()`): the local passcode ("PIN" on Android) that guards the
//!   account data: required under the org policy, optional otherwise, crypto-bound (Argon2id
//!   together with the platform key opens the Account key).
//! - [`Authenticator`] (`twostep.authenticator()`): the on-device TOTP/HOTP/Steam vault.
//!
//! The passcode and the authenticator need no server. Everything lives in sled under the
//! data directory, sealed with AES-256-GCM under data keys that the platform's
//! [`KeyStore`] wraps. The lock order is in `local.rs`.
//!
//! Two rules shape the API:
//! - **Time is a parameter.** Operations take `now` ([`UnixTime`]) so that expiry, lockouts and
//!   countdowns are testable without sleeping; only the caller (or [`SystemClock`]) reads the
//!   clock. The HTTP layer reads a [`ClockSource`] only to measure the server's clock offset. Waits
//!   are [`std::time::Duration`]s.
//! - **Errors are few and actionable.** Every failure reaches the caller as one [`TwostepError`]
//!   variant that a UI can act on (wrong code with attempts left, locked out until, offline,
//!   revoked device, ...). The detailed internal error is logged and converted in one place.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod authenticator;
mod clock;
mod device;
mod error;
#[doc(hidden)]
pub mod fixtures;
mod hooks;
mod keys;
pub mod keystore;
mod local;
#[cfg(test)]
mod mock_server;
mod passcode;
mod seal;
mod session;
mod state;
mod status;
mod twostep;

pub use authenticator::Authenticator;
pub use clock::{ClockOffset, ClockSource, SystemClock};
pub use error::{AuthenticatorReason, Rejection, Result, TwostepError};
#[cfg(any(test, feature = "test-hooks"))]
pub use hooks::{ANNOUNCE_ENV, PAUSE_AT_ENV, POINT_MARKER};
pub use keystore::{BiometricKeyStore, FileKeyStore, KeyStore, KeyStoreError, MemoryKeyStore};
pub use passcode::{
    MAX_PASSCODE_CHARS, Passcode, PasscodeState, PasscodeStatus, PasscodeWeakness, UnlockResult,
    effective_policy,
};
pub use session::{
    CodePrompt, ServerConfig, Session, SessionInfo, SignInStep, SignOut, Unregistered,
};
pub use status::{Access, PendingSignIn, Registration, Status};
pub use twostep::{Config, Twostep};
pub use twostep_otp::{HumanDuration, UnixTime, with_error_kinds};
pub use twostep_proto::{
    Channel, ChannelChoice, ChannelStatus, ClientKind, DeviceInfo, MeResponse, PasscodePolicy,
    PasscodeRequirement, SessionScope, TwoStepOrigin, TwoStepSettings, UserSummary,
};
