//! Sign-in: password, the prompt rule of each client kind, and the code challenge.
//!
//! | client  | user has two-step | org requires, user has none |
//! |---------|-------------------|-----------------------------|
//! | web     | code every sign-in | setup-only session          |
//! | agent   | code at registration | refused: setup required   |
//! | outlook | code at registration, every new session, after a password change | refused |
//! | mobile  | code at first access (device registration); later: signed challenge | refused |
//!
//! Without two-step and without the policy, every client gets a session directly.

use super::codes::{self, normalize};
use super::{devices, sessions, views};
use crate::app::{App, gate_error};
use crate::audit::Ctx;
use crate::crypto::random_id;
use crate::error::{ApiError, ApiResult};
use crate::metrics::inc;
use crate::model::{ChallengeRecord, UserRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use crate::throttle;
use std::net::IpAddr;
use twostep_proto::*;

/// Where and when a request happens.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub addr: IpAddr,
    pub now: u64,
    pub now_ms: u64,
}

fn ctx(user: &str, org: Option<&str>, client: ClientKind, o: &Origin) -> Ctx {
    Ctx {
        user: Some(user.to_owned()),
        org: org.map(str::to_owned),
        client: Some(client),
        address: Some(o.addr.to_string()),
        operator: None,
    }
}

/// Validates the device registration of a mobile sign-in.
fn check_device(client: ClientKind, device: Option<&DeviceRegistration>) -> ApiResult<()> {
    match (client, device) {
        (ClientKind::Mobile, None) => {
            Err(ApiError::field("a mobile sign-in registers a device: `device` is required"))
        }
        (ClientKind::Mobile, Some(d)) => {
            devices::decode_public_key(&d.public_key)?;
            let name = d.name.trim();
            if name.is_empty()
                || name.chars().count() > MAX_DEVICE_NAME_LEN
                || name.chars().any(char::is_control)
            {
                return Err(ApiError::field(format!(
                    "device name must be 1..={MAX_DEVICE_NAME_LEN} printable characters"
                )));
            }
            Ok(())
        }
        (_, Some(_)) => Err(ApiError::field("only mobile sign-ins carry a device")),
        (_, None) => Ok(()),
    }
}

/// Checks the address and account gates before any work.
async fn gates(app: &App, username: &str, o: &Origin) -> ApiResult<()> {
    if let Some(wait) = app.addresses.check(o.addr, o.now) {
        inc(&app.metrics.rate_limited_total);
        return Err(ApiError::rate_limited(wait));
    }
    if let Some(e) = gate_error(throttle::account_gate(&app.repo, username, o.now).await?) {
        inc(&app.metrics.rate_limited_total);
        return Err(e);
    }
    Ok(())
}

/// Counts a failure against the account and the address.
async fn failure(app: &App, username: &str, c: &Ctx, o: &Origin) -> ApiResult<()> {
    app.addresses.failure(o.addr, o.now);
    let t = throttle::account_failure(&app.repo, username, o.now).await?;
    if t.locked && t.failures == throttle::LOCK_AFTER {
        app.audit(o.now_ms, AuditKind::AccountLocked, c, None).await?;
    }
    Ok(())
}

