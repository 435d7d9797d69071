//! Self-service: a user views and changes their own two-step settings, devices and password.

use super::codes;
use super::sessions::{self, Authed};
use super::signin::Origin;
use super::{devices, views};
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::random_bytes;
use crate::error::{ApiError, ApiResult};
use crate::limits::messages::Cooldown;
use crate::model::{SentChannelRecord, TotpRecord, TwoStepRecord, UserRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use twostep_proto::*;
use zeroize::Zeroizing;

fn ctx(a: &Authed, o: &Origin) -> Ctx {
    Ctx {
        user: Some(a.user.username.clone()),
        org: Some(a.user.org.clone()),
        client: Some(a.session.client),
        address: Some(o.addr.to_string()),
        operator: None,
    }
}

/// A setup-only session may only configure the *first* channel: once the user has
/// two-step (configured from another session), it can do nothing more.
fn setup_still_open(a: &Authed, u: &UserRecord) -> ApiResult<()> {
    if a.session.scope == SessionScope::SetupOnly && u.two_step.enabled() {
        return Err(ApiError::new(
            ErrorCode::SetupComplete,
            "two-step authentication is already configured; sign in again",
        ));
    }
    Ok(())
}

/// Applies `f` to the user's record atomically.
pub(crate) async fn modify<F>(app: &App, username: &str, mut f: F) -> ApiResult<UserRecord>
where
    F: FnMut(&mut UserRecord) -> ApiResult<()>,
{
    let r = app
        .repo
        .update::<UserRecord, ApiError, _>(Tree::Users, username.as_bytes(), |cur| {
            let Some(mut u) = cur else { return Change::Abort(ApiError::not_found("user")) };
            match f(&mut u) {
                Ok(()) => Change::Put(u),
                Err(e) => Change::Abort(e),
            }
        })
        .await?;
    r?.ok_or_else(|| ApiError::not_found("user"))
}

/// `GET /v1/me`.
pub async fn me(app: &App, a: &Authed) -> MeResponse {
    MeResponse { user: sessions::summary(&a.user), two_step: views::settings(app, &a.user).await }
}

/// `POST /v1/me/two-step/totp`: a new pending secret.
pub async fn enroll_totp(app: &App, a: &Authed, o: Origin) -> ApiResult<TotpEnrollment> {
    let secret = Zeroizing::new(random_bytes(20));
    let sealed = codes::seal_totp(app, &a.user.id, &secret);
    modify(app, &a.user.username, |u| {
        setup_still_open(a, u)?;
        if u.two_step.totp.as_ref().is_some_and(|t| t.confirmed) {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "an authenticator app is already configured; remove it first",
            ));
        }
        u.two_step.totp = Some(TotpRecord {
            sealed_secret: sealed.clone(),
            confirmed: false,
            last_step: None,
            created_at: o.now,
        });
        Ok(())
    })
    .await?;
    app.audit(o.now_ms, AuditKind::TwoStepEnrollmentStarted, &ctx(a, &o), Some("totp".into()))
        .await?;
    app.commit().await?;
    totp_enrollment(app, &a.user.username, &secret)
}

/// `GET /v1/me/two-step/totp`: the pending (not yet confirmed) authenticator enrollment
/// again, e.g. after a wrong confirmation code; `None` when none is pending.
pub fn pending_totp(app: &App, a: &Authed) -> ApiResult<Option<TotpEnrollment>> {
    match a.user.two_step.totp.as_ref().filter(|t| !t.confirmed) {
        Some(t) => {
            let secret = codes::totp_secret(app, &a.user, t)?;
            totp_enrollment(app, &a.user.username, &secret).map(Some)
        }
        None => Ok(None),
    }
}

