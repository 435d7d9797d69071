//! Google Authenticator's "Transfer accounts" export.
//!
//! Each QR code holds `otpauth-migration://offline?data=BASE64`, where the data is a
//! protobuf `MigrationPayload` (the published schema, as reverse-engineered by the
//! community and stable since 2020):
//!
//! ```protobuf
//! message MigrationPayload {
//!   enum Algorithm { ALGORITHM_UNSPECIFIED = 0; SHA1 = 1; SHA256 = 2; SHA512 = 3; MD5 = 4; }
//!   enum DigitCount { DIGIT_COUNT_UNSPECIFIED = 0; SIX = 1; EIGHT = 2; }
//!   enum OtpType { OTP_TYPE_UNSPECIFIED = 0; HOTP = 1; TOTP = 2; }
//!   message OtpParameters {
//!     bytes secret = 1; string name = 2; string issuer = 3; Algorithm algorithm = 4;
//!     DigitCount digits = 5; OtpType type = 6; int64 counter = 7;
//!   }
//!   repeated OtpParameters otp_parameters = 1;
//!   int32 version = 2; int32 batch_size = 3; int32 batch_index = 4; int32 batch_id = 5;
//! }
//! ```
//!
//! A large export is split over several QR codes that share `batch_id` and `batch_size`
//! and number themselves with `batch_index`. [`MigrationBatches`] collects them (in any
//! order, the same code scanned twice is fine) and refuses to finish until every part is
//! there. Google's export has no period field: TOTP accounts are 30 s.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use zeroize::Zeroizing;

use super::protobuf::{Reader, Value};
use super::{Entry, MAX_IMPORT_BYTES, entry_error};
use crate::account::{DEFAULT_PERIOD, NewAccount, Otp};
use crate::algorithm::Algorithm;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// Most QR codes one export may span.
const MAX_BATCHES: u32 = 1_000;

const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// How far a multi-part export has been scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchProgress {
    /// Distinct parts received.
    pub received: u32,
    /// Parts in the export.
    pub expected: u32,
}

impl BatchProgress {
    /// Whether every part is there.
    pub fn is_complete(self) -> bool {
        self.received == self.expected
    }
}

/// One decoded QR code.
struct Part {
    batch_id: i32,
    batch_size: u32,
    batch_index: u32,
    /// The payload's bytes, to compare a part scanned twice and to decode at the end.
    payload: Zeroizing<Vec<u8>>,
}

/// The QR codes of one export, collected as they are scanned.
#[derive(Default)]
pub struct MigrationBatches {
    parts: Vec<Part>,
}

impl std::fmt::Debug for MigrationBatches {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationBatches")
            .field("progress", &self.progress())
            .finish_non_exhaustive()
    }
}

impl MigrationBatches {
    /// No part yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one scanned `otpauth-migration://` URI. Scanning a part twice is harmless; a
    /// part of another export is refused ([`Error::MixedExports`]) and changes nothing.
    pub fn add(&mut self, uri: &str) -> Result<BatchProgress> {
        let payload = decode_uri(uri)?;
        let (batch_id, batch_size, batch_index) = batch_fields(&payload)?;
        if let Some(first) = self.parts.first()
            && (first.batch_id != batch_id || first.batch_size != batch_size)
        {
            return Err(Error::MixedExports);
        }
        match self.parts.iter().find(|p| p.batch_index == batch_index) {
            Some(same) if same.payload == payload => {}
            Some(_) => return Err(Error::MixedExports),
            None => self.parts.push(Part { batch_id, batch_size, batch_index, payload }),
        }
        Ok(self.progress())
    }

    /// Parts received and expected (0 of 0 before the first part).
    pub fn progress(&self) -> BatchProgress {
        BatchProgress {
            received: self.parts.len() as u32,
            expected: self.parts.first().map_or(0, |p| p.batch_size),
        }
    }

    /// Every account of the export, in part order. Refused while parts are missing.
    pub fn finish(self) -> Result<Vec<NewAccount>> {
        super::collect(self.entries()?)
    }

    fn entries(mut self) -> Result<Vec<Entry>> {
        let progress = self.progress();
        if progress.expected == 0 {
            return Err(Error::EmptyImport);
        }
        if !progress.is_complete() {
            let missing = (0..progress.expected)
                .filter(|i| !self.parts.iter().any(|p| p.batch_index == *i))
                .map(|i| i + 1)
                .collect();
            return Err(Error::IncompleteExport { expected: progress.expected, missing });
        }
        self.parts.sort_by_key(|p| p.batch_index);
        let mut entries = Vec::new();
        for part in &self.parts {
            read_accounts(&part.payload, &mut entries)?;
        }
        Ok(entries)
    }
}

