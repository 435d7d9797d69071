//! What the platform provides: the key store (Android Keystore, iOS Keychain), optionally a
//! biometric key store (its key needs the user's authentication: an async foreign trait, a
//! prompt must not hold a thread) and optionally the clock. All are foreign traits: Kotlin
//! classes and Swift types implement them and cross the FFI as `Arc<dyn Trait>`. Adapters
//! turn them into the core's own [`twostep_core::KeyStore`],
//! [`twostep_core::BiometricKeyStore`] and [`twostep_core::ClockSource`].

use std::sync::Arc;
use std::time::SystemTime;

/// Wraps and unwraps the core's 32-byte data keys with a key the platform holds (Android
/// Keystore, iOS Keychain / Secure Enclave), so that a copy of the data directory is
/// useless without the device.
///
/// `label` names the data key (`twostep.local.v1`, `twostep.account.v1`); bind it to the
/// wrapped value (as AEAD associated data). Wrapping may give different bytes each time;
/// unwrapping must return exactly the key that was wrapped. Calls come from a background
/// thread, never the UI thread, and may block (hardware-backed keys are slow).
#[uniffi::export(with_foreign)]
pub trait PlatformKeyStore: Send + Sync {
    /// Wraps `key`. Returns an opaque value the core stores.
    fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, PlatformKeyError>;

    /// Unwraps a value returned by `wrap_key` for the same `label`.
    fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, PlatformKeyError>;
}

/// Why the platform key store failed. Kotlin implementations throw
/// `PlatformKeyException.Rejected(...)`; Swift ones throw `PlatformKeyError.Rejected(detail:)`.
/// Any other exception counts as `Failed`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum PlatformKeyError {
    /// The key store cannot be used right now (device locked, keychain unavailable).
    #[error("key store unavailable: {detail}")]
    Unavailable {
        /// What failed, without secrets.
        detail: String,
    },
    /// The platform key is gone or was invalidated (a new screen lock, a restored
    /// backup); wrapped keys can never be unwrapped again.
    #[error("platform key invalidated: {detail}")]
    KeyInvalidated {
        /// What failed, without secrets.
        detail: String,
    },
    /// The wrapped value does not unwrap with this key (tampered, or another key).
    #[error("wrapped key rejected: {detail}")]
    Rejected {
        /// What failed, without secrets.
        detail: String,
    },
    /// The user dismissed the authentication prompt (biometric key stores).
    #[error("authentication cancelled: {detail}")]
    Cancelled {
        /// What happened, without secrets.
        detail: String,
    },
    /// The user could not be authenticated: no match, too many tries, nothing enrolled
    /// (biometric key stores).
    #[error("authentication failed: {detail}")]
    NotAuthenticated {
        /// What happened, without secrets.
        detail: String,
    },
    /// Anything else.
    #[error("key store failed: {detail}")]
    Failed {
        /// What failed, without secrets.
        detail: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformKeyError {
    fn from(error: uniffi::UnexpectedUniFFICallbackError) -> Self {
        Self::Failed {
            detail: format!("unexpected error from the platform key store: {}", error.reason),
        }
    }
}

impl From<PlatformKeyError> for twostep_core::KeyStoreError {
    fn from(error: PlatformKeyError) -> Self {
        match error {
            PlatformKeyError::Unavailable { detail } => Self::Unavailable { message: detail },
            PlatformKeyError::KeyInvalidated { detail } => Self::KeyInvalidated { message: detail },
            PlatformKeyError::Rejected { detail } => Self::Rejected { message: detail },
            PlatformKeyError::Cancelled { detail } => Self::Cancelled { message: detail },
            PlatformKeyError::NotAuthenticated { detail } => {
                Self::NotAuthenticated { message: detail }
            }
            PlatformKeyError::Failed { detail } => Self::Failed { message: detail },
        }
    }
}

/// The platform key store as the core's [`twostep_core::KeyStore`].
pub(crate) struct ForeignKeyStore(pub(crate) Arc<dyn PlatformKeyStore>);

impl std::fmt::Debug for ForeignKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignKeyStore")
    }
}

impl twostep_core::KeyStore for ForeignKeyStore {
    fn wrap_key(
        &self,
        label: String,
        key: Vec<u8>,
    ) -> Result<Vec<u8>, twostep_core::KeyStoreError> {
        Ok(self.0.wrap_key(label, key)?)
    }

    fn unwrap_key(
        &self,
        label: String,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, twostep_core::KeyStoreError> {
        Ok(self.0.unwrap_key(label, wrapped)?)
    }
}

/// A key store whose key needs the user's authentication for every use — the option of
/// unlocking with biometrics instead of the passcode. Android: a Keystore key with
/// `setUserAuthenticationRequired(true)` used through `BiometricPrompt` (`BiometricKeyStore`
/// in the Android layer); iOS: a Keychain item under `SecAccessControl` with
/// `.biometryCurrentSet` (`BiometricKeychainKeyStore`).
///
/// Its methods are `suspend` / `async`: the library awaits them without holding a thread
/// while the prompt is up, and cancels them (the coroutine, the task) when it drops the call
/// that asked — in Kotlin when the app cancels that call's coroutine (Swift `Task`
/// cancellation does not reach the library). Throw `PlatformKeyError.Cancelled` for a dismissed
/// prompt, `NotAuthenticated` for a failed one, `KeyInvalidated` when new enrollments invalidated
/// the key. Same contract as [`PlatformKeyStore`] otherwise.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait PlatformBiometricKeyStore: Send + Sync {
    /// Wraps `key` (may ask the user).
    async fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, PlatformKeyError>;

