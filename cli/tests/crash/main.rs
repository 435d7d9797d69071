//! Crash consistency on the device: the real `twostep` binary is killed with SIGKILL during
//! a passcode set and change (the key rotation re-seals every record), an authenticator
//! import, a wrong-passcode unlock (the attempt counter), a sign-in, and its very first run on
//! a new data dir. After every kill the data dir is opened as the next run would open it and
//! read completely: it must open, every record must unseal, the vault must be either the old
//! or the new complete set, the passcode either the old or the new one, and the failed-attempt
//! count must never go backwards.
//!
//! Each scenario kills in two passes:
//! - **at each hook point**: one uninterrupted run lists the points it passes (the core's
//!   `state.before_write` / `state.unflushed` / `state.flushed` around every batch, and
//!   `passcode.counted`); then the operation is run again from the same state once per point with
//!   `TWOSTEP_TEST_PAUSE_AT` set to it, and killed while paused there;
//! - **at random moments**: half uniformly over the run's measured duration, half within a few
//!   milliseconds after a randomly chosen `state.before_write` point (so that kills land inside the
//!   write and its flush, not only around it).
//!
//! `TWOSTEP_CRASH_KILLS` sets the random kills per scenario (default 12; the long run in
//! `scripts/crash-device.sh` uses more), `TWOSTEP_CRASH_SEED` repeats a run. Each scenario
//! prints one line of figures (run with `--nocapture` to see them). Results and how to rerun:
//! `docs/RELIABILITY.md`, "Crash consistency, device".

#![allow(clippy::unwrap_used)]

mod check;
mod kill;
mod scenario;
mod signin;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::Path;
use twostep_core::UnixTime;

use check::{copy_dir, every_record, failed_attempts, open, vault, which_passcode};
use kill::Cli;
use scenario::{Pass, Tally};

/// Passcodes that follow every rule (6 digits, no sequence, no repetition, not common).
const PINS: [&str; 4] = ["482916", "736251", "915837", "604182"];

/// The template for the passcode scenarios: a signed-in device (registration, device key,
/// session, the org policy that requires a passcode) with a vault of `accounts` accounts, no
/// passcode yet. Returns the records present and the vault's plaintext.
fn signed_in_template(dir: &Path, accounts: usize) -> (BTreeSet<String>, Vec<u8>) {
    // The vault first: under the org policy it opens only once a passcode is set.
    import(&open(dir), &uris("base", accounts));
    let keys = twostep_core::FileKeyStore::open_or_create(dir.join("keystore.key")).unwrap();
    let url = "https://twostep.example/";
    twostep_core::fixtures::seed_signed_in_state(dir, &keys, url, check::now()).unwrap();
    let app = open(dir);
    (every_record(&app), vault_bytes(&app))
}

/// The vault record's plaintext (readable with the account data open, whatever the policy).
fn vault_bytes(app: &twostep_core::Twostep) -> Vec<u8> {
    let bytes = twostep_core::fixtures::read_vault_record(app, "main").unwrap();
    bytes.expect("the vault record is there")
}

/// `n` TOTP URIs with distinct secrets, named after `batch`.
fn uris(batch: &str, n: usize) -> String {
    const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut rng = kill::Rng::new(batch.bytes().fold(7, |h, b| h * 31 + u64::from(b)));
    (0..n)
        .map(|i| {
            let secret: String = (0..32).map(|_| BASE32[rng.below(32) as usize] as char).collect();
            format!("otpauth://totp/{batch}:user{i}?secret={secret}&issuer={batch}\n")
        })
        .collect()
}

fn import(app: &twostep_core::Twostep, uris: &str) {
    let format = twostep_core::authenticator::ImportFormat::OtpauthUris;
    app.authenticator().import(format, uris.as_bytes()).unwrap();
}

/// The records of a signed-in device that must survive whatever the passcode does.
fn account_records(records: &BTreeSet<String>) -> BTreeSet<String> {
    records.iter().filter(|r| *r != "passcode_attempts").cloned().collect()
}

#[test]
fn kills_during_passcode_set_leave_no_passcode_or_the_new_one_with_every_record_intact() {
    let tally = Tally::new("passcode set (first passcode: key rotation re-seals every record)");
    let root = tempfile::tempdir().unwrap();
    let template = root.path().join("template");
    let (records, accounts) = signed_in_template(&template, 300);
    let work = root.path().join("work");
    let args = ["--passcode-stdin", "passcode", "set"];
    let stdin = format!("{}\n", PINS[0]);
    tally.run(&mut scenario::Plan {
        codes: &[0],
        reset: &mut || copy_dir(&template, &work),
        run: &mut |at| Cli::new(&work).run(&args, &stdin, at),
        check: &mut |_| {
            let app = open(&work);
            let found = which_passcode(&app, &[None, Some(PINS[0])]);
            assert_eq!(account_records(&every_record(&app)), account_records(&records));
            assert_eq!(vault_bytes(&app), accounts, "the whole vault, under the key in force");
            if found.is_some() { "new passcode" } else { "no passcode (old)" }
        },
    });
}

