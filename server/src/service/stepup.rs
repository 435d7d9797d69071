//! Step-up: a fresh second-step code inside a session, for sensitive actions (password
//! change) and for clients that want to re-check the user.
//!
//! The code is an authenticator code (replay-protected by the user's last accepted step) or
//! a step-up code sent to this session by SMS or email (`POST /v1/me/two-step/step-up`,
//! same cooldown and daily caps as every other code). Attempts count toward the account
//! throttle and the per-address budget like every other code check ([`super::attempts`]).

use super::attempts;
use super::codes;
use super::selfservice::modify as modify_user;
use super::sessions::Authed;
use super::signin::{Origin, accept_totp_step};
use crate::app::App;
use crate::audit::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::limits::messages::Cooldown;
use crate::metrics::inc;
use crate::model::{SessionRecord, StepUpCode};
use crate::store::Tree;
use crate::store::repo::Change;
use twostep_proto::*;

fn ctx(a: &Authed, o: &Origin) -> Ctx {
    Ctx {
        user: Some(a.user.username.clone()),
        org: Some(a.user.org.clone()),
        client: Some(a.session.client),
        address: Some(o.addr.to_string()),
        operator: None,
    }
}

fn purpose(a: &Authed) -> String {
    format!("step-up:{}", a.key)
}

/// `POST /v1/me/two-step/step-up`: sends a step-up code to the user's SMS or email.
pub async fn send(
    app: &App,
    a: &Authed,
    req: &StepUpRequest,
    o: Origin,
) -> ApiResult<PendingDelivery> {
    let channel = req.channel;
    let dest = a
        .user
        .two_step
        .sent(channel)
        .filter(|s| s.confirmed)
        .map(|s| s.destination.clone())
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::ChannelNotConfigured,
                format!("{} is not configured for this account", channel.as_str()),
            )
        })?;
    // The session's previous step-up code decides the cooldown; the new code is written
    // (compare-and-swap) before it is sent, so parallel requests send one.
    let (code, pending) = codes::new_pending(app, &purpose(a), o.now);
    let step_up = StepUpCode { channel, code: pending.clone() };
    let reserved = app
        .repo
        .update::<SessionRecord, ApiError, _>(Tree::Sessions, a.key.as_bytes(), |cur| {
            let Some(mut s) = cur else {
                return Change::Abort(ApiError::new(ErrorCode::Unauthorized, "the session ended"));
            };
            if let Some(wait) = codes::resend_wait(s.step_up.as_ref().map(|p| &p.code), o.now) {
                return Change::Abort(
                    ApiError::new(
                        ErrorCode::ResendTooSoon,
                        format!("a new code can be sent in {wait} s"),
                    )
                    .with_retry_after(wait),
                );
            }
            s.step_up = Some(step_up.clone());
            Change::Put(s)
        })
        .await?;
    reserved?;
    let c = ctx(a, &o);
    let why = "Enter it to confirm a change to your account.";
    let sent =
        codes::send_limited(app, &a.user, channel, &dest, &code, why, Cooldown::Skip, &c, &o).await;
    if let Err(e) = sent {
        spend_sent(app, a, &pending.nonce).await?;
        return Err(e);
    }
    let masked = crate::mask::destination(channel, &dest);
    let detail = format!("step-up {} to {masked}", channel.as_str());
    app.audit(o.now_ms, AuditKind::CodeSent, &c, Some(detail)).await?;
    app.commit().await?;
    Ok(PendingDelivery {
        channel,
        masked_destination: masked,
        resend_after: pending.sent_at + RESEND_AFTER_SECS,
        expires_at: pending.expires_at,
    })
}

/// Checks a step-up code; the channel that verified it.
pub async fn check_code(app: &App, a: &Authed, code: &str, o: &Origin) -> ApiResult<Channel> {
    check(app, a, code, o, None).await.map(|(channel, _)| channel)
}

