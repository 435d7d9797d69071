//! Biometric unlock with a scripted biometric key store: it approves, is cancelled, fails or
//! finds its key invalidated, and can hold its "prompt" open until the test lets it answer.

use super::*;
use crate::error::Error;
use crate::keystore::{BiometricKeyStore, KeyStore, KeyStoreError, MemoryKeyStore};
use crate::twostep::{Config, Twostep};
use crate::{TwostepError, fixtures};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;
use twostep_otp::UnixTime;

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
const URL: &str = "http://127.0.0.1:9";
const PIN: &str = "482915";
const WRONG: &str = "111333";

/// What the user does at the prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Approves,
    Cancels,
    Fails,
    /// New fingerprints were enrolled: the platform key is gone.
    Invalidated,
}

/// A biometric key store over a memory key: every call is a "prompt" answered as scripted,
/// optionally held open until [`Scripted::answer`].
#[derive(Debug)]
struct Scripted {
    key: MemoryKeyStore,
    user: Mutex<User>,
    prompts: AtomicUsize,
    hold: Mutex<bool>,
    shown: Notify,
    answered: Notify,
}

impl Scripted {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            key: MemoryKeyStore::new(),
            user: Mutex::new(User::Approves),
            prompts: AtomicUsize::new(0),
            hold: Mutex::new(false),
            shown: Notify::new(),
            answered: Notify::new(),
        })
    }

    fn user(&self, user: User) {
        *self.user.lock().unwrap() = user;
    }

    fn prompts(&self) -> usize {
        self.prompts.load(Ordering::SeqCst)
    }

    /// The next prompt stays up until [`Scripted::answer`].
    fn hold_next(&self) {
        *self.hold.lock().unwrap() = true;
    }

    fn answer(&self) {
        self.answered.notify_one();
    }

    async fn prompt(&self) -> Result<(), KeyStoreError> {
        self.prompts.fetch_add(1, Ordering::SeqCst);
        let hold = std::mem::take(&mut *self.hold.lock().unwrap());
        if hold {
            self.shown.notify_one();
            self.answered.notified().await;
        }
        let message = "scripted".to_owned();
        match *self.user.lock().unwrap() {
            User::Approves => Ok(()),
            User::Cancels => Err(KeyStoreError::Cancelled { message }),
            User::Fails => Err(KeyStoreError::NotAuthenticated { message }),
            User::Invalidated => Err(KeyStoreError::KeyInvalidated { message }),
        }
    }
}

#[async_trait::async_trait]
impl BiometricKeyStore for Scripted {
    async fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.prompt().await?;
        self.key.wrap_key(label, key)
    }

    async fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.prompt().await?;
        self.key.unwrap_key(label, wrapped)
    }
}

fn open(dir: &Path, keys: &Arc<MemoryKeyStore>, biometric: &Arc<Scripted>) -> Twostep {
    let mut config = Config::new(dir, URL);
    config.biometric_key_store = Some(biometric.clone());
    Twostep::open(config, keys.clone()).unwrap()
}

/// A signed-in device under the org policy with a passcode set (unlocked), its key stores.
fn device_with_passcode() -> (tempfile::TempDir, Arc<MemoryKeyStore>, Arc<Scripted>) {
    let (dir, keys) = fixtures::seeded_device(URL, NOW);
    let biometric = Scripted::new();
    open(dir.path(), &keys, &biometric).passcode().set(PIN, NOW).unwrap();
    (dir, keys, biometric)
}

fn status(app: &Twostep) -> PasscodeStatus {
    app.passcode().state(NOW).unwrap().status
}

