//! Kills during a mobile sign-in with an emailed code, against the real server (the e2e
//! harness, in this process on 127.0.0.1): the password step (the challenge is stored as the
//! pending sign-in) and the code step (session, registration and device key stored in one
//! batch, then the previous registration retired on the server). After each kill the data dir
//! opens, every record unseals, a pending sign-in has its key, and a stored registration is
//! one the server accepts: the device opens a session with it.

use serde_json::json;
use std::cell::Cell;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::runtime::Handle;
use twostep_core::{ClientKind, Config, FileKeyStore, SignInStep, Twostep};
use twostep_e2e::{Harness, Options};

use crate::check::{every_record, now};
use crate::kill::{Cli, Outcome};
use crate::scenario::{Plan, Tally};

const USER: &str = "tess";
const PASSWORD: &str = "correct-horse-battery";
const EMAIL: &str = "tess@example.com";

/// Limits that a few hundred sign-ins from one address in a minute would meet (they are
/// tested elsewhere; here they would only stop the runs).
fn generous(config: &mut twostep_server::Config) {
    config.registration_challenges_per_minute = 1_000_000;
    config.device_challenges_per_minute = 1_000_000;
    config.address_failures_per_minute = 1_000_000;
}

/// Opens the data dir with the server's URL (a data dir that never completed a sign-in has
/// none stored).
fn open(data_dir: &Path, url: &str) -> Twostep {
    let keys = FileKeyStore::open_or_create(data_dir.join("keystore.key")).unwrap();
    let mut config = Config::new(data_dir, url);
    config.server.request_timeout = Duration::from_secs(20);
    Twostep::open(config, Arc::new(keys))
        .unwrap_or_else(|e| panic!("the data dir opens after the kill: {e}"))
}

/// Cancels a pending sign-in, if there is one (the state before the password step).
fn no_pending(rt: &Handle, data_dir: &Path, url: &str) {
    if !data_dir.exists() {
        return;
    }
    let app = open(data_dir, url);
    if app.status(now()).unwrap().pending_sign_in.is_some() {
        rt.block_on(app.session().unwrap().cancel_sign_in()).unwrap();
    }
}

/// A fresh sign-in waiting for its code (the state before the code step).
fn pending(rt: &Handle, data_dir: &Path, url: &str) {
    no_pending(rt, data_dir, url);
    let app = open(data_dir, url);
    let session = app.session().unwrap();
    let step = rt.block_on(session.sign_in(USER, PASSWORD, ClientKind::Mobile, now())).unwrap();
    assert!(matches!(step, SignInStep::CodeRequired(_)), "{step:?}");
}

/// The device id of the data dir's registration, if any.
fn registered(data_dir: &Path, url: &str) -> Option<String> {
    let status = open(data_dir, url).status(now()).unwrap();
    status.registration.map(|r| r.device_id)
}

/// The checks after a kill of the code step, which started with a sign-in pending and the
/// registration `before`: either nothing changed (still pending, the same registration) or
/// the whole step is stored (nothing pending, a new registration); never a mix.
fn check_code_step(rt: &Handle, data_dir: &Path, url: &str, before: Option<&str>) -> &'static str {
    let found = check(rt, data_dir, url);
    let now_registered = registered(data_dir, url);
    if found.contains("pending") {
        assert_eq!(now_registered.as_deref(), before, "still pending: the old registration kept");
        "old (code still pending)"
    } else {
        assert!(now_registered.is_some(), "the step completed: registered");
        assert_ne!(now_registered.as_deref(), before, "the step completed: a new registration");
        "new (registered)"
    }
}

