//! Applying a text rewrite to every generated file of one language under the output
//! directory, so each language's rewrite is only its `patch(&str)`.

use std::path::Path;

/// Rewrites every file under `dir` (recursively) whose extension is `extension` with
/// `patch`, writing only the files it changes. An error names the file.
pub fn rewrite_dir(
    dir: &Path,
    extension: &str,
    patch: fn(&str) -> Result<String, String>,
) -> Result<(), String> {
    for entry in std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            rewrite_dir(&path, extension, patch)?;
        } else if path.extension().is_some_and(|e| e == extension) {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let patched = patch(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            if patched != text {
                std::fs::write(&path, patched).map_err(|e| format!("{}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}
