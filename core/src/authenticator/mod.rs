//! [`Authenticator`]: the on-device authenticator — the vault of TOTP/HOTP/Steam accounts,
//! its codes, imports and exports. The logic is the pure `twostep-otp` crate; this module
//! stores its vault and guards it. It needs no server: the clock correction uses the
//! server's measured offset when there is one.
//!
//! **Storage.** The vault is one record, `vault/main`, sealed under the **Account** key
//! through the state's vault hook (`StateStore::read_vault`, `Change::put_vault`). So with
//! a passcode set it opens only when unlocked; setting a passcode re-seals it under the new
//! key; a wipe after too many wrong passcodes removes it unless the policy's `wipe_vault`
//! is false and a password recovery exists; `reset_local_data` removes it.
//!
//! **Writes are durable before they are acknowledged.** Every change is made on a copy of
//! the vault, written and flushed, and only then becomes the vault in memory; a failed
//! write changes nothing. An HOTP code is returned only after its counter has advanced on
//! disk.
//!
//! **In memory.** While the account data is open, the decrypted vault is kept (secrets
//! zeroized on drop) so that `codes(now)` does not unseal and parse it every second. It is
//! tied to the Account key it was read under: a lock drops it, and a different key (a reset,
//! a wipe, a new passcode) makes it be read again.
//!
//! **Exports** (encrypted or plain) need the passcode again when one is set: it is checked
//! through [`crate::Passcode::unlock`]'s path, so a wrong one counts as a failed attempt
//! (and locks the app, like a wrong unlock).
//!
//! Locks: the vault cache (`Local::vault`), then the Account key; an export's passcode check
//! takes the passcode lock first and releases it before the vault's (see `crate::local`).

use std::sync::Arc;
use twostep_otp::{KdfParams, UnixTime, Vault, export, import, uri};
use zeroize::Zeroizing;

use crate::error::{Error, InternalResult, Result};
use crate::local::{LoadedVault, Local, VaultCache};

/// The authenticator's types, from the pure `twostep-otp` crate.
pub use twostep_otp::import::detect;
pub use twostep_otp::{
    AccountCode, AccountFields, AccountId, AccountInfo, AccountWarning, Algorithm, ClockCorrection,
    CodeList, Detected, DuplicateEntry, EntryError, HotpCode, ImportFormat, ImportReport,
    OffsetSource, OtpKind,
};

/// The vault's record id under the state's `vault/` prefix.
const VAULT_RECORD: &str = "main";

/// The authenticator vault of a data directory; from [`crate::Twostep::authenticator`].
#[derive(Debug, Clone)]
pub struct Authenticator {
    local: Arc<Local>,
}

impl Authenticator {
    pub(crate) fn new(local: Arc<Local>) -> Self {
        Self { local }
    }

    // ---- accounts ------------------------------------------------------------------

    /// Every account, in display order, without secrets.
    pub fn accounts(&self) -> Result<Vec<AccountInfo>> {
        Ok(self.read_vault(|vault| Ok(vault.accounts().iter().map(|a| a.info()).collect()))?)
    }

    /// The accounts whose issuer, name or group contains `query` (case-insensitive).
    pub fn search(&self, query: &str) -> Result<Vec<AccountInfo>> {
        Ok(self
            .read_vault(|vault| Ok(vault.search(query).into_iter().map(|a| a.info()).collect()))?)
    }

    /// The groups in use, sorted.
    pub fn groups(&self) -> Result<Vec<String>> {
        Ok(self.read_vault(|vault| Ok(vault.groups()))?)
    }

    /// Adds the account an `otpauth://` URI describes (a scanned QR code). Refused, with
    /// nothing stored, if the URI is malformed or the same secret is already in the vault
    /// ([`crate::TwostepError::Authenticator`] says why).
    pub fn add_uri(&self, uri: &str) -> Result<AccountInfo> {
        let account = uri::parse(uri).map_err(Error::Otp)?;
        Ok(self.change_vault(|vault| {
            let id = vault.add(account)?;
            Ok(vault.get(id)?.info())
        })?)
    }

