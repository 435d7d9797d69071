//! HOTP (RFC 4226) over HMAC-SHA1/256/512, the decimal codes of RFC 4226/6238 and Steam
//! Guard's five-character codes.
//!
//! HMAC comes from RustCrypto's `hmac`/`sha1`/`sha2` (the crates `totp-rs` is built on)
//! rather than from `totp-rs` itself or from `ring`:
//! - `totp-rs` has no HOTP and parses secrets and URIs strictly, where we need lenient parsing and
//!   our own typed errors;
//! - `ring` implements SHA-1 in portable Rust, while `sha1` uses the CPU's SHA extensions when
//!   present: the batched code list for 1,000 accounts went from ~1.9 ms with ring to well under
//!   the 1 ms budget (see `docs/BENCHMARKS.md`). ring stays the project's library for AEAD and
//!   signatures.
//!
//! The HMAC states are zeroized on drop (the crates' `zeroize` feature). One key is made
//! per account and used for both the current and the next step.

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result, echo};
use crate::secret::Secret;
use crate::time::UnixTime;

/// The HMAC hash function of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum Algorithm {
    /// HMAC-SHA1: the default, and what almost every issuer uses.
    #[default]
    #[serde(rename = "SHA1")]
    Sha1,
    /// HMAC-SHA256.
    #[serde(rename = "SHA256")]
    Sha256,
    /// HMAC-SHA512.
    #[serde(rename = "SHA512")]
    Sha512,
}

impl Algorithm {
    /// Parses `SHA1`, `SHA256`, `SHA512`, case-insensitively, with or without a hyphen
    /// (`sha-256`) and with an optional `HMAC-`/`HMAC` prefix.
    pub fn parse(text: &str) -> Result<Self> {
        let upper = text.trim().to_ascii_uppercase();
        let bare =
            upper.strip_prefix("HMAC").map(|s| s.trim_start_matches(['-', '_'])).unwrap_or(&upper);
        match bare.replace(['-', '_'], "").as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(Error::UnknownAlgorithm { found: echo(text) }),
        }
    }

    /// `SHA1`, `SHA256` or `SHA512`, as in otpauth URIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }
}

impl std::fmt::Display for Algorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HMAC key made once for several counters.
#[derive(Clone)]
pub(crate) enum HotpKey {
    Sha1(Hmac<sha1::Sha1>),
    Sha256(Hmac<sha2::Sha256>),
    Sha512(Hmac<sha2::Sha512>),
}

impl std::fmt::Debug for HotpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HotpKey([redacted])")
    }
}

impl HotpKey {
    pub(crate) fn new(algorithm: Algorithm, secret: &Secret) -> Self {
        // HMAC takes keys of any length: `new_from_slice` cannot fail.
        fn key<M: KeyInit>(secret: &Secret) -> M {
            match M::new_from_slice(secret.expose()) {
                Ok(mac) => mac,
                Err(_) => unreachable!("HMAC accepts keys of every length"),
            }
        }
        match algorithm {
            Algorithm::Sha1 => Self::Sha1(key(secret)),
            Algorithm::Sha256 => Self::Sha256(key(secret)),
            Algorithm::Sha512 => Self::Sha512(key(secret)),
        }
    }

    /// RFC 4226 §5.3: HMAC of the big-endian counter, dynamic truncation to 31 bits.
    pub(crate) fn truncated(&self, counter: u64) -> u32 {
        let message = counter.to_be_bytes();
        match self {
            Self::Sha1(mac) => truncate(&mac.clone().chain_update(message).finalize().into_bytes()),
            Self::Sha256(mac) => {
                truncate(&mac.clone().chain_update(message).finalize().into_bytes())
            }
            Self::Sha512(mac) => {
                truncate(&mac.clone().chain_update(message).finalize().into_bytes())
            }
        }
    }
}

/// Dynamic truncation of an HMAC value (at least 20 bytes).
fn truncate(m: &[u8]) -> u32 {
    let offset = (m[m.len() - 1] & 0x0f) as usize;
    u32::from_be_bytes([m[offset] & 0x7f, m[offset + 1], m[offset + 2], m[offset + 3]])
}

