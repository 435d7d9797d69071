//! The one place that reads the wall clock.
//!
//! Core logic takes `now` ([`UnixTime`]) as a parameter. The HTTP client still needs the
//! time around each request to measure the server's clock offset; it asks a
//! [`ClockSource`], so that tests can substitute one they control. The bindings export the
//! same trait to Kotlin and Swift (under the same name: `Clock` would shadow Swift's own).

use std::time::SystemTime;
use twostep_otp::UnixTime;

/// A source of wall-clock time.
pub trait ClockSource: Send + Sync + std::fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl SystemClock {
    /// Now, in whole seconds: for callers that pass `now` into the core.
    pub fn unix_now() -> UnixTime {
        UnixTime::from(SystemTime::now())
    }
}

impl ClockSource for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock::unix_now() > UnixTime::from_secs(1_700_000_000));
    }
}
