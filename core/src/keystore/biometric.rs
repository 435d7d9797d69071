//! [`BiometricKeyStore`]: a key store whose wrapping key needs the user's authentication for
//! every use — a fingerprint, a face, or (if the app allows it) the device credential.
//! Android: a Keystore key with `setUserAuthenticationRequired`, used through a
//! `BiometricPrompt`; iOS: a Keychain item under a `SecAccessControl` with
//! `.biometryCurrentSet` (or `.userPresence`).
//!
//! It is async, unlike [`super::KeyStore`]: a call waits for a person, which may take as long
//! as they like, and must not hold a thread meanwhile (the bindings export it as a foreign
//! async trait: a Kotlin `suspend fun`, a Swift `async` method). The core awaits it only in
//! the biometric unlock (`crate::passcode`), with no lock held.

use super::KeyStoreError;

/// Wraps and unwraps a 32-byte data key with a platform key that needs the user's
/// authentication for each use. Same contract as [`super::KeyStore`] otherwise: `label` bound
/// to the wrapped value, unwrapping returns exactly the key wrapped.
///
/// Report a dismissed prompt as [`KeyStoreError::Cancelled`], an authentication that failed
/// (no match, too many tries) as [`KeyStoreError::NotAuthenticated`], and a key that new
/// biometric enrollments invalidated as [`KeyStoreError::KeyInvalidated`].
#[async_trait::async_trait]
pub trait BiometricKeyStore: Send + Sync + std::fmt::Debug {
    /// Wraps `key` (may ask the user). Returns an opaque value the core stores.
    async fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;

    /// Unwraps a value returned by [`BiometricKeyStore::wrap_key`] for the same `label`,
    /// asking the user.
    async fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
}
