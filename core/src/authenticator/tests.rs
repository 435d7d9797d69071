//! The authenticator vault in the sealed local state: persistence, the passcode guarding
//! it, durable HOTP counters, imports, exports and what a wipe or reset leaves.

use super::*;
use crate::keystore::{KeyStore, MemoryKeyStore};
use crate::passcode::PasscodeStatus;
use crate::state::{ClockRecord, Slot};
use crate::twostep::Config;
use crate::{TwostepError, testing};
use std::path::Path;
use std::sync::Arc;
use twostep_otp::{Algorithm, OffsetSource, OtpKind};
use twostep_proto::PasscodePolicy;

const NOW: u64 = 1_800_000_000;
const URL: &str = "http://127.0.0.1:9";
const PIN: &str = "482915";
const WRONG: &str = "111333";
/// RFC 6238's SHA-1 seed.
const RFC_SEED: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
const GITHUB: &str = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub";

fn open(dir: &Path, keys: &Arc<MemoryKeyStore>) -> Twostep {
    Twostep::open(Config::new(dir, URL), keys.clone() as Arc<dyn KeyStore>).unwrap()
}

/// A fresh data directory: no policy cached, so no passcode is required.
fn fresh() -> (tempfile::TempDir, Arc<MemoryKeyStore>) {
    (tempfile::tempdir().unwrap(), Arc::new(MemoryKeyStore::new()))
}

/// A registered device under the org policy (a passcode is required).
fn device() -> (tempfile::TempDir, Arc<MemoryKeyStore>) {
    let dir = tempfile::tempdir().unwrap();
    let keys = Arc::new(MemoryKeyStore::new());
    testing::seed_signed_in_state(dir.path(), keys.as_ref(), URL, NOW).unwrap();
    (dir, keys)
}

fn set_policy(app: &Twostep, change: impl FnOnce(&mut PasscodePolicy)) {
    let mut policy: PasscodePolicy = app.store.read(Slot::PasscodePolicy).unwrap().unwrap();
    change(&mut policy);
    app.store.apply(app.store.change().put(Slot::PasscodePolicy, &policy).unwrap()).unwrap();
}

fn reason(error: TwostepError) -> String {
    match error {
        TwostepError::Authenticator { reason, .. } => reason,
        other => panic!("not an authenticator error: {other:?}"),
    }
}

fn labels(app: &Twostep) -> Vec<String> {
    app.accounts().unwrap().iter().map(|a| format!("{}:{}", a.issuer, a.name)).collect()
}

#[test]
fn accounts_persist_and_codes_come_in_one_call() {
    let (dir, keys) = fresh();
    {
        let app = open(dir.path(), &keys);
        assert!(app.accounts().unwrap().is_empty());
        let rfc = app
            .add_account_uri(&format!("otpauth://totp/RFC:6238?secret={RFC_SEED}&digits=8"))
            .unwrap();
        assert_eq!((rfc.kind, rfc.digits, rfc.period), (OtpKind::Totp, 8, Some(30)));
        app.add_account_uri(GITHUB).unwrap();
        let fields = AccountFields {
            issuer: "Bank",
            name: "me",
            group: Some("Money"),
            secret: RFC_SEED,
            kind: OtpKind::Hotp,
            algorithm: Algorithm::Sha1,
            digits: None,
            period: None,
            counter: None,
        };
        app.add_account(&fields).unwrap();
    }
    let app = open(dir.path(), &keys);
    assert_eq!(labels(&app), ["RFC:6238", "GitHub:alice", "Bank:me"]);
    let list = app.codes(59).unwrap();
    assert_eq!(list.codes.len(), 3);
    assert_eq!(list.codes[0].code.as_deref(), Some("94287082"), "RFC 6238 Appendix B");
    assert_eq!(list.codes[0].seconds_remaining, 1);
    assert_eq!(list.codes[2].code, None, "HOTP codes are not shown without advancing");
    assert_eq!(list.correction.source, OffsetSource::None);
}

