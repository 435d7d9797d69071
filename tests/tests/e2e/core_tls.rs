//! Whom the core trusts over HTTPS: the platform's trust store — on Linux only
//! `SSL_CERT_FILE` when it is set — plus the configured extra CA on top; the real server
//! behind a TLS terminator with a certificate from a CA made for this test.
//!
//! The trust store is read from the process environment, which a test must not change
//! under other threads: each case runs this test binary again as a child process (only
//! this test, with the child's environment), which signs in and prints the outcome.

use std::path::{Path, PathBuf};
use std::time::Duration;
use twostep_core::{Access, ClientKind, Config, MemoryKeyStore, Twostep};
use twostep_e2e::Harness;
use twostep_e2e::tls::{TestCa, TlsTerminator};

use crate::core_support::{PASSWORD, now, org_and_user};

/// Set in the child: the server URL, its data dir and, optionally, an extra CA file.
const CHILD_URL: &str = "TWOSTEP_TEST_TLS_URL";
const CHILD_DIR: &str = "TWOSTEP_TEST_TLS_DIR";
const CHILD_EXTRA_CA: &str = "TWOSTEP_TEST_TLS_EXTRA_CA";
/// What the child prints before its outcome.
const OUTCOME: &str = "tls-child-outcome:";

/// In the child: a mobile sign-in of `tess` and the status afterwards, printed as
/// `tls-child-outcome: ok|<error code> <access>`.
async fn child(url: String, dir: PathBuf) {
    let mut config = Config::new(&dir, url);
    config.server.request_timeout = Duration::from_secs(20);
    if let Some(path) = std::env::var_os(CHILD_EXTRA_CA) {
        config.server.extra_ca_cert_pem = Some(std::fs::read(path).unwrap());
    }
    let app = Twostep::open(config, std::sync::Arc::new(MemoryKeyStore::new())).unwrap();
    let outcome =
        match app.session().unwrap().sign_in("tess", PASSWORD, ClientKind::Mobile, now()).await {
            Ok(_) => "ok".to_owned(),
            Err(e) => {
                eprintln!("{e}");
                e.code().to_owned()
            }
        };
    let access = app.status(now()).unwrap().access;
    let pending = app.status(now()).unwrap().pending_sign_in.is_some();
    println!("\n{OUTCOME} {outcome} {access:?} pending={pending}");
}

/// Runs the child with `SSL_CERT_FILE=trust_store`: its outcome line and its stderr.
fn run_child(
    url: &str,
    dir: &Path,
    trust_store: &Path,
    extra_ca: Option<&Path>,
) -> (String, String) {
    let test = "core_tls::the_core_trusts_a_ca_only_in_ssl_cert_file_and_its_extra_ca";
    let mut command = std::process::Command::new(std::env::current_exe().unwrap());
    command
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_URL, url)
        .env(CHILD_DIR, dir)
        .env("SSL_CERT_FILE", trust_store)
        .env_remove("SSL_CERT_DIR")
        .env_remove(CHILD_EXTRA_CA);
    if let Some(extra) = extra_ca {
        command.env(CHILD_EXTRA_CA, extra);
    }
    let output = command.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let outcome = stdout
        .lines()
        .find_map(|l| l.split_once(OUTCOME).map(|(_, outcome)| outcome))
        .unwrap_or_else(|| panic!("no outcome from the child: {stdout}\n{stderr}"));
    (outcome.trim().to_owned(), stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_core_trusts_a_ca_only_in_ssl_cert_file_and_its_extra_ca() {
    if let (Some(url), Some(dir)) = (std::env::var_os(CHILD_URL), std::env::var_os(CHILD_DIR)) {
        child(url.into_string().unwrap(), dir.into()).await;
        return;
    }
    let h = Harness::start().await;
    org_and_user(&h, "acme", false, "tess").await;
    let (ca, other) = (TestCa::new("twostep test CA"), TestCa::new("someone else's CA"));
    let stores = h.scratch("trust");
    std::fs::create_dir_all(&stores).unwrap();
    let (ca_pem, other_pem) = (stores.join("ca.pem"), stores.join("other.pem"));
    ca.write_pem(&ca_pem).unwrap();
    other.write_pem(&other_pem).unwrap();
    let https = TlsTerminator::start(&ca, h.client_addr()).await.unwrap();
    let url = https.url();

    let cases = tokio::task::spawn_blocking(move || {
        let scratch = tempfile::tempdir().unwrap();
        let dir = |name: &str| scratch.path().join(name);
        [
            // The test CA only in SSL_CERT_FILE: trusted.
            run_child(&url, &dir("trusted"), &ca_pem, None),
            // Not in the store: refused with the typed error, nothing pending.
            run_child(&url, &dir("refused"), &other_pem, None),
            // Not in the store but the extra CA: trusted on top of the store.
            run_child(&url, &dir("extra"), &other_pem, Some(&ca_pem)),
            // An extra CA that is not the server's does not help.
            run_child(&url, &dir("wrong-extra"), &other_pem, Some(&other_pem)),
        ]
    })
    .await
    .unwrap();
    let signed_in = format!("ok {:?} pending=false", Access::SignedIn);
    let refused = format!("server_not_trusted {:?} pending=false", Access::FirstAccess);
    let outcomes: Vec<&str> = cases.iter().map(|(o, _)| o.as_str()).collect();
    assert_eq!(outcomes, [&signed_in, &refused, &signed_in, &refused], "{cases:#?}");
    assert!(
        cases[1].1.contains("UnknownIssuer"),
        "the reason is the TLS library's: {}",
        cases[1].1
    );
}
