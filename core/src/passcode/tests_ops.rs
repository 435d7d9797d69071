//! The passcode with a fake clock (every `now` is made up), against seeded local state and,
//! for "forgot passcode", a scripted server. The real server: `tests/tests/e2e/core_passcode.rs`.

use super::*;
use crate::error::Error;
use crate::keys::{Prepared, SecretKind};
use crate::keystore::{FileKeyStore, KeyStore, MemoryKeyStore};
use crate::state::Slot;
use crate::status::Access;
use crate::twostep::Config;
use crate::twostep::Twostep;
use crate::{TwostepError, fixtures};
use std::path::Path;
use std::sync::Arc;
use twostep_otp::UnixTime;
use twostep_proto::PasscodeRequirement;

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

fn secs(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n)
}
const URL: &str = "http://127.0.0.1:9";
const PIN: &str = "482915";
const OTHER_PIN: &str = "902613";
const WRONG: &str = "111333";

fn open_with(dir: &Path, keys: Arc<dyn KeyStore>) -> Twostep {
    Twostep::open(Config::new(dir, URL), keys).unwrap()
}

/// A registered, signed-in device (org policy, as seeded) and its platform key store.
fn device() -> (tempfile::TempDir, Arc<MemoryKeyStore>) {
    fixtures::seeded_device(URL, NOW)
}

fn open(dir: &Path, keys: &Arc<MemoryKeyStore>) -> Twostep {
    open_with(dir, keys.clone())
}

use fixtures::set_policy;

fn optional(policy: &mut PasscodePolicy) {
    policy.requirement = twostep_proto::PasscodeRequirement::Optional;
}

fn status(app: &Twostep, now: UnixTime) -> PasscodeStatus {
    app.passcode().state(now).unwrap().status
}

use fixtures::{passcode_incorrect as incorrect, passcode_locked_out as locked_out};

#[test]
fn under_the_org_policy_the_app_stays_locked_until_a_passcode_is_set_and_then_opens_locked() {
    let (dir, keys) = device();
    {
        let app = open(dir.path(), &keys);
        let state = app.passcode().state(NOW).unwrap();
        assert_eq!(
            (state.status, state.policy.requirement),
            (PasscodeStatus::NotSet, PasscodeRequirement::Required)
        );
        assert_eq!(state.attempts_left, Some(10));
        assert!(
            matches!(app.local().require_unlocked(), Err(Error::PasscodeRequired)),
            "nothing is usable before a passcode is set"
        );
        assert_eq!(
            app.status(NOW).unwrap().access,
            Access::SignedIn,
            "the launch screen still reads the local state"
        );

        // Trivial PINs are refused, each with its reason, and nothing changes.
        for (pin, reason) in [
            ("1234", PasscodeWeakness::TooShort { min_length: 6 }),
            ("123456", PasscodeWeakness::Sequence),
            ("000000", PasscodeWeakness::RepeatedCharacter),
            ("4829a5", PasscodeWeakness::DigitsOnly),
        ] {
            assert_eq!(
                app.passcode().set(pin, NOW).unwrap_err(),
                TwostepError::PasscodeTooWeak { reason },
                "{pin}"
            );
        }
        assert_eq!(status(&app, NOW), PasscodeStatus::NotSet);

        app.passcode().set(PIN, NOW).unwrap();
        assert_eq!(status(&app, NOW), PasscodeStatus::Unlocked);
        app.local().require_unlocked().unwrap();
        assert!(
            matches!(app.passcode().set(OTHER_PIN, NOW), Err(TwostepError::InvalidInput { .. })),
            "change it instead"
        );
        assert_eq!(
            app.passcode().remove(PIN, NOW).unwrap_err(),
            TwostepError::PasscodeRequired,
            "cannot be removed"
        );
    }
    // Restart: locked, and the account's records are out of reach until the passcode.
    let app = open(dir.path(), &keys);
    let locked = app.status(NOW).unwrap();
    assert_eq!((locked.access, locked.passcode), (Access::Locked, PasscodeStatus::Locked));
    assert!(locked.registration.is_none() && locked.session.is_none());
    assert!(locked.clock_offset.is_some(), "local data is readable while locked");
    assert!(matches!(app.local().require_unlocked(), Err(Error::Locked)));
    assert_eq!(app.session().unwrap().forget_local().unwrap_err(), TwostepError::Locked);

    assert_eq!(app.passcode().unlock(WRONG, NOW).unwrap_err(), incorrect(Some(9), None));
    assert_eq!(app.passcode().unlock(PIN, NOW).unwrap(), UnlockResult { change_required: false });
    let unlocked = app.status(NOW).unwrap();
    assert_eq!((unlocked.access, unlocked.passcode), (Access::SignedIn, PasscodeStatus::Unlocked));
    assert_eq!(unlocked.registration.unwrap().device_id, "d-1");
    assert_eq!(
        app.passcode().state(NOW).unwrap().failed_attempts,
        0,
        "a correct passcode resets the count"
    );

    app.passcode().lock().unwrap();
    assert_eq!(app.status(NOW).unwrap().access, Access::Locked);
}

