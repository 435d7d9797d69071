//! The one place that reads the wall clock.
//!
//! Core logic takes `now` as a parameter. The HTTP client still needs local timestamps
//! around each request to measure the server's clock offset; it gets them through
//! [`Clock`] so that tests can substitute a fake one.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of wall-clock time in Unix milliseconds.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Milliseconds since the Unix epoch.
    fn now_unix_ms(&self) -> u64;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// Seconds since the Unix epoch, for callers that pass `now` into the core.
    pub fn now_unix_secs() -> u64 {
        Self.now_unix_ms() / 1000
    }
}

impl Clock for SystemClock {
    fn now_unix_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock::now_unix_secs() > 1_700_000_000);
    }
}
