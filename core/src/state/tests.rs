use super::*;
use crate::keystore::MemoryKeyStore;
use twostep_otp::UnixTime;

fn store_in(dir: &Path, ks: &MemoryKeyStore) -> StateStore {
    StateStore::open(dir, ks).unwrap()
}

#[test]
fn values_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    {
        let store = store_in(dir.path(), &ks);
        let change = store
            .change()
            .put(
                Slot::ClockOffset,
                &ClockRecord { offset_ms: -1500, measured_at: UnixTime::from_secs(7) },
            )
            .unwrap()
            .put_secret(Slot::SessionToken, b"token")
            .unwrap();
        store.apply(change).unwrap();
    }
    let store = store_in(dir.path(), &ks);
    let clock: ClockRecord = store.read(Slot::ClockOffset).unwrap().unwrap();
    assert_eq!(clock.offset_ms, -1500);
    assert_eq!(store.read_secret(Slot::SessionToken).unwrap().unwrap().as_slice(), b"token");
    assert!(store.read_secret(Slot::DeviceKey).unwrap().is_none());

    store.apply(store.change().remove(Slot::SessionToken)).unwrap();
    assert!(store.read_secret(Slot::SessionToken).unwrap().is_none());
}

#[test]
fn values_are_not_on_disk_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    {
        let store = store_in(dir.path(), &ks);
        store
            .apply(
                store.change().put_secret(Slot::SessionToken, b"PLAINTEXT-TOKEN-MARKER").unwrap(),
            )
            .unwrap();
    }
    for entry in walk(&dir.path().join(STATE_DIR)) {
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!bytes.windows(22).any(|w| w == b"PLAINTEXT-TOKEN-MARKER"), "{}", entry.display());
    }
}

use crate::fixtures::files_under as walk;

#[test]
fn another_key_store_cannot_open_the_state() {
    let dir = tempfile::tempdir().unwrap();
    drop(store_in(dir.path(), &MemoryKeyStore::new()));
    let err = StateStore::open(dir.path(), &MemoryKeyStore::new()).unwrap_err();
    assert!(matches!(err, Error::KeyStore(_)), "{err}");
}

#[test]
fn a_tampered_record_is_reported_as_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    let store = store_in(dir.path(), &ks);
    store.apply(store.change().put_secret(Slot::SessionToken, b"t").unwrap()).unwrap();
    let mut sealed = store.db.get(Slot::SessionToken.storage_key()).unwrap().unwrap().to_vec();
    sealed[20] ^= 1;
    store.db.insert(Slot::SessionToken.storage_key(), sealed).unwrap();
    assert!(matches!(
        store.read_secret(Slot::SessionToken),
        Err(Error::Unseal { record: "session_token", .. })
    ));
    // Moving a value to another slot does not work either.
    let token = store.db.get(Slot::Session.storage_key()).unwrap();
    assert!(token.is_none());
    let clock = store
        .change()
        .put(Slot::ClockOffset, &ClockRecord { offset_ms: 0, measured_at: UnixTime::from_secs(0) })
        .unwrap();
    store.apply(clock).unwrap();
    let moved = store.db.get(Slot::ClockOffset.storage_key()).unwrap().unwrap();
    store.db.insert(Slot::PasscodePolicy.storage_key(), moved).unwrap();
    assert!(matches!(store.read_secret(Slot::PasscodePolicy), Err(Error::Unseal { .. })));
}

fn sled_with(path: &Path, entries: &[(&[u8], &[u8])]) {
    let db = sled::open(path).unwrap();
    for (k, v) in entries {
        db.insert(k, *v).unwrap();
    }
    db.flush().unwrap();
}

#[test]
fn a_foreign_database_is_refused_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join(STATE_DIR);
    sled_with(&state, &[(b"their-key", b"their-value")]);
    let err = StateStore::open(dir.path(), &MemoryKeyStore::new()).unwrap_err();
    assert!(matches!(err, Error::Foreign(_)), "{err}");
    let db = sled::open(&state).unwrap();
    assert_eq!(db.len(), 1);
    assert!(db.get(meta::META_KEY).unwrap().is_none());
}

#[test]
fn another_applications_meta_is_foreign_and_a_newer_format_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    sled_with(&dir.path().join(STATE_DIR), &[(meta::META_KEY, br#"{"app":"other","format":1}"#)]);
    assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Foreign(_))));

    let dir = tempfile::tempdir().unwrap();
    sled_with(
        &dir.path().join(STATE_DIR),
        &[(meta::META_KEY, br#"{"app":"twostep-core","format":9}"#)],
    );
    assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Newer(9))));
    let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
    assert_eq!(db.len(), 1, "nothing was written next to a newer format");
}