/// The whole schedule through `unlock`, with a fake clock: attempts 1–4 no delay, the 5th
/// 1 min, the 6th 5 min, the 7th and 8th 15 min, the 9th and later 1 h (user policy: no wipe).
#[test]
fn wrong_passcodes_escalate_on_schedule_and_a_clock_set_back_does_not_shorten_a_delay() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    set_policy(&app, optional);
    app.passcode().set(PIN, NOW).unwrap();
    app.passcode().lock().unwrap();

    let mut now = NOW;
    let expected = [0, 0, 0, 0, 60, 300, 900, 900, 3600, 3600];
    for (i, wait) in expected.into_iter().enumerate() {
        let locked_until = (wait > 0).then_some(now + secs(wait));
        assert_eq!(
            app.passcode().unlock(WRONG, now).unwrap_err(),
            incorrect(None, locked_until.map(|until| (now, until))),
            "attempt {}",
            i + 1
        );
        if let Some(until) = locked_until {
            assert_eq!(status(&app, now), PasscodeStatus::LockedOut { until });
            // Refused without being counted, and without running Argon2id.
            let failed = app.passcode().state(now).unwrap().failed_attempts;
            assert_eq!(
                app.passcode().unlock(PIN, until - secs(1)).unwrap_err(),
                locked_out(until, until - secs(1))
            );
            // Setting the clock back a day changes nothing.
            assert_eq!(
                app.passcode().unlock(PIN, until - secs(86_400)).unwrap_err(),
                locked_out(until, until - secs(1)),
                "counted from the latest time seen"
            );
            assert_eq!(status(&app, until - secs(86_400)), PasscodeStatus::LockedOut { until });
            assert_eq!(app.passcode().state(now).unwrap().failed_attempts, failed);
            now = until;
        }
    }
    assert_eq!(app.passcode().state(now).unwrap().failed_attempts, 10);
    assert_eq!(
        app.passcode().state(now).unwrap().attempts_left,
        None,
        "no wipe under a user policy"
    );
    // The right passcode after the delay opens and starts the count over.
    assert_eq!(status(&app, now), PasscodeStatus::Locked);
    app.passcode().unlock(PIN, now).unwrap();
    assert_eq!(app.passcode().state(now).unwrap().failed_attempts, 0);
    assert_eq!(app.passcode().unlock(WRONG, now).unwrap_err(), incorrect(None, None));
}

#[test]
fn the_time_seen_never_runs_back_even_across_restarts() {
    let (dir, keys) = device();
    {
        let app = open(dir.path(), &keys);
        set_policy(&app, optional);
        app.passcode().set(PIN, NOW).unwrap();
        for _ in 0..5 {
            app.passcode().unlock(WRONG, NOW).unwrap_err();
        }
        assert_eq!(status(&app, NOW), PasscodeStatus::LockedOut { until: NOW + secs(60) });
    }
    // Restarted with the clock a year behind: still locked out until the same moment.
    let app = open(dir.path(), &keys);
    let behind = NOW - secs(365 * 86_400);
    assert_eq!(app.passcode().unlock(PIN, behind).unwrap_err(), locked_out(NOW + secs(60), NOW));
    assert_eq!(
        app.passcode().unlock(PIN, NOW + secs(60)).unwrap(),
        UnlockResult { change_required: false }
    );
}

