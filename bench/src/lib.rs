//! `twostep-bench`: the load generator's parts, shared by the `twostep-loadgen` binary and the
//! crash-consistency test of the server (`server/tests/crash_consistency.rs`).
//!
//! - [`seed`]: writes benchmark users straight into a (stopped) server's store.
//! - [`throughput`]: the closed-loop benchmarks of `docs/BENCHMARKS.md` (TOTP verification,
//!   sign-ins, a sign-in flood).
//! - [`workload`]: a mixed, stateful workload (verifications, sign-ins with code challenges,
//!   enrollments, wrong codes and passwords, lockouts) whose every acknowledged answer goes to an
//!   [`acklog`] with what it implies must be durable.
//! - [`check`]: reads that log and checks a (restarted) server against it.
//! - [`crash`]: kill -9 the real server binary at random moments under the workload, restart it,
//!   check. [`soak`]: capacity ramp, then a long fixed-rate run with per-minute figures.

// A benchmark tool: any failure should stop it loudly.
#![allow(clippy::unwrap_used)]

pub mod acklog;
pub mod check;
pub mod codes;
pub mod crash;
pub mod process;
pub mod rng;
pub mod seed;
pub mod sinks;
pub mod soak;
pub mod stats;
pub mod throughput;
pub mod workload;

/// Unix seconds now (the server's clock).
pub fn now() -> u64 {
    twostep_server::clock::now()
}

/// Unix milliseconds now.
pub fn now_ms() -> u64 {
    twostep_server::clock::now_ms()
}

/// The server's TOTP code (SHA-1, 6 digits, 30 s) of `secret` at `unix_secs`, from
/// `twostep-otp`, the implementation the server verifies with.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    let secret = twostep_otp::Secret::from_bytes(secret).expect("a seeded secret");
    let time = twostep_otp::UnixTime::from_secs(unix_secs);
    twostep_otp::algorithm::totp(twostep_otp::Algorithm::Sha1, &secret, time, 30, 6)
}
