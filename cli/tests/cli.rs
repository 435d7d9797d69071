//! The real `twostep` binary against the real server (in-process, on 127.0.0.1): what a
//! person at a terminal or a script sees, exit codes included.

#![allow(clippy::unwrap_used)]

use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use twostep_e2e::{Harness, now, totp_code};

const PASSWORD: &str = "correct-horse-battery";

/// The binary with `--server` and `--data-dir` for one simulated machine.
struct Twostep {
    server: Option<String>,
    data_dir: PathBuf,
}

impl Twostep {
    fn new(h: &Harness, name: &str) -> Self {
        Self { server: Some(h.url()), data_dir: h.scratch(name) }
    }

    /// The same machine, run without `--server`.
    fn without_server(&self) -> Self {
        Self { server: None, data_dir: self.data_dir.clone() }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_twostep"));
        if let Some(server) = &self.server {
            command.arg("--server").arg(server);
        }
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--timeout", "20"])
            .args(args)
            .env_remove("TWOSTEP_SERVER")
            .env_remove("TWOSTEP_DATA_DIR")
            .env_remove("TWOSTEP_KEY_FILE")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs to completion with `stdin` as standard input.
    async fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut command = self.command(args);
        let stdin = stdin.to_owned();
        tokio::task::spawn_blocking(move || {
            let mut child = command.spawn().unwrap();
            child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
            child.wait_with_output().unwrap()
        })
        .await
        .unwrap()
    }

    /// Runs with `--json` and returns the exit code and the JSON document printed.
    async fn json(&self, args: &[&str], stdin: &str) -> (i32, Value) {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all, stdin).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
            panic!("{e}: stdout {stdout:?}, stderr {:?}", String::from_utf8_lossy(&output.stderr))
        });
        (output.status.code().unwrap(), value)
    }
}

async fn user(h: &Harness, org: &str, require_two_step: bool, name: &str) {
    h.create_org(org, require_two_step).await;
    h.create_user(org, name, PASSWORD).await;
}