#[test]
fn under_the_org_policy_reaching_max_attempts_wipes_the_local_data() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    set_policy(&app, |p| p.max_failed_attempts = 3);
    app.passcode().set(PIN, NOW).unwrap();
    fixtures::put_vault_record(&app, "acct-1", b"otp secret").unwrap();
    app.passcode().lock().unwrap();

    assert_eq!(app.passcode().unlock(WRONG, NOW).unwrap_err(), incorrect(Some(2), None));
    assert_eq!(app.passcode().state(NOW).unwrap().attempts_left, Some(2));
    assert_eq!(app.passcode().unlock(WRONG, NOW).unwrap_err(), incorrect(Some(1), None));
    assert_eq!(app.passcode().unlock(WRONG, NOW).unwrap_err(), TwostepError::Wiped);

    let after = app.status(NOW).unwrap();
    assert_eq!((after.access, after.passcode), (Access::FirstAccess, PasscodeStatus::Wiped));
    assert!(after.registration.is_none() && after.session.is_none());
    assert!(after.clock_offset.is_some(), "the clock offset is not account data");
    assert!(
        fixtures::vault_record_ids(&app).unwrap().is_empty(),
        "no recovery wrap: the vault cannot be kept"
    );
    assert_eq!(
        app.passcode().unlock(PIN, NOW).unwrap_err(),
        TwostepError::Wiped,
        "the passcode is gone with the data"
    );
    assert!(app.local().store.recovery_wrap().unwrap().is_none());
    let state = app.passcode().state(NOW).unwrap();
    assert_eq!(
        (state.failed_attempts, state.policy.requirement),
        (0, PasscodeRequirement::Optional),
        "the cached policy went too"
    );
    drop(app);
    // A fresh start: the app opens, at first access, with a new Account key.
    let app = open(dir.path(), &keys);
    let status = app.status(NOW).unwrap();
    assert_eq!((status.access, status.passcode), (Access::FirstAccess, PasscodeStatus::Wiped));
    app.passcode().set(OTHER_PIN, NOW).unwrap();
}

/// The process died while checking the last allowed attempt: the count stands, and the
/// next start wipes.
#[test]
fn a_count_that_reached_the_maximum_without_a_success_wipes_at_the_next_start() {
    let (dir, keys) = device();
    {
        let app = open(dir.path(), &keys);
        set_policy(&app, |p| p.max_failed_attempts = 3);
        app.passcode().set(PIN, NOW).unwrap();
        let record = crate::passcode::attempts::AttemptRecord {
            failed: 3,
            last_failure_at: NOW,
            latest_seen: NOW,
        };
        app.local()
            .store
            .apply(app.local().store.change().put(Slot::PasscodeAttempts, &record).unwrap())
            .unwrap();
    }
    let app = open(dir.path(), &keys);
    assert_eq!(status(&app, NOW), PasscodeStatus::Wiped);
    assert_eq!(app.status(NOW).unwrap().access, Access::FirstAccess);
}

#[test]
fn a_wipe_keeps_the_vault_when_the_policy_says_so_for_the_password_to_recover() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    set_policy(&app, |p| p.max_failed_attempts = 2);
    fixtures::put_vault_record(&app, "acct-1", b"otp secret").unwrap();
    give_recovery_wrap(&app, keys.as_ref(), "correct horse");
    app.passcode().set(PIN, NOW).unwrap();
    assert!(app.local().store.recovery_wrap().unwrap().is_some(), "re-wrapped for the rotated key");
    app.passcode().lock().unwrap();
    app.passcode().unlock(WRONG, NOW).unwrap_err();
    assert_eq!(app.passcode().unlock(WRONG, NOW).unwrap_err(), TwostepError::Wiped);

    assert_eq!(fixtures::vault_record_ids(&app).unwrap(), ["acct-1"]);
    assert_eq!(
        fixtures::read_vault_record(&app, "acct-1").unwrap_err(),
        TwostepError::Locked,
        "sealed, and its key is not here"
    );
    assert!(app.local().store.account_wrap().unwrap().is_none());
    drop(app);
    let app = open(dir.path(), &keys);
    let status = app.status(NOW).unwrap();
    assert_eq!((status.access, status.passcode), (Access::FirstAccess, PasscodeStatus::Wiped));
    // The password opens it again (what sign_in does once the server accepted it).
    let secret = app
        .local()
        .store
        .recovery_wrap()
        .unwrap()
        .map(|w| Prepared::open(keys.as_ref(), SecretKind::Password, &w).unwrap())
        .unwrap();
    assert!(recovery::recover(app.local(), &secret.derive(b"wrong horse").unwrap()).is_err());
    recovery::recover(app.local(), &secret.derive(b"correct horse").unwrap()).unwrap();
    assert_eq!(fixtures::read_vault_record(&app, "acct-1").unwrap().unwrap(), b"otp secret");
    // Reset instead: everything goes, the vault included.
    app.passcode().reset_local_data().unwrap();
    assert!(fixtures::vault_record_ids(&app).unwrap().is_empty());
    assert_eq!(status_of(&app), (Access::FirstAccess, PasscodeStatus::NotSet));
}

