//! Sign-in: password, the prompt rule of each client kind, and the code challenge.
//!
//! | client  | user has two-step | org requires, user has none |
//! |---------|-------------------|-----------------------------|
//! | web     | code every sign-in | setup-only session          |
//! | agent   | code at registration | refused: setup required   |
//! | outlook | code at registration, every new session, after a password change | refused |
//! | mobile  | code at first access (device registration); later: signed challenge | refused |
//!
//! Without two-step and without the policy, every client gets a session directly. A mobile
//! sign-in registers a device; an agent sign-in may register the agent (then later agent
//! sessions are opened by its signature, see [`super::devices`]).
//!
//! The attempt is counted (account and address) before the Argon2id hash; a correct password
//! hands it back ([`super::attempts`]).

use super::codes;
use super::sessions::{self, Basis};
use super::{attempts, devices, views};
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::random_id;
use crate::error::{ApiError, ApiResult};
use crate::limits::messages::Cooldown;
use crate::metrics::inc;
use crate::model::{ChallengeRecord, UserRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use std::net::IpAddr;
use twostep_proto::*;
use zeroize::Zeroizing;

pub use super::challenge_codes::{accept_totp_step, submit_code, use_recovery};

/// Where and when a request happens.
#[derive(Debug, Clone, Copy)]
pub struct Origin {
    pub addr: IpAddr,
    pub now: u64,
    pub now_ms: u64,
}

pub(crate) fn ctx(user: &str, org: Option<&str>, client: ClientKind, o: &Origin) -> Ctx {
    Ctx {
        user: Some(user.to_owned()),
        org: org.map(str::to_owned),
        client: Some(client),
        address: Some(o.addr.to_string()),
        operator: None,
    }
}

/// Validates the registration of a mobile or agent sign-in (pure; see
/// [`devices::check_registration`]).
fn check_device(
    client: ClientKind,
    username: &str,
    device: Option<&DeviceRegistration>,
) -> ApiResult<()> {
    match (client, device) {
        (ClientKind::Mobile, None) => {
            Err(ApiError::field("a mobile sign-in registers a device: `device` is required"))
        }
        (ClientKind::Mobile | ClientKind::Agent, Some(d)) => {
            devices::check_registration(client, username, d)
        }
        (_, Some(_)) => Err(ApiError::field("only mobile and agent sign-ins carry a registration")),
        (_, None) => Ok(()),
    }
}

/// `POST /v1/signin`.
pub async fn sign_in(app: &App, req: SignInRequest, o: Origin) -> ApiResult<SignInResponse> {
    let username = normalize_username(&req.username).ok_or_else(|| {
        ApiError::field("username must be 1..=64 characters of a-z 0-9 . _ @ + -")
    })?;
    if req.password.is_empty() || req.password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::field(format!("password must be 1..={MAX_PASSWORD_LEN} bytes")));
    }
    check_device(req.client, &username, req.device.as_ref())?;
    let attempt = attempts::reserve(app, &username, &o).await?;
    if let Some(d) = &req.device
        && let Err(e) = devices::consume_registration_nonce(app, &d.nonce, o.now).await
    {
        attempt.refund(app).await?;
        return Err(e);
    }
    inc(&app.metrics.signin_attempts_total);
    let user = app.user(&username).await?;
    inc(&app.metrics.password_hashes_total);
    let ok =
        app.hasher.verify(&req.password, user.as_ref().map(|u| u.password_hash.as_str())).await;
    let c = ctx(&username, user.as_ref().map(|u| u.org.as_str()), req.client, &o);
    let user = match (ok, user) {
        (Ok(true), Some(u)) => {
            attempt.refund(app).await?;
            u
        }
        (Err(busy), _) => {
            attempt.refund(app).await?;
            return Err(busy.into());
        }
        _ => {
            inc(&app.metrics.signin_failures_total);
            attempt.failed(app, &c, o.now_ms).await?;
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
                let scope = SessionScope::SetupOnly;
                let web = ClientKind::Web;
                Some(sessions::issue(app, &user, web, scope, None, Basis::Password, o.now).await?)
            } else {
                None
            };
            app.commit().await?;
            return Ok(SignInResponse::SetupRequired(SetupRequired { session, message }));
        }
        let grant = complete(app, &user, req.client, req.device, Basis::Password, &c, &o).await?;
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
    if let Some(send) = prepare_code(app, &user, &mut ch, o.now) {
        deliver_code(app, &user, channel, send, &c, &o).await?;
    }
    app.repo.put(Tree::Challenges, ch.id.as_bytes(), &ch).await?;
    app.commit().await?;
    Ok(SignInResponse::CodeRequired(challenge_view(app, &user, &ch)))
}