fn stdin_password() -> String {
    format!("{PASSWORD}\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_access_with_an_authenticator_code_then_the_device_key_sign_out_and_unregister() {
    let h = Harness::start().await;
    user(&h, "acme", false, "alice").await;
    let secret = h.enroll_totp("alice", PASSWORD).await;
    let cli = Twostep::new(&h, "laptop");

    let code = totp_code(&secret, now());
    let (exit, v) = cli
        .json(&["sign-in", "alice", "--password-stdin", "--code", &code], &stdin_password())
        .await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], "passcode_setup");
    assert_eq!(v["requirement"], "optional");
    assert_eq!(v["session"]["client"], "mobile");
    let device_id = v["session"]["device_id"].as_str().unwrap().to_owned();

    let (exit, v) = cli.json(&["status"], "").await;
    assert_eq!(exit, 0);
    assert_eq!(v["access"], "signed_in");
    assert_eq!(v["registration"]["device_id"], device_id.as_str());
    assert_eq!(v["registration"]["passcode_policy"]["requirement"], "optional");

    // A registered machine signs in with its key: no password, no code.
    let (exit, v) = cli.json(&["sign-in", "alice"], "").await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["method"], "device_key");

    let (exit, v) = cli.json(&["status", "--online"], "").await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["two_step"]["enabled"], true);

    let (exit, v) = cli.json(&["sign-out"], "").await;
    assert_eq!(exit, 0);
    assert_eq!(
        (v["was_signed_in"].clone(), v["server_confirmed"].clone()),
        (Value::Bool(true), Value::Bool(true))
    );
    assert_eq!(cli.json(&["status"], "").await.1["access"], "registered");

    let (exit, v) = cli.json(&["unregister"], "").await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(cli.json(&["status"], "").await.1["access"], "first_access");
    let devices = h.user_view("alice").await["devices"].clone();
    assert_eq!(devices[0]["revoked"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_email_code_typed_at_the_prompt() {
    let h = Harness::start().await;
    user(&h, "acme", false, "bob").await;
    h.enroll_email("bob", PASSWORD, "bob@example.com").await;
    let before = h.codes_for("bob@example.com").len();
    let cli = Twostep::new(&h, "laptop");

    let mut child = cli.command(&["sign-in", "bob", "--password-stdin"]).spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(stdin_password().as_bytes()).unwrap();
    stdin.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let code = loop {
        let codes = h.codes_for("bob@example.com");
        if codes.len() > before {
            break codes.last().unwrap().clone();
        }
        assert!(Instant::now() < deadline, "no sign-in code was sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A wrong code first: the prompt asks again.
    let wrong = if code == "000000" { "111111" } else { "000000" };
    writeln!(stdin, "{wrong}\n{code}").unwrap();
    drop(stdin);
    let output =
        tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "stdout {stdout}\nstderr {stderr}");
    assert!(stderr.contains("sent by email to"), "{stderr}");
    assert!(stderr.contains("Wrong code; 4 attempts left."), "{stderr}");
    assert!(stdout.contains("registered as device"), "{stdout}");
    assert!(!stdout.contains(&code) && !stderr.contains(PASSWORD), "no secrets echoed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_script_without_the_code_leaves_the_sign_in_pending_and_continues_later() {
    let h = Harness::start().await;
    user(&h, "acme", false, "carol").await;
    h.enroll_sms("carol", PASSWORD, "+4915112345678").await;
    let cli = Twostep::new(&h, "laptop");

    let (exit, v) = cli.json(&["sign-in", "carol", "--password-stdin"], &stdin_password()).await;
    assert_eq!(exit, 4, "{v}");
    assert_eq!(v["error"]["code"], "code_required");
    assert_eq!(v["error"]["prompt"]["channel"], "sms");
    assert_eq!(v["error"]["exit_code"], 4);
    let (_, status) = cli.json(&["status"], "").await;
    assert_eq!(status["pending_sign_in"]["username"], "carol");

    let code = h.latest_code_for("+4915112345678").unwrap();
    let (exit, v) = cli.json(&["sign-in", "carol", "--continue", "--code", &code], "").await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["status"], "passcode_setup");
    assert_eq!(cli.json(&["status"], "").await.1["access"], "signed_in");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recovery_code_and_another_client_kind() {
    let h = Harness::start().await;
    user(&h, "acme", false, "dave").await;
    let recovery = h.enroll_email("dave", PASSWORD, "dave@example.com").await;
    let cli = Twostep::new(&h, "laptop");
    let (exit, v) = cli
        .json(
            &[
                "sign-in",
                "dave",
                "--client",
                "web",
                "--password-stdin",
                "--recovery-code",
                &recovery[0],
            ],
            &stdin_password(),
        )
        .await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["status"], "signed_in");
    assert_eq!(v["session"]["client"], "web");
    let (_, status) = cli.json(&["status"], "").await;
    assert_eq!(status["registration"], Value::Null, "web sign-ins register nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_registers_once_with_a_code_then_signs_in_with_its_key_until_revoked() {
    let h = Harness::start().await;
    user(&h, "acme", false, "ivan").await;
    let email = "ivan@example.com";
    h.enroll_email("ivan", PASSWORD, email).await;
    let cli = Twostep::new(&h, "desktop");
    let agent = ["sign-in", "ivan", "--client", "agent", "--password-stdin"];

    // A script without the code: pending, then continued with it.
    let (exit, v) = cli.json(&agent, &stdin_password()).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (4, Some("code_required")), "{v}");
    let code = h.latest_code_for(email).unwrap();
    let (exit, v) = cli
        .json(&["sign-in", "ivan", "--client", "agent", "--continue", "--code", &code], "")
        .await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(
        (v["status"].as_str(), v["session"]["client"].as_str()),
        (Some("signed_in"), Some("agent"))
    );
    let id = v["session"]["device_id"].as_str().unwrap().to_owned();
    let (_, status) = cli.json(&["status"], "").await;
    assert_eq!(status["registration"]["client"], "agent");
    assert_eq!(status["registration"]["device_id"], id.as_str());
    let text = String::from_utf8_lossy(&cli.run(&["status"], "").await.stdout).into_owned();
    assert!(text.contains(&format!("Agent:        {id}")), "{text}");

    // Later agent sign-ins use its key: no password on stdin, no code sent.
    let sent = h.codes_for(email).len();
    for _ in 0..2 {
        assert_eq!(cli.json(&["sign-out"], "").await.0, 0);
        let (exit, v) = cli.json(&["sign-in", "ivan", "--client", "agent"], "").await;
        assert_eq!(exit, 0, "{v}");
        assert_eq!(
            (v["method"].as_str(), v["session"]["device_id"].as_str()),
            (Some("device_key"), Some(id.as_str()))
        );
    }
    assert_eq!(h.codes_for(email).len(), sent, "no code for later agent sessions");
    // Outlook on the same machine is asked for a code (and leaves the agent registered).
    let (exit, v) = cli
        .json(&["sign-in", "ivan", "--client", "outlook", "--password-stdin"], &stdin_password())
        .await;
    assert_eq!((exit, v["error"]["code"].as_str()), (4, Some("code_required")), "{v}");
    assert_eq!(cli.json(&["status"], "").await.1["registration"]["client"], "agent");

    // Revoked: exit 8, back to registering with password and code.
    h.revoke_devices("ivan").await;
    let output = cli.run(&["sign-in", "ivan", "--client", "agent"], "").await;
    assert_eq!(output.status.code(), Some(8), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(cli.json(&["status"], "").await.1["access"], "first_access");
    let (exit, v) = cli.json(&agent, &stdin_password()).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (4, Some("code_required")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_wrong_codes_and_rate_limits_have_their_exit_codes() {
    let h = Harness::start().await;
    user(&h, "acme", false, "erin").await;
    let secret = h.enroll_totp("erin", PASSWORD).await;
    let cli = Twostep::new(&h, "laptop");

    let (exit, v) = cli.json(&["sign-in", "erin", "--password-stdin"], "wrong-password-1\n").await;
    assert_eq!((exit, v["error"]["code"].as_str()), (3, Some("invalid_credentials")));

    let good = totp_code(&secret, now());
    let wrong = if good == "123456" { "654321" } else { "123456" };
    let (exit, v) = cli
        .json(&["sign-in", "erin", "--password-stdin", "--code", wrong], &stdin_password())
        .await;
    assert_eq!((exit, v["error"]["code"].as_str()), (4, Some("invalid_code")));
    assert_eq!(v["error"]["attempts_left"], 4);

    // Failures so far: 2. Three more wrong passwords, then the account must wait.
    for _ in 0..3 {
        let output = cli.run(&["sign-in", "erin", "--password-stdin"], "wrong-password-1\n").await;
        assert_eq!(output.status.code(), Some(3));
    }
    let (exit, v) = cli.json(&["sign-in", "erin", "--password-stdin"], &stdin_password()).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (5, Some("rate_limited")), "{v}");
    assert!(v["error"]["retry_after_secs"].as_u64().unwrap() > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_required_a_revoked_device_and_a_server_that_is_down() {
    let mut h = Harness::start().await;
    user(&h, "strict", true, "frank").await;
    let cli = Twostep::new(&h, "laptop");
    let (exit, v) = cli.json(&["sign-in", "frank", "--password-stdin"], &stdin_password()).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (7, Some("setup_required")), "{v}");

    h.create_org("acme", false).await;
    h.create_user("acme", "gina", PASSWORD).await;
    let (exit, _) = cli.json(&["sign-in", "gina", "--password-stdin"], &stdin_password()).await;
    assert_eq!(exit, 0);
    h.revoke_devices("gina").await;
    let output = cli.run(&["sign-in", "gina"], "").await;
    assert_eq!(output.status.code(), Some(8));
    assert!(String::from_utf8_lossy(&output.stderr).contains("revoked"));
    assert_eq!(cli.json(&["status"], "").await.1["access"], "first_access");

    h.stop().await;
    let (exit, v) = cli.json(&["sign-in", "gina", "--password-stdin"], &stdin_password()).await;
    assert_eq!((exit, v["error"]["code"].as_str()), (6, Some("offline")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usage_errors_exit_2_and_help_documents_the_exit_codes() {
    let h = Harness::start().await;
    let cli = Twostep::new(&h, "laptop");
    let (exit, v) = cli.json(&["sign-in", "someone", "--password-stdin"], "").await;
    assert_eq!((exit, v["error"]["code"].as_str()), (2, Some("usage")));
    let output = cli.run(&["sign-in", "someone"], "").await;
    assert_eq!(output.status.code(), Some(2), "no terminal for the password prompt");
    let output = cli.run(&["sign-in", "someone", "--continue", "--code", "123456"], "").await;
    assert_eq!(output.status.code(), Some(4), "nothing pending to continue");

    let fresh = Twostep::new(&h, "fresh").without_server();
    let (exit, v) = fresh.json(&["sign-in", "someone", "--password-stdin"], "pw\n").await;
    assert_eq!((exit, v["error"]["code"].as_str()), (2, Some("no_server")), "{v}");
    let output = tokio::task::spawn_blocking(|| {
        Command::new(env!("CARGO_BIN_EXE_twostep")).arg("--help").output()
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let help = String::from_utf8_lossy(&output.stdout);
    for line in [
        "3  wrong username or password",
        "4  wrong, expired or missing code",
        "6  network failure",
        "8  this device was revoked",
    ] {
        assert!(help.contains(line), "{line}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_data_dir_is_refused_and_left_alone() {
    let h = Harness::start().await;
    let cli = Twostep::new(&h, "somewhere");
    std::fs::create_dir_all(cli.data_dir.join("state")).unwrap();
    std::fs::write(cli.data_dir.join("state/notes.txt"), "mine").unwrap();
    let (exit, v) = cli.json(&["status"], "").await;
    assert_eq!((exit, v["error"]["code"].as_str()), (1, Some("foreign_state")), "{v}");
    assert_eq!(std::fs::read_to_string(cli.data_dir.join("state/notes.txt")).unwrap(), "mine");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_dir_that_signed_in_uses_its_server_and_prints_local_times() {
    let h = Harness::start().await;
    user(&h, "acme", false, "frank").await;
    let cli = Twostep::new(&h, "desk");
    let (exit, v) = cli.json(&["sign-in", "frank", "--password-stdin"], &stdin_password()).await;
    assert_eq!(exit, 0, "{v}");

    // No --server from here on: the data dir remembers where it signed in.
    let local = cli.without_server();
    let (exit, v) = local.json(&["status", "--online"], "").await;
    assert_eq!(exit, 0, "{v}");
    assert_eq!(v["server_url"].as_str(), Some(format!("{}/", h.url()).as_str()));
    assert!(v["session"]["expires_at"].as_u64().unwrap() > now(), "JSON keeps Unix seconds");
    let output = local.run(&["status"], "").await;
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains(&format!("Server:       {}/", h.url())), "{text}");
    let session = text.lines().find(|l| l.starts_with("Session:")).unwrap();
    assert!(session.contains("expires 20") && session.contains("(in "), "local time: {session}");
    let unix_prefix = &now().to_string()[..6];
    assert!(!text.contains(unix_prefix), "no raw Unix seconds in the text: {text}");
    let (exit, v) = local.json(&["sign-out"], "").await;
    assert_eq!((exit, v["server_confirmed"].as_bool()), (0, Some(true)), "{v}");
}
