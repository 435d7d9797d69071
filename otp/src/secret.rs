//! The shared secret of an account, and the lenient base32 that carries it.
//!
//! Real issuers write base32 in many ways: lower case, without `=` padding, grouped in
//! fours with spaces (`jbsw y3dp ehpk 3pxp`) or hyphens. All of those are accepted;
//! anything else outside the RFC 4648 alphabet is an error that names the position of
//! the first bad character, never the value.
//!
//! A length that no encoder produces is refused, never cut short: base32 writes 8
//! characters per 5 bytes, and a last group of 1, 3 or 6 characters cannot end any byte
//! string. `JBSWY3DPE` is such a typo (one character too many, or three too few); reading
//! it as the 5 bytes of `JBSWY3DP` would give the user wrong codes without a word. The
//! 2 to 4 bits left over after the last byte of a valid length are ignored, as every
//! authenticator does (they are zero in what encoders write).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::error::{Error, Result};

/// Largest secret accepted, in bytes (RFC 6238's SHA-512 example uses 64).
pub const MAX_SECRET_BYTES: usize = 256;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// An account's shared secret. Zeroized on drop; `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret([redacted; {} bytes])", self.0.len())
    }
}

impl Secret {
    /// A secret from raw bytes (1 to [`MAX_SECRET_BYTES`]).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if bytes.is_empty() {
            return Err(Error::MissingSecret);
        }
        if bytes.len() > MAX_SECRET_BYTES {
            return Err(Error::SecretTooLong { max: MAX_SECRET_BYTES });
        }
        Ok(Self(Zeroizing::new(bytes.to_vec())))
    }

    /// A secret from base32, leniently: case-insensitive, spaces, tabs, newlines and
    /// hyphens ignored, trailing `=` padding optional. A length no encoder produces is
    /// [`Error::InvalidSecretLength`]; the bits left over after the last whole byte of a
    /// valid length are ignored.
    pub fn from_base32(text: &str) -> Result<Self> {
        if text.len() > MAX_SECRET_BYTES * 2 + 64 {
            return Err(Error::SecretTooLong { max: MAX_SECRET_BYTES });
        }
        let mut out = Zeroizing::new(Vec::with_capacity(text.len() * 5 / 8 + 1));
        let mut buffer: u32 = 0;
        let mut bits = 0u32;
        let mut padding = false;
        let mut chars = 0usize;
        for (index, c) in text.chars().enumerate() {
            let position = index + 1;
            if matches!(c, ' ' | '\t' | '\r' | '\n' | '-') {
                continue;
            }
            if c == '=' {
                padding = true;
                continue;
            }
            if padding {
                // Something after padding: not base32.
                return Err(Error::InvalidBase32 { position });
            }
            let upper = c.to_ascii_uppercase();
            let value = match upper {
                'A'..='Z' => upper as u32 - 'A' as u32,
                '2'..='7' => upper as u32 - '2' as u32 + 26,
                _ => return Err(Error::InvalidBase32 { position }),
            };
            chars += 1;
            buffer = (buffer << 5) | value;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        if chars == 0 {
            return Err(Error::MissingSecret);
        }
        if matches!(chars % 8, 1 | 3 | 6) {
            return Err(Error::InvalidSecretLength { chars });
        }
        if out.len() > MAX_SECRET_BYTES {
            return Err(Error::SecretTooLong { max: MAX_SECRET_BYTES });
        }
        Ok(Self(out))
    }

    /// The raw bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Never true (a secret has at least one byte); here for clippy's `len_without_is_empty`.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Upper-case base32 without padding, zeroized on drop.
    pub fn to_base32(&self) -> Zeroizing<String> {
        let mut out = Zeroizing::new(String::with_capacity(self.0.len() * 8 / 5 + 1));
        let mut buffer: u32 = 0;
        let mut bits = 0u32;
        for &byte in self.0.iter() {
            buffer = (buffer << 8) | u32::from(byte);
            bits += 8;
            while bits >= 5 {
                bits -= 5;
                out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
            }
            buffer &= (1 << bits) - 1;
        }
        if bits > 0 {
            out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
        }
        out
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_base32())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Secret;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a base32 secret")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Secret, E> {
                Secret::from_base32(v).map_err(|e| E::custom(e.to_string()))
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base32_round_trips_and_accepts_what_issuers_write() {
        let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        assert_eq!(secret.expose(), b"Hello!\xde\xad\xbe\xef");
        assert_eq!(secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
        for lenient in [
            "jbswy3dpehpk3pxp",
            "JBSW Y3DP EHPK 3PXP",
            "jbsw-y3dp-ehpk-3pxp",
            "JBSWY3DPEHPK3PXP====",
            " JBSWY3DP\tEHPK3PXP\n",
        ] {
            assert_eq!(Secret::from_base32(lenient).unwrap(), secret, "{lenient:?}");
        }
        // RFC 4648 test vectors.
        for (plain, encoded) in [
            ("f", "MY"),
            ("fo", "MZXQ"),
            ("foo", "MZXW6"),
            ("foob", "MZXW6YQ"),
            ("fooba", "MZXW6YTB"),
            ("foobar", "MZXW6YTBOI"),
        ] {
            let s = Secret::from_bytes(plain.as_bytes()).unwrap();
            assert_eq!(s.to_base32().as_str(), encoded);
            assert_eq!(Secret::from_base32(encoded).unwrap().expose(), plain.as_bytes());
            assert_eq!(
                Secret::from_base32(&format!("{encoded}======")).unwrap().expose(),
                plain.as_bytes()
            );
        }
    }

    #[test]
    fn bad_base32_is_reported_by_position_only() {
        assert_eq!(Secret::from_base32("JBSWY3DP1HPK"), Err(Error::InvalidBase32 { position: 9 }));
        assert_eq!(Secret::from_base32("JBSW0"), Err(Error::InvalidBase32 { position: 5 }));
        assert_eq!(Secret::from_base32("MY==MY"), Err(Error::InvalidBase32 { position: 5 }));
        assert_eq!(Secret::from_base32("ÄBCD"), Err(Error::InvalidBase32 { position: 1 }));
        assert_eq!(Secret::from_base32(""), Err(Error::MissingSecret));
        assert_eq!(Secret::from_base32("  "), Err(Error::MissingSecret));
        assert_eq!(Secret::from_base32("M"), Err(Error::InvalidSecretLength { chars: 1 }));
        assert_eq!(
            Secret::from_base32(&"A".repeat(1000)),
            Err(Error::SecretTooLong { max: MAX_SECRET_BYTES })
        );
        assert_eq!(
            Secret::from_base32(&"A".repeat(420)),
            Err(Error::SecretTooLong { max: MAX_SECRET_BYTES })
        );
        assert_eq!(Secret::from_bytes(&[]), Err(Error::MissingSecret));
    }

    #[test]
    fn lengths_no_encoder_writes_are_refused_not_truncated() {
        // One character too many after a whole 5-byte group: it used to read as JBSWY3DP.
        assert_eq!(Secret::from_base32("JBSWY3DPE"), Err(Error::InvalidSecretLength { chars: 9 }));
        assert_eq!(
            Secret::from_base32("jbsw y3dp ehp"),
            Err(Error::InvalidSecretLength { chars: 11 })
        );
        assert_eq!(
            Secret::from_base32("JBSWY3DPEHPK3P"),
            Err(Error::InvalidSecretLength { chars: 14 })
        );
        // Every length an encoder writes is accepted, for 1 to 10 bytes.
        for n in 1..=10u8 {
            let bytes: Vec<u8> = (1..=n).collect();
            let text = Secret::from_bytes(&bytes).unwrap().to_base32();
            assert_eq!(Secret::from_base32(&text).unwrap().expose(), bytes, "{} bytes", n);
            for extra in ["A", "AA"] {
                let longer = format!("{}{extra}", text.as_str());
                if let Ok(secret) = Secret::from_base32(&longer) {
                    assert!(secret.len() > bytes.len(), "{longer} must not read as {text:?}");
                }
            }
        }
    }

    #[test]
    fn debug_redacts_and_serde_uses_base32() {
        let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        let debug = format!("{secret:?}");
        assert!(!debug.contains("JBSW") && !debug.contains("72"), "{debug}");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"JBSWY3DPEHPK3PXP\"");
        let back: Secret = serde_json::from_str("\"jbsw y3dp ehpk 3pxp\"").unwrap();
        assert_eq!(back, secret);
        assert!(serde_json::from_str::<Secret>("\"!!\"").is_err());
    }
}
