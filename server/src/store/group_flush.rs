//! Group commit for the embedded store: every acknowledged write is flushed to disk before
//! the response, but one flush serves every request that wrote before it started.
//!
//! A request's `Store::flush` (through `App::commit`) lands in [`GroupFlush::commit`]. A
//! single background task runs sled flushes (`fsync`) back to back while anyone waits; a
//! caller waits for the first flush that *started* after its call, so its writes are
//! covered. At 3,000 writes/s this turns thousands of fsyncs into a few hundred. (PostgreSQL
//! needs none of this: each of its writes is committed by the statement that makes it.)

use super::StoreError;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use tokio::sync::{Notify, watch};

/// See the module docs.
pub struct GroupFlush {
    stopped: std::sync::atomic::AtomicBool,
    started: AtomicU64,
    wake: Notify,
    done: watch::Receiver<(u64, bool)>,
    flushes: AtomicU64,
}

impl std::fmt::Debug for GroupFlush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupFlush")
            .field("started", &self.started.load(Ordering::Relaxed))
            .finish()
    }
}

impl GroupFlush {
    /// Starts the flusher task on the current runtime. It holds the database weakly, so
    /// dropping the store closes it (and releases the data dir's lock).
    pub fn start(db: Weak<sled::Db>) -> Arc<Self> {
        let (tx, rx) = watch::channel((0u64, true));
        let this = Arc::new(Self {
            stopped: std::sync::atomic::AtomicBool::new(false),
            started: AtomicU64::new(0),
            wake: Notify::new(),
            done: rx,
            flushes: AtomicU64::new(0),
        });
        let me = this.clone();
        tokio::spawn(async move {
            loop {
                me.wake.notified().await;
                if me.stopped.load(Ordering::SeqCst) {
                    return;
                }
                let epoch = me.started.fetch_add(1, Ordering::SeqCst) + 1;
                let Some(db) = db.upgrade() else { return };
                // fsync blocks: the blocking pool runs it, never an async worker.
                let ok = match tokio::task::spawn_blocking(move || db.flush()).await {
                    Ok(Ok(_)) => true,
                    Ok(Err(e)) => {
                        tracing::error!(error = %e, "flush failed");
                        false
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "flush task failed");
                        false
                    }
                };
                me.flushes.fetch_add(1, Ordering::Relaxed);
                if tx.send((epoch, ok)).is_err() {
                    return;
                }
            }
        });
        this
    }

    /// Waits until every write made before this call is on disk.
    pub async fn commit(&self) -> Result<(), StoreError> {
        let need = self.started.load(Ordering::SeqCst) + 1;
        self.wake.notify_one();
        let mut rx = self.done.clone();
        loop {
            let (epoch, ok) = *rx.borrow_and_update();
            if epoch >= need {
                return if ok { Ok(()) } else { Err(StoreError::Backend("flush failed".into())) };
            }
            if rx.changed().await.is_err() {
                return Err(StoreError::Backend("flusher stopped".into()));
            }
        }
    }

    /// Ends the flusher task (when the store closes).
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }

    /// Flushes performed so far.
    pub fn flush_count(&self) -> u64 {
        self.flushes.load(Ordering::Relaxed)
    }
}
