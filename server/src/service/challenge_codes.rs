//! The second step of a sign-in: a code (TOTP, SMS, email) or a recovery code against an
//! open challenge.
//!
//! The verdict is computed first (pure, cheap) but revealed only after one atomic step in
//! the store ([`super::attempts`]): a wrong code is counted against the account and the
//! address before the challenge's tries are touched (closed gates answer `429` and change
//! nothing); a right one passes only while both gates are open, and then wins an atomic
//! compare-and-swap (the user's last TOTP step, the challenge, the recovery code), so one
//! code succeeds once however many requests carry it.

use super::attempts;
use super::codes::{self, normalize};
use super::sessions::Basis;
use super::signin::{Origin, complete, ctx, open_challenge};
use crate::app::App;
use crate::error::{ApiError, ApiResult};
use crate::metrics::inc;
use crate::model::{ChallengeRecord, UserRecord};
use crate::store::Tree;
use crate::store::repo::Change;
use twostep_proto::*;

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
    let c = ctx(&user.username, Some(&user.org), ch.client, &o);
    let purpose = format!("challenge:{}", ch.id);
    // The verdict, before anything is written.
    let step = if ch.channel == Channel::Totp {
        let Some(t) = user.two_step.totp.as_ref().filter(|t| t.confirmed) else {
            return Err(ApiError::new(
                ErrorCode::ChannelNotConfigured,
                "the authenticator app is no longer configured",
            ));
        };
        let secret = codes::totp_secret(app, &user, t)?;
        crate::totp::matching_step(&secret, &code, o.now)
    } else {
        None
    };
    let right = match (&ch.code, step) {
        (_, Some(_)) => true,
        (Some(p), None) => {
            p.expires_at > o.now
                && p.tries_left > 0
                && codes::pending_matches(app, &purpose, p, &code)
        }
        (None, None) => false,
    };
    inc(&app.metrics.code_verifications_total);
    // The atomic step that decides what this attempt may reveal.
    let mut counted = None;
    let mut totp_ok = false;
    if right {
        attempts::gates_open(app, &user.username, &o).await?;
        if let Some(step) = step {
            totp_ok = accept_totp_step(app, &user, step, None).await?;
            if !totp_ok {
                // The step was used meanwhile (a replay): a failure after all.
                attempts::count_anyway(app, &user.username, &c, &o).await?;
            }
        }
    } else {
        counted = Some(attempts::reserve(app, &user.username, &o).await?);
    }

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
                    if right && codes::pending_matches(app, &purpose, p, &code) {
                        return Change::Remove;
                    }
                    p.tries_left -= 1;
                    Change::Put(cur)
                }
            }
        })
        .await?;
    let verdict = match verdict {
        Ok(None) if totp_ok || (ch.channel != Channel::Totp && right) => Verdict::Accept,
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
            let grant =
                complete(app, &user, ch.client, ch.device, Basis::SecondStep, &c, &o).await?;
            app.commit().await?;
            Ok(SignInResponse::Session(grant))
        }
        Verdict::Wrong(left) => {
            inc(&app.metrics.code_failures_total);
            match counted {
                Some(a) => {
                    a.failed(app, &c, o.now_ms).await?;
                }
                // Passed the gates as right, then lost the code to a concurrent use.
                None if ch.channel != Channel::Totp || totp_ok => {
                    attempts::count_anyway(app, &user.username, &c, &o).await?
                }
                None => {}
            }
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
        Verdict::Expired | Verdict::Gone => {
            if let Some(a) = counted {
                // Nothing was checked: the attempt is handed back.
                a.refund(app).await?;
            }
            Err(match verdict {
                Verdict::Expired => ApiError::new(
                    ErrorCode::CodeExpired,
                    "the code has expired or was tried too often; request a new one",
                ),
                _ => ApiError::new(
                    ErrorCode::ChallengeExpired,
                    "this sign-in is no longer open; sign in again",
                ),
            })
        }
    }
}

/// Atomically records `step` as the user's last accepted TOTP step if it is newer.
/// `user` is the record as this request read it (usually still current: saves a read).
/// `on_accept` is appended to the audit log in the same write when the step is accepted.
pub async fn accept_totp_step(
    app: &App,
    user: &UserRecord,
    step: u64,
    on_accept: Option<&AuditEvent>,
) -> ApiResult<bool> {
    let newer = |cur: Option<UserRecord>| {
        let Some(mut u) = cur else { return Change::Abort(()) };
        let Some(t) = u.two_step.totp.as_mut() else { return Change::Abort(()) };
        if t.last_step.is_some_and(|last| step <= last) {
            return Change::Abort(());
        }
        t.last_step = Some(step);
        Change::Put(u)
    };
    let key = user.username.as_bytes();
    let r = match on_accept {
        Some(ev) => {
            app.repo.update_from_and_append(Tree::Users, key, user, newer, Tree::Audit, ev).await?
        }
        None => app.repo.update_from(Tree::Users, key, user, newer).await?,
    };
    if let (Ok(_), Some(ev)) = (&r, on_accept) {
        crate::audit::log(ev);
    }
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
    if sub.code.len() > MAX_CODE_INPUT_LEN {
        return Err(ApiError::field("a recovery code is 10 characters"));
    }
    let c = ctx(&user.username, Some(&user.org), ch.client, &o);
    let right = codes::recovery_index(app, &user, &sub.code).is_some();
    let mut counted = None;
    let used = if right {
        attempts::gates_open(app, &user.username, &o).await?;
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
    } else {
        counted = Some(attempts::reserve(app, &user.username, &o).await?);
        None
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
            let grant =
                complete(app, &fresh, ch.client, ch.device, Basis::SecondStep, &c, &o).await?;
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
            match counted {
                Some(a) => {
                    a.failed(app, &c, o.now_ms).await?;
                }
                None => attempts::count_anyway(app, &user.username, &c, &o).await?,
            }
            app.audit(o.now_ms, AuditKind::CodeRejected, &c, Some("recovery".into())).await?;
            app.commit().await?;
            Err(ApiError::wrong_code(left.ok().flatten().map(|r| r.tries_left).unwrap_or(0)))
        }
    }
}