#[test]
fn bad_input_is_typed_and_stores_nothing() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    for (uri, expected) in [
        ("otpauth://totp/E:a?secret=JBSWY3DP1", "invalid_base32"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&digits=12", "invalid_digits"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&period=0", "invalid_period"),
        ("otpauth://motp/E:a?secret=JBSWY3DPEHPK3PXP", "unknown_type"),
        ("otpauth://totp/E:a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5", "unknown_algorithm"),
        ("otpauth://totp/E:a?issuer=E", "missing_secret"),
    ] {
        let error = app.add_account_uri(uri).unwrap_err();
        assert_eq!(error.code(), "authenticator");
        assert!(!error.to_string().contains("JBSWY3DP"), "{error}");
        assert_eq!(reason(error), expected, "{uri}");
    }
    assert!(testing::vault_record_ids(&app).unwrap().is_empty(), "nothing was written");

    let id = app.add_account_uri(GITHUB).unwrap().id;
    assert_eq!(
        reason(
            app.add_account_uri("otpauth://totp/Other:bob?secret=jbsw+y3dp+ehpk+3pxp").unwrap_err()
        ),
        "duplicate"
    );
    assert_eq!(
        reason(app.edit_account(AccountId(99), Some("x"), None).unwrap_err()),
        "unknown_account"
    );
    assert_eq!(reason(app.next_hotp_code(id).unwrap_err()), "not_hotp");
    assert_eq!(labels(&app), ["GitHub:alice"]);
}

#[test]
fn edit_group_reorder_search_and_delete() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    let a = app.add_account_uri(GITHUB).unwrap().id;
    let b =
        app.add_account_uri("otpauth://totp/Google:alice@gmail.com?secret=AAAAAAAA").unwrap().id;
    let c = app.add_account_uri("otpauth://totp/AWS:root?secret=BBBBBBBB").unwrap().id;
    assert_eq!(app.edit_account(a, None, Some("alice-work")).unwrap().name, "alice-work");
    app.set_account_group(a, Some("Work")).unwrap();
    app.set_account_group(c, Some("Work")).unwrap();
    assert_eq!(app.account_groups().unwrap(), ["Work"]);
    app.move_account(c, 0).unwrap();
    assert_eq!(app.accounts().unwrap().iter().map(|x| x.id).collect::<Vec<_>>(), [c, a, b]);
    app.reorder_accounts(&[b, a, c]).unwrap();
    assert_eq!(reason(app.reorder_accounts(&[a, b]).unwrap_err()), "invalid_order");
    assert_eq!(
        app.search_accounts("work").unwrap().iter().map(|x| x.id).collect::<Vec<_>>(),
        [a, c]
    );
    app.delete_account(b).unwrap();
    drop(app);
    let app = open(dir.path(), &keys);
    assert_eq!(labels(&app), ["GitHub:alice-work", "AWS:root"]);
}

#[test]
fn hotp_counters_advance_durably_before_the_code_is_returned() {
    let (dir, keys) = fresh();
    let id = {
        let app = open(dir.path(), &keys);
        let id = app
            .add_account_uri(&format!("otpauth://hotp/RFC:4226?secret={RFC_SEED}&counter=0"))
            .unwrap()
            .id;
        assert_eq!(app.next_hotp_code(id).unwrap().code, "755224");
        id
        // Dropped without any further write: what a killed app leaves.
    };
    let app = open(dir.path(), &keys);
    let next = app.next_hotp_code(id).unwrap();
    assert_eq!(
        (next.code.as_str(), next.counter),
        ("287082", 1),
        "RFC 4226 Appendix D: never the same code twice"
    );
    assert_eq!(app.accounts().unwrap()[0].counter, Some(2));
}

