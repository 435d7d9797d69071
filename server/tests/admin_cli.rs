//! The `twostep-server admin` CLI on a real data dir.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

fn admin(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twostep-server"))
        .arg("admin")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("TWOSTEP_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn twostep-server");
    if let Some(s) = stdin {
        child.stdin.take().expect("stdin").write_all(s.as_bytes()).expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn operators_manage_orgs_users_and_read_the_audit_log_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, _, err) = admin(d, &["create-operator", "admin"], Some("operator-password\n"));
    assert!(ok, "{err}");
    let (ok, out, err) = admin(d, &["create-org", "acme", "--require-two-step"], None);
    assert!(ok, "{err}");
    let org: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(org["policy"]["require_two_step"], true);
    let (ok, _, err) = admin(d, &["create-user", "acme", "alice"], Some("alice-password\n"));
    assert!(ok, "{err}");
    let (ok, _, err) = admin(d, &["create-user", "acme", "alice"], Some("alice-password\n"));
    assert!(!ok);
    assert!(err.contains("conflict"), "{err}");
    let (ok, _, err) = admin(d, &["set-policy", "acme", "--passcode-min-length", "2"], None);
    assert!(!ok, "a 2-digit passcode policy is refused");
    assert!(err.contains("invalid_field"), "{err}");
    let (ok, out, _) = admin(
        d,
        &["set-policy", "acme", "--require-two-step", "false", "--passcode-min-length", "8"],
        None,
    );
    assert!(ok);
    let org: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(org["policy"]["passcode_min_length"], 8);
    let (ok, out, _) = admin(d, &["show-user", "alice"], None);
    assert!(ok);
    assert!(out.contains("\"locked\": false"));
    let (ok, out, _) = admin(d, &["reset-two-step", "alice"], None);
    assert!(ok, "{out}");
    let (ok, out, _) = admin(d, &["audit"], None);
    assert!(ok);
    let kinds: Vec<String> = out
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    for k in [
        "operator_created",
        "org_created",
        "user_created",
        "policy_changed",
        "admin_reset_two_step",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    assert!(!out.contains("alice-password") && !out.contains("operator-password"));
}

#[test]
fn operators_are_unlocked_and_their_tokens_revoked_from_the_cli() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("data");
    let (ok, _, err) = admin(&d, &["create-operator", "admin"], Some("operator-password\n"));
    assert!(ok, "{err}");
    // Lock the operator through the library (100 failures), with the CLI's process gone.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let config = twostep_server::Config { data_dir: d.clone(), ..Default::default() };
        let app = twostep_server::App::open(config).await.unwrap();
        for i in 0..100 {
            twostep_server::throttle::account_failure(&app.repo, "operator:admin", 1_000 + i)
                .await
                .unwrap();
        }
        app.repo.store().flush().await.unwrap();
    });
    let (ok, out, err) = admin(&d, &["unlock-operator", "admin"], None);
    assert!(ok, "{err}");
    let status: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (status["locked"].as_bool(), status["consecutive_failures"].as_u64()),
        (Some(false), Some(0))
    );
    let (ok, _, err) = admin(&d, &["revoke-operator-sessions", "admin"], None);
    assert!(ok, "{err}");
    let (ok, _, err) = admin(&d, &["unlock-operator", "nobody"], None);
    assert!(!ok && err.contains("not_found"), "{err}");
    let (ok, out, _) = admin(&d, &["audit"], None);
    assert!(ok && out.contains("operator_unlocked") && out.contains("operator_sessions_revoked"));
}
