//! Authenticated encryption of local records: AES-256-GCM (ring) with a random nonce and
//! the record's name as associated data.
//!
//! Naming the record in the AAD means a sealed value cannot be moved to another slot (a
//! session token pasted over the device key fails to open), and a flipped bit anywhere
//! fails the tag check. The sealed form is self-describing enough to evolve:
//!
//! ```text
//! version (1 byte, = 1) | nonce (12 bytes, random) | ciphertext | tag (16 bytes)
//! ```
//!
//! Random 96-bit nonces are safe here: a data key seals at most a few thousand values in
//! its life, far below the 2^32 bound for random GCM nonces.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Length of a data key in bytes.
pub(crate) const KEY_LEN: usize = 32;
const FORMAT_V1: u8 = 1;
const TAG_LEN: usize = 16;
/// Overhead of a sealed value over its plaintext.
pub(crate) const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Too short, or an unknown format byte.
    #[error("malformed sealed value")]
    Malformed,
    /// The tag did not verify: tampered, or sealed under another key or for another record.
    #[error("authentication failed")]
    Rejected,
    /// A key of the wrong length.
    #[error("a key must be {KEY_LEN} bytes")]
    KeyLength,
    /// The operating system's random number generator failed.
    #[error("random number generator failed")]
    Random,
}

/// A 256-bit AES-GCM key, zeroized on drop and never printed.
pub(crate) struct SealKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

impl SealKey {
    /// A fresh random key.
    pub(crate) fn generate() -> Result<Self, SealError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new().fill(bytes.as_mut()).map_err(|_| SealError::Random)?;
        Ok(Self { bytes })
    }

    /// A key from its raw bytes (copied; the caller zeroizes its own copy).
    pub(crate) fn from_bytes(raw: &[u8]) -> Result<Self, SealError> {
        let array: [u8; KEY_LEN] = raw.try_into().map_err(|_| SealError::KeyLength)?;
        Ok(Self { bytes: Zeroizing::new(array) })
    }

    /// The raw bytes, for wrapping by a key store.
    pub(crate) fn expose_bytes(&self) -> &[u8; KEY_LEN] {
        &self.bytes
    }

    fn aead(&self) -> LessSafeKey {
        // AES_256_GCM accepts any 32-byte key, which the type guarantees.
        match UnboundKey::new(&AES_256_GCM, self.bytes.as_ref()) {
            Ok(key) => LessSafeKey::new(key),
            Err(_) => unreachable!("a 32-byte key is always valid for AES-256-GCM"),
        }
    }

    /// Seals `plaintext` for the slot named by `aad`.
    pub(crate) fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| SealError::Random)?;
        let mut out = Vec::with_capacity(plaintext.len() + OVERHEAD);
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .aead()
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out[1 + NONCE_LEN..],
            )
            .map_err(|_| SealError::Rejected)?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Opens a value sealed by [`SealKey::seal`] for the same `aad`.
    pub(crate) fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < OVERHEAD || sealed[0] != FORMAT_V1 {
            return Err(SealError::Malformed);
        }
        let nonce: [u8; NONCE_LEN] =
            sealed[1..1 + NONCE_LEN].try_into().map_err(|_| SealError::Malformed)?;
        let mut buffer = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
        let len = self
            .aead()
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buffer)
            .map_err(|_| SealError::Rejected)?
            .len();
        buffer.truncate(len);
        Ok(buffer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip() {
        let key = SealKey::generate().unwrap();
        for plaintext in [&b""[..], b"x", &[7u8; 1000]] {
            let sealed = key.seal(b"record/a", plaintext).unwrap();
            assert_eq!(sealed.len(), plaintext.len() + OVERHEAD);
            assert_eq!(key.open(b"record/a", &sealed).unwrap().as_slice(), plaintext);
        }
    }

    #[test]
    fn nonces_differ_between_seals() {
        let key = SealKey::generate().unwrap();
        assert_ne!(key.seal(b"a", b"same").unwrap(), key.seal(b"a", b"same").unwrap());
    }

    #[test]
    fn any_flipped_bit_is_detected() {
        let key = SealKey::generate().unwrap();
        let sealed = key.seal(b"record/a", b"secret value").unwrap();
        for i in 1..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                key.open(b"record/a", &tampered).unwrap_err(),
                SealError::Rejected,
                "byte {i}"
            );
        }
    }

    #[test]
    fn another_record_name_or_key_does_not_open() {
        let key = SealKey::generate().unwrap();
        let sealed = key.seal(b"record/a", b"v").unwrap();
        assert_eq!(key.open(b"record/b", &sealed).unwrap_err(), SealError::Rejected);
        let other = SealKey::generate().unwrap();
        assert_eq!(other.open(b"record/a", &sealed).unwrap_err(), SealError::Rejected);
    }

    #[test]
    fn truncated_or_unknown_format_is_malformed() {
        let key = SealKey::generate().unwrap();
        let sealed = key.seal(b"a", b"v").unwrap();
        assert_eq!(key.open(b"a", &sealed[..OVERHEAD - 1]).unwrap_err(), SealError::Malformed);
        let mut future = sealed.clone();
        future[0] = 2;
        assert_eq!(key.open(b"a", &future).unwrap_err(), SealError::Malformed);
        assert_eq!(key.open(b"a", &[]).unwrap_err(), SealError::Malformed);
    }

    #[test]
    fn keys_have_exactly_32_bytes_and_do_not_print() {
        assert_eq!(SealKey::from_bytes(&[0u8; 31]).unwrap_err(), SealError::KeyLength);
        let key = SealKey::from_bytes(&[0xAB; 32]).unwrap();
        assert_eq!(key.expose_bytes(), &[0xAB; 32]);
        assert!(!format!("{key:?}").to_lowercase().contains("ab"));
    }
}
