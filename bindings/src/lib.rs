//! `twostep-ffi`: the twostep core for Kotlin (Android) and Swift (iOS), through uniffi.
//!
//! This crate holds no business logic. It
//! - wraps the core's [`twostep_core::Twostep`] as the [`Twostep`] object,
//! - mirrors the core's records and enums ([`types`]) with FFI-friendly field types,
//! - converts errors in one place ([`error`]) into [`TwostepError`], a sealed exception class in
//!   Kotlin and a thrown enum in Swift,
//! - takes the platform's key store ([`PlatformKeyStore`]) and, optionally, a [`Clock`] as foreign
//!   traits,
//! - runs slow work on its own small runtime ([`runtime`]), so that no UI thread waits.
//!
//! Generate bindings with the pinned generator:
//! `cargo run -p uniffi-bindgen -- generate --library target/debug/libtwostep_ffi.so --language
//! kotlin --out-dir DIR`.

#![cfg_attr(test, allow(clippy::unwrap_used))]

uniffi::setup_scaffolding!();

mod authenticator;
#[cfg(feature = "bench")]
mod bench;
mod error;
mod passcode;
mod platform;
mod runtime;
mod twostep;
mod types;

pub use authenticator::{
    AccountCode, AuthAccount, Authenticator, ClockCorrection, CodeList, DuplicateEntry, HotpCode,
    ImportFormat, ImportIssue, ImportReport, NewAuthAccount, OffsetSource, OtpAlgorithm, OtpKind,
};
pub use error::TwostepError;
pub use passcode::{PasscodeState, UnlockResult};
pub use platform::{Clock, PlatformKeyError, PlatformKeyStore};
pub use twostep::{Twostep, library_version};
pub use types::{
    Access, Channel, ChannelChoice, ChannelStatus, ClientKind, ClockOffset, CodePrompt, Device, Me,
    PasscodePolicy, PasscodeRequirement, PasscodeStatus, PasscodeWeakness, PendingSignIn,
    Registration, SessionInfo, SessionScope, SignInStep, SignOut, Status, TwoStepOrigin,
    TwoStepSettings, TwostepConfig, Unregistered, User,
};
