//! The platform's key store: the one place a key that never touches our disk lives.
//!
//! The core keeps its state sealed under random data keys. Those data keys are stored on
//! disk only in wrapped form, wrapped by a [`KeyStore`] that the platform provides: the
//! Android Keystore or the iOS Keychain / Secure Enclave through the bindings, a key file
//! for the CLI ([`FileKeyStore`]) and memory for tests ([`MemoryKeyStore`]). A copy of the
//! data directory without the platform's key is therefore useless.
//!
//! The trait is deliberately small and object-safe, with owned byte vectors in and out,
//! so that the bindings can expose it as a foreign trait that Kotlin and Swift implement.

mod biometric;
mod file;
mod memory;

pub use biometric::BiometricKeyStore;
pub use file::FileKeyStore;
pub use memory::MemoryKeyStore;

/// Wraps and unwraps 32-byte data keys with a key held by the platform.
///
/// `label` names the data key being wrapped (for example `twostep.account.v1`).
/// Implementations should bind it to the wrapped value (as AEAD associated data) and may
/// use it to pick a platform key or its protection (for example requiring user
/// authentication for one label and not another). Wrapping the same key twice may give
/// different bytes; unwrapping must return exactly the key that was wrapped.
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Wraps `key` (the caller zeroizes its copy). Returns an opaque value to store.
    fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;

    /// Unwraps a value returned by [`KeyStore::wrap_key`] for the same `label`.
    /// The core zeroizes the returned key after use.
    fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
}

/// Why the platform key store failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    /// The key store cannot be used right now (locked keychain, no such file, permissions).
    #[error("key store unavailable: {message}")]
    Unavailable {
        /// What failed, without secrets.
        message: String,
    },
    /// The platform key is gone or was invalidated (for example a new screen lock);
    /// wrapped keys can never be unwrapped again.
    #[error("platform key invalidated: {message}")]
    KeyInvalidated {
        /// What failed, without secrets.
        message: String,
    },
    /// The wrapped value does not unwrap with this key store (tampered, or another key).
    #[error("wrapped key rejected: {message}")]
    Rejected {
        /// What failed, without secrets.
        message: String,
    },
    /// The user dismissed the authentication prompt (biometric key stores only).
    #[error("authentication cancelled: {message}")]
    Cancelled {
        /// What happened, without secrets.
        message: String,
    },
    /// The user could not be authenticated: no match, too many tries, no biometrics
    /// enrolled (biometric key stores only).
    #[error("authentication failed: {message}")]
    NotAuthenticated {
        /// What happened, without secrets.
        message: String,
    },
    /// Anything else.
    #[error("key store failed: {message}")]
    Failed {
        /// What failed, without secrets.
        message: String,
    },
}

/// Associated data that binds a wrapped key to its label, for the built-in stores.
fn wrap_aad(label: &str) -> Vec<u8> {
    let mut aad = b"twostep/keystore/wrap/v1/".to_vec();
    aad.extend_from_slice(label.as_bytes());
    aad
}
