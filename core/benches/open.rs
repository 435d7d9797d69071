//! Cold open: opening an existing data directory and restoring a signed-in state.
//!
//! What an app does at launch: open sled, check the meta record, unwrap both data keys
//! through the key store (here the CLI's key file, read from disk each time), open the
//! sealed registration, session and policy, and compute the status. Each iteration
//! starts from a closed data directory; closing it is not timed.
//!
//! Run: `cargo bench -p twostep-core --bench open`

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use twostep_core::{Access, Config, FileKeyStore, SystemClock, Twostep, UnixTime};

const URL: &str = "https://twostep.example.com";

fn open_and_restore(
    data_dir: &std::path::Path,
    key_file: &std::path::Path,
    now: UnixTime,
) -> Twostep {
    let key_store = FileKeyStore::open_or_create(key_file).unwrap();
    let app = Twostep::open(Config::new(data_dir, URL), Arc::new(key_store)).unwrap();
    let status = app.status(now).unwrap();
    assert_eq!(status.access, Access::SignedIn);
    black_box(status);
    app
}

fn cold_open(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key_file = dir.path().join("keystore.key");
    let now = SystemClock::unix_now();
    let key_store = FileKeyStore::open_or_create(&key_file).unwrap();
    twostep_core::fixtures::seed_signed_in_state(&data_dir, &key_store, URL, now).unwrap();

    let mut group = c.benchmark_group("core");
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("cold open + restore signed-in state", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let app = open_and_restore(&data_dir, &key_file, now);
                total += start.elapsed();
                // Closing (sled flushes and joins its flusher) happens off the clock, and
                // before the next open, which needs the directory's lock.
                drop(app);
            }
            total
        })
    });
    // For comparison: the part of the above that is sled opening its files.
    group.bench_function("sled open alone", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                let db = sled::Config::new().path(data_dir.join("state")).open().unwrap();
                total += start.elapsed();
                drop(db);
            }
            total
        })
    });
    group.bench_function("first open of an empty data dir", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for i in 0..iters {
                let fresh = dir.path().join(format!("fresh-{i}"));
                let start = Instant::now();
                let key_store = FileKeyStore::open_or_create(&key_file).unwrap();
                let app = Twostep::open(Config::new(&fresh, URL), Arc::new(key_store)).unwrap();
                black_box(app.status(now).unwrap());
                total += start.elapsed();
                drop(app);
                std::fs::remove_dir_all(&fresh).unwrap();
            }
            total
        })
    });
    group.finish();
}

criterion_group!(benches, cold_open);
criterion_main!(benches);