fn totp_enrollment(app: &App, username: &str, secret: &[u8]) -> ApiResult<TotpEnrollment> {
    let b32 = data_encoding::BASE32_NOPAD.encode(secret);
    let uri = crate::totp::otpauth_uri(&app.config.issuer, username, secret);
    let qr_svg =
        crate::totp::qr_svg(&uri).ok_or_else(|| ApiError::internal("QR encoding failed"))?;
    Ok(TotpEnrollment {
        secret: b32,
        otpauth_uri: uri,
        qr_svg,
        algorithm: "SHA1".into(),
        digits: crate::totp::DIGITS as u8,
        period: crate::totp::PERIOD,
    })
}

/// The SMS or email confirmation waiting for its code, if any.
pub fn pending_sent(a: &Authed, channel: Channel) -> Option<PendingDelivery> {
    let s = a.user.two_step.sent(channel)?;
    let p = s.pending.as_ref()?;
    let dest = s.pending_destination.as_ref().unwrap_or(&s.destination);
    Some(PendingDelivery {
        channel,
        masked_destination: crate::mask::destination(channel, dest),
        resend_after: p.sent_at + RESEND_AFTER_SECS,
        expires_at: p.expires_at,
    })
}

/// Marks a channel confirmed; on the first one, records origin, makes recovery codes and
/// names the confirming session (`session_key`), which is upgraded by a second write.
fn confirm_channel(
    app: &App,
    u: &mut UserRecord,
    channel: Channel,
    required: bool,
    session_key: &str,
) -> Option<Vec<String>> {
    let first = !u.two_step.enabled();
    match channel {
        Channel::Totp => {
            if let Some(t) = u.two_step.totp.as_mut() {
                t.confirmed = true;
            }
        }
        c => {
            if let Some(s) = u.two_step.sent_mut(c) {
                if let Some(d) = s.pending_destination.take() {
                    s.destination = d;
                }
                s.confirmed = true;
                s.pending = None;
            }
        }
    }
    if first {
        // Every session opened with the password alone ends here (see `sessions`), and so do
        // the enrollments such sessions may have started.
        u.second_step_epoch += 1;
        u.second_step_confirmed_by = Some(session_key.to_owned());
        let ts = &mut u.two_step;
        if ts.totp.as_ref().is_some_and(|t| !t.confirmed) {
            ts.totp = None;
        }
        for slot in [&mut ts.sms, &mut ts.email] {
            if slot.as_ref().is_some_and(|s| !s.confirmed) {
                *slot = None;
            }
        }
        u.two_step.origin =
            Some(if required { TwoStepOrigin::Forced } else { TwoStepOrigin::Chosen });
        u.two_step.preferred = Some(channel);
        let (codes, macs) = codes::new_recovery_codes(app, &u.id);
        u.two_step.recovery = macs;
        Some(codes)
    } else {
        None
    }
}

async fn finish_enrollment(
    app: &App,
    a: &Authed,
    o: &Origin,
    u: &UserRecord,
    channel: Channel,
    recovery: Option<Vec<String>>,
) -> ApiResult<EnrollmentResult> {
    // Recovery codes come with the user's first channel, which ended every password-only
    // session but this one. Upgrading it is a second write: should a crash come first, the
    // user record names this session, and its next request finishes the upgrade.
    let upgraded = if recovery.is_some() {
        let upgraded = sessions::confirm_second_step(app, &a.key, u.second_step_epoch).await?;
        let detail = "sessions opened with the password alone ended".to_owned();
        app.audit(o.now_ms, AuditKind::SessionsEnded, &ctx(a, o), Some(detail)).await?;
        upgraded
    } else {
        false
    };
    app.audit(
        o.now_ms,
        AuditKind::TwoStepEnrolled,
        &ctx(a, o),
        Some(format!("{} ({:?})", channel.as_str(), u.two_step.origin)),
    )
    .await?;
    app.commit().await?;
    Ok(EnrollmentResult {
        two_step: views::settings(app, u).await,
        recovery_codes: recovery,
        session_upgraded: upgraded,
    })
}

/// `POST /v1/me/two-step/totp/confirm`.
pub async fn confirm_totp(
    app: &App,
    a: &Authed,
    sub: CodeSubmission,
    o: Origin,
) -> ApiResult<EnrollmentResult> {
    let (u, recovery) = confirm_totp_write(app, a, sub, &o).await?;
    finish_enrollment(app, a, &o, &u, Channel::Totp, recovery).await
}

