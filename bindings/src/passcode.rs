//! The [`Passcode`] object (PIN on Android) that [`Twostep::passcode`] hands out, and its
//! records: the core's `Passcode` for Kotlin and Swift.
//!
//! Argon2id makes `set`, `unlock`, `change` and `remove` slow on purpose, so they are
//! `suspend` / `async` and run on the runtime's blocking pool. Reading the state, locking
//! and the background/foreground hooks only touch memory and a small record, and stay
//! synchronous for lifecycle callbacks.

use std::sync::{Arc, Weak};
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
    /// Whether biometric unlock is on (`unlockWithBiometrics`).
    pub biometric_unlock: bool,
}

impl From<twostep_core::PasscodeState> for PasscodeState {
    fn from(state: twostep_core::PasscodeState) -> Self {
        Self {
            status: state.status.into(),
            policy: state.policy.into(),
            failed_attempts: count(state.failed_attempts),
            attempts_left: state.attempts_left.map(count),
            biometric_unlock: state.biometric_unlock,
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

/// The local passcode (PIN) of one [`Twostep`]. It does not keep its `Twostep` open: once
/// that is closed, every call fails with `InvalidInput` (field `twostep`).
#[derive(uniffi::Object)]
pub struct Passcode {
    app: Weak<Twostep>,
}

impl std::fmt::Debug for Passcode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passcode").finish_non_exhaustive()
    }
}

impl Passcode {
    /// The core object and the time now.
    fn core(&self) -> Result<(Arc<twostep_core::Twostep>, twostep_core::UnixTime), TwostepError> {
        crate::twostep::upgrade(&self.app)
    }
}

#[uniffi::export]
impl Twostep {
    /// The local passcode (PIN) that guards the account data.
    pub fn passcode(self: Arc<Self>) -> Arc<Passcode> {
        Arc::new(Passcode { app: Arc::downgrade(&self) })
    }
}

#[uniffi::export]
impl Passcode {
    /// Where the passcode stands and the rules in force, from local state (works offline
    /// and while locked).
    pub fn state(&self) -> Result<PasscodeState, TwostepError> {
        let (core, now) = self.core()?;
        Ok(core.passcode().state(now)?.into())
    }

    /// Sets a passcode where none is set (after first access). `PasscodeTooWeak` says why
    /// one was refused.
    pub async fn set(&self, passcode: String) -> Result<(), TwostepError> {
        let ((core, now), passcode) = (self.core()?, Zeroizing::new(passcode));
        runtime::blocking(move || core.passcode().set(&passcode, now)).await
    }

    /// Unlocks with the passcode, offline. Wrong: `PasscodeIncorrect` (counted); during a
    /// delay: `PasscodeLockedOut`; the last allowed attempt under the org policy: `Wiped`.
    pub async fn unlock(&self, passcode: String) -> Result<UnlockResult, TwostepError> {
        let ((core, now), passcode) = (self.core()?, Zeroizing::new(passcode));
        runtime::blocking(move || core.passcode().unlock(&passcode, now).map(Into::into)).await
    }

    /// Changes the passcode; `current` is checked and counted like an unlock.
    pub async fn change(&self, current: String, new: String) -> Result<(), TwostepError> {
        let (core, now) = self.core()?;
        let (current, new) = (Zeroizing::new(current), Zeroizing::new(new));
        runtime::blocking(move || core.passcode().change(&current, &new, now)).await
    }

    /// Removes the passcode (only when the org policy does not require one).
    pub async fn remove(&self, current: String) -> Result<(), TwostepError> {
        let ((core, now), current) = (self.core()?, Zeroizing::new(current));
        runtime::blocking(move || core.passcode().remove(&current, now)).await
    }

    /// Locks now: the account key leaves memory (a no-op without a passcode).
    pub fn lock(&self) -> Result<(), TwostepError> {
        Ok(self.core()?.0.passcode().lock()?)
    }

    /// Call when the app goes to the background (Android `onStop`, iOS
    /// `didEnterBackground`).
    pub fn app_backgrounded(&self) -> Result<(), TwostepError> {
        let (core, now) = self.core()?;
        Ok(core.passcode().app_backgrounded(now)?)
    }

    /// Call when the app comes back: locks if it stayed away for the policy's lock timeout,
    /// and says where the passcode stands.
    pub fn app_foregrounded(&self) -> Result<PasscodeStatus, TwostepError> {
        let (core, now) = self.core()?;
        Ok(core.passcode().app_foregrounded(now)?.into())
    }

    /// Turns biometric unlock on: the account key is wrapped once more by the
    /// [`crate::PlatformBiometricKeyStore`] given to `open` (which may ask the user). Needs a
    /// passcode and the app unlocked. A cancelled or failed prompt changes nothing.
    /// Cancelling the call (the Kotlin coroutine) dismisses the prompt.
    pub async fn enable_biometric_unlock(&self) -> Result<(), TwostepError> {
        let (core, _) = self.core()?;
        runtime::spawn_cancellable(async move { core.passcode().enable_biometric_unlock().await })
            .await
    }

    /// Unlocks with biometrics: the biometric key store asks the user, no passcode needed.
    /// `AuthenticationCancelled` / `AuthenticationFailed`: nothing changed, still locked (the
    /// passcode works). Cancelling the call (the Kotlin coroutine) dismisses the prompt.
    pub async fn unlock_with_biometrics(&self) -> Result<(), TwostepError> {
        let (core, now) = self.core()?;
        runtime::spawn_cancellable(async move { core.passcode().unlock_with_biometrics(now).await })
            .await
    }

    /// Turns biometric unlock off (the passcode stays).
    pub async fn disable_biometric_unlock(&self) -> Result<(), TwostepError> {
        let (core, _) = self.core()?;
        runtime::blocking(move || core.passcode().disable_biometric_unlock()).await
    }

    /// Erases the account's local data (for a forgotten passcode the password cannot
    /// recover); the next sign-in is a first access. Works while locked.
    pub async fn reset_local_data(&self) -> Result<(), TwostepError> {
        let (core, _) = self.core()?;
        runtime::blocking(move || core.passcode().reset_local_data()).await
    }
}
