//! Mobile devices: registration at first access, later sessions by a signed challenge.
//!
//! The device keeps an Ed25519 private key; the server keeps only the public key. A
//! session is opened by signing a fresh, single-use server nonce — no code, no password.
//! Revoking the device (by its user, an operator, a password change or an admin reset)
//! ends that.

use super::sessions;
use super::signin::Origin;
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::{hex, random_bytes, random_token};
use crate::error::{ApiError, ApiResult};
use crate::model::{DeviceRecord, NonceRecord, UserRecord, device_prefix};
use crate::store::Tree;
use crate::store::repo::Change;
use base64::Engine;
use twostep_proto::*;

/// Seconds a device nonce stays valid.
pub const NONCE_TTL_SECS: u64 = 120;

/// Decodes a base64url Ed25519 public key.
pub fn decode_public_key(s: &str) -> ApiResult<Vec<u8>> {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| ApiError::field("device public_key must be base64url"))?;
    if b.len() != 32 {
        return Err(ApiError::field("device public_key must be a 32-byte Ed25519 key"));
    }
    Ok(b)
}

/// Stores a new device for `user`.
pub async fn register(
    app: &App,
    user: &UserRecord,
    d: &DeviceRegistration,
    now: u64,
) -> ApiResult<DeviceRecord> {
    let rec = DeviceRecord {
        id: format!("{}.{}", user.id, hex(&random_bytes(12))),
        username: user.username.clone(),
        user_id: user.id.clone(),
        name: d.name.trim().to_owned(),
        public_key: d.public_key.trim_end_matches('=').to_owned(),
        epoch: user.epoch,
        registered_at: now,
        last_seen_at: now,
        revoked: false,
    };
    app.repo.put(Tree::Devices, rec.id.as_bytes(), &rec).await?;
    Ok(rec)
}

fn revoked() -> ApiError {
    ApiError::new(
        ErrorCode::DeviceRevoked,
        "this device is no longer registered; sign in again with your password and code",
    )
}

async fn live_device(app: &App, device_id: &str) -> ApiResult<(DeviceRecord, UserRecord)> {
    if device_id.len() > 128 {
        return Err(ApiError::field("device_id is too long"));
    }
    let d: DeviceRecord =
        app.repo.get(Tree::Devices, device_id.as_bytes()).await?.ok_or_else(revoked)?;
    let user = app.user(&d.username).await?.filter(|u| u.id == d.user_id).ok_or_else(revoked)?;
    if d.revoked || d.epoch != user.epoch {
        return Err(revoked());
    }
    Ok((d, user))
}

/// `POST /v1/device/challenge`.
pub async fn challenge(
    app: &App,
    req: &DeviceChallengeRequest,
    now: u64,
) -> ApiResult<DeviceChallenge> {
    let (d, _) = live_device(app, &req.device_id).await?;
    let nonce = random_token();
    let rec =
        NonceRecord { device_id: d.id, username: d.username, expires_at: now + NONCE_TTL_SECS };
    app.repo.put(Tree::Nonces, nonce.as_bytes(), &rec).await?;
    Ok(DeviceChallenge { nonce, expires_at: rec.expires_at })
}

/// `POST /v1/device/session`.
pub async fn session(app: &App, req: DeviceSessionRequest, o: Origin) -> ApiResult<SessionGrant> {
    if req.nonce.len() > 64 || req.signature.len() > 128 {
        return Err(ApiError::field("nonce or signature too long"));
    }
    let (d, user) = live_device(app, &req.device_id).await?;
    let expired = || {
        ApiError::new(
            ErrorCode::ChallengeExpired,
            "the device challenge expired; request a new one",
        )
    };
    let nonce: NonceRecord =
        app.repo.get(Tree::Nonces, req.nonce.as_bytes()).await?.ok_or_else(expired)?;
    // Single use: whoever removes it first may use it.
    if !app.repo.remove(Tree::Nonces, req.nonce.as_bytes()).await?
        || nonce.device_id != d.id
        || nonce.expires_at <= o.now
    {
        return Err(expired());
    }
    let c = Ctx {
        user: Some(user.username.clone()),
        org: Some(user.org.clone()),
        client: Some(ClientKind::Mobile),
        address: Some(o.addr.to_string()),
        operator: None,
    };
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(req.signature.trim_end_matches('='))
        .map_err(|_| ApiError::field("signature must be base64url"))?;
    let pk = decode_public_key(&d.public_key)?;
    let msg = device_session_message(&d.id, &req.nonce);
    if ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, &pk)
        .verify(&msg, &sig)
        .is_err()
    {
        app.audit(o.now_ms, AuditKind::SignInFailed, &c, Some("bad device signature".into()))
            .await?;
        app.commit().await?;
        return Err(ApiError::new(ErrorCode::BadSignature, "the device signature did not verify"));
    }
    let org = app.org(&user.org).await?;
    if org.policy.require_two_step && !user.two_step.enabled() {
        return Err(ApiError::new(
            ErrorCode::SetupRequired,
            "your organization requires two-step authentication; configure it in the web portal first",
        ));
    }
    let _ = app
        .repo
        .update::<DeviceRecord, (), _>(Tree::Devices, d.id.as_bytes(), |cur| match cur {
            Some(mut r) => {
                r.last_seen_at = o.now;
                Change::Put(r)
            }
            None => Change::Abort(()),
        })
        .await?;
    let grant = DeviceGrant { device_id: d.id.clone(), passcode: app.passcode_policy(&org) };
    let s = sessions::issue(app, &user, ClientKind::Mobile, SessionScope::Full, Some(grant), o.now)
        .await?;
    app.audit(o.now_ms, AuditKind::DeviceSession, &c, Some(d.id)).await?;
    app.commit().await?;
    Ok(s)
}

/// A user's devices.
pub async fn list(app: &App, user: &UserRecord) -> ApiResult<Vec<DeviceRecord>> {
    Ok(app
        .repo
        .scan::<DeviceRecord>(Tree::Devices, &device_prefix(&user.id), None, 10_000)
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .collect())
}

/// Revokes one device (or all when `id` is `None`); returns how many changed.
pub async fn revoke(app: &App, user: &UserRecord, id: Option<&str>) -> ApiResult<usize> {
    let mut n = 0;
    for d in list(app, user).await? {
        if id.is_some_and(|i| i != d.id) || d.revoked {
            continue;
        }
        let _ = app
            .repo
            .update::<DeviceRecord, (), _>(Tree::Devices, d.id.as_bytes(), |cur| match cur {
                Some(mut r) => {
                    r.revoked = true;
                    Change::Put(r)
                }
                None => Change::Abort(()),
            })
            .await?;
        n += 1;
    }
    if let Some(i) = id
        && n == 0
        && !list(app, user).await?.iter().any(|d| d.id == i)
    {
        return Err(ApiError::not_found("device"));
    }
    Ok(n)
}
