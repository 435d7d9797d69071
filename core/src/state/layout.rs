//! What the data directory holds before sled opens it: ours, empty, or a first open that was
//! interrupted — anything else is refused before sled creates a file in it.
//!
//! sled creates a new database in three steps: the `blobs/` directory, the `conf` file (two
//! unsynced writes), then the `db` file. A process killed before `db` exists has stored
//! nothing, but leaves a directory that is neither empty nor a database, and a `conf` that
//! may be cut short (sled would then refuse to parse it). Such a directory is a first open
//! to finish, not a foreign one: the `conf` is removed and sled starts afresh.

use std::path::Path;

use crate::error::Error;

/// Refuses directories that are not ours; clears an interrupted creation of `state`.
pub(super) fn check(data_dir: &Path, state: &Path) -> Result<(), Error> {
    if data_dir.exists() && !data_dir.is_dir() {
        return Err(Error::Foreign(format!("{} is not a directory", data_dir.display())));
    }
    if data_dir.join("conf").is_file() && data_dir.join("db").is_file() {
        return Err(Error::Foreign(format!(
            "{} is a database of its own; give twostep a directory of its own",
            data_dir.display()
        )));
    }
    if !state.exists() {
        return Ok(());
    }
    if !state.is_dir() {
        return Err(Error::Foreign(format!("{} is not a directory", state.display())));
    }
    let io = |source| Error::Io { path: state.to_owned(), source };
    let has_files = std::fs::read_dir(state).map_err(io)?.next().is_some();
    if !has_files || state.join("db").is_file() {
        return Ok(());
    }
    if !interrupted_creation(state).map_err(io)? {
        return Err(Error::Foreign(format!(
            "{} holds files that are not a twostep database",
            state.display()
        )));
    }
    let conf = state.join("conf");
    match std::fs::remove_file(&conf) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(Error::Io { path: conf, source: e })
        }
        _ => Ok(()),
    }
}

/// Whether `state` (no `db` file) holds only what sled makes before its `db` file: an empty
/// `blobs/` directory and a `conf` file.
fn interrupted_creation(state: &Path) -> std::io::Result<bool> {
    for entry in std::fs::read_dir(state)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        let ok = match entry.file_name().to_str() {
            Some("conf") => kind.is_file(),
            Some("blobs") => kind.is_dir() && std::fs::read_dir(entry.path())?.next().is_none(),
            _ => false,
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::{STATE_DIR, StateStore};
    use crate::error::Error;
    use crate::keystore::MemoryKeyStore;
    use std::path::Path;

    /// What sled leaves when the process is killed after `conf` and before `db`: `blobs/`
    /// and `conf` (here cut short).
    fn interrupted(dir: &Path, conf: &[u8]) {
        let state = dir.join(STATE_DIR);
        std::fs::create_dir_all(state.join("blobs")).unwrap();
        std::fs::write(state.join("conf"), conf).unwrap();
    }

    #[test]
    fn a_first_open_killed_before_the_database_file_is_finished_by_the_next() {
        let whole = {
            let scratch = tempfile::tempdir().unwrap();
            drop(StateStore::open(scratch.path(), &MemoryKeyStore::new()).unwrap());
            std::fs::read(scratch.path().join(STATE_DIR).join("conf")).unwrap()
        };
        for conf in [&whole[..], &whole[..whole.len() - 4], &whole[..whole.len() / 2], b""] {
            let dir = tempfile::tempdir().unwrap();
            interrupted(dir.path(), conf);
            let ks = MemoryKeyStore::new();
            let store = StateStore::open(dir.path(), &ks).unwrap_or_else(|e| {
                panic!("a conf of {} bytes and no db: {e}", conf.len());
            });
            assert!(store.vault_ids().unwrap().is_empty());
            drop(store);
            StateStore::open(dir.path(), &ks).unwrap();
        }
        // Only `blobs/`: killed before `conf`.
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(STATE_DIR).join("blobs")).unwrap();
        StateStore::open(dir.path(), &MemoryKeyStore::new()).unwrap();
    }

    #[test]
    fn anything_more_than_an_interrupted_creation_is_still_foreign() {
        for extra in ["notes.txt", "blobs/7"] {
            let dir = tempfile::tempdir().unwrap();
            interrupted(dir.path(), b"conf");
            std::fs::write(dir.path().join(STATE_DIR).join(extra), b"theirs").unwrap();
            let opened = StateStore::open(dir.path(), &MemoryKeyStore::new());
            assert!(matches!(opened, Err(Error::Foreign(_))), "{extra}");
            let conf = std::fs::read(dir.path().join(STATE_DIR).join("conf")).unwrap();
            assert_eq!(conf, b"conf", "nothing changed");
        }
    }
}
