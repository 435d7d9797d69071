//! A key store that keeps its wrapping key in memory, for tests and benchmarks.

use super::{KeyStore, KeyStoreError, wrap_aad};
use crate::seal::SealKey;
use zeroize::Zeroizing;

/// Wraps data keys with a random AES-256-GCM key that lives as long as this value.
///
/// Share one instance (in an `Arc`) between reopenings of a data directory to simulate
/// a device whose platform key survives an app restart; a new instance is a new device.
#[derive(Debug)]
pub struct MemoryKeyStore {
    key: SealKey,
}

impl MemoryKeyStore {
    /// A key store with a fresh random wrapping key.
    pub fn new() -> Self {
        match SealKey::generate() {
            Ok(key) => Self { key },
            // Without an OS random number generator nothing in this crate can work.
            Err(e) => panic!("cannot create a memory key store: {e}"),
        }
    }
}

impl Default for MemoryKeyStore {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyStore for MemoryKeyStore {
    fn wrap_key(&self, label: String, key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        let key = Zeroizing::new(key);
        self.key
            .seal(&wrap_aad(&label), &key)
            .map_err(|e| KeyStoreError::Failed { message: e.to_string() })
    }

    fn unwrap_key(&self, label: String, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError> {
        self.key
            .open(&wrap_aad(&label), &wrapped)
            .map(|key| key.to_vec())
            .map_err(|e| KeyStoreError::Rejected { message: e.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_keys_unwrap_only_with_their_label_and_store() {
        let store = MemoryKeyStore::new();
        let wrapped = store.wrap_key("a".into(), vec![1; 32]).unwrap();
        assert_eq!(store.unwrap_key("a".into(), wrapped.clone()).unwrap(), vec![1; 32]);
        assert!(matches!(
            store.unwrap_key("b".into(), wrapped.clone()),
            Err(KeyStoreError::Rejected { .. })
        ));
        let other = MemoryKeyStore::new();
        assert!(matches!(
            other.unwrap_key("a".into(), wrapped),
            Err(KeyStoreError::Rejected { .. })
        ));
    }

    #[test]
    fn debug_output_shows_no_key_material() {
        assert_eq!(
            format!("{:?}", MemoryKeyStore::new()),
            "MemoryKeyStore { key: SealKey(<redacted>) }"
        );
    }
}
