//! The console's audit log: filters by user, event and time (UTC), paged oldest first.

use super::admin::enc;
use super::csrf::Csrf;
use super::messages::{human, status};
use super::page::{Chrome, PageQuery, datetime_local, parse_datetime_local, render, utc};
use super::session::Operator;
use crate::app::App;
use crate::audit::AuditFilter;
use crate::error::ApiError;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use std::sync::Arc;
use twostep_proto::*;

/// Events per page.
const PAGE: usize = 50;

struct EventRow {
    time: String,
    kind: &'static str,
    user: String,
    org: String,
    client: &'static str,
    address: String,
    operator: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPageView {
    c: Chrome,
    user: String,
    kind: String,
    kinds: Vec<&'static str>,
    from: String,
    to: String,
    events: Vec<EventRow>,
    first: bool,
    first_href: String,
    next_href: Option<String>,
}

/// `GET /admin/audit` query (all optional; empty means no filter).
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    user: Option<String>,
    kind: Option<String>,
    from: Option<String>,
    to: Option<String>,
    after: Option<u64>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn filter(q: &AuditQuery) -> Result<AuditFilter, ApiError> {
    let time = |v: Option<&str>, what: &str| -> Result<Option<u64>, ApiError> {
        v.map(|s| {
            parse_datetime_local(s).ok_or_else(|| {
                ApiError::field(format!("{what} must be a date and time like 2026-03-01T14:00"))
            })
        })
        .transpose()
    };
    Ok(AuditFilter {
        user: non_empty(&q.user).map(|u| normalize_username(u).unwrap_or_else(|| u.to_owned())),
        kind: match non_empty(&q.kind) {
            Some(k) => Some(AuditKind::parse(k).ok_or_else(|| ApiError::field("unknown event"))?),
            None => None,
        },
        from_ms: time(non_empty(&q.from), "from")?,
        to_ms: time(non_empty(&q.to), "until")?,
    })
}

/// `GET /admin/audit`.
pub async fn page(
    State(app): State<Arc<App>>,
    op: Operator,
    Csrf(csrf): Csrf,
    PageQuery(q): PageQuery<AuditQuery>,
) -> Response {
    let c = Chrome::new(&app, &csrf, "Audit log").operator(&op.name, "audit");
    let href = |f: &AuditFilter, after: Option<u64>| {
        let mut h = format!(
            "/admin/audit?user={}&kind={}&from={}&to={}",
            enc(f.user.as_deref().unwrap_or("")),
            f.kind.map(|k| k.as_str()).unwrap_or(""),
            enc(&f.from_ms.map(datetime_local).unwrap_or_default()),
            enc(&f.to_ms.map(datetime_local).unwrap_or_default()),
        );
        if let Some(a) = after {
            h.push_str(&format!("&after={a}"));
        }
        h
    };
    let (f, result) = match filter(&q) {
        Ok(f) => {
            let r =
                crate::audit::search(&app.repo, q.after, PAGE, &f).await.map_err(ApiError::from);
            (f, r)
        }
        Err(e) => (AuditFilter::default(), Err(e)),
    };
    let (events, next, err) = match result {
        Ok(p) => (p.events, p.next_after, None),
        Err(e) => (vec![], None, Some(e)),
    };
    let rows = events
        .into_iter()
        .map(|e| EventRow {
            time: utc(e.at_ms),
            kind: e.kind.as_str(),
            user: e.user.unwrap_or_default(),
            org: e.org.unwrap_or_default(),
            client: e.client.map(|c| c.as_str()).unwrap_or(""),
            address: e.address.unwrap_or_default(),
            operator: e.operator.unwrap_or_default(),
            detail: e.detail.unwrap_or_default(),
        })
        .collect();
    render(
        err.as_ref().map(status).unwrap_or(StatusCode::OK),
        &AuditPageView {
            c: c.error(err.as_ref().map(human)),
            user: non_empty(&q.user).unwrap_or("").to_owned(),
            kind: non_empty(&q.kind).unwrap_or("").to_owned(),
            kinds: AuditKind::ALL.iter().map(|k| k.as_str()).collect(),
            from: non_empty(&q.from).unwrap_or("").to_owned(),
            to: non_empty(&q.to).unwrap_or("").to_owned(),
            events: rows,
            first: q.after.is_none(),
            first_href: href(&f, None),
            next_href: next.map(|a| href(&f, Some(a))),
        },
    )
}
