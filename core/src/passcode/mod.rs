//! The local passcode ("PIN" on Android, "passcode" on iOS): what the app asks for at launch
//! once the device is registered.
//!
//! ```text
//!                 set                               lock / background timeout / restart
//!   NotSet ─────────────────────────► Unlocked ───────────────────────────────► Locked
//!     ▲  ◄───── remove ────────────────  ▲  ◄──────────── unlock(pin) ────────────┘ │
//!     │         (not under org policy)   │                                           │ wrong pin
//!     │                                  │           delay over                      ▼
//!     │                                  └──────────────────────────────  LockedOut{until}
//!     │   sign-in completes                                                          │ max attempts
//!     └────────────────────────────────────────────── Wiped ◄────────────────────────┘ (org policy)
//! ```
//!
//! - `ops.rs`: [`Passcode`], the handle with the operations.
//! - `check.rs`: checking a passcode (counted before checked), delays, the wipe, locking.
//! - `recovery.rs`: "forgot passcode", which `Session::sign_in` performs.
//! - `biometric.rs`: biometric unlock (an option), through an async key store whose key needs the
//!   user's authentication.
//! - [`rules`]: what a new passcode must look like (policy length and alphabet, no trivial PINs).
//! - [`attempts`]: the escalation schedule and the durable failed-attempt counter.
//! - [`kdf`]: Argon2id with a platform-held pepper.
//!
//! **Crypto-bound.** The Account key is on disk only as `platform(pepper)` plus
//! `seal(Argon2id(pin, salt, K = pepper), account_key)` (see `crate::keys`). Unlocking
//! derives the key from the typed passcode; a wrong one fails the AEAD tag. There is no
//! verifier, and without the platform key the pepper, and with it any guess, is out of reach.
//! Setting a passcode rotates the Account key (every Account record is sealed again under a
//! fresh key in the same batch), so data written from then on never had a platform-only
//! wrap, even in the database's log.
//!
//! The policy comes from the server with each device grant and is cached under the Local
//! key, so that it applies offline. [`effective_policy`] turns the cached value (or its
//! absence) into the rules actually enforced: min length 6 by default and never under 4,
//! max failed attempts 10 by default, lock timeout 5 min by default.

pub(crate) mod attempts;
mod biometric;
mod check;
pub(crate) mod kdf;
mod ops;
pub(crate) mod recovery;
pub(crate) mod rules;

pub(crate) use check::{enforce_attempt_limit, status_at};
pub use ops::Passcode;
pub(crate) use ops::unlock;
pub use rules::{MAX_PASSCODE_CHARS, PasscodeWeakness};

pub(crate) use crate::local::PasscodeMemory;
use twostep_otp::UnixTime;
use twostep_proto::{
    DEFAULT_LOCK_TIMEOUT_SECS, DEFAULT_PASSCODE_MAX_ATTEMPTS, DEFAULT_PASSCODE_MIN_LENGTH,
    MAX_PASSCODE_LENGTH, MIN_PASSCODE_LENGTH, PasscodePolicy, PasscodeRequirement,
};

/// Where the passcode stands, for the UI (launch screen, lock screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasscodeStatus {
    /// No passcode. If the policy says [`PasscodeRequirement::Required`], the app stays
    /// locked until one is set ([`crate::TwostepError::PasscodeRequired`]).
    NotSet,
    /// A passcode is set and the account data is closed: ask for it.
    Locked,
    /// A passcode is set and was entered.
    Unlocked,
    /// Too many wrong passcodes: no attempt is accepted before `until`.
    LockedOut {
        /// When the next attempt is allowed (local time).
        until: UnixTime,
    },
    /// Too many wrong passcodes under the org policy: the local data was wiped. The next
    /// completed sign-in (password and code) clears this state.
    Wiped,
}

/// The passcode's state and the rules in force, as of `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasscodeState {
    /// Where it stands.
    pub status: PasscodeStatus,
    /// The rules in force: the cached server policy with defaults and floors applied
    /// ([`effective_policy`]). Its `requirement` says whether the passcode may be skipped
    /// or removed.
    pub policy: PasscodePolicy,
    /// Consecutive failed attempts since the last correct passcode.
    pub failed_attempts: u32,
    /// Attempts left before the local data is wiped (org policy only; `None`: no wipe).
    pub attempts_left: Option<u32>,
    /// Whether biometric unlock is on ([`Passcode::unlock_with_biometrics`]).
    pub biometric_unlock: bool,
}

/// The outcome of a correct passcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnlockResult {
    /// The passcode no longer meets the policy (it became stricter since it was set): ask
    /// the user to change it.
    pub change_required: bool,
}

/// The policy actually enforced: the cached server policy (or the defaults when none is
/// cached, as an optional passcode), with its numbers brought into range.
pub fn effective_policy(cached: Option<&PasscodePolicy>) -> PasscodePolicy {
    match cached {
        None => PasscodePolicy {
            requirement: PasscodeRequirement::Optional,
            min_length: DEFAULT_PASSCODE_MIN_LENGTH,
            alphanumeric: false,
            max_failed_attempts: DEFAULT_PASSCODE_MAX_ATTEMPTS,
            lock_timeout_secs: DEFAULT_LOCK_TIMEOUT_SECS,
            wipe_vault: false,
        },
        Some(p) => PasscodePolicy {
            requirement: p.requirement,
            min_length: p.min_length.clamp(MIN_PASSCODE_LENGTH, MAX_PASSCODE_LENGTH),
            alphanumeric: p.alphanumeric,
            max_failed_attempts: match p.max_failed_attempts {
                0 => DEFAULT_PASSCODE_MAX_ATTEMPTS,
                n => n.min(100),
            },
            lock_timeout_secs: p.lock_timeout_secs.min(86_400),
            wipe_vault: p.wipe_vault,
        },
    }
}

/// Whether reaching `max_failed_attempts` wipes the local data: only under the org policy.
pub(crate) fn wipes(policy: &PasscodePolicy) -> bool {
    policy.requirement == PasscodeRequirement::Required
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_floors_apply() {
        let none = effective_policy(None);
        assert_eq!(
            (none.requirement, none.min_length, none.max_failed_attempts, none.lock_timeout_secs),
            (PasscodeRequirement::Optional, 6, 10, 300)
        );
        let odd = PasscodePolicy {
            requirement: PasscodeRequirement::Required,
            min_length: 2,
            alphanumeric: true,
            max_failed_attempts: 0,
            lock_timeout_secs: u32::MAX,
            wipe_vault: true,
        };
        let fixed = effective_policy(Some(&odd));
        assert_eq!(
            (fixed.min_length, fixed.max_failed_attempts, fixed.lock_timeout_secs),
            (4, 10, 86_400)
        );
        assert!(fixed.alphanumeric && fixed.wipe_vault && wipes(&fixed));
        assert!(!wipes(&none));
    }
}

#[cfg(test)]
mod tests_biometric;
#[cfg(test)]
mod tests_ops;