/// Powers of ten for the supported code lengths.
const POW10: [u32; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// The decimal code: the truncated value modulo 10^digits, zero-padded (digits 1..=8).
pub(crate) fn decimal(value: u32, digits: u8) -> String {
    let digits = usize::from(digits.clamp(1, 8));
    let mut rest = value % POW10[digits];
    let mut out = [b'0'; 8];
    for slot in out[..digits].iter_mut().rev() {
        *slot = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    out[..digits].iter().map(|&b| char::from(b)).collect()
}

/// Steam Guard's alphabet (digits and consonants that cannot be confused).
const STEAM_ALPHABET: &[u8; 26] = b"23456789BCDFGHJKMNPQRTVWXY";

/// Length of a Steam Guard code.
pub const STEAM_DIGITS: u8 = 5;

/// Steam Guard: the truncated value written in base 26 over its alphabet, least
/// significant character first, five characters.
pub(crate) fn steam(mut value: u32) -> String {
    let mut out = String::with_capacity(usize::from(STEAM_DIGITS));
    for _ in 0..STEAM_DIGITS {
        out.push(STEAM_ALPHABET[(value % 26) as usize] as char);
        value /= 26;
    }
    out
}

/// The HOTP code for `counter` (RFC 4226), `digits` long.
pub fn hotp(algorithm: Algorithm, secret: &Secret, counter: u64, digits: u8) -> String {
    decimal(HotpKey::new(algorithm, secret).truncated(counter), digits)
}

/// The TOTP code at `time` (RFC 6238, T0 = 0), `digits` long. A `period` of 0 is treated
/// as 1.
pub fn totp(
    algorithm: Algorithm,
    secret: &Secret,
    time: UnixTime,
    period: u32,
    digits: u8,
) -> String {
    hotp(algorithm, secret, time.as_secs() / u64::from(period.max(1)), digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: secret "12345678901234567890", counters 0..9.
    #[test]
    fn rfc4226_appendix_d() {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let truncated = [
            1284755224, 1094287082, 137359152, 1726969429, 1640338314, 868254676, 1918287922,
            82162583, 673399871, 645520489,
        ];
        let codes = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        let key = HotpKey::new(Algorithm::Sha1, &secret);
        for counter in 0..10u64 {
            assert_eq!(key.truncated(counter), truncated[counter as usize], "counter {counter}");
            assert_eq!(
                hotp(Algorithm::Sha1, &secret, counter, 6),
                codes[counter as usize],
                "counter {counter}"
            );
        }
    }

    /// RFC 6238 Appendix B: 8 digits, 30 s, one seed per algorithm.
    #[test]
    fn rfc6238_appendix_b() {
        let sha1 = Secret::from_bytes(b"12345678901234567890").unwrap();
        let sha256 = Secret::from_bytes(b"12345678901234567890123456789012").unwrap();
        let sha512 =
            Secret::from_bytes(b"1234567890123456789012345678901234567890123456789012345678901234")
                .unwrap();
        let table: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        for (time, c1, c256, c512) in table {
            let time = UnixTime::from_secs(time);
            assert_eq!(totp(Algorithm::Sha1, &sha1, time, 30, 8), c1, "SHA1 at {time}");
            assert_eq!(totp(Algorithm::Sha256, &sha256, time, 30, 8), c256, "SHA256 at {time}");
            assert_eq!(totp(Algorithm::Sha512, &sha512, time, 30, 8), c512, "SHA512 at {time}");
        }
    }

    #[test]
    fn shorter_codes_are_the_low_digits() {
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let t = UnixTime::from_secs(59);
        assert_eq!(totp(Algorithm::Sha1, &secret, t, 30, 6), "287082");
        assert_eq!(totp(Algorithm::Sha1, &secret, t, 30, 7), "4287082");
    }

    /// Steam Guard, checked against the reference algorithm (SteamAuth, steam-totp):
    /// base-26 digits of the truncated value over the Steam alphabet.
    #[test]
    fn steam_codes_use_the_steam_alphabet() {
        assert_eq!(steam(0), "22222");
        assert_eq!(steam(1), "32222");
        assert_eq!(steam(26), "23222");
        assert_eq!(steam(25 + 26 * 25), "YY222");
        // The RFC 6238 SHA-1 seed, checked against an independent implementation
        // (Python's hmac, the algorithm of SteamAuth / steam-totp).
        let secret = Secret::from_bytes(b"12345678901234567890").unwrap();
        let key = HotpKey::new(Algorithm::Sha1, &secret);
        assert_eq!(steam(key.truncated(59 / 30)), "PV9M4");
        assert_eq!(steam(key.truncated(1234567890 / 30)), "VHHQY");
        assert!(steam(u32::MAX >> 1).chars().all(|c| STEAM_ALPHABET.contains(&(c as u8))));
    }

    #[test]
    fn algorithm_names_parse_leniently() {
        for (text, algorithm) in [
            ("SHA1", Algorithm::Sha1),
            ("sha1", Algorithm::Sha1),
            ("SHA-1", Algorithm::Sha1),
            ("HmacSHA256", Algorithm::Sha256),
            ("sha256", Algorithm::Sha256),
            ("HMAC-SHA512", Algorithm::Sha512),
            (" SHA512 ", Algorithm::Sha512),
        ] {
            assert_eq!(Algorithm::parse(text).unwrap(), algorithm, "{text}");
        }
        for bad in ["MD5", "SHA3", "", "SHA224"] {
            assert!(matches!(Algorithm::parse(bad), Err(Error::UnknownAlgorithm { .. })), "{bad}");
        }
    }
}
