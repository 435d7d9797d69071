//! Helpers shared by the core's unit tests.

use std::path::{Path, PathBuf};

/// Every file below `dir`, for tests that scan the data dir for secrets.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
    }
    out
}
