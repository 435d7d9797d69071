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
//! [`Error::Locked`]. Its lock is the innermost of the crate (see `crate::twostep`). A [`Change`]
//! keeps its values in the clear (zeroized on drop) and seals them when it is applied, under the
//! keys current at that moment, so that a change prepared before a key rotation cannot land sealed
//! under the old key.

mod layout;
mod meta;
mod records;

pub(crate) use records::{
    ClockRecord, PendingRecord, RegistrationRecord, ServerRecord, SessionRecord, Slot, WipeRecord,
};

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::hooks;
use crate::keys::{
    self, BIOMETRIC_KEY, BiometricWrap, KeyRole, RECOVERY_KEY, SecretWrap, WrappedKey,
};
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

/// One write of a [`Change`], sealed when the change is applied.
enum Op {
    /// Seal `plain` under the role's key with `aad`, store under `key`.
    Seal { key: Vec<u8>, aad: Vec<u8>, role: KeyRole, plain: Zeroizing<Vec<u8>> },
    /// Store as is (wrapped keys, which are not secret).
    Clear { key: Vec<u8>, value: Vec<u8> },
    /// Remove one key.
    Remove { key: Vec<u8> },
    /// Remove every key with this prefix (as found when the change is applied).
    RemovePrefix { prefix: Vec<u8> },
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

/// A set of writes that [`StateStore::apply`] makes all at once. Values wait in the clear
/// (zeroized on drop) and are sealed when the change is applied.
pub(crate) struct Change<'a> {
    ops: Vec<Op>,
    store: PhantomData<&'a StateStore>,
}

impl std::fmt::Debug for Change<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Change")
    }
}

impl Change<'_> {
    /// Seals raw bytes into a slot.
    pub(crate) fn put_secret(mut self, slot: Slot, value: &[u8]) -> Result<Self, Error> {
        self.ops.push(Op::Seal {
            key: slot.storage_key(),
            aad: slot.aad(),
            role: slot.role(),
            plain: Zeroizing::new(value.to_vec()),
        });
        Ok(self)
    }

    /// Seals a value as JSON into a slot.
    pub(crate) fn put<T: Serialize>(self, slot: Slot, value: &T) -> Result<Self, Error> {
        let json = Zeroizing::new(
            serde_json::to_vec(value)
                .map_err(|e| Error::Internal(format!("encoding {}: {e}", slot.name())))?,
        );
        self.put_secret(slot, &json)
    }

    /// Empties a slot.
    pub(crate) fn remove(mut self, slot: Slot) -> Self {
        self.ops.push(Op::Remove { key: slot.storage_key() });
        self
    }

    /// Seals a vault record under the Account key (see [`VAULT_PREFIX`]).
    pub(crate) fn put_vault(mut self, id: &str, value: &[u8]) -> Self {
        self.ops.push(Op::Seal {
            key: vault_key(id),
            aad: vault_aad(id),
            role: KeyRole::Account,
            plain: Zeroizing::new(value.to_vec()),
        });
        self
    }

    /// Removes one vault record.
    #[allow(dead_code)] // Part of the vault hook; the vault keeps one record today.
    pub(crate) fn remove_vault(mut self, id: &str) -> Self {
        self.ops.push(Op::Remove { key: vault_key(id) });
        self
    }

    /// Removes the whole vault.
    pub(crate) fn clear_vault(mut self) -> Self {
        self.ops.push(Op::RemovePrefix { prefix: VAULT_PREFIX.as_bytes().to_vec() });
        self
    }

    /// Stores how the Account key is wrapped. Without a passcode the biometric wrap goes
    /// too: there is nothing left for it to unlock.
    pub(crate) fn put_account_wrap(mut self, wrapped: &WrappedKey) -> Result<Self, Error> {
        let value = serde_json::to_vec(wrapped).map_err(|e| Error::Internal(e.to_string()))?;
        self.ops.push(Op::Clear { key: KeyRole::Account.storage_key().to_vec(), value });
        if !matches!(wrapped, WrappedKey::Passcode(_)) {
            self = self.remove_biometric_wrap();
        }
        Ok(self)
    }

    /// Removes the Account key's wrap (a wipe that keeps the vault for password recovery),
    /// and with it the biometric wrap.
    pub(crate) fn remove_account_wrap(mut self) -> Self {
        self.ops.push(Op::Remove { key: KeyRole::Account.storage_key().to_vec() });
        self.remove_biometric_wrap()
    }

    /// Stores the biometric wrap of the Account key.
    pub(crate) fn put_biometric_wrap(mut self, wrap: &BiometricWrap) -> Result<Self, Error> {
        let value = serde_json::to_vec(wrap).map_err(|e| Error::Internal(e.to_string()))?;
        self.ops.push(Op::Clear { key: BIOMETRIC_KEY.to_vec(), value });
        Ok(self)
    }

    /// Removes the biometric wrap.
    pub(crate) fn remove_biometric_wrap(mut self) -> Self {
        self.ops.push(Op::Remove { key: BIOMETRIC_KEY.to_vec() });
        self
    }

    /// Stores the password recovery wrap of the Account key.
    pub(crate) fn put_recovery_wrap(mut self, wrap: &SecretWrap) -> Result<Self, Error> {
        let value = serde_json::to_vec(wrap).map_err(|e| Error::Internal(e.to_string()))?;
        self.ops.push(Op::Clear { key: RECOVERY_KEY.to_vec(), value });
        Ok(self)
    }

    /// Removes the password recovery wrap.
    pub(crate) fn remove_recovery_wrap(mut self) -> Self {
        self.ops.push(Op::Remove { key: RECOVERY_KEY.to_vec() });
        self
    }
}

