//! Throttling of failed attempts, per account (durable) and per client address (memory).
//!
//! Per account: failures 1–4 cost nothing; from the 5th the account waits
//! 30 s · 2^(n−5), at most an hour; the 100th consecutive failure locks the account
//! until an operator unlocks it. Unknown usernames get exactly the same treatment, so
//! throttling cannot be used to find out which accounts exist. A full sign-in resets
//! the count; a correct password alone does not (it would reset code guessing).
//!
//! Per address: more than N failures in a minute answers `429` until the minute is over.

use crate::model::ThrottleRecord;
use crate::store::repo::Change;
use crate::store::{Repo, StoreError, Tree};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failures after which the account is locked for good.
pub const LOCK_AFTER: u32 = 100;
/// Failures allowed before delays start.
pub const FREE_FAILURES: u32 = 4;

/// Delay after `failures` consecutive failures.
pub fn delay_after(failures: u32) -> u64 {
    if failures <= FREE_FAILURES {
        0
    } else {
        let exp = (failures - FREE_FAILURES - 1).min(12);
        (30u64 << exp).min(3600)
    }
}

/// The account's state right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountGate {
    /// Go ahead.
    Open,
    /// Wait this many seconds.
    Wait(u64),
    /// An operator must unlock.
    Locked,
}

/// Checks an account before an attempt.
pub async fn account_gate(
    repo: &Repo,
    username: &str,
    now: u64,
) -> Result<AccountGate, StoreError> {
    let rec: Option<ThrottleRecord> = repo.get(Tree::Throttle, username.as_bytes()).await?;
    Ok(match rec {
        Some(r) if r.locked => AccountGate::Locked,
        Some(r) if r.blocked_until > now => AccountGate::Wait(r.blocked_until - now),
        _ => AccountGate::Open,
    })
}

/// Records a failure; returns the new state (whether this failure locked the account).
pub async fn account_failure(
    repo: &Repo,
    username: &str,
    now: u64,
) -> Result<ThrottleRecord, StoreError> {
    let r = repo
        .update::<ThrottleRecord, (), _>(Tree::Throttle, username.as_bytes(), |cur| {
            let mut r = cur.unwrap_or_default();
            r.failures = r.failures.saturating_add(1);
            r.blocked_until = now + delay_after(r.failures);
            if r.failures >= LOCK_AFTER {
                r.locked = true;
            }
            Change::Put(r)
        })
        .await?;
    Ok(r.ok().flatten().unwrap_or_default())
}

/// Clears the failures after a successful sign-in or an operator's unlock.
pub async fn account_reset(repo: &Repo, username: &str) -> Result<(), StoreError> {
    repo.remove(Tree::Throttle, username.as_bytes()).await?;
    Ok(())
}

/// The current failure record.
pub async fn account_state(repo: &Repo, username: &str) -> Result<ThrottleRecord, StoreError> {
    Ok(repo.get(Tree::Throttle, username.as_bytes()).await?.unwrap_or_default())
}

/// Per-address failure windows.
#[derive(Debug)]
pub struct AddressLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<IpAddr, (u64, u32)>>,
}

impl AddressLimiter {
    /// A limiter allowing `per_minute` failures per address per minute.
    pub fn new(per_minute: u32) -> Self {
        Self { per_minute: per_minute.max(1), windows: Mutex::new(HashMap::new()) }
    }

    /// Seconds to wait, if the address is over its budget.
    pub fn check(&self, addr: IpAddr, now: u64) -> Option<u64> {
        let w = self.windows.lock().ok()?;
        match w.get(&addr) {
            Some(&(start, n)) if now < start + 60 && n >= self.per_minute => Some(start + 60 - now),
            _ => None,
        }
    }

    /// Counts a failure from `addr`.
    pub fn failure(&self, addr: IpAddr, now: u64) {
        let Ok(mut w) = self.windows.lock() else { return };
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now < *start + 60);
        }
        let e = w.entry(addr).or_insert((now, 0));
        if now >= e.0 + 60 {
            *e = (now, 0);
        }
        e.1 = e.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_escalate_and_cap() {
        assert_eq!(delay_after(4), 0);
        assert_eq!(delay_after(5), 30);
        assert_eq!(delay_after(6), 60);
        assert_eq!(delay_after(11), 1920);
        assert_eq!(delay_after(12), 3600);
        assert_eq!(delay_after(99), 3600);
    }

    #[test]
    fn address_budget_resets_each_minute() {
        let l = AddressLimiter::new(3);
        let a: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert_eq!(l.check(a, 100), None);
            l.failure(a, 100);
        }
        assert_eq!(l.check(a, 110), Some(50));
        assert_eq!(l.check(a, 160), None);
    }
}
