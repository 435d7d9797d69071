//! PostgreSQL: the shared store that lets several stateless replicas serve one deployment.
//!
//! One table per tree (schema in `migrations/`, documented in `docs/ARCHITECTURE.md`): the
//! record as `jsonb` under its key, plus generated columns that operators query with plain
//! SQL. Every operation is one statement in its own transaction, so a write is committed —
//! durable, and visible to every replica — before the call returns; [`PgStore::flush`] has
//! nothing left to do. Compare-and-swap is a conditional `INSERT ... ON CONFLICT DO
//! NOTHING`, `UPDATE ... WHERE value = $expected` or `DELETE ... WHERE value = $expected`:
//! under READ COMMITTED a concurrent writer's change is re-checked against the condition
//! (row lock, then re-evaluation), so of two replicas swapping the same expected value
//! exactly one succeeds.

mod import;
mod jsonb;
mod keys;
pub mod migrate;

pub use import::{CopyReport, ImportError};

use super::{Pairs, Store, StoreError, SweepBatch, Tree, swap_then_append};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use jsonb::{Jsonb, JsonbOut};
use keys::{Key, KeyKind};
use std::collections::HashMap;
use std::time::Duration;
use tokio_postgres::types::ToSql;

/// How long a request waits for a pooled connection (or a new one) before failing.
const POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// The statements of one tree.
#[derive(Debug)]
struct TreeSql {
    name: &'static str,
    key: KeyKind,
    get: String,
    put: String,
    remove: String,
    insert_new: String,
    swap: String,
    remove_if: String,
    absent: String,
    /// Id-keyed trees: insert under `nextval`, the id also written into the record.
    append: String,
    /// `append` without its `RETURNING`, for composing.
    append_head: String,
    /// `[inclusive lower][has upper]`.
    scan: [[String; 2]; 2],
    /// Removes up to `$2` records expired at `$1` (Unix seconds), skipping rows that another
    /// transaction holds (a sweeper on another replica, or a request renewing the record).
    sweep: String,
}

impl TreeSql {
    fn new(tree: Tree) -> Self {
        let t = tree.name();
        let (key, k) = match tree {
            Tree::Audit => (KeyKind::Id, "id"),
            _ => (KeyKind::Text, "key"),
        };
        let scan = |op: &str, upper: bool| {
            let upper = if upper { format!(" AND {k} < $2") } else { String::new() };
            let limit = if upper.is_empty() { "$2" } else { "$3" };
            format!(
                "SELECT {k}, value FROM {t} WHERE {k} {op} $1{upper} ORDER BY {k} LIMIT {limit}"
            )
        };
        let append_head = format!(
            "INSERT INTO {t} ({k}, value) \
             SELECT n, jsonb_set($1, '{{id}}', to_jsonb(n)) \
             FROM (SELECT nextval('twostep_ids') AS n) AS id"
        );
        Self {
            name: t,
            key,
            get: format!("SELECT value FROM {t} WHERE {k} = $1"),
            put: format!(
                "INSERT INTO {t} ({k}, value) VALUES ($1, $2) \
                 ON CONFLICT ({k}) DO UPDATE SET value = EXCLUDED.value"
            ),
            remove: format!("DELETE FROM {t} WHERE {k} = $1"),
            insert_new: format!(
                "INSERT INTO {t} ({k}, value) VALUES ($1, $2) ON CONFLICT ({k}) DO NOTHING"
            ),
            swap: format!("UPDATE {t} SET value = $3 WHERE {k} = $1 AND value = $2"),
            remove_if: format!("DELETE FROM {t} WHERE {k} = $1 AND value = $2"),
            absent: format!("SELECT NOT EXISTS (SELECT 1 FROM {t} WHERE {k} = $1)"),
            append: format!("{append_head} RETURNING {k}"),
            append_head,
            scan: [[scan(">", false), scan(">", true)], [scan(">=", false), scan(">=", true)]],
            sweep: format!(
                "WITH doomed AS MATERIALIZED ( \
                     SELECT ctid FROM {t} WHERE expires_at <= to_timestamp($1::float8) \
                     LIMIT $2 FOR UPDATE SKIP LOCKED) \
                 DELETE FROM {t} USING doomed WHERE {t}.ctid = doomed.ctid RETURNING {t}.{k}"
            ),
        }
    }
}