/// Opens sled. A database closed a moment ago in this process (an app restarting) can stay
/// locked while sled's background threads finish with it: a lock conflict is retried for up
/// to a second before it is reported as "in use".
fn open_db(path: &Path) -> Result<sled::Db, Error> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    loop {
        match sled::Config::new().path(path).cache_capacity(4 * 1024 * 1024).open() {
            Err(e)
                if crate::error::is_lock_conflict(&e) && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

fn create_private_dir(dir: &Path) -> Result<(), Error> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(|source| Error::Io { path: dir.to_owned(), source })
}

/// We use only sled's default tree; any other tree means another program's database.
fn check_trees(db: &sled::Db) -> Result<(), Error> {
    let default = db.name();
    if let Some(other) = db.tree_names().into_iter().find(|name| *name != default) {
        return Err(Error::Foreign(format!(
            "the database has a tree {:?} that twostep does not use",
            String::from_utf8_lossy(&other)
        )));
    }
    Ok(())
}

/// Writes the meta record and both wrapped keys in one batch.
fn initialize(db: &sled::Db, key_store: &dyn KeyStore) -> Result<(SealKey, SealKey), Error> {
    let (local, wrapped_local) = keys::create(key_store, KeyRole::Local)?;
    let (account, wrapped_account) = keys::create(key_store, KeyRole::Account)?;
    let mut batch = sled::Batch::default();
    for (role, wrapped) in [(KeyRole::Local, &wrapped_local), (KeyRole::Account, &wrapped_account)]
    {
        let json = serde_json::to_vec(wrapped).map_err(|e| Error::Internal(e.to_string()))?;
        batch.insert(role.storage_key(), json);
    }
    batch.insert(meta::META_KEY, meta::current());
    hooks::point(hooks::BEFORE_WRITE);
    db.apply_batch(batch)?;
    hooks::point(hooks::UNFLUSHED);
    db.flush()?;
    hooks::point(hooks::FLUSHED);
    Ok((local, account))
}

fn load_key(db: &sled::Db, key_store: &dyn KeyStore, role: KeyRole) -> Result<SealKey, Error> {
    let stored = db
        .get(role.storage_key())?
        .ok_or_else(|| Error::Corrupt(format!("the {} key is missing", role.label())))?;
    let wrapped: WrappedKey = serde_json::from_slice(&stored)
        .map_err(|_| Error::Corrupt(format!("the wrapped {} key does not parse", role.label())))?;
    match (role, wrapped) {
        (KeyRole::Local, WrappedKey::Passcode(_)) => {
            Err(Error::Corrupt("the local key is never behind the passcode".to_owned()))
        }
        (_, wrapped) => keys::unwrap(key_store, role, &wrapped),
    }
}

/// The Account key when no passcode protects it; `None` when one does, or when a wipe
/// left it only in the password recovery wrap.
fn load_account_key(db: &sled::Db, key_store: &dyn KeyStore) -> Result<Option<SealKey>, Error> {
    if db.get(KeyRole::Account.storage_key())?.is_none() && db.get(RECOVERY_KEY)?.is_some() {
        return Ok(None);
    }
    match load_key(db, key_store, KeyRole::Account) {
        Ok(key) => Ok(Some(key)),
        Err(Error::Locked) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeyStore;
    use twostep_otp::UnixTime;

    fn store_in(dir: &Path, ks: &MemoryKeyStore) -> StateStore {
        StateStore::open(dir, ks).unwrap()
    }

    #[test]
    fn values_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        {
            let store = store_in(dir.path(), &ks);
            let change = store
                .change()
                .put(
                    Slot::ClockOffset,
                    &ClockRecord { offset_ms: -1500, measured_at: UnixTime::from_secs(7) },
                )
                .unwrap()
                .put_secret(Slot::SessionToken, b"token")
                .unwrap();
            store.apply(change).unwrap();
        }
        let store = store_in(dir.path(), &ks);
        let clock: ClockRecord = store.read(Slot::ClockOffset).unwrap().unwrap();
        assert_eq!(clock.offset_ms, -1500);
        assert_eq!(store.read_secret(Slot::SessionToken).unwrap().unwrap().as_slice(), b"token");
        assert!(store.read_secret(Slot::DeviceKey).unwrap().is_none());

        store.apply(store.change().remove(Slot::SessionToken)).unwrap();
        assert!(store.read_secret(Slot::SessionToken).unwrap().is_none());
    }

    #[test]
    fn values_are_not_on_disk_in_the_clear() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        {
            let store = store_in(dir.path(), &ks);
            store
                .apply(
                    store
                        .change()
                        .put_secret(Slot::SessionToken, b"PLAINTEXT-TOKEN-MARKER")
                        .unwrap(),
                )
                .unwrap();
        }
        for entry in walk(&dir.path().join(STATE_DIR)) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(
                !bytes.windows(22).any(|w| w == b"PLAINTEXT-TOKEN-MARKER"),
                "{}",
                entry.display()
            );
        }
    }

    use crate::fixtures::files_under as walk;

    #[test]
    fn another_key_store_cannot_open_the_state() {
        let dir = tempfile::tempdir().unwrap();
        drop(store_in(dir.path(), &MemoryKeyStore::new()));
        let err = StateStore::open(dir.path(), &MemoryKeyStore::new()).unwrap_err();
        assert!(matches!(err, Error::KeyStore(_)), "{err}");
    }

    #[test]
    fn a_tampered_record_is_reported_as_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        let store = store_in(dir.path(), &ks);
        store.apply(store.change().put_secret(Slot::SessionToken, b"t").unwrap()).unwrap();
        let mut sealed = store.db.get(Slot::SessionToken.storage_key()).unwrap().unwrap().to_vec();
        sealed[20] ^= 1;
        store.db.insert(Slot::SessionToken.storage_key(), sealed).unwrap();
        assert!(matches!(
            store.read_secret(Slot::SessionToken),
            Err(Error::Unseal { record: "session_token", .. })
        ));
        // Moving a value to another slot does not work either.
        let token = store.db.get(Slot::Session.storage_key()).unwrap();
        assert!(token.is_none());
        let clock = store
            .change()
            .put(
                Slot::ClockOffset,
                &ClockRecord { offset_ms: 0, measured_at: UnixTime::from_secs(0) },
            )
            .unwrap();
        store.apply(clock).unwrap();
        let moved = store.db.get(Slot::ClockOffset.storage_key()).unwrap().unwrap();
        store.db.insert(Slot::PasscodePolicy.storage_key(), moved).unwrap();
        assert!(matches!(store.read_secret(Slot::PasscodePolicy), Err(Error::Unseal { .. })));
    }

    fn sled_with(path: &Path, entries: &[(&[u8], &[u8])]) {
        let db = sled::open(path).unwrap();
        for (k, v) in entries {
            db.insert(k, *v).unwrap();
        }
        db.flush().unwrap();
    }

    #[test]
    fn a_foreign_database_is_refused_and_left_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join(STATE_DIR);
        sled_with(&state, &[(b"their-key", b"their-value")]);
        let err = StateStore::open(dir.path(), &MemoryKeyStore::new()).unwrap_err();
        assert!(matches!(err, Error::Foreign(_)), "{err}");
        let db = sled::open(&state).unwrap();
        assert_eq!(db.len(), 1);
        assert!(db.get(meta::META_KEY).unwrap().is_none());
    }

    #[test]
    fn another_applications_meta_is_foreign_and_a_newer_format_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        sled_with(
            &dir.path().join(STATE_DIR),
            &[(meta::META_KEY, br#"{"app":"other","format":1}"#)],
        );
        assert!(matches!(
            StateStore::open(dir.path(), &MemoryKeyStore::new()),
            Err(Error::Foreign(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        sled_with(
            &dir.path().join(STATE_DIR),
            &[(meta::META_KEY, br#"{"app":"twostep-core","format":9}"#)],
        );
        assert!(matches!(
            StateStore::open(dir.path(), &MemoryKeyStore::new()),
            Err(Error::Newer(9))
        ));
        let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
        assert_eq!(db.len(), 1, "nothing was written next to a newer format");
    }

    #[test]
    fn a_bare_database_or_stray_files_are_foreign() {
        let dir = tempfile::tempdir().unwrap();
        sled_with(dir.path(), &[(b"k", b"v")]);
        assert!(matches!(
            StateStore::open(dir.path(), &MemoryKeyStore::new()),
            Err(Error::Foreign(_))
        ));

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(STATE_DIR)).unwrap();
        std::fs::write(dir.path().join(STATE_DIR).join("notes.txt"), b"mine").unwrap();
        assert!(matches!(
            StateStore::open(dir.path(), &MemoryKeyStore::new()),
            Err(Error::Foreign(_))
        ));
        assert_eq!(std::fs::read_dir(dir.path().join(STATE_DIR)).unwrap().count(), 1);

        let file = dir.path().join("a-file");
        std::fs::write(&file, b"x").unwrap();
        assert!(matches!(StateStore::open(&file, &MemoryKeyStore::new()), Err(Error::Foreign(_))));
    }

    #[test]
    fn damaged_keys_or_meta_are_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        drop(store_in(dir.path(), &ks));
        {
            let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
            db.insert(KeyRole::Account.storage_key(), &b"{not json"[..]).unwrap();
            db.flush().unwrap();
        }
        assert!(matches!(StateStore::open(dir.path(), &ks), Err(Error::Corrupt(_))));
        {
            let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
            db.remove(KeyRole::Account.storage_key()).unwrap();
            db.flush().unwrap();
        }
        assert!(matches!(StateStore::open(dir.path(), &ks), Err(Error::Corrupt(_))));
        {
            let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
            db.insert(meta::META_KEY, &b"\x00\x01"[..]).unwrap();
            db.flush().unwrap();
        }
        assert!(matches!(StateStore::open(dir.path(), &ks), Err(Error::Corrupt(_))));
    }

    #[test]
    fn a_garbled_database_file_is_an_error_not_a_fresh_start() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        drop(store_in(dir.path(), &ks));
        let conf = dir.path().join(STATE_DIR).join("conf");
        std::fs::write(&conf, b"garbage garbage garbage garbage").unwrap();
        let err = StateStore::open(dir.path(), &ks).unwrap_err();
        assert!(matches!(err, Error::Sled(_) | Error::Corrupt(_)), "{err}");
        assert_eq!(std::fs::read(&conf).unwrap(), b"garbage garbage garbage garbage");
    }

    #[test]
    fn account_records_are_out_of_reach_while_the_account_key_is_closed() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        let store = store_in(dir.path(), &ks);
        store
            .apply(
                store.change().put_secret(Slot::SessionToken, b"t").unwrap().put_vault("a", b"v"),
            )
            .unwrap();
        let key = store
            .with_account_key(|k| SealKey::from_bytes(k.expose_bytes()).map_err(Error::Seal))
            .unwrap();
        store.set_account_key(None);
        assert!(!store.account_open());
        assert!(matches!(store.read_secret(Slot::SessionToken), Err(Error::Locked)));
        assert!(matches!(store.read_vault("a"), Err(Error::Locked)));
        assert_eq!(store.vault_ids().unwrap(), ["a"], "ids are not secret");
        // Local records still work; an Account write fails whole, writing nothing.
        let both = store
            .change()
            .put(
                Slot::ClockOffset,
                &ClockRecord { offset_ms: 1, measured_at: UnixTime::from_secs(2) },
            )
            .unwrap()
            .put_secret(Slot::Session, b"{}");
        assert!(matches!(store.apply(both.unwrap()), Err(Error::Locked)));
        assert!(store.read::<ClockRecord>(Slot::ClockOffset).unwrap().is_none());
        store.set_account_key(Some(key));
        assert_eq!(store.read_secret(Slot::SessionToken).unwrap().unwrap().as_slice(), b"t");
    }

    #[test]
    fn a_rotation_reseals_every_account_record_and_a_change_prepared_before_lands_under_the_new_key()
     {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        let store = store_in(dir.path(), &ks);
        store
            .apply(
                store
                    .change()
                    .put_secret(Slot::DeviceKey, b"pkcs8")
                    .unwrap()
                    .put_vault("a", b"v")
                    .put_vault("b", b"w"),
            )
            .unwrap();
        let prepared = store.change().put_secret(Slot::SessionToken, b"later").unwrap();
        let new_key = SealKey::generate().unwrap();
        let new_bytes = *new_key.expose_bytes();
        store.apply_and_switch(store.change().remove_vault("b"), Some(new_key), true).unwrap();
        store.apply(prepared).unwrap();
        let rotated = SealKey::from_bytes(&new_bytes).unwrap();
        for (key, aad) in [
            (Slot::DeviceKey.storage_key(), Slot::DeviceKey.aad()),
            (Slot::SessionToken.storage_key(), Slot::SessionToken.aad()),
        ] {
            let sealed = store.db.get(&key).unwrap().unwrap();
            rotated.open(&aad, &sealed).unwrap();
        }
        assert_eq!(store.read_vault("a").unwrap().unwrap().as_slice(), b"v");
        assert_eq!(
            store.vault_ids().unwrap(),
            ["a"],
            "the change's own writes come after the reseal"
        );
        store.apply(store.change().clear_vault()).unwrap();
        assert!(store.vault_ids().unwrap().is_empty());
    }

    #[test]
    fn a_second_open_while_the_first_is_alive_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        let first = store_in(dir.path(), &ks);
        let err = crate::TwostepError::from(StateStore::open(dir.path(), &ks).unwrap_err());
        assert!(
            matches!(err, crate::TwostepError::Storage { ref message } if message.contains("in use")),
            "{err:?}"
        );
        drop(first);
        store_in(dir.path(), &ks);
    }
}