/// `POST /v1/signin`.
pub async fn sign_in(app: &App, req: SignInRequest, o: Origin) -> ApiResult<SignInResponse> {
    let username = normalize_username(&req.username).ok_or_else(|| {
        ApiError::field("username must be 1..=64 characters of a-z 0-9 . _ @ + -")
    })?;
    if req.password.is_empty() || req.password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::field(format!("password must be 1..={MAX_PASSWORD_LEN} bytes")));
    }
    check_device(req.client, req.device.as_ref())?;
    gates(app, &username, &o).await?;
    inc(&app.metrics.signin_attempts_total);
    let user = app.user(&username).await?;
    inc(&app.metrics.password_hashes_total);
    let ok =
        app.hasher.verify(&req.password, user.as_ref().map(|u| u.password_hash.as_str())).await?;
    let c = ctx(&username, user.as_ref().map(|u| u.org.as_str()), req.client, &o);
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            inc(&app.metrics.signin_failures_total);
            failure(app, &username, &c, &o).await?;
            app.audit(o.now_ms, AuditKind::SignInFailed, &c, Some("invalid credentials".into()))
                .await?;
            app.commit().await?;
            return Err(ApiError::credentials());
        }
    };
    let org = app.org(&user.org).await?;
    if !user.two_step.enabled() {
        if org.policy.require_two_step {
            app.audit(o.now_ms, AuditKind::SetupRequired, &c, None).await?;
            let message = "your organization requires two-step authentication; configure it in the web portal first".to_string();
            let session = if req.client == ClientKind::Web {
                Some(
                    sessions::issue(
                        app,
                        &user,
                        ClientKind::Web,
                        SessionScope::SetupOnly,
                        None,
                        o.now,
                    )
                    .await?,
                )
            } else {
                None
            };
            app.commit().await?;
            return Ok(SignInResponse::SetupRequired(SetupRequired { session, message }));
        }
        let grant = complete(app, &user, req.client, req.device, &c, &o).await?;
        app.commit().await?;
        return Ok(SignInResponse::Session(grant));
    }
    // Every client kind prompts for a code when the user has two-step (see the table above).
    let Some(channel) = user.two_step.primary() else {
        return Err(ApiError::internal("enabled two-step without a channel"));
    };
    let mut ch = ChallengeRecord {
        id: random_id(),
        username: username.clone(),
        user_id: user.id.clone(),
        epoch: user.epoch,
        client: req.client,
        device: req.device,
        channel,
        code: None,
        tries_left: TRIES_PER_CODE,
        sends: 0,
        created_at: o.now,
        expires_at: o.now + CHALLENGE_TTL_SECS,
    };
    app.audit(o.now_ms, AuditKind::CodeChallengeIssued, &c, Some(channel.as_str().into())).await?;
    send_if_needed(app, &user, &mut ch, &c, &o).await?;
    app.repo.put(Tree::Challenges, ch.id.as_bytes(), &ch).await?;
    app.commit().await?;
    Ok(SignInResponse::CodeRequired(challenge_view(app, &user, &ch)))
}

/// For SMS/email challenges, creates and sends a new code (replacing the previous one).
async fn send_if_needed(
    app: &App,
    user: &UserRecord,
    ch: &mut ChallengeRecord,
    c: &Ctx,
    o: &Origin,
) -> ApiResult<()> {
    let Some(dest) = user.two_step.sent(ch.channel).map(|s| s.destination.clone()) else {
        ch.code = None;
        return Ok(());
    };
    let (code, pending) = codes::new_pending(app, &format!("challenge:{}", ch.id), o.now);
    let delivered = codes::deliver(
        app,
        ch.channel,
        &dest,
        &code,
        "If you did not try to sign in, change your password.",
    )
    .await;
    if let Err(e) = delivered {
        // The delivery error is what the client needs to see; the audit is best effort.
        let _ = app
            .audit(o.now_ms, AuditKind::CodeDeliveryFailed, c, Some(ch.channel.as_str().into()))
            .await;
        return Err(e);
    }
    app.audit(
        o.now_ms,
        AuditKind::CodeSent,
        c,
        Some(format!("{} to {}", ch.channel.as_str(), crate::mask::destination(ch.channel, &dest))),
    )
    .await?;
    ch.code = Some(pending);
    ch.sends += 1;
    Ok(())
}

fn challenge_view(_app: &App, user: &UserRecord, ch: &ChallengeRecord) -> CodeChallenge {
    let others = user
        .two_step
        .confirmed_channels()
        .into_iter()
        .filter(|c| *c != ch.channel)
        .map(|c| views::choice(user, c))
        .collect();
    let (resend_after, expires_at, attempts_left) = match &ch.code {
        Some(p) => {
            (Some(p.sent_at + RESEND_AFTER_SECS), p.expires_at.min(ch.expires_at), p.tries_left)
        }
        None => (None, ch.expires_at, ch.tries_left),
    };
    CodeChallenge {
        challenge_id: ch.id.clone(),
        channel: ch.channel,
        masked_destination: views::masked(user, ch.channel),
        code_length: SENT_CODE_DIGITS,
        resend_after,
        expires_at,
        attempts_left,
        other_channels: others,
        recovery_available: !user.two_step.recovery.is_empty(),
    }
}