    /// Adds an account entered field by field.
    pub fn add(&self, fields: &AccountFields<'_>) -> Result<AccountInfo> {
        let account = fields.to_account().map_err(Error::Otp)?;
        Ok(self.change_vault(|vault| {
            let id = vault.add(account)?;
            Ok(vault.get(id)?.info())
        })?)
    }

    /// Renames an account (`None` keeps a field as it is).
    pub fn edit(
        &self,
        id: AccountId,
        issuer: Option<&str>,
        name: Option<&str>,
    ) -> Result<AccountInfo> {
        Ok(self.change_vault(|vault| {
            vault.edit(id, issuer, name)?;
            Ok(vault.get(id)?.info())
        })?)
    }

    /// Puts an account in a group (`None` or blank: no group).
    pub fn set_group(&self, id: AccountId, group: Option<&str>) -> Result<AccountInfo> {
        Ok(self.change_vault(|vault| {
            vault.set_group(id, group)?;
            Ok(vault.get(id)?.info())
        })?)
    }

    /// Deletes an account.
    pub fn delete(&self, id: AccountId) -> Result<()> {
        Ok(self.change_vault(|vault| vault.remove(id).map(drop))?)
    }

    /// Moves an account to `index` in the display order.
    pub fn move_to(&self, id: AccountId, index: u32) -> Result<()> {
        Ok(self.change_vault(|vault| vault.move_to(id, index as usize))?)
    }

    /// Sets the whole display order (every account exactly once).
    pub fn reorder(&self, ids: &[AccountId]) -> Result<()> {
        Ok(self.change_vault(|vault| vault.reorder(ids))?)
    }

    // ---- codes ---------------------------------------------------------------------

    /// Every account's code, next code and seconds remaining at device time `now`, in one
    /// call. The device clock is corrected by the user's offset if set
    /// ([`Authenticator::set_clock_correction`]), else by the offset measured against the
    /// server; `offset_warning` says when the correction exceeds 15 s. HOTP accounts have
    /// no code here: see [`Authenticator::next_hotp_code`].
    pub fn codes(&self, now: UnixTime) -> Result<CodeList> {
        let server = self.local.clock_offset()?.map(|o| o.offset_ms);
        Ok(self.read_vault(|vault| Ok(vault.codes(now, vault.correction(server))))?)
    }

    /// The next code of an HOTP account. Its counter advances, durably, before the code is
    /// returned: a code is never shown twice.
    pub fn next_hotp_code(&self, id: AccountId) -> Result<HotpCode> {
        Ok(self.change_vault(|vault| vault.next_hotp(id))?)
    }

    /// Sets (or with `None` clears) the user's own clock correction, in milliseconds to add
    /// to the device clock (at most one day either way). It takes precedence over the
    /// offset measured against the server.
    pub fn set_clock_correction(&self, offset_ms: Option<i64>) -> Result<()> {
        Ok(self.change_vault(|vault| vault.set_user_clock_offset_ms(offset_ms))?)
    }

    /// The correction `codes` applies now, and where it comes from.
    pub fn clock_correction(&self) -> Result<ClockCorrection> {
        let server = self.local.clock_offset()?.map(|o| o.offset_ms);
        Ok(self.read_vault(|vault| Ok(vault.correction(server)))?)
    }

    // ---- imports -------------------------------------------------------------------

    /// Imports a file from another authenticator. All or nothing: an invalid entry refuses
    /// the whole file ([`crate::TwostepError::Authenticator`] with `reason`
    /// `invalid_entries` lists each one). Accounts already in the vault are skipped and
    /// reported as duplicates.
    pub fn import(&self, format: ImportFormat, bytes: &[u8]) -> Result<ImportReport> {
        let entries = import::parse(format, bytes).map_err(Error::Otp)?;
        Ok(self.change_vault(|vault| vault.import(entries))?)
    }

    /// Imports an encrypted export made by [`Authenticator::export_encrypted`] (on this
    /// device or another). **Slow** (Argon2id, 64 MiB): not on the UI thread.
    pub fn import_encrypted(&self, bytes: &[u8], password: &str) -> Result<ImportReport> {
        self.local.require_unlocked()?;
        let entries = export::decrypt(bytes, password).map_err(Error::Otp)?;
        Ok(self.change_vault(|vault| vault.import(entries))?)
    }

