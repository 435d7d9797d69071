use super::*;
use crate::algorithm::Algorithm;
use crate::secret::Secret;

fn totp(issuer: &str, name: &str, secret: &str) -> NewAccount {
    NewAccount::new(
        issuer,
        name,
        None,
        Otp::totp(Secret::from_base32(secret).unwrap(), Algorithm::Sha1, 6, 30).unwrap(),
    )
    .unwrap()
}

fn three() -> (Vault, [AccountId; 3]) {
    let mut vault = Vault::new();
    let a = vault.add(totp("GitHub", "alice", "AAAAAAAA")).unwrap();
    let b = vault.add(totp("Google", "alice@gmail.com", "BBBBBBBB")).unwrap();
    let c = vault.add(totp("AWS", "root", "CCCCCCCC")).unwrap();
    (vault, [a, b, c])
}

fn order(vault: &Vault) -> Vec<AccountId> {
    vault.accounts().iter().map(|a| a.id).collect()
}

#[test]
fn adding_the_same_secret_twice_is_refused() {
    let (mut vault, [a, ..]) = three();
    assert_eq!(
        vault.add(totp("Other", "name", "aaaa aaaa")),
        Err(Error::Duplicate { existing: a })
    );
    assert_eq!(vault.len(), 3);
    // A different period is a different generator.
    let other = NewAccount::new(
        "GitHub",
        "alice",
        None,
        Otp::totp(Secret::from_base32("AAAAAAAA").unwrap(), Algorithm::Sha1, 6, 60).unwrap(),
    )
    .unwrap();
    assert!(vault.add(other).is_ok());
}

#[test]
fn edit_group_remove_and_ids_are_not_reused() {
    let (mut vault, [a, b, c]) = three();
    vault.edit(a, Some(" GitHub Enterprise "), None).unwrap();
    assert_eq!(vault.get(a).unwrap().label(), "GitHub Enterprise:alice");
    assert_eq!(vault.edit(a, Some(""), Some(" ")), Err(Error::MissingLabel));
    assert!(matches!(vault.edit(a, None, Some("\u{0}")), Err(Error::InvalidLabel { .. })));
    assert_eq!(
        vault.get(a).unwrap().label(),
        "GitHub Enterprise:alice",
        "a refused edit changes nothing"
    );
    vault.set_group(a, Some("Work")).unwrap();
    vault.set_group(c, Some("Work")).unwrap();
    vault.set_group(b, Some("Home")).unwrap();
    assert_eq!(vault.groups(), ["Home", "Work"]);
    vault.set_group(b, Some(" ")).unwrap();
    assert_eq!(vault.groups(), ["Work"]);
    assert_eq!(vault.remove(b).unwrap().name, "alice@gmail.com");
    assert_eq!(vault.remove(b), Err(Error::UnknownAccount { id: b }));
    let d = vault.add(totp("New", "x", "DDDDDDDD")).unwrap();
    assert!(d > c, "ids are never reused");
    assert_eq!(
        vault.edit(AccountId(99), Some("x"), None),
        Err(Error::UnknownAccount { id: AccountId(99) })
    );
}

#[test]
fn an_issuer_edit_clears_the_mismatch_warning_and_blank_issuers_are_absent() {
    let mut vault = Vault::new();
    let mut account = totp("Evil", "alice", "AAAAAAAA");
    account.warnings.push(AccountWarning::IssuerMismatch { label_issuer: "Google".into() });
    let id = vault.add(account).unwrap();
    vault.edit(id, None, Some("bob")).unwrap();
    assert_eq!(vault.get(id).unwrap().info().warnings.len(), 1, "a name edit keeps it");
    let restored = Vault::from_bytes(&vault.to_bytes().unwrap()).unwrap();
    assert_eq!(restored, vault, "warnings are stored");
    vault.edit(id, Some("Evil"), None).unwrap();
    assert!(vault.get(id).unwrap().warnings.is_empty());
    vault.edit(id, Some("  "), None).unwrap();
    assert_eq!(vault.get(id).unwrap().issuer, None);
    assert_eq!(vault.edit(id, None, Some("")), Err(Error::MissingLabel));
    // A vault written when issuers were never absent: "" reads as none.
    let old = br#"{"format":1,"next_id":1,"accounts":[{"id":0,"issuer":"","name":"x","otp":{"type":"totp","secret":"AAAAAAAA","algorithm":"SHA1","digits":6,"period":30}}]}"#;
    assert_eq!(Vault::from_bytes(old).unwrap().accounts()[0].issuer, None);
}

#[test]
fn reorder_and_move() {
    let (mut vault, [a, b, c]) = three();
    vault.move_to(c, 0).unwrap();
    assert_eq!(order(&vault), [c, a, b]);
    vault.move_to(c, 99).unwrap();
    assert_eq!(order(&vault), [a, b, c]);
    vault.reorder(&[b, c, a]).unwrap();
    assert_eq!(order(&vault), [b, c, a]);
    for bad in [vec![a, b], vec![a, a, b], vec![a, b, AccountId(99)], vec![a, b, c, a]] {
        assert_eq!(vault.reorder(&bad), Err(Error::InvalidOrder), "{bad:?}");
        assert_eq!(order(&vault), [b, c, a]);
    }
}