#[tokio::test]
async fn biometrics_unlock_instead_of_the_passcode_once_turned_on() {
    let (dir, keys, biometric) = device_with_passcode();
    let app = open(dir.path(), &keys, &biometric);
    assert!(!app.passcode().state(NOW).unwrap().biometric_unlock, "off by default");
    assert!(matches!(
        app.passcode().unlock_with_biometrics(NOW).await,
        Err(TwostepError::InvalidInput { field, .. }) if field == "biometric"
    ));
    assert_eq!(
        app.passcode().enable_biometric_unlock().await,
        Err(TwostepError::Locked),
        "turning it on needs the account data open"
    );
    app.passcode().unlock(PIN, NOW).unwrap();
    app.passcode().enable_biometric_unlock().await.unwrap();
    assert!(app.passcode().state(NOW).unwrap().biometric_unlock);
    drop(app);

    // A restart opens locked; two wrong passcodes, then the user's finger.
    let app = open(dir.path(), &keys, &biometric);
    assert_eq!(status(&app), PasscodeStatus::Locked);
    for _ in 0..2 {
        assert!(app.passcode().unlock(WRONG, NOW).is_err());
    }
    let before = biometric.prompts();
    app.passcode().unlock_with_biometrics(NOW + std::time::Duration::from_secs(1)).await.unwrap();
    assert_eq!(biometric.prompts(), before + 1, "one prompt");
    assert_eq!(status(&app), PasscodeStatus::Unlocked);
    assert_eq!(app.passcode().state(NOW).unwrap().failed_attempts, 0, "a success ends the count");
    assert!(app.local().require_unlocked().is_ok(), "the account data is open");
    // Already unlocked: no prompt.
    app.passcode().unlock_with_biometrics(NOW).await.unwrap();
    assert_eq!(biometric.prompts(), before + 1);
}

#[tokio::test]
async fn a_cancelled_or_failed_prompt_changes_nothing() {
    let (dir, keys, biometric) = device_with_passcode();
    let app = open(dir.path(), &keys, &biometric);
    app.passcode().unlock(PIN, NOW).unwrap();
    app.passcode().enable_biometric_unlock().await.unwrap();
    app.passcode().lock().unwrap();
    assert!(app.passcode().unlock(WRONG, NOW).is_err());
    let records = app.local().store.raw_records();

    for (user, expected) in [
        (User::Cancels, TwostepError::AuthenticationCancelled),
        (User::Fails, TwostepError::AuthenticationFailed { message: "scripted".into() }),
    ] {
        biometric.user(user);
        assert_eq!(app.passcode().unlock_with_biometrics(NOW).await, Err(expected));
        assert_eq!(status(&app), PasscodeStatus::Locked);
        assert!(matches!(app.local().require_unlocked(), Err(Error::Locked)));
        let state = app.passcode().state(NOW).unwrap();
        assert_eq!((state.failed_attempts, state.biometric_unlock), (1, true), "nothing counted");
        assert_eq!(app.local().store.raw_records(), records, "nothing written");
    }
    // The passcode still works, and so do biometrics afterwards.
    app.passcode().unlock(PIN, NOW).unwrap();
    app.passcode().lock().unwrap();
    biometric.user(User::Approves);
    app.passcode().unlock_with_biometrics(NOW).await.unwrap();
    assert_eq!(status(&app), PasscodeStatus::Unlocked);

    // Turning it on is refused the same way, with nothing stored.
    let (dir, keys, biometric) = device_with_passcode();
    let app = open(dir.path(), &keys, &biometric);
    app.passcode().unlock(PIN, NOW).unwrap();
    let records = app.local().store.raw_records();
    biometric.user(User::Cancels);
    assert_eq!(
        app.passcode().enable_biometric_unlock().await,
        Err(TwostepError::AuthenticationCancelled)
    );
    assert_eq!(app.local().store.raw_records(), records);
    assert!(!app.passcode().state(NOW).unwrap().biometric_unlock);
}

