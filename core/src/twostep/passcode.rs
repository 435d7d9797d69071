//! The passcode operations of [`Twostep`]: set, unlock, change, remove, lock, background
//! timeout, wipe, reset, and the "forgot passcode" recovery that `sign_in` performs.
//!
//! ```text
//!                 set_passcode                      lock / background timeout / restart
//!   NotSet ─────────────────────────► Unlocked ───────────────────────────────► Locked
//!     ▲  ◄───── remove_passcode ───────  ▲  ◄──────────── unlock(pin) ────────────┘ │
//!     │         (not under org policy)   │                                           │ wrong pin
//!     │                                  │           delay over                      ▼
//!     │                                  └──────────────────────────────  LockedOut{until}
//!     │   sign-in completes                                                          │ max attempts
//!     └────────────────────────────────────────────── Wiped ◄────────────────────────┘ (org policy)
//! ```
//!
//! **Crypto-bound.** The Account key is on disk only as `platform(pepper)` plus
//! `seal(Argon2id(pin, salt, K = pepper), account_key)` (see `crate::keys`). Unlocking
//! derives the key from the typed passcode; a wrong one fails the AEAD tag. There is no
//! verifier, and without the platform key the pepper, and with it any guess, is out of reach.
//! Setting a passcode rotates the Account key (every Account record is sealed again under a
//! fresh key in the same batch), so data written from then on never had a platform-only
//! wrap, even in the database's log.
//!
//! **Counted before checked.** Each attempt is written as a failure and flushed before the
//! Argon2id derivation starts; a correct passcode resets the count afterwards. A process
//! killed in between has spent the attempt, and under the org policy a count that reached
//! the maximum without a success wipes at the next open. Delays are computed from the
//! latest time ever seen (`attempts::AttemptRecord`).
//!
//! **Wipe** (org policy, `max_failed_attempts` reached): registration, device key, session,
//! pending sign-in, cached policy and the passcode wrap go. The authenticator vault goes too
//! unless the policy's `wipe_vault` is false *and* a password recovery wrap exists; then the
//! vault stays sealed under the old Account key, reachable only through that wrap.
//!
//! **Forgot passcode** = sign in again with password and code. While the account data is
//! closed (locked, or wiped with the vault kept), `sign_in` sends the password to the server
//! first; once the server has accepted it, the password (Argon2id, keyed by its own
//! platform-held pepper) opens `key/recovery`, the Account key is held in memory for the
//! sign-in while the app stays locked, and when the sign-in completes the passcode is
//! removed (the key is wrapped by the platform alone again): local data kept, status
//! `NotSet`, set a new one. If the password does not open it (changed since, or no recovery
//! wrap), the sign-in stops with `LocalDataUnrecoverable` and changes nothing; the user can
//! still unlock with the passcode, or `reset_local_data` and sign in afresh.
//! The recovery wrap is written when a mobile password sign-in completes, and again for the
//! new key when a passcode is set in the same run (the password key is kept in memory until
//! then); a passcode set in a later run drops it (its key would be stale).
//!
//! Every operation that derives a key (`set_passcode`, `unlock`, `change_passcode`,
//! `remove_passcode`) is **slow on purpose** (Argon2id, m = 19 MiB: tens of milliseconds on
//! a phone) and synchronous: never call it on the UI thread; the bindings export it async.

use std::sync::MutexGuard;
use std::time::{Duration, Instant};
use twostep_proto::{ClientKind, PasscodePolicy, SignInResponse};
use zeroize::Zeroizing;

use super::Twostep;
use crate::error::{Error, InternalResult, Result};
use crate::keys::{self, KeyRole, Prepared, SecretKey, SecretKind, WrappedKey};
use crate::passcode::attempts::AttemptRecord;
use crate::passcode::{
    self, MAX_PASSCODE_CHARS, PasscodeState, PasscodeStatus, PasscodeWeakness, UnlockResult, rules,
};
use crate::seal::SealKey;
use crate::state::{Slot, WipeRecord};

