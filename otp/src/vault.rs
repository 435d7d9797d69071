//! The vault: the user's accounts in display order, with ids, groups, HOTP counters and
//! an optional user-set clock correction.
//!
//! The vault is a value. Every method either changes it completely or returns an error
//! and leaves it as it was; the caller persists it (the core seals
//! [`Vault::to_bytes`] in its local state and writes it before returning a result, so an
//! HOTP counter that produced a code is durably advanced).

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use zeroize::Zeroizing;

use crate::account::{self, AccountWarning, MAX_NAME_CHARS, NewAccount, Otp};
use crate::codes::{self, ClockCorrection, CodeList, MAX_OFFSET_MS, OffsetSource};
use crate::error::{Error, Result};
use crate::time::UnixTime;

/// Most accounts a vault holds.
pub const MAX_ACCOUNTS: usize = 10_000;

/// The format [`Vault::to_bytes`] writes.
const FORMAT: u32 = 1;

/// An account's id: assigned by its vault, never reused within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(pub u64);

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An account in a vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Its id in the vault.
    pub id: AccountId,
    /// Who issued it, if anyone said.
    #[serde(
        default,
        deserialize_with = "account::blank_is_none",
        skip_serializing_if = "Option::is_none"
    )]
    pub issuer: Option<String>,
    /// The account at the issuer; may be empty if there is an issuer.
    pub name: String,
    /// Its group, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The generator.
    pub otp: Otp,
    /// What the user should look at (see [`AccountWarning`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<AccountWarning>,
}

impl Account {
    /// `issuer:name`, or whichever there is.
    pub fn label(&self) -> String {
        account::label(self.issuer.as_deref().unwrap_or(""), &self.name)
    }

    /// This account as an `otpauth://` URI (the secret inside: zeroized on drop).
    pub fn to_uri(&self) -> Zeroizing<String> {
        crate::uri::to_uri(self.issuer.as_deref(), &self.name, &self.otp)
    }
}

/// What a list shows about an account: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// Its id in the vault.
    pub id: AccountId,
    /// Who issued it, if anyone said.
    pub issuer: Option<String>,
    /// The account at the issuer; may be empty.
    pub name: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// What the user should look at before trusting the account (phishing signals).
    pub warnings: Vec<AccountWarning>,
    /// TOTP, HOTP or Steam.
    pub kind: crate::account::OtpKind,
    /// The HMAC algorithm.
    pub algorithm: crate::algorithm::Algorithm,
    /// Code length (5 for Steam).
    pub digits: u8,
    /// Seconds per code (TOTP, Steam).
    pub period: Option<u32>,
    /// The counter of the next HOTP code.
    pub counter: Option<u64>,
}

impl Account {
    /// Everything but the secret.
    pub fn info(&self) -> AccountInfo {
        AccountInfo {
            id: self.id,
            issuer: self.issuer.clone(),
            name: self.name.clone(),
            group: self.group.clone(),
            warnings: self.warnings.clone(),
            kind: self.otp.kind(),
            algorithm: self.otp.algorithm(),
            digits: self.otp.digits(),
            period: self.otp.period(),
            counter: self.otp.counter(),
        }
    }
}

/// An HOTP code and the counter it used (the vault's counter is now one higher).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HotpCode {
    /// The account.
    pub id: AccountId,
    /// The code.
    pub code: String,
    /// The counter value the code was made with.
    pub counter: u64,
}

/// What [`Vault::import`] did.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ImportReport {
    /// The ids of the accounts added, in file order.
    pub added: Vec<AccountId>,
    /// Entries not added because the vault (or an earlier entry of the same file) already
    /// has the same generator.
    pub duplicates: Vec<DuplicateEntry>,
}

/// An import entry that was already in the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateEntry {
    /// 1-based position in the file.
    pub entry: usize,
    /// `issuer:name` of the entry.
    pub label: String,
    /// The account that has the same generator.
    pub existing: AccountId,
}

/// The user's accounts.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Vault {
    accounts: Vec<Account>,
    next_id: u64,
    user_offset_ms: Option<i64>,
}

