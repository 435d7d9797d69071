//! Opening a data dir after a kill, as the next run of the app would, and reading everything
//! in it: the checks that nothing is half-written.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use twostep_core::{Config, FileKeyStore, PasscodeStatus, SystemClock, Twostep, UnixTime};

pub fn now() -> UnixTime {
    SystemClock::unix_now()
}

/// Opens the data dir the way the CLI does (its key file, no server URL: the stored one).
/// Panics if it does not open: a kill must never leave a data dir that cannot be opened.
pub fn open(data_dir: &Path) -> Twostep {
    let keys = FileKeyStore::open_or_create(data_dir.join("keystore.key"))
        .unwrap_or_else(|e| panic!("the key file of {} opens: {e}", data_dir.display()));
    let mut config = Config::local(data_dir);
    config.server.request_timeout = Duration::from_secs(20);
    Twostep::open(config, Arc::new(keys))
        .unwrap_or_else(|e| panic!("the data dir {} opens after the kill: {e}", data_dir.display()))
}

/// Every record unseals under the keys in force; returns the names of those present.
pub fn every_record(app: &Twostep) -> BTreeSet<String> {
    let present = twostep_core::fixtures::open_every_record(app)
        .unwrap_or_else(|e| panic!("every record opens after the kill: {e}"));
    present.into_iter().collect()
}

/// The accounts of the vault, as `issuer:name` (every one of them unsealed and parsed).
pub fn vault(app: &Twostep) -> BTreeSet<String> {
    let accounts =
        app.authenticator().accounts().unwrap_or_else(|e| panic!("the vault reads: {e}"));
    let names: BTreeSet<String> = accounts
        .iter()
        .map(|a| format!("{}:{}", a.issuer.as_deref().unwrap_or(""), a.name))
        .collect();
    assert_eq!(names.len(), accounts.len(), "no account twice");
    names
}

/// Which of `candidates` is the passcode now (`None`: no passcode is set), trying them in
/// order: exactly one of them must be. A wrong try is counted like any attempt; the right one
/// after it resets the count. Leaves the app unlocked.
pub fn which_passcode<'a>(app: &Twostep, candidates: &[Option<&'a str>]) -> Option<&'a str> {
    match app.passcode().state(now()).expect("passcode state").status {
        PasscodeStatus::NotSet => {
            assert!(
                candidates.contains(&None),
                "no passcode is set, but one of {candidates:?} was"
            );
            return None;
        }
        PasscodeStatus::Locked => {}
        other => panic!("unexpected passcode status after a kill: {other:?}"),
    }
    for candidate in candidates.iter().flatten() {
        if app.passcode().unlock(candidate, now()).is_ok() {
            return Some(candidate);
        }
    }
    panic!("the passcode is none of {candidates:?}")
}

/// Failed unlock attempts on record (read without counting one).
pub fn failed_attempts(app: &Twostep) -> u32 {
    app.passcode().state(now()).expect("passcode state").failed_attempts
}

/// Copies a data dir (the state before an operation) to `to`, replacing what is there.
pub fn copy_dir(from: &Path, to: &Path) {
    if to.exists() {
        std::fs::remove_dir_all(to).expect("remove the old copy");
    }
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the template") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}
