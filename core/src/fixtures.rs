//! Data-dir fixtures for benchmarks and tests that need a populated data directory without a
//! server: a seeded signed-in device, raw vault records, an unlock that reports its
//! Argon2id time. Hidden from the docs; not part of the supported API.

use std::path::Path;
use twostep_otp::UnixTime;
use twostep_proto::{ClientKind, PasscodePolicy, PasscodeRequirement, SessionScope, UserSummary};

use crate::device::DeviceKey;
use crate::error::Result;
use crate::keystore::KeyStore;
use crate::state::{
    ClockRecord, RegistrationRecord, ServerRecord, SessionRecord, Slot, StateStore,
};
use crate::twostep::Twostep;

/// Writes the state of a registered mobile device with a session valid for a day (org
/// policy: a passcode is required), as a completed first access with `server_url` would.
pub fn seed_signed_in_state(
    data_dir: &Path,
    key_store: &dyn KeyStore,
    server_url: &str,
    now: UnixTime,
) -> Result<()> {
    let store = StateStore::open(data_dir, key_store)?;
    let user = UserSummary { id: "u-1".into(), username: "alice".into(), org: "acme".into() };
    let key = DeviceKey::generate()?;
    let registration = RegistrationRecord {
        device_id: "d-1".into(),
        client: ClientKind::Mobile,
        device_name: "bench device".into(),
        user: user.clone(),
        server_url: server_url.to_owned(),
        registered_at: now,
    };
    let session = SessionRecord {
        client: ClientKind::Mobile,
        scope: SessionScope::Full,
        user,
        expires_at: now.saturating_add(std::time::Duration::from_secs(86_400)),
        device_id: Some("d-1".into()),
        signed_in_at: now,
    };
    let policy = PasscodePolicy {
        requirement: PasscodeRequirement::Required,
        min_length: 6,
        alphanumeric: false,
        max_failed_attempts: 10,
        lock_timeout_secs: 300,
        wipe_vault: false,
    };
    let change = store
        .change()
        .put(Slot::Registration, &registration)?
        .put_secret(Slot::DeviceKey, key.pkcs8())?
        .put(Slot::Session, &session)?
        .put_secret(Slot::SessionToken, b"seeded-session-token")?
        .put(Slot::PasscodePolicy, &policy)?
        .put(Slot::Server, &ServerRecord { url: server_url.to_owned() })?
        .put(Slot::ClockOffset, &ClockRecord { offset_ms: 0, measured_at: now })?;
    Ok(store.apply(change)?)
}

/// Stores a record in the authenticator vault's place (sealed under the Account key), as
/// the vault does: lets tests check what a wipe, a rotation or a recovery keeps.
pub fn put_vault_record(app: &Twostep, id: &str, value: &[u8]) -> Result<()> {
    let store = &app.local().store;
    Ok(store.apply(store.change().put_vault(id, value))?)
}

/// Reads a record stored with [`put_vault_record`] (`TwostepError::Locked` while locked).
pub fn read_vault_record(app: &Twostep, id: &str) -> Result<Option<Vec<u8>>> {
    Ok(app.local().store.read_vault(id)?.map(|value| value.to_vec()))
}

/// The ids of the vault records on disk (readable while locked: ids are not secret).
pub fn vault_record_ids(app: &Twostep) -> Result<Vec<String>> {
    Ok(app.local().store.vault_ids()?)
}

/// Opens (unseals) every record of the data dir — each slot, each vault record, the wraps —
/// and returns the names of the slots that hold one (`vault/<id>` for vault records). Any
/// record that does not open under the keys in force is an error: the crash tests' check
/// that nothing is half-written. Needs the account data open (`TwostepError::Locked`
/// otherwise).
pub fn open_every_record(app: &Twostep) -> Result<Vec<String>> {
    let store = &app.local().store;
    app.local().require_account_open()?;
    let mut present = vec![];
    for slot in Slot::ALL {
        if store.read_secret(slot)?.is_some() {
            present.push(slot.name().to_owned());
        }
    }
    for id in store.vault_ids()? {
        if store.read_vault(&id)?.is_some() {
            present.push(format!("vault/{id}"));
        }
    }
    store.account_wrap()?;
    store.recovery_wrap()?;
    store.biometric_wrap()?;
    Ok(present)
}

/// [`crate::Passcode::unlock`] that also returns the time spent in the Argon2id derivation,
/// so that a benchmark can split the cost of an unlock.
pub fn unlock_timed(app: &Twostep, passcode: &str, now: UnixTime) -> Result<std::time::Duration> {
    let mut kdf = std::time::Duration::ZERO;
    crate::passcode::unlock(app.local(), passcode, now, Some(&mut kdf))?;
    Ok(kdf)
}

/// The error of a wrong passcode with `attempts_left`, and no delay after it, or one that
/// runs from the first time to the second: what tests expect `unlock` to return.
pub fn passcode_incorrect(
    attempts_left: Option<u32>,
    delay: Option<(UnixTime, UnixTime)>,
) -> crate::TwostepError {
    crate::TwostepError::PasscodeIncorrect {
        attempts_left,
        next_attempt_at: delay.map(|(_, until)| until),
        retry_after: delay.map(|(now, until)| now.until(until)),
    }
}

/// The error of a passcode attempt refused until `until`, as seen at (effective) time `now`.
pub fn passcode_locked_out(until: UnixTime, now: UnixTime) -> crate::TwostepError {
    crate::TwostepError::PasscodeLockedOut { until, retry_after: now.until(until) }
}

/// A seeded, signed-in device under the org policy (for `server_url`), in a new temporary
/// directory, and its platform key store.
#[cfg(test)]
pub(crate) fn seeded_device(
    server_url: &str,
    now: UnixTime,
) -> (tempfile::TempDir, std::sync::Arc<crate::MemoryKeyStore>) {
    let dir = tempfile::tempdir().unwrap();
    let keys = std::sync::Arc::new(crate::MemoryKeyStore::new());
    seed_signed_in_state(dir.path(), keys.as_ref(), server_url, now).unwrap();
    (dir, keys)
}

/// Changes the cached passcode policy, as a device session with the server would.
#[cfg(test)]
pub(crate) fn set_policy(app: &Twostep, change: impl FnOnce(&mut PasscodePolicy)) {
    let store = &app.local().store;
    let mut policy: PasscodePolicy = store.read(Slot::PasscodePolicy).unwrap().unwrap();
    change(&mut policy);
    store.apply(store.change().put(Slot::PasscodePolicy, &policy).unwrap()).unwrap();
}

/// Every file below `dir`, for tests that scan the data dir for secrets.
#[cfg(test)]
pub(crate) fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() { out.extend(files_under(&path)) } else { out.push(path) }
    }
    out
}
