//! The real `twostep` binary's offline authenticator tools: `code` (oathtool-like) and
//! `uri parse`. No server and no data directory are involved.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn twostep(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twostep"))
        .args(args)
        .env_remove("TWOSTEP_SERVER")
        .env_remove("TWOSTEP_DATA_DIR")
        .env_remove("TWOSTEP_KEY_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}

/// RFC 6238's seeds in base32.
const SHA1_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const SHA256_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA";
const SHA512_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA";

#[test]
fn code_prints_the_rfc_6238_vectors() {
    for (seed, algorithm, time, expected) in [
        (SHA1_SEED, "SHA1", "59", "94287082"),
        (SHA256_SEED, "SHA256", "1111111109", "68084774"),
        (SHA512_SEED, "SHA512", "1234567890", "93441116"),
        (SHA1_SEED, "sha1", "20000000000", "65353130"),
    ] {
        let output = twostep(
            &["code", "--secret", seed, "--algorithm", algorithm, "--digits", "8", "--time", time],
            "",
        );
        assert!(output.status.success(), "{}", stderr(&output));
        assert_eq!(stdout(&output), format!("{expected}\n"), "{algorithm} at {time}");
    }
    // Defaults: SHA1, 6 digits, 30 s; lenient secret; the secret on stdin.
    let output = twostep(
        &["code", "--secret", "gezd gnbv gy3t qojq gezd gnbv gy3t qojq", "--time", "59"],
        "",
    );
    assert_eq!(stdout(&output), "287082\n");
    let output = twostep(&["code", "--secret-stdin", "--time", "59"], &format!("{SHA1_SEED}\n"));
    assert_eq!(stdout(&output), "287082\n");
    // HOTP (RFC 4226 Appendix D).
    let output = twostep(&["code", "--secret", SHA1_SEED, "--counter", "9"], "");
    assert_eq!(stdout(&output), "520489\n");
    // JSON with the countdown.
    let output =
        twostep(&["--json", "code", "--secret", SHA1_SEED, "--time", "50", "--period", "60"], "");
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value["ok"], true);
    assert_eq!(value["seconds_remaining"], 10);
    assert_eq!(value["code"].as_str().unwrap().len(), 6);
    // Without --time it uses the clock.
    let output = twostep(&["code", "--secret", SHA1_SEED], "");
    assert!(output.status.success());
    assert_eq!(stdout(&output).trim().len(), 6);
}

#[test]
fn code_rejects_bad_input_with_a_typed_error() {
    for (args, code) in [
        (vec!["code", "--secret", "JBSWY3DP1"], "invalid_base32"),
        (vec!["code", "--secret", ""], "missing_secret"),
        (vec!["code", "--secret", SHA1_SEED, "--digits", "12"], "invalid_digits"),
        (vec!["code", "--secret", SHA1_SEED, "--digits", "0"], "invalid_digits"),
        (vec!["code", "--secret", SHA1_SEED, "--period", "0"], "invalid_period"),
        (vec!["code", "--secret", SHA1_SEED, "--period", "3601"], "invalid_period"),
    ] {
        let output = twostep(&args, "");
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(stdout(&output).is_empty());
        assert!(stderr(&output).contains(code), "{args:?}: {}", stderr(&output));
    }
    let output = twostep(&["code", "--secret", SHA1_SEED, "--algorithm", "MD5"], "");
    assert_eq!(output.status.code(), Some(2), "clap refuses it");
}

#[test]
fn uri_parse_prints_the_account_as_json() {
    let output = twostep(
        &["uri", "parse"],
        "otpauth://totp/ACME%20Co:john%40example.com?secret=jbsw+y3dp+ehpk+3pxp&issuer=ACME+Co&algorithm=sha256&digits=8&period=60\n",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        value,
        serde_json::json!({
            "type": "totp", "issuer": "ACME Co", "account": "john@example.com", "secret": "JBSWY3DPEHPK3PXP",
            "algorithm": "SHA256", "digits": 8, "period": 60, "warnings": []
        })
    );
    let output =
        twostep(&["uri", "parse"], "otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXP&counter=7");
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (value["type"].as_str(), value["counter"].as_u64(), value.get("period")),
        (Some("hotp"), Some(7), None)
    );
    let output = twostep(&["uri", "parse"], "otpauth://steam/Steam:gamer?secret=JBSWY3DPEHPK3PXP");
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (value["type"].as_str(), value["digits"].as_u64(), value["period"].as_u64()),
        (Some("steam"), Some(5), Some(30))
    );
}

#[test]
fn uri_parse_reports_typed_errors_on_stderr() {
    for (uri, code) in [
        ("otpauth://totp/E:a?secret=JBSWY3DP1", "invalid_base32"),
        ("otpauth://totp/E:a?issuer=E", "missing_secret"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=12", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&period=0", "invalid_period"),
        ("otpauth://motp/E:a?secret=JBSWY3DPEHPK3PXP", "unknown_type"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "unknown_algorithm"),
        ("https://example.com", "not_otpauth"),
    ] {
        let output = twostep(&["uri", "parse"], uri);
        assert_eq!(output.status.code(), Some(2), "{uri}");
        assert!(stdout(&output).is_empty(), "{uri}");
        let err = stderr(&output);
        assert!(err.starts_with(&format!("twostep: {code}: ")), "{uri}: {err}");
        assert!(!err.contains("JBSWY3DP"), "the secret is not echoed: {err}");
    }
    // --json: the error document, as for every command.
    let output =
        twostep(&["--json", "uri", "parse"], "otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=0");
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (value["ok"].as_bool(), value["error"]["code"].as_str()),
        (Some(false), Some("authenticator"))
    );
    assert_eq!(value["error"]["reason"], "invalid_digits");
    // Oversized, empty, several lines.
    let output =
        twostep(&["uri", "parse"], &format!("otpauth://totp/E:a?secret={}", "A".repeat(10_000)));
    assert!(stderr(&output).contains("too_large"), "{}", stderr(&output));
    assert_eq!(twostep(&["uri", "parse"], "").status.code(), Some(2));
    assert_eq!(
        twostep(&["uri", "parse"], "otpauth://totp/a?secret=AAAA\notpauth://totp/b?secret=AAAA")
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn uri_parse_shows_an_issuer_mismatch_and_refuses_what_would_change() {
    let output = twostep(
        &["uri", "parse"],
        "otpauth://totp/Google:alice?secret=JBSWY3DPEHPK3PXP&issuer=Evil%20Corp",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    let value: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(value["issuer"], "Evil Corp", "the parameter wins");
    assert_eq!(value["warnings"][0]["code"], "issuer_mismatch");
    assert_eq!(value["warnings"][0]["label_issuer"], "Google");
    assert!(text.contains("Warning (issuer_mismatch)"), "{text}");

    let no_issuer = twostep(&["uri", "parse"], "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP");
    let value: Value = serde_json::from_str(&stdout(&no_issuer)).unwrap();
    assert_eq!(value["issuer"], Value::Null, "absent, not empty");

    for (uri, reason) in [
        ("otpauth://totp/A:b?secret=JBSWY3DPE", "invalid_secret_length"),
        ("otpauth://hotp/A:b?secret=JBSWY3DPEHPK3PXP", "missing_counter"),
    ] {
        let output = twostep(&["--json", "uri", "parse"], uri);
        assert_eq!(output.status.code(), Some(2), "{uri}");
        let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(value["error"]["reason"], reason, "{uri}");
    }
    let output = twostep(&["code", "--secret", "JBSWY3DPE"], "");
    assert_eq!(output.status.code(), Some(2), "never truncated to JBSWY3DP");
}
