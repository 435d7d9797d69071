//! The checking proxy: clients under test (the core) talk to the server through it, and
//! every exchange is checked against the OpenAPI document on the way. It forwards bytes
//! unchanged (status, headers such as `x-twostep-server-time` and `Retry-After`, bodies), runs
//! only while the server runs (a stopped server is unreachable through it too) and comes
//! back on the same port.

use crate::contract::{Checker, Exchange};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// Headers that belong to one connection, not to the message.
const HOP: [HeaderName; 4] =
    [header::HOST, header::CONNECTION, header::CONTENT_LENGTH, header::TRANSFER_ENCODING];

struct Upstream {
    base: String,
    http: reqwest::Client,
    checker: Checker,
}

/// A running proxy.
pub(crate) struct Proxy {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Listens on `bind` (port 0 for a fresh one) and forwards to `upstream`.
    pub(crate) async fn start(
        bind: SocketAddr,
        upstream: String,
        checker: Checker,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Upstream { base: upstream, http: reqwest::Client::new(), checker });
        let app = axum::Router::new().fallback(forward).with_state(state);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self { addr, stop: Some(stop), task })
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets answers in flight finish and closes idle connections.
    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut self.task).await.is_err() {
            self.task.abort();
        }
    }
}

async fn forward(State(up): State<Arc<Upstream>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 1 << 20).await else {
        return (StatusCode::BAD_GATEWAY, "proxy: unreadable request body").into_response();
    };
    let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
    let mut out = up.http.request(parts.method.clone(), format!("{}{path}", up.base));
    for (k, v) in &parts.headers {
        if !HOP.contains(k) {
            out = out.header(k, v);
        }
    }
    let resp = match out.body(body.clone()).send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, format!("proxy: {e}")).into_response(),
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let Ok(answer) = resp.bytes().await else {
        return (StatusCode::BAD_GATEWAY, "proxy: unreadable answer").into_response();
    };
    let content_type = |h: &axum::http::HeaderMap| {
        h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned)
    };
    let (req_type, resp_type) = (content_type(&parts.headers), content_type(&headers));
    // A violation is kept by the checker; the harness fails the test with it.
    let _ = up.checker.check(
        &Exchange {
            method: parts.method.as_str(),
            path: &path,
            request_type: req_type.as_deref(),
            request: &body,
            status: status.as_u16(),
            response_type: resp_type.as_deref(),
            response: &answer,
        },
        true,
    );
    let mut r = Response::new(Body::from(answer));
    *r.status_mut() = status;
    for (k, v) in &headers {
        if !HOP.contains(k) {
            r.headers_mut().append(k, v.clone());
        }
    }
    r
}
