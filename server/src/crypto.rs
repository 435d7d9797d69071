//! Randomness, hashing and sealing of server-side secrets.
//!
//! A 256-bit master key (in `server.key` in the data dir, mode 0600, or from
//! `TWOSTEP_MASTER_KEY`) is expanded with HKDF into one key per purpose: sealing TOTP
//! secrets at rest, and a MAC key for one-time codes and recovery codes (stored as MACs,
//! never in the clear).

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

/// Fills `n` random bytes.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut v = vec![0u8; n];
    // SystemRandom only fails if the OS RNG is unavailable, which we cannot recover from.
    SystemRandom::new().fill(&mut v).expect("OS random number generator");
    v
}

/// A random id: 16 bytes, lower-case hex.
pub fn random_id() -> String {
    hex(&random_bytes(16))
}

/// A random 256-bit token, base64url without padding.
pub fn random_token() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random_bytes(32))
}

/// A uniformly random decimal code of `digits` digits.
pub fn random_digits(digits: u32) -> String {
    let modulus = 10u64.pow(digits);
    let limit = u64::MAX - (u64::MAX % modulus);
    loop {
        let b = random_bytes(8);
        let v = u64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        if v < limit {
            return format!("{:0width$}", v % modulus, width = digits as usize);
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256, hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex(ring::digest::digest(&ring::digest::SHA256, data).as_ref())
}

/// Compares two byte strings in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

struct Len(usize);
impl hkdf::KeyType for Len {
    fn len(&self) -> usize {
        self.0
    }
}

/// Keys derived from the master key.
pub struct Keys {
    seal: LessSafeKey,
    mac: hmac::Key,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys(<redacted>)")
    }
}

impl Keys {
    /// Derives the purpose keys.
    pub fn derive(master: &[u8; 32]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"twostep-server-v1").extract(master);
        let expand = |info: &'static [u8]| {
            let mut out = Zeroizing::new([0u8; 32]);
            let info = [info];
            // Lengths are fixed and valid for HKDF-SHA256.
            let okm = prk.expand(&info, Len(32)).expect("hkdf expand");
            okm.fill(&mut out[..]).expect("hkdf fill");
            out
        };
        let seal_key = expand(b"seal");
        let mac_key = expand(b"mac");
        Self {
            seal: LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &seal_key[..]).expect("aes key")),
            mac: hmac::Key::new(hmac::HMAC_SHA256, &mac_key[..]),
        }
    }

    /// Encrypts `plain`, bound to `context`; output is nonce || ciphertext || tag.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Vec<u8> {
        let nonce_bytes = random_bytes(NONCE_LEN);
        let mut nb = [0u8; NONCE_LEN];
        nb.copy_from_slice(&nonce_bytes);
        let mut buf = plain.to_vec();
        self.seal
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nb),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .expect("seal");
        let mut out = nonce_bytes;
        out.extend_from_slice(&buf);
        out
    }

    /// Decrypts what [`Keys::seal`] produced with the same context.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < NONCE_LEN + 16 {
            return None;
        }
        let mut nb = [0u8; NONCE_LEN];
        nb.copy_from_slice(&sealed[..NONCE_LEN]);
        let mut buf = Zeroizing::new(sealed[NONCE_LEN..].to_vec());
        let len = self
            .seal
            .open_in_place(
                Nonce::assume_unique_for_key(nb),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .ok()?
            .len();
        buf.truncate(len);
        Some(buf)
    }

    /// MAC of a one-time code bound to its purpose, hex.
    pub fn code_mac(&self, purpose: &str, code: &str) -> String {
        let mut ctx = hmac::Context::with_key(&self.mac);
        ctx.update(purpose.as_bytes());
        ctx.update(&[0]);
        ctx.update(code.as_bytes());
        hex(ctx.sign().as_ref())
    }

    /// Checks a code against a stored MAC in constant time.
    pub fn code_matches(&self, purpose: &str, code: &str, stored_mac: &str) -> bool {
        constant_time_eq(self.code_mac(purpose, code).as_bytes(), stored_mac.as_bytes())
    }
}

/// Loads the master key from `TWOSTEP_MASTER_KEY` (64 hex chars) or `dir/server.key`,
/// creating the file (0600) on first start.
pub fn load_or_create_master_key(dir: &std::path::Path) -> std::io::Result<Zeroizing<[u8; 32]>> {
    let mut key = Zeroizing::new([0u8; 32]);
    if let Ok(hexkey) = std::env::var("TWOSTEP_MASTER_KEY") {
        let bytes = data_encoding::HEXLOWER_PERMISSIVE
            .decode(hexkey.trim().as_bytes())
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "TWOSTEP_MASTER_KEY must be 64 hex characters",
                )
            })?;
        key.copy_from_slice(&bytes);
        return Ok(key);
    }
    let path = dir.join("server.key");
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 32 => {
            key.copy_from_slice(&bytes);
            Ok(key)
        }
        Ok(_) => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{} is not a 32-byte key", path.display()),
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            key.copy_from_slice(&random_bytes(32));
            write_private_file(&path, &key[..])?;
            Ok(key)
        }
        Err(e) => Err(e),
    }
}

/// Writes a file readable only by its owner, durably.
pub fn write_private_file(path: &std::path::Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(data)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_binds_context() {
        let k = Keys::derive(&[7u8; 32]);
        let s = k.seal("totp:alice", b"secret");
        assert_eq!(&k.open("totp:alice", &s).unwrap()[..], b"secret");
        assert!(k.open("totp:bob", &s).is_none());
        let mut t = s.clone();
        t[14] ^= 1;
        assert!(k.open("totp:alice", &t).is_none());
    }

    #[test]
    fn codes_are_uniform_digits_and_macs_match() {
        for _ in 0..100 {
            let c = random_digits(6);
            assert_eq!(c.len(), 6);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
        let k = Keys::derive(&[1u8; 32]);
        let m = k.code_mac("p", "123456");
        assert!(k.code_matches("p", "123456", &m));
        assert!(!k.code_matches("p", "123457", &m));
        assert!(!k.code_matches("q", "123456", &m));
    }
}
