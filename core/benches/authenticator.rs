//! The authenticator through the core: `Authenticator::codes(now)` for a 1,000-account vault (the
//! one batched call a codes screen makes every second: passcode checks, the vault in memory,
//! the clock correction, every code and next code) and a durable HOTP tap (the whole vault
//! re-sealed and flushed).
//!
//! Run: `cargo bench -p twostep-core --bench authenticator`

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use twostep_core::authenticator::ImportFormat;
use twostep_core::{Config, MemoryKeyStore, Twostep, UnixTime};

const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);

fn vault_file() -> String {
    const B32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..1000u32)
        .map(|i| {
            let unique: String =
                (0..4).map(|k| B32[((i >> (5 * k)) & 31) as usize] as char).collect();
            format!("otpauth://totp/Issuer:user{i}@example.com?secret=JBSWY3DPEHPK3PXP{unique}")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn authenticator(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let twostep =
        Twostep::open(Config::local(dir.path()), Arc::new(MemoryKeyStore::new())).unwrap();
    let app = twostep.authenticator();
    let report = app.import(ImportFormat::OtpauthUris, vault_file().as_bytes()).unwrap();
    assert_eq!(report.added.len(), 1000);
    let hotp = app.add_uri("otpauth://hotp/Bank:me?secret=GEZDGNBVGY3TQOJQ&counter=0").unwrap().id;

    let mut group = c.benchmark_group("core authenticator");
    group.bench_function("codes(now): 1,000 TOTP accounts, one call", |b| {
        b.iter(|| black_box(app.codes(black_box(NOW)).unwrap()))
    });
    group.bench_function("next_hotp_code: advance + seal + flush (1,001-account vault)", |b| {
        b.iter(|| black_box(app.next_hotp_code(hotp).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, authenticator);
criterion_main!(benches);