#[test]
fn kills_during_passcode_change_leave_the_old_or_the_new_passcode_with_every_record_intact() {
    let tally = Tally::new("passcode change (checked and counted, then re-wrapped)");
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    let (records, accounts) = signed_in_template(&work, 300);
    open(&work).passcode().set(PINS[0], check::now()).unwrap();
    // The passcode now, and the one the next change sets.
    let current = Cell::new(0);
    let next = || (current.get() + 1) % PINS.len();
    tally.run(&mut scenario::Plan {
        codes: &[0],
        reset: &mut || {},
        run: &mut |at| {
            let stdin = format!("{}\n{}\n", PINS[current.get()], PINS[next()]);
            Cli::new(&work).run(&["--passcode-stdin", "passcode", "change"], &stdin, at)
        },
        check: &mut |_| {
            let app = open(&work);
            let (old, new) = (PINS[current.get()], PINS[next()]);
            let found = which_passcode(&app, &[Some(old), Some(new)]);
            assert_eq!(account_records(&every_record(&app)), account_records(&records));
            assert_eq!(vault_bytes(&app), accounts);
            // The next change starts from whichever it is now.
            current.set(PINS.iter().position(|p| Some(*p) == found).unwrap());
            if found == Some(new) { "new passcode" } else { "old passcode" }
        },
    });
}

#[test]
fn kills_during_a_large_import_leave_the_old_or_the_whole_new_vault() {
    let tally = Tally::new("authenticator import (1,500 accounts into 200)");
    let root = tempfile::tempdir().unwrap();
    let template = root.path().join("template");
    std::fs::create_dir_all(&template).unwrap();
    let before = {
        let app = open(&template);
        import(&app, &uris("base", 200));
        vault(&app)
    };
    let file = root.path().join("import.txt");
    std::fs::write(&file, uris("imported", 1_500)).unwrap();
    let after: BTreeSet<String> = {
        let scratch = root.path().join("scratch");
        copy_dir(&template, &scratch);
        let app = open(&scratch);
        import(&app, &std::fs::read_to_string(&file).unwrap());
        vault(&app)
    };
    assert_eq!(after.len(), 1_700);
    let work = root.path().join("work");
    let file = file.to_str().unwrap().to_owned();
    tally.run(&mut scenario::Plan {
        codes: &[0],
        reset: &mut || copy_dir(&template, &work),
        run: &mut |at| {
            Cli::new(&work).run(&["accounts", "import", &file, "--format", "uris"], "", at)
        },
        check: &mut |_| {
            let app = open(&work);
            every_record(&app);
            match vault(&app) {
                v if v == before => "old vault",
                v if v == after => "new vault",
                v => panic!("a vault of {} accounts is neither before nor after", v.len()),
            }
        },
    });
}

#[test]
fn kills_during_wrong_passcode_unlocks_never_take_the_count_back() {
    let tally = Tally::new("unlock with a wrong passcode (the durable attempt counter)");
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    {
        let app = open(&work);
        import(&app, &uris("base", 20));
        app.passcode().set(PINS[0], check::now()).unwrap();
    }
    let mut before = 0;
    tally.run(&mut scenario::Plan {
        codes: &[9],
        reset: &mut || {},
        run: &mut |at| {
            Cli::new(&work).run(&["--passcode-stdin", "unlock"], &format!("{}\n", PINS[1]), at)
        },
        check: &mut |pass| {
            let app = open(&work);
            let after = failed_attempts(&app);
            assert!(after >= before, "the count went back from {before} to {after} ({pass:?})");
            assert!(after <= before + 1, "one attempt counted at most: {before} → {after}");
            if let Pass::Point(point) = pass
                && (point.starts_with("passcode.counted") || point == "state.flushed#1")
            {
                assert_eq!(after, before + 1, "an attempt on disk before its check is spent");
            }
            let outcome = if after > before { "attempt counted" } else { "attempt not made" };
            // Keep clear of the delays (the 5th failure waits a minute): the right passcode
            // resets the count, and shows that every record still opens.
            before = after;
            if after >= 3 {
                app.passcode().unlock(PINS[0], check::now()).unwrap();
                every_record(&app);
                assert_eq!(failed_attempts(&app), 0);
                before = 0;
            }
            outcome
        },
    });
}

#[test]
fn kills_during_the_first_run_on_a_new_data_dir_leave_one_that_opens() {
    let tally = Tally::new("first run (key file, then the new database)");
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    tally.run(&mut scenario::Plan {
        codes: &[0],
        reset: &mut || {
            if work.exists() {
                std::fs::remove_dir_all(&work).unwrap();
            }
        },
        run: &mut |at| Cli::new(&work).run(&["accounts", "list"], "", at),
        check: &mut |_| {
            let existed = work.join("state").exists();
            let app = open(&work);
            assert!(every_record(&app).is_empty() && vault(&app).is_empty());
            assert_eq!(app.status(UnixTime::from_secs(0)).unwrap().registration, None);
            if existed { "database kept" } else { "created at the next open" }
        },
    });
}
