//! Counting a workload: operations, acknowledged answers, errors (totals), and request
//! latencies per window (the soak's minute).

use crate::acklog::{Ack, Entry};
use crate::workload::{OpError, OpKind};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

/// Counters and the current window's latencies.
#[derive(Debug, Default)]
pub struct RunStats(Mutex<Inner>);

#[derive(Debug, Default)]
struct Inner {
    totals: Totals,
    window: Window,
}

/// Since the start.
#[derive(Debug, Default, Clone)]
pub struct Totals {
    /// Completed operations by kind.
    pub ops: BTreeMap<&'static str, u64>,
    /// Acknowledged answers by kind.
    pub acks: BTreeMap<&'static str, u64>,
    /// Unexpected answers by "request status".
    pub unexpected: BTreeMap<String, u64>,
    /// The first few unexpected answers in full.
    pub samples: Vec<String>,
    /// Requests that got no answer.
    pub transport: u64,
    pub requests: u64,
    /// Audit records the acknowledged answers wrote.
    pub audit_records: u64,
}

impl Totals {
    /// Unexpected answers plus requests without an answer.
    pub fn errors(&self) -> u64 {
        self.unexpected.values().sum::<u64>() + self.transport
    }
}

/// Since the last [`RunStats::take_window`].
#[derive(Debug, Default, Clone)]
pub struct Window {
    pub ops: u64,
    pub errors: u64,
    /// (request, microseconds).
    pub latencies: Vec<(&'static str, u32)>,
}

impl Window {
    /// The `p`-quantile (0..=1) in milliseconds of the requests `keep` selects.
    pub fn quantile_ms(&self, p: f64, keep: impl Fn(&str) -> bool) -> f64 {
        let mut v: Vec<u32> =
            self.latencies.iter().filter(|(r, _)| keep(r)).map(|(_, us)| *us).collect();
        quantile_us(&mut v, p) / 1000.0
    }
}

/// The `p`-quantile of `v` (sorted in place), 0 when empty.
pub fn quantile_us(v: &mut [u32], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    f64::from(v[i])
}

/// The name of an acknowledgement in reports.
pub fn ack_name(a: &Ack) -> &'static str {
    match a {
        Ack::StepUp { .. } => "step_up",
        Ack::Challenge => "challenge",
        Ack::Session { .. } => "session",
        Ack::Failure { locks: true, .. } => "failure_locking",
        Ack::Failure { .. } => "failure",
        Ack::Waiting { .. } => "waiting",
        Ack::Locked => "locked",
        Ack::EnrollStarted { .. } => "enroll_started",
        Ack::Enrolled { .. } => "enrolled",
        Ack::OperatorSession { .. } => "operator_session",
    }
}

impl RunStats {
    /// Counts one operation.
    pub fn record(
        &self,
        kind: OpKind,
        requests: &[(&'static str, Duration)],
        acks: &[Entry],
        error: Option<OpError>,
    ) {
        let mut g = self.0.lock().unwrap();
        let Inner { totals, window } = &mut *g;
        *totals.ops.entry(kind.name()).or_default() += 1;
        totals.requests += requests.len() as u64;
        for e in acks {
            *totals.acks.entry(ack_name(&e.ack)).or_default() += 1;
            totals.audit_records += crate::check::audit_of(&e.ack).len() as u64;
        }
        window.ops += 1;
        for (r, d) in requests {
            window.latencies.push((r, d.as_micros().min(u128::from(u32::MAX)) as u32));
        }
        match error {
            None => {}
            Some(OpError::Transport(_)) => {
                totals.transport += 1;
                window.errors += 1;
            }
            Some(OpError::Unexpected { request, status, body }) => {
                *totals
                    .unexpected
                    .entry(format!("{} {request} {status}", kind.name()))
                    .or_default() += 1;
                if totals.samples.len() < 20 {
                    totals.samples.push(format!("{} {request} {status} {body}", kind.name()));
                }
                window.errors += 1;
            }
        }
    }

    /// The window so far; starts a new one.
    pub fn take_window(&self) -> Window {
        std::mem::take(&mut self.0.lock().unwrap().window)
    }

    /// The totals so far.
    pub fn totals(&self) -> Totals {
        self.0.lock().unwrap().totals.clone()
    }
}
