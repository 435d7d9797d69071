//! Local state: a sled database under the app's data directory, every value sealed.
//!
//! Layout of the data directory (the app owns it; we own `state/` inside it):
//!
//! ```text
//! <data_dir>/state/        sled database, one tree:
//!     meta                 {"app":"twostep-core","format":1}, in the clear
//!     key/local            the Local data key, wrapped (see crate::keys)
//!     key/account          the Account data key, wrapped
//!     rec/<slot>           sealed values (see records::Slot)
//! ```
//!
//! Every change is one atomic sled batch followed by a flush, so an acknowledged write
//! survives `kill -9` and a crash never leaves half a sign-in behind. Opening refuses,
//! and never modifies, a directory that is corrupt, belongs to something else, or was
//! written by a newer format.

mod meta;
mod records;

pub(crate) use records::{ClockRecord, PendingRecord, RegistrationRecord, SessionRecord, Slot};

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keys::{self, KeyRole, WrappedKey};
use crate::keystore::KeyStore;
use crate::seal::SealKey;

/// The sub-directory of the data directory that holds the database.
const STATE_DIR: &str = "state";

/// The opened state: the database and both data keys.
pub(crate) struct StateStore {
    db: sled::Db,
    local: SealKey,
    account: SealKey,
    path: PathBuf,
}

impl std::fmt::Debug for StateStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl StateStore {
    /// Opens (or initializes) the state under `data_dir`.
    pub(crate) fn open(data_dir: &Path, key_store: &dyn KeyStore) -> Result<Self, Error> {
        let path = data_dir.join(STATE_DIR);
        check_layout(data_dir, &path)?;
        create_private_dir(data_dir)?;
        create_private_dir(&path)?;
        let db = sled::Config::new().path(&path).cache_capacity(4 * 1024 * 1024).open()?;
        check_trees(&db)?;

        let (local, account) = match db.get(meta::META_KEY)? {
            Some(found) => {
                meta::check(&found)?;
                (load_key(&db, key_store, KeyRole::Local)?, load_key(&db, key_store, KeyRole::Account)?)
            }
            None if db.is_empty() => initialize(&db, key_store)?,
            None => return Err(Error::Foreign(format!("{} holds data but no twostep meta record", path.display()))),
        };
        Ok(Self { db, local, account, path })
    }

    fn key(&self, role: KeyRole) -> &SealKey {
        match role {
            KeyRole::Local => &self.local,
            KeyRole::Account => &self.account,
        }
    }

    /// Reads and opens a slot's raw value.
    pub(crate) fn read_secret(&self, slot: Slot) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let Some(sealed) = self.db.get(slot.storage_key())? else { return Ok(None) };
        let plain = self.key(slot.role()).open(&slot.aad(), &sealed).map_err(|source| Error::Unseal { record: slot.name(), source })?;
        Ok(Some(plain))
    }

    /// Reads and opens a slot holding JSON.
    pub(crate) fn read<T: DeserializeOwned>(&self, slot: Slot) -> Result<Option<T>, Error> {
        match self.read_secret(slot)? {
            None => Ok(None),
            Some(plain) => {
                serde_json::from_slice(&plain).map(Some).map_err(|e| Error::Corrupt(format!("record {} does not parse: {e}", slot.name())))
            }
        }
    }

    /// Starts a change; apply it with [`StateStore::apply`].
    pub(crate) fn change(&self) -> Change<'_> {
        Change { store: self, batch: sled::Batch::default() }
    }

    /// Applies a change atomically and durably.
    pub(crate) fn apply(&self, change: Change<'_>) -> Result<(), Error> {
        self.db.apply_batch(change.batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// The database directory.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

/// A set of writes that [`StateStore::apply`] makes all at once.
pub(crate) struct Change<'a> {
    store: &'a StateStore,
    batch: sled::Batch,
}

impl std::fmt::Debug for Change<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Change")
    }
}

impl Change<'_> {
    /// Seals raw bytes into a slot.
    pub(crate) fn put_secret(mut self, slot: Slot, value: &[u8]) -> Result<Self, Error> {
        let sealed = self.store.key(slot.role()).seal(&slot.aad(), value).map_err(Error::Seal)?;
        self.batch.insert(slot.storage_key(), sealed);
        Ok(self)
    }

    /// Seals a value as JSON into a slot.
    pub(crate) fn put<T: Serialize>(self, slot: Slot, value: &T) -> Result<Self, Error> {
        let json = Zeroizing::new(serde_json::to_vec(value).map_err(|e| Error::Internal(format!("encoding {}: {e}", slot.name())))?);
        self.put_secret(slot, &json)
    }

    /// Empties a slot.
    pub(crate) fn remove(mut self, slot: Slot) -> Self {
        self.batch.remove(slot.storage_key());
        self
    }
}