#[test]
fn a_bare_database_or_stray_files_are_foreign() {
    let dir = tempfile::tempdir().unwrap();
    sled_with(dir.path(), &[(b"k", b"v")]);
    assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Foreign(_))));

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(STATE_DIR)).unwrap();
    std::fs::write(dir.path().join(STATE_DIR).join("notes.txt"), b"mine").unwrap();
    assert!(matches!(StateStore::open(dir.path(), &MemoryKeyStore::new()), Err(Error::Foreign(_))));
    assert_eq!(std::fs::read_dir(dir.path().join(STATE_DIR)).unwrap().count(), 1);

    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    assert!(matches!(StateStore::open(&file, &MemoryKeyStore::new()), Err(Error::Foreign(_))));
}

#[test]
fn damaged_keys_or_meta_are_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    drop(store_in(dir.path(), &ks));
    {
        let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
        db.insert(KeyRole::Account.storage_key(), &b"{not json"[..]).unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(StateStore::open(dir.path(), &ks), Err(Error::Corrupt(_))));
    {
        let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
        db.remove(KeyRole::Account.storage_key()).unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(StateStore::open(dir.path(), &ks), Err(Error::Corrupt(_))));
    {
        let db = sled::open(dir.path().join(STATE_DIR)).unwrap();
        db.insert(meta::META_KEY, &b"\x00\x01"[..]).unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(StateStore::open(dir.path(), &ks), Err(Error::Corrupt(_))));
}

#[test]
fn a_garbled_database_file_is_an_error_not_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    drop(store_in(dir.path(), &ks));
    let conf = dir.path().join(STATE_DIR).join("conf");
    std::fs::write(&conf, b"garbage garbage garbage garbage").unwrap();
    let err = StateStore::open(dir.path(), &ks).unwrap_err();
    assert!(matches!(err, Error::Sled(_) | Error::Corrupt(_)), "{err}");
    assert_eq!(std::fs::read(&conf).unwrap(), b"garbage garbage garbage garbage");
}

#[test]
fn account_records_are_out_of_reach_while_the_account_key_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    let store = store_in(dir.path(), &ks);
    store
        .apply(store.change().put_secret(Slot::SessionToken, b"t").unwrap().put_vault("a", b"v"))
        .unwrap();
    let key = store
        .with_account_key(|k| SealKey::from_bytes(k.expose_bytes()).map_err(Error::Seal))
        .unwrap();
    store.set_account_key(None);
    assert!(!store.account_open());
    assert!(matches!(store.read_secret(Slot::SessionToken), Err(Error::Locked)));
    assert!(matches!(store.read_vault("a"), Err(Error::Locked)));
    assert_eq!(store.vault_ids().unwrap(), ["a"], "ids are not secret");
    // Local records still work; an Account write fails whole, writing nothing.
    let both = store
        .change()
        .put(Slot::ClockOffset, &ClockRecord { offset_ms: 1, measured_at: UnixTime::from_secs(2) })
        .unwrap()
        .put_secret(Slot::Session, b"{}");
    assert!(matches!(store.apply(both.unwrap()), Err(Error::Locked)));
    assert!(store.read::<ClockRecord>(Slot::ClockOffset).unwrap().is_none());
    store.set_account_key(Some(key));
    assert_eq!(store.read_secret(Slot::SessionToken).unwrap().unwrap().as_slice(), b"t");
}

#[test]
fn a_rotation_reseals_every_account_record_and_a_change_prepared_before_lands_under_the_new_key() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    let store = store_in(dir.path(), &ks);
    store
        .apply(
            store
                .change()
                .put_secret(Slot::DeviceKey, b"pkcs8")
                .unwrap()
                .put_vault("a", b"v")
                .put_vault("b", b"w"),
        )
        .unwrap();
    let prepared = store.change().put_secret(Slot::SessionToken, b"later").unwrap();
    let new_key = SealKey::generate().unwrap();
    let new_bytes = *new_key.expose_bytes();
    store.apply_and_switch(store.change().remove_vault("b"), Some(new_key), true).unwrap();
    store.apply(prepared).unwrap();
    let rotated = SealKey::from_bytes(&new_bytes).unwrap();
    for (key, aad) in [
        (Slot::DeviceKey.storage_key(), Slot::DeviceKey.aad()),
        (Slot::SessionToken.storage_key(), Slot::SessionToken.aad()),
    ] {
        let sealed = store.db.get(&key).unwrap().unwrap();
        rotated.open(&aad, &sealed).unwrap();
    }
    assert_eq!(store.read_vault("a").unwrap().unwrap().as_slice(), b"v");
    assert_eq!(store.vault_ids().unwrap(), ["a"], "the change's own writes come after the reseal");
    store.apply(store.change().clear_vault()).unwrap();
    assert!(store.vault_ids().unwrap().is_empty());
}

#[test]
fn a_second_open_while_the_first_is_alive_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ks = MemoryKeyStore::new();
    let first = store_in(dir.path(), &ks);
    let err = crate::TwostepError::from(StateStore::open(dir.path(), &ks).unwrap_err());
    assert!(
        matches!(err, crate::TwostepError::Storage { ref message } if message.contains("in use")),
        "{err:?}"
    );
    drop(first);
    store_in(dir.path(), &ks);
}