/// Kills the CLI exactly while the server checks its (right) password: as soon as the
/// account shows the attempt reserved. The server must finish the check anyway and hand the
/// attempt back.
fn in_flight_kills_count_nothing(
    rt: &Handle,
    h: &Harness,
    cli: &Cli,
    args: &[&str],
    password: &str,
) {
    let failures = || {
        let view = rt.block_on(h.user_view(USER));
        view["consecutive_failures"].as_u64().expect("consecutive_failures")
    };
    let (mut caught, mut tries) = (0, 0);
    while caught < 3 && tries < 30 {
        tries += 1;
        no_pending(rt, &cli.data_dir, &h.url());
        assert_eq!(failures(), 0);
        if let Outcome::Killed = cli.run_until(args, password, || failures() > 0) {
            caught += 1;
            // The check goes on without the client; its answer hands the attempt back.
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                let left = failures();
                if left == 0 {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "a right password killed during its check stays counted ({left} failures)"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
    assert!(caught >= 3, "killed during the password check only {caught} times in {tries}");
    println!(
        "crash-device | sign-in, killed during the server's password check | {caught} kills in \
         {tries} tries | every attempt handed back"
    );
}

/// The checks after a kill; names what was found.
fn check(rt: &Handle, data_dir: &Path, url: &str) -> &'static str {
    let app = open(data_dir, url);
    let status = app.status(now()).unwrap();
    let records = every_record(&app);
    let pending = status.pending_sign_in.is_some();
    if pending {
        assert!(records.contains("pending_device_key"), "a pending mobile sign-in has its key");
    }
    if let Some(session) = &status.session {
        assert!(records.contains("session_token"));
        let registered = status.registration.as_ref().map(|r| r.device_id.as_str());
        assert_eq!(session.device_id.as_deref(), registered, "session and registration agree");
    }
    let Some(registration) = &status.registration else {
        return if pending { "code pending" } else { "nothing stored" };
    };
    assert!(records.contains("device_key"));
    // The server knows this registration and its key: a signed session opens.
    let info = rt
        .block_on(app.session().unwrap().open_session(now()))
        .unwrap_or_else(|e| panic!("the stored registration opens a session: {e}"));
    assert_eq!(info.device_id.as_deref(), Some(registration.device_id.as_str()));
    if pending { "registered, a new sign-in pending" } else { "registered" }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_during_sign_in_leave_a_pending_sign_in_or_a_registration_the_server_accepts() {
    let h = Harness::start_with(Options { configure: Some(generous), ..Default::default() }).await;
    h.create_org("acme", false).await;
    let caps = json!({
        "max_messages_per_user_per_day": 1_000_000,
        "max_messages_per_destination_per_day": 1_000_000,
        "max_messages_per_org_per_day": 1_000_000,
    });
    h.set_policy("acme", caps).await;
    h.create_user("acme", USER, PASSWORD).await;
    h.enroll_email(USER, PASSWORD, EMAIL).await;
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    let url = h.url();
    let cli = Cli { data_dir: work.clone(), server: Some(url.clone()) };

    tokio::task::block_in_place(|| {
        let rt = Handle::current();
        // The steady state the runs start from: a data dir that has measured the server's
        // clock (so that no run but the first stores it).
        pending(&rt, &work, &url);
        no_pending(&rt, &work, &url);
        let password = format!("{PASSWORD}\n");
        let args = ["sign-in", USER, "--password-stdin", "--with-password"];
        // A run killed while the server checks its (right) password must not leave the
        // attempt counted as a failure: the server reserves it before the hash and hands it
        // back when the check completes, which it must do without its client. Any left over
        // is counted here, then cleared (operator unlock) so that delays do not stop the runs.
        let stranded = Cell::new(0);
        let clear_failures = || {
            let read = || {
                let view = rt.block_on(h.user_view(USER));
                view["consecutive_failures"].as_u64().expect("consecutive_failures")
            };
            // A check the kill interrupted may still be running on the server: its answer
            // hands the attempt back.
            let deadline = std::time::Instant::now() + Duration::from_secs(3);
            let mut failures = read();
            while failures > 0 && std::time::Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
                failures = read();
            }
            if failures > 0 {
                stranded.set(stranded.get() + failures);
                rt.block_on(h.unlock(USER));
            }
        };
        Tally::new("sign-in, password step (a code is sent; the sign-in waits for it)").run(
            &mut Plan {
                codes: &[4],
                reset: &mut || no_pending(&rt, &work, &url),
                run: &mut |at| cli.run(&args, &password, at),
                check: &mut |_| {
                    let found = check(&rt, &work, &url);
                    clear_failures();
                    found
                },
            },
        );
        let after_password_step = stranded.get();
        assert_eq!(after_password_step, 0, "no right password is counted as a failure");
        in_flight_kills_count_nothing(&rt, &h, &cli, &args, &password);
        let before = std::cell::RefCell::new(None);
        Tally::new("sign-in, code step (session and registration stored, the old one retired)")
            .run(&mut Plan {
                codes: &[0],
                reset: &mut || {
                    pending(&rt, &work, &url);
                    *before.borrow_mut() = registered(&work, &url);
                },
                run: &mut |at| {
                    let code = h.latest_code_for(EMAIL).unwrap();
                    cli.run(&["sign-in", USER, "--continue", "--code", &code], "", at)
                },
                check: &mut |_| {
                    let found = check_code_step(&rt, &work, &url, before.borrow().as_deref());
                    clear_failures();
                    found
                },
            });
        println!(
            "crash-device | sign-in, server side | right passwords counted as failures because \
             the run was killed during the check: {after_password_step} in the password step, \
             {} in the code step",
            stranded.get() - after_password_step
        );
    });

    // What the kills left on the server: registrations whose sign-in was killed before the
    // device stored them (or after, before it retired the previous one), listed to the user
    // and revocable.
    let view = h.user_view(USER).await;
    let live = view["devices"].as_array().unwrap().iter().filter(|d| d["revoked"] == false);
    println!(
        "crash-device | sign-in, server side | registrations still live: {} (one is this \
         device's)",
        live.count(),
    );
}
