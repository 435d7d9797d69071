//! The authenticator's parsers: otpauth URIs, the four import formats and our encrypted
//! export. Besides "no panic", each checks what the parser promises: an accepted account
//! survives being written as a URI and read back, a vault holding it computes codes at any
//! time and round-trips through its storage format, and an error never quotes a secret.

use base64::Engine;
use twostep_otp::import::{self, MAX_IMPORT_ENTRIES};
use twostep_otp::{
    ClockCorrection, Error, ImportFormat, KdfParams, NewAccount, OffsetSource, UnixTime, Vault,
};
use twostep_otp::{export, uri};

use super::secrets::assert_no_secret;

/// The password the encrypted-export seeds were made with.
pub const EXPORT_PASSWORD: &str = "fuzzing-export-password";

/// `otpauth://` URIs, as scanned from a QR code or pasted.
pub fn otpauth_uri(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match uri::parse(text) {
        Ok(account) => check_account(&account),
        Err(e) => check_error(&e, data, |d| uri::parse(&String::from_utf8_lossy(d)).err()),
    }
}

/// A Google Authenticator export as a text file (one `otpauth-migration://` URI per line),
/// and the same lines scanned one QR code at a time.
pub fn import_google(data: &[u8]) {
    import_format(ImportFormat::GoogleAuthenticator, data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    match scan_one_by_one(text) {
        Ok(accounts) => check_accounts(&accounts),
        Err(e) => check_error(&e, data, |d| scan_one_by_one(&String::from_utf8_lossy(d)).err()),
    }
}

/// Each line as a scanned QR code; the first error, or the accounts.
fn scan_one_by_one(text: &str) -> Result<Vec<NewAccount>, Error> {
    let mut batches = twostep_otp::MigrationBatches::new();
    for line in text.lines().take(64) {
        batches.add(line)?;
    }
    batches.finish()
}

/// Google's protobuf `MigrationPayload` itself: the bytes become the `data` of an
/// `otpauth-migration://` URI, so the fuzzer mutates the protobuf rather than its base64.
pub fn import_google_payload(data: &[u8]) {
    let encoded = base64::engine::general_purpose::STANDARD.encode(data);
    let escaped = encoded.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    let uri = format!("otpauth-migration://offline?data={escaped}");
    import_format(ImportFormat::GoogleAuthenticator, uri.as_bytes());
}

/// An Aegis plain JSON vault.
pub fn import_aegis(data: &[u8]) {
    import_format(ImportFormat::Aegis, data);
}

/// A 2FAS plain JSON backup.
pub fn import_twofas(data: &[u8]) {
    import_format(ImportFormat::TwoFas, data);
}

/// A text file of `otpauth://` URIs.
pub fn import_uri_list(data: &[u8]) {
    import_format(ImportFormat::OtpauthUris, data);
}

/// The encrypted export's header: everything the reader checks before Argon2id.
pub fn export_header(data: &[u8]) {
    match export::fuzzing::read_header(data) {
        Ok(params) => {
            let (min, max) = (KdfParams::MINIMUM, KdfParams::MAXIMUM);
            assert!(
                (min.memory_kib..=max.memory_kib).contains(&params.memory_kib)
                    && (min.iterations..=max.iterations).contains(&params.iterations)
                    && (min.parallelism..=max.parallelism).contains(&params.parallelism),
                "a header with Argon2id parameters out of bounds was accepted: {params:?}"
            );
        }
        Err(e) => check_error(&e, data, |d| export::fuzzing::read_header(d).err()),
    }
}

/// The encrypted export's plaintext, as the reader sees it after decryption.
pub fn export_payload(data: &[u8]) {
    match export::fuzzing::read_payload(data) {
        Ok(accounts) => check_accounts(&accounts),
        Err(e) => check_error(&e, data, |d| export::fuzzing::read_payload(d).err()),
    }
}

/// The whole encrypted-export reader, Argon2id included. Only headers at the minimum cost
/// are decrypted (others are covered by [`export_header`]): at 19 MiB per input this is the
/// slow target.
pub fn export_decrypt(data: &[u8]) {
    match export::fuzzing::read_header(data) {
        Ok(params) if params == KdfParams::MINIMUM => {}
        Ok(_) => return,
        Err(e) => return check_error(&e, data, |d| export::fuzzing::read_header(d).err()),
    }
    match export::decrypt(data, EXPORT_PASSWORD) {
        Ok(accounts) => check_accounts(&accounts),
        Err(Error::WrongPassword) => {}
        Err(e) => check_error(&e, data, |d| export::decrypt(d, EXPORT_PASSWORD).err()),
    }
}

fn import_format(format: ImportFormat, data: &[u8]) {
    // Detection must never panic either; its answer is only a guess.
    let _ = import::detect(data);
    match import::parse(format, data) {
        Ok(accounts) => check_accounts(&accounts),
        Err(e) => check_error(&e, data, |d| import::parse(format, d).err()),
    }
}

fn check_accounts(accounts: &[NewAccount]) {
    assert!(!accounts.is_empty(), "an import succeeded without accounts");
    assert!(accounts.len() <= MAX_IMPORT_ENTRIES, "an import exceeded the entry bound");
    for account in accounts.iter().take(8) {
        check_account(account);
    }
    let mut vault = Vault::new();
    let report = vault.import(accounts.to_vec()).expect("checked accounts import into a vault");
    assert_eq!(report.added.len() + report.duplicates.len(), accounts.len());
}

/// What every accepted account must do.
fn check_account(account: &NewAccount) {
    // Written as a URI (the plain export) and read back: the same generator and label.
    let written = uri::to_uri(account.issuer.as_deref(), &account.name, &account.otp);
    let back = uri::parse(&written)
        .unwrap_or_else(|e| panic!("an accepted account's URI does not parse: {e}"));
    assert_eq!(back.otp, account.otp, "the URI round trip changed the generator");
    assert_eq!(back.label(), account.label(), "the URI round trip changed the label");

    // Codes at any time, with any correction.
    let mut vault = Vault::new();
    let id = vault.add(account.clone()).expect("an accepted account fits an empty vault");
    for now in [0, 59, 1_700_000_000, u64::MAX / 1000, u64::MAX] {
        for offset_ms in [i64::MIN, -86_400_000, 0, 86_400_000, i64::MAX] {
            let correction = ClockCorrection { offset_ms, source: OffsetSource::Server };
            let list = vault.codes(UnixTime::from_secs(now), correction);
            assert_eq!(list.codes.len(), 1);
        }
    }
    if account.otp.counter().is_some() {
        match vault.next_hotp(id) {
            Ok(code) => assert_eq!(code.code.len(), usize::from(account.otp.digits())),
            Err(Error::CounterExhausted { .. }) => {}
            Err(e) => panic!("next HOTP code failed: {e}"),
        }
    }
    // Sealed storage round trip.
    let bytes = vault.to_bytes().expect("a vault serializes");
    let restored = Vault::from_bytes(&bytes).expect("a serialized vault reads back");
    assert_eq!(restored.accounts(), vault.accounts());
}

/// Errors never quote a secret from the input (see [`super::secrets`]); `rerun` parses
/// again.
fn check_error(error: &Error, input: &[u8], rerun: impl Fn(&[u8]) -> Option<Error>) {
    let show = |e: &Error| format!("{e} {e:?}");
    assert_no_secret(input, &show(error), "an error", |d| {
        rerun(d).map(|e| show(&e)).unwrap_or_default()
    });
}
