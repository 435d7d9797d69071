//! Argon2id: from a passcode (or, for recovery, the account password) to a sealing key.
//!
//! `key = Argon2id(secret, salt, K = pepper)`, m = 19 MiB, t = 2, p = 1 (OWASP's minimum for
//! Argon2id, the same cost the server uses for passwords; nothing slower than needed, since
//! the attempt counter, not the hash cost, is what limits guessing through the app). The
//! 16-byte salt is random per wrap. The 32-byte pepper is random per wrap too, and is stored
//! only wrapped by the platform key store: without the platform key nobody can compute the
//! key, so nothing on disk lets anyone test a guess offline. Argon2's own secret input (`K`)
//! mixes it in.

use argon2::{Algorithm, Argon2, Params, Version};
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::Error;
use crate::seal::{KEY_LEN, SealKey};

/// Salt length in bytes.
pub(crate) const SALT_LEN: usize = 16;

/// Argon2id cost, stored with every wrap so that it can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl KdfParams {
    /// What new wraps use: m = 19 MiB, t = 2, p = 1.
    pub(crate) const DEFAULT: Self = Self { m_kib: 19 * 1024, t: 2, p: 1 };

    /// Refuses stored parameters below the minimum (a tampered record must not make
    /// guessing cheaper) or absurdly high (it must not make opening hang or run out of memory).
    pub(crate) fn check(&self) -> Result<(), Error> {
        let sane = (Self::DEFAULT.m_kib..=1024 * 1024).contains(&self.m_kib)
            && (Self::DEFAULT.t..=16).contains(&self.t)
            && (1..=8).contains(&self.p);
        if sane {
            Ok(())
        } else {
            Err(Error::Corrupt(format!("unexpected Argon2id parameters {self:?}")))
        }
    }
}

/// Derives the sealing key for `secret`. Slow on purpose (tens of milliseconds): never on
/// a UI thread.
pub(crate) fn derive(
    secret: &[u8],
    salt: &[u8],
    pepper: &[u8],
    params: KdfParams,
) -> Result<SealKey, Error> {
    params.check()?;
    let argon_params = Params::new(params.m_kib, params.t, params.p, Some(KEY_LEN))
        .map_err(|e| Error::Internal(format!("argon2 parameters: {e}")))?;
    let argon = Argon2::new_with_secret(pepper, Algorithm::Argon2id, Version::V0x13, argon_params)
        .map_err(|e| Error::Internal(format!("argon2 secret: {e}")))?;
    let mut out = Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(secret, salt, out.as_mut())
        .map_err(|e| Error::Internal(format!("argon2: {e}")))?;
    SealKey::from_bytes(out.as_ref()).map_err(Error::Seal)
}

/// `N` random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, Error> {
    let mut bytes = Zeroizing::new([0u8; N]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| Error::Internal("the random number generator failed".to_owned()))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_input_changes_the_key_and_the_same_inputs_give_the_same_key() {
        let p = KdfParams::DEFAULT;
        let key = |secret: &[u8], salt: &[u8], pepper: &[u8]| {
            *derive(secret, salt, pepper, p).unwrap().expose_bytes()
        };
        let base = key(b"482915", &[1; 16], &[2; 32]);
        assert_eq!(base, key(b"482915", &[1; 16], &[2; 32]));
        assert_ne!(base, key(b"482916", &[1; 16], &[2; 32]));
        assert_ne!(base, key(b"482915", &[3; 16], &[2; 32]));
        assert_ne!(
            base,
            key(b"482915", &[1; 16], &[4; 32]),
            "the platform-held pepper is an input"
        );
    }

    #[test]
    fn weak_or_absurd_parameters_are_refused() {
        for bad in [
            KdfParams { m_kib: 4096, t: 2, p: 1 },
            KdfParams { m_kib: 19 * 1024, t: 1, p: 1 },
            KdfParams { m_kib: 19 * 1024, t: 2, p: 0 },
            KdfParams { m_kib: u32::MAX, t: 2, p: 1 },
            KdfParams { m_kib: 19 * 1024, t: 1000, p: 1 },
        ] {
            assert!(
                matches!(derive(b"x", &[0; 16], &[0; 32], bad), Err(Error::Corrupt(_))),
                "{bad:?}"
            );
        }
        KdfParams::DEFAULT.check().unwrap();
    }

    #[test]
    fn random_bytes_differ() {
        assert_ne!(*random::<16>().unwrap(), *random::<16>().unwrap());
    }
}
