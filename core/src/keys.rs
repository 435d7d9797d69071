//! The data keys that seal local state, and how they are wrapped on disk.
//!
//! There are two data keys, so that the passcode (issue 5) can protect one without the
//! other:
//!
//! - [`KeyRole::Local`] seals what the app must read before the user unlocks: the cached
//!   passcode policy, the server clock offset and, later, failed-attempt counters. It is
//!   only ever wrapped by the platform key store.
//! - [`KeyRole::Account`] seals the account's secrets: the device registration and its
//!   private key, the session token, a pending sign-in and, later, the authenticator
//!   vault. Today it is wrapped by the platform key store alone. The passcode layer will
//!   add a [`WrappedKey`] variant in which the platform wraps the data key *already sealed
//!   under an Argon2id-derived key*, `platform(seal(argon2id(passcode, salt), key))`:
//!   a wrong passcode fails to open the seal, and nothing on disk lets anyone test a
//!   passcode without the platform key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keystore::KeyStore;
use crate::seal::SealKey;

/// Which data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    /// Readable whenever the platform key store is.
    Local,
    /// The account's secrets; gains the passcode layer in issue 5.
    Account,
}

impl KeyRole {
    /// The label passed to the key store, bound to the wrapped value.
    pub(crate) fn label(self) -> &'static str {
        match self {
            KeyRole::Local => "twostep.local.v1",
            KeyRole::Account => "twostep.account.v1",
        }
    }

    /// The sled key under which the wrapped key is stored.
    pub(crate) fn storage_key(self) -> &'static [u8] {
        match self {
            KeyRole::Local => b"key/local",
            KeyRole::Account => b"key/account",
        }
    }
}

/// A data key as stored on disk: never in the clear. The `layers` tag says what must be
/// undone, outermost first, to get the key back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layers", rename_all = "snake_case", deny_unknown_fields)]
pub(crate) enum WrappedKey {
    /// `key_store.wrap_key(label, data_key)`, base64url.
    Platform { wrapped: String },
}

/// Makes a new random data key and its wrapped form.
pub(crate) fn create(key_store: &dyn KeyStore, role: KeyRole) -> Result<(SealKey, WrappedKey), Error> {
    let key = SealKey::generate().map_err(Error::Seal)?;
    let wrapped = key_store.wrap_key(role.label().to_owned(), key.expose_bytes().to_vec())?;
    Ok((key, WrappedKey::Platform { wrapped: B64.encode(wrapped) }))
}

/// Recovers a data key from its wrapped form.
pub(crate) fn unwrap(key_store: &dyn KeyStore, role: KeyRole, wrapped: &WrappedKey) -> Result<SealKey, Error> {
    match wrapped {
        WrappedKey::Platform { wrapped } => {
            let bytes = B64.decode(wrapped).map_err(|_| Error::Corrupt(format!("wrapped {} key is not base64", role.label())))?;
            let raw = Zeroizing::new(key_store.unwrap_key(role.label().to_owned(), bytes)?);
            SealKey::from_bytes(&raw)
                .map_err(|_| Error::Corrupt(format!("the key store returned a {}-byte {} key", raw.len(), role.label())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keystore::MemoryKeyStore;

    #[test]
    fn a_created_key_unwraps_to_the_same_key_for_its_role_only() {
        let store = MemoryKeyStore::new();
        let (key, wrapped) = create(&store, KeyRole::Account).unwrap();
        let back = unwrap(&store, KeyRole::Account, &wrapped).unwrap();
        assert_eq!(key.expose_bytes(), back.expose_bytes());
        assert!(matches!(unwrap(&store, KeyRole::Local, &wrapped), Err(Error::KeyStore(_))));
    }

    #[test]
    fn the_wrapped_form_is_tagged_with_its_layers() {
        let store = MemoryKeyStore::new();
        let (_, wrapped) = create(&store, KeyRole::Local).unwrap();
        let json = serde_json::to_value(&wrapped).unwrap();
        assert_eq!(json["layers"], "platform");
    }
}
