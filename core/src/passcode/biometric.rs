//! Biometric unlock (an option): a second way to open what the passcode opens.
//!
//! With a passcode set, the app may wrap the Account key once more with a
//! [`BiometricKeyStore`] — a platform key that needs the user's authentication for every use
//! (Android Keystore `setUserAuthenticationRequired` + `BiometricPrompt`; iOS Keychain under
//! `SecAccessControl` `.biometryCurrentSet`, this device only). `key/biometric` then holds
//! that wrap and a check of the key (`crate::keys::BiometricWrap`); unlocking with biometrics
//! asks the platform to unwrap it, confirms the key with the check and opens the account
//! data, without Argon2id and without the passcode.
//!
//! - **Never the only way in.** It needs a passcode, and goes when the passcode goes (removed, or
//!   by a "forgot passcode" sign-in), when the Account key changes (a passcode set anew, a wipe, a
//!   reset) and when the app turns it off. Changing the passcode keeps it: the key is the same.
//! - **Nothing changes on a refusal.** A dismissed prompt (`AuthenticationCancelled`), a failed one
//!   (`AuthenticationFailed`), an unavailable key store: no write, no count, still locked. A key
//!   that new biometric enrollments invalidated can never open again: its wrap is removed, and the
//!   passcode remains.
//! - **Passcode delays hold.** During a passcode delay (`PasscodeLockedOut`) and after a wipe it
//!   refuses like the passcode does; a success ends the failed-attempt count, as a correct passcode
//!   does (the user proved who they are).
//! - **No lock across the prompt.** The key store is async and may wait for the user as long as
//!   they like: the passcode lock is taken before (to read the wrap) and after (to check that
//!   nothing changed meanwhile and open the data), never while the prompt is up.

use std::sync::Arc;
use twostep_otp::UnixTime;
use zeroize::Zeroizing;

use super::Passcode;
use super::check;
use crate::error::{Error, InternalResult, Result};
use crate::keys::{BIOMETRIC_LABEL, BiometricWrap};
use crate::keystore::{BiometricKeyStore, KeyStoreError};
use crate::local::Local;
use crate::seal::SealKey;
use crate::state::{Slot, WipeRecord};

impl Passcode {
    /// Whether biometric unlock is on for this data dir.
    pub fn biometric_unlock_enabled(&self) -> Result<bool> {
        Ok(self.local.store.biometric_wrap()?.is_some())
    }

    /// Turns biometric unlock on: the Account key is wrapped by the biometric key store
    /// (which may ask the user). Needs a passcode and the app unlocked. A refusal changes
    /// nothing.
    pub async fn enable_biometric_unlock(&self) -> Result<()> {
        Ok(enable(&self.local).await?)
    }

    /// Unlocks with the user's biometrics (the key store asks them): no passcode, no
    /// Argon2id. Already unlocked: nothing to do. A cancelled or failed prompt changes
    /// nothing ([`crate::TwostepError::AuthenticationCancelled`],
    /// [`crate::TwostepError::AuthenticationFailed`]).
    pub async fn unlock_with_biometrics(&self, now: UnixTime) -> Result<()> {
        Ok(unlock(&self.local, now).await?)
    }

    /// Turns biometric unlock off (the passcode stays).
    pub fn disable_biometric_unlock(&self) -> Result<()> {
        let _memory = self.local.passcode_memory();
        let store = &self.local.store;
        Ok(store.apply(store.change().remove_biometric_wrap())?)
    }
}

fn key_store(local: &Local) -> InternalResult<Arc<dyn BiometricKeyStore>> {
    local.biometric.clone().ok_or_else(|| Error::InvalidInput {
        field: "biometric_key_store",
        message: "none was given when the data dir was opened".to_owned(),
    })
}

