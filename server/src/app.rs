//! The application state shared by the HTTP handlers and the admin CLI.

use crate::audit::{self, Ctx};
use crate::config::Config;
use crate::crypto::Keys;
use crate::delivery::Delivery;
use crate::error::{ApiError, ApiResult};
use crate::http::client_addr::ProxyTrust;
use crate::metrics::Metrics;
use crate::model::{OrgRecord, UserRecord};
use crate::passwords::Hasher;
use crate::store::{PgStore, Repo, SledStore, Store, StoreError, Tree};
use std::sync::Arc;
use twostep_proto::{AuditKind, ErrorCode, OrgPolicy, PasscodePolicy, PasscodeRequirement};

/// Stored schema version.
pub const SCHEMA_VERSION: u64 = 1;

/// Shared state.
pub struct App {
    pub config: Config,
    pub repo: Repo,
    pub keys: Keys,
    pub hasher: Hasher,
    pub delivery: Delivery,
    pub metrics: Metrics,
    /// How the client address is read behind reverse proxies.
    pub proxies: ProxyTrust,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("data directory {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("delivery: {0}")]
    Delivery(#[from] crate::delivery::DeliveryError),
    #[error("the store was written by a newer server (schema {0}); refusing to open it")]
    NewerSchema(u64),
    #[error(
        "data directory {path} has mode {mode:o}: others can write to it, so its contents cannot \
         be trusted; check them, then `chmod 700 {path}`"
    )]
    InsecureDataDir { path: String, mode: u32 },
    #[error(
        "the master key differs from the one this store was written with (TOTP secrets would \
         not open): give every replica the same TWOSTEP_MASTER_KEY or server.key"
    )]
    WrongMasterKey,
}

