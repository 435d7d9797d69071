//! Argon2id password hashing on a dedicated, low-priority thread pool.
//!
//! Hashing is the most expensive thing the server does (~19 MiB and tens of milliseconds
//! per hash). It runs on its own threads — never on the async workers — with one job per
//! thread at a time and a bounded queue (overflow is answered with `503` + `Retry-After`
//! instead of piling up). The threads lower their scheduling priority, so a flood of
//! password sign-ins leaves CPU for code verification and everything else.
//!
//! Unknown usernames are verified against a dummy hash made with the same parameters, so
//! "no such user" costs the same as "wrong password".

use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use tokio::sync::oneshot;
use zeroize::Zeroizing;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HashCost {
    /// Memory in KiB (at least 19456, OWASP's minimum).
    pub memory_kib: u32,
    /// Iterations (at least 2).
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for HashCost {
    fn default() -> Self {
        Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 }
    }
}

impl HashCost {
    /// Rejects parameters below OWASP's recommendation.
    pub fn validate(&self) -> Result<(), String> {
        if self.memory_kib < 19 * 1024
            || self.iterations < 2
            || self.parallelism == 0
            || self.parallelism > 16
        {
            return Err("argon2 cost must be at least m=19456 KiB, t=2, p=1 (p at most 16)".into());
        }
        Ok(())
    }

    fn argon2(&self) -> Argon2<'static> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .expect("validated params");
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// Why a hash job did not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashError {
    /// The queue is full; retry later.
    #[error("password hashing is saturated")]
    Busy,
    /// The pool is gone (shutting down).
    #[error("password hashing unavailable")]
    Stopped,
}

enum Job {
    Hash(Zeroizing<String>, oneshot::Sender<String>),
    Verify(Zeroizing<String>, Option<String>, oneshot::Sender<bool>),
}

/// The hashing pool. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    tx: mpsc::SyncSender<Job>,
    queued: Arc<AtomicUsize>,
    threads: usize,
    dummy: Arc<String>,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("threads", &self.threads)
            .field("queued", &self.queued())
            .finish()
    }
}

/// Hashes into a PHC string: `$argon2id$v=19$m=M,t=T,p=P$salt$hash` (base64 without padding).
fn hash_with(cost: &HashCost, password: &str) -> String {
    let salt = crate::crypto::random_bytes(16);
    let mut out = Zeroizing::new([0u8; 32]);
    cost.argon2()
        .hash_password_into(password.as_bytes(), &salt, &mut out[..])
        .expect("argon2 with validated params");
    format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        cost.memory_kib,
        cost.iterations,
        cost.parallelism,
        B64.encode(&salt),
        B64.encode(&out[..])
    )
}

/// Parses a stored PHC string into its cost, salt and hash; `None` for anything else,
/// including costs too large to run. Public for the fuzz targets.
pub fn parse_phc(phc: &str) -> Option<(HashCost, Vec<u8>, Vec<u8>)> {
    let mut parts = phc.split('$');
    if !parts.next()?.is_empty() || parts.next()? != "argon2id" || parts.next()? != "v=19" {
        return None;
    }
    let mut cost = HashCost { memory_kib: 0, iterations: 0, parallelism: 0 };
    for kv in parts.next()?.split(',') {
        let (k, v) = kv.split_once('=')?;
        let v: u32 = v.parse().ok()?;
        match k {
            "m" => cost.memory_kib = v,
            "t" => cost.iterations = v,
            "p" => cost.parallelism = v,
            _ => return None,
        }
    }
    // Refuse absurd stored costs rather than allocate them.
    if cost.memory_kib > 1024 * 1024
        || cost.iterations > 64
        || cost.parallelism == 0
        || cost.parallelism > 16
        || cost.iterations == 0
    {
        return None;
    }
    let salt = B64.decode(parts.next()?).ok()?;
    let hash = B64.decode(parts.next()?).ok()?;
    (parts.next().is_none() && hash.len() == 32).then_some((cost, salt, hash))
}

