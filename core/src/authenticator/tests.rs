//! The authenticator vault in the sealed local state: persistence, the passcode guarding
//! it, durable HOTP counters, imports, exports and what a wipe or reset leaves.

use super::*;
use crate::keystore::{KeyStore, MemoryKeyStore};
use crate::passcode::PasscodeStatus;
use crate::state::{ClockRecord, Slot};
use crate::twostep::Config;
use crate::twostep::Twostep;
use crate::{TwostepError, fixtures};
use std::path::Path;
use std::sync::Arc;
use twostep_otp::UnixTime;
use twostep_otp::{Algorithm, OffsetSource, OtpKind};

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

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
    fixtures::seeded_device(URL, NOW)
}

use fixtures::set_policy;

fn reason(error: TwostepError) -> String {
    match error {
        TwostepError::Authenticator { reason, .. } => reason.as_str().to_owned(),
        other => panic!("not an authenticator error: {other:?}"),
    }
}

fn labels(app: &Twostep) -> Vec<String> {
    app.authenticator()
        .accounts()
        .unwrap()
        .iter()
        .map(|a| format!("{}:{}", a.issuer.as_deref().unwrap_or(""), a.name))
        .collect()
}

#[test]
fn accounts_persist_and_codes_come_in_one_call() {
    let (dir, keys) = fresh();
    {
        let app = open(dir.path(), &keys);
        assert!(app.authenticator().accounts().unwrap().is_empty());
        let rfc = app
            .authenticator()
            .add_uri(&format!("otpauth://totp/RFC:6238?secret={RFC_SEED}&digits=8"))
            .unwrap();
        assert_eq!((rfc.kind, rfc.digits, rfc.period), (OtpKind::Totp, 8, Some(30)));
        app.authenticator().add_uri(GITHUB).unwrap();
        let fields = AccountFields {
            issuer: Some("Bank"),
            name: "me",
            group: Some("Money"),
            secret: RFC_SEED,
            kind: OtpKind::Hotp,
            algorithm: Algorithm::Sha1,
            digits: None,
            period: None,
            counter: None,
        };
        app.authenticator().add(&fields).unwrap();
    }
    let app = open(dir.path(), &keys);
    assert_eq!(labels(&app), ["RFC:6238", "GitHub:alice", "Bank:me"]);
    let list = app.authenticator().codes(UnixTime::from_secs(59)).unwrap();
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
        let error = app.authenticator().add_uri(uri).unwrap_err();
        assert_eq!(error.code(), "authenticator");
        assert!(!error.to_string().contains("JBSWY3DP"), "{error}");
        assert_eq!(reason(error), expected, "{uri}");
    }
    assert!(fixtures::vault_record_ids(&app).unwrap().is_empty(), "nothing was written");

    let id = app.authenticator().add_uri(GITHUB).unwrap().id;
    assert_eq!(
        reason(
            app.authenticator()
                .add_uri("otpauth://totp/Other:bob?secret=jbsw+y3dp+ehpk+3pxp")
                .unwrap_err()
        ),
        "duplicate"
    );
    assert_eq!(
        reason(app.authenticator().edit(AccountId(99), Some("x"), None).unwrap_err()),
        "unknown_account"
    );
    assert_eq!(reason(app.authenticator().next_hotp_code(id).unwrap_err()), "not_hotp");
    assert_eq!(labels(&app), ["GitHub:alice"]);
}

#[test]
fn edit_group_reorder_search_and_delete() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    let a = app.authenticator().add_uri(GITHUB).unwrap().id;
    let b = app
        .authenticator()
        .add_uri("otpauth://totp/Google:alice@gmail.com?secret=AAAAAAAA")
        .unwrap()
        .id;
    let c = app.authenticator().add_uri("otpauth://totp/AWS:root?secret=BBBBBBBB").unwrap().id;
    assert_eq!(app.authenticator().edit(a, None, Some("alice-work")).unwrap().name, "alice-work");
    app.authenticator().set_group(a, Some("Work")).unwrap();
    app.authenticator().set_group(c, Some("Work")).unwrap();
    assert_eq!(app.authenticator().groups().unwrap(), ["Work"]);
    app.authenticator().move_to(c, 0).unwrap();
    assert_eq!(
        app.authenticator().accounts().unwrap().iter().map(|x| x.id).collect::<Vec<_>>(),
        [c, a, b]
    );
    app.authenticator().reorder(&[b, a, c]).unwrap();
    assert_eq!(reason(app.authenticator().reorder(&[a, b]).unwrap_err()), "invalid_order");
    assert_eq!(
        app.authenticator().search("work").unwrap().iter().map(|x| x.id).collect::<Vec<_>>(),
        [a, c]
    );
    app.authenticator().delete(b).unwrap();
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
            .authenticator()
            .add_uri(&format!("otpauth://hotp/RFC:4226?secret={RFC_SEED}&counter=0"))
            .unwrap()
            .id;
        assert_eq!(app.authenticator().next_hotp_code(id).unwrap().code, "755224");
        id
        // Dropped without any further write: what a killed app leaves.
    };
    let app = open(dir.path(), &keys);
    let next = app.authenticator().next_hotp_code(id).unwrap();
    assert_eq!(
        (next.code.as_str(), next.counter),
        ("287082", 1),
        "RFC 4226 Appendix D: never the same code twice"
    );
    assert_eq!(app.authenticator().accounts().unwrap()[0].counter, Some(2));
}

