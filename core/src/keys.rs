//! The data keys that seal local state, and how they are wrapped on disk.
//!
//! There are two data keys, so that the passcode can protect one without the other:
//!
//! - [`KeyRole::Local`] seals what the app must read before the user unlocks: the cached passcode
//!   policy, the server clock offset, the failed-attempt counter and the wipe notice. It is only
//!   ever wrapped by the platform key store.
//! - [`KeyRole::Account`] seals the account's secrets: the device registration and its private key,
//!   the session token, a pending sign-in and the authenticator vault. Without a passcode it is
//!   wrapped by the platform key store alone ([`WrappedKey::Platform`]). With one
//!   ([`WrappedKey::Passcode`]) it is sealed under a key derived from the passcode with Argon2id,
//!   keyed by a random pepper that only the platform key store can unwrap ([`SecretWrap`]): a wrong
//!   passcode fails to open the seal (no separate verifier), and nothing on disk lets anyone test a
//!   passcode without the platform key.
//!
//! A third record, `key/recovery`, may hold the Account key once more as a [`SecretWrap`]
//! of the account *password* (see `crate::passcode::recovery`: "forgot passcode").
//!
//! Why a platform-wrapped pepper rather than `platform(seal(argon2id(pin), key))`: the two
//! give the same guarantee, but this way the platform key store only ever wraps random
//! 32-byte keys, which is what its contract promises and what hardware key stores expect.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keystore::KeyStore;
use crate::passcode::kdf::{self, KdfParams, SALT_LEN};
use crate::seal::{KEY_LEN, SealError, SealKey};

/// Which data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyRole {
    /// Readable whenever the platform key store is.
    Local,
    /// The account's secrets; behind the passcode when one is set.
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

/// The sled key of the password recovery wrap of the Account key.
pub(crate) const RECOVERY_KEY: &[u8] = b"key/recovery";

/// The sled key of the biometric wrap of the Account key (an option, see
/// `crate::passcode::biometric`).
pub(crate) const BIOMETRIC_KEY: &[u8] = b"key/biometric";

/// The label the biometric key store binds to its wrap of the Account key.
pub(crate) const BIOMETRIC_LABEL: &str = "twostep.account.biometric.v1";

/// The associated data of a [`BiometricWrap`]'s key check.
const BIOMETRIC_CHECK_AAD: &[u8] = b"twostep/keys/v1/biometric-check";

/// The Account key wrapped by the biometric key store, with a check that tells whether a key
/// is the one wrapped: an empty value sealed under it (its GCM tag), so that a key the
/// platform returns is confirmed before it is used. Both base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BiometricWrap {
    /// `biometric_key_store.wrap_key(BIOMETRIC_LABEL, account_key)`.
    pub wrapped: String,
    /// `AES-256-GCM(account_key, "", AAD "twostep/keys/v1/biometric-check")`.
    pub check: String,
}

impl BiometricWrap {
    /// The check of `key` (for a wrap about to be made).
    pub(crate) fn check_of(key: &SealKey) -> Result<String, Error> {
        Ok(B64.encode(key.seal(BIOMETRIC_CHECK_AAD, &[]).map_err(Error::Seal)?))
    }

    /// The wrapped bytes, for the key store.
    pub(crate) fn wrapped_bytes(&self) -> Result<Vec<u8>, Error> {
        decode(&self.wrapped, "biometric wrap")
    }

    /// Whether `key` is the key this wrap was made for.
    pub(crate) fn is_for(&self, key: &SealKey) -> Result<bool, Error> {
        let check = decode(&self.check, "biometric check")?;
        Ok(key.open(BIOMETRIC_CHECK_AAD, &check).is_ok())
    }
}

/// Which secret a [`SecretWrap`] needs; names the platform label of its pepper.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SecretKind {
    /// The local passcode (PIN).
    Passcode,
    /// The account password, for "forgot passcode".
    Password,
}

