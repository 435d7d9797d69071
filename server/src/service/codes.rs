//! One-time codes: sending SMS/email codes, checking them, TOTP secrets, recovery codes.

use super::signin::Origin;
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::{hex, random_bytes, random_digits};
use crate::delivery::Message;
use crate::error::{ApiError, ApiResult};
use crate::limits::messages::{self, Cooldown};
use crate::model::{PendingCode, TotpRecord, UserRecord};
use twostep_proto::{
    Channel, ErrorCode, RESEND_AFTER_SECS, SENT_CODE_DIGITS, SENT_CODE_TTL_SECS, TRIES_PER_CODE,
};
use zeroize::Zeroizing;

/// Strips the spaces and dashes people type into codes.
pub fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Checks that a code is `digits` decimal digits.
pub fn require_digits(code: &str, digits: usize) -> ApiResult<()> {
    if code.len() == digits && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(ApiError::field(format!("the code must be {digits} digits")))
    }
}

/// A fresh code: the plain code (to send) and its stored form.
pub fn new_pending(app: &App, purpose: &str, now: u64) -> (Zeroizing<String>, PendingCode) {
    let code = Zeroizing::new(random_digits(u32::from(SENT_CODE_DIGITS)));
    let nonce = hex(&random_bytes(8));
    let mac = app.keys.code_mac(&format!("{purpose}:{nonce}"), &code);
    (
        code,
        PendingCode {
            mac,
            nonce,
            sent_at: now,
            expires_at: now + SENT_CODE_TTL_SECS,
            tries_left: TRIES_PER_CODE,
        },
    )
}

/// Whether `code` is the pending code.
pub fn pending_matches(app: &App, purpose: &str, pending: &PendingCode, code: &str) -> bool {
    app.keys.code_matches(&format!("{purpose}:{}", pending.nonce), code, &pending.mac)
}

/// Seconds until a resend is allowed, if any.
pub fn resend_wait(pending: Option<&PendingCode>, now: u64) -> Option<u64> {
    pending.and_then(|p| (p.sent_at + RESEND_AFTER_SECS).checked_sub(now).filter(|w| *w > 0))
}

/// Delivers a code by SMS or email.
pub async fn deliver(
    app: &App,
    channel: Channel,
    to: &str,
    code: &str,
    why: &str,
) -> ApiResult<()> {
    let text = format!(
        "Your {} verification code is {code}. It expires in {} minutes. {why}",
        app.config.issuer,
        SENT_CODE_TTL_SECS / 60
    );
    let msg = Message {
        channel,
        to: to.to_owned(),
        subject: format!("{} verification code", app.config.issuer),
        body: text,
        code: code.to_owned(),
    };
    match app.delivery.send(&msg).await {
        Ok(()) => {
            crate::metrics::inc(&app.metrics.codes_sent_total);
            Ok(())
        }
        Err(e) => {
            crate::metrics::inc(&app.metrics.delivery_failures_total);
            tracing::warn!(channel = channel.as_str(), error = %e, "code delivery failed");
            Err(ApiError::new(
                ErrorCode::DeliveryFailed,
                "the code could not be sent; try again or use another channel",
            ))
        }
    }
}

/// Sends a code within the send limits: the destination's cooldown (when asked) and the
/// daily caps are reserved first and handed back if the delivery fails.
#[allow(clippy::too_many_arguments)]
pub async fn send_limited(
    app: &App,
    user: &UserRecord,
    channel: Channel,
    to: &str,
    code: &str,
    why: &str,
    cooldown: Cooldown,
    ctx: &Ctx,
    o: &Origin,
) -> ApiResult<()> {
    let org = app.org(&user.org).await?;
    let now = (o.now, o.now_ms);
    let slot =
        messages::reserve(app, &org, &user.username, channel, to, cooldown, ctx, now).await?;
    match deliver(app, channel, to, code, why).await {
        Ok(()) => Ok(()),
        Err(e) => {
            messages::release(app, slot).await?;
            Err(e)
        }
    }
}

/// The TOTP secret of a user, unsealed.
pub fn totp_secret(
    app: &App,
    user: &UserRecord,
    rec: &TotpRecord,
) -> ApiResult<Zeroizing<Vec<u8>>> {
    let sealed =
        data_encoding::HEXLOWER.decode(rec.sealed_secret.as_bytes()).map_err(ApiError::internal)?;
    app.keys
        .open(&format!("totp:{}", user.id), &sealed)
        .ok_or_else(|| ApiError::internal("TOTP secret does not open"))
}

/// Seals a TOTP secret for storage.
pub fn seal_totp(app: &App, user_id: &str, secret: &[u8]) -> String {
    hex(&app.keys.seal(&format!("totp:{user_id}"), secret))
}

const RECOVERY_ALPHABET: &[u8] = b"0123456789abcdefghjkmnpqrstvwxyz";

/// Ten new recovery codes (`xxxxx-xxxxx`, 50 bits each) and their MACs.
pub fn new_recovery_codes(app: &App, user_id: &str) -> (Vec<String>, Vec<String>) {
    let mut codes = Vec::new();
    let mut macs = Vec::new();
    for _ in 0..twostep_proto::RECOVERY_CODE_COUNT {
        let raw: String = random_bytes(10)
            .iter()
            .map(|b| RECOVERY_ALPHABET[(*b & 31) as usize] as char)
            .collect();
        macs.push(app.keys.code_mac(&format!("recovery:{user_id}"), &raw));
        codes.push(format!("{}-{}", &raw[..5], &raw[5..]));
    }
    (codes, macs)
}

/// The index of the recovery code that matches, if any.
pub fn recovery_index(app: &App, user: &UserRecord, code: &str) -> Option<usize> {
    let n = normalize(code);
    if n.len() != 10 || !n.bytes().all(|b| RECOVERY_ALPHABET.contains(&b)) {
        return None;
    }
    let mac = app.keys.code_mac(&format!("recovery:{}", user.id), &n);
    user.two_step
        .recovery
        .iter()
        .position(|m| crate::crypto::constant_time_eq(m.as_bytes(), mac.as_bytes()))
}