fn verify_with(password: &str, phc: &str) -> bool {
    let Some((cost, salt, expected)) = parse_phc(phc) else { return false };
    let Ok(params) = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None) else {
        return false;
    };
    let mut out = Zeroizing::new([0u8; 32]);
    if Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(password.as_bytes(), &salt, &mut out[..])
        .is_err()
    {
        return false;
    }
    crate::crypto::constant_time_eq(&out[..], &expected)
}

#[allow(unsafe_code)]
fn lower_this_thread_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: plain syscalls on the calling thread with no pointers involved.
    unsafe {
        let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, 10);
    }
}

impl Hasher {
    /// Starts `threads` hashing threads with room for `queue` waiting jobs.
    pub fn start(cost: HashCost, threads: usize, queue: usize) -> Self {
        let threads = threads.max(1);
        let (tx, rx) = mpsc::sync_channel::<Job>(queue.max(1));
        let rx = Arc::new(std::sync::Mutex::new(rx));
        let queued = Arc::new(AtomicUsize::new(0));
        for i in 0..threads {
            let rx = rx.clone();
            let queued = queued.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_this_thread_priority();
                    loop {
                        let job = match rx.lock() {
                            Ok(guard) => guard.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        queued.fetch_sub(1, Ordering::Relaxed);
                        match job {
                            Job::Hash(pw, reply) => {
                                let _ = reply.send(hash_with(&cost, &pw));
                            }
                            Job::Verify(pw, phc, reply) => {
                                let ok = match phc {
                                    Some(p) => verify_with(&pw, &p),
                                    None => false,
                                };
                                let _ = reply.send(ok);
                            }
                        }
                    }
                })
                .expect("spawn hashing thread");
        }
        let dummy = Arc::new(hash_with(&cost, "twostep-dummy-password-for-unknown-users"));
        Self { tx, queued, threads, dummy }
    }

    fn submit(&self, job: Job) -> Result<(), HashError> {
        self.queued.fetch_add(1, Ordering::Relaxed);
        match self.tx.try_send(job) {
            Ok(()) => Ok(()),
            Err(mpsc::TrySendError::Full(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(HashError::Busy)
            }
            Err(mpsc::TrySendError::Disconnected(_)) => {
                self.queued.fetch_sub(1, Ordering::Relaxed);
                Err(HashError::Stopped)
            }
        }
    }

    /// Hashes a new password (PHC string).
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        let (tx, rx) = oneshot::channel();
        self.submit(Job::Hash(Zeroizing::new(password.to_owned()), tx))?;
        rx.await.map_err(|_| HashError::Stopped)
    }

    /// Verifies a password against a stored hash, or against the dummy hash when the
    /// account does not exist (`None`), which always fails after the same work.
    pub async fn verify(&self, password: &str, phc: Option<&str>) -> Result<bool, HashError> {
        let (tx, rx) = oneshot::channel();
        let (target, real) = match phc {
            Some(p) => (p.to_owned(), true),
            None => (self.dummy.as_ref().clone(), false),
        };
        self.submit(Job::Verify(Zeroizing::new(password.to_owned()), Some(target), tx))?;
        let ok = rx.await.map_err(|_| HashError::Stopped)?;
        Ok(ok && real)
    }

    /// Jobs waiting or running.
    pub fn queued(&self) -> usize {
        self.queued.load(Ordering::Relaxed)
    }

    /// Hashes synchronously on the calling thread (admin CLI).
    pub fn hash_blocking(cost: HashCost, password: &str) -> String {
        hash_with(&cost, password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_unknown_users_fail() {
        let h = Hasher::start(HashCost::default(), 1, 4);
        let phc = h.hash("correct horse").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(h.verify("correct horse", Some(&phc)).await.unwrap());
        assert!(!h.verify("wrong horse", Some(&phc)).await.unwrap());
        assert!(!h.verify("twostep-dummy-password-for-unknown-users", None).await.unwrap());
    }

    #[test]
    fn weak_costs_are_rejected() {
        assert!(HashCost { memory_kib: 4096, iterations: 2, parallelism: 1 }.validate().is_err());
        assert!(HashCost::default().validate().is_ok());
    }
}