    /// Unwraps a value returned by `wrap_key` for the same `label`, asking the user.
    async fn unwrap_key(
        &self,
        label: String,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, PlatformKeyError>;
}

/// The platform's biometric key store as the core's [`twostep_core::BiometricKeyStore`].
pub(crate) struct ForeignBiometricKeyStore(pub(crate) Arc<dyn PlatformBiometricKeyStore>);

impl std::fmt::Debug for ForeignBiometricKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignBiometricKeyStore")
    }
}

#[async_trait::async_trait]
impl twostep_core::BiometricKeyStore for ForeignBiometricKeyStore {
    async fn wrap_key(
        &self,
        label: String,
        key: Vec<u8>,
    ) -> Result<Vec<u8>, twostep_core::KeyStoreError> {
        Ok(self.0.wrap_key(label, key).await?)
    }

    async fn unwrap_key(
        &self,
        label: String,
        wrapped: Vec<u8>,
    ) -> Result<Vec<u8>, twostep_core::KeyStoreError> {
        Ok(self.0.unwrap_key(label, wrapped).await?)
    }
}

/// A source of wall-clock time. Apps pass none and get the system clock; tests pass one
/// they control, to move time forward (session expiry, code expiry, passcode lockouts)
/// without waiting. (Not called `Clock`: that name would shadow Swift's own `Clock`.)
#[uniffi::export(with_foreign)]
pub trait ClockSource: Send + Sync {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// A foreign clock as the core's [`twostep_core::ClockSource`].
pub(crate) struct ForeignClock(pub(crate) Arc<dyn ClockSource>);

impl std::fmt::Debug for ForeignClock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ForeignClock")
    }
}

impl twostep_core::ClockSource for ForeignClock {
    fn now(&self) -> SystemTime {
        self.0.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};
    use twostep_core::{KeyStore as _, KeyStoreError, MemoryKeyStore};

    /// A platform key store backed by the core's memory store, as Kotlin's would be.
    struct Memory(MemoryKeyStore);

    impl PlatformKeyStore for Memory {
        fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, PlatformKeyError> {
            self.0
                .wrap_key(label, key)
                .map_err(|e| PlatformKeyError::Failed { detail: e.to_string() })
        }
        fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, PlatformKeyError> {
            self.0
                .unwrap_key(label, wrapped)
                .map_err(|e| PlatformKeyError::Rejected { detail: e.to_string() })
        }
    }

    #[test]
    fn a_platform_key_store_serves_the_core() {
        let store = ForeignKeyStore(Arc::new(Memory(MemoryKeyStore::new())));
        let wrapped = store.wrap_key("twostep.local.v1".into(), vec![7; 32]).unwrap();
        assert_eq!(
            store.unwrap_key("twostep.local.v1".into(), wrapped.clone()).unwrap(),
            vec![7; 32]
        );
        assert!(matches!(
            store.unwrap_key("other".into(), wrapped),
            Err(KeyStoreError::Rejected { .. })
        ));
    }

    #[test]
    fn platform_errors_keep_their_kind() {
        let cases = [
            (
                PlatformKeyError::Unavailable { detail: "locked".into() },
                KeyStoreError::Unavailable { message: "locked".into() },
            ),
            (
                PlatformKeyError::KeyInvalidated { detail: "x".into() },
                KeyStoreError::KeyInvalidated { message: "x".into() },
            ),
            (
                PlatformKeyError::Rejected { detail: "x".into() },
                KeyStoreError::Rejected { message: "x".into() },
            ),
            (
                PlatformKeyError::Failed { detail: "x".into() },
                KeyStoreError::Failed { message: "x".into() },
            ),
            (
                PlatformKeyError::Cancelled { detail: "x".into() },
                KeyStoreError::Cancelled { message: "x".into() },
            ),
            (
                PlatformKeyError::NotAuthenticated { detail: "x".into() },
                KeyStoreError::NotAuthenticated { message: "x".into() },
            ),
        ];
        for (platform, core) in cases {
            assert_eq!(KeyStoreError::from(platform), core);
        }
        let unexpected =
            uniffi::UnexpectedUniFFICallbackError { reason: "NullPointerException".into() };
        assert!(
            matches!(PlatformKeyError::from(unexpected), PlatformKeyError::Failed { detail } if detail.contains("NullPointer"))
        );
    }

    #[derive(Debug)]
    struct Fixed(SystemTime);

    impl ClockSource for Fixed {
        fn now(&self) -> SystemTime {
            self.0
        }
    }

    #[test]
    fn a_foreign_clock_serves_the_core_to_the_millisecond() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        let clock = ForeignClock(Arc::new(Fixed(at)));
        assert_eq!(twostep_core::ClockSource::now(&clock), at);
    }
}
