//! A [`Change`]: the writes one operation makes to the local state, applied by
//! [`StateStore::apply`] as one sled batch. Values wait in the clear (zeroized on drop) and
//! are sealed only when applied, under the keys current then.

use serde::Serialize;
use std::marker::PhantomData;
use zeroize::Zeroizing;

use super::{Slot, StateStore, VAULT_PREFIX, vault_aad, vault_key};
use crate::error::Error;
use crate::keys::{BIOMETRIC_KEY, BiometricWrap, KeyRole, RECOVERY_KEY, SecretWrap, WrappedKey};

/// One write of a [`Change`], sealed when the change is applied.
pub(super) enum Op {
    /// Seal `plain` under the role's key with `aad`, store under `key`.
    Seal { key: Vec<u8>, aad: Vec<u8>, role: KeyRole, plain: Zeroizing<Vec<u8>> },
    /// Store as is (wrapped keys, which are not secret).
    Clear { key: Vec<u8>, value: Vec<u8> },
    /// Remove one key.
    Remove { key: Vec<u8> },
    /// Remove every key with this prefix (as found when the change is applied).
    RemovePrefix { prefix: Vec<u8> },
}

/// A set of writes that [`StateStore::apply`] makes all at once. Values wait in the clear
/// (zeroized on drop) and are sealed when the change is applied.
pub(crate) struct Change<'a> {
    pub(super) ops: Vec<Op>,
    pub(super) store: PhantomData<&'a StateStore>,
}

impl std::fmt::Debug for Change<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Change")
    }
}

impl Change<'_> {
    /// Seals raw bytes into a slot.
    pub(crate) fn put_secret(mut self, slot: Slot, value: &[u8]) -> Result<Self, Error> {
        self.ops.push(Op::Seal {
            key: slot.storage_key(),
            aad: slot.aad(),
            role: slot.role(),
            plain: Zeroizing::new(value.to_vec()),
        });
        Ok(self)
    }

    /// Seals a value as JSON into a slot.
    pub(crate) fn put<T: Serialize>(self, slot: Slot, value: &T) -> Result<Self, Error> {
        let json = Zeroizing::new(
            serde_json::to_vec(value)
                .map_err(|e| Error::Internal(format!("encoding {}: {e}", slot.name())))?,
        );
        self.put_secret(slot, &json)
    }

    /// Empties a slot.
    pub(crate) fn remove(mut self, slot: Slot) -> Self {
        self.ops.push(Op::Remove { key: slot.storage_key() });
        self
    }

    /// Seals a vault record under the Account key (see [`VAULT_PREFIX`]).
    pub(crate) fn put_vault(mut self, id: &str, value: &[u8]) -> Self {
        self.ops.push(Op::Seal {
            key: vault_key(id),
            aad: vault_aad(id),
            role: KeyRole::Account,
            plain: Zeroizing::new(value.to_vec()),
        });
        self
    }

    /// Removes one vault record.
    #[allow(dead_code)] // Part of the vault hook; the vault keeps one record today.
    pub(crate) fn remove_vault(mut self, id: &str) -> Self {
        self.ops.push(Op::Remove { key: vault_key(id) });
        self
    }

    /// Removes the whole vault.
    pub(crate) fn clear_vault(mut self) -> Self {
        self.ops.push(Op::RemovePrefix { prefix: VAULT_PREFIX.as_bytes().to_vec() });
        self
    }

    /// Stores how the Account key is wrapped. Without a passcode the biometric wrap goes
    /// too: there is nothing left for it to unlock.
    pub(crate) fn put_account_wrap(mut self, wrapped: &WrappedKey) -> Result<Self, Error> {
        let value = serde_json::to_vec(wrapped).map_err(|e| Error::Internal(e.to_string()))?;
        self.ops.push(Op::Clear { key: KeyRole::Account.storage_key().to_vec(), value });
        if !matches!(wrapped, WrappedKey::Passcode(_)) {
            self = self.remove_biometric_wrap();
        }
        Ok(self)
    }

    /// Removes the Account key's wrap (a wipe that keeps the vault for password recovery),
    /// and with it the biometric wrap.
    pub(crate) fn remove_account_wrap(mut self) -> Self {
        self.ops.push(Op::Remove { key: KeyRole::Account.storage_key().to_vec() });
        self.remove_biometric_wrap()
    }

    /// Stores the biometric wrap of the Account key.
    pub(crate) fn put_biometric_wrap(mut self, wrap: &BiometricWrap) -> Result<Self, Error> {
        let value = serde_json::to_vec(wrap).map_err(|e| Error::Internal(e.to_string()))?;
        self.ops.push(Op::Clear { key: BIOMETRIC_KEY.to_vec(), value });
        Ok(self)
    }

    /// Removes the biometric wrap.
    pub(crate) fn remove_biometric_wrap(mut self) -> Self {
        self.ops.push(Op::Remove { key: BIOMETRIC_KEY.to_vec() });
        self
    }

    /// Stores the password recovery wrap of the Account key.
    pub(crate) fn put_recovery_wrap(mut self, wrap: &SecretWrap) -> Result<Self, Error> {
        let value = serde_json::to_vec(wrap).map_err(|e| Error::Internal(e.to_string()))?;
        self.ops.push(Op::Clear { key: RECOVERY_KEY.to_vec(), value });
        Ok(self)
    }

    /// Removes the password recovery wrap.
    pub(crate) fn remove_recovery_wrap(mut self) -> Self {
        self.ops.push(Op::Remove { key: RECOVERY_KEY.to_vec() });
        self
    }
}