fn status_of(app: &Twostep) -> (Access, PasscodeStatus) {
    let s = app.status(NOW).unwrap();
    (s.access, s.passcode)
}

/// What a completed mobile password sign-in leaves: a recovery wrap, and the password key
/// in memory for `set_passcode`.
fn give_recovery_wrap(app: &Twostep, keys: &dyn KeyStore, password: &str) {
    let secret =
        Prepared::fresh(keys, SecretKind::Password).unwrap().derive(password.as_bytes()).unwrap();
    let wrap = app.local().store.with_account_key(|key| secret.wrap(key)).unwrap();
    app.local().store.apply(app.local().store.change().put_recovery_wrap(&wrap).unwrap()).unwrap();
    app.local().passcode_memory().password_key = Some(secret);
}

#[test]
fn policy_changes_both_ways() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    // User policy: the passcode may be skipped.
    set_policy(&app, optional);
    app.local().require_unlocked().unwrap();
    // user → org: required from now on, before anything else.
    set_policy(&app, |p| p.requirement = PasscodeRequirement::Required);
    assert!(matches!(app.local().require_unlocked(), Err(Error::PasscodeRequired)));
    app.passcode().set(PIN, NOW).unwrap();
    assert_eq!(app.passcode().remove(PIN, NOW).unwrap_err(), TwostepError::PasscodeRequired);
    // A stricter policy does not lock anybody out; the next unlock asks for a change.
    set_policy(&app, |p| p.min_length = 8);
    app.passcode().lock().unwrap();
    assert_eq!(app.passcode().unlock(PIN, NOW).unwrap(), UnlockResult { change_required: true });
    assert_eq!(
        app.passcode().change(PIN, "5381", NOW).unwrap_err(),
        TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::TooShort { min_length: 8 } }
    );
    app.passcode().change(PIN, "53819046", NOW).unwrap();
    // org → user: the passcode may go.
    set_policy(&app, optional);
    app.passcode().remove("53819046", NOW).unwrap();
    assert_eq!(status(&app, NOW), PasscodeStatus::NotSet);
    app.local().require_unlocked().unwrap();
    drop(app);
    assert_eq!(
        status_of(&open(dir.path(), &keys)),
        (Access::SignedIn, PasscodeStatus::NotSet),
        "no passcode: opens unlocked"
    );
}

#[test]
fn change_checks_the_current_passcode_like_an_unlock_and_the_new_one_like_a_set() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    set_policy(&app, optional);
    app.passcode().set(PIN, NOW).unwrap();
    assert_eq!(
        app.passcode().change(PIN, "1212", NOW).unwrap_err(),
        TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::TooShort { min_length: 6 } }
    );
    assert_eq!(
        app.passcode().change(PIN, PIN, NOW).unwrap_err(),
        TwostepError::PasscodeTooWeak { reason: PasscodeWeakness::Unchanged }
    );
    assert_eq!(
        app.passcode().state(NOW).unwrap().failed_attempts,
        0,
        "a refused new passcode costs no attempt"
    );
    assert_eq!(app.passcode().change(WRONG, OTHER_PIN, NOW).unwrap_err(), incorrect(None, None));
    assert_eq!(app.passcode().state(NOW).unwrap().failed_attempts, 1);
    assert_eq!(status(&app, NOW), PasscodeStatus::Locked, "a wrong passcode locks");
    app.passcode().change(PIN, OTHER_PIN, NOW).unwrap();
    assert_eq!(status(&app, NOW), PasscodeStatus::Unlocked);
    app.passcode().lock().unwrap();
    assert_eq!(app.passcode().unlock(PIN, NOW).unwrap_err(), incorrect(None, None));
    app.passcode().unlock(OTHER_PIN, NOW).unwrap();
    assert_eq!(app.passcode().remove(WRONG, NOW).unwrap_err(), incorrect(None, None));
    assert_eq!(app.passcode().unlock("", NOW).unwrap_err().code(), "invalid_input");
}