impl SecretKind {
    /// The key store label of the pepper.
    pub(crate) fn label(self) -> &'static str {
        match self {
            SecretKind::Passcode => "twostep.account.passcode.v1",
            SecretKind::Password => "twostep.account.recovery.v1",
        }
    }

    fn aad(self) -> Vec<u8> {
        format!("twostep/keys/v1/{}", self.label()).into_bytes()
    }
}

/// A data key as stored on disk: never in the clear. The `layers` tag says what must be
/// undone, outermost first, to get the key back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layers", rename_all = "snake_case")]
pub(crate) enum WrappedKey {
    /// `key_store.wrap_key(label, data_key)`, base64url.
    Platform {
        /// The wrapped key.
        wrapped: String,
    },
    /// The platform key store (pepper) and the passcode (Argon2id) together.
    Passcode(SecretWrap),
}

/// A data key sealed under `Argon2id(secret, salt, K = pepper)`, with the pepper wrapped by
/// the platform key store. All fields base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SecretWrap {
    /// The random 32-byte pepper, wrapped by the platform key store.
    pub pepper: String,
    /// The random 16-byte Argon2id salt.
    pub salt: String,
    /// The Argon2id cost.
    pub kdf: KdfParams,
    /// The data key, sealed (AES-256-GCM) under the derived key.
    pub sealed: String,
}

/// The first, fast half of opening a [`SecretWrap`]: the platform key store has unwrapped
/// the pepper. What is left is the slow Argon2id derivation of the guess.
pub(crate) struct Prepared {
    kind: SecretKind,
    pepper: Zeroizing<Vec<u8>>,
    wrapped_pepper: String,
    salt: Vec<u8>,
    kdf: KdfParams,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// A key derived from a secret, with what it was derived with: it can open the wrap it
/// came from and seal other data keys for the same secret without asking for it again.
pub(crate) struct SecretKey {
    kind: SecretKind,
    wrapped_pepper: String,
    salt: Vec<u8>,
    kdf: KdfParams,
    key: SealKey,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKey").field("kind", &self.kind).finish_non_exhaustive()
    }
}

impl Prepared {
    /// Unwraps the pepper of an existing wrap through the platform key store.
    pub(crate) fn open(
        key_store: &dyn KeyStore,
        kind: SecretKind,
        wrap: &SecretWrap,
    ) -> Result<Self, Error> {
        wrap.kdf.check()?;
        let wrapped = decode(&wrap.pepper, "pepper")?;
        let pepper = Zeroizing::new(key_store.unwrap_key(kind.label().to_owned(), wrapped)?);
        if pepper.len() != KEY_LEN {
            return Err(Error::Corrupt(format!(
                "the key store returned a {}-byte pepper",
                pepper.len()
            )));
        }
        let salt = decode(&wrap.salt, "salt")?;
        if salt.len() != SALT_LEN {
            return Err(Error::Corrupt("the passcode salt has the wrong length".to_owned()));
        }
        Ok(Self { kind, pepper, wrapped_pepper: wrap.pepper.clone(), salt, kdf: wrap.kdf })
    }

    /// A fresh random pepper (wrapped by the platform) and salt, for a new wrap.
    pub(crate) fn fresh(key_store: &dyn KeyStore, kind: SecretKind) -> Result<Self, Error> {
        let pepper = kdf::random::<KEY_LEN>()?;
        let wrapped = key_store.wrap_key(kind.label().to_owned(), pepper.to_vec())?;
        let salt = kdf::random::<SALT_LEN>()?;
        Ok(Self {
            kind,
            pepper: Zeroizing::new(pepper.to_vec()),
            wrapped_pepper: B64.encode(wrapped),
            salt: salt.to_vec(),
            kdf: KdfParams::DEFAULT,
        })
    }

