//! Named points where a crash test can kill the process: the moments between durable steps.
//!
//! The crash tests (`cli/tests/crash.rs`, `scripts/crash-device.sh`) run the `twostep` binary
//! and `kill -9` it at random moments, and also exactly at each of these points, then check
//! that the data dir still opens and holds either the state before or the state after the
//! operation. The points are the boundaries of every write to the state (before a batch,
//! applied but not flushed, flushed) and a few semantic ones (`passcode.counted`: an unlock
//! attempt is on disk, its check has not started).
//!
//! They do something only in test builds: the core's unit tests, or a debug build with the
//! `test-hooks` feature (the CLI turns it on as a dev-dependency, so only `cargo test` builds of
//! the `twostep` binary have it). Then, with [`ANNOUNCE_ENV`] set, every point passed is printed
//! to stderr as `twostep-test: point NAME#N` (the N-th time it is passed in this process), and
//! with [`PAUSE_AT_ENV`] `= NAME` or `NAME#N` the process prints that line with ` paused` and
//! sleeps for five minutes, for the test to kill it there. In every other build [`point`] is
//! an empty function: no environment is read, nothing can pause. Both conditions are needed
//! because a pause is a denial of service to the user: a `cargo build`, `cargo install` or any
//! release build (the mobile library, packaged binaries) has no hooks even if the feature were
//! turned on by mistake.

/// Announce every point passed (any value).
#[cfg(any(test, feature = "test-hooks"))]
pub const ANNOUNCE_ENV: &str = "TWOSTEP_TEST_ANNOUNCE";

/// Pause at this point: `NAME` (its first passage) or `NAME#N` (its N-th).
#[cfg(any(test, feature = "test-hooks"))]
pub const PAUSE_AT_ENV: &str = "TWOSTEP_TEST_PAUSE_AT";

/// The start of every line the points print.
#[cfg(any(test, feature = "test-hooks"))]
pub const POINT_MARKER: &str = "twostep-test: point ";

/// Before a batch is written (`StateStore::apply`, `apply_and_switch`).
pub(crate) const BEFORE_WRITE: &str = "state.before_write";
/// The batch is applied in sled's memory, not yet flushed to its files.
pub(crate) const UNFLUSHED: &str = "state.unflushed";
/// The batch is flushed: durable.
pub(crate) const FLUSHED: &str = "state.flushed";
/// An unlock attempt is counted durably; the passcode has not been checked.
pub(crate) const PASSCODE_COUNTED: &str = "passcode.counted";

/// Passes the point `name` (see the module doc).
#[inline]
pub(crate) fn point(name: &'static str) {
    #[cfg(any(test, all(feature = "test-hooks", debug_assertions)))]
    enabled::point(name);
    #[cfg(not(any(test, all(feature = "test-hooks", debug_assertions))))]
    let _ = name;
}

#[cfg(any(test, all(feature = "test-hooks", debug_assertions)))]
mod enabled {
    use std::collections::HashMap;
    use std::sync::{Mutex, PoisonError};
    use std::time::Duration;

    /// How often each point has been passed in this process.
    static PASSED: Mutex<Option<HashMap<&'static str, u32>>> = Mutex::new(None);

    pub(super) fn point(name: &'static str) {
        let announce = std::env::var_os(super::ANNOUNCE_ENV).is_some();
        let pause_at = std::env::var(super::PAUSE_AT_ENV).ok();
        if !announce && pause_at.is_none() {
            return;
        }
        let n = {
            let mut passed = PASSED.lock().unwrap_or_else(PoisonError::into_inner);
            let count = passed.get_or_insert_with(HashMap::new).entry(name).or_insert(0);
            *count += 1;
            *count
        };
        let label = format!("{name}#{n}");
        let pause = pause_at.is_some_and(|at| at == label || (at == name && n == 1));
        if pause {
            eprintln!("{}{label} paused", super::POINT_MARKER);
            std::thread::sleep(Duration::from_secs(300));
        } else if announce {
            eprintln!("{}{label}", super::POINT_MARKER);
        }
    }
}
