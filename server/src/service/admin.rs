//! Operators: organizations, policy, users, resets, unlocks, device revocation, audit.
//! Shared by the admin HTTP API and the `twostep-server admin` CLI.

use super::{devices, sessions, views};
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::random_id;
use crate::error::{ApiError, ApiResult};
use crate::model::{OrgRecord, TwoStepRecord, UserRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use twostep_proto::*;

pub use super::operators::{
    OPERATOR_SESSION_SECS, authenticate_operator, bootstrap, create_operator, operator_sign_in,
};

/// Who acts, from where.
#[derive(Debug, Clone)]
pub struct Actor {
    pub operator: String,
    pub address: Option<String>,
    pub now: u64,
    pub now_ms: u64,
}

impl Actor {
    pub(crate) fn ctx(&self, user: Option<&str>, org: Option<&str>) -> Ctx {
        Ctx {
            user: user.map(str::to_owned),
            org: org.map(str::to_owned),
            client: None,
            address: self.address.clone(),
            operator: Some(self.operator.clone()),
        }
    }
}

pub(crate) fn check_password(pw: &str) -> ApiResult<()> {
    if pw.len() < MIN_PASSWORD_LEN || pw.len() > MAX_PASSWORD_LEN {
        return Err(ApiError::field(format!(
            "password must be {MIN_PASSWORD_LEN}..={MAX_PASSWORD_LEN} bytes"
        )));
    }
    Ok(())
}

pub(crate) fn apply_policy(p: &mut OrgPolicy, u: &PolicyUpdate) -> ApiResult<()> {
    if let Some(v) = u.require_two_step {
        p.require_two_step = v;
    }
    if let Some(v) = u.passcode_min_length {
        if !(MIN_PASSCODE_LENGTH..=MAX_PASSCODE_LENGTH).contains(&v) {
            return Err(ApiError::field(format!(
                "passcode_min_length must be {MIN_PASSCODE_LENGTH}..={MAX_PASSCODE_LENGTH}"
            )));
        }
        p.passcode_min_length = v;
    }
    if let Some(v) = u.passcode_alphanumeric {
        p.passcode_alphanumeric = v;
    }
    if let Some(v) = u.passcode_max_attempts {
        if !(1..=MAX_PASSCODE_MAX_ATTEMPTS).contains(&v) {
            return Err(ApiError::field(format!(
                "passcode_max_attempts must be 1..={MAX_PASSCODE_MAX_ATTEMPTS}"
            )));
        }
        p.passcode_max_attempts = v;
    }
    if let Some(v) = u.passcode_lock_timeout_secs {
        if v > MAX_LOCK_TIMEOUT_SECS {
            return Err(ApiError::field(format!(
                "passcode_lock_timeout_secs must be 0..={MAX_LOCK_TIMEOUT_SECS}"
            )));
        }
        p.passcode_lock_timeout_secs = v;
    }
    if let Some(v) = u.wipe_vault_on_max_attempts {
        p.wipe_vault_on_max_attempts = v;
    }
    for (value, slot, name) in [
        (u.max_messages_per_user_per_day, &mut p.max_messages_per_user_per_day, "user"),
        (
            u.max_messages_per_destination_per_day,
            &mut p.max_messages_per_destination_per_day,
            "destination",
        ),
        (u.max_messages_per_org_per_day, &mut p.max_messages_per_org_per_day, "org"),
    ] {
        if let Some(v) = value {
            if !(1..=MAX_MESSAGES_PER_DAY).contains(&v) {
                return Err(ApiError::field(format!(
                    "max_messages_per_{name}_per_day must be 1..={MAX_MESSAGES_PER_DAY}"
                )));
            }
            *slot = v;
        }
    }
    Ok(())
}

pub(crate) async fn org_view(app: &App, org: OrgRecord) -> ApiResult<OrgView> {
    let users = app
        .repo
        .get::<u64>(Tree::Meta, format!("orgcount:{}", org.name).as_bytes())
        .await?
        .unwrap_or(0);
    Ok(OrgView { name: org.name, policy: org.policy, users })
}

/// `POST /v1/admin/orgs`.
pub async fn create_org(app: &App, req: &CreateOrg, actor: &Actor) -> ApiResult<OrgView> {
    if !valid_org_name(&req.name) {
        return Err(ApiError::field("org name must be 1..=64 characters of a-z 0-9 . _ -"));
    }
    let mut policy = OrgPolicy::default();
    if let Some(u) = &req.policy {
        apply_policy(&mut policy, u)?;
    }
    let rec = OrgRecord { name: req.name.clone(), policy, created_at: actor.now };
    if !app.repo.insert_new(Tree::Orgs, req.name.as_bytes(), &rec).await? {
        return Err(ApiError::new(ErrorCode::Conflict, "an organization with that name exists"));
    }
    app.audit(
        actor.now_ms,
        AuditKind::OrgCreated,
        &actor.ctx(None, Some(&req.name)),
        Some(format!("{:?}", rec.policy)),
    )
    .await?;
    app.commit().await?;
    org_view(app, rec).await
}

/// `GET /v1/admin/orgs/{org}`.
pub async fn get_org(app: &App, name: &str) -> ApiResult<OrgView> {
    let org: OrgRecord = app
        .repo
        .get(Tree::Orgs, name.as_bytes())
        .await?
        .ok_or_else(|| ApiError::not_found("organization"))?;
    org_view(app, org).await
}

/// `PATCH /v1/admin/orgs/{org}/policy`.
pub async fn update_policy(
    app: &App,
    name: &str,
    upd: &PolicyUpdate,
    actor: &Actor,
) -> ApiResult<OrgView> {
    let r = app
        .repo
        .update::<OrgRecord, ApiError, _>(Tree::Orgs, name.as_bytes(), |cur| {
            let Some(mut org) = cur else {
                return Change::Abort(ApiError::not_found("organization"));
            };
            match apply_policy(&mut org.policy, upd) {
                Ok(()) => Change::Put(org),
                Err(e) => Change::Abort(e),
            }
        })
        .await??;
    let org = r.ok_or_else(|| ApiError::not_found("organization"))?;
    app.audit(
        actor.now_ms,
        AuditKind::PolicyChanged,
        &actor.ctx(None, Some(name)),
        Some(format!("{upd:?}")),
    )
    .await?;
    app.commit().await?;
    org_view(app, org).await
}

/// `POST /v1/admin/orgs/{org}/users`.
pub async fn create_user(
    app: &App,
    org: &str,
    req: &CreateUser,
    actor: &Actor,
) -> ApiResult<AdminUserView> {
    let username = normalize_username(&req.username).ok_or_else(|| {
        ApiError::field("username must be 1..=64 characters of a-z 0-9 . _ @ + -")
    })?;
    check_password(&req.password)?;
    get_org(app, org).await?;
    if app.user(&username).await?.is_some() {
        return Err(ApiError::new(ErrorCode::Conflict, "a user with that name exists"));
    }
    let hash = app.hasher.hash(&req.password).await?;
    let rec = UserRecord {
        id: random_id(),
        username: username.clone(),
        org: org.to_owned(),
        password_hash: hash,
        created_at: actor.now,
        epoch: 0,
        second_step_epoch: 0,
        second_step_confirmed_by: None,
        two_step: TwoStepRecord::default(),
    };
    if !app.repo.insert_new(Tree::Users, username.as_bytes(), &rec).await? {
        return Err(ApiError::new(ErrorCode::Conflict, "a user with that name exists"));
    }
    let key = format!("orgcount:{org}");
    app.repo
        .update::<u64, (), _>(Tree::Meta, key.as_bytes(), |n| Change::Put(n.unwrap_or(0) + 1))
        .await?
        .ok();
    app.audit(actor.now_ms, AuditKind::UserCreated, &actor.ctx(Some(&username), Some(org)), None)
        .await?;
    app.commit().await?;
    user_view(app, &username).await
}

/// `GET /v1/admin/users/{username}`.
pub async fn user_view(app: &App, username: &str) -> ApiResult<AdminUserView> {
    let u = app
        .user_required(&normalize_username(username).ok_or_else(|| ApiError::not_found("user"))?)
        .await?;
    let t = crate::throttle::account_state(&app.repo, &u.username).await?;
    let devices = devices::list(app, &u).await?.iter().map(|d| views::device(d, &u)).collect();
    Ok(AdminUserView {
        user: sessions::summary(&u),
        two_step: views::settings(app, &u).await,
        locked: t.locked,
        consecutive_failures: t.failures,
        devices,
    })
}

async fn modify_user<F: FnMut(&mut UserRecord)>(
    app: &App,
    username: &str,
    mut f: F,
) -> ApiResult<UserRecord> {
    let name = normalize_username(username).ok_or_else(|| ApiError::not_found("user"))?;
    let r = app
        .repo
        .update::<UserRecord, (), _>(Tree::Users, name.as_bytes(), |cur| match cur {
            Some(mut u) => {
                f(&mut u);
                Change::Put(u)
            }
            None => Change::Abort(()),
        })
        .await?;
    r.ok().flatten().ok_or_else(|| ApiError::not_found("user"))
}

/// `POST /v1/admin/users/{username}/reset-two-step`: clears two-step, revokes sessions and devices.
pub async fn reset_two_step(app: &App, username: &str, actor: &Actor) -> ApiResult<AdminUserView> {
    let u = modify_user(app, username, |u| {
        u.two_step = TwoStepRecord::default();
        u.epoch += 1;
    })
    .await?;
    app.audit(
        actor.now_ms,
        AuditKind::AdminResetTwoStep,
        &actor.ctx(Some(&u.username), Some(&u.org)),
        Some("sessions and devices revoked".into()),
    )
    .await?;
    app.commit().await?;
    user_view(app, &u.username).await
}

/// `POST /v1/admin/users/{username}/unlock`.
pub async fn unlock(app: &App, username: &str, actor: &Actor) -> ApiResult<AdminUserView> {
    let u = app
        .user_required(&normalize_username(username).ok_or_else(|| ApiError::not_found("user"))?)
        .await?;
    crate::throttle::account_reset(&app.repo, &u.username).await?;
    app.audit(
        actor.now_ms,
        AuditKind::AdminUnlock,
        &actor.ctx(Some(&u.username), Some(&u.org)),
        None,
    )
    .await?;
    app.commit().await?;
    user_view(app, &u.username).await
}

/// `DELETE /v1/admin/users/{username}/devices[/{id}]`.
pub async fn revoke_devices(
    app: &App,
    username: &str,
    id: Option<&str>,
    actor: &Actor,
) -> ApiResult<AdminUserView> {
    let u = app
        .user_required(&normalize_username(username).ok_or_else(|| ApiError::not_found("user"))?)
        .await?;
    let n = devices::revoke(app, &u, id).await?;
    app.audit(
        actor.now_ms,
        AuditKind::DeviceRevoked,
        &actor.ctx(Some(&u.username), Some(&u.org)),
        Some(format!("{n} device(s){}", id.map(|i| format!(": {i}")).unwrap_or_default())),
    )
    .await?;
    app.commit().await?;
    user_view(app, &u.username).await
}

/// `POST /v1/admin/orgs/{org}/remove-forced-two-step`: removes the enrollments that were
/// made only because of the policy. Refused while the policy is on (they would be forced again).
pub async fn remove_forced(app: &App, org: &str, actor: &Actor) -> ApiResult<RemovedCount> {
    let o = get_org(app, org).await?;
    if o.policy.require_two_step {
        return Err(ApiError::new(
            ErrorCode::PolicyRequiresTwoStep,
            "turn the policy off before removing forced enrollments",
        ));
    }
    let mut removed = 0;
    let mut after: Option<Vec<u8>> = None;
    loop {
        let batch: Vec<(Vec<u8>, UserRecord)> =
            app.repo.scan(Tree::Users, b"", after.as_deref(), 500).await?;
        let done = batch.len() < 500;
        for (k, u) in batch {
            after = Some(k);
            if u.org != org
                || u.two_step.origin != Some(TwoStepOrigin::Forced)
                || !u.two_step.enabled()
            {
                continue;
            }
            let r = app
                .repo
                .update::<UserRecord, (), _>(Tree::Users, u.username.as_bytes(), |cur| match cur {
                    Some(mut x) if x.two_step.origin == Some(TwoStepOrigin::Forced) => {
                        x.two_step = TwoStepRecord::default();
                        Change::Put(x)
                    }
                    _ => Change::Abort(()),
                })
                .await?;
            if r.is_ok() {
                removed += 1;
                app.audit(
                    actor.now_ms,
                    AuditKind::AdminRemovedForcedTwoStep,
                    &actor.ctx(Some(&u.username), Some(org)),
                    None,
                )
                .await?;
            }
        }
        if done {
            break;
        }
    }
    app.commit().await?;
    Ok(RemovedCount { removed })
}
