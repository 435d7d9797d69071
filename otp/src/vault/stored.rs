//! The vault as stored: versioned JSON, sized exactly before it is written so that no
//! reallocation leaves a partial copy of the secrets behind, and checked when read back.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{Account, MAX_ACCOUNTS, Vault};
use crate::account::NewAccount;
use crate::error::{Error, Result};

/// The format [`Vault::to_bytes`] writes.
const FORMAT: u32 = 1;

impl Vault {
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
