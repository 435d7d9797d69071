//! The vault: the user's accounts in display order, with ids, groups, HOTP counters and
//! an optional user-set clock correction.
//!
//! The vault is a value. Every method either changes it completely or returns an error
//! and leaves it as it was; the caller persists it (the core seals
//! [`Vault::to_bytes`] in its local state and writes it before returning a result, so an
//! HOTP counter that produced a code is durably advanced).
//!
//! Here: the account types and the vault's edits. `duplicates.rs`: one generator per vault,
//! on add and across an import. `stored.rs`: the stored format and its checks.

mod duplicates;
mod stored;

pub use duplicates::{DuplicateEntry, ImportReport};
pub(crate) use stored::to_json_exact;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::account::{self, AccountWarning, MAX_NAME_CHARS, NewAccount, Otp};
use crate::codes::{self, ClockCorrection, CodeList, MAX_OFFSET_MS, OffsetSource};
use crate::error::{Error, Result};
use crate::time::UnixTime;

/// Most accounts a vault holds.
pub const MAX_ACCOUNTS: usize = 10_000;

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
}

#[cfg(test)]
mod tests;
