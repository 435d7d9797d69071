//! Storage behind a narrow key-value trait.
//!
//! Every record the server keeps is a JSON value under a key in one of a few named trees.
//! The trait is small on purpose — get, put, remove, compare-and-swap, ordered scans,
//! ids, flush — so that a shared database (PostgreSQL, one table per tree, CAS as a
//! conditional `UPDATE`) can replace the embedded sled store when several stateless
//! replicas must share state. Atomic read-modify-write (replay protection, attempt
//! counters) is built on compare-and-swap in [`Repo::update`]. Expired records are removed
//! by [`Store::sweep_expired`], which a shared database may implement natively.

pub mod copy;
mod group_flush;
pub mod pg;
pub mod repo;
mod sled_store;
pub mod sweep;

pub use pg::{ImportError, PgStore};
pub use repo::Repo;
pub use sled_store::SledStore;
pub use sweep::SweepBatch;

/// The named trees.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tree {
    /// Schema version and server-wide settings.
    Meta,
    /// Organizations by name.
    Orgs,
    /// Users by normalized username.
    Users,
    /// Operators by name.
    Operators,
    /// User sessions by SHA-256 of the token.
    Sessions,
    /// Operator sessions by SHA-256 of the token.
    OperatorSessions,
    /// Sign-in challenges by id.
    Challenges,
    /// Devices by id (`user_id.random`).
    Devices,
    /// Device session nonces.
    Nonces,
    /// Per-account failure counters, by username (also for unknown usernames).
    Throttle,
    /// Audit events by big-endian id.
    Audit,
    /// Per-client-address failure windows, by address.
    AddressFailures,
    /// Request-rate windows (device challenges per registration, registration challenges
    /// per address).
    Rates,
    /// SMS/email send limits: per-destination cooldowns and daily counters.
    MessageLimits,
    /// Single-use registration nonces for devices and agents.
    RegistrationNonces,
    /// The one-time setup token that creates the first operator.
    Setup,
}

impl Tree {
    /// All trees.
    pub const ALL: [Tree; 16] = [
        Tree::Meta,
        Tree::Orgs,
        Tree::Users,
        Tree::Operators,
        Tree::Sessions,
        Tree::OperatorSessions,
        Tree::Challenges,
        Tree::Devices,
        Tree::Nonces,
        Tree::Throttle,
        Tree::Audit,
        Tree::AddressFailures,
        Tree::Rates,
        Tree::MessageLimits,
        Tree::RegistrationNonces,
        Tree::Setup,
    ];

    /// Trees whose records carry an `expires_at` and are swept once it has passed.
    pub const EXPIRING: [Tree; 9] = [
        Tree::Nonces,
        Tree::RegistrationNonces,
        Tree::Challenges,
        Tree::Sessions,
        Tree::OperatorSessions,
        Tree::Throttle,
        Tree::AddressFailures,
        Tree::Rates,
        Tree::MessageLimits,
    ];

    /// Storage name.
    pub fn name(self) -> &'static str {
        match self {
            Tree::Meta => "meta",
            Tree::Orgs => "orgs",
            Tree::Users => "users",
            Tree::Operators => "operators",
            Tree::Sessions => "sessions",
            Tree::OperatorSessions => "operator_sessions",
            Tree::Challenges => "challenges",
            Tree::Devices => "devices",
            Tree::Nonces => "nonces",
            Tree::Throttle => "throttle",
            Tree::Audit => "audit",
            Tree::AddressFailures => "address_failures",
            Tree::Rates => "rates",
            Tree::MessageLimits => "message_limits",
            Tree::RegistrationNonces => "registration_nonces",
            Tree::Setup => "setup",
        }
    }
}

/// A storage failure. Details go to the log; clients see `internal`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The backend failed.
    #[error("storage backend: {0}")]
    Backend(String),
    /// A stored value did not decode.
    #[error("corrupt record in {tree}: {detail}")]
    Corrupt {
        /// Which tree.
        tree: &'static str,
        /// What failed.
        detail: String,
    },
    /// The database was written by a newer server.
    #[error(
        "the database schema is version {found}, newer than this server's {known}; refusing to use it"
    )]
    NewerSchema {
        /// The database's version.
        found: u64,
        /// The newest this server knows.
        known: u64,
    },
    /// The data dir is locked by another process.
    #[error("the data directory is in use by another process (is the server running?)")]
    Locked,
}