/// Refuses directories that are not ours before sled creates anything in them.
fn check_layout(data_dir: &Path, state: &Path) -> Result<(), Error> {
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(Error::Foreign(format!("{} is not a directory", data_dir.display())));
    }
    if data_dir.join("conf").is_file() && data_dir.join("db").is_file() {
        return Err(Error::Foreign(format!("{} is a database of its own; give twostep a directory of its own", data_dir.display())));
    }
    if state.exists() {
        if !state.is_dir() {
            return Err(Error::Foreign(format!("{} is not a directory", state.display())));
        }
        let has_files = std::fs::read_dir(state).map_err(|source| Error::Io { path: state.to_owned(), source })?.next().is_some();
        if has_files && !state.join("db").is_file() {
            return Err(Error::Foreign(format!("{} holds files that are not a twostep database", state.display())));
        }
    }
    Ok(())
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
        return Err(Error::Foreign(format!("the database has a tree {:?} that twostep does not use", String::from_utf8_lossy(&other))));
    }
    Ok(())
}

/// Writes the meta record and both wrapped keys in one batch.
fn initialize(db: &sled::Db, key_store: &dyn KeyStore) -> Result<(SealKey, SealKey), Error> {
    let (local, wrapped_local) = keys::create(key_store, KeyRole::Local)?;
    let (account, wrapped_account) = keys::create(key_store, KeyRole::Account)?;
    let mut batch = sled::Batch::default();
    for (role, wrapped) in [(KeyRole::Local, &wrapped_local), (KeyRole::Account, &wrapped_account)] {
        let json = serde_json::to_vec(wrapped).map_err(|e| Error::Internal(e.to_string()))?;
        batch.insert(role.storage_key(), json);
    }
    batch.insert(meta::META_KEY, meta::current());
    db.apply_batch(batch)?;
    db.flush()?;
    Ok((local, account))
}

fn load_key(db: &sled::Db, key_store: &dyn KeyStore, role: KeyRole) -> Result<SealKey, Error> {
    let stored = db.get(role.storage_key())?.ok_or_else(|| Error::Corrupt(format!("the {} key is missing", role.label())))?;
    let wrapped: WrappedKey =
        serde_json::from_slice(&stored).map_err(|_| Error::Corrupt(format!("the wrapped {} key does not parse", role.label())))?;
    keys::unwrap(key_store, role, &wrapped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeyStore;

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
                .put(Slot::ClockOffset, &ClockRecord { offset_ms: -1500, measured_at: 7 })
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
            store.apply(store.change().put_secret(Slot::SessionToken, b"PLAINTEXT-TOKEN-MARKER").unwrap()).unwrap();
        }
        for entry in walk(&dir.path().join(STATE_DIR)) {
            let bytes = std::fs::read(&entry).unwrap();
            assert!(!bytes.windows(22).any(|w| w == b"PLAINTEXT-TOKEN-MARKER"), "{}", entry.display());
        }
    }

    fn walk(dir: &Path) -> Vec<PathBuf> {
        let mut out = vec![];
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { out.extend(walk(&path)) } else { out.push(path) }
        }
        out
    }

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
        assert!(matches!(store.read_secret(Slot::SessionToken), Err(Error::Unseal { record: "session_token", .. })));
        // Moving a value to another slot does not work either.
        let token = store.db.get(Slot::Session.storage_key()).unwrap();
        assert!(token.is_none());
        let clock = store.change().put(Slot::ClockOffset, &ClockRecord { offset_ms: 0, measured_at: 0 }).unwrap();
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
        sled_with(&dir.path().join(STATE_DIR), &[(meta::META_KEY, br#"{"app":"other","format":1}"#)]);
        assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Foreign(_))));

        let dir = tempfile::tempdir().unwrap();
        sled_with(&dir.path().join(STATE_DIR), &[(meta::META_KEY, br#"{"app":"twostep-core","format":9}"#)]);
        assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Newer(9))));
        let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
        assert_eq!(db.len(), 1, "nothing was written next to a newer format");
    }

    #[test]
    fn a_bare_database_or_stray_files_are_foreign() {
        let dir = tempfile::tempdir().unwrap();
        sled_with(dir.path(), &[(b"k", b"v")]);
        assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Foreign(_))));

        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join(STATE_DIR)).unwrap();
        std::fs::write(dir.path().join(STATE_DIR).join("notes.txt"), b"mine").unwrap();
        assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Foreign(_))));
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
    fn a_second_open_while_the_first_is_alive_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ks = MemoryKeyStore::new();
        let first = store_in(dir.path(), &ks);
        let err = crate::TwostepError::from(StateStore::open(dir.path(), &ks).unwrap_err());
        assert!(matches!(err, crate::TwostepError::Storage { ref message } if message.contains("in use")), "{err:?}");
        drop(first);
        store_in(dir.path(), &ks);
    }
}
