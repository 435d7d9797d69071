//! Whom the `twostep` binary trusts: the system's trust store, which on Linux is only
//! `SSL_CERT_FILE` when that is set, plus `--ca-cert` on top. The real server behind a TLS
//! terminator whose certificate comes from a CA made for this test (`twostep_e2e::tls`).

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use twostep_e2e::Harness;
use twostep_e2e::tls::{TestCa, TlsTerminator};

const PASSWORD: &str = "correct-horse-battery";

/// `twostep --json --server URL --data-dir DIR sign-in USER --password-stdin [extra...]`
/// with `SSL_CERT_FILE=trust_store`: the exit code and the JSON printed.
async fn sign_in(url: &str, data_dir: &Path, trust_store: &Path, extra: &[&str]) -> (i32, Value) {
    let args = [extra, &["sign-in", "tess", "--password-stdin"]].concat();
    twostep(url, data_dir, trust_store, &args).await
}

/// `twostep --json --server URL --data-dir DIR ARGS...` with `SSL_CERT_FILE=trust_store` and
/// the password on stdin.
async fn twostep(url: &str, data_dir: &Path, trust_store: &Path, args: &[&str]) -> (i32, Value) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_twostep"));
    command
        .args(["--json", "--server", url, "--data-dir"])
        .arg(data_dir)
        .args(["--timeout", "20"])
        .args(args)
        .env("SSL_CERT_FILE", trust_store)
        .env_remove("SSL_CERT_DIR")
        .env_remove("TWOSTEP_SERVER")
        .env_remove("TWOSTEP_DATA_DIR")
        .env_remove("TWOSTEP_KEY_FILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = command.spawn().unwrap();
        child.stdin.take().unwrap().write_all(format!("{PASSWORD}\n").as_bytes()).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!("{e}: stdout {stdout:?}, stderr {:?}", String::from_utf8_lossy(&output.stderr))
    });
    (output.status.code().unwrap(), value)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_trusts_a_ca_only_in_ssl_cert_file_or_given_with_ca_cert() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "tess", PASSWORD).await;
    let (ca, other) = (TestCa::new("twostep test CA"), TestCa::new("someone else's CA"));
    let stores = h.scratch("trust");
    std::fs::create_dir_all(&stores).unwrap();
    let (ca_pem, other_pem) = (stores.join("ca.pem"), stores.join("other.pem"));
    ca.write_pem(&ca_pem).unwrap();
    other.write_pem(&other_pem).unwrap();
    let https = TlsTerminator::start(&ca, h.client_addr()).await.unwrap();

    // The test CA is not in the trust store: refused before anything is sent, typed, exit 6,
    // and the data dir is as before (no pending sign-in).
    let refused_dir = h.scratch("refused");
    let (exit, v) = sign_in(&https.url(), &refused_dir, &other_pem, &[]).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (6, Some("server_not_trusted")), "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("not trusted") && message.contains("UnknownIssuer"), "{message}");
    let (exit, v) = twostep(&https.url(), &refused_dir, &other_pem, &["status"]).await;
    assert_eq!(
        (exit, &v["access"], &v["pending_sign_in"]),
        (0, &Value::from("first_access"), &Value::Null),
        "{v}"
    );

    // Only in SSL_CERT_FILE: trusted, the sign-in completes over HTTPS.
    let (exit, v) = sign_in(&https.url(), &h.scratch("trusted"), &ca_pem, &[]).await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["status"], "passcode_setup", "{v}");

    // Not in the store, but given with --ca-cert: on top of the store, trusted.
    let ca_arg = ca_pem.to_str().unwrap();
    let (exit, v) = sign_in(&https.url(), &refused_dir, &other_pem, &["--ca-cert", ca_arg]).await;
    assert_eq!(exit, 0, "{v}");
    // ... and an extra CA that is not the server's does not help.
    let other_arg = other_pem.to_str().unwrap();
    let (exit, v) =
        sign_in(&https.url(), &h.scratch("x"), &other_pem, &["--ca-cert", other_arg]).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (6, Some("server_not_trusted")), "{v}");
}