#[test]
fn search_matches_issuer_name_and_group_ignoring_case() {
    let (mut vault, [a, b, c]) = three();
    vault.set_group(c, Some("Work")).unwrap();
    let ids = |q: &str| vault.search(q).iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids("alice"), [a, b]);
    assert_eq!(ids("GOOGLE"), [b]);
    assert_eq!(ids("work"), [c]);
    assert_eq!(ids("  "), [a, b, c]);
    assert!(ids("nothing").is_empty());
}

#[test]
fn hotp_counters_advance_once_per_code() {
    let mut vault = Vault::new();
    let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
    let id = vault
        .add(
            NewAccount::new("Bank", "me", None, Otp::hotp(secret, Algorithm::Sha1, 6, 0).unwrap())
                .unwrap(),
        )
        .unwrap();
    let first = vault.next_hotp(id).unwrap();
    assert_eq!((first.code.as_str(), first.counter), ("755224", 0));
    let second = vault.next_hotp(id).unwrap();
    assert_eq!((second.code.as_str(), second.counter), ("287082", 1));
    assert_eq!(vault.get(id).unwrap().otp.counter(), Some(2));
    let restored = Vault::from_bytes(&vault.to_bytes().unwrap()).unwrap();
    assert_eq!(restored.get(id).unwrap().otp.counter(), Some(2));
    let (mut vault, [a, ..]) = three();
    assert_eq!(vault.next_hotp(a), Err(Error::NotHotp { id: a }));
}

#[test]
fn import_skips_duplicates_and_is_all_or_nothing_on_capacity() {
    let (mut vault, [a, ..]) = three();
    let report = vault
        .import(vec![
            totp("Dup", "of a", "AAAAAAAA"),
            totp("New", "one", "EEEEEEEE"),
            totp("New", "again", "EEEEEEEE"),
            totp("X", "y", "FFFFFFFF"),
        ])
        .unwrap();
    assert_eq!(report.added.len(), 2);
    assert_eq!(
        report.duplicates,
        [
            DuplicateEntry { entry: 1, label: "Dup:of a".into(), existing: a },
            DuplicateEntry { entry: 3, label: "New:again".into(), existing: report.added[0] },
        ]
    );
    assert_eq!(vault.get(report.added[0]).unwrap().name, "one");
    assert_eq!(vault.len(), 5);

    let mut full = Vault::new();
    full.next_id = 0;
    for i in 0..MAX_ACCOUNTS - 1 {
        full.push(totp("I", &i.to_string(), "GGGGGGGG"));
    }
    let before = full.clone();
    assert_eq!(
        full.import(vec![totp("A", "1", "HHHHHHHH"), totp("B", "2", "IIIIIIII")]),
        Err(Error::VaultFull { max: MAX_ACCOUNTS })
    );
    assert_eq!(full, before);
}

#[test]
fn clock_offsets_user_wins_and_bounds() {
    let mut vault = Vault::new();
    assert_eq!(vault.correction(None), ClockCorrection::NONE);
    assert_eq!(
        vault.correction(Some(20_000)),
        ClockCorrection { offset_ms: 20_000, source: OffsetSource::Server }
    );
    vault.set_user_clock_offset_ms(Some(-3_000)).unwrap();
    assert_eq!(
        vault.correction(Some(20_000)),
        ClockCorrection { offset_ms: -3_000, source: OffsetSource::User }
    );
    assert!(vault.set_user_clock_offset_ms(Some(MAX_OFFSET_MS + 1)).is_err());
    assert_eq!(vault.user_clock_offset_ms(), Some(-3_000));
}

#[test]
fn bytes_round_trip_and_damage_is_detected() {
    let (mut vault, [a, ..]) = three();
    vault.set_group(a, Some("Work")).unwrap();
    vault.set_user_clock_offset_ms(Some(1500)).unwrap();
    let bytes = vault.to_bytes().unwrap();
    assert_eq!(bytes.capacity(), bytes.len(), "sized exactly");
    assert_eq!(Vault::from_bytes(&bytes).unwrap(), vault);

    let text = String::from_utf8(bytes.to_vec()).unwrap();
    for (from, to) in [
        ("\"format\":1", "\"format\":2"),
        ("\"next_id\":3", "\"next_id\":2"),
        ("\"id\":1", "\"id\":0"),
        ("\"digits\":6", "\"digits\":12"),
        ("\"issuer\":\"GitHub\",\"name\":\"alice\"", "\"issuer\":\"\",\"name\":\"\""),
        ("\"issuer\":\"GitHub\",", "\"issuer\":7,"),
    ] {
        assert!(text.contains(from), "{from}");
        let damaged = text.replacen(from, to, 1);
        assert!(
            matches!(Vault::from_bytes(damaged.as_bytes()), Err(Error::CorruptVault { .. })),
            "{to}"
        );
    }
    assert!(matches!(Vault::from_bytes(b"{"), Err(Error::CorruptVault { .. })));
}