/// PostgreSQL-backed store; see the module docs.
pub struct PgStore {
    pool: Pool,
    trees: HashMap<Tree, TreeSql>,
    /// Trees whose table has an indexed `expires_at`: swept natively.
    expiring: std::collections::HashSet<Tree>,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("pool", &self.pool.status()).finish_non_exhaustive()
    }
}

/// A PostgreSQL error as text for the log: SQLSTATE and message, no row data.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} {}: {}", db.severity(), db.code().code(), db.message()),
        None => e.to_string(),
    }
}

pub(crate) fn pg_err(e: tokio_postgres::Error) -> StoreError {
    StoreError::Backend(format!("postgresql: {}", describe(&e)))
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => StoreError::Backend(format!("postgresql connection pool: {other}")),
    }
}

fn value(tree: &'static str, row: &tokio_postgres::Row, i: usize) -> Result<Vec<u8>, StoreError> {
    row.try_get::<_, JsonbOut>(i)
        .map(|v| v.0)
        .map_err(|e| StoreError::Corrupt { tree, detail: e.to_string() })
}

fn param(k: &Key) -> &(dyn ToSql + Sync) {
    match k {
        Key::Text(s) => s,
        Key::Id(i) => i,
    }
}

/// TLS for the connection: none when the URL says `sslmode=disable`, else rustls with the
/// operating system's trusted certificates (`sslmode=require` insists on TLS and verifies
/// the server's certificate and name; the default `prefer` uses TLS when offered).
fn tls() -> tokio_postgres_rustls::MakeRustlsConnect {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| b.with_root_certificates(roots).with_no_client_auth());
    match config {
        Ok(c) => tokio_postgres_rustls::MakeRustlsConnect::new(c),
        // ring supports the default versions; this branch is not reached.
        Err(_) => tokio_postgres_rustls::MakeRustlsConnect::new(
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth(),
        ),
    }
}