impl App {
    /// Opens the data dir and builds the state. Must run inside a tokio runtime.
    pub async fn open(config: Config) -> Result<Arc<Self>, StartError> {
        config.validate()?;
        let proxies = ProxyTrust::from_config(&config)?;
        let io = |source| StartError::Io { path: config.data_dir.display().to_string(), source };
        crate::datadir::prepare(&config.data_dir)?;
        let master = crate::crypto::load_or_create_master_key(&config.data_dir).map_err(io)?;
        let store: Arc<dyn Store> = match &config.database_url {
            Some(url) => {
                tracing::info!(database = %url.redacted(), "store: PostgreSQL");
                Arc::new(PgStore::connect(&url.0, config.database_pool_size).await?)
            }
            None => {
                let db = config.data_dir.join("db");
                let cache = config.store_cache_mib.saturating_mul(1024 * 1024);
                let store = Arc::new(SledStore::open_with_cache(&db, cache)?);
                crate::datadir::tighten(&db).map_err(io)?;
                store
            }
        };
        let repo = Repo::new(store.clone());
        match repo.get::<u64>(Tree::Meta, b"schema").await? {
            Some(v) if v > SCHEMA_VERSION => return Err(StartError::NewerSchema(v)),
            Some(_) => {}
            None => {
                repo.put(Tree::Meta, b"schema", &SCHEMA_VERSION).await?;
                store.flush().await?;
            }
        }
        let keys = Keys::derive(&master);
        check_master_key(&repo, &keys).await?;
        let threads = config
            .hash_threads
            .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2));
        let hasher = Hasher::start(config.argon2, threads, config.hash_queue);
        let delivery = Delivery::new(
            config.smtp.as_ref(),
            config.sms.as_ref(),
            config.data_dir.join("outbox"),
        )?;
        Ok(Arc::new(Self {
            keys,
            repo,
            hasher,
            delivery,
            metrics: Metrics::default(),
            proxies,
            config,
        }))
    }

    /// Makes this request's writes durable before answering (a group `fsync` for the
    /// embedded store; nothing left to wait for with PostgreSQL).
    pub async fn commit(&self) -> ApiResult<()> {
        self.repo.store().flush().await.map_err(ApiError::from)
    }

    /// Appends an audit event.
    pub async fn audit(
        &self,
        now_ms: u64,
        kind: AuditKind,
        ctx: &Ctx,
        detail: Option<String>,
    ) -> ApiResult<()> {
        audit::record(&self.repo, now_ms, kind, ctx, detail).await.map_err(ApiError::from)
    }

    /// Loads a user.
    pub async fn user(&self, username: &str) -> ApiResult<Option<UserRecord>> {
        Ok(self.repo.get(Tree::Users, username.as_bytes()).await?)
    }

    /// Loads a user that must exist.
    pub async fn user_required(&self, username: &str) -> ApiResult<UserRecord> {
        self.user(username).await?.ok_or_else(|| ApiError::not_found("user"))
    }

    /// Loads an org (falls back to the default policy if it vanished).
    pub async fn org(&self, name: &str) -> ApiResult<OrgRecord> {
        Ok(self.repo.get(Tree::Orgs, name.as_bytes()).await?.unwrap_or(OrgRecord {
            name: name.to_owned(),
            policy: OrgPolicy::default(),
            created_at: 0,
        }))
    }

    /// The passcode policy a device of this org gets: required exactly when two-step
    /// comes from the org policy, optional when it is the user's own choice.
    pub fn passcode_policy(&self, org: &OrgRecord) -> PasscodePolicy {
        let p = &org.policy;
        PasscodePolicy {
            requirement: if p.require_two_step {
                PasscodeRequirement::Required
            } else {
                PasscodeRequirement::Optional
            },
            min_length: p.passcode_min_length,
            alphanumeric: p.passcode_alphanumeric,
            max_failed_attempts: p.passcode_max_attempts,
            lock_timeout_secs: p.passcode_lock_timeout_secs,
            wipe_vault: p.wipe_vault_on_max_attempts,
        }
    }

    /// Whether any operator exists.
    pub async fn has_operator(&self) -> ApiResult<bool> {
        Ok(!self.repo.store().scan(Tree::Operators, b"", None, 1).await?.is_empty())
    }

    /// Creates a one-time setup token for the first operator (when none exists). It lives in
    /// the store, so any replica accepts it, once; the newest one printed is the one that works.
    pub async fn issue_setup_token(&self, now: u64) -> ApiResult<Option<String>> {
        use crate::service::operators::SETUP_TOKEN_KEY;
        if self.has_operator().await? {
            self.repo.remove(Tree::Setup, SETUP_TOKEN_KEY).await?;
            return Ok(None);
        }
        let token = crate::crypto::random_token();
        let mac = self.keys.code_mac("setup-token", &token);
        let rec = crate::model::SetupTokenRecord { mac, created_at: now };
        self.repo.put(Tree::Setup, SETUP_TOKEN_KEY, &rec).await?;
        self.commit().await?;
        Ok(Some(token))
    }
}

/// Refuses a master key other than the one the store was first written with: with several
/// replicas, one started with its own fresh `server.key` would fail every TOTP check. The
/// store keeps a MAC of a constant under the key, which says nothing about the key.
async fn check_master_key(repo: &Repo, keys: &Keys) -> Result<(), StartError> {
    let mine = keys.code_mac("master-key-check", "twostep");
    loop {
        match repo.get::<String>(Tree::Meta, b"master_key_check").await? {
            Some(theirs) if crate::crypto::constant_time_eq(theirs.as_bytes(), mine.as_bytes()) => {
                return Ok(());
            }
            Some(_) => return Err(StartError::WrongMasterKey),
            // Replicas starting together: one insert wins, the others compare with it.
            None => {
                if repo.insert_new(Tree::Meta, b"master_key_check", &mine).await? {
                    repo.store().flush().await?;
                    return Ok(());
                }
            }
        }
    }
}

/// Maps a throttle gate to an error.
pub fn gate_error(g: crate::throttle::AccountGate) -> Option<ApiError> {
    match g {
        crate::throttle::AccountGate::Open => None,
        crate::throttle::AccountGate::Wait(s) => Some(ApiError::rate_limited(s)),
        crate::throttle::AccountGate::Locked => Some(ApiError::new(
            ErrorCode::AccountLocked,
            "the account is locked after too many failed attempts; an operator must unlock it",
        )),
    }
}
