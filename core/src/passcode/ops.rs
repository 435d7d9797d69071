//! [`Passcode`]: the handle to the passcode operations — set, unlock, change, remove, lock,
//! the background timeout and the reset. The checks themselves are in `check.rs`.

use std::sync::Arc;
use std::time::Duration;
use twostep_otp::UnixTime;

use super::check::{self, KdfTimer};
use super::rules;
use super::{PasscodeMemory, PasscodeState, PasscodeStatus, PasscodeWeakness, UnlockResult};
use crate::error::{Error, InternalResult, Result};
use crate::keys::{self, KeyRole, Prepared, SecretKind, WrappedKey};
use crate::local::Local;
use crate::seal::SealKey;
use crate::state::Slot;

/// The local passcode (PIN) that guards the account data; from [`crate::Twostep::passcode`].
///
/// Every operation that derives a key (`set`, `unlock`, `change`, `remove`) is **slow on
/// purpose** (Argon2id, m = 19 MiB: tens of milliseconds on a phone) and synchronous: never
/// call it on the UI thread; the bindings export it async.
#[derive(Debug, Clone)]
pub struct Passcode {
    pub(super) local: Arc<Local>,
}

impl Passcode {
    pub(crate) fn new(local: Arc<Local>) -> Self {
        Self { local }
    }

    /// Where the passcode stands and the rules in force, from local state only (works
    /// offline and while locked).
    pub fn state(&self, now: UnixTime) -> Result<PasscodeState> {
        let local = &self.local;
        let policy = local.policy()?;
        let attempts = check::attempts(local)?;
        Ok(PasscodeState {
            status: check::status_at(local, now)?,
            attempts_left: super::wipes(&policy)
                .then(|| policy.max_failed_attempts.saturating_sub(attempts.failed)),
            failed_attempts: attempts.failed,
            policy,
            biometric_unlock: local.store.biometric_wrap()?.is_some(),
        })
    }

    /// Sets a passcode where none is set. The app must be open (no passcode yet, or after
    /// a completed "forgot passcode" sign-in) and stays unlocked.
    ///
    /// The passcode must follow the cached policy and must not be trivial
    /// ([`crate::TwostepError::PasscodeTooWeak`] says why). Rotates the Account key.
    /// **Slow** (Argon2id).
    pub fn set(&self, passcode: &str, now: UnixTime) -> Result<()> {
        let local = &self.local;
        let memory = local.passcode_memory();
        if local.has_passcode()? {
            return Err(Error::InvalidInput {
                field: "passcode",
                message: "a passcode is already set; change it instead".to_owned(),
            }
            .into());
        }
        local.require_account_open()?;
        rules::check(passcode, &local.policy()?).map_err(Error::PasscodeTooWeak)?;

        let new_key = SealKey::generate().map_err(Error::Seal)?;
        let secret = Prepared::fresh(local.key_store.as_ref(), SecretKind::Passcode)?
            .derive(passcode.as_bytes())?;
        let mut attempts = check::attempts(local)?;
        attempts.succeed(now);
        let mut change = local
            .store
            .change()
            .put_account_wrap(&WrappedKey::Passcode(secret.wrap(&new_key)?))?
            .put(Slot::PasscodeAttempts, &attempts)?;
        let recovery = memory.password_key.as_ref().map(|r| r.wrap(&new_key)).transpose()?;
        change = match recovery {
            Some(wrap) => change.put_recovery_wrap(&wrap)?,
            None => change.remove_recovery_wrap(),
        };
        local.store.apply_and_switch(change, Some(new_key), true)?;
        tracing::info!("passcode set");
        Ok(())
    }

    /// Unlocks with the passcode: works offline.
    ///
    /// The attempt is counted durably before it is checked. Wrong:
    /// [`crate::TwostepError::PasscodeIncorrect`] (attempts left before a wipe under the org
    /// policy, and when the next attempt is allowed); during a delay:
    /// [`crate::TwostepError::PasscodeLockedOut`], without counting; the last allowed
    /// attempt under the org policy wipes the local data ([`crate::TwostepError::Wiped`]).
    /// **Slow** (Argon2id).
    pub fn unlock(&self, passcode: &str, now: UnixTime) -> Result<UnlockResult> {
        Ok(unlock(&self.local, passcode, now, None)?)
    }

