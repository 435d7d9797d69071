//! Never-used TOTP codes for the closed-loop verification benchmark, with the per-user next
//! steps saved beside the users file so that later phases never replay a code an earlier
//! phase used (the server would rightly refuse it).

use crate::now;
use crate::seed::Seeded;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// Hands out (token, code) pairs that have never been used: per user the next step is
/// max(last used + 1, now − 1) while it stays within now + 1.
#[derive(Debug)]
pub struct CodeSource {
    pub users: Vec<(String, Vec<u8>, String)>,
    pub next_step: Vec<AtomicU64>,
    cursor: AtomicUsize,
}

impl CodeSource {
    /// The next never-used (token, code), or `None` when every user is ahead of the clock.
    pub fn take(&self) -> Option<(String, String)> {
        let n = self.users.len();
        for _ in 0..n {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed) % n;
            let cur = now() / 30;
            let slot = &self.next_step[i];
            let mut step = slot.load(Ordering::Relaxed).max(cur - 1);
            loop {
                if step > cur + 1 {
                    break;
                }
                match slot.compare_exchange(
                    slot.load(Ordering::Relaxed),
                    step + 1,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let (_, secret, token) = &self.users[i];
                        return Some((token.clone(), crate::code_at(secret, step * 30)));
                    }
                    Err(seen) => step = seen.max(cur - 1),
                }
            }
        }
        None
    }
}

fn steps_path(users: &Path) -> PathBuf {
    users.with_extension("steps.json")
}

/// The code source for the `totp` users of `seeded`, resuming the saved steps.
pub fn code_source(seeded: &Seeded, users_file: &Path) -> Arc<CodeSource> {
    let users: Vec<_> = seeded
        .totp
        .iter()
        .map(|(u, s, t)| {
            (
                u.clone(),
                data_encoding::BASE32_NOPAD.decode(s.as_bytes()).expect("secret"),
                t.clone(),
            )
        })
        .collect();
    let saved: Vec<u64> = std::fs::read(steps_path(users_file))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let next_step =
        (0..users.len()).map(|i| AtomicU64::new(saved.get(i).copied().unwrap_or(0))).collect();
    Arc::new(CodeSource { users, next_step, cursor: AtomicUsize::new(0) })
}

/// Saves the next steps beside the users file.
pub fn save_steps(src: &CodeSource, users_file: &Path) {
    let steps: Vec<u64> = src.next_step.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let _ = std::fs::write(steps_path(users_file), serde_json::to_vec(&steps).unwrap_or_default());
}
