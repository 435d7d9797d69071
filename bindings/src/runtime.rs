//! Where the core's work runs: one small tokio runtime owned by the library.
//!
//! uniffi polls an exported future on whatever thread the foreign caller awaits from; in
//! Kotlin that can be `Dispatchers.Main`. The core's operations do local I/O between
//! network waits (sled writes with a flush), and opening the data directory calls the
//! platform key store, so every exported async function hands its work to this runtime and
//! only awaits the result: the caller's thread never does the work, whichever it is.
//!
//! Cancelling the foreign call (a cancelled Kotlin coroutine) stops the wait, not the work: an
//! operation that has started runs to completion, so the local state always matches what the
//! server saw. (uniffi's Swift futures do not observe `Task` cancellation at all: the Swift
//! await ends when the work does.) The one exception is [`spawn_cancellable`], for calls that
//! only wait for a person.

use std::future::Future;
use std::sync::OnceLock;
use tokio::runtime::{Builder, Runtime};

use crate::error::TwostepError;

/// Worker threads: network waits need little, and the core serializes its operations.
const WORKER_THREADS: usize = 2;

fn runtime() -> Result<&'static Runtime, TwostepError> {
    static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                .worker_threads(WORKER_THREADS)
                .thread_name("twostep")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| TwostepError::Internal {
            detail: format!("cannot start the library's runtime: {e}"),
        })
}

/// Runs a core operation on the runtime and waits for its outcome.
pub(crate) async fn spawn<T, F>(operation: F) -> Result<T, TwostepError>
where
    T: Send + 'static,
    F: Future<Output = twostep_core::Result<T>> + Send + 'static,
{
    Ok(runtime()?.spawn(operation).await??)
}

/// [`spawn`] for an operation that waits for a person (a biometric prompt): when the caller
/// stops waiting (a cancelled coroutine drops this future), the operation is aborted at the
/// await it is in — the prompt is dismissed — instead of running on. The core holds no lock
/// and has written nothing while it awaits the prompt, so stopping there is clean.
pub(crate) async fn spawn_cancellable<T, F>(operation: F) -> Result<T, TwostepError>
where
    T: Send + 'static,
    F: Future<Output = twostep_core::Result<T>> + Send + 'static,
{
    struct AbortOnDrop(tokio::task::AbortHandle);
    impl Drop for AbortOnDrop {
        fn drop(&mut self) {
            self.0.abort();
        }
    }
    let task = runtime()?.spawn(operation);
    let _abort = AbortOnDrop(task.abort_handle());
    Ok(task.await??)
}

/// Runs blocking local work (opening the data dir, the key store, later Argon2id) on the
/// runtime's blocking pool and waits for its outcome.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, TwostepError>
where
    T: Send + 'static,
    F: FnOnce() -> twostep_core::Result<T> + Send + 'static,
{
    Ok(runtime()?.spawn_blocking(work).await??)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait<T>(future: impl Future<Output = T>) -> T {
        // Any executor will do: the work itself runs on the library's runtime.
        Builder::new_current_thread().build().unwrap().block_on(future)
    }

    #[test]
    fn work_runs_on_the_library_runtime_not_the_caller() {
        let caller = std::thread::current().id();
        let worker = wait(spawn(async { Ok(std::thread::current().id()) })).unwrap();
        assert_ne!(worker, caller);
        let worker = wait(blocking(|| Ok(std::thread::current().id()))).unwrap();
        assert_ne!(worker, caller);
    }

    #[test]
    fn a_cancellable_operation_stops_when_its_caller_stops_waiting() {
        struct Flag(std::sync::mpsc::Sender<()>);
        impl Drop for Flag {
            fn drop(&mut self) {
                let _ = self.0.send(());
            }
        }
        let (dropped, was_dropped) = std::sync::mpsc::channel::<()>();
        wait(async {
            let (started, has_started) = tokio::sync::oneshot::channel();
            let waiting = spawn_cancellable(async move {
                let _flag = Flag(dropped);
                let _ = started.send(());
                std::future::pending::<twostep_core::Result<()>>().await
            });
            tokio::select! {
                _ = waiting => panic!("the operation never ends by itself"),
                // It runs; the caller gives up now and drops `waiting`.
                _ = has_started => {}
            }
        });
        was_dropped
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the operation was dropped when its caller stopped waiting");
    }

    #[test]
    fn core_errors_and_panics_arrive_as_ffi_errors() {
        let failed = wait(spawn(async { Err::<(), _>(twostep_core::TwostepError::Timeout) }));
        assert_eq!(failed, Err(TwostepError::Timeout));
        let panicked = wait(blocking(|| -> twostep_core::Result<()> { panic!("bug") }));
        assert!(
            matches!(panicked, Err(TwostepError::Internal { detail }) if detail.contains("bug"))
        );
    }
}