/// Issues the session (and registers the device for mobile) once every step passed.
async fn complete(
    app: &App,
    user: &UserRecord,
    client: ClientKind,
    device: Option<DeviceRegistration>,
    c: &Ctx,
    o: &Origin,
) -> ApiResult<SessionGrant> {
    let org = app.org(&user.org).await?;
    let grant = match (client, device) {
        (ClientKind::Mobile, Some(d)) => {
            let rec = devices::register(app, user, &d, o.now).await?;
            app.audit(o.now_ms, AuditKind::DeviceRegistered, c, Some(rec.id.clone())).await?;
            Some(DeviceGrant { device_id: rec.id, passcode: app.passcode_policy(&org) })
        }
        _ => None,
    };
    throttle::account_reset(&app.repo, &user.username).await?;
    let s = sessions::issue(app, user, client, SessionScope::Full, grant, o.now).await?;
    app.audit(o.now_ms, AuditKind::SignInSucceeded, c, None).await?;
    Ok(s)
}

/// Loads an open challenge and its user.
async fn open_challenge(app: &App, id: &str, now: u64) -> ApiResult<(ChallengeRecord, UserRecord)> {
    let expired = || {
        ApiError::new(ErrorCode::ChallengeExpired, "this sign-in is no longer open; sign in again")
    };
    if id.len() > 64 {
        return Err(expired());
    }
    let ch: ChallengeRecord =
        app.repo.get(Tree::Challenges, id.as_bytes()).await?.ok_or_else(expired)?;
    if ch.expires_at <= now {
        app.repo.remove(Tree::Challenges, id.as_bytes()).await?;
        return Err(expired());
    }
    let user = app
        .user(&ch.username)
        .await?
        .filter(|u| u.id == ch.user_id && u.epoch == ch.epoch)
        .ok_or_else(expired)?;
    Ok((ch, user))
}

enum Verdict {
    Accept,
    Wrong(u32),
    Expired,
    Gone,
}

