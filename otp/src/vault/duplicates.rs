//! Duplicates: two accounts with the same generator (kind, algorithm, digits, period and
//! secret) make the same codes, so a vault holds each generator once — checked on every add
//! and across a whole import file, with the secret compared by its digest.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

use super::{AccountId, MAX_ACCOUNTS, Vault};
use crate::account::{NewAccount, Otp};
use crate::error::{Error, Result};

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

impl Vault {
    /// The account that generates the same codes as `otp`, if any.
    pub fn find_duplicate(&self, otp: &Otp) -> Option<AccountId> {
        self.accounts.iter().find(|a| a.otp.same_generator(otp)).map(|a| a.id)
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
