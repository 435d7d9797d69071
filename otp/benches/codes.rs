//! The authenticator's hot paths at 1,000 accounts: the code list a screen refresh asks
//! for, importing a file, and (de)serializing the vault for sealed storage.
//!
//! Run: `cargo bench -p twostep-otp --bench codes`

#![allow(clippy::unwrap_used, missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use twostep_otp::{
    Algorithm, ClockCorrection, ImportFormat, NewAccount, OffsetSource, Otp, Secret, Vault, import,
};

const N: usize = 1_000;
const NOW: twostep_otp::UnixTime = twostep_otp::UnixTime::from_secs(1_700_000_000);

/// A 160-bit secret unique to `i`.
fn secret(i: usize) -> Secret {
    let mut bytes = [0u8; 20];
    bytes[..8].copy_from_slice(&(i as u64).to_be_bytes());
    bytes[8..].copy_from_slice(b"twostep-otp!");
    Secret::from_bytes(&bytes).unwrap()
}

fn vault(mixed: bool) -> Vault {
    let mut vault = Vault::new();
    for i in 0..N {
        let (algorithm, digits, period) = match (mixed, i % 3) {
            (false, _) | (true, 0) => (Algorithm::Sha1, 6, 30),
            (true, 1) => (Algorithm::Sha256, 8, 30),
            (true, _) => (Algorithm::Sha512, 7, 60),
        };
        let otp = Otp::totp(secret(i), algorithm, digits, period).unwrap();
        vault
            .add(NewAccount::new("Issuer", &format!("user{i}@example.com"), None, otp).unwrap())
            .unwrap();
    }
    vault
}

fn uri_file() -> String {
    let vault = vault(true);
    twostep_otp::export::plain(vault.accounts()).to_string()
}

fn aegis_file() -> String {
    let entries: Vec<String> = (0..N)
        .map(|i| {
            format!(
                r#"{{"type":"totp","uuid":"{i}","name":"user{i}@example.com","issuer":"Issuer","note":"","favorite":false,"icon":null,"groups":[],"info":{{"secret":"{}","algo":"SHA1","digits":6,"period":30}}}}"#,
                secret(i).to_base32().as_str()
            )
        })
        .collect();
    format!(
        r#"{{"version":1,"header":{{"slots":null,"params":null}},"db":{{"version":3,"entries":[{}],"groups":[]}}}}"#,
        entries.join(",")
    )
}

fn codes(c: &mut Criterion) {
    let sha1 = vault(false);
    let mixed = vault(true);
    let correction = ClockCorrection { offset_ms: 2_500, source: OffsetSource::Server };
    c.bench_function("codes: 1,000 TOTP accounts (SHA1/6/30)", |b| {
        b.iter(|| black_box(sha1.codes(black_box(NOW), correction)))
    });
    c.bench_function("codes: 1,000 TOTP accounts (SHA1/256/512 mixed)", |b| {
        b.iter(|| black_box(mixed.codes(black_box(NOW), correction)))
    });
}

fn imports(c: &mut Criterion) {
    let uris = uri_file();
    let aegis = aegis_file();
    c.bench_function("import: 1,000 otpauth URIs into an empty vault", |b| {
        b.iter(|| {
            let mut vault = Vault::new();
            black_box(
                vault
                    .import(import::parse(ImportFormat::OtpauthUris, uris.as_bytes()).unwrap())
                    .unwrap(),
            )
        })
    });
    c.bench_function("import: 1,000 Aegis entries into an empty vault", |b| {
        b.iter(|| {
            let mut vault = Vault::new();
            black_box(
                vault
                    .import(import::parse(ImportFormat::Aegis, aegis.as_bytes()).unwrap())
                    .unwrap(),
            )
        })
    });
    let full = vault(true);
    c.bench_function("import: 1,000 duplicates into a 1,000-account vault", |b| {
        b.iter(|| {
            let mut vault = full.clone();
            black_box(
                vault
                    .import(import::parse(ImportFormat::OtpauthUris, uris.as_bytes()).unwrap())
                    .unwrap(),
            )
        })
    });
}

fn storage(c: &mut Criterion) {
    let vault = vault(true);
    let bytes = vault.to_bytes().unwrap();
    c.bench_function("vault: to_bytes, 1,000 accounts", |b| {
        b.iter(|| black_box(vault.to_bytes().unwrap()))
    });
    c.bench_function("vault: from_bytes, 1,000 accounts", |b| {
        b.iter(|| black_box(Vault::from_bytes(&bytes).unwrap()))
    });
}

criterion_group!(benches, codes, imports, storage);
criterion_main!(benches);
