//! `twostep-server admin migrate-store`: the embedded store of a stopped server, copied
//! into PostgreSQL for a deployment that grows to several replicas.
//!
//! The embedded store locks its directory while a server has it open, so a running server
//! makes the copy refuse instead of reading a store that is still changing. The copy itself
//! is [`PgStore::import_from`]: one transaction into an empty database, counts verified.

use super::pg::{CopyReport, ImportError};
use super::{PgStore, SledStore, StoreError};
use std::path::Path;

/// Why the copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    /// Nothing to copy.
    #[error("{0} holds no embedded store (expected a `db` directory in the server's data dir)")]
    NoStore(String),
    /// A server has the data dir open.
    #[error(
        "the data directory {0} is in use: stop the server first (the copy must see a store that no longer changes)"
    )]
    ServerRunning(String),
    /// The target refused or the copy failed (nothing was written).
    #[error(transparent)]
    Import(#[from] ImportError),
    /// Opening the source or the target failed.
    #[error("{0}")]
    Store(#[from] StoreError),
}

/// Copies `data_dir`'s embedded store into the PostgreSQL database at `url` (schema
/// migrations applied first). Must run inside a tokio runtime.
pub async fn sled_to_postgres(data_dir: &Path, url: &str) -> Result<CopyReport, CopyError> {
    let db = data_dir.join("db");
    if !db.join("conf").exists() {
        return Err(CopyError::NoStore(data_dir.display().to_string()));
    }
    let source = match SledStore::open(&db) {
        Ok(s) => s,
        Err(StoreError::Locked) => {
            return Err(CopyError::ServerRunning(data_dir.display().to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let target = PgStore::connect(url, 2).await?;
    Ok(target.import_from(&source).await?)
}