/// Test hook: with this environment variable set, an unlock attempt stops for five minutes
/// right after it was counted durably and before it is checked, so that a test can kill the
/// process there. Compiled only into unit tests and with the `test-hooks` feature.
#[cfg(any(test, feature = "test-hooks"))]
pub const PAUSE_AFTER_COUNT_ENV: &str = "TWOSTEP_TEST_PAUSE_AFTER_PASSCODE_COUNT";

/// What the test hook prints (to stderr) when it pauses.
#[cfg(any(test, feature = "test-hooks"))]
pub const PAUSE_MARKER: &str = "twostep-test: passcode attempt counted";

/// The passcode state of one running app, in memory only (a restart starts locked).
#[derive(Default)]
pub(super) struct Runtime {
    /// A "forgot passcode" sign-in holds the Account key (opened with the password) while
    /// the app stays locked.
    pub recovering: bool,
    /// When the app went to the background.
    pub backgrounded_at: Option<u64>,
    /// The password key of the latest password sign-in of this run: it re-wraps the Account
    /// key for recovery when the sign-in completes and when a passcode is set.
    pub recovery: Option<SecretKey>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("recovering", &self.recovering)
            .field("backgrounded_at", &self.backgrounded_at)
            .finish_non_exhaustive()
    }
}

impl Twostep {
    /// Where the passcode stands and the rules in force, from local state only (works
    /// offline and while locked).
    pub fn passcode_state(&self, now: u64) -> Result<PasscodeState> {
        let policy = self.policy()?;
        let attempts = self.attempts()?;
        Ok(PasscodeState {
            status: self.passcode_status_at(now)?,
            attempts_left: passcode::wipes(&policy)
                .then(|| policy.max_failed_attempts.saturating_sub(attempts.failed)),
            failed_attempts: attempts.failed,
            policy,
        })
    }