    // ---- exports -------------------------------------------------------------------

    /// Every account, encrypted under `password` (Argon2id + AES-256-GCM; format in
    /// `docs/AUTHENTICATOR.md`). With a passcode set, `passcode` must be given and is
    /// checked (and counted) like an unlock. **Slow** (Argon2id, 64 MiB): not on the UI
    /// thread.
    pub fn export_encrypted(
        &self,
        passcode: Option<&str>,
        password: &str,
        now: UnixTime,
    ) -> Result<String> {
        self.confirm_passcode(passcode, now)?;
        let rng = ring::rand::SystemRandom::new();
        Ok(self.read_vault(|vault| {
            export::encrypt(vault.accounts(), password, KdfParams::default(), &rng)
        })?)
    }

    /// Every account as an `otpauth://` URI, one per line: anyone who reads it can generate
    /// the codes. With a passcode set, `passcode` must be given and is checked (and
    /// counted) like an unlock.
    pub fn export_plain(&self, passcode: Option<&str>, now: UnixTime) -> Result<Zeroizing<String>> {
        self.confirm_passcode(passcode, now)?;
        Ok(self.read_vault(|vault| Ok(export::plain(vault.accounts())))?)
    }

    // ---- internals -----------------------------------------------------------------

    /// The check before an export: unlocked, and the passcode entered again if one is set.
    fn confirm_passcode(&self, passcode: Option<&str>, now: UnixTime) -> InternalResult<()> {
        self.local.require_unlocked()?;
        if self.local.has_passcode()? {
            let passcode = passcode.ok_or_else(|| Error::InvalidInput {
                field: "passcode",
                message: "enter the passcode again to export the authenticator".to_owned(),
            })?;
            crate::passcode::unlock(&self.local, passcode, now, None)?;
        }
        Ok(())
    }

    /// Runs `f` on the vault.
    fn read_vault<T>(&self, f: impl FnOnce(&Vault) -> twostep_otp::Result<T>) -> InternalResult<T> {
        let mut cache = self.local.vault_cache();
        let vault = self.loaded(&mut cache)?;
        f(vault).map_err(Error::Otp)
    }

    /// Runs `f` on a copy of the vault, stores the copy durably, then keeps it. An error
    /// from `f` or from the write changes nothing.
    fn change_vault<T>(
        &self,
        f: impl FnOnce(&mut Vault) -> twostep_otp::Result<T>,
    ) -> InternalResult<T> {
        let mut cache = self.local.vault_cache();
        let mut next = self.loaded(&mut cache)?.clone();
        let out = f(&mut next).map_err(Error::Otp)?;
        let bytes = next.to_bytes().map_err(Error::Otp)?;
        let store = &self.local.store;
        store.apply(store.change().put_vault(VAULT_RECORD, &bytes))?;
        if let Some(loaded) = cache.loaded.as_mut() {
            loaded.vault = next;
        }
        Ok(out)
    }

    /// The vault in memory, read (or re-read) if needed. [`Error::Locked`] (and nothing in
    /// memory) while the account data is closed.
    fn loaded<'c>(&self, cache: &'c mut VaultCache) -> InternalResult<&'c mut Vault> {
        if let Err(e) = self.local.require_unlocked() {
            cache.loaded = None;
            return Err(e);
        }
        let store = &self.local.store;
        let key_id = store.with_account_key(|key| {
            let digest = ring::digest::digest(&ring::digest::SHA256, key.expose_bytes());
            let mut id = [0u8; 32];
            id.copy_from_slice(digest.as_ref());
            Ok(id)
        })?;
        if cache.loaded.as_ref().is_none_or(|l| l.key_id != key_id) {
            let vault = match store.read_vault(VAULT_RECORD)? {
                Some(bytes) => Vault::from_bytes(&bytes).map_err(Error::Otp)?,
                None => Vault::new(),
            };
            cache.loaded = Some(LoadedVault { key_id, vault });
        }
        match cache.loaded.as_mut() {
            Some(loaded) => Ok(&mut loaded.vault),
            None => Err(Error::Internal("the vault was not loaded".to_owned())),
        }
    }
}

#[cfg(test)]
mod tests;
