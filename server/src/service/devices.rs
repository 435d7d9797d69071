//! Registrations: mobile devices (first access) and desktop agents. Each holds an Ed25519
//! key; the server keeps only the public key. A registration proves possession by signing
//! [`device_registration_message`] over a single-use server nonce; later sessions are opened
//! by signing a fresh, single-use server nonce — no code, no password. Revoking the
//! registration (by its user, an operator, a password change or an admin reset) ends that,
//! and ends its open sessions at once. A registration made with the password alone (the
//! user had no two-step yet) ends when the user's first channel is confirmed.
//!
//! Keys are checked strictly: small-order ("weak") keys and non-canonical encodings are
//! refused, and signatures are verified with `verify_strict`, so no constant signature can
//! satisfy every message.

use super::sessions::{self, Basis};
use super::signin::Origin;
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::{hex, random_bytes, random_token};
use crate::error::{ApiError, ApiResult};
use crate::limits::window::{self, Span};
use crate::model::{DeviceRecord, NonceRecord, RegistrationNonceRecord, UserRecord, device_prefix};
use crate::store::Tree;
use crate::store::repo::Change;
use base64::Engine;
use ed25519_dalek::{Signature, VerifyingKey};
use twostep_proto::*;

/// Seconds a device or registration nonce stays valid.
pub const NONCE_TTL_SECS: u64 = 120;

fn b64(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// Decodes a base64url Ed25519 public key and refuses weak and non-canonical ones.
pub fn decode_public_key(s: &str) -> ApiResult<VerifyingKey> {
    let b = b64(s).ok_or_else(|| ApiError::field("device public_key must be base64url"))?;
    let bytes: [u8; 32] = b
        .try_into()
        .map_err(|_| ApiError::field("device public_key must be a 32-byte Ed25519 key"))?;
    let key = VerifyingKey::from_bytes(&bytes)
        .map_err(|_| ApiError::field("device public_key is not an Ed25519 point"))?;
    if key.is_weak() {
        return Err(ApiError::field("device public_key is a weak (small-order) Ed25519 key"));
    }
    if key.to_edwards().compress().to_bytes() != bytes {
        return Err(ApiError::field("device public_key is not canonically encoded"));
    }
    Ok(key)
}

fn bad_signature(what: &str) -> ApiError {
    ApiError::new(ErrorCode::BadSignature, format!("the {what} signature did not verify"))
}

fn decode_signature(s: &str) -> ApiResult<Signature> {
    let b = b64(s).filter(|b| b.len() == 64).ok_or_else(|| {
        ApiError::field("signature must be a 64-byte Ed25519 signature, base64url")
    })?;
    let bytes: [u8; 64] = b.try_into().map_err(|_| ApiError::field("signature length"))?;
    Ok(Signature::from_bytes(&bytes))
}

/// Checks a registration carried by a sign-in: its fields, key and proof of possession
/// (pure; the nonce is consumed later by [`consume_registration_nonce`]).
pub fn check_registration(
    client: ClientKind,
    username: &str,
    d: &DeviceRegistration,
) -> ApiResult<()> {
    let name = d.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_DEVICE_NAME_LEN
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::field(format!(
            "device name must be 1..={MAX_DEVICE_NAME_LEN} printable characters"
        )));
    }
    if d.nonce.is_empty() || d.nonce.len() > MAX_NONCE_LEN || d.signature.len() > MAX_SIGNATURE_LEN
    {
        return Err(ApiError::field("device nonce or signature missing or too long"));
    }
    let key = decode_public_key(&d.public_key)?;
    let sig = decode_signature(&d.signature)?;
    let msg = device_registration_message(client, username, &d.public_key, &d.nonce);
    key.verify_strict(&msg, &sig).map_err(|_| bad_signature("registration"))
}

/// `POST /v1/device/registration-challenge`: a single-use nonce for a registration,
/// limited per client address.
pub async fn registration_challenge(app: &App, o: &Origin) -> ApiResult<DeviceChallenge> {
    let per_minute = app.config.registration_challenges_per_minute;
    let key = format!("registration:{}", o.addr);
    let span = Span::Rolling(60);
    if let Err(wait) =
        window::hit(&app.repo, Tree::Rates, key.as_bytes(), per_minute, span, o.now).await?
    {
        crate::metrics::inc(&app.metrics.rate_limited_total);
        return Err(ApiError::rate_limited(wait));
    }
    let nonce = random_token();
    let rec = RegistrationNonceRecord { expires_at: o.now + NONCE_TTL_SECS };
    app.repo.put(Tree::RegistrationNonces, nonce.as_bytes(), &rec).await?;
    app.commit().await?;
    Ok(DeviceChallenge { nonce, expires_at: rec.expires_at })
}