/// `POST /v1/signin/{id}/code`.
pub async fn submit_code(
    app: &App,
    id: &str,
    sub: CodeSubmission,
    o: Origin,
) -> ApiResult<SignInResponse> {
    let code = normalize(&sub.code);
    let (ch, user) = open_challenge(app, id, o.now).await?;
    let digits = if ch.channel == Channel::Totp {
        crate::totp::DIGITS as usize
    } else {
        usize::from(SENT_CODE_DIGITS)
    };
    codes::require_digits(&code, digits)?;
    gates(app, &user.username, &o).await?;
    let c = ctx(&user.username, Some(&user.org), ch.client, &o);
    inc(&app.metrics.code_verifications_total);

    // TOTP: the user's last accepted step is the atomic point — one code, one success.
    let totp_ok = if ch.channel == Channel::Totp {
        let Some(t) = user.two_step.totp.as_ref().filter(|t| t.confirmed) else {
            return Err(ApiError::new(
                ErrorCode::ChannelNotConfigured,
                "the authenticator app is no longer configured",
            ));
        };
        let secret = codes::totp_secret(app, &user, t)?;
        match crate::totp::matching_step(&secret, &code, o.now) {
            Some(step) => accept_totp_step(app, &user.username, step).await?,
            None => false,
        }
    } else {
        false
    };

    let purpose = format!("challenge:{}", ch.id);
    let verdict = app
        .repo
        .update::<ChallengeRecord, Verdict, _>(Tree::Challenges, id.as_bytes(), |cur| {
            let Some(mut cur) = cur else { return Change::Abort(Verdict::Gone) };
            if cur.channel != ch.channel {
                return Change::Abort(Verdict::Gone);
            }
            match cur.channel {
                Channel::Totp => {
                    if totp_ok {
                        return Change::Remove;
                    }
                    cur.tries_left = cur.tries_left.saturating_sub(1);
                    if cur.tries_left == 0 { Change::Remove } else { Change::Put(cur) }
                }
                _ => {
                    let Some(p) = cur.code.as_mut() else { return Change::Abort(Verdict::Expired) };
                    if p.expires_at <= o.now || p.tries_left == 0 {
                        return Change::Abort(Verdict::Expired);
                    }
                    if codes::pending_matches(app, &purpose, p, &code) {
                        return Change::Remove;
                    }
                    p.tries_left -= 1;
                    Change::Put(cur)
                }
            }
        })
        .await?;
    let verdict = match verdict {
        Ok(None) if totp_ok || ch.channel != Channel::Totp => Verdict::Accept,
        Ok(None) => Verdict::Wrong(0),
        Ok(Some(rec)) => {
            Verdict::Wrong(rec.code.as_ref().map(|p| p.tries_left).unwrap_or(rec.tries_left))
        }
        Err(v) => v,
    };
    match verdict {
        Verdict::Accept => {
            app.audit(o.now_ms, AuditKind::CodeAccepted, &c, Some(ch.channel.as_str().into()))
                .await?;
            let grant = complete(app, &user, ch.client, ch.device, &c, &o).await?;
            app.commit().await?;
            Ok(SignInResponse::Session(grant))
        }
        Verdict::Wrong(left) => {
            inc(&app.metrics.code_failures_total);
            failure(app, &user.username, &c, &o).await?;
            app.audit(o.now_ms, AuditKind::CodeRejected, &c, Some(ch.channel.as_str().into()))
                .await?;
            app.commit().await?;
            if left == 0 && ch.channel == Channel::Totp {
                return Err(ApiError::new(
                    ErrorCode::ChallengeExpired,
                    "too many wrong codes; sign in again",
                ));
            }
            Err(ApiError::wrong_code(left))
        }
        Verdict::Expired => Err(ApiError::new(
            ErrorCode::CodeExpired,
            "the code has expired or was tried too often; request a new one",
        )),
        Verdict::Gone => Err(ApiError::new(
            ErrorCode::ChallengeExpired,
            "this sign-in is no longer open; sign in again",
        )),
    }
}

/// Atomically records `step` as the user's last accepted TOTP step if it is newer.
pub async fn accept_totp_step(app: &App, username: &str, step: u64) -> ApiResult<bool> {
    let r = app
        .repo
        .update::<UserRecord, (), _>(Tree::Users, username.as_bytes(), |cur| {
            let Some(mut u) = cur else { return Change::Abort(()) };
            let Some(t) = u.two_step.totp.as_mut() else { return Change::Abort(()) };
            if t.last_step.is_some_and(|last| step <= last) {
                return Change::Abort(());
            }
            t.last_step = Some(step);
            Change::Put(u)
        })
        .await?;
    Ok(r.is_ok())
}

