//! Exports for the Kotlin FFI benchmark only (`--features bench`, `scripts/bench-kotlin.sh`);
//! app builds never contain them.

use std::sync::Arc;
use std::time::SystemTime;

use crate::error::TwostepError;
use crate::platform::{ForeignKeyStore, PlatformKeyStore};
use crate::types::wire_time;

/// A row shaped like the authenticator's code list: the cost of lifting a list of records
/// across the FFI, apart from computing it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BenchRow {
    /// Account id.
    pub id: String,
    /// Issuer ("Example Cloud").
    pub issuer: String,
    /// Account name ("alice@example.com").
    pub account_name: String,
    /// The current code.
    pub code: String,
    /// Seconds per code.
    pub period_secs: i64,
    /// When the code changes.
    pub valid_until: SystemTime,
}

/// The floor of a call: a number in, a number out, nothing allocated.
#[uniffi::export]
pub fn bench_noop(value: u32) -> u32 {
    value.wrapping_add(1)
}

/// The floor of a `suspend` / `async` call: the same hop to the library's runtime and back
/// that every network operation takes, with no work.
#[uniffi::export]
pub async fn bench_async_noop(value: u32) -> Result<u32, TwostepError> {
    crate::runtime::spawn(async move { Ok(value.wrapping_add(1)) }).await
}

/// `count` synthetic rows, as one call.
#[uniffi::export]
pub fn bench_rows(count: u32) -> Vec<BenchRow> {
    (0..count)
        .map(|i| BenchRow {
            id: format!("acct-{i:04}"),
            issuer: format!("Issuer {i}"),
            account_name: format!("user{i}@example.com"),
            code: format!("{:06}", (u64::from(i) * 7_919) % 1_000_000),
            period_secs: 30,
            valid_until: wire_time(1_700_000_010 + u64::from(i % 30)),
        })
        .collect()
}

/// Writes a signed-in, registered state into `data_dir` (as a completed first access
/// would), so that `status()` can be measured on a realistic state without a server.
#[uniffi::export]
pub fn bench_seed_signed_in_state(
    data_dir: String,
    key_store: Arc<dyn PlatformKeyStore>,
) -> Result<(), TwostepError> {
    let now = twostep_core::SystemClock::unix_now();
    let key_store = ForeignKeyStore(key_store);
    Ok(twostep_core::fixtures::seed_signed_in_state(
        std::path::Path::new(&data_dir),
        &key_store,
        "http://127.0.0.1:9",
        now,
    )?)
}