/// Every line of `text` that is not blank is one QR code of the same export.
pub(super) fn parse(text: &str) -> Result<Vec<Entry>> {
    let mut batches = MigrationBatches::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
        batches.add(line)?;
    }
    batches.entries()
}

/// The protobuf bytes of an `otpauth-migration://offline?data=...` URI.
fn decode_uri(uri: &str) -> Result<Zeroizing<Vec<u8>>> {
    let uri = uri.trim();
    if uri.len() > MAX_IMPORT_BYTES {
        return Err(Error::TooLarge { what: "otpauth-migration URI", max: MAX_IMPORT_BYTES });
    }
    const SCHEME: &str = "otpauth-migration://";
    let rest = uri
        .get(..SCHEME.len())
        .filter(|head| head.eq_ignore_ascii_case(SCHEME))
        .map(|_| &uri[SCHEME.len()..])
        .ok_or_else(|| Error::InvalidMigration {
            reason: "not an otpauth-migration:// URI".to_owned(),
        })?;
    let (host, query) = rest
        .split_once('?')
        .ok_or_else(|| Error::InvalidMigration { reason: "no data parameter".to_owned() })?;
    if !host.trim_end_matches('/').eq_ignore_ascii_case("offline") {
        return Err(Error::InvalidMigration {
            reason: "expected otpauth-migration://offline".to_owned(),
        });
    }
    let data = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("data=").or_else(|| pair.strip_prefix("DATA=")))
        .ok_or_else(|| Error::InvalidMigration { reason: "no data parameter".to_owned() })?;
    // Percent-decode (a '+' here is base64, not a space), then base64 in either alphabet.
    let mut b64 = Zeroizing::new(String::with_capacity(data.len()));
    let bytes = data.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| {
                    Some((char::from(h[0]).to_digit(16)?, char::from(h[1]).to_digit(16)?))
                })
                .ok_or_else(|| Error::InvalidPercentEncoding { part: "data".to_owned() })?;
            i += 3;
            (hex.0 * 16 + hex.1) as u8
        } else {
            i += 1;
            bytes[i - 1]
        };
        match c {
            b'-' => b64.push('+'),
            b'_' => b64.push('/'),
            b' ' | b'\n' | b'\r' | b'\t' => {}
            other => b64.push(other as char),
        }
    }
    let decoded = BASE64
        .decode(b64.as_bytes())
        .or_else(|_| general_purpose::STANDARD_NO_PAD.decode(b64.trim_end_matches('=').as_bytes()))
        .map_err(|_| Error::InvalidMigration {
            reason: "the data parameter is not base64".to_owned(),
        })?;
    Ok(Zeroizing::new(decoded))
}

/// `batch_id`, `batch_size` (at least 1) and `batch_index` of a payload.
fn batch_fields(payload: &[u8]) -> Result<(i32, u32, u32)> {
    let (mut id, mut size, mut index) = (0i64, 0u64, 0u64);
    let mut reader = Reader::new(payload);
    while let Some((field, value)) = reader.next_field()? {
        match (field, value) {
            (3, Value::Varint(v)) => size = v,
            (4, Value::Varint(v)) => index = v,
            (5, Value::Varint(v)) => id = v as i64,
            (1, Value::Bytes(_)) | (2, Value::Varint(_)) => {}
            (1..=5, _) => {
                return Err(Error::MalformedProtobuf {
                    reason: "a MigrationPayload field has the wrong wire type",
                });
            }
            _ => {}
        }
    }
    let size = size.max(1);
    if size > u64::from(MAX_BATCHES) {
        return Err(Error::InvalidMigration {
            reason: format!("batch_size {size} is larger than {MAX_BATCHES}"),
        });
    }
    if index >= size {
        return Err(Error::InvalidMigration {
            reason: format!("batch_index {index} is not below batch_size {size}"),
        });
    }
    Ok((id as i32, size as u32, index as u32))
}

/// Appends the accounts of one payload to `entries`.
fn read_accounts(payload: &[u8], entries: &mut Vec<Entry>) -> Result<()> {
    let mut reader = Reader::new(payload);
    while let Some((field, value)) = reader.next_field()? {
        if let (1, Value::Bytes(params)) = (field, value) {
            let number = entries.len() + 1;
            let raw = RawParams::read(params)?;
            let label = raw.label();
            entries.push(raw.account().map_err(|e| entry_error(number, label, e)));
        }
    }
    Ok(())
}

