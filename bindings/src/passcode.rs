//! The passcode (PIN on Android) methods of [`Twostep`] and their records.
//!
//! Argon2id makes `set_passcode`, `unlock`, `change_passcode` and `remove_passcode` slow on
//! purpose, so they are `suspend` / `async` and run on the runtime's blocking pool. Reading
//! the state, locking and the background/foreground hooks only touch memory and a small
//! record, and stay synchronous for lifecycle callbacks.

use zeroize::Zeroizing;

use crate::error::TwostepError;
use crate::runtime;
use crate::twostep::Twostep;
use crate::types::{PasscodePolicy, PasscodeStatus, count};

/// The passcode's state and the rules in force.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PasscodeState {
    /// Where it stands.
    pub status: PasscodeStatus,
    /// The rules in force (the server's policy with defaults and floors applied); its
    /// `requirement` says whether the passcode may be skipped or removed.
    pub policy: PasscodePolicy,
    /// Consecutive failed attempts since the last correct passcode.
    pub failed_attempts: i32,
    /// Attempts left before the local data is wiped (org policy only; absent: no wipe).
    pub attempts_left: Option<i32>,
}

impl From<twostep_core::PasscodeState> for PasscodeState {
    fn from(state: twostep_core::PasscodeState) -> Self {
        Self {
            status: state.status.into(),
            policy: state.policy.into(),
            failed_attempts: count(state.failed_attempts),
            attempts_left: state.attempts_left.map(count),
        }
    }
}

/// The outcome of a correct passcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct UnlockResult {
    /// The passcode no longer meets the (stricter) policy: ask the user to change it.
    pub change_required: bool,
}

impl From<twostep_core::UnlockResult> for UnlockResult {
    fn from(result: twostep_core::UnlockResult) -> Self {
        Self { change_required: result.change_required }
    }
}

#[uniffi::export]
impl Twostep {
    /// Where the passcode stands and the rules in force, from local state (works offline
    /// and while locked).
    pub fn passcode_state(&self) -> Result<PasscodeState, TwostepError> {
        Ok(self.core().passcode_state(self.now())?.into())
    }

    /// Sets a passcode where none is set (after first access). `PasscodeTooWeak` says why
    /// one was refused.
    pub async fn set_passcode(&self, passcode: String) -> Result<(), TwostepError> {
        let (core, now, passcode) = (self.core(), self.now(), Zeroizing::new(passcode));
        runtime::blocking(move || core.set_passcode(&passcode, now)).await
    }

    /// Unlocks with the passcode, offline. Wrong: `PasscodeIncorrect` (counted); during a
    /// delay: `PasscodeLockedOut`; the last allowed attempt under the org policy: `Wiped`.
    pub async fn unlock(&self, passcode: String) -> Result<UnlockResult, TwostepError> {
        let (core, now, passcode) = (self.core(), self.now(), Zeroizing::new(passcode));
        runtime::blocking(move || core.unlock(&passcode, now).map(Into::into)).await
    }

    /// Changes the passcode; `current` is checked and counted like an unlock.
    pub async fn change_passcode(&self, current: String, new: String) -> Result<(), TwostepError> {
        let (core, now) = (self.core(), self.now());
        let (current, new) = (Zeroizing::new(current), Zeroizing::new(new));
        runtime::blocking(move || core.change_passcode(&current, &new, now)).await
    }

    /// Removes the passcode (only when the org policy does not require one).
    pub async fn remove_passcode(&self, current: String) -> Result<(), TwostepError> {
        let (core, now, current) = (self.core(), self.now(), Zeroizing::new(current));
        runtime::blocking(move || core.remove_passcode(&current, now)).await
    }

    /// Locks now: the account key leaves memory (a no-op without a passcode).
    pub fn lock(&self) -> Result<(), TwostepError> {
        Ok(self.core().lock()?)
    }

    /// Call when the app goes to the background (Android `onStop`, iOS
    /// `didEnterBackground`).
    pub fn app_backgrounded(&self) -> Result<(), TwostepError> {
        Ok(self.core().app_backgrounded(self.now())?)
    }

    /// Call when the app comes back: locks if it stayed away for the policy's lock timeout,
    /// and says where the passcode stands.
    pub fn app_foregrounded(&self) -> Result<PasscodeStatus, TwostepError> {
        Ok(self.core().app_foregrounded(self.now())?.into())
    }

    /// Erases the account's local data (for a forgotten passcode the password cannot
    /// recover); the next sign-in is a first access. Works while locked.
    pub async fn reset_local_data(&self) -> Result<(), TwostepError> {
        let core = self.core();
        runtime::blocking(move || core.reset_local_data()).await
    }
}
