//! The local passcode ("PIN" on Android, "passcode" on iOS): what the app asks for at launch
//! once the device is registered.
//!
//! - [`rules`]: what a new passcode must look like (policy length and alphabet, no trivial PINs).
//! - [`attempts`]: the escalation schedule and the durable failed-attempt counter.
//! - [`kdf`]: Argon2id with a platform-held pepper.
//!
//! The operations live on [`crate::Twostep`] (`set_passcode`, `unlock`, `lock`, ...; see
//! `crate::twostep::passcode`), the key wrapping in `crate::keys`. This module holds the
//! pure parts and the public types.
//!
//! The policy comes from the server with each device grant and is cached under the Local
//! key, so that it applies offline. [`effective_policy`] turns the cached value (or its
//! absence) into the rules actually enforced: min length 6 by default and never under 4,
//! max failed attempts 10 by default, lock timeout 5 min by default.

pub(crate) mod attempts;
pub(crate) mod kdf;
pub(crate) mod rules;

pub use rules::{MAX_PASSCODE_CHARS, PasscodeWeakness};
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
    /// Too many wrong passcodes: no attempt is accepted before `until` (local Unix seconds).
    LockedOut {
        /// When the next attempt is allowed.
        until: u64,
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
