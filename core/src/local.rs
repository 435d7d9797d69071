//! [`Local`]: what every part of the client shares, and what opens without any server.
//!
//! The sealed state (`crate::state`), the platform key store, and the in-memory parts that
//! belong to the account data: the passcode's memory ([`PasscodeMemory`], used by
//! `crate::passcode`), the decrypted authenticator vault ([`VaultCache`], used by
//! `crate::authenticator`) and the server's clock offset measured in this run. The parts of
//! [`crate::Twostep`] (the session, the passcode, the authenticator) each hold an `Arc<Local>` and
//! keep their logic in their own module; this one owns the state and the checks they all make (is
//! the account data open? does the policy require a passcode first?).
//!
//! Locks, outermost first (take them in this order, never the other way round):
//! 1. `Session::operations` (async): one server operation at a time.
//! 2. [`Local::passcode`]: one passcode operation at a time, and the password key of a "forgot
//!    passcode" sign-in.
//! 3. [`Local::vault`]: the decrypted authenticator vault.
//! 4. The Account key inside [`StateStore`] (a read/write lock): innermost.
//!
//! [`Local::clock_offset`] is a leaf: held only to read or write the value, never while
//! another lock is taken.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use twostep_otp::{UnixTime, Vault};
use twostep_proto::PasscodePolicy;

use crate::clock::ClockOffset;
use crate::error::{Error, InternalResult};
use crate::keys::{SecretKey, WrappedKey};
use crate::keystore::{BiometricKeyStore, KeyStore};
use crate::passcode;
use crate::state::{ClockRecord, ServerRecord, Slot, StateStore};

/// Measured offsets that differ by less than this from the stored one are not rewritten.
const CLOCK_OFFSET_TOLERANCE_MS: i64 = 1_000;

/// The passcode's state in memory only (a restart starts locked). Behind the passcode lock
/// (`Local::passcode`), which every passcode operation holds throughout.
#[derive(Default)]
pub(crate) struct PasscodeMemory {
    /// When the app went to the background.
    pub backgrounded_at: Option<UnixTime>,
    /// The password key of the latest password sign-in of this run: it re-wraps the Account
    /// key for recovery when the sign-in completes and when a passcode is set.
    pub password_key: Option<SecretKey>,
}

impl std::fmt::Debug for PasscodeMemory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasscodeMemory")
            .field("backgrounded_at", &self.backgrounded_at)
            .finish_non_exhaustive()
    }
}

/// The decrypted authenticator vault, while the account data is open (see
/// `crate::authenticator`).
#[derive(Default)]
pub(crate) struct VaultCache {
    pub loaded: Option<LoadedVault>,
}

/// The vault as read, and which key it was read under.
pub(crate) struct LoadedVault {
    /// SHA-256 of the Account key the vault was read under.
    pub key_id: [u8; 32],
    pub vault: Vault,
}

impl VaultCache {
    /// Drops the decrypted vault from memory (the app locked, or its key changed).
    pub(crate) fn forget(&mut self) {
        self.loaded = None;
    }
}

impl std::fmt::Debug for VaultCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultCache").field("loaded", &self.loaded.is_some()).finish()
    }
}

/// The data directory's state and the account data's memory.
pub(crate) struct Local {
    /// The sealed database and the data keys.
    pub store: StateStore,
    /// The platform key store (wraps the data keys and the peppers).
    pub key_store: Arc<dyn KeyStore>,
    /// The key store of the biometric unlock, if the app offers it.
    pub biometric: Option<Arc<dyn BiometricKeyStore>>,
    /// Lock 2: the passcode's memory; held for a whole passcode operation.
    pub passcode: Mutex<PasscodeMemory>,
    /// Lock 3: the decrypted authenticator vault.
    pub vault: Mutex<VaultCache>,
    /// Leaf: the server's clock offset measured in this run.
    clock_offset: Mutex<Option<ClockOffset>>,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("state", &self.store.path()).finish_non_exhaustive()
    }
}

impl Local {
    /// Opens the state under `data_dir` (see [`StateStore::open`]).
    pub(crate) fn open(
        data_dir: &std::path::Path,
        key_store: Arc<dyn KeyStore>,
        biometric: Option<Arc<dyn BiometricKeyStore>>,
    ) -> InternalResult<Self> {
        let store = StateStore::open(data_dir, key_store.as_ref())?;
        Ok(Self {
            store,
            key_store,
            biometric,
            passcode: Mutex::new(PasscodeMemory::default()),
            vault: Mutex::new(VaultCache::default()),
            clock_offset: Mutex::new(None),
        })
    }