    /// Argon2id of `secret`: the slow part (tens of milliseconds).
    pub(crate) fn derive(&self, secret: &[u8]) -> Result<SecretKey, Error> {
        let key = kdf::derive(secret, &self.salt, &self.pepper, self.kdf)?;
        Ok(SecretKey {
            kind: self.kind,
            wrapped_pepper: self.wrapped_pepper.clone(),
            salt: self.salt.clone(),
            kdf: self.kdf,
            key,
        })
    }
}

impl SecretKey {
    /// Seals `data_key` for this secret.
    pub(crate) fn wrap(&self, data_key: &SealKey) -> Result<SecretWrap, Error> {
        let sealed =
            self.key.seal(&self.kind.aad(), data_key.expose_bytes()).map_err(Error::Seal)?;
        Ok(SecretWrap {
            pepper: self.wrapped_pepper.clone(),
            salt: B64.encode(&self.salt),
            kdf: self.kdf,
            sealed: B64.encode(sealed),
        })
    }

    /// Opens a wrap made for this secret; `Ok(None)` when the secret was wrong.
    pub(crate) fn open(&self, wrap: &SecretWrap) -> Result<Option<SealKey>, Error> {
        let sealed = decode(&wrap.sealed, "sealed key")?;
        match self.key.open(&self.kind.aad(), &sealed) {
            Ok(raw) => SealKey::from_bytes(&raw)
                .map(Some)
                .map_err(|_| Error::Corrupt("a sealed data key has the wrong length".to_owned())),
            Err(SealError::Rejected) => Ok(None),
            Err(source) => Err(Error::Unseal { record: "sealed data key", source }),
        }
    }
}