/// The first write of a TOTP confirmation: checks the code and confirms the channel in the
/// user record. Returns the record and, for the first channel, the recovery codes.
async fn confirm_totp_write(
    app: &App,
    a: &Authed,
    sub: CodeSubmission,
    o: &Origin,
) -> ApiResult<(UserRecord, Option<Vec<String>>)> {
    let code = codes::normalize(&sub.code);
    codes::require_digits(&code, crate::totp::DIGITS as usize)?;
    let t = a.user.two_step.totp.as_ref().filter(|t| !t.confirmed).ok_or_else(|| {
        ApiError::new(ErrorCode::Conflict, "no authenticator enrollment is pending")
    })?;
    let secret = codes::totp_secret(app, &a.user, t)?;
    let step = crate::totp::matching_step(&secret, &code, o.now).ok_or_else(|| {
        ApiError::new(
            ErrorCode::InvalidCode,
            "the code is incorrect; check the authenticator app and the device clock",
        )
    })?;
    let required = app.org(&a.user.org).await?.policy.require_two_step;
    let mut recovery = None;
    let sealed = t.sealed_secret.clone();
    let u = modify(app, &a.user.username, |u| {
        setup_still_open(a, u)?;
        let t = u
            .two_step
            .totp
            .as_mut()
            .filter(|t| !t.confirmed && t.sealed_secret == sealed)
            .ok_or_else(|| {
                ApiError::new(ErrorCode::Conflict, "the enrollment changed; start again")
            })?;
        t.last_step = Some(step);
        recovery = confirm_channel(app, u, Channel::Totp, required, &a.key);
        Ok(())
    })
    .await?;
    Ok((u, recovery))
}

/// `POST /v1/me/two-step/sms|email`: sends a confirmation code to the new destination.
pub async fn enroll_sent(
    app: &App,
    a: &Authed,
    channel: Channel,
    destination: &str,
    o: Origin,
) -> ApiResult<PendingDelivery> {
    let dest = destination.trim().to_owned();
    let valid = match channel {
        Channel::Sms => valid_phone(&dest),
        Channel::Email => valid_email(&dest),
        Channel::Totp => false,
    };
    if !valid {
        return Err(ApiError::field(match channel {
            Channel::Sms => "phone must be in E.164 form, e.g. +4915112345678",
            _ => "email address is not valid",
        }));
    }
    setup_still_open(a, &a.user)?;
    if let Some(wait) =
        a.user.two_step.sent(channel).and_then(|s| codes::resend_wait(s.pending.as_ref(), o.now))
    {
        return Err(ApiError::new(
            ErrorCode::ResendTooSoon,
            format!("a new code can be sent in {wait} s"),
        )
        .with_retry_after(wait));
    }
    let purpose = format!("enroll:{}:{}", a.user.id, channel.as_str());
    let (code, pending) = codes::new_pending(app, &purpose, o.now);
    let c = ctx(a, &o);
    let why = "Enter it to confirm this destination.";
    let delivered =
        codes::send_limited(app, &a.user, channel, &dest, &code, why, Cooldown::Apply, &c, &o)
            .await;
    if let Err(e) = delivered {
        // The delivery error is what the client needs to see; the audit is best effort.
        let _ = app
            .audit(o.now_ms, AuditKind::CodeDeliveryFailed, &c, Some(channel.as_str().into()))
            .await;
        return Err(e);
    }
    let p = pending.clone();
    let d = dest.clone();
    modify(app, &a.user.username, |u| {
        setup_still_open(a, u)?;
        let slot = match channel {
            Channel::Sms => &mut u.two_step.sms,
            _ => &mut u.two_step.email,
        };
        let rec = slot.get_or_insert_with(|| SentChannelRecord {
            destination: d.clone(),
            confirmed: false,
            pending_destination: None,
            pending: None,
        });
        rec.pending_destination = Some(d.clone());
        rec.pending = Some(p.clone());
        Ok(())
    })
    .await?;
    app.audit(
        o.now_ms,
        AuditKind::TwoStepEnrollmentStarted,
        &c,
        Some(format!("{} to {}", channel.as_str(), crate::mask::destination(channel, &dest))),
    )
    .await?;
    app.commit().await?;
    Ok(PendingDelivery {
        channel,
        masked_destination: crate::mask::destination(channel, &dest),
        resend_after: pending.sent_at + RESEND_AFTER_SECS,
        expires_at: pending.expires_at,
    })
}

