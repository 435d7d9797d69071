//! The per-address failure budget: more than N failed attempts from one client address in
//! a minute are answered `429` until that minute is over. Kept in the store (one record per
//! address), so all replicas share it.

use super::window::{self, Counted, Span};
use crate::store::{Repo, StoreError, Tree};
use std::net::IpAddr;

/// Seconds in an address window.
pub const WINDOW_SECS: u64 = 60;

fn key(addr: IpAddr) -> Vec<u8> {
    addr.to_string().into_bytes()
}

/// Counts an attempt against the address before it is checked; `Err(wait)` when the budget
/// is spent. A success hands it back with [`window::refund`].
pub async fn reserve(
    repo: &Repo,
    addr: IpAddr,
    per_minute: u32,
    now: u64,
) -> Result<Result<Counted, u64>, StoreError> {
    window::hit(
        repo,
        Tree::AddressFailures,
        &key(addr),
        per_minute,
        Span::Rolling(WINDOW_SECS),
        now,
    )
    .await
}

/// Seconds to wait, if the address has spent its budget (a read only).
pub async fn blocked(
    repo: &Repo,
    addr: IpAddr,
    per_minute: u32,
    now: u64,
) -> Result<Option<u64>, StoreError> {
    window::full(repo, Tree::AddressFailures, &key(addr), per_minute, now).await
}

/// Counts a failure whatever the budget says (a verdict that changed after the gates).
pub async fn count_anyway(repo: &Repo, addr: IpAddr, now: u64) -> Result<(), StoreError> {
    let span = Span::Rolling(WINDOW_SECS);
    window::hit(repo, Tree::AddressFailures, &key(addr), u32::MAX, span, now).await?.ok();
    Ok(())
}