#[test]
fn the_background_timeout_locks_and_a_clock_that_went_back_locks_too() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    app.passcode().set(PIN, NOW).unwrap();
    app.passcode().app_backgrounded(NOW).unwrap();
    assert_eq!(app.passcode().app_foregrounded(NOW + secs(299)).unwrap(), PasscodeStatus::Unlocked);
    app.passcode().app_backgrounded(NOW + secs(300)).unwrap();
    assert_eq!(app.passcode().app_foregrounded(NOW + secs(600)).unwrap(), PasscodeStatus::Locked);
    app.passcode().unlock(PIN, NOW + secs(600)).unwrap();
    app.passcode().app_backgrounded(NOW + secs(700)).unwrap();
    assert_eq!(
        app.passcode().app_foregrounded(NOW + secs(100)).unwrap(),
        PasscodeStatus::Locked,
        "the clock went back while in background"
    );
    app.passcode().unlock(PIN, NOW + secs(700)).unwrap();
    assert_eq!(
        app.passcode().app_foregrounded(NOW + secs(10_000)).unwrap(),
        PasscodeStatus::Unlocked,
        "not backgrounded: nothing to time"
    );
    set_policy(&app, |p| p.lock_timeout_secs = 0);
    app.passcode().app_backgrounded(NOW + secs(701)).unwrap();
    assert_eq!(
        status(&app, NOW + secs(701)),
        PasscodeStatus::Locked,
        "a zero timeout locks at once"
    );
    // Without a passcode there is nothing to lock.
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    app.passcode().lock().unwrap();
    app.passcode().app_backgrounded(NOW).unwrap();
    assert_eq!(
        app.passcode().app_foregrounded(NOW + secs(86_400)).unwrap(),
        PasscodeStatus::NotSet
    );
    assert_eq!(app.status(NOW).unwrap().access, Access::SignedIn);
}

#[test]
fn setting_a_passcode_rotates_the_account_key_and_keeps_every_record() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    fixtures::put_vault_record(&app, "acct-1", b"otp secret").unwrap();
    let before = app.local().store.with_account_key(|k| Ok(*k.expose_bytes())).unwrap();
    let raw_before = std::fs::read_dir(dir.path().join("state")).unwrap().count();
    app.passcode().set(PIN, NOW).unwrap();
    let after = app.local().store.with_account_key(|k| Ok(*k.expose_bytes())).unwrap();
    assert_ne!(before, after);
    assert!(raw_before > 0);
    assert_eq!(fixtures::read_vault_record(&app, "acct-1").unwrap().unwrap(), b"otp secret");
    assert!(app.local().store.read_secret(Slot::DeviceKey).unwrap().is_some());
    drop(app);
    let app = open(dir.path(), &keys);
    app.passcode().unlock(PIN, NOW).unwrap();
    assert_eq!(app.status(NOW).unwrap().registration.unwrap().device_id, "d-1");
    assert_eq!(fixtures::read_vault_record(&app, "acct-1").unwrap().unwrap(), b"otp secret");
    // Only this device's platform key and this passcode together open it.
    drop(app);
    let stranger = Twostep::open(Config::new(dir.path(), URL), Arc::new(MemoryKeyStore::new()));
    assert!(matches!(stranger, Err(TwostepError::KeyStore { .. })));
}

#[test]
fn nothing_on_disk_holds_the_passcode_or_the_account_key() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    let pin = "73914628";
    app.passcode().set(pin, NOW).unwrap();
    let key = app.local().store.with_account_key(|k| Ok(*k.expose_bytes())).unwrap();
    drop(app);
    for file in walk(&dir.path().join("state")) {
        let bytes = std::fs::read(&file).unwrap();
        assert!(!bytes.windows(pin.len()).any(|w| w == pin.as_bytes()), "{}", file.display());
        assert!(!bytes.windows(32).any(|w| w == key), "{}", file.display());
    }
    let shown = format!("{:?}", open(dir.path(), &keys));
    assert!(!shown.contains(pin));
}

