//! "Forgot passcode": a password sign-in while the account data is closed (locked, or wiped
//! with the vault kept) opens it again with the password.
//!
//! `Session::sign_in` sends the password to the server first; once the server has accepted
//! it, the password (Argon2id, keyed by its own platform-held pepper) opens `key/recovery`,
//! and the Account key is held for the sign-in while the app stays locked
//! (`AccountKey::Recovering`). When the sign-in completes the passcode is removed (the key
//! is wrapped by the platform alone again): local data kept, status `NotSet`, set a new
//! one. If the password does not open it (changed since, or no recovery wrap), the sign-in
//! stops with `LocalDataUnrecoverable` and changes nothing; the user can still unlock with
//! the passcode, or reset the local data and sign in afresh.
//!
//! The recovery wrap is written when a mobile password sign-in completes, and again for the
//! new key when a passcode is set in the same run (the password key is kept in memory until
//! then); a passcode set in a later run drops it (its key would be stale).

use twostep_otp::UnixTime;
use twostep_proto::ClientKind;
use zeroize::Zeroizing;

use crate::error::{Error, InternalResult};
use crate::keys::{self, KeyRole, Prepared, SecretKey, SecretKind};
use crate::local::Local;
use crate::state::{Change, Slot};

/// Whether `sign_in` should keep a password key: mobile sign-ins (a passcode may follow) and
/// every recovery.
pub(crate) fn wants_password_key(client: ClientKind, closed: bool) -> bool {
    client == ClientKind::Mobile || closed
}

/// Argon2id of the account password for the recovery wrap: with the existing wrap's pepper
/// and salt (to open it, or to seal a new key for it), or fresh ones. Runs on a blocking
/// thread.
pub(crate) async fn password_key(local: &Local, password: &str) -> InternalResult<SecretKey> {
    let prepared = match local.store.recovery_wrap()? {
        Some(wrap) => Prepared::open(local.key_store.as_ref(), SecretKind::Password, &wrap)?,
        None => Prepared::fresh(local.key_store.as_ref(), SecretKind::Password)?,
    };
    let password = Zeroizing::new(password.as_bytes().to_vec());
    tokio::task::spawn_blocking(move || prepared.derive(&password))
        .await
        .map_err(|e| Error::Internal(format!("password key derivation: {e}")))?
}

/// Opens the recovery wrap with the password key: the Account key is held for the sign-in
/// while the app stays locked.
pub(crate) fn recover(local: &Local, secret: &SecretKey) -> InternalResult<()> {
    let _memory = local.passcode_memory();
    let wrap = local.store.recovery_wrap()?.ok_or(Error::Unrecoverable)?;
    let key = secret.open(&wrap)?.ok_or(Error::Unrecoverable)?;
    local.store.start_recovery(key);
    tracing::info!("forgot passcode: the password opened the local data; completing the sign-in");
    Ok(())
}

/// Ends a recovery in progress (a new sign-in, a cancelled one): the key leaves memory.
pub(crate) fn end(local: &Local) {
    let _memory = local.passcode_memory();
    local.store.end_recovery(false);
}

/// Applies the batch of a completing sign-in, with what the passcode adds to it: the end of
/// a recovery (the passcode is removed, the key wrapped by the platform alone again), a
/// fresh recovery wrap, and the end of a wipe notice.
pub(crate) fn complete_sign_in(local: &Local, mut change: Change<'_>) -> InternalResult<()> {
    let memory = local.passcode_memory();
    let recovering = local.store.recovering();
    if recovering {
        let wrapped = local.store.with_account_key(|key| {
            keys::wrap_platform(local.key_store.as_ref(), KeyRole::Account, key)
        })?;
        change = change.put_account_wrap(&wrapped)?;
        let mut attempts = super::check::attempts(local)?;
        attempts.succeed(UnixTime::EPOCH);
        change = change.put(Slot::PasscodeAttempts, &attempts)?;
    }
    if let Some(secret) = &memory.password_key {
        let wrap = local.store.with_account_key(|key| secret.wrap(key))?;
        change = change.put_recovery_wrap(&wrap)?;
    }
    local.store.apply(change.remove(Slot::WipeNotice))?;
    if recovering {
        local.store.end_recovery(true);
        tracing::info!(
            "forgot passcode: signed in again; the local data was kept and the passcode removed"
        );
    }
    Ok(())
}
