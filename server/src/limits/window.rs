//! Fixed-window counters: at most `limit` events per window, counted atomically.

use crate::store::repo::Change;
use crate::store::{Repo, StoreError, Tree};
use serde::{Deserialize, Serialize};

/// Seconds in a UTC day.
pub const DAY_SECS: u64 = 86_400;

/// How a window is placed in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// Starts at the first event and lasts this many seconds.
    Rolling(u64),
    /// The UTC day of the event.
    UtcDay,
}

impl Span {
    fn start(self, now: u64) -> u64 {
        match self {
            Span::Rolling(_) => now,
            Span::UtcDay => now - now % DAY_SECS,
        }
    }

    fn len(self) -> u64 {
        match self {
            Span::Rolling(s) => s.max(1),
            Span::UtcDay => DAY_SECS,
        }
    }
}

/// A window's count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// Unix seconds the window began.
    pub start: u64,
    /// Events counted in it.
    pub count: u32,
    /// Unix seconds the window ends (and the record may be swept).
    pub expires_at: u64,
}

/// An event counted by [`hit`], to hand back with [`refund`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    tree: Tree,
    key: Vec<u8>,
    start: u64,
}

/// Counts one event under `key` if its window has room; otherwise the seconds until the
/// window ends.
pub async fn hit(
    repo: &Repo,
    tree: Tree,
    key: &[u8],
    limit: u32,
    span: Span,
    now: u64,
) -> Result<Result<Counted, u64>, StoreError> {
    let r = repo
        .update::<Window, u64, _>(tree, key, |cur| {
            let mut w = match cur {
                Some(w) if w.expires_at > now => w,
                _ => {
                    let start = span.start(now);
                    Window { start, count: 0, expires_at: start + span.len() }
                }
            };
            if w.count >= limit {
                return Change::Abort(w.expires_at - now);
            }
            w.count = w.count.saturating_add(1);
            Change::Put(w)
        })
        .await?;
    Ok(match r {
        Ok(Some(w)) => Ok(Counted { tree, key: key.to_vec(), start: w.start }),
        Ok(None) => Err(1),
        Err(wait) => Err(wait),
    })
}

/// Seconds to wait if the window of `key` is full (a read; nothing is counted).
pub async fn full(
    repo: &Repo,
    tree: Tree,
    key: &[u8],
    limit: u32,
    now: u64,
) -> Result<Option<u64>, StoreError> {
    let w: Option<Window> = repo.get(tree, key).await?;
    Ok(w.filter(|w| w.expires_at > now && w.count >= limit).map(|w| w.expires_at - now))
}

/// Hands back an event counted by [`hit`], if its window is still the current one.
pub async fn refund(repo: &Repo, c: &Counted) -> Result<(), StoreError> {
    repo.update::<Window, (), _>(c.tree, &c.key, |cur| match cur {
        Some(mut w) if w.start == c.start && w.count > 0 => {
            w.count -= 1;
            Change::Put(w)
        }
        _ => Change::Abort(()),
    })
    .await?
    .ok();
    Ok(())
}
