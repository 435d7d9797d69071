//! The audit log: every security event, with time, user, client kind and address.
//! Records are written with the request's other writes and flushed with them.

use crate::store::{Repo, StoreError, Tree};
use twostep_proto::{AuditEvent, AuditKind, AuditPage, ClientKind};

/// Who and where an event concerns.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    pub user: Option<String>,
    pub org: Option<String>,
    pub client: Option<ClientKind>,
    pub address: Option<String>,
    pub operator: Option<String>,
}

/// An event to append (the store gives it its id).
pub fn event(now_ms: u64, kind: AuditKind, ctx: &Ctx, detail: Option<String>) -> AuditEvent {
    AuditEvent {
        // The store assigns the id (PostgreSQL in the same statement as the insert).
        id: 0,
        at_ms: now_ms,
        kind,
        user: ctx.user.clone(),
        org: ctx.org.clone(),
        client: ctx.client,
        address: ctx.address.clone(),
        operator: ctx.operator.clone(),
        detail,
    }
}

/// Logs an event that was recorded (kind, user, client, address; never secrets).
pub fn log(ev: &AuditEvent) {
    tracing::info!(target: "audit", kind = ?ev.kind, user = ?ev.user, client = ?ev.client, address = ?ev.address, "audit");
}

/// Appends an event.
pub async fn record(
    repo: &Repo,
    now_ms: u64,
    kind: AuditKind,
    ctx: &Ctx,
    detail: Option<String>,
) -> Result<(), StoreError> {
    let ev = event(now_ms, kind, ctx, detail);
    log(&ev);
    repo.append(Tree::Audit, &ev).await.map(|_| ())
}

/// Which events to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only events about this (normalized) username.
    pub user: Option<String>,
    /// Only events of this kind.
    pub kind: Option<AuditKind>,
    /// Only events at or after this Unix millisecond.
    pub from_ms: Option<u64>,
    /// Only events before this Unix millisecond.
    pub to_ms: Option<u64>,
}

impl AuditFilter {
    fn matches(&self, ev: &AuditEvent) -> bool {
        self.user.as_deref().is_none_or(|u| ev.user.as_deref() == Some(u))
            && self.kind.is_none_or(|k| ev.kind == k)
            && self.from_ms.is_none_or(|t| ev.at_ms >= t)
            && self.to_ms.is_none_or(|t| ev.at_ms < t)
    }
}

/// Reads events after `after`, optionally for one user, oldest first.
pub async fn page(
    repo: &Repo,
    after: Option<u64>,
    limit: usize,
    user: Option<&str>,
) -> Result<AuditPage, StoreError> {
    search(repo, after, limit, &AuditFilter { user: user.map(str::to_owned), ..Default::default() })
        .await
}

/// Reads the events after `after` that match `filter`, oldest first, at most `limit`
/// (1..=1000); `next_after` is set when more may follow.
pub async fn search(
    repo: &Repo,
    after: Option<u64>,
    limit: usize,
    filter: &AuditFilter,
) -> Result<AuditPage, StoreError> {
    let limit = limit.clamp(1, 1000);
    let mut events = Vec::new();
    let mut cursor = after.map(|a| a.to_be_bytes().to_vec());
    loop {
        let batch: Vec<(Vec<u8>, AuditEvent)> =
            repo.scan(Tree::Audit, b"", cursor.as_deref(), 500).await?;
        let done = batch.len() < 500;
        for (k, ev) in batch {
            cursor = Some(k);
            if filter.matches(&ev) {
                events.push(ev);
                if events.len() >= limit {
                    let next = events.last().map(|e| e.id);
                    return Ok(AuditPage { events, next_after: next });
                }
            }
        }
        if done {
            return Ok(AuditPage { events, next_after: None });
        }
    }
}
