//! Serving HTTP/1.1 with the limits a public server needs and `axum::serve` lacks.
//!
//! - **Connection cap**: at most `max_connections` are open; the accept loop waits for a free slot
//!   (others queue in the kernel's listen backlog), so file descriptors and memory stay bounded.
//! - **Header timeout**: a request head must arrive within `header_timeout_secs` (hyper's timer).
//!   It also bounds how long a keep-alive connection waits for its next request.
//! - **Body timeout**: a JSON body must arrive within `body_timeout_secs` (in the body extractor:
//!   `408 request_timeout`).
//! - **Idle timeout**: a connection on which no byte moves in either direction for
//!   `idle_timeout_secs` is closed (slow readers, stalled peers).
//!
//! Shutdown stops accepting, lets every connection finish its request, then returns.

use crate::app::App;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, oneshot, watch};
use tower::ServiceExt;

/// When a connection last moved a byte.
#[derive(Debug)]
struct Activity {
    origin: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self { origin: Instant::now(), last_ms: AtomicU64::new(0) }
    }

    fn touch(&self) {
        self.last_ms.store(self.origin.elapsed().as_millis() as u64, Ordering::Relaxed);
    }

    fn idle(&self) -> Duration {
        let now = self.origin.elapsed().as_millis() as u64;
        Duration::from_millis(now.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A TCP stream that records its activity.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Tracked {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.activity.touch();
        }
        r
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let this = self.get_mut();
        let r = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.touch();
        }
        r
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// Serves `router` on `listener` until `stop` fires (or its sender is dropped).
pub async fn serve(
    listener: TcpListener,
    router: axum::Router,
    app: Arc<App>,
    mut stop: oneshot::Receiver<()>,
) -> std::io::Result<()> {
    let c = &app.config;
    let max = c.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let idle = Duration::from_secs(c.idle_timeout_secs.max(1));
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(c.header_timeout_secs.max(1)))
        .keep_alive(true);
    let permits = Arc::new(Semaphore::new(max));
    let (drain, draining) = watch::channel(false);
    loop {
        let permit = tokio::select! {
            biased;
            _ = &mut stop => break,
            p = permits.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut stop => break,
            r = listener.accept() => match r {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        crate::metrics::inc(&app.metrics.http_connections_total);
        app.metrics.http_connections_open.fetch_add(1, Ordering::Relaxed);
        let (builder, router, app, draining) =
            (builder.clone(), router.clone(), app.clone(), draining.clone());
        tokio::spawn(async move {
            connection(stream, peer, &builder, router, &app, draining, idle).await;
            app.metrics.http_connections_open.fetch_sub(1, Ordering::Relaxed);
            drop(permit);
        });
    }
    let _ = drain.send(true);
    // Every connection returns its permit when it ends.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _ = tokio::time::timeout(Duration::from_secs(30), permits.acquire_many(all)).await;
    Ok(())
}

async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    builder: &hyper::server::conn::http1::Builder,
    router: axum::Router,
    app: &App,
    mut draining: watch::Receiver<bool>,
    idle: Duration,
) {
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked { inner: stream, activity: activity.clone() });
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(req)
    });
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let mut check = tokio::time::interval((idle / 4).max(Duration::from_millis(100)));
    let mut closing = *draining.borrow();
    if closing {
        conn.as_mut().graceful_shutdown();
    }
    loop {
        tokio::select! {
            r = conn.as_mut() => {
                if let Err(e) = r {
                    if e.is_timeout() {
                        crate::metrics::inc(&app.metrics.http_connections_timed_out_total);
                    }
                    tracing::debug!(error = %e, %peer, "connection ended");
                }
                return;
            }
            _ = draining.changed(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = check.tick() => {
                if activity.idle() >= idle {
                    crate::metrics::inc(&app.metrics.http_connections_timed_out_total);
                    return;
                }
            }
        }
    }
}
