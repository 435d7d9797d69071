//! Bearer sessions: 256-bit random tokens stored only as SHA-256, with expiry, scope,
//! and the user's epoch (bumped on password change and admin reset, which revokes them).
//!
//! A session is a capability, checked on every request: a session opened with the password
//! alone (setup-only ones included) ends when the user's first two-step channel is
//! confirmed; a session that is a child of a registration (device, agent) ends when that
//! registration is revoked.
//!
//! Confirming the first channel writes the user record (moving its `second_step_epoch`, which
//! ends those sessions) and then upgrades the confirming session: two writes. The user record
//! names the confirming session, so if the server dies between them, that session's next
//! request finishes the upgrade instead of finding the session ended.

use crate::app::App;
use crate::crypto::{random_token, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::model::{SessionRecord, UserRecord};
use crate::store::Tree;
use twostep_proto::{ClientKind, DeviceGrant, ErrorCode, SessionGrant, SessionScope, UserSummary};

/// An authenticated request's user session.
#[derive(Debug, Clone)]
pub struct Authed {
    pub key: String,
    pub session: SessionRecord,
    pub user: UserRecord,
}

/// What a session was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Basis {
    /// The password alone (the user had no two-step).
    Password,
    /// The password and a second step (code or recovery code).
    SecondStep,
    /// A registration's signature (device or agent).
    Registration,
}

/// Creates a session for `user`.
pub async fn issue(
    app: &App,
    user: &UserRecord,
    client: ClientKind,
    scope: SessionScope,
    device: Option<DeviceGrant>,
    basis: Basis,
    now: u64,
) -> ApiResult<SessionGrant> {
    let token = random_token();
    let ttl = if client == ClientKind::Mobile {
        app.config.mobile_session_ttl_secs
    } else {
        app.config.session_ttl_secs
    };
    let rec = SessionRecord {
        username: user.username.clone(),
        user_id: user.id.clone(),
        epoch: user.epoch,
        scope,
        client,
        device_id: device.as_ref().map(|d| d.device_id.clone()),
        created_at: now,
        expires_at: now + ttl,
        password_only: basis == Basis::Password,
        second_step_epoch: user.second_step_epoch,
        step_up: None,
    };
    app.repo.put(Tree::Sessions, sha256_hex(token.as_bytes()).as_bytes(), &rec).await?;
    crate::metrics::inc(&app.metrics.sessions_issued_total);
    Ok(SessionGrant { token, expires_at: rec.expires_at, scope, user: summary(user), device })
}

/// The public view of a user.
pub fn summary(u: &UserRecord) -> UserSummary {
    UserSummary { id: u.id.clone(), username: u.username.clone(), org: u.org.clone() }
}

/// Resolves a bearer token.
pub async fn authenticate(app: &App, token: &str, now: u64) -> ApiResult<Authed> {
    let unauthorized =
        || ApiError::new(ErrorCode::Unauthorized, "missing, invalid or expired session");
    if token.len() > 128 {
        return Err(unauthorized());
    }
    let key = sha256_hex(token.as_bytes());
    let mut session: SessionRecord =
        app.repo.get(Tree::Sessions, key.as_bytes()).await?.ok_or_else(unauthorized)?;
    if session.expires_at <= now {
        app.repo.remove(Tree::Sessions, key.as_bytes()).await?;
        return Err(unauthorized());
    }
    let user = app.user(&session.username).await?.ok_or_else(unauthorized)?;
    if upgrade_cut_off(&key, &session, &user) {
        confirm_second_step(app, &key, user.second_step_epoch).await?;
        session = app.repo.get(Tree::Sessions, key.as_bytes()).await?.ok_or_else(unauthorized)?;
    }
    if let Err(e) = still_valid(app, &session, &user).await {
        app.repo.remove(Tree::Sessions, key.as_bytes()).await?;
        return Err(e);
    }
    Ok(Authed { key, session, user })
}

/// Whether an unexpired `session` still stands for `user`: the same user and epoch, a live
/// parent registration, and not a password-only session from before two-step began. The
/// error is what the client is told.
pub async fn still_valid(app: &App, session: &SessionRecord, user: &UserRecord) -> ApiResult<()> {
    let unauthorized =
        || ApiError::new(ErrorCode::Unauthorized, "missing, invalid or expired session");
    if user.id != session.user_id || user.epoch != session.epoch {
        return Err(unauthorized());
    }
    // A registration's child says so: the client then forgets the registration.
    if let Some(device) = &session.device_id {
        super::devices::check_live(app, device, user).await?;
    }
    if session.password_only && session.second_step_epoch != user.second_step_epoch {
        return Err(unauthorized());
    }
    Ok(())
}

/// Whether `session` (stored under `key`) confirmed the user's first channel and the server
/// stopped before upgrading it: the user record names it, one second-step epoch on.
fn upgrade_cut_off(key: &str, session: &SessionRecord, user: &UserRecord) -> bool {
    session.password_only
        && user.id == session.user_id
        && user.epoch == session.epoch
        && session.second_step_epoch + 1 == user.second_step_epoch
        && user.second_step_confirmed_by.as_deref() == Some(key)
}

/// Ends a session.
pub async fn revoke(app: &App, key: &str) -> ApiResult<()> {
    app.repo.remove(Tree::Sessions, key.as_bytes()).await?;
    Ok(())
}

/// After this session confirmed the user's first channel (which ended every other
/// password-only session): it proved the second step, so it is a full session of the new
/// epoch. Returns whether it was a setup-only session (upgraded).
pub async fn confirm_second_step(app: &App, key: &str, second_step_epoch: u64) -> ApiResult<bool> {
    let mut was_setup = false;
    app.repo
        .update::<SessionRecord, (), _>(Tree::Sessions, key.as_bytes(), |cur| match cur {
            Some(mut s) => {
                was_setup = s.scope == SessionScope::SetupOnly;
                s.scope = SessionScope::Full;
                s.password_only = false;
                s.second_step_epoch = second_step_epoch;
                crate::store::repo::Change::Put(s)
            }
            None => crate::store::repo::Change::Abort(()),
        })
        .await?
        .ok();
    Ok(was_setup)
}
