//! `twostep-ffi`: the twostep core for Kotlin (Android) and Swift (iOS), through uniffi.
//!
//! This crate holds no business logic. It
//! - wraps the core's [`twostep_core::Twostep`] as the [`Twostep`] object, which hands out the
//!   [`Passcode`] and [`Authenticator`] objects as the core hands out its parts,
//! - mirrors the core's records and enums (`types`, `status`) with FFI-friendly field types,
//! - converts errors in one place (`error`) into [`TwostepError`], a sealed exception class in
//!   Kotlin and a thrown enum in Swift, whose text is the core's,
//! - takes the platform's key store ([`PlatformKeyStore`]) and, optionally, a biometric key store
//!   ([`PlatformBiometricKeyStore`], async) and a [`ClockSource`] as foreign traits,
//! - runs slow work on its own small runtime ([`runtime`]), so that no UI thread waits.
//!
//! Generate bindings with the pinned generator:
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libtwostep_ffi.so --language
//! kotlin --out-dir DIR`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

uniffi::setup_scaffolding!();

mod accounts;
#[cfg(target_os = "android")]
mod android;
mod authenticator;
#[cfg(feature = "bench")]
mod bench;
mod error;
mod passcode;
mod platform;
mod reasons;
mod runtime;
mod status;
mod twostep;
mod types;

pub use accounts::{
    AccountCode, AccountWarning, AuthAccount, ClockCorrection, CodeList, DuplicateEntry, HotpCode,
    ImportFormat, ImportIssue, ImportReport, NewAuthAccount, OffsetSource, OtpAlgorithm, OtpKind,
};
pub use authenticator::Authenticator;
pub use error::TwostepError;
pub use passcode::{Passcode, PasscodeState, UnlockResult};
pub use platform::{ClockSource, PlatformBiometricKeyStore, PlatformKeyError, PlatformKeyStore};
pub use reasons::{AuthenticatorReason, Rejection};
pub use status::{
    Access, ChannelStatus, ClockOffset, Device, Me, PendingSignIn, Registration, SignOut, Status,
    TwoStepOrigin, TwoStepSettings, Unregistered, User,
};
pub use twostep::{Twostep, library_version};
pub use types::{
    Channel, ChannelChoice, ClientKind, CodePrompt, PasscodePolicy, PasscodeRequirement,
    PasscodeStatus, PasscodeWeakness, SessionInfo, SessionScope, SignInStep, TwostepConfig,
};
