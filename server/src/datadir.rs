//! The data directory holds the store, the master key and (without SMTP/SMS) codes in the
//! outbox: nobody but the server's user may read it. Directories are created 0700 and files
//! 0600; existing ones are tightened at start. A data directory that other users can write
//! is refused: its contents (a planted key, a tampered store) cannot be trusted.

use crate::app::StartError;
use std::path::Path;

/// Creates (0700) or checks and tightens the data directory and its `db/` and `outbox/`.
pub fn prepare(dir: &Path) -> Result<(), StartError> {
    let io = |source| StartError::Io { path: dir.display().to_string(), source };
    if !dir.exists() {
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        create_private_dir(dir).map_err(io)?;
    }
    refuse_if_others_can_write(dir)?;
    for sub in ["db", "outbox"] {
        let p = dir.join(sub);
        if p.exists() {
            refuse_if_others_can_write(&p)?;
        }
    }
    tighten(dir).map_err(io)
}

/// Creates a directory readable only by its owner.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    match b.create(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(unix)]
fn refuse_if_others_can_write(dir: &Path) -> Result<(), StartError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|source| StartError::Io { path: dir.display().to_string(), source })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(StartError::InsecureDataDir { path: dir.display().to_string(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn refuse_if_others_can_write(_dir: &Path) -> Result<(), StartError> {
    Ok(())
}

/// Sets every directory under `dir` (itself included) to 0700 and every file to 0600.
#[cfg(unix)]
pub fn tighten(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(p) = stack.pop() {
        let meta = std::fs::symlink_metadata(&p)?;
        let want = if meta.is_dir() {
            stack.extend(std::fs::read_dir(&p)?.filter_map(Result::ok).map(|e| e.path()));
            0o700
        } else if meta.is_file() {
            0o600
        } else {
            continue;
        };
        if meta.permissions().mode() & 0o777 != want {
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(want))?;
        }
    }
    Ok(())
}

/// Nothing to do where permissions are not Unix modes.
#[cfg(not(unix))]
pub fn tighten(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