/// `POST /v1/signin/{id}/recovery`.
pub async fn use_recovery(
    app: &App,
    id: &str,
    sub: CodeSubmission,
    o: Origin,
) -> ApiResult<SignInResponse> {
    let (ch, user) = open_challenge(app, id, o.now).await?;
    if sub.code.len() > 64 {
        return Err(ApiError::field("a recovery code is 10 characters"));
    }
    gates(app, &user.username, &o).await?;
    let c = ctx(&user.username, Some(&user.org), ch.client, &o);
    let used = match codes::recovery_index(app, &user, &sub.code) {
        Some(_) => {
            let code = sub.code.clone();
            app.repo
                .update::<UserRecord, (), _>(Tree::Users, user.username.as_bytes(), |cur| {
                    let Some(mut u) = cur else { return Change::Abort(()) };
                    match codes::recovery_index(app, &u, &code) {
                        Some(i) => {
                            u.two_step.recovery.remove(i);
                            Change::Put(u)
                        }
                        None => Change::Abort(()),
                    }
                })
                .await?
                .ok()
                .flatten()
        }
        None => None,
    };
    match used {
        Some(fresh) => {
            app.repo.remove(Tree::Challenges, id.as_bytes()).await?;
            app.audit(
                o.now_ms,
                AuditKind::RecoveryCodeUsed,
                &c,
                Some(format!("{} left", fresh.two_step.recovery.len())),
            )
            .await?;
            let grant = complete(app, &fresh, ch.client, ch.device, &c, &o).await?;
            app.commit().await?;
            Ok(SignInResponse::Session(grant))
        }
        None => {
            let left =
                app.repo
                    .update::<ChallengeRecord, (), _>(Tree::Challenges, id.as_bytes(), |cur| {
                        match cur {
                            Some(mut r) => {
                                r.tries_left = r.tries_left.saturating_sub(1);
                                if r.tries_left == 0 { Change::Remove } else { Change::Put(r) }
                            }
                            None => Change::Abort(()),
                        }
                    })
                    .await?;
            failure(app, &user.username, &c, &o).await?;
            app.audit(o.now_ms, AuditKind::CodeRejected, &c, Some("recovery".into())).await?;
            app.commit().await?;
            Err(ApiError::wrong_code(left.ok().flatten().map(|r| r.tries_left).unwrap_or(0)))
        }
    }
}

/// Most codes one challenge may send (SMS pumping protection).
pub const MAX_SENDS_PER_CHALLENGE: u32 = 5;

/// `POST /v1/signin/{id}/resend` and `/channel`.
pub async fn resend(
    app: &App,
    id: &str,
    switch_to: Option<Channel>,
    o: Origin,
) -> ApiResult<CodeChallenge> {
    let (mut ch, user) = open_challenge(app, id, o.now).await?;
    let before = ch.clone();
    let c = ctx(&user.username, Some(&user.org), ch.client, &o);
    if let Some(target) = switch_to {
        if !user.two_step.confirmed_channels().contains(&target) {
            return Err(ApiError::new(
                ErrorCode::ChannelNotConfigured,
                format!("{} is not configured for this account", target.as_str()),
            ));
        }
        if target == ch.channel {
            return Ok(challenge_view(app, &user, &ch));
        }
        ch.channel = target;
        ch.code = None;
    } else if ch.channel == Channel::Totp {
        return Err(ApiError::new(
            ErrorCode::Conflict,
            "authenticator codes are not sent; open the authenticator app",
        ));
    } else if let Some(wait) = codes::resend_wait(ch.code.as_ref(), o.now) {
        return Err(ApiError::new(
            ErrorCode::ResendTooSoon,
            format!("a new code can be sent in {wait} s"),
        )
        .with_retry_after(wait));
    }
    if ch.channel != Channel::Totp && ch.sends >= MAX_SENDS_PER_CHALLENGE {
        return Err(ApiError::rate_limited(ch.expires_at.saturating_sub(o.now)));
    }
    send_if_needed(app, &user, &mut ch, &c, &o).await?;
    let new = ch.clone();
    let swapped = app
        .repo
        .update::<ChallengeRecord, (), _>(Tree::Challenges, id.as_bytes(), |cur| match cur {
            Some(cur)
                if cur.channel == before.channel
                    && cur.code.as_ref().map(|p| &p.nonce)
                        == before.code.as_ref().map(|p| &p.nonce) =>
            {
                Change::Put(new.clone())
            }
            _ => Change::Abort(()),
        })
        .await?;
    if swapped.is_err() {
        return Err(ApiError::new(ErrorCode::Conflict, "the sign-in changed meanwhile; try again"));
    }
    app.commit().await?;
    Ok(challenge_view(app, &user, &ch))
}

/// `DELETE /v1/signin/{id}`.
pub async fn cancel(app: &App, id: &str, o: Origin) -> ApiResult<()> {
    let (ch, _) = open_challenge(app, id, o.now).await?;
    app.repo.remove(Tree::Challenges, ch.id.as_bytes()).await?;
    app.commit().await
}