impl PgStore {
    /// Connects (a pool of up to `pool_size` connections), applies pending migrations and
    /// refuses a schema newer than this server's.
    pub async fn connect(url: &str, pool_size: usize) -> Result<Self, StoreError> {
        let mut cfg: tokio_postgres::Config =
            url.parse().map_err(|e| StoreError::Backend(format!("database_url: {e}")))?;
        if cfg.get_connect_timeout().is_none() {
            cfg.connect_timeout(POOL_TIMEOUT);
        }
        if cfg.get_application_name().is_none() {
            cfg.application_name("twostep-server");
        }
        let mc = ManagerConfig { recycling_method: RecyclingMethod::Fast };
        let manager = if cfg.get_ssl_mode() == tokio_postgres::config::SslMode::Disable {
            Manager::from_config(cfg, tokio_postgres::NoTls, mc)
        } else {
            Manager::from_config(cfg, tls(), mc)
        };
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_TIMEOUT))
            .create_timeout(Some(POOL_TIMEOUT))
            .recycle_timeout(Some(POOL_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Backend(format!("postgresql connection pool: {e}")))?;
        let expiring = {
            let mut client = pool.get().await.map_err(pool_err)?;
            let applied = migrate::run(&mut client).await?;
            if !applied.is_empty() {
                tracing::info!(?applied, "database schema migrated");
            }
            Self::check_tables(&client).await?
        };
        let trees = Tree::ALL.iter().map(|t| (*t, TreeSql::new(*t))).collect();
        Ok(Self { pool, trees, expiring })
    }

    /// Every tree has its table (a tree added without a migration fails here, at start);
    /// returns the trees with an `expires_at` column.
    async fn check_tables(
        client: &tokio_postgres::Client,
    ) -> Result<std::collections::HashSet<Tree>, StoreError> {
        let rows = client
            .query(
                "SELECT table_name::text, bool_or(column_name = 'expires_at') \
                 FROM information_schema.columns WHERE table_schema = current_schema() \
                 GROUP BY table_name",
                &[],
            )
            .await
            .map_err(pg_err)?;
        let tables: HashMap<String, bool> = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<_, Option<bool>>(1)?.unwrap_or(false))))
            .collect::<Result<_, tokio_postgres::Error>>()
            .map_err(pg_err)?;
        let mut expiring = std::collections::HashSet::new();
        for t in Tree::ALL {
            match tables.get(t.name()) {
                None => {
                    return Err(StoreError::Backend(format!(
                        "the database has no table `{}` (a tree without a migration)",
                        t.name()
                    )));
                }
                Some(true) => {
                    expiring.insert(t);
                }
                Some(false) => {}
            }
        }
        Ok(expiring)
    }

    fn sql(&self, tree: Tree) -> &TreeSql {
        // Every tree gets its statements in `connect`.
        &self.trees[&tree]
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(pool_err)
    }

    /// Runs one statement and returns the number of rows it changed.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(pg_err)?;
        c.execute(&st, params).await.map_err(pg_err)
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    /// Reads a value.
    async fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let s = self.sql(tree);
        let k = s.key.encode(s.name, key)?;
        let c = self.client().await?;
        let st = c.prepare_cached(&s.get).await.map_err(pg_err)?;
        let row = c.query_opt(&st, &[param(&k)]).await.map_err(pg_err)?;
        row.map(|r| value(s.name, &r, 0)).transpose()
    }

    /// Writes a value (committed when this returns).
    async fn put(&self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        let s = self.sql(tree);
        let k = s.key.encode(s.name, key)?;
        self.execute(&s.put, &[param(&k), &Jsonb(&value)]).await?;
        Ok(())
    }

    /// Removes a value; returns whether it existed.
    async fn remove(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        let s = self.sql(tree);
        let k = s.key.encode(s.name, key)?;
        Ok(self.execute(&s.remove, &[param(&k)]).await? > 0)
    }

    /// Atomically replaces `expected` with `new` (`None` = absent), across replicas.
    async fn compare_and_swap(
        &self,
        tree: Tree,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, StoreError> {
        let s = self.sql(tree);
        let k = s.key.encode(s.name, key)?;
        let changed = match (expected, new.as_deref()) {
            (None, Some(n)) => self.execute(&s.insert_new, &[param(&k), &Jsonb(n)]).await?,
            (Some(e), Some(n)) => self.execute(&s.swap, &[param(&k), &Jsonb(e), &Jsonb(n)]).await?,
            (Some(e), None) => self.execute(&s.remove_if, &[param(&k), &Jsonb(e)]).await?,
            (None, None) => {
                let c = self.client().await?;
                let st = c.prepare_cached(&s.absent).await.map_err(pg_err)?;
                let row = c.query_one(&st, &[param(&k)]).await.map_err(pg_err)?;
                u64::from(row.try_get::<_, bool>(0).map_err(pg_err)?)
            }
        };
        Ok(changed > 0)
    }

    /// Up to `limit` pairs whose key starts with `prefix` and sorts after `after`, in order.
    async fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        let s = self.sql(tree);
        let Some(range) = s.key.range(s.name, prefix, after)? else { return Ok(Vec::new()) };
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let sql = &s.scan[usize::from(range.lower_inclusive)][usize::from(range.upper.is_some())];
        let c = self.client().await?;
        let st = c.prepare_cached(sql).await.map_err(pg_err)?;
        let rows = match &range.upper {
            Some(u) => c.query(&st, &[param(&range.lower), param(u), &limit]).await,
            None => c.query(&st, &[param(&range.lower), &limit]).await,
        }
        .map_err(pg_err)?;
        rows.iter().map(|r| Ok((s.key.decode(s.name, r)?, value(s.name, r, 1)?))).collect()
    }

    /// A unique, increasing id from the `twostep_ids` sequence (shared by every replica).
    async fn next_id(&self) -> Result<u64, StoreError> {
        let c = self.client().await?;
        let st = c.prepare_cached("SELECT nextval('twostep_ids')").await.map_err(pg_err)?;
        let row = c.query_one(&st, &[]).await.map_err(pg_err)?;
        u64::try_from(row.try_get::<_, i64>(0).map_err(pg_err)?)
            .map_err(|_| StoreError::Backend("twostep_ids returned a negative id".into()))
    }

    /// The hot case — a record replaced and an event logged, e.g. an accepted TOTP step and
    /// its audit event — is one statement, so one commit: the `UPDATE` and the `INSERT` are
    /// data-modifying parts of one query, and the event is inserted only if the row was
    /// swapped.
    async fn compare_and_swap_and_append(
        &self,
        tree: Tree,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
        log: Tree,
        record: Vec<u8>,
    ) -> Result<Option<u64>, StoreError> {
        let (s, l) = (self.sql(tree), self.sql(log));
        let (Some(e), Some(n), KeyKind::Id) = (expected, new.as_deref(), l.key) else {
            return swap_then_append(self, tree, key, expected, new, log, record).await;
        };
        let k = s.key.encode(s.name, key)?;
        let sql = format!(
            "WITH swapped AS ({swap} RETURNING 1), \
                  logged AS ({append_head} WHERE EXISTS (SELECT 1 FROM swapped) RETURNING id) \
             SELECT id FROM logged",
            swap = s.swap,
            append_head = l.append_head.replace("$1", "$4"),
        );
        let c = self.client().await?;
        let st = c.prepare_cached(&sql).await.map_err(pg_err)?;
        let row = c
            .query_opt(&st, &[param(&k), &Jsonb(e), &Jsonb(n), &Jsonb(&record)])
            .await
            .map_err(pg_err)?;
        row.map(|r| {
            u64::try_from(r.try_get::<_, i64>(0).map_err(pg_err)?)
                .map_err(|_| StoreError::Backend("twostep_ids returned a negative id".into()))
        })
        .transpose()
    }

    async fn append(&self, tree: Tree, value: Vec<u8>) -> Result<u64, StoreError> {
        let s = self.sql(tree);
        if s.key != KeyKind::Id {
            return Err(StoreError::Backend(format!("{} is not keyed by id", s.name)));
        }
        let c = self.client().await?;
        let st = c.prepare_cached(&s.append).await.map_err(pg_err)?;
        let row = c.query_one(&st, &[&Jsonb(&value)]).await.map_err(pg_err)?;
        u64::try_from(row.try_get::<_, i64>(0).map_err(pg_err)?)
            .map_err(|_| StoreError::Backend("twostep_ids returned a negative id".into()))
    }

    /// Natively for tables with an indexed `expires_at`: the index finds expired rows
    /// wherever they are, so there is no cursor — `after` is ignored and `next` only says
    /// that a full batch was removed (more may be left). `FOR UPDATE SKIP LOCKED` lets
    /// several replicas sweep at once without waiting for each other or removing a row
    /// twice, and a record renewed after the snapshot is re-checked against its new
    /// `expires_at` (or skipped while its writer holds it), so it stays.
    async fn sweep_expired(
        &self,
        tree: Tree,
        after: Option<&[u8]>,
        limit: usize,
        now: u64,
    ) -> Result<SweepBatch, StoreError> {
        if !self.expiring.contains(&tree) {
            return super::sweep::by_scan(self, tree, after, limit, now).await;
        }
        let s = self.sql(tree);
        let limit = limit.max(1);
        let c = self.client().await?;
        let st = c.prepare_cached(&s.sweep).await.map_err(pg_err)?;
        let rows = c
            .query(&st, &[&(now as f64), &i64::try_from(limit).unwrap_or(i64::MAX)])
            .await
            .map_err(pg_err)?;
        let last = rows.last().map(|r| s.key.decode(s.name, r)).transpose()?;
        Ok(SweepBatch {
            scanned: rows.len(),
            removed: rows.len(),
            next: if rows.len() >= limit { last } else { None },
        })
    }

    /// Nothing to do: every write was committed by the statement that made it.
    async fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests;
