//! `twostep-server`: accounts, organization policy and the second step at sign-in.
//!
//! The library holds everything; `main.rs` is a thin CLI (`serve`, `admin ...`). Tests and
//! benchmarks start the real server in-process with [`start`] on `127.0.0.1:0`.

pub mod app;
pub mod audit;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod datadir;
pub mod delivery;
pub mod error;
pub mod http;
pub mod limits;
pub mod mask;
pub mod metrics;
pub mod model;
pub mod passwords;
pub mod server;
pub mod service;
pub mod store;
pub mod sweeper;
pub mod throttle;
pub mod totp;
pub mod web;

pub use app::{App, StartError};
pub use config::Config;

use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::oneshot;

/// A server listening on a socket.
pub struct RunningServer {
    addr: SocketAddr,
    app: Arc<App>,
    setup_token: Option<String>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    sweeper: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl RunningServer {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://addr`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The shared state (for tests and embedding).
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// The one-time token for `POST /v1/admin/bootstrap`, if no operator existed at start.
    pub fn setup_token(&self) -> Option<&str> {
        self.setup_token.as_deref()
    }

    /// Stops accepting, finishes in-flight requests, flushes and closes the store.
    pub async fn shutdown(mut self) {
        self.sweeper.abort();
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        if let Err(e) = self.app.repo.store().flush().await {
            tracing::error!(error = %e, "final flush failed");
        }
    }

    /// Waits until the server stops by itself (it does not, unless the listener fails).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(t) => t.await.unwrap_or(Ok(())),
            None => Ok(()),
        }
    }
}

/// Opens the data dir, binds `config.listen` and serves until [`RunningServer::shutdown`].
pub async fn start(config: Config) -> Result<RunningServer, StartError> {
    let listen = config.listen;
    let app = App::open(config).await?;
    let setup_token = app
        .issue_setup_token(clock::now())
        .await
        .map_err(|e| StartError::Store(store::StoreError::Backend(e.message)))?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| StartError::Io { path: listen.to_string(), source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| StartError::Io { path: listen.to_string(), source })?;
    let router = http::routes::router(app.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server::serve(listener, router, app.clone(), rx));
    let sweeper = sweeper::start(&app);
    tracing::info!(%addr, "listening");
    Ok(RunningServer { addr, app, setup_token, stop: Some(tx), task: Some(task), sweeper })
}
