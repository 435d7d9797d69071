//! `twostep passcode ...`, `twostep unlock` and the passcode prompts of other commands: the
//! real binary against the real server. Every run of the binary is an app restart, so it
//! starts locked whenever a passcode is set.

#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use twostep_e2e::Harness;

const PASSWORD: &str = "correct-horse-battery";
const PIN: &str = "482915";
const NEW_PIN: &str = "902613";
const WRONG: &str = "111333";

struct Twostep {
    server: String,
    data_dir: PathBuf,
}

impl Twostep {
    fn new(h: &Harness, name: &str) -> Self {
        Self { server: h.url(), data_dir: h.scratch(name) }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_twostep"));
        command
            .arg("--server")
            .arg(&self.server)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--timeout", "20", "--json"])
            .args(args)
            .env_remove("TWOSTEP_SERVER")
            .env_remove("TWOSTEP_DATA_DIR")
            .env_remove("TWOSTEP_KEY_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs with `--json` and `stdin`; returns the exit code and the JSON printed.
    async fn json(&self, args: &[&str], stdin: &str) -> (i32, Value) {
        let mut command = self.command(args);
        let stdin = stdin.to_owned();
        let output = tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().unwrap();
            child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap();
        Self::parse(&output)
    }

    /// Runs a sign-in that reads its code at the prompt: writes `before`, waits for a new
    /// code sent to `destination`, then writes it and the `after` lines (all in one run, as a
    /// "forgot passcode" sign-in must be).
    async fn with_code(
        &self,
        h: &Harness,
        args: &[&str],
        before: &[&str],
        destination: &str,
        after: &[&str],
    ) -> (i32, Value) {
        let sent = h.codes_for(destination).len();
        let mut child = self.command(args).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(lines(before).as_bytes()).unwrap();
        stdin.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let code = loop {
            let codes = h.codes_for(destination);
            if codes.len() > sent {
                break codes.last().unwrap().clone();
            }
            assert!(Instant::now() < deadline, "no code was sent to {destination}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut rest = vec![code.as_str()];
        rest.extend_from_slice(after);
        stdin.write_all(lines(&rest).as_bytes()).unwrap();
        drop(stdin);
        let output =
            tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
        Self::parse(&output)
    }

    fn parse(output: &std::process::Output) -> (i32, Value) {
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !stdout.contains(PIN) && !stderr.contains(PIN) && !stdout.contains(NEW_PIN),
            "no passcode echoed: stdout {stdout:?}, stderr {stderr:?}"
        );
        let value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: stdout {stdout:?}, stderr {stderr:?}"));
        (output.status.code().unwrap(), value)
    }
}

fn lines(items: &[&str]) -> String {
    items.iter().map(|l| format!("{l}\n")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_sets_checks_changes_and_removes_a_passcode() {
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", PASSWORD).await;
    let cli = Twostep::new(&h, "laptop");
    let (exit, v) = cli.json(&["sign-in", "alice", "--password-stdin"], &lines(&[PASSWORD])).await;
    assert_eq!(
        (exit, v["status"].as_str(), v["requirement"].as_str()),
        (0, Some("passcode_setup"), Some("optional")),
        "{v}"
    );

    let (exit, v) = cli.json(&["passcode", "status"], "").await;
    assert_eq!(
        (exit, v["status"].as_str(), v["policy"]["min_length"].as_u64()),
        (0, Some("not_set"), Some(6))
    );
    let (exit, v) = cli.json(&["passcode", "set", "--passcode-stdin"], &lines(&["123456"])).await;
    assert_eq!(
        (exit, v["error"]["code"].as_str(), v["error"]["reason"].as_str()),
        (2, Some("passcode_too_weak"), Some("sequence"))
    );
    let (exit, v) = cli.json(&["passcode", "set", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!(exit, 0, "{v}");

    // A new run starts locked; status says so without the passcode.
    let (exit, v) = cli.json(&["status"], "").await;
    assert_eq!(
        (exit, v["access"].as_str(), v["passcode"]["status"].as_str()),
        (0, Some("locked"), Some("locked"))
    );
    let (exit, v) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[WRONG])).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (9, Some("passcode_incorrect")), "{v}");
    assert_eq!(v["error"]["attempts_left"], Value::Null, "no wipe under a user policy");
    let (exit, v) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!((exit, v["passcode"]["failed_attempts"].as_u64()), (0, Some(0)), "{v}");

    // Commands that need the account data ask for the passcode.
    let (exit, v) = cli.json(&["status", "--online"], "").await;
    assert_eq!(
        (exit, v["error"]["code"].as_str()),
        (2, Some("usage")),
        "no terminal, no --passcode-stdin: {v}"
    );
    let (exit, v) = cli.json(&["status", "--online", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!(
        (exit, v["access"].as_str(), v["two_step"]["enabled"].as_bool()),
        (0, Some("signed_in"), Some(false)),
        "{v}"
    );

    let (exit, v) =
        cli.json(&["passcode", "change", "--passcode-stdin"], &lines(&[PIN, NEW_PIN])).await;
    assert_eq!(exit, 0, "{v}");
    let (exit, _) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!(exit, 9);
    let (exit, v) = cli.json(&["passcode", "remove", "--passcode-stdin"], &lines(&[NEW_PIN])).await;
    assert_eq!(exit, 0, "{v}");
    let (exit, v) = cli.json(&["status", "--online"], "").await;
    assert_eq!((exit, v["passcode"]["status"].as_str()), (0, Some("not_set")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_org_policy_forces_the_passcode_and_wrong_ones_escalate_then_wipe() {
    let h = Harness::start().await;
    h.create_org("strict", true).await;
    h.set_policy("strict", json!({"passcode_max_attempts": 6})).await;
    h.create_user("strict", "bob", PASSWORD).await;
    h.enroll_email("bob", PASSWORD, "bob@example.com").await;
    let cli = Twostep::new(&h, "laptop");

    // Without a code on stdin the sign-in stays pending; --continue finishes it and sets the PIN.
    let (exit, _) = cli.json(&["sign-in", "bob", "--password-stdin"], &lines(&[PASSWORD])).await;
    assert_eq!(exit, 4);
    let code = h.latest_code_for("bob@example.com").unwrap();
    let (exit, v) = cli.json(&["sign-in", "bob", "--continue", "--code", &code], "").await;
    assert_eq!(
        (exit, v["requirement"].as_str(), v["passcode_set"].as_bool()),
        (0, Some("required"), Some(false)),
        "{v}"
    );
    let (exit, v) = cli.json(&["status", "--online"], "").await;
    assert_eq!(
        (exit, v["error"]["code"].as_str(), v["error"]["exit_code"].as_u64()),
        (10, Some("passcode_required"), Some(10)),
        "{v}"
    );
    let (exit, v) = cli.json(&["passcode", "set", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!(exit, 0, "{v}");
    let (exit, v) = cli.json(&["passcode", "remove", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (10, Some("passcode_required")));

    for left in [5, 4, 3, 2] {
        let (exit, v) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[WRONG])).await;
        assert_eq!(
            (exit, v["error"]["attempts_left"].as_u64(), v["error"]["locked_until"].as_u64()),
            (9, Some(left), None),
            "{v}"
        );
    }
    let (exit, v) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[WRONG])).await;
    assert_eq!((exit, v["error"]["attempts_left"].as_u64()), (9, Some(1)), "{v}");
    assert!(v["error"]["locked_until"].as_u64().is_some(), "the 5th failure costs a minute: {v}");
    let (exit, v) = cli.json(&["sign-out", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (5, Some("passcode_locked_out")), "{v}");
    let (exit, v) = cli.json(&["passcode", "status"], "").await;
    assert_eq!(
        (exit, v["status"].as_str(), v["attempts_left"].as_u64()),
        (0, Some("locked_out"), Some(1)),
        "{v}"
    );

    // The reset erases everything (the user could also wait and fail once more).
    let (exit, _) = cli.json(&["passcode", "reset"], "").await;
    assert_eq!(exit, 2, "--yes is required");
    let (exit, _) = cli.json(&["passcode", "reset", "--yes"], "").await;
    assert_eq!(exit, 0);
    let (exit, v) = cli.json(&["status"], "").await;
    assert_eq!(
        (exit, v["access"].as_str(), v["passcode"]["status"].as_str()),
        (0, Some("first_access"), Some("not_set"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_last_allowed_wrong_passcode_wipes_and_forgot_passcode_recovers() {
    let h = Harness::start().await;
    h.create_org("strict", true).await;
    h.set_policy("strict", json!({"passcode_max_attempts": 2})).await;
    h.create_user("strict", "carol", PASSWORD).await;
    h.enroll_email("carol", PASSWORD, "carol@example.com").await;
    let cli = Twostep::new(&h, "laptop");

    // Sign-in and passcode in one run: the password can recover what the passcode protects.
    let first = ["sign-in", "carol", "--password-stdin", "--set-passcode", "--passcode-stdin"];
    let (exit, v) = cli.with_code(&h, &first, &[PASSWORD], "carol@example.com", &[PIN]).await;
    assert_eq!((exit, v["passcode_set"].as_bool()), (0, Some(true)), "{v}");

    // Forgot it: password and code again (in one run), then a new passcode.
    let forgot = [
        "sign-in",
        "carol",
        "--forgot-passcode",
        "--password-stdin",
        "--set-passcode",
        "--passcode-stdin",
    ];
    let (exit, v) = cli.with_code(&h, &forgot, &[PASSWORD], "carol@example.com", &[NEW_PIN]).await;
    assert_eq!(
        (exit, v["status"].as_str(), v["passcode_set"].as_bool()),
        (0, Some("passcode_setup"), Some(true)),
        "{v}"
    );
    let (exit, _) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[NEW_PIN])).await;
    assert_eq!(exit, 0);

    // Two wrong ones: wiped, back to first access.
    let (exit, v) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[WRONG])).await;
    assert_eq!((exit, v["error"]["attempts_left"].as_u64()), (9, Some(1)));
    let (exit, v) = cli.json(&["unlock", "--passcode-stdin"], &lines(&[WRONG])).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (11, Some("wiped")), "{v}");
    let (exit, v) = cli.json(&["status"], "").await;
    assert_eq!(
        (exit, v["access"].as_str(), v["passcode"]["status"].as_str()),
        (0, Some("first_access"), Some("wiped"))
    );
    // The vault was kept (the policy says so): the next password sign-in recovers it.
    let again = ["sign-in", "carol", "--password-stdin", "--set-passcode", "--passcode-stdin"];
    let (exit, v) = cli.with_code(&h, &again, &[PASSWORD], "carol@example.com", &[PIN]).await;
    assert_eq!((exit, v["passcode_set"].as_bool()), (0, Some(true)), "{v}");
    let (exit, v) = cli.json(&["status", "--online", "--passcode-stdin"], &lines(&[PIN])).await;
    assert_eq!(
        (exit, v["access"].as_str(), v["passcode"]["status"].as_str()),
        (0, Some("signed_in"), Some("unlocked")),
        "{v}"
    );
}
