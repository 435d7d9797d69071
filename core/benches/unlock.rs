//! Unlock with the passcode, split into the Argon2id derivation and everything else.
//!
//! What an app pays when the user enters the PIN: the key store unwraps the pepper, the
//! attempt is counted and flushed (before the check), Argon2id (m = 19 MiB, t = 2, p = 1)
//! derives the key, AES-GCM opens the Account key, the count is reset and flushed. The data
//! dir is a signed-in device with a passcode, on the CLI's `FileKeyStore`; each iteration
//! locks first (not timed).
//!
//! Three numbers from the same code path (`fixtures::unlock_timed` reports the time spent
//! in Argon2id of each unlock): the whole unlock, its Argon2id part, and the rest (the
//! target: under 5 ms); criterion measures each on its own iterations, and a last line
//! prints the medians of one set of 50 unlocks, whose parts add up.
//!
//! Run: `cargo bench -p twostep-core --bench unlock`

#![allow(clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::{Duration, Instant};
use twostep_core::{Config, FileKeyStore, SystemClock, Twostep, UnixTime, fixtures};

const URL: &str = "https://twostep.example.com";
const PIN: &str = "482915";

/// Which part of an unlock to report.
#[derive(Clone, Copy)]
enum Part {
    Whole,
    Argon2id,
    Rest,
}

fn measure(app: &Twostep, now: UnixTime, iters: u64, part: Part) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        app.passcode().lock().unwrap();
        let start = Instant::now();
        let kdf = fixtures::unlock_timed(app, PIN, now).unwrap();
        let whole = start.elapsed();
        total += match part {
            Part::Whole => whole,
            Part::Argon2id => kdf,
            Part::Rest => whole.saturating_sub(kdf),
        };
    }
    total
}

fn unlock(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let key_store =
        Arc::new(FileKeyStore::open_or_create(dir.path().join("keystore.key")).unwrap());
    let now = SystemClock::unix_now();
    fixtures::seed_signed_in_state(&data_dir, key_store.as_ref(), URL, now).unwrap();
    let app = Twostep::open(Config::new(&data_dir, URL), key_store).unwrap();
    app.passcode().set(PIN, now).unwrap();

    let mut group = c.benchmark_group("core unlock");
    group.sample_size(30).measurement_time(Duration::from_secs(10));
    group.bench_function("unlock (whole)", |b| {
        b.iter_custom(|iters| measure(&app, now, iters, Part::Whole))
    });
    group.bench_function("of which Argon2id", |b| {
        b.iter_custom(|iters| measure(&app, now, iters, Part::Argon2id))
    });
    group.bench_function("of which the rest", |b| {
        b.iter_custom(|iters| measure(&app, now, iters, Part::Rest))
    });
    group.finish();

    // The same split from one set of unlocks, so that the three numbers add up.
    let mut samples: Vec<(Duration, Duration)> = (0..50)
        .map(|_| {
            app.passcode().lock().unwrap();
            let start = Instant::now();
            let kdf = fixtures::unlock_timed(&app, PIN, now).unwrap();
            (start.elapsed(), kdf)
        })
        .collect();
    let median = |values: &mut Vec<Duration>| {
        values.sort();
        values[values.len() / 2]
    };
    let mut whole: Vec<Duration> = samples.iter().map(|s| s.0).collect();
    let mut kdf: Vec<Duration> = samples.iter().map(|s| s.1).collect();
    let mut rest: Vec<Duration> = samples.drain(..).map(|(w, k)| w.saturating_sub(k)).collect();
    println!(
        "split over 50 unlocks (medians): whole {:.1?}, Argon2id {:.1?}, rest {:.2?}",
        median(&mut whole),
        median(&mut kdf),
        median(&mut rest)
    );
}

criterion_group!(benches, unlock);
criterion_main!(benches);