/// One `OtpParameters` as found.
#[derive(Default)]
struct RawParams<'a> {
    secret: &'a [u8],
    name: &'a str,
    issuer: &'a str,
    algorithm: u64,
    digits: u64,
    kind: u64,
    counter: u64,
}

impl<'a> RawParams<'a> {
    fn read(bytes: &'a [u8]) -> Result<Self> {
        let mut raw = Self::default();
        let mut reader = Reader::new(bytes);
        let text = |b: &'a [u8]| {
            std::str::from_utf8(b)
                .map_err(|_| Error::MalformedProtobuf { reason: "a name or issuer is not UTF-8" })
        };
        while let Some((field, value)) = reader.next_field()? {
            match (field, value) {
                (1, Value::Bytes(b)) => raw.secret = b,
                (2, Value::Bytes(b)) => raw.name = text(b)?,
                (3, Value::Bytes(b)) => raw.issuer = text(b)?,
                (4, Value::Varint(v)) => raw.algorithm = v,
                (5, Value::Varint(v)) => raw.digits = v,
                (6, Value::Varint(v)) => raw.kind = v,
                (7, Value::Varint(v)) => raw.counter = v,
                (1..=7, _) => {
                    return Err(Error::MalformedProtobuf {
                        reason: "an OtpParameters field has the wrong wire type",
                    });
                }
                _ => {}
            }
        }
        Ok(raw)
    }

    /// Issuer and name: Google often writes the name as `Issuer:name`.
    fn issuer_and_name(&self) -> (&'a str, &'a str) {
        let issuer = self.issuer.trim();
        if !issuer.is_empty() {
            let name = self
                .name
                .strip_prefix(issuer)
                .and_then(|rest| rest.trim_start().strip_prefix(':'))
                .unwrap_or(self.name);
            return (issuer, name);
        }
        match self.name.split_once(':') {
            Some((issuer, name)) => (issuer, name),
            None => ("", self.name),
        }
    }

    fn label(&self) -> Option<String> {
        let (issuer, name) = self.issuer_and_name();
        Some(crate::account::label(issuer.trim(), name.trim()))
    }

    fn account(&self) -> Result<NewAccount> {
        let secret = Secret::from_bytes(self.secret)?;
        let algorithm = match self.algorithm {
            0 | 1 => Algorithm::Sha1,
            2 => Algorithm::Sha256,
            3 => Algorithm::Sha512,
            4 => return Err(Error::UnknownAlgorithm { found: "MD5".to_owned() }),
            n => return Err(Error::UnknownAlgorithm { found: format!("enum value {n}") }),
        };
        let digits = match self.digits {
            0 | 1 => 6,
            2 => 8,
            n => return Err(Error::InvalidDigits { found: format!("enum value {n}") }),
        };
        let otp = match self.kind {
            0 | 2 => Otp::totp(secret, algorithm, digits, DEFAULT_PERIOD)?,
            1 => Otp::hotp(secret, algorithm, digits, self.counter)?,
            n => return Err(Error::UnknownType { found: format!("enum value {n}") }),
        };
        let (issuer, name) = self.issuer_and_name();
        NewAccount::new(issuer, name, None, otp)
    }
}

#[cfg(test)]
mod tests {
    use super::super::protobuf::write;
    use super::*;
    use crate::account::OtpKind;

    /// An `OtpParameters` message, from the schema.
    fn params(
        secret: &[u8],
        name: &str,
        issuer: &str,
        algorithm: u64,
        digits: u64,
        kind: u64,
        counter: u64,
    ) -> Vec<u8> {
        let mut m = vec![];
        write::bytes(&mut m, 1, secret);
        write::bytes(&mut m, 2, name.as_bytes());
        write::bytes(&mut m, 3, issuer.as_bytes());
        write::uint(&mut m, 4, algorithm);
        write::uint(&mut m, 5, digits);
        write::uint(&mut m, 6, kind);
        write::uint(&mut m, 7, counter);
        m
    }

    /// A `MigrationPayload` as an `otpauth-migration://` URI.
    fn payload_uri(accounts: &[Vec<u8>], size: u64, index: u64, id: i64) -> String {
        let mut m = vec![];
        for a in accounts {
            write::bytes(&mut m, 1, a);
        }
        write::uint(&mut m, 2, 1);
        write::uint(&mut m, 3, size);
        write::uint(&mut m, 4, index);
        write::uint(&mut m, 5, id as u64);
        uri_of(&m)
    }

