//! Bearer sessions: 256-bit random tokens stored only as SHA-256, with expiry, scope,
//! and the user's epoch (bumped on password change and admin reset, which revokes them).

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

/// Creates a session for `user`.
pub async fn issue(
    app: &App,
    user: &UserRecord,
    client: ClientKind,
    scope: SessionScope,
    device: Option<DeviceGrant>,
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
    let session: SessionRecord =
        app.repo.get(Tree::Sessions, key.as_bytes()).await?.ok_or_else(unauthorized)?;
    if session.expires_at <= now {
        app.repo.remove(Tree::Sessions, key.as_bytes()).await?;
        return Err(unauthorized());
    }
    let user = app.user(&session.username).await?.ok_or_else(unauthorized)?;
    if user.id != session.user_id || user.epoch != session.epoch {
        app.repo.remove(Tree::Sessions, key.as_bytes()).await?;
        return Err(unauthorized());
    }
    Ok(Authed { key, session, user })
}

/// Ends a session.
pub async fn revoke(app: &App, key: &str) -> ApiResult<()> {
    app.repo.remove(Tree::Sessions, key.as_bytes()).await?;
    Ok(())
}

/// Upgrades a setup-only session once two-step is configured.
pub async fn upgrade(app: &App, key: &str) -> ApiResult<bool> {
    let r = app
        .repo
        .update::<SessionRecord, (), _>(Tree::Sessions, key.as_bytes(), |cur| match cur {
            Some(mut s) if s.scope == SessionScope::SetupOnly => {
                s.scope = SessionScope::Full;
                crate::store::repo::Change::Put(s)
            }
            _ => crate::store::repo::Change::Abort(()),
        })
        .await?;
    Ok(r.is_ok())
}
