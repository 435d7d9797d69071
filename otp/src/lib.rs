//! The on-device authenticator of twostep, as a pure library: no I/O, no clock, no
//! global state. Time is always a parameter and randomness comes from the caller.
//!
//! - [`algorithm`] and [`account`]: TOTP (RFC 6238) and HOTP (RFC 4226) over HMAC-SHA1/256/512 with
//!   6–8 digits and periods of 1–3600 s, and Steam Guard codes.
//! - [`codes`]: every account's code, next code and seconds remaining at one moment, in one call,
//!   with a clock correction and a warning when it exceeds 15 s.
//! - [`uri`]: Google's Key Uri Format (`otpauth://`), parsed leniently and written canonically.
//! - [`import`]: Google Authenticator exports (also split over several QR codes), Aegis and 2FAS
//!   plain JSON, and text files of otpauth URIs; all or nothing per file.
//! - [`export`]: an encrypted export (Argon2id + AES-256-GCM, versioned) and a plain list of
//!   otpauth URIs.
//! - [`vault`]: the accounts with ids, groups and order; edit, delete, reorder, search; HOTP
//!   counters; serialization for sealed storage.
//! - [`Otp::verify`] (`verify.rs`): checking a typed code within a window of steps, in constant
//!   time, returning the matched step: the twostep server's TOTP verification.
//! - [`time`]: [`UnixTime`], the time type of the client's crates, and [`HumanDuration`].
//!
//! Every malformed input yields a typed [`Error`] and changes nothing. Secrets are
//! zeroized on drop and redacted from `Debug`.
//!
//! ```
//! use twostep_otp::{ClockCorrection, Vault, uri};
//!
//! let mut vault = Vault::new();
//! let id = vault.add(uri::parse("otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME")?)?;
//! let list = vault.codes(twostep_otp::UnixTime::from_secs(1_700_000_000), ClockCorrection::NONE);
//! assert_eq!(list.codes[0].id, id);
//! assert_eq!(list.codes[0].code.as_deref(), Some("324550"));
//! # Ok::<(), twostep_otp::Error>(())
//! ```

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod account;
pub mod algorithm;
pub mod codes;
mod error;
pub mod export;
pub mod import;
mod secret;
pub mod time;
pub mod uri;
pub mod vault;
mod verify;

pub use account::{AccountFields, AccountWarning, NewAccount, Otp, OtpKind};
pub use algorithm::Algorithm;
pub use codes::{AccountCode, ClockCorrection, CodeList, OffsetSource};
pub use error::{EntryError, Error, ErrorKind, Result};
pub use export::KdfParams;
pub use import::{Detected, ImportFormat, MigrationBatches};
pub use secret::{MAX_SECRET_BYTES, Secret};
pub use time::{HumanDuration, UnixTime};
pub use vault::{Account, AccountId, AccountInfo, DuplicateEntry, HotpCode, ImportReport, Vault};
pub use verify::MAX_WINDOW;