/// `POST /v1/me/two-step/sms|email/confirm`.
pub async fn confirm_sent(
    app: &App,
    a: &Authed,
    channel: Channel,
    sub: CodeSubmission,
    o: Origin,
) -> ApiResult<EnrollmentResult> {
    let code = codes::normalize(&sub.code);
    codes::require_digits(&code, usize::from(SENT_CODE_DIGITS))?;
    let purpose = format!("enroll:{}:{}", a.user.id, channel.as_str());
    let required = app.org(&a.user.org).await?.policy.require_two_step;
    let (mut recovery, mut accepted) = (None, false);
    let r = app
        .repo
        .update::<UserRecord, ApiError, _>(Tree::Users, a.user.username.as_bytes(), |cur| {
            (recovery, accepted) = (None, false);
            let Some(mut u) = cur else { return Change::Abort(ApiError::not_found("user")) };
            if let Err(e) = setup_still_open(a, &u) {
                return Change::Abort(e);
            }
            let Some(s) = u.two_step.sent_mut(channel) else {
                return Change::Abort(ApiError::new(
                    ErrorCode::Conflict,
                    "no confirmation is pending",
                ));
            };
            let Some(p) = s.pending.as_mut() else {
                return Change::Abort(ApiError::new(
                    ErrorCode::Conflict,
                    "no confirmation is pending",
                ));
            };
            if p.expires_at <= o.now || p.tries_left == 0 {
                return Change::Abort(ApiError::new(
                    ErrorCode::CodeExpired,
                    "the code has expired or was tried too often; request a new one",
                ));
            }
            if codes::pending_matches(app, &purpose, p, &code) {
                recovery = confirm_channel(app, &mut u, channel, required, &a.key);
                accepted = true;
            } else {
                p.tries_left -= 1;
            }
            Change::Put(u)
        })
        .await??;
    let u = r.ok_or_else(|| ApiError::not_found("user"))?;
    if accepted {
        return finish_enrollment(app, a, &o, &u, channel, recovery).await;
    }
    app.commit().await?;
    let left =
        u.two_step.sent(channel).and_then(|s| s.pending.as_ref()).map_or(0, |p| p.tries_left);
    Err(ApiError::wrong_code(left))
}

/// Replaces the recovery codes of `u` and returns them (used right after confirmation).
async fn regenerate_for(app: &App, u: &UserRecord) -> ApiResult<Vec<String>> {
    let (codes, macs) = codes::new_recovery_codes(app, &u.id);
    modify(app, &u.username, |x| {
        x.two_step.recovery = macs.clone();
        Ok(())
    })
    .await?;
    Ok(codes)
}

/// `DELETE /v1/me/two-step/{channel}`.
pub async fn remove_channel(
    app: &App,
    a: &Authed,
    channel: Channel,
    o: Origin,
) -> ApiResult<TwoStepSettings> {
    let required = app.org(&a.user.org).await?.policy.require_two_step;
    let u = modify(app, &a.user.username, |u| {
        let mut next = u.two_step.clone();
        let existed = match channel {
            Channel::Totp => next.totp.take().is_some(),
            Channel::Sms => next.sms.take().is_some(),
            Channel::Email => next.email.take().is_some(),
        };
        if !existed {
            return Err(ApiError::new(
                ErrorCode::ChannelNotConfigured,
                format!("{} is not configured", channel.as_str()),
            ));
        }
        if required && u.two_step.enabled() && !next.enabled() {
            return Err(ApiError::new(
                ErrorCode::PolicyRequiresTwoStep,
                "your organization requires two-step authentication; keep at least one channel",
            ));
        }
        if !next.enabled() {
            next = TwoStepRecord {
                totp: next.totp,
                sms: next.sms,
                email: next.email,
                ..TwoStepRecord::default()
            };
        }
        u.two_step = next;
        Ok(())
    })
    .await?;
    app.audit(
        o.now_ms,
        AuditKind::TwoStepChannelRemoved,
        &ctx(a, &o),
        Some(channel.as_str().into()),
    )
    .await?;
    app.commit().await?;
    Ok(views::settings(app, &u).await)
}

