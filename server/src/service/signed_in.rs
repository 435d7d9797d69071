//! Where a user is signed in: their live sessions — web portal, desktop agent, Outlook
//! add-in, mobile app — listed and ended one by one by the user (the agent and the add-in
//! hold a session from their registration with a code).
//!
//! Sessions are keyed by the token's hash, not by user, so listing scans the sessions tree
//! (in batches); fine for what one server holds. The id shown is a hash of that key, so a
//! listing reveals neither the token nor the stored key.

use super::sessions::{self, Authed};
use super::signin::Origin;
use crate::app::App;
use crate::audit::Ctx;
use crate::crypto::sha256_hex;
use crate::error::{ApiError, ApiResult};
use crate::model::SessionRecord;
use crate::store::Tree;
use twostep_proto::{AuditKind, SessionInfo, SessionList};

const BATCH: usize = 500;

/// The public id of the session stored under `key`.
pub fn public_id(key: &str) -> String {
    sha256_hex(key.as_bytes())[..24].to_owned()
}

async fn live(app: &App, a: &Authed, now: u64) -> ApiResult<Vec<(String, SessionRecord)>> {
    let mut out = Vec::new();
    let mut after: Option<Vec<u8>> = None;
    loop {
        let batch: Vec<(Vec<u8>, SessionRecord)> =
            app.repo.scan(Tree::Sessions, b"", after.as_deref(), BATCH).await?;
        let done = batch.len() < BATCH;
        for (k, s) in batch {
            if s.user_id == a.user.id
                && s.expires_at > now
                && sessions::still_valid(app, &s, &a.user).await.is_ok()
            {
                out.push((String::from_utf8_lossy(&k).into_owned(), s));
            }
            after = Some(k);
        }
        if done {
            out.sort_by_key(|(_, s)| s.created_at);
            return Ok(out);
        }
    }
}

/// `GET /v1/me/sessions`.
pub async fn list(app: &App, a: &Authed, now: u64) -> ApiResult<SessionList> {
    let sessions = live(app, a, now)
        .await?
        .into_iter()
        .map(|(k, s)| SessionInfo {
            id: public_id(&k),
            client: s.client,
            device_id: s.device_id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            current: k == a.key,
        })
        .collect();
    Ok(SessionList { sessions })
}

/// `DELETE /v1/me/sessions/{id}`: ends one of the user's sessions.
pub async fn revoke(app: &App, a: &Authed, id: &str, o: Origin) -> ApiResult<()> {
    let found = live(app, a, o.now).await?.into_iter().find(|(k, _)| public_id(k) == id);
    let Some((key, s)) = found else { return Err(ApiError::not_found("session")) };
    sessions::revoke(app, &key).await?;
    let c = Ctx {
        user: Some(a.user.username.clone()),
        org: Some(a.user.org.clone()),
        client: Some(a.session.client),
        address: Some(o.addr.to_string()),
        operator: None,
    };
    let detail = format!("{} session ended by the user", s.client.as_str());
    app.audit(o.now_ms, AuditKind::SignedOut, &c, Some(detail)).await?;
    app.commit().await
}
