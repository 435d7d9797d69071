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

/// Appends an event.
pub async fn record(
    repo: &Repo,
    now_ms: u64,
    kind: AuditKind,
    ctx: &Ctx,
    detail: Option<String>,
) -> Result<(), StoreError> {
    let id = repo.store().next_id().await?;
    let ev = AuditEvent {
        id,
        at_ms: now_ms,
        kind,
        user: ctx.user.clone(),
        org: ctx.org.clone(),
        client: ctx.client,
        address: ctx.address.clone(),
        operator: ctx.operator.clone(),
        detail,
    };
    tracing::info!(target: "audit", kind = ?kind, user = ?ctx.user, client = ?ctx.client, address = ?ctx.address, "audit");
    repo.put(Tree::Audit, &id.to_be_bytes(), &ev).await
}

/// Reads events after `after`, optionally for one user, oldest first.
pub async fn page(
    repo: &Repo,
    after: Option<u64>,
    limit: usize,
    user: Option<&str>,
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
            if user.is_none_or(|u| ev.user.as_deref() == Some(u)) {
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
