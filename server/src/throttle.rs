//! Throttling of failed attempts per account, durable in the store.
//!
//! Failures 1–4 cost nothing; from the 5th the account waits 30 s · 2^(n−5), at most an
//! hour; the 100th consecutive failure locks the account until an operator unlocks it.
//! Unknown usernames get exactly the same treatment, so throttling cannot be used to find
//! out which accounts exist. A full sign-in resets the count; a correct password alone does
//! not (it would reset code guessing).
//!
//! An attempt is *reserved* — counted as a failure, atomically — before the password hash
//! or the code check it pays for ([`account_reserve`]); a correct answer hands it back
//! ([`account_refund`]). So N concurrent wrong attempts meet the gate exactly as N
//! sequential ones would. A record is forgotten 30 days after its last failure (locked
//! records are kept until an operator unlocks them).

use crate::model::ThrottleRecord;
use crate::store::repo::Change;
use crate::store::{Repo, StoreError, Tree};

/// Failures after which the account is locked for good.
pub const LOCK_AFTER: u32 = 100;
/// Failures allowed before delays start.
pub const FREE_FAILURES: u32 = 4;
/// Seconds a failure record is kept after its last failure.
pub const FAILURE_MEMORY_SECS: u64 = 30 * 86_400;

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

fn gate_of(r: &ThrottleRecord, now: u64) -> AccountGate {
    if r.locked {
        AccountGate::Locked
    } else if r.blocked_until > now {
        AccountGate::Wait(r.blocked_until - now)
    } else {
        AccountGate::Open
    }
}

/// One more failure on `r` at `now`.
fn count(r: &mut ThrottleRecord, now: u64) {
    r.failures = r.failures.saturating_add(1);
    r.blocked_until = now + delay_after(r.failures);
    if r.failures >= LOCK_AFTER {
        r.locked = true;
    }
    r.expires_at = (!r.locked).then_some(r.blocked_until + FAILURE_MEMORY_SECS);
}

/// Checks an account before an attempt (a read; nothing is counted).
pub async fn account_gate(repo: &Repo, key: &str, now: u64) -> Result<AccountGate, StoreError> {
    let rec: Option<ThrottleRecord> = repo.get(Tree::Throttle, key.as_bytes()).await?;
    Ok(rec.map_or(AccountGate::Open, |r| gate_of(&r, now)))
}

/// An attempt counted before its check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    key: String,
    /// The failure count including this attempt.
    pub failures: u32,
    blocked_until: u64,
    previous_blocked_until: u64,
    /// This attempt locked the account (if it turns out to be a failure).
    pub locks: bool,
}

/// Counts an attempt as a failure if the gate is open; otherwise the closed gate.
pub async fn account_reserve(
    repo: &Repo,
    key: &str,
    now: u64,
) -> Result<Result<Reservation, AccountGate>, StoreError> {
    let mut previous = 0;
    let r = repo
        .update::<ThrottleRecord, AccountGate, _>(Tree::Throttle, key.as_bytes(), |cur| {
            let mut r = cur.unwrap_or_default();
            match gate_of(&r, now) {
                AccountGate::Open => {}
                closed => return Change::Abort(closed),
            }
            previous = r.blocked_until;
            count(&mut r, now);
            Change::Put(r)
        })
        .await?;
    Ok(r.map(|rec| {
        let rec = rec.unwrap_or_default();
        Reservation {
            key: key.to_owned(),
            failures: rec.failures,
            blocked_until: rec.blocked_until,
            previous_blocked_until: previous,
            locks: rec.locked && rec.failures == LOCK_AFTER,
        }
    }))
}

/// Hands back a reserved attempt that turned out not to be a failure. If nothing was
/// counted after it, the record is exactly as before; otherwise the later attempts' waits
/// stand.
pub async fn account_refund(repo: &Repo, res: &Reservation) -> Result<(), StoreError> {
    repo.update::<ThrottleRecord, (), _>(Tree::Throttle, res.key.as_bytes(), |cur| {
        let Some(mut r) = cur else { return Change::Abort(()) };
        if r.failures == 0 {
            return Change::Abort(());
        }
        let latest = r.failures == res.failures && r.blocked_until == res.blocked_until;
        r.failures -= 1;
        if latest {
            r.blocked_until = res.previous_blocked_until;
            if res.locks {
                r.locked = false;
            }
        }
        if r.failures == 0 && !r.locked {
            return Change::Remove;
        }
        r.expires_at = (!r.locked).then_some(r.blocked_until + FAILURE_MEMORY_SECS);
        Change::Put(r)
    })
    .await?
    .ok();
    Ok(())
}

/// Records a failure unconditionally; returns the new state.
pub async fn account_failure(
    repo: &Repo,
    key: &str,
    now: u64,
) -> Result<ThrottleRecord, StoreError> {
    let r = repo
        .update::<ThrottleRecord, (), _>(Tree::Throttle, key.as_bytes(), |cur| {
            let mut r = cur.unwrap_or_default();
            count(&mut r, now);
            Change::Put(r)
        })
        .await?;
    Ok(r.ok().flatten().unwrap_or_default())
}

/// Clears the failures after a successful sign-in or an operator's unlock.
pub async fn account_reset(repo: &Repo, key: &str) -> Result<(), StoreError> {
    repo.remove(Tree::Throttle, key.as_bytes()).await?;
    Ok(())
}

/// The current failure record.
pub async fn account_state(repo: &Repo, key: &str) -> Result<ThrottleRecord, StoreError> {
    Ok(repo.get(Tree::Throttle, key.as_bytes()).await?.unwrap_or_default())
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

    #[tokio::test]
    async fn a_refund_restores_the_record_and_later_failures_stand() {
        let dir = tempfile::tempdir().unwrap();
        let repo =
            Repo::new(std::sync::Arc::new(crate::store::SledStore::open(dir.path()).unwrap()));
        for t in 0..4 {
            assert!(account_reserve(&repo, "a", 100 + t).await.unwrap().is_ok());
        }
        let before = account_state(&repo, "a").await.unwrap();
        let r = account_reserve(&repo, "a", 200).await.unwrap().unwrap();
        assert_eq!(account_gate(&repo, "a", 201).await.unwrap(), AccountGate::Wait(29));
        account_refund(&repo, &r).await.unwrap();
        let after = account_state(&repo, "a").await.unwrap();
        assert_eq!((after.failures, after.blocked_until), (before.failures, before.blocked_until));
        // Two reserved at once, the first handed back: the second still counts.
        let a = account_reserve(&repo, "b", 300).await.unwrap().unwrap();
        let b = account_reserve(&repo, "b", 300).await.unwrap().unwrap();
        account_refund(&repo, &a).await.unwrap();
        assert_eq!(account_state(&repo, "b").await.unwrap().failures, 1);
        account_refund(&repo, &b).await.unwrap();
        assert!(repo.get::<ThrottleRecord>(Tree::Throttle, b"b").await.unwrap().is_none());
    }
}
