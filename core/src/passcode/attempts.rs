//! Failed unlock attempts: the escalation schedule and the durable counter.
//!
//! ```text
//! failed attempts   1  2  3  4 | 5      | 6      | 7       8       | 9 and more
//! wait before next  -  -  -  - | 1 min  | 5 min  | 15 min  15 min  | 1 h
//! ```
//!
//! Under the org policy, reaching `max_failed_attempts` (default 10) wipes the local data
//! instead (see `crate::passcode::check`). Under a user policy the count keeps growing
//! and every further failure costs an hour.
//!
//! Two properties matter and are enforced by how the record is used:
//! - **Counted before checked.** An attempt is written (and flushed) as a failure before the
//!   passcode is checked; only a correct passcode resets the count afterwards. A process killed
//!   mid-check has therefore spent an attempt.
//! - **The clock only moves forward.** `latest_seen` is the latest `now` ever presented; delays are
//!   computed from `max(now, latest_seen)`, so setting the device clock back does not shorten a
//!   delay. (Setting it forward does, once: there is no trusted clock offline. The attempt count,
//!   and with it the wipe, is not affected by time at all.)

use serde::{Deserialize, Serialize};
use std::time::Duration;
use twostep_otp::UnixTime;

/// How long to wait after the `failed`-th consecutive failure before the next attempt.
pub(crate) fn delay_after(failed: u32) -> Duration {
    Duration::from_secs(match failed {
        0..=4 => 0,
        5 => 60,
        6 => 5 * 60,
        7 | 8 => 15 * 60,
        _ => 60 * 60,
    })
}

/// The failed-attempt counter, sealed under the Local key (readable while locked).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AttemptRecord {
    /// Consecutive failed (or unfinished) attempts since the last success.
    pub failed: u32,
    /// When the last failure was counted (effective time, see `latest_seen`).
    pub last_failure_at: UnixTime,
    /// The latest `now` ever seen by the passcode code: the clock never runs back.
    pub latest_seen: UnixTime,
}

impl AttemptRecord {
    /// `now`, never earlier than a time already seen.
    pub(crate) fn effective_now(&self, now: UnixTime) -> UnixTime {
        now.max(self.latest_seen)
    }

    /// When the next attempt is allowed after the current failures (`None`: no delay).
    pub(crate) fn next_attempt_at(&self) -> Option<UnixTime> {
        let delay = delay_after(self.failed);
        (!delay.is_zero()).then(|| self.last_failure_at.saturating_add(delay))
    }

    /// The end of the current delay, if one is running at `now`.
    pub(crate) fn locked_out_until(&self, now: UnixTime) -> Option<UnixTime> {
        self.next_attempt_at().filter(|until| self.effective_now(now) < *until)
    }

    /// Remembers `now` if it is the latest time seen; says whether anything changed.
    pub(crate) fn observe(&mut self, now: UnixTime) -> bool {
        let changed = now > self.latest_seen;
        self.latest_seen = self.effective_now(now);
        changed
    }

    /// Counts an attempt as failed (before it is checked).
    pub(crate) fn count_failure(&mut self, now: UnixTime) {
        let at = self.effective_now(now);
        self.failed = self.failed.saturating_add(1);
        self.last_failure_at = at;
        self.latest_seen = at;
    }

    /// A correct passcode: the count starts over.
    pub(crate) fn succeed(&mut self, now: UnixTime) {
        self.latest_seen = self.effective_now(now);
        self.failed = 0;
        self.last_failure_at = UnixTime::EPOCH;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: UnixTime = UnixTime::from_secs(1_800_000_000);

    fn at(offset: i64) -> UnixTime {
        T0.add_signed_secs(offset)
    }

    #[test]
    fn the_schedule_matches_the_specification() {
        let delays: Vec<u64> = (0..=12).map(|n| delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 60, 300, 900, 900, 3600, 3600, 3600, 3600]);
        assert_eq!(delay_after(u32::MAX).as_secs(), 3600);
    }

    /// Walks the whole schedule with a fake clock: each failure is counted at the first
    /// moment it is allowed, and one second earlier is always refused.
    #[test]
    fn the_whole_escalation_with_a_fake_clock() {
        let mut record = AttemptRecord::default();
        let mut now = T0;
        let mut waits = vec![];
        for attempt in 1..=10u32 {
            assert_eq!(record.locked_out_until(now), None, "attempt {attempt} is allowed at {now}");
            record.count_failure(now);
            assert_eq!(record.failed, attempt);
            match record.next_attempt_at() {
                None => waits.push(0),
                Some(until) => {
                    waits.push(now.until(until).as_secs());
                    assert_eq!(record.locked_out_until(until.add_signed_secs(-1)), Some(until));
                    assert_eq!(record.locked_out_until(now), Some(until));
                    now = until;
                }
            }
        }
        assert_eq!(waits, [0, 0, 0, 0, 60, 300, 900, 900, 3600, 3600]);
        record.succeed(now);
        assert_eq!((record.failed, record.next_attempt_at()), (0, None));
        assert_eq!(record.latest_seen, now);
    }

    #[test]
    fn setting_the_clock_back_does_not_shorten_a_delay() {
        let mut record = AttemptRecord::default();
        for _ in 0..6 {
            record.count_failure(T0);
        }
        let until = record.locked_out_until(T0).unwrap();
        assert_eq!(until, at(300));
        // The clock is set back a day: still locked until the same moment, and the time
        // seen does not move back.
        assert_eq!(record.locked_out_until(at(-86_400)), Some(until));
        assert!(!record.observe(at(-86_400)));
        assert_eq!(record.latest_seen, T0);
        // A failure counted while the clock is behind is dated at the latest time seen.
        let mut later = record;
        later.observe(at(300));
        later.count_failure(at(-86_400));
        assert_eq!(later.last_failure_at, at(300));
        assert_eq!(later.locked_out_until(T0), Some(at(300 + 900)));
        // Only real time passing ends the delay.
        assert_eq!(record.locked_out_until(until), None);
    }

    #[test]
    fn the_record_is_small_json_and_refuses_unknown_fields() {
        let record = AttemptRecord {
            failed: 3,
            last_failure_at: UnixTime::from_secs(5),
            latest_seen: UnixTime::from_secs(6),
        };
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(serde_json::from_str::<AttemptRecord>(&json).unwrap(), record);
        assert!(
            serde_json::from_str::<AttemptRecord>(
                r#"{"failed":1,"last_failure_at":0,"latest_seen":0,"x":1}"#
            )
            .is_err()
        );
    }
}