/// For SMS/email challenges: a new code in `ch` (replacing the previous one) and where to
/// send it. Pure; [`deliver_code`] sends it.
fn prepare_code(
    app: &App,
    user: &UserRecord,
    ch: &mut ChallengeRecord,
    now: u64,
) -> Option<(String, Zeroizing<String>)> {
    let Some(dest) = user.two_step.sent(ch.channel).map(|s| s.destination.clone()) else {
        ch.code = None;
        return None;
    };
    let (code, pending) = codes::new_pending(app, &format!("challenge:{}", ch.id), now);
    ch.code = Some(pending);
    ch.sends += 1;
    Some((dest, code))
}

/// Sends a prepared code within the daily caps and audits it.
async fn deliver_code(
    app: &App,
    user: &UserRecord,
    channel: Channel,
    (dest, code): (String, Zeroizing<String>),
    c: &Ctx,
    o: &Origin,
) -> ApiResult<()> {
    let why = "If you did not try to sign in, change your password.";
    let delivered =
        codes::send_limited(app, user, channel, &dest, &code, why, Cooldown::Skip, c, o).await;
    if let Err(e) = delivered {
        // The delivery error is what the client needs to see; the audit is best effort.
        let _ = app
            .audit(o.now_ms, AuditKind::CodeDeliveryFailed, c, Some(channel.as_str().into()))
            .await;
        return Err(e);
    }
    let masked = crate::mask::destination(channel, &dest);
    let detail = format!("{} to {masked}", channel.as_str());
    app.audit(o.now_ms, AuditKind::CodeSent, c, Some(detail)).await?;
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

/// Issues the session (and stores the registration of a mobile device or an agent) once
/// every step passed.
pub(crate) async fn complete(
    app: &App,
    user: &UserRecord,
    client: ClientKind,
    device: Option<DeviceRegistration>,
    basis: Basis,
    c: &Ctx,
    o: &Origin,
) -> ApiResult<SessionGrant> {
    let org = app.org(&user.org).await?;
    let grant = match (client, device) {
        (ClientKind::Mobile | ClientKind::Agent, Some(d)) => {
            let rec = devices::register(app, user, &d, client, basis, o.now).await?;
            let detail = format!("{} {}", client.as_str(), rec.id);
            app.audit(o.now_ms, AuditKind::DeviceRegistered, c, Some(detail)).await?;
            Some(DeviceGrant { device_id: rec.id, passcode: app.passcode_policy(&org) })
        }
        _ => None,
    };
    crate::throttle::account_reset(&app.repo, &user.username).await?;
    let s = sessions::issue(app, user, client, SessionScope::Full, grant, basis, o.now).await?;
    app.audit(o.now_ms, AuditKind::SignInSucceeded, c, None).await?;
    Ok(s)
}

/// Loads an open challenge and its user.
pub(crate) async fn open_challenge(
    app: &App,
    id: &str,
    now: u64,
) -> ApiResult<(ChallengeRecord, UserRecord)> {
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

/// `GET /v1/signin/{id}`: the open challenge as the prompt shows it (no code is sent).
pub async fn challenge(app: &App, id: &str, now: u64) -> ApiResult<CodeChallenge> {
    let (ch, user) = open_challenge(app, id, now).await?;
    Ok(challenge_view(app, &user, &ch))
}

/// Most codes one challenge may send (SMS pumping protection).
pub const MAX_SENDS_PER_CHALLENGE: u32 = 5;

/// `POST /v1/signin/{id}/resend` and `/channel`. The new code and the send count are
/// written to the challenge (compare-and-swap) before the code is sent, so concurrent
/// resends of one sign-in send one code.
pub async fn resend(
    app: &App,
    id: &str,
    switch_to: Option<Channel>,
    o: Origin,
) -> ApiResult<CodeChallenge> {
    let (before, user) = open_challenge(app, id, o.now).await?;
    let mut ch = before.clone();
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
    let send = prepare_code(app, &user, &mut ch, o.now);
    let unchanged = |cur: &ChallengeRecord, was: &ChallengeRecord| {
        cur.channel == was.channel
            && cur.code.as_ref().map(|p| &p.nonce) == was.code.as_ref().map(|p| &p.nonce)
    };
    let swap = |from: ChallengeRecord, to: ChallengeRecord| async move {
        app.repo
            .update::<ChallengeRecord, (), _>(Tree::Challenges, id.as_bytes(), |cur| match cur {
                Some(cur) if unchanged(&cur, &from) => Change::Put(to.clone()),
                _ => Change::Abort(()),
            })
            .await
    };
    if swap(before.clone(), ch.clone()).await?.is_err() {
        return Err(ApiError::new(ErrorCode::Conflict, "the sign-in changed meanwhile; try again"));
    }
    if let Some(send) = send
        && let Err(e) = deliver_code(app, &user, ch.channel, send, &c, &o).await
    {
        swap(ch.clone(), before).await?.ok();
        return Err(e);
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
