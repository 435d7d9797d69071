//! Opening the state's database: the private directories, sled itself, the checks that it
//! is ours, the first initialization and loading the wrapped data keys.

use std::path::Path;

use super::meta;
use crate::error::Error;
use crate::hooks;
use crate::keys::{self, KeyRole, RECOVERY_KEY, WrappedKey};
use crate::keystore::KeyStore;
use crate::seal::SealKey;

/// Opens sled. A database closed a moment ago in this process (an app restarting) can stay
/// locked while sled's background threads finish with it: a lock conflict is retried for up
/// to a second before it is reported as "in use".
pub(super) fn open_db(path: &Path) -> Result<sled::Db, Error> {
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

pub(super) fn create_private_dir(dir: &Path) -> Result<(), Error> {
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
pub(super) fn check_trees(db: &sled::Db) -> Result<(), Error> {
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
pub(super) fn initialize(
    db: &sled::Db,
    key_store: &dyn KeyStore,
) -> Result<(SealKey, SealKey), Error> {
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

pub(super) fn load_key(
    db: &sled::Db,
    key_store: &dyn KeyStore,
    role: KeyRole,
) -> Result<SealKey, Error> {
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
pub(super) fn load_account_key(
    db: &sled::Db,
    key_store: &dyn KeyStore,
) -> Result<Option<SealKey>, Error> {
    if db.get(KeyRole::Account.storage_key())?.is_none() && db.get(RECOVERY_KEY)?.is_some() {
        return Ok(None);
    }
    match load_key(db, key_store, KeyRole::Account) {
        Ok(key) => Ok(Some(key)),
        Err(Error::Locked) => Ok(None),
        Err(e) => Err(e),
    }
}
