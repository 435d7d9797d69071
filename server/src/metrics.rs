//! Prometheus counters and gauges, rendered as text at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! metrics {
    (
        counters { $($name:ident : $help:literal),* $(,)? }
        gauges { $($gauge:ident : $ghelp:literal),* $(,)? }
    ) => {
        /// Process-wide counters and gauges.
        #[derive(Debug, Default)]
        pub struct Metrics { $(pub $name: AtomicU64,)* $(pub $gauge: AtomicU64,)* }

        impl Metrics {
            /// Prometheus text exposition, with `extra` gauges computed by the caller.
            pub fn render(&self, extra: &[(&str, &str, u64)]) -> String {
                let mut out = String::new();
                $(
                    out.push_str(concat!("# HELP twostep_", stringify!($name), " ", $help, "\n# TYPE twostep_", stringify!($name), " counter\n"));
                    out.push_str(&format!(concat!("twostep_", stringify!($name), " {}\n"), self.$name.load(Ordering::Relaxed)));
                )*
                let own = [$((stringify!($gauge), $ghelp, self.$gauge.load(Ordering::Relaxed)),)*];
                for (name, help, v) in own.iter().chain(extra) {
                    out.push_str(&format!("# HELP twostep_{name} {help}\n# TYPE twostep_{name} gauge\ntwostep_{name} {v}\n"));
                }
                out
            }
        }
    };
}

metrics! {
    counters {
        http_requests_total: "HTTP requests answered.",
        http_client_errors_total: "HTTP 4xx answers.",
        http_server_errors_total: "HTTP 5xx answers.",
        http_connections_total: "TCP connections accepted.",
        http_connections_timed_out_total: "Connections closed for a slow request head or body, or inactivity.",
        signin_attempts_total: "Password sign-in attempts.",
        signin_failures_total: "Password sign-ins with wrong credentials.",
        sessions_issued_total: "Sessions issued.",
        code_verifications_total: "Second-step code verifications.",
        code_failures_total: "Rejected second-step codes.",
        codes_sent_total: "SMS and email codes sent.",
        delivery_failures_total: "SMS and email deliveries that failed.",
        rate_limited_total: "Requests answered 429 by a rate limit or throttle.",
        password_hashes_total: "Argon2id computations for password checks.",
        sweeper_runs_total: "Runs of the sweeper of expired records.",
        sweeper_scanned_total: "Records the sweeper examined.",
        sweeper_removed_total: "Expired records the sweeper removed.",
    }
    gauges {
        http_connections_open: "Connections open now.",
    }
}

/// Adds one.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Adds `n`.
pub fn add(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}
