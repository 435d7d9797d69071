//! SMS and email send limits: a 30 s cooldown per destination and daily caps per user, per
//! destination and per organization (operator-settable in the org policy).
//!
//! Both are reserved in the store *before* the message is handed to the gateway, so parallel
//! requests cannot slip several messages through one cooldown or past a cap. Destinations are
//! keyed by their SHA-256, not in the clear.

use super::window::{self, Counted, Span};
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::sha256_hex;
use crate::error::{ApiError, ApiResult};
use crate::model::{CooldownRecord, OrgRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use twostep_proto::{AuditKind, Channel, ErrorCode, RESEND_AFTER_SECS};

/// Caps reserved for one message; hand them back with [`release`] if it was not sent.
#[derive(Debug, Default)]
pub struct SendSlot {
    counted: Vec<Counted>,
}

/// Whether a send waits out the per-destination cooldown (explicit sends and resends do;
/// the code that a password sign-in sends does not, it is paid for by the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cooldown {
    Apply,
    Skip,
}

fn destination_key(channel: Channel, destination: &str) -> String {
    sha256_hex(format!("{}:{}", channel.as_str(), destination.to_ascii_lowercase()).as_bytes())
}

/// Reserves the cooldown (if asked) and one message in each daily cap.
#[allow(clippy::too_many_arguments)]
pub async fn reserve(
    app: &App,
    org: &OrgRecord,
    username: &str,
    channel: Channel,
    destination: &str,
    cooldown: Cooldown,
    ctx: &Ctx,
    now: (u64, u64),
) -> ApiResult<SendSlot> {
    let (now, now_ms) = now;
    let dest = destination_key(channel, destination);
    if cooldown == Cooldown::Apply {
        let key = format!("cooldown:{dest}");
        let r =
            app.repo
                .update::<CooldownRecord, u64, _>(Tree::MessageLimits, key.as_bytes(), |cur| {
                    match cur {
                        Some(c) if c.until > now => Change::Abort(c.until - now),
                        _ => {
                            let until = now + RESEND_AFTER_SECS;
                            Change::Put(CooldownRecord { until, expires_at: until })
                        }
                    }
                })
                .await?;
        if let Err(wait) = r {
            return Err(ApiError::new(
                ErrorCode::ResendTooSoon,
                format!("a new code can be sent in {wait} s"),
            )
            .with_retry_after(wait));
        }
    }
    let day = now / window::DAY_SECS;
    let p = &org.policy;
    let caps = [
        (format!("user:{username}:{day}"), p.max_messages_per_user_per_day, "user"),
        (format!("dest:{dest}:{day}"), p.max_messages_per_destination_per_day, "destination"),
        (format!("org:{}:{day}", org.name), p.max_messages_per_org_per_day, "organization"),
    ];
    let mut slot = SendSlot::default();
    for (key, limit, which) in caps {
        match window::hit(&app.repo, Tree::MessageLimits, key.as_bytes(), limit, Span::UtcDay, now)
            .await?
        {
            Ok(c) => slot.counted.push(c),
            Err(wait) => {
                release(app, slot).await?;
                app.audit(
                    now_ms,
                    AuditKind::SendLimited,
                    ctx,
                    Some(format!("{} per {which} per day ({limit})", channel.as_str())),
                )
                .await?;
                app.commit().await?;
                crate::metrics::inc(&app.metrics.rate_limited_total);
                return Err(ApiError::new(
                    ErrorCode::SendLimitReached,
                    format!("no more codes can be sent today (the {which} limit); try tomorrow or another channel"),
                )
                .with_retry_after(wait));
            }
        }
    }
    Ok(slot)
}

/// Hands back the caps of a message that was not sent.
pub async fn release(app: &App, slot: SendSlot) -> ApiResult<()> {
    for c in &slot.counted {
        window::refund(&app.repo, c).await?;
    }
    Ok(())
}