/// Spends a registration nonce; `410 challenge_expired` if it is unknown, used or expired.
pub async fn consume_registration_nonce(app: &App, nonce: &str, now: u64) -> ApiResult<()> {
    let r = app
        .repo
        .update::<RegistrationNonceRecord, (), _>(
            Tree::RegistrationNonces,
            nonce.as_bytes(),
            |cur| match cur {
                Some(n) if n.expires_at > now => Change::Remove,
                _ => Change::Abort(()),
            },
        )
        .await?;
    r.map(|_| ()).map_err(|()| {
        ApiError::new(
            ErrorCode::ChallengeExpired,
            "the registration nonce is unknown, used or expired; request a new one",
        )
    })
}

/// Stores a new registration (device or agent) for `user`.
pub async fn register(
    app: &App,
    user: &UserRecord,
    d: &DeviceRegistration,
    client: ClientKind,
    basis: Basis,
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
        client,
        password_only: basis == Basis::Password,
        second_step_epoch: user.second_step_epoch,
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

fn is_live(d: &DeviceRecord, user: &UserRecord) -> bool {
    !d.revoked
        && d.user_id == user.id
        && d.epoch == user.epoch
        && !(d.password_only && d.second_step_epoch != user.second_step_epoch)
}

/// Whether a registration is revoked as its user sees it (listing).
pub fn is_revoked(d: &DeviceRecord, user: &UserRecord) -> bool {
    !is_live(d, user)
}

/// Whether the registration `device_id` of `user` still stands (`device_revoked` if not).
pub async fn check_live(app: &App, device_id: &str, user: &UserRecord) -> ApiResult<()> {
    let d: Option<DeviceRecord> = app.repo.get(Tree::Devices, device_id.as_bytes()).await?;
    d.filter(|d| is_live(d, user)).map(|_| ()).ok_or_else(revoked)
}

async fn live_device(app: &App, device_id: &str) -> ApiResult<(DeviceRecord, UserRecord)> {
    if device_id.len() > MAX_DEVICE_ID_LEN {
        return Err(ApiError::field("device_id is too long"));
    }
    let d: DeviceRecord =
        app.repo.get(Tree::Devices, device_id.as_bytes()).await?.ok_or_else(revoked)?;
    let user = app.user(&d.username).await?.ok_or_else(revoked)?;
    if !is_live(&d, &user) {
        return Err(revoked());
    }
    Ok((d, user))
}

/// `POST /v1/device/challenge`, limited per registration.
pub async fn challenge(
    app: &App,
    req: &DeviceChallengeRequest,
    now: u64,
) -> ApiResult<DeviceChallenge> {
    let (d, _) = live_device(app, &req.device_id).await?;
    let per_minute = app.config.device_challenges_per_minute;
    let key = format!("device:{}", d.id);
    if let Err(wait) =
        window::hit(&app.repo, Tree::Rates, key.as_bytes(), per_minute, Span::Rolling(60), now)
            .await?
    {
        crate::metrics::inc(&app.metrics.rate_limited_total);
        return Err(ApiError::rate_limited(wait));
    }
    let nonce = random_token();
    let rec =
        NonceRecord { device_id: d.id, username: d.username, expires_at: now + NONCE_TTL_SECS };
    app.repo.put(Tree::Nonces, nonce.as_bytes(), &rec).await?;
    Ok(DeviceChallenge { nonce, expires_at: rec.expires_at })
}

/// `POST /v1/device/session`.
pub async fn session(app: &App, req: DeviceSessionRequest, o: Origin) -> ApiResult<SessionGrant> {
    if req.nonce.len() > MAX_NONCE_LEN || req.signature.len() > MAX_SIGNATURE_LEN {
        return Err(ApiError::field("nonce or signature too long"));
    }
    let (d, user) = live_device(app, &req.device_id).await?;
    let sig = decode_signature(&req.signature)?;
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
        client: Some(d.client),
        address: Some(o.addr.to_string()),
        operator: None,
    };
    // A stored key that no longer passes the checks (registered before them) verifies nothing.
    let verified = decode_public_key(&d.public_key).is_ok_and(|key| {
        key.verify_strict(&device_session_message(&d.id, &req.nonce), &sig).is_ok()
    });
    if !verified {
        app.audit(o.now_ms, AuditKind::SignInFailed, &c, Some("bad device signature".into()))
            .await?;
        app.commit().await?;
        return Err(bad_signature("device"));
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
    let scope = SessionScope::Full;
    let s = sessions::issue(app, &user, d.client, scope, Some(grant), Basis::Registration, o.now)
        .await?;
    app.audit(o.now_ms, AuditKind::DeviceSession, &c, Some(d.id)).await?;
    app.commit().await?;
    Ok(s)
}

/// A user's devices and agents.
pub async fn list(app: &App, user: &UserRecord) -> ApiResult<Vec<DeviceRecord>> {
    Ok(app
        .repo
        .scan::<DeviceRecord>(Tree::Devices, &device_prefix(&user.id), None, 10_000)
        .await?
        .into_iter()
        .map(|(_, d)| d)
        .collect())
}

/// Revokes one registration (or all when `id` is `None`); returns how many changed. Their
/// sessions end with them (checked on every request).
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
