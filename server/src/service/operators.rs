//! Operators: the one-time bootstrap, sign-in, tokens (sign-out, revocation) and unlock.
//!
//! The setup token is a record in the store, spent by a compare-and-swap, so concurrent
//! bootstraps create exactly one operator. An operator's tokens carry the operator's epoch;
//! bumping it revokes them all. Failed sign-ins count against `operator:NAME` in the account
//! throttle (reserved before the hash) and the per-address budget; an operator can unlock
//! another.

use super::admin::{Actor, check_password};
use super::attempts;
use super::signin::Origin;
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::{random_token, sha256_hex};
use crate::error::{ApiError, ApiResult};
use crate::model::{OperatorRecord, OperatorSessionRecord, SetupTokenRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use crate::throttle;
use twostep_proto::*;

/// Seconds an operator token lives.
pub const OPERATOR_SESSION_SECS: u64 = 3600;

/// The key of the setup token record in [`Tree::Setup`].
pub const SETUP_TOKEN_KEY: &[u8] = b"token";

fn throttle_key(name: &str) -> String {
    format!("operator:{name}")
}

fn operator_name(name: &str) -> ApiResult<String> {
    normalize_username(name).ok_or_else(|| {
        ApiError::field("operator name must be 1..=64 characters of a-z 0-9 . _ @ + -")
    })
}

async fn insert_operator(app: &App, name: &str, hash: String, actor: &Actor) -> ApiResult<()> {
    let rec = OperatorRecord {
        name: name.to_owned(),
        password_hash: hash,
        created_at: actor.now,
        epoch: 0,
    };
    if !app.repo.insert_new(Tree::Operators, name.as_bytes(), &rec).await? {
        return Err(ApiError::new(ErrorCode::Conflict, "an operator with that name exists"));
    }
    app.audit(actor.now_ms, AuditKind::OperatorCreated, &actor.ctx(None, None), Some(name.into()))
        .await?;
    app.commit().await
}

/// Creates an operator (CLI).
pub async fn create_operator(
    app: &App,
    name: &str,
    password: &str,
    actor: &Actor,
) -> ApiResult<()> {
    let name = operator_name(name)?;
    check_password(password)?;
    let hash = app.hasher.hash(password).await?;
    insert_operator(app, &name, hash, actor).await
}

/// `POST /v1/admin/bootstrap`: creates the first operator with the setup token printed at
/// start. The token is spent atomically before the (expensive) hash.
pub async fn bootstrap(
    app: &App,
    token: &str,
    name: &str,
    password: &str,
    actor: &Actor,
) -> ApiResult<()> {
    let name = operator_name(name)?;
    check_password(password)?;
    let invalid =
        || ApiError::new(ErrorCode::Unauthorized, "the setup token is invalid or was already used");
    if token.len() > 128 || app.has_operator().await? {
        return Err(invalid());
    }
    let spent = app
        .repo
        .update::<SetupTokenRecord, (), _>(Tree::Setup, SETUP_TOKEN_KEY, |cur| match cur {
            Some(t) if app.keys.code_matches("setup-token", token, &t.mac) => Change::Remove,
            _ => Change::Abort(()),
        })
        .await?;
    if spent.is_err() {
        return Err(invalid());
    }
    let hash = match app.hasher.hash(password).await {
        Ok(h) => h,
        Err(e) => {
            // Nothing was created: the token works again.
            let mac = app.keys.code_mac("setup-token", token);
            let rec = SetupTokenRecord { mac, created_at: actor.now };
            app.repo.insert_new(Tree::Setup, SETUP_TOKEN_KEY, &rec).await?;
            return Err(e.into());
        }
    };
    insert_operator(app, &name, hash, actor).await
}

/// `POST /v1/admin/signin`.
pub async fn operator_sign_in(
    app: &App,
    req: &OperatorSignIn,
    o: &Origin,
) -> ApiResult<OperatorSession> {
    let name = normalize_username(&req.username).ok_or_else(ApiError::credentials)?;
    if req.password.is_empty() || req.password.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::credentials());
    }
    let key = throttle_key(&name);
    let attempt = attempts::reserve(app, &key, o).await?;
    let op: Option<OperatorRecord> = app.repo.get(Tree::Operators, name.as_bytes()).await?;
    crate::metrics::inc(&app.metrics.password_hashes_total);
    let ok = app.hasher.verify(&req.password, op.as_ref().map(|o| o.password_hash.as_str())).await;
    let ctx =
        Ctx { operator: Some(name.clone()), address: Some(o.addr.to_string()), ..Ctx::default() };
    let op = match (ok, op) {
        (Ok(true), Some(op)) => op,
        (Err(busy), _) => {
            attempt.refund(app).await?;
            return Err(busy.into());
        }
        _ => {
            attempt.failed(app, &ctx, o.now_ms).await?;
            app.audit(o.now_ms, AuditKind::SignInFailed, &ctx, Some("operator".into())).await?;
            app.commit().await?;
            return Err(ApiError::credentials());
        }
    };
    attempt.refund(app).await?;
    throttle::account_reset(&app.repo, &key).await?;
    let token = random_token();
    let rec = OperatorSessionRecord {
        operator: name,
        expires_at: o.now + OPERATOR_SESSION_SECS,
        epoch: op.epoch,
    };
    app.repo.put(Tree::OperatorSessions, sha256_hex(token.as_bytes()).as_bytes(), &rec).await?;
    app.audit(o.now_ms, AuditKind::OperatorSignIn, &ctx, None).await?;
    app.commit().await?;
    Ok(OperatorSession { token, expires_at: rec.expires_at })
}