/// [`check_code`]; an accepted authenticator code also appends `on_totp` to the audit log
/// in the same write as its replay state (then `true`).
async fn check(
    app: &App,
    a: &Authed,
    code: &str,
    o: &Origin,
    on_totp: Option<&AuditEvent>,
) -> ApiResult<(Channel, bool)> {
    let code = codes::normalize(code);
    codes::require_digits(&code, usize::from(SENT_CODE_DIGITS))?;
    let sent = a.session.step_up.as_ref().filter(|s| {
        s.code.expires_at > o.now
            && s.code.tries_left > 0
            && a.user.two_step.sent(s.channel).is_some_and(|c| c.confirmed)
    });
    let totp = a.user.two_step.totp.as_ref().filter(|t| t.confirmed);
    if sent.is_none() && totp.is_none() {
        return Err(ApiError::new(
            ErrorCode::ChannelNotConfigured,
            "no authenticator app is configured and no step-up code was sent; request one first",
        ));
    }
    let c = ctx(a, o);
    inc(&app.metrics.code_verifications_total);
    // The verdict first (pure), then the atomic step that may reveal it.
    let by_sent = sent.filter(|s| codes::pending_matches(app, &purpose(a), &s.code, &code));
    let step = match (by_sent, totp) {
        (None, Some(t)) => {
            crate::totp::matching_step(&codes::totp_secret(app, &a.user, t)?, &code, o.now)
        }
        _ => None,
    };
    if by_sent.is_some() || step.is_some() {
        attempts::gates_open(app, &a.user.username, o).await?;
        let won = match (by_sent, step) {
            (Some(s), _) => spend_sent(app, a, &s.code.nonce).await?.then_some((s.channel, false)),
            (None, Some(step)) => accept_totp_step(app, &a.user, step, on_totp)
                .await?
                .then_some((Channel::Totp, on_totp.is_some())),
            (None, None) => None,
        };
        if let Some(won) = won {
            return Ok(won);
        }
        // The code was used meanwhile by a concurrent request: a failure after all.
        attempts::count_anyway(app, &a.user.username, &c, o).await?;
    } else {
        let attempt = attempts::reserve(app, &a.user.username, o).await?;
        attempt.failed(app, &c, o.now_ms).await?;
        if let Some(s) = sent {
            let nonce = s.code.nonce.clone();
            app.repo
                .update::<SessionRecord, (), _>(Tree::Sessions, a.key.as_bytes(), |cur| {
                    let Some(mut rec) = cur else { return Change::Abort(()) };
                    match rec.step_up.as_mut() {
                        Some(p) if p.code.nonce == nonce && p.code.tries_left > 0 => {
                            p.code.tries_left -= 1;
                            Change::Put(rec)
                        }
                        _ => Change::Abort(()),
                    }
                })
                .await?
                .ok();
        }
    }
    inc(&app.metrics.code_failures_total);
    app.audit(o.now_ms, AuditKind::CodeRejected, &c, Some("step-up".into())).await?;
    app.commit().await?;
    let failures = crate::throttle::account_state(&app.repo, &a.user.username).await?.failures;
    let free = crate::throttle::FREE_FAILURES;
    Err(ApiError::wrong_code(free.saturating_sub(failures.min(free))))
}

/// Removes the session's step-up code if it is still `nonce`: single use.
async fn spend_sent(app: &App, a: &Authed, nonce: &str) -> ApiResult<bool> {
    let r = app
        .repo
        .update::<SessionRecord, (), _>(Tree::Sessions, a.key.as_bytes(), |cur| {
            let Some(mut rec) = cur else { return Change::Abort(()) };
            match &rec.step_up {
                Some(p) if p.code.nonce == nonce => {
                    rec.step_up = None;
                    Change::Put(rec)
                }
                _ => Change::Abort(()),
            }
        })
        .await?;
    Ok(r.is_ok())
}

/// `POST /v1/me/two-step/verify`.
pub async fn verify(
    app: &App,
    a: &Authed,
    sub: CodeSubmission,
    o: Origin,
) -> ApiResult<VerifyResult> {
    let c = ctx(a, &o);
    // An authenticator code: its replay state and this event in one write.
    let totp_event =
        crate::audit::event(o.now_ms, AuditKind::StepUpVerified, &c, Some("totp".into()));
    let (channel, logged) = check(app, a, &sub.code, &o, Some(&totp_event)).await?;
    if !logged {
        app.audit(o.now_ms, AuditKind::StepUpVerified, &c, Some(channel.as_str().into())).await?;
    }
    app.commit().await?;
    Ok(VerifyResult { verified: true, channel })
}

/// `POST /v1/me/password`: changes the password and revokes every session and device. The
/// current password counts in the account throttle (reserved before the hash) and a wrong
/// one is audited; a user with two-step also gives a fresh code.
pub async fn change_password(
    app: &App,
    a: &Authed,
    req: PasswordChange,
    o: Origin,
) -> ApiResult<()> {
    if req.new_password.len() < MIN_PASSWORD_LEN || req.new_password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::field(format!(
            "the new password must be {MIN_PASSWORD_LEN}..={MAX_PASSWORD_LEN} bytes"
        )));
    }
    if req.current_password.is_empty() || req.current_password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::credentials());
    }
    if req.code.as_ref().is_some_and(|c| c.len() > MAX_CODE_INPUT_LEN) {
        return Err(ApiError::field("the code is too long"));
    }
    if a.user.two_step.enabled() && req.code.is_none() {
        return Err(ApiError::new(
            ErrorCode::StepUpRequired,
            "changing the password needs a fresh code: send `code` (authenticator, or a step-up code from POST /v1/me/two-step/step-up)",
        ));
    }
    let c = ctx(a, &o);
    let attempt = attempts::reserve(app, &a.user.username, &o).await?;
    inc(&app.metrics.password_hashes_total);
    let ok = app.hasher.verify(&req.current_password, Some(&a.user.password_hash)).await;
    match ok {
        Ok(true) => attempt.refund(app).await?,
        Ok(false) => {
            attempt.failed(app, &c, o.now_ms).await?;
            app.audit(o.now_ms, AuditKind::PasswordChangeFailed, &c, Some("wrong password".into()))
                .await?;
            app.commit().await?;
            return Err(ApiError::credentials());
        }
        Err(busy) => {
            attempt.refund(app).await?;
            return Err(busy.into());
        }
    }
    if let (true, Some(code)) = (a.user.two_step.enabled(), &req.code) {
        check_code(app, a, code, &o).await?;
    }
    let hash = app.hasher.hash(&req.new_password).await?;
    modify_user(app, &a.user.username, |u| {
        u.password_hash = hash.clone();
        u.epoch += 1;
        Ok(())
    })
    .await?;
    app.audit(
        o.now_ms,
        AuditKind::PasswordChanged,
        &c,
        Some("sessions and devices revoked".into()),
    )
    .await?;
    app.commit().await
}
