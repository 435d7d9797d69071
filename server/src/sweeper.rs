//! The sweeper: a background task that removes expired records (nonces, challenges,
//! sessions, operator sessions, throttle records, rate and message-limit windows).
//!
//! Each run asks the store for one bounded batch per tree ([`Store::sweep_expired`]),
//! continuing where the previous run stopped, so a run's cost is bounded however large the
//! trees grow. Every `sweep_interval_secs` the sweeper makes one *pass*: runs back to back,
//! a short pause between them, until every tree has been examined to its end. So expired
//! records never outlive one interval plus a pass, whatever the rate they are created at
//! (one batch per interval removed at most `sweep_batch` records a minute per tree: fewer
//! than a server issues sessions). Removal is a compare-and-swap of the exact record read,
//! decided by the record's own `expires_at`, so several replicas may sweep at once.
//! Counters: `twostep_sweeper_runs_total`, `_scanned_total`, `_removed_total`.
//!
//! [`Store::sweep_expired`]: crate::store::Store::sweep_expired

use crate::app::App;
use crate::metrics::{add, inc};
use crate::store::{StoreError, Tree};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Weak};

/// Where each tree's next batch starts, and which trees the current pass has finished.
#[derive(Debug, Default)]
pub struct Cursors {
    next: HashMap<Tree, Vec<u8>>,
    done: HashSet<Tree>,
}

impl Cursors {
    /// Every tree was examined to its end: the pass is complete (the next run starts a new
    /// one).
    pub fn pass_complete(&self) -> bool {
        self.done.len() == Tree::EXPIRING.len()
    }
}

/// The pause between the runs of a pass, so that requests keep the store to themselves most
/// of the time.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// One run: a batch of every expiring tree the current pass has not finished; returns how
/// many records it removed.
pub async fn sweep_once(app: &App, cursors: &mut Cursors, now: u64) -> Result<usize, StoreError> {
    let batch = app.config.sweep_batch.max(1);
    if cursors.pass_complete() {
        cursors.done.clear();
    }
    let mut removed = 0;
    for tree in Tree::EXPIRING {
        if cursors.done.contains(&tree) {
            continue;
        }
        let after = cursors.next.get(&tree).cloned();
        let b = app.repo.store().sweep_expired(tree, after.as_deref(), batch, now).await?;
        match b.next {
            Some(next) => {
                cursors.next.insert(tree, next);
            }
            None => {
                cursors.next.remove(&tree);
                cursors.done.insert(tree);
            }
        }
        add(&app.metrics.sweeper_scanned_total, b.scanned as u64);
        add(&app.metrics.sweeper_removed_total, b.removed as u64);
        removed += b.removed;
    }
    inc(&app.metrics.sweeper_runs_total);
    Ok(removed)
}

/// Starts the background task; it ends when the app is dropped or the handle is aborted.
pub fn start(app: &Arc<App>) -> tokio::task::JoinHandle<()> {
    let weak: Weak<App> = Arc::downgrade(app);
    let every = std::time::Duration::from_secs(app.config.sweep_interval_secs.max(1));
    tokio::spawn(async move {
        let mut cursors = Cursors::default();
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // One pass: runs until every tree was examined to its end.
            loop {
                let Some(app) = weak.upgrade() else { return };
                if let Err(e) = sweep_once(&app, &mut cursors, crate::clock::now()).await {
                    tracing::warn!(error = %e, "sweeping expired records failed");
                    break;
                }
                if cursors.pass_complete() {
                    break;
                }
                drop(app);
                tokio::time::sleep(PAUSE).await;
            }
        }
    })
}