#[test]
fn codes_are_corrected_by_the_server_offset_or_the_users() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.authenticator()
        .add_uri(&format!("otpauth://totp/RFC:6238?secret={RFC_SEED}&digits=8"))
        .unwrap();
    // The server's clock is 20 s ahead of this device.
    app.local()
        .store
        .apply(
            app.local()
                .store
                .change()
                .put(Slot::ClockOffset, &ClockRecord { offset_ms: 20_000, measured_at: NOW })
                .unwrap(),
        )
        .unwrap();
    let list = app.authenticator().codes(UnixTime::from_secs(39)).unwrap();
    assert_eq!(
        (list.time, list.correction.source, list.offset_warning),
        (UnixTime::from_secs(59), OffsetSource::Server, true)
    );
    assert_eq!(list.codes[0].code.as_deref(), Some("94287082"));
    // The user's own correction wins, and survives a restart.
    app.authenticator().set_clock_correction(Some(-1_000)).unwrap();
    drop(app);
    let app = open(dir.path(), &keys);
    let list = app.authenticator().codes(UnixTime::from_secs(60)).unwrap();
    assert_eq!(
        (list.time, list.correction.source, list.offset_warning),
        (UnixTime::from_secs(59), OffsetSource::User, false)
    );
    assert_eq!(
        reason(app.authenticator().set_clock_correction(Some(90_000_000)).unwrap_err()),
        "invalid_clock_offset"
    );
    app.authenticator().set_clock_correction(None).unwrap();
    assert_eq!(app.authenticator().clock_correction().unwrap().source, OffsetSource::Server);
}

const AEGIS: &str = r#"{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":[
    {"type":"totp","name":"alice","issuer":"GitHub","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"period":30}},
    {"type":"totp","name":"carol","issuer":"Slack","group":"Work","info":{"secret":"CCCCCCCCCCCCCCCC","algo":"SHA256","digits":8,"period":30}}]}}"#;

#[test]
fn imports_are_all_or_nothing_and_skip_duplicates() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.authenticator().add_uri(GITHUB).unwrap();
    let report = app.authenticator().import(ImportFormat::Aegis, AEGIS.as_bytes()).unwrap();
    assert_eq!((report.added.len(), report.duplicates.len()), (1, 1));
    assert_eq!(report.duplicates[0].label, "GitHub:alice");
    assert_eq!(labels(&app), ["GitHub:alice", "Slack:carol"]);

    let bad = "otpauth://totp/A:ok?secret=DDDDDDDD\notpauth://totp/B:bad?secret=DDDD1\n";
    let TwostepError::Authenticator { reason, entries, .. } =
        app.authenticator().import(ImportFormat::OtpauthUris, bad.as_bytes()).unwrap_err()
    else {
        panic!("expected an authenticator error")
    };
    assert_eq!(reason.as_str(), "invalid_entries");
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
        self::reason(
            app.authenticator().import(ImportFormat::Aegis, truncated.as_bytes()).unwrap_err()
        ),
        "invalid_json"
    );
}

