//! The registration's identity: an Ed25519 key pair made on the device (ring), for a mobile
//! device or a desktop agent alike.
//!
//! At first access (mobile) or the agent's registration the public key is registered with the
//! server; the private key never leaves the device and is stored only sealed (see
//! [`crate::state`]). Later sessions are a signature over the server's nonce, so no password or
//! code is needed, and a copy of the data directory without the platform key store cannot open
//! one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair};
use zeroize::Zeroizing;

use crate::error::Error;

/// An Ed25519 key pair with its PKCS#8 document (zeroized on drop).
pub(crate) struct DeviceKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceKey").field("public_key", &self.public_key()).finish_non_exhaustive()
    }
}

impl DeviceKey {
    /// A new random key pair.
    pub(crate) fn generate() -> Result<Self, Error> {
        let document = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map_err(|_| Error::Internal("Ed25519 key generation failed".to_owned()))?;
        Self::from_pkcs8(Zeroizing::new(document.as_ref().to_vec()))
    }

    /// A key pair from a stored PKCS#8 v2 document.
    pub(crate) fn from_pkcs8(pkcs8: Zeroizing<Vec<u8>>) -> Result<Self, Error> {
        let pair = Ed25519KeyPair::from_pkcs8(&pkcs8).map_err(|e| {
            Error::Corrupt(format!("the device key is not a valid Ed25519 key: {e}"))
        })?;
        Ok(Self { pkcs8, pair })
    }

    /// The PKCS#8 document, for sealing.
    pub(crate) fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The 32-byte public key, base64url without padding, as the server expects it.
    pub(crate) fn public_key(&self) -> String {
        B64.encode(self.pair.public_key().as_ref())
    }

    /// Signs the registration of this key as `client` (mobile or agent) for `username` over
    /// the server's `nonce` (proof of possession, see
    /// `twostep_proto::device_registration_message`).
    pub(crate) fn sign_registration(
        &self,
        client: twostep_proto::ClientKind,
        username: &str,
        nonce: &str,
    ) -> String {
        let message =
            twostep_proto::device_registration_message(client, username, &self.public_key(), nonce);
        B64.encode(self.pair.sign(&message).as_ref())
    }

    /// Signs the device-session message for `device_id` and the server's `nonce`.
    pub(crate) fn sign_session(&self, device_id: &str, nonce: &str) -> String {
        let message = twostep_proto::device_session_message(device_id, nonce);
        B64.encode(self.pair.sign(&message).as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::{ED25519, UnparsedPublicKey};

    #[test]
    fn signatures_verify_with_the_registered_public_key() {
        let key = DeviceKey::generate().unwrap();
        let public = B64.decode(key.public_key()).unwrap();
        assert_eq!(public.len(), 32);
        let signature = B64.decode(key.sign_session("dev1", "nonce")).unwrap();
        let verifier = UnparsedPublicKey::new(&ED25519, &public);
        verifier
            .verify(&twostep_proto::device_session_message("dev1", "nonce"), &signature)
            .unwrap();
        assert!(
            verifier
                .verify(&twostep_proto::device_session_message("dev2", "nonce"), &signature)
                .is_err()
        );
    }

    #[test]
    fn a_key_survives_its_pkcs8_round_trip() {
        let key = DeviceKey::generate().unwrap();
        let again = DeviceKey::from_pkcs8(Zeroizing::new(key.pkcs8().to_vec())).unwrap();
        assert_eq!(key.public_key(), again.public_key());
        assert!(DeviceKey::from_pkcs8(Zeroizing::new(vec![0; 10])).is_err());
    }

    #[test]
    fn debug_shows_only_the_public_key() {
        let key = DeviceKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(shown.contains(&key.public_key()));
        assert!(!shown.contains("pkcs8"));
    }
}
