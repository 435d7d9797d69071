//! A key store backed by a key file, for the CLI and tests on desktop machines.
//!
//! The file holds a random 256-bit wrapping key and must be readable by its owner only
//! (mode 0600); a file that others can read is refused rather than used, like ssh does
//! with private keys. It is created atomically (written aside, then linked into place),
//! so two processes racing to create it end up sharing one key, and a crash never leaves
//! a half-written key behind. This protects the data directory as well as the file
//! system's permissions do, no better: keep the key file outside backups of the data
//! directory if that matters.

use super::{KeyStore, KeyStoreError, wrap_aad};
use crate::seal::{KEY_LEN, SealKey};
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

const MAGIC: &[u8] = b"twostep-keystore v1\n";

/// Wraps data keys with a key kept in a file of its own.
#[derive(Debug)]
pub struct FileKeyStore {
    path: PathBuf,
    key: SealKey,
}

impl FileKeyStore {
    /// Opens the key file at `path`, creating it (mode 0600) with a fresh key if missing.
    pub fn open_or_create(path: impl Into<PathBuf>) -> Result<Self, KeyStoreError> {
        let path = path.into();
        match read_key_file(&path) {
            Err(KeyStoreError::Unavailable { .. }) if !path.exists() => {
                create_key_file(&path)?;
                let key = read_key_file(&path)?;
                Ok(Self { path, key })
            }
            Err(e) => Err(e),
            Ok(key) => Ok(Self { path, key }),
        }
    }

    /// Where the key lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl KeyStore for FileKeyStore {
    fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        let key = Zeroizing::new(key);
        self.key
            .seal(&wrap_aad(&label), &key)
            .map_err(|e| KeyStoreError::Failed { message: e.to_string() })
    }

    fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.key.open(&wrap_aad(&label), &wrapped).map(|key| key.to_vec()).map_err(|e| {
            KeyStoreError::Rejected {
                message: format!("{e} (is {} the right key file?)", self.path.display()),
            }
        })
    }
}

fn unavailable(path: &Path, what: impl std::fmt::Display) -> KeyStoreError {
    KeyStoreError::Unavailable { message: format!("{}: {what}", path.display()) }
}

fn read_key_file(path: &Path) -> Result<SealKey, KeyStoreError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| unavailable(path, e))?);
    check_owner_only(path)?;
    let key = bytes.strip_prefix(MAGIC).filter(|key| key.len() == KEY_LEN).ok_or_else(|| {
        KeyStoreError::KeyInvalidated {
            message: format!("{}: not a twostep key file", path.display()),
        }
    })?;
    SealKey::from_bytes(key).map_err(|e| KeyStoreError::Failed { message: e.to_string() })
}

#[cfg(unix)]
fn check_owner_only(path: &Path) -> Result<(), KeyStoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(|e| unavailable(path, e))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(unavailable(
            path,
            format_args!("permissions {:o} are too open; use chmod 600", mode & 0o777),
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &Path) -> Result<(), KeyStoreError> {
    Ok(())
}

fn create_key_file(path: &Path) -> Result<(), KeyStoreError> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| unavailable(parent, e))?;
    }
    let key = SealKey::generate().map_err(|e| KeyStoreError::Failed { message: e.to_string() })?;
    let mut contents = Zeroizing::new(MAGIC.to_vec());
    contents.extend_from_slice(key.expose_bytes());

    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(name);
    let written = write_owner_only(&temp, &contents).and_then(|()| {
        // A hard link fails if the target exists: whoever linked first wins, and we read
        // their key afterwards instead of replacing it.
        match std::fs::hard_link(&temp, path) {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        }
    });
    let _ = std::fs::remove_file(&temp);
    written.map_err(|e| unavailable(path, e))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn write_owner_only(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/key");
        let first = FileKeyStore::open_or_create(&path).unwrap();
        let wrapped = first.wrap_key("l".into(), vec![9; 32]).unwrap();
        let second = FileKeyStore::open_or_create(&path).unwrap();
        assert_eq!(second.unwrap_key("l".into(), wrapped).unwrap(), vec![9; 32]);
        assert_eq!(std::fs::read(&path).unwrap().len(), MAGIC.len() + KEY_LEN);
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            1,
            "no temp file left behind"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_owner_only_and_open_permissions_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        FileKeyStore::open_or_create(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = FileKeyStore::open_or_create(&path).unwrap_err();
        assert!(
            matches!(err, KeyStoreError::Unavailable { ref message } if message.contains("too open")),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_key_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        write_owner_only(&path, b"not a key").unwrap();
        assert!(matches!(
            FileKeyStore::open_or_create(&path),
            Err(KeyStoreError::KeyInvalidated { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"not a key");
    }

    #[test]
    fn another_key_file_rejects_wrapped_keys() {
        let dir = tempfile::tempdir().unwrap();
        let a = FileKeyStore::open_or_create(dir.path().join("a")).unwrap();
        let b = FileKeyStore::open_or_create(dir.path().join("b")).unwrap();
        let wrapped = a.wrap_key("l".into(), vec![1; 32]).unwrap();
        assert!(matches!(b.unwrap_key("l".into(), wrapped), Err(KeyStoreError::Rejected { .. })));
    }

    #[test]
    fn debug_output_shows_the_path_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::open_or_create(dir.path().join("key")).unwrap();
        assert!(format!("{store:?}").contains("<redacted>"));
    }
}
