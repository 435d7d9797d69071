//! The one place that reads the wall clock.
//!
//! Core logic takes `now` ([`UnixTime`]) as a parameter. The HTTP client still needs the
//! time around each request to measure the server's clock offset ([`ClockOffset`]); it asks
//! a [`ClockSource`], so that tests can substitute one they control. The bindings export the
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

/// The server's clock relative to ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockOffset {
    /// Server time minus local time, in milliseconds (signed: either clock may be ahead).
    pub offset_ms: i64,
    /// When it was measured (local time).
    pub measured_at: UnixTime,
}

impl ClockOffset {
    /// No known offset.
    pub(crate) const ZERO: ClockOffset = ClockOffset { offset_ms: 0, measured_at: UnixTime::EPOCH };

    fn offset_secs(self) -> i64 {
        (self.offset_ms as f64 / 1000.0).round() as i64
    }

    /// The server's time at local time `local`.
    pub fn to_server(self, local: UnixTime) -> UnixTime {
        local.add_signed_secs(self.offset_secs())
    }

    /// The local time at server time `server`.
    pub fn to_local(self, server: UnixTime) -> UnixTime {
        server.add_signed_secs(-self.offset_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_offsets_convert_both_ways() {
        let at = UnixTime::from_secs;
        let ahead = ClockOffset { offset_ms: 90_400, measured_at: at(0) };
        assert_eq!(ahead.to_server(at(1000)), at(1090));
        assert_eq!(ahead.to_local(at(1090)), at(1000));
        let behind = ClockOffset { offset_ms: -2_600, measured_at: at(0) };
        assert_eq!(behind.to_server(at(1000)), at(997));
        assert_eq!(ClockOffset::ZERO.to_local(at(0)), at(0));
        assert_eq!(behind.to_server(at(0)), at(0), "saturates instead of wrapping");
    }

    #[test]
    fn system_clock_is_after_2024() {
        assert!(SystemClock::unix_now() > UnixTime::from_secs(1_700_000_000));
    }
}
