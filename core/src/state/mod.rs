//! Local state: a sled database under the app's data directory, every value sealed.
//!
//! Layout of the data directory (the app owns it; we own `state/` inside it):
//!
//! ```text
//! <data_dir>/state/        sled database, one tree:
//!     meta                 {"app":"twostep-core","format":1}, in the clear
//!     key/local            the Local data key, wrapped (see crate::keys)
//!     key/account          the Account data key, wrapped (platform, or platform + passcode)
//!     key/recovery         the Account key wrapped for the account password (optional)
//!     rec/<slot>           sealed values (see records::Slot)
//!     vault/<id>           the authenticator vault, sealed under the Account key
//! ```
//!
//! Every change is one atomic sled batch followed by a flush, so an acknowledged write
//! survives `kill -9` and a crash never leaves half a sign-in behind. Opening refuses,
//! and never modifies, a directory that is corrupt, belongs to something else, or was
//! written by a newer format; what a first open killed before sled made its `db` file left
//! behind is cleared and the database created afresh (`layout.rs`).
//!
//! The Account key is in memory only while the account data is open: without a passcode
//! from opening on, with one after `unlock`, and while a "forgot passcode" sign-in
//! recovers it with the password ([`AccountKey::Recovering`]: readable for the sign-in,
//! not usable by the app). Reading or writing an Account record while it is closed is
//! [`Error::Locked`]. Its lock is the innermost of the crate (see `crate::local`). A [`Change`]
//! keeps its values in the clear (zeroized on drop) and seals them when it is applied, under the
//! keys current at that moment, so that a change prepared before a key rotation cannot land sealed
//! under the old key.
//!
//! Here: [`StateStore`], reading and applying. `change.rs`: [`Change`], the writes of one
//! operation. `open.rs`: opening, checking and initializing the database. `records.rs`: the
//! slots. `layout.rs`: what a killed first open left. `meta.rs`: the format record.

mod change;
mod layout;
mod meta;
mod open;
mod records;

pub(crate) use change::Change;

pub(crate) use records::{
    ClockRecord, PendingRecord, RegistrationRecord, ServerRecord, SessionRecord, Slot, WipeRecord,
};

use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use zeroize::Zeroizing;

use change::Op;
use open::{check_trees, create_private_dir, initialize, load_account_key, load_key, open_db};

use crate::error::Error;
use crate::hooks;
use crate::keys::{BIOMETRIC_KEY, BiometricWrap, KeyRole, RECOVERY_KEY, SecretWrap, WrappedKey};
use crate::keystore::KeyStore;
use crate::seal::SealKey;

/// The sub-directory of the data directory that holds the database.
const STATE_DIR: &str = "state";

/// Sled key prefix of the authenticator vault's records: `vault/<id>`, each sealed under
/// the Account key with the associated data `twostep/state/v1/vault/<id>`.
///
/// This is the hook for the vault: store vault records only through
/// [`StateStore::read_vault`], [`StateStore::vault_ids`], [`Change::put_vault`] and
/// [`Change::remove_vault`]. Then a passcode being set re-seals them under the new Account
/// key, a wipe under the org policy removes them when the policy's `wipe_vault` says so
/// ([`Change::clear_vault`]) and keeps them otherwise, and a reset removes them.
pub(crate) const VAULT_PREFIX: &str = "vault/";

/// The opened state: the database and the data keys.
pub(crate) struct StateStore {
    db: sled::Db,
    local: SealKey,
    account: RwLock<AccountKey>,
    path: PathBuf,
}

/// Where the Account key stands in memory.
enum AccountKey {
    /// Not in memory: locked (or wiped with the vault kept for recovery).
    Closed,
    /// In memory and usable by the app.
    Open(SealKey),
    /// In memory for a "forgot passcode" sign-in only: its writes can be sealed, but the
    /// app stays locked until the sign-in completes.
    Recovering(SealKey),
}

impl AccountKey {
    fn key(&self) -> Option<&SealKey> {
        match self {
            Self::Closed => None,
            Self::Open(key) | Self::Recovering(key) => Some(key),
        }
    }

