//! Embedded, versioned schema migrations, applied at start.
//!
//! `twostep_migrations` lists what was applied. At start, under a transaction-scoped
//! advisory lock (so that replicas starting together apply each migration once), every
//! embedded migration newer than the recorded version is applied in that one transaction;
//! a database whose version is newer than the newest embedded one was written by a newer
//! server and is refused, as the embedded store refuses a newer data dir.

use super::pg_err;
use crate::store::StoreError;

/// `(version, name, SQL)`, oldest first. Never edit an applied migration: add one.
pub const MIGRATIONS: &[(i32, &str, &str)] =
    &[(1, "init", include_str!("migrations/0001_init.sql"))];

/// The newest schema version this server knows.
pub fn latest() -> i32 {
    MIGRATIONS.last().map(|m| m.0).unwrap_or(0)
}

/// Brings the schema up to date; returns the versions applied now.
pub async fn run(client: &mut tokio_postgres::Client) -> Result<Vec<i32>, StoreError> {
    let tx = client.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT pg_advisory_xact_lock(hashtext('twostep:' || current_schema()))", &[])
        .await
        .map_err(pg_err)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS twostep_migrations (
             version    integer PRIMARY KEY,
             name       text NOT NULL,
             applied_at timestamptz NOT NULL DEFAULT now()
         )",
    )
    .await
    .map_err(pg_err)?;
    let row = tx
        .query_one("SELECT coalesce(max(version), 0) FROM twostep_migrations", &[])
        .await
        .map_err(pg_err)?;
    let have: i32 = row.get(0);
    if have > latest() {
        return Err(StoreError::NewerSchema { found: have as u64, known: latest() as u64 });
    }
    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS.iter().filter(|m| m.0 > have) {
        tx.batch_execute(sql).await.map_err(|e| {
            StoreError::Backend(format!("migration {version} ({name}): {}", super::describe(&e)))
        })?;
        tx.execute(
            "INSERT INTO twostep_migrations (version, name) VALUES ($1, $2)",
            &[version, name],
        )
        .await
        .map_err(pg_err)?;
        applied.push(*version);
    }
    tx.commit().await.map_err(pg_err)?;
    Ok(applied)
}
