//! Copying a whole store into an empty PostgreSQL database (`admin migrate-store`).
//!
//! One transaction: check that every table is empty (a non-empty target is refused, never
//! merged into), copy each tree in batches (one `INSERT ... SELECT FROM unnest(...)` per
//! 1,000 records), compare the row count of every table with the number of records read,
//! and move the id sequence past every id the source handed out. Any failure rolls the
//! whole copy back, so the target is either complete or still empty, and the copy can
//! simply be run again.

use super::jsonb::Jsonb;
use super::{KeyKind, PgStore, pg_err};
use crate::store::{Store, StoreError, Tree};

const BATCH: usize = 1000;

/// Why a copy did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The target has records.
    #[error(
        "the target database is not empty ({0}); migrate-store only copies into an empty \
         database — drop and recreate it (or use a new schema) and run it again"
    )]
    NotEmpty(String),
    /// The copy does not add up (rolled back).
    #[error(
        "{tree}: read {source_count} records but the table holds {target}; nothing was written"
    )]
    CountMismatch { tree: &'static str, source_count: u64, target: u64 },
    /// The source or the target failed (rolled back).
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records copied per tree.
pub type CopyReport = Vec<(Tree, u64)>;

impl PgStore {
    /// Copies every record of `source` into this database; see the module docs.
    pub async fn import_from(&self, source: &dyn Store) -> Result<CopyReport, ImportError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(pg_err)?;
        let mut nonempty = Vec::new();
        for t in Tree::ALL {
            let sql = format!("SELECT count(*) FROM {}", t.name());
            let n: i64 =
                tx.query_one(&sql, &[]).await.map_err(pg_err)?.try_get(0).map_err(pg_err)?;
            if n > 0 {
                nonempty.push(format!("{n} rows in {}", t.name()));
            }
        }
        if !nonempty.is_empty() {
            return Err(ImportError::NotEmpty(nonempty.join(", ")));
        }
        let mut report = Vec::new();
        for t in Tree::ALL {
            let s = self.sql(t);
            let insert = match s.key {
                KeyKind::Text => format!(
                    "INSERT INTO {} (key, value) SELECT * FROM unnest($1::text[], $2::jsonb[])",
                    s.name
                ),
                KeyKind::Id => format!(
                    "INSERT INTO {} (id, value) SELECT * FROM unnest($1::bigint[], $2::jsonb[])",
                    s.name
                ),
            };
            let st = tx.prepare(&insert).await.map_err(pg_err)?;
            let mut after: Option<Vec<u8>> = None;
            let mut copied = 0u64;
            loop {
                let batch = source.scan(t, b"", after.as_deref(), BATCH).await?;
                let Some((last, _)) = batch.last() else { break };
                after = Some(last.clone());
                let values: Vec<Jsonb<'_>> = batch.iter().map(|(_, v)| Jsonb(v)).collect();
                let mut texts = Vec::new();
                let mut ids = Vec::new();
                for (k, _) in &batch {
                    match s.key.encode(s.name, k)? {
                        super::keys::Key::Text(k) => texts.push(k),
                        super::keys::Key::Id(i) => ids.push(i),
                    }
                }
                match s.key {
                    KeyKind::Text => tx.execute(&st, &[&texts, &values]).await,
                    KeyKind::Id => tx.execute(&st, &[&ids, &values]).await,
                }
                .map_err(|e| {
                    StoreError::Backend(format!("copying {}: {}", s.name, super::describe(&e)))
                })?;
                copied += batch.len() as u64;
                if batch.len() < BATCH {
                    break;
                }
            }
            let sql = format!("SELECT count(*) FROM {}", s.name);
            let target: i64 =
                tx.query_one(&sql, &[]).await.map_err(pg_err)?.try_get(0).map_err(pg_err)?;
            if target as u64 != copied {
                return Err(ImportError::CountMismatch {
                    tree: s.name,
                    source_count: copied,
                    target: target as u64,
                });
            }
            report.push((t, copied));
        }
        // Ids handed out from now on stay above everything the source ever issued.
        let next = i64::try_from(source.next_id().await?).unwrap_or(i64::MAX);
        tx.execute(
            "SELECT setval('twostep_ids', greatest($1, (SELECT coalesce(max(id), 0) + 1 FROM audit)), false)",
            &[&next],
        )
        .await
        .map_err(pg_err)?;
        tx.commit().await.map_err(pg_err)?;
        Ok(report)
    }
}
