//! One function per fuzz target, `fn(&[u8])`: it panics exactly when it finds a bug (a
//! panic in the code under test, or a broken promise it checks). The bounded runs and the
//! libFuzzer binaries both call these, so they cannot drift apart.

pub mod bodies;
pub mod core;
pub mod otp;
mod secrets;
pub mod server;
pub mod web;
mod world;

/// Runs a future that needs no I/O driver to completion on this thread.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    thread_local! {
        static RUNTIME: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime");
    }
    RUNTIME.with(|runtime| runtime.block_on(future))
}

/// A temporary directory for a target's data dir: in memory (`/dev/shm`) where there is
/// one, since the stores `fsync` and a fuzzer wants executions, not durability.
pub(crate) fn scratch_dir() -> tempfile::TempDir {
    let shm = std::path::Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().expect("a temporary directory")
}
