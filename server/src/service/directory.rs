//! What operators browse: the list of organizations, users found by name, and the
//! preview of a policy change (how many users it affects, before it is saved).
//!
//! Users are keyed by username and carry their org, so these scan the users tree in key
//! order, in batches; fine for the sizes one server holds, and bounded per call.

use super::admin::{apply_policy, get_org, org_view};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::model::{OrgRecord, UserRecord};
use crate::store::Tree;
use twostep_proto::*;

/// Users scanned per store call.
const BATCH: usize = 500;
/// Most users one list returns.
pub const MAX_USER_PAGE: usize = 200;

/// `GET /v1/admin/orgs`: every organization, by name.
pub async fn list_orgs(app: &App) -> ApiResult<OrgList> {
    let mut orgs = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let batch: Vec<(Vec<u8>, OrgRecord)> =
            app.repo.scan(Tree::Orgs, b"", after.as_deref(), BATCH).await?;
        let done = batch.len() < BATCH;
        for (k, org) in batch {
            after = Some(k);
            orgs.push(org_view(app, org).await?);
        }
        if done {
            return Ok(OrgList { orgs });
        }
    }
}

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Part of the username (case-insensitive).
    pub text: Option<String>,
    /// Only this organization.
    pub org: Option<String>,
    /// Start after this username.
    pub after: Option<String>,
    /// At most this many (1..=[`MAX_USER_PAGE`]).
    pub limit: usize,
}

/// `GET /v1/admin/users`: users whose name contains `text`, by username, paged.
pub async fn list_users(app: &App, q: &UserQuery) -> ApiResult<UserList> {
    let limit = q.limit.clamp(1, MAX_USER_PAGE);
    let text = q.text.as_deref().map(|t| t.trim().to_ascii_lowercase()).filter(|t| !t.is_empty());
    if text.as_ref().is_some_and(|t| t.len() > MAX_USERNAME_LEN) {
        return Err(ApiError::field(format!("search text is longer than {MAX_USERNAME_LEN}")));
    }
    if let Some(org) = &q.org {
        get_org(app, org).await?;
    }
    let mut users = Vec::new();
    let mut after = q.after.as_ref().map(|a| a.as_bytes().to_vec());
    loop {
        let batch: Vec<(Vec<u8>, UserRecord)> =
            app.repo.scan(Tree::Users, b"", after.as_deref(), BATCH).await?;
        let done = batch.len() < BATCH;
        for (k, u) in batch {
            after = Some(k);
            if q.org.as_ref().is_some_and(|o| *o != u.org)
                || text.as_ref().is_some_and(|t| !u.username.contains(t.as_str()))
            {
                continue;
            }
            users.push(list_item(app, &u).await?);
            if users.len() >= limit {
                let next_after = users.last().map(|i| i.user.username.clone());
                return Ok(UserList { users, next_after });
            }
        }
        if done {
            return Ok(UserList { users, next_after: None });
        }
    }
}

async fn list_item(app: &App, u: &UserRecord) -> ApiResult<UserListItem> {
    let enabled = u.two_step.enabled();
    Ok(UserListItem {
        user: super::sessions::summary(u),
        two_step_enabled: enabled,
        origin: if enabled { u.two_step.origin } else { None },
        channels: u.two_step.confirmed_channels(),
        locked: crate::throttle::account_state(&app.repo, &u.username).await?.locked,
    })
}

/// `POST /v1/admin/orgs/{org}/policy/preview`: validates `update` exactly as saving would
/// and counts the users it concerns. Changes nothing.
pub async fn policy_preview(
    app: &App,
    org: &str,
    update: &PolicyUpdate,
) -> ApiResult<PolicyPreview> {
    let current = get_org(app, org).await?.policy;
    let mut proposed = current.clone();
    apply_policy(&mut proposed, update)?;
    let mut p = PolicyPreview {
        org: org.to_owned(),
        current,
        proposed,
        users: 0,
        without_two_step: 0,
        forced: 0,
        chosen: 0,
    };
    let mut after: Option<Vec<u8>> = None;
    loop {
        let batch: Vec<(Vec<u8>, UserRecord)> =
            app.repo.scan(Tree::Users, b"", after.as_deref(), BATCH).await?;
        let done = batch.len() < BATCH;
        for (k, u) in batch {
            after = Some(k);
            if u.org != org {
                continue;
            }
            p.users += 1;
            match (u.two_step.enabled(), u.two_step.origin) {
                (false, _) => p.without_two_step += 1,
                (true, Some(TwoStepOrigin::Forced)) => p.forced += 1,
                (true, _) => p.chosen += 1,
            }
        }
        if done {
            return Ok(p);
        }
    }
}