/// [`Store::compare_and_swap_and_append`] as two steps: the swap, then (if it succeeded)
/// the append.
pub async fn swap_then_append<S: Store + ?Sized>(
    store: &S,
    tree: Tree,
    key: &[u8],
    expected: Option<&[u8]>,
    new: Option<Vec<u8>>,
    log: Tree,
    record: Vec<u8>,
) -> Result<Option<u64>, StoreError> {
    if !store.compare_and_swap(tree, key, expected, new).await? {
        return Ok(None);
    }
    store.append(log, record).await.map(Some)
}

/// Key-value pairs from a scan.
pub type Pairs = Vec<(Vec<u8>, Vec<u8>)>;

/// The storage backend. Async, so that a network round trip (PostgreSQL) never blocks a
/// tokio worker; the embedded sled store answers from memory and is cheap to await.
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    /// Reads a value.
    async fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Writes a value.
    async fn put(&self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), StoreError>;
    /// Removes a value; returns whether it existed.
    async fn remove(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError>;
    /// Atomically replaces `expected` with `new` (`None` = absent). False if the value differed.
    async fn compare_and_swap(
        &self,
        tree: Tree,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, StoreError>;
    /// [`Store::compare_and_swap`] that also appends a record to the id-keyed `log` tree
    /// ([`Store::append`]) when — and only when — the swap succeeds; returns the new id.
    /// PostgreSQL writes both in one statement (one commit); the embedded store swaps, then
    /// appends, and its next flush makes both durable.
    async fn compare_and_swap_and_append(
        &self,
        tree: Tree,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
        log: Tree,
        record: Vec<u8>,
    ) -> Result<Option<u64>, StoreError> {
        swap_then_append(self, tree, key, expected, new, log, record).await
    }
    /// Up to `limit` pairs whose key starts with `prefix` and sorts after `after`, in key order.
    async fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError>;
    /// A unique, increasing id.
    async fn next_id(&self) -> Result<u64, StoreError>;
    /// Stores `value`, a JSON object, under a new id from [`Store::next_id`] (the key is the
    /// id as 8 big-endian bytes) with its `"id"` field set to that id; returns the id. For
    /// id-keyed trees (the audit log). PostgreSQL does it in one statement.
    async fn append(&self, tree: Tree, value: Vec<u8>) -> Result<u64, StoreError> {
        let id = self.next_id().await?;
        let mut v: serde_json::Value = serde_json::from_slice(&value)
            .map_err(|e| StoreError::Corrupt { tree: tree.name(), detail: e.to_string() })?;
        let serde_json::Value::Object(fields) = &mut v else {
            return Err(StoreError::Corrupt { tree: tree.name(), detail: "not an object".into() });
        };
        fields.insert("id".into(), id.into());
        self.put(tree, &id.to_be_bytes(), serde_json::to_vec(&v).unwrap_or_default()).await?;
        Ok(id)
    }
    /// Makes every write completed before this call durable; an acknowledgement waits for
    /// it. The embedded store group-commits an `fsync`; PostgreSQL returns at once, because
    /// each of its writes was committed by the statement that made it.
    async fn flush(&self) -> Result<(), StoreError>;
    /// Flushes to disk so far (the embedded store's group commits; 0 where writes commit
    /// themselves).
    fn flush_count(&self) -> u64 {
        0
    }
    /// Removes records of `tree` whose own `expires_at` is at or before `now`, examining at
    /// most `limit` records in key order after `after`. Each removal is a compare-and-swap of
    /// exactly the value examined, so a record renewed meanwhile stays, and several sweepers
    /// (replicas) may run at once. The default scans; a database may use an index instead.
    async fn sweep_expired(
        &self,
        tree: Tree,
        after: Option<&[u8]>,
        limit: usize,
        now: u64,
    ) -> Result<SweepBatch, StoreError> {
        sweep::by_scan(self, tree, after, limit, now).await
    }
}
