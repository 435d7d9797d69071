//! A corpus of otpauth URIs: what real issuers write (accepted, leniently) and what is
//! malformed (a typed error, nothing stored, the secret never in the message).

#![allow(clippy::unwrap_used)]

use twostep_otp::{Algorithm, Error, OtpKind, Vault, uri};

const SECRET: &str = "JBSWY3DPEHPK3PXP";

/// (uri, issuer, name, kind, algorithm, digits, period or counter)
type Expected = (&'static str, &'static str, &'static str, OtpKind, Algorithm, u8, u64);

#[test]
fn what_real_issuers_write_is_accepted() {
    use Algorithm::*;
    use OtpKind::*;
    let corpus: &[Expected] = &[
        // Google's own example.
        (
            "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
            "Example",
            "alice@google.com",
            Totp,
            Sha1,
            6,
            30,
        ),
        // Lower case, unpadded, padded, space- and plus-grouped secrets.
        (
            "otpauth://totp/Example:alice?secret=jbswy3dpehpk3pxp",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP====",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP%3D%3D%3D%3D",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/Example:alice?secret=JBSW%20Y3DP%20EHPK%203PXP",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/Example:alice?secret=jbsw+y3dp+ehpk+3pxp",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        // %3A between issuer and account, and a space after the colon.
        (
            "otpauth://totp/Example%3Aalice%40google.com?secret=JBSWY3DPEHPK3PXP",
            "Example",
            "alice@google.com",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/Example%3A%20alice?secret=JBSWY3DPEHPK3PXP",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/Example:%20alice?secret=JBSWY3DPEHPK3PXP",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        // The issuer parameter wins over the label's prefix.
        (
            "otpauth://totp/OldName:alice?secret=JBSWY3DPEHPK3PXP&issuer=NewName",
            "NewName",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/ACME%20Co:john?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
            "ACME Co",
            "john",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "otpauth://totp/A%3AB:john?secret=JBSWY3DPEHPK3PXP&issuer=A%3AB",
            "A:B",
            "john",
            Totp,
            Sha1,
            6,
            30,
        ),
        // No issuer at all; only an issuer.
        ("otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP", "", "alice", Totp, Sha1, 6, 30),
        (
            "otpauth://totp/?secret=JBSWY3DPEHPK3PXP&issuer=Example",
            "Example",
            "",
            Totp,
            Sha1,
            6,
            30,
        ),
        // Case-insensitive scheme, type, parameter names and algorithm.
        (
            "OTPAUTH://TOTP/Example:alice?SECRET=JBSWY3DPEHPK3PXP&Issuer=Example&Algorithm=sha1",
            "Example",
            "alice",
            Totp,
            Sha1,
            6,
            30,
        ),
        // Other algorithms, lengths and periods, at the bounds.
        (
            "otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA256&digits=8&period=60",
            "E",
            "a",
            Totp,
            Sha256,
            8,
            60,
        ),
        (
            "otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA512&digits=7&period=1",
            "E",
            "a",
            Totp,
            Sha512,
            7,
            1,
        ),
        (
            "otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=sha-256&period=3600",
            "E",
            "a",
            Totp,
            Sha256,
            6,
            3600,
        ),
        // HOTP with a counter (without one it is refused: see below).
        (
            "otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXP&counter=42",
            "Bank",
            "me",
            Hotp,
            Sha1,
            6,
            42,
        ),
        (
            "otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551615",
            "Bank",
            "me",
            Hotp,
            Sha1,
            6,
            u64::MAX,
        ),
        // Steam Guard: its own type, or TOTP with encoder=steam (digits/period ignored).
        (
            "otpauth://steam/Steam:gamer?secret=JBSWY3DPEHPK3PXP",
            "Steam",
            "gamer",
            Steam,
            Sha1,
            5,
            30,
        ),
        (
            "otpauth://totp/Steam:gamer?secret=JBSWY3DPEHPK3PXP&issuer=Steam&encoder=steam&digits=5",
            "Steam",
            "gamer",
            Steam,
            Sha1,
            5,
            30,
        ),
        // Unknown parameters, a fragment, surrounding whitespace, empty pairs.
        (
            "otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&image=https%3A%2F%2Fexample.com%2Flogo.png&color=ff0000",
            "E",
            "a",
            Totp,
            Sha1,
            6,
            30,
        ),
        (
            "  otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&&issuer=E#section\n",
            "E",
            "a",
            Totp,
            Sha1,
            6,
            30,
        ),
        // Non-ASCII labels.
        (
            "otpauth://totp/M%C3%BCller%20GmbH:j%C3%BCrgen?secret=JBSWY3DPEHPK3PXP",
            "Müller GmbH",
            "jürgen",
            Totp,
            Sha1,
            6,
            30,
        ),
    ];
    for &(text, issuer, name, kind, algorithm, digits, period_or_counter) in corpus {
        let account = uri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let expected_issuer = (!issuer.is_empty()).then(|| issuer.to_owned());
        assert_eq!(account.issuer, expected_issuer, "{text}: absent, never empty");
        let mismatch = text.contains("OldName");
        assert_eq!(account.warnings.len(), usize::from(mismatch), "{text}");
        assert_eq!(account.name, name, "{text}");
        let otp = &account.otp;
        assert_eq!(
            (otp.kind(), otp.algorithm(), otp.digits()),
            (kind, algorithm, digits),
            "{text}"
        );
        assert_eq!(otp.secret().to_base32().as_str(), SECRET, "{text}");
        match kind {
            Hotp => assert_eq!(otp.counter(), Some(period_or_counter), "{text}"),
            _ => assert_eq!(otp.period().map(u64::from), Some(period_or_counter), "{text}"),
        }
        // What we write reads back the same.
        let written = uri::to_uri(account.issuer.as_deref(), &account.name, otp);
        let read_back = uri::parse(&written).unwrap();
        assert_eq!(read_back.warnings, [], "{text}: what we write agrees with itself");
        assert_eq!(
            twostep_otp::NewAccount { warnings: account.warnings.clone(), ..read_back },
            account,
            "{text} -> {}",
            *written
        );
    }
}

#[test]
fn malformed_uris_are_typed_errors_that_never_quote_the_secret() {
    let long_label = format!("otpauth://totp/{}?secret={SECRET}", "a".repeat(4100));
    let long_secret = format!("otpauth://totp/E:a?secret={}", "A".repeat(600));
    let corpus: &[(&str, &str)] = &[
        ("otpauth://totp/E:a?secret=JBSWY3DP1HPK3PXP", "invalid_base32"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PX!", "invalid_base32"),
        ("otpauth://totp/E:a?secret=JBSW%3DY3DP", "invalid_base32"),
        ("otpauth://totp/E:a?secret=JBSWY3DPE", "invalid_secret_length"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3P", "invalid_secret_length"),
        ("otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXP", "missing_counter"),
        ("otpauth://totp/E:a?issuer=E", "missing_secret"),
        ("otpauth://totp/E:a?secret=&issuer=E", "missing_secret"),
        ("otpauth://totp/E:a?secret=%20%20", "missing_secret"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=0", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=12", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=5", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=-6", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=six", "invalid_digits"),
        (
            "otpauth://hotp/E:a?secret=JBSWY3DPEHPK3PXP&digits=99999999999999999999999",
            "invalid_digits",
        ),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&period=0", "invalid_period"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&period=3601", "invalid_period"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&period=30s", "invalid_period"),
        ("otpauth://hotp/E:a?secret=JBSWY3DPEHPK3PXP&counter=-1", "invalid_counter"),
        (
            "otpauth://hotp/E:a?secret=JBSWY3DPEHPK3PXP&counter=18446744073709551616",
            "invalid_counter",
        ),
        ("otpauth://motp/E:a?secret=JBSWY3DPEHPK3PXP", "unknown_type"),
        ("otpauth://yandex/E:a?secret=JBSWY3DPEHPK3PXP", "unknown_type"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "unknown_algorithm"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=SHA3-256", "unknown_algorithm"),
        ("https://example.com/?secret=JBSWY3DPEHPK3PXP", "not_otpauth"),
        ("otpauth:/totp/E:a?secret=JBSWY3DPEHPK3PXP", "not_otpauth"),
        ("", "not_otpauth"),
        ("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8", "migration_uri"),
        ("otpauth://totp?secret=JBSWY3DPEHPK3PXP", "malformed_uri"),
        ("otpauth://totp/?secret=JBSWY3DPEHPK3PXP", "missing_label"),
        (
            "otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP",
            "duplicate_parameter",
        ),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=6&DIGITS=8", "duplicate_parameter"),
        ("otpauth://totp/E%ZZ:a?secret=JBSWY3DPEHPK3PXP", "invalid_percent_encoding"),
        ("otpauth://totp/E%FF:a?secret=JBSWY3DPEHPK3PXP", "invalid_percent_encoding"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&issuer=%E2%82", "invalid_percent_encoding"),
        ("otpauth://totp/E:a%0Ab?secret=JBSWY3DPEHPK3PXP", "invalid_label"),
        (&long_label, "too_large"),
        (&long_secret, "secret_too_long"),
    ];
    for (text, code) in corpus {
        let error = uri::parse(text).map(|_| ()).unwrap_err();
        assert_eq!(error.code(), *code, "{text}: {error}");
        let message = error.to_string();
        assert!(
            !message.contains("JBSWY3DP") && !message.contains("EHPK3PXP"),
            "{text}: {message}"
        );
        // Through the vault: nothing is stored.
        let mut vault = Vault::new();
        assert!(uri::parse(text).and_then(|a| vault.add(a)).is_err());
        assert!(vault.is_empty());
    }
}

#[test]
fn a_parsed_uri_generates_the_rfc_codes() {
    // RFC 6238's SHA-1 seed in base32.
    let account =
        uri::parse("otpauth://totp/RFC:6238?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8")
            .unwrap();
    let at = twostep_otp::UnixTime::from_secs;
    assert_eq!(account.otp.code_at(at(59)).as_deref(), Some("94287082"));
    assert_eq!(account.otp.code_at(at(1111111109)).as_deref(), Some("07081804"));
    let hotp =
        uri::parse("otpauth://hotp/RFC:4226?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=9")
            .unwrap();
    let mut vault = Vault::new();
    let id = vault.add(hotp).unwrap();
    assert_eq!(vault.next_hotp(id).unwrap().code, "520489");
    assert!(matches!(
        vault.next_hotp(twostep_otp::AccountId(99)),
        Err(Error::UnknownAccount { .. })
    ));
}

#[test]
fn every_account_reads_back_from_its_own_uri() {
    // Found by libFuzzer: without an issuer, "::houta" became the name ":houta" and
    // "Exam:" (from a Google export) the name "Exam:", whose URIs read back as "houta" and
    // the issuer "Exam". An issuer-less name is now split as its otpauth label would be.
    for (text, issuer, name) in [
        ("otpauth://totp/::houta?secret=JBSWY3DPEHPK3PXP", None, "houta"),
        ("otpauth://totp/%3A%3Ahouta?secret=JBSWY3DPEHPK3PXP", None, "houta"),
        ("otpauth://totp/:%20:houta?secret=JBSWY3DPEHPK3PXP", None, "houta"),
        ("otpauth://totp/Exam::?secret=JBSWY3DPEHPK3PXP", Some("Exam"), ":"),
    ] {
        let account = uri::parse(text).unwrap();
        assert_eq!((account.issuer.as_deref(), account.name.as_str()), (issuer, name), "{text}");
        let written = uri::to_uri(account.issuer.as_deref(), &account.name, &account.otp);
        assert_eq!(uri::parse(&written).unwrap(), account, "{text} -> {}", *written);
    }
    // The same for accounts from any other source.
    let otp = uri::parse("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP").unwrap().otp;
    for (name, split) in [
        (" : alice", (None, "alice")),
        ("Exam:", (Some("Exam"), "")),
        ("Bank: bob", (Some("Bank"), "bob")),
    ] {
        let account = twostep_otp::NewAccount::new("", name, None, otp.clone()).unwrap();
        assert_eq!((account.issuer.as_deref(), account.name.as_str()), split, "{name}");
        let written = uri::to_uri(account.issuer.as_deref(), &account.name, &account.otp);
        assert_eq!(uri::parse(&written).unwrap(), account, "{name} -> {}", *written);
    }
    assert!(twostep_otp::NewAccount::new("", "::", None, otp).is_err(), "nothing left to show");
}