/// Base64url (no padding), as wrapped keys are stored.
pub(crate) fn encode(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

fn decode(value: &str, what: &str) -> Result<Vec<u8>, Error> {
    B64.decode(value).map_err(|_| Error::Corrupt(format!("the wrapped key's {what} is not base64")))
}

/// Makes a new random data key and its platform-wrapped form.
pub(crate) fn create(
    key_store: &dyn KeyStore,
    role: KeyRole,
) -> Result<(SealKey, WrappedKey), Error> {
    let key = SealKey::generate().map_err(Error::Seal)?;
    let wrapped = wrap_platform(key_store, role, &key)?;
    Ok((key, wrapped))
}

/// Wraps an existing data key with the platform key store alone.
pub(crate) fn wrap_platform(
    key_store: &dyn KeyStore,
    role: KeyRole,
    key: &SealKey,
) -> Result<WrappedKey, Error> {
    let wrapped = key_store.wrap_key(role.label().to_owned(), key.expose_bytes().to_vec())?;
    Ok(WrappedKey::Platform { wrapped: B64.encode(wrapped) })
}

/// Recovers a platform-wrapped data key. A passcode-wrapped one needs the passcode:
/// [`Error::Locked`].
pub(crate) fn unwrap(
    key_store: &dyn KeyStore,
    role: KeyRole,
    wrapped: &WrappedKey,
) -> Result<SealKey, Error> {
    match wrapped {
        WrappedKey::Platform { wrapped } => {
            let bytes = B64.decode(wrapped).map_err(|_| {
                Error::Corrupt(format!("wrapped {} key is not base64", role.label()))
            })?;
            let raw = Zeroizing::new(key_store.unwrap_key(role.label().to_owned(), bytes)?);
            SealKey::from_bytes(&raw).map_err(|_| {
                Error::Corrupt(format!(
                    "the key store returned a {}-byte {} key",
                    raw.len(),
                    role.label()
                ))
            })
        }
        WrappedKey::Passcode(_) => Err(Error::Locked),
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

    #[test]
    fn a_passcode_wrap_opens_with_the_passcode_and_the_platform_key_together() {
        let store = MemoryKeyStore::new();
        let data_key = SealKey::generate().unwrap();
        let secret =
            Prepared::fresh(&store, SecretKind::Passcode).unwrap().derive(b"482915").unwrap();
        let wrap = secret.wrap(&data_key).unwrap();
        let stored = serde_json::to_vec(&WrappedKey::Passcode(wrap.clone())).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&stored).unwrap();
        assert_eq!(json["layers"], "passcode");
        assert_eq!(json["kdf"], serde_json::json!({"m_kib": 19456, "t": 2, "p": 1}));
        let WrappedKey::Passcode(read) = serde_json::from_slice(&stored).unwrap() else {
            panic!("variant")
        };
        assert_eq!(read, wrap);

        let right =
            Prepared::open(&store, SecretKind::Passcode, &read).unwrap().derive(b"482915").unwrap();
        assert_eq!(right.open(&read).unwrap().unwrap().expose_bytes(), data_key.expose_bytes());
        let wrong =
            Prepared::open(&store, SecretKind::Passcode, &read).unwrap().derive(b"482916").unwrap();
        assert!(wrong.open(&read).unwrap().is_none(), "a wrong passcode fails the seal");
        // Without the platform key the pepper, and with it any guess, is out of reach.
        assert!(matches!(
            Prepared::open(&MemoryKeyStore::new(), SecretKind::Passcode, &read),
            Err(Error::KeyStore(_))
        ));
        // A passcode wrap is not a recovery wrap.
        assert!(matches!(
            Prepared::open(&store, SecretKind::Password, &read),
            Err(Error::KeyStore(_))
        ));
        assert!(matches!(
            unwrap(&store, KeyRole::Account, &WrappedKey::Passcode(read)),
            Err(Error::Locked)
        ));
    }

    #[test]
    fn a_derived_key_seals_other_data_keys_for_the_same_secret() {
        let store = MemoryKeyStore::new();
        let secret = Prepared::fresh(&store, SecretKind::Password)
            .unwrap()
            .derive(b"correct horse")
            .unwrap();
        let first = secret.wrap(&SealKey::generate().unwrap()).unwrap();
        let next_key = SealKey::generate().unwrap();
        let next = secret.wrap(&next_key).unwrap();
        assert_eq!(
            (first.pepper.clone(), first.salt.clone()),
            (next.pepper.clone(), next.salt.clone())
        );
        let again = Prepared::open(&store, SecretKind::Password, &next)
            .unwrap()
            .derive(b"correct horse")
            .unwrap();
        assert_eq!(again.open(&next).unwrap().unwrap().expose_bytes(), next_key.expose_bytes());
    }

    #[test]
    fn tampered_wraps_are_corrupt_or_rejected_never_accepted() {
        let store = MemoryKeyStore::new();
        let secret =
            Prepared::fresh(&store, SecretKind::Passcode).unwrap().derive(b"482915").unwrap();
        let wrap = secret.wrap(&SealKey::generate().unwrap()).unwrap();
        let weaker = SecretWrap { kdf: KdfParams { m_kib: 8, t: 1, p: 1 }, ..wrap.clone() };
        assert!(matches!(
            Prepared::open(&store, SecretKind::Passcode, &weaker),
            Err(Error::Corrupt(_))
        ));
        let bad_salt = SecretWrap { salt: B64.encode([0u8; 8]), ..wrap.clone() };
        assert!(matches!(
            Prepared::open(&store, SecretKind::Passcode, &bad_salt),
            Err(Error::Corrupt(_))
        ));
        let mut sealed = B64.decode(&wrap.sealed).unwrap();
        sealed[5] ^= 1;
        let flipped = SecretWrap { sealed: B64.encode(sealed), ..wrap.clone() };
        assert!(secret.open(&flipped).unwrap().is_none());
        assert!(
            serde_json::from_str::<WrappedKey>(
                r#"{"layers":"passcode","pepper":"","salt":"","kdf":{"m_kib":1,"t":1,"p":1},"sealed":"","x":1}"#
            )
            .is_err()
        );
    }
}