    /// Changes the passcode: `current` is checked (and counted) like an unlock, `new` must
    /// follow the policy. Leaves the app unlocked. **Slow** (two Argon2id runs).
    pub fn change(&self, current: &str, new: &str, now: UnixTime) -> Result<()> {
        let local = &self.local;
        let mut memory = local.passcode_memory();
        rules::check(new, &local.policy()?).map_err(Error::PasscodeTooWeak)?;
        if current == new {
            return Err(Error::PasscodeTooWeak(PasscodeWeakness::Unchanged).into());
        }
        let key = check::verify(local, &mut memory, current, now, None)?;
        let secret = Prepared::fresh(local.key_store.as_ref(), SecretKind::Passcode)?
            .derive(new.as_bytes())?;
        let change =
            local.store.change().put_account_wrap(&WrappedKey::Passcode(secret.wrap(&key)?))?;
        local.store.apply_and_switch(change, Some(key), false)?;
        tracing::info!("passcode changed");
        Ok(())
    }

    /// Removes the passcode (user policy only: under the org policy
    /// [`crate::TwostepError::PasscodeRequired`]). `current` is checked and counted like an
    /// unlock. **Slow** (Argon2id).
    pub fn remove(&self, current: &str, now: UnixTime) -> Result<()> {
        let local = &self.local;
        let mut memory = local.passcode_memory();
        if local.policy()?.requirement == twostep_proto::PasscodeRequirement::Required {
            return Err(Error::PasscodeRequired.into());
        }
        let key = check::verify(local, &mut memory, current, now, None)?;
        let wrapped = keys::wrap_platform(local.key_store.as_ref(), KeyRole::Account, &key)?;
        local.store.apply_and_switch(
            local.store.change().put_account_wrap(&wrapped)?,
            Some(key),
            false,
        )?;
        tracing::info!("passcode removed");
        Ok(())
    }

    /// Locks now: the Account key and the decrypted vault leave memory (a no-op without a
    /// passcode). Also ends a "forgot passcode" sign-in in progress.
    pub fn lock(&self) -> Result<()> {
        let mut memory = self.local.passcode_memory();
        Ok(check::lock_account(&self.local, &mut memory)?)
    }

    /// The app went to the background at `now`. With a lock timeout of 0 it locks at once;
    /// otherwise [`Passcode::app_foregrounded`] decides.
    pub fn app_backgrounded(&self, now: UnixTime) -> Result<()> {
        let mut memory = self.local.passcode_memory();
        memory.backgrounded_at = Some(now);
        if self.local.policy()?.lock_timeout_secs == 0 {
            check::lock_account(&self.local, &mut memory)?;
        }
        Ok(())
    }

    /// The app came back at `now`: locks if it stayed in the background for the policy's
    /// lock timeout or longer (or if the clock went back meanwhile), and says where the
    /// passcode stands.
    pub fn app_foregrounded(&self, now: UnixTime) -> Result<PasscodeStatus> {
        let mut memory = self.local.passcode_memory();
        if let Some(at) = memory.backgrounded_at.take() {
            let timeout = Duration::from_secs(u64::from(self.local.policy()?.lock_timeout_secs));
            if now < at || at.until(now) >= timeout {
                check::lock_account(&self.local, &mut memory)?;
            }
        }
        drop(memory);
        Ok(check::status_at(&self.local, now)?)
    }

    /// Erases everything of the account on this device — registration, session, pending
    /// sign-in, cached policy, passcode, recovery wrap and the authenticator vault — and
    /// starts over with a fresh Account key: the next sign-in is a first access. For a
    /// forgotten passcode that the password cannot recover. Works while locked. Keeps the
    /// clock offset.
    pub fn reset_local_data(&self) -> Result<()> {
        let local = &self.local;
        let mut memory = local.passcode_memory();
        let (key, wrapped) = keys::create(local.key_store.as_ref(), KeyRole::Account)?;
        let change = Slot::ACCOUNT_DATA
            .into_iter()
            .chain([Slot::WipeNotice])
            .fold(local.store.change(), |change, slot| change.remove(slot))
            .clear_vault()
            .remove_recovery_wrap()
            .put_account_wrap(&wrapped)?;
        let mut attempts = check::attempts(local)?;
        attempts.succeed(UnixTime::EPOCH);
        let change = change.put(Slot::PasscodeAttempts, &attempts)?;
        local.store.apply_and_switch(change, Some(key), false)?;
        *memory = PasscodeMemory::default();
        tracing::info!("local data reset");
        Ok(())
    }
}

/// [`Passcode::unlock`], reporting the time spent in Argon2id into `kdf_time` (benchmarks).
/// Also the check before an authenticator export.
pub(crate) fn unlock(
    local: &Local,
    passcode: &str,
    now: UnixTime,
    kdf_time: Option<KdfTimer<'_>>,
) -> InternalResult<UnlockResult> {
    let mut memory = local.passcode_memory();
    let key = check::verify(local, &mut memory, passcode, now, kdf_time)?;
    local.store.set_account_key(Some(key));
    let change_required = rules::check(passcode, &local.policy()?).is_err();
    Ok(UnlockResult { change_required })
}