/// `DELETE /v1/me/two-step`: turns two-step off (refused while the org requires it).
pub async fn disable(app: &App, a: &Authed, o: Origin) -> ApiResult<TwoStepSettings> {
    if app.org(&a.user.org).await?.policy.require_two_step {
        return Err(ApiError::new(
            ErrorCode::PolicyRequiresTwoStep,
            "your organization requires two-step authentication",
        ));
    }
    let u = modify(app, &a.user.username, |u| {
        u.two_step = TwoStepRecord::default();
        Ok(())
    })
    .await?;
    app.audit(o.now_ms, AuditKind::TwoStepDisabled, &ctx(a, &o), None).await?;
    app.commit().await?;
    Ok(views::settings(app, &u).await)
}

/// `PUT /v1/me/two-step/preferred`.
pub async fn set_preferred(
    app: &App,
    a: &Authed,
    channel: Channel,
    o: Origin,
) -> ApiResult<TwoStepSettings> {
    let u = modify(app, &a.user.username, |u| {
        if !u.two_step.confirmed_channels().contains(&channel) {
            return Err(ApiError::new(
                ErrorCode::ChannelNotConfigured,
                format!("{} is not configured", channel.as_str()),
            ));
        }
        u.two_step.preferred = Some(channel);
        Ok(())
    })
    .await?;
    app.audit(
        o.now_ms,
        AuditKind::PreferredChannelChanged,
        &ctx(a, &o),
        Some(channel.as_str().into()),
    )
    .await?;
    app.commit().await?;
    Ok(views::settings(app, &u).await)
}

/// `POST /v1/me/two-step/recovery-codes`.
pub async fn regenerate_recovery(app: &App, a: &Authed, o: Origin) -> ApiResult<RecoveryCodes> {
    if !a.user.two_step.enabled() {
        return Err(ApiError::new(ErrorCode::Conflict, "configure two-step first"));
    }
    let codes = regenerate_for(app, &a.user).await?;
    app.audit(o.now_ms, AuditKind::RecoveryCodesRegenerated, &ctx(a, &o), None).await?;
    app.commit().await?;
    Ok(RecoveryCodes { codes })
}

/// `POST /v1/signout`.
pub async fn sign_out(app: &App, a: &Authed, o: Origin) -> ApiResult<()> {
    sessions::revoke(app, &a.key).await?;
    app.audit(o.now_ms, AuditKind::SignedOut, &ctx(a, &o), None).await?;
    app.commit().await
}

/// `GET /v1/me/devices`.
pub async fn list_devices(app: &App, a: &Authed) -> ApiResult<DeviceList> {
    Ok(DeviceList {
        devices: devices::list(app, &a.user)
            .await?
            .iter()
            .map(|d| views::device(d, &a.user))
            .collect(),
    })
}

/// `DELETE /v1/me/devices/{id}`.
pub async fn revoke_device(app: &App, a: &Authed, id: &str, o: Origin) -> ApiResult<()> {
    devices::revoke(app, &a.user, Some(id)).await?;
    app.audit(o.now_ms, AuditKind::DeviceRevoked, &ctx(a, &o), Some(id.to_owned())).await?;
    app.commit().await
}

#[cfg(test)]
#[path = "selfservice_tests.rs"]
mod tests;