/// An operator's token, resolved.
#[derive(Debug, Clone)]
pub struct OperatorAuth {
    /// Operator name.
    pub name: String,
    /// SHA-256 of the token (the session's key).
    pub key: String,
}

/// Resolves an operator token: unexpired, and issued in the operator's current epoch.
pub async fn authenticate_operator(app: &App, token: &str, now: u64) -> ApiResult<OperatorAuth> {
    let unauthorized =
        || ApiError::new(ErrorCode::Unauthorized, "missing, invalid or expired operator session");
    if token.len() > 128 {
        return Err(unauthorized());
    }
    let key = sha256_hex(token.as_bytes());
    let rec: OperatorSessionRecord =
        app.repo.get(Tree::OperatorSessions, key.as_bytes()).await?.ok_or_else(unauthorized)?;
    let op: Option<OperatorRecord> = app.repo.get(Tree::Operators, rec.operator.as_bytes()).await?;
    if rec.expires_at <= now || op.is_none_or(|op| op.epoch != rec.epoch) {
        app.repo.remove(Tree::OperatorSessions, key.as_bytes()).await?;
        return Err(unauthorized());
    }
    Ok(OperatorAuth { name: rec.operator, key })
}

/// `POST /v1/admin/signout`: ends this operator token.
pub async fn sign_out(app: &App, auth: &OperatorAuth, actor: &Actor) -> ApiResult<()> {
    app.repo.remove(Tree::OperatorSessions, auth.key.as_bytes()).await?;
    app.audit(actor.now_ms, AuditKind::OperatorSignedOut, &actor.ctx(None, None), None).await?;
    app.commit().await
}

async fn operator(app: &App, name: &str) -> ApiResult<OperatorRecord> {
    let name = normalize_username(name).ok_or_else(|| ApiError::not_found("operator"))?;
    app.repo
        .get(Tree::Operators, name.as_bytes())
        .await?
        .ok_or_else(|| ApiError::not_found("operator"))
}

/// `GET /v1/admin/operators/{name}`.
pub async fn status(app: &App, name: &str) -> ApiResult<OperatorStatus> {
    let op = operator(app, name).await?;
    let t = throttle::account_state(&app.repo, &throttle_key(&op.name)).await?;
    Ok(OperatorStatus { name: op.name, locked: t.locked, consecutive_failures: t.failures })
}

/// `DELETE /v1/admin/operators/{name}/sessions`: revokes every token of an operator.
pub async fn revoke_sessions(app: &App, name: &str, actor: &Actor) -> ApiResult<()> {
    let op = operator(app, name).await?;
    app.repo
        .update::<OperatorRecord, (), _>(Tree::Operators, op.name.as_bytes(), |cur| match cur {
            Some(mut r) => {
                r.epoch += 1;
                Change::Put(r)
            }
            None => Change::Abort(()),
        })
        .await?
        .map_err(|()| ApiError::not_found("operator"))?;
    let ctx = actor.ctx(None, None);
    app.audit(actor.now_ms, AuditKind::OperatorSessionsRevoked, &ctx, Some(op.name)).await?;
    app.commit().await
}

/// `POST /v1/admin/operators/{name}/unlock` (and `twostep-server admin unlock-operator`).
pub async fn unlock(app: &App, name: &str, actor: &Actor) -> ApiResult<OperatorStatus> {
    let op = operator(app, name).await?;
    throttle::account_reset(&app.repo, &throttle_key(&op.name)).await?;
    let ctx = actor.ctx(None, None);
    app.audit(actor.now_ms, AuditKind::OperatorUnlocked, &ctx, Some(op.name.clone())).await?;
    app.commit().await?;
    status(app, &op.name).await
}