    fn from(key: Option<SealKey>) -> Self {
        key.map_or(Self::Closed, Self::Open)
    }
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl StateStore {
    /// Opens (or initializes) the state under `data_dir`. The Account key is unwrapped
    /// when no passcode protects it; otherwise it stays closed until an unlock.
    pub(crate) fn open(data_dir: &Path, key_store: &dyn KeyStore) -> Result<Self, Error> {
        let path = data_dir.join(STATE_DIR);
        layout::check(data_dir, &path)?;
        create_private_dir(data_dir)?;
        create_private_dir(&path)?;
        let db = open_db(&path)?;
        check_trees(&db)?;

        let (local, account) = match db.get(meta::META_KEY)? {
            Some(found) => {
                meta::check(&found)?;
                (load_key(&db, key_store, KeyRole::Local)?, load_account_key(&db, key_store)?)
            }
            None if db.is_empty() => {
                let (local, account) = initialize(&db, key_store)?;
                (local, Some(account))
            }
            None => {
                return Err(Error::Foreign(format!(
                    "{} holds data but no twostep meta record",
                    path.display()
                )));
            }
        };
        Ok(Self { db, local, account: RwLock::new(AccountKey::from(account)), path })
    }

    fn account_read(&self) -> RwLockReadGuard<'_, AccountKey> {
        self.account.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn account_write(&self) -> RwLockWriteGuard<'_, AccountKey> {
        self.account.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether the Account key is in memory (no passcode, unlocked, or recovering).
    pub(crate) fn account_open(&self) -> bool {
        self.account_read().key().is_some()
    }

    /// Whether the app may use the account data: the key is in memory and no recovery is in
    /// progress.
    pub(crate) fn account_usable(&self) -> bool {
        matches!(*self.account_read(), AccountKey::Open(_))
    }

    /// Puts the Account key in memory (unlock) or drops it (lock).
    pub(crate) fn set_account_key(&self, key: Option<SealKey>) {
        *self.account_write() = AccountKey::from(key);
    }

    /// Holds the Account key for a "forgot passcode" sign-in (the app stays locked).
    pub(crate) fn start_recovery(&self, key: SealKey) {
        *self.account_write() = AccountKey::Recovering(key);
    }

    /// Whether a recovery holds the key.
    pub(crate) fn recovering(&self) -> bool {
        matches!(*self.account_read(), AccountKey::Recovering(_))
    }

    /// Ends a recovery: with `completed`, the app may use the key from now on; otherwise the
    /// key leaves memory. No-op without a recovery.
    pub(crate) fn end_recovery(&self, completed: bool) {
        let mut account = self.account_write();
        if matches!(*account, AccountKey::Recovering(_)) {
            *account = match std::mem::replace(&mut *account, AccountKey::Closed) {
                AccountKey::Recovering(key) if completed => AccountKey::Open(key),
                _ => AccountKey::Closed,
            };
        }
    }

    /// Runs `f` with the Account key; [`Error::Locked`] when it is closed.
    pub(crate) fn with_account_key<T>(
        &self,
        f: impl FnOnce(&SealKey) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let guard = self.account_read();
        f(guard.key().ok_or(Error::Locked)?)
    }

    /// How the Account key is wrapped on disk (`None` after a wipe that kept the vault for
    /// password recovery).
    pub(crate) fn account_wrap(&self) -> Result<Option<WrappedKey>, Error> {
        match self.db.get(KeyRole::Account.storage_key())? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| Error::Corrupt("the wrapped account key does not parse".to_owned())),
        }
    }

    /// The password recovery wrap of the Account key, if any.
    pub(crate) fn recovery_wrap(&self) -> Result<Option<SecretWrap>, Error> {
        match self.db.get(RECOVERY_KEY)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| Error::Corrupt("the recovery wrap does not parse".to_owned())),
        }
    }

    /// The biometric wrap of the Account key, if biometric unlock is on.
    pub(crate) fn biometric_wrap(&self) -> Result<Option<BiometricWrap>, Error> {
        match self.db.get(BIOMETRIC_KEY)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|_| Error::Corrupt("the biometric wrap does not parse".to_owned())),
        }
    }

    /// Reads and opens a slot's raw value.
    pub(crate) fn read_secret(&self, slot: Slot) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        match slot.role() {
            KeyRole::Local => {
                self.open_value(&self.local, &slot.storage_key(), &slot.aad(), slot.name())
            }
            KeyRole::Account => {
                let guard = self.account_read();
                let key = guard.key().ok_or(Error::Locked)?;
                self.open_value(key, &slot.storage_key(), &slot.aad(), slot.name())
            }
        }
    }

    fn open_value(
        &self,
        key: &SealKey,
        storage_key: &[u8],
        aad: &[u8],
        record: &'static str,
    ) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let Some(sealed) = self.db.get(storage_key)? else { return Ok(None) };
        key.open(aad, &sealed).map(Some).map_err(|source| Error::Unseal { record, source })
    }

    /// Reads and opens a slot holding JSON.
    pub(crate) fn read<T: DeserializeOwned>(&self, slot: Slot) -> Result<Option<T>, Error> {
        match self.read_secret(slot)? {
            None => Ok(None),
            Some(plain) => serde_json::from_slice(&plain)
                .map(Some)
                .map_err(|e| Error::Corrupt(format!("record {} does not parse: {e}", slot.name()))),
        }
    }

    /// Reads and opens one vault record (see [`VAULT_PREFIX`]).
    pub(crate) fn read_vault(&self, id: &str) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let guard = self.account_read();
        let key = guard.key().ok_or(Error::Locked)?;
        self.open_value(key, &vault_key(id), &vault_aad(id), "vault")
    }

    /// The ids of the vault's records, in order. Works while locked (ids are not secret).
    pub(crate) fn vault_ids(&self) -> Result<Vec<String>, Error> {
        let mut ids = vec![];
        for key in self.db.scan_prefix(VAULT_PREFIX.as_bytes()).keys() {
            let key = key?;
            let id = std::str::from_utf8(&key[VAULT_PREFIX.len()..])
                .map_err(|_| Error::Corrupt("a vault record id is not text".to_owned()))?;
            ids.push(id.to_owned());
        }
        Ok(ids)
    }

    /// Starts a change; apply it with [`StateStore::apply`].
    pub(crate) fn change(&self) -> Change<'_> {
        Change { ops: vec![], store: PhantomData }
    }

    /// Applies a change atomically and durably.
    pub(crate) fn apply(&self, change: Change<'_>) -> Result<(), Error> {
        let account = self.account_read();
        let batch = self.batch(change.ops, account.key())?;
        self.write(batch)
    }

    /// Writes one batch (all of it or, after a crash, none of it) and flushes it; the crash
    /// tests' points mark each step (`crate::hooks`).
    fn write(&self, batch: sled::Batch) -> Result<(), Error> {
        hooks::point(hooks::BEFORE_WRITE);
        self.db.apply_batch(batch)?;
        hooks::point(hooks::UNFLUSHED);
        self.db.flush()?;
        hooks::point(hooks::FLUSHED);
        Ok(())
    }

    /// Applies a change and replaces the Account key in memory, atomically with respect to
    /// every other read and write. With `reseal`, every Account record (slots and vault) is
    /// first opened with the current key and sealed again under `new_key` in the same batch
    /// (key rotation); the change's own writes come after and win.
    pub(crate) fn apply_and_switch(
        &self,
        change: Change<'_>,
        new_key: Option<SealKey>,
        reseal: bool,
    ) -> Result<(), Error> {
        let mut account = self.account_write();
        let mut ops = vec![];
        if reseal {
            // A new key: the biometric wrap holds the old one.
            ops.push(Op::Remove { key: BIOMETRIC_KEY.to_vec() });
            let old = account.key().ok_or(Error::Locked)?;
            for slot in Slot::ALL.into_iter().filter(|s| s.role() == KeyRole::Account) {
                if let Some(plain) =
                    self.open_value(old, &slot.storage_key(), &slot.aad(), slot.name())?
                {
                    ops.push(Op::Seal {
                        key: slot.storage_key(),
                        aad: slot.aad(),
                        role: KeyRole::Account,
                        plain,
                    });
                }
            }
            for id in self.vault_ids()? {
                if let Some(plain) =
                    self.open_value(old, &vault_key(&id), &vault_aad(&id), "vault")?
                {
                    ops.push(Op::Seal {
                        key: vault_key(&id),
                        aad: vault_aad(&id),
                        role: KeyRole::Account,
                        plain,
                    });
                }
            }
        }
        ops.extend(change.ops);
        let batch = self.batch(ops, new_key.as_ref())?;
        self.write(batch)?;
        *account = AccountKey::from(new_key);
        Ok(())
    }

    fn batch(&self, ops: Vec<Op>, account: Option<&SealKey>) -> Result<sled::Batch, Error> {
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                Op::Seal { key, aad, role, plain } => {
                    let seal_key = match role {
                        KeyRole::Local => &self.local,
                        KeyRole::Account => account.ok_or(Error::Locked)?,
                    };
                    batch.insert(key, seal_key.seal(&aad, &plain).map_err(Error::Seal)?);
                }
                Op::Clear { key, value } => batch.insert(key, value),
                Op::Remove { key } => batch.remove(key),
                Op::RemovePrefix { prefix } => {
                    for key in self.db.scan_prefix(&prefix).keys() {
                        batch.remove(key?);
                    }
                }
            }
        }
        Ok(batch)
    }

    /// The database directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Every record as stored (sealed values as they are), for tests that check that a
    /// refusal wrote nothing.
    #[cfg(test)]
    pub(crate) fn raw_records(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.db.iter().map(|r| r.map(|(k, v)| (k.to_vec(), v.to_vec())).unwrap()).collect()
    }
}

fn vault_key(id: &str) -> Vec<u8> {
    format!("{VAULT_PREFIX}{id}").into_bytes()
}

fn vault_aad(id: &str) -> Vec<u8> {
    format!("twostep/state/v1/{VAULT_PREFIX}{id}").into_bytes()
}

#[cfg(test)]
mod tests;