    /// Sets a passcode where none is set. The app must be open (no passcode yet, or after
    /// a completed "forgot passcode" sign-in) and stays unlocked.
    ///
    /// The passcode must follow the cached policy and must not be trivial
    /// ([`crate::TwostepError::PasscodeTooWeak`] says why). Rotates the Account key.
    /// **Slow** (Argon2id): not on the UI thread.
    pub fn set_passcode(&self, passcode: &str, now: u64) -> Result<()> {
        let _op = self.passcode_op();
        if matches!(self.store.account_wrap()?, Some(WrappedKey::Passcode(_))) {
            return Err(Error::InvalidInput {
                field: "passcode",
                message: "a passcode is already set; change it instead".to_owned(),
            }
            .into());
        }
        self.require_account_open()?;
        let policy = self.policy()?;
        rules::check(passcode, &policy).map_err(Error::PasscodeTooWeak)?;

        let new_key = SealKey::generate().map_err(Error::Seal)?;
        let secret = Prepared::fresh(self.key_store.as_ref(), SecretKind::Passcode)?
            .derive(passcode.as_bytes())?;
        let mut attempts = self.attempts()?;
        attempts.succeed(now);
        let mut change = self
            .store
            .change()
            .put_account_wrap(&WrappedKey::Passcode(secret.wrap(&new_key)?))?
            .put(Slot::PasscodeAttempts, &attempts)?;
        let recovery = self.runtime().recovery.as_ref().map(|r| r.wrap(&new_key)).transpose()?;
        change = match recovery {
            Some(wrap) => change.put_recovery_wrap(&wrap)?,
            None => change.remove_recovery_wrap(),
        };
        self.store.apply_and_switch(change, Some(new_key), true)?;
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
    /// **Slow** (Argon2id): not on the UI thread.
    pub fn unlock(&self, passcode: &str, now: u64) -> Result<UnlockResult> {
        Ok(self.unlock_inner(passcode, now, None)?)
    }

    /// [`Twostep::unlock`], reporting the time spent in Argon2id into `kdf_time`
    /// (benchmarks).
    pub(crate) fn unlock_inner(
        &self,
        passcode: &str,
        now: u64,
        kdf_time: Option<&mut Duration>,
    ) -> InternalResult<UnlockResult> {
        let _op = self.passcode_op();
        let key = self.verify(passcode, now, kdf_time)?;
        self.store.set_account_key(Some(key));
        self.runtime().recovering = false;
        let change_required = rules::check(passcode, &self.policy()?).is_err();
        Ok(UnlockResult { change_required })
    }

    /// Changes the passcode: `current` is checked (and counted) like an unlock, `new` must
    /// follow the policy. Leaves the app unlocked. **Slow** (two Argon2id runs).
    pub fn change_passcode(&self, current: &str, new: &str, now: u64) -> Result<()> {
        let _op = self.passcode_op();
        rules::check(new, &self.policy()?).map_err(Error::PasscodeTooWeak)?;
        if current == new {
            return Err(Error::PasscodeTooWeak(PasscodeWeakness::Unchanged).into());
        }
        let key = self.verify(current, now, None)?;
        let secret = Prepared::fresh(self.key_store.as_ref(), SecretKind::Passcode)?
            .derive(new.as_bytes())?;
        let change =
            self.store.change().put_account_wrap(&WrappedKey::Passcode(secret.wrap(&key)?))?;
        self.store.apply_and_switch(change, Some(key), false)?;
        self.runtime().recovering = false;
        tracing::info!("passcode changed");
        Ok(())
    }

    /// Removes the passcode (user policy only: under the org policy
    /// [`crate::TwostepError::PasscodeRequired`]). `current` is checked and counted like an
    /// unlock. **Slow** (Argon2id).
    pub fn remove_passcode(&self, current: &str, now: u64) -> Result<()> {
        let _op = self.passcode_op();
        if self.policy()?.requirement == twostep_proto::PasscodeRequirement::Required {
            return Err(Error::PasscodeRequired.into());
        }
        let key = self.verify(current, now, None)?;
        let wrapped = keys::wrap_platform(self.key_store.as_ref(), KeyRole::Account, &key)?;
        self.store.apply_and_switch(
            self.store.change().put_account_wrap(&wrapped)?,
            Some(key),
            false,
        )?;
        self.runtime().recovering = false;
        tracing::info!("passcode removed");
        Ok(())
    }

    /// Locks now: the Account key leaves memory (a no-op without a passcode). Also ends a
    /// "forgot passcode" sign-in in progress.
    pub fn lock(&self) -> Result<()> {
        Ok(self.lock_account()?)
    }

    /// The app went to the background at `now`. With a lock timeout of 0 it locks at once;
    /// otherwise [`Twostep::app_foregrounded`] decides.
    pub fn app_backgrounded(&self, now: u64) -> Result<()> {
        self.runtime().backgrounded_at = Some(now);
        if self.policy()?.lock_timeout_secs == 0 {
            self.lock_account()?;
        }
        Ok(())
    }

    /// The app came back at `now`: locks if it stayed in the background for the policy's
    /// lock timeout or longer (or if the clock went back meanwhile), and says where the
    /// passcode stands.
    pub fn app_foregrounded(&self, now: u64) -> Result<PasscodeStatus> {
        let since = self.runtime().backgrounded_at.take();
        if let Some(at) = since {
            let timeout = u64::from(self.policy()?.lock_timeout_secs);
            if now < at || now - at >= timeout {
                self.lock_account()?;
            }
        }
        Ok(self.passcode_status_at(now)?)
    }

    /// Erases everything of the account on this device — registration, session, pending
    /// sign-in, cached policy, passcode, recovery wrap and the authenticator vault — and
    /// starts over with a fresh Account key: the next sign-in is a first access. For a
    /// forgotten passcode that the password cannot recover. Works while locked. Keeps the
    /// clock offset.
    pub fn reset_local_data(&self) -> Result<()> {
        let _op = self.passcode_op();
        let (key, wrapped) = keys::create(self.key_store.as_ref(), KeyRole::Account)?;
        let change = Slot::ACCOUNT_DATA
            .into_iter()
            .chain([Slot::WipeNotice])
            .fold(self.store.change(), |change, slot| change.remove(slot))
            .clear_vault()
            .remove_recovery_wrap()
            .put_account_wrap(&wrapped)?;
        let mut attempts = self.attempts()?;
        attempts.succeed(0);
        let change = change.put(Slot::PasscodeAttempts, &attempts)?;
        self.store.apply_and_switch(change, Some(key), false)?;
        *self.runtime() = Runtime::default();
        tracing::info!("local data reset");
        Ok(())
    }

    // ---- internals -----------------------------------------------------------------

    pub(super) fn runtime(&self) -> MutexGuard<'_, Runtime> {
        self.passcode.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn passcode_op(&self) -> MutexGuard<'_, ()> {
        self.passcode_op.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The cached policy with defaults applied.
    pub(super) fn policy(&self) -> InternalResult<PasscodePolicy> {
        let cached: Option<PasscodePolicy> = self.store.read(Slot::PasscodePolicy)?;
        Ok(passcode::effective_policy(cached.as_ref()))
    }

    fn attempts(&self) -> InternalResult<AttemptRecord> {
        Ok(self.store.read(Slot::PasscodeAttempts)?.unwrap_or_default())
    }

    /// The account data can be used: its key is in memory and no recovery is in progress.
    pub(super) fn account_usable(&self) -> bool {
        self.store.account_open() && !self.runtime().recovering
    }

    /// For operations that need the account's records.
    pub(super) fn require_account_open(&self) -> InternalResult<()> {
        if self.account_usable() { Ok(()) } else { Err(Error::Locked) }
    }

    /// For what the passcode protects (server calls, later the vault): open, and a passcode
    /// set if the org policy requires one.
    pub(super) fn require_unlocked(&self) -> InternalResult<()> {
        self.require_account_open()?;
        let has_passcode = matches!(self.store.account_wrap()?, Some(WrappedKey::Passcode(_)));
        if !has_passcode && passcode::wipes(&self.policy()?) {
            return Err(Error::PasscodeRequired);
        }
        Ok(())
    }

    pub(super) fn passcode_status_at(&self, now: u64) -> InternalResult<PasscodeStatus> {
        if self.store.read::<WipeRecord>(Slot::WipeNotice)?.is_some() {
            return Ok(PasscodeStatus::Wiped);
        }
        Ok(match self.store.account_wrap()? {
            Some(WrappedKey::Passcode(_)) => match self.attempts()?.locked_out_until(now) {
                Some(until) => PasscodeStatus::LockedOut { until },
                None if self.account_usable() => PasscodeStatus::Unlocked,
                None => PasscodeStatus::Locked,
            },
            _ => PasscodeStatus::NotSet,
        })
    }

    /// Drops the Account key unless no passcode (or recovery) guards it.
    fn lock_account(&self) -> InternalResult<()> {
        let guarded = !matches!(self.store.account_wrap()?, Some(WrappedKey::Platform { .. }));
        let mut runtime = self.runtime();
        if guarded || runtime.recovering {
            self.store.set_account_key(None);
        }
        runtime.recovering = false;
        runtime.recovery = None;
        runtime.backgrounded_at = None;
        drop(runtime);
        // The decrypted authenticator vault leaves memory with the key.
        self.forget_vault();
        Ok(())
    }

    /// Under the org policy, a count that reached the maximum without a success (the
    /// process died while checking the last attempt) wipes. Called when the app opens.
    pub(super) fn enforce_attempt_limit(&self) -> InternalResult<()> {
        if !matches!(self.store.account_wrap()?, Some(WrappedKey::Passcode(_))) {
            return Ok(());
        }
        let policy = self.policy()?;
        let attempts = self.attempts()?;
        if passcode::wipes(&policy) && attempts.failed >= policy.max_failed_attempts {
            self.wipe(&policy, attempts.latest_seen)?;
        }
        Ok(())
    }

    /// Checks a passcode, counting the attempt first; returns the Account key.
    fn verify(
        &self,
        passcode: &str,
        now: u64,
        kdf_time: Option<&mut Duration>,
    ) -> InternalResult<SealKey> {
        if passcode.is_empty() || passcode.len() > MAX_PASSCODE_CHARS {
            return Err(Error::InvalidInput {
                field: "passcode",
                message: format!("must have 1 to {MAX_PASSCODE_CHARS} characters"),
            });
        }
        let wrap = match self.store.account_wrap()? {
            Some(WrappedKey::Passcode(wrap)) => wrap,
            _ if self.store.read::<WipeRecord>(Slot::WipeNotice)?.is_some() => {
                return Err(Error::Wiped);
            }
            _ => return Err(Error::PasscodeNotSet),
        };
        let policy = self.policy()?;
        let wipes = passcode::wipes(&policy);
        let mut attempts = self.attempts()?;
        if wipes && attempts.failed >= policy.max_failed_attempts {
            self.wipe(&policy, attempts.effective_now(now))?;
            return Err(Error::Wiped);
        }
        if let Some(until) = attempts.locked_out_until(now) {
            if attempts.observe(now) {
                self.store.apply(self.store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
            }
            return Err(Error::PasscodeLockedOut(until));
        }
        // The platform key store first (a failure there is not a wrong passcode), then the
        // durable count, then the check.
        let prepared = Prepared::open(self.key_store.as_ref(), SecretKind::Passcode, &wrap)?;
        attempts.count_failure(now);
        self.store.apply(self.store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
        after_durable_count();

        let started = Instant::now();
        let derived = prepared.derive(passcode.as_bytes())?;
        if let Some(kdf_time) = kdf_time {
            *kdf_time = started.elapsed();
        }
        if let Some(key) = derived.open(&wrap)? {
            attempts.succeed(now);
            self.store.apply(self.store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
            return Ok(key);
        }
        self.lock_account()?;
        if wipes && attempts.failed >= policy.max_failed_attempts {
            self.wipe(&policy, attempts.latest_seen)?;
            return Err(Error::Wiped);
        }
        tracing::info!(failed = attempts.failed, "wrong passcode");
        Err(Error::PasscodeIncorrect {
            attempts_left: wipes.then(|| policy.max_failed_attempts - attempts.failed),
            locked_until: attempts.next_attempt_at(),
        })
    }

    /// Too many wrong passcodes under the org policy: back to first access.
    fn wipe(&self, policy: &PasscodePolicy, at: u64) -> InternalResult<()> {
        let vault_kept = !policy.wipe_vault && self.store.recovery_wrap()?.is_some();
        let mut change = Slot::ACCOUNT_DATA
            .into_iter()
            .chain([Slot::PasscodeAttempts])
            .fold(self.store.change(), |change, slot| change.remove(slot))
            .put(Slot::WipeNotice, &WipeRecord { at, vault_kept })?;
        let new_key = if vault_kept {
            // The vault stays sealed under the old key, which only the password opens now.
            change = change.remove_account_wrap();
            None
        } else {
            let (key, wrapped) = keys::create(self.key_store.as_ref(), KeyRole::Account)?;
            change = change.clear_vault().remove_recovery_wrap().put_account_wrap(&wrapped)?;
            Some(key)
        };
        self.store.apply_and_switch(change, new_key, false)?;
        *self.runtime() = Runtime::default();
        tracing::warn!(vault_kept, "too many wrong passcodes: local data wiped");
        Ok(())
    }

    // ---- forgot passcode (called by sign_in) ----------------------------------------

    /// Argon2id of the account password for the recovery wrap: with the existing wrap's
    /// pepper and salt (to open it, or to seal a new key for it), or fresh ones. Runs on a
    /// blocking thread.
    pub(super) async fn password_key(&self, password: &str) -> InternalResult<SecretKey> {
        let prepared = match self.store.recovery_wrap()? {
            Some(wrap) => Prepared::open(self.key_store.as_ref(), SecretKind::Password, &wrap)?,
            None => Prepared::fresh(self.key_store.as_ref(), SecretKind::Password)?,
        };
        let password = Zeroizing::new(password.as_bytes().to_vec());
        tokio::task::spawn_blocking(move || prepared.derive(&password))
            .await
            .map_err(|e| Error::Internal(format!("password key derivation: {e}")))?
    }

    /// Opens the recovery wrap with the password key: the Account key is held for the
    /// sign-in while the app stays locked.
    pub(super) fn recover(&self, secret: &SecretKey) -> InternalResult<()> {
        let wrap = self.store.recovery_wrap()?.ok_or(Error::Unrecoverable)?;
        let key = secret.open(&wrap)?.ok_or(Error::Unrecoverable)?;
        self.store.set_account_key(Some(key));
        self.runtime().recovering = true;
        tracing::info!(
            "forgot passcode: the password opened the local data; completing the sign-in"
        );
        Ok(())
    }

    /// Ends a recovery in progress: the key leaves memory again.
    pub(super) fn end_recovery(&self) {
        let mut runtime = self.runtime();
        if runtime.recovering {
            self.store.set_account_key(None);
            runtime.recovering = false;
        }
    }

    /// A recovery failed after the server accepted the password: leave nothing open there
    /// (a mobile session has already registered a device whose key is now dropped).
    pub(super) async fn discard_answer(&self, response: SignInResponse) {
        let grant = match response {
            SignInResponse::CodeRequired(challenge) => {
                if let Err(e) = self.api.cancel(&challenge.challenge_id).await {
                    tracing::debug!(error = %e, "cancelling the sign-in after a failed recovery");
                }
                return;
            }
            SignInResponse::Session(grant) => grant,
            SignInResponse::SetupRequired(setup) => match setup.session {
                Some(grant) => grant,
                None => return,
            },
        };
        if let Some(device) = &grant.device
            && let Err(e) = self.api.delete_device(&grant.token, &device.device_id).await
        {
            tracing::debug!(error = %e, "removing the device registered by a failed recovery");
        }
        if let Err(e) = self.api.sign_out(&grant.token).await {
            tracing::debug!(error = %e, "ending the session of a failed recovery");
        }
    }

    /// What a completing sign-in adds to its batch: the end of a recovery (the passcode is
    /// removed, the key wrapped by the platform alone again), a fresh recovery wrap, and the
    /// end of a wipe notice.
    pub(super) fn on_sign_in_complete<'a>(
        &self,
        mut change: crate::state::Change<'a>,
    ) -> InternalResult<(crate::state::Change<'a>, bool)> {
        let runtime = self.runtime();
        let recovering = runtime.recovering;
        if recovering {
            let wrapped = self.store.with_account_key(|key| {
                keys::wrap_platform(self.key_store.as_ref(), KeyRole::Account, key)
            })?;
            change = change.put_account_wrap(&wrapped)?;
            let mut attempts = self.attempts()?;
            attempts.succeed(0);
            change = change.put(Slot::PasscodeAttempts, &attempts)?;
        }
        if let Some(secret) = &runtime.recovery {
            let wrap = self.store.with_account_key(|key| secret.wrap(key))?;
            change = change.put_recovery_wrap(&wrap)?;
        }
        Ok((change.remove(Slot::WipeNotice), recovering))
    }

    /// Whether `sign_in` should keep a password key: mobile sign-ins (a passcode may
    /// follow) and every recovery.
    pub(super) fn wants_password_key(client: ClientKind, closed: bool) -> bool {
        client == ClientKind::Mobile || closed
    }
}

/// The test hook point: the attempt is on disk, the check has not started.
fn after_durable_count() {
    #[cfg(any(test, feature = "test-hooks"))]
    if std::env::var_os(PAUSE_AFTER_COUNT_ENV).is_some() {
        eprintln!("{PAUSE_MARKER}");
        std::thread::sleep(Duration::from_secs(300));
    }
}

#[cfg(test)]
mod tests;