impl Vault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every account, in display order.
    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    /// Number of accounts.
    pub fn len(&self) -> usize {
        self.accounts.len()
    }

    /// Whether there is no account.
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty()
    }

    /// One account.
    pub fn get(&self, id: AccountId) -> Result<&Account> {
        self.accounts.iter().find(|a| a.id == id).ok_or(Error::UnknownAccount { id })
    }

    fn position(&self, id: AccountId) -> Result<usize> {
        self.accounts.iter().position(|a| a.id == id).ok_or(Error::UnknownAccount { id })
    }

    /// The account that generates the same codes as `otp`, if any.
    pub fn find_duplicate(&self, otp: &Otp) -> Option<AccountId> {
        self.accounts.iter().find(|a| a.otp.same_generator(otp)).map(|a| a.id)
    }

    /// Adds an account at the end; refused if its generator is already in the vault.
    pub fn add(&mut self, account: NewAccount) -> Result<AccountId> {
        if let Some(existing) = self.find_duplicate(&account.otp) {
            return Err(Error::Duplicate { existing });
        }
        if self.accounts.len() >= MAX_ACCOUNTS {
            return Err(Error::VaultFull { max: MAX_ACCOUNTS });
        }
        Ok(self.push(account))
    }

    fn push(&mut self, account: NewAccount) -> AccountId {
        let id = AccountId(self.next_id);
        self.next_id += 1;
        let NewAccount { issuer, name, group, otp, warnings } = account;
        self.accounts.push(Account { id, issuer, name, group, otp, warnings });
        id
    }

    /// Adds every entry of an import file that is not a duplicate, all at once: if they
    /// do not all fit, nothing is added. Duplicates (of the vault or of an earlier entry)
    /// are skipped and reported.
    pub fn import(&mut self, entries: Vec<NewAccount>) -> Result<ImportReport> {
        let mut report = ImportReport::default();
        let mut fresh: Vec<NewAccount> = Vec::with_capacity(entries.len());
        {
            // Generator -> account, for the vault and for the entries accepted so far
            // (which will get consecutive ids from `next_id`).
            let mut seen: HashMap<GeneratorKey, AccountId> =
                self.accounts.iter().map(|a| (GeneratorKey::of(&a.otp), a.id)).collect();
            for (index, entry) in entries.into_iter().enumerate() {
                let key = GeneratorKey::of(&entry.otp);
                if let Some(existing) = seen.get(&key) {
                    report.duplicates.push(DuplicateEntry {
                        entry: index + 1,
                        label: entry.label(),
                        existing: *existing,
                    });
                    continue;
                }
                seen.insert(key, AccountId(self.next_id + fresh.len() as u64));
                fresh.push(entry);
            }
        }
        if self.accounts.len() + fresh.len() > MAX_ACCOUNTS {
            return Err(Error::VaultFull { max: MAX_ACCOUNTS });
        }
        report.added = fresh.into_iter().map(|entry| self.push(entry)).collect();
        Ok(report)
    }

    /// Changes an account's issuer and/or name (`None`: unchanged; trimmed; a blank issuer
    /// removes it; the account may not end up with neither). Setting the issuer clears an
    /// [`AccountWarning::IssuerMismatch`]: the user has looked at it.
    pub fn edit(&mut self, id: AccountId, issuer: Option<&str>, name: Option<&str>) -> Result<()> {
        let index = self.position(id)?;
        let current = &self.accounts[index];
        let new_issuer = match issuer {
            Some(i) => account::clean_issuer(Some(i))?,
            None => current.issuer.clone(),
        };
        let name = match name {
            Some(n) => account::clean_label("name", n, MAX_NAME_CHARS)?,
            None => current.name.clone(),
        };
        if new_issuer.is_none() && name.is_empty() {
            return Err(Error::MissingLabel);
        }
        let account = &mut self.accounts[index];
        account.issuer = new_issuer;
        account.name = name;
        if issuer.is_some() {
            account.warnings.retain(|w| !matches!(w, AccountWarning::IssuerMismatch { .. }));
        }
        Ok(())
    }

    /// Puts an account in a group (`None` or blank: no group).
    pub fn set_group(&mut self, id: AccountId, group: Option<&str>) -> Result<()> {
        let group = account::clean_group(group)?;
        let index = self.position(id)?;
        self.accounts[index].group = group;
        Ok(())
    }

    /// The groups in use, sorted, each once.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> =
            self.accounts.iter().filter_map(|a| a.group.clone()).collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// Removes an account and returns it.
    pub fn remove(&mut self, id: AccountId) -> Result<Account> {
        let index = self.position(id)?;
        Ok(self.accounts.remove(index))
    }

    /// Moves an account to `index` in the display order (clamped to the end).
    pub fn move_to(&mut self, id: AccountId, index: usize) -> Result<()> {
        let from = self.position(id)?;
        let account = self.accounts.remove(from);
        let to = index.min(self.accounts.len());
        self.accounts.insert(to, account);
        Ok(())
    }

    /// Sets the whole display order; `ids` must list every account exactly once.
    pub fn reorder(&mut self, ids: &[AccountId]) -> Result<()> {
        if ids.len() != self.accounts.len() {
            return Err(Error::InvalidOrder);
        }
        let mut reordered = Vec::with_capacity(ids.len());
        let mut taken = vec![false; self.accounts.len()];
        for id in ids {
            let index = self.position(*id).map_err(|_| Error::InvalidOrder)?;
            if std::mem::replace(&mut taken[index], true) {
                return Err(Error::InvalidOrder);
            }
            reordered.push(index);
        }
        let mut old: Vec<Option<Account>> =
            std::mem::take(&mut self.accounts).into_iter().map(Some).collect();
        self.accounts = reordered.into_iter().filter_map(|i| old[i].take()).collect();
        Ok(())
    }

    /// The accounts whose issuer, name or group contains `query` (case-insensitive), in
    /// display order; a blank query matches every account.
    pub fn search(&self, query: &str) -> Vec<&Account> {
        let query = query.trim().to_lowercase();
        self.accounts
            .iter()
            .filter(|a| {
                query.is_empty()
                    || a.issuer.as_deref().is_some_and(|i| i.to_lowercase().contains(&query))
                    || a.name.to_lowercase().contains(&query)
                    || a.group.as_deref().is_some_and(|g| g.to_lowercase().contains(&query))
            })
            .collect()
    }

    /// The next HOTP code of an account; its counter advances. Persist the vault before
    /// showing the code.
    pub fn next_hotp(&mut self, id: AccountId) -> Result<HotpCode> {
        let index = self.position(id)?;
        let otp = &mut self.accounts[index].otp;
        let counter = otp.counter().ok_or(Error::NotHotp { id })?;
        let code = otp.hotp_code(counter);
        if !otp.advance() {
            return Err(Error::CounterExhausted { id });
        }
        Ok(HotpCode { id, code, counter })
    }

    /// The clock correction the user set, in milliseconds.
    pub fn user_clock_offset_ms(&self) -> Option<i64> {
        self.user_offset_ms
    }

    /// Sets (or clears) the user's clock correction; it takes precedence over the
    /// server's measurement.
    pub fn set_user_clock_offset_ms(&mut self, offset_ms: Option<i64>) -> Result<()> {
        if offset_ms.is_some_and(|o| o.abs() > MAX_OFFSET_MS) {
            return Err(Error::InvalidClockOffset { max_secs: (MAX_OFFSET_MS / 1000) as u64 });
        }
        self.user_offset_ms = offset_ms;
        Ok(())
    }

    /// The correction to use: the user's if set, else the server's measurement, else none.
    pub fn correction(&self, server_offset_ms: Option<i64>) -> ClockCorrection {
        match (self.user_offset_ms, server_offset_ms) {
            (Some(offset_ms), _) => ClockCorrection { offset_ms, source: OffsetSource::User },
            (None, Some(offset_ms)) => ClockCorrection {
                offset_ms: offset_ms.clamp(-MAX_OFFSET_MS, MAX_OFFSET_MS),
                source: OffsetSource::Server,
            },
            (None, None) => ClockCorrection::NONE,
        }
    }

    /// Every account's code at device time `now`, corrected.
    pub fn codes(&self, now: UnixTime, correction: ClockCorrection) -> CodeList {
        codes::codes(&self.accounts, now, correction)
    }

    /// The vault as bytes to seal (JSON, secrets in base32; zeroized on drop). The buffer
    /// is sized exactly first, so no partial copy is left behind by reallocation.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>> {
        let stored = StoredRef {
            format: FORMAT,
            next_id: self.next_id,
            user_offset_ms: self.user_offset_ms,
            accounts: &self.accounts,
        };
        to_json_exact(&stored, 0)
    }

    /// A vault from [`Vault::to_bytes`], checked.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let stored: Stored = serde_json::from_slice(bytes).map_err(|e| Error::CorruptVault {
            reason: crate::error::json_error("vault", &e).to_string(),
        })?;
        if stored.format != FORMAT {
            return Err(Error::CorruptVault {
                reason: format!(
                    "format {} is not supported (this version reads {FORMAT})",
                    stored.format
                ),
            });
        }
        if stored.accounts.len() > MAX_ACCOUNTS {
            return Err(Error::CorruptVault { reason: "too many accounts".to_owned() });
        }
        let mut ids: Vec<u64> = stored.accounts.iter().map(|a| a.id.0).collect();
        ids.sort_unstable();
        if ids.windows(2).any(|w| w[0] == w[1])
            || ids.last().is_some_and(|max| *max >= stored.next_id)
        {
            return Err(Error::CorruptVault {
                reason: "account ids are not unique or exceed the next id".to_owned(),
            });
        }
        for a in &stored.accounts {
            let issuer = a.issuer.as_deref().unwrap_or("");
            NewAccount::new(issuer, &a.name, a.group.as_deref(), a.otp.clone())
                .map_err(|e| Error::CorruptVault { reason: format!("account {}: {e}", a.id) })?;
        }
        let mut vault =
            Self { accounts: stored.accounts, next_id: stored.next_id, user_offset_ms: None };
        vault
            .set_user_clock_offset_ms(stored.user_offset_ms)
            .map_err(|e| Error::CorruptVault { reason: e.to_string() })?;
        Ok(vault)
    }
}

