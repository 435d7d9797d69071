//! Prometheus counters, rendered as text at `/metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

macro_rules! counters {
    ($($name:ident : $help:literal),* $(,)?) => {
        /// Process-wide counters.
        #[derive(Debug, Default)]
        pub struct Metrics { $(pub $name: AtomicU64,)* }

        impl Metrics {
            /// Prometheus text exposition.
            pub fn render(&self, gauges: &[(&str, &str, u64)]) -> String {
                let mut out = String::new();
                $(
                    out.push_str(concat!("# HELP twostep_", stringify!($name), " ", $help, "\n# TYPE twostep_", stringify!($name), " counter\n"));
                    out.push_str(&format!(concat!("twostep_", stringify!($name), " {}\n"), self.$name.load(Ordering::Relaxed)));
                )*
                for (name, help, v) in gauges {
                    out.push_str(&format!("# HELP twostep_{name} {help}\n# TYPE twostep_{name} gauge\ntwostep_{name} {v}\n"));
                }
                out
            }
        }
    };
}

counters! {
    http_requests_total: "HTTP requests answered.",
    http_client_errors_total: "HTTP 4xx answers.",
    http_server_errors_total: "HTTP 5xx answers.",
    signin_attempts_total: "Password sign-in attempts.",
    signin_failures_total: "Password sign-ins with wrong credentials.",
    sessions_issued_total: "Sessions issued.",
    code_verifications_total: "Second-step code verifications.",
    code_failures_total: "Rejected second-step codes.",
    codes_sent_total: "SMS and email codes sent.",
    delivery_failures_total: "SMS and email deliveries that failed.",
    rate_limited_total: "Requests answered 429.",
    password_hashes_total: "Argon2id computations.",
}

/// Adds one.
pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}
