//! Checking a passcode, and what follows from the result: counted before checked, the
//! escalating delays, the org policy's wipe, locking.
//!
//! **Counted before checked.** Each attempt is written as a failure and flushed before the
//! Argon2id derivation starts; a correct passcode resets the count afterwards. A process
//! killed in between has spent the attempt, and under the org policy a count that reached
//! the maximum without a success wipes at the next open ([`enforce_attempt_limit`]).
//! Delays are computed from the latest time ever seen (`attempts::AttemptRecord`).
//!
//! **Wipe** (org policy, `max_failed_attempts` reached): registration, device key, session,
//! pending sign-in, cached policy and the passcode wrap go. The authenticator vault goes too
//! unless the policy's `wipe_vault` is false *and* a password recovery wrap exists; then the
//! vault stays sealed under the old Account key, reachable only through that wrap.
//!
//! Every function here runs with the passcode lock held (the caller's `&mut
//! PasscodeMemory`).

use std::time::{Duration, Instant};
use twostep_otp::UnixTime;
use twostep_proto::PasscodePolicy;

use super::attempts::AttemptRecord;
use super::{MAX_PASSCODE_CHARS, PasscodeMemory, PasscodeStatus};
use crate::error::{Error, InternalResult};
use crate::hooks;
use crate::keys::{self, KeyRole, Prepared, SecretKind, WrappedKey};
use crate::local::Local;
use crate::seal::SealKey;
use crate::state::{Slot, WipeRecord};

/// Where a benchmark wants the time spent in Argon2id.
pub(crate) type KdfTimer<'a> = &'a mut Duration;

/// The failed-attempt counter.
pub(crate) fn attempts(local: &Local) -> InternalResult<AttemptRecord> {
    Ok(local.store.read(Slot::PasscodeAttempts)?.unwrap_or_default())
}

/// Where the passcode stands at `now` (no lock needed: reads only).
pub(crate) fn status_at(local: &Local, now: UnixTime) -> InternalResult<PasscodeStatus> {
    if local.store.read::<WipeRecord>(Slot::WipeNotice)?.is_some() {
        return Ok(PasscodeStatus::Wiped);
    }
    if !local.has_passcode()? {
        return Ok(PasscodeStatus::NotSet);
    }
    Ok(match attempts(local)?.locked_out_until(now) {
        Some(until) => PasscodeStatus::LockedOut { until },
        None if local.store.account_usable() => PasscodeStatus::Unlocked,
        None => PasscodeStatus::Locked,
    })
}

/// Drops the Account key unless no passcode (or recovery) guards it, and with it the
/// decrypted vault and the password key.
pub(crate) fn lock_account(local: &Local, memory: &mut PasscodeMemory) -> InternalResult<()> {
    let guarded = !matches!(local.store.account_wrap()?, Some(WrappedKey::Platform { .. }));
    if guarded {
        local.store.set_account_key(None);
    }
    local.store.end_recovery(false);
    *memory = PasscodeMemory::default();
    local.vault_cache().forget();
    Ok(())
}

/// Under the org policy, a count that reached the maximum without a success (the process
/// died while checking the last attempt) wipes. Called when the app opens.
pub(crate) fn enforce_attempt_limit(local: &Local) -> InternalResult<()> {
    if !local.has_passcode()? {
        return Ok(());
    }
    let policy = local.policy()?;
    let attempts = attempts(local)?;
    if super::wipes(&policy) && attempts.failed >= policy.max_failed_attempts {
        let mut memory = local.passcode_memory();
        wipe(local, &mut memory, &policy, attempts.latest_seen)?;
    }
    Ok(())
}

/// Checks a passcode, counting the attempt first; returns the Account key.
pub(crate) fn verify(
    local: &Local,
    memory: &mut PasscodeMemory,
    passcode: &str,
    now: UnixTime,
    kdf_time: Option<KdfTimer<'_>>,
) -> InternalResult<SealKey> {
    if passcode.is_empty() || passcode.len() > MAX_PASSCODE_CHARS {
        return Err(Error::InvalidInput {
            field: "passcode",
            message: format!("must have 1 to {MAX_PASSCODE_CHARS} characters"),
        });
    }
    let store = &local.store;
    let wrap = match store.account_wrap()? {
        Some(WrappedKey::Passcode(wrap)) => wrap,
        _ if store.read::<WipeRecord>(Slot::WipeNotice)?.is_some() => return Err(Error::Wiped),
        _ => return Err(Error::PasscodeNotSet),
    };
    let policy = local.policy()?;
    let wipes = super::wipes(&policy);
    let mut attempts = attempts(local)?;
    if wipes && attempts.failed >= policy.max_failed_attempts {
        wipe(local, memory, &policy, attempts.effective_now(now))?;
        return Err(Error::Wiped);
    }
    if let Some(until) = attempts.locked_out_until(now) {
        if attempts.observe(now) {
            store.apply(store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
        }
        return Err(Error::PasscodeLockedOut { until, now: attempts.effective_now(now) });
    }
    // The platform key store first (a failure there is not a wrong passcode), then the
    // durable count, then the check.
    let prepared = Prepared::open(local.key_store.as_ref(), SecretKind::Passcode, &wrap)?;
    attempts.count_failure(now);
    store.apply(store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
    // A crash test may kill the process here: the attempt is spent.
    hooks::point(hooks::PASSCODE_COUNTED);

    let started = Instant::now();
    let derived = prepared.derive(passcode.as_bytes())?;
    if let Some(kdf_time) = kdf_time {
        *kdf_time = started.elapsed();
    }
    if let Some(key) = derived.open(&wrap)? {
        attempts.succeed(now);
        store.apply(store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
        return Ok(key);
    }
    lock_account(local, memory)?;
    if wipes && attempts.failed >= policy.max_failed_attempts {
        wipe(local, memory, &policy, attempts.latest_seen)?;
        return Err(Error::Wiped);
    }
    tracing::info!(failed = attempts.failed, "wrong passcode");
    Err(Error::PasscodeIncorrect {
        attempts_left: wipes.then(|| policy.max_failed_attempts - attempts.failed),
        next_attempt_at: attempts.next_attempt_at(),
        now: attempts.effective_now(now),
    })
}

/// Too many wrong passcodes under the org policy: back to first access.
fn wipe(
    local: &Local,
    memory: &mut PasscodeMemory,
    policy: &PasscodePolicy,
    at: UnixTime,
) -> InternalResult<()> {
    let vault_kept = !policy.wipe_vault && local.store.recovery_wrap()?.is_some();
    let mut change = Slot::ACCOUNT_DATA
        .into_iter()
        .chain([Slot::PasscodeAttempts])
        .fold(local.store.change(), |change, slot| change.remove(slot))
        .put(Slot::WipeNotice, &WipeRecord { at, vault_kept })?;
    let new_key = if vault_kept {
        // The vault stays sealed under the old key, which only the password opens now.
        change = change.remove_account_wrap();
        None
    } else {
        let (key, wrapped) = keys::create(local.key_store.as_ref(), KeyRole::Account)?;
        change = change.clear_vault().remove_recovery_wrap().put_account_wrap(&wrapped)?;
        Some(key)
    };
    local.store.apply_and_switch(change, new_key, false)?;
    *memory = PasscodeMemory::default();
    local.vault_cache().forget();
    tracing::warn!(vault_kept, "too many wrong passcodes: local data wiped");
    Ok(())
}