    /// Lock 2 (see the module doc).
    pub(crate) fn passcode_memory(&self) -> MutexGuard<'_, PasscodeMemory> {
        self.passcode.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Lock 3 (see the module doc).
    pub(crate) fn vault_cache(&self) -> MutexGuard<'_, VaultCache> {
        self.vault.lock().unwrap_or_else(PoisonError::into_inner)
    }

    // ---- access checks ---------------------------------------------------------------

    /// The cached passcode policy with defaults applied.
    pub(crate) fn policy(&self) -> InternalResult<PasscodePolicy> {
        let cached: Option<PasscodePolicy> = self.store.read(Slot::PasscodePolicy)?;
        Ok(passcode::effective_policy(cached.as_ref()))
    }

    /// Whether a passcode wraps the Account key.
    pub(crate) fn has_passcode(&self) -> InternalResult<bool> {
        Ok(matches!(self.store.account_wrap()?, Some(WrappedKey::Passcode(_))))
    }

    /// For operations that need the account's records: the Account key is in memory and
    /// no "forgot passcode" recovery holds it.
    pub(crate) fn require_account_open(&self) -> InternalResult<()> {
        if self.store.account_usable() { Ok(()) } else { Err(Error::Locked) }
    }

    /// For what the passcode protects (server calls, the vault): open, and a passcode set
    /// if the org policy requires one.
    pub(crate) fn require_unlocked(&self) -> InternalResult<()> {
        self.require_account_open()?;
        if !self.has_passcode()? && passcode::wipes(&self.policy()?) {
            return Err(Error::PasscodeRequired);
        }
        Ok(())
    }

    // ---- the server's clock and address ----------------------------------------------

    /// The server's clock offset: measured in this run, or as last stored.
    pub(crate) fn clock_offset(&self) -> InternalResult<Option<ClockOffset>> {
        if let Some(measured) = *self.clock_offset.lock().unwrap_or_else(PoisonError::into_inner) {
            return Ok(Some(measured));
        }
        let stored: Option<ClockRecord> = self.store.read(Slot::ClockOffset)?;
        Ok(stored.map(|r| ClockOffset { offset_ms: r.offset_ms, measured_at: r.measured_at }))
    }

    /// [`Local::clock_offset`], or none.
    pub(crate) fn clock_offset_or_zero(&self) -> InternalResult<ClockOffset> {
        Ok(self.clock_offset()?.unwrap_or(ClockOffset::ZERO))
    }

    /// Keeps a measurement of the server's clock, and stores it when it moved.
    pub(crate) fn record_clock_offset(
        &self,
        measured: Option<ClockOffset>,
        now: UnixTime,
    ) -> InternalResult<()> {
        let Some(measured) = measured else { return Ok(()) };
        *self.clock_offset.lock().unwrap_or_else(PoisonError::into_inner) = Some(measured);
        let stored: Option<ClockRecord> = self.store.read(Slot::ClockOffset)?;
        // `abs_diff`: offsets come from the server's header and may be any i64; their
        // difference overflows.
        let tolerance = CLOCK_OFFSET_TOLERANCE_MS.unsigned_abs();
        if stored.is_some_and(|s| s.offset_ms.abs_diff(measured.offset_ms) < tolerance) {
            return Ok(());
        }
        let record = ClockRecord { offset_ms: measured.offset_ms, measured_at: now };
        self.store.apply(self.store.change().put(Slot::ClockOffset, &record)?)
    }

    /// The server of the last completed sign-in, if any.
    pub(crate) fn stored_server_url(&self) -> InternalResult<Option<String>> {
        Ok(self.store.read::<ServerRecord>(Slot::Server)?.map(|r| r.url))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeyStore;

    #[test]
    fn any_two_clock_offsets_can_follow_each_other() {
        // Found by the `core_answers` fuzz target: a server time near i64::MAX ms, then one
        // near 0, made the difference of the two offsets overflow (a panic in debug builds).
        let dir = tempfile::tempdir().unwrap();
        let local = Local::open(dir.path(), Arc::new(MemoryKeyStore::new()), None).unwrap();
        let now = UnixTime::from_secs(1_700_000_000);
        for offset_ms in [i64::MAX, i64::MIN, -1_700_000_000_000, i64::MAX, 0, 999, 0] {
            let measured = ClockOffset { offset_ms, measured_at: now };
            local.record_clock_offset(Some(measured), now).unwrap();
            assert_eq!(local.clock_offset().unwrap().map(|o| o.offset_ms), Some(offset_ms));
        }
        // Within the tolerance, the stored record is not rewritten.
        let stored: ClockRecord = local.store.read(Slot::ClockOffset).unwrap().unwrap();
        assert_eq!(stored.offset_ms, 0);
    }
}
