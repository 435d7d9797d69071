//! Time as a type: [`UnixTime`], whole seconds since the Unix epoch (UTC).
//!
//! Every time the client handles (a code's step, a session's expiry, a passcode lockout) is
//! a Unix second, and every wait is a [`Duration`]. One type instead of bare `u64`s means
//! that a time cannot be added to a time, a millisecond count cannot pass for seconds, and
//! the conversions to the platforms' timestamps (`SystemTime`, which the bindings hand to
//! Kotlin as `Instant` and to Swift as `Date`) are written once, here. It lives in this
//! crate, the lowest of the client's crates, because the codes are the most time-bound
//! code there is (RFC 6238's `T` is this number); `twostep-core` re-exports it.
//!
//! Reading the clock is not this type's business: callers pass `now`.

use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z. Serialized as the bare
/// number, as on the wire and in stored records.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixTime(u64);

impl UnixTime {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: Self = Self(0);

    /// The time `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// A platform timestamp, rounded down to the second; times before 1970 are the epoch.
    pub fn from_system_time(time: SystemTime) -> Self {
        Self(time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0))
    }

    /// As a platform timestamp.
    pub fn to_system_time(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.0)
    }

    /// `self + wait`, whole seconds, saturating.
    pub fn saturating_add(self, wait: Duration) -> Self {
        Self(self.0.saturating_add(wait.as_secs()))
    }

    /// `self + secs` for a signed number of seconds, saturating at both ends.
    pub fn add_signed_secs(self, secs: i64) -> Self {
        Self(self.0.saturating_add_signed(secs))
    }

    /// How long from `self` until `later` (zero if `later` is not after `self`).
    pub fn until(self, later: Self) -> Duration {
        Duration::from_secs(later.0.saturating_sub(self.0))
    }
}

/// `time + wait`, saturating (whole seconds).
impl std::ops::Add<Duration> for UnixTime {
    type Output = Self;
    fn add(self, wait: Duration) -> Self {
        self.saturating_add(wait)
    }
}

/// `time - wait`, saturating at the epoch (whole seconds).
impl std::ops::Sub<Duration> for UnixTime {
    type Output = Self;
    fn sub(self, wait: Duration) -> Self {
        Self(self.0.saturating_sub(wait.as_secs()))
    }
}

impl From<SystemTime> for UnixTime {
    fn from(time: SystemTime) -> Self {
        Self::from_system_time(time)
    }
}

impl From<UnixTime> for SystemTime {
    fn from(time: UnixTime) -> Self {
        time.to_system_time()
    }
}

/// RFC 3339 in UTC: `2023-11-14T22:13:20Z`.
impl std::fmt::Display for UnixTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let days = self.0 / 86_400;
        let rest = self.0 % 86_400;
        let (year, month, day) = civil_from_days(days);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            rest / 3600,
            rest % 3600 / 60,
            rest % 60
        )
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A wait as people read it: `45 s`, `5 min`, `1 h 5 min`, `2 days`. Whole seconds; a
/// part-second wait rounds up, so that "0 s" is never shown for a wait that is not over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl std::fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.0.as_secs() + u64::from(self.0.subsec_nanos() > 0);
        match secs {
            0..120 => write!(f, "{secs} s"),
            120..3600 => write!(f, "{} min", secs.div_ceil(60)),
            3600..172_800 => match secs % 3600 / 60 {
                0 => write!(f, "{} h", secs / 3600),
                minutes => write!(f, "{} h {minutes} min", secs / 3600),
            },
            _ => write!(f, "{} days", secs / 86_400),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_utc() {
        assert_eq!(UnixTime::EPOCH.to_string(), "1970-01-01T00:00:00Z");
        assert_eq!(UnixTime::from_secs(1_700_000_000).to_string(), "2023-11-14T22:13:20Z");
        assert_eq!(UnixTime::from_secs(951_782_400).to_string(), "2000-02-29T00:00:00Z");
        assert_eq!(UnixTime::from_secs(253_402_300_799).to_string(), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn arithmetic_saturates_and_waits_are_never_negative() {
        let t = UnixTime::from_secs(100);
        assert_eq!(t.saturating_add(Duration::from_millis(1_999)), UnixTime::from_secs(101));
        assert_eq!(t.add_signed_secs(-200), UnixTime::EPOCH);
        assert_eq!(
            UnixTime::from_secs(u64::MAX).saturating_add(Duration::from_secs(1)).as_secs(),
            u64::MAX
        );
        assert_eq!(t.until(UnixTime::from_secs(160)), Duration::from_secs(60));
        assert_eq!(t.until(UnixTime::from_secs(10)), Duration::ZERO);
        let system = t.to_system_time();
        assert_eq!(UnixTime::from(system), t);
        assert_eq!(UnixTime::from(UNIX_EPOCH - Duration::from_secs(5)), UnixTime::EPOCH);
        assert_eq!(serde_json::to_string(&t).unwrap(), "100");
    }

    #[test]
    fn waits_read_like_people_write_them() {
        let show = |secs: u64| HumanDuration(Duration::from_secs(secs)).to_string();
        assert_eq!(show(0), "0 s");
        assert_eq!(show(60), "60 s");
        assert_eq!(show(300), "5 min");
        assert_eq!(show(301), "6 min");
        assert_eq!(show(3600), "1 h");
        assert_eq!(show(3900), "1 h 5 min");
        assert_eq!(show(3 * 86_400), "3 days");
        assert_eq!(HumanDuration(Duration::from_millis(1)).to_string(), "1 s");
    }
}
