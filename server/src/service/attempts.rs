//! One place that counts an attempt against both budgets it spends: the account's (durable
//! throttle) and the client address's (failures per minute).
//!
//! Password checks *reserve* before the Argon2id hash and hand the reservation back when the
//! password was right. Code checks are cheap and decided first, but their result is only
//! revealed after the same atomic step: a wrong code reserves (and keeps) a failure, a right
//! one passes only while both gates are open. Either way the store sees the attempts in one
//! order, so N concurrent attempts are treated like N sequential ones.

use super::signin::Origin;
use crate::app::{App, gate_error};
use crate::audit::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::limits::{address, window};
use crate::metrics::inc;
use crate::throttle::{self, Reservation};
use twostep_proto::AuditKind;

/// An attempt counted as a failure until [`Attempt::refund`].
#[derive(Debug)]
pub struct Attempt {
    account: Reservation,
    address: window::Counted,
}

fn limited(app: &App, e: ApiError) -> ApiError {
    inc(&app.metrics.rate_limited_total);
    e
}

/// Counts an attempt for `key` (a username, or `operator:NAME`) from `o.addr`; `429`/`423`
/// when either budget is spent, and then nothing is counted.
pub async fn reserve(app: &App, key: &str, o: &Origin) -> ApiResult<Attempt> {
    let per_minute = app.config.address_failures_per_minute;
    let address = match address::reserve(&app.repo, o.addr, per_minute, o.now).await? {
        Ok(c) => c,
        Err(wait) => return Err(limited(app, ApiError::rate_limited(wait))),
    };
    match throttle::account_reserve(&app.repo, key, o.now).await? {
        Ok(account) => Ok(Attempt { account, address }),
        Err(gate) => {
            window::refund(&app.repo, &address).await?;
            Err(limited(app, gate_error(gate).unwrap_or_else(|| ApiError::rate_limited(1))))
        }
    }
}

impl Attempt {
    /// The answer was right: the attempt is not a failure.
    pub async fn refund(self, app: &App) -> ApiResult<()> {
        throttle::account_refund(&app.repo, &self.account).await?;
        window::refund(&app.repo, &self.address).await?;
        Ok(())
    }

    /// The answer was wrong: the attempt stays counted; a lock it caused is audited.
    pub async fn failed(self, app: &App, ctx: &Ctx, now_ms: u64) -> ApiResult<u32> {
        if self.account.locks {
            app.audit(now_ms, AuditKind::AccountLocked, ctx, None).await?;
        }
        Ok(self.account.failures)
    }
}

/// For an answer already known to be right: passes only while both gates are open (reads,
/// nothing is counted).
pub async fn gates_open(app: &App, key: &str, o: &Origin) -> ApiResult<()> {
    let per_minute = app.config.address_failures_per_minute;
    if let Some(wait) = address::blocked(&app.repo, o.addr, per_minute, o.now).await? {
        return Err(limited(app, ApiError::rate_limited(wait)));
    }
    if let Some(e) = gate_error(throttle::account_gate(&app.repo, key, o.now).await?) {
        return Err(limited(app, e));
    }
    Ok(())
}

/// For an answer that passed the gates as right but turned out wrong (a race with a
/// concurrent use of the same code): counted whatever the gates say now.
pub async fn count_anyway(app: &App, key: &str, ctx: &Ctx, o: &Origin) -> ApiResult<()> {
    let r = throttle::account_failure(&app.repo, key, o.now).await?;
    address::count_anyway(&app.repo, o.addr, o.now).await?;
    if r.locked && r.failures == throttle::LOCK_AFTER {
        app.audit(o.now_ms, AuditKind::AccountLocked, ctx, None).await?;
    }
    Ok(())
}