/// What makes two generators produce the same codes (see [`Otp::same_generator`]);
/// the secret is hashed, not kept.
#[derive(PartialEq, Eq, Hash)]
struct GeneratorKey {
    kind: crate::account::OtpKind,
    algorithm: crate::algorithm::Algorithm,
    digits: u8,
    period: Option<u32>,
    secret_digest: [u8; 32],
}

impl GeneratorKey {
    fn of(otp: &Otp) -> Self {
        let digest = ring::digest::digest(&ring::digest::SHA256, otp.secret().expose());
        let mut secret_digest = [0u8; 32];
        secret_digest.copy_from_slice(digest.as_ref());
        Self {
            kind: otp.kind(),
            algorithm: otp.algorithm(),
            digits: otp.digits(),
            period: otp.period(),
            secret_digest,
        }
    }
}

#[derive(Serialize)]
struct StoredRef<'a> {
    format: u32,
    next_id: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_offset_ms: Option<i64>,
    accounts: &'a [Account],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: u32,
    next_id: u64,
    #[serde(default)]
    user_offset_ms: Option<i64>,
    accounts: Vec<Account>,
}

/// `value` as JSON in a zeroizing buffer allocated once, with `spare` bytes of room
/// left (for an AEAD tag), so that no reallocation leaves a partial copy behind.
pub(crate) fn to_json_exact<T: Serialize>(value: &T, spare: usize) -> Result<Zeroizing<Vec<u8>>> {
    let mut counter = CountingWriter(0);
    serde_json::to_writer(&mut counter, value)
        .map_err(|_| Error::Internal { reason: "encoding JSON" })?;
    let mut out = Zeroizing::new(Vec::with_capacity(counter.0 + spare));
    serde_json::to_writer(&mut *out, value)
        .map_err(|_| Error::Internal { reason: "encoding JSON" })?;
    Ok(out)
}

/// Counts bytes written.
struct CountingWriter(usize);

impl std::io::Write for CountingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
                NewAccount::new(
                    "Bank",
                    "me",
                    None,
                    Otp::hotp(secret, Algorithm::Sha1, 6, 0).unwrap(),
                )
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
}