#[test]
fn codes_are_corrected_by_the_server_offset_or_the_users() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.add_account_uri(&format!("otpauth://totp/RFC:6238?secret={RFC_SEED}&digits=8")).unwrap();
    // The server's clock is 20 s ahead of this device.
    app.store
        .apply(
            app.store
                .change()
                .put(Slot::ClockOffset, &ClockRecord { offset_ms: 20_000, measured_at: NOW })
                .unwrap(),
        )
        .unwrap();
    let list = app.codes(39).unwrap();
    assert_eq!(
        (list.time, list.correction.source, list.offset_warning),
        (59, OffsetSource::Server, true)
    );
    assert_eq!(list.codes[0].code.as_deref(), Some("94287082"));
    // The user's own correction wins, and survives a restart.
    app.set_clock_correction(Some(-1_000)).unwrap();
    drop(app);
    let app = open(dir.path(), &keys);
    let list = app.codes(60).unwrap();
    assert_eq!(
        (list.time, list.correction.source, list.offset_warning),
        (59, OffsetSource::User, false)
    );
    assert_eq!(
        reason(app.set_clock_correction(Some(90_000_000)).unwrap_err()),
        "invalid_clock_offset"
    );
    app.set_clock_correction(None).unwrap();
    assert_eq!(app.clock_correction().unwrap().source, OffsetSource::Server);
}

const AEGIS: &str = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":[
    {"type":"totp","name":"alice","issuer":"GitHub","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"period":30}},
    {"type":"totp","name":"carol","issuer":"Slack","group":"Work","info":{"secret":"CCCCCCCCCCCCCCCC","algo":"SHA256","digits":8,"period":30}}]}}"#;

#[test]
fn imports_are_all_or_nothing_and_skip_duplicates() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.add_account_uri(GITHUB).unwrap();
    let report = app.import(ImportFormat::Aegis, AEGIS.as_bytes()).unwrap();
    assert_eq!((report.added.len(), report.duplicates.len()), (1, 1));
    assert_eq!(report.duplicates[0].label, "GitHub:alice");
    assert_eq!(labels(&app), ["GitHub:alice", "Slack:carol"]);

    let bad = "otpauth://totp/A:ok?secret=DDDDDDDD\notpauth://totp/B:bad?secret=DDDD1\n";
    let TwostepError::Authenticator { reason, entries, .. } =
        app.import(ImportFormat::OtpauthUris, bad.as_bytes()).unwrap_err()
    else {
        panic!("expected an authenticator error")
    };
    assert_eq!(reason, "invalid_entries");
    assert_eq!(
        (entries.len(), entries[0].entry, entries[0].error.code()),
        (1, 2, "invalid_base32")
    );
    assert_eq!(
        labels(&app),
        ["GitHub:alice", "Slack:carol"],
        "the good line was not imported either"
    );
    let truncated = &AEGIS[..AEGIS.len() / 2];
    assert_eq!(
        self::reason(app.import(ImportFormat::Aegis, truncated.as_bytes()).unwrap_err()),
        "invalid_json"
    );
}

#[test]
fn with_a_passcode_the_vault_opens_only_when_unlocked_and_leaves_memory_on_lock() {
    let (dir, keys) = device();
    {
        let app = open(dir.path(), &keys);
        assert_eq!(
            app.accounts().unwrap_err(),
            TwostepError::PasscodeRequired,
            "the org requires a passcode first"
        );
        app.set_passcode(PIN, NOW).unwrap();
        app.add_account_uri(GITHUB).unwrap();
        assert!(app.vault_cache().loaded.is_some());
        app.lock().unwrap();
        assert!(app.vault_cache().loaded.is_none(), "locking drops the decrypted vault");
        assert_eq!(app.codes(NOW).unwrap_err(), TwostepError::Locked);
        assert_eq!(
            app.add_account_uri("otpauth://totp/X:y?secret=EEEEEEEE").unwrap_err(),
            TwostepError::Locked
        );
        app.unlock(PIN, NOW).unwrap();
        assert_eq!(labels(&app), ["GitHub:alice"]);
    }
    let app = open(dir.path(), &keys);
    assert_eq!(app.accounts().unwrap_err(), TwostepError::Locked, "a restart starts locked");
    app.unlock(PIN, NOW).unwrap();
    assert_eq!(app.codes(NOW).unwrap().codes.len(), 1);
    // Nothing on disk holds the secret, raw or in base32.
    for file in walk(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        for needle in [&b"JBSWY3DPEHPK3PXP"[..], b"Hello!\xde\xad\xbe\xef", b"GitHub"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds {needle:?}",
                file.display()
            );
        }
    }
}