#[test]
fn with_a_passcode_the_vault_opens_only_when_unlocked_and_leaves_memory_on_lock() {
    let (dir, keys) = device();
    {
        let app = open(dir.path(), &keys);
        assert_eq!(
            app.authenticator().accounts().unwrap_err(),
            TwostepError::PasscodeRequired,
            "the org requires a passcode first"
        );
        app.passcode().set(PIN, NOW).unwrap();
        app.authenticator().add_uri(GITHUB).unwrap();
        assert!(app.local().vault_cache().loaded.is_some());
        app.passcode().lock().unwrap();
        assert!(app.local().vault_cache().loaded.is_none(), "locking drops the decrypted vault");
        assert_eq!(app.authenticator().codes(NOW).unwrap_err(), TwostepError::Locked);
        assert_eq!(
            app.authenticator().add_uri("otpauth://totp/X:y?secret=EEEEEEEE").unwrap_err(),
            TwostepError::Locked
        );
        app.passcode().unlock(PIN, NOW).unwrap();
        assert_eq!(labels(&app), ["GitHub:alice"]);
    }
    let app = open(dir.path(), &keys);
    assert_eq!(
        app.authenticator().accounts().unwrap_err(),
        TwostepError::Locked,
        "a restart starts locked"
    );
    app.passcode().unlock(PIN, NOW).unwrap();
    assert_eq!(app.authenticator().codes(NOW).unwrap().codes.len(), 1);
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

use crate::fixtures::files_under as walk;

#[test]
fn exports_need_the_passcode_again_and_round_trip() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    app.passcode().set(PIN, NOW).unwrap();
    app.authenticator().add_uri(GITHUB).unwrap();
    app.authenticator()
        .add_uri(&format!("otpauth://hotp/Bank:me?secret={RFC_SEED}&counter=5"))
        .unwrap();

    assert!(matches!(
        app.authenticator().export_plain(None, NOW).unwrap_err(),
        TwostepError::InvalidInput { .. }
    ));
    assert!(matches!(
        app.authenticator().export_plain(Some(WRONG), NOW).unwrap_err(),
        TwostepError::PasscodeIncorrect { .. }
    ));
    assert_eq!(
        app.passcode().state(NOW).unwrap().status,
        PasscodeStatus::Locked,
        "a wrong passcode locks, like a wrong unlock"
    );
    assert_eq!(app.authenticator().export_plain(Some(PIN), NOW).unwrap_err(), TwostepError::Locked);
    app.passcode().unlock(PIN, NOW).unwrap();

    let plain = app.authenticator().export_plain(Some(PIN), NOW).unwrap();
    assert_eq!(plain.lines().count(), 2);
    assert!(plain.starts_with("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP"));

    assert_eq!(
        reason(app.authenticator().export_encrypted(Some(PIN), "short", NOW).unwrap_err()),
        "weak_password"
    );
    let file =
        app.authenticator().export_encrypted(Some(PIN), "a long export password", NOW).unwrap();
    assert!(!file.contains("JBSWY3DP"));

    // Another device, without a passcode: the file brings both accounts, counter included.
    let (other_dir, other_keys) = fresh();
    let other = open(other_dir.path(), &other_keys);
    assert_eq!(
        reason(
            other
                .authenticator()
                .import_encrypted(file.as_bytes(), "the wrong password")
                .unwrap_err()
        ),
        "wrong_password"
    );
    assert!(other.authenticator().accounts().unwrap().is_empty());
    let report =
        other.authenticator().import_encrypted(file.as_bytes(), "a long export password").unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(other.authenticator().accounts().unwrap(), app.authenticator().accounts().unwrap());
    // Without a passcode, exporting needs none.
    assert_eq!(other.authenticator().export_plain(None, NOW).unwrap().as_str(), plain.as_str());
}

#[test]
fn a_wipe_removes_the_vault_and_a_new_start_does_not_see_it() {
    let (dir, keys) = device();
    let app = open(dir.path(), &keys);
    set_policy(&app, |p| p.max_failed_attempts = 2);
    app.passcode().set(PIN, NOW).unwrap();
    app.authenticator().add_uri(GITHUB).unwrap();
    app.passcode().lock().unwrap();
    app.passcode().unlock(WRONG, NOW).unwrap_err();
    assert_eq!(app.passcode().unlock(WRONG, NOW).unwrap_err(), TwostepError::Wiped);
    assert!(
        fixtures::vault_record_ids(&app).unwrap().is_empty(),
        "the policy's wipe_vault=false needs a recovery wrap to keep it"
    );
    // The same running app, with a new key: the vault is empty, not the one in memory.
    assert!(app.authenticator().accounts().unwrap().is_empty());
    app.passcode().set(PIN, NOW).unwrap();
    assert!(app.authenticator().accounts().unwrap().is_empty());
}

#[test]
fn a_reset_removes_the_vault() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.authenticator().add_uri(GITHUB).unwrap();
    app.passcode().reset_local_data().unwrap();
    assert!(app.authenticator().accounts().unwrap().is_empty());
    assert!(fixtures::vault_record_ids(&app).unwrap().is_empty());
}

#[test]
fn setting_a_passcode_keeps_the_vault() {
    let (dir, keys) = fresh();
    let app = open(dir.path(), &keys);
    app.authenticator().add_uri(GITHUB).unwrap();
    app.passcode().set(PIN, NOW).unwrap();
    assert_eq!(labels(&app), ["GitHub:alice"], "re-read under the rotated key");
    drop(app);
    let app = open(dir.path(), &keys);
    app.passcode().unlock(PIN, NOW).unwrap();
    assert_eq!(labels(&app), ["GitHub:alice"]);
}