async fn enable(local: &Local) -> InternalResult<()> {
    let biometric = key_store(local)?;
    let (key, wrap_check) = {
        let _memory = local.passcode_memory();
        local.require_unlocked()?;
        if !local.has_passcode()? {
            return Err(Error::PasscodeNotSet);
        }
        local.store.with_account_key(|key| {
            Ok((Zeroizing::new(key.expose_bytes().to_vec()), BiometricWrap::check_of(key)?))
        })?
    };
    let wrapped = biometric.wrap_key(BIOMETRIC_LABEL.to_owned(), key.to_vec()).await?;
    let wrap = BiometricWrap { wrapped: crate::keys::encode(&wrapped), check: wrap_check };

    let _memory = local.passcode_memory();
    // The user may have taken a while: the key and the passcode must be those of before.
    let same_key = local.store.with_account_key(|current| wrap.is_for(current))?;
    if !same_key || !local.has_passcode()? {
        return Err(changed_meanwhile());
    }
    local.store.apply(local.store.change().put_biometric_wrap(&wrap)?)?;
    tracing::info!("biometric unlock turned on");
    Ok(())
}

async fn unlock(local: &Local, now: UnixTime) -> InternalResult<()> {
    let biometric = key_store(local)?;
    let wrap = {
        let _memory = local.passcode_memory();
        if local.store.account_usable() {
            return Ok(());
        }
        refuse_like_the_passcode(local, now)?;
        local.store.biometric_wrap()?.ok_or_else(|| Error::InvalidInput {
            field: "biometric",
            message: "biometric unlock is not turned on".to_owned(),
        })?
    };
    let raw = match biometric.unwrap_key(BIOMETRIC_LABEL.to_owned(), wrap.wrapped_bytes()?).await {
        Ok(raw) => Zeroizing::new(raw),
        Err(e @ KeyStoreError::KeyInvalidated { .. }) => {
            forget_invalidated(local, &wrap)?;
            return Err(e.into());
        }
        Err(e) => return Err(e.into()),
    };
    let key = SealKey::from_bytes(&raw).map_err(|_| {
        Error::Corrupt(format!("the biometric key store returned a {}-byte key", raw.len()))
    })?;

    let _memory = local.passcode_memory();
    if local.store.biometric_wrap()?.as_ref() != Some(&wrap) {
        return Err(changed_meanwhile());
    }
    refuse_like_the_passcode(local, now)?;
    if !wrap.is_for(&key)? {
        return Err(Error::Corrupt("the biometric key store returned another key".to_owned()));
    }
    let mut attempts = check::attempts(local)?;
    if attempts.failed > 0 {
        attempts.succeed(now);
        local.store.apply(local.store.change().put(Slot::PasscodeAttempts, &attempts)?)?;
    }
    local.store.set_account_key(Some(key));
    tracing::info!("unlocked with biometrics");
    Ok(())
}

/// What the passcode would refuse now, biometrics refuse too: a wiped data dir, no
/// passcode, a passcode delay.
fn refuse_like_the_passcode(local: &Local, now: UnixTime) -> InternalResult<()> {
    if local.store.read::<WipeRecord>(Slot::WipeNotice)?.is_some() {
        return Err(Error::Wiped);
    }
    if !local.has_passcode()? {
        return Err(Error::PasscodeNotSet);
    }
    let attempts = check::attempts(local)?;
    match attempts.locked_out_until(now) {
        Some(until) => Err(Error::PasscodeLockedOut { until, now: attempts.effective_now(now) }),
        None => Ok(()),
    }
}

/// The platform says the biometric key is gone for good (new fingerprints or faces were
/// enrolled): its wrap can never open again.
fn forget_invalidated(local: &Local, wrap: &BiometricWrap) -> InternalResult<()> {
    let _memory = local.passcode_memory();
    if local.store.biometric_wrap()?.as_ref() == Some(wrap) {
        local.store.apply(local.store.change().remove_biometric_wrap())?;
        tracing::warn!("the biometric key was invalidated: biometric unlock turned off");
    }
    Ok(())
}

fn changed_meanwhile() -> Error {
    Error::InvalidInput {
        field: "passcode",
        message: "the passcode changed while the user was asked; try again".to_owned(),
    }
}