    fn uri_of(payload: &[u8]) -> String {
        let b64 = general_purpose::STANDARD.encode(payload);
        format!(
            "otpauth-migration://offline?data={}",
            b64.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D")
        )
    }

    #[test]
    fn one_qr_code_with_every_kind_of_account() {
        let uri = payload_uri(
            &[
                params(b"12345678901234567890", "alice@example.com", "Example", 1, 1, 2, 0),
                params(b"abcdefghij", "Bank:bob", "", 2, 2, 1, 42),
                params(b"0123456789abcdef", "ACME Co:carol", "ACME Co", 3, 0, 0, 0),
                params(b"zzzzzzzzzz", "dave", "", 0, 0, 2, 0),
            ],
            1,
            0,
            -12345,
        );
        let accounts =
            super::super::parse(crate::ImportFormat::GoogleAuthenticator, uri.as_bytes()).unwrap();
        assert_eq!(accounts.len(), 4);
        let a = &accounts[0];
        assert_eq!(
            (a.issuer.as_deref().unwrap_or(""), a.name.as_str(), a.otp.kind()),
            ("Example", "alice@example.com", OtpKind::Totp)
        );
        assert_eq!(a.otp.code_at(crate::UnixTime::from_secs(59)).unwrap(), "287082");
        let b = &accounts[1];
        assert_eq!(
            (b.issuer.as_deref().unwrap_or(""), b.name.as_str(), b.otp.kind(), b.otp.counter()),
            ("Bank", "bob", OtpKind::Hotp, Some(42))
        );
        assert_eq!((b.otp.algorithm(), b.otp.digits()), (Algorithm::Sha256, 8));
        let c = &accounts[2];
        assert_eq!(
            (c.issuer.as_deref().unwrap_or(""), c.name.as_str(), c.otp.algorithm()),
            ("ACME Co", "carol", Algorithm::Sha512)
        );
        assert_eq!((accounts[3].issuer.as_deref(), accounts[3].otp.period()), (None, Some(30)));
    }

    #[test]
    fn a_multi_part_export_needs_every_part_in_any_order() {
        let part = |i: u64, secret: &[u8]| {
            payload_uri(&[params(secret, &format!("user{i}"), "Multi", 1, 1, 2, 0)], 3, i, 777)
        };
        let parts = [part(0, b"secret-zero"), part(1, b"secret-one!"), part(2, b"secret-two!")];

        let mut batches = MigrationBatches::new();
        assert_eq!(batches.add(&parts[2]).unwrap(), BatchProgress { received: 1, expected: 3 });
        assert_eq!(
            batches.add(&parts[2]).unwrap(),
            BatchProgress { received: 1, expected: 3 },
            "scanned twice"
        );
        assert_eq!(batches.add(&parts[0]).unwrap(), BatchProgress { received: 2, expected: 3 });
        let other_export = payload_uri(&[params(b"elsewhere!", "x", "Y", 1, 1, 2, 0)], 3, 1, 778);
        assert_eq!(batches.add(&other_export), Err(Error::MixedExports));
        let other_size = payload_uri(&[params(b"elsewhere!", "x", "Y", 1, 1, 2, 0)], 4, 1, 777);
        assert_eq!(batches.add(&other_size), Err(Error::MixedExports));
        let same_index_other_content =
            payload_uri(&[params(b"different!", "x", "Y", 1, 1, 2, 0)], 3, 0, 777);
        assert_eq!(batches.add(&same_index_other_content), Err(Error::MixedExports));
        assert_eq!(batches.progress(), BatchProgress { received: 2, expected: 3 });

        let incomplete = format!("{}\n{}\n", parts[0], parts[2]);
        assert_eq!(
            super::super::parse(crate::ImportFormat::GoogleAuthenticator, incomplete.as_bytes()),
            Err(Error::IncompleteExport { expected: 3, missing: vec![2] })
        );

        assert!(batches.add(&parts[1]).unwrap().is_complete());
        let accounts = batches.finish().unwrap();
        let names: Vec<_> = accounts.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["user0", "user1", "user2"], "in part order");