#[tokio::test]
async fn it_follows_the_passcode_and_the_account_key() {
    let (dir, keys, biometric) = device_with_passcode();
    let app = open(dir.path(), &keys, &biometric);
    app.passcode().unlock(PIN, NOW).unwrap();
    let enabled = |app: &Twostep| app.passcode().state(NOW).unwrap().biometric_unlock;

    // Changing the passcode keeps the key, and biometric unlock.
    app.passcode().enable_biometric_unlock().await.unwrap();
    app.passcode().change(PIN, "902613", NOW).unwrap();
    app.passcode().lock().unwrap();
    app.passcode().unlock_with_biometrics(NOW).await.unwrap();
    assert!(enabled(&app));

    // Turned off by the app.
    app.passcode().disable_biometric_unlock().unwrap();
    assert!(!enabled(&app));
    app.passcode().lock().unwrap();
    assert!(app.passcode().unlock_with_biometrics(NOW).await.is_err());
    app.passcode().unlock("902613", NOW).unwrap();

    // Removing the passcode removes it (user policy: the passcode may go).
    fixtures::set_policy(&app, |p| p.requirement = twostep_proto::PasscodeRequirement::Optional);
    app.passcode().enable_biometric_unlock().await.unwrap();
    app.passcode().remove("902613", NOW).unwrap();
    assert!(!enabled(&app));
    assert_eq!(
        app.passcode().enable_biometric_unlock().await,
        Err(TwostepError::PasscodeNotSet),
        "without a passcode there is nothing to unlock"
    );

    // A reset (a new Account key) removes it too.
    app.passcode().set(PIN, NOW).unwrap();
    app.passcode().enable_biometric_unlock().await.unwrap();
    app.passcode().reset_local_data().unwrap();
    assert!(!enabled(&app));
}

#[tokio::test]
async fn passcode_delays_hold_and_an_invalidated_key_turns_it_off() {
    let (dir, keys, biometric) = device_with_passcode();
    let app = open(dir.path(), &keys, &biometric);
    app.passcode().unlock(PIN, NOW).unwrap();
    app.passcode().enable_biometric_unlock().await.unwrap();
    app.passcode().lock().unwrap();
    for _ in 0..5 {
        let _ = app.passcode().unlock(WRONG, NOW);
    }
    let prompts = biometric.prompts();
    let until = NOW + std::time::Duration::from_secs(60);
    assert_eq!(
        app.passcode().unlock_with_biometrics(NOW).await,
        Err(fixtures::passcode_locked_out(until, NOW)),
        "the delay after the fifth wrong passcode holds for biometrics too"
    );
    assert_eq!(biometric.prompts(), prompts, "no prompt is shown during a delay");

    // New fingerprints enrolled: the platform key is gone, and with it the wrap.
    biometric.user(User::Invalidated);
    let later = NOW + std::time::Duration::from_secs(61);
    assert!(matches!(
        app.passcode().unlock_with_biometrics(later).await,
        Err(TwostepError::KeyStore { message }) if message.contains("invalidated")
    ));
    assert!(!app.passcode().state(later).unwrap().biometric_unlock);
    assert_eq!(app.passcode().state(later).unwrap().failed_attempts, 5);
    app.passcode().unlock(PIN, later).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_lock_is_held_while_the_prompt_is_up_and_changes_meanwhile_win() {
    let (dir, keys, biometric) = device_with_passcode();
    let app = Arc::new(open(dir.path(), &keys, &biometric));
    app.passcode().unlock(PIN, NOW).unwrap();
    app.passcode().enable_biometric_unlock().await.unwrap();
    app.passcode().lock().unwrap();

    biometric.hold_next();
    let unlocking = tokio::spawn({
        let app = app.clone();
        async move { app.passcode().unlock_with_biometrics(NOW).await }
    });
    biometric.shown.notified().await;
    // While the prompt is up, passcode operations go on (they take the passcode lock) ...
    app.passcode().lock().unwrap();
    app.passcode().unlock(PIN, NOW).unwrap();
    // ... and one turns biometric unlock off before the user answers.
    app.passcode().disable_biometric_unlock().unwrap();
    app.passcode().lock().unwrap();
    biometric.answer();
    let outcome =
        tokio::time::timeout(std::time::Duration::from_secs(30), unlocking).await.unwrap().unwrap();
    assert!(
        matches!(outcome, Err(TwostepError::InvalidInput { ref field, .. }) if field == "passcode"),
        "{outcome:?}"
    );
    assert_eq!(status(&app), PasscodeStatus::Locked, "the approval came too late to count");
}