use crate::fixtures::files_under as walk;

#[test]
fn reset_works_while_locked_and_starts_over() {
    let (dir, keys) = device();
    {
        let app = open(dir.path(), &keys);
        app.passcode().set(PIN, NOW).unwrap();
        fixtures::put_vault_record(&app, "acct-1", b"x").unwrap();
    }
    let app = open(dir.path(), &keys);
    assert_eq!(status_of(&app), (Access::Locked, PasscodeStatus::Locked));
    app.passcode().reset_local_data().unwrap();
    assert_eq!(status_of(&app), (Access::FirstAccess, PasscodeStatus::NotSet));
    assert!(fixtures::vault_record_ids(&app).unwrap().is_empty());
    assert_eq!(app.passcode().unlock(PIN, NOW).unwrap_err(), TwostepError::PasscodeNotSet);
    drop(app);
    assert_eq!(status_of(&open(dir.path(), &keys)), (Access::FirstAccess, PasscodeStatus::NotSet));
}

/// Run in a child process (see below): one unlock attempt, stopped by the test hook after
/// the count was flushed; the parent kills the process there.
const CHILD_DIR_ENV: &str = "TWOSTEP_TEST_KILLED_CHILD_DIR";

fn child_unlock(dir: &Path) {
    let keys = Arc::new(FileKeyStore::open_or_create(dir.join("keystore.key")).unwrap());
    let app = open_with(&dir.join("data"), keys);
    // The hook pauses here for minutes; reaching the end means it did not fire.
    let outcome = app.passcode().unlock(PIN, NOW + secs(10));
    eprintln!("the unlock completed: {outcome:?}");
}

#[test]
fn a_process_killed_between_counting_and_checking_has_spent_the_attempt() {
    if let Some(dir) = std::env::var_os(CHILD_DIR_ENV) {
        child_unlock(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let keys: Arc<dyn KeyStore> =
        Arc::new(FileKeyStore::open_or_create(dir.path().join("keystore.key")).unwrap());
    fixtures::seed_signed_in_state(&dir.path().join("data"), keys.as_ref(), URL, NOW).unwrap();
    {
        let app = open_with(&dir.path().join("data"), keys.clone());
        app.passcode().set(PIN, NOW).unwrap();
    }

    // The same test binary, running only this test, as the child (with the right passcode:
    // even a correct attempt that never finished counts).
    let test = format!(
        "{}::a_process_killed_between_counting_and_checking_has_spent_the_attempt",
        module_path!()
    );
    let test = test.split_once("::").map(|(_, path)| path.to_owned()).unwrap();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR_ENV, dir.path())
        .env(crate::hooks::PAUSE_AT_ENV, crate::hooks::PASSCODE_COUNTED)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (seen, reached) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            if line.starts_with(crate::hooks::POINT_MARKER) && line.ends_with(" paused") {
                let _ = seen.send(Ok(()));
                return;
            }
            if line.contains("the unlock completed") {
                let _ = seen.send(Err(line));
                return;
            }
        }
        let _ = seen.send(Err("the child ended without reaching the hook".to_owned()));
    });
    let outcome = reached.recv_timeout(std::time::Duration::from_secs(120));
    child.kill().unwrap(); // SIGKILL: no destructor, no flush, nothing after the count.
    child.wait().unwrap();
    outcome
        .expect("the child reached the hook in time")
        .expect("the hook stopped the unlock after the count");

    let app = open_with(&dir.path().join("data"), keys);
    let state = app.passcode().state(NOW + secs(10)).unwrap();
    assert_eq!(
        (state.status, state.failed_attempts, state.attempts_left),
        (PasscodeStatus::Locked, 1, Some(9))
    );
    // A correct passcode afterwards starts the count over.
    app.passcode().unlock(PIN, NOW + secs(11)).unwrap();
    assert_eq!(app.passcode().state(NOW + secs(11)).unwrap().failed_attempts, 0);
}