        let file = format!("{}\n\n{}\r\n{}", parts[1], parts[2], parts[0]);
        assert_eq!(
            super::super::parse(crate::ImportFormat::GoogleAuthenticator, file.as_bytes())
                .unwrap()
                .len(),
            3
        );
    }

    #[test]
    fn bad_entries_are_reported_one_by_one_and_nothing_is_imported() {
        let uri = payload_uri(
            &[
                params(b"fine-secret", "ok", "Good", 1, 1, 2, 0),
                params(b"", "nosecret", "Bad", 1, 1, 2, 0),
                params(b"md5-secret", "md5", "Bad", 4, 1, 2, 0),
                params(b"digits", "digits", "Bad", 1, 7, 2, 0),
                params(b"type", "type", "Bad", 1, 1, 9, 0),
            ],
            1,
            0,
            1,
        );
        let Err(Error::InvalidEntries { errors }) =
            super::super::parse(crate::ImportFormat::GoogleAuthenticator, uri.as_bytes())
        else {
            panic!("expected per-entry errors")
        };
        let summary: Vec<_> =
            errors.iter().map(|e| (e.entry, e.label.clone().unwrap(), e.error.code())).collect();
        assert_eq!(
            summary,
            [
                (2, "Bad:nosecret".to_owned(), "missing_secret"),
                (3, "Bad:md5".to_owned(), "unknown_algorithm"),
                (4, "Bad:digits".to_owned(), "invalid_digits"),
                (5, "Bad:type".to_owned(), "unknown_type"),
            ]
        );
    }

    #[test]
    fn truncated_and_malformed_payloads_are_refused() {
        let mut payload = vec![];
        write::bytes(
            &mut payload,
            1,
            &params(b"12345678901234567890", "alice", "Example", 1, 1, 2, 0),
        );
        let boundary = payload.len(); // cutting here leaves a shorter, valid message
        write::uint(&mut payload, 3, 1);
        for cut in (1..payload.len()).filter(|cut| *cut != boundary) {
            let err = super::super::parse(
                crate::ImportFormat::GoogleAuthenticator,
                uri_of(&payload[..cut]).as_bytes(),
            )
            .unwrap_err();
            assert!(matches!(err, Error::Truncated { .. }), "cut at {cut}: {err:?}");
        }
        for (bad, code) in [
            ("otpauth-migration://offline?data=%%%", "invalid_percent_encoding"),
            ("otpauth-migration://offline?data=!!!!", "invalid_migration"),
            ("otpauth-migration://offline", "invalid_migration"),
            ("otpauth-migration://online?data=AAAA", "invalid_migration"),
            ("otpauth://totp/x?secret=AAAA", "invalid_migration"),
        ] {
            let err = super::super::parse(crate::ImportFormat::GoogleAuthenticator, bad.as_bytes())
                .unwrap_err();
            assert_eq!(err.code(), code, "{bad}: {err}");
        }
        // Wrong wire type for the secret, and a batch index past the size.
        let mut wrong = vec![];
        let mut p = vec![];
        write::uint(&mut p, 1, 5);
        write::bytes(&mut wrong, 1, &p);
        assert!(matches!(
            super::super::parse(
                crate::ImportFormat::GoogleAuthenticator,
                uri_of(&wrong).as_bytes()
            ),
            Err(Error::MalformedProtobuf { .. })
        ));
        let past = payload_uri(&[params(b"x", "a", "b", 1, 1, 2, 0)], 2, 2, 1);
        assert!(matches!(
            super::super::parse(crate::ImportFormat::GoogleAuthenticator, past.as_bytes()),
            Err(Error::InvalidMigration { .. })
        ));
        assert_eq!(
            super::super::parse(crate::ImportFormat::GoogleAuthenticator, b"\n\n"),
            Err(Error::EmptyImport)
        );
    }

    #[test]
    fn base64_in_either_alphabet_with_or_without_padding_or_escapes() {
        let mut payload = vec![];
        write::bytes(&mut payload, 1, &params(&[0xfb; 20], "alice", "Example", 1, 1, 2, 0));
        let standard = general_purpose::STANDARD.encode(&payload);
        assert!(
            standard.contains('+') || standard.contains('/'),
            "the sample exercises the alphabet: {standard}"
        );
        for data in [
            standard.clone(),
            standard.trim_end_matches('=').to_owned(),
            general_purpose::URL_SAFE_NO_PAD.encode(&payload),
            standard.replace('+', "%2B").replace('/', "%2f"),
        ] {
            let uri = format!("OTPAUTH-MIGRATION://offline?data={data}");
            let accounts =
                super::super::parse(crate::ImportFormat::GoogleAuthenticator, uri.as_bytes())
                    .unwrap();
            assert_eq!(accounts[0].otp.secret().expose(), &[0xfb; 20], "{data}");
        }
    }
}