use crate::test_util::files_under as walk;

#[test]
fn exports_need_the_passcode_again_and_round_trip() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    app.set_passcode(PIN, NOW).unwrap();
    app.add_account_uri(GITHUB).unwrap();
    app.add_account_uri(&format!("otpauth://hotp/Bank:me?secret={RFC_SEED}&counter=5")).unwrap();

    assert!(matches!(app.export_plain(None, NOW).unwrap_err(), TwostepError::InvalidInput { .. }));
    assert!(matches!(
        app.export_plain(Some(WRONG), NOW).unwrap_err(),
        TwostepError::PasscodeIncorrect { .. }
    ));
    assert_eq!(
        app.passcode_state(NOW).unwrap().status,
        PasscodeStatus::Locked,
        "a wrong passcode locks, like a wrong unlock"
    );
    assert_eq!(app.export_plain(Some(PIN), NOW).unwrap_err(), TwostepError::Locked);
    app.unlock(PIN, NOW).unwrap();

    let plain = app.export_plain(Some(PIN), NOW).unwrap();
    assert_eq!(plain.lines().count(), 2);
    assert!(plain.starts_with("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP"));

    assert_eq!(reason(app.export_encrypted(Some(PIN), "short", NOW).unwrap_err()), "weak_password");
    let file = app.export_encrypted(Some(PIN), "a long export password", NOW).unwrap();
    assert!(!file.contains("JBSWY3DP"));

    // Another device, without a passcode: the file brings both accounts, counter included.
    let (other_dir, other_keys) = fresh();
    let other = open(other_dir.path(), &other_keys);
    assert_eq!(
        reason(other.import_encrypted_export(file.as_bytes(), "the wrong password").unwrap_err()),
        "wrong_password"
    );
    assert!(other.accounts().unwrap().is_empty());
    let report = other.import_encrypted_export(file.as_bytes(), "a long export password").unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(other.accounts().unwrap(), app.accounts().unwrap());
    // Without a passcode, exporting needs none.
    assert_eq!(other.export_plain(None, NOW).unwrap().as_str(), plain.as_str());
}

#[test]
fn a_wipe_removes_the_vault_and_a_new_start_does_not_see_it() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    set_policy(&app, |p| p.max_failed_attempts = 2);
    app.set_passcode(PIN, NOW).unwrap();
    app.add_account_uri(GITHUB).unwrap();
    app.lock().unwrap();
    app.unlock(WRONG, NOW).unwrap_err();
    assert_eq!(app.unlock(WRONG, NOW).unwrap_err(), TwostepError::Wiped);
    assert!(
        testing::vault_record_ids(&app).unwrap().is_empty(),
        "the policy's wipe_vault=false needs a recovery wrap to keep it"
    );
    // The same running app, with a new key: the vault is empty, not the one in memory.
    assert!(app.accounts().unwrap().is_empty());
    app.set_passcode(PIN, NOW).unwrap();
    assert!(app.accounts().unwrap().is_empty());
}

#[test]
fn a_reset_removes_the_vault() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.add_account_uri(GITHUB).unwrap();
    app.reset_local_data().unwrap();
    assert!(app.accounts().unwrap().is_empty());
    assert!(testing::vault_record_ids(&app).unwrap().is_empty());
}

#[test]
fn setting_a_passcode_keeps_the_vault() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.add_account_uri(GITHUB).unwrap();
    app.set_passcode(PIN, NOW).unwrap();
    assert_eq!(labels(&app), ["GitHub:alice"], "re-read under the rotated key");
    drop(app);
    let app = open(dir.path(), &keys);
    app.unlock(PIN, NOW).unwrap();
    assert_eq!(labels(&app), ["GitHub:alice"]);
}
