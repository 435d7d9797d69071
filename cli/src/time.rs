//! Times and waits as people read them at a terminal: the local time (`2026-11-30 15:40:12
//! +01:00`) and how long from now (`in 60 s`). Outside `--json` the CLI never prints raw Unix
//! seconds; the JSON documents keep them (numbers are what scripts compare).

use chrono::{Local, TimeZone};
use std::time::Duration;
use twostep_core::{HumanDuration, UnixTime};

/// `2026-11-30 15:40:12 +01:00`, in this machine's time zone.
pub fn local(time: UnixTime) -> String {
    let secs = i64::try_from(time.as_secs()).unwrap_or(i64::MAX);
    match Local.timestamp_opt(secs, 0).single() {
        Some(local) => local.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        None => time.to_string(),
    }
}

/// `in 60 s`, `in 5 min`, or `now` for a wait that is over.
pub fn wait(wait: Duration) -> String {
    if wait.is_zero() { "now".to_owned() } else { format!("in {}", HumanDuration(wait)) }
}

/// `15:40:12 +01:00 (in 60 s)`: a moment and how far it is from `now`.
pub fn at(time: UnixTime, now: UnixTime) -> String {
    format!("{} ({})", local(time), wait(now.until(time)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_and_local_times_read_like_text() {
        assert_eq!(wait(Duration::from_secs(60)), "in 60 s");
        assert_eq!(wait(Duration::from_secs(300)), "in 5 min");
        assert_eq!(wait(Duration::ZERO), "now");
        let shown = local(UnixTime::from_secs(1_700_000_000));
        assert!(shown.starts_with("2023-11-1") && shown.len() == 26, "{shown}");
        let now = UnixTime::from_secs(1_700_000_000);
        assert!(at(now + Duration::from_secs(90), now).ends_with("(in 90 s)"));
    }
}
